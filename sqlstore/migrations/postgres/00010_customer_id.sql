-- +goose Up
-- IMP.request_pay's customer_id (the merchant's own buyer id), kept with the
-- billing key it issued and on the window attempt until the key is stored.
ALTER TABLE customers ADD COLUMN customer_id TEXT NOT NULL DEFAULT '';
ALTER TABLE window_attempts ADD COLUMN customer_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE window_attempts DROP COLUMN customer_id;
ALTER TABLE customers DROP COLUMN customer_id;
