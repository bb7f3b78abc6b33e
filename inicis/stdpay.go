package inicis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/billkey/billkey"
)

// StdPay result conventions.
const (
	// StdPayOK is the INIStdPay success code (STEP 2 and STEP 4).
	StdPayOK = "0000"
	// StdPayUserCancelCode is posted to returnUrl when the buyer closes the
	// window and no closeUrl was given. INICIS itself loads closeUrl in that
	// case; the code is a project choice shared with the simulator.
	StdPayUserCancelCode = "V801"
	// DefaultAcceptMethod is the acceptmethod of a card billing-auth window.
	DefaultAcceptMethod = "BILLAUTH(Card)"
)

// StdPayRequest describes one INIStdPay PC window in billing-authentication
// mode (acceptmethod BILLAUTH(Card)): the buyer authenticates a card and
// INICIS issues a billKey; nothing is charged.
type StdPayRequest struct {
	OrderID      string // oid: unique per MID, at most LimitStdPayOID bytes
	Price        int64  // shown to the buyer only; no approval is made
	GoodName     string // cut to LimitGoodName bytes
	Buyer        billkey.Buyer
	ReturnURL    string // STEP 2 target; same site as the paying page
	CloseURL     string // loaded when the buyer closes the window (optional)
	OfferPeriod  string // "M2", "Y2" or "yyyyMMdd-yyyyMMdd" (optional)
	BillPrintMsg string // message shown to the buyer (optional)
	MerchantData string // echoed back in STEP 2 (at most 2000 bytes)
	AcceptMethod string // default DefaultAcceptMethod; must contain BILLAUTH
	Language     string // languageView: "ko" (default) or "en"
}

// StdPayForm is what a merchant page needs to open the PC window: load
// ScriptURL, put Fields in a form as hidden inputs, and call
// INIStdPay.pay(formId). Action is the direct POST target where one exists
// (the simulator); it is "" for INICIS, whose window opens only through the
// script.
type StdPayForm struct {
	ScriptURL string
	Action    string
	Fields    url.Values
}

// StdPayForm builds the STEP 1 browser form: version, mid, oid, price,
// goodname, buyer fields, currency WON, gopaymethod Card, acceptmethod,
// timestamp (epoch ms), signature = SHA256("oid=..&price=..&timestamp=.."),
// use_chkfake=Y with verification = SHA256("oid=..&price=..&signKey=..&
// timestamp=.."), mKey = SHA256(signKey), returnUrl, closeUrl,
// payViewType=overlay, languageView, charset UTF-8, merchantData.
//
// The window is always the overlay: INIStdPay.js refuses payViewType=popup
// without a popupUrl page ("payViewType를 popup으로 설정한 경우 반드시
// popupUrl를 입력해야 합니다"), and billkey's window already runs in its own
// modal frame or tab, so a second popup would only meet popup blockers.
// goodname and the buyer fields are fitted to INICIS's limits (FitGoodName,
// FitBuyer with LimitStdPayBuyerTel); an oid over LimitStdPayOID bytes is
// refused, since INIStdPay.js would refuse it.
func (c *Connector) StdPayForm(ch billkey.PGChannel, req StdPayRequest) (*StdPayForm, error) {
	e, cr, err := c.channel(ch)
	if err != nil {
		return nil, err
	}
	signKey := cr.SignKey
	if signKey == "" {
		return nil, fmt.Errorf("inicis: channel %s has no signKey", ch.MID)
	}
	if req.OrderID == "" || req.ReturnURL == "" {
		return nil, errors.New("inicis: StdPay window needs an order id and a returnUrl")
	}
	am := req.AcceptMethod
	if am == "" {
		am = DefaultAcceptMethod
	}
	if !strings.Contains(strings.ToUpper(am), "BILLAUTH") {
		return nil, fmt.Errorf("inicis: acceptmethod %q is not a billing-auth window", am)
	}
	if err := orderIDFits(req.OrderID, LimitStdPayOID); err != nil {
		return nil, err
	}
	// INIStdPay.js refuses to open without buyertel; buyeremail is treated
	// as required too. Blank ones get the same placeholders as charges.
	buyer := FitBuyer(req.Buyer, LimitStdPayBuyerTel)
	if strings.TrimSpace(buyer.Tel) == "" {
		buyer.Tel = DefaultBuyerTel
	}
	if strings.TrimSpace(buyer.Email) == "" {
		buyer.Email = DefaultBuyerEmail
	}
	lang := req.Language
	if lang == "" {
		lang = "ko"
	}
	ts := msTimestamp(c.cfg.Now())
	price := strconv.FormatInt(req.Price, 10)
	f := url.Values{}
	f.Set("version", "1.0")
	f.Set("mid", ch.MID)
	f.Set("oid", req.OrderID)
	f.Set("price", price)
	f.Set("goodname", FitGoodName(req.GoodName))
	f.Set("buyername", buyer.Name)
	f.Set("buyertel", buyer.Tel)
	f.Set("buyeremail", buyer.Email)
	f.Set("currency", "WON")
	f.Set("gopaymethod", "Card")
	f.Set("acceptmethod", am)
	if req.OfferPeriod != "" {
		f.Set("offerPeriod", req.OfferPeriod)
	}
	if req.BillPrintMsg != "" {
		f.Set("billPrint_msg", req.BillPrintMsg)
	}
	f.Set("timestamp", ts)
	f.Set("signature", stdSignature(req.OrderID, price, ts))
	f.Set("use_chkfake", "Y")
	f.Set("verification", stdVerification(req.OrderID, price, signKey, ts))
	f.Set("mKey", stdMKey(signKey))
	f.Set("returnUrl", req.ReturnURL)
	if req.CloseURL != "" {
		f.Set("closeUrl", req.CloseURL)
	}
	f.Set("payViewType", "overlay")
	f.Set("languageView", lang)
	f.Set("charset", "UTF-8")
	if req.MerchantData != "" {
		f.Set("merchantData", req.MerchantData)
	}
	return &StdPayForm{ScriptURL: e.StdPayJS, Action: e.StdPayWindow, Fields: f}, nil
}

