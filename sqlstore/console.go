package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/billkey/billkey"
)

// modeCondition is the condition "payment of one of the merchant's live
// (or test) channels", resolved to channel ids: none when every channel of
// the merchant has that mode (the common case), so the condition never
// forces a read of every matching row.
func (s *Store) modeCondition(ctx context.Context, merchantID int64, live bool) (string, error) {
	chs, err := s.Channels(ctx, merchantID)
	if err != nil {
		return "", err
	}
	var ids []string
	for _, ch := range chs {
		if ch.Live == live {
			ids = append(ids, fmt.Sprint(ch.ID))
		}
	}
	switch len(ids) {
	case len(chs):
		return "1 = 1", nil
	case 0:
		return "1 = 0", nil
	}
	return "channel_id IN (" + strings.Join(ids, ", ") + ")", nil
}

// searchFilter builds the search's condition and arguments.
func (s *Store) searchFilter(ctx context.Context, f billkey.PaymentSearch) (*filter, error) {
	w := where("merchant_id = ?", f.MerchantID)
	if f.ImpUID != "" {
		w.add("imp_uid = ?", f.ImpUID)
	}
	if f.MerchantUID != "" {
		w.add("merchant_uid = ?", f.MerchantUID)
	}
	if f.CustomerUID != "" {
		w.add("customer_uid = ?", f.CustomerUID)
	}
	if f.Buyer != "" {
		// A union of three index lookups: planners without statistics
		// would otherwise scan all the merchant's payments for the OR.
		w.add(`id IN (SELECT id FROM payments WHERE merchant_id = $1 AND buyer_name = ?
			UNION ALL SELECT id FROM payments WHERE merchant_id = $1 AND buyer_email = ?
			UNION ALL SELECT id FROM payments WHERE merchant_id = $1 AND buyer_tel = ?)`, f.Buyer)
	}
	if f.Status != "" {
		w.add("status = ?", string(f.Status))
	}
	if f.Channel != "" {
		w.add("channel = ?", f.Channel)
	}
	if f.Mode != "" {
		cond, err := s.modeCondition(ctx, f.MerchantID, f.Mode == "live")
		if err != nil {
			return nil, err
		}
		w.raw(cond)
	}
	if !f.From.IsZero() {
		w.add("started_at >= ?", unix(f.From))
	}
	if !f.To.IsZero() {
		w.add("started_at < ?", unix(f.To))
	}
	return w, nil
}

// SearchPayments returns one page of the merchant's payments matching f,
// newest first, and how many match.
func (s *Store) SearchPayments(ctx context.Context, f billkey.PaymentSearch) ([]*billkey.Payment, int, error) {
	w, err := s.searchFilter(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	total, err := w.count(ctx, s.read, "payments")
	if err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	query, args := w.page(paymentColumns, "payments", "started_at DESC, id DESC", f.Limit, f.Offset)
	ps, err := queryAll(ctx, s.read, "payments", scanPayment, query, args...)
	if err != nil {
		return nil, 0, err
	}
	return ps, total, nil
}

// EachPayment calls fn for every payment matching f (Offset and Limit
// ignored), newest first, reading in pages by keyset so an export of any
// size uses bounded memory.
func (s *Store) EachPayment(ctx context.Context, f billkey.PaymentSearch, fn func(*billkey.Payment) error) error {
	search, err := s.searchFilter(ctx, f)
	if err != nil {
		return err
	}
	const page = 1000
	afterStarted, afterID := int64(1<<62), int64(1<<62)
	for {
		w := search.clone()
		started := w.arg(afterStarted)
		w.raw("(started_at < " + started + " OR started_at = " + started + " AND id < " + w.arg(afterID) + ")")
		ps, err := queryAll(ctx, s.read, "payments", scanPayment, `SELECT `+paymentColumns+` FROM payments WHERE `+w.String()+`
			ORDER BY started_at DESC, id DESC LIMIT `+w.arg(page), w.args...)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if err := fn(p); err != nil {
				return err
			}
		}
		if len(ps) < page {
			return nil
		}
		last := ps[len(ps)-1]
		afterStarted, afterID = unix(last.StartedAt), last.ID
	}
}

// PaymentCancelRecords returns every refund attempt of a payment, oldest
// first.
func (s *Store) PaymentCancelRecords(ctx context.Context, paymentID int64) ([]billkey.CancelRecord, error) {
	return queryAll(ctx, s.DB, "cancels", func(r rowScanner) (billkey.CancelRecord, error) {
		var c billkey.CancelRecord
		err := r.Scan(&c.ID, &c.PaymentID, &c.State, &c.PGTID, &c.Amount, &c.TaxFree, optional[int64]{&c.VatAmount}, &c.Reason,
			&c.ReceiptURL, (*unixTime)(&c.CreatedAt), (*unixTime)(&c.CancelledAt))
		return c, err
	}, `SELECT id, payment_id, state, pg_tid, amount, tax_free, vat_amount, reason, receipt_url, created_at, cancelled_at
		FROM payment_cancels WHERE payment_id = $1 ORDER BY id`, paymentID)
}

