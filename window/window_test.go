package window_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/internal/testkeys"
	"github.com/billkey/billkey/sqlstore"
)

// TestWindowPCIssue runs the PC flow over HTTP on both databases: open,
// INICIS window, card, return post, server-side approval, key stored, rsp
// posted to the opener; then the key charges, the issuance payment is
// visible, a replayed return post changes nothing, and the billing key never
// appears in anything billkey sent.
func TestWindowPCIssue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		ctx := context.Background()
		w := e.openWindow(openForm(e.merchant.ImpCode, issueParams("cust-pc"), "pc", "message"))

		// The open page tells the opener the attempt's close URL, pinned to
		// the opener's origin.
		d := pageData(t, w.openPage)
		var opened message
		if err := json.Unmarshal([]byte(d["message"]), &opened); err != nil || opened.Action != "opened" || d["opener"] != merchantOrigin ||
			!strings.HasPrefix(opened.Data["close_url"].(string), e.app.BaseURL+"/window/close/") || opened.Data["request_id"] != "req_1" {
			t.Fatalf("opened message %v %v", d, err)
		}

		to, post := e.pay(w, "4242-4242-4242-4242")
		if !strings.HasPrefix(to, e.app.BaseURL+"/window/return/") {
			t.Fatalf("INICIS posts to %s", to)
		}
		status, page, hdr := e.post(to, post, "")
		if status != 200 {
			t.Fatalf("return: %d\n%s", status, page)
		}
		csp := hdr.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors "+merchantOrigin) || !strings.Contains(csp, "script-src 'nonce-") || hdr.Get("Cache-Control") != "no-store" {
			t.Errorf("result page headers: %v", hdr)
		}
		msg, opener := doneMessage(t, page)
		rsp := msg.Data
		if opener != merchantOrigin || msg.From != "billkey" || msg.Action != "done" || rsp["success"] != true ||
			rsp["card_number"] != "424242*********2" || rsp["customer_uid"] != "cust-pc" || rsp["merchant_uid"] != "order_cust-pc" ||
			rsp["status"] != "paid" || rsp["pg_provider"] != "html5_inicis" || rsp["paid_amount"] != float64(0) ||
			rsp["request_id"] != "req_1" || rsp["error_msg"] != nil {
			t.Fatalf("rsp %v (opener %s)", rsp, opener)
		}
		if cd, _ := rsp["custom_data"].(map[string]any); cd["plan"] != "basic" {
			t.Errorf("custom_data %v", rsp["custom_data"])
		}
		imp, _ := rsp["imp_uid"].(string)
		if !strings.HasPrefix(imp, "imp_") || len(imp) != 16 {
			t.Fatalf("imp_uid %q", imp)
		}

		// The key is stored and charges.
		c, err := e.app.Service.Customer(ctx, e.merchant.ID, "cust-pc")
		if err != nil || c.CardNumber != "424242*********2" || c.Email != "gildong@example.com" {
			t.Fatalf("customer %+v %v", c, err)
		}
		tok := e.token()
		env := e.api("POST", "/subscribe/payments/again", map[string]any{"customer_uid": "cust-pc", "merchant_uid": "m-1", "amount": 9900, "name": "월간"}, tok)
		if r, _ := env["response"].(map[string]any); env["code"] != float64(0) || r["status"] != "paid" {
			t.Fatalf("again: %v", env)
		}
		// The issuance is a payment: paid, amount 0, channel pc, usage issue,
		// and it queued a webhook event.
		env = e.api("GET", "/payments/"+imp, nil, tok)
		p, _ := env["response"].(map[string]any)
		if env["code"] != float64(0) || p["status"] != "paid" || p["amount"] != float64(0) || p["channel"] != "pc" ||
			p["customer_uid_usage"] != "issue" || p["customer_uid"] != "cust-pc" || p["card_number"] != "424242*********2" ||
			p["pg_tid"] == "" || p["paid_at"] == float64(0) {
			t.Fatalf("GET /payments/%s: %v", imp, env)
		}
		// Nothing was paid: cancelling the issuance is refused, INICIS untouched.
		env = e.api("POST", "/payments/cancel", map[string]any{"imp_uid": imp}, tok)
		if env["code"] == float64(0) || len(e.app.Simulator.Ledger().Refunds) != 0 {
			t.Fatalf("cancel of the issuance: %v", env)
		}
		t.Logf("cancel of an issuance: %v", env["message"])
		evs, err := e.store.Events(ctx, e.merchant.ID, 0, 10)
		if err != nil || len(evs) == 0 || evs[0].ImpUID != imp || evs[0].Status != billkey.StatusPaid {
			t.Fatalf("events %+v %v", evs, err)
		}

		// A replayed return post is not processed again.
		status, again, _ := e.post(to, post, "")
		m2, _ := doneMessage(t, again)
		if status != 200 || m2.Data["imp_uid"] != imp || m2.Data["success"] != true {
			t.Fatalf("replay: %d %v", status, m2)
		}
		led := e.app.Simulator.Ledger()
		if len(led.Keys) != 1 || led.Keys[0].Source != "stdpay" || led.Keys[0].OrderID != imp {
			t.Fatalf("ledger keys %+v", led.Keys)
		}
		// The billing key never reached the browser.
		for _, s := range e.seen {
			if strings.Contains(s, led.Keys[0].BillKey) {
				t.Fatalf("billing key in a page the browser got:\n%s", s)
			}
		}
		// Closing after completion changes nothing either.
		closeURL := opened.Data["close_url"].(string)
		_, page, _ = e.get(closeURL)
		if m3, _ := doneMessage(t, page); m3.Data["success"] != true {
			t.Fatalf("close after success: %v", m3)
		}
	})
}

