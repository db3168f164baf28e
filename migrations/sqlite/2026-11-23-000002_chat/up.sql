-- Chat core: channels, memberships, invites, threads, messages, reactions, read marks, notifications.
CREATE TABLE channels (
    id BIGINT PRIMARY KEY NOT NULL,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    channel_type TEXT NOT NULL,
    name TEXT,
    display_name TEXT,
    creator_id BIGINT,
    properties TEXT NOT NULL,
    main_thread_id BIGINT NOT NULL,
    -- Sorted member ids of a DIRECT channel: one direct channel per member set.
    direct_key TEXT,
    last_message_id BIGINT,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX channels_application_name ON channels (application_id, name);
CREATE UNIQUE INDEX channels_application_direct ON channels (application_id, direct_key);
CREATE INDEX channels_application_created ON channels (application_id, created_at);

CREATE TABLE channel_members (
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL,
    moderator BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_user ON channel_members (user_id);

CREATE TABLE channel_invites (
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);

CREATE TABLE threads (
    id BIGINT PRIMARY KEY NOT NULL,
    application_id BIGINT NOT NULL,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    thread_type TEXT NOT NULL,
    parent_message_id BIGINT UNIQUE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX threads_channel ON threads (channel_id);

CREATE TABLE messages (
    id BIGINT PRIMARY KEY NOT NULL,
    application_id BIGINT NOT NULL,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    thread_id BIGINT NOT NULL,
    message_type TEXT NOT NULL,
    user_id BIGINT,
    body TEXT,
    file TEXT,
    group_tag TEXT,
    properties TEXT NOT NULL,
    mentions TEXT NOT NULL,
    links TEXT NOT NULL,
    nested_level BIGINT NOT NULL,
    replies_count BIGINT NOT NULL,
    parent_id BIGINT,
    created_at TIMESTAMP NOT NULL,
    last_edited_at TIMESTAMP
);
-- Keyset pagination: every message list is a range scan on one of these (never OFFSET).
CREATE INDEX messages_thread_id ON messages (thread_id, id);
CREATE INDEX messages_channel_id ON messages (channel_id, id);
CREATE INDEX messages_application_id ON messages (application_id, id);
CREATE INDEX messages_user_id ON messages (user_id, id);
CREATE INDEX messages_parent ON messages (parent_id);

CREATE TABLE reactions (
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

-- A user's read position in a channel: every message up to it is read.
CREATE TABLE read_marks (
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL,
    last_read_message_id BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);

CREATE TABLE notifications (
    id BIGINT PRIMARY KEY NOT NULL,
    application_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    mentioned_channel_id BIGINT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    muted BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_user_id ON notifications (user_id, id);
CREATE INDEX notifications_message ON notifications (message_id);
