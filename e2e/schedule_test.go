package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/dbtest"
)

// scheduleJSON is a schedule object as the API sends it.
type scheduleJSON struct {
	CustomerUID    string  `json:"customer_uid"`
	MerchantUID    string  `json:"merchant_uid"`
	ImpUID         *string `json:"imp_uid"`
	ScheduleAt     int64   `json:"schedule_at"`
	ExecutedAt     int64   `json:"executed_at"`
	RevokedAt      int64   `json:"revoked_at"`
	Amount         int64   `json:"amount"`
	Name           string  `json:"name"`
	ScheduleStatus string  `json:"schedule_status"`
	PaymentStatus  *string `json:"payment_status"`
	FailReason     *string `json:"fail_reason"`
}

func (e envelope) schedules(t *testing.T) []scheduleJSON {
	t.Helper()
	var out []scheduleJSON
	if err := json.Unmarshal(e.Response, &out); err != nil {
		t.Fatalf("not a schedule array: %s", e.raw)
	}
	return out
}

func (h *harness) schedule(merchantUID string) (int, scheduleJSON, envelope) {
	h.t.Helper()
	status, env := h.call("GET", "/subscribe/payments/schedule/"+merchantUID, nil)
	var sc scheduleJSON
	if env.Code == 0 {
		if err := json.Unmarshal(env.Response, &sc); err != nil {
			h.t.Fatalf("not a schedule: %s", env.raw)
		}
	}
	return status, sc, env
}

