-- +goose Up
-- Payment pre-registration (POST/PUT /payments/prepare): the amount (and,
-- optionally, the currency) a merchant_uid must be paid with. A payment for
-- a prepared merchant_uid whose amount differs is refused before any PG call.
-- currency '' means "not checked" (i'mport's null).
CREATE TABLE payment_prepares (
    merchant_id  BIGINT  NOT NULL REFERENCES merchants(id),
    merchant_uid TEXT    NOT NULL,
    amount       BIGINT  NOT NULL,
    currency     TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    PRIMARY KEY (merchant_id, merchant_uid)
);

-- +goose Down
DROP TABLE payment_prepares;
