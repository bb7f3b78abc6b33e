// Package loadtest measures one billkey node against the machine's ceiling,
// in one run and with one load generator:
//
//   - billkey: POST /subscribe/payments/again with fresh merchant_uids;
//   - pg: the simulator's INIAPI billing endpoint driven directly with
//     exactly billkey's wire request (the PG alone);
//   - baseline: a bare server that does what one charge must do at minimum
//     (a durable insert, one PG round trip, a durable update) on the same
//     kind of database with the same durability settings, without billkey's
//     code.
//
// Load is open-model (vegeta's constant arrival rate), so a slow server
// cannot hide its latency by slowing the generator down (no coordinated
// omission). In step mode each target is driven at increasing rates until
// the p99 bound is broken, an error occurs, or it falls behind the rate; the
// highest rate it held is its capacity. billkey's throughput is reported as a
// ratio of the other two, and its added latency (billkey minus the PG alone)
// at half its capacity. Afterwards every payment billkey reported is checked
// against the simulator's ledger: each approval recorded once, none lost.
package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Config configures a run.
type Config struct {
	URL       string // billkey's base URL
	ImpKey    string // REST API key of the merchant to charge with
	ImpSecret string
	SimURL    string // the simulator billkey's test channel uses (default URL+"/inicis-sim")
	// SimLedgerURL is where the simulator's /_sim/ledger is served (default
	// SimURL); billkey serve's built-in simulator serves it on the admin
	// listener only: http://ADMIN_ADDR/inicis-sim.
	SimLedgerURL string
	MetricsURL   string // billkey's /metrics (default URL+"/metrics"), for memory figures
	BaselineDB   string // database of the bare baseline: an SQLite file or a postgres:// URL
	Phases       []string
	Customers    int           // billing keys to spread the charges over
	Rate         int           // fixed-rate mode: requests per second
	Step         Step          // step mode when Step.To > 0
	Duration     time.Duration // per rate
	P99Bound     time.Duration // step mode: highest rate whose p99 stays under this
	Soak         time.Duration // when > 0: a memory soak of billkey at half its capacity
	Amount       int64
	Out          io.Writer
}

// Step is a rate ramp: From, From+By, ... up to To requests per second.
type Step struct{ From, By, To int }

// Phase names.
const (
	PhaseBillkey  = "billkey"
	PhasePG       = "pg"
	PhaseBaseline = "baseline"
)

// Result is one target driven at one rate.
type Result struct {
	Phase      string
	Rate       int
	Requests   uint64
	Throughput float64 // successful requests per second
	Success    float64 // ratio
	P50, P90   time.Duration
	P99, Max   time.Duration
	Errors     map[string]int
}

// Held reports whether the target kept up with the rate within the bound.
func (r Result) Held(bound time.Duration) bool {
	return len(r.Errors) == 0 && r.P99 <= bound && r.Throughput >= 0.95*float64(r.Rate)
}

// target produces requests and judges replies for one phase.
type target struct {
	name  string
	next  func(t *vegeta.Target) error
	judge func(res *vegeta.Result) (ok bool, kind string)
	close func()
}

// attack drives one target at one rate for d.
func attack(ctx context.Context, tg *target, rate int, d time.Duration) Result {
	atk := vegeta.NewAttacker(vegeta.Timeout(60*time.Second), vegeta.KeepAlive(true),
		vegeta.Workers(32), vegeta.MaxWorkers(4096), vegeta.Connections(4096), vegeta.MaxBody(1<<20))
	var m vegeta.Metrics
	errs := map[string]int{}
	var okCount uint64
	results := atk.Attack(tg.next, vegeta.Rate{Freq: rate, Per: time.Second}, d, tg.name)
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	for res := range results {
		m.Add(res)
		if ok, kind := tg.judge(res); ok {
			okCount++
		} else {
			errs[kind]++
		}
	}
	m.Close()
	r := Result{Phase: tg.name, Rate: rate, Requests: m.Requests, Errors: errs,
		P50: m.Latencies.P50, P90: m.Latencies.P90, P99: m.Latencies.P99, Max: m.Latencies.Max}
	if m.Requests > 0 {
		r.Success = float64(okCount) / float64(m.Requests)
	}
	if span := m.Duration + m.Wait; span > 0 {
		r.Throughput = float64(okCount) / span.Seconds()
	}
	return r
}

// Report is everything a run measured.
type Report struct {
	Results      []Result
	Capacity     map[string]int // highest rate held, per phase (step mode)
	HalfRate     int
	Half         map[string]Result
	Check        *LedgerCheck
	MemoryBefore float64 // billkey RSS in bytes before and after the soak
	MemoryAfter  float64
	Durability   map[string]string
}

