package gateway

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/window/sdk"
)

// The payment window (window issuance), one file per flow: IMP.request_pay
// reaches OpenWindow (window_open.go), which records an attempt and returns
// the PG's window form; the PG's return post reaches CompleteWindow
// (window_complete.go), which has the channel's provider redeem it server to
// server (billkey.WindowPG), stores the key and returns the rsp for the SDK;
// ExpireWindows (window_sweep.go) settles abandoned attempts. Nothing here
// ever returns or logs a billing key. What is PG-specific (KG INICIS's
// INIStdPay form, its signed approval, its net cancel) lives in the
// provider's package behind billkey.WindowPG.

// Window kinds (which window) and deliveries (how the rsp reaches the
// merchant page).
const (
	// WindowPC is the PG's PC window (KG INICIS: INIStdPay, acceptmethod
	// BILLAUTH(Card)).
	WindowPC = billkey.ChannelPC
	// WindowMobile is a phone: the same billing window (the page itself
	// goes there in redirect mode), when the channel allows it.
	WindowMobile = billkey.ChannelMobile
	// DeliverMessage posts the rsp to the opener page (window.parent) with
	// postMessage, pinned to the opener's origin.
	DeliverMessage = "message"
	// DeliverRedirect sends the buyer's browser to m_redirect_url with
	// imp_uid, merchant_uid and imp_success in the query.
	DeliverRedirect = "redirect"
)

// maxNoticeURLs bounds a window's notice_url array.
const maxNoticeURLs = 5

// DefaultWindowTTL is how long a payment window may stay open.
const DefaultWindowTTL = 30 * time.Minute

// windowStaleGrace is how long past its expiry an attempt may stay in
// processing (a node stopped while handling the return post) before the
// sweep fails it.
const windowStaleGrace = 5 * time.Minute

// Error codes of window failures billkey decides itself (the PG's own
// result code is used whenever the PG decided). F400 and F500 are the codes
// i'mport's SDK uses for a refused request and a server-side failure; the
// WINDOW_ codes are billkey's own. Every failed rsp carries a code, so pages
// that test rsp.error_code != null (PortOne's guide) see every failure.
const (
	// ErrCodeBadRequest: the request was refused before a window opened
	// (bad or missing parameter, unknown merchant, reused merchant_uid).
	ErrCodeBadRequest = "F400"
	// ErrCodeServer: billkey could not finish (internal error, the key
	// could not be stored, processing interrupted).
	ErrCodeServer = "F500"
	// ErrCodeExpired: the attempt was not finished within its lifetime.
	ErrCodeExpired = "WINDOW_EXPIRED"
	// ErrCodeSuperseded: the window was reopened for the same merchant_uid.
	ErrCodeSuperseded = "WINDOW_SUPERSEDED"
)

// Messages of window outcomes billkey itself decides.
const (
	msgUserCancel        = "사용자가 결제를 취소하였습니다."
	msgWindowInterrupted = "결제창 처리 중 중단되었습니다. 다시 시도해주세요. (interrupted)"
	msgWindowSuperseded  = "같은 주문번호(merchant_uid)로 결제창이 다시 열려 이전 결제창은 취소되었습니다."
	msgWindowBusy        = "이미 처리 중인 결제창 요청입니다."
	msgWindowNotFound    = "결제창 요청 정보를 찾을 수 없습니다. 결제를 처음부터 다시 시도해주세요."
)

// WindowParams are the IMP.request_pay parameters billkey uses, already
// decoded. Everything else the SDK sends is ignored.
type WindowParams struct {
	PG           string
	ChannelKey   string // PortOne's channelKey: picks a channel before pg does
	PayMethod    string // "card" (the default)
	MerchantUID  string // default "nobody_<ms>"
	Name         string
	Amount       int64 // shown in the window only; nothing is approved
	Currency     string
	CustomerUID  string // required: the window only issues billing keys
	CustomerID   string // the merchant's own buyer id, stored with the key
	Buyer        billkey.Buyer
	MRedirectURL string
	// NoticeURLs are the window's notice_url (a string or an array in the
	// SDK): each must name a host the merchant allowed; each gets the
	// issuance's webhook event.
	NoticeURLs []string
	CustomData *string // JSON text (a string value is kept as is)
	RequestID  string
	Language   string // "ko" (default) or "en"
	// CardUpdate is a card-update link's token (billkey_card_update), sent
	// by the link's page: the window is bound to it (cardupdate.go).
	CardUpdate string
}