// StdPayReturn is INICIS's STEP 2 post to returnUrl.
type StdPayReturn struct {
	ResultCode   string // StdPayOK on success
	ResultMsg    string
	MID          string
	OrderNumber  string // the oid
	AuthToken    string // opaque, passed through verbatim
	AuthURL      string
	NetCancelURL string
	CheckAckURL  string
	IDCName      string // idc_name: "fc", "ks" or "stg"
	Charset      string
	MerchantData string
}

// ParseStdPayReturn reads the STEP 2 post. It fails (EINVALID) when the post
// has no resultCode, or claims success without mid, orderNumber, authToken,
// authUrl, netCancelUrl or idc_name. A refusal or cancel parses fine: check OK.
func ParseStdPayReturn(v url.Values) (*StdPayReturn, error) {
	r := &StdPayReturn{
		ResultCode:   v.Get("resultCode"),
		ResultMsg:    v.Get("resultMsg"),
		MID:          v.Get("mid"),
		OrderNumber:  v.Get("orderNumber"),
		AuthToken:    v.Get("authToken"),
		AuthURL:      v.Get("authUrl"),
		NetCancelURL: v.Get("netCancelUrl"),
		CheckAckURL:  v.Get("checkAckUrl"),
		IDCName:      v.Get("idc_name"),
		Charset:      v.Get("charset"),
		MerchantData: v.Get("merchantData"),
	}
	if r.ResultCode == "" {
		return nil, billkey.Errorf(billkey.EINVALID, "INICIS 결과에 resultCode가 없습니다.")
	}
	if r.OK() {
		for name, val := range map[string]string{"mid": r.MID, "orderNumber": r.OrderNumber, "authToken": r.AuthToken,
			"authUrl": r.AuthURL, "netCancelUrl": r.NetCancelURL, "idc_name": r.IDCName} {
			if val == "" {
				return nil, billkey.Errorf(billkey.EINVALID, "INICIS 결과에 %s가 없습니다.", name)
			}
		}
	}
	return r, nil
}

// OK reports whether the buyer's authentication succeeded.
func (r *StdPayReturn) OK() bool { return r.ResultCode == StdPayOK }

// Cancelled reports whether the buyer closed the window.
func (r *StdPayReturn) Cancelled() bool { return r.ResultCode == StdPayUserCancelCode }

// Err returns nil on success, else the EPG error "[resultCode] resultMsg".
func (r *StdPayReturn) Err() error {
	if r.OK() {
		return nil
	}
	return pgRefusal(&ResultError{Op: "window", Code: r.ResultCode, Message: r.ResultMsg})
}

