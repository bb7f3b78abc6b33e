package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
)

// The payment window (window issuance): IMP.request_pay reaches
// OpenWindow, which records an attempt and returns the INICIS billing form;
// INICIS's return post reaches CompleteWindow, which approves server to
// server, stores the key and returns the rsp for the SDK. Nothing here ever
// returns or logs a billing key.

// WindowPG is what the payment window needs from the PG connector: INICIS's
// INIStdPay billing window, whose result billkey verifies server to server
// (the browser only carries an authToken; the key comes from INICIS's
// approval, which is checked with the channel's signKey). *inicis.Connector
// implements it.
//
// The legacy INILite mobile window is deliberately not used: it posts the
// billing key itself through the buyer's browser, and nothing in that post
// is signed with a secret the browser never holds, so a made-up result
// (resultcode 00, the MID, the order id, any 40-hex key) could not be told
// from a real one. Phones get the INIStdPay window too, or a refusal, as
// the channel's MobileWindow says.
type WindowPG interface {
	StdPayForm(ch billkey.PGChannel, req inicis.StdPayRequest) (*inicis.StdPayForm, error)
	ApproveStdPay(ctx context.Context, ch billkey.PGChannel, r *inicis.StdPayReturn, orderID string) (*billkey.BillingKey, error)
	NetCancel(ctx context.Context, ch billkey.PGChannel, r *inicis.StdPayReturn) error
}

var _ WindowPG = (*inicis.Connector)(nil)

// Window kinds (which INICIS window) and deliveries (how the rsp reaches the
// merchant page).
const (
	// WindowPC is the INIStdPay PC window, acceptmethod BILLAUTH(Card).
	WindowPC = billkey.ChannelPC
	// WindowMobile is a phone: the INIStdPay billing window too (the page
	// itself goes there in redirect mode), when the channel allows it.
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

// Error codes of window failures billkey decides itself (INICIS's own
// result code is used whenever INICIS decided). F400 and F500 are the codes
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
	// URLs returns INICIS's returnUrl and closeUrl for an attempt token.
	URLs func(token string) (returnURL, closeURL string)
}

// WindowForm is the INICIS form a browser must submit to open the window:
// load ScriptURL and call INIStdPay.pay(formId) (Action is the direct target
// where one exists, i.e. the simulator). Kind is the INICIS protocol
// (always WindowPC, INIStdPay, whatever the device).
type WindowForm struct {
	Kind      string
	ScriptURL string
	Action    string
	Fields    url.Values
}

// OpenedWindow is a new attempt and the form that opens its INICIS window.
type OpenedWindow struct {
	Attempt  *billkey.WindowAttempt
	Form     *WindowForm
	CloseURL string // the attempt's close URL (INICIS closeUrl; the SDK's close button)
}

// WindowRsp is the rsp of IMP.request_pay as i'mport's SDK delivers it
// (the rsp fields are listed in README's "Payment window and iamport.js").
// It never carries a billing key.
type WindowRsp struct {
	Success       bool            `json:"success"`
	ErrorCode     *string         `json:"error_code"`
	ErrorMsg      *string         `json:"error_msg"`
	ImpUID        *string         `json:"imp_uid"`
	MerchantUID   string          `json:"merchant_uid"`
	CustomerUID   *string         `json:"customer_uid"`
	PayMethod     string          `json:"pay_method"`
	PaidAmount    int64           `json:"paid_amount"`
	Currency      string          `json:"currency"`
	Status        string          `json:"status"`
	Name          *string         `json:"name"`
	PGProvider    *string         `json:"pg_provider"`
	PGType        string          `json:"pg_type"`
	PGTID         *string         `json:"pg_tid"`
	ApplyNum      string          `json:"apply_num"`
	CardName      *string         `json:"card_name"`
	CardNumber    *string         `json:"card_number"`
	CardQuota     int             `json:"card_quota"`
	BankName      *string         `json:"bank_name"`
	PaidAt        int64           `json:"paid_at"`
	ReceiptURL    string          `json:"receipt_url"`
	BuyerName     *string         `json:"buyer_name"`
	BuyerEmail    *string         `json:"buyer_email"`
	BuyerTel      *string         `json:"buyer_tel"`
	BuyerAddr     *string         `json:"buyer_addr"`
	BuyerPostcode *string         `json:"buyer_postcode"`
	CustomData    json.RawMessage `json:"custom_data"`
	RequestID     string          `json:"request_id,omitempty"`
}

