package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/billkey/billkey"
)

// ScheduleStatus is i'mport's schedule_status.
type ScheduleStatus string

// Schedule statuses.
const (
	ScheduleScheduled ScheduleStatus = "scheduled" // pending (possibly being executed right now)
	ScheduleExecuted  ScheduleStatus = "executed"
	ScheduleRevoked   ScheduleStatus = "revoked"
)

// Valid reports whether s is one of the three statuses.
func (s ScheduleStatus) Valid() bool {
	return s == ScheduleScheduled || s == ScheduleExecuted || s == ScheduleRevoked
}

// Schedule is one scheduled payment (POST /subscribe/payments/schedule): a
// charge of CustomerUID's billing key under MerchantUID at ScheduleAt.
type Schedule struct {
	ID          int64
	MerchantID  int64
	CustomerUID string
	MerchantUID string
	ScheduleAt  time.Time

	Amount     int64
	TaxFree    int64
	VatAmount  *int64
	Currency   string
	CardQuota  int
	Name       string
	Buyer      billkey.Buyer
	CustomData *string
	NoticeURL  string

	Status ScheduleStatus
	// ImpUID is the payment the execution made (or adopted); "" before.
	ImpUID string
	// PaymentStatus is the result recorded at execution (paid or failed);
	// "" before. Lookups return the payment's current status instead
	// (cancelled once refunded).
	PaymentStatus billkey.PaymentStatus
	FailReason    string
	ExecutedAt    time.Time
	RevokedAt     time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time

	// Execution bookkeeping.
	RunAfter       time.Time // when it may next be claimed
	Attempts       int       // claims so far
	LeaseOwner     string
	LeaseUntil     time.Time
	PriorPaymentID int64 // payments of the merchant_uid up to this id predate the current run
	LastError      string

	// TestClockID, when not 0, is the test clock that runs this schedule
	// (a test-mode subscription's charge): the wall-clock scan skips it.
	TestClockID int64
}

// Messages of schedule creation.
const (
	// DuplicateScheduleMessage is the refusal of a merchant_uid that is
	// already scheduled (i'mport's exact text is not recorded).
	DuplicateScheduleMessage = "이미 예약결제가 등록된 merchant_uid입니다."
)

const scheduleColumns = `id, merchant_id, customer_uid, merchant_uid, schedule_at, amount, tax_free, vat_amount, currency,
	card_quota, name, buyer_name, buyer_email, buyer_tel, buyer_addr, buyer_postcode, custom_data, notice_url, status,
	imp_uid, payment_status, fail_reason, executed_at, revoked_at, created_at, updated_at, run_after_ms, attempts,
	lease_owner, lease_until_ms, prior_payment_id, last_error, test_clock_id`

// scheduleSelect adds the payment's current status (cancelled after a refund)
// to the stored columns.
const scheduleSelect = scheduleColumns + `,
	COALESCE((SELECT p.status FROM payments p WHERE p.imp_uid = schedules.imp_uid AND schedules.imp_uid <> ''), '')`

// scheduleReturning is the RETURNING list matching scheduleSelect.
const scheduleReturning = scheduleColumns + `, ''`

