package inicissim_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/inicissim"
)

const returnURL = "https://merchant.example/inicis/return"

// openStdPay builds the StdPay form with the client and opens the window
// as a browser would, returning the card form's action and session id.
func (e *env) openStdPay(t *testing.T, oid string, mutate func(url.Values)) (string, string) {
	t.Helper()
	form, err := e.conn.StdPayForm(e.ch, inicis.StdPayRequest{
		OrderID: oid, Price: 0, GoodName: "월간 구독", Buyer: buyer(), ReturnURL: returnURL, MerchantData: "md=1&x=가",
	})
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(form.Fields)
	}
	status, page := e.post(t, form.Action, form.Fields)
	if status != 200 {
		t.Fatalf("open window: HTTP %d\n%s", status, page)
	}
	return cardPage(t, page)
}

func TestStdPayRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	ctx := context.Background()
	action, sid := e.openStdPay(t, "imp_std_1", nil)

	// A malformed input re-renders the window with a message.
	bad := cardFields(sid, "4242")
	status, page := e.post(t, action, bad)
	if status != 200 || !strings.Contains(page, `id="error"`) || !strings.Contains(page, "카드번호") {
		t.Fatalf("malformed input: %d\n%s", status, page)
	}
	_, page = e.post(t, action, cardFields(sid, "4242-4242-4242-4242"))
	to, fields := autoPost(t, page)
	if to != returnURL {
		t.Fatalf("posts to %s", to)
	}
	ret, err := inicis.ParseStdPayReturn(fields)
	if err != nil {
		t.Fatal(err)
	}
	// The first grant of a simulator comes from data centre fc (then ks, stg).
	if !ret.OK() || ret.OrderNumber != "imp_std_1" || ret.MerchantData != "md=1&x=가" || ret.IDCName != "fc" ||
		ret.AuthURL != e.srv.URL+"/idc/fc/api/payAuth" || !strings.ContainsAny(ret.AuthToken, "+/=") {
		t.Fatalf("STEP 2 %+v", ret)
	}
	if len(e.sim.Ledger().Keys) != 0 {
		t.Fatal("key issued before payAuth")
	}
	bk, err := e.conn.ApproveStdPay(ctx, e.ch, ret, "imp_std_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(bk.Key) != 40 || bk.CardNumber != "424242*********2" || bk.CardName != "해외비자" || !strings.HasPrefix(bk.PGTID, "StdpayBillINIBillTst") || len(bk.PGTID) != 40 {
		t.Fatalf("billing key %+v", bk)
	}
	l := e.sim.Ledger()
	if len(l.Keys) != 1 || l.Keys[0].BillKey != bk.Key || l.Keys[0].Source != "stdpay" || l.Keys[0].OrderID != "imp_std_1" {
		t.Fatalf("ledger %+v", l.Keys)
	}
	if _, err := e.conn.Charge(ctx, e.ch, billkey.ChargeRequest{OrderID: "imp_std_c1", BillingKey: bk.Key, Amount: 9900, GoodName: "g", Buyer: buyer()}); err != nil {
		t.Fatalf("charge on window key: %v", err)
	}
	// The authToken is single-use, and the session is gone.
	if _, err := e.conn.ApproveStdPay(ctx, e.ch, ret, "imp_std_1"); billkey.ErrorCode(err) != billkey.EPG || !strings.Contains(billkey.ErrorMessage(err), "[V701]") {
		t.Errorf("second approval: %v", err)
	}
	if status, _ := e.post(t, action, cardFields(sid, "4242424242424242")); status != 410 {
		t.Errorf("reused session: %d", status)
	}
	// Order mismatch is refused before calling INICIS.
	if _, err := e.conn.ApproveStdPay(ctx, e.ch, ret, "imp_other"); err == nil {
		t.Error("order mismatch accepted")
	}
	// Net cancel revokes the key.
	if err := e.conn.NetCancel(ctx, e.ch, ret); err != nil {
		t.Fatal(err)
	}
	_, err = e.conn.Charge(ctx, e.ch, billkey.ChargeRequest{OrderID: "imp_std_c2", BillingKey: bk.Key, Amount: 9900, GoodName: "g", Buyer: buyer()})
	if !strings.Contains(billkey.ErrorMessage(err), "[1195]") {
		t.Errorf("charge on net-cancelled key: %v", err)
	}
	l = e.sim.Ledger()
	if len(l.NetCancels) != 1 || l.NetCancels[0].BillKey != bk.Key || !l.Keys[0].Revoked {
		t.Errorf("ledger after net cancel %+v %+v", l.NetCancels, l.Keys)
	}
}

func TestStdPayRefusalsAndCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	cases := []struct{ number, code, msg string }{
		{"1111-2222-3333-4444", "F112", "유효하지않은 카드번호를 입력하셨습니다. (card_bin 없음)"},
		{"1234-1234-1234-1234", "F111", "유효하지않은 카드번호를 입력하셨습니다. (checksum 오류)"},
		{"4000-0000-0000-0002", "1103", "[빌링키발급실패|카드사 승인거절]"},
	}
	for i, tc := range cases {
		oid := "imp_ref_" + string(rune('a'+i))
		action, sid := e.openStdPay(t, oid, nil)
		_, page := e.post(t, action, cardFields(sid, tc.number))
		if !strings.Contains(page, "["+tc.code+"]") {
			t.Errorf("%s: page does not show the code", tc.number)
		}
		_, fields := autoPost(t, page)
		ret, err := inicis.ParseStdPayReturn(fields)
		if err != nil {
			t.Fatal(err)
		}
		if ret.OK() || ret.ResultCode != tc.code || ret.ResultMsg != tc.msg || ret.OrderNumber != oid {
			t.Errorf("%s: %+v", tc.number, ret)
		}
		// billkey's message: the buyer's sentence, then the code and message.
		if got := billkey.ErrorMessage(ret.Err()); !strings.HasSuffix(got, " (["+tc.code+"] "+tc.msg+")") || strings.HasPrefix(got, "[") {
			t.Errorf("%s: message %q", tc.number, got)
		}
	}

	// Cancel without closeUrl posts V801.
	_, sid := e.openStdPay(t, "imp_cancel", nil)
	_, page := e.post(t, e.srv.URL+"/stdpay/window/cancel", url.Values{"sid": {sid}})
	_, fields := autoPost(t, page)
	ret, err := inicis.ParseStdPayReturn(fields)
	if err != nil || !ret.Cancelled() || ret.OrderNumber != "imp_cancel" {
		t.Errorf("cancel: %+v %v", ret, err)
	}
	// With closeUrl, the window goes there instead.
	_, sid = e.openStdPay(t, "imp_close", func(v url.Values) { v.Set("closeUrl", "https://merchant.example/close") })
	_, page = e.post(t, e.srv.URL+"/stdpay/window/cancel", url.Values{"sid": {sid}})
	if !strings.Contains(page, `href="https://merchant.example/close"`) {
		t.Errorf("closeUrl page:\n%s", page)
	}
	if len(e.sim.Ledger().Keys) != 0 {
		t.Error("refusals issued keys")
	}
}

