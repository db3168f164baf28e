-- A message's hosted file, by key (the `file` JSON keeps its name, type and size): what a
-- deletion looks up to find the bytes it frees, and what `roost files sweep` counts as a reference.
ALTER TABLE messages ADD COLUMN file_key TEXT;
CREATE INDEX messages_file_key ON messages (file_key) WHERE file_key IS NOT NULL;

-- A file whose message, user or picture is gone is marked in the same transaction; its bytes
-- are removed after the commit and then the row, so a store that is down, or a crash, only
-- delays the removal.
ALTER TABLE files ADD COLUMN deleted_at TIMESTAMP;
CREATE INDEX files_deleted ON files (deleted_at) WHERE deleted_at IS NOT NULL;

-- What the sweep asks of users (is this file someone's picture?).
CREATE INDEX users_display_picture_key ON users (display_picture_key) WHERE display_picture_key IS NOT NULL;
