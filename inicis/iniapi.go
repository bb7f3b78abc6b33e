package inicis

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey"
)

// INIAPI v1 field values.
const (
	typeBilling       = "Billing"
	typeAuth          = "Auth"
	typeRefund        = "Refund"
	typePartialRefund = "PartialRefund"
	payMethodCard     = "Card"
	resultOK          = "00"
)

// IssueBillingKey issues a billing key from card data: INIAPI v1
// POST /api/v1/billing with type=Auth (key-in issuance, needs a contract with
// INICIS). cardNumber, cardExpire (YYMM), regNo (see RegNo: birth date as
// YYMMDD, or the 10-digit business number) and cardPw (first two PIN digits)
// are sent AES-encrypted; hashData ends with the encrypted cardNumber. price
// is 0. goodName and buyer fields are fitted to INICIS's limits (FitBuyer).
//
// Errors: a refusal is EPG "[resultCode] resultMsg"; malformed card data is
// EREJECTED; see billkey.PG for EUNCERTAIN.
func (c *Connector) IssueBillingKey(ctx context.Context, ch billkey.PGChannel, req billkey.IssueRequest) (*billkey.BillingKey, error) {
	e, cr, err := c.channel(ch)
	if err != nil {
		return nil, err
	}
	key, iv := cr.APIKey, cr.APIIV
	number := digitsOnly(req.Card.Number)
	if len(number) < 12 || len(number) > 19 {
		return nil, billkey.Errorf(billkey.EREJECTED, "카드번호 형식이 올바르지 않습니다.")
	}
	expire, ok := yymm(req.Card.Expiry)
	if !ok {
		return nil, billkey.Errorf(billkey.EREJECTED, "카드 유효기간 형식이 올바르지 않습니다. (YYYY-MM)")
	}
	regNo, err := RegNo(req.Card.Birth)
	if err != nil {
		return nil, err
	}
	if err := orderIDFits(req.OrderID, LimitOrderID); err != nil {
		return nil, err
	}
	encNumber, err := EncryptField(number, key, iv)
	if err != nil {
		return nil, fmt.Errorf("inicis: channel %s: %w", ch.MID, err)
	}
	ts := apiTimestamp(c.cfg.Now())
	ip := c.clientIP(req.ClientIP)
	goodName := FitGoodName(req.GoodName)
	if goodName == "" {
		goodName = "빌링키 발급"
	}
	form := c.billingForm(typeAuth, ts, ip, ch.MID, req.OrderID, goodName, FitBuyer(req.Buyer, LimitBuyerTel))
	form.Set("price", "0")
	form.Set("cardNumber", encNumber)
	for field, plain := range map[string]string{"cardExpire": expire, "regNo": regNo, "cardPw": req.Card.Pwd2Digit} {
		if plain == "" {
			continue
		}
		enc, err := EncryptField(plain, key, iv)
		if err != nil {
			return nil, fmt.Errorf("inicis: channel %s: %w", ch.MID, err)
		}
		form.Set(field, enc)
	}
	form.Set("hashData", billingHash(key, typeAuth, payMethodCard, ts, ip, ch.MID, req.OrderID, "0", encNumber))

	reply, err := c.postForm(ctx, "auth", e.INIAPI+"/api/v1/billing", form)
	if err != nil {
		return nil, err
	}
	if code, _ := resultOf(reply); code != resultOK {
		re := refusal("auth", reply)
		c.log.LogAttrs(ctx, slog.LevelInfo, "inicis billing key refused", slog.String("mid", ch.MID), slog.String("moid", req.OrderID),
			slog.String("resultCode", re.Code), slog.String("resultMsg", re.Message))
		return nil, pgRefusal(re)
	}
	bk := reply.GetFold("billKey", "billkey")
	if bk == "" {
		return nil, tampered("auth", "billKey 없음")
	}
	kftc, name := cardInfo(reply.Get("cardCode", "CARD_Code"), reply.Get("cardName"))
	issued := parseKST(reply.Get("authDate", "payDate", "applDate"), reply.Get("authTime", "payTime", "applTime"))
	if issued.IsZero() {
		issued = c.cfg.Now()
	}
	return &billkey.BillingKey{
		Key:        bk,
		CardCode:   kftc,
		CardName:   name,
		CardNumber: billkey.MaskCardNumber(number),
		PGTID:      reply.Get("tid"),
		IssuedAt:   issued,
	}, nil
}

