-- +goose Up
-- Card-update links: a hosted, single-use, expiring page where a
-- subscription's customer replaces the card (a new billing key for the same
-- customer_uid through the payment window). Only the SHA-256 of the link's
-- token is stored. used_at is set once, by the window completion that
-- stored the new key (imp_uid: its issuance payment); retry_imp_uid is the
-- subscription's declined payment at that moment, the one decline the card
-- update retries.
CREATE TABLE card_update_links (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id     BIGINT  NOT NULL REFERENCES merchants(id),
    subscription_id BIGINT  NOT NULL,
    customer_uid    TEXT    NOT NULL,
    token_hash      BLOB    NOT NULL UNIQUE,
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL,
    used_at         BIGINT  NOT NULL DEFAULT 0,
    imp_uid         TEXT    NOT NULL DEFAULT '',
    retry_imp_uid   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX card_update_links_subscription ON card_update_links (merchant_id, subscription_id, id);

-- A payment window opened from a card-update link is bound to it.
ALTER TABLE window_attempts ADD COLUMN card_update_link_id BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE window_attempts DROP COLUMN card_update_link_id;
DROP INDEX card_update_links_subscription;
DROP TABLE card_update_links;
