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
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

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
		Half: map[string]Result{}, Durability: map[string]string{}, ClosedRuns: map[string][]float64{}}
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

	halfDone := false
	for _, ph := range cfg.Phases {
		if ctx.Err() != nil {
			break
		}
		if (ph == PhaseWindow || ph == PhaseSpike) && !halfDone {
			// Saturation and the latency at half capacity are measured
			// before the window and spike phases grow the database.
			r.saturation(ctx)
			r.half(ctx, rep)
			halfDone = true
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

	if !halfDone {
		r.saturation(ctx)
		r.half(ctx, rep)
	}

	if bk != nil && cfg.Soak > 0 {
		rate := rep.HalfRate
		if rate == 0 {
			rate = max(cfg.Rate/2, 1)
		}
		rep.MemoryBefore, _ = scrapeMetric(ctx, cfg.MetricsURLs[0], "process_resident_memory_bytes")
		fmt.Fprintf(out, "\nmemory soak: billkey at %d/s for %s (RSS before %.1f MiB)\n", rate, cfg.Soak, rep.MemoryBefore/(1<<20))
		stop := r.sampleRSS(ctx, rep)
		res := r.attack(ctx, bk.target, rate, cfg.Soak)
		stop()
		rep.Results = append(rep.Results, res)
		header(out)
		row(out, res)
		rep.MemoryAfter, _ = scrapeMetric(ctx, cfg.MetricsURLs[0], "process_resident_memory_bytes")
		lo, hi := rep.MemoryBefore, rep.MemoryBefore
		for _, m := range rep.MemorySamples {
			lo, hi = min(lo, m), max(hi, m)
		}
		fmt.Fprintf(out, "RSS after %.1f MiB (%+.1f%%); sampled every %s: %.1f–%.1f MiB\n", rep.MemoryAfter/(1<<20),
			100*(rep.MemoryAfter/rep.MemoryBefore-1), rssSampleEvery, lo/(1<<20), hi/(1<<20))
		if first, last, ok := soakTrend(rep.MemorySamples); ok {
			rep.MemoryFirstMinute, rep.MemoryLastMinute = first, last
			fmt.Fprintf(out, "RSS trend over the soak: first minute's median %.1f MiB, last minute's %.1f MiB (%+.1f%%)\n",
				first/(1<<20), last/(1<<20), 100*(last/first-1))
		}
		r.check(ctx, "soak")
	}

	r.ratios()
	summary(out, rep, cfg)
	return rep, nil
}

// half runs billkey, the PG alone and the best-design baseline (the floor
// of two durable commits) at half of billkey's median capacity, for the
// added latency. When no rate was held under the p99 bound it takes half
// of billkey's closed-loop saturation rate instead, and says so. It does
// nothing outside step mode.
func (r *runner) half(ctx context.Context, rep *Report) {
	cap := rep.Capacity[PhaseBillkey]
	if r.cfg.Step.To == 0 || cap == nil || ctx.Err() != nil {
		return
	}
	what := "billkey's capacity"
	rep.HalfRate = cap.Median / 2
	if c, ok := rep.Closed[PhaseBillkey]; ok && rep.HalfRate == 0 {
		rep.HalfRate, rep.HalfOfSaturation = int(c.Throughput/2), true
		what = "billkey's saturation rate (no rate held under the p99 bound)"
	}
	if rep.HalfRate <= 0 {
		return
	}
	fmt.Fprintf(r.out, "\nat half of %s (%d/s):\n", what, rep.HalfRate)
	header(r.out)
	for _, ph := range []string{PhaseBillkey, PhasePG, PhaseBest} {
		if tg, ok := r.targets[ph]; ok {
			res := r.attack(ctx, tg, rep.HalfRate, r.cfg.Duration)
			rep.Half[ph] = res
			row(r.out, res)
		}
	}
	if bkr, ok := rep.Half[PhaseBillkey]; ok {
		if pgr, ok := rep.Half[PhasePG]; ok {
			rep.AddedP50, rep.AddedP99 = bkr.P50-pgr.P50, bkr.P99-pgr.P99
		}
	}
	r.check(ctx, "half")
}

// rssSampleEvery is how often the soak reads billkey's resident memory.
const rssSampleEvery = 15 * time.Second

// soakTrend is the median of the soak's first minute of RSS samples and of
// its last minute: a leak shows as growth from one to the other, whatever
// the warm-up before the soak left behind (the "before" reading includes
// it). ok is false with fewer than two minutes of samples.
func soakTrend(samples []float64) (first, last float64, ok bool) {
	n := int(time.Minute / rssSampleEvery)
	if len(samples) < 2*n {
		return 0, 0, false
	}
	return median(samples[:n]), median(samples[len(samples)-n:]), true
}

// sampleRSS records billkey's RSS every rssSampleEvery until stop is called.
func (r *runner) sampleRSS(ctx context.Context, rep *Report) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(rssSampleEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if m, err := scrapeMetric(ctx, r.cfg.MetricsURLs[0], "process_resident_memory_bytes"); err == nil {
					rep.MemorySamples = append(rep.MemorySamples, m)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
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
}

// saturation runs every rate target closed-loop, in turn, --runs times
// (billkey, pg, baseline, best, then again), and keeps each target's median
// run. Taking the targets in turn rather than each target's runs back to
// back spreads whatever drifts during a run — fsync latency on a shared
// disk, the simulator's growing ledger — over all of them, so their ratios
// stay comparable.
func (r *runner) saturation(ctx context.Context) {
	cfg, out, rep := r.cfg, r.out, r.rep
	var phases []string
	for _, ph := range cfg.Phases {
		if ph == PhaseBillkey || ph == PhasePG || ph == PhaseBaseline || ph == PhaseBest {
			phases = append(phases, ph)
		}
	}
	if cfg.Concurrency <= 0 || len(phases) == 0 {
		return
	}
	runs := max(cfg.Runs, 1)
	fmt.Fprintf(out, "\n== saturation: %d workers, each target %d time(s) in turn\n", cfg.Concurrency, runs)
	header(out)
	all := map[string][]Result{}
	for run := 1; run <= runs && ctx.Err() == nil; run++ {
		for _, ph := range phases {
			if ctx.Err() != nil {
				break
			}
			time.Sleep(cfg.settle())
			before := r.cpu.sample(ctx)
			res := closedLoop(ctx, r.targets[ph], cfg.Concurrency, cfg.Duration)
			res.CPU = usage(before, r.cpu.sample(ctx), res.OK)
			res.Run = run
			rep.Results = append(rep.Results, res)
			all[ph] = append(all[ph], res)
			row(out, res)
		}
	}
	for _, ph := range phases {
		rs := all[ph]
		if len(rs) == 0 {
			continue
		}
		slices.SortFunc(rs, func(a, b Result) int { return cmp.Compare(a.Throughput, b.Throughput) })
		rep.Closed[ph] = rs[(len(rs)-1)/2]
		for _, res := range rs {
			rep.ClosedRuns[ph] = append(rep.ClosedRuns[ph], res.Throughput)
		}
	}
	r.check(ctx, "saturation")
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
