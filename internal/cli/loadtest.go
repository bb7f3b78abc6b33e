package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/billkey/billkey/loadtest"
)

// runLoadtest implements "billkey loadtest" (see package loadtest).
func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("billkey loadtest", flag.ContinueOnError)
	var c loadtest.Config
	var phases, step string
	bindSetting(fs, "url", &c.URL)
	bindSetting(fs, "imp-key", &c.ImpKey)
	bindSetting(fs, "imp-secret", &c.ImpSecret)
	fs.StringVar(&c.SimURL, "sim-url", "", "the INICIS simulator billkey's test channel uses (default URL/inicis-sim)")
	fs.StringVar(&c.SimLedgerURL, "sim-ledger-url", "", "where the simulator's /_sim/ledger is (default: --sim-url; billkey serve's built-in one: http://ADMIN_ADDR/inicis-sim)")
	fs.StringVar(&c.MetricsURL, "metrics-url", "", "billkey's Prometheus endpoint, for memory figures (default URL/metrics)")
	fs.StringVar(&c.BaselineDB, "baseline-db", "", "database of the bare baseline: an SQLite file (default: a temporary one) or a postgres:// URL; use the same kind as billkey's")
	fs.StringVar(&phases, "phases", "billkey,pg,baseline", "targets to drive, in order")
	fs.IntVar(&c.Customers, "customers", 20, "billing keys to spread the charges over")
	fs.IntVar(&c.Rate, "rate", 100, "fixed-rate mode: requests per second")
	fs.StringVar(&step, "step", "", "step mode FROM:BY:TO (requests per second), e.g. 50:50:1000")
	fs.DurationVar(&c.Duration, "duration", 5*time.Second, "how long each rate is held")
	fs.DurationVar(&c.P99Bound, "p99", 50*time.Millisecond, "step mode: the p99 latency a rate must stay under")
	fs.DurationVar(&c.Soak, "soak", 0, "after the steps, drive billkey at half its capacity this long and report its RSS (e.g. 5m)")
	fs.Int64Var(&c.Amount, "amount", 1000, "amount of each charge (KRW)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if c.ImpKey == "" || c.ImpSecret == "" {
		fmt.Fprintln(stderr, "billkey loadtest: --imp-key and --imp-secret are required (a merchant of the running billkey)")
		return errUsage
	}
	c.Phases = strings.Split(phases, ",")
	if step != "" {
		if _, err := fmt.Sscanf(step, "%d:%d:%d", &c.Step.From, &c.Step.By, &c.Step.To); err != nil {
			return fmt.Errorf("--step %q: want FROM:BY:TO", step)
		}
	}
	c.Out = stdout
	rep, err := loadtest.Run(ctx, c)
	if err != nil {
		return err
	}
	if rep.Check != nil && !rep.Check.OK() {
		return fmt.Errorf("billkey and the simulator's ledger disagree")
	}
	return nil
}
