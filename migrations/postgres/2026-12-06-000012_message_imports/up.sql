-- Message imports (issue 24). An imported message is found again by its `idempotencyKey`
-- (a re-run adds nothing; a reply names its parent by key). The key goes with its message.
CREATE TABLE import_keys (
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    PRIMARY KEY (application_id, idempotency_key)
);
CREATE INDEX import_keys_message ON import_keys (message_id);
-- Replies read before their parent: kept here (not in memory) until the file has been read,
-- then applied once the parent is there.
CREATE TABLE import_deferred (
    job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    record_index BIGINT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (job_id, record_index)
);
