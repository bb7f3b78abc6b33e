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
	// URLs are billkey's base URLs: one per node. Charges are spread over
	// them in turn; setup, listings and the ledger check use the first.
	URLs      []string
	ImpKey    string // REST API key of the merchant to charge with
	ImpSecret string
	ImpCode   string // the merchant's imp code (window phase)
	SimURL    string // the simulator billkey's test channel uses (default URLs[0]+"/inicis-sim")
	// SimLedgerURL is where the simulator's /_sim/ledger is served (default
	// SimURL); billkey serve's built-in simulator serves it on the admin
	// listener only: http://ADMIN_ADDR/inicis-sim.
	SimLedgerURL string
	// MetricsURLs are billkey's /metrics, one per node (default each
	// URL+"/metrics"), for memory figures and the spike's job metrics.
	MetricsURLs []string
	BaselineDB  string // database of the bare baselines: an SQLite file or a postgres:// URL
	BestWriters int    // PostgreSQL best-design baseline: batching writer connections (default 2)
	Phases      []string
	Customers   int           // billing keys to spread the charges over
	Rate        int           // fixed-rate mode: requests per second
	Step        Step          // step mode when Step.To > 0
	Runs        int           // step mode: ramps per target; the capacity is their median (default 3)
	Concurrency int           // closed-loop saturation run per target with this many workers (0: none)
	Duration    time.Duration // per rate, and of the closed-loop run
	P99Bound    time.Duration // step mode: highest rate whose p99 stays under this
	Soak        time.Duration // when > 0: a memory soak of billkey at half its capacity
	Amount      int64

	// CPU accounting (see cpu.go): pids of processes run outside this one.
	BillkeyPIDs []int
	SimPIDs     []int
	DBPIDs      []int
	// BillkeyInProcess says billkey runs in this process (a test): its CPU
	// is this process's.
	BillkeyInProcess bool
	PGStatDSN        string // a DSN of billkey's PostgreSQL database, to read its server's pids from pg_stat_activity

	Windows           int // window phase: windows to complete (default 200)
	WindowConcurrency int // window phase: concurrent clients (default 16)

	SpikeSchedules int           // spike phase: schedules due at one instant (default 100000)
	SpikeLead      time.Duration // spike phase: due instant after the inserts start (default 5s + 1ms per schedule)
	SpikeTimeout   time.Duration // spike phase: give up waiting for the charges after this (default 30m)
	// SpikeWebhookWait: how long after the last charge the spike waits for
	// webhooks still missing (default 2m).
	SpikeWebhookWait time.Duration

	Out io.Writer // the readable report, printed as the run goes
}

// Step is a rate ramp: From, From+By, ... up to To requests per second.
type Step struct {
	From int `json:"from"`
	By   int `json:"by"`
	To   int `json:"to"`
}

// Phase names.
const (
	PhaseBillkey  = "billkey"
	PhasePG       = "pg"
	PhaseBaseline = "baseline" // the naive bare baseline
	PhaseBest     = "best"     // the best-design (group-commit) bare baseline
	PhaseWindow   = "window"
	PhaseSpike    = "spike"
)

// Result modes.
const (
	ModeOpen   = "open"   // constant arrival rate
	ModeClosed = "closed" // fixed concurrency, back to back
)

// Result is one target driven at one rate (open loop) or with one
// concurrency (closed loop).
type Result struct {
	Phase       string             `json:"target"`
	Mode        string             `json:"mode"`
	Run         int                `json:"run,omitempty"` // step mode: which ramp (1-based)
	Rate        int                `json:"rate"`          // open: the rate asked; closed: the rate achieved, rounded
	Concurrency int                `json:"concurrency,omitempty"`
	Requests    uint64             `json:"requests"`
	OK          uint64             `json:"ok"`
	Throughput  float64            `json:"throughput"` // successful requests per second
	Success     float64            `json:"success"`    // ratio
	P50         time.Duration      `json:"p50_ns"`
	P90         time.Duration      `json:"p90_ns"`
	P99         time.Duration      `json:"p99_ns"`
	Max         time.Duration      `json:"max_ns"`
	Errors      map[string]int     `json:"errors,omitempty"`
	CPU         map[string]ProcCPU `json:"cpu,omitempty"`
	Held        bool               `json:"held"` // open loop: every request ok, p99 within the bound, ≥ 95 % of the rate
}

