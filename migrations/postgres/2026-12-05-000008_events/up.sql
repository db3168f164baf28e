-- The event log (issue 23): every change's events, recorded in the change's transaction. `seq`
-- counts per application without gaps, in commit order: the counter row below is locked by the
-- transaction that advances it until it commits.
CREATE TABLE events (
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    channel_id BIGINT,
    user_id BIGINT,
    resource TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (application_id, seq)
);
CREATE INDEX events_created ON events (created_at);

-- Each application's newest event, and the newest one purged (a resume point below it has lost
-- events: RESUME_POINT_EXPIRED).
CREATE TABLE event_counters (
    application_id BIGINT PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    last_seq BIGINT NOT NULL,
    purged_through BIGINT NOT NULL DEFAULT 0
);

-- Single-use stream tickets (`POST /v1/events/tickets`): browsers cannot set headers on
-- EventSource or WebSocket, and long-lived tokens never go in URLs. A ticket stands for the token
-- that asked for it, so a token revoked since is refused too.
CREATE TABLE stream_tickets (
    ticket_hash TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    -- A user session's token (`rus_`) or an application's.
    session BOOLEAN NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- Presence across nodes: each node counts its open streams per user; a user is online
-- (`users.online`) while any live node counts one. A node that stops renewing `seen_at` for
-- ROOST_NODE_TIMEOUT_SECONDS is dead: another node removes its counts.
CREATE TABLE stream_presence (
    node_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    streams INTEGER NOT NULL,
    PRIMARY KEY (node_id, user_id)
);
CREATE INDEX stream_presence_user ON stream_presence (user_id);

CREATE TABLE roost_nodes (
    node_id BIGINT PRIMARY KEY,
    seen_at TIMESTAMP NOT NULL
);