// waitExecuted waits until the schedule is executed and returns it.
func (h *harness) waitExecuted(merchantUID string, d time.Duration) scheduleJSON {
	h.t.Helper()
	var sc scheduleJSON
	eventually(h.t, d, merchantUID+" executed", func() bool {
		_, sc, _ = h.schedule(merchantUID)
		return sc.ScheduleStatus == "executed"
	})
	return sc
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// legacyScheduleKeys is go-iamport's strict schedule field set.
var legacyScheduleKeys = "amount buyer_addr buyer_email buyer_name buyer_postcode buyer_tel custom_data customer_uid " +
	"executed_at fail_reason imp_uid merchant_uid name payment_status revoked_at schedule_at schedule_status"

func TestScheduleExecutesOnceAndNotifies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		restartWithJobs(h, cli.JobOptions{PollInterval: 100 * time.Millisecond, WebhookRetry: []time.Duration{200 * time.Millisecond}})
		rc := newReceiver(t, 0)
		secret := h.rotateSecret(0)
		if _, env := h.call("PUT", "/webhooks/url", map[string]string{"url": rc.URL()}); env.Code != 0 {
			t.Fatalf("set url: %s", env.raw)
		}
		h.mustIssue("cust-ok", "4242-4242-4242-4242")
		h.mustIssue("cust-limit", "4000-0000-0000-0341")
		at := time.Now().Unix() + 2

		_, env := h.call("POST", "/subscribe/payments/schedule", map[string]any{
			"customer_uid": "cust-ok",
			"schedules": []map[string]any{
				{"merchant_uid": "sched-paid", "schedule_at": at, "amount": 8900, "name": "월간 이용권 정기결제", "buyer_tel": "01012345678"},
				{"merchant_uid": "sched-revoked", "schedule_at": at + 1, "amount": 8900, "name": "월간 이용권 정기결제"},
			},
		})
		scs := env.schedules(t)
		if env.Code != 0 || len(scs) != 2 || scs[0].ScheduleStatus != "scheduled" || scs[0].PaymentStatus != nil || scs[0].ImpUID != nil ||
			scs[0].ScheduleAt != at || scs[1].MerchantUID != "sched-revoked" {
			t.Fatalf("schedule: %s", env.raw)
		}
		var raw []map[string]any
		_ = json.Unmarshal(env.Response, &raw)
		keys := []string{}
		for k := range raw[0] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if strings.Join(keys, " ") != legacyScheduleKeys || !strings.Contains(string(env.raw), `"payment_status":null`) {
			t.Fatalf("schedule keys %v: %s", keys, env.raw)
		}

		// Unschedule before the time: never charged.
		_, env = h.call("POST", "/subscribe/payments/unschedule", map[string]any{"customer_uid": "cust-ok", "merchant_uid": []string{"sched-revoked"}})
		if rv := env.schedules(t); env.Code != 0 || len(rv) != 1 || rv[0].ScheduleStatus != "revoked" || rv[0].RevokedAt == 0 {
			t.Fatalf("unschedule: %s", env.raw)
		}
		status, env := h.call("POST", "/subscribe/payments/unschedule", map[string]any{"customer_uid": "cust-ok", "merchant_uid": []string{"sched-revoked"}})
		if status != 200 || env.Code != 1 || env.msg() != "취소할 예약결제 기록이 존재하지 않습니다." {
			t.Fatalf("unschedule twice: %d %s", status, env.raw)
		}

		// The declining card, sent as a PHP-style form like legacy clients.
		form := url.Values{}
		form.Set("customer_uid", "cust-limit")
		form.Set("schedules[0][merchant_uid]", "sched-failed")
		form.Set("schedules[0][schedule_at]", fmt.Sprint(at))
		form.Set("schedules[0][amount]", "8900")
		form.Set("schedules[0][name]", "월간 이용권 정기결제")
		if _, env := h.call("POST", "/subscribe/payments/schedule/", form.Encode()); env.Code != 0 || len(env.schedules(t)) != 1 {
			t.Fatalf("form schedule: %s", env.raw)
		}

		paid := h.waitExecuted("sched-paid", 20*time.Second)
		if str(paid.PaymentStatus) != "paid" || paid.ImpUID == nil || paid.ExecutedAt < at || paid.FailReason != nil {
			t.Fatalf("sched-paid: %+v", paid)
		}
		_, env = h.call("GET", "/payments/"+*paid.ImpUID, nil)
		var pay map[string]any
		_ = json.Unmarshal(env.Response, &pay)
		if pay["status"] != "paid" || pay["customer_uid_usage"] != "payment.scheduled" || pay["merchant_uid"] != "sched-paid" ||
			pay["buyer_name"] != "홍길동" || pay["buyer_tel"] != "01012345678" || pay["amount"] != float64(8900) {
			t.Fatalf("scheduled payment: %s", env.raw)
		}
		if ap := h.approvalsFor(*paid.ImpUID); len(ap) != 1 || ap[0].Price != 8900 {
			t.Fatalf("ledger for %s: %+v", *paid.ImpUID, ap)
		}

		failed := h.waitExecuted("sched-failed", 20*time.Second)
		if str(failed.PaymentStatus) != "failed" || failed.FailReason == nil || !strings.Contains(*failed.FailReason, "[") || failed.ImpUID == nil {
			t.Fatalf("sched-failed: %+v", failed)
		}
		if len(h.approvalsFor(*failed.ImpUID)) != 0 {
			t.Fatal("a declined scheduled charge is in the ledger")
		}

		// Webhooks: paid and failed, signed, i'mport's exact body.
		eventually(t, 10*time.Second, "the two webhooks", func() bool {
			return len(rc.accepted("sched-paid")) >= 1 && len(rc.accepted("sched-failed")) >= 1
		})
		for uid, want := range map[string]string{
			"sched-paid":   fmt.Sprintf(`{"imp_uid":%q,"merchant_uid":"sched-paid","status":"paid"}`, *paid.ImpUID),
			"sched-failed": fmt.Sprintf(`{"imp_uid":%q,"merchant_uid":"sched-failed","status":"failed"}`, *failed.ImpUID),
		} {
			r := rc.accepted(uid)[0]
			if string(r.Body) != want || !strings.HasPrefix(r.ID, "evt_") {
				t.Fatalf("%s webhook: %s %s", uid, r.ID, r.Body)
			}
			if err := verifyStandardWebhook(secret, r, time.Now()); err != nil {
				t.Fatalf("%s webhook signature: %v", uid, err)
			}
		}

		// The revoked schedule's time passes; it never runs.
		eventually(t, 10*time.Second, "sched-revoked's time to pass", func() bool {
			return time.Now().After(time.Unix(at+1, 0).Add(1500 * time.Millisecond))
		})
		if _, sc, _ := h.schedule("sched-revoked"); sc.ScheduleStatus != "revoked" || sc.ImpUID != nil || sc.PaymentStatus != nil {
			t.Fatalf("sched-revoked: %+v", sc)
		}
		if status, _ := h.call("GET", "/payments/find/sched-revoked", nil); status != 404 {
			t.Fatalf("a revoked schedule made a payment: %d", status)
		}
		if n := len(h.ledger().Approvals); n != 1 {
			t.Fatalf("ledger has %d approvals, want only sched-paid's", n)
		}
		if len(rc.accepted("sched-revoked")) != 0 {
			t.Fatal("a webhook for the revoked schedule")
		}
	})
}

func TestScheduleAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		restartWithJobs(h, cli.JobOptions{PollInterval: 100 * time.Millisecond, WebhookRetry: []time.Duration{200 * time.Millisecond}})
		rc := newReceiver(t, 0)
		h.call("PUT", "/webhooks/url", map[string]string{"url": rc.URL()})
		h.mustIssue("cust-a", "4242-4242-4242-4242")
		now := time.Now().Unix()
		item := func(uid string, at int64) map[string]any {
			return map[string]any{"merchant_uid": uid, "schedule_at": at, "amount": 8900, "name": "월간 이용권"}
		}
		sched := func(customer string, extra map[string]any, items ...map[string]any) (int, envelope) {
			body := map[string]any{"customer_uid": customer, "schedules": items}
			for k, v := range extra {
				body[k] = v
			}
			return h.call("POST", "/subscribe/payments/schedule", body)
		}

		// Refusals: code 1, a message, nothing written.
		h.again("cust-a", "used-by-payment", 1000)
		if _, env := sched("cust-a", nil, item("s-1", now+3600)); env.Code != 0 {
			t.Fatalf("s-1: %s", env.raw)
		}
		for name, tc := range map[string]struct {
			customer string
			items    []map[string]any
			msg      string
		}{
			"unknown customer, no card": {"nobody", []map[string]any{item("x-1", now+60)}, "등록된 고객정보가 없습니다."},
			"already scheduled":         {"cust-a", []map[string]any{item("x-2", now+60), item("s-1", now+60)}, "이미 예약결제가 등록된 merchant_uid입니다."},
			"already paid":              {"cust-a", []map[string]any{item("x-3", now+60), item("used-by-payment", now+60)}, "이미 주문이 이루어진 건입니다."},
			"twice in one call":         {"cust-a", []map[string]any{item("x-4", now+60), item("x-4", now+70)}, "같은 merchant_uid"},
			"no schedules":              {"cust-a", []map[string]any{}, "schedules"},
			"no amount":                 {"cust-a", []map[string]any{item("x-5", now+60), {"merchant_uid": "x-6", "schedule_at": now + 60, "name": "n"}}, "amount"},
			"no schedule_at":            {"cust-a", []map[string]any{{"merchant_uid": "x-8", "amount": 100, "name": "n"}}, "schedule_at"},
			"long past":                 {"cust-a", []map[string]any{item("x-9", now-3600)}, "schedule_at"},
			"milliseconds":              {"cust-a", []map[string]any{item("x-10", now*1000)}, "schedule_at"},
			"bad notice_url":            {"cust-a", []map[string]any{{"merchant_uid": "x-11", "schedule_at": now + 60, "amount": 100, "name": "n", "notice_url": "ftp://x"}}, "notice_url"},
		} {
			status, env := sched(tc.customer, nil, tc.items...)
			if status != 200 || env.Code != 1 || !strings.Contains(env.msg(), tc.msg) {
				t.Errorf("%s: %d %s", name, status, env.raw)
			}
		}
		for _, uid := range []string{"x-1", "x-2", "x-3", "x-4", "x-5"} {
			if status, _ := h.call("GET", "/subscribe/payments/schedule/"+uid, nil); status != 404 {
				t.Errorf("%s was written by a refused call", uid)
			}
		}

		// Card data for a new customer issues a key first; a bad card is code 1.
		card := map[string]any{"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "880101", "pwd_2digit": "12"}
		if _, env := sched("cust-new", card, item("s-new", now+3600)); env.Code != 0 {
			t.Fatalf("with card: %s", env.raw)
		}
		if _, env := h.call("GET", "/subscribe/customers/cust-new", nil); env.Code != 0 {
			t.Fatalf("key not issued: %s", env.raw)
		}
		card["card_number"] = "4000-0000-0000-0002"
		if _, env := sched("cust-bad", card, item("s-bad", now+3600)); env.Code != 1 || !strings.HasPrefix(env.msg(), "카드정보 확인에 실패하였습니다. 카드사에서 승인을 거절했습니다.") || !strings.Contains(env.msg(), "([1103] ") {
			t.Fatalf("bad card: %s", env.raw)
		}
		if _, env := h.call("GET", "/subscribe/customers/cust-bad", nil); env.Code == 0 {
			t.Fatal("a refused card was stored")
		}

		// checking_amount: approved then cancelled at once; no webhook sent.
		before := len(h.ledger().Approvals)
		if _, env := sched("cust-a", map[string]any{"checking_amount": 1000}, item("s-checked", now+3600)); env.Code != 0 {
			t.Fatalf("checking_amount: %s", env.raw)
		}
		led := h.ledger()
		if len(led.Approvals) != before+1 || led.Approvals[len(led.Approvals)-1].Price != 1000 || led.Approvals[len(led.Approvals)-1].Remaining != 0 {
			t.Fatalf("check approval: %+v", led.Approvals[before:])
		}
		eventually(t, 10*time.Second, "the check's deliveries recorded as skipped", func() bool {
			_, list := h.deliveries("state=skipped")
			return len(list) == 2
		})

		// Lists: by range (newest first, or oldest with sorting=scheduled),
		// status, paging; by customer under both paths and spellings.
		type pageJSON struct {
			Total, Previous, Next int
			List                  []scheduleJSON
		}
		list := func(path string) (int, pageJSON, envelope) {
			t.Helper()
			status, env := h.call("GET", path, nil)
			var pg pageJSON
			if env.Code == 0 {
				if err := json.Unmarshal(env.Response, &pg); err != nil {
					t.Fatalf("%s: %s", path, env.raw)
				}
			}
			return status, pg, env
		}
		sched("cust-a", nil, item("s-2", now+7200), item("s-3", now+10800))
		from, to := now, now+86400
		_, pg, _ := list(fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d", from, to))
		uids := func(pg pageJSON) string {
			var u []string
			for _, s := range pg.List {
				u = append(u, s.MerchantUID)
			}
			return strings.Join(u, ",")
		}
		if pg.Total != 5 || uids(pg) != "s-3,s-2,s-checked,s-new,s-1" {
			t.Fatalf("range: %+v", pg)
		}
		_, pg, _ = list(fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d&sorting=scheduled&limit=2&page=2", from, to))
		if uids(pg) != "s-checked,s-2" || pg.Previous != 1 || pg.Next != 3 || pg.Total != 5 {
			t.Fatalf("oldest first, page 2: %+v", pg)
		}
		for _, path := range []string{
			fmt.Sprintf("/subscribe/payments/schedule/customers/cust-a?from=%d&to=%d&schedule-status=scheduled", from, to),
			fmt.Sprintf("/subscribe/customers/cust-a/schedules?from=%d&to=%d&schedule_status=scheduled", from, to),
			"/subscribe/customers/cust-a/schedules",
		} {
			if _, pg, env := list(path); pg.Total != 4 || env.Code != 0 {
				t.Fatalf("%s: %+v %s", path, pg, env.raw)
			}
		}
		if _, pg, env := list("/subscribe/customers/cust-a/schedules?schedule-status=revoked"); pg.Total != 0 || env.Code != 0 {
			t.Fatalf("revoked: %s", env.raw)
		}
		if status, pg, env := list("/subscribe/payments/schedule/customers/nobody"); status != 200 || env.Code != 0 || pg.Total != 0 || pg.List == nil {
			t.Fatalf("unknown customer: %d %s", status, env.raw)
		}
		for _, path := range []string{
			fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d", now, now+100*86400),
			fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d", now, now-1),
			"/subscribe/payments/schedule?schedule_status=done",
			"/subscribe/payments/schedule?sorting=amount",
			"/subscribe/payments/schedule?page=-1",
		} {
			if status, _, env := list(path); status != 400 || env.Code == 0 {
				t.Errorf("%s: %d %s", path, status, env.raw)
			}
		}
		if status, _, env := h.schedule("nope"); status != 404 || env.Code == 0 {
			t.Fatalf("unknown schedule: %d %s", status, env.raw)
		}

		// PUT moves a pending schedule; past times and non-pending ones are 400.
		status, env := h.call("PUT", "/subscribe/payments/schedule/s-3", map[string]any{"schedule_at": now + 20000})
		var moved scheduleJSON
		_ = json.Unmarshal(env.Response, &moved)
		if status != 200 || env.Code != 0 || moved.ScheduleAt != now+20000 {
			t.Fatalf("move: %d %s", status, env.raw)
		}
		for name, tc := range map[string]struct {
			path string
			at   int64
			want int
		}{
			"past":    {"s-3", now - 10, 400},
			"unknown": {"nope", now + 100, 404},
		} {
			if status, env := h.call("PUT", "/subscribe/payments/schedule/"+tc.path, map[string]any{"schedule_at": tc.at}); status != tc.want || env.Code == 0 {
				t.Errorf("move %s: %d %s", name, status, env.raw)
			}
		}
		h.call("POST", "/subscribe/payments/unschedule", map[string]any{"merchant_uid": "s-3"})
		if status, _ := h.call("PUT", "/subscribe/payments/schedule/s-3", map[string]any{"schedule_at": now + 100}); status != 400 {
			t.Fatalf("moved a revoked schedule: %d", status)
		}
		// Reschedule: revoked → scheduled; a pending one is 400.
		status, env = h.call("POST", "/subscribe/payments/schedule/s-3/reschedule", map[string]any{"schedule_at": now + 30000})
		if _ = json.Unmarshal(env.Response, &moved); status != 200 || moved.ScheduleStatus != "scheduled" || moved.RevokedAt != 0 || moved.ScheduleAt != now+30000 {
			t.Fatalf("reschedule: %d %s", status, env.raw)
		}
		if status, _ := h.call("POST", "/subscribe/payments/schedule/s-2/reschedule", map[string]any{"schedule_at": now + 30000}); status != 400 {
			t.Fatalf("rescheduled a pending schedule: %d", status)
		}
		// Retry: a revoked schedule runs now and returns its payment.
		h.call("POST", "/subscribe/payments/unschedule", map[string]any{"customer_uid": "cust-a", "merchant_uid": []string{"s-2"}})
		_, env = h.call("POST", "/subscribe/payments/schedule/s-2/retry", nil)
		if p := env.payment(t); env.Code != 0 || p.Status != "paid" || p.MerchantUID != "s-2" || p.Usage != "payment.scheduled" || len(h.approvalsFor(p.ImpUID)) != 1 {
			t.Fatalf("retry: %s", env.raw)
		}
		if _, sc, _ := h.schedule("s-2"); sc.ScheduleStatus != "executed" || str(sc.PaymentStatus) != "paid" {
			t.Fatalf("after retry: %+v", sc)
		}

		// A failed schedule, retried once the card is replaced: a new
		// payment, one approval.
		h.mustIssue("cust-b", "4000-0000-0000-0341")
		sched("cust-b", nil, item("s-fail", time.Now().Unix()))
		first := h.waitExecuted("s-fail", 15*time.Second)
		if str(first.PaymentStatus) != "failed" {
			t.Fatalf("s-fail: %+v", first)
		}
		h.mustIssue("cust-b", "4242-4242-4242-4242")
		_, env = h.call("POST", "/subscribe/payments/schedule/s-fail/retry", nil)
		p := env.payment(t)
		if env.Code != 0 || p.Status != "paid" || p.ImpUID == *first.ImpUID || len(h.approvalsFor(p.ImpUID)) != 1 {
			t.Fatalf("retry of a failed schedule: %s", env.raw)
		}
		if _, sc, _ := h.schedule("s-fail"); str(sc.ImpUID) != p.ImpUID || str(sc.PaymentStatus) != "paid" {
			t.Fatalf("after retry: %+v", sc)
		}

		// The billing key is deleted before the time: failed without a
		// payment, and a failed webhook with imp_uid null.
		h.mustIssue("cust-gone", "4242-4242-4242-4242")
		sched("cust-gone", nil, item("s-gone", time.Now().Unix()+1))
		h.call("DELETE", "/subscribe/customers/cust-gone", nil)
		gone := h.waitExecuted("s-gone", 15*time.Second)
		if str(gone.PaymentStatus) != "failed" || gone.ImpUID != nil || str(gone.FailReason) != "등록되지 않은 구매자입니다." {
			t.Fatalf("s-gone: %+v", gone)
		}
		eventually(t, 10*time.Second, "the failed webhook", func() bool { return len(rc.accepted("s-gone")) == 1 })
		if b := string(rc.accepted("s-gone")[0].Body); b != `{"imp_uid":null,"merchant_uid":"s-gone","status":"failed"}` {
			t.Fatalf("s-gone webhook: %s", b)
		}
	})
}

