package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The spike phase is the first of the month: every renewal falls due at
// the same instant. It inserts N schedules due at one second T through the
// public API — POST /subscribe/payments/schedule, up to 100 schedules per
// call, one call per customer (the call also issues the customer's billing
// key from the card, as a merchant's first schedule call does) — each with
// a notice_url on a webhook receiver this process runs. From T it watches,
// every 250 ms, how many are still scheduled (the schedule listing's
// total), and on every node's /metrics the due backlog and lag, the claims
// (leases taken) per node and the claim errors, and the webhook outbox
// backlog; the receiver counts the webhooks that arrive. It ends when
// every schedule is executed and every webhook has arrived (or at the
// timeout; webhooks are waited for at most SpikeWebhookWait after the last
// charge), then checks that each schedule was charged exactly once:
// one paid payment per merchant_uid, matched by one approval in the
// simulator's ledger (the run's ledger check), none missed.

// spikePerCustomer is how many schedules each spike customer holds.
const spikePerCustomer = 100

// SpikeSample is one observation during the spike.
type SpikeSample struct {
	At        float64 `json:"t"`         // seconds since the due instant
	Remaining int     `json:"remaining"` // schedules still scheduled
	// From /metrics (summed over the nodes):
	Due      float64   `json:"schedules_due"`
	Lag      float64   `json:"schedule_lag_seconds"` // the largest of the nodes
	Backlog  float64   `json:"webhook_backlog"`
	Claimed  []float64 `json:"claimed_per_node"` // cumulative schedule claims (leases) per node
	ClaimErr float64   `json:"claim_errors"`
	Webhooks int       `json:"webhooks_received"`
}

// SpikeReport is the spike phase's outcome.
type SpikeReport struct {
	Schedules  int     `json:"schedules"`
	Customers  int     `json:"customers"`
	InsertSecs float64 `json:"insert_seconds"` // time to insert them all through the API
	// InsertOverrun is how long after the due instant the last insert
	// ended (0 when all were in before it): then the spike overlapped its
	// own setup.
	InsertOverrun float64 `json:"insert_overrun_seconds"`
	// AllChargedSecs: from the due instant until no schedule was left.
	AllChargedSecs float64 `json:"all_charged_seconds"`
	ChargesPerSec  float64 `json:"charges_per_second"`      // Schedules / AllChargedSecs
	PeakPerSec     float64 `json:"peak_charges_per_second"` // best one-second window
	// WebhooksSecs: from the due instant until the last webhook arrived.
	WebhooksSecs   float64   `json:"webhooks_seconds"`
	MaxBacklog     float64   `json:"max_webhook_backlog"`
	MaxLag         float64   `json:"max_schedule_lag_seconds"`
	ClaimedPerNode []float64 `json:"claimed_per_node"` // schedule claims during the spike, per node
	ClaimErrors    float64   `json:"claim_errors"`
	Webhooks       int       `json:"webhooks_received"` // distinct merchant_uids notified
	WebhookRepeats int       `json:"webhook_repeats"`   // notifications beyond the first per merchant_uid
	// WebhooksMissing were not received by the end (SpikeWebhookWait after
	// the last charge); billkey retries them later, which the check does
	// not wait for, so they are reported, not failed.
	WebhooksMissing int                `json:"webhooks_missing"`
	TimedOut        bool               `json:"timed_out"`
	CPU             map[string]ProcCPU `json:"cpu,omitempty"` // from the due instant to the end, per charge
	Samples         []SpikeSample      `json:"samples"`
	// The check: paid payments of the spike's merchant_uids (exactly one
	// each), the orders without one, and those paid more than once.
	Paid    int `json:"paid"`
	Missed  int `json:"missed"`
	Twice   int `json:"paid_twice"`
	Failed  int `json:"failed"` // payments of the spike not paid (declined or error)
	Pending int `json:"still_scheduled"`
}

// spikeSampleEvery is how often the spike phase samples. Each sample costs
// billkey a count of the due schedules per node (its /metrics) and a count
// of the schedules left (the listing's total): over 100,000 rows that is
// work the nodes would not otherwise do, so it is not sampled faster.
const spikeSampleEvery = time.Second

// OK reports whether every schedule was charged exactly once.
func (s *SpikeReport) OK() bool {
	return !s.TimedOut && s.Paid == s.Schedules && s.Missed == 0 && s.Twice == 0 && s.Pending == 0
}

