-- Revisions for conditional requests (RFC 9110 §13): `version` is raised by every direct change
-- (a PATCH or PUT) so a write made from a stale read matches no row; `updated_at` is the last
-- change of anything the resource's representation shows (NULL: never changed since creation).
ALTER TABLE applications ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE applications ADD COLUMN updated_at TIMESTAMP;
ALTER TABLE channels ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE channels ADD COLUMN updated_at TIMESTAMP;
ALTER TABLE messages ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE messages ADD COLUMN updated_at TIMESTAMP;

-- A channel's top-level messages (its MAIN thread), kept with the newest message id so a cursor
-- page's `total` needs no count of the channel's messages (a reply thread's is its parent's
-- `replies_count`).
ALTER TABLE channels ADD COLUMN message_count BIGINT NOT NULL DEFAULT 0;
UPDATE channels SET message_count = (SELECT COUNT(*) FROM messages WHERE messages.thread_id = channels.main_thread_id);
CREATE INDEX channels_main_thread ON channels (main_thread_id);

-- Idempotency keys: the first answer to a POST with an `Idempotency-Key`, kept a day per
-- application and replayed to a repeat. `status` NULL: the request is still running.
CREATE TABLE idempotency_keys (
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status BIGINT,
    content_type TEXT,
    etag TEXT,
    location TEXT,
    body BLOB,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (application_id, idempotency_key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