// TestWindowOutcomes covers refusals, cancels, the SDK's close, expiry,
// superseding and a replayed post, each failing the attempt and its payment
// without storing anything.
func TestWindowOutcomes(t *testing.T) {
	e := newEnv(t, dbtest.DSN(t, "sqlite"), nil)
	ctx := context.Background()
	failed := func(t *testing.T, page string) map[string]any {
		t.Helper()
		m, _ := doneMessage(t, page)
		if m.Action != "done" || m.Data["success"] != false || m.Data["status"] != "failed" {
			t.Fatalf("not a failure rsp: %v", m)
		}
		imp, _ := m.Data["imp_uid"].(string)
		if p, err := e.store.PaymentByImpUID(ctx, e.merchant.ID, imp); err != nil || p.Status != billkey.StatusFailed || p.FailReason == "" {
			t.Fatalf("payment %s: %+v %v", imp, p, err)
		}
		return m.Data
	}

	t.Run("card refused", func(t *testing.T) {
		w := e.openWindow(openForm(e.merchant.ImpCode, issueParams("cust-refused"), "pc", "message"))
		to, post := e.pay(w, "4000-0000-0000-0002")
		_, page, _ := e.post(to, post, "")
		rsp := failed(t, page)
		if rsp["error_code"] != "1103" || !strings.Contains(rsp["error_msg"].(string), "카드사 승인거절") {
			t.Fatalf("rsp %v", rsp)
		}
	})
	t.Run("buyer cancels in the window", func(t *testing.T) {
		w := e.openWindow(openForm(e.merchant.ImpCode, issueParams("cust-cancel"), "pc", "message"))
		// closeUrl is set, so the simulator loads it (as INICIS does).
		_, page, _ := e.post(w.cancel, url.Values{"sid": {w.sid}}, "")
		if !strings.Contains(page, "/window/close/") {
			t.Fatalf("cancel page:\n%s", page)
		}
		closeURL := strings.Split(strings.Split(page, `id="link" href="`)[1], `"`)[0]
		_, page, _ = e.get(strings.ReplaceAll(closeURL, "&amp;", "&"))
		rsp := failed(t, page)
		if rsp["error_code"] != "V801" || rsp["error_msg"] != "사용자가 결제를 취소하였습니다." {
			t.Fatalf("rsp %v", rsp)
		}
	})
	t.Run("mobile cancel", func(t *testing.T) {
		p := issueParams("cust-mcancel")
		p["m_redirect_url"] = "https://shop.example/done?x=1"
		w := e.openWindow(openForm(e.merchant.ImpCode, p, "mobile", "redirect"))
		_, page, _ := e.post(w.cancel, url.Values{"sid": {w.sid}}, "")
		to, post := formIn(t, page, reReturn)
		status, _, hdr := e.post(to, post, "")
		loc, _ := url.Parse(hdr.Get("Location"))
		q := loc.Query()
		if status != 303 || loc.Host != "shop.example" || q.Get("x") != "1" || q.Get("imp_success") != "false" ||
			q.Get("error_code") != "99" || !strings.HasPrefix(q.Get("imp_uid"), "imp_") || q.Get("merchant_uid") != "order_cust-mcancel" {
			t.Fatalf("redirect %d %s", status, loc)
		}
	})
	t.Run("expired", func(t *testing.T) {
		e := newEnv(t, dbtest.DSN(t, "sqlite"), nil, expiring)
		w := e.openWindow(openForm(e.merchant.ImpCode, issueParams("cust-late"), "pc", "message"))
		to, post := e.pay(w, "4242-4242-4242-4242")
		_, page, _ := e.post(to, post, "")
		m, _ := doneMessage(t, page)
		if m.Data["success"] != false || !strings.Contains(m.Data["error_msg"].(string), "유효시간") {
			t.Fatalf("rsp %v", m.Data)
		}
		if n := len(e.app.Simulator.Ledger().Keys); n != 0 {
			t.Fatalf("%d keys issued after expiry", n)
		}
	})
	t.Run("superseded", func(t *testing.T) {
		w1 := e.openWindow(openForm(e.merchant.ImpCode, issueParams("cust-twice"), "pc", "message"))
		w2 := e.openWindow(openForm(e.merchant.ImpCode, issueParams("cust-twice"), "pc", "message"))
		to, post := e.pay(w1, "4242-4242-4242-4242")
		_, page, _ := e.post(to, post, "")
		if rsp := failed(t, page); !strings.Contains(rsp["error_msg"].(string), "다시 열려") {
			t.Fatalf("first attempt: %v", rsp)
		}
		to, post = e.pay(w2, "4242-4242-4242-4242")
		_, page, _ = e.post(to, post, "")
		if m, _ := doneMessage(t, page); m.Data["success"] != true {
			t.Fatalf("second attempt: %v", m.Data)
		}
	})
	if _, err := e.app.Service.Customer(ctx, e.merchant.ID, "cust-refused"); err == nil {
		t.Error("a refused card was stored")
	}
	for _, uid := range []string{"cust-cancel", "cust-mcancel"} {
		if _, err := e.app.Service.Customer(ctx, e.merchant.ID, uid); err == nil {
			t.Errorf("%s was stored", uid)
		}
	}
	if n := len(e.app.Simulator.Ledger().Keys); n != 1 {
		t.Errorf("%d keys issued, want 1 (the superseding attempt)", n)
	}
}

