package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey/loadtest"
)

// runLoadtest implements "billkey loadtest" (see package loadtest).
func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("billkey loadtest", flag.ContinueOnError)
	var c loadtest.Config
	var urls, metrics, phases, step, jsonOut string
	var billkeyPIDs, simPIDs, dbPIDs pidList
	bindSetting(fs, "url", &urls)
	bindSetting(fs, "imp-key", &c.ImpKey)
	bindSetting(fs, "imp-secret", &c.ImpSecret)
	bindSetting(fs, "imp-code", &c.ImpCode)
	fs.StringVar(&c.SimURL, "sim-url", "", "the INICIS simulator billkey's test channel uses (default URL/inicis-sim)")
	fs.StringVar(&c.SimLedgerURL, "sim-ledger-url", "", "where the simulator's /_sim/ledger is (default: --sim-url; billkey serve's built-in one: http://ADMIN_ADDR/inicis-sim)")
	fs.StringVar(&metrics, "metrics-url", "", "billkey's Prometheus endpoint, one per node, comma separated (default URL/metrics)")
	fs.StringVar(&c.BaselineDB, "baseline-db", "", "database of the bare baselines: an SQLite file (default: a temporary one) or a postgres:// URL; use the same kind as billkey's")
	fs.IntVar(&c.BestWriters, "best-writers", 2, "PostgreSQL best-design baseline: writer connections batching the second write")
	fs.StringVar(&phases, "phases", "billkey,pg,baseline,best", "phases, in order: billkey, pg, baseline (naive bare baseline), best (group-commit bare baseline), window, spike")
	fs.IntVar(&c.Customers, "customers", 20, "billing keys to spread the charges over")
	fs.IntVar(&c.Rate, "rate", 100, "fixed-rate mode: requests per second")
	fs.StringVar(&step, "step", "", "step mode FROM:BY:TO (requests per second), e.g. 50:50:1000")
	fs.IntVar(&c.Runs, "runs", 3, "step mode: ramps per target; the capacity reported is their median")
	fs.IntVar(&c.Concurrency, "concurrency", 32, "closed-loop saturation run per target with this many workers after its open-loop part (0: none)")
	fs.DurationVar(&c.Duration, "duration", 5*time.Second, "how long each rate, and the closed-loop run, is held")
	fs.DurationVar(&c.P99Bound, "p99", 50*time.Millisecond, "step mode: the p99 latency a rate must stay under")
	fs.DurationVar(&c.Soak, "soak", 0, "after the steps, drive billkey at half its capacity this long and report its RSS (e.g. 5m)")
	fs.Int64Var(&c.Amount, "amount", 1000, "amount of each charge (KRW)")
	fs.Var(&billkeyPIDs, "billkey-pid", "pid of a billkey node, for CPU per charge (comma separated or repeated)")
	fs.Var(&simPIDs, "sim-pid", "pid of the INICIS simulator when it runs on its own (billkey inicis-sim)")
	fs.Var(&dbPIDs, "db-pid", "pids of database processes to account besides those --pg-stat-dsn finds")
	fs.StringVar(&c.PGStatDSN, "pg-stat-dsn", "", "postgres:// DSN of billkey's database: its server's processes (backends of that database and the baseline's, background workers, postmaster) are read from pg_stat_activity at each phase, for CPU per charge")
	fs.IntVar(&c.Windows, "windows", 200, "window phase: windows to complete")
	fs.IntVar(&c.WindowConcurrency, "window-concurrency", 16, "window phase: concurrent clients")
	fs.IntVar(&c.SpikeSchedules, "spike", 100000, "spike phase: schedules due at the same instant")
	fs.DurationVar(&c.SpikeLead, "spike-lead", 0, "spike phase: the due instant, after the inserts start (default 5s + 1ms per schedule)")
	fs.DurationVar(&c.SpikeTimeout, "spike-timeout", 30*time.Minute, "spike phase: give up waiting for the charges and webhooks after this")
	fs.DurationVar(&c.SpikeWebhookWait, "spike-webhook-wait", 2*time.Minute, "spike phase: how long after the last charge to wait for webhooks still missing (they are reported)")
	fs.StringVar(&jsonOut, "json", "", "also write the report as JSON to this file (- for stdout, after the table)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if c.ImpKey == "" || c.ImpSecret == "" {
		fmt.Fprintln(stderr, "billkey loadtest: --imp-key and --imp-secret are required (a merchant of the running billkey)")
		return errUsage
	}
	c.URLs = strings.Split(urls, ",")
	if metrics != "" {
		c.MetricsURLs = strings.Split(metrics, ",")
	}
	c.BillkeyPIDs, c.SimPIDs, c.DBPIDs = billkeyPIDs, simPIDs, dbPIDs
	c.Phases = strings.Split(phases, ",")
	if step != "" {
		if _, err := fmt.Sscanf(step, "%d:%d:%d", &c.Step.From, &c.Step.By, &c.Step.To); err != nil {
			return fmt.Errorf("--step %q: want FROM:BY:TO", step)
		}
	}
	c.Out = stdout
	rep, err := loadtest.Run(ctx, c)
	if rep != nil && jsonOut != "" {
		if werr := writeJSONReport(jsonOut, rep, stdout); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("billkey and the simulator's ledger disagree (see the checks above)")
	}
	return nil
}

func writeJSONReport(path string, rep *loadtest.Report, stdout io.Writer) error {
	raw, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("loadtest: JSON report: %w", err)
	}
	raw = append(raw, '\n')
	if path == "-" {
		_, err = stdout.Write(raw)
		return err
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return fmt.Errorf("loadtest: JSON report: %w", err)
	}
	return nil
}

// pidList is a flag of process ids, comma separated or repeated.
type pidList []int

func (p *pidList) String() string {
	s := make([]string, len(*p))
	for i, v := range *p {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

func (p *pidList) Set(v string) error {
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return fmt.Errorf("not a pid: %q", f)
		}
		*p = append(*p, n)
	}
	return nil
}
