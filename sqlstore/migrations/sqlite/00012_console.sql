-- +goose Up
-- The admin console (/console): operators (people, not merchants), the
-- merchants each may see, their sessions, login attempts (throttling) and
-- the audit log of everything they do. Independent of other migrations
-- after 00004: it only references merchants.
CREATE TABLE operators (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    login         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL, -- argon2id, self-describing ($argon2id$v=19$m=..,t=..,p=..$salt$hash)
    all_merchants BOOLEAN NOT NULL DEFAULT FALSE,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

CREATE TABLE operator_grants (
    operator_id BIGINT NOT NULL REFERENCES operators(id),
    merchant_id BIGINT NOT NULL REFERENCES merchants(id),
    PRIMARY KEY (operator_id, merchant_id)
);

-- Sessions: the cookie holds a 256-bit token; only its SHA-256 is stored.
CREATE TABLE operator_sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   BLOB   NOT NULL UNIQUE,
    operator_id  BIGINT NOT NULL REFERENCES operators(id),
    client_addr  TEXT   NOT NULL DEFAULT '',
    user_agent   TEXT   NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);

-- Failed logins, counted per login name and per client address.
CREATE TABLE console_login_failures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    login       TEXT   NOT NULL,
    client_addr TEXT   NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX console_login_failures_login ON console_login_failures (login, at);
CREATE INDEX console_login_failures_addr ON console_login_failures (client_addr, at);

-- Every console action: who, what, on which merchant and object, from where, when.
CREATE TABLE console_audit (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id    BIGINT NOT NULL DEFAULT 0,
    operator_login TEXT   NOT NULL,
    merchant_id    BIGINT NOT NULL DEFAULT 0,
    action         TEXT   NOT NULL,
    target         TEXT   NOT NULL DEFAULT '',
    detail         TEXT   NOT NULL DEFAULT '',
    client_addr    TEXT   NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL
);
CREATE INDEX console_audit_merchant ON console_audit (merchant_id, id);
CREATE INDEX console_audit_target ON console_audit (merchant_id, target, id);

-- Console searches and dashboard aggregates stay index lookups with many
-- payments: by order id (failed ones included), buyer, status and period,
-- approval and failure time (covering the dashboard's sums and counts, so
-- they never read the rows); refunds by time.
CREATE INDEX payments_console_merchant_uid ON payments (merchant_id, merchant_uid);
CREATE INDEX payments_console_buyer_name ON payments (merchant_id, buyer_name);
CREATE INDEX payments_console_buyer_email ON payments (merchant_id, buyer_email);
CREATE INDEX payments_console_buyer_tel ON payments (merchant_id, buyer_tel);
CREATE INDEX payments_console_status ON payments (merchant_id, status, started_at);
CREATE INDEX payments_console_paid ON payments (merchant_id, paid_at, customer_uid_usage, amount, channel_id);
CREATE INDEX payments_console_failed ON payments (merchant_id, failed_at, customer_uid_usage, channel_id, fail_reason);
CREATE INDEX payment_cancels_console_at ON payment_cancels (cancelled_at);

-- +goose Down
DROP INDEX payment_cancels_console_at;
DROP INDEX payments_console_failed;
DROP INDEX payments_console_paid;
DROP INDEX payments_console_status;
DROP INDEX payments_console_buyer_tel;
DROP INDEX payments_console_buyer_email;
DROP INDEX payments_console_buyer_name;
DROP INDEX payments_console_merchant_uid;
DROP TABLE console_audit;
DROP TABLE console_login_failures;
DROP TABLE operator_sessions;
DROP TABLE operator_grants;
DROP TABLE operators;
