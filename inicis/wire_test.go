package inicis_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
)

func fixedConnector(base string) *inicis.Connector {
	return inicis.New(inicis.Config{
		Test:     inicis.SimulatorEndpoints(base),
		Now:      func() time.Time { return fixedNow },
		ClientIP: "10.1.2.3",
		SiteURL:  "https://shop.example",
	})
}

func TestChargeWire(t *testing.T) {
	t.Parallel()
	cs := newCaptureServer(t, 200, `{"tid":"INIAPICARDINIBillTst20260314092653123456","resultCode":"00","resultMsg":"[신용카드|빌링이 정상적으로 이루어졌습니다.]","payDate":"20260314","payTime":"092653","payAuthCode":"00299510","cardCode":"11","checkFlg":"0","payAuthQuota":"03","prtcCode":"1","price":"15900","cardName":"BC카드"}`)
	c := fixedConnector(cs.URL)
	ch := testChannel()
	vat := int64(1445)
	a, err := c.Charge(context.Background(), ch, billkey.ChargeRequest{
		OrderID: "imp_123456789012", BillingKey: "a94b3384630058effd9cff593d05ec0ef6145725", Amount: 15900, VatAmount: &vat,
		GoodName: "월간 이용권", Buyer: buyer(), CardQuota: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	req := cs.last(t)
	if req.Path != "/api/v1/billing" || !strings.HasPrefix(req.ContentType, "application/x-www-form-urlencoded") {
		t.Fatalf("path %s, content type %s", req.Path, req.ContentType)
	}
	f := req.Form
	want := map[string]string{
		"type": "Billing", "paymethod": "Card", "timestamp": "20260314092653", "clientIp": "10.1.2.3", "mid": "INIBillTst",
		"url": "https://shop.example", "moid": "imp_123456789012", "goodName": "월간 이용권", "buyerName": "홍길동",
		"buyerEmail": "gildong@example.com", "buyerTel": "010-1234-5678", "price": "15900",
		"billKey": "a94b3384630058effd9cff593d05ec0ef6145725", "authentification": "00", "cardQuota": "03",
		"currency": "WON", "tax": "1445",
	}
	for k, v := range want {
		if f.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, f.Get(k), v)
		}
	}
	plain := "rKnPljRn5m6J9Mzz" + "Billing" + "Card" + "20260314092653" + "10.1.2.3" + "INIBillTst" + "imp_123456789012" + "15900" + "a94b3384630058effd9cff593d05ec0ef6145725"
	if f.Get("hashData") != hexSHA512(plain) {
		t.Errorf("hashData %s, want sha512(%s)", f.Get("hashData"), plain)
	}
	if a.TID != "INIAPICARDINIBillTst20260314092653123456" || a.ApplyNum != "00299510" || a.Amount != 15900 ||
		a.CardCode != "361" || a.CardName != "BC카드" || a.CardQuota != 3 {
		t.Errorf("approval %+v", a)
	}
	if !a.PaidAt.Equal(time.Date(2026, 3, 14, 0, 26, 53, 0, time.UTC)) {
		t.Errorf("PaidAt %v", a.PaidAt)
	}
	if !strings.HasSuffix(a.ReceiptURL, "/receipt?noTid=INIAPICARDINIBillTst20260314092653123456") {
		t.Errorf("receipt %s", a.ReceiptURL)
	}
}