// billingForm starts an INIAPI v1 /api/v1/billing form with the fields both
// of its types (Auth and Billing) send: type, paymethod Card, timestamp,
// clientIp, mid, url (when Config.SiteURL is set), moid, goodName and the
// buyer fields. The caller adds the rest and hashData.
func (c *Connector) billingForm(typ, ts, ip, mid, moid, goodName string, buyer billkey.Buyer) url.Values {
	form := url.Values{}
	form.Set("type", typ)
	form.Set("paymethod", payMethodCard)
	form.Set("timestamp", ts)
	form.Set("clientIp", ip)
	form.Set("mid", mid)
	if c.cfg.SiteURL != "" {
		form.Set("url", c.cfg.SiteURL)
	}
	form.Set("moid", moid)
	form.Set("goodName", goodName)
	form.Set("buyerName", buyer.Name)
	form.Set("buyerEmail", buyer.Email)
	form.Set("buyerTel", buyer.Tel)
	return form
}

// Placeholders for buyer fields INIAPI billing requires but an i'mport again
// call may omit (i'mport requires only name for html5_inicis; INICIS refuses
// blank buyerName/buyerEmail/buyerTel with ER0102).
const (
	DefaultBuyerName  = "구매자"
	DefaultBuyerEmail = "buyer@billkey.invalid"
	DefaultBuyerTel   = "01000000000"
	// DefaultGoodName is the goodName INIAPI billing requires when a charge
	// has no name (clients written for i'mport's older API omit it; the
	// payment's name then stays null).
	DefaultGoodName = "정기결제"
)

func withBuyerDefaults(b billkey.Buyer) billkey.Buyer {
	if strings.TrimSpace(b.Name) == "" {
		b.Name = DefaultBuyerName
	}
	if strings.TrimSpace(b.Email) == "" {
		b.Email = DefaultBuyerEmail
	}
	if strings.TrimSpace(b.Tel) == "" {
		b.Tel = DefaultBuyerTel
	}
	return b
}

// BillingRequest builds the INIAPI v1 billing approval (type=Billing) for a
// charge: the endpoint URL and the form, hashData included. goodName and the
// buyer fields are fitted to INICIS's limits (FitGoodName, FitBuyer); an
// order id over LimitOrderID bytes is refused (EREJECTED). Charge sends it;
// the load-test harness uses it to drive INICIS (or the simulator) directly
// with exactly billkey's wire request.
func (c *Connector) BillingRequest(ch billkey.PGChannel, req billkey.ChargeRequest) (endpoint string, form url.Values, err error) {
	e, err := c.endpoints(ch)
	if err != nil {
		return "", nil, err
	}
	if err := orderIDFits(req.OrderID, LimitOrderID); err != nil {
		return "", nil, err
	}
	cr, err := credentialsOf(ch)
	if err != nil {
		return "", nil, err
	}
	key := cr.APIKey
	ts := apiTimestamp(c.cfg.Now())
	ip := c.clientIP(req.ClientIP)
	price := strconv.FormatInt(req.Amount, 10)
	goodName := req.GoodName
	if strings.TrimSpace(goodName) == "" {
		goodName = DefaultGoodName
	}
	form = c.billingForm(typeBilling, ts, ip, ch.MID, req.OrderID, FitGoodName(goodName), withBuyerDefaults(FitBuyer(req.Buyer, LimitBuyerTel)))
	form.Set("price", price)
	form.Set("billKey", req.BillingKey)
	form.Set("authentification", "00")
	form.Set("cardQuota", quota(req.CardQuota))
	form.Set("quotaInterest", "0")
	form.Set("currency", currency(req.Currency))
	if req.VatAmount != nil {
		form.Set("tax", strconv.FormatInt(*req.VatAmount, 10))
	}
	if req.TaxFree > 0 {
		form.Set("taxFree", strconv.FormatInt(req.TaxFree, 10))
	}
	form.Set("hashData", billingHash(key, typeBilling, payMethodCard, ts, ip, ch.MID, req.OrderID, price, req.BillingKey))

	return e.INIAPI + "/api/v1/billing", form, nil
}

