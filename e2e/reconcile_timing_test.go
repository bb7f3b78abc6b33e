package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/inicissim"
	"github.com/billkey/billkey/internal/dbtest"
)

// asyncAgain starts POST /subscribe/payments/again in the background (no
// t.Fatal off the test goroutine) and returns a channel with the envelope.
func (h *harness) asyncAgain(customerUID, merchantUID string, amount int64) <-chan envelope {
	out := make(chan envelope, 1)
	body, _ := json.Marshal(map[string]any{"customer_uid": customerUID, "merchant_uid": merchantUID, "amount": amount, "name": "월간 이용권"})
	go func() {
		var env envelope
		req, _ := http.NewRequest("POST", h.app.BaseURL+"/subscribe/payments/again", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", h.token)
		res, err := h.client.Do(req)
		if err != nil {
			env.raw = []byte(err.Error())
			out <- env
			return
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		_ = json.Unmarshal(raw, &env)
		env.raw = raw
		out <- env
	}()
	return out
}

// otherNode is a second gateway on the same database and PG, as another
// node would run it: the test drives its reconciler by hand.
func (h *harness) otherNode(pg billkey.PG) *gateway.Service {
	p := h.app.PG.Provider()
	p.PG = pg
	pgs, err := billkey.NewPGRegistry(p)
	if err != nil {
		h.t.Fatal(err)
	}
	svc := gateway.New(h.store, h.keys, pgs, slog.New(slog.NewJSONHandler(h.logs, nil)).With("node", "other"))
	return svc
}

// storedPayment reads the payment with the imp_uid from the database.
func (h *harness) storedPayment(impUID string) *billkey.Payment {
	h.t.Helper()
	p, err := h.store.PaymentByImpUID(context.Background(), h.merchant.Merchant.ID, impUID)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// TestNoLateApprovalBehindFailed: a charge INICIS answers slowly (but within
// the PG timeout) is never declared failed by a reconciler — here another
// node configured with a short stale threshold — while the call is in
// flight. Before the in-flight window existed, the other node found the
// payment ready for longer than its stale threshold, got "not found" three
// times while INICIS still worked on the charge, recorded it failed, and
// INICIS approved it a moment later: an approved charge behind a failed
// payment.
func TestNoLateApprovalBehindFailed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{pgTimeout: 10 * time.Second, reconcileInterval: time.Hour})
		h.mustIssue("cust-late", "4242-4242-4242-4242")
		if err := h.sim.SetFaults(inicissim.Faults{Latency: 3 * time.Second, Paths: []string{"/api/v1/billing"}, Count: 1}); err != nil {
			t.Fatal(err)
		}
		other := h.otherNode(h.app.PG)
		other.StaleReadyAfter = 300 * time.Millisecond
		other.ReconcileDelays = []time.Duration{100 * time.Millisecond}
		done := h.asyncAgain("cust-late", "order-late", 9900)
		var env envelope
		ctx := context.Background()
	loop:
		for {
			select {
			case env = <-done:
				break loop
			case <-time.After(150 * time.Millisecond):
				if _, err := other.ReconcileDue(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		var p payment
		if err := json.Unmarshal(env.Response, &p); err != nil || p.ImpUID == "" {
			t.Fatalf("charge: %s", env.raw)
		}
		ap := h.approvalsFor(p.ImpUID)
		if len(ap) != 1 {
			t.Fatalf("ledger approvals for %s: %+v", p.ImpUID, ap)
		}
		stored := h.storedPayment(p.ImpUID)
		if ap[0].State == inicissim.StateApproved && stored.Status != billkey.StatusPaid {
			t.Fatalf("INICIS approved %s (tid %s) but billkey recorded it %s (%s), answering %s",
				p.ImpUID, ap[0].TID, stored.Status, stored.FailReason, env.raw)
		}
		if env.Code != 0 || p.Status != "paid" || stored.PGTID != ap[0].TID {
			t.Fatalf("answer %s, stored %s %s, ledger %+v", env.raw, stored.Status, stored.PGTID, ap[0])
		}
	})
}

// TestOrphanApprovalRefunded provokes an approval for a payment already
// recorded failed: another node believes the PG timeout is 100ms while INICIS
// answers after 6s (a misconfigured node; a stalled process would look the
// same). billkey must not lose that approval: it refunds it at INICIS, notes
// it on the payment, queues a webhook event, logs at error and counts it.
func TestOrphanApprovalRefunded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{pgTimeout: 10 * time.Second, reconcileInterval: time.Hour})
		h.mustIssue("cust-orphan", "4242-4242-4242-4242")
		if err := h.sim.SetFaults(inicissim.Faults{Latency: 6 * time.Second, Paths: []string{"/api/v1/billing"}, Count: 1}); err != nil {
			t.Fatal(err)
		}
		other := h.otherNode(h.app.PG)
		other.PGTimeout, other.InFlightMargin = 100*time.Millisecond, 100*time.Millisecond
		other.StaleReadyAfter = 400 * time.Millisecond
		other.ReconcileDelays = []time.Duration{100 * time.Millisecond}
		ctx := context.Background()
		done := h.asyncAgain("cust-orphan", "order-orphan", 9900)
		var env envelope
		failedEarly := false
	loop:
		for {
			select {
			case env = <-done:
				break loop
			case <-time.After(150 * time.Millisecond):
				if n, err := other.ReconcileDue(ctx); err != nil {
					t.Fatal(err)
				} else if n > 0 {
					failedEarly = true
				}
			}
		}
		if !failedEarly {
			t.Fatal("the misconfigured node did not record the payment failed before INICIS answered; the test provoked nothing")
		}
		var p payment
		if err := json.Unmarshal(env.Response, &p); err != nil || p.ImpUID == "" {
			t.Fatalf("charge: %s", env.raw)
		}
		// The merchant is told what it was told before: failed, with a note.
		if env.Code != 0 || p.Status != "failed" || !strings.Contains(p.FailReason, "late PG approval refunded") {
			t.Fatalf("answer: %s", env.raw)
		}
		ap := h.approvalsFor(p.ImpUID)
		if len(ap) != 1 || ap[0].State != inicissim.StateCancelled || ap[0].Remaining != 0 {
			t.Fatalf("the orphan approval was not refunded at INICIS: %+v", ap)
		}
		stored := h.storedPayment(p.ImpUID)
		os, err := h.store.Orphans(ctx, stored.ID)
		if err != nil || len(os) != 1 || os[0].Kind != billkey.OrphanCharge || os[0].State != billkey.OrphanRefunded ||
			os[0].PGTID != ap[0].TID || os[0].Amount != 9900 {
			t.Fatalf("orphan record: %+v %v", os, err)
		}
		evs, err := h.store.Events(ctx, h.merchant.Merchant.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		failedEvents := 0
		for _, e := range evs {
			if e.ImpUID == p.ImpUID && e.Status == billkey.StatusFailed {
				failedEvents++
			}
		}
		if failedEvents != 2 { // the failure, then the orphan
			t.Errorf("%d failed events for %s, want 2: %+v", failedEvents, p.ImpUID, evs)
		}
		if !strings.Contains(h.logs.String(), `"level":"ERROR","msg":"ORPHAN APPROVAL`) {
			t.Error("the orphan approval was not logged at error level")
		}
		if m := h.metrics(); !strings.Contains(m, `billkey_orphan_approvals_total{kind="charge"} 1`) {
			t.Errorf("metric missing: %s", grepLines(m, "orphan"))
		}
	})
}

