package loadtest

import (
	"errors"
	"io"
	"strings"
	"time"
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

// settle is the pause between two measurements, for queues to drain: a
// second, or the measurement's duration when shorter.
func (c *Config) settle() time.Duration { return min(time.Second, c.Duration) }

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