// Run executes the configured phases and prints the report as it goes.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	out := cfg.Out
	rep := &Report{Capacity: map[string]int{}, Half: map[string]Result{}, Durability: map[string]string{}}
	runID := fmt.Sprintf("lt%d", time.Now().UnixMilli())
	fmt.Fprintf(out, "billkey load test %s against %s (simulator %s)\n", runID, cfg.URL, cfg.SimURL)

	targets := map[string]*target{}
	var bk *billkeyTarget
	for _, ph := range cfg.Phases {
		var err error
		switch ph {
		case PhaseBillkey:
			bk, err = newBillkeyTarget(ctx, cfg, runID)
			if err == nil {
				targets[ph] = bk.target
				rep.Durability[ph] = bk.durability
			}
		case PhasePG:
			var t *target
			t, err = newPGTarget(ctx, cfg, runID)
			targets[ph] = t
		case PhaseBaseline:
			var b *baseline
			b, err = newBaseline(ctx, cfg, runID)
			if err == nil {
				targets[ph] = b.target
				rep.Durability[ph] = b.durability
			}
		default:
			err = fmt.Errorf("unknown phase %q (billkey, pg, baseline)", ph)
		}
		if err != nil {
			return nil, fmt.Errorf("loadtest: prepare %s: %w", ph, err)
		}
	}
	defer func() {
		for _, t := range targets {
			if t.close != nil {
				t.close()
			}
		}
	}()
	for ph, d := range rep.Durability {
		fmt.Fprintf(out, "  %-8s durability: %s\n", ph, d)
	}

	header(out)
	for _, ph := range cfg.Phases {
		tg := targets[ph]
		if cfg.Step.To == 0 {
			r := attack(ctx, tg, cfg.Rate, cfg.Duration)
			rep.Results = append(rep.Results, r)
			row(out, r, cfg.P99Bound)
			continue
		}
		for rate := cfg.Step.From; rate <= cfg.Step.To && ctx.Err() == nil; rate += cfg.Step.By {
			r := attack(ctx, tg, rate, cfg.Duration)
			rep.Results = append(rep.Results, r)
			row(out, r, cfg.P99Bound)
			if !r.Held(cfg.P99Bound) {
				break
			}
			rep.Capacity[ph] = rate
			time.Sleep(time.Second) // let queues drain between steps
		}
	}

	if cfg.Step.To > 0 && rep.Capacity[PhaseBillkey] > 0 {
		rep.HalfRate = max(rep.Capacity[PhaseBillkey]/2, 1)
		fmt.Fprintf(out, "\nat half of billkey's capacity (%d/s):\n", rep.HalfRate)
		header(out)
		for _, ph := range []string{PhaseBillkey, PhasePG} {
			if tg, ok := targets[ph]; ok {
				r := attack(ctx, tg, rep.HalfRate, cfg.Duration)
				rep.Half[ph] = r
				row(out, r, cfg.P99Bound)
			}
		}
	}

	if bk != nil && cfg.Soak > 0 {
		rate := rep.HalfRate
		if rate == 0 {
			rate = max(cfg.Rate/2, 1)
		}
		rep.MemoryBefore, _ = scrapeRSS(ctx, cfg.MetricsURL)
		fmt.Fprintf(out, "\nmemory soak: billkey at %d/s for %s (RSS before %.1f MiB)\n", rate, cfg.Soak, rep.MemoryBefore/(1<<20))
		r := attack(ctx, bk.target, rate, cfg.Soak)
		rep.Results = append(rep.Results, r)
		header(out)
		row(out, r, cfg.P99Bound)
		rep.MemoryAfter, _ = scrapeRSS(ctx, cfg.MetricsURL)
		fmt.Fprintf(out, "RSS after %.1f MiB (%+.1f%%)\n", rep.MemoryAfter/(1<<20), 100*(rep.MemoryAfter/rep.MemoryBefore-1))
	}

	if bk != nil {
		check, err := bk.verify(ctx)
		if err != nil {
			return rep, fmt.Errorf("loadtest: ledger check: %w", err)
		}
		rep.Check = check
	}
	summary(out, rep, cfg)
	return rep, nil
}