func TestStdPayStep1Verification(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	form, err := e.conn.StdPayForm(e.ch, inicis.StdPayRequest{OrderID: "imp_v", Price: 1000, GoodName: "g", Buyer: buyer(), ReturnURL: returnURL})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		mutate func(url.Values)
		code   string
	}{
		{"price changed", func(v url.Values) { v.Set("price", "10") }, "V017"},
		{"oid changed", func(v url.Values) { v.Set("oid", "imp_w") }, "V017"},
		{"wrong mKey", func(v url.Values) { v.Set("mKey", strings.Repeat("0", 64)) }, "V016"},
		{"wrong verification", func(v url.Values) { v.Set("verification", strings.Repeat("0", 64)) }, "V016"},
		{"no verification with use_chkfake", func(v url.Values) { v.Del("verification") }, "V016"},
		{"seconds timestamp", func(v url.Values) { v.Set("timestamp", "1773448013") }, "V023"},
		{"unknown mid", func(v url.Values) { v.Set("mid", "NOSUCHMID1") }, "V023"},
		{"not billing", func(v url.Values) { v.Set("acceptmethod", "below1000") }, "V023"},
		{"EUC-KR", func(v url.Values) { v.Set("charset", "EUC-KR") }, "V023"},
	}
	for _, tc := range cases {
		v := url.Values{}
		for k, vs := range form.Fields {
			v[k] = append([]string(nil), vs...)
		}
		tc.mutate(v)
		status, page := e.post(t, form.Action, v)
		if status != 200 || !strings.Contains(page, "["+tc.code+"]") {
			t.Errorf("%s: HTTP %d, want [%s]\n%s", tc.name, status, tc.code, page)
			continue
		}
		_, fields := autoPost(t, page)
		if fields.Get("resultCode") != tc.code {
			t.Errorf("%s: posts %v", tc.name, fields)
		}
	}
	v := url.Values{}
	for k, vs := range form.Fields {
		v[k] = vs
	}
	v.Set("returnUrl", "javascript:alert(1)")
	if status, page := e.post(t, form.Action, v); status != 400 || strings.Contains(page, "javascript:") {
		t.Errorf("bad returnUrl: %d", status)
	}
}

func TestStdPayDroppedApprovalIsNetCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	e.conn = inicis.New(inicis.Config{Test: inicis.SimulatorEndpoints(e.srv.URL), Timeout: 300 * time.Millisecond})
	action, sid := e.openStdPay(t, "imp_drop", nil)
	_, page := e.post(t, action, cardFields(sid, "4242424242424242"))
	_, fields := autoPost(t, page)
	ret, err := inicis.ParseStdPayReturn(fields)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.SetFaults(inicissim.Faults{Drop: true, Paths: []string{"/api/payAuth"}, Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = e.conn.ApproveStdPay(context.Background(), e.ch, ret, "imp_drop")
	if billkey.ErrorCode(err) != billkey.EPG || !strings.Contains(billkey.ErrorMessage(err), "망취소") {
		t.Fatalf("dropped approval: %v", err)
	}
	l := e.sim.Ledger()
	if len(l.Keys) != 1 || !l.Keys[0].Revoked || len(l.NetCancels) != 1 || l.NetCancels[0].BillKey != l.Keys[0].BillKey {
		t.Errorf("ledger %+v", l)
	}
}

// openLite builds the INILite form with the client and opens the window.
func (e *env) openLite(t *testing.T, oid string, mutate func(url.Values)) string {
	t.Helper()
	form, err := e.conn.LiteForm(e.ch, inicis.LiteRequest{OrderID: oid, Price: 0, GoodName: "모바일 구독", Buyer: buyer(), ReturnURL: returnURL, Notice: "bm90aWNl"})
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(form.Fields)
	}
	_, page := e.post(t, form.Action, form.Fields)
	return page
}

func TestLiteRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	ctx := context.Background()
	action, sid := cardPage(t, e.openLite(t, "imp_lite_1", nil))
	_, page := e.post(t, action, url.Values{"sid": {sid}, "cardNumber": {"4518421234567894"}, "expiryMonth": {"03"}, "expiryYear": {"2030"}, "birth": {"1234567890"}, "pwd2digit": {"00"}})
	to, fields := autoPost(t, page)
	if to != returnURL {
		t.Fatalf("posts to %s", to)
	}
	ret, err := inicis.ParseLiteReturn(fields)
	if err != nil {
		t.Fatal(err)
	}
	if !ret.OK() || ret.Notice != "bm90aWNl" || !strings.HasPrefix(ret.TID, "INIpayBillINIBillTst") || !strings.HasPrefix(ret.AuthKey, "INIBillTst_") {
		t.Fatalf("return %+v", ret)
	}
	bk, err := e.conn.CompleteLite(e.ch, ret, "imp_lite_1")
	if err != nil {
		t.Fatal(err)
	}
	if bk.CardCode != "366" || bk.CardName != "신한카드" || bk.CardNumber != "451842*********4" {
		t.Fatalf("billing key %+v", bk)
	}
	if _, err := e.conn.Charge(ctx, e.ch, billkey.ChargeRequest{OrderID: "imp_lite_c", BillingKey: bk.Key, Amount: 1000, GoodName: "g", Buyer: buyer()}); err != nil {
		t.Fatal(err)
	}
	if l := e.sim.Ledger(); len(l.Keys) != 1 || l.Keys[0].Source != "inilite" || l.Keys[0].BillKey != bk.Key {
		t.Errorf("ledger %+v", l.Keys)
	}

	// Refusal and cancel.
	action, sid = cardPage(t, e.openLite(t, "imp_lite_2", nil))
	_, page = e.post(t, action, cardFields(sid, "4000000000000002"))
	_, fields = autoPost(t, page)
	ret, _ = inicis.ParseLiteReturn(fields)
	if ret.OK() || ret.ResultCode != "01" || billkey.ErrorMessage(ret.Err()) != "카드사에서 승인을 거절했습니다. 다른 카드로 결제하시거나 카드사에 문의해 주세요. ([1103] [빌링키발급실패|카드사 승인거절])" {
		t.Errorf("refusal %+v", ret)
	}
	_, sid = cardPage(t, e.openLite(t, "imp_lite_3", nil))
	_, page = e.post(t, e.srv.URL+"/inibill/cancel", url.Values{"sid": {sid}})
	_, fields = autoPost(t, page)
	if ret, _ = inicis.ParseLiteReturn(fields); !ret.Cancelled() || ret.OrderID != "imp_lite_3" {
		t.Errorf("cancel %+v", ret)
	}

	// Tampered request and a MID without INILite.
	page = e.openLite(t, "imp_lite_4", func(v url.Values) { v.Set("orderid", "imp_lite_5") })
	if _, fields = autoPost(t, page); fields.Get("resultcode") != "01" || !strings.Contains(fields.Get("resultmsg"), "[9002]") {
		t.Errorf("tampered: %v", fields)
	}
	other := e.ch
	other.MID = "INIpayTest"
	form, _ := e.conn.LiteForm(other, inicis.LiteRequest{OrderID: "x", ReturnURL: returnURL})
	_, page = e.post(t, form.Action, form.Fields)
	if _, fields = autoPost(t, page); !strings.Contains(fields.Get("resultmsg"), "[9005]") {
		t.Errorf("no INILite contract: %v", fields)
	}
}

// TestValidationKeepsWhatIsNotSecret: after a bad expiry the window keeps
// the expiry as typed and shows the card masked, but never writes the card
// number, PIN digits or birth date back into the page; PC and mobile.
func TestValidationKeepsWhatIsNotSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	pc, pcSID := e.openStdPay(t, "imp_kept_pc", nil)
	mobile, mobileSID := cardPage(t, e.openLite(t, "imp_kept_m", nil))
	for _, w := range []struct{ action, sid string }{{pc, pcSID}, {mobile, mobileSID}} {
		_, page := e.post(t, w.action, url.Values{"sid": {w.sid}, "cardNumber": {"4518-4212-3456-7894"}, "expiry": {"13/31"}, "birth": {"850309"}, "pwd2digit": {"47"}})
		if !strings.Contains(page, `id="error"`) || !strings.Contains(page, `value="13/31"`) || !strings.Contains(page, "451842*********4") {
			t.Fatalf("%s: the page does not keep the expiry and the masked card:\n%s", w.action, page)
		}
		for _, secret := range []string{"4518421234567894", "4518-4212-3456-7894", "850309", `value="47"`} {
			if strings.Contains(page, secret) {
				t.Errorf("%s: %q written back into the page", w.action, secret)
			}
		}
		// The kept window still works once corrected.
		_, page = e.post(t, w.action, cardFields(w.sid, "4242424242424242"))
		if _, fields := autoPost(t, page); fields.Get("resultCode")+fields.Get("resultcode") == "" {
			t.Fatalf("%s: no result after correcting", w.action)
		}
	}
}