func (s *SpikeReport) String() string {
	verdict := "OK"
	if !s.OK() {
		verdict = "MISMATCH"
	}
	claims := make([]string, len(s.ClaimedPerNode))
	for i, c := range s.ClaimedPerNode {
		claims[i] = fmt.Sprintf("%.0f", c)
	}
	return fmt.Sprintf("%d schedules (%d customers) inserted in %.1fs (overrun %.1fs); all charged %.1fs after due: %.1f charges/s (peak %.0f/s); last webhook in after %.1fs (%d received, %d missing, %d repeats, outbox backlog max %.0f); lag max %.1fs; claims per node [%s], claim errors %.0f; %s; check %s: %d paid, %d missed, %d paid twice, %d failed, %d still scheduled",
		s.Schedules, s.Customers, s.InsertSecs, s.InsertOverrun, s.AllChargedSecs, s.ChargesPerSec, s.PeakPerSec, s.WebhooksSecs,
		s.Webhooks, s.WebhooksMissing, s.WebhookRepeats, s.MaxBacklog, s.MaxLag, strings.Join(claims, " "), s.ClaimErrors, cpuLine(s.CPU),
		verdict, s.Paid, s.Missed, s.Twice, s.Failed, s.Pending)
}

// webhookSink counts the notifications it receives, by merchant_uid.
type webhookSink struct {
	mu   sync.Mutex
	seen map[string]int
	last time.Time
	srv  *http.Server
	url  string
}