// TestRefusalSameWords: the same INICIS refusal reads the same on the PC
// window, the mobile window and the API: the buyer's sentence, then
// INICIS's code and message; error_code is the refusal's own code.
func TestRefusalSameWords(t *testing.T) {
	e := newEnv(t, dbtest.DSN(t, "sqlite"), nil)
	ctx := context.Background()
	failed := func(t *testing.T, page string) map[string]any {
		t.Helper()
		m, _ := doneMessage(t, page)
		if m.Action != "done" || m.Data["success"] != false || m.Data["status"] != "failed" {
			t.Fatalf("not a failure rsp: %v", m)
		}
		return m.Data
	}
	const sentence = "카드 번호가 올바르지 않습니다. 카드 번호를 다시 확인해 주세요."
	want := sentence + " ([F111] 유효하지않은 카드번호를 입력하셨습니다. (checksum 오류))"
	w := e.openWindow(openForm(e.merchant.ImpCode, issueParams("cust-pc-f111"), "pc", "message"))
	to, post := e.pay(w, "1234-1234-1234-1234")
	_, page, _ := e.post(to, post, "")
	rsp := failed(t, page)
	if rsp["error_code"] != "F111" || rsp["error_msg"] != want {
		t.Fatalf("PC rsp %v, want error_msg %q", rsp, want)
	}
	imp, _ := rsp["imp_uid"].(string)
	if p, _ := e.store.PaymentByImpUID(ctx, e.merchant.ID, imp); p == nil || p.FailReason != want {
		t.Fatalf("PC fail_reason %+v", p)
	}

	p := issueParams("cust-m-f111")
	p["m_redirect_url"] = "https://shop.example/done"
	w = e.openWindow(openForm(e.merchant.ImpCode, p, "mobile", "redirect"))
	_, page, _ = e.post(w.action, url.Values{"sid": {w.sid}, "cardNumber": {"1234123412341234"}, "expiryMonth": {"12"}, "expiryYear": {"2031"}, "birth": {"800101"}, "pwd2digit": {"12"}}, "")
	to, post = formIn(t, page, reReturn)
	_, _, hdr := e.post(to, post, "")
	loc, _ := url.Parse(hdr.Get("Location"))
	if q := loc.Query(); q.Get("error_code") != "F111" || q.Get("error_msg") != want {
		t.Fatalf("mobile redirect %s, want error_msg %q", loc, want)
	}

	tok := e.token()
	env := e.api("POST", "/subscribe/payments/onetime", map[string]any{"merchant_uid": "api-f111", "amount": 1000, "name": "구독", "buyer_name": "홍길동", "buyer_email": "a@example.com", "buyer_tel": "01012345678",
		"card_number": "1234-1234-1234-1234", "expiry": "2031-12", "birth": "800101", "pwd_2digit": "12"}, tok)
	if msg, _ := env["message"].(string); !strings.HasSuffix(msg, want) {
		t.Fatalf("API message %q, want it to end with %q", msg, want)
	}
	// A charge decline: the buyer's sentence first, INICIS's code kept.
	env = e.api("POST", "/subscribe/payments/onetime", map[string]any{"merchant_uid": "api-1251", "amount": 1000, "name": "구독", "buyer_name": "홍길동", "buyer_email": "a@example.com", "buyer_tel": "01012345678",
		"card_number": "4000-0000-0000-0341", "expiry": "2031-12", "birth": "800101", "pwd_2digit": "12"}, tok)
	resp, _ := env["response"].(map[string]any)
	if reason, _ := resp["fail_reason"].(string); resp["status"] != "failed" ||
		reason != "카드 한도가 초과되었습니다. 다른 카드로 결제하시거나 카드사에 문의해 주세요. ([1251] [실시간빌링실패|한도초과])" {
		t.Fatalf("API decline %v", env)
	}
}

