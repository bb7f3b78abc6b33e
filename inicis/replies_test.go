package inicis_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
)

// Reply shapes as the public sources show them (docs/inicis.md lists each
// source). The bodies below are written for these tests from the field names
// and value formats those sources use.

// TestInquiryReplyShapes feeds /v2/pg/inquiry replies in INICIS's shape.
//
// Sources: INICIS's PHP sample for POST https://iniapi.inicis.com/v2/pg/inquiry
// (the INIAPI manual's sample code, as redistributed in public code), which
// reads resultCode, resultMsg, tid, mid, oid, price, goodsName, paymethod,
// approvedDate, approvedTime, buyerName, buyerTel, buyerMail,
// transactionStatus and availablePartCancel; integrators' INICIS clients in
// public code that check resultCode "SUCCESS", transactionStatus
// APPROVAL / PART_CANCEL / CANCEL, paymethod Card, cardInfo.currencyCode
// (WON), cardInfo.approvedNumber, availablePartCancelPrice and
// partCancelTransInfo [{tid, requestDate, requestTime, requestPrice}].
func TestInquiryReplyShapes(t *testing.T) {
	t.Parallel()
	approved := `{"resultCode":"SUCCESS","resultMsg":"정상처리되었습니다.","tid":"INIAPICARDINIBillTst20260314101010123456",
"mid":"INIBillTst","oid":"imps_1","price":"15800","goodsName":"월간 구독","paymethod":"Card",
"approvedDate":"20260314","approvedTime":"101010","buyerName":"홍길동","buyerTel":"01012345678","buyerMail":"a@example.com",
"transactionStatus":"APPROVAL","availablePartCancel":true,"availablePartCancelPrice":"15800","partCancelTransInfo":[],
"cardInfo":{"currencyCode":"WON","approvedNumber":"30012345"}}`
	partCancel := `{"resultCode":"SUCCESS","mid":"INIBillTst","oid":"imps_1","price":"50000","tid":"T-PART",
"transactionStatus":"PART_CANCEL","paymethod":"Card","approvedDate":"20260915","approvedTime":"120000","cardInfo":{"currencyCode":"WON"},
"availablePartCancelPrice":"40000","partCancelTransInfo":[{"tid":"T-PARTP1","requestDate":"20260916","requestTime":"100000","requestPrice":"10000"}]}`
	cancelled := `{"resultCode":"SUCCESS","mid":"INIBillTst","oid":"imps_1","price":"15800","tid":"T-CANCEL",
"transactionStatus":"CANCEL","paymethod":"Card","approvedDate":"20260915","approvedTime":"120500","cardInfo":{"currencyCode":"WON","approvedNumber":"11112222"},
"availablePartCancelPrice":"0","partCancelTransInfo":[],"cancelDate":"20260916","cancelTime":"090000"}`
	kst := func(s string) time.Time { t, _ := time.ParseInLocation("20060102150405", s, inicis.KST); return t }

	for _, tc := range []struct {
		name   string
		reply  string
		state  billkey.InquiryState
		tid    string
		amount int64
		apply  string
		paid   time.Time
	}{
		{"approval", approved, billkey.InquiryApproved, "INIAPICARDINIBillTst20260314101010123456", 15800, "30012345", kst("20260314101010")},
		{"part cancel", partCancel, billkey.InquiryApproved, "T-PART", 50000, "", kst("20260915120000")},
		{"cancel", cancelled, billkey.InquiryCancelled, "T-CANCEL", 15800, "11112222", kst("20260915120500")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cs := newCaptureServer(t, 200, tc.reply)
			inq, err := fixedConnector(cs.URL).Inquire(context.Background(), testChannel(), "imps_1")
			if err != nil {
				t.Fatal(err)
			}
			a := inq.Approval
			if inq.State != tc.state || a == nil {
				t.Fatalf("inquiry %+v", inq)
			}
			if a.TID != tc.tid || a.Amount != tc.amount || a.ApplyNum != tc.apply || !a.PaidAt.Equal(tc.paid) {
				t.Errorf("approval %+v, want tid %s amount %d apply %q paid %s", a, tc.tid, tc.amount, tc.apply, tc.paid)
			}
		})
	}
}