// metrics renders the gateway's Prometheus metrics (billkey serve mounts
// the same handler at /metrics).
func (h *harness) metrics() string {
	h.t.Helper()
	rec := httptest.NewRecorder()
	h.app.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestINICIS503FailsAtOnce: a 503 from INICIS means it declined to process
// the charge: the payment fails right away with a message saying nothing was
// approved, and the merchant_uid is free for a retry.
func TestINICIS503FailsAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		h.mustIssue("cust-503", "4242-4242-4242-4242")
		if err := h.sim.SetFaults(inicissim.Faults{Status: 503, Paths: []string{"/api/v1/billing"}, Count: 1}); err != nil {
			t.Fatal(err)
		}
		_, env := h.again("cust-503", "order-503", 9900)
		p := env.payment(t)
		if env.Code != 0 || p.Status != "failed" || !strings.Contains(p.FailReason, "처리하지 않았습니다") || strings.Contains(p.FailReason, "지연") {
			t.Fatalf("503: %s", env.raw)
		}
		if len(h.approvalsFor(p.ImpUID)) != 0 {
			t.Fatal("approved despite the 503")
		}
		_, env = h.again("cust-503", "order-503", 9900)
		if p2 := env.payment(t); env.Code != 0 || p2.Status != "paid" || p2.ImpUID == p.ImpUID {
			t.Fatalf("retry with the same merchant_uid after a 503: %s", env.raw)
		}
	})
}