// TestWindowMobileRedirect runs the INILite flow ending at m_redirect_url.
func TestWindowMobileRedirect(t *testing.T) {
	e := newEnv(t, dbtest.DSN(t, "sqlite"), nil)
	p := issueParams("cust-mobile")
	p["m_redirect_url"] = "https://shop.example/complete"
	status, page, hdr := e.post(e.app.BaseURL+"/window/open", openForm(e.merchant.ImpCode, p, "mobile", "redirect"), merchantOrigin)
	if status != 200 || !strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("open: %d %v\n%s", status, hdr, page)
	}
	if d := pageData(t, page); d["message"] != "" {
		t.Errorf("redirect mode posts no message: %v", d)
	}
	action, fields := formIn(t, page, reOpenAct)
	if !strings.HasSuffix(action, "/inibill/inibill_card.jsp") || fields.Get("orderid") == "" {
		t.Fatalf("INILite form %s %v", action, fields)
	}
	_, win, _ := e.post(action, fields, "")
	w := &inicisWindow{}
	w.action, _ = formIn(t, win, reCardAct)
	w.sid = reSID.FindStringSubmatch(win)[1]
	to, post := e.pay(w, "4242-4242-4242-4242")
	status, _, hdr = e.post(to, post, "")
	loc, err := url.Parse(hdr.Get("Location"))
	if err != nil || status != 303 {
		t.Fatalf("return: %d %v", status, hdr)
	}
	q := loc.Query()
	if loc.Path != "/complete" || q.Get("imp_success") != "true" || q.Get("merchant_uid") != "order_cust-mobile" ||
		!strings.HasPrefix(q.Get("imp_uid"), "imp_") || q.Has("error_msg") || hdr.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("redirect %s", loc)
	}
	pay, err := e.store.PaymentByImpUID(context.Background(), e.merchant.ID, q.Get("imp_uid"))
	if err != nil || pay.Channel != "mobile" || pay.Status != billkey.StatusPaid || pay.CustomerUIDUsage != billkey.UsageIssue {
		t.Fatalf("payment %+v %v", pay, err)
	}
	key := e.app.Simulator.Ledger().Keys[0].BillKey
	if strings.Contains(hdr.Get("Location"), key) {
		t.Fatal("billing key in the redirect")
	}
}

