package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey"
)

const subscriptionColumns = `id, merchant_id, customer_uid, name, amount, next_amount, amount_from, interval_unit,
	interval_count, anchor_at, start_at, trial_end_at, cycles, status, period, paid_cycles, retries, retry_days,
	final_action, cancel_at_period_end, test_clock_id, notice_url, last_fail_reason, paused_at, ended_at, created_at, updated_at`

func scanSubscription(row rowScanner) (*billkey.Subscription, error) {
	var s billkey.Subscription
	var status, days string
	var anchor, start, trial, paused, ended, created, updated int64
	if err := row.Scan(&s.ID, &s.MerchantID, &s.CustomerUID, &s.Name, &s.Amount, &s.NextAmount, &s.AmountFrom, &s.Unit,
		&s.Count, &anchor, &start, &trial, &s.Cycles, &status, &s.Period, &s.PaidCycles, &s.Retries, &days,
		&s.FinalAction, &s.CancelAtEnd, &s.TestClockID, &s.NoticeURL, &s.LastFail, &paused, &ended, &created, &updated); err != nil {
		return nil, err
	}
	s.Status = billkey.SubscriptionStatus(status)
	s.RetryDays = billkey.ParseRetryDays(days)
	s.AnchorAt, s.StartAt, s.TrialEndAt = fromUnix(anchor), fromUnix(start), fromUnix(trial)
	s.PausedAt, s.EndedAt, s.CreatedAt, s.UpdatedAt = fromUnix(paused), fromUnix(ended), fromUnix(created), fromUnix(updated)
	return &s, nil
}

func formatRetryDays(ds []int) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, ",")
}

// CreateSubscription inserts a subscription and sets its ID.
func (s *Store) CreateSubscription(ctx context.Context, sub *billkey.Subscription) error {
	now := s.Now()
	sub.CreatedAt, sub.UpdatedAt = now, now
	return s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO subscriptions (merchant_id, customer_uid, name, amount, next_amount,
				amount_from, interval_unit, interval_count, anchor_at, start_at, trial_end_at, cycles, status, period,
				retry_days, final_action, test_clock_id, notice_url, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19) RETURNING id`,
			sub.MerchantID, sub.CustomerUID, sub.Name, sub.Amount, sub.NextAmount, sub.AmountFrom, sub.Unit, sub.Count,
			unix(sub.AnchorAt), unix(sub.StartAt), unix(sub.TrialEndAt), sub.Cycles, string(sub.Status), sub.Period,
			formatRetryDays(sub.RetryDays), sub.FinalAction, sub.TestClockID, sub.NoticeURL, unix(now)).Scan(&sub.ID)
		if err != nil {
			return fmt.Errorf("sqlstore: insert subscription: %w", err)
		}
		return nil
	})
}

// SubscriptionByID returns the merchant's subscription; ENOTFOUND if none.
func (s *Store) SubscriptionByID(ctx context.Context, merchantID, id int64) (*billkey.Subscription, error) {
	subs, err := queryAll(ctx, s.DB, "subscriptions", scanSubscription,
		`SELECT `+subscriptionColumns+` FROM subscriptions WHERE merchant_id = $1 AND id = $2`, merchantID, id)
	return first(subs, err, func() error { return notFound("구독 정보가 존재하지 않습니다. (id: %d)", id) })
}

// ListSubscriptions returns the merchant's subscriptions, newest first, of
// customerUID when not empty, and the total number.
func (s *Store) ListSubscriptions(ctx context.Context, merchantID int64, customerUID string, offset, limit int) ([]*billkey.Subscription, int, error) {
	w := where("merchant_id = ?", merchantID)
	if customerUID != "" {
		w.add("customer_uid = ?", customerUID)
	}
	total, err := w.count(ctx, s.DB, "subscriptions")
	if err != nil {
		return nil, 0, err
	}
	query, args := w.page(subscriptionColumns, "subscriptions", "id DESC", limit, offset)
	subs, err := queryAll(ctx, s.DB, "subscriptions", scanSubscription, query, args...)
	return subs, total, err
}

// UpdateSubscription writes sub's mutable state when the stored row's
// status, period, retries and amounts are still prev's (optimistic
// concurrency: a repeated or racing hook changes nothing), and queues
// the events in the same transaction. It reports false, changing nothing,
// when another writer changed the subscription first.
func (s *Store) UpdateSubscription(ctx context.Context, prev, sub *billkey.Subscription, evs []billkey.SubscriptionEvent) (bool, error) {
	now := s.Now()
	ok := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		n, err := execCount(ctx, tx, "update subscription", `UPDATE subscriptions SET name = $1, amount = $2, next_amount = $3, amount_from = $4,
				status = $5, period = $6, paid_cycles = $7, retries = $8, cancel_at_period_end = $9, last_fail_reason = $10,
				paused_at = $11, ended_at = $12, updated_at = $13
			WHERE id = $14 AND merchant_id = $15 AND status = $16 AND period = $17 AND retries = $18 AND amount = $19
				AND amount_from = $20 AND cancel_at_period_end = $21`,
			sub.Name, sub.Amount, sub.NextAmount, sub.AmountFrom, string(sub.Status), sub.Period, sub.PaidCycles, sub.Retries,
			sub.CancelAtEnd, truncateText(sub.LastFail, 500), unix(sub.PausedAt), unix(sub.EndedAt), unix(now),
			sub.ID, sub.MerchantID, string(prev.Status), prev.Period, prev.Retries, prev.Amount, prev.AmountFrom, prev.CancelAtEnd)
		if err != nil || n == 0 {
			return err
		}
		ok = true
		for _, ev := range evs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO events (merchant_id, imp_uid, merchant_uid, status, notice_url, created_at, payload)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, sub.MerchantID, ev.ImpUID, ev.MerchantUID, ev.Type, sub.NoticeURL, unix(now),
				string(ev.Payload)); err != nil {
				return fmt.Errorf("sqlstore: insert subscription event: %w", err)
			}
		}
		return nil
	})
	if ok {
		sub.UpdatedAt = now
	}
	return ok, err
}

func scanClock(row rowScanner) (*billkey.TestClock, error) {
	var c billkey.TestClock
	var now, created, updated int64
	if err := row.Scan(&c.ID, &c.MerchantID, &c.Name, &now, &c.Status, &created, &updated); err != nil {
		return nil, err
	}
	c.Now, c.CreatedAt, c.UpdatedAt = fromUnix(now), fromUnix(created), fromUnix(updated)
	return &c, nil
}

const clockColumns = `id, merchant_id, name, now_at, status, created_at, updated_at`

// CreateTestClock inserts a ready clock at c.Now and sets its ID.
func (s *Store) CreateTestClock(ctx context.Context, c *billkey.TestClock) error {
	now := s.Now()
	c.Status, c.CreatedAt, c.UpdatedAt = "ready", now, now
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO test_clocks (merchant_id, name, now_at, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`, c.MerchantID, c.Name, unix(c.Now), c.Status, unix(now)).Scan(&c.ID); err != nil {
			return fmt.Errorf("sqlstore: insert test clock: %w", err)
		}
		return nil
	})
}