// held reports whether the target kept up with the rate within the bound.
func (r Result) held(bound time.Duration) bool {
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
	r := Result{Phase: tg.name, Mode: ModeOpen, Rate: rate, Requests: m.Requests, OK: okCount,
		P50: m.Latencies.P50, P90: m.Latencies.P90, P99: m.Latencies.P99, Max: m.Latencies.Max}
	if len(errs) > 0 {
		r.Errors = errs
	}
	if m.Requests > 0 {
		r.Success = float64(okCount) / float64(m.Requests)
	}
	if span := m.Duration + m.Wait; span > 0 {
		r.Throughput = float64(okCount) / span.Seconds()
	}
	return r
}

// Capacity is a target's highest rate held, per ramp, and their median.
type Capacity struct {
	Runs   []int `json:"runs"`
	Median int   `json:"median"`
	// AtTop: some ramp held the top step, so the capacity is a lower bound.
	AtTop bool `json:"at_top"`
}

// PhaseCheck is the ledger check run after one phase.
type PhaseCheck struct {
	After string `json:"after"`
	*LedgerCheck
	Error string `json:"error,omitempty"`
}

// Report is everything a run measured (its JSON form is the
// machine-readable report).
type Report struct {
	RunID      string               `json:"run_id"`
	Started    time.Time            `json:"started"`
	URLs       []string             `json:"urls"`
	Phases     []string             `json:"phases"`
	Durability map[string]string    `json:"durability"`
	Results    []Result             `json:"results"`
	Capacity   map[string]*Capacity `json:"capacity,omitempty"` // step mode
	Closed     map[string]Result    `json:"closed,omitempty"`   // closed-loop saturation per target
	// Ratios of billkey to each other target: "capacity billkey/best" (the
	// median capacities) and "closed billkey/best" (the saturation rates).
	Ratios       map[string]float64 `json:"ratios,omitempty"`
	HalfRate     int                `json:"half_rate,omitempty"`
	Half         map[string]Result  `json:"half,omitempty"`
	AddedP50     time.Duration      `json:"added_p50_ns,omitempty"`
	AddedP99     time.Duration      `json:"added_p99_ns,omitempty"`
	MemoryBefore float64            `json:"rss_before_bytes,omitempty"` // billkey RSS in bytes before and after the soak
	MemoryAfter  float64            `json:"rss_after_bytes,omitempty"`
	Window       *WindowReport      `json:"window,omitempty"`
	Spike        *SpikeReport       `json:"spike,omitempty"`
	Checks       []PhaseCheck       `json:"ledger_checks"`
	Check        *LedgerCheck       `json:"ledger_check,omitempty"` // the last one
}

// OK reports whether every ledger check (and the window and spike checks)
// passed.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if c.Error != "" || c.LedgerCheck == nil || !c.LedgerCheck.OK() {
			return false
		}
	}
	if r.Window != nil && !r.Window.OK() {
		return false
	}
	if r.Spike != nil && !r.Spike.OK() {
		return false
	}
	return true
}

// runner holds what a run shares between phases.
type runner struct {
	cfg     Config
	out     io.Writer
	rep     *Report
	cpu     *cpuAccount
	client  *client // billkey's API, when a phase needs it
	targets map[string]*target
}