func scanSchedule(row rowScanner) (*Schedule, error) {
	var sc Schedule
	var vat sql.NullInt64
	var custom sql.NullString
	var status, payStatus, current string
	var at, executed, revoked, created, updated, runAfter, leaseUntil int64
	err := row.Scan(&sc.ID, &sc.MerchantID, &sc.CustomerUID, &sc.MerchantUID, &at, &sc.Amount, &sc.TaxFree, &vat,
		&sc.Currency, &sc.CardQuota, &sc.Name, &sc.Buyer.Name, &sc.Buyer.Email, &sc.Buyer.Tel, &sc.Buyer.Addr,
		&sc.Buyer.Postcode, &custom, &sc.NoticeURL, &status, &sc.ImpUID, &payStatus, &sc.FailReason, &executed,
		&revoked, &created, &updated, &runAfter, &sc.Attempts, &sc.LeaseOwner, &leaseUntil, &sc.PriorPaymentID,
		&sc.LastError, &sc.TestClockID, &current)
	if err != nil {
		return nil, err
	}
	if vat.Valid {
		sc.VatAmount = &vat.Int64
	}
	if custom.Valid {
		sc.CustomData = &custom.String
	}
	sc.Status, sc.PaymentStatus = ScheduleStatus(status), billkey.PaymentStatus(payStatus)
	if current != "" && current != string(billkey.StatusReady) {
		sc.PaymentStatus = billkey.PaymentStatus(current)
	}
	sc.ScheduleAt, sc.ExecutedAt, sc.RevokedAt = fromUnix(at), fromUnix(executed), fromUnix(revoked)
	sc.CreatedAt, sc.UpdatedAt = fromUnix(created), fromUnix(updated)
	sc.RunAfter, sc.LeaseUntil = fromMillis(runAfter), fromMillis(leaseUntil)
	return &sc, nil
}

func (s *Store) querySchedules(ctx context.Context, q queryer, query string, args ...any) ([]*Schedule, error) {
	return queryAll(ctx, q, "schedules", scanSchedule, query, args...)
}

