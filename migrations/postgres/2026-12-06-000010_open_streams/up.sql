-- Users' open streams across nodes (issue 23): `streaming` on `GET /v1/user-sessions`, and the
-- chat sessions (`GET /v1/chat-sessions`, `participants`) answered alike by every node. A node
-- writes its own rows as streams open, subscribe and close; the rows of a node that stops
-- renewing `roost_nodes.seen_at` go with its presence counts.
CREATE TABLE open_streams (
    stream_id BIGINT PRIMARY KEY,
    node_id BIGINT NOT NULL,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The login session the stream was opened with.
    session_id BIGINT NOT NULL,
    opened_at TIMESTAMP NOT NULL
);
CREATE INDEX open_streams_node ON open_streams (node_id);
CREATE INDEX open_streams_session ON open_streams (session_id);

-- A chat session: an open user stream subscribed to a channel.
CREATE TABLE chat_sessions (
    id BIGINT PRIMARY KEY,
    stream_id BIGINT NOT NULL REFERENCES open_streams (stream_id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    session_id BIGINT NOT NULL,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    opened_at TIMESTAMP NOT NULL,
    UNIQUE (stream_id, channel_id)
);
CREATE INDEX chat_sessions_application ON chat_sessions (application_id, opened_at);
CREATE INDEX chat_sessions_channel ON chat_sessions (channel_id);
