-- End-user accounts (issue 22). A user may hold an email and a password (an argon2id PHC
-- string, never the password); `activated_at` is set once the mailed token is used.
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN activated_at TIMESTAMP;
CREATE UNIQUE INDEX users_email ON users (application_id, email) WHERE email IS NOT NULL;

-- Whether end users may sign up (`userSignUp`), beside `guestUsers`.
ALTER TABLE applications ADD COLUMN user_sign_up BOOLEAN NOT NULL DEFAULT FALSE;

-- Single-use tokens mailed to users, stored as SHA-256 only.
CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    purpose TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX account_tokens_user ON account_tokens (user_id);

-- End users' sessions: their bearer tokens, stored as SHA-256 only.
CREATE TABLE user_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    id BIGINT NOT NULL UNIQUE,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    user_agent TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE INDEX user_sessions_application ON user_sessions (application_id, id);

-- Mail written when no SMTP server is configured, for the operator (`roost outbox list`).
CREATE TABLE outbox (
    id BIGINT PRIMARY KEY NOT NULL,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
