-- +goose Up
CREATE TABLE merchants (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    imp_code      TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    api_key       TEXT    NOT NULL UNIQUE,
    secret_mac    BLOB    NOT NULL,
    webhook_url   TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL
);

CREATE TABLE channels (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id        BIGINT  NOT NULL REFERENCES merchants(id),
    provider           TEXT    NOT NULL,
    mid                TEXT    NOT NULL,
    live               BOOLEAN NOT NULL,
    is_default         BOOLEAN NOT NULL,
    credentials_cipher BLOB    NOT NULL,
    created_at         BIGINT  NOT NULL,
    UNIQUE (merchant_id, provider, mid, live)
);

CREATE TABLE access_tokens (
    merchant_id BIGINT NOT NULL PRIMARY KEY REFERENCES merchants(id),
    nonce       BLOB   NOT NULL,
    token_mac   BLOB   NOT NULL UNIQUE,
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE customers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id   BIGINT  NOT NULL REFERENCES merchants(id),
    channel_id    BIGINT  NOT NULL REFERENCES channels(id),
    customer_uid  TEXT    NOT NULL,
    pg_provider   TEXT    NOT NULL,
    pg_id         TEXT    NOT NULL,
    card_code     TEXT    NOT NULL DEFAULT '',
    card_name     TEXT    NOT NULL DEFAULT '',
    card_number   TEXT    NOT NULL DEFAULT '',
    card_type     INTEGER,
    name          TEXT    NOT NULL DEFAULT '',
    tel           TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    addr          TEXT    NOT NULL DEFAULT '',
    postcode      TEXT    NOT NULL DEFAULT '',
    key_cipher    BLOB    NOT NULL,
    inserted      BIGINT  NOT NULL,
    updated       BIGINT  NOT NULL,
    UNIQUE (merchant_id, customer_uid)
);

-- Billing keys that were replaced or deleted. INICIS has no revocation API,
-- so a replaced key is kept (still sealed) and marked, never silently orphaned.
CREATE TABLE retired_billing_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id  BIGINT NOT NULL REFERENCES merchants(id),
    channel_id   BIGINT NOT NULL,
    customer_uid TEXT   NOT NULL,
    pg_id        TEXT   NOT NULL,
    card_number  TEXT   NOT NULL,
    key_cipher   BLOB   NOT NULL,
    reason       TEXT   NOT NULL,
    retired_at   BIGINT NOT NULL
);

CREATE TABLE payments (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id         BIGINT  NOT NULL REFERENCES merchants(id),
    channel_id          BIGINT  NOT NULL,
    imp_uid             TEXT    NOT NULL UNIQUE,
    merchant_uid        TEXT    NOT NULL,
    pay_method          TEXT    NOT NULL,
    channel             TEXT    NOT NULL,
    pg_provider         TEXT    NOT NULL,
    pg_id               TEXT    NOT NULL,
    pg_tid              TEXT    NOT NULL DEFAULT '',
    apply_num           TEXT    NOT NULL DEFAULT '',
    card_code           TEXT    NOT NULL DEFAULT '',
    card_name           TEXT    NOT NULL DEFAULT '',
    card_number         TEXT    NOT NULL DEFAULT '',
    card_quota          INTEGER NOT NULL DEFAULT 0,
    name                TEXT    NOT NULL DEFAULT '',
    amount              BIGINT  NOT NULL,
    cancel_amount       BIGINT  NOT NULL DEFAULT 0,
    cancel_pending      BIGINT  NOT NULL DEFAULT 0,
    tax_free            BIGINT  NOT NULL DEFAULT 0,
    vat_amount          BIGINT,
    currency            TEXT    NOT NULL,
    buyer_name          TEXT    NOT NULL DEFAULT '',
    buyer_email         TEXT    NOT NULL DEFAULT '',
    buyer_tel           TEXT    NOT NULL DEFAULT '',
    buyer_addr          TEXT    NOT NULL DEFAULT '',
    buyer_postcode      TEXT    NOT NULL DEFAULT '',
    custom_data         TEXT,
    user_agent          TEXT    NOT NULL DEFAULT '',
    notice_url          TEXT    NOT NULL DEFAULT '',
    status              TEXT    NOT NULL,
    outcome_unknown     BOOLEAN NOT NULL DEFAULT FALSE,
    reconcile_after     BIGINT  NOT NULL DEFAULT 0,
    reconcile_attempts  INTEGER NOT NULL DEFAULT 0,
    started_at          BIGINT  NOT NULL,
    paid_at             BIGINT  NOT NULL DEFAULT 0,
    failed_at           BIGINT  NOT NULL DEFAULT 0,
    cancelled_at        BIGINT  NOT NULL DEFAULT 0,
    updated_at          BIGINT  NOT NULL,
    fail_reason         TEXT    NOT NULL DEFAULT '',
    cancel_reason       TEXT    NOT NULL DEFAULT '',
    receipt_url         TEXT    NOT NULL DEFAULT '',
    customer_uid        TEXT    NOT NULL DEFAULT '',
    customer_uid_usage  TEXT    NOT NULL DEFAULT ''
);
-- One payment that is not failed per (merchant, merchant_uid): the database
-- itself guarantees one PG approval per order, whatever the concurrency.
CREATE UNIQUE INDEX payments_one_live_order ON payments (merchant_id, merchant_uid) WHERE status <> 'failed';
CREATE INDEX payments_merchant_started ON payments (merchant_id, started_at);
CREATE INDEX payments_merchant_customer ON payments (merchant_id, customer_uid);
CREATE INDEX payments_ready ON payments (reconcile_after, started_at) WHERE status = 'ready';

CREATE TABLE payment_cancels (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_id   BIGINT NOT NULL REFERENCES payments(id),
    state        TEXT   NOT NULL, -- pending, done, failed, uncertain
    pg_tid       TEXT   NOT NULL DEFAULT '',
    amount       BIGINT NOT NULL,
    tax_free     BIGINT NOT NULL DEFAULT 0,
    vat_amount   BIGINT,
    reason       TEXT   NOT NULL DEFAULT '',
    receipt_url  TEXT   NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    cancelled_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX payment_cancels_payment ON payment_cancels (payment_id);

-- The webhook outbox: written in the same transaction as the status change.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id  BIGINT NOT NULL REFERENCES merchants(id),
    imp_uid      TEXT   NOT NULL,
    merchant_uid TEXT   NOT NULL,
    status       TEXT   NOT NULL,
    notice_url   TEXT   NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);

CREATE TABLE idempotency_keys (
    merchant_id     BIGINT NOT NULL REFERENCES merchants(id),
    idem_key        TEXT   NOT NULL,
    request_hash    BLOB   NOT NULL,
    state           TEXT   NOT NULL, -- in_flight, done
    response_status INTEGER NOT NULL DEFAULT 0,
    response_body   BLOB,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, idem_key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE events;
DROP TABLE payment_cancels;
DROP TABLE payments;
DROP TABLE retired_billing_keys;
DROP TABLE customers;
DROP TABLE access_tokens;
DROP TABLE channels;
DROP TABLE merchants;