// millis converts a time to stored UNIX milliseconds (0 for the zero time).
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis converts stored UNIX milliseconds back (0 is the zero time).
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// skipLocked is the row-locking clause of a claim's inner SELECT: on
// PostgreSQL concurrent claimers skip each other's rows instead of queueing
// behind them; SQLite has one writer and needs none. Correctness does not
// depend on it: every claim rechecks its conditions in the UPDATE itself.
func (s *Store) skipLocked() string {
	if s.Dialect == "postgres" {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// OrdersTaken returns which of the merchant_uids are already scheduled and
// which already have a payment (of any status), for validation before any
// write. CreateSchedules checks again atomically.
func (s *Store) OrdersTaken(ctx context.Context, merchantID int64, merchantUIDs []string) (scheduled, paid map[string]bool, err error) {
	scheduled, paid = map[string]bool{}, map[string]bool{}
	for _, table := range []string{"schedules", "payments"} {
		for chunk := range chunks(merchantUIDs, 200) {
			args := []any{merchantID}
			ph := make([]string, len(chunk))
			for i, u := range chunk {
				args = append(args, u)
				ph[i] = fmt.Sprintf("$%d", i+2)
			}
			rows, err := s.DB.QueryContext(ctx, `SELECT DISTINCT merchant_uid FROM `+table+
				` WHERE merchant_id = $1 AND merchant_uid IN (`+strings.Join(ph, ", ")+`)`, args...)
			if err != nil {
				return nil, nil, fmt.Errorf("sqlstore: orders taken: %w", err)
			}
			for rows.Next() {
				var u string
				if err := rows.Scan(&u); err != nil {
					rows.Close()
					return nil, nil, fmt.Errorf("sqlstore: orders taken: %w", err)
				}
				if table == "schedules" {
					scheduled[u] = true
				} else {
					paid[u] = true
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, nil, fmt.Errorf("sqlstore: orders taken: %w", err)
			}
		}
	}
	return scheduled, paid, nil
}

func chunks(xs []string, n int) func(func([]string) bool) {
	return func(yield func([]string) bool) {
		for len(xs) > 0 {
			k := min(n, len(xs))
			if !yield(xs[:k]) {
				return
			}
			xs = xs[k:]
		}
	}
}

// CreateSchedules inserts the schedules, all or none, in one transaction and
// sets their IDs. A merchant_uid that is already scheduled, or already has a
// payment, is an EREJECTED error and nothing is written.
func (s *Store) CreateSchedules(ctx context.Context, scs []*Schedule) error {
	now := s.Now()
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, sc := range scs {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM payments WHERE merchant_id = $1 AND merchant_uid = $2`,
				sc.MerchantID, sc.MerchantUID).Scan(&n); err != nil {
				return fmt.Errorf("sqlstore: create schedule: %w", err)
			}
			if n > 0 {
				return billkey.Errorf(billkey.EREJECTED, "%s (merchant_uid: %s)", DuplicateOrderMessage, sc.MerchantUID)
			}
			sc.Status, sc.CreatedAt, sc.UpdatedAt = ScheduleScheduled, now, now
			sc.RunAfter = sc.ScheduleAt
			err := tx.QueryRowContext(ctx, `INSERT INTO schedules (merchant_id, customer_uid, merchant_uid, schedule_at, amount,
					tax_free, vat_amount, currency, card_quota, name, buyer_name, buyer_email, buyer_tel, buyer_addr,
					buyer_postcode, custom_data, notice_url, status, created_at, updated_at, run_after_ms, test_clock_id)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
				RETURNING id`,
				sc.MerchantID, sc.CustomerUID, sc.MerchantUID, unix(sc.ScheduleAt), sc.Amount, sc.TaxFree,
				nullInt(sc.VatAmount), sc.Currency, sc.CardQuota, sc.Name, sc.Buyer.Name, sc.Buyer.Email, sc.Buyer.Tel,
				sc.Buyer.Addr, sc.Buyer.Postcode, nullString(sc.CustomData), sc.NoticeURL, string(sc.Status),
				unix(now), unix(now), millis(sc.RunAfter), sc.TestClockID).Scan(&sc.ID)
			if isUniqueViolation(err) {
				return billkey.Errorf(billkey.EREJECTED, "%s (merchant_uid: %s)", DuplicateScheduleMessage, sc.MerchantUID)
			} else if err != nil {
				return fmt.Errorf("sqlstore: insert schedule: %w", err)
			}
		}
		return nil
	})
}

// ScheduleByMerchantUID returns the merchant's schedule of the merchant_uid.
func (s *Store) ScheduleByMerchantUID(ctx context.Context, merchantID int64, merchantUID string) (*Schedule, error) {
	scs, err := s.querySchedules(ctx, s.DB, `SELECT `+scheduleSelect+` FROM schedules WHERE merchant_id = $1 AND merchant_uid = $2`,
		merchantID, merchantUID)
	if err != nil {
		return nil, err
	}
	if len(scs) == 0 {
		return nil, notFound("예약결제 정보가 존재하지 않습니다. (merchant_uid: %s)", merchantUID)
	}
	return scs[0], nil
}

// ScheduleFilter selects schedules of one merchant for paged lookups.
type ScheduleFilter struct {
	MerchantID  int64
	CustomerUID string         // "" means any
	Status      ScheduleStatus // "" means all
	From, To    time.Time      // From <= schedule_at < To; zero means unbounded
	OldestFirst bool           // default newest schedule_at first
	Offset      int
	Limit       int
}

// ListSchedules returns one page of the merchant's schedules matching f and
// the total number matching.
func (s *Store) ListSchedules(ctx context.Context, f ScheduleFilter) ([]*Schedule, int, error) {
	where := []string{"merchant_id = $1"}
	args := []any{f.MerchantID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.CustomerUID != "" {
		add("customer_uid = ?", f.CustomerUID)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if !f.From.IsZero() {
		add("schedule_at >= ?", unix(f.From))
	}
	if !f.To.IsZero() {
		add("schedule_at < ?", unix(f.To))
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM schedules WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: count schedules: %w", err)
	}
	order := "schedule_at DESC, id DESC"
	if f.OldestFirst {
		order = "schedule_at, id"
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 20
	}
	args = append(args, limit, f.Offset)
	scs, err := s.querySchedules(ctx, s.DB, fmt.Sprintf(`SELECT %s FROM schedules WHERE %s ORDER BY %s LIMIT $%d OFFSET $%d`,
		scheduleSelect, cond, order, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, err
	}
	return scs, total, nil
}

// noRunPayment is the condition "no payment of the schedule's current run
// exists": once a run has created a payment, the schedule can be neither
// revoked nor moved.
const noRunPayment = `NOT EXISTS (SELECT 1 FROM payments p WHERE p.merchant_id = schedules.merchant_id
	AND p.merchant_uid = schedules.merchant_uid AND p.id > schedules.prior_payment_id)`

// RevokeSchedules revokes the merchant's pending schedules: those of
// customerUID (when not empty) among merchantUIDs (when not empty; at least
// one of the two must be given). A schedule is pending when it is
// scheduled, not leased by an executing node, and its run has made no
// payment; others are left alone. It returns the revoked schedules, oldest
// schedule_at first. Claiming and revoking are exclusive: each is one
// conditional UPDATE that rechecks the other's marks.
func (s *Store) RevokeSchedules(ctx context.Context, merchantID int64, customerUID string, merchantUIDs []string) ([]*Schedule, error) {
	if customerUID == "" && len(merchantUIDs) == 0 {
		return nil, fmt.Errorf("sqlstore: revoke schedules: no customer_uid nor merchant_uid")
	}
	now := s.Now()
	var out []*Schedule
	err := s.tx(ctx, func(tx *sql.Tx) error {
		revoke := func(extra string, extraArgs ...any) error {
			args := append([]any{unix(now), millis(now), merchantID}, extraArgs...)
			q := `UPDATE schedules SET status = 'revoked', revoked_at = $1, updated_at = $1
				WHERE merchant_id = $3 AND status = 'scheduled' AND lease_until_ms <= $2 AND ` + noRunPayment + extra +
				` RETURNING ` + scheduleReturning
			scs, err := s.querySchedules(ctx, tx, q, args...)
			if err != nil {
				return err
			}
			out = append(out, scs...)
			return nil
		}
		if len(merchantUIDs) == 0 {
			return revoke(` AND customer_uid = $4`, customerUID)
		}
		for chunk := range chunks(merchantUIDs, 200) {
			args := []any{}
			extra := ""
			if customerUID != "" {
				args = append(args, customerUID)
				extra = ` AND customer_uid = $4`
			}
			ph := make([]string, len(chunk))
			for i, u := range chunk {
				args = append(args, u)
				ph[i] = fmt.Sprintf("$%d", 3+len(args))
			}
			if err := revoke(extra+` AND merchant_uid IN (`+strings.Join(ph, ", ")+`)`, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortSchedules(out)
	return out, nil
}

func sortSchedules(scs []*Schedule) {
	for i := 1; i < len(scs); i++ {
		for j := i; j > 0 && (scs[j].ScheduleAt.Before(scs[j-1].ScheduleAt) ||
			scs[j].ScheduleAt.Equal(scs[j-1].ScheduleAt) && scs[j].ID < scs[j-1].ID); j-- {
			scs[j], scs[j-1] = scs[j-1], scs[j]
		}
	}
}

// MoveSchedule changes the time of a pending schedule (PUT
// /subscribe/payments/schedule/{merchant_uid}). ENOTFOUND when there is no
// such schedule; EINVALID when it is not pending any more.
func (s *Store) MoveSchedule(ctx context.Context, merchantID int64, merchantUID string, at time.Time) (*Schedule, error) {
	now := s.Now()
	scs, err := s.querySchedules(ctx, s.DB, `UPDATE schedules SET schedule_at = $1, run_after_ms = $2, updated_at = $3
		WHERE merchant_id = $4 AND merchant_uid = $5 AND status = 'scheduled' AND lease_until_ms <= $6 AND `+noRunPayment+`
		RETURNING `+scheduleReturning,
		unix(at), millis(at), unix(now), merchantID, merchantUID, millis(now))
	if err != nil {
		return nil, err
	}
	if len(scs) == 1 {
		return scs[0], nil
	}
	if _, err := s.ScheduleByMerchantUID(ctx, merchantID, merchantUID); err != nil {
		return nil, err
	}
	return nil, billkey.Errorf(billkey.EINVALID, "실행 대기 중인(scheduled) 예약결제만 변경할 수 있습니다. (merchant_uid: %s)", merchantUID)
}

// RearmSchedule makes a failed (executed with payment_status failed) or
// revoked schedule pending again at at: POST .../reschedule, and .../retry
// with at = now and lease set (the caller then runs it at once, holding the
// lease for owner until lease expires). Earlier payments of the merchant_uid
// are not adopted by the new run. ENOTFOUND when there is no such schedule;
// EINVALID when it is neither failed nor revoked.
func (s *Store) RearmSchedule(ctx context.Context, merchantID int64, merchantUID string, at time.Time, owner string, leaseUntil time.Time) (*Schedule, error) {
	return s.rearmSchedule(ctx, merchantID, merchantUID, at, owner, leaseUntil, "")
}

// RearmDeclined is RearmSchedule for a failed schedule only, and only
// while its recorded payment is still declinedImpUID: a decline recorded
// since (a retry that already ran) is not retried again. EINVALID
// otherwise.
func (s *Store) RearmDeclined(ctx context.Context, merchantID int64, merchantUID string, at time.Time, declinedImpUID string) (*Schedule, error) {
	if declinedImpUID == "" {
		return nil, billkey.Errorf(billkey.EINVALID, "다시 시도할 실패 결제가 없습니다. (merchant_uid: %s)", merchantUID)
	}
	return s.rearmSchedule(ctx, merchantID, merchantUID, at, "", time.Time{}, declinedImpUID)
}

func (s *Store) rearmSchedule(ctx context.Context, merchantID int64, merchantUID string, at time.Time, owner string, leaseUntil time.Time, declinedImpUID string) (*Schedule, error) {
	now := s.Now()
	cond := `(status = 'revoked' OR (status = 'executed' AND payment_status = 'failed'))`
	args := []any{unix(at), millis(at), owner, millis(leaseUntil), unix(now), merchantID, merchantUID}
	if declinedImpUID != "" {
		cond = `status = 'executed' AND payment_status = 'failed' AND imp_uid = $8`
		args = append(args, declinedImpUID)
	}
	scs, err := s.querySchedules(ctx, s.DB, `UPDATE schedules SET status = 'scheduled', schedule_at = $1, run_after_ms = $2,
			imp_uid = '', payment_status = '', fail_reason = '', executed_at = 0, revoked_at = 0, attempts = 0,
			last_error = '', lease_owner = $3, lease_until_ms = $4, updated_at = $5,
			prior_payment_id = COALESCE((SELECT MAX(p.id) FROM payments p WHERE p.merchant_id = schedules.merchant_id
				AND p.merchant_uid = schedules.merchant_uid), 0)
		WHERE merchant_id = $6 AND merchant_uid = $7
			AND `+cond+`
		RETURNING `+scheduleReturning, args...)
	if err != nil {
		return nil, err
	}
	if len(scs) == 1 {
		return scs[0], nil
	}
	if _, err := s.ScheduleByMerchantUID(ctx, merchantID, merchantUID); err != nil {
		return nil, err
	}
	return nil, billkey.Errorf(billkey.EINVALID, "실패했거나 취소된(revoked) 예약결제만 다시 예약할 수 있습니다. (merchant_uid: %s)", merchantUID)
}

// ClaimDueSchedules leases up to limit schedules that are scheduled, due at
// now, not leased and not run by a test clock, to owner until leaseUntil, counting an attempt on each,
// oldest due first. The materialized CTE picks candidates once (an inlined
// sub-select with SKIP LOCKED could be re-run per row and exceed the limit);
// the UPDATE rechecks every condition, so on PostgreSQL two nodes that
// picked the same row cannot both claim it (the second sees the first's
// lease once it may proceed), and a revoked schedule is never claimed.
func (s *Store) ClaimDueSchedules(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]*Schedule, error) {
	nowMS := millis(now)
	// A read first: an idle poll takes no write lock.
	if due, err := s.exists(ctx, `SELECT 1 FROM schedules WHERE status = 'scheduled' AND run_after_ms <= $1 AND lease_until_ms <= $1 AND test_clock_id = 0 LIMIT 1`, nowMS); err != nil || !due {
		return nil, err
	}
	return s.querySchedules(ctx, s.DB, `WITH picked AS MATERIALIZED (SELECT id FROM schedules
			WHERE status = 'scheduled' AND run_after_ms <= $3 AND lease_until_ms <= $3 AND test_clock_id = 0
			ORDER BY run_after_ms, id LIMIT $4`+s.skipLocked()+`)
		UPDATE schedules SET lease_owner = $1, lease_until_ms = $2, attempts = attempts + 1
		WHERE id IN (SELECT id FROM picked) AND status = 'scheduled' AND run_after_ms <= $3 AND lease_until_ms <= $3
			AND test_clock_id = 0
		RETURNING `+scheduleReturning,
		owner, millis(leaseUntil), nowMS, limit)
}

// exists reports whether a query returns a row.
func (s *Store) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := s.DB.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("sqlstore: %w", err)
	}
	return true, nil
}

// RenewScheduleLease extends owner's lease on a pending schedule. It
// reports false when the schedule is no longer pending or another owner
// holds it (the caller must then not charge).
func (s *Store) RenewScheduleLease(ctx context.Context, id int64, owner string, leaseUntil time.Time) (bool, error) {
	res, err := s.DB.ExecContext(ctx, `UPDATE schedules SET lease_until_ms = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'scheduled'`,
		millis(leaseUntil), id, owner)
	if err != nil {
		return false, fmt.Errorf("sqlstore: renew schedule lease: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: renew schedule lease: %w", err)
	}
	return n == 1, nil
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

// ScheduleResult is the outcome an execution records.
type ScheduleResult struct {
	ImpUID        string // "" when no payment could be made
	PaymentStatus billkey.PaymentStatus
	FailReason    string
	ExecutedAt    time.Time
}

// FinishSchedule marks a pending schedule executed with its result, and adds
// ev (if not nil) to the webhook outbox in the same transaction. It reports
// false, changing nothing, when the schedule was not pending (another node
// recorded the same payment first).
func (s *Store) FinishSchedule(ctx context.Context, id int64, r ScheduleResult, ev *billkey.Event) (bool, error) {
	now := s.Now()
	done := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE schedules SET status = 'executed', imp_uid = $1, payment_status = $2,
				fail_reason = $3, executed_at = $4, lease_owner = '', lease_until_ms = 0, updated_at = $5
			WHERE id = $6 AND status = 'scheduled'`,
			r.ImpUID, string(r.PaymentStatus), truncateText(r.FailReason, 500), unix(r.ExecutedAt), unix(now), id)
		if err != nil {
			return fmt.Errorf("sqlstore: finish schedule: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("sqlstore: finish schedule: %w", err)
		}
		if n == 0 {
			return nil
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
	res, err := s.DB.ExecContext(ctx, `UPDATE schedules SET prior_payment_id = $1
		WHERE id = $2 AND lease_owner = $3 AND status = 'scheduled' AND prior_payment_id < $1`, paymentID, id, owner)
	if err != nil {
		return false, fmt.Errorf("sqlstore: skip run payment: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: skip run payment: %w", err)
	}
	return n == 1, nil
}

// RunPayment returns the newest payment of the merchant_uid made after the
// payment id prior (the current run's payment, if any), or nil.
func (s *Store) RunPayment(ctx context.Context, merchantID int64, merchantUID string, prior int64) (*billkey.Payment, error) {
	ps, err := s.queryPayments(ctx, s.DB, `SELECT `+paymentColumns+` FROM payments
		WHERE merchant_id = $1 AND merchant_uid = $2 AND id > $3 ORDER BY id DESC LIMIT 1`, merchantID, merchantUID, prior)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, nil
	}
	return ps[0], nil
}

// ScheduleCounts returns how many schedules are in each status (for tests
// and operators).
func (s *Store) ScheduleCounts(ctx context.Context) (map[ScheduleStatus]int, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT status, COUNT(*) FROM schedules GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: schedule counts: %w", err)
	}
	defer rows.Close()
	out := map[ScheduleStatus]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("sqlstore: schedule counts: %w", err)
		}
		out[ScheduleStatus(st)] = n
	}
	return out, rows.Err()
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