// CheckStdPayURLs verifies that authUrl and netCancelUrl are exactly the
// approval URLs of the posted idc_name on the channel's endpoints, so a forged
// STEP 2 post cannot make billkey call (and send the authToken and signature
// to) an arbitrary host.
func (c *Connector) CheckStdPayURLs(ch billkey.PGChannel, r *StdPayReturn) error {
	e, err := c.endpoints(ch)
	if err != nil {
		return err
	}
	origin, ok := e.StdPayIDC[r.IDCName]
	if !ok {
		return tampered("stdpay", "알 수 없는 idc_name")
	}
	if !sameURL(r.AuthURL, origin+"/api/payAuth") {
		return tampered("stdpay", "허용되지 않은 authUrl")
	}
	if !sameURL(r.NetCancelURL, origin+"/api/netCancel") {
		return tampered("stdpay", "허용되지 않은 netCancelUrl")
	}
	return nil
}

func sameURL(got, want string) bool {
	g, err := url.Parse(got)
	if err != nil {
		return false
	}
	w, err := url.Parse(want)
	if err != nil {
		return false
	}
	return g.Scheme == w.Scheme && strings.EqualFold(g.Host, w.Host) && g.User == nil &&
		g.Path == w.Path && g.RawQuery == "" && g.Fragment == "" && g.Opaque == ""
}

// approvalForm is the STEP 3 request (also used for net cancel).
func (c *Connector) approvalForm(ch billkey.PGChannel, r *StdPayReturn) (url.Values, string, error) {
	cr, err := credentialsOf(ch)
	if err != nil {
		return nil, "", err
	}
	ts := msTimestamp(c.cfg.Now())
	f := url.Values{}
	f.Set("mid", ch.MID)
	f.Set("authToken", r.AuthToken)
	f.Set("timestamp", ts)
	f.Set("signature", authSignature(r.AuthToken, ts))
	f.Set("verification", authVerification(r.AuthToken, cr.SignKey, ts))
	f.Set("charset", "UTF-8")
	f.Set("format", "JSON")
	return f, ts, nil
}

// ApproveStdPay runs STEP 3 and 4: it checks the STEP 2 post (success, MID,
// orderNumber == orderID, authUrl/netCancelUrl allowed), posts the approval
// to authUrl, and checks the reply: resultCode "0000", authSignature, mid,
// MOID and a CARD_BillKey. It returns the billing key with the masked card.
//
// When the reply is lost (EUNCERTAIN) or fails a check after INICIS may have
// approved, it net-cancels before returning: a successful net cancel turns
// the outcome into a plain EPG failure (nothing issued); a failed one leaves
// EUNCERTAIN.
func (c *Connector) ApproveStdPay(ctx context.Context, ch billkey.PGChannel, r *StdPayReturn, orderID string) (*billkey.BillingKey, error) {
	if err := r.Err(); err != nil {
		return nil, err
	}
	if r.MID != ch.MID {
		return nil, tampered("payAuth", "mid 불일치")
	}
	if r.OrderNumber != orderID {
		return nil, tampered("payAuth", "주문번호 불일치")
	}
	if err := c.CheckStdPayURLs(ch, r); err != nil {
		return nil, err
	}
	form, ts, err := c.approvalForm(ch, r)
	if err != nil {
		return nil, err
	}
	reply, err := c.postForm(ctx, "payAuth", r.AuthURL, form)
	if err != nil {
		if billkey.ErrorCode(err) == billkey.EUNCERTAIN {
			return nil, c.cancelAfter(ctx, ch, r, err)
		}
		return nil, err
	}
	code, msg := resultOf(reply)
	if code != StdPayOK {
		c.log.LogAttrs(ctx, slog.LevelInfo, "inicis stdpay approval refused", slog.String("mid", ch.MID), slog.String("oid", orderID),
			slog.String("resultCode", code), slog.String("resultMsg", msg))
		return nil, pgRefusal(refusal("payAuth", reply))
	}
	moid, total := reply.Get("MOID", "moid"), reply.Get("TotPrice")
	switch {
	case !hexEqual(reply.Get("authSignature"), replySignature(ch.MID, moid, total, ts)):
		return nil, c.cancelAfter(ctx, ch, r, tampered("payAuth", "authSignature 불일치"))
	case moid != orderID:
		return nil, c.cancelAfter(ctx, ch, r, tampered("payAuth", "MOID 불일치"))
	case reply.Get("mid") != "" && reply.Get("mid") != ch.MID:
		return nil, c.cancelAfter(ctx, ch, r, tampered("payAuth", "mid 불일치"))
	}
	bk := reply.GetFold("CARD_BillKey")
	if bk == "" {
		return nil, c.cancelAfter(ctx, ch, r, tampered("payAuth", "CARD_BillKey 없음"))
	}
	kftc, name := cardInfo(reply.Get("CARD_Code"), reply.Get("CARD_Name", "cardName"))
	issued := parseKST(reply.Get("applDate"), reply.Get("applTime"))
	if issued.IsZero() {
		issued = c.cfg.Now()
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "inicis stdpay billing key issued", slog.String("mid", ch.MID), slog.String("oid", orderID),
		slog.String("tid", reply.Get("tid")))
	return &billkey.BillingKey{
		Key:        bk,
		CardCode:   kftc,
		CardName:   name,
		CardNumber: maskIfPlain(reply.Get("CARD_Num")),
		PGTID:      reply.Get("tid"),
		IssuedAt:   issued,
	}, nil
}

