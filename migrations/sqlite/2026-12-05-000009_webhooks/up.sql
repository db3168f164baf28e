-- Webhooks (issue 23): endpoints that receive an application's events as signed POSTs. The
-- secret signs (HMAC-SHA256), so it is kept as given, like the signing keys of any webhook
-- sender; it is shown once, when created or rotated.
CREATE TABLE webhooks (
    id BIGINT PRIMARY KEY,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_until TIMESTAMP,
    -- The newest event of the log turned into deliveries: moved in the transaction that
    -- inserts them, only from the value read (two nodes never both enqueue an event).
    cursor_seq BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_application ON webhooks (application_id, id);

-- Each event's delivery to each webhook, with its attempts: retried with backoff until a 2xx or
-- a day has passed. A claim pushes `next_attempt_at` ahead, so two nodes do not send it at once.
CREATE TABLE webhook_deliveries (
    id BIGINT PRIMARY KEY,
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    event_seq BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    response_code INTEGER,
    last_error TEXT,
    next_attempt_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_of ON webhook_deliveries (webhook_id, id);
