DROP INDEX users_display_picture_key;
DROP INDEX files_deleted;
ALTER TABLE files DROP COLUMN deleted_at;
DROP INDEX messages_file_key;
ALTER TABLE messages DROP COLUMN file_key;
