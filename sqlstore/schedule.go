package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/billkey/billkey"
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

func scanSchedule(row rowScanner) (*billkey.Schedule, error) {
	var sc billkey.Schedule
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
	sc.Status, sc.PaymentStatus = billkey.ScheduleStatus(status), billkey.PaymentStatus(payStatus)
	if current != "" && current != string(billkey.StatusReady) {
		sc.PaymentStatus = billkey.PaymentStatus(current)
	}
	sc.ScheduleAt, sc.ExecutedAt, sc.RevokedAt = fromUnix(at), fromUnix(executed), fromUnix(revoked)
	sc.CreatedAt, sc.UpdatedAt = fromUnix(created), fromUnix(updated)
	sc.RunAfter, sc.LeaseUntil = fromMillis(runAfter), fromMillis(leaseUntil)
	return &sc, nil
}

func (s *Store) querySchedules(ctx context.Context, q queryer, query string, args ...any) ([]*billkey.Schedule, error) {
	return queryAll(ctx, q, "schedules", scanSchedule, query, args...)
}

// OrdersTaken returns which of the merchant_uids are already scheduled and
// which already have a payment (of any status), for validation before any
// write. CreateSchedules checks again atomically.
func (s *Store) OrdersTaken(ctx context.Context, merchantID int64, merchantUIDs []string) (scheduled, paid map[string]bool, err error) {
	scheduled, paid = map[string]bool{}, map[string]bool{}
	for _, table := range []string{"schedules", "payments"} {
		for chunk := range chunks(merchantUIDs, 200) {
			w := where("merchant_id = ?", merchantID)
			w.raw(w.in("merchant_uid", chunk))
			uids, err := queryAll(ctx, s.DB, "orders taken", scanned(func(u *string) []any { return []any{u} }), `SELECT DISTINCT merchant_uid FROM `+table+` WHERE `+w.String(), w.args...)
			if err != nil {
				return nil, nil, err
			}
			for _, u := range uids {
				if table == "schedules" {
					scheduled[u] = true
				} else {
					paid[u] = true
				}
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
func (s *Store) CreateSchedules(ctx context.Context, scs []*billkey.Schedule) error {
	now := s.Now()
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, sc := range scs {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM payments WHERE merchant_id = $1 AND merchant_uid = $2`,
				sc.MerchantID, sc.MerchantUID).Scan(&n); err != nil {
				return fmt.Errorf("sqlstore: create schedule: %w", err)
			}
			if n > 0 {
				return billkey.Errorf(billkey.EREJECTED, "%s (merchant_uid: %s)", billkey.DuplicateOrderMessage, sc.MerchantUID)
			}
			sc.Status, sc.CreatedAt, sc.UpdatedAt = billkey.ScheduleScheduled, now, now
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
				return billkey.Errorf(billkey.EREJECTED, "%s (merchant_uid: %s)", billkey.DuplicateScheduleMessage, sc.MerchantUID)
			} else if err != nil {
				return fmt.Errorf("sqlstore: insert schedule: %w", err)
			}
		}
		return nil
	})
}

// ScheduleByMerchantUID returns the merchant's schedule of the merchant_uid.
func (s *Store) ScheduleByMerchantUID(ctx context.Context, merchantID int64, merchantUID string) (*billkey.Schedule, error) {
	scs, err := s.querySchedules(ctx, s.DB, `SELECT `+scheduleSelect+` FROM schedules WHERE merchant_id = $1 AND merchant_uid = $2`,
		merchantID, merchantUID)
	return first(scs, err, func() error {
		return notFound("예약결제 정보가 존재하지 않습니다. (merchant_uid: %s)", merchantUID)
	})
}

// ListSchedules returns one page of the merchant's schedules matching f and
// the total number matching.
func (s *Store) ListSchedules(ctx context.Context, f billkey.ScheduleFilter) ([]*billkey.Schedule, int, error) {
	w := where("merchant_id = ?", f.MerchantID)
	if f.CustomerUID != "" {
		w.add("customer_uid = ?", f.CustomerUID)
	}
	if f.Status != "" {
		w.add("status = ?", string(f.Status))
	}
	if !f.From.IsZero() {
		w.add("schedule_at >= ?", unix(f.From))
	}
	if !f.To.IsZero() {
		w.add("schedule_at < ?", unix(f.To))
	}
	total, err := w.count(ctx, s.DB, "schedules")
	if err != nil {
		return nil, 0, err
	}
	order := "schedule_at DESC, id DESC"
	if f.OldestFirst {
		order = "schedule_at, id"
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 20
	}
	query, args := w.page(scheduleSelect, "schedules", order, limit, f.Offset)
	scs, err := s.querySchedules(ctx, s.DB, query, args...)
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
func (s *Store) RevokeSchedules(ctx context.Context, merchantID int64, customerUID string, merchantUIDs []string) ([]*billkey.Schedule, error) {
	if customerUID == "" && len(merchantUIDs) == 0 {
		return nil, fmt.Errorf("sqlstore: revoke schedules: no customer_uid nor merchant_uid")
	}
	now := s.Now()
	var out []*billkey.Schedule
	err := s.tx(ctx, func(tx *sql.Tx) error {
		revoke := func(merchantUIDs []string) error {
			w := &filter{args: []any{unix(now), millis(now)}}
			w.add("merchant_id = ?", merchantID)
			w.raw("status = 'scheduled' AND lease_until_ms <= $2 AND " + noRunPayment)
			if customerUID != "" {
				w.add("customer_uid = ?", customerUID)
			}
			if len(merchantUIDs) > 0 {
				w.raw(w.in("merchant_uid", merchantUIDs))
			}
			scs, err := s.querySchedules(ctx, tx, `UPDATE schedules SET status = 'revoked', revoked_at = $1, updated_at = $1
				WHERE `+w.String()+` RETURNING `+scheduleReturning, w.args...)
			out = append(out, scs...)
			return err
		}
		if len(merchantUIDs) == 0 {
			return revoke(nil)
		}
		for chunk := range chunks(merchantUIDs, 200) {
			if err := revoke(chunk); err != nil {
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

func sortSchedules(scs []*billkey.Schedule) {
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
func (s *Store) MoveSchedule(ctx context.Context, merchantID int64, merchantUID string, at time.Time) (*billkey.Schedule, error) {
	now := s.Now()
	scs, err := s.querySchedules(ctx, s.DB, `UPDATE schedules SET schedule_at = $1, run_after_ms = $2, updated_at = $3
		WHERE merchant_id = $4 AND merchant_uid = $5 AND status = 'scheduled' AND lease_until_ms <= $6 AND `+noRunPayment+`
		RETURNING `+scheduleReturning,
		unix(at), millis(at), unix(now), merchantID, merchantUID, millis(now))
	return s.changedSchedule(ctx, scs, err, merchantID, merchantUID, "실행 대기 중인(scheduled) 예약결제만 변경할 수 있습니다.")
}

// RearmSchedule makes a failed (executed with payment_status failed) or
// revoked schedule pending again at at: POST .../reschedule, and .../retry
// with at = now and lease set (the caller then runs it at once, holding the
// lease for owner until lease expires). Earlier payments of the merchant_uid
// are not adopted by the new run. ENOTFOUND when there is no such schedule;
// EINVALID when it is neither failed nor revoked.
func (s *Store) RearmSchedule(ctx context.Context, merchantID int64, merchantUID string, at time.Time, owner string, leaseUntil time.Time) (*billkey.Schedule, error) {
	return s.rearmSchedule(ctx, merchantID, merchantUID, at, owner, leaseUntil, "")
}

// RearmDeclined is RearmSchedule for a failed schedule only, and only
// while its recorded payment is still declinedImpUID: a decline recorded
// since (a retry that already ran) is not retried again. EINVALID
// otherwise.
func (s *Store) RearmDeclined(ctx context.Context, merchantID int64, merchantUID string, at time.Time, declinedImpUID string) (*billkey.Schedule, error) {
	if declinedImpUID == "" {
		return nil, billkey.Errorf(billkey.EINVALID, "다시 시도할 실패 결제가 없습니다. (merchant_uid: %s)", merchantUID)
	}
	return s.rearmSchedule(ctx, merchantID, merchantUID, at, "", time.Time{}, declinedImpUID)
}

func (s *Store) rearmSchedule(ctx context.Context, merchantID int64, merchantUID string, at time.Time, owner string, leaseUntil time.Time, declinedImpUID string) (*billkey.Schedule, error) {
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
	return s.changedSchedule(ctx, scs, err, merchantID, merchantUID, "실패했거나 취소된(revoked) 예약결제만 다시 예약할 수 있습니다.")
}

// changedSchedule returns the schedule a conditional UPDATE … RETURNING
// changed; when it changed none, ENOTFOUND if there is no such schedule,
// else EINVALID with refusal.
func (s *Store) changedSchedule(ctx context.Context, scs []*billkey.Schedule, err error, merchantID int64, merchantUID, refusal string) (*billkey.Schedule, error) {
	if err != nil {
		return nil, err
	}
	if len(scs) == 1 {
		return scs[0], nil
	}
	if _, err := s.ScheduleByMerchantUID(ctx, merchantID, merchantUID); err != nil {
		return nil, err
	}
	return nil, billkey.Errorf(billkey.EINVALID, "%s (merchant_uid: %s)", refusal, merchantUID)
}
