package window_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/inicissim"
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
		// Phones get the INIStdPay window too: its cancel loads closeUrl.
		_, page, _ := e.post(w.cancel, url.Values{"sid": {w.sid}}, "")
		closeURL := strings.Split(strings.Split(page, `id="link" href="`)[1], `"`)[0]
		status, _, hdr := e.get(strings.ReplaceAll(closeURL, "&amp;", "&"))
		loc, _ := url.Parse(hdr.Get("Location"))
		q := loc.Query()
		if status != 303 || loc.Host != "shop.example" || q.Get("x") != "1" || q.Get("imp_success") != "false" ||
			q.Get("error_code") != "V801" || !strings.HasPrefix(q.Get("imp_uid"), "imp_") || q.Get("merchant_uid") != "order_cust-mcancel" {
			t.Fatalf("redirect %d %s", status, loc)
		}
	})
	t.Run("malformed INICIS post", func(t *testing.T) {
		w := e.openWindow(openForm(e.merchant.ImpCode, issueParams("cust-malformed"), "pc", "message"))
		to, _ := e.pay(w, "4242-4242-4242-4242")
		_, page, _ := e.post(to, url.Values{"resultCode": {"0000"}}, "") // no authToken, authUrl, ...
		if rsp := failed(t, page); rsp["error_code"] != "F400" {
			t.Fatalf("rsp %v", rsp)
		}
	})
	t.Run("expired", func(t *testing.T) {
		e := newEnv(t, dbtest.DSN(t, "sqlite"), nil, expiring)
		w := e.openWindow(openForm(e.merchant.ImpCode, issueParams("cust-late"), "pc", "message"))
		to, post := e.pay(w, "4242-4242-4242-4242")
		_, page, _ := e.post(to, post, "")
		m, _ := doneMessage(t, page)
		if m.Data["success"] != false || !strings.Contains(m.Data["error_msg"].(string), "유효시간") || m.Data["error_code"] != "WINDOW_EXPIRED" {
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
		if rsp := failed(t, page); !strings.Contains(rsp["error_msg"].(string), "다시 열려") || rsp["error_code"] != "WINDOW_SUPERSEDED" {
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

// TestWindowChannelChoice: pg values that match no channel fall back to the
// default channel as i'mport does (a stale "html5_inicis.{MID}" from a
// sample, another PG's code); channelKey picks a channel before pg; a PC
// page with a callback may pass an m_redirect_url billkey never uses.
func TestWindowChannelChoice(t *testing.T) {
	e := newEnv(t, dbtest.DSN(t, "sqlite"), nil)
	ctx := context.Background()
	acct := inicissim.TestAccounts()[1] // INIpayTest, known to the simulator
	second := &billkey.Channel{Provider: billkey.ProviderInicis, MID: acct.MID,
		Credentials: inicis.Credentials{SignKey: acct.SignKey, APIKey: acct.APIKey, APIIV: acct.APIIV}.Encode()}
	if err := e.app.Service.AddChannel(ctx, e.merchant.ImpCode, second); err != nil {
		t.Fatal(err)
	}
	pgOf := func(t *testing.T, params map[string]any) string {
		t.Helper()
		w := e.openWindow(openForm(e.merchant.ImpCode, params, "pc", "message"))
		p, err := e.store.PaymentByImpUID(ctx, e.merchant.ID, w.openPageImpUID(t))
		if err != nil {
			t.Fatal(err)
		}
		return p.PGProvider + "." + p.PGID
	}
	for i, c := range []struct {
		pg, channelKey, want string
	}{
		{"html5_inicis.INIBillOld", "", "html5_inicis.INIBillTst"}, // stale MID: the default channel
		{"kcp", "", "html5_inicis.INIBillTst"},
		{"kcp.T0000", "", "html5_inicis.INIBillTst"},
		{"inicis.INIpayTest", "", "inicis.INIpayTest"},
		{"", gateway.ChannelKey(second), "inicis.INIpayTest"},
		{"html5_inicis.INIBillTst", gateway.ChannelKey(second), "inicis.INIpayTest"}, // channelKey wins
	} {
		p := issueParams(fmt.Sprintf("cust-ch-%d", i))
		p["pg"], p["m_redirect_url"] = c.pg, "/relative/ignored on PC"
		if c.channelKey != "" {
			p["channelKey"] = c.channelKey
		}
		if got := pgOf(t, p); got != c.want {
			t.Errorf("pg %q channelKey %q: window on %s, want %s", c.pg, c.channelKey, got, c.want)
		}
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
	to, post = e.pay(w, "1234-1234-1234-1234")
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

// TestWindowMobileRedirect runs the phone flow on both databases: the page
// itself goes to INICIS's INIStdPay window (not the legacy INILite one, whose
// unsigned result billkey refuses to trust), the return post is approved
// server to server and the browser ends at m_redirect_url.
func TestWindowMobileRedirect(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		p := issueParams("cust-mobile")
		p["m_redirect_url"] = "https://shop.example/complete"
		status, page, hdr := e.post(e.app.BaseURL+"/window/open", openForm(e.merchant.ImpCode, p, "mobile", "redirect"), merchantOrigin)
		if status != 200 || !strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Fatalf("open: %d %v\n%s", status, hdr, page)
		}
		if d := pageData(t, page); d["message"] != "" || d["kind"] != "pc" {
			t.Errorf("redirect mode posts no message and opens the INIStdPay window: %v", d)
		}
		w := e.openWindow(openForm(e.merchant.ImpCode, p, "mobile", "redirect"))
		to, post := e.pay(w, "4242-4242-4242-4242")
		if post.Has("billkey") || post.Has("CARD_BillKey") || post.Get("authToken") == "" {
			t.Fatalf("the return post carries a key or no authToken: %v", post)
		}
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
		led := e.app.Simulator.Ledger()
		if len(led.Keys) != 1 || led.Keys[0].Source != "stdpay" {
			t.Fatalf("ledger keys %+v", led.Keys)
		}
		for _, s := range e.seen {
			if strings.Contains(s, led.Keys[0].BillKey) {
				t.Fatalf("billing key in something the browser got:\n%s", s)
			}
		}
	})
}

// TestWindowForgedMobileResult is the forged-issuance attack on both
// databases: someone opens a phone window with the merchant's public imp
// code and a victim's customer_uid, then posts a made-up result to the
// return URL instead of going through INICIS. Neither a legacy INILite
// result (resultcode 00, the MID, the order id, a 40-hex key) nor an
// INIStdPay-shaped one (resultCode 0000 and an invented authToken) may store
// a key, replace the victim's, or mark the issuance paid.
func TestWindowForgedMobileResult(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		ctx := context.Background()
		// The victim's real key, issued through the window.
		w := e.openWindow(openForm(e.merchant.ImpCode, issueParams("victim"), "pc", "message"))
		to, post := e.pay(w, "4242-4242-4242-4242")
		if _, page, _ := e.post(to, post, ""); !strings.Contains(page, `\"success\":true`) {
			t.Fatalf("victim's issuance failed:\n%s", page)
		}
		before, err := e.app.Service.Customer(ctx, e.merchant.ID, "victim")
		if err != nil {
			t.Fatal(err)
		}
		sim := e.app.SimURL
		forgeries := map[string]func(orderID string) url.Values{
			"legacy INILite result": func(orderID string) url.Values {
				return url.Values{"resultcode": {"00"}, "resultmsg": {"[신용카드|본인인증이 성공하였습니다.]"}, "mid": {"INIBillTst"},
					"orderid": {orderID}, "tid": {"INIpayBillINIBillTst20260101000000000001"},
					"billkey": {strings.Repeat("ab", 20)}, "cardcd": {"41"}, "cardno": {"424242******4242"}}
			},
			"INIStdPay result with an invented authToken": func(orderID string) url.Values {
				return url.Values{"resultCode": {"0000"}, "resultMsg": {"성공"}, "mid": {"INIBillTst"}, "orderNumber": {orderID},
					"authToken": {strings.Repeat("A", 64)}, "idc_name": {"stg"}, "authUrl": {sim + "/api/payAuth"},
					"netCancelUrl": {sim + "/api/netCancel"}, "charset": {"UTF-8"}}
			},
		}
		i := 0
		for name, forge := range forgeries {
			i++
			t.Run(name, func(t *testing.T) {
				p := issueParams("victim")
				p["merchant_uid"] = "forged_" + string(rune('0'+i))
				p["m_redirect_url"] = "https://attacker.example/done"
				status, page, hdr := e.post(e.app.BaseURL+"/window/open", openForm(e.merchant.ImpCode, p, "mobile", "redirect"), merchantOrigin)
				if status != 200 {
					t.Fatalf("open: %d %s\n%s", status, hdr.Get("Location"), page)
				}
				_, fields := formIn(t, page, reOpenAct)
				orderID := fields.Get("oid")
				returnURL := fields.Get("returnUrl")
				if orderID == "" || !strings.HasPrefix(returnURL, e.app.BaseURL+"/window/return/") {
					t.Fatalf("open form %v", fields)
				}
				status, _, hdr = e.post(returnURL, forge(orderID), "")
				loc, _ := url.Parse(hdr.Get("Location"))
				if status != 303 || loc.Query().Get("imp_success") != "false" {
					t.Fatalf("forged post: %d %s", status, loc)
				}
				pay, err := e.store.PaymentByImpUID(ctx, e.merchant.ID, orderID)
				if err != nil || pay.Status != billkey.StatusFailed || !pay.PaidAt.IsZero() {
					t.Fatalf("issuance after a forged post: %+v %v", pay, err)
				}
				after, err := e.app.Service.Customer(ctx, e.merchant.ID, "victim")
				if err != nil || !bytes.Equal(after.KeyCiphertext, before.KeyCiphertext) || after.CardNumber != before.CardNumber || !after.Updated.Equal(before.Updated) {
					t.Fatalf("the victim's key changed: %+v -> %+v (%v)", before, after, err)
				}
				if n := len(e.app.Simulator.Ledger().Keys); n != 1 {
					t.Fatalf("%d keys at INICIS, want the victim's only", n)
				}
				evs, err := e.store.Events(ctx, e.merchant.ID, 0, 100)
				if err != nil {
					t.Fatal(err)
				}
				for _, ev := range evs {
					if ev.ImpUID == orderID {
						t.Fatalf("webhook event for a forged issuance: %+v", ev)
					}
				}
			})
		}
	})
}

// TestWindowMobileRefused: a channel set to refuse phones
// (billkey channel mobile-window ... refuse) answers a phone window with a
// clear failure and writes nothing; PC windows still open.
func TestWindowMobileRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		ctx := context.Background()
		if err := e.app.Service.SetMobileWindow(ctx, e.merchant.ImpCode, gateway.TestMID, billkey.MobileWindowRefuse); err != nil {
			t.Fatal(err)
		}
		p := issueParams("cust-phone")
		p["m_redirect_url"] = "https://shop.example/complete"
		status, _, hdr := e.post(e.app.BaseURL+"/window/open", openForm(e.merchant.ImpCode, p, "mobile", "redirect"), merchantOrigin)
		loc, _ := url.Parse(hdr.Get("Location"))
		if status != 303 || loc.Query().Get("imp_success") != "false" || !strings.Contains(loc.Query().Get("error_msg"), "모바일 결제창을 지원하지 않습니다") ||
			loc.Query().Get("imp_uid") != "" {
			t.Fatalf("phone window on a refusing channel: %d %s", status, loc)
		}
		if ps, err := e.store.PaymentsByUIDs(ctx, e.merchant.ID, nil, []string{"order_cust-phone"}); err != nil || len(ps) != 0 {
			t.Fatalf("a refused window wrote a payment: %v %v", ps, err)
		}
		w := e.openWindow(openForm(e.merchant.ImpCode, issueParams("cust-desk"), "pc", "message"))
		to, post := e.pay(w, "4242-4242-4242-4242")
		if _, page, _ := e.post(to, post, ""); !strings.Contains(page, `\"success\":true`) {
			t.Fatalf("PC issuance on a refusing channel failed:\n%s", page)
		}
	})
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
		{"unknown channelKey", openForm(e.merchant.ImpCode, with("channelKey", "channel-key-nope"), "pc", "message"), `channelKey("channel-key-nope")`},
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
			if opener != merchantOrigin || m.Data["success"] != false || m.Data["imp_uid"] != nil || !strings.Contains(msg, c.want) ||
				m.Data["error_code"] != "F400" {
				t.Fatalf("rsp %v, want error_msg containing %q and error_code F400", m.Data, c.want)
			}
		})
	}
	t.Run("redirect failure", func(t *testing.T) {
		p := with("channelKey", "channel-key-nope")
		p["m_redirect_url"] = "https://shop.example/complete?b=2&a&c=%ED%95%9C+x#top"
		status, _, hdr := e.post(e.app.BaseURL+"/window/open", openForm(e.merchant.ImpCode, p, "mobile", "redirect"), merchantOrigin)
		raw := hdr.Get("Location")
		loc, _ := url.Parse(raw)
		// The page's own query is kept as it was (order, bare key,
		// encoding); billkey's fields follow it, spaces as %20.
		if status != 303 || loc.Query().Get("imp_success") != "false" || !strings.Contains(loc.Query().Get("error_msg"), "channelKey") ||
			loc.Query().Get("merchant_uid") != "order_cust-bad" || loc.Query().Get("error_code") != "F400" ||
			!strings.HasPrefix(raw, "https://shop.example/complete?b=2&a&c=%ED%95%9C+x&imp_uid=&merchant_uid=order_cust-bad&imp_success=false&error_code=F400&error_msg=") ||
			!strings.HasSuffix(raw, "#top") || strings.Contains(raw, "+") && strings.Count(raw, "+") != 1 {
			t.Fatalf("%d %s", status, raw)
		}
	})
	t.Run("redirect to javascript:", func(t *testing.T) {
		// m_redirect_url is checked when billkey is to redirect there: the
		// buyer gets billkey's page, never a redirect to it.
		status, page, hdr := e.post(e.app.BaseURL+"/window/open", openForm(e.merchant.ImpCode, with("m_redirect_url", "javascript:alert(1)"), "mobile", "redirect"), merchantOrigin)
		if status != 400 || hdr.Get("Location") != "" || !strings.Contains(page, "m_redirect_url은 http(s) URL이어야 합니다.") {
			t.Fatalf("%d %v\n%s", status, hdr, page)
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
	if m.Data["success"] != false || !strings.Contains(m.Data["error_msg"].(string), "망취소") || m.Data["error_code"] != "F500" {
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
		// The app's own sweeper runs once at start, in the background: on a
		// busy machine it may settle this attempt first. Either way exactly
		// one sweep settles it, and the payment below must be failed.
		if n, err := e.app.Service.ExpireWindows(ctx); err != nil || n > 1 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		if n, err := e.app.Service.ExpireWindows(ctx); err != nil || n != 0 {
			t.Fatalf("second sweep: %d %v", n, err)
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
	paths := []string{"/js/iamport.js", "/v1/iamport.js", "/js/iamport.payment-1.2.0.js"}
	for i := 0; i <= 8; i++ { // every 1.1.x i'mport published
		paths = append(paths, fmt.Sprintf("/js/iamport.payment-1.1.%d.js", i))
	}
	for _, p := range paths {
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

// TestWindowNoticeURLAllowList: a window's notice_url (chosen by whoever
// opens the window) must name a host the merchant controls: its webhook
// URL's host, or one it allowed with PUT /webhooks/notice-hosts. Others are
// refused at open, writing nothing; an array is accepted when every entry
// passes, and each entry gets the signed event.
func TestWindowNoticeURLAllowList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		ctx := context.Background()
		tok := e.token()
		open := func(uid string, notice any) (map[string]any, *inicisWindow) {
			t.Helper()
			p := issueParams(uid)
			p["notice_url"] = notice
			status, page, _ := e.post(e.app.BaseURL+"/window/open", openForm(e.merchant.ImpCode, p, "pc", "message"), merchantOrigin)
			if status == 200 && strings.Contains(page, "SendPayForm_id") {
				return nil, e.openWindow(openForm(e.merchant.ImpCode, p, "pc", "message"))
			}
			m, _ := doneMessage(t, page)
			return m.Data, nil
		}
		refused := func(uid string, notice any) {
			t.Helper()
			rsp, w := open(uid, notice)
			if w != nil {
				t.Fatalf("notice_url %v accepted", notice)
			}
			if rsp["success"] != false || rsp["imp_uid"] != nil || !strings.Contains(rsp["error_msg"].(string), "notice_url(") ||
				!strings.Contains(rsp["error_msg"].(string), "/webhooks/notice-hosts") {
				t.Fatalf("rsp %v", rsp)
			}
			if ps, err := e.store.PaymentsByUIDs(ctx, e.merchant.ID, nil, []string{"order_" + uid}); err != nil || len(ps) != 0 {
				t.Fatalf("refused window wrote %v %v", ps, err)
			}
		}
		// No webhook URL, no allow-list: nothing is allowed.
		refused("n-1", "https://attacker.example/hook")
		// The webhook URL's host is allowed, on any path and port...
		if env := e.api("PUT", "/webhooks/url", map[string]any{"url": "https://shop.example/hooks"}, tok); env["code"] != float64(0) {
			t.Fatalf("PUT /webhooks/url: %v", env)
		}
		refused("n-2", "https://attacker.example/hook")
		refused("n-3", "https://shop.example.attacker.example/hook")
		refused("n-4", []string{"https://shop.example/a", "https://attacker.example/b"})
		// ...and so are the hosts the merchant lists.
		env := e.api("PUT", "/webhooks/notice-hosts", map[string]any{"hosts": []string{"Hooks.Partner.example", "*.shop-cdn.example"}}, tok)
		r, _ := env["response"].(map[string]any)
		if env["code"] != float64(0) || r == nil || len(r["notice_hosts"].([]any)) != 2 || r["notice_hosts"].([]any)[0] != "hooks.partner.example" {
			t.Fatalf("PUT /webhooks/notice-hosts: %v", env)
		}
		if env := e.api("PUT", "/webhooks/notice-hosts", map[string]any{"hosts": []string{"https://x.example/path"}}, tok); env["code"] != float64(1) {
			t.Fatalf("a URL as a host was accepted: %v", env)
		}
		refused("n-5", "https://shop-cdn.example/hook") // "*.d" is subdomains only
		_, w := open("n-6", []string{"https://shop.example:8443/a", "https://hooks.partner.example/b", "https://x.shop-cdn.example/c"})
		if w == nil {
			t.Fatal("allowed notice_urls refused")
		}
		to, post := e.pay(w, "4242-4242-4242-4242")
		_, page, _ := e.post(to, post, "")
		m, _ := doneMessage(t, page)
		if m.Data["success"] != true {
			t.Fatalf("rsp %v", m.Data)
		}
		evs, err := e.store.Events(ctx, e.merchant.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range evs {
			if ev.ImpUID == m.Data["imp_uid"] {
				got = append(got, ev.NoticeURL)
			}
		}
		want := "https://shop.example:8443/a https://hooks.partner.example/b https://x.shop-cdn.example/c"
		if strings.Join(got, " ") != want {
			t.Fatalf("events to %q, want %q", got, want)
		}
	})
}

// TestWindowNoOpenRedirect: a refused redirect-mode open sends the browser
// to m_redirect_url only for a known merchant and an http(s) URL; otherwise
// billkey's own error page, never framable.
func TestWindowNoOpenRedirect(t *testing.T) {
	e := newEnv(t, dbtest.DSN(t, "sqlite"), nil)
	p := issueParams("cust-r")
	p["m_redirect_url"] = "https://evil.example/phish"
	status, page, hdr := e.post(e.app.BaseURL+"/window/open", openForm("imp99999999", p, "mobile", "redirect"), merchantOrigin)
	if status == http.StatusSeeOther || hdr.Get("Location") != "" {
		t.Fatalf("unknown imp code redirected to %s", hdr.Get("Location"))
	}
	if status != http.StatusBadRequest || !strings.Contains(page, "가맹점 식별코드(imp99999999)") ||
		!strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") || hdr.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("error page %d %v\n%s", status, hdr, page)
	}
	for _, bad := range []string{"javascript:alert(1)", "data:text/html,x", "//evil.example/x", "ftp://evil.example/x"} {
		p["m_redirect_url"] = bad
		status, _, hdr := e.post(e.app.BaseURL+"/window/open", openForm(e.merchant.ImpCode, p, "mobile", "redirect"), merchantOrigin)
		if loc := hdr.Get("Location"); status == http.StatusSeeOther || loc != "" {
			t.Fatalf("m_redirect_url %q redirected to %q", bad, loc)
		}
	}
	// A known merchant's refused request still goes back to its page.
	p["m_redirect_url"] = "https://shop.example/done"
	p["amount"] = -1
	status, _, hdr = e.post(e.app.BaseURL+"/window/open", openForm(e.merchant.ImpCode, p, "mobile", "redirect"), merchantOrigin)
	if loc, _ := url.Parse(hdr.Get("Location")); status != http.StatusSeeOther || loc.Host != "shop.example" || loc.Query().Get("imp_success") != "false" {
		t.Fatalf("known merchant: %d %s", status, hdr.Get("Location"))
	}
	// Unknown attempt tokens get the error page too.
	status, _, hdr = e.get(e.app.BaseURL + "/window/close/" + strings.Repeat("A", 43))
	if status != http.StatusNotFound || !strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("unknown token: %d %v", status, hdr)
	}
}

// TestWindowByteLevelInput, on both databases: invalid UTF-8, control
// characters and lone surrogates in window parameters (or in INICIS's return
// post) are refused with a clear message in the rsp; nothing is written and
// nothing reaches INICIS. A User-Agent with such bytes is cleaned, not fatal.
func TestWindowByteLevelInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		ctx := context.Background()
		refused := func(t *testing.T, form url.Values, want string) {
			t.Helper()
			status, page, _ := e.post(e.app.BaseURL+"/window/open", form, merchantOrigin)
			if status >= 500 {
				t.Fatalf("status %d\n%s", status, page)
			}
			m, _ := doneMessage(t, page)
			msg, _ := m.Data["error_msg"].(string)
			if m.Data["success"] != false || m.Data["imp_uid"] != nil || !strings.Contains(msg, want) {
				t.Fatalf("rsp %v", m.Data)
			}
		}
		rawParams := func(json string) url.Values {
			f := openForm(e.merchant.ImpCode, issueParams("x"), "pc", "message")
			f.Set("params", json)
			return f
		}
		base := `"pg":"html5_inicis","customer_uid":"cust-b","merchant_uid":"order-b","buyer_email":"a@b.example","buyer_tel":"010"`
		cases := map[string]struct {
			form url.Values
			want string
		}{
			"invalid UTF-8 in params": {rawParams(`{` + base + `,"name":"utf` + "\xff\xfe" + `"}`), "UTF-8"},
			"NUL in name":             {rawParams(`{` + base + `,"name":"a\u0000b"}`), "name 파라미터에 허용되지 않는 문자"},
			"newline in buyer_name":   {rawParams(`{` + base + `,"buyer_name":"홍\n길동"}`), "buyer_name 파라미터"},
			"lone surrogate":          {rawParams(`{` + base + `,"buyer_addr":"\ud800"}`), "buyer_addr 파라미터"},
			"C1 control in custom":    {rawParams(`{` + base + `,"custom_data":"a\u0085b"}`), "custom_data 파라미터"},
			"escape in merchant_uid":  {rawParams(`{"pg":"html5_inicis","customer_uid":"cust-b","merchant_uid":"o\u001b[31m","buyer_email":"a@b.example","buyer_tel":"010"}`), "merchant_uid"},
			"invalid UTF-8 imp_code":  {func() url.Values { f := rawParams(`{` + base + `}`); f.Set("imp_code", "imp\xff"); return f }(), "imp_code 파라미터"},
			"control in notice_url":   {rawParams(`{` + base + `,"notice_url":["https://shop.example/a\u0007"]}`), "notice_url"},
			"control in customer_uid": {rawParams(`{"pg":"html5_inicis","customer_uid":"c\u0001","merchant_uid":"order-b","buyer_email":"a@b.example","buyer_tel":"010"}`), "customer_uid"},
			"DEL in m_redirect_url":   {rawParams(`{` + base + `,"m_redirect_url":"https://shop.example/\u007f"}`), "m_redirect_url"},
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) { refused(t, c.form, c.want) })
		}
		if ps, err := e.store.PaymentsByUIDs(ctx, e.merchant.ID, nil, []string{"order-b", "o\x1b[31m"}); err != nil || len(ps) != 0 {
			t.Fatalf("refused windows wrote %v %v", ps, err)
		}
		// custom_data free text may hold line breaks.
		p := issueParams("cust-ok")
		p["custom_data"] = "줄1\n줄2"
		w := e.openWindow(openForm(e.merchant.ImpCode, p, "pc", "message"))
		// A return post with bytes INICIS never sends is not approved.
		to, post := e.pay(w, "4242-4242-4242-4242")
		bad := url.Values{}
		for k, v := range post {
			bad[k] = v
		}
		bad.Set("resultMsg", "ok\x00")
		_, page, _ := e.post(to, bad, "")
		m, _ := doneMessage(t, page)
		if m.Data["success"] != false || !strings.Contains(m.Data["error_msg"].(string), "허용되지 않는 문자") {
			t.Fatalf("rsp %v", m.Data)
		}
		if led := e.app.Simulator.Ledger(); len(led.Keys) != 0 {
			t.Fatalf("INICIS approved a post with control bytes: %+v", led.Keys)
		}
		if _, err := e.app.Service.Customer(ctx, e.merchant.ID, "cust-ok"); err == nil {
			t.Fatal("a key was stored")
		}
		// A broken User-Agent is cleaned (U+FFFD for what is not UTF-8, at most
		// 256 characters) and stored as valid UTF-8, as on the REST paths.
		form := openForm(e.merchant.ImpCode, issueParams("cust-ua"), "pc", "message")
		req, _ := http.NewRequest(http.MethodPost, e.app.BaseURL+"/window/open", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", merchantOrigin)
		req.Header.Set("User-Agent", "Mozilla/5.0 \xff\xfe"+strings.Repeat("가", 100))
		if status, page, _ := e.do(req); status != 200 || !strings.Contains(page, "SendPayForm_id") {
			t.Fatalf("open with a broken User-Agent: %d\n%s", status, page)
		}
		ps, err := e.store.PaymentsByUIDs(ctx, e.merchant.ID, nil, []string{"order_cust-ua"})
		if err != nil || len(ps) != 1 || !utf8.ValidString(ps[0].UserAgent) || !strings.HasPrefix(ps[0].UserAgent, "Mozilla/5.0 \uFFFD가") || utf8.RuneCountInString(ps[0].UserAgent) > 256 {
			t.Fatalf("stored user agent %v %v", ps, err)
		}
	})
}

