-- +goose Up
-- Payment-window attempts: one per IMP.request_pay that reached billkey.
-- The attempt token (in INICIS's returnUrl / closeUrl) is stored only as its
-- SHA-256. It binds the INICIS return post to one merchant, channel, order id
-- (the imp_uid) and customer_uid; the state machine makes it single use.
-- Independent of migration 00002 (schedules/webhooks): it only references
-- tables of 00001.
CREATE TABLE window_attempts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash    BLOB    NOT NULL UNIQUE,
    merchant_id   BIGINT  NOT NULL REFERENCES merchants(id),
    channel_id    BIGINT  NOT NULL REFERENCES channels(id),
    payment_id    BIGINT  NOT NULL REFERENCES payments(id),
    imp_uid       TEXT    NOT NULL,
    merchant_uid  TEXT    NOT NULL,
    customer_uid  TEXT    NOT NULL,
    order_id      TEXT    NOT NULL,                -- INICIS oid / orderid
    kind          TEXT    NOT NULL,                -- pc (INIStdPay) or mobile (INILite)
    delivery      TEXT    NOT NULL,                -- message (postMessage) or redirect (m_redirect_url)
    opener_origin TEXT    NOT NULL DEFAULT '',
    redirect_url  TEXT    NOT NULL DEFAULT '',
    request_id    TEXT    NOT NULL DEFAULT '',
    state         TEXT    NOT NULL,                -- open, processing, done, failed
    result        TEXT    NOT NULL DEFAULT '',     -- the rsp delivered (never a billing key)
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL,
    finished_at   BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX window_attempts_state ON window_attempts (state, expires_at);
CREATE INDEX window_attempts_order ON window_attempts (merchant_id, merchant_uid);

-- +goose Down
DROP TABLE window_attempts;
