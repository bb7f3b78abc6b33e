-- +goose Up
-- REST API secret rotation: the replaced secret's MAC stays valid until
-- previous_secret_until (unix seconds; 0 = none). tokens_revoked_at (unix
-- milliseconds) tells every node's token cache to drop the merchant's
-- cached tokens.
ALTER TABLE merchants ADD COLUMN previous_secret_mac BLOB;
ALTER TABLE merchants ADD COLUMN previous_secret_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE merchants ADD COLUMN tokens_revoked_at BIGINT NOT NULL DEFAULT 0;
-- Idempotency-Key rows expire after 24 hours; the sweep finds them by age.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- +goose Down
DROP INDEX idempotency_keys_created;
ALTER TABLE merchants DROP COLUMN tokens_revoked_at;
ALTER TABLE merchants DROP COLUMN previous_secret_until;
ALTER TABLE merchants DROP COLUMN previous_secret_mac;
