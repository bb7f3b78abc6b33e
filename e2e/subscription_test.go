package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/cycle"
	"github.com/billkey/billkey/internal/dbtest"
)

// subJSON is a subscription as the API sends it.
type subJSON struct {
	ID                 int64   `json:"id"`
	Status             string  `json:"status"`
	PaidCycles         int     `json:"paid_cycles"`
	CurrentCycle       int     `json:"current_cycle"`
	CurrentMerchantUID string  `json:"current_merchant_uid"`
	NextBillingAt      int64   `json:"next_billing_at"`
	Retries            int     `json:"retries"`
	LastFailReason     *string `json:"last_fail_reason"`
}

type clockJSON struct {
	ID         int64  `json:"id"`
	FrozenTime int64  `json:"frozen_time"`
	Status     string `json:"status"`
}

// subEvent is a subscription.* webhook body.
type subEvent struct {
	Type           string  `json:"type"`
	SubscriptionID int64   `json:"subscription_id"`
	Cycle          int     `json:"cycle"`
	MerchantUID    string  `json:"merchant_uid"`
	ImpUID         *string `json:"imp_uid"`
}

func (h *harness) mustCall(method, path string, body any, out any) {
	h.t.Helper()
	status, env := h.call(method, path, body)
	if status != 200 || env.Code != 0 {
		h.t.Fatalf("%s %s: %d %s", method, path, status, env.raw)
	}
	if out != nil {
		if err := json.Unmarshal(env.Response, out); err != nil {
			h.t.Fatalf("%s %s: %v: %s", method, path, err, env.raw)
		}
	}
}

// subEvents returns the subscription.* webhooks of the subscription the
// receiver accepted, by type.
func subEvents(rc *receiver, id int64) map[string][]subEvent {
	out := map[string][]subEvent{}
	for _, r := range rc.all() {
		var e subEvent
		if json.Unmarshal(r.Body, &e) == nil && e.SubscriptionID == id && e.Type != "" && r.Answer < 300 {
			out[e.Type] = append(out[e.Type], e)
		}
	}
	return out
}

// paidApprovals returns how many of the ledger's approvals are of the
// subscription's paid payments, and how many paid payments it has.
func (h *harness) subPayments(id int64, cycles int) (paid, approvals int) {
	h.t.Helper()
	for n := 1; n <= cycles; n++ {
		status, env := h.call("GET", fmt.Sprintf("/payments/find/sub_%d_%d/paid", id, n), nil)
		if status == 404 {
			continue
		}
		p := env.payment(h.t)
		paid++
		approvals += len(h.approvalsFor(p.ImpUID))
	}
	return paid, approvals
}