func (c *Config) defaults() error {
	if c.URL == "" {
		return errors.New("loadtest: the billkey URL is required")
	}
	c.URL = strings.TrimRight(c.URL, "/")
	if c.SimURL == "" {
		c.SimURL = c.URL + "/inicis-sim"
	}
	c.SimURL = strings.TrimRight(c.SimURL, "/")
	if c.SimLedgerURL == "" {
		c.SimLedgerURL = c.SimURL
	}
	c.SimLedgerURL = strings.TrimRight(c.SimLedgerURL, "/")
	if c.MetricsURL == "" {
		c.MetricsURL = c.URL + "/metrics"
	}
	if len(c.Phases) == 0 {
		c.Phases = []string{PhaseBillkey, PhasePG, PhaseBaseline}
	}
	if c.Customers <= 0 {
		c.Customers = 20
	}
	if c.Duration <= 0 {
		c.Duration = 5 * time.Second
	}
	if c.P99Bound <= 0 {
		c.P99Bound = 50 * time.Millisecond
	}
	if c.Amount <= 0 {
		c.Amount = 1000
	}
	if c.Rate <= 0 && c.Step.To <= 0 {
		c.Rate = 100
	}
	if c.Step.To > 0 && (c.Step.From <= 0 || c.Step.By <= 0) {
		return errors.New("loadtest: a step needs FROM:BY:TO with positive numbers")
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	return nil
}

func header(w io.Writer) {
	fmt.Fprintf(w, "\n%-9s %7s %9s %8s %9s %9s %9s %9s  %s\n", "target", "rate/s", "done/s", "ok", "p50", "p90", "p99", "max", "errors")
}

func row(w io.Writer, r Result, bound time.Duration) {
	mark := ""
	if !r.Held(bound) {
		mark = "  (not held)"
	}
	fmt.Fprintf(w, "%-9s %7d %9.1f %7.2f%% %9s %9s %9s %9s  %s%s\n", r.Phase, r.Rate, r.Throughput, 100*r.Success,
		round(r.P50), round(r.P90), round(r.P99), round(r.Max), errorList(r.Errors), mark)
}

func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

func errorList(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, m[k])
	}
	return strings.Join(parts, "; ")
}

func summary(w io.Writer, rep *Report, cfg Config) {
	fmt.Fprintf(w, "\nsummary\n")
	if cfg.Step.To > 0 {
		for _, ph := range cfg.Phases {
			fmt.Fprintf(w, "  capacity %-8s %6d/s (highest rate held with p99 ≤ %s, no error)\n", ph, rep.Capacity[ph], cfg.P99Bound)
		}
		b := float64(rep.Capacity[PhaseBillkey])
		if pg := rep.Capacity[PhasePG]; pg > 0 && b > 0 {
			fmt.Fprintf(w, "  billkey / PG alone:      %.2f\n", b/float64(pg))
		}
		if base := rep.Capacity[PhaseBaseline]; base > 0 && b > 0 {
			fmt.Fprintf(w, "  billkey / bare baseline: %.2f\n", b/float64(base))
		}
		if bk, ok := rep.Half[PhaseBillkey]; ok {
			if pg, ok := rep.Half[PhasePG]; ok {
				fmt.Fprintf(w, "  added latency at %d/s:   p50 %s, p99 %s (billkey minus PG alone)\n", rep.HalfRate,
					round(bk.P50-pg.P50), round(bk.P99-pg.P99))
			}
		}
	}
	if rep.Check != nil {
		c := rep.Check
		verdict := "OK"
		if !c.OK() {
			verdict = "MISMATCH"
		}
		fmt.Fprintf(w, "  ledger check: %s — %d charges answered paid, %d payments paid, %d ledger approvals for them, %d duplicated, %d lost, %d unrecorded, %d still ready\n",
			verdict, c.RepliedPaid, c.Paid, c.Approvals, c.Duplicated, c.Lost, c.Unrecorded, c.Ready)
	}
}

// scrapeRSS reads process_resident_memory_bytes from a Prometheus endpoint.
func scrapeRSS(ctx context.Context, url string) (float64, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "process_resident_memory_bytes ") {
			var v float64
			_, err := fmt.Sscan(strings.TrimPrefix(line, "process_resident_memory_bytes "), &v)
			return v, err
		}
	}
	return 0, errors.New("no process_resident_memory_bytes")
}

// envelope is i'mport's reply shape.
type envelope struct {
	Code     int             `json:"code"`
	Message  *string         `json:"message"`
	Response json.RawMessage `json:"response"`
}

// counter hands out sequence numbers to targeters (called concurrently).
type counter struct{ n atomic.Uint64 }

func (c *counter) next() uint64 { return c.n.Add(1) }

// syncSet is a concurrent set of strings.
type syncSet struct {
	mu sync.Mutex
	m  map[string]struct{}
}

func (s *syncSet) add(v string) {
	s.mu.Lock()
	if s.m == nil {
		s.m = map[string]struct{}{}
	}
	s.m[v] = struct{}{}
	s.mu.Unlock()
}

func (s *syncSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
