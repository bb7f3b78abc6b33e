package loadtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/inicissim"
	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/internal/testkeys"
	"github.com/billkey/billkey/loadtest"
	"github.com/billkey/billkey/sqlstore"
)

// TestRunEveryPhase runs every phase of the tool once, at a tiny scale,
// against billkey in this process: one node on SQLite, two nodes sharing
// one database on PostgreSQL, the simulator on its own listener as in
// production. It checks what the run must establish whatever the speed:
// every charge, window and scheduled renewal agrees with the simulator's
// ledger after every phase, the ratios and saturation figures exist, and
// the JSON report carries them. No figure is asserted (speed belongs in
// BENCHMARKS.md).
func TestRunEveryPhase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		sim := inicissim.New(inicissim.Config{})
		simSrv := httptest.NewServer(sim)
		t.Cleanup(simSrv.Close)
		keys := testkeys.New(t)
		nodes := 1
		if sqlstore.IsPostgres(dsn) {
			nodes = 2
		}
		var urls, metrics []string
		var merchant *gateway.CreatedMerchant
		for i := range nodes {
			st, err := sqlstore.Open(ctx, dsn, keys)
			if err != nil {
				t.Fatal(err)
			}
			app, err := cli.StartApp(ctx, cli.AppOptions{Store: st, Keys: keys, Addr: "127.0.0.1:0", SimulatorURL: simSrv.URL,
				PGTimeout: 5 * time.Second, Jobs: cli.JobOptions{PollInterval: 100 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = app.Close(sctx)
				st.Close()
			})
			if i == 0 {
				if merchant, err = app.Service.CreateMerchant(ctx, gateway.NewMerchant{Name: "load test shop", ImpSecret: "loadtest-secret-0123456789"}); err != nil {
					t.Fatal(err)
				}
			}
			m := httptest.NewServer(app.Metrics.Handler())
			t.Cleanup(m.Close)
			urls, metrics = append(urls, app.BaseURL), append(metrics, m.URL)
		}
		var out bytes.Buffer
		cfg := loadtest.Config{
			URLs: urls, MetricsURLs: metrics, SimURL: simSrv.URL,
			ImpKey: merchant.Merchant.APIKey, ImpSecret: merchant.ImpSecret, ImpCode: merchant.Merchant.ImpCode,
			Phases:    []string{loadtest.PhaseBillkey, loadtest.PhasePG, loadtest.PhaseBaseline, loadtest.PhaseBest, loadtest.PhaseWindow, loadtest.PhaseSpike},
			Customers: 3, Rate: 20, Duration: 300 * time.Millisecond, Concurrency: 2, Runs: 2,
			Windows: 6, WindowConcurrency: 3, SpikeSchedules: 150, SpikeLead: time.Second, SpikeTimeout: 2 * time.Minute,
			BillkeyInProcess: true, Out: &out,
		}
		if sqlstore.IsPostgres(dsn) {
			cfg.BaselineDB, cfg.PGStatDSN = dsn, dsn
		}
		rep, err := loadtest.Run(ctx, cfg)
		if err != nil {
			t.Fatalf("run: %v\n%s", err, out.String())
		}
		if testing.Verbose() {
			t.Log(out.String())
		}
		if !rep.OK() {
			t.Fatalf("a check failed:\n%s", out.String())
		}
		// One ledger check after each phase and after the saturation
		// runs, each of them passing.
		if len(rep.Checks) != len(cfg.Phases)+1 {
			t.Fatalf("%d ledger checks for %d phases and the saturation runs:\n%s", len(rep.Checks), len(cfg.Phases), out.String())
		}
		if c := rep.Check; c.Paid == 0 || c.Paid != c.Approvals || c.Paid < int(rep.Closed[loadtest.PhaseBillkey].OK)+cfg.SpikeSchedules {
			t.Fatalf("final check %+v", c)
		}
		for _, ph := range []string{loadtest.PhaseBillkey, loadtest.PhasePG, loadtest.PhaseBaseline, loadtest.PhaseBest} {
			if c, ok := rep.Closed[ph]; !ok || c.OK == 0 || c.Concurrency != 2 {
				t.Fatalf("no saturation run of %s: %+v", ph, c)
			}
			if runs := rep.ClosedRuns[ph]; len(runs) != cfg.Runs || !slices.IsSorted(runs) ||
				rep.Closed[ph].Throughput != runs[(len(runs)-1)/2] {
				t.Fatalf("saturation runs of %s: %v, median kept %.1f", ph, runs, rep.Closed[ph].Throughput)
			}
		}
		for _, k := range []string{"closed billkey/baseline", "closed billkey/best", "closed billkey/pg"} {
			if rep.Ratios[k] <= 0 {
				t.Fatalf("ratio %s missing: %v", k, rep.Ratios)
			}
		}
		if cpu, ok := rep.Closed[loadtest.PhaseBillkey].CPU[loadtest.ProcBillkey]; !ok || len(cpu.Pids) != 1 {
			t.Fatalf("billkey's CPU not accounted: %+v", rep.Closed[loadtest.PhaseBillkey].CPU)
		}
		if sqlstore.IsPostgres(dsn) {
			if cpu := rep.Closed[loadtest.PhaseBillkey].CPU[loadtest.ProcPostgres]; len(cpu.Pids) == 0 {
				t.Fatalf("PostgreSQL's processes not found: %+v", rep.Closed[loadtest.PhaseBillkey].CPU)
			}
		}
		if w := rep.Window; w.Succeeded != cfg.Windows || w.Stored != cfg.Windows || w.KeysIssued != cfg.Windows {
			t.Fatalf("window phase: %s", w)
		}
		if s := rep.Spike; s.Paid != cfg.SpikeSchedules || len(s.ClaimedPerNode) != nodes || len(s.Samples) == 0 {
			t.Fatalf("spike phase: %s", s)
		}
		raw, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]any
		if err := json.Unmarshal(raw, &back); err != nil || back["ratios"] == nil || back["spike"] == nil || back["window"] == nil {
			t.Fatalf("JSON report: %v %s", err, raw[:min(len(raw), 300)])
		}
	})
}