// WindowResult is the outcome of a window attempt, to deliver as its
// Delivery says. Replayed is set when the attempt had been finished before
// (a replayed or reloaded return post): nothing was processed again.
type WindowResult struct {
	Attempt  *billkey.WindowAttempt
	Rsp      *WindowRsp
	Replayed bool
}

// windowOutcome is what an attempt's Result column holds: the rsp and what
// the expiry sweep needs to record the payment if that failed the first time.
type windowOutcome struct {
	Rsp      *WindowRsp `json:"rsp"`
	CardCode string     `json:"card_code,omitempty"`
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

// check validates and normalizes the request parameters. Nothing is
// written before it passes.
func (p *WindowParams) check() error {
	if err := p.checkText(); err != nil {
		return err
	}
	p.PayMethod = strings.TrimSpace(p.PayMethod)
	if p.PayMethod == "" {
		p.PayMethod = "card"
	}
	if p.PayMethod != "card" {
		return rejectf("KG이니시스 빌링키 발급은 pay_method \"card\"만 지원합니다. (pay_method: %s)", truncate(p.PayMethod, 20))
	}
	if p.CustomerUID == "" {
		return rejectf("customer_uid 파라미터가 누락되었습니다. billkey의 결제창은 정기결제용 빌링키 발급(customer_uid 지정)만 지원합니다.")
	}
	if err := checkUID("customer_uid", p.CustomerUID, maxCustomerUID); err != nil {
		return err
	}
	if p.MerchantUID == "" {
		p.MerchantUID = "nobody_" + strconv.FormatInt(time.Now().UnixMilli(), 10)
	}
	if err := checkUID("merchant_uid", p.MerchantUID, maxMerchantUID); err != nil {
		return err
	}
	if err := checkText("name", p.Name, maxName); err != nil {
		return err
	}
	if p.Amount < 0 || p.Amount > maxAmount {
		return rejectf("결제금액(amount)은 0 이상 %d 이하의 정수여야 합니다.", maxAmount)
	}
	if p.Currency == "" {
		p.Currency = "KRW"
	}
	if p.Currency != "KRW" {
		return rejectf("KG이니시스 정기결제는 KRW만 지원합니다. (currency: %s)", truncate(p.Currency, 10))
	}
	if err := checkBuyer(p.Buyer); err != nil {
		return err
	}
	if strings.TrimSpace(p.Buyer.Email) == "" || strings.TrimSpace(p.Buyer.Tel) == "" {
		return rejectf("KG이니시스 결제창에는 buyer_email과 buyer_tel 파라미터가 필요합니다.")
	}
	if p.CustomData != nil {
		if err := checkText("custom_data", *p.CustomData, maxCustomData); err != nil {
			return err
		}
	}
	if len(p.NoticeURLs) > maxNoticeURLs {
		return rejectf("notice_url은 %d개까지 지정할 수 있습니다.", maxNoticeURLs)
	}
	for _, u := range p.NoticeURLs {
		if !IsWebURL(u) {
			return rejectf("notice_url은 http(s) URL이어야 합니다.")
		}
	}
	if err := checkText("customer_id", p.CustomerID, maxCustomerUID); err != nil {
		return err
	}
	if err := checkText("request_id", p.RequestID, 100); err != nil {
		return err
	}
	if p.Language != "en" {
		p.Language = "ko"
	}
	return nil
}

// IsWebURL reports whether u is an absolute http or https URL without
// credentials, at most 2,000 bytes long.
func IsWebURL(u string) bool {
	if len(u) > 2000 || !utf8.ValidString(u) {
		return false
	}
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != "" && p.User == nil
}

// OpenWindow starts a payment window: it finds the merchant by its imp code
// and the channel by channelKey when given, else by i'mport's pg rules (a pg
// value matching no channel falls back to the default channel, as i'mport
// does), inserts the issuance payment (imp_ + 12 digits,
// status ready, channel pc or mobile, customer_uid_usage issue, amount 0)
// and the attempt, and returns the INICIS form. Any open attempt for the same
// merchant_uid is failed first (a buyer who reopened the window).
//
// Errors are EREJECTED with a message for the rsp (unknown merchant or pg,
// missing customer_uid, bad parameter, reused merchant_uid); nothing is
// written for them.
func (s *Service) OpenWindow(ctx context.Context, in WindowRequest) (*OpenedWindow, error) {
	if in.Kind != WindowPC && in.Kind != WindowMobile {
		return nil, rejectf("알 수 없는 결제창 종류입니다.")
	}
	if in.Delivery != DeliverMessage && in.Delivery != DeliverRedirect {
		return nil, rejectf("알 수 없는 결과 전달 방식입니다.")
	}
	// Bytes first: every text parameter, used or not, is refused when the
	// databases could not hold it.
	if err := in.Params.checkText(); err != nil {
		return nil, err
	}
	if in.Delivery == DeliverRedirect && in.Params.MRedirectURL == "" {
		return nil, rejectf("리디렉션 방식에는 m_redirect_url 파라미터가 필요합니다.")
	}
	// m_redirect_url matters only when billkey redirects there (as with
	// i'mport, a PC page with a callback may pass anything, e.g. a relative
	// path iamport.js did not resolve).
	if in.Delivery == DeliverRedirect && !IsWebURL(in.Params.MRedirectURL) {
		return nil, rejectf("m_redirect_url은 http(s) URL이어야 합니다.")
	}
	if in.Delivery != DeliverRedirect {
		in.Params.MRedirectURL = ""
	}
	if in.Delivery == DeliverMessage && in.OpenerOrigin == "" {
		return nil, rejectf("결제 요청 페이지의 출처(origin)를 확인할 수 없습니다.")
	}
	if in.URLs == nil || s.Window == nil {
		return nil, errors.New("gateway: payment window is not configured")
	}
	linkID, err := s.cardUpdateWindow(ctx, &in) // cardupdate.go: a card-update link's window
	if err != nil {
		return nil, err
	}
	p := &in.Params
	if err := p.check(); err != nil {
		return nil, err
	}
	code := strings.TrimSpace(in.ImpCode)
	if err := checkWindowText("imp_code", code, false); err != nil {
		return nil, err
	}
	if code == "" {
		return nil, rejectf("가맹점 식별코드가 없습니다. IMP.init(\"imp00000000\")을 먼저 호출해주세요.")
	}
	m, err := s.Store.MerchantByImpCode(ctx, code)
	if billkey.ErrorCode(err) == billkey.ENOTFOUND {
		return nil, rejectf("가맹점 식별코드(%s)에 해당하는 가맹점을 찾을 수 없습니다. IMP.init()의 가맹점 식별코드를 확인해주세요.", truncate(code, 20))
	} else if err != nil {
		return nil, err
	}
	if err := s.checkPrepared(ctx, m.ID, p.MerchantUID, p.Amount, p.Currency); err != nil {
		return nil, err
	}
	if err := checkWindowNoticeURLs(m, p.NoticeURLs); err != nil {
		return nil, err
	}
	ch, err := s.windowChannel(ctx, m.ID, p.ChannelKey, p.PG)
	if err != nil {
		return nil, err
	}
	if in.Kind == WindowMobile && ch.MobileWindow == billkey.MobileWindowRefuse {
		return nil, rejectf("PG 설정(%s)은 모바일 결제창을 지원하지 않습니다. PC에서 카드를 등록해주세요. (mobile window disabled for this channel)", ch.MID)
	}
	if ch.Credentials.SignKey == "" {
		return nil, rejectf("PG 설정(%s)에 INIStdPay signKey가 없어 결제창을 열 수 없습니다.", ch.MID)
	}

	if err := s.supersedeWindows(ctx, m.ID, p.MerchantUID); err != nil {
		return nil, err
	}
	now := s.Now()
	pay := &billkey.Payment{
		MerchantID: m.ID, ChannelID: ch.ID, MerchantUID: p.MerchantUID, PayMethod: p.PayMethod, Channel: in.Kind,
		PGProvider: ch.Provider, PGID: ch.MID, Name: p.Name, Amount: 0, Currency: p.Currency, Buyer: p.Buyer,
		CustomData: p.CustomData, UserAgent: cleanUserAgent(in.UserAgent), NoticeURL: strings.Join(p.NoticeURLs, billkey.NoticeURLSep),
		Status: billkey.StatusReady, CustomerUID: p.CustomerUID, CustomerUIDUsage: billkey.UsageIssue, StartedAt: now,
	}
	if err := s.createPayment(ctx, pay); err != nil {
		return nil, err
	}
	token := NewWindowToken()
	hash, _ := WindowTokenHash(token)
	returnURL, closeURL := in.URLs(token)
	a := &billkey.WindowAttempt{
		TokenHash: hash, MerchantID: m.ID, ChannelID: ch.ID, PaymentID: pay.ID, ImpUID: pay.ImpUID,
		MerchantUID: pay.MerchantUID, CustomerUID: p.CustomerUID, CustomerID: p.CustomerID, OrderID: pay.ImpUID, Kind: in.Kind,
		Delivery: in.Delivery, OpenerOrigin: in.OpenerOrigin, RedirectURL: p.MRedirectURL, RequestID: p.RequestID,
		State: billkey.WindowOpen, CreatedAt: now, ExpiresAt: now.Add(s.windowTTL()), CardUpdateLinkID: linkID,
	}
	form, err := s.windowForm(ch, a, p, returnURL, closeURL)
	if err == nil {
		err = s.Store.CreateWindowAttempt(ctx, a)
	}
	if err != nil {
		pay.Status, pay.FailReason, pay.FailedAt = billkey.StatusFailed, "결제창을 열지 못했습니다. (window could not open)", s.Now()
		if _, ferr := s.Store.FinishPayment(context.WithoutCancel(ctx), pay, nil); ferr != nil {
			err = errors.Join(err, ferr)
		}
		return nil, fmt.Errorf("gateway: open window %s: %w", pay.ImpUID, err)
	}
	s.Logger.Info("payment window opened", "imp_uid", pay.ImpUID, "merchant_id", m.ID, "kind", in.Kind,
		"delivery", in.Delivery, "pg_id", ch.MID)
	return &OpenedWindow{Attempt: a, Form: form, CloseURL: closeURL}, nil
}

// windowForm builds the INICIS form of an attempt.
func (s *Service) windowForm(ch *billkey.Channel, a *billkey.WindowAttempt, p *WindowParams, returnURL, closeURL string) (*WindowForm, error) {
	goodName := p.Name
	if goodName == "" {
		goodName = "정기결제 카드 등록"
	}
	goodName = truncateBytes(goodName, 40)
	f, err := s.Window.StdPayForm(ch.PGChannel(), inicis.StdPayRequest{
		OrderID: a.OrderID, Price: p.Amount, GoodName: goodName, Buyer: p.Buyer, ReturnURL: returnURL,
		CloseURL: closeURL, Language: p.Language,
	})
	if err != nil {
		return nil, err
	}
	return &WindowForm{Kind: WindowPC, ScriptURL: f.ScriptURL, Action: f.Action, Fields: f.Fields}, nil
}

// truncateBytes shortens s to at most n bytes on a rune boundary.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// supersedeWindows fails the merchant's open attempts for merchantUID, so a
// buyer who reloaded the page can open the window again for the same order.
// Attempts already being processed are left alone (CreatePayment then refuses
// the order as a duplicate).
func (s *Service) supersedeWindows(ctx context.Context, merchantID int64, merchantUID string) error {
	open, err := s.Store.OpenWindowAttempts(ctx, merchantID, merchantUID)
	if err != nil {
		return err
	}
	for _, a := range open {
		if _, err := s.failWindow(ctx, a, []string{billkey.WindowOpen}, ErrCodeSuperseded, msgWindowSuperseded); err != nil {
			return err
		}
	}
	return nil
}

// windowAttempt finds the attempt of a token; ENOTFOUND for a malformed or
// unknown token.
func (s *Service) windowAttempt(ctx context.Context, token string) (*billkey.WindowAttempt, error) {
	hash, ok := WindowTokenHash(token)
	if !ok {
		return nil, billkey.Errorf(billkey.ENOTFOUND, msgWindowNotFound)
	}
	a, err := s.Store.WindowAttemptByToken(ctx, hash)
	if billkey.ErrorCode(err) == billkey.ENOTFOUND {
		return nil, billkey.WrapError(billkey.ENOTFOUND, msgWindowNotFound, err)
	}
	return a, err
}

// finished returns the recorded result of an attempt that is no longer
// open, or an EREJECTED error while another request processes it.
func (s *Service) finished(a *billkey.WindowAttempt) (*WindowResult, error) {
	if a.State == billkey.WindowProcessing {
		return nil, rejectf(msgWindowBusy)
	}
	var out windowOutcome
	if err := json.Unmarshal(a.Result, &out); err != nil || out.Rsp == nil {
		return nil, fmt.Errorf("gateway: window attempt %d has no readable result: %w", a.ID, err)
	}
	return &WindowResult{Attempt: a, Rsp: out.Rsp, Replayed: true}, nil
}

// CompleteWindow handles INICIS's return post for an attempt token: the
// STEP 2 post of INIStdPay (PC and phones alike). The first post claims the
// attempt; a replayed post gets the recorded result and nothing is
// processed again. On success the key is approved server to server (the
// post itself only carries an authToken, which billkey redeems at INICIS's
// fixed approval URL and checks the signed reply of), stored under the attempt's customer_uid, the issuance payment
// becomes paid (amount 0) with its webhook event; when storing fails after
// INICIS approved, the PC approval is net-cancelled. Every other outcome
// (refusal, cancel, tampering, expiry) fails the attempt and its payment,
// without a webhook, and is reported in the rsp.
//
// Errors: ENOTFOUND for an unknown token, EREJECTED while another request
// processes the attempt; anything else is internal.
func (s *Service) CompleteWindow(ctx context.Context, token string, post url.Values) (*WindowResult, error) {
	a, err := s.windowAttempt(ctx, token)
	if err != nil {
		return nil, err
	}
	if a.State != billkey.WindowOpen {
		return s.finished(a)
	}
	now := s.Now()
	if !now.Before(a.ExpiresAt) {
		return s.expireWindow(ctx, a)
	}
	claimed, err := s.Store.ClaimWindowAttempt(ctx, a.ID, now)
	if err != nil {
		return nil, err
	}
	if !claimed { // someone else got there first, or it just expired
		if a, err = s.Store.WindowAttemptByID(ctx, a.ID); err != nil {
			return nil, err
		}
		if a.State == billkey.WindowOpen {
			return s.expireWindow(ctx, a)
		}
		return s.finished(a)
	}
	// From here on the attempt is ours: finish it whatever the caller does.
	ctx = context.WithoutCancel(ctx)
	if err := checkReturnPost(post); err != nil {
		// Not INICIS's post: nothing is sent to INICIS for it.
		return s.orFinished(ctx, a)(s.failWindow(ctx, a, []string{billkey.WindowProcessing}, "", billkey.ErrorMessage(err)))
	}
	ch, err := s.Store.ChannelByID(ctx, a.MerchantID, a.ChannelID)
	if err == nil {
		ch, err = s.usable(ch)
	}
	if err != nil {
		s.Logger.Error("payment window: channel unavailable", "imp_uid", a.ImpUID, "error", err)
		return s.orFinished(ctx, a)(s.failWindow(ctx, a, []string{billkey.WindowProcessing}, ErrCodeServer, billkey.ErrorMessage(err)))
	}
	// Every attempt, PC or phone, is an INIStdPay window: the key comes
	// from INICIS's server-to-server approval, never from the browser.
	key, undo, pgErr := s.approveStdPay(ctx, a, ch, post)
	if pgErr == nil {
		pgErr = s.claimCardUpdate(ctx, a, undo) // cardupdate.go: a link replaces one card, once
	}
	if pgErr != nil {
		return s.orFinished(ctx, a)(s.failWindow(ctx, a, []string{billkey.WindowProcessing}, pgErrorCode(pgErr), billkey.ErrorMessage(pgErr)))
	}
	pay, err := s.Store.PaymentByImpUID(ctx, a.MerchantID, a.ImpUID)
	if err == nil {
		_, err = s.SaveIssuedKey(ctx, a.MerchantID, ch, a.CustomerUID, a.CustomerID, key, pay.Buyer)
	}
	if err != nil {
		s.releaseCardUpdate(ctx, a)
		msg := "빌링키를 저장하지 못했습니다. 다시 시도해주세요. (billing key could not be stored)"
		switch {
		case undo(ctx) != nil:
			s.Logger.Error("payment window: key not stored and the net cancel failed", "imp_uid", a.ImpUID, "pg_tid", key.PGTID, "error", err)
		default:
			s.Logger.Error("payment window: key not stored; INICIS approval net-cancelled", "imp_uid", a.ImpUID, "error", err)
			msg = "빌링키를 저장하지 못해 발급을 취소했습니다(망취소). 다시 시도해주세요. (billing key could not be stored; net-cancelled)"
		}
		return s.orFinished(ctx, a)(s.failWindow(ctx, a, []string{billkey.WindowProcessing}, ErrCodeServer, msg))
	}
	res, err := s.succeedWindow(ctx, a, pay, key)
	if err == nil {
		s.cardUpdated(ctx, a) // cardupdate.go: the declined charge retried with the new card
	}
	return res, err
}

// orFinished turns failWindow's "the attempt had left those states" (nil,
// nil) into the attempt's recorded result.
func (s *Service) orFinished(ctx context.Context, a *billkey.WindowAttempt) func(*WindowResult, error) (*WindowResult, error) {
	return func(res *WindowResult, err error) (*WindowResult, error) {
		if err != nil || res != nil {
			return res, err
		}
		cur, err := s.Store.WindowAttemptByID(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		return s.finished(cur)
	}
}

// approveStdPay reads the INIStdPay STEP 2 post and approves it. undo
// net-cancels the approval.
func (s *Service) approveStdPay(ctx context.Context, a *billkey.WindowAttempt, ch *billkey.Channel, post url.Values) (*billkey.BillingKey, func(context.Context) error, error) {
	ret, err := inicis.ParseStdPayReturn(post)
	if err != nil {
		return nil, nil, err
	}
	if ret.Cancelled() {
		return nil, nil, cancelled(ret.ResultCode)
	}
	key, err := s.Window.ApproveStdPay(ctx, ch.PGChannel(), ret, a.OrderID)
	if err != nil {
		return nil, nil, err
	}
	return key, func(ctx context.Context) error { return s.Window.NetCancel(ctx, ch.PGChannel(), ret) }, nil
}

// cancelled is the buyer's cancel, carrying INICIS's code.
func cancelled(code string) error {
	return billkey.WrapError(billkey.EPG, msgUserCancel, &inicis.ResultError{Op: "window", Code: code, Message: msgUserCancel})
}

// pgErrorCode is the rsp's error_code for a failed INICIS step: INICIS's
// result code when it gave one; F400 for a return post billkey refused
// (malformed or not matching the attempt); F500 otherwise.
func pgErrorCode(err error) string {
	if c := resultCodeOf(err); c != "" {
		return c
	}
	switch billkey.ErrorCode(err) {
	case billkey.EREJECTED, billkey.EINVALID:
		return ErrCodeBadRequest
	}
	return ErrCodeServer
}

// resultCodeOf returns INICIS's effective result code inside err, if any:
// the card refusal's own code, the same on PC and mobile.
func resultCodeOf(err error) string {
	var re *inicis.ResultError
	if errors.As(err, &re) {
		code, _ := re.Reason()
		return code
	}
	return ""
}

// CloseWindow handles the buyer closing the window before INICIS returned
// (INICIS's closeUrl, or the SDK's close button): an open attempt fails as
// cancelled by the buyer. A finished attempt gets its recorded result.
//
// Errors: ENOTFOUND for an unknown token, EREJECTED while a return post is
// being processed.
func (s *Service) CloseWindow(ctx context.Context, token string) (*WindowResult, error) {
	a, err := s.windowAttempt(ctx, token)
	if err != nil {
		return nil, err
	}
	if a.State != billkey.WindowOpen {
		return s.finished(a)
	}
	code := inicis.StdPayUserCancelCode
	res, err := s.failWindow(context.WithoutCancel(ctx), a, []string{billkey.WindowOpen}, code, msgUserCancel)
	if err != nil {
		return nil, err
	}
	if res == nil { // a return post claimed it meanwhile
		if a, err = s.Store.WindowAttemptByID(ctx, a.ID); err != nil {
			return nil, err
		}
		return s.finished(a)
	}
	return res, nil
}

// expireWindow fails an open attempt whose time is up.
func (s *Service) expireWindow(ctx context.Context, a *billkey.WindowAttempt) (*WindowResult, error) {
	msg := fmt.Sprintf("결제창 유효시간(%d분)이 지났습니다. 다시 시도해주세요. (window expired)", int(s.windowTTL().Minutes()))
	res, err := s.failWindow(context.WithoutCancel(ctx), a, []string{billkey.WindowOpen}, ErrCodeExpired, msg)
	if err != nil || res != nil {
		return res, err
	}
	if a, err = s.Store.WindowAttemptByID(ctx, a.ID); err != nil {
		return nil, err
	}
	return s.finished(a)
}

// failWindow records a failed outcome: the attempt (if it is in one of the
// states from) and its payment become failed, without a webhook event (i'mport
// sends none for failed window payments). It returns nil, nil when the
// attempt had left those states.
func (s *Service) failWindow(ctx context.Context, a *billkey.WindowAttempt, from []string, code, msg string) (*WindowResult, error) {
	pay, err := s.Store.PaymentByImpUID(ctx, a.MerchantID, a.ImpUID)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	pay.Status, pay.OutcomeUnknown, pay.FailReason, pay.FailedAt = billkey.StatusFailed, false, truncate(msg, 250), now
	rsp := rspOf(pay, a)
	rsp.ErrorMsg = &msg
	if code == "" {
		code = ErrCodeServer
	}
	rsp.ErrorCode = &code
	out, err := json.Marshal(windowOutcome{Rsp: rsp})
	if err != nil {
		return nil, fmt.Errorf("gateway: window result: %w", err)
	}
	ok, err := s.Store.FinishWindowAttempt(ctx, a.ID, from, billkey.WindowFailed, out, now)
	if err != nil || !ok {
		return nil, err
	}
	a.State, a.Result, a.FinishedAt = billkey.WindowFailed, out, now
	s.windowResult(windowFailure(code, msg))
	if _, err := s.Store.FinishPayment(ctx, pay, nil); err != nil {
		// The attempt is failed; the sweep cannot see this payment again,
		// so say it loudly. The rsp still reaches the buyer.
		s.Logger.Error("payment window: failed outcome not recorded on the payment", "imp_uid", a.ImpUID, "error", err)
	}
	s.Logger.Info("payment window failed", "imp_uid", a.ImpUID, "code", code, "reason", msg)
	return &WindowResult{Attempt: a, Rsp: rsp}, nil
}

// succeedWindow records a stored key: the attempt becomes done with its rsp,
// then the issuance payment becomes paid (amount 0) with its webhook event.
// If the payment cannot be recorded now, the sweep records it later from the
// attempt's result; the key is stored either way, so the buyer is told so.
func (s *Service) succeedWindow(ctx context.Context, a *billkey.WindowAttempt, pay *billkey.Payment, key *billkey.BillingKey) (*WindowResult, error) {
	now := s.Now()
	pay.Status, pay.OutcomeUnknown = billkey.StatusPaid, false
	pay.PGTID, pay.PaidAt = key.PGTID, key.IssuedAt
	if pay.PaidAt.IsZero() {
		pay.PaidAt = now
	}
	pay.CardCode, pay.CardName, pay.CardNumber = key.CardCode, key.CardName, key.CardNumber
	rsp := rspOf(pay, a)
	out, err := json.Marshal(windowOutcome{Rsp: rsp, CardCode: key.CardCode})
	if err != nil {
		return nil, fmt.Errorf("gateway: window result: %w", err)
	}
	if _, err := s.Store.FinishWindowAttempt(ctx, a.ID, []string{billkey.WindowProcessing}, billkey.WindowDone, out, now); err != nil {
		s.Logger.Error("payment window: key stored but the attempt could not be finished", "imp_uid", a.ImpUID, "error", err)
	}
	a.State, a.Result, a.FinishedAt = billkey.WindowDone, out, now
	s.windowResult("issued")
	s.recordIssued(ctx, pay)
	s.Logger.Info("payment window: billing key issued and stored", "imp_uid", a.ImpUID, "merchant_id", a.MerchantID,
		"customer_uid", a.CustomerUID, "pg_tid", key.PGTID)
	return &WindowResult{Attempt: a, Rsp: rsp}, nil
}

// recordIssued marks the issuance payment paid and queues its webhook.
func (s *Service) recordIssued(ctx context.Context, pay *billkey.Payment) {
	ev := &billkey.Event{MerchantID: pay.MerchantID, ImpUID: pay.ImpUID, MerchantUID: pay.MerchantUID, Status: billkey.StatusPaid,
		NoticeURL: pay.NoticeURL}
	if _, err := s.Store.FinishPayment(ctx, pay, ev); err != nil {
		s.Logger.Error("payment window: issuance not recorded on the payment yet; the sweep retries", "imp_uid", pay.ImpUID, "error", err)
	}
}

// rspOf builds the rsp of an attempt from its payment.
func rspOf(p *billkey.Payment, a *billkey.WindowAttempt) *WindowRsp {
	r := &WindowRsp{
		Success: p.Status == billkey.StatusPaid, ImpUID: &p.ImpUID, MerchantUID: p.MerchantUID, PayMethod: p.PayMethod,
		PaidAmount: 0, Currency: p.Currency, Status: string(p.Status), PGType: "payment",
		CustomerUID: optional(p.CustomerUID), Name: optional(p.Name), PGProvider: optional(p.PGProvider),
		PGTID: optional(p.PGTID), CardName: optional(p.CardName), CardNumber: optional(p.CardNumber),
		BuyerName: optional(p.Buyer.Name), BuyerEmail: optional(p.Buyer.Email), BuyerTel: optional(p.Buyer.Tel),
		BuyerAddr: optional(p.Buyer.Addr), BuyerPostcode: optional(p.Buyer.Postcode),
		CustomData: customDataJSON(p.CustomData), RequestID: a.RequestID, ReceiptURL: p.ReceiptURL,
	}
	if p.Status == billkey.StatusPaid {
		r.PaidAt = p.PaidAt.Unix()
	}
	return r
}

// NewFailureRsp is the rsp for a request refused before any attempt existed
// (imp_uid null, as i'mport sends when pre-validation fails). Its error_code
// is F400 for a refused request and F500 for billkey's own failure.
func NewFailureRsp(p WindowParams, err error) *WindowRsp {
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
	return &WindowRsp{
		Success: false, ErrorCode: &code, ErrorMsg: &msg, MerchantUID: p.MerchantUID, PayMethod: method, Currency: currency,
		Status: string(billkey.StatusFailed), PGType: "payment", CustomerUID: optional(p.CustomerUID), Name: optional(p.Name),
		BuyerName: optional(p.Buyer.Name), BuyerEmail: optional(p.Buyer.Email), BuyerTel: optional(p.Buyer.Tel),
		BuyerAddr: optional(p.Buyer.Addr), BuyerPostcode: optional(p.Buyer.Postcode),
		CustomData: customDataJSON(p.CustomData), RequestID: p.RequestID,
	}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// customDataJSON echoes custom_data as the JSON value the page sent: stored
// JSON text comes back as that value, any other stored text as a string.
func customDataJSON(v *string) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	if json.Valid([]byte(*v)) {
		return json.RawMessage(*v)
	}
	b, _ := json.Marshal(*v)
	return b
}

// ExpireWindows settles the attempts that need it: open ones past their
// expiry and ones stuck in processing fail (with their payments, which would
// otherwise stay ready forever: the reconciler only handles API payments),
// and done ones whose payment was left ready get it recorded as paid. It
// returns how many attempts it settled.
func (s *Service) ExpireWindows(ctx context.Context) (int, error) {
	now := s.Now()
	due, err := s.Store.DueWindowAttempts(ctx, now, now.Add(-windowStaleGrace), 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range due {
		var err error
		switch a.State {
		case billkey.WindowOpen:
			_, err = s.expireWindow(ctx, a)
		case billkey.WindowProcessing:
			_, err = s.failWindow(ctx, a, []string{billkey.WindowProcessing}, ErrCodeServer, msgWindowInterrupted)
		case billkey.WindowDone:
			err = s.recoverIssued(ctx, a)
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// recoverIssued records on the payment an issuance whose attempt is done.
func (s *Service) recoverIssued(ctx context.Context, a *billkey.WindowAttempt) error {
	var out windowOutcome
	if err := json.Unmarshal(a.Result, &out); err != nil || out.Rsp == nil {
		return fmt.Errorf("gateway: window attempt %d: unreadable result: %w", a.ID, err)
	}
	pay, err := s.Store.PaymentByImpUID(ctx, a.MerchantID, a.ImpUID)
	if err != nil {
		return err
	}
	pay.Status, pay.OutcomeUnknown, pay.CardCode = billkey.StatusPaid, false, out.CardCode
	pay.PaidAt = time.Unix(out.Rsp.PaidAt, 0)
	pay.PGTID, pay.CardName, pay.CardNumber = deref(out.Rsp.PGTID), deref(out.Rsp.CardName), deref(out.Rsp.CardNumber)
	ev := &billkey.Event{MerchantID: pay.MerchantID, ImpUID: pay.ImpUID, MerchantUID: pay.MerchantUID, Status: billkey.StatusPaid,
		NoticeURL: pay.NoticeURL}
	_, err = s.Store.FinishPayment(ctx, pay, ev)
	return err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// RunWindowSweeper runs ExpireWindows every interval until ctx ends.
func (s *Service) RunWindowSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.ExpireWindows(ctx); err != nil && ctx.Err() == nil {
			s.Logger.Error("window sweeper", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
