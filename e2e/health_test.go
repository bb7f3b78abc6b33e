package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/inicissim"
	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/internal/teststore"
	"github.com/billkey/billkey/sqlstore"
)

type readiness struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"`
}

func (h *harness) readyz() (int, readiness) {
	h.t.Helper()
	res, err := http.Get(h.app.BaseURL + "/readyz")
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var r readiness
	if err := json.Unmarshal(raw, &r); err != nil {
		h.t.Fatalf("/readyz: %d %s", res.StatusCode, raw)
	}
	return res.StatusCode, r
}

func (h *harness) healthz() int {
	h.t.Helper()
	res, err := http.Get(h.app.BaseURL + "/healthz")
	if err != nil {
		h.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestReadyzFollowsWrites: /readyz reports not ready while the database
// refuses writes (PostgreSQL: the database turned read-only, every
// connection reset; SQLite: the probe's writes aborted, as a full disk
// would), and ready again once a write succeeds. /healthz stays liveness.
func TestReadyzFollowsWrites(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		if code, r := h.readyz(); code != 200 || !r.Ready || r.Checks["database_write"] != "ok" || r.Checks["migrations"] != "ok" ||
			r.Checks["master_key"] != "ok" || r.Checks["jobs"] != "ok" || r.Checks["draining"] != "ok" {
			t.Fatalf("healthy node: %d %+v", code, r)
		}
		breakWrites, restoreWrites := writeBreaker(t, dsn)
		breakWrites()
		eventually(t, 20*time.Second, "/readyz to report the failed write", func() bool {
			code, r := h.readyz()
			return code == 503 && !r.Ready && r.Checks["database_write"] != "ok"
		})
		// /healthz is liveness: it answers 200 while only writes fail (once
		// the connections cut by the switch are replaced).
		eventually(t, 20*time.Second, "/healthz to answer 200 while writes fail", func() bool { return h.healthz() == 200 })
		// Still not ready on the next probe: it is not a one-off.
		if code, r := h.readyz(); code != 503 || r.Ready {
			t.Fatalf("second probe while writes fail: %d %+v", code, r)
		}
		restoreWrites()
		eventually(t, 20*time.Second, "/readyz to recover once writes succeed", func() bool {
			code, r := h.readyz()
			return code == 200 && r.Ready
		})
		if !sqlstore.IsPostgres(dsn) {
			return
		}
		// The database down altogether: no connection is accepted.
		down, up := connectionBreaker(t, dsn)
		down()
		eventually(t, 20*time.Second, "/readyz to report the database down", func() bool {
			code, r := h.readyz()
			return code == 503 && !r.Ready
		})
		up()
		eventually(t, 20*time.Second, "/readyz to recover once the database is back", func() bool {
			code, r := h.readyz()
			return code == 200 && r.Ready
		})
	})
}

// connectionBreaker makes a PostgreSQL database refuse every connection
// (the existing ones are cut), and accept them again.
func connectionBreaker(t *testing.T, dsn string) (down, up func()) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	admin, err := sql.Open("pgx", strings.Replace(dsn, "/"+name, "/postgres", 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS true`)
		admin.Close()
	})
	exec := func(q string) {
		if _, err := admin.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
			exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS false`)
			exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '` + name + `' AND pid <> pg_backend_pid()`)
		}, func() {
			exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS true`)
		}
}