// TestInquiryReplyForAnotherOrder: a reply naming another oid or MID is never
// taken as this order's state.
func TestInquiryReplyForAnotherOrder(t *testing.T) {
	t.Parallel()
	for _, reply := range []string{
		`{"resultCode":"SUCCESS","mid":"INIBillTst","oid":"imps_2","price":"1000","tid":"T","transactionStatus":"APPROVAL"}`,
		`{"resultCode":"SUCCESS","mid":"OTHERMID00","oid":"imps_1","price":"1000","tid":"T","transactionStatus":"APPROVAL"}`,
	} {
		cs := newCaptureServer(t, 200, reply)
		_, err := fixedConnector(cs.URL).Inquire(context.Background(), testChannel(), "imps_1")
		if billkey.ErrorCode(err) != billkey.EUNCERTAIN {
			t.Errorf("reply %s: err %v, want EUNCERTAIN", reply, err)
		}
	}
}

// TestInquiryCardInfoCard: card fields found inside cardInfo reach the
// approval (the simulator sends cardCode there; see docs/inicis-simulator.md).
func TestInquiryCardInfoCard(t *testing.T) {
	t.Parallel()
	cs := newCaptureServer(t, 200, `{"resultCode":"SUCCESS","mid":"INIBillTst","oid":"imps_1","price":"1000","tid":"T","transactionStatus":"APPROVAL",
"approvedDate":"20260314","approvedTime":"101010","cardInfo":{"currencyCode":"WON","approvedNumber":"30012345","cardCode":"04","cardQuota":"03","cardNumber":"4364200000000006"}}`)
	inq, err := fixedConnector(cs.URL).Inquire(context.Background(), testChannel(), "imps_1")
	if err != nil {
		t.Fatal(err)
	}
	a := inq.Approval
	if a.CardName != "현대카드" || a.CardQuota != 3 || a.CardNumber == "4364200000000006" || !strings.HasSuffix(a.CardNumber, "6") {
		t.Errorf("card %+v (an unmasked number must be masked)", a)
	}
}