// TestWindowBadInput: bad requests get a failure rsp delivered the usual
// way (never a 500) and write nothing.
func TestWindowBadInput(t *testing.T) {
	e := newEnv(t, dbtest.DSN(t, "sqlite"), nil)
	ctx := context.Background()
	base := func() map[string]any { return issueParams("cust-bad") }
	with := func(k string, v any) map[string]any {
		p := base()
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
		return p
	}
	cases := []struct {
		name string
		form url.Values
		want string
	}{
		{"unknown imp code", openForm("imp00000000", base(), "pc", "message"), "가맹점 식별코드(imp00000000)"},
		{"no imp code", openForm("", base(), "pc", "message"), "IMP.init"},
		{"unknown pg", openForm(e.merchant.ImpCode, with("pg", "kcp"), "pc", "message"), `pg 파라미터("kcp")`},
		{"unknown MID", openForm(e.merchant.ImpCode, with("pg", "html5_inicis.NOPE"), "pc", "message"), "pg 파라미터"},
		{"no customer_uid", openForm(e.merchant.ImpCode, with("customer_uid", nil), "pc", "message"), "customer_uid"},
		{"negative amount", openForm(e.merchant.ImpCode, with("amount", -1), "pc", "message"), "amount"},
		{"fractional amount", openForm(e.merchant.ImpCode, with("amount", 10.5), "pc", "message"), "amount"},
		{"text amount", openForm(e.merchant.ImpCode, with("amount", "lots"), "pc", "message"), "amount"},
		{"vbank", openForm(e.merchant.ImpCode, with("pay_method", "vbank"), "pc", "message"), "pay_method"},
		{"no buyer_tel", openForm(e.merchant.ImpCode, with("buyer_tel", nil), "pc", "message"), "buyer_tel"},
		{"dollars", openForm(e.merchant.ImpCode, with("currency", "USD"), "pc", "message"), "KRW"},
		{"object as customer_uid", openForm(e.merchant.ImpCode, with("customer_uid", map[string]any{"a": 1}), "pc", "message"), "customer_uid"},
		{"long merchant_uid", openForm(e.merchant.ImpCode, with("merchant_uid", strings.Repeat("m", 81)), "pc", "message"), "merchant_uid"},
		{"bad notice_url", openForm(e.merchant.ImpCode, with("notice_url", "javascript:alert(1)"), "pc", "message"), "notice_url"},
		{"not JSON", func() url.Values {
			f := openForm(e.merchant.ImpCode, base(), "pc", "message")
			f.Set("params", "{nope")
			return f
		}(), "JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, page, hdr := e.post(e.app.BaseURL+"/window/open", c.form, merchantOrigin)
			if status != 200 || !strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors "+merchantOrigin) {
				t.Fatalf("status %d %v\n%s", status, hdr, page)
			}
			m, opener := doneMessage(t, page)
			msg, _ := m.Data["error_msg"].(string)
			if opener != merchantOrigin || m.Data["success"] != false || m.Data["imp_uid"] != nil || !strings.Contains(msg, c.want) {
				t.Fatalf("rsp %v, want error_msg containing %q", m.Data, c.want)
			}
		})
	}
	t.Run("redirect failure", func(t *testing.T) {
		p := with("pg", "kcp")
		p["m_redirect_url"] = "https://shop.example/complete"
		status, _, hdr := e.post(e.app.BaseURL+"/window/open", openForm(e.merchant.ImpCode, p, "mobile", "redirect"), merchantOrigin)
		loc, _ := url.Parse(hdr.Get("Location"))
		if status != 303 || loc.Query().Get("imp_success") != "false" || !strings.Contains(loc.Query().Get("error_msg"), "pg") ||
			loc.Query().Get("merchant_uid") != "order_cust-bad" {
			t.Fatalf("%d %s", status, loc)
		}
	})
	t.Run("origins disagree", func(t *testing.T) {
		f := openForm(e.merchant.ImpCode, base(), "pc", "message")
		f.Set("origin", "https://evil.example")
		status, page, _ := e.post(e.app.BaseURL+"/window/open", f, merchantOrigin)
		m, opener := doneMessage(t, page)
		if status != 200 || opener != merchantOrigin || m.Data["success"] != false {
			t.Fatalf("%d %s %v", status, opener, m.Data)
		}
	})
	t.Run("no origin at all", func(t *testing.T) {
		f := openForm(e.merchant.ImpCode, base(), "pc", "message")
		f.Del("origin")
		status, page, _ := e.post(e.app.BaseURL+"/window/open", f, "")
		if status != 400 || strings.Contains(page, "postMessage(") && strings.Contains(page, `"opener"`) {
			t.Fatalf("%d\n%s", status, page)
		}
	})
	t.Run("bad tokens", func(t *testing.T) {
		for _, path := range []string{"/window/return/nope", "/window/return/" + strings.Repeat("A", 43), "/window/close/%00", "/window/close/" + gateway.NewWindowToken()} {
			method := "POST"
			if strings.Contains(path, "close") {
				method = "GET"
			}
			var status int
			var page string
			if method == "GET" {
				status, page, _ = e.get(e.app.BaseURL + path)
			} else {
				status, page, _ = e.post(e.app.BaseURL+path, url.Values{"resultCode": {"0000"}}, "")
			}
			if status != 404 || !strings.Contains(page, "결제창 요청 정보를 찾을 수 없습니다") {
				t.Errorf("%s %s: %d\n%s", method, path, status, page)
			}
		}
	})
	ps, total, err := e.store.ListPayments(ctx, billkey.PaymentFilter{MerchantID: e.merchant.ID, Limit: 10})
	if err != nil || total != 0 {
		t.Fatalf("bad input wrote %d payments: %+v %v", total, ps, err)
	}
}

