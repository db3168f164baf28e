-- Hosted files: metadata only (the bytes are in the file store, under `file_key`).
CREATE TABLE files (
    file_key TEXT PRIMARY KEY NOT NULL,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    checksum TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX files_application ON files (application_id);

-- A user's display picture: a hosted file (its key), or an external URL.
ALTER TABLE users ADD COLUMN display_picture_key TEXT;
ALTER TABLE users ADD COLUMN display_picture_url TEXT;