// notFoundFirst is a PG whose inquiry reports "not found" the first time it
// is asked about an order, as a PG that lists an approval a little late.
type notFoundFirst struct {
	billkey.PG
	mu    sync.Mutex
	asked map[string]int
}

func (p *notFoundFirst) Inquire(ctx context.Context, ch billkey.PGChannel, orderID string) (*billkey.Inquiry, error) {
	p.mu.Lock()
	p.asked[orderID]++
	n := p.asked[orderID]
	p.mu.Unlock()
	if n == 1 {
		return &billkey.Inquiry{State: billkey.InquiryNotFound}, nil
	}
	return p.PG.Inquire(ctx, ch, orderID)
}

// clock is a test clock the reconciler reads.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestApprovalListedAfterANotFound: the PG answers the first inquiry of an
// approved charge with "not found" (it lists approvals a little late); the
// not-found grace keeps the payment ready, and the next inquiry records it
// paid. Without the grace the approved charge would be recorded failed.
func TestApprovalListedAfterANotFound(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{reconcileInterval: time.Hour})
		h.mustIssue("cust-slowlist", "4242-4242-4242-4242")
		if err := h.sim.SetFaults(inicissim.Faults{Drop: true, Paths: []string{"/api/v1/billing"}, Count: 1}); err != nil {
			t.Fatal(err)
		}
		_, env := h.again("cust-slowlist", "order-slowlist", 9900)
		if env.Code == 0 {
			t.Fatalf("a dropped reply was answered: %s", env.raw)
		}
		p, err := h.store.FindPayment(context.Background(), h.merchant.Merchant.ID, "order-slowlist", "")
		if err != nil || p.Status != billkey.StatusReady || len(h.approvalsFor(p.ImpUID)) != 1 {
			t.Fatalf("after the dropped reply: %+v %v", p, err)
		}
		pg := &notFoundFirst{PG: h.app.PG, asked: map[string]int{}}
		other := h.otherNode(pg)
		other.PGTimeout, other.InFlightMargin = 100*time.Millisecond, 100*time.Millisecond
		clk := &clock{t: time.Now().Add(time.Minute)} // long past the in-flight window
		other.Now = clk.Now
		ctx := context.Background()
		if n, err := other.ReconcileDue(ctx); err != nil || n != 0 {
			t.Fatalf("first round: resolved %d, %v", n, err)
		}
		if got := h.storedPayment(p.ImpUID); got.Status != billkey.StatusReady || pg.asked[p.ImpUID] != 1 {
			t.Fatalf("after a first not-found: %s (asked %d)", got.Status, pg.asked[p.ImpUID])
		}
		clk.Add(time.Hour)
		if n, err := other.ReconcileDue(ctx); err != nil || n != 1 {
			t.Fatalf("second round: resolved %d, %v", n, err)
		}
		if got := h.storedPayment(p.ImpUID); got.Status != billkey.StatusPaid || got.PGTID != h.approvalsFor(p.ImpUID)[0].TID {
			t.Fatalf("after the approval was listed: %s %q", got.Status, got.FailReason)
		}
	})
}

