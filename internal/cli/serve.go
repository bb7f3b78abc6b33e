package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"time"

	"github.com/billkey/billkey/gateway"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("billkey serve", flag.ContinueOnError)
	var c config
	commonFlags(fs, &c)
	var o AppOptions
	var adminAddr string
	var noDemo bool
	fs.StringVar(&o.Addr, "addr", env("BILLKEY_ADDR", "127.0.0.1:8080"), "listen address (env BILLKEY_ADDR)")
	fs.StringVar(&adminAddr, "admin-addr", env("BILLKEY_ADMIN_ADDR", ""), "private listener for /metrics and /debug/pprof (env BILLKEY_ADMIN_ADDR; default: only /metrics, on --addr)")
	fs.StringVar(&o.PublicURL, "public-url", env("BILLKEY_PUBLIC_URL", ""), "base URL browsers use to reach billkey (env BILLKEY_PUBLIC_URL; default http://ADDR)")
	fs.StringVar(&o.SimulatorURL, "inicis-sim-url", env("BILLKEY_INICIS_SIM_URL", ""), "external INICIS simulator for test channels (env BILLKEY_INICIS_SIM_URL; default: built-in at /inicis-sim)")
	fs.StringVar(&o.SimulatorState, "inicis-sim-state", env("BILLKEY_INICIS_SIM_STATE", ""), "state file of the built-in INICIS simulator, whose test billing keys survive restarts (env BILLKEY_INICIS_SIM_STATE; default DATA_DIR/inicis-sim.db)")
	fs.DurationVar(&o.PGTimeout, "pg-timeout", envDuration("BILLKEY_PG_TIMEOUT", 30*time.Second), "timeout of each INICIS call (env BILLKEY_PG_TIMEOUT)")
	jobFlags(fs, &o.Jobs)
	fs.BoolVar(&noDemo, "no-demo", env("BILLKEY_NO_DEMO", "") == "true", "no demo merchant on an empty database and no demo shop at /demo (env BILLKEY_NO_DEMO=true)")
	fs.StringVar(&o.DemoMerchant, "demo-merchant", env("BILLKEY_DEMO_MERCHANT", ""), "imp code of the demo shop's merchant (env BILLKEY_DEMO_MERCHANT; default: the oldest merchant; it must use a test channel)")
	svc, k, err := setupChecked(ctx, fs, &c, args, stderr, func() error {
		return checkPublicAddr(o.Addr, o.PublicURL, "BILLKEY_PUBLIC_URL")
	}, false)
	if err != nil {
		return err
	}
	store := svc.Store
	defer store.Close()
	logger := c.logger(stderr)
	o.Store, o.Keys, o.Logger, o.AllowLive = store, k.Owned, logger, k.Explicit
	o.NoDemo = noDemo
	if o.SimulatorState == "" && o.SimulatorURL == "" {
		o.SimulatorState = filepath.Join(c.DataDir, "inicis-sim.db")
	}

	app, err := StartApp(ctx, o)
	if err != nil {
		return err
	}
	logger.Info("billkey starting",
		slog.String("version", Version), slog.String("addr", app.Addr()), slog.String("public_url", app.BaseURL),
		slog.String("db", maskDSN(c.DB)), slog.String("dialect", store.Dialect), slog.String("master_key", k.Source),
		slog.String("master_key_id", k.PrimaryID()), slog.String("inicis_test_endpoint", app.SimURL),
		slog.Bool("live_channels_allowed", o.AllowLive), slog.Duration("pg_timeout", o.PGTimeout),
		slog.String("admin_addr", adminAddr))

	logger.Info("background jobs (scheduled payments, webhooks)",
		slog.Bool("enabled", !o.Jobs.Disabled), slog.String("lease_owner", app.Jobs.Owner()),
		slog.Duration("poll_interval", o.Jobs.PollInterval), slog.Duration("schedule_lease", o.Jobs.ScheduleLease),
		slog.Duration("webhook_timeout", o.Jobs.WebhookTimeout), slog.Duration("webhook_give_up_after", o.Jobs.WebhookGiveUpAfter),
		slog.Any("webhook_allow_cidr", o.Jobs.WebhookAllowCIDRs), slog.Bool("webhook_loopback_allowed", !o.AllowLive))

	var admin *http.Server
	if adminAddr == "" {
		app.API.Mount("GET /metrics", app.Metrics.Handler())
	} else {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", app.Metrics.Handler())
		// Profiling is served only on the private admin listener.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		admin = &http.Server{Addr: adminAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := admin.ListenAndServe(); err != nil && err != http.ErrServerClosed {
				logger.Error("admin listener stopped", slog.Any("error", err))
			}
		}()
	}

	if !noDemo {
		if err := ensureDemoMerchant(ctx, svc, stdout); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "billkey %s listening on %s\n", Version, app.BaseURL)
	if !noDemo {
		fmt.Fprintf(stdout, "  demo shop:  %s/demo   (open it in a browser; test card 4242-4242-4242-4242)\n", app.BaseURL)
	}
	fmt.Fprintf(stdout, "  iamport.js: %s/js/iamport.js\n  API:        %s/users/getToken\n", app.BaseURL, app.BaseURL)

	<-ctx.Done()
	logger.Info("billkey shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if admin != nil {
		_ = admin.Shutdown(sctx)
	}
	return app.Close(sctx)
}

// ensureDemoMerchant creates a demo merchant on an empty database and prints
// its credentials; on later starts it prints nothing new.
func ensureDemoMerchant(ctx context.Context, svc *gateway.Service, stdout io.Writer) error {
	ms, err := svc.Store.ListMerchants(ctx)
	if err != nil {
		return err
	}
	if len(ms) > 0 {
		return nil
	}
	created, err := svc.CreateMerchant(ctx, gateway.NewMerchant{Name: "데모 상점 (demo shop)"})
	if err != nil {
		return fmt.Errorf("create demo merchant: %w", err)
	}
	m := created.Merchant
	fmt.Fprintf(stdout, "\nCreated a demo merchant on this empty database (test mode, MID %s on the built-in INICIS simulator):\n"+
		"  imp code:   %s\n  imp_key:    %s\n  imp_secret: %s\n  webhook secret: %s\n"+
		"(the secrets are shown only now; keep them)\n\n", gateway.TestMID, m.ImpCode, m.APIKey, created.ImpSecret, created.WebhookSecret)
	return nil
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := env(name, ""); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}
