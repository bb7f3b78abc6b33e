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

// Cancel states.
const (
	cancelPending   = "pending"
	cancelDone      = "done"
	cancelFailed    = "failed"
	cancelUncertain = "uncertain"
)

// ReserveCancel reserves a refund on a paid payment before the PG is asked:
// the amount is moved into the payment's pending refunds by one conditional
// UPDATE, so concurrent refunds can never exceed what was paid. It returns the
// payment and the pending cancel to complete with CompleteCancel, or release
// with FailCancel.
func (s *Store) ReserveCancel(ctx context.Context, paymentID int64, req billkey.CancelRequest) (_ *billkey.Payment, _ *billkey.Cancel, err error) {
	ctx, span := s.span(ctx, "ReserveCancel")
	defer endSpan(span, &err)
	now := s.Now()
	var p *billkey.Payment
	c := &billkey.Cancel{PaymentID: paymentID, TaxFree: req.TaxFree, VatAmount: req.VatAmount, Reason: req.Reason}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var amount, cancelled, pending int64
		var status string
		var unknown bool
		err := tx.QueryRowContext(ctx, `SELECT amount, cancel_amount, cancel_pending, status, outcome_unknown FROM payments WHERE id = $1`,
			paymentID).Scan(&amount, &cancelled, &pending, &status, &unknown)
		if errors.Is(err, sql.ErrNoRows) {
			return billkey.Errorf(billkey.EREJECTED, "취소할 결제건이 존재하지 않습니다.")
		} else if err != nil {
			return fmt.Errorf("sqlstore: reserve cancel: %w", err)
		}
		switch {
		case amount == 0:
			return billkey.Errorf(billkey.EREJECTED, "결제금액이 0원인 건(빌링키 발급 기록)은 취소할 수 없습니다. 빌링키는 DELETE /subscribe/customers/{customer_uid}로 삭제하세요.")
		case status == string(billkey.StatusCancelled):
			return billkey.Errorf(billkey.EREJECTED, "이미 전액취소된 주문입니다.")
		case status == string(billkey.StatusReady) && unknown:
			return billkey.Errorf(billkey.EREJECTED, "PG사 승인 결과를 확인 중인 결제건입니다. 잠시 후 다시 시도해주세요.")
		case status != string(billkey.StatusPaid):
			return billkey.Errorf(billkey.EREJECTED, "결제완료 상태가 아닌 결제건은 취소할 수 없습니다. (status: %s)", status)
		}
		if pending > 0 {
			return billkey.ErrCancelBusy
		}
		left := amount - cancelled
		if req.Checksum != nil && *req.Checksum != amount-cancelled {
			return billkey.Errorf(billkey.EREJECTED, "checksum(%d)이 취소 가능 잔액(%d원)과 일치하지 않습니다.", *req.Checksum, amount-cancelled)
		}
		c.Amount = req.Amount
		if c.Amount == 0 {
			c.Amount = left
		}
		if c.Amount <= 0 {
			return billkey.Errorf(billkey.EREJECTED, "이미 전액취소된 주문입니다.")
		}
		if req.TaxFree > c.Amount {
			return billkey.Errorf(billkey.EREJECTED, "면세금액(tax_free %d)이 취소금액(%d)보다 클 수 없습니다.", req.TaxFree, c.Amount)
		}
		res, err := tx.ExecContext(ctx, `UPDATE payments SET cancel_pending = cancel_pending + $1, updated_at = $2
			WHERE id = $3 AND status = 'paid' AND cancel_pending = 0 AND amount - cancel_amount >= $1`, c.Amount, unix(now), paymentID)
		if err != nil {
			return fmt.Errorf("sqlstore: reserve cancel: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlstore: reserve cancel: %w", err)
		} else if n == 0 {
			if c.Amount > left {
				return billkey.Errorf(billkey.EREJECTED, "취소 가능 잔액(%d원)보다 큰 금액(%d원)을 취소할 수 없습니다.", max(left, 0), c.Amount)
			}
			return billkey.ErrCancelBusy
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO payment_cancels (payment_id, state, amount, tax_free, vat_amount, reason, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			paymentID, cancelPending, c.Amount, c.TaxFree, nullInt(c.VatAmount), c.Reason, unix(now)).Scan(&c.ID); err != nil {
			return fmt.Errorf("sqlstore: insert cancel: %w", err)
		}
		ps, err := s.queryPayments(ctx, tx, `SELECT `+paymentColumns+` FROM payments WHERE id = $1`, paymentID)
		if err != nil {
			return err
		}
		p = ps[0]
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return p, c, nil
}

// CompleteCancel records a refund the PG made for a reserved cancel. A
// payment refunded in full becomes cancelled, and that status change is added
// to the webhook outbox in the same transaction (with ev's notice URL).
func (s *Store) CompleteCancel(ctx context.Context, c *billkey.Cancel, ev *billkey.Event) (_ *billkey.Payment, err error) {
	ctx, span := s.span(ctx, "CompleteCancel")
	defer endSpan(span, &err)
	var p *billkey.Payment
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE payment_cancels SET state = $1, pg_tid = $2, receipt_url = $3, cancelled_at = $4
			WHERE id = $5 AND state IN ('pending', 'uncertain')`, cancelDone, c.PGTID, c.ReceiptURL, unix(c.CancelledAt), c.ID)
		if err != nil {
			return fmt.Errorf("sqlstore: complete cancel: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlstore: complete cancel %d: %w", c.ID, err)
		} else if n == 0 {
			var state string
			if err := tx.QueryRowContext(ctx, `SELECT state FROM payment_cancels WHERE id = $1`, c.ID).Scan(&state); err != nil {
				return fmt.Errorf("sqlstore: complete cancel %d: %w", c.ID, err)
			}
			if state == cancelFailed {
				return fmt.Errorf("sqlstore: complete cancel %d: %w", c.ID, billkey.ErrCancelReleased)
			}
			// Already recorded (done) by another caller: return the payment.
			ps, err := s.queryPayments(ctx, tx, `SELECT `+paymentColumns+` FROM payments WHERE id = $1`, c.PaymentID)
			if err != nil {
				return err
			}
			p = ps[0]
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payments SET cancel_amount = cancel_amount + $1, cancel_pending = cancel_pending - $1,
				cancelled_at = $2, cancel_reason = $3, updated_at = $4,
				status = CASE WHEN cancel_amount + $1 >= amount THEN 'cancelled' ELSE status END
			WHERE id = $5`, c.Amount, unix(c.CancelledAt), c.Reason, unix(s.Now()), c.PaymentID); err != nil {
			return fmt.Errorf("sqlstore: complete cancel: %w", err)
		}
		ps, err := s.queryPayments(ctx, tx, `SELECT `+paymentColumns+` FROM payments WHERE id = $1`, c.PaymentID)
		if err != nil {
			return err
		}
		p = ps[0]
		if p.Status == billkey.StatusCancelled && ev != nil {
			ev.MerchantID, ev.ImpUID, ev.MerchantUID, ev.Status = p.MerchantID, p.ImpUID, p.MerchantUID, p.Status
			return s.insertEvent(ctx, tx, ev, s.Now())
		}
		return nil
	})
	return p, err
}