// failingKeys refuses to seal billing keys: the database write after
// INICIS's approval fails.
type failingKeys struct{ gateway.Keys }

func (k failingKeys) Seal(plain []byte, purpose string, merchantID int64, subject string) ([]byte, error) {
	if purpose == sqlstore.PurposeBillingKey {
		return nil, errors.New("vault unavailable")
	}
	return k.Keys.Seal(plain, purpose, merchantID, subject)
}

// TestWindowNetCancel: when the key cannot be stored after INICIS approved,
// billkey net-cancels and the buyer is told.
func TestWindowNetCancel(t *testing.T) {
	e := newEnv(t, dbtest.DSN(t, "sqlite"), failingKeys{testkeys.New(t)})
	w := e.openWindow(openForm(e.merchant.ImpCode, issueParams("cust-nc"), "pc", "message"))
	to, post := e.pay(w, "4242-4242-4242-4242")
	_, page, _ := e.post(to, post, "")
	m, _ := doneMessage(t, page)
	if m.Data["success"] != false || !strings.Contains(m.Data["error_msg"].(string), "망취소") {
		t.Fatalf("rsp %v", m.Data)
	}
	led := e.app.Simulator.Ledger()
	if len(led.NetCancels) != 1 || len(led.Keys) != 1 || !led.Keys[0].Revoked || led.NetCancels[0].BillKey != led.Keys[0].BillKey {
		t.Fatalf("ledger: keys %+v net cancels %+v", led.Keys, led.NetCancels)
	}
	if _, err := e.app.Service.Customer(context.Background(), e.merchant.ID, "cust-nc"); err == nil {
		t.Fatal("customer stored")
	}
}

// TestWindowSweep: an abandoned attempt does not stay ready.
func TestWindowSweep(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fresh := newEnv(t, dsn, nil)
		fresh.openWindow(openForm(fresh.merchant.ImpCode, issueParams("cust-here"), "pc", "message"))
		if n, err := fresh.app.Service.ExpireWindows(ctx); err != nil || n != 0 {
			t.Fatalf("sweep before expiry: %d %v", n, err)
		}

		e := newEnv(t, dsn, nil, expiring)
		w := e.openWindow(openForm(e.merchant.ImpCode, issueParams("cust-gone"), "pc", "message"))
		imp := w.openPageImpUID(t)
		if n, err := e.app.Service.ExpireWindows(ctx); err != nil || n != 1 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		p, err := e.store.PaymentByImpUID(ctx, e.merchant.ID, imp)
		if err != nil || p.Status != billkey.StatusFailed || !strings.Contains(p.FailReason, "유효시간") {
			t.Fatalf("payment %+v %v", p, err)
		}
		// The late return post gets the recorded failure.
		to, post := e.pay(w, "4242-4242-4242-4242")
		_, page, _ := e.post(to, post, "")
		if m, _ := doneMessage(t, page); m.Data["success"] != false {
			t.Fatalf("late post: %v", m.Data)
		}
		if n := len(e.app.Simulator.Ledger().Keys); n != 0 {
			t.Fatalf("%d keys issued after expiry", n)
		}
	})
}

