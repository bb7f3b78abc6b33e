package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/billkey/billkey"
)

// The executor's side of schedules: claiming due schedules under a lease,
// renewing and releasing it, and recording a run's outcome.

// ClaimDueSchedules leases up to limit schedules that are scheduled, due at
// now, not leased and not run by a test clock, to owner until leaseUntil, counting an attempt on each,
// oldest due first. The materialized CTE picks candidates once (an inlined
// sub-select with SKIP LOCKED could be re-run per row and exceed the limit);
// the UPDATE rechecks every condition, so on PostgreSQL two nodes that
// picked the same row cannot both claim it (the second sees the first's
// lease once it may proceed), and a revoked schedule is never claimed.
func (s *Store) ClaimDueSchedules(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]*billkey.Schedule, error) {
	nowMS := millis(now)
	// A read first: an idle poll takes no write lock.
	if due, err := s.exists(ctx, `SELECT 1 FROM schedules WHERE status = 'scheduled' AND run_after_ms <= $1 AND lease_until_ms <= $1 AND test_clock_id = 0 LIMIT 1`, nowMS); err != nil || !due {
		return nil, err
	}
	return s.querySchedules(ctx, s.DB, `WITH picked AS MATERIALIZED (SELECT id FROM schedules
			WHERE status = 'scheduled' AND run_after_ms <= $3 AND lease_until_ms <= $3 AND test_clock_id = 0
			ORDER BY run_after_ms, id LIMIT $4`+s.dialect.skipLocked("")+`)
		UPDATE schedules SET lease_owner = $1, lease_until_ms = $2, attempts = attempts + 1
		WHERE id IN (SELECT id FROM picked) AND status = 'scheduled' AND run_after_ms <= $3 AND lease_until_ms <= $3
			AND test_clock_id = 0
		RETURNING `+scheduleReturning,
		owner, millis(leaseUntil), nowMS, limit)
}

// RenewScheduleLease extends owner's lease on a pending schedule. It
// reports false when the schedule is no longer pending or another owner
// holds it (the caller must then not charge).
func (s *Store) RenewScheduleLease(ctx context.Context, id int64, owner string, leaseUntil time.Time) (bool, error) {
	n, err := execCount(ctx, s.DB, "renew schedule lease", `UPDATE schedules SET lease_until_ms = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'scheduled'`,
		millis(leaseUntil), id, owner)
	return n == 1, err
}

// DeferSchedule releases owner's lease on a pending schedule and lets it be
// claimed again at runAfter, noting why.
func (s *Store) DeferSchedule(ctx context.Context, id int64, owner string, runAfter time.Time, reason string) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE schedules SET run_after_ms = $1, lease_owner = '', lease_until_ms = 0, last_error = $2, updated_at = $3
		WHERE id = $4 AND lease_owner = $5 AND status = 'scheduled'`,
		millis(runAfter), truncateText(reason, 500), unix(s.Now()), id, owner)
	if err != nil {
		return fmt.Errorf("sqlstore: defer schedule: %w", err)
	}
	return nil
}

// FinishSchedule marks a pending schedule executed with its result, and adds
// ev (if not nil) to the webhook outbox in the same transaction. It reports
// false, changing nothing, when the schedule was not pending (another node
// recorded the same payment first).
func (s *Store) FinishSchedule(ctx context.Context, id int64, r billkey.ScheduleResult, ev *billkey.Event) (bool, error) {
	now := s.Now()
	done := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		n, err := execCount(ctx, tx, "finish schedule", `UPDATE schedules SET status = 'executed', imp_uid = $1, payment_status = $2,
				fail_reason = $3, executed_at = $4, lease_owner = '', lease_until_ms = 0, updated_at = $5
			WHERE id = $6 AND status = 'scheduled'`,
			r.ImpUID, string(r.PaymentStatus), truncateText(r.FailReason, 500), unix(r.ExecutedAt), unix(now), id)
		if err != nil || n == 0 {
			return err
		}
		done = true
		if ev != nil {
			return s.insertEvent(ctx, tx, ev, now)
		}
		return nil
	})
	return done, err
}

// SkipRunPayment leaves payment paymentID (and older ones) out of the
// current run of a schedule owner holds, so the run charges anew. It
// reports false when owner no longer holds the schedule.
func (s *Store) SkipRunPayment(ctx context.Context, id int64, owner string, paymentID int64) (bool, error) {
	n, err := execCount(ctx, s.DB, "skip run payment", `UPDATE schedules SET prior_payment_id = $1
		WHERE id = $2 AND lease_owner = $3 AND status = 'scheduled' AND prior_payment_id < $1`, paymentID, id, owner)
	return n == 1, err
}

// RunPayment returns the newest payment of the merchant_uid made after the
// payment id prior (the current run's payment, if any), or nil.
func (s *Store) RunPayment(ctx context.Context, merchantID int64, merchantUID string, prior int64) (*billkey.Payment, error) {
	ps, err := s.queryPayments(ctx, s.read, `SELECT `+paymentColumns+` FROM payments
		WHERE merchant_id = $1 AND merchant_uid = $2 AND id > $3`, merchantID, merchantUID, prior)
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	// The latest by id, chosen here rather than with ORDER BY id DESC
	// LIMIT 1 (see newestFirst).
	return slices.MaxFunc(ps, func(a, b *billkey.Payment) int { return cmp.Compare(a.ID, b.ID) }), nil
}

// ScheduleCounts returns how many schedules are in each status (for tests
// and operators).
func (s *Store) ScheduleCounts(ctx context.Context) (map[billkey.ScheduleStatus]int, error) {
	return countBy[billkey.ScheduleStatus](ctx, s.DB, "schedule counts", `SELECT status, COUNT(*) FROM schedules GROUP BY status`)
}