// FailCancel releases the reservation of a refund the PG refused.
func (s *Store) FailCancel(ctx context.Context, c *billkey.Cancel) (err error) {
	ctx, span := s.span(ctx, "FailCancel")
	defer endSpan(span, &err)
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE payment_cancels SET state = $1 WHERE id = $2 AND state IN ('pending', 'uncertain')`, cancelFailed, c.ID)
		if err != nil {
			return fmt.Errorf("sqlstore: fail cancel: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payments SET cancel_pending = cancel_pending - $1 WHERE id = $2`, c.Amount, c.PaymentID); err != nil {
			return fmt.Errorf("sqlstore: fail cancel: %w", err)
		}
		return nil
	})
}

// MarkCancelUncertain keeps the reservation of a refund whose PG outcome is
// unknown, so nothing can be refunded twice until it is resolved.
func (s *Store) MarkCancelUncertain(ctx context.Context, c *billkey.Cancel) (err error) {
	ctx, span := s.span(ctx, "MarkCancelUncertain")
	defer endSpan(span, &err)
	_, err = s.DB.ExecContext(ctx, `UPDATE payment_cancels SET state = $1 WHERE id = $2 AND state = 'pending'`, cancelUncertain, c.ID)
	if err != nil {
		return fmt.Errorf("sqlstore: mark cancel uncertain: %w", err)
	}
	return nil
}

// cancels returns the completed refunds of a payment, oldest first.
func (s *Store) cancels(ctx context.Context, q queryer, paymentID int64) ([]billkey.Cancel, error) {
	return queryAll(ctx, q, "cancels", func(r rowScanner) (billkey.Cancel, error) {
		var c billkey.Cancel
		err := r.Scan(&c.ID, &c.PaymentID, &c.PGTID, &c.Amount, &c.TaxFree, optional[int64]{&c.VatAmount}, &c.Reason, &c.ReceiptURL,
			(*unixTime)(&c.CancelledAt))
		return c, err
	}, `SELECT id, payment_id, pg_tid, amount, tax_free, vat_amount, reason, receipt_url, cancelled_at
		FROM payment_cancels WHERE payment_id = $1 AND state = 'done' ORDER BY id`, paymentID)
}

