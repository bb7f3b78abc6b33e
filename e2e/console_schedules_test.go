package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/dbtest"
)

// consoleLoc is where the console cuts days (its default, Asia/Seoul).
func consoleLoc() *time.Location {
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		return time.FixedZone("KST", 9*3600)
	}
	return loc
}

// TestConsoleScheduleActions: from the console an operator retries a
// failed schedule (a new payment, one approval), reschedules another to a
// chosen time (confirmed, audited; a stale confirmation does nothing), and
// sees an upcoming schedule on its day of the month calendar.
func TestConsoleScheduleActions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := startConsole(t, dsn)
		imp := e.merchant.Merchant.ImpCode
		loc := consoleLoc()
		e.mustIssue("fail-cust", "4000-0000-0000-0341") // declined by the simulator
		now := time.Now().Unix()
		if _, env := e.call("POST", "/subscribe/payments/schedule", map[string]any{"customer_uid": "fail-cust",
			"schedules": []map[string]any{{"merchant_uid": "c-fail-1", "schedule_at": now, "amount": 3300, "name": "실패 1"},
				{"merchant_uid": "c-fail-2", "schedule_at": now, "amount": 4400, "name": "실패 2"}}}); env.Code != 0 {
			t.Fatalf("schedule: %s", env.raw)
		}
		for _, muid := range []string{"c-fail-1", "c-fail-2"} {
			if sc := e.waitExecuted(muid, 15*time.Second); sc.PaymentStatus == nil || *sc.PaymentStatus != "failed" {
				t.Fatalf("%s: %+v", muid, sc)
			}
		}
		e.mustIssue("fail-cust", "4242-4242-4242-4242") // the card is replaced
		upcoming := time.Now().In(loc).AddDate(0, 0, 5)
		upcoming = time.Date(upcoming.Year(), upcoming.Month(), upcoming.Day(), 10, 30, 0, 0, loc)
		if _, env := e.call("POST", "/subscribe/payments/schedule", map[string]any{"customer_uid": "fail-cust",
			"schedules": []map[string]any{{"merchant_uid": "c-upcoming", "schedule_at": upcoming.Unix(), "amount": 12900, "name": "정기"}}}); env.Code != 0 {
			t.Fatalf("schedule: %s", env.raw)
		}

		b := newBrowser(t, false)
		b.login(e, "ops", operatorPassword)
		past := e.url("/console/m/" + imp + "/schedules?view=past")

		// Retry c-fail-1: a confirmation first, then a new, approved payment.
		b.do("past", chromedp.Navigate(past), chromedp.WaitVisible(chromedp.CSS("#past")))
		b.waitText("#past", "c-fail-1")
		b.do("retry", chromedp.Click(chromedp.CSS(`button[data-retry="c-fail-1"]`)), chromedp.WaitVisible(chromedp.CSS("#confirm-submit")))
		b.waitText("#question", "지금 다시 시도")
		if _, sc, _ := e.schedule("c-fail-1"); sc.ScheduleStatus != "executed" || *sc.PaymentStatus != "failed" {
			t.Fatalf("the confirmation page retried: %+v", sc)
		}
		b.do("confirm retry", chromedp.Click(chromedp.CSS("#confirm-submit")), chromedp.WaitVisible(chromedp.CSS("#imp-uid")))
		_, sc, _ := e.schedule("c-fail-1")
		if sc.PaymentStatus == nil || *sc.PaymentStatus != "paid" || sc.ImpUID == nil {
			t.Fatalf("after the console retry: %+v", sc)
		}
		b.waitText("#imp-uid", *sc.ImpUID)
		b.waitText("#timeline", "승인")
		if n := len(e.approvalsFor(*sc.ImpUID)); n != 1 {
			t.Fatalf("INICIS approvals for the retry: %d", n)
		}

		// Reschedule c-fail-2 to a chosen time; the confirmed form is also
		// kept to replay it later.
		at := time.Now().In(loc).AddDate(0, 0, 9)
		at = time.Date(at.Year(), at.Month(), at.Day(), 9, 15, 0, 0, loc)
		b.do("past again", chromedp.Navigate(past), chromedp.WaitVisible(chromedp.CSS("#past")))
		if nodes, err := chromedp.Run(b.ctx, chromedp.Nodes(chromedp.CSS(`button[data-retry="c-fail-1"]`), chromedp.AtLeast(0))); err != nil || len(nodes) != 0 {
			t.Fatalf("an approved schedule still offers a retry (%v)", err)
		}
		b.do("reschedule", chromedp.SetValue(chromedp.CSS(`input[data-reschedule-at="c-fail-2"]`), at.Format("2006-01-02T15:04")),
			chromedp.Click(chromedp.CSS(`button[data-reschedule="c-fail-2"]`)), chromedp.WaitVisible(chromedp.CSS("#confirm-submit")))
		b.waitText("#question", at.Format("2006-01-02 15:04"))
		confirmForm := b.html("#confirm-form")
		b.do("confirm reschedule", chromedp.Click(chromedp.CSS("#confirm-submit")), chromedp.WaitVisible(chromedp.CSS("#upcoming")))
		b.waitText("#upcoming", "c-fail-2")
		if _, sc, _ := e.schedule("c-fail-2"); sc.ScheduleStatus != "scheduled" || sc.ScheduleAt != at.Unix() {
			t.Fatalf("after the console reschedule: %+v (want schedule_at %d)", sc, at.Unix())
		}
		// Revoke it and replay the old confirmation: the schedule changed
		// since, so nothing happens.
		if _, env := e.call("POST", "/subscribe/payments/unschedule", map[string]any{"merchant_uid": "c-fail-2"}); env.Code != 0 {
			t.Fatalf("unschedule: %s", env.raw)
		}
		stale, _ := json.Marshal(confirmForm)
		b.do("stale confirm", chromedp.Evaluate[chromedp.Void](`document.body.insertAdjacentHTML('beforeend', `+string(stale)+`)`),
			chromedp.Click(chromedp.CSS("#confirm-submit")), chromedp.WaitVisible(chromedp.CSS("#error")))
		b.waitText("#error", "바뀌었습니다")
		if _, sc, _ := e.schedule("c-fail-2"); sc.ScheduleStatus != "revoked" {
			t.Fatalf("a stale confirmation rescheduled: %+v", sc)
		}

		// The calendar shows the upcoming schedule on its day, and not on
		// another.
		cal := e.url("/console/m/" + imp + "/schedules/calendar?month=" + upcoming.Format("2006-01"))
		b.do("calendar", chromedp.Navigate(cal), chromedp.WaitVisible(chromedp.CSS("#calendar")))
		b.waitText("#month", upcoming.Format("2006년 1월"))
		day := "#day-" + upcoming.Format("2006-01-02")
		b.waitText(day, "c-upcoming")
		b.waitText(day, "12,900원")
		b.waitText(day, "10:30")
		if s := b.text("#calendar"); strings.Count(s, "c-upcoming") != 1 {
			t.Fatalf("the calendar lists c-upcoming %d times", strings.Count(s, "c-upcoming"))
		}
		b.do("next month", chromedp.Click(chromedp.CSS("#next-month")), chromedp.WaitVisible(chromedp.CSS("#calendar")))
		b.waitText("#month", upcoming.AddDate(0, 1, 0).Format("2006년 1월"))

		entries, _, err := e.store.ListAudit(context.Background(), billkey.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, a := range entries {
			got[a.Action+"/"+a.Target] = a.OperatorLogin + " " + a.Detail
		}
		if !strings.HasPrefix(got["schedule.retry/c-fail-1"], "ops imp_uid="+*sc.ImpUID) ||
			!strings.Contains(got["schedule.reschedule/c-fail-2"], at.Format("2006-01-02 15:04")) {
			t.Fatalf("audit: %v", got)
		}
	})
}

