-- +goose Up
-- An orphan is a PG approval (or refund) that reached billkey for a payment
-- whose outcome was already recorded otherwise: an approval for a payment
-- recorded failed, a refund for a reservation already released. Orphan
-- approvals are refunded at the PG (state refunding until it succeeds, then
-- refunded); orphan refunds are raised for an operator (state raised).
CREATE TABLE orphan_approvals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id BIGINT NOT NULL REFERENCES merchants(id),
    payment_id  BIGINT NOT NULL REFERENCES payments(id),
    kind        TEXT   NOT NULL, -- charge, refund
    pg_tid      TEXT   NOT NULL,
    amount      BIGINT NOT NULL,
    state       TEXT   NOT NULL, -- refunding, refunded, raised
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT   NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (payment_id, kind, pg_tid)
);
CREATE INDEX orphan_approvals_due ON orphan_approvals (next_at) WHERE state = 'refunding';

-- One row per node: /readyz proves the database takes writes by updating it.
CREATE TABLE health_probes (
    node TEXT   PRIMARY KEY,
    at   BIGINT NOT NULL
);

-- +goose Down
DROP TABLE health_probes;
DROP TABLE orphan_approvals;