func TestSubscriptionTestClockYearOfRenewalsAndDunning(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		restartWithJobs(h, cli.JobOptions{PollInterval: 100 * time.Millisecond, WebhookRetry: []time.Duration{200 * time.Millisecond}})
		rc := newReceiver(t, 0)
		h.mustCall("PUT", "/webhooks/url", map[string]string{"url": rc.URL()}, nil)
		h.mustIssue("sub-ok", "4242-4242-4242-4242")
		h.mustIssue("sub-limit", "4000-0000-0000-0341")
		h.mustIssue("sub-expired", "4000-0000-0000-0069")

		// A clock frozen on 31 January (KST): the plan is anchored on the 31st.
		y := time.Now().In(cycle.KST).Year() + 2
		t0 := time.Date(y, 1, 31, 10, 0, 0, 0, cycle.KST)
		newClock := func() clockJSON {
			var c clockJSON
			h.mustCall("POST", "/test_clocks", map[string]any{"name": "e2e", "frozen_time": t0.Unix()}, &c)
			if c.Status != "ready" || c.FrozenTime != t0.Unix() {
				t.Fatalf("clock: %+v", c)
			}
			return c
		}

		// 4242, monthly, advanced by 12 months (to just before the 13th
		// billing time): 12 renewals, each once.
		clk := newClock()
		var sub subJSON
		h.mustCall("POST", "/subscriptions", map[string]any{"customer_uid": "sub-ok", "name": "월간 플랜", "amount": 9900,
			"interval": "month", "test_clock": clk.ID}, &sub)
		if sub.Status != "active" || sub.CurrentMerchantUID != fmt.Sprintf("sub_%d_1", sub.ID) || sub.NextBillingAt != t0.Unix() {
			t.Fatalf("created: %+v", sub)
		}
		// The cycle is an ordinary i'mport schedule.
		if _, sc, env := h.schedule(sub.CurrentMerchantUID); sc.ScheduleStatus != "scheduled" || sc.Amount != 9900 || sc.ScheduleAt != t0.Unix() {
			t.Fatalf("first schedule: %s", env.raw)
		}
		to := time.Date(y+1, 1, 31, 9, 0, 0, 0, cycle.KST)
		h.mustCall("POST", fmt.Sprintf("/test_clocks/%d/advance", clk.ID), map[string]any{"frozen_time": to.Unix()}, &clk)
		if clk.Status != "ready" || clk.FrozenTime != to.Unix() {
			t.Fatalf("advanced: %+v", clk)
		}
		paid, approvals := h.subPayments(sub.ID, 13)
		if paid != 12 || approvals != 12 {
			t.Fatalf("%d paid payments, %d approvals; want 12 and 12", paid, approvals)
		}
		h.mustCall("GET", fmt.Sprintf("/subscriptions/%d", sub.ID), nil, &sub)
		next := time.Date(y+1, 1, 31, 10, 0, 0, 0, cycle.KST)
		if sub.Status != "active" || sub.PaidCycles != 12 || sub.CurrentCycle != 13 || sub.NextBillingAt != next.Unix() {
			t.Fatalf("after a year: %+v", sub)
		}
		// Month ends: February's renewal on the 28th (or 29th), April's on
		// the 30th, March's back on the 31st.
		for n, want := range map[int]time.Time{
			2: time.Date(y, 2, cycle.At(t0, cycle.Interval{Unit: cycle.Month, Count: 1}, 1).Day(), 10, 0, 0, 0, cycle.KST),
			3: time.Date(y, 3, 31, 10, 0, 0, 0, cycle.KST), 4: time.Date(y, 4, 30, 10, 0, 0, 0, cycle.KST),
		} {
			if _, sc, env := h.schedule(fmt.Sprintf("sub_%d_%d", sub.ID, n)); sc.ScheduleAt != want.Unix() || str(sc.PaymentStatus) != "paid" {
				t.Fatalf("cycle %d: %s, want at %v", n, env.raw, want)
			}
		}
		eventually(t, 20*time.Second, "12 subscription.renewed webhooks", func() bool {
			return len(subEvents(rc, sub.ID)["subscription.renewed"]) >= 12
		})
		// Advancing again to the same time runs nothing twice.
		h.mustCall("POST", fmt.Sprintf("/test_clocks/%d/advance", clk.ID), map[string]any{"frozen_time": to.Unix()}, &clk)
		if paid, approvals := h.subPayments(sub.ID, 13); paid != 12 || approvals != 12 {
			t.Fatalf("after a repeated advance: %d paid, %d approvals", paid, approvals)
		}

		// 0341 (한도초과, soft): retried on +1, +3, +7 days, then past_due.
		clk2 := newClock()
		var soft subJSON
		h.mustCall("POST", "/subscriptions", map[string]any{"customer_uid": "sub-limit", "name": "월간 플랜", "amount": 9900,
			"interval": "month", "interval_count": 1, "test_clock": clk2.ID}, &soft)
		h.mustCall("POST", fmt.Sprintf("/test_clocks/%d/advance", clk2.ID), map[string]any{"frozen_time": t0.AddDate(0, 0, 2).Unix()}, &clk2)
		h.mustCall("GET", fmt.Sprintf("/subscriptions/%d", soft.ID), nil, &soft)
		if soft.Status != "active" || soft.Retries != 2 {
			t.Fatalf("after the first retry: %+v", soft)
		}
		h.mustCall("POST", fmt.Sprintf("/test_clocks/%d/advance", clk2.ID), map[string]any{"frozen_time": t0.AddDate(0, 0, 10).Unix()}, &clk2)
		h.mustCall("GET", fmt.Sprintf("/subscriptions/%d", soft.ID), nil, &soft)
		if soft.Status != "past_due" || soft.Retries != 3 || soft.PaidCycles != 0 || soft.LastFailReason == nil {
			t.Fatalf("after the retries: %+v", soft)
		}
		uid := fmt.Sprintf("sub_%d_1", soft.ID)
		_, env := h.call("GET", "/payments/findAll/"+uid, nil)
		var all struct {
			List []payment `json:"list"`
		}
		_ = json.Unmarshal(env.Response, &all)
		if len(all.List) != 4 {
			t.Fatalf("want 4 declined attempts (1 + 3 retries): %s", env.raw)
		}
		for _, p := range all.List {
			if p.Status != "failed" || len(h.approvalsFor(p.ImpUID)) != 0 {
				t.Fatalf("attempt: %+v", p)
			}
		}
		eventually(t, 20*time.Second, "subscription.past_due", func() bool {
			return len(subEvents(rc, soft.ID)["subscription.past_due"]) == 1
		})
		// The customer replaces the card with 4242 through a card-update
		// link, in Chromium: the unpaid cycle is retried at once.
		approvalsBefore := len(h.ledger().Approvals)
		cardUpdateInBrowser(t, h, soft.ID, "4242-4242-4242-4242", dsnName(dsn))
		h.mustCall("GET", fmt.Sprintf("/subscriptions/%d", soft.ID), nil, &soft)
		if soft.Status != "active" || soft.PaidCycles != 1 || soft.CurrentCycle != 2 {
			t.Fatalf("after the card update: %+v", soft)
		}
		if n := len(h.ledger().Approvals) - approvalsBefore; n != 1 {
			t.Fatalf("the card update made %d approvals; want 1", n)
		}
		if p := h.findPaid(uid); p.Status != "paid" || p.Amount != 9900 || p.CardNumber != "424242*********2" {
			t.Fatalf("recovered payment: %+v", p)
		}
		if paid, approvals := h.subPayments(soft.ID, 2); paid != 1 || approvals != 1 {
			t.Fatalf("recovered: %d paid, %d approvals", paid, approvals)
		}
		eventually(t, 20*time.Second, "subscription.recovered", func() bool {
			ev := subEvents(rc, soft.ID)
			return len(ev["subscription.recovered"]) == 1 && len(ev["subscription.renewed"]) == 1
		})

		// 0069 (유효기간 경과, hard): no retry at all.
		clk3 := newClock()
		var hard subJSON
		h.mustCall("POST", "/subscriptions", map[string]any{"customer_uid": "sub-expired", "name": "월간 플랜", "amount": 9900,
			"test_clock": clk3.ID}, &hard)
		h.mustCall("POST", fmt.Sprintf("/test_clocks/%d/advance", clk3.ID), map[string]any{"frozen_time": t0.AddDate(0, 0, 20).Unix()}, &clk3)
		h.mustCall("GET", fmt.Sprintf("/subscriptions/%d", hard.ID), nil, &hard)
		if hard.Status != "past_due" || hard.Retries != 0 {
			t.Fatalf("hard decline: %+v", hard)
		}
		_, env = h.call("GET", fmt.Sprintf("/payments/findAll/sub_%d_1", hard.ID), nil)
		all.List = nil
		_ = json.Unmarshal(env.Response, &all)
		if len(all.List) != 1 || all.List[0].Status != "failed" {
			t.Fatalf("want one declined attempt: %s", env.raw)
		}
		if _, sc, env := h.schedule(fmt.Sprintf("sub_%d_1", hard.ID)); sc.ScheduleStatus != "executed" || str(sc.PaymentStatus) != "failed" {
			t.Fatalf("hard schedule: %s", env.raw)
		}
	})
}

