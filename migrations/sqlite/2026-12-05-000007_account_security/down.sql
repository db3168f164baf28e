DROP INDEX outbox_unsent;
ALTER TABLE outbox DROP COLUMN last_error;
ALTER TABLE outbox DROP COLUMN next_attempt_at;
ALTER TABLE outbox DROP COLUMN attempts;
ALTER TABLE outbox DROP COLUMN abandoned_at;
ALTER TABLE outbox DROP COLUMN sent_at;
ALTER TABLE account_tokens DROP COLUMN new_email;
ALTER TABLE users DROP COLUMN locked_until;
ALTER TABLE users DROP COLUMN failed_logins;