// readyPayment inserts a payment left ready by a "crashed node" that never
// reached the PG, started at the clock's time.
func (h *harness) readyPayment(customerUID, merchantUID string, startedAt time.Time) *billkey.Payment {
	h.t.Helper()
	ctx := context.Background()
	c, err := h.store.CustomerByUID(ctx, h.merchant.Merchant.ID, customerUID)
	if err != nil {
		h.t.Fatal(err)
	}
	p := &billkey.Payment{MerchantID: h.merchant.Merchant.ID, ChannelID: c.ChannelID, ImpUID: fmt.Sprintf("imps_%012d", time.Now().UnixNano()%1e12),
		MerchantUID: merchantUID, PayMethod: "card", Channel: billkey.ChannelAPI, PGProvider: "html5_inicis", Name: "월간 이용권",
		Amount: 9900, Currency: "KRW", Status: billkey.StatusReady, CustomerUID: customerUID, StartedAt: startedAt}
	if err := h.store.CreatePayment(ctx, p); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// TestCrashLeftPaymentTimingRules: a payment left ready by a node that died
// before calling the PG is inquired on the published backoff (not on every
// reconciler tick), never declared failed within the in-flight window, and —
// when the PG's reply carries no approval state (INICIS's not-found code is
// unpublished) — only after the long no-approval grace.
func TestCrashLeftPaymentTimingRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{reconcileInterval: time.Hour})
		h.mustIssue("cust-crash", "4242-4242-4242-4242")
		t0 := time.Now()
		clk := &clock{t: t0}
		ctx := context.Background()
		round := func(d time.Duration, other *gateway.Service) {
			t.Helper()
			clk.Add(d)
			if _, err := other.ReconcileDue(ctx); err != nil {
				t.Fatal(err)
			}
		}

		// A PG whose not-found code is known (the simulator's R404).
		other := h.otherNode(h.app.PG)
		other.Now, other.StaleReadyAfter = clk.Now, 2*time.Minute
		other.PGTimeout = 30 * time.Second // in-flight window 70s
		p := h.readyPayment("cust-crash", "order-crash", t0)
		round(2*time.Minute+time.Second, other) // stale: first inquiry
		got := h.storedPayment(p.ImpUID)
		if got.Status != billkey.StatusReady || !got.OutcomeUnknown || got.ReconcileAttempts != 1 {
			t.Fatalf("after the first inquiry: %s unknown=%v attempts=%d", got.Status, got.OutcomeUnknown, got.ReconcileAttempts)
		}
		round(time.Second, other) // not due yet: the published backoff, not every tick
		if got := h.storedPayment(p.ImpUID); got.ReconcileAttempts != 1 {
			t.Fatalf("inquired again %s after the first inquiry (attempts %d)", time.Second, got.ReconcileAttempts)
		}
		for range 2 {
			round(time.Hour, other)
		}
		if got := h.storedPayment(p.ImpUID); got.Status != billkey.StatusFailed || !strings.Contains(got.FailReason, "no approval found") {
			t.Fatalf("after three not-found inquiries: %s %q", got.Status, got.FailReason)
		}

		// A PG whose not-found code billkey does not know: the reply has
		// no approval state; it counts as not found only after the grace.
		conn := inicis.New(inicis.Config{Test: inicis.SimulatorEndpoints(h.app.SimURL), InquiryNotFoundCodes: []string{"X-UNKNOWN"}})
		blind := h.otherNode(conn)
		blind.Now, blind.StaleReadyAfter = clk.Now, 2*time.Minute
		q := h.readyPayment("cust-crash", "order-crash-2", clk.Now())
		for range 5 {
			round(5*time.Minute, blind)
		}
		got = h.storedPayment(q.ImpUID)
		if got.Status != billkey.StatusReady || got.ReconcileAttempts < 3 {
			t.Fatalf("25 minutes in, with no approval state: %s (attempts %d), want still ready", got.Status, got.ReconcileAttempts)
		}
		if !strings.Contains(h.logs.String(), "reports no approval state") {
			t.Error("the no-approval-state replies were not logged")
		}
		round(6*time.Minute, blind)
		if got := h.storedPayment(q.ImpUID); got.Status != billkey.StatusFailed {
			t.Fatalf("past the no-approval grace: %s, want failed", got.Status)
		}
	})
}