const insertEventSQL = `INSERT INTO events (merchant_id, imp_uid, merchant_uid, status, notice_url, created_at)
	VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`

// insertEvents adds a status change to the webhook outbox: one event per
// URL when ev.NoticeURL holds several (ev.ID is the first one's).
func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, ev *billkey.Event, now time.Time) error {
	if !strings.Contains(ev.NoticeURL, billkey.NoticeURLSep) {
		return s.insertEvent(ctx, tx, ev, now)
	}
	for i, u := range strings.Split(ev.NoticeURL, billkey.NoticeURLSep) {
		one := *ev
		one.NoticeURL = u
		if err := s.insertEvent(ctx, tx, &one, now); err != nil {
			return err
		}
		if i == 0 {
			ev.ID, ev.CreatedAt = one.ID, one.CreatedAt
		}
	}
	return nil
}

// insertEvent adds a status change to the webhook outbox.
func (s *Store) insertEvent(ctx context.Context, tx *sql.Tx, ev *billkey.Event, now time.Time) error {
	ev.CreatedAt = now
	st, err := s.txStmt(ctx, tx, insertEventSQL)
	if err != nil {
		return err
	}
	err = st.QueryRowContext(ctx,
		ev.MerchantID, ev.ImpUID, ev.MerchantUID, string(ev.Status), ev.NoticeURL, unix(now)).Scan(&ev.ID)
	if err != nil {
		return fmt.Errorf("sqlstore: insert event: %w", err)
	}
	return nil
}

// Events returns the merchant's outbox events after the id, oldest first.
func (s *Store) Events(ctx context.Context, merchantID, afterID int64, limit int) ([]*billkey.Event, error) {
	return queryAll(ctx, s.DB, "events", func(r rowScanner) (*billkey.Event, error) {
		var e billkey.Event
		err := r.Scan(&e.ID, &e.MerchantID, &e.ImpUID, &e.MerchantUID, (*string)(&e.Status), &e.NoticeURL, (*unixTime)(&e.CreatedAt))
		return &e, err
	}, `SELECT id, merchant_id, imp_uid, merchant_uid, status, notice_url, created_at
		FROM events WHERE merchant_id = $1 AND id > $2 ORDER BY id LIMIT $3`, merchantID, afterID, limit)
}

// MarkStaleCancelsUncertain turns refunds still pending since before
// `before` (a node died between reserving and recording them, or recording
// failed) into refunds of unknown outcome, for the reconciler.
func (s *Store) MarkStaleCancelsUncertain(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.DB.ExecContext(ctx, `UPDATE payment_cancels SET state = $1 WHERE state = $2 AND created_at < $3`,
		cancelUncertain, cancelPending, unix(before))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: stale cancels: %w", err)
	}
	return res.RowsAffected()
}

// UncertainFullRefunds returns refunds of a whole payment whose PG outcome is
// unknown and that were asked before `before`, oldest first. Retrying such a
// refund is safe (INICIS answers a repeated full refund with 기 취소 거래);
// retrying a partial one is not, so those stay reserved for an operator.
func (s *Store) UncertainFullRefunds(ctx context.Context, before time.Time, limit int) ([]*billkey.Cancel, error) {
	return queryAll(ctx, s.DB, "uncertain refunds", func(r rowScanner) (*billkey.Cancel, error) {
		c := &billkey.Cancel{}
		return c, r.Scan(&c.ID, &c.PaymentID, &c.Amount, &c.TaxFree, optional[int64]{&c.VatAmount}, &c.Reason)
	}, `SELECT c.id, c.payment_id, c.amount, c.tax_free, c.vat_amount, c.reason
		FROM payment_cancels c JOIN payments p ON p.id = c.payment_id
		WHERE c.state = 'uncertain' AND c.created_at < $1 AND p.cancel_amount = 0 AND c.amount = p.amount
		ORDER BY c.id LIMIT $2`, unix(before), limit)
}

// PaymentByID returns a payment by its internal id, whatever its merchant
// (for background workers).
func (s *Store) PaymentByID(ctx context.Context, id int64) (*billkey.Payment, error) {
	ps, err := s.queryPayments(ctx, s.DB, `SELECT `+paymentColumns+` FROM payments WHERE id = $1`, id)
	return first(ps, err, paymentNotFound)
}
