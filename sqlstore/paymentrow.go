package sqlstore

import (
	"strconv"
	"strings"

	"github.com/billkey/billkey"
)

// paymentField describes how one field of billkey.Payment is stored in the
// payments table.
type paymentField struct {
	column string
	// dest returns where a scan of the column stores it in p.
	dest func(p *billkey.Payment) any
	// value returns what CreatePayment and FinishPayment write for p.
	value func(p *billkey.Payment) any
	// on says which of them write the column: the other columns are set by
	// their own statements (id by the database, the refund columns by
	// CompleteCancel) or never change.
	on writtenBy
}

// writtenBy says which statements write a payment column.
type writtenBy uint8

const (
	onInsert writtenBy = 1 << iota // CreatePayment
	onFinish                       // FinishPayment
)

// paymentFields describes the payments table once: the SELECT list
// (paymentColumns), scanPayment's destinations and the column and argument
// lists of CreatePayment's INSERT and FinishPayment's UPDATE are all built
// from it, in its order. A new persisted field of billkey.Payment is one
// entry here plus a migration per dialect; TestPaymentFieldsDescribeTable
// fails until both exist.
var paymentFields = []paymentField{
	{"id", func(p *billkey.Payment) any { return &p.ID }, nil, 0},
	{"merchant_id", func(p *billkey.Payment) any { return &p.MerchantID }, func(p *billkey.Payment) any { return p.MerchantID }, onInsert},
	{"channel_id", func(p *billkey.Payment) any { return &p.ChannelID }, func(p *billkey.Payment) any { return p.ChannelID }, onInsert},
	{"imp_uid", func(p *billkey.Payment) any { return &p.ImpUID }, func(p *billkey.Payment) any { return p.ImpUID }, onInsert},
	{"merchant_uid", func(p *billkey.Payment) any { return &p.MerchantUID }, func(p *billkey.Payment) any { return p.MerchantUID }, onInsert},
	{"pay_method", func(p *billkey.Payment) any { return &p.PayMethod }, func(p *billkey.Payment) any { return p.PayMethod }, onInsert},
	{"channel", func(p *billkey.Payment) any { return &p.Channel }, func(p *billkey.Payment) any { return p.Channel }, onInsert},
	{"pg_provider", func(p *billkey.Payment) any { return &p.PGProvider }, func(p *billkey.Payment) any { return p.PGProvider }, onInsert},
	{"pg_id", func(p *billkey.Payment) any { return &p.PGID }, func(p *billkey.Payment) any { return p.PGID }, onInsert},
	{"pg_tid", func(p *billkey.Payment) any { return &p.PGTID }, func(p *billkey.Payment) any { return p.PGTID }, onFinish},
	{"apply_num", func(p *billkey.Payment) any { return &p.ApplyNum }, func(p *billkey.Payment) any { return p.ApplyNum }, onFinish},
	{"card_code", func(p *billkey.Payment) any { return &p.CardCode }, func(p *billkey.Payment) any { return p.CardCode }, onInsert | onFinish},
	{"card_name", func(p *billkey.Payment) any { return &p.CardName }, func(p *billkey.Payment) any { return p.CardName }, onInsert | onFinish},
	{"card_number", func(p *billkey.Payment) any { return &p.CardNumber }, func(p *billkey.Payment) any { return p.CardNumber }, onInsert | onFinish},
	{"card_quota", func(p *billkey.Payment) any { return &p.CardQuota }, func(p *billkey.Payment) any { return p.CardQuota }, onInsert | onFinish},
	{"name", func(p *billkey.Payment) any { return &p.Name }, func(p *billkey.Payment) any { return p.Name }, onInsert},
	{"amount", func(p *billkey.Payment) any { return &p.Amount }, func(p *billkey.Payment) any { return p.Amount }, onInsert},
	{"cancel_amount", func(p *billkey.Payment) any { return &p.CancelAmount }, nil, 0},
	{"tax_free", func(p *billkey.Payment) any { return &p.TaxFree }, func(p *billkey.Payment) any { return p.TaxFree }, onInsert},
	{"vat_amount", func(p *billkey.Payment) any { return optional[int64]{&p.VatAmount} }, func(p *billkey.Payment) any { return nullInt(p.VatAmount) }, onInsert},
	{"currency", func(p *billkey.Payment) any { return &p.Currency }, func(p *billkey.Payment) any { return p.Currency }, onInsert},
	{"buyer_name", func(p *billkey.Payment) any { return &p.Buyer.Name }, func(p *billkey.Payment) any { return p.Buyer.Name }, onInsert},
	{"buyer_email", func(p *billkey.Payment) any { return &p.Buyer.Email }, func(p *billkey.Payment) any { return p.Buyer.Email }, onInsert},
	{"buyer_tel", func(p *billkey.Payment) any { return &p.Buyer.Tel }, func(p *billkey.Payment) any { return p.Buyer.Tel }, onInsert},
	{"buyer_addr", func(p *billkey.Payment) any { return &p.Buyer.Addr }, func(p *billkey.Payment) any { return p.Buyer.Addr }, onInsert},
	{"buyer_postcode", func(p *billkey.Payment) any { return &p.Buyer.Postcode }, func(p *billkey.Payment) any { return p.Buyer.Postcode }, onInsert},
	{"custom_data", func(p *billkey.Payment) any { return optional[string]{&p.CustomData} }, func(p *billkey.Payment) any { return nullString(p.CustomData) }, onInsert},
	{"user_agent", func(p *billkey.Payment) any { return &p.UserAgent }, func(p *billkey.Payment) any { return p.UserAgent }, onInsert},
	{"notice_url", func(p *billkey.Payment) any { return &p.NoticeURL }, func(p *billkey.Payment) any { return p.NoticeURL }, onInsert},
	{"status", func(p *billkey.Payment) any { return (*string)(&p.Status) }, func(p *billkey.Payment) any { return string(p.Status) }, onInsert | onFinish},
	{"outcome_unknown", func(p *billkey.Payment) any { return &p.OutcomeUnknown }, func(p *billkey.Payment) any { return p.OutcomeUnknown }, onFinish},
	{"reconcile_after", func(p *billkey.Payment) any { return (*unixTime)(&p.ReconcileAfter) }, func(p *billkey.Payment) any { return unix(p.ReconcileAfter) }, onFinish},
	{"reconcile_attempts", func(p *billkey.Payment) any { return &p.ReconcileAttempts }, func(p *billkey.Payment) any { return p.ReconcileAttempts }, onFinish},
	{"started_at", func(p *billkey.Payment) any { return (*unixTime)(&p.StartedAt) }, func(p *billkey.Payment) any { return unix(p.StartedAt) }, onInsert},
	{"paid_at", func(p *billkey.Payment) any { return (*unixTime)(&p.PaidAt) }, func(p *billkey.Payment) any { return unix(p.PaidAt) }, onFinish},
	{"failed_at", func(p *billkey.Payment) any { return (*unixTime)(&p.FailedAt) }, func(p *billkey.Payment) any { return unix(p.FailedAt) }, onFinish},
	{"cancelled_at", func(p *billkey.Payment) any { return (*unixTime)(&p.CancelledAt) }, nil, 0},
	{"updated_at", func(p *billkey.Payment) any { return (*unixTime)(&p.UpdatedAt) }, func(p *billkey.Payment) any { return unix(p.UpdatedAt) }, onInsert | onFinish},
	{"fail_reason", func(p *billkey.Payment) any { return &p.FailReason }, func(p *billkey.Payment) any { return p.FailReason }, onFinish},
	{"cancel_reason", func(p *billkey.Payment) any { return &p.CancelReason }, nil, 0},
	{"receipt_url", func(p *billkey.Payment) any { return &p.ReceiptURL }, func(p *billkey.Payment) any { return p.ReceiptURL }, onFinish},
	{"customer_uid", func(p *billkey.Payment) any { return &p.CustomerUID }, func(p *billkey.Payment) any { return p.CustomerUID }, onInsert},
	{"customer_uid_usage", func(p *billkey.Payment) any { return &p.CustomerUIDUsage }, func(p *billkey.Payment) any { return p.CustomerUIDUsage }, onInsert},
}