func newWebhookSink() (*webhookSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &webhookSink{seen: map[string]int{}, url: "http://" + ln.Addr().String() + "/webhook"}
	s.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			MerchantUID string `json:"merchant_uid"`
			Status      string `json:"status"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err == nil && body.MerchantUID != "" {
			s.mu.Lock()
			s.seen[body.MerchantUID]++
			s.last = time.Now()
			s.mu.Unlock()
		}
		w.WriteHeader(http.StatusOK)
	})}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *webhookSink) counts() (distinct, repeats int, last time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.seen {
		distinct++
		repeats += n - 1
	}
	return distinct, repeats, s.last
}

func (s *webhookSink) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}

func runSpike(ctx context.Context, r *runner) (*SpikeReport, error) {
	cfg, c := r.cfg, r.client
	n := cfg.SpikeSchedules
	customers := (n + spikePerCustomer - 1) / spikePerCustomer
	rep := &SpikeReport{Schedules: n, Customers: customers}
	sink, err := newWebhookSink()
	if err != nil {
		return nil, err
	}
	defer sink.close()
	insertStart := time.Now()
	due := insertStart.Add(cfg.SpikeLead).Truncate(time.Second).Add(time.Second)
	fmt.Fprintf(r.out, "\n== spike: %d schedules due at %s (%s from now), %d customers\n", n, due.UTC().Format(time.RFC3339),
		time.Until(due).Round(time.Second), customers)
	prefix := c.runID + "-s"

	// Insert through the public API, 4 calls at a time.
	errs := make(chan error, customers)
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := range customers {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var items []map[string]any
			for j := i * spikePerCustomer; j < min((i+1)*spikePerCustomer, n); j++ {
				items = append(items, map[string]any{"merchant_uid": fmt.Sprintf("%s%d", prefix, j), "schedule_at": due.Unix(),
					"amount": cfg.Amount, "name": "월간 구독 갱신", "notice_url": sink.url, "buyer_name": "홍길동", "buyer_tel": "010-0000-0000"})
			}
			var env envelope
			err := c.doJSON(ctx, "POST", "/subscribe/payments/schedule", map[string]any{
				"customer_uid": fmt.Sprintf("%s-sc%d", c.runID, i), "card_number": "4242-4242-4242-4242", "expiry": "2030-12",
				"birth": "880101", "pwd_2digit": "12", "schedules": items}, &env)
			if err == nil && env.Code != 0 {
				err = fmt.Errorf("schedule: %s", msg(env))
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	inserted := time.Now()
	rep.InsertSecs = inserted.Sub(insertStart).Seconds()
	if inserted.After(due) {
		rep.InsertOverrun = inserted.Sub(due).Seconds()
	}
	fmt.Fprintf(r.out, "  inserted in %.1fs\n", rep.InsertSecs)
	select {
	case <-time.After(time.Until(due)):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	before := r.cpu.sample(ctx)

	// Claims so far (none of the spike's: they are not due yet).
	claimed0 := make([]float64, len(cfg.MetricsURLs))
	claimErr0 := make([]float64, len(cfg.MetricsURLs))
	for i, u := range cfg.MetricsURLs {
		if m, err := scrapeMetrics(ctx, u); err == nil {
			claimed0[i] = m[`billkey_jobs_claimed_total{queue="schedules"}`]
			claimErr0[i] = m[`billkey_jobs_claim_errors_total{queue="schedules"}`]
		}
	}
	remainingPath := fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d&schedule_status=scheduled&limit=1",
		due.Unix(), due.Unix()+1)
	deadline := due.Add(cfg.SpikeTimeout)
	var allCharged time.Time
	lastPrint := time.Time{}
	for tick := time.NewTicker(spikeSampleEvery); ; {
		now := time.Now()
		s := SpikeSample{At: now.Sub(due).Seconds(), Remaining: -1}
		var env envelope
		if err := c.do(ctx, "GET", remainingPath, nil, &env); err == nil && env.Code == 0 {
			var page struct {
				Total int `json:"total"`
			}
			if json.Unmarshal(env.Response, &page) == nil {
				s.Remaining = page.Total
			}
		}
		for i, u := range cfg.MetricsURLs {
			m, err := scrapeMetrics(ctx, u)
			if err != nil {
				continue
			}
			// Due, lag and backlog are read from the shared database by
			// every node: the largest reading is the freshest.
			s.Due = max(s.Due, m["billkey_schedules_due"])
			s.Lag = max(s.Lag, m["billkey_schedule_lag_seconds"])
			s.Backlog = max(s.Backlog, m["billkey_webhook_backlog"])
			s.Claimed = append(s.Claimed, m[`billkey_jobs_claimed_total{queue="schedules"}`]-claimed0[i])
			s.ClaimErr += m[`billkey_jobs_claim_errors_total{queue="schedules"}`] - claimErr0[i]
		}
		s.Webhooks, _, _ = sink.counts()
		rep.Samples = append(rep.Samples, s)
		if now.Sub(lastPrint) >= 5*time.Second || (s.Remaining == 0 && allCharged.IsZero()) {
			fmt.Fprintf(r.out, "  t=%6.1fs remaining %6d  due %6.0f  lag %5.1fs  webhook backlog %6.0f  webhooks in %6d  claims %v\n",
				s.At, s.Remaining, s.Due, s.Lag, s.Backlog, s.Webhooks, s.Claimed)
			lastPrint = now
		}
		if s.Remaining == 0 && allCharged.IsZero() {
			allCharged = now
		}
		if !allCharged.IsZero() && s.Webhooks >= n {
			break
		}
		if !allCharged.IsZero() && now.After(allCharged.Add(cfg.SpikeWebhookWait)) {
			break // the webhooks missing are reported
		}
		if now.After(deadline) {
			rep.TimedOut = allCharged.IsZero()
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	ops := uint64(n)
	rep.CPU = usage(before, r.cpu.sample(ctx), ops)
	if !allCharged.IsZero() {
		rep.AllChargedSecs = allCharged.Sub(due).Seconds()
		if rep.AllChargedSecs > 0 {
			rep.ChargesPerSec = float64(n) / rep.AllChargedSecs
		}
	}
	var last time.Time
	rep.Webhooks, rep.WebhookRepeats, last = sink.counts()
	rep.WebhooksMissing = n - rep.Webhooks
	if !last.IsZero() {
		rep.WebhooksSecs = last.Sub(due).Seconds()
	}
	for i, s := range rep.Samples {
		rep.MaxBacklog = max(rep.MaxBacklog, s.Backlog)
		rep.MaxLag = max(rep.MaxLag, s.Lag)
		rep.ClaimErrors = s.ClaimErr
		rep.ClaimedPerNode = s.Claimed
		// The best one-second window of executions.
		for j := i + 1; j < len(rep.Samples); j++ {
			if rep.Samples[j].At-s.At >= 1 {
				if s.Remaining >= 0 && rep.Samples[j].Remaining >= 0 {
					rate := float64(s.Remaining-rep.Samples[j].Remaining) / (rep.Samples[j].At - s.At)
					rep.PeakPerSec = max(rep.PeakPerSec, rate)
				}
				break
			}
		}
	}

	// The check: one paid payment per spike merchant_uid, none missed.
	payments, err := c.payments(ctx)
	if err != nil {
		return rep, fmt.Errorf("list payments: %w", err)
	}
	paid := map[string]int{}
	for _, p := range payments {
		if !strings.HasPrefix(p.MerchantUID, prefix) {
			continue
		}
		if p.Status == "paid" {
			paid[p.MerchantUID]++
		} else {
			rep.Failed++
		}
	}
	for j := range n {
		switch paid[fmt.Sprintf("%s%d", prefix, j)] {
		case 0:
			rep.Missed++
		case 1:
			rep.Paid++
		default:
			rep.Paid++
			rep.Twice++
		}
	}
	if last := rep.Samples[len(rep.Samples)-1]; last.Remaining > 0 {
		rep.Pending = last.Remaining
	} else if last.Remaining < 0 {
		return rep, errors.New("could not read the schedules left")
	}
	fmt.Fprintf(r.out, "  %s\n", rep)
	return rep, nil
}