// Run executes the configured phases and prints the report as it goes.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	out := cfg.Out
	runID := fmt.Sprintf("lt%d", time.Now().UnixMilli())
	rep := &Report{RunID: runID, Started: time.Now().UTC(), URLs: cfg.URLs, Phases: cfg.Phases,
		Capacity: map[string]*Capacity{}, Closed: map[string]Result{}, Ratios: map[string]float64{},
		Half: map[string]Result{}, Durability: map[string]string{}}
	r := &runner{cfg: cfg, out: out, rep: rep, cpu: newCPUAccount(cfg), targets: map[string]*target{}}
	defer r.cpu.close()
	fmt.Fprintf(out, "billkey load test %s against %s (simulator %s)\n", runID, strings.Join(cfg.URLs, ", "), cfg.SimURL)

	var bk *billkeyTarget
	for _, ph := range cfg.Phases {
		switch ph {
		case PhaseBillkey, PhaseWindow, PhaseSpike:
			if r.client == nil {
				c, err := newClient(ctx, cfg, runID)
				if err != nil {
					return nil, fmt.Errorf("loadtest: prepare %s: %w", ph, err)
				}
				r.client = c
				rep.Durability[PhaseBillkey] = c.durability
			}
		}
		var err error
		switch ph {
		case PhaseBillkey:
			bk, err = newBillkeyTarget(ctx, r.client)
			if err == nil {
				r.targets[ph] = bk.target
			}
		case PhasePG:
			r.targets[ph], err = newPGTarget(ctx, cfg, runID)
		case PhaseBaseline, PhaseBest:
			var st bareStore
			if ph == PhaseBaseline {
				st, err = newNaiveStore(ctx, cfg.BaselineDB)
			} else {
				st, err = newBestStore(ctx, cfg.BaselineDB, cfg.BestWriters)
			}
			if err == nil {
				rep.Durability[ph] = st.durability()
				var b *bareServer
				if b, err = newBareServer(ctx, cfg, runID, ph, st); err == nil {
					r.targets[ph] = b.target
				}
			}
		case PhaseWindow, PhaseSpike:
		default:
			err = fmt.Errorf("unknown phase %q (billkey, pg, baseline, best, window, spike)", ph)
		}
		if err != nil {
			r.closeTargets()
			return nil, fmt.Errorf("loadtest: prepare %s: %w", ph, err)
		}
	}
	defer r.closeTargets()
	for _, ph := range cfg.Phases {
		if d, ok := rep.Durability[ph]; ok {
			fmt.Fprintf(out, "  %-8s durability: %s\n", ph, d)
		}
	}

	for _, ph := range cfg.Phases {
		if ctx.Err() != nil {
			break
		}
		switch ph {
		case PhaseWindow:
			w, err := runWindows(ctx, r)
			if err != nil {
				return rep, fmt.Errorf("loadtest: window phase: %w", err)
			}
			rep.Window = w
		case PhaseSpike:
			s, err := runSpike(ctx, r)
			if err != nil {
				return rep, fmt.Errorf("loadtest: spike phase: %w", err)
			}
			rep.Spike = s
		default:
			r.measure(ctx, ph, r.targets[ph])
		}
		r.check(ctx, ph)
	}

	if cap := rep.Capacity[PhaseBillkey]; cfg.Step.To > 0 && cap != nil && cap.Median > 0 {
		rep.HalfRate = max(cap.Median/2, 1)
		fmt.Fprintf(out, "\nat half of billkey's capacity (%d/s):\n", rep.HalfRate)
		header(out)
		for _, ph := range []string{PhaseBillkey, PhasePG} {
			if tg, ok := r.targets[ph]; ok {
				res := r.attack(ctx, tg, rep.HalfRate, cfg.Duration)
				rep.Half[ph] = res
				row(out, res)
			}
		}
		if bkr, ok := rep.Half[PhaseBillkey]; ok {
			if pgr, ok := rep.Half[PhasePG]; ok {
				rep.AddedP50, rep.AddedP99 = bkr.P50-pgr.P50, bkr.P99-pgr.P99
			}
		}
		r.check(ctx, "half")
	}

	if bk != nil && cfg.Soak > 0 {
		rate := rep.HalfRate
		if rate == 0 {
			rate = max(cfg.Rate/2, 1)
		}
		rep.MemoryBefore, _ = scrapeMetric(ctx, cfg.MetricsURLs[0], "process_resident_memory_bytes")
		fmt.Fprintf(out, "\nmemory soak: billkey at %d/s for %s (RSS before %.1f MiB)\n", rate, cfg.Soak, rep.MemoryBefore/(1<<20))
		res := r.attack(ctx, bk.target, rate, cfg.Soak)
		rep.Results = append(rep.Results, res)
		header(out)
		row(out, res)
		rep.MemoryAfter, _ = scrapeMetric(ctx, cfg.MetricsURLs[0], "process_resident_memory_bytes")
		fmt.Fprintf(out, "RSS after %.1f MiB (%+.1f%%)\n", rep.MemoryAfter/(1<<20), 100*(rep.MemoryAfter/rep.MemoryBefore-1))
		r.check(ctx, "soak")
	}

	r.ratios()
	summary(out, rep, cfg)
	return rep, nil
}

func (r *runner) closeTargets() {
	if r.client != nil && r.client.stop != nil {
		r.client.close()
		r.client.stop = nil
	}
	for _, t := range r.targets {
		if t.close != nil {
			t.close()
		}
	}
	r.targets = map[string]*target{}
}

// attack is attack with CPU accounting.
func (r *runner) attack(ctx context.Context, tg *target, rate int, d time.Duration) Result {
	before := r.cpu.sample(ctx)
	res := attack(ctx, tg, rate, d)
	res.CPU = usage(before, r.cpu.sample(ctx), res.OK)
	res.Held = res.held(r.cfg.P99Bound)
	return res
}

