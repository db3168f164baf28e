-- Account security (issue 22): consecutive failed logins and the lockout they lead to.
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TIMESTAMP;

-- An email change waits for the token mailed to the new address: the address rides with it.
ALTER TABLE account_tokens ADD COLUMN new_email TEXT;

-- Mail delivery by SMTP (ROOST_SMTP_URL): a mail is claimed by pushing `next_attempt_at` ahead,
-- so two nodes do not send it twice, and stays until `sent_at` is set, or `abandoned_at` when the
-- server refused it for good (a 5xx) or a day of retries went by.
ALTER TABLE outbox ADD COLUMN sent_at TIMESTAMP;
ALTER TABLE outbox ADD COLUMN abandoned_at TIMESTAMP;
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at TIMESTAMP;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
CREATE INDEX outbox_unsent ON outbox (next_attempt_at) WHERE sent_at IS NULL AND abandoned_at IS NULL;

-- Users a user blocked: the blocked may not open a DIRECT channel with them nor post in one they
-- share, and no longer notify them.
CREATE TABLE user_blocks (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, blocked_user_id)
);
CREATE INDEX user_blocks_blocked ON user_blocks (blocked_user_id);

-- Messages users reported: one report per user and message (`reported-messages`, `reportCount`).
CREATE TABLE message_reports (
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX message_reports_channel ON message_reports (channel_id, message_id);
