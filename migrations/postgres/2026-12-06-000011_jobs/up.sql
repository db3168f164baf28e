-- Imports and exports run as jobs (issue 24). The input is in the file store (`input_key`);
-- `processed` is the checkpoint: every record before it has been applied. A running job is
-- leased to one node until `lease_until`; a lease that runs out (the node died) lets another
-- node take the job up from its checkpoint.
CREATE TABLE jobs (
    id BIGINT PRIMARY KEY,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    job_type TEXT NOT NULL,
    state TEXT NOT NULL,
    channel_id BIGINT,
    input_key TEXT,
    result_key TEXT,
    processed BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    -- The first record errors, as a JSON array of {index, idempotencyKey, reason}.
    errors TEXT NOT NULL DEFAULT '[]',
    lease_until TIMESTAMP,
    -- The node running it (`ROOST_NODE_ID`): restarted, a node takes its own jobs up at once.
    node_id BIGINT,
    -- Runs since the job last saved progress: one that keeps failing is given up.
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX jobs_application ON jobs (application_id, id);
CREATE INDEX jobs_due ON jobs (state, lease_until);
