package billkey

import (
	"errors"
	"time"
)

// PaymentStatus is the i'mport payment status.
type PaymentStatus string

// Payment statuses.
const (
	StatusReady     PaymentStatus = "ready"
	StatusPaid      PaymentStatus = "paid"
	StatusFailed    PaymentStatus = "failed"
	StatusCancelled PaymentStatus = "cancelled"
)

// Valid reports whether s is one of the four statuses.
func (s PaymentStatus) Valid() bool {
	switch s {
	case StatusReady, StatusPaid, StatusFailed, StatusCancelled:
		return true
	}
	return false
}

// Values of Payment.CustomerUIDUsage.
const (
	UsageIssue     = "issue"             // billing-key issuance
	UsagePayment   = "payment"           // charged by key (again / onetime)
	UsageScheduled = "payment.scheduled" // charged by a schedule
)

// Values of Payment.Channel.
const (
	ChannelAPI    = "api"
	ChannelPC     = "pc"
	ChannelMobile = "mobile"
)

// Buyer holds the buyer_* fields of a payment.
type Buyer struct {
	Name     string
	Email    string
	Tel      string
	Addr     string
	Postcode string
}

// Payment is one payment attempt, identified by ImpUID. At most one payment
// that is not failed exists per (merchant, MerchantUID).
type Payment struct {
	ID          int64
	MerchantID  int64
	ChannelID   int64
	ImpUID      string
	MerchantUID string

	PayMethod  string // "card"
	Channel    string // ChannelAPI, ChannelPC or ChannelMobile
	PGProvider string
	PGID       string // MID
	PGTID      string
	ApplyNum   string

	CardCode   string // KFTC 3-digit code
	CardName   string
	CardNumber string // masked
	CardQuota  int

	Name         string
	Amount       int64
	CancelAmount int64
	TaxFree      int64
	VatAmount    *int64
	Currency     string
	Buyer        Buyer
	CustomData   *string
	UserAgent    string
	NoticeURL    string

	Status PaymentStatus
	// OutcomeUnknown is set while a PG call's outcome is unknown; the
	// reconciler clears it when it learns the answer.
	OutcomeUnknown bool
	// ReconcileAfter is when the reconciler may next ask the PG.
	ReconcileAfter time.Time
	// ReconcileAttempts counts inquiries made so far.
	ReconcileAttempts int

	StartedAt   time.Time
	PaidAt      time.Time
	FailedAt    time.Time
	CancelledAt time.Time
	UpdatedAt   time.Time

	FailReason   string
	CancelReason string
	ReceiptURL   string

	CustomerUID      string
	CustomerUIDUsage string

	Cancels []Cancel
}

// Cancellable returns how much of the payment can still be refunded.
func (p *Payment) Cancellable() int64 { return p.Amount - p.CancelAmount }

// Cancel is one (full or partial) refund of a payment.
type Cancel struct {
	ID          int64
	PaymentID   int64
	PGTID       string
	Amount      int64
	TaxFree     int64
	VatAmount   *int64
	Reason      string
	ReceiptURL  string
	CancelledAt time.Time
}

// PaymentFilter selects payments of one merchant for paged lookups.
type PaymentFilter struct {
	MerchantID  int64
	Status      PaymentStatus // "" means all
	CustomerUID string        // "" means any
	MerchantUID string        // "" means any
	From, To    time.Time     // zero means unbounded
	Sorting     string        // -started (default), started, -paid, paid, -updated, updated
	Offset      int
	Limit       int
}

// Event is a webhook-worthy status change, written in the same transaction as
// the change itself and delivered later by the webhook worker.
// NoticeURLSep separates several notice URLs in Payment.NoticeURL and
// Event.NoticeURL. A valid URL never contains it.
const NoticeURLSep = "\n"

type Event struct {
	ID          int64
	MerchantID  int64
	ImpUID      string
	MerchantUID string
	Status      PaymentStatus
	// NoticeURL is where the event goes; empty: the merchant's configured
	// URL. Several URLs separated by NoticeURLSep (a window's notice_url
	// array) each get their own event, delivered and signed separately.
	NoticeURL string
	CreatedAt time.Time
}

// ErrImpUIDTaken is returned by CreatePayment when the generated imp_uid
// already exists; the caller draws another and retries.
var ErrImpUIDTaken = errors.New("billkey: imp_uid already taken")

// DuplicateOrderMessage is i'mport's message for a merchant_uid that already
// has a payment.
const DuplicateOrderMessage = "이미 주문이 이루어진 건입니다. (동일한 merchant_uid로 결제 또는 취소된 기록이 있습니다)"

// PaymentSearch is the admin console's payment search. Every condition is
// an exact match served by an index (migration 00012); zero values mean
// "any".
type PaymentSearch struct {
	MerchantID  int64
	ImpUID      string
	MerchantUID string
	CustomerUID string
	Buyer       string // buyer name, email or phone, exactly
	Status      PaymentStatus
	Channel     string // api, pc or mobile
	Mode        string // "test" or "live": payments of the merchant's test or live channels
	From, To    time.Time
	Offset      int
	Limit       int
}

// CancelRecord is one refund of a payment in any state (pending, done,
// failed, uncertain), for the payment's timeline.
type CancelRecord struct {
	Cancel
	State     string
	CreatedAt time.Time
}
