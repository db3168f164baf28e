ALTER TABLE users DROP COLUMN display_picture_url;
ALTER TABLE users DROP COLUMN display_picture_key;
DROP TABLE files;
