DROP TABLE outbox;
DROP TABLE user_sessions;
DROP TABLE account_tokens;
ALTER TABLE applications DROP COLUMN user_sign_up;
DROP INDEX users_email;
ALTER TABLE users DROP COLUMN activated_at;
ALTER TABLE users DROP COLUMN password_hash;
ALTER TABLE users DROP COLUMN email;
