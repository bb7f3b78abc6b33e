package billkey

import (
	"context"
	"time"
)

// PG is a payment-gateway connector: the server-to-server operations billkey
// needs from a PG. The inicis package implements it for KG INICIS, against the
// real hosts in live mode and the built-in simulator in test mode.
//
// Errors: a refusal by the PG or the card company is an *Error with code EPG
// whose Message is "[pgcode] pg message"; a call whose outcome is unknown
// (timeout, reply lost after the request may have arrived) is an *Error with
// code EUNCERTAIN; anything else is wrapped as is.
type PG interface {
	// IssueBillingKey issues a billing key from card data (key-in issuance).
	IssueBillingKey(ctx context.Context, ch PGChannel, req IssueRequest) (*BillingKey, error)
	// Charge approves a payment on a billing key.
	Charge(ctx context.Context, ch PGChannel, req ChargeRequest) (*Approval, error)
	// Refund cancels all or part of an approval.
	Refund(ctx context.Context, ch PGChannel, req RefundRequest) (*RefundResult, error)
	// Inquire looks an approval up by order id, to reconcile an unknown outcome.
	Inquire(ctx context.Context, ch PGChannel, orderID string) (*Inquiry, error)
}

// PGChannel is what a connector needs to know about a merchant's channel.
type PGChannel struct {
	Provider    string
	MID         string
	Live        bool
	Credentials ChannelCredentials
}

// IssueRequest asks for a billing key from card data.
type IssueRequest struct {
	OrderID  string // unique per MID
	Card     Card
	Buyer    Buyer
	GoodName string
	ClientIP string
}

// BillingKey is what a PG returns when it issues a key. Key is the secret.
type BillingKey struct {
	Key        string
	CardCode   string // KFTC 3-digit code
	CardName   string
	CardNumber string // masked
	PGTID      string
	IssuedAt   time.Time
}

// String redacts the key.
func (b BillingKey) String() string { return "BillingKey{" + b.CardName + " " + b.CardNumber + "}" }

// ChargeRequest is one approval on a billing key.
type ChargeRequest struct {
	OrderID    string // unique per MID; billkey uses the payment's imp_uid
	BillingKey string
	Amount     int64
	TaxFree    int64
	VatAmount  *int64
	Currency   string
	GoodName   string
	Buyer      Buyer
	CardQuota  int
	ClientIP   string
}

// String redacts the key.
func (r ChargeRequest) String() string { return "ChargeRequest{" + r.OrderID + "}" }

// Approval is a PG's approval of a charge.
type Approval struct {
	TID        string
	ApplyNum   string // card approval number
	Amount     int64
	CardCode   string // KFTC 3-digit code
	CardName   string
	CardNumber string // masked
	CardQuota  int
	ReceiptURL string
	PaidAt     time.Time
}

// RefundRequest cancels all or part of an approval.
type RefundRequest struct {
	TID     string
	OrderID string
	// Amount is the amount to refund now.
	Amount int64
	// Remaining is what stays approved after this refund (INICIS's
	// confirmPrice); 0 with Partial=false means a full refund.
	Remaining int64
	Partial   bool
	TaxFree   int64
	VatAmount *int64
	Reason    string
	ClientIP  string
}

// RefundResult is a PG's answer to a refund.
type RefundResult struct {
	TID         string // the cancel's own tid where the PG gives one
	CancelledAt time.Time
	ReceiptURL  string
	// AlreadyDone is set when the PG says the refund had been made before
	// (a retried refund), which billkey treats as success.
	AlreadyDone bool
}

// InquiryState is the PG-side state of an order.
type InquiryState string

// Inquiry states.
const (
	InquiryApproved  InquiryState = "approved"
	InquiryCancelled InquiryState = "cancelled"
	InquiryDeclined  InquiryState = "declined"
	InquiryNotFound  InquiryState = "not_found"
	// InquiryNoApproval is a well-formed answer that reports no approval
	// state for the order: the PG refused the inquiry with a result code
	// that is not a recognised "no such order" code. KG INICIS does not
	// publish its not-found code, so this is what a live inquiry for an order
	// that never arrived most likely returns. The reconciler counts it as
	// not found only long after any call for the order could have ended
	// (Service.NoApprovalGrace), never sooner.
	InquiryNoApproval InquiryState = "no_approval"
)

// Inquiry is the answer to PG.Inquire.
type Inquiry struct {
	State    InquiryState
	Approval *Approval // set when State is approved or cancelled
	Reason   string    // PG's "[code] message" for declined and no_approval
}
