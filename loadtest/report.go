package loadtest

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
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
	Closed     map[string]Result    `json:"closed,omitempty"`   // closed-loop saturation per target: the median run
	// ClosedRuns is every closed-loop run's rate per target, in ascending order.
	ClosedRuns map[string][]float64 `json:"closed_runs,omitempty"`
	// Ratios of billkey to each other target: "capacity billkey/best" (the
	// median capacities) and "closed billkey/best" (the saturation rates).
	Ratios   map[string]float64 `json:"ratios,omitempty"`
	HalfRate int                `json:"half_rate,omitempty"`
	// HalfOfSaturation: HalfRate is half the closed-loop saturation rate,
	// as no rate was held under the p99 bound.
	HalfOfSaturation bool              `json:"half_of_saturation,omitempty"`
	Half             map[string]Result `json:"half,omitempty"`
	AddedP50         time.Duration     `json:"added_p50_ns,omitempty"`
	AddedP99         time.Duration     `json:"added_p99_ns,omitempty"`
	MemoryBefore     float64           `json:"rss_before_bytes,omitempty"` // billkey RSS in bytes before and after the soak
	MemoryAfter      float64           `json:"rss_after_bytes,omitempty"`
	// MemorySamples is billkey's RSS read every rssSampleEvery during the soak.
	MemorySamples []float64 `json:"rss_samples_bytes,omitempty"`
	// MemoryFirstMinute and MemoryLastMinute: medians of the soak's first
	// and last minute of samples (see soakTrend).
	MemoryFirstMinute float64       `json:"rss_first_minute_bytes,omitempty"`
	MemoryLastMinute  float64       `json:"rss_last_minute_bytes,omitempty"`
	Window            *WindowReport `json:"window,omitempty"`
	Spike             *SpikeReport  `json:"spike,omitempty"`
	Checks            []PhaseCheck  `json:"ledger_checks"`
	Check             *LedgerCheck  `json:"ledger_check,omitempty"` // the last one
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

// median of v (the lower middle for an even count; zero for none).
func median[T cmp.Ordered](v []T) T {
	if len(v) == 0 {
		var zero T
		return zero
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
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

// rates formats closed-loop rates as [a b c].
func rates(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.0f", x)
	}
	return "[" + strings.Join(parts, " ") + "]"
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
			fmt.Fprintf(w, "  saturation %-8s %8.1f/s with %d workers (median of %s), p50 %s, p99 %s; %s\n", ph, c.Throughput, c.Concurrency,
				rates(rep.ClosedRuns[ph]), round(c.P50), round(c.P99), cpuLine(c.CPU))
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
		if pg, ok := rep.Half[PhasePG]; ok {
			fmt.Fprintf(w, "  added latency at %d/s:   p50 %s, p99 %s (billkey minus PG alone)\n", rep.HalfRate,
				round(rep.AddedP50), round(rep.AddedP99))
			if best, ok := rep.Half[PhaseBest]; ok {
				// What two durable commits alone add: the floor of
				// billkey's added latency on this machine.
				fmt.Fprintf(w, "  best-design floor at %d/s:  p50 %s, p99 %s (best-design baseline minus PG alone)\n", rep.HalfRate,
					round(best.P50-pg.P50), round(best.P99-pg.P99))
			}
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
