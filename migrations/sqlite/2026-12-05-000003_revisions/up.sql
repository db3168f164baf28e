-- Revisions for conditional requests (RFC 9110 §13): `version` is raised by every direct change
-- (a PATCH or PUT) so a write made from a stale read matches no row; `updated_at` is the last
-- change of anything the resource's representation shows (NULL: never changed since creation).
ALTER TABLE applications ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE applications ADD COLUMN updated_at TIMESTAMP;
ALTER TABLE channels ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE channels ADD COLUMN updated_at TIMESTAMP;
ALTER TABLE messages ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE messages ADD COLUMN updated_at TIMESTAMP;
