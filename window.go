package billkey

import "time"

// Payment-window attempt states. An attempt is created open; the first
// INICIS return post claims it (processing) and records the outcome (done or
// failed); a close, a newer attempt for the same merchant_uid or the expiry
// sweep fail an attempt that is still open. Only open → processing → done |
// failed and open → failed are possible, so a return post is processed at
// most once.
const (
	WindowOpen       = "open"
	WindowProcessing = "processing"
	WindowDone       = "done"
	WindowFailed     = "failed"
)

// WindowAttempt is one IMP.request_pay that reached billkey: the binding
// between the attempt token carried in INICIS's returnUrl and the merchant,
// channel, payment (imp_uid), INICIS order id and customer_uid it was opened
// for, plus where its result goes.
type WindowAttempt struct {
	ID         int64
	TokenHash  []byte // SHA-256 of the attempt token; the token itself is never stored
	MerchantID int64
	ChannelID  int64
	PaymentID  int64

	ImpUID      string
	MerchantUID string
	CustomerUID string
	CustomerID  string // IMP.request_pay's customer_id, stored with the key
	OrderID     string // the INICIS oid / orderid

	Kind         string // the device: "pc" or "mobile" (both open INIStdPay; attempts of older versions may be INILite)
	Delivery     string // "message" (postMessage to the opener) or "redirect" (m_redirect_url)
	OpenerOrigin string // the merchant page's origin, recorded when the window opened
	RedirectURL  string // m_redirect_url
	RequestID    string // the SDK's request_id, echoed in the rsp

	State  string
	Result []byte // the rsp delivered, JSON; never contains a billing key

	CreatedAt  time.Time
	ExpiresAt  time.Time
	FinishedAt time.Time

	// CardUpdateLinkID is the card-update link the window was opened from
	// (0: an ordinary IMP.request_pay).
	CardUpdateLinkID int64
}