func TestIssueWire(t *testing.T) {
	t.Parallel()
	cs := newCaptureServer(t, 200, `{"resultCode":"00","resultMsg":"ok","billKey":"7971dbf8bb448efeb0d6eff1c88676337b8755a9","cardCode":"6","tid":"T1","authDate":"20260314","authTime":"092700"}`)
	c := fixedConnector(cs.URL)
	ch := testChannel()
	bk, err := c.IssueBillingKey(context.Background(), ch, billkey.IssueRequest{
		OrderID: "cust_1_issue", Card: billkey.Card{Number: "4579-7312-3456-7890", Expiry: "2029-07", Birth: "900512", Pwd2Digit: "34"},
		Buyer: buyer(),
	})
	if err != nil {
		t.Fatal(err)
	}
	f := cs.last(t).Form
	cr, err := inicis.ParseCredentials(ch.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	key, iv := cr.APIKey, cr.APIIV
	for field, want := range map[string]string{"cardNumber": "4579731234567890", "cardExpire": "2907", "regNo": "900512", "cardPw": "34"} {
		if got := decryptIndependently(t, f.Get(field), key, iv); got != want {
			t.Errorf("%s decrypts to %q, want %q", field, got, want)
		}
	}
	if f.Get("type") != "Auth" || f.Get("price") != "0" {
		t.Errorf("type %q price %q", f.Get("type"), f.Get("price"))
	}
	plain := key + "Auth" + "Card" + "20260314092653" + "10.1.2.3" + "INIBillTst" + "cust_1_issue" + "0" + f.Get("cardNumber")
	if f.Get("hashData") != hexSHA512(plain) {
		t.Error("hashData is not sha512 over the encrypted cardNumber recipe")
	}
	// The raw body must keep '+' and '/' of base64 intact (URL-encoded).
	if strings.Contains(f.Get("cardNumber"), " ") {
		t.Error("'+' was lost in transit")
	}
	if bk.Key != "7971dbf8bb448efeb0d6eff1c88676337b8755a9" || bk.CardCode != "381" || bk.CardName != "국민KB카드" ||
		bk.CardNumber != "457973*********0" || bk.PGTID != "T1" {
		t.Errorf("billing key %+v", bk)
	}
	if s := bk.String(); strings.Contains(s, bk.Key) {
		t.Errorf("BillingKey.String leaks the key: %s", s)
	}
}

func TestRefundWire(t *testing.T) {
	t.Parallel()
	cs := newCaptureServer(t, 200, `{"resultCode":"00","resultMsg":"정상처리되었습니다.","cancelDate":"20260314","cancelTime":"100000","tid":"PARTIALTID"}`)
	c := fixedConnector(cs.URL)
	ch := testChannel()
	res, err := c.Refund(context.Background(), ch, billkey.RefundRequest{TID: "ORIGTID", Amount: 700, Remaining: 300, Partial: true, Reason: "부분 환불"})
	if err != nil {
		t.Fatal(err)
	}
	f := cs.last(t).Form
	if f.Get("type") != "PartialRefund" || f.Get("price") != "700" || f.Get("confirmPrice") != "300" || f.Get("msg") != "부분 환불" {
		t.Errorf("form %v", f)
	}
	plain := "rKnPljRn5m6J9Mzz" + "PartialRefund" + "Card" + "20260314092653" + "10.1.2.3" + "INIBillTst" + "ORIGTID" + "700" + "300"
	if f.Get("hashData") != hexSHA512(plain) {
		t.Error("partial refund hashData")
	}
	if res.TID != "PARTIALTID" || res.AlreadyDone || !res.CancelledAt.Equal(time.Date(2026, 3, 14, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("result %+v", res)
	}

	if _, err := c.Refund(context.Background(), ch, billkey.RefundRequest{TID: "ORIGTID", Amount: 1000}); err != nil {
		t.Fatal(err)
	}
	f = cs.last(t).Form
	plain = "rKnPljRn5m6J9Mzz" + "Refund" + "Card" + "20260314092653" + "10.1.2.3" + "INIBillTst" + "ORIGTID"
	if f.Get("type") != "Refund" || f.Get("hashData") != hexSHA512(plain) || f.Has("price") {
		t.Errorf("full refund form %v", f)
	}
}

func TestRefundAlreadyCancelled(t *testing.T) {
	t.Parallel()
	cs := newCaptureServer(t, 200, `{"resultCode":"01","resultMsg":"기 취소 거래","cancelDate":"20230912","cancelTime":"154230","receiptInfo":"","cshrCancelNum":"","detailResultCode":"512626"}`)
	res, err := fixedConnector(cs.URL).Refund(context.Background(), testChannel(), billkey.RefundRequest{TID: "T"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.AlreadyDone {
		t.Error("기 취소 거래 not mapped to AlreadyDone")
	}
}

func TestInquiryWire(t *testing.T) {
	t.Parallel()
	cs := newCaptureServer(t, 200, `{"resultCode":"00","resultMsg":"ok","transactionStatus":"PART_CANCEL","tid":"T9","oid":"imp_1<&>","price":1000,"payAuthCode":"12345678","cardCode":"04","payDate":"20260314","payTime":"101010","cardQuota":null}`)
	inq, err := fixedConnector(cs.URL).Inquire(context.Background(), testChannel(), "imp_1<&>")
	if err != nil {
		t.Fatal(err)
	}
	req := cs.last(t)
	if req.Path != "/v2/pg/inquiry" || !strings.HasPrefix(req.ContentType, "application/json") {
		t.Fatalf("path %s type %s", req.Path, req.ContentType)
	}
	var env struct {
		MID, Type, Timestamp, ClientIP, HashData string
		Data                                     json.RawMessage
	}
	if err := json.Unmarshal(req.Body, &env); err != nil {
		t.Fatal(err)
	}
	if string(env.Data) != `{"oid":"imp_1<&>"}` {
		t.Errorf("data %s (must not be HTML-escaped)", env.Data)
	}
	if !strings.Contains(string(req.Body), `"data":{"oid":"imp_1<&>"}`) {
		t.Errorf("body does not carry the hashed data bytes verbatim: %s", req.Body)
	}
	plain := "rKnPljRn5m6J9Mzz" + "INIBillTst" + "inquiry" + "20260314092653" + `{"oid":"imp_1<&>"}`
	if env.HashData != hexSHA512(plain) || env.Type != "inquiry" || env.MID != "INIBillTst" {
		t.Errorf("envelope %+v", env)
	}
	if inq.State != billkey.InquiryApproved || inq.Approval.TID != "T9" || inq.Approval.Amount != 1000 || inq.Approval.CardName != "현대카드" {
		t.Errorf("inquiry %+v %+v", inq, inq.Approval)
	}
}

func TestStdPayFormFields(t *testing.T) {
	t.Parallel()
	c := fixedConnector("https://sim.example/inicis-sim")
	ch := testChannel()
	form, err := c.StdPayForm(ch, inicis.StdPayRequest{
		OrderID: "imp_000000000001", Price: 0, GoodName: "정기결제", Buyer: buyer(),
		ReturnURL: "https://billkey.example/window/inicis/return", CloseURL: "https://billkey.example/window/inicis/close",
		MerchantData: "abc",
	})
	if err != nil {
		t.Fatal(err)
	}
	f := form.Fields
	ts := f.Get("timestamp")
	if ts != "1773448013000" {
		t.Errorf("timestamp %s", ts)
	}
	if f.Get("signature") != hexSHA256("oid=imp_000000000001&price=0&timestamp="+ts) {
		t.Error("signature")
	}
	if f.Get("verification") != hexSHA256("oid=imp_000000000001&price=0&signKey=SU5JTElURV9UUklQTEVERVNfS0VZU1RS&timestamp="+ts) {
		t.Error("verification")
	}
	if f.Get("mKey") != hexSHA256("SU5JTElURV9UUklQTEVERVNfS0VZU1RS") || f.Get("use_chkfake") != "Y" ||
		f.Get("acceptmethod") != "BILLAUTH(Card)" || f.Get("mid") != "INIBillTst" || f.Get("version") != "1.0" {
		t.Errorf("fields %v", f)
	}
	if form.ScriptURL != "https://sim.example/inicis-sim/stdjs/INIStdPay.js" || form.Action != "https://sim.example/inicis-sim/stdpay/window" {
		t.Errorf("urls %s %s", form.ScriptURL, form.Action)
	}
	prod := inicis.New(inicis.Config{Live: inicis.ProductionEndpoints()})
	ch.Live = true
	pf, err := prod.StdPayForm(ch, inicis.StdPayRequest{OrderID: "o", ReturnURL: "https://x.example/r"})
	if err != nil {
		t.Fatal(err)
	}
	if pf.ScriptURL != "https://stdpay.inicis.com/stdjs/INIStdPay.js" || pf.Action != "" {
		t.Errorf("production form %s %q", pf.ScriptURL, pf.Action)
	}
	if _, err := c.StdPayForm(testChannel(), inicis.StdPayRequest{OrderID: "o", ReturnURL: "https://x/r", AcceptMethod: "below1000"}); err == nil {
		t.Error("non-billing acceptmethod accepted")
	}
}

func TestLiteFormFields(t *testing.T) {
	t.Parallel()
	c := fixedConnector("https://sim.example")
	form, err := c.LiteForm(testChannel(), inicis.LiteRequest{OrderID: "ORDER-1", Price: 1000, GoodName: "g", Buyer: buyer(), ReturnURL: "https://m.example/r", Period: "M2"})
	if err != nil {
		t.Fatal(err)
	}
	f := form.Fields
	if form.Action != "https://sim.example/inibill/inibill_card.jsp" || f.Get("timestamp") != "20260314092653" || f.Get("authtype") != "D" {
		t.Errorf("form %s %v", form.Action, f)
	}
	if f.Get("hashdata") != hexSHA256("INIBillTst"+"ORDER-1"+"20260314092653"+"b09LVzhuTGZVaEY1WmJoQnZzdXpRdz09") {
		t.Error("hashdata")
	}
	ch := testChannel()
	cr, _ := inicis.ParseCredentials(ch.Credentials)
	cr.LiteKey = ""
	ch.Credentials = cr.Encode()
	if _, err := c.LiteForm(ch, inicis.LiteRequest{OrderID: "o", ReturnURL: "https://r"}); err == nil {
		t.Error("channel without INILite key accepted")
	}
}
