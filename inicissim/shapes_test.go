package inicissim_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/inicissim"
)

// TestInquiryAnswersInINICISShape: /v2/pg/inquiry answers with resultCode
// SUCCESS, approvedDate/approvedTime, paymethod, availablePartCancel,
// partCancelTransInfo and a nested cardInfo (approvedNumber, currencyCode),
// and billkey's client reads the approval number and time from it.
func TestInquiryAnswersInINICISShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	ctx := context.Background()
	key := e.issueKey(t, "4242424242424242")
	a, err := e.conn.Charge(ctx, e.ch, billkey.ChargeRequest{OrderID: "imps_shape", BillingKey: key, Amount: 15800, GoodName: "월간 구독", Buyer: buyer()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.conn.Refund(ctx, e.ch, billkey.RefundRequest{TID: a.TID, Amount: 800, Remaining: 15000, Partial: true}); err != nil {
		t.Fatal(err)
	}
	ts := time.Now().In(inicis.KST).Format("20060102150405")
	rep := e.v2(t, "/v2/pg/inquiry", v2Body("inquiry", ts, `{"oid":"imps_shape"}`))
	card, _ := rep["cardInfo"].(map[string]any)
	parts, _ := rep["partCancelTransInfo"].([]any)
	if rep.s("resultCode") != "SUCCESS" || rep.s("transactionStatus") != "PART_CANCEL" || rep.s("paymethod") != "Card" ||
		rep.s("oid") != "imps_shape" || rep.s("mid") != mid || rep.s("price") != "15800" || rep.s("availablePartCancelPrice") != "15000" ||
		rep["availablePartCancel"] != true || len(rep.s("approvedDate")) != 8 || len(rep.s("approvedTime")) != 6 ||
		card == nil || card["approvedNumber"] != a.ApplyNum || card["currencyCode"] != "WON" || len(parts) != 1 {
		b, _ := json.Marshal(rep)
		t.Fatalf("inquiry reply %s", b)
	}
	if _, flat := rep["payAuthCode"]; flat {
		t.Error("inquiry reply carries the billing reply's flat payAuthCode")
	}
	inq, err := e.conn.Inquire(ctx, e.ch, "imps_shape")
	if err != nil {
		t.Fatal(err)
	}
	if inq.State != billkey.InquiryApproved || inq.Approval.ApplyNum != a.ApplyNum || !inq.Approval.PaidAt.Equal(a.PaidAt) ||
		inq.Approval.CardName != a.CardName || inq.Approval.Amount != 15800 {
		t.Errorf("inquiry %+v, charge %+v", inq.Approval, a)
	}
}

// TestPartialRefundAnswersWithPrtcFields: a partial refund's reply carries
// prtcDate/prtcTime, tid (its own), prtcTid, prtcPrice, prtcRemains; a full
// refund's cancelDate/cancelTime.
func TestPartialRefundAnswersWithPrtcFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	key := e.issueKey(t, "4242424242424242")
	a, err := e.conn.Charge(context.Background(), e.ch, billkey.ChargeRequest{OrderID: "imps_prtc", BillingKey: key, Amount: 1000, GoodName: "x", Buyer: buyer()})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Now().In(inicis.KST).Format("20060102150405")
	partial := e.v2(t, "/v2/pg/partialRefund", v2Body("partialRefund", ts, `{"tid":"`+a.TID+`","msg":"x","price":"300","confirmPrice":"700"}`))
	if partial.s("resultCode") != "00" || len(partial.s("prtcDate")) != 8 || len(partial.s("prtcTime")) != 6 || partial.s("prtcTid") != a.TID ||
		partial.s("prtcPrice") != "300" || partial.s("prtcRemains") != "700" || partial.s("tid") == a.TID || partial.s("tid") == "" {
		t.Errorf("partial refund reply %v", partial)
	}
	if _, ok := partial["cancelDate"]; ok {
		t.Errorf("partial refund reply carries cancelDate: %v", partial)
	}
	full := e.v2(t, "/v2/pg/refund", v2Body("refund", ts, `{"tid":"`+a.TID+`","msg":"x"}`))
	if full.s("resultCode") != "00" || len(full.s("cancelDate")) != 8 || len(full.s("cancelTime")) != 6 {
		t.Errorf("full refund reply %v", full)
	}
}

// TestOverLongFieldsAreRefused: INIAPI refuses fields over INICIS's limits
// (ERR101), counting UTF-8 bytes.
func TestOverLongFieldsAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	key := e.issueKey(t, "4242424242424242")
	ts := time.Now().In(inicis.KST).Format("20060102150405")
	for field, value := range map[string]string{
		"goodName":   strings.Repeat("가", 14), // 42 bytes
		"buyerName":  strings.Repeat("김", 11), // 33 bytes
		"buyerEmail": strings.Repeat("a", 55) + "@b.com",
		"buyerTel":   strings.Repeat("1", 41),
	} {
		v := billingForm(ts, "imps_long_"+field, "1000", key)
		v.Set(field, value)
		if r := e.api(t, "/api/v1/billing", v); r.s("resultCode") != "ERR101" || !strings.Contains(r.s("resultMsg"), field) {
			t.Errorf("%s: %v", field, r)
		}
	}
	v := billingForm(ts, "imps_fits", "1000", key)
	v.Set("goodName", strings.Repeat("가", 13)) // 39 bytes
	if r := e.api(t, "/api/v1/billing", v); r.s("resultCode") != "00" {
		t.Errorf("39-byte goodName refused: %v", r)
	}
	if l := e.sim.Ledger(); len(l.Approvals) != 1 {
		t.Errorf("approvals %d, want 1", len(l.Approvals))
	}
}

