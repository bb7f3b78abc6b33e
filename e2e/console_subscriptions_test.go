package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/billkey/billkey/internal/cycle"
	"github.com/billkey/billkey/internal/dbtest"
)

// TestConsoleSubscriptions: the console lists a merchant's subscriptions
// (status filter, next renewal in KST, past_due badge), reached from the
// nav and from a customer's page; the detail page shows the cycles, the
// declined attempts and the subscription.* events, escapes what merchants
// typed, and creates a card-update link whose URL works. Another merchant's
// subscriptions stay out of reach. On SQLite and PostgreSQL.
func TestConsoleSubscriptions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := startConsole(t, dsn)
		imp := e.merchant.Merchant.ImpCode
		e.mustIssue("con-ok", "4242-4242-4242-4242")
		e.mustIssue("con-due", "4000-0000-0000-0341")
		t0 := time.Date(time.Now().In(cycle.KST).Year()+2, 3, 10, 10, 0, 0, 0, cycle.KST)
		var clk clockJSON
		e.mustCall("POST", "/test_clocks", map[string]any{"frozen_time": t0.Unix()}, &clk)
		var ok, due subJSON
		e.mustCall("POST", "/subscriptions", map[string]any{"customer_uid": "con-ok", "name": "<b>프리미엄</b> 월간", "amount": 12900,
			"test_clock": clk.ID}, &ok)
		e.mustCall("POST", "/subscriptions", map[string]any{"customer_uid": "con-due", "name": "베이직 월간", "amount": 9900,
			"test_clock": clk.ID, "retry_days": []int{}}, &due)
		e.mustCall("POST", fmt.Sprintf("/test_clocks/%d/advance", clk.ID), map[string]any{"frozen_time": t0.Add(time.Hour).Unix()}, &clk)
		e.mustCall("GET", fmt.Sprintf("/subscriptions/%d", due.ID), nil, &due)
		if due.Status != "past_due" {
			t.Fatalf("due: %+v", due)
		}

		b := newBrowser(t, false)
		b.login(e, "ops", operatorPassword)
		b.do("dashboard", chromedp.Navigate(e.url("/console/m/"+imp+"/")), chromedp.WaitVisible(chromedp.CSS("#nav-subscriptions")))
		b.do("nav", chromedp.Click(chromedp.CSS("#nav-subscriptions")), chromedp.WaitVisible(chromedp.CSS("#subscriptions")))
		list := b.text("#subscriptions")
		next := t0.AddDate(0, 1, 0).In(consoleLoc()).Format("2006-01-02 15:04:05")
		for _, want := range []string{"con-ok", "con-due", "<b>프리미엄</b> 월간", "12,900원", "매월", "연체", "정상", next} {
			if !strings.Contains(list, want) {
				t.Errorf("list lacks %q:\n%s", want, list)
			}
		}
		b.shot("console-subscriptions-" + dsnName(dsn) + ".png")

		// The status filter.
		b.do("past_due", chromedp.Navigate(e.url("/console/m/"+imp+"/subscriptions?status=past_due")), chromedp.WaitVisible(chromedp.CSS("#subscriptions")))
		if list := b.text("#subscriptions"); !strings.Contains(list, "con-due") || strings.Contains(list, "con-ok") {
			t.Fatalf("past_due filter:\n%s", list)
		}
		// From a customer's page.
		b.do("customer", chromedp.Navigate(e.url("/console/m/"+imp+"/customers/con-ok")), chromedp.WaitVisible(chromedp.CSS("#customer-subscriptions")),
			chromedp.Click(chromedp.CSS("#customer-subscriptions")), chromedp.WaitVisible(chromedp.CSS("#subscriptions")))
		if list := b.text("#subscriptions"); !strings.Contains(list, "con-ok") || strings.Contains(list, "con-due") {
			t.Fatalf("customer's subscriptions:\n%s", list)
		}

		// The detail page of the past-due subscription.
		b.do("detail", chromedp.Navigate(e.url(fmt.Sprintf("/console/m/%s/subscriptions/%d", imp, due.ID))), chromedp.WaitVisible(chromedp.CSS("#cycles")))
		b.waitText("#sub-status", "연체")
		b.waitText("#cycles", fmt.Sprintf("sub_%d_1", due.ID))
		b.waitText("#attempts", "한도가 초과")
		b.waitText("#events", "subscription.past_due")
		b.do("create link", chromedp.Click(chromedp.CSS("#create-link")), chromedp.WaitVisible(chromedp.CSS("#new-link-url")))
		u := strings.TrimSpace(b.text("#new-link-url"))
		if !strings.HasPrefix(u, e.app.BaseURL+"/card-update/") {
			t.Fatalf("new link %q", u)
		}
		b.waitText("#links", "사용 가능")
		b.shot("console-subscription-" + dsnName(dsn) + ".png")
		if status, body := httpDo(t, "GET", u, ""); status != http.StatusOK || !strings.Contains(body, "9,900원") {
			t.Fatalf("the console's link: %d", status)
		}
		// Reloading the page does not show the URL again.
		b.do("reload", chromedp.Navigate(e.url(fmt.Sprintf("/console/m/%s/subscriptions/%d", imp, due.ID))), chromedp.WaitVisible(chromedp.CSS("#cycles")))
		if html := b.html("main"); strings.Contains(html, u) {
			t.Fatal("the link URL is shown again")
		}

		// Another merchant's pages are not found for this operator.
		b.do("other", chromedp.Navigate(e.url("/console/m/"+e.other.Merchant.ImpCode+"/subscriptions")), chromedp.WaitVisible(chromedp.CSS("main")))
		if s := b.text("main"); !strings.Contains(s, "찾을 수 없거나") {
			t.Fatalf("another merchant's subscriptions: %s", s)
		}
		b.do("unknown", chromedp.Navigate(e.url("/console/m/"+imp+"/subscriptions/999999")), chromedp.WaitVisible(chromedp.CSS("main")))
		if s := b.text("main"); !strings.Contains(s, "구독을 찾을 수 없습니다") {
			t.Fatalf("unknown subscription: %s", s)
		}
	})
}