// paidWriteBreaker makes the database refuse to record any payment as paid
// (a failed write at the worst moment), and undoes it.
func paidWriteBreaker(t *testing.T, h *harness) (breakWrites, restore func()) {
	t.Helper()
	exec := func(q string) {
		if _, err := h.store.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if h.store.Dialect == "postgres" {
		return func() {
				exec(`CREATE FUNCTION refuse_paid() RETURNS trigger LANGUAGE plpgsql AS $$
					BEGIN RAISE EXCEPTION 'disk full (simulated)'; END $$`)
				exec(`CREATE TRIGGER refuse_paid BEFORE UPDATE ON payments FOR EACH ROW WHEN (NEW.status = 'paid') EXECUTE FUNCTION refuse_paid()`)
			}, func() {
				exec(`DROP TRIGGER refuse_paid ON payments`)
				exec(`DROP FUNCTION refuse_paid()`)
			}
	}
	return func() {
			exec(`CREATE TRIGGER refuse_paid BEFORE UPDATE ON payments WHEN NEW.status = 'paid' BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END`)
		}, func() {
			exec(`DROP TRIGGER refuse_paid`)
		}
}

// TestReconciledPaidLoggedAfterTheWrite: "reconciled unknown outcome: paid"
// is logged only once the payment is recorded paid; a failed write leaves
// the payment ready (and is reported), and the next round records it.
func TestReconciledPaidLoggedAfterTheWrite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{reconcileInterval: time.Hour})
		h.mustIssue("cust-logw", "4242-4242-4242-4242")
		if err := h.sim.SetFaults(inicissim.Faults{Drop: true, Paths: []string{"/api/v1/billing"}, Count: 1}); err != nil {
			t.Fatal(err)
		}
		if _, env := h.again("cust-logw", "order-logw", 9900); env.Code == 0 {
			t.Fatalf("a dropped reply was answered: %s", env.raw)
		}
		p, err := h.store.FindPayment(context.Background(), h.merchant.Merchant.ID, "order-logw", "")
		if err != nil || p.Status != billkey.StatusReady {
			t.Fatalf("%+v %v", p, err)
		}
		other := h.otherNode(h.app.PG)
		clk := &clock{t: time.Now().Add(time.Minute)}
		other.Now = clk.Now
		breakWrites, restore := paidWriteBreaker(t, h)
		breakWrites()
		ctx := context.Background()
		if n, _ := other.ReconcileDue(ctx); n != 0 {
			t.Fatalf("resolved %d while the write fails", n)
		}
		if got := h.storedPayment(p.ImpUID); got.Status != billkey.StatusReady {
			t.Fatalf("status %s after a failed write", got.Status)
		}
		if strings.Contains(h.logs.String(), "reconciled unknown outcome: paid") {
			t.Fatal(`"reconciled unknown outcome: paid" logged although the write failed`)
		}
		restore()
		clk.Add(time.Hour)
		if n, err := other.ReconcileDue(ctx); n != 1 || err != nil {
			t.Fatalf("after the write works again: resolved %d, %v", n, err)
		}
		if got := h.storedPayment(p.ImpUID); got.Status != billkey.StatusPaid {
			t.Fatalf("status %s", got.Status)
		}
		if n := strings.Count(h.logs.String(), "reconciled unknown outcome: paid"); n != 1 {
			t.Fatalf("logged %d times", n)
		}
	})
}
