package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/billkey/billkey"
)

// CreatePayment inserts a new payment (normally status ready) and sets its
// ID. A merchant_uid that already has a payment that is not failed gives an
// EREJECTED error with i'mport's message; an imp_uid collision gives
// ErrImpUIDTaken.
func (s *Store) CreatePayment(ctx context.Context, p *billkey.Payment) (err error) {
	ctx, span := s.span(ctx, "CreatePayment")
	defer endSpan(span, &err)
	if p.StartedAt.IsZero() {
		p.StartedAt = s.Now()
	}
	p.UpdatedAt = p.StartedAt
	err = s.write(ctx, insertPaymentSQL, func(st *sql.Stmt) error {
		return st.QueryRowContext(ctx, paymentValues(p, onInsert)...).Scan(&p.ID)
	})
	if err == nil {
		return nil
	}
	if !isUniqueViolation(err) {
		return fmt.Errorf("sqlstore: insert payment: %w", err)
	}
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM payments WHERE merchant_id = $1 AND merchant_uid = $2 AND status <> 'failed'`,
		p.MerchantID, p.MerchantUID).Scan(&n); err != nil {
		return fmt.Errorf("sqlstore: check duplicate order: %w", err)
	}
	if n > 0 {
		return billkey.Errorf(billkey.EREJECTED, "%s", billkey.DuplicateOrderMessage)
	}
	return billkey.ErrImpUIDTaken
}

// FinishPayment records the outcome of a payment that is still ready: every
// result field of p is written, and ev (if not nil) is added to the webhook
// outbox in the same transaction. It reports false, changing nothing, when
// the payment was no longer ready (someone else recorded an outcome first).
func (s *Store) FinishPayment(ctx context.Context, p *billkey.Payment, ev *billkey.Event) (_ bool, err error) {
	ctx, span := s.span(ctx, "FinishPayment")
	defer endSpan(span, &err)
	p.UpdatedAt = s.Now()
	if s.dialect.writingCTEs && ev != nil && !strings.Contains(ev.NoticeURL, billkey.NoticeURLSep) {
		return s.finishPaymentPG(ctx, p, ev)
	}
	var done bool
	err = s.tx(ctx, func(tx *sql.Tx) error {
		st, err := s.txStmt(ctx, tx, finishPaymentSQL)
		if err != nil {
			return err
		}
		n, err := affected(st.ExecContext(ctx, finishPaymentArgs(p, nil)...))
		if err != nil {
			return fmt.Errorf("sqlstore: finish payment: %w", err)
		} else if n == 0 {
			return nil
		}
		done = true
		if ev != nil {
			return s.insertEvents(ctx, tx, ev, p.UpdatedAt)
		}
		return nil
	})
	return done, err
}

// finishPaymentPG records the outcome and queues its event in one
// statement (one round trip, atomic): see finishPaymentStatements.
func (s *Store) finishPaymentPG(ctx context.Context, p *billkey.Payment, ev *billkey.Event) (bool, error) {
	st, err := s.prepared(ctx, s.DB, finishPaymentSQLPG)
	if err != nil {
		return false, err
	}
	err = st.QueryRowContext(ctx, finishPaymentArgs(p, ev)...).Scan(&ev.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // no longer ready: someone else recorded the outcome
	} else if err != nil {
		return false, fmt.Errorf("sqlstore: finish payment: %w", err)
	}
	ev.CreatedAt = p.UpdatedAt
	return true, nil
}

// MarkUncertain records that the PG's answer for a ready payment is unknown
// and when the reconciler should first ask.
func (s *Store) MarkUncertain(ctx context.Context, paymentID int64, reconcileAfter time.Time) (err error) {
	ctx, span := s.span(ctx, "MarkUncertain")
	defer endSpan(span, &err)
	_, err = s.DB.ExecContext(ctx, `UPDATE payments SET outcome_unknown = TRUE, reconcile_after = $1, updated_at = $2
		WHERE id = $3 AND status = 'ready'`, unix(reconcileAfter), unix(s.Now()), paymentID)
	if err != nil {
		return fmt.Errorf("sqlstore: mark uncertain: %w", err)
	}
	return nil
}

// DeferReconcile records one more inquiry that settled nothing and the next
// time to ask. The payment's outcome is unknown from then on, so a payment
// left ready by a crash (found by its age) follows the same published
// schedule as one whose PG call timed out, not every reconciler tick.
func (s *Store) DeferReconcile(ctx context.Context, paymentID int64, attempts int, next time.Time) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE payments SET outcome_unknown = TRUE, reconcile_attempts = $1, reconcile_after = $2
		WHERE id = $3 AND status = 'ready'`, attempts, unix(next), paymentID)
	if err != nil {
		return fmt.Errorf("sqlstore: defer reconcile: %w", err)
	}
	return nil
}

// UncertainPayments returns payments whose outcome is unknown and due for an
// inquiry at now, and API payments left ready since before staleBefore (a
// node died mid-charge), oldest first.
func (s *Store) UncertainPayments(ctx context.Context, now, staleBefore time.Time, limit int) ([]*billkey.Payment, error) {
	return s.queryPayments(ctx, s.DB, `SELECT `+paymentColumns+` FROM payments
		WHERE status = 'ready' AND (
			(outcome_unknown AND reconcile_after <= $1) OR
			(NOT outcome_unknown AND channel = 'api' AND started_at < $2))
		ORDER BY reconcile_after, id LIMIT $3`,
		unix(now), unix(staleBefore), limit)
}

