-- +goose Up
-- Test clocks (test mode only): a merchant-owned simulated "now". Schedules
-- of subscriptions attached to a clock are due by the clock's time, not the
-- wall clock's, and run only when the clock is advanced.
CREATE TABLE test_clocks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id BIGINT  NOT NULL REFERENCES merchants(id),
    name        TEXT    NOT NULL DEFAULT '',
    now_at      BIGINT  NOT NULL, -- the clock's time, UNIX seconds
    status      TEXT    NOT NULL, -- ready, advancing
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX test_clocks_merchant ON test_clocks (merchant_id, id);

-- Subscriptions: recurring plans whose every charge is an ordinary schedule
-- (merchant_uid sub_<id>_<period+1>). period is the 0-based index of the
-- current billing period (its schedule is pending, or being retried).
CREATE TABLE subscriptions (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id          BIGINT  NOT NULL REFERENCES merchants(id),
    customer_uid         TEXT    NOT NULL,
    name                 TEXT    NOT NULL,
    amount               BIGINT  NOT NULL,
    next_amount          BIGINT  NOT NULL DEFAULT 0,
    amount_from          BIGINT  NOT NULL DEFAULT -1, -- period from which next_amount applies; -1: none
    interval_unit        TEXT    NOT NULL,
    interval_count       INTEGER NOT NULL,
    anchor_at            BIGINT  NOT NULL, -- period 0's billing time
    start_at             BIGINT  NOT NULL,
    trial_end_at         BIGINT  NOT NULL DEFAULT 0,
    cycles               INTEGER NOT NULL DEFAULT 0, -- 0: until cancelled
    status               TEXT    NOT NULL, -- trialing, active, past_due, paused, unpaid, cancelled, completed
    period               BIGINT  NOT NULL DEFAULT 0,
    paid_cycles          INTEGER NOT NULL DEFAULT 0,
    retries              INTEGER NOT NULL DEFAULT 0, -- declined attempts of the current period after the first
    retry_days           TEXT    NOT NULL, -- e.g. "1,3,7"
    final_action         TEXT    NOT NULL, -- after the last retry: unpaid or cancel
    cancel_at_period_end BOOLEAN NOT NULL DEFAULT FALSE,
    test_clock_id        BIGINT  NOT NULL DEFAULT 0,
    notice_url           TEXT    NOT NULL DEFAULT '',
    last_fail_reason     TEXT    NOT NULL DEFAULT '',
    paused_at            BIGINT  NOT NULL DEFAULT 0,
    ended_at             BIGINT  NOT NULL DEFAULT 0,
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL
);
CREATE INDEX subscriptions_customer ON subscriptions (merchant_id, customer_uid, id);
CREATE INDEX subscriptions_clock ON subscriptions (test_clock_id) WHERE test_clock_id <> 0;

-- A schedule of a clock-attached subscription is run by its clock only.
ALTER TABLE schedules ADD COLUMN test_clock_id BIGINT NOT NULL DEFAULT 0;
CREATE INDEX schedules_clock_due ON schedules (test_clock_id, run_after_ms, id) WHERE status = 'scheduled' AND test_clock_id <> 0;

-- Subscription events carry their own JSON body in the outbox.
ALTER TABLE events ADD COLUMN payload TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE events DROP COLUMN payload;
DROP INDEX schedules_clock_due;
ALTER TABLE schedules DROP COLUMN test_clock_id;
DROP INDEX subscriptions_clock;
DROP INDEX subscriptions_customer;
DROP TABLE subscriptions;
DROP INDEX test_clocks_merchant;
DROP TABLE test_clocks;