// TestPartialRefundReplyShape: a partial refund's reply carries prtcDate and
// prtcTime, not cancelDate/cancelTime.
//
// Source: INICIS's refund reply table as an integrator copied it into a DTO in
// public code (InistdpayCancelResponseDTO: full cancel resultCode, resultMsg,
// cancelDate, cancelTime, cshrCancelNum, detailResultCode, receiptInfo;
// partial cancel prtcDate "[YYYYMMDD]", prtcTime "[hhmmss]", tid "부분취소
// 거래번호", prtcTid "원 승인 거래번호", prtcPrice, prtcRemains "부분취소 후
// 남은금액", prtcCnt, prtcType "0 재승인방식 / 1 부분취소"), and integrators'
// tests answering partial cancels with prtcTid, prtcDate, prtcTime, prtcPrice,
// prtcRemains.
func TestPartialRefundReplyShape(t *testing.T) {
	t.Parallel()
	cs := newCaptureServer(t, 200, `{"resultCode":"00","resultMsg":"정상처리되었습니다.","prtcDate":"20260906","prtcTime":"130000",
"tid":"INIAPICARDINIBillTst20260906130000111111","prtcTid":"ORIGTID","prtcPrice":"3000","prtcRemains":"10000","prtcCnt":"1","prtcType":"1"}`)
	res, err := fixedConnector(cs.URL).Refund(context.Background(), testChannel(),
		billkey.RefundRequest{TID: "ORIGTID", Amount: 3000, Remaining: 10000, Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC) // 13:00:00 KST
	if !res.CancelledAt.Equal(want) || res.TID != "INIAPICARDINIBillTst20260906130000111111" || res.AlreadyDone {
		t.Errorf("result %+v, want cancelled at %s with the partial cancel's tid", res, want)
	}
}

// TestRegNo: personal cards send the birth date as YYMMDD, corporate cards
// the 10-digit business number.
func TestRegNo(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"880101": "880101", "19880101": "880101", "1988-01-01": "880101", "123-45-67890": "1234567890", "": ""} {
		got, err := inicis.RegNo(in)
		if err != nil || got != want {
			t.Errorf("RegNo(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"8801", "881301", "19881301", "8801011234567", "abc"} {
		if _, err := inicis.RegNo(bad); billkey.ErrorCode(err) != billkey.EREJECTED {
			t.Errorf("RegNo(%q) err %v, want EREJECTED", bad, err)
		}
	}
}

// TestCutBytes cuts on character boundaries, in UTF-8 bytes.
func TestCutBytes(t *testing.T) {
	t.Parallel()
	name := strings.Repeat("가", 20) // 60 UTF-8 bytes
	got := inicis.CutBytes(name, 40)
	if got != strings.Repeat("가", 13) || !utf8.ValidString(got) {
		t.Errorf("CutBytes = %q (%d bytes)", got, len(got))
	}
	if inicis.CutBytes("abc", 40) != "abc" || inicis.CutBytes("ab가", 4) != "ab" {
		t.Error("short values")
	}
}

// TestChargeFieldLimits: the charge request carries goodName and buyer fields
// within INICIS's limits, and an order id too long is refused unsent.
func TestChargeFieldLimits(t *testing.T) {
	t.Parallel()
	c := fixedConnector("https://sim.example")
	long := strings.Repeat("정기결제상품", 10)
	_, form, err := c.BillingRequest(testChannel(), billkey.ChargeRequest{
		OrderID: "imps_1", BillingKey: "k", Amount: 1000, GoodName: long,
		Buyer: billkey.Buyer{Name: strings.Repeat("김", 20), Email: strings.Repeat("a", 60) + "@example.com", Tel: "010-1234-5678"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for field, limit := range map[string]int{"goodName": 40, "buyerName": 30, "buyerEmail": 60, "buyerTel": 40} {
		if v := form.Get(field); len(v) > limit || v == "" || !utf8.ValidString(v) {
			t.Errorf("%s = %q (%d bytes, limit %d)", field, v, len(v), limit)
		}
	}
	if form.Get("buyerEmail") != inicis.DefaultBuyerEmail {
		t.Errorf("an over-long e-mail must be replaced, not cut: %q", form.Get("buyerEmail"))
	}
	if _, _, err := c.BillingRequest(testChannel(), billkey.ChargeRequest{OrderID: strings.Repeat("x", 65), BillingKey: "k", Amount: 1}); billkey.ErrorCode(err) != billkey.EREJECTED {
		t.Errorf("65-byte moid: %v", err)
	}
}

// TestStdPayFormOverlayAndLimits: the PC window is always the overlay (popup
// needs a popupUrl page INIStdPay.js insists on), within INIStdPay.js's
// limits (oid ≤ 40, buyertel ≤ 20 and present).
func TestStdPayFormOverlayAndLimits(t *testing.T) {
	t.Parallel()
	c := fixedConnector("https://sim.example")
	req := inicis.StdPayRequest{OrderID: "imps_1", GoodName: strings.Repeat("가", 30), ReturnURL: "https://b.example/r",
		Buyer: billkey.Buyer{Name: "홍길동", Tel: "010-1234-5678-9999-0000-1111"}}
	form, err := c.StdPayForm(testChannel(), req)
	if err != nil {
		t.Fatal(err)
	}
	f := form.Fields
	if f.Get("payViewType") != "overlay" || f.Has("popupUrl") || len(f.Get("goodname")) > 40 || len(f.Get("buyertel")) > 20 || f.Get("buyeremail") == "" {
		t.Errorf("form %v", f)
	}
	req.Buyer.Tel = ""
	if form, err = c.StdPayForm(testChannel(), req); err != nil || form.Fields.Get("buyertel") == "" {
		t.Errorf("blank buyertel: %v %v", err, form)
	}
	req.OrderID = strings.Repeat("x", 41)
	if _, err := c.StdPayForm(testChannel(), req); billkey.ErrorCode(err) != billkey.EREJECTED {
		t.Errorf("41-byte oid: %v", err)
	}
}

// TestStdPayPageSources: INICIS's script needs its own host and stdux; the
// simulator's only its origin.
func TestStdPayPageSources(t *testing.T) {
	t.Parallel()
	live := inicis.StdPayPageSources("https://stdpay.inicis.com/stdjs/INIStdPay.js")
	if strings.Join(live.Script, " ") != "https://stdpay.inicis.com https://stdux.inicis.com" ||
		strings.Join(live.Frame, " ") != "https://stdpay.inicis.com" || strings.Join(live.Form, " ") != "https://stdpay.inicis.com" {
		t.Errorf("live %+v", live)
	}
	sim := inicis.StdPayPageSources("http://127.0.0.1:9/inicis-sim/stdjs/INIStdPay.js")
	if strings.Join(sim.Script, " ") != "http://127.0.0.1:9" || len(sim.Frame) != 0 || len(sim.Img) != 0 {
		t.Errorf("sim %+v", sim)
	}
}