// PaymentByImpUID returns the merchant's payment with the imp_uid.
func (s *Store) PaymentByImpUID(ctx context.Context, merchantID int64, impUID string) (_ *billkey.Payment, err error) {
	ctx, span := s.span(ctx, "PaymentByImpUID")
	defer endSpan(span, &err)
	ps, err := s.queryPayments(ctx, s.read, `SELECT `+paymentColumns+` FROM payments WHERE merchant_id = $1 AND imp_uid = $2`,
		merchantID, impUID)
	return first(ps, err, paymentNotFound)
}

// FindPayment returns the merchant's newest payment with the merchant_uid
// (and the status, if not empty).
func (s *Store) FindPayment(ctx context.Context, merchantID int64, merchantUID string, status billkey.PaymentStatus) (_ *billkey.Payment, err error) {
	ctx, span := s.span(ctx, "FindPayment")
	defer endSpan(span, &err)
	w := where("merchant_id = ?", merchantID)
	w.add("merchant_uid = ?", merchantUID)
	if status != "" {
		w.add("status = ?", string(status))
	}
	ps, err := s.queryPayments(ctx, s.read, `SELECT `+paymentColumns+` FROM payments WHERE `+w.String(), w.args...)
	return first(newestFirst(ps), err, paymentNotFound)
}

// newestFirst orders the payments of one merchant_uid newest first (by
// started_at, then id).
//
// Queries for one merchant_uid's payments sort here rather than with ORDER
// BY ... LIMIT 1: PostgreSQL may plan such a query as a backward scan of the
// primary key or of (merchant_id, started_at), filtering on merchant_uid
// — cheap on the small table its cached generic plan was made for, a walk
// over every payment of the merchant once the table has grown (measured:
// 2.9 ms per call, growing with the table, during a renewal spike). Without
// the ORDER BY the (merchant_id, merchant_uid) index is the plan, and one
// merchant_uid has only a few payments (its failed attempts and one live).
func newestFirst(ps []*billkey.Payment) []*billkey.Payment {
	slices.SortFunc(ps, func(a, b *billkey.Payment) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return ps
}

// PaymentsByUIDs returns the merchant's payments with any of the imp_uids,
// and the newest payment of each merchant_uid, in the order asked, skipping
// unknown ids.
func (s *Store) PaymentsByUIDs(ctx context.Context, merchantID int64, impUIDs, merchantUIDs []string) ([]*billkey.Payment, error) {
	var out []*billkey.Payment
	for _, id := range impUIDs {
		p, err := s.PaymentByImpUID(ctx, merchantID, id)
		if billkey.ErrorCode(err) == billkey.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	for _, id := range merchantUIDs {
		p, err := s.FindPayment(ctx, merchantID, id, "")
		if billkey.ErrorCode(err) == billkey.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ListPayments returns one page of the merchant's payments matching f and
// the total number matching.
func (s *Store) ListPayments(ctx context.Context, f billkey.PaymentFilter) ([]*billkey.Payment, int, error) {
	w := where("merchant_id = ?", f.MerchantID)
	if f.Status != "" {
		w.add("status = ?", string(f.Status))
	}
	if f.CustomerUID != "" {
		w.add("customer_uid = ?", f.CustomerUID)
	}
	if f.MerchantUID != "" {
		w.add("merchant_uid = ?", f.MerchantUID)
	}
	// The time filter follows the status, as i'mport's does.
	timeCol := "started_at"
	switch f.Status {
	case billkey.StatusPaid:
		timeCol = "paid_at"
	case billkey.StatusFailed:
		timeCol = "failed_at"
	case billkey.StatusCancelled:
		timeCol = "cancelled_at"
	}
	if !f.From.IsZero() {
		w.add(timeCol+" >= ?", unix(f.From))
	}
	if !f.To.IsZero() {
		w.add(timeCol+" <= ?", unix(f.To))
	}
	total, err := w.count(ctx, s.read, "payments")
	if err != nil {
		return nil, 0, err
	}
	order := map[string]string{
		"-started": "started_at DESC, id DESC", "started": "started_at, id",
		"-paid": "paid_at DESC, id DESC", "paid": "paid_at, id",
		"-updated": "updated_at DESC, id DESC", "updated": "updated_at, id",
	}[f.Sorting]
	if order == "" {
		order = "started_at DESC, id DESC"
	}
	query, args := w.page(paymentColumns, "payments", order, f.Limit, f.Offset)
	ps, err := s.queryPayments(ctx, s.read, query, args...)
	if err != nil {
		return nil, 0, err
	}
	return ps, total, nil
}

// queryPayments runs a payments query and loads the cancel history of each.
func (s *Store) queryPayments(ctx context.Context, q queryer, query string, args ...any) ([]*billkey.Payment, error) {
	out, err := queryAll(ctx, q, "payments", scanPayment, query, args...)
	if err != nil {
		return nil, err
	}
	for _, p := range out {
		if p.CancelAmount == 0 {
			continue
		}
		if p.Cancels, err = s.cancels(ctx, q, p.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// paymentNotFound is the error of a lookup that found no payment.
func paymentNotFound() error { return notFound("존재하지 않는 결제정보입니다.") }
