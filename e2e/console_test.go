package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/console"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/internal/dbtest"
)

// Browser tests of the admin console (/console) in headless Chromium, on
// both databases: an operator logs in, finds a payment, refunds part of it,
// resends a webhook, revokes a schedule; logins are throttled, forms without
// their CSRF token are refused, and an operator sees only granted merchants.

// testHash keeps argon2id cheap in tests (the real defaults take ~40 ms).
var testHash = console.HashParams{Memory: 64, Time: 1, Threads: 1}

const operatorPassword = "correct horse battery"

// consoleEnv is a gateway with the console mounted, a webhook receiver,
// two merchants (A with data, B another merchant) and operators.
type consoleEnv struct {
	*harness
	other    *gateway.CreatedMerchant
	otherPay *billkey.Payment
	mu       sync.Mutex
	hooks    map[string]int // imp_uid → webhook requests received
}

func startConsole(t *testing.T, dsn string) *consoleEnv {
	t.Helper()
	ctx := context.Background()
	e := &consoleEnv{harness: start(t, dsn, options{}), hooks: map[string]int{}}
	cons, err := console.New(console.Config{Service: e.app.Service, HashParams: &testHash})
	if err != nil {
		t.Fatal(err)
	}
	e.app.ServeRoutes(cons, false, false)

	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			ImpUID string `json:"imp_uid"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		e.mu.Lock()
		e.hooks[body.ImpUID]++
		e.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(receiver.Close)
	if err := e.app.Service.SetWebhookURL(ctx, e.merchant.Merchant.ID, receiver.URL+"/hook"); err != nil {
		t.Fatal(err)
	}

	e.other, err = e.app.Service.CreateMerchant(ctx, gateway.NewMerchant{Name: "다른 상점"})
	if err != nil {
		t.Fatal(err)
	}
	oid := e.other.Merchant.ID
	if _, err := e.app.Service.IssueCustomer(ctx, oid, gateway.IssueInput{CustomerUID: "other-cust",
		Card: billkey.Card{Number: "4242424242424242", Expiry: "2030-12", Birth: "880101", Pwd2Digit: "12"}}); err != nil {
		t.Fatal(err)
	}
	if e.otherPay, err = e.app.Service.ChargeAgain(ctx, oid, gateway.ChargeInput{CustomerUID: "other-cust",
		MerchantUID: "other_order_1", Name: "다른 상점 주문", Amounts: gateway.Amounts{Amount: 7700}}); err != nil {
		t.Fatal(err)
	}

	for _, op := range []struct {
		login string
		all   bool
		ids   []int64
	}{
		{"ops", false, []int64{e.merchant.Merchant.ID}},
		{"root", true, nil},
	} {
		hash, err := console.HashPassword(operatorPassword, testHash)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.CreateOperator(ctx, &billkey.Operator{Login: op.login, PasswordHash: hash, AllMerchants: op.all, MerchantIDs: op.ids}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *consoleEnv) hookCount(impUID string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hooks[impUID]
}

func (e *consoleEnv) url(path string) string { return e.app.BaseURL + path }

// text returns the text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// login logs in through the login form and returns the text of the page it
// lands on (an error or the console).
func (b *browser) login(e *consoleEnv, login, password string) {
	b.t.Helper()
	b.do("login page", chromedp.Navigate(e.url("/console/login")), chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS("#login"), login), chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#login-submit")), chromedp.WaitVisible(chromedp.CSS("nav.menu, #login-error, #error")))
}

// waitText waits until the element matching sel contains want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	b.until(fmt.Sprintf("%s containing %q", sel, want), chromedp.Text(chromedp.CSS(sel), chromedp.AtLeast(0)),
		func(s string) bool { return strings.Contains(s, want) })
}

// waitNoText waits until the element's text no longer contains s.
func (b *browser) waitNoText(sel, s string) {
	b.t.Helper()
	b.until(fmt.Sprintf("%s without %q", sel, s), chromedp.Text(chromedp.CSS(sel), chromedp.AtLeast(0)),
		func(got string) bool { return !strings.Contains(got, s) })
}

// waitURL waits until the page's location contains want (a form's
// redirect has landed).
func (b *browser) waitURL(want string) {
	b.t.Helper()
	b.until(fmt.Sprintf("a URL with %q", want), chromedp.Location(), func(loc string) bool { return strings.Contains(loc, want) })
}

// until runs read every 50 ms until ok accepts its result, for at most 15 s.
func (b *browser) until(what string, read chromedp.Action[string], ok func(string) bool) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := chromedp.Run(b.ctx, read)
		if err == nil && ok(got) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("never saw %s (last: %q, %v)", what, got, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestConsoleOperatorFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := startConsole(t, dsn)
		imp := e.merchant.Merchant.ImpCode
		e.mustIssue("console-cust", "4242-4242-4242-4242")
		if _, env := e.again("console-cust", "console_order_1", 10000); env.Code != 0 {
			t.Fatalf("charge: %s", env.raw)
		}
		for i := 2; i <= 4; i++ {
			if _, env := e.again("console-cust", fmt.Sprintf("console_order_%d", i), 1000*int64(i)); env.Code != 0 {
				t.Fatalf("charge: %s", env.raw)
			}
		}
		_, env := e.call("GET", "/payments/find/console_order_1", nil)
		p := env.payment(t)
		eventually(t, 15*time.Second, "the paid webhook", func() bool { return e.hookCount(p.ImpUID) == 1 })
		at := time.Now().Add(72 * time.Hour).Unix()
		if _, env := e.call("POST", "/subscribe/payments/schedule", map[string]any{"customer_uid": "console-cust",
			"schedules": []map[string]any{{"merchant_uid": "console_sched_1", "schedule_at": at, "amount": 5000, "name": "다음 달"}}}); env.Code != 0 {
			t.Fatalf("schedule: %s", env.raw)
		}

		b := newBrowser(t, false)
		b.login(e, "ops", operatorPassword)
		b.do("dashboard", chromedp.WaitVisible(chromedp.CSS("#approved-amount")))
		// Four approvals of 10,000 + 2,000 + 3,000 + 4,000 today (test mode).
		b.waitText("#approved-amount", "19,000원")

		// Find the payment by merchant_uid.
		b.do("search", chromedp.Navigate(e.url("/console/m/"+imp+"/payments")), chromedp.WaitVisible(chromedp.CSS("#merchant_uid")),
			chromedp.SendKeys(chromedp.CSS("#merchant_uid"), "console_order_1"), chromedp.Click(chromedp.CSS("#search-submit")))
		// The unfiltered list is on the page until the search's answer
		// replaces it: wait for that, then the order must be the only one.
		b.waitNoText("#payments", "console_order_2")
		b.waitText("#payments", p.ImpUID)
		if s := b.text("#payments"); strings.Contains(s, "console_order_2") {
			t.Fatalf("search by merchant_uid listed other orders: %s", s)
		}
		b.do("open payment", chromedp.Click(chromedp.CSS("#payments a")), chromedp.WaitVisible(chromedp.CSS("#timeline")))
		b.waitText("#imp-uid", p.ImpUID)
		b.waitText("#timeline", "승인")
		b.waitText("#timeline", "웹훅 전송")

		// Refund part of it, confirm, and see the timeline update.
		b.do("refund", chromedp.SendKeys(chromedp.CSS("#amount"), "3000"), chromedp.SendKeys(chromedp.CSS("#reason"), "부분 환불 테스트"),
			chromedp.Click(chromedp.CSS("#refund-submit")), chromedp.WaitVisible(chromedp.CSS("#confirm-submit")))
		b.waitText("#question", "부분 환불 3,000원")
		confirmForm, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("#confirm-form")))
		if err != nil {
			t.Fatal(err)
		}
		if _, env := e.call("GET", "/payments/"+p.ImpUID, nil); env.payment(t).CancelAmount != 0 {
			t.Fatal("the confirmation page refunded before confirmation")
		}
		b.do("confirm", chromedp.Click(chromedp.CSS("#confirm-submit")), chromedp.WaitVisible(chromedp.CSS("#timeline")))
		b.waitText("#cancel-amount", "3,000원")
		b.waitText("#timeline", "환불 완료 3,000원")
		b.waitText("#timeline", "payment.refund")
		_, env = e.call("GET", "/payments/"+p.ImpUID, nil)
		if got := env.payment(t); got.CancelAmount != 3000 || got.Status != "paid" || len(got.CancelHistory) != 1 {
			t.Fatalf("after the console refund the API says %s", env.raw)
		}
		var refunds int
		for _, r := range e.ledger().Refunds {
			if r.TID == p.PGTID {
				refunds++
			}
		}
		if refunds != 1 {
			t.Fatalf("INICIS got %d refunds for %s, want 1", refunds, p.ImpUID)
		}
		// Going back and confirming again is refused by the checksum: no
		// second refund.
		stale, _ := json.Marshal(confirmForm)
		b.do("stale confirm", chromedp.Evaluate[chromedp.Void](`document.body.insertAdjacentHTML('beforeend', `+string(stale)+`)`),
			chromedp.Click(chromedp.CSS("#confirm-submit")), chromedp.WaitVisible(chromedp.CSS("#error")))
		b.waitText("#error", "checksum")
		if _, env := e.call("GET", "/payments/"+p.ImpUID, nil); env.payment(t).CancelAmount != 3000 {
			t.Fatalf("a stale confirmation refunded again: %s", env.raw)
		}

		// Resend the payment's webhook.
		b.do("webhooks", chromedp.Navigate(e.url("/console/m/"+imp+"/webhooks?imp_uid="+p.ImpUID)), chromedp.WaitVisible(chromedp.CSS("#deliveries")))
		before := e.hookCount(p.ImpUID)
		// The resend form posts and redirects back to this page: wait for the
		// redirect to land, or the next navigation races it and is aborted.
		b.do("resend", chromedp.Click(chromedp.CSS("#deliveries button")))
		b.waitURL("done=resend")
		b.do("after resend", chromedp.WaitVisible(chromedp.CSS("#deliveries")))
		eventually(t, 15*time.Second, "the resent webhook", func() bool { return e.hookCount(p.ImpUID) > before })

		// Revoke the schedule.
		b.do("schedules", chromedp.Navigate(e.url("/console/m/"+imp+"/schedules")), chromedp.WaitVisible(chromedp.CSS("#upcoming")))
		b.waitText("#upcoming", "console_sched_1")
		b.do("revoke", chromedp.Click(chromedp.CSS(`button[data-merchant-uid="console_sched_1"]`)), chromedp.WaitVisible(chromedp.CSS("#upcoming")))
		b.waitText("#upcoming", "예정된 예약 결제가 없습니다")
		_, env = e.call("GET", "/subscribe/payments/schedule/console_sched_1", nil)
		var sc struct {
			ScheduleStatus string `json:"schedule_status"`
		}
		_ = json.Unmarshal(env.Response, &sc)
		if sc.ScheduleStatus != "revoked" {
			t.Fatalf("schedule after the console revoke: %s", env.raw)
		}

		// The audit log shows who did what from where.
		b.do("audit", chromedp.Navigate(e.url("/console/audit")), chromedp.WaitVisible(chromedp.CSS("#audit")))
		audit := b.text("#audit")
		for _, want := range []string{"payment.refund", "webhook.resend", "schedule.revoke", "login", "ops", "127.0.0.1"} {
			if !strings.Contains(audit, want) {
				t.Errorf("audit log lacks %q:\n%s", want, audit)
			}
		}

		// No page showed a billing key or a full card number.
		b.pending.Wait()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, body := range b.bodies {
			for _, k := range e.ledger().Keys {
				if strings.Contains(body, k.BillKey) {
					t.Fatalf("a console page showed a billing key: %.200s", body)
				}
			}
			if strings.Contains(body, "4242424242424242") || strings.Contains(body, "4242-4242-4242-4242") {
				t.Fatalf("a console page showed a full card number: %.200s", body)
			}
		}
	})
}

func TestConsoleLoginThrottled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := startConsole(t, dsn)
		b := newBrowser(t, false)
		for i := 0; i < 5; i++ {
			b.login(e, "ops", "wrong password "+fmt.Sprint(i))
			b.waitText("#login-error", "올바르지 않습니다")
		}
		// The sixth try, with the right password, is refused.
		b.login(e, "ops", operatorPassword)
		b.waitText("#login-error", "너무 많습니다")
		if nodes, err := chromedp.Run(b.ctx, chromedp.Nodes(chromedp.CSS("nav.menu"), chromedp.AtLeast(0))); err != nil || len(nodes) != 0 {
			t.Fatalf("a throttled login reached the console (%v)", err)
		}
		// Another operator's login is not affected.
		b.login(e, "root", operatorPassword)
		b.do("root logged in", chromedp.WaitVisible(chromedp.CSS("nav.menu")))
		entries, _, err := e.store.ListAudit(context.Background(), billkey.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int{}
		for _, a := range entries {
			counts[a.Action+"/"+a.OperatorLogin]++
		}
		if counts["login.failed/ops"] != 5 || counts["login.throttled/ops"] != 1 || counts["login/ops"] != 0 || counts["login/root"] != 1 {
			t.Fatalf("audit of the logins: %v", counts)
		}
	})
}

func TestConsoleCSRFRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := startConsole(t, dsn)
		e.mustIssue("csrf-cust", "4242-4242-4242-4242")
		_, env := e.again("csrf-cust", "csrf_order", 5000)
		p := env.payment(t)
		b := newBrowser(t, false)
		b.login(e, "ops", operatorPassword)
		b.do("payment", chromedp.Navigate(e.url("/console/m/"+e.merchant.Merchant.ImpCode+"/payments/"+p.ImpUID)),
			chromedp.WaitVisible(chromedp.CSS("#refund-form")))
		// Strip the form's CSRF token, as a forged form would lack it.
		b.do("strip token", chromedp.Evaluate[chromedp.Void](`document.querySelector('#refund-form input[name=csrf]').remove()`),
			chromedp.Click(chromedp.CSS("#refund-submit")), chromedp.WaitVisible(chromedp.CSS("#error")))
		b.waitText("#error", "CSRF")
		// A wrong token is refused too, and at the confirmation step.
		b.do("payment again", chromedp.Navigate(e.url("/console/m/"+e.merchant.Merchant.ImpCode+"/payments/"+p.ImpUID)),
			chromedp.WaitVisible(chromedp.CSS("#refund-form")), chromedp.Click(chromedp.CSS("#refund-submit")),
			chromedp.WaitVisible(chromedp.CSS("#confirm-submit")),
			chromedp.Evaluate[chromedp.Void](`document.querySelector('#confirm-form input[name=csrf]').value = 'forged'`),
			chromedp.Click(chromedp.CSS("#confirm-submit")), chromedp.WaitVisible(chromedp.CSS("#error")))
		b.waitText("#error", "CSRF")
		if _, env := e.call("GET", "/payments/"+p.ImpUID, nil); env.payment(t).CancelAmount != 0 {
			t.Fatalf("a form without its CSRF token refunded: %s", env.raw)
		}
		if n := len(e.ledger().Refunds); n != 0 {
			t.Fatalf("INICIS got %d refunds", n)
		}

		// Outside the browser: a logged-in session posting without the token
		// (or from another origin) is refused with 403.
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		res, err := c.Get(e.url("/console/login"))
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		tok := between(string(page), `name="csrf" value="`, `"`)
		res, err = c.PostForm(e.url("/console/login"), url.Values{"csrf": {tok}, "login": {"ops"}, "password": {operatorPassword}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.Request.URL.Path == "/console/login" {
			t.Fatal("HTTP login failed")
		}
		refund := e.url("/console/m/" + e.merchant.Merchant.ImpCode + "/payments/" + p.ImpUID + "/refund")
		res, err = c.PostForm(refund, url.Values{"amount": {"1000"}, "confirm": {"yes"}, "checksum": {"5000"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("POST without CSRF token: HTTP %d, want 403", res.StatusCode)
		}
		if _, env := e.call("GET", "/payments/"+p.ImpUID, nil); env.payment(t).CancelAmount != 0 {
			t.Fatalf("a POST without CSRF token refunded: %s", env.raw)
		}
	})
}

func between(s, from, to string) string {
	_, after, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, to)
	return v
}

func TestConsoleGrants(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := startConsole(t, dsn)
		mine, theirs := e.merchant.Merchant.ImpCode, e.other.Merchant.ImpCode
		b := newBrowser(t, false)
		b.login(e, "ops", operatorPassword)
		// One granted merchant: the console opens straight on it.
		b.do("dashboard", chromedp.WaitVisible(chromedp.CSS("#approved-amount")))
		b.do("merchant list", chromedp.Navigate(e.url("/console/audit")), chromedp.WaitVisible(chromedp.CSS("#audit")))
		for _, path := range []string{
			"/console/m/" + theirs + "/",
			"/console/m/" + theirs + "/payments?merchant_uid=other_order_1",
			"/console/m/" + theirs + "/payments/" + e.otherPay.ImpUID,
			"/console/m/" + theirs + "/payments.csv",
			"/console/m/" + theirs + "/customers/other-cust",
			"/console/m/" + theirs + "/webhooks",
			"/console/m/" + theirs + "/schedules/calendar",
			"/console/m/" + theirs + "/settings",
		} {
			b.do(path, chromedp.Navigate(e.url(path)), chromedp.WaitVisible(chromedp.CSS("#error")))
			b.waitText("#error", "권한이 없습니다")
		}
		// Another merchant's payment through one's own merchant's URL.
		b.do("cross url", chromedp.Navigate(e.url("/console/m/"+mine+"/payments/"+e.otherPay.ImpUID)), chromedp.WaitVisible(chromedp.CSS("#error")))
		b.waitText("#error", "찾을 수 없습니다")
		b.do("cross search", chromedp.Navigate(e.url("/console/m/"+mine+"/payments?mode=all&merchant_uid=other_order_1")), chromedp.WaitVisible(chromedp.CSS("#payments")))
		b.waitText("#payments", "조건에 맞는 결제가 없습니다")
		b.do("cross customer", chromedp.Navigate(e.url("/console/m/"+mine+"/customers/other-cust")), chromedp.WaitVisible(chromedp.CSS("#error")))

		// The all-merchants operator sees it.
		root := newBrowser(t, false)
		root.login(e, "root", operatorPassword)
		root.do("home", chromedp.WaitVisible(chromedp.CSS("main table")))
		root.waitText("main table", theirs)
		root.do("theirs", chromedp.Navigate(e.url("/console/m/"+theirs+"/payments/"+e.otherPay.ImpUID)), chromedp.WaitVisible(chromedp.CSS("#imp-uid")))
		root.waitText("#imp-uid", e.otherPay.ImpUID)
	})
}

// TestConsoleScreenshots writes docs/screenshots/console-dashboard.png and
// console-payment.png (BILLKEY_SCREENSHOTS=docs/screenshots; install
// fonts-noto-cjk first).
func TestConsoleScreenshots(t *testing.T) {
	dir := os.Getenv("BILLKEY_SCREENSHOTS")
	if dir == "" {
		t.Skip("set BILLKEY_SCREENSHOTS=docs/screenshots to write the screenshots")
	}
	e := startConsole(t, dbtest.DSN(t, "sqlite"))
	ctx := context.Background()
	imp := e.merchant.Merchant.ImpCode
	e.mustIssue("gildong_0001", "4242-4242-4242-4242")
	e.mustIssue("declined_0001", "4000-0000-0000-0341")
	e.mustIssue("expired_0001", "4000-0000-0000-0069")
	// Two weeks of history: each day's payments are moved back in time
	// after they are made (the PG stamps approvals with the real clock).
	var shown string
	for d := 13; d >= 0; d-- {
		var muids []string
		for i := 0; i < 3+(13-d)%5+d%3; i++ {
			muid := fmt.Sprintf("order_%02d_%02d", d, i)
			if _, env := e.again("gildong_0001", muid, int64(9900*(1+i%3))); env.Code != 0 {
				t.Fatalf("charge: %s", env.raw)
			}
			muids = append(muids, muid)
			shown = muid
		}
		if d%3 == 0 {
			e.again("declined_0001", fmt.Sprintf("decl_%02d", d), 9900)
			muids = append(muids, fmt.Sprintf("decl_%02d", d))
		}
		if d%5 == 0 {
			e.again("expired_0001", fmt.Sprintf("exp_%02d", d), 9900)
			muids = append(muids, fmt.Sprintf("exp_%02d", d))
		}
		if d == 0 {
			continue
		}
		for _, muid := range muids {
			back := int64(d) * 86400
			if _, err := e.store.DB.ExecContext(ctx, `UPDATE payments SET started_at = started_at - $1,
				paid_at = CASE WHEN paid_at > 0 THEN paid_at - $1 ELSE 0 END,
				failed_at = CASE WHEN failed_at > 0 THEN failed_at - $1 ELSE 0 END WHERE merchant_uid = $2`, back, muid); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, env := e.call("POST", "/payments/cancel", map[string]any{"merchant_uid": shown, "amount": 4900, "reason": "부분 환불"}); env.Code != 0 {
		t.Fatalf("cancel: %s", env.raw)
	}
	_, env := e.call("GET", "/payments/find/"+shown, nil)
	p := env.payment(t)
	eventually(t, 15*time.Second, "webhooks", func() bool { return e.hookCount(p.ImpUID) >= 1 })

	shot := func(b *browser, name string) {
		t.Helper()
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/"+name, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, false)
	b.login(e, "ops", operatorPassword)
	b.do("dashboard", chromedp.WaitVisible(chromedp.CSS("#approved-amount")))
	shot(b, "console-dashboard.png")
	b.do("payment", chromedp.Navigate(e.url("/console/m/"+imp+"/payments/"+p.ImpUID)), chromedp.WaitVisible(chromedp.CSS("#timeline")))
	shot(b, "console-payment.png")
	phone := newBrowser(t, true)
	phone.login(e, "ops", operatorPassword)
	phone.do("dashboard", chromedp.WaitVisible(chromedp.CSS("#approved-amount")))
	shot(phone, "console-phone.png")
}

// TestConsoleRotateAPISecret: the settings page rotates the REST API
// secret; the old secret and the token issued under it stop working.
func TestConsoleRotateAPISecret(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := startConsole(t, dsn)
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		get := func(path string) string {
			t.Helper()
			res, err := c.Get(e.url(path))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return string(b)
		}
		tok := between(get("/console/login"), `name="csrf" value="`, `"`)
		res, err := c.PostForm(e.url("/console/login"), url.Values{"csrf": {tok}, "login": {"ops"}, "password": {operatorPassword}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		settings := "/console/m/" + e.merchant.Merchant.ImpCode + "/settings"
		page := get(settings)
		if !strings.Contains(page, e.merchant.Merchant.APIKey) || strings.Contains(page, e.merchant.ImpSecret) {
			t.Fatalf("settings page: API key shown %v, secret shown %v", strings.Contains(page, e.merchant.Merchant.APIKey), strings.Contains(page, e.merchant.ImpSecret))
		}
		csrf := between(page, `name="csrf" value="`, `"`)
		res, err = c.PostForm(e.url(settings+"/api-secret"), url.Values{"csrf": {csrf}, "confirm": {"yes"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		secret := between(string(body), `<div class="secret" id="secret">`, `<`)
		if res.StatusCode != 200 || len(secret) != 80 {
			t.Fatalf("rotation: HTTP %d, secret %q", res.StatusCode, secret)
		}
		if status, _ := e.call("GET", "/payments/imps_000000000000", nil); status != http.StatusUnauthorized {
			t.Fatalf("the token issued under the old secret still works: HTTP %d", status)
		}
		e.token = ""
		if status, _ := e.call("POST", "/users/getToken", map[string]string{"imp_key": e.merchant.Merchant.APIKey, "imp_secret": e.merchant.ImpSecret}); status != http.StatusUnauthorized {
			t.Fatalf("the old secret still works: HTTP %d", status)
		}
		if status, env := e.call("POST", "/users/getToken", map[string]string{"imp_key": e.merchant.Merchant.APIKey, "imp_secret": secret}); status != 200 || env.Code != 0 {
			t.Fatalf("the new secret does not work: %d %s", status, env.raw)
		}
		entries, _, _ := e.store.ListAudit(context.Background(), billkey.AuditFilter{})
		if len(entries) == 0 || entries[0].Action != "api_secret.rotate" || entries[0].OperatorLogin != "ops" {
			t.Fatalf("audit: %+v", entries)
		}
	})
}