// cancelAfter net-cancels after a failed or unverifiable approval and
// returns the error to report.
func (c *Connector) cancelAfter(ctx context.Context, ch billkey.PGChannel, r *StdPayReturn, cause error) error {
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
	defer cancel()
	if err := c.NetCancel(nctx, ch, r); err != nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "inicis net cancel failed", slog.String("mid", ch.MID),
			slog.String("oid", r.OrderNumber), slog.String("error", err.Error()))
		if billkey.ErrorCode(cause) == billkey.EUNCERTAIN {
			return cause
		}
		return &billkey.Error{Code: billkey.EUNCERTAIN, Message: billkey.ErrorMessage(cause) + " 망취소에 실패했습니다.",
			Err: errors.Join(cause, err)}
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "inicis net cancel done", slog.String("mid", ch.MID), slog.String("oid", r.OrderNumber))
	if billkey.ErrorCode(cause) == billkey.EUNCERTAIN {
		return &billkey.Error{Code: billkey.EPG, Message: "PG사 승인 응답을 받지 못해 망취소했습니다. (net-cancelled)", Err: cause}
	}
	return cause
}

// NetCancel (망취소) voids a STEP 3 approval billkey cannot complete: it posts
// the STEP 3 parameter set (fresh timestamp and signatures) to netCancelUrl,
// after the same URL check. Not a refund: use Refund for approved payments.
func (c *Connector) NetCancel(ctx context.Context, ch billkey.PGChannel, r *StdPayReturn) error {
	if err := c.CheckStdPayURLs(ch, r); err != nil {
		return err
	}
	form, _, err := c.approvalForm(ch, r)
	if err != nil {
		return err
	}
	reply, err := c.postForm(ctx, "netCancel", r.NetCancelURL, form)
	if err != nil {
		return err
	}
	if code, _ := resultOf(reply); code != StdPayOK && code != resultOK {
		return pgRefusal(refusal("netCancel", reply))
	}
	return nil
}

// PageSources are the origins a page that opens the PC window through
// INIStdPay.js must allow, per Content-Security-Policy directive.
type PageSources = billkey.PageSources

// StdPayAssetOrigin is the host INICIS's production INIStdPay.js loads its
// helper script (INIStdPay_third-party.js, jQuery and its modal) and the
// overlay's close button from.
const StdPayAssetOrigin = "https://stdux.inicis.com"

// StdPayPageSources returns what a page loading the INIStdPay.js at
// scriptURL needs. For INICIS's script (stdpay.inicis.com, or
// stgstdpay.inicis.com for staging) that is, as its source shows: the
// script's own origin for the script, its stylesheet stdcss/INIStdPay.css,
// the overlay iframe (named target of the form) and the form action
// payMain/pay, plus StdPayAssetOrigin for the helper script and images. The
// approval hosts fcstdpay/ksstdpay are called by billkey's server only, and
// everything INICIS's window loads inside its iframe (card companies, ads)
// is governed by INICIS's own pages, not this one. For any other script (the
// simulator's stand-in, which posts the form itself) only the script's
// origin is needed, for the script and the form action.
func StdPayPageSources(scriptURL string) PageSources {
	u, err := url.Parse(scriptURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return PageSources{}
	}
	origin := u.Scheme + "://" + u.Host
	switch {
	case u.Scheme == "https" && (u.Host == "stdpay.inicis.com" || u.Host == "stgstdpay.inicis.com"):
		return PageSources{
			Script: []string{origin, StdPayAssetOrigin},
			Style:  []string{origin},
			Img:    []string{origin, StdPayAssetOrigin},
			Frame:  []string{origin},
			Form:   []string{origin},
		}
	default:
		return PageSources{Script: []string{origin}, Form: []string{origin}}
	}
}