// paymentColumnsNotLoaded are the payments columns that are no field of
// billkey.Payment, and why.
var paymentColumnsNotLoaded = map[string]string{
	"cancel_pending": "refunds reserved and not yet settled: ReserveCancel, CompleteCancel and FailCancel keep it, nothing reads it into a Payment",
}

// paymentFieldsNotStored are the fields of billkey.Payment that are no
// payments column, and where they come from.
var paymentFieldsNotStored = map[string]string{
	"Cancels": "the payment's settled rows of payment_cancels (queryPayments)",
}

// Statements and column lists built from paymentFields.
var (
	// paymentColumns is the SELECT list that scanPayment reads.
	paymentColumns = strings.Join(paymentColumnNames(0), ", ")
	// insertPaymentSQL inserts the onInsert fields and returns the id.
	insertPaymentSQL = func() string {
		cols := paymentColumnNames(onInsert)
		return `INSERT INTO payments (` + strings.Join(cols, ", ") + `) VALUES (` + placeholders(1, len(cols)) + `) RETURNING id`
	}()
	// finishPaymentSQL writes the onFinish fields of a payment that is
	// still ready; finishPaymentSQLPG also queues its event.
	finishPaymentSQL, finishPaymentSQLPG = finishPaymentStatements()
)

// paymentColumnNames returns the columns written on w, in paymentFields
// order (w = 0: every column).
func paymentColumnNames(w writtenBy) []string {
	var out []string
	for _, f := range paymentFields {
		if w == 0 || f.on&w != 0 {
			out = append(out, f.column)
		}
	}
	return out
}