// writeBreaker returns functions that make the database refuse writes and
// accept them again.
func writeBreaker(t *testing.T, dsn string) (breakWrites, restore func()) {
	t.Helper()
	if !sqlstore.IsPostgres(dsn) {
		db, _, err := sqlstore.OpenDB(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		exec := func(q string) {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		return func() {
				exec(`CREATE TRIGGER probe_full_insert BEFORE INSERT ON health_probes BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`)
				exec(`CREATE TRIGGER probe_full_update BEFORE UPDATE ON health_probes BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`)
			}, func() {
				exec(`DROP TRIGGER probe_full_insert`)
				exec(`DROP TRIGGER probe_full_update`)
			}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	admin, err := sql.Open("pgx", strings.Replace(dsn, "/"+name, "/postgres", 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	exec := func(q string) {
		if _, err := admin.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	kick := `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '` + name + `' AND pid <> pg_backend_pid()`
	return func() {
			exec(`ALTER DATABASE ` + name + ` SET default_transaction_read_only = on`)
			exec(kick)
		}, func() {
			exec(`ALTER DATABASE ` + name + ` RESET default_transaction_read_only`)
			exec(kick)
		}
}

// TestShutdownDrains: on shutdown readiness goes false first, the listener
// closes at once, and a charge still waiting for INICIS is answered.
func TestShutdownDrains(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		sim := startSim(t)
		h := start(t, dsn, options{sim: sim, pgTimeout: 10 * time.Second})
		h.mustIssue("cust-drain", "4242-4242-4242-4242")
		if err := h.sim.SetFaults(inicissim.Faults{Latency: 2 * time.Second, Paths: []string{"/api/v1/billing"}, Count: 1}); err != nil {
			t.Fatal(err)
		}
		done := h.asyncAgain("cust-drain", "order-drain", 9900)
		eventually(t, 10*time.Second, "the charge to reach INICIS", func() bool {
			p, err := h.store.FindPayment(context.Background(), h.merchant.Merchant.ID, "order-drain", "")
			return err == nil && p.ImpUID != ""
		})
		closed := make(chan error, 1)
		go func() { closed <- h.app.Close(context.Background()) }()
		eventually(t, 5*time.Second, "readiness to go false", h.app.Ready.Draining)
		eventually(t, 5*time.Second, "the listener to close", func() bool {
			c, err := net.DialTimeout("tcp", h.app.Addr(), time.Second)
			if err == nil {
				c.Close()
				return false
			}
			return true
		})
		env := <-done
		var p payment
		if err := json.Unmarshal(env.Response, &p); err != nil || env.Code != 0 || p.Status != "paid" {
			t.Fatalf("the in-flight charge during shutdown: %s", env.raw)
		}
		if err := <-closed; err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		if ap := h.approvalsFor(p.ImpUID); len(ap) != 1 || ap[0].TID != p.PGTID {
			t.Fatalf("ledger: %+v", ap)
		}
	})
}

// TestTimingConfigRefused: settings under which a payment could be declared
// failed while its PG call is in flight, or a shutdown could cut a charge,
// are refused at start with a clear message.
func TestTimingConfigRefused(t *testing.T) {
	ctx := context.Background()
	st, keys := teststore.Open(t, dbtest.DSN(t, "sqlite"))
	cases := []struct {
		name string
		o    cli.AppOptions
		want string
	}{
		{"stale threshold within the PG timeout", cli.AppOptions{PGTimeout: 10 * time.Second, Jobs: cli.JobOptions{StaleReadyAfter: 2 * time.Second}},
			"stale-ready-after (2s) must be longer"},
		{"stale threshold within the in-flight window", cli.AppOptions{PGTimeout: 30 * time.Second, Jobs: cli.JobOptions{StaleReadyAfter: time.Minute}},
			"2 x pg-timeout 30s + margin 10s = 1m10s"},
		{"drain shorter than the PG timeout", cli.AppOptions{PGTimeout: 30 * time.Second, DrainTimeout: 15 * time.Second},
			"drain-timeout (15s) must be at least pg-timeout (30s)"},
	}
	for _, tc := range cases {
		tc.o.Store, tc.o.Keys, tc.o.Addr = st, keys, "127.0.0.1:0"
		app, err := cli.StartApp(ctx, tc.o)
		if err == nil {
			app.Close(ctx)
			t.Errorf("%s: started", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// The defaults pass.
	app, err := cli.StartApp(ctx, cli.AppOptions{Store: st, Keys: keys, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Close(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