// measure runs one target's open-loop ramps (or its fixed rate) and its
// closed-loop saturation run.
func (r *runner) measure(ctx context.Context, ph string, tg *target) {
	cfg, out, rep := r.cfg, r.out, r.rep
	fmt.Fprintf(out, "\n== %s\n", ph)
	header(out)
	if cfg.Step.To == 0 {
		res := r.attack(ctx, tg, cfg.Rate, cfg.Duration)
		rep.Results = append(rep.Results, res)
		row(out, res)
	} else {
		c := &Capacity{}
		for run := 1; run <= cfg.Runs && ctx.Err() == nil; run++ {
			held := 0
			for rate := cfg.Step.From; rate <= cfg.Step.To && ctx.Err() == nil; rate += cfg.Step.By {
				res := r.attack(ctx, tg, rate, cfg.Duration)
				res.Run = run
				rep.Results = append(rep.Results, res)
				row(out, res)
				if !res.Held {
					break
				}
				held = rate
				time.Sleep(cfg.settle()) // let queues drain between steps
			}
			c.Runs = append(c.Runs, held)
			c.AtTop = c.AtTop || held == cfg.Step.To-(cfg.Step.To-cfg.Step.From)%cfg.Step.By
			if cfg.Runs > 1 {
				fmt.Fprintf(out, "  run %d: capacity %d/s\n", run, held)
			}
		}
		c.Median = median(c.Runs)
		rep.Capacity[ph] = c
	}
	if cfg.Concurrency > 0 && ctx.Err() == nil {
		time.Sleep(cfg.settle())
		before := r.cpu.sample(ctx)
		res := closedLoop(ctx, tg, cfg.Concurrency, cfg.Duration)
		res.CPU = usage(before, r.cpu.sample(ctx), res.OK)
		rep.Results = append(rep.Results, res)
		rep.Closed[ph] = res
		row(out, res)
	}
}

// check runs the ledger check after a phase, when billkey is measured.
func (r *runner) check(ctx context.Context, after string) {
	if r.client == nil {
		return
	}
	pc := PhaseCheck{After: after}
	c, err := r.client.verify(ctx)
	if err != nil {
		pc.Error = err.Error()
		fmt.Fprintf(r.out, "  ledger check after %s: ERROR %v\n", after, err)
	} else {
		pc.LedgerCheck = c
		r.rep.Check = c
		fmt.Fprintf(r.out, "  ledger check after %s: %s\n", after, c)
	}
	r.rep.Checks = append(r.rep.Checks, pc)
}

// ratios fills billkey's ratios to the other targets.
func (r *runner) ratios() {
	rep := r.rep
	if c := rep.Capacity[PhaseBillkey]; c != nil && c.Median > 0 {
		for _, ph := range []string{PhasePG, PhaseBaseline, PhaseBest} {
			if o := rep.Capacity[ph]; o != nil && o.Median > 0 {
				rep.Ratios["capacity billkey/"+ph] = float64(c.Median) / float64(o.Median)
			}
		}
	}
	if c, ok := rep.Closed[PhaseBillkey]; ok && c.Throughput > 0 {
		for _, ph := range []string{PhasePG, PhaseBaseline, PhaseBest} {
			if o, ok := rep.Closed[ph]; ok && o.Throughput > 0 {
				rep.Ratios["closed billkey/"+ph] = c.Throughput / o.Throughput
			}
		}
	}
}

// settle is the pause between two measurements, for queues to drain: a
// second, or the measurement's duration when shorter.
func (c *Config) settle() time.Duration { return min(time.Second, c.Duration) }

// median of ints (the lower middle for an even count).
func median(v []int) int {
	if len(v) == 0 {
		return 0
	}
	s := append([]int(nil), v...)
	sort.Ints(s)
	return s[(len(s)-1)/2]
}