// paymentValues returns p's values of the columns written on w, in the order
// of paymentColumnNames(w).
func paymentValues(p *billkey.Payment, w writtenBy, extra ...any) []any {
	out := make([]any, 0, len(paymentFields)+len(extra))
	for _, f := range paymentFields {
		if f.on&w != 0 {
			out = append(out, f.value(p))
		}
	}
	return append(out, extra...)
}

// finishPaymentStatements builds FinishPayment's UPDATE and the form that
// also queues the payment's event in the same statement (for databases with
// writing CTEs): the event is inserted only if the payment was still ready.
// finishPaymentArgs gives the arguments of both.
func finishPaymentStatements() (solo, withEvent string) {
	cols := paymentColumnNames(onFinish)
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = c + " = " + placeholder(i+1)
	}
	n := len(cols)
	solo = `UPDATE payments SET ` + strings.Join(set, ", ") + ` WHERE id = ` + placeholder(n+1) + ` AND status = 'ready'`
	withEvent = `WITH u AS (` + solo + ` RETURNING merchant_id, imp_uid, merchant_uid, status)
	INSERT INTO events (merchant_id, imp_uid, merchant_uid, status, notice_url, created_at)
	SELECT merchant_id, imp_uid, merchant_uid, status, ` + placeholder(n+2) + `, ` + placeholder(n+3) + ` FROM u
	RETURNING id`
	return solo, withEvent
}

// finishPaymentArgs returns the arguments of finishPaymentSQL (ev nil) or
// of finishPaymentSQLPG, numbered as finishPaymentStatements numbers them:
// the onFinish values, then the payment's id, then the event's notice URL
// and creation time.
func finishPaymentArgs(p *billkey.Payment, ev *billkey.Event) []any {
	if ev == nil {
		return paymentValues(p, onFinish, p.ID)
	}
	return paymentValues(p, onFinish, p.ID, ev.NoticeURL, unix(p.UpdatedAt))
}

// scanPayment reads one row of paymentColumns.
func scanPayment(row rowScanner) (*billkey.Payment, error) {
	var p billkey.Payment
	dest := make([]any, len(paymentFields))
	for i, f := range paymentFields {
		dest[i] = f.dest(&p)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	return &p, nil
}

// placeholder returns the n-th placeholder ($n).
func placeholder(n int) string { return "$" + strconv.Itoa(n) }

// placeholders returns count placeholders from the first-th on, joined by
// commas: "$1, $2, $3".
func placeholders(first, count int) string {
	ph := make([]string, count)
	for i := range ph {
		ph[i] = placeholder(first + i)
	}
	return strings.Join(ph, ", ")
}
