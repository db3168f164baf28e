DROP TABLE idempotency_keys;
ALTER TABLE messages DROP COLUMN updated_at;
ALTER TABLE messages DROP COLUMN version;
DROP INDEX channels_main_thread;
ALTER TABLE channels DROP COLUMN message_count;
ALTER TABLE channels DROP COLUMN updated_at;
ALTER TABLE channels DROP COLUMN version;
ALTER TABLE applications DROP COLUMN updated_at;
ALTER TABLE applications DROP COLUMN version;