func (w *inicisWindow) openPageImpUID(t *testing.T) string {
	t.Helper()
	d := pageData(t, w.openPage)
	var m message
	_ = json.Unmarshal([]byte(d["message"]), &m)
	imp, _ := m.Data["imp_uid"].(string)
	if imp == "" {
		t.Fatalf("no imp_uid in %v", d)
	}
	return imp
}

// TestSDKServed: iamport.js at every path merchants use.
func TestSDKServed(t *testing.T) {
	e := newEnv(t, dbtest.DSN(t, "sqlite"), nil)
	for _, p := range []string{"/js/iamport.js", "/v1/iamport.js", "/js/iamport.payment-1.2.0.js", "/js/iamport.payment-1.1.5.js"} {
		status, body, hdr := e.get(e.app.BaseURL + p)
		if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/javascript") || !strings.Contains(body, "request_pay") ||
			strings.Contains(body, "jQuery") && !strings.Contains(body, "no jQuery") {
			t.Errorf("%s: %d %v", p, status, hdr)
		}
	}
}

// TestDemoGuards: the demo shows only its own orders and refuses
// cross-site posts.
func TestDemoGuards(t *testing.T) {
	e := newEnv(t, dbtest.DSN(t, "sqlite"), nil)
	status, page, hdr := e.get(e.app.BaseURL + "/demo")
	if status != 200 || !strings.Contains(page, e.merchant.ImpCode) || !strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("/demo: %d %v", status, hdr)
	}
	// A (non-demo) payment of the same merchant is not shown.
	w := e.openWindow(openForm(e.merchant.ImpCode, issueParams("cust-private"), "pc", "message"))
	imp := w.openPageImpUID(t)
	for _, p := range []string{"/demo/orders/" + imp, "/demo/payments/" + imp, "/demo/orders/imp_000000000000", "/demo/orders/nope"} {
		if status, _, _ := e.get(e.app.BaseURL + p); status != 404 {
			t.Errorf("GET %s: %d", p, status)
		}
	}
	req, _ := http.NewRequest("POST", e.app.BaseURL+"/demo/subscribe", strings.NewReader("imp_uid="+imp))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if status, _, _ := e.do(req); status != http.StatusForbidden {
		t.Errorf("cross-site subscribe: %d", status)
	}
	// A same-site post with an issuance that is not the demo's is refused.
	req, _ = http.NewRequest("POST", e.app.BaseURL+"/demo/subscribe", strings.NewReader("imp_uid="+imp))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if status, page, _ := e.do(req); status != 400 || !strings.Contains(page, "확인할 수 없습니다") {
		t.Errorf("subscribe with a foreign issuance: %d", status)
	}
}

// TestLandingAndFavicon: / is a page pointing to the demo, the API and the
// docs (not the API's 401), with or without the demo; the favicon exists.
func TestLandingAndFavicon(t *testing.T) {
	for _, demo := range []bool{true, false} {
		e := newEnv(t, dbtest.DSN(t, "sqlite"), nil, func(o *cli.AppOptions) { o.NoDemo = !demo })
		status, page, hdr := e.get(e.app.BaseURL + "/")
		if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") ||
			!strings.Contains(page, "/users/getToken") || !strings.Contains(page, "docs/") || !strings.Contains(page, "/js/iamport.js") ||
			strings.Contains(page, `href="/demo"`) != demo {
			t.Fatalf("demo %v: GET / %d %s\n%s", demo, status, hdr.Get("Content-Type"), page)
		}
		for _, p := range []string{"/favicon.ico", "/favicon.svg", "/billkey.css"} {
			if status, body, hdr := e.get(e.app.BaseURL + p); status != 200 || body == "" || hdr.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s: %d %s", p, status, hdr.Get("Content-Type"))
			}
		}
		// Other unknown paths still need a token.
		if status, _, _ := e.get(e.app.BaseURL + "/nope"); status != 401 {
			t.Errorf("GET /nope: %d, want 401", status)
		}
	}
}