// TestConsoleWebhookURLAndResponse: the settings page changes the webhook
// URL (audited, and used by the next webhook; a bad URL is refused), and
// the delivery log shows each attempt's response body excerpt, bounded and
// without control characters, in the console and the API.
func TestConsoleWebhookURLAndResponse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := startConsole(t, dsn)
		imp := e.merchant.Merchant.ImpCode
		var hits atomic.Int32
		answer := "주문 없음\x00\x1b[31m: rejected " + strings.Repeat("z", 4000)
		second := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(answer))
		}))
		t.Cleanup(second.Close)
		newURL := second.URL + "/hooks/iamport"

		b := newBrowser(t, false)
		b.login(e, "ops", operatorPassword)
		settings := e.url("/console/m/" + imp + "/settings")
		b.do("settings", chromedp.Navigate(settings), chromedp.WaitVisible(chromedp.CSS("#webhook-url-form")))
		old := b.text("#webhook-url")
		// A bad URL is refused and changes nothing.
		b.do("bad url", chromedp.SetValue(chromedp.CSS("#url"), "ftp://example.com/x"),
			chromedp.Evaluate[chromedp.Void](`document.querySelector('#url').type = 'text'`),
			chromedp.Click(chromedp.CSS("#webhook-url-form button")), chromedp.WaitVisible(chromedp.CSS("#error")))
		b.waitText("#error", "http://")
		b.waitText("#webhook-url", old)
		b.do("set url", chromedp.SetValue(chromedp.CSS("#url"), newURL),
			chromedp.Click(chromedp.CSS("#webhook-url-form button")), chromedp.WaitVisible(chromedp.CSS("#webhook-url-form")))
		b.waitText("#webhook-url", newURL)
		_, env := e.call("GET", "/webhooks", nil)
		var ws struct {
			URL string `json:"url"`
		}
		if _ = json.Unmarshal(env.Response, &ws); ws.URL != newURL {
			t.Fatalf("the API's webhook URL after the console edit: %s", env.raw)
		}
		entries, _, _ := e.store.ListAudit(context.Background(), billkey.AuditFilter{})
		var set, failed bool
		for _, a := range entries {
			switch a.Action {
			case "webhook_url.set":
				set = a.OperatorLogin == "ops" && strings.Contains(a.Detail, old) && strings.Contains(a.Detail, newURL)
			case "webhook_url.set.failed":
				failed = strings.Contains(a.Detail, "ftp://example.com/x")
			}
		}
		if !set || !failed {
			t.Fatalf("audit of the URL edits (set %v, refused %v): %+v", set, failed, entries)
		}

		// The next payment's webhook goes to the new URL, which answers 409
		// with a long body holding control bytes.
		e.mustIssue("hook-cust", "4242-4242-4242-4242")
		_, env = e.again("hook-cust", "hook_order_1", 5000)
		p := env.payment(t)
		eventually(t, 15*time.Second, "the webhook at the new URL", func() bool { return hits.Load() >= 1 })
		var ds struct {
			List []struct {
				ID       int64 `json:"id"`
				Attempts []struct {
					StatusCode      int    `json:"status_code"`
					ResponseExcerpt string `json:"response_excerpt"`
				} `json:"attempts"`
			} `json:"list"`
		}
		eventually(t, 15*time.Second, "the recorded attempt", func() bool {
			_, env := e.call("GET", "/webhooks/deliveries?imp_uid="+p.ImpUID, nil)
			return json.Unmarshal(env.Response, &ds) == nil && len(ds.List) == 1 && len(ds.List[0].Attempts) >= 1
		})
		ex := ds.List[0].Attempts[0].ResponseExcerpt
		if ds.List[0].Attempts[0].StatusCode != 409 || !strings.HasPrefix(ex, "주문 없음[31m: rejected zzz") || len(ex) != 512 || strings.ContainsAny(ex, "\x00\x1b") {
			t.Fatalf("attempt excerpt (%d bytes): %q", len(ex), ex[:min(60, len(ex))])
		}
		b.do("deliveries", chromedp.Navigate(e.url("/console/m/"+imp+"/webhooks?imp_uid="+p.ImpUID)), chromedp.WaitVisible(chromedp.CSS("#deliveries")),
			chromedp.Click(chromedp.CSS("#deliveries summary")), chromedp.WaitVisible(chromedp.CSS("#deliveries pre.response")))
		b.waitText("#deliveries pre.response", "주문 없음[31m: rejected zzz")
		if s := b.text("#deliveries pre.response"); len(s) > 512 || strings.ContainsAny(s, "\x00\x1b") {
			t.Fatalf("console excerpt (%d bytes)", len(s))
		}
		b.do("payment timeline", chromedp.Navigate(e.url("/console/m/"+imp+"/payments/"+p.ImpUID)), chromedp.WaitVisible(chromedp.CSS("#timeline")))
		b.waitText("#timeline", "응답: 주문 없음[31m: rejected")
	})
}

// html returns the outer HTML of the first element matching sel.
func (b *browser) html(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("html of %s: %v", sel, err)
	}
	return s
}