func (c *Config) defaults() error {
	var urls []string
	for _, u := range c.URLs {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			urls = append(urls, u)
		}
	}
	if len(urls) == 0 {
		return errors.New("loadtest: the billkey URL is required")
	}
	c.URLs = urls
	if c.SimURL == "" {
		c.SimURL = c.URLs[0] + "/inicis-sim"
	}
	c.SimURL = strings.TrimRight(c.SimURL, "/")
	if c.SimLedgerURL == "" {
		c.SimLedgerURL = c.SimURL
	}
	c.SimLedgerURL = strings.TrimRight(c.SimLedgerURL, "/")
	if len(c.MetricsURLs) == 0 {
		for _, u := range c.URLs {
			c.MetricsURLs = append(c.MetricsURLs, u+"/metrics")
		}
	}
	if len(c.Phases) == 0 {
		c.Phases = []string{PhaseBillkey, PhasePG, PhaseBaseline, PhaseBest}
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
	if c.Runs <= 0 {
		c.Runs = 3
	}
	if c.Step.To > 0 && (c.Step.From <= 0 || c.Step.By <= 0) {
		return errors.New("loadtest: a step needs FROM:BY:TO with positive numbers")
	}
	if c.Windows <= 0 {
		c.Windows = 200
	}
	if c.WindowConcurrency <= 0 {
		c.WindowConcurrency = 16
	}
	if c.SpikeSchedules <= 0 {
		c.SpikeSchedules = 100000
	}
	if c.SpikeLead <= 0 {
		c.SpikeLead = 5*time.Second + time.Duration(c.SpikeSchedules)*time.Millisecond
	}
	if c.SpikeWebhookWait <= 0 {
		c.SpikeWebhookWait = 2 * time.Minute
	}
	if c.SpikeTimeout <= 0 {
		c.SpikeTimeout = 30 * time.Minute
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	return nil
}

func header(w io.Writer) {
	fmt.Fprintf(w, "%-9s %-6s %7s %9s %8s %9s %9s %9s %9s  %s\n", "target", "mode", "rate/s", "done/s", "ok", "p50", "p90", "p99", "max", "errors")
}

func row(w io.Writer, r Result) {
	mark, mode := "", r.Mode
	if r.Mode == ModeOpen && !r.Held {
		mark = "  (not held)"
	}
	if r.Mode == ModeClosed {
		mode = fmt.Sprintf("N=%d", r.Concurrency)
	}
	fmt.Fprintf(w, "%-9s %-6s %7d %9.1f %7.2f%% %9s %9s %9s %9s  %s%s\n", r.Phase, mode, r.Rate, r.Throughput, 100*r.Success,
		round(r.P50), round(r.P90), round(r.P99), round(r.Max), errorList(r.Errors), mark)
	if line := cpuLine(r.CPU); line != "" {
		fmt.Fprintf(w, "%-17s %s\n", "", line)
	}
}

func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond || d <= -time.Millisecond:
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
	targets := []string{PhaseBillkey, PhasePG, PhaseBaseline, PhaseBest}
	for _, ph := range targets {
		if c := rep.Capacity[ph]; c != nil {
			top := ""
			if c.AtTop {
				top = "; the top step was held: a lower bound"
			}
			fmt.Fprintf(w, "  capacity %-8s %6d/s median of %v (highest rate held with p99 ≤ %s, no error%s)\n", ph, c.Median, c.Runs, cfg.P99Bound, top)
		}
	}
	for _, ph := range targets {
		if c, ok := rep.Closed[ph]; ok {
			fmt.Fprintf(w, "  saturation %-8s %8.1f/s with %d workers, p50 %s, p99 %s; %s\n", ph, c.Throughput, c.Concurrency,
				round(c.P50), round(c.P99), cpuLine(c.CPU))
		}
	}
	keys := make([]string, 0, len(rep.Ratios))
	for k := range rep.Ratios {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-32s %.2f\n", k+":", rep.Ratios[k])
	}
	if _, ok := rep.Half[PhaseBillkey]; ok {
		if _, ok := rep.Half[PhasePG]; ok {
			fmt.Fprintf(w, "  added latency at %d/s:   p50 %s, p99 %s (billkey minus PG alone)\n", rep.HalfRate,
				round(rep.AddedP50), round(rep.AddedP99))
		}
	}
	if rep.Window != nil {
		fmt.Fprintf(w, "  window: %s\n", rep.Window)
	}
	if rep.Spike != nil {
		fmt.Fprintf(w, "  spike: %s\n", rep.Spike)
	}
	for _, c := range rep.Checks {
		if c.Error != "" {
			fmt.Fprintf(w, "  ledger check after %-8s ERROR %s\n", c.After+":", c.Error)
		} else {
			fmt.Fprintf(w, "  ledger check after %-8s %s\n", c.After+":", c.LedgerCheck)
		}
	}
}

// scrapeMetric sums the samples of one metric (any labels) at a Prometheus
// endpoint.
func scrapeMetric(ctx context.Context, url, name string) (float64, error) {
	m, err := scrapeMetrics(ctx, url)
	if err != nil {
		return 0, err
	}
	v, ok := m[name]
	if !ok {
		return 0, fmt.Errorf("no %s at %s", name, url)
	}
	return v, nil
}

// scrapeMetrics reads a Prometheus text endpoint: each metric's samples
// summed over their labels, plus each labelled sample under its full name
// (name{labels}).
func scrapeMetrics(ctx context.Context, url string) (map[string]float64, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", url, res.StatusCode)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(line[sp+1:], &v); err != nil {
			continue
		}
		full := line[:sp]
		name := full
		if i := strings.IndexByte(full, '{'); i >= 0 {
			name = full[:i]
			out[full] = v
		}
		out[name] += v
	}
	return out, nil
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
