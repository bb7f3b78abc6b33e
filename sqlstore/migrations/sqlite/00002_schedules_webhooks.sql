-- +goose Up
-- Scheduled payments (POST /subscribe/payments/schedule). This table is the
-- record of truth and the job queue at once: the jobs runner claims due rows
-- with a short lease (lease_owner, lease_until_ms) by one conditional UPDATE, so
-- two nodes never work one row, and a killed node's row is taken over once
-- its lease expires.
CREATE TABLE schedules (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id      BIGINT  NOT NULL REFERENCES merchants(id),
    customer_uid     TEXT    NOT NULL,
    merchant_uid     TEXT    NOT NULL,
    schedule_at      BIGINT  NOT NULL,
    amount           BIGINT  NOT NULL,
    tax_free         BIGINT  NOT NULL DEFAULT 0,
    vat_amount       BIGINT,
    currency         TEXT    NOT NULL,
    card_quota       INTEGER NOT NULL DEFAULT 0,
    name             TEXT    NOT NULL DEFAULT '',
    buyer_name       TEXT    NOT NULL DEFAULT '',
    buyer_email      TEXT    NOT NULL DEFAULT '',
    buyer_tel        TEXT    NOT NULL DEFAULT '',
    buyer_addr       TEXT    NOT NULL DEFAULT '',
    buyer_postcode   TEXT    NOT NULL DEFAULT '',
    custom_data      TEXT,
    notice_url       TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL, -- scheduled, executed, revoked
    imp_uid          TEXT    NOT NULL DEFAULT '',
    payment_status   TEXT    NOT NULL DEFAULT '', -- paid or failed once executed
    fail_reason      TEXT    NOT NULL DEFAULT '',
    executed_at      BIGINT  NOT NULL DEFAULT 0,
    revoked_at       BIGINT  NOT NULL DEFAULT 0,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    -- Execution bookkeeping (times in UNIX milliseconds): when the row may
    -- next be claimed (schedule_at, or a retry time), how often it was claimed, who holds it until when,
    -- and the newest payment of this merchant_uid that predates the current
    -- run (a rescheduled failure must not adopt its old failed payment).
    run_after_ms     BIGINT  NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT    NOT NULL DEFAULT '',
    lease_until_ms   BIGINT  NOT NULL DEFAULT 0,
    prior_payment_id BIGINT  NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    UNIQUE (merchant_id, merchant_uid)
);
CREATE INDEX schedules_due ON schedules (run_after_ms, id) WHERE status = 'scheduled';
CREATE INDEX schedules_merchant_at ON schedules (merchant_id, schedule_at);
CREATE INDEX schedules_customer_at ON schedules (merchant_id, customer_uid, schedule_at);

-- The events outbox gains a relay mark: the webhook worker turns each
-- unrelayed event into one delivery. Events written before this migration
-- are marked relayed, so upgrading does not replay history to merchants.
ALTER TABLE events ADD COLUMN relayed BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE events SET relayed = TRUE;
CREATE INDEX events_unrelayed ON events (id) WHERE NOT relayed;

-- One delivery per event (webhook-id "evt_<event_id>"), to the URL chosen
-- when the event was relayed; claimed with a lease like schedules.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id         BIGINT  NOT NULL UNIQUE REFERENCES events(id),
    merchant_id      BIGINT  NOT NULL REFERENCES merchants(id),
    imp_uid          TEXT    NOT NULL,
    merchant_uid     TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    body             TEXT    NOT NULL,
    state            TEXT    NOT NULL, -- pending, delivered, failed (gave up), skipped (no URL)
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  BIGINT  NOT NULL,
    give_up_ms       BIGINT  NOT NULL,
    lease_owner      TEXT    NOT NULL DEFAULT '',
    lease_until_ms   BIGINT  NOT NULL DEFAULT 0,
    last_status_code INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    delivered_at     BIGINT  NOT NULL DEFAULT 0,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_ms, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_merchant ON webhook_deliveries (merchant_id, id);
CREATE INDEX webhook_deliveries_imp_uid ON webhook_deliveries (merchant_id, imp_uid);

-- Every delivery attempt, kept for the merchant's delivery log.
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id  BIGINT  NOT NULL REFERENCES webhook_deliveries(id),
    attempted_ms BIGINT  NOT NULL,
    status_code  INTEGER NOT NULL DEFAULT 0,
    latency_ms   BIGINT  NOT NULL DEFAULT 0,
    error        TEXT    NOT NULL DEFAULT '',
    node         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- Webhook signing secrets, sealed by the vault. A rotation keeps the
-- previous secret valid until expires_at, so two may sign at once.
CREATE TABLE webhook_secrets (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id   BIGINT NOT NULL REFERENCES merchants(id),
    secret_cipher BLOB   NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL DEFAULT 0 -- 0: valid until rotated out
);
CREATE INDEX webhook_secrets_merchant ON webhook_secrets (merchant_id, id);

-- +goose Down
DROP TABLE webhook_secrets;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP INDEX events_unrelayed;
ALTER TABLE events DROP COLUMN relayed;
DROP TABLE schedules;
