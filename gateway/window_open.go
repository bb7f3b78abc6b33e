package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/billkey/billkey"
)

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
// and the attempt, and returns the PG's form. Any open attempt for the same
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
	if in.URLs == nil || s.PGs == nil {
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
	wpg, err := s.windowOf(ch)
	if err != nil {
		return nil, err
	}
	if err := wpg.CheckWindow(ch.PGChannel()); err != nil {
		return nil, err
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
	form, err := windowForm(wpg, ch, a, p, returnURL, closeURL)
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

// windowForm builds the PG's form of an attempt.
func windowForm(wpg billkey.WindowPG, ch *billkey.Channel, a *billkey.WindowAttempt, p *WindowParams, returnURL, closeURL string) (*WindowForm, error) {
	goodName := p.Name
	if goodName == "" {
		goodName = "정기결제 카드 등록"
	}
	goodName = truncateBytes(goodName, 40)
	f, err := wpg.WindowForm(ch.PGChannel(), billkey.WindowFormRequest{
		OrderID: a.OrderID, Amount: p.Amount, GoodName: goodName, Buyer: p.Buyer, ReturnURL: returnURL,
		CloseURL: closeURL, Language: p.Language,
	})
	if err != nil {
		return nil, err
	}
	return &WindowForm{Kind: WindowPC, ScriptURL: f.ScriptURL, Action: f.Action, Fields: f.Fields, Sources: f.Sources}, nil
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
