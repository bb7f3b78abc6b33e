-- +goose Up
-- The start of each webhook attempt's response body (at most 512 bytes of
-- valid UTF-8 without control characters), for the delivery log.
ALTER TABLE webhook_attempts ADD COLUMN response_excerpt TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE webhook_attempts DROP COLUMN response_excerpt;