// Charge approves a payment on a billing key: INIAPI v1 POST /api/v1/billing
// type=Billing, hashData = SHA512(key+type+paymethod+timestamp+clientIp+mid+
// moid+price+billKey). moid is req.OrderID; send each moid once.
//
// Errors: a decline is EPG "[resultCode] resultMsg" (the ResultError inside
// carries the tid INICIS gives declines); an approval whose amount differs
// from the request is EUNCERTAIN (reconcile, never retry); see billkey.PG.
func (c *Connector) Charge(ctx context.Context, ch billkey.PGChannel, req billkey.ChargeRequest) (*billkey.Approval, error) {
	endpoint, form, err := c.BillingRequest(ch, req)
	if err != nil {
		return nil, err
	}
	e, _ := c.endpoints(ch)
	reply, err := c.postForm(ctx, "billing", endpoint, form)
	if err != nil {
		return nil, err
	}
	if code, _ := resultOf(reply); code != resultOK {
		re := refusal("billing", reply)
		c.log.LogAttrs(ctx, slog.LevelInfo, "inicis charge declined", slog.String("mid", ch.MID), slog.String("moid", req.OrderID),
			slog.String("tid", re.TID), slog.String("resultCode", re.Code), slog.String("resultMsg", re.Message))
		return nil, pgRefusal(re)
	}
	a := approvalFromReply(reply, c.cfg.Now())
	if a.TID == "" {
		return nil, noReply("billing", fmt.Errorf("%w: success reply without tid", ErrTampered))
	}
	if a.Amount == 0 {
		a.Amount = req.Amount
	} else if a.Amount != req.Amount {
		return nil, noReply("billing", fmt.Errorf("%w: approved price %d, requested %d (tid %s)", ErrTampered, a.Amount, req.Amount, a.TID))
	}
	a.ReceiptURL = c.receiptURL(e, a.TID)
	c.log.LogAttrs(ctx, slog.LevelInfo, "inicis charge approved", slog.String("mid", ch.MID), slog.String("moid", req.OrderID),
		slog.String("tid", a.TID), slog.Int64("amount", a.Amount))
	return a, nil
}

// approvalFromReply reads the v1/v2 approval field family.
func approvalFromReply(r Reply, now time.Time) *billkey.Approval {
	kftc, name := cardInfo(r.Get("cardCode", "CARD_Code"), r.Get("cardName"))
	q, _ := strconv.Atoi(r.Get("cardQuota", "payAuthQuota", "CARD_Quota"))
	amount, _ := strconv.ParseInt(strings.TrimSpace(r.Get("price", "TotPrice")), 10, 64)
	paid := parseKST(r.Get("payDate", "applDate"), r.Get("payTime", "applTime"))
	if paid.IsZero() {
		paid = now
	}
	return &billkey.Approval{
		TID:        r.Get("tid"),
		ApplyNum:   r.Get("payAuthCode", "applNum", "CARD_ApplNum"),
		Amount:     amount,
		CardCode:   kftc,
		CardName:   name,
		CardNumber: maskIfPlain(r.Get("cardNumber", "CARD_Num")),
		CardQuota:  q,
		PaidAt:     paid,
	}
}

// maskIfPlain returns a card number as INICIS masks it; an unmasked number
// (digits only) is masked here so it never travels further.
func maskIfPlain(s string) string {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return s
	}
	return billkey.MaskCardNumber(s)
}

func quota(n int) string {
	if n <= 1 {
		return "00"
	}
	return fmt.Sprintf("%02d", n)
}

func currency(c string) string {
	switch strings.ToUpper(c) {
	case "USD":
		return "USD"
	default:
		return "WON"
	}
}

func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// RegNo converts a card holder's identity number to INIAPI key-in regNo: a
// personal card's birth date as 6 digits YYMMDD (an 8-digit YYYYMMDD loses
// its century), a corporate card's 10-digit business registration number as
// is; "" stays "" (regNo not sent). Anything else is EREJECTED.
//
// No INICIS page in reach states the length. The 6-digit form is the most
// direct evidence: i'mport, which relays exactly this key-in issuance to
// INICIS, documents its birth parameter as 생년월일 6자리 (YYMMDD) or a
// 10-digit business number, and an integrator's INIAPI formpay client (the
// sibling API with the same [ENC] regNo) sends YYMMDD; a single other
// integrator sends YYYYMMDD. See docs/inicis.md.
func RegNo(birth string) (string, error) {
	d := digitsOnly(birth)
	switch {
	case birth == "":
		return "", nil
	case len(d) == 6 && validMonthDay(d[2:]):
		return d, nil
	case len(d) == 8 && validMonthDay(d[4:]):
		return d[2:], nil
	case len(d) == 10:
		return d, nil
	}
	return "", billkey.Errorf(billkey.EREJECTED, "생년월일(YYMMDD) 또는 사업자등록번호(10자리) 형식이 올바르지 않습니다. (birth must be YYMMDD or a 10-digit business number)")
}

// validMonthDay reports whether s is MMDD with a plausible month and day.
func validMonthDay(s string) bool {
	m, _ := strconv.Atoi(s[:2])
	d, _ := strconv.Atoi(s[2:])
	return m >= 1 && m <= 12 && d >= 1 && d <= 31
}

// yymm turns billkey's "YYYY-MM" (also "YYYYMM", "YYMM", "YY-MM") into
// INICIS's YYMM.
func yymm(expiry string) (string, bool) {
	d := digitsOnly(expiry)
	switch len(d) {
	case 6:
		d = d[2:]
	case 4:
	default:
		return "", false
	}
	if m, _ := strconv.Atoi(d[2:]); m < 1 || m > 12 {
		return "", false
	}
	return d, true
}