// TestScheduleRecoversUnknownOutcomes covers the runs that find a payment
// of their own: one whose PG reply never came (approved at the PG; the
// reconciler records it paid, the schedule adopts it), and one a dead node
// left ready before reaching the PG (the reconciler finds no approval and
// fails it; the schedule then charges anew). One approval each.
func TestScheduleRecoversUnknownOutcomes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		restartWithJobs(h, cli.JobOptions{PollInterval: 100 * time.Millisecond, StaleReadyAfter: 4 * time.Second,
			ScheduleRetryDelays: []time.Duration{300 * time.Millisecond}})
		ctx := context.Background()
		h.mustIssue("cust-hang", "4000-0000-0000-0119") // approved, reply never sent
		h.mustIssue("cust-ok", "4242-4242-4242-4242")
		now := time.Now().Unix()
		for cust, uid := range map[string]string{"cust-hang": "s-hang", "cust-ok": "s-abandoned"} {
			_, env := h.call("POST", "/subscribe/payments/schedule", map[string]any{"customer_uid": cust,
				"schedules": []map[string]any{{"merchant_uid": uid, "schedule_at": now + 2, "amount": 7000, "name": "정기결제"}}})
			if env.Code != 0 {
				t.Fatalf("%s: %s", uid, env.raw)
			}
		}
		// A node died after inserting s-abandoned's payment, before the PG call.
		chs, err := h.store.Channels(ctx, h.merchant.Merchant.ID)
		if err != nil {
			t.Fatal(err)
		}
		ghost := &billkey.Payment{MerchantID: h.merchant.Merchant.ID, ChannelID: chs[0].ID, ImpUID: "imps_000000000001",
			MerchantUID: "s-abandoned", PayMethod: "card", Channel: billkey.ChannelAPI, PGProvider: chs[0].Provider, PGID: chs[0].MID,
			Name: "정기결제", Amount: 7000, Currency: "KRW", Status: billkey.StatusReady, CustomerUID: "cust-ok",
			CustomerUIDUsage: billkey.UsageScheduled, StartedAt: time.Now().Add(-time.Minute)}
		if err := h.store.CreatePayment(ctx, ghost); err != nil {
			t.Fatal(err)
		}

		hang := h.waitExecuted("s-hang", 30*time.Second)
		if str(hang.PaymentStatus) != "paid" || hang.ImpUID == nil || len(h.approvalsFor(*hang.ImpUID)) != 1 {
			t.Fatalf("s-hang: %+v", hang)
		}
		abandoned := h.waitExecuted("s-abandoned", 30*time.Second)
		if str(abandoned.PaymentStatus) != "paid" || abandoned.ImpUID == nil || *abandoned.ImpUID == ghost.ImpUID ||
			len(h.approvalsFor(*abandoned.ImpUID)) != 1 || len(h.approvalsFor(ghost.ImpUID)) != 0 {
			t.Fatalf("s-abandoned: %+v", abandoned)
		}
		if _, env := h.call("GET", "/payments/"+ghost.ImpUID, nil); env.payment(t).Status != "failed" {
			t.Fatalf("the abandoned payment: %s", env.raw)
		}
		if n := len(h.ledger().Approvals); n != 2 {
			t.Fatalf("%d approvals, want 2", n)
		}
	})
}