func TestSubscriptionPauseResumeAmountCancel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		restartWithJobs(h, cli.JobOptions{PollInterval: 100 * time.Millisecond, WebhookRetry: []time.Duration{200 * time.Millisecond}})
		rc := newReceiver(t, 0)
		h.mustCall("PUT", "/webhooks/url", map[string]string{"url": rc.URL()}, nil)
		h.mustIssue("sub-a", "4242-4242-4242-4242")

		// Refusals: the i'mport envelope, nothing written.
		for _, body := range []map[string]any{
			{"customer_uid": "nobody", "name": "플랜", "amount": 1000},
			{"customer_uid": "sub-a", "name": "플랜"},
			{"customer_uid": "sub-a", "name": "플랜", "amount": 1000, "interval": "hour"},
			{"customer_uid": "sub-a", "name": "플랜", "amount": 1000, "retry_days": []int{3, 1}},
			{"customer_uid": "sub-a", "name": "플랜", "amount": 1000, "final_action": "explode"},
			{"customer_uid": "sub-a", "name": "플랜", "amount": 1000, "test_clock": 999999},
		} {
			status, env := h.call("POST", "/subscriptions", body)
			if env.Code == 0 || status >= 500 || env.msg() == "" {
				t.Fatalf("%v accepted: %d %s", body, status, env.raw)
			}
		}
		var page struct {
			Total int `json:"total"`
		}
		h.mustCall("GET", "/subscriptions?customer_uid=sub-a", nil, &page)
		if page.Total != 0 {
			t.Fatalf("refused creations wrote %d subscriptions", page.Total)
		}

		// Wall clock: a daily plan starting now is charged by the ordinary
		// scheduler, and its next day is scheduled.
		var wall subJSON
		h.mustCall("POST", "/subscriptions", map[string]any{"customer_uid": "sub-a", "name": "일간 플랜", "amount": 1000,
			"interval": "day", "cycles": 2}, &wall)
		first := h.waitExecuted(wall.CurrentMerchantUID, 20*time.Second)
		if str(first.PaymentStatus) != "paid" {
			t.Fatalf("wall-clock cycle: %+v", first)
		}
		eventually(t, 20*time.Second, "the second day scheduled", func() bool {
			_, sc, _ := h.schedule(fmt.Sprintf("sub_%d_2", wall.ID))
			return sc.ScheduleStatus == "scheduled" && sc.ScheduleAt == first.ScheduleAt+86400
		})
		// A past-due subscription is retried at once when the card is
		// replaced: no retries on this plan, so the decline is final.
		h.mustIssue("sub-b", "4000-0000-0000-0341")
		var due subJSON
		h.mustCall("POST", "/subscriptions", map[string]any{"customer_uid": "sub-b", "name": "일간 플랜", "amount": 1000,
			"interval": "day", "retry_days": []int{}}, &due)
		eventually(t, 20*time.Second, "past_due", func() bool {
			h.mustCall("GET", fmt.Sprintf("/subscriptions/%d", due.ID), nil, &due)
			return due.Status == "past_due"
		})
		h.mustIssue("sub-b", "4242-4242-4242-4242")
		eventually(t, 20*time.Second, "recovered by the card update", func() bool {
			h.mustCall("GET", fmt.Sprintf("/subscriptions/%d", due.ID), nil, &due)
			return due.Status == "active" && due.PaidCycles == 1
		})
		if paid, approvals := h.subPayments(due.ID, 2); paid != 1 || approvals != 1 {
			t.Fatalf("card update: %d paid, %d approvals", paid, approvals)
		}
		eventually(t, 20*time.Second, "subscription.recovered", func() bool {
			return len(subEvents(rc, due.ID)["subscription.recovered"]) == 1
		})
		h.mustCall("POST", fmt.Sprintf("/subscriptions/%d/cancel", due.ID), map[string]any{}, &due)

		h.mustCall("POST", fmt.Sprintf("/subscriptions/%d/cancel", wall.ID), map[string]any{}, &wall)
		if wall.Status != "cancelled" {
			t.Fatalf("cancel: %+v", wall)
		}
		if _, sc, env := h.schedule(fmt.Sprintf("sub_%d_2", wall.ID)); sc.ScheduleStatus != "revoked" {
			t.Fatalf("cancelled plan's schedule: %s", env.raw)
		}
		if status, env := h.call("POST", fmt.Sprintf("/subscriptions/%d/cancel", wall.ID), map[string]any{}); env.Code == 0 || status >= 500 {
			t.Fatalf("cancel twice: %s", env.raw)
		}
		eventually(t, 20*time.Second, "subscription.cancelled", func() bool {
			return len(subEvents(rc, wall.ID)["subscription.cancelled"]) == 1
		})

		// On a clock: pause skips the periods inside it; an amount change
		// applies from the next unscheduled cycle.
		y := time.Now().In(cycle.KST).Year() + 2
		t0 := time.Date(y, 3, 15, 12, 0, 0, 0, cycle.KST)
		var clk clockJSON
		h.mustCall("POST", "/test_clocks", map[string]any{"frozen_time": t0.Unix()}, &clk)
		var sub subJSON
		h.mustCall("POST", "/subscriptions", map[string]any{"customer_uid": "sub-a", "name": "월간 플랜", "amount": 5000,
			"test_clock": clk.ID, "trial_days": 14}, &sub)
		if sub.Status != "trialing" || sub.NextBillingAt != t0.AddDate(0, 0, 14).Unix() {
			t.Fatalf("trial: %+v", sub)
		}
		advance := func(to time.Time) {
			h.mustCall("POST", fmt.Sprintf("/test_clocks/%d/advance", clk.ID), map[string]any{"frozen_time": to.Unix()}, &clk)
		}
		advance(t0.AddDate(0, 0, 20)) // the trial's end: cycle 1 paid
		h.mustCall("PUT", fmt.Sprintf("/subscriptions/%d", sub.ID), map[string]any{"amount": 7000}, &sub)
		h.mustCall("POST", fmt.Sprintf("/subscriptions/%d/pause", sub.ID), map[string]any{}, &sub)
		if sub.Status != "paused" || sub.PaidCycles != 1 || sub.NextBillingAt != 0 {
			t.Fatalf("pause: %+v", sub)
		}
		advance(t0.AddDate(0, 4, 0)) // three periods pass unpaid and uncharged
		if paid, _ := h.subPayments(sub.ID, 6); paid != 1 {
			t.Fatalf("charged while paused: %d", paid)
		}
		h.mustCall("POST", fmt.Sprintf("/subscriptions/%d/resume", sub.ID), map[string]any{}, &sub)
		anchor := t0.AddDate(0, 0, 14)
		if sub.Status != "active" || sub.CurrentCycle != 5 || sub.NextBillingAt != anchor.AddDate(0, 4, 0).Unix() {
			t.Fatalf("resume: %+v (want cycle 5 at %v)", sub, anchor.AddDate(0, 4, 0))
		}
		advance(anchor.AddDate(0, 5, 1))
		for n, amount := range map[int]int64{5: 7000, 6: 7000} {
			if _, sc, env := h.schedule(fmt.Sprintf("sub_%d_%d", sub.ID, n)); sc.Amount != amount || str(sc.PaymentStatus) != "paid" {
				t.Fatalf("cycle %d: %s", n, env.raw)
			}
		}
		if _, sc, _ := h.schedule(fmt.Sprintf("sub_%d_1", sub.ID)); sc.Amount != 5000 {
			t.Fatalf("cycle 1 amount %d", sc.Amount)
		}
		h.mustCall("GET", fmt.Sprintf("/subscriptions/%d", sub.ID), nil, &sub)
		if sub.PaidCycles != 3 || sub.CurrentCycle != 7 {
			t.Fatalf("after resume: %+v", sub)
		}
		if status, env := h.call("POST", fmt.Sprintf("/test_clocks/%d/advance", clk.ID), map[string]any{"frozen_time": t0.Unix()}); env.Code == 0 || status >= 500 {
			t.Fatalf("clock moved backwards: %s", env.raw)
		}
		if status, env := h.call("GET", "/subscriptions/999999", nil); status != 404 || env.Code == 0 {
			t.Fatalf("unknown subscription: %d %s", status, env.raw)
		}
	})
}