// TestWindowTokensNotLogged: the attempt token in /window/return/{token}
// and /window/close/{token} never appears in billkey's logs.
func TestWindowTokensNotLogged(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, dbtest.DSN(t, "sqlite"), nil, func(o *cli.AppOptions) { o.Logger = logger })
	w := e.openWindow(openForm(e.merchant.ImpCode, issueParams("cust-log"), "pc", "message"))
	to, post := e.pay(w, "4242-4242-4242-4242")
	e.post(to, post, "")
	e.post(to, post, "") // replayed
	token := strings.TrimPrefix(to, e.app.BaseURL+"/window/return/")
	e.get(e.app.BaseURL + "/window/close/" + token)
	w2 := e.openWindow(openForm(e.merchant.ImpCode, issueParams("cust-log2"), "pc", "message"))
	closeURL := pageData(t, w2.openPage)["message"]
	var opened message
	_ = json.Unmarshal([]byte(closeURL), &opened)
	token2 := strings.TrimPrefix(opened.Data["close_url"].(string), e.app.BaseURL+"/window/close/")
	e.post(e.app.BaseURL+"/window/close/"+token2, nil, "")
	out := logs.String()
	if len(token) != 43 || len(token2) != 43 {
		t.Fatalf("tokens %q %q", token, token2)
	}
	if strings.Contains(out, token) || strings.Contains(out, token2) {
		t.Fatalf("attempt token in the logs:\n%s", out)
	}
	if !strings.Contains(out, "/window/return/{token}") || !strings.Contains(out, "/window/close/{token}") {
		t.Fatalf("request log lines missing:\n%s", out)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
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
