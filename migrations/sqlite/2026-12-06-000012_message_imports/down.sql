DROP TABLE import_deferred;
DROP TABLE import_keys;
