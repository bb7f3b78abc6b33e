package billkey

import (
	"context"
	"errors"
	"net/url"
)

// WindowPG is the PG side of the payment window (IMP.request_pay with a
// customer_uid): it builds the browser form that opens the PG's
// card-registration window, and redeems the PG's return post server to
// server. The browser only ever carries what the PG hands it for the
// redemption (KG INICIS: an authToken whose approval reply is signed with
// the channel's key); the billing key itself comes from the PG's
// server-to-server answer, never from the browser.
//
// Errors follow PG's rules: the PG's or buyer's refusal (including the buyer
// cancelling) is an *Error EPG whose chain carries the PG's result code (see
// PGResultCode); a post that is malformed or does not belong to the attempt
// is EINVALID or EREJECTED; an unknown outcome is EUNCERTAIN.
type WindowPG interface {
	// CheckWindow reports whether the channel can open a window at all
	// (e.g. it has the key the window is signed with): an *Error EREJECTED
	// with a message for the buyer otherwise. Nothing is sent.
	CheckWindow(ch PGChannel) error
	// WindowForm builds the form a browser submits to open the PG's
	// window for one attempt. Nothing is sent.
	WindowForm(ch PGChannel, req WindowFormRequest) (*WindowForm, error)
	// ApproveWindow verifies the PG's return post for the attempt whose
	// order id is orderID and redeems it server to server for the billing
	// key. When it cannot verify an approval the PG may have made, it voids
	// that approval itself before returning.
	ApproveWindow(ctx context.Context, ch PGChannel, orderID string, post url.Values) (*BillingKey, error)
	// CancelWindow voids an approval ApproveWindow returned that billkey
	// could not keep (e.g. the key could not be stored): INICIS's net
	// cancel.
	CancelWindow(ctx context.Context, ch PGChannel, post url.Values) error
	// WindowClosedCode is the result code recorded when the buyer closes
	// the window before the PG returned (KG INICIS: V801).
	WindowClosedCode() string
}

// WindowFormRequest describes one payment window attempt to the PG.
type WindowFormRequest struct {
	OrderID   string // the attempt's order id at the PG (billkey uses the imp_uid)
	Amount    int64  // shown to the buyer only; nothing is approved
	GoodName  string
	Buyer     Buyer
	ReturnURL string // where the PG posts the buyer's result
	CloseURL  string // loaded when the buyer closes the window
	Language  string // "ko" or "en"
}

// WindowForm is what a browser needs to open a PG's window: load ScriptURL
// and submit Fields (to Action where the PG has a direct target). Sources
// are the origins the opening page's Content-Security-Policy must allow.
type WindowForm struct {
	ScriptURL string
	Action    string
	Fields    url.Values
	Sources   PageSources
}

// PageSources are the origins a page that opens a PG's window must allow,
// per Content-Security-Policy directive. The page adds its own nonce to
// Script and Style and 'self' to Frame.
type PageSources struct {
	Script []string // the PG's script and the scripts it loads
	Style  []string // stylesheets it links
	Img    []string // images of its overlay
	Frame  []string // frames it opens
	Form   []string // where the form is posted
}

// PGResultCoder is implemented by a PG's errors that carry the PG's own
// result code (e.g. a card refusal's code).
type PGResultCoder interface {
	PGResultCode() string
}

// PGResultCode returns the PG's result code carried in err's chain, or "".
func PGResultCode(err error) string {
	var c PGResultCoder
	if errors.As(err, &c) {
		return c.PGResultCode()
	}
	return ""
}
