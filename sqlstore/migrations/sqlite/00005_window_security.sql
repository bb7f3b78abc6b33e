-- +goose Up
-- Which INICIS window a channel opens on phones: 'stdpay' (the INIStdPay
-- billing window, approved server to server like on PC) or 'refuse'. The
-- legacy INILite mobile result is posted through the buyer's browser
-- unsigned, so billkey no longer accepts it.
ALTER TABLE channels ADD COLUMN mobile_window TEXT NOT NULL DEFAULT 'stdpay';
-- Hosts, besides the webhook URL's, that a payment window's notice_url may
-- name (space-separated, lowercase).
ALTER TABLE merchants ADD COLUMN notice_hosts TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE merchants DROP COLUMN notice_hosts;
ALTER TABLE channels DROP COLUMN mobile_window;
