-- Foundation: organizations, applications, OAuth clients, access tokens, users, user secrets.
-- Ids are application-generated 53-bit integers (DESIGN.md, "Identifiers"); timestamps are UTC.
CREATE TABLE organizations (
    id BIGINT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE applications (
    id BIGINT PRIMARY KEY NOT NULL,
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    app_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    properties TEXT NOT NULL,
    guest_users BOOLEAN NOT NULL,
    user_created_channels BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE oauth_clients (
    client_id TEXT PRIMARY KEY NOT NULL,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    secret_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX oauth_clients_application ON oauth_clients (application_id);

CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    organization_id BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked BOOLEAN NOT NULL
);
CREATE INDEX access_tokens_client ON access_tokens (client_id);
CREATE INDEX access_tokens_expiry ON access_tokens (expires_at);

CREATE TABLE users (
    id BIGINT PRIMARY KEY NOT NULL,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    user_type TEXT NOT NULL,
    is_guest BOOLEAN NOT NULL,
    presence_status TEXT NOT NULL,
    online BOOLEAN NOT NULL,
    properties TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_application_name ON users (application_id, name);
CREATE INDEX users_application_display_name ON users (application_id, display_name);

CREATE TABLE user_secrets (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    application_id BIGINT NOT NULL,
    secret TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, name)
);
