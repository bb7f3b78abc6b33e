package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/internal/teststore"
)

func httpDo(t *testing.T, method, u string, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestSimulatorIntrospectionNotPublic: in test mode the built-in simulator's
// ledger (raw billing keys), fault switches and reset are not on the public
// listener, and neither is the per-request fault header; its windows and
// INIAPI still serve the test channel, and the private handler (billkey
// serve mounts it on --admin-addr) shows the ledger.
func TestSimulatorIntrospectionNotPublic(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		h.mustIssue("sim-cust", "4242-4242-4242-4242")
		pub := h.app.BaseURL + cli.SimulatorPrefix
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/_sim/ledger", ""}, {"GET", "/_sim/faults", ""}, {"POST", "/_sim/faults", `{"status":503}`},
			{"DELETE", "/_sim/faults", ""}, {"POST", "/_sim/reset", ""},
		} {
			status, body := httpDo(t, c.method, pub+c.path, c.body, "Content-Type", "application/json")
			if status != http.StatusNotFound || strings.Contains(body, "bill_key") {
				t.Errorf("%s %s on the public listener: %d %s", c.method, c.path, status, body)
			}
		}
		// Nothing above changed the simulator: no fault set, nothing reset.
		if f := h.app.Simulator.CurrentFaults(); f.Status != 0 || f.Drop || f.Latency != 0 {
			t.Fatalf("faults set through the public listener: %+v", f)
		}
		// The per-request fault header is ignored there too.
		status, _ := httpDo(t, "GET", pub+"/stdjs/INIStdPay.js", "", "X-Sim-Fault", "status=503")
		if status != http.StatusOK {
			t.Fatalf("X-Sim-Fault honoured on the public listener: %d", status)
		}
		// The test channel keeps working (INIAPI through the public mount).
		if st, env := h.again("sim-cust", "sim-order-1", 1000); st != 200 || env.Code != 0 || env.payment(t).Status != "paid" {
			t.Fatalf("charge: %d %s", st, env.raw)
		}
		// The private listener has the ledger, with the key issued above.
		led := h.ledger()
		if len(led.Keys) != 1 || led.Keys[0].BillKey == "" || len(led.Approvals) != 1 {
			t.Fatalf("ledger on the private listener: %+v", led)
		}
		status, body := httpDo(t, "POST", h.simAdmin+"/_sim/faults", `{"status":503,"paths":["/api/v1/billing"],"count":1}`)
		var f map[string]any
		if status != 200 || json.Unmarshal([]byte(body), &f) != nil || h.app.Simulator.CurrentFaults().Status != 503 {
			t.Fatalf("faults on the private listener: %d %s", status, body)
		}
		h.app.Simulator.ClearFaults()
	})
}

// TestSimulatorNotMountedLive: in live mode (the flag, or a live channel in
// the database at start, or one added while running) the built-in simulator
// is not served at all.
func TestSimulatorNotMountedLive(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st, keys := teststore.Open(t, dsn)
		run := func(t *testing.T, o cli.AppOptions) *cli.App {
			t.Helper()
			o.Store, o.Keys, o.Addr = st, keys, "127.0.0.1:0"
			app, err := cli.StartApp(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = app.Close(sctx)
			})
			return app
		}
		gone := func(t *testing.T, app *cli.App) {
			t.Helper()
			for _, p := range []string{"/stdjs/INIStdPay.js", "/_sim/ledger", "/"} {
				// Not mounted: the path falls through to the REST API (401).
				if status, body := httpDo(t, "GET", app.BaseURL+cli.SimulatorPrefix+p, ""); status == http.StatusOK ||
					strings.Contains(body, "INIStdPay") || strings.Contains(body, "bill_key") {
					t.Errorf("live mode serves the simulator at %s: %d %.80s", p, status, body)
				}
			}
		}
		t.Run("flag", func(t *testing.T) {
			app := run(t, cli.AppOptions{Live: true})
			if app.Simulator != nil || app.SimIntrospection != nil {
				t.Fatal("simulator created in live mode")
			}
			gone(t, app)
		})
		// Test mode serves it...
		app := run(t, cli.AppOptions{})
		if status, _ := httpDo(t, "GET", app.BaseURL+cli.SimulatorPrefix+"/stdjs/INIStdPay.js", ""); status != 200 {
			t.Fatalf("test mode: simulator not served: %d", status)
		}
		// ...until a live channel exists.
		created, err := app.Service.CreateMerchant(ctx, gateway.NewMerchant{Name: "live shop"})
		if err != nil {
			t.Fatal(err)
		}
		live := &billkey.Channel{Provider: billkey.ProviderHTML5Inicis, MID: "LIVEMID001", Live: true,
			Credentials: inicis.Credentials{SignKey: "s", APIKey: "0123456789abcdef", APIIV: "0123456789abcdef"}.Encode()}
		if err := app.Service.AddChannel(ctx, created.Merchant.ImpCode, live); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "simulator taken off after a live channel was added", func() bool {
			status, _ := httpDo(t, "GET", app.BaseURL+cli.SimulatorPrefix+"/stdjs/INIStdPay.js", "")
			return status == http.StatusNotFound
		})
		t.Run("live channel at start", func(t *testing.T) {
			app := run(t, cli.AppOptions{})
			if app.Simulator != nil {
				t.Fatal("simulator created with a live channel configured")
			}
			gone(t, app)
		})
	})
}