// TestClockByID returns the merchant's clock; ENOTFOUND if none.
func (s *Store) TestClockByID(ctx context.Context, merchantID, id int64) (*billkey.TestClock, error) {
	cs, err := queryAll(ctx, s.DB, "test clocks", scanClock, `SELECT `+clockColumns+` FROM test_clocks WHERE merchant_id = $1 AND id = $2`,
		merchantID, id)
	return first(cs, err, func() error { return notFound("테스트 시계가 존재하지 않습니다. (id: %d)", id) })
}

// BeginAdvance marks a ready clock advancing; false when another advance
// runs. An advance whose node stopped (no progress for staleAfter) is taken
// over: every charge it left is still pending or recorded, never lost.
func (s *Store) BeginAdvance(ctx context.Context, id int64, staleAfter time.Duration) (bool, error) {
	now := s.Now()
	res, err := s.DB.ExecContext(ctx, `UPDATE test_clocks SET status = 'advancing', updated_at = $1
		WHERE id = $2 AND (status = 'ready' OR updated_at < $3)`, unix(now), id, unix(now.Add(-staleAfter)))
	if err != nil {
		return false, fmt.Errorf("sqlstore: begin advance: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetClock moves the clock's time (never backwards) and sets its status.
func (s *Store) SetClock(ctx context.Context, id int64, at time.Time, status string) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE test_clocks SET now_at = CASE WHEN now_at < $1 THEN $1 ELSE now_at END,
		status = $2, updated_at = $3 WHERE id = $4`, unix(at), status, unix(s.Now()), id)
	if err != nil {
		return fmt.Errorf("sqlstore: set clock: %w", err)
	}
	return nil
}

// ClaimClockSchedule leases to owner the earliest pending schedule of the
// clock due by until (clock time), or returns nil when none is due.
func (s *Store) ClaimClockSchedule(ctx context.Context, clockID int64, until time.Time, owner string, now, leaseUntil time.Time) (*billkey.Schedule, error) {
	scs, err := s.querySchedules(ctx, s.DB, `UPDATE schedules SET lease_owner = $1, lease_until_ms = $2, attempts = attempts + 1
		WHERE id = (SELECT id FROM schedules WHERE test_clock_id = $3 AND status = 'scheduled' AND run_after_ms <= $4
				AND lease_until_ms <= $5 ORDER BY run_after_ms, id LIMIT 1)
			AND status = 'scheduled' AND lease_until_ms <= $5
		RETURNING `+scheduleReturning, owner, millis(leaseUntil), clockID, millis(until), millis(now))
	if err != nil || len(scs) == 0 {
		return nil, err
	}
	return scs[0], nil
}

// RearmSubscriptionSchedule makes a subscription's failed schedule pending
// again at at (a dunning retry), like RearmSchedule without a lease.
func (s *Store) RearmSubscriptionSchedule(ctx context.Context, merchantID int64, merchantUID string, at time.Time) error {
	_, err := s.RearmSchedule(ctx, merchantID, merchantUID, at, "", time.Time{})
	if billkey.ErrorCode(err) == billkey.EINVALID {
		return nil // already pending again (a repeated hook)
	}
	return err
}

// DeleteSubscription removes a subscription whose first schedule could not
// be registered (its creation is then refused as a whole).
func (s *Store) DeleteSubscription(ctx context.Context, merchantID, id int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE merchant_id = $1 AND id = $2`, merchantID, id); err != nil {
			return fmt.Errorf("sqlstore: delete subscription: %w", err)
		}
		return nil
	})
}

// StalledSubscriptions returns up to limit subscriptions that are active or
// trialing while their current period's schedule was executed before
// before: the outcome hook did not run (a node stopped between recording
// the charge and renewing), with that schedule.
func (s *Store) StalledSubscriptions(ctx context.Context, before time.Time, limit int) ([]*billkey.Schedule, error) {
	return s.querySchedules(ctx, s.DB, `SELECT `+scheduleSelect+` FROM schedules WHERE id IN (SELECT sc.id FROM schedules sc
		JOIN subscriptions sub ON sub.merchant_id = sc.merchant_id AND sc.merchant_uid = 'sub_' || sub.id || '_' || (sub.period + 1)
		WHERE sub.status IN ('active', 'trialing') AND sc.status = 'executed' AND sc.executed_at < $1
		ORDER BY sub.id LIMIT $2)`, unix(before), limit)
}