// WindowRequest asks OpenWindow for a payment window.
type WindowRequest struct {
	ImpCode      string // IMP.init's merchant identification code
	Params       WindowParams
	Kind         string // WindowPC or WindowMobile
	Delivery     string // DeliverMessage or DeliverRedirect
	OpenerOrigin string // origin of the merchant page (required for DeliverMessage)
	UserAgent    string
	// URLs returns the PG's return and close URLs for an attempt token.
	URLs func(token string) (returnURL, closeURL string)
}

// WindowForm is the PG's form a browser must submit to open the window
// (for KG INICIS: load ScriptURL and call INIStdPay.pay(formId); Action is
// the direct target where one exists, i.e. the simulator). Kind is the
// window protocol (always WindowPC, whatever the device). Sources are the
// origins the opening page's Content-Security-Policy must allow.
type WindowForm struct {
	Kind      string
	ScriptURL string
	Action    string
	Fields    url.Values
	Sources   billkey.PageSources
}

// OpenedWindow is a new attempt and the form that opens its PG window.
type OpenedWindow struct {
	Attempt  *billkey.WindowAttempt
	Form     *WindowForm
	CloseURL string // the attempt's close URL (the PG's close URL; the SDK's close button)
}

// WindowResult is the outcome of a window attempt, to deliver as its
// Delivery says. Replayed is set when the attempt had been finished before
// (a replayed or reloaded return post): nothing was processed again.
type WindowResult struct {
	Attempt  *billkey.WindowAttempt
	Rsp      *sdk.Rsp
	Replayed bool
}

// windowOutcome is what an attempt's Result column holds: the rsp as the
// SDK receives it (replays return it unchanged) and what the expiry sweep
// needs to record the payment if that failed the first time.
type windowOutcome struct {
	Rsp      *sdk.Rsp `json:"rsp"`
	CardCode string   `json:"card_code,omitempty"`
}

// NewWindowToken returns a fresh attempt token: 32 random bytes, base64url
// without padding (43 characters).
func NewWindowToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// WindowTokenHash checks that tok has the shape of an attempt token and
// returns the hash it is stored under. Anything else (wrong length, other
// characters, non-canonical encoding) is refused before any lookup.
func WindowTokenHash(tok string) ([]byte, bool) {
	if len(tok) != 43 {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(raw) != 32 {
		return nil, false
	}
	h := sha256.Sum256([]byte(tok))
	return h[:], true
}

func (s *Service) windowTTL() time.Duration {
	if s.WindowTTL > 0 {
		return s.WindowTTL
	}
	return DefaultWindowTTL
}

// NewFailureRsp is the rsp for a request refused before any attempt existed
// (imp_uid null, as i'mport sends when pre-validation fails). Its error_code
// is F400 for a refused request and F500 for billkey's own failure.
func NewFailureRsp(p WindowParams, err error) *sdk.Rsp {
	msg := billkey.ErrorMessage(err)
	code := ErrCodeServer
	if billkey.ErrorCode(err) == billkey.EREJECTED {
		code = ErrCodeBadRequest
	}
	method := p.PayMethod
	if method == "" {
		method = "card"
	}
	currency := p.Currency
	if currency == "" {
		currency = "KRW"
	}
	return &sdk.Rsp{
		Success: false, ErrorCode: &code, ErrorMsg: &msg, MerchantUID: p.MerchantUID, PayMethod: method, Currency: currency,
		Status: string(billkey.StatusFailed), PGType: "payment", CustomerUID: sdk.Optional(p.CustomerUID), Name: sdk.Optional(p.Name),
		BuyerName: sdk.Optional(p.Buyer.Name), BuyerEmail: sdk.Optional(p.Buyer.Email), BuyerTel: sdk.Optional(p.Buyer.Tel),
		BuyerAddr: sdk.Optional(p.Buyer.Addr), BuyerPostcode: sdk.Optional(p.Buyer.Postcode),
		CustomData: sdk.CustomData(p.CustomData), RequestID: p.RequestID,
	}
}