// DeliveriesOfPayment returns the webhook deliveries of a payment with their
// attempts, oldest first.
func (s *Store) DeliveriesOfPayment(ctx context.Context, merchantID int64, impUID string) ([]*billkey.WebhookDelivery, error) {
	return s.deliveriesWithAttempts(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE merchant_id = $1 AND imp_uid = $2 ORDER BY id`, merchantID, impUID)
}

// ListCustomers returns one page of the merchant's billing keys (newest
// first, optionally one customer_uid) and how many there are.
func (s *Store) ListCustomers(ctx context.Context, merchantID int64, customerUID string, offset, limit int) ([]*billkey.CustomerSummary, int, error) {
	w := where("c.merchant_id = ?", merchantID)
	if customerUID != "" {
		w.add("c.customer_uid = ?", customerUID)
	}
	total, err := w.count(ctx, s.DB, "customers c")
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 {
		limit = 50
	}
	query, args := w.page(`c.id, c.merchant_id, c.channel_id, c.customer_uid, c.pg_provider, c.pg_id, c.card_code,
			c.card_name, c.card_number, c.card_type, c.name, c.tel, c.email, c.inserted, c.updated,
			COALESCE((SELECT p.channel FROM payments p WHERE p.merchant_id = c.merchant_id AND p.customer_uid = c.customer_uid
				AND p.customer_uid_usage = 'issue' AND p.status = 'paid' ORDER BY p.id DESC LIMIT 1), ''),
			(SELECT COUNT(*) FROM payments p WHERE p.merchant_id = c.merchant_id AND p.customer_uid = c.customer_uid
				AND p.customer_uid_usage <> 'issue')`, "customers c", "c.updated DESC, c.id DESC", limit, offset)
	out, err := queryAll(ctx, s.DB, "customers", func(r rowScanner) (*billkey.CustomerSummary, error) {
		var c billkey.CustomerSummary
		var cardType sql.NullInt64
		var inserted, updated int64
		err := r.Scan(&c.ID, &c.MerchantID, &c.ChannelID, &c.CustomerUID, &c.PGProvider, &c.PGID, &c.CardCode,
			&c.CardName, &c.CardNumber, &cardType, &c.Name, &c.Tel, &c.Email, &inserted, &updated, &c.IssuedBy, &c.Payments)
		if cardType.Valid {
			v := int(cardType.Int64)
			c.CardType = &v
		}
		c.Inserted, c.Updated = fromUnix(inserted), fromUnix(updated)
		if c.IssuedBy == "" {
			c.IssuedBy = billkey.ChannelAPI
		}
		return &c, err
	}, query, args...)
	return out, total, err
}

// Dashboard computes a merchant's figures. Issuance records (amount 0) are
// left out of approvals.
func (s *Store) Dashboard(ctx context.Context, q billkey.DashboardQuery) (*billkey.Dashboard, error) {
	if q.Loc == nil {
		q.Loc = time.UTC
	}
	_, off := q.From.In(q.Loc).Zone()
	from, to := unix(q.From), unix(q.To)
	mode, err := s.modeCondition(ctx, q.MerchantID, q.Live)
	if err != nil {
		return nil, err
	}
	pmode := strings.ReplaceAll(mode, "channel_id", "p.channel_id")
	d := &billkey.Dashboard{Webhooks: map[billkey.DeliveryState]int{}}
	byDay := map[int64]*billkey.DailyFigure{}
	rows, err := s.read.QueryContext(ctx, `SELECT (paid_at + $4) / 86400, COUNT(*), COALESCE(SUM(amount), 0) FROM payments
		WHERE merchant_id = $1 AND `+mode+` AND paid_at >= $2 AND paid_at < $3 AND customer_uid_usage <> 'issue'
		GROUP BY (paid_at + $4) / 86400`, q.MerchantID, from, to, off)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: dashboard approvals: %w", err)
	}
	for rows.Next() {
		var day int64
		f := &billkey.DailyFigure{}
		if err := rows.Scan(&day, &f.Count, &f.Amount); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlstore: dashboard approvals: %w", err)
		}
		byDay[day] = f
		d.ApprovedCount += f.Count
		d.ApprovedAmount += f.Amount
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: dashboard approvals: %w", err)
	}
	for t := q.From.In(q.Loc); t.Before(q.To); t = t.AddDate(0, 0, 1) {
		_, o := t.Zone()
		day := (t.Unix() + int64(o)) / 86400
		f := billkey.DailyFigure{Day: t}
		if got := byDay[day]; got != nil {
			f.Count, f.Amount = got.Count, got.Amount
		}
		d.Daily = append(d.Daily, f)
	}
	d.DeclineReasons, err = queryAll(ctx, s.read, "decline reasons", scanned(func(x *billkey.Reason) []any { return []any{&x.Reason, &x.Count} }), `SELECT fail_reason, COUNT(*) FROM payments WHERE merchant_id = $1 AND `+mode+`
		AND failed_at >= $2 AND failed_at < $3 AND customer_uid_usage <> 'issue'
		GROUP BY fail_reason ORDER BY COUNT(*) DESC, fail_reason LIMIT 8`, q.MerchantID, from, to)
	if err != nil {
		return nil, err
	}
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM payments WHERE merchant_id = $1 AND `+mode+`
		AND failed_at >= $2 AND failed_at < $3 AND customer_uid_usage <> 'issue'`, q.MerchantID, from, to).Scan(&d.DeclinedCount); err != nil {
		return nil, fmt.Errorf("sqlstore: dashboard declines: %w", err)
	}
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(c.amount), 0) FROM payment_cancels c
		JOIN payments p ON p.id = c.payment_id
		WHERE c.state = 'done' AND c.cancelled_at >= $2 AND c.cancelled_at < $3 AND p.merchant_id = $1
		AND `+pmode+``,
		q.MerchantID, from, to).Scan(&d.RefundCount, &d.RefundAmount); err != nil {
		return nil, fmt.Errorf("sqlstore: dashboard refunds: %w", err)
	}
	if q.SchedulesLive == q.Live {
		now := unix(q.Now)
		if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM schedules
			WHERE merchant_id = $1 AND status = 'scheduled' AND schedule_at >= $2 AND schedule_at < $3`,
			q.MerchantID, now, now+30*86400).Scan(&d.UpcomingCount, &d.UpcomingAmount); err != nil {
			return nil, fmt.Errorf("sqlstore: dashboard schedules: %w", err)
		}
	}
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM payments WHERE merchant_id = $1 AND `+mode+`
		AND status = 'ready' AND outcome_unknown`, q.MerchantID).Scan(&d.UnknownPayments); err != nil {
		return nil, fmt.Errorf("sqlstore: dashboard unknown outcomes: %w", err)
	}
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM payment_cancels c JOIN payments p ON p.id = c.payment_id
		WHERE c.state IN ('pending', 'uncertain') AND p.merchant_id = $1
		AND `+pmode+``,
		q.MerchantID).Scan(&d.UncertainRefunds); err != nil {
		return nil, fmt.Errorf("sqlstore: dashboard uncertain refunds: %w", err)
	}
	if d.Webhooks, err = countBy[billkey.DeliveryState](ctx, s.read, "dashboard webhooks", `SELECT d.state, COUNT(*) FROM webhook_deliveries d
		JOIN payments p ON p.imp_uid = d.imp_uid
		WHERE d.merchant_id = $1 AND d.created_at >= $2 AND d.created_at < $3
		AND `+pmode+`
		GROUP BY d.state`, q.MerchantID, from, to); err != nil {
		return nil, err
	}
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_attempts a
		JOIN webhook_deliveries d ON d.id = a.delivery_id JOIN payments p ON p.imp_uid = d.imp_uid
		WHERE d.merchant_id = $1 AND a.attempted_ms >= $2 AND a.attempted_ms < $3 AND (a.status_code < 200 OR a.status_code > 299)
		AND `+pmode+``,
		q.MerchantID, from*1000, to*1000).Scan(&d.WebhookFailures); err != nil {
		return nil, fmt.Errorf("sqlstore: dashboard webhook failures: %w", err)
	}
	return d, nil
}

// SetMerchantSecretMAC replaces a merchant's REST API secret (stored only as
// its MAC) and revokes its access token, so the old secret and tokens
// issued under it stop working.
func (s *Store) SetMerchantSecretMAC(ctx context.Context, merchantID int64, mac []byte) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE merchants SET secret_mac = $1 WHERE id = $2`, mac, merchantID)
		if err != nil {
			return fmt.Errorf("sqlstore: set secret: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("merchant %d not found", merchantID)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_tokens WHERE merchant_id = $1`, merchantID); err != nil {
			return fmt.Errorf("sqlstore: revoke token: %w", err)
		}
		return nil
	})
}