// TestKeyInRegNoIsSixDigits: key-in issuance takes regNo as YYMMDD or a
// 10-digit business number; billkey's client converts YYYYMMDD.
func TestKeyInRegNoIsSixDigits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	ts := time.Now().In(inicis.KST).Format("20060102150405")
	enc := func(s string) string { v, _ := inicis.EncryptField(s, apiKey, apiIV); return v }
	number := enc("4242424242424242")
	form := func(regNo string) map[string][]string {
		return map[string][]string{"type": {"Auth"}, "paymethod": {"Card"}, "timestamp": {ts}, "clientIp": {"127.0.0.1"}, "mid": {mid},
			"moid": {"key-" + regNo}, "price": {"0"}, "cardNumber": {number}, "cardExpire": {enc("3112")}, "regNo": {enc(regNo)},
			"cardPw": {enc("12")}, "hashData": {hexSHA512(apiKey + "Auth" + "Card" + ts + "127.0.0.1" + mid + "key-" + regNo + "0" + number)}}
	}
	if r := e.api(t, "/api/v1/billing", form("19800101")); r.s("resultCode") != "ER0102" {
		t.Errorf("YYYYMMDD regNo: %v", r)
	}
	for _, ok := range []string{"800101", "1234567890"} {
		if r := e.api(t, "/api/v1/billing", form(ok)); r.s("resultCode") != "00" {
			t.Errorf("regNo %s: %v", ok, r)
		}
	}
	if _, err := e.conn.IssueBillingKey(context.Background(), e.ch, billkey.IssueRequest{OrderID: "k8",
		Card: billkey.Card{Number: "4242424242424242", Expiry: "2031-12", Birth: "19800101", Pwd2Digit: "12"}}); err != nil {
		t.Errorf("client with an 8-digit birth date: %v", err)
	}
}

// TestStdPayDataCentresRotate: STEP 2 names fc, ks and stg in turn, each
// with its own authUrl, and billkey's client approves through each (the
// authUrl allow-list meets all three). A token is refused at another centre.
func TestStdPayDataCentresRotate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	ctx := context.Background()
	seen := map[string]bool{}
	for i, want := range []string{"fc", "ks", "stg"} {
		oid := "imp_idc_" + want
		action, sid := e.openStdPay(t, oid, nil)
		_, page := e.post(t, action, cardFields(sid, "4242424242424242"))
		_, fields := autoPost(t, page)
		ret, err := inicis.ParseStdPayReturn(fields)
		if err != nil {
			t.Fatal(err)
		}
		if ret.IDCName != want {
			t.Fatalf("grant %d from %s, want %s", i, ret.IDCName, want)
		}
		if want == "ks" {
			// The same token posted to the stg centre is unknown there.
			wrong := *ret
			wrong.IDCName, wrong.AuthURL, wrong.NetCancelURL = "stg", e.srv.URL+"/api/payAuth", e.srv.URL+"/api/netCancel"
			if _, err := e.conn.ApproveStdPay(ctx, e.ch, &wrong, oid); err == nil {
				t.Fatal("token approved at another data centre")
			}
			continue
		}
		if _, err := e.conn.ApproveStdPay(ctx, e.ch, ret, oid); err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		seen[want] = true
	}
	if !seen["fc"] || !seen["stg"] || len(e.sim.Ledger().Keys) != 2 {
		t.Errorf("seen %v, keys %d", seen, len(e.sim.Ledger().Keys))
	}
}

// TestStdPayRefusesWhatINIStdPayRefuses: popup without popupUrl, an oid over
// 40 characters, a missing buyertel.
func TestStdPayRefusesWhatINIStdPayRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	for name, mutate := range map[string]func(v map[string][]string){
		"popup":    func(v map[string][]string) { v["payViewType"] = []string{"popup"} },
		"buyertel": func(v map[string][]string) { delete(v, "buyertel") },
		"goodname": func(v map[string][]string) { v["goodname"] = []string{strings.Repeat("가", 14)} },
	} {
		form, err := e.conn.StdPayForm(e.ch, inicis.StdPayRequest{OrderID: "imp_" + name, GoodName: "x", Buyer: buyer(), ReturnURL: returnURL})
		if err != nil {
			t.Fatal(err)
		}
		mutate(form.Fields)
		status, page := e.post(t, form.Action, form.Fields)
		if status != 200 || !strings.Contains(page, "V023") || strings.Contains(page, `id="card-form"`) {
			t.Errorf("%s: HTTP %d, window opened or no V023", name, status)
		}
	}
}
