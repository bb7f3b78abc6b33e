package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/billkey/billkey/console"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/internal/tracing"
	"github.com/billkey/billkey/webhook"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("billkey serve", flag.ContinueOnError)
	var c config
	commonFlags(fs, &c)
	var o AppOptions
	var adminAddr string
	var noDemo, live bool
	var publicMetrics bool
	fs.StringVar(&o.Addr, "addr", env("BILLKEY_ADDR", "127.0.0.1:8080"), "listen address (env BILLKEY_ADDR)")
	fs.StringVar(&adminAddr, "admin-addr", env("BILLKEY_ADMIN_ADDR", ""), "private listener for /metrics and /debug/pprof (env BILLKEY_ADMIN_ADDR; default: none, and no /metrics)")
	fs.BoolVar(&publicMetrics, "public-metrics", env("BILLKEY_PUBLIC_METRICS", "") == "true", "also serve /metrics on the public --addr listener (env BILLKEY_PUBLIC_METRICS=true; off by default: it reveals traffic by route)")
	fs.StringVar(&o.PublicURL, "public-url", env("BILLKEY_PUBLIC_URL", ""), "base URL browsers use to reach billkey (env BILLKEY_PUBLIC_URL; default http://ADDR)")
	fs.StringVar(&o.SimulatorURL, "inicis-sim-url", env("BILLKEY_INICIS_SIM_URL", ""), "external INICIS simulator for test channels (env BILLKEY_INICIS_SIM_URL; default: built-in at /inicis-sim)")
	fs.StringVar(&o.SimulatorState, "inicis-sim-state", env("BILLKEY_INICIS_SIM_STATE", ""), "state file of the built-in INICIS simulator, whose test billing keys survive restarts (env BILLKEY_INICIS_SIM_STATE; default DATA_DIR/inicis-sim.db)")
	fs.DurationVar(&o.PGTimeout, "pg-timeout", envDuration("BILLKEY_PG_TIMEOUT", 30*time.Second), "timeout of each INICIS call (env BILLKEY_PG_TIMEOUT)")
	fs.DurationVar(&o.InFlightMargin, "in-flight-margin", envDuration("BILLKEY_IN_FLIGHT_MARGIN", gateway.DefaultInFlightMargin), "added to 2 x pg-timeout: how long after a payment started a PG call for it may still be in flight; nothing is declared failed before (env BILLKEY_IN_FLIGHT_MARGIN)")
	fs.Func("reconcile-delays", "when an unknown PG outcome is inquired, counted from the outcome becoming unknown, comma separated; the last repeats as the interval (env BILLKEY_RECONCILE_DELAYS; default 2s,5s,15s,30s,1m,5m)", func(v string) error {
		ds, err := webhook.ParseDelays(v)
		o.ReconcileDelays = ds
		return err
	})
	if ds, err := webhook.ParseDelays(env("BILLKEY_RECONCILE_DELAYS", "")); err == nil && len(ds) > 0 {
		o.ReconcileDelays = ds
	}
	fs.DurationVar(&o.NoApprovalGrace, "no-approval-grace", envDuration("BILLKEY_NO_APPROVAL_GRACE", gateway.DefaultNoApprovalGrace), "how long after a payment started an inquiry reply with no approval state (an unrecognised INICIS code) counts as not found (env BILLKEY_NO_APPROVAL_GRACE)")
	fs.DurationVar(&o.DrainTimeout, "drain-timeout", envDuration("BILLKEY_DRAIN_TIMEOUT", 0), "on SIGTERM, how long in-flight requests may finish; at least --pg-timeout (env BILLKEY_DRAIN_TIMEOUT; default 2 x pg-timeout + 15s)")
	jobFlags(fs, &o.Jobs)
	fs.BoolVar(&live, "live", env("BILLKEY_LIVE", "") == "true", "live mode: never mount the built-in INICIS simulator (env BILLKEY_LIVE=true; also implied by any live channel)")
	fs.BoolVar(&noDemo, "no-demo", env("BILLKEY_NO_DEMO", "") == "true", "no demo merchant on an empty database and no demo shop at /demo (env BILLKEY_NO_DEMO=true)")
	fs.StringVar(&o.DemoMerchant, "demo-merchant", env("BILLKEY_DEMO_MERCHANT", ""), "imp code of the demo shop's merchant (env BILLKEY_DEMO_MERCHANT; default: the oldest merchant; it must use a test channel)")
	var trace tracing.Options
	tracingFlags(fs, &trace)
	var tlsCert, tlsKey string
	var insecurePublic bool
	fs.StringVar(&tlsCert, "tls-cert", env("BILLKEY_TLS_CERT", ""), "serve HTTPS with this PEM certificate chain (env BILLKEY_TLS_CERT; with --tls-key; reloaded when the file changes)")
	fs.StringVar(&tlsKey, "tls-key", env("BILLKEY_TLS_KEY", ""), "the certificate's PEM private key (env BILLKEY_TLS_KEY)")
	fs.BoolVar(&insecurePublic, "insecure-public-url", env("BILLKEY_INSECURE_PUBLIC_URL", "") == "true", "allow live mode with a public URL that is not https (env BILLKEY_INSECURE_PUBLIC_URL=true; testing only)")
	svc, k, err := setupChecked(ctx, fs, &c, args, stderr, func() error {
		return checkPublicAddr(o.Addr, o.PublicURL, "BILLKEY_PUBLIC_URL")
	}, false)
	if err != nil {
		return err
	}
	store := sqlStore(svc)
	defer store.Close()
	logger := c.logger(stderr)
	o.Store, o.Keys, o.Logger, o.AllowLive = store, k.Owned, logger, k.Explicit
	o.NoDemo, o.Live = noDemo, live
	if o.SimulatorState == "" && o.SimulatorURL == "" {
		o.SimulatorState = filepath.Join(c.DataDir, "inicis-sim.db")
	}
	if tlsCert != "" || tlsKey != "" {
		if o.TLS, err = tlsConfig(tlsCert, tlsKey); err != nil {
			return err
		}
	}
	if warning, err := checkPublicURL(ctx, store, &o, o.TLS != nil, insecurePublic); err != nil {
		return err
	} else if warning != "" {
		logger.Warn(warning)
	}

	if o.DrainTimeout == 0 {
		o.DrainTimeout = DefaultDrainTimeout(o.PGTimeout)
	}
	stopTracing, tracingOn, err := startTracing(ctx, trace, logger)
	if err != nil {
		return err
	}
	defer stopTracing()
	app, err := StartApp(ctx, o)
	if err != nil {
		return err
	}
	logger.Info("billkey starting",
		slog.String("version", Version), slog.String("addr", app.Addr()), slog.String("public_url", app.BaseURL),
		slog.String("db", maskDSN(c.DB)), slog.String("dialect", store.Dialect), slog.String("master_key", k.Source),
		slog.String("master_key_id", k.PrimaryID()), slog.String("inicis_test_endpoint", app.SimURL),
		slog.Bool("live_channels_allowed", o.AllowLive && !o.NoLiveCharges), slog.Duration("pg_timeout", o.PGTimeout),
		slog.String("admin_addr", adminAddr), slog.Bool("public_metrics", publicMetrics), slog.Bool("tracing", tracingOn))
	if app.SimIntrospection != nil {
		where := "off (set --admin-addr)"
		if adminAddr != "" {
			where = "http://" + adminAddr + SimulatorPrefix + "/_sim/"
		}
		logger.Info("built-in INICIS simulator introspection (ledger, faults, reset) is on the admin listener only", slog.String("at", where))
	}
	logger.Info("reconciliation timing",
		slog.Duration("pg_timeout", app.Service.PGTimeout), slog.Duration("in_flight_window", app.Service.InFlightWindow()),
		slog.Duration("stale_ready_after", o.Jobs.StaleReadyAfter), slog.Any("reconcile_delays", app.Service.ReconcileDelays),
		slog.Duration("no_approval_grace", o.NoApprovalGrace),
		slog.Duration("drain_timeout", o.DrainTimeout))

	logger.Info("background jobs (scheduled payments, webhooks)",
		slog.Bool("enabled", !o.Jobs.Disabled), slog.String("lease_owner", app.Jobs.Owner()),
		slog.Duration("poll_interval", o.Jobs.PollInterval), slog.Duration("schedule_lease", o.Jobs.ScheduleLease),
		slog.Duration("webhook_timeout", o.Jobs.WebhookTimeout), slog.Duration("webhook_give_up_after", o.Jobs.WebhookGiveUpAfter),
		slog.Any("webhook_allow_cidr", o.Jobs.WebhookAllowCIDRs), slog.Bool("webhook_loopback_allowed", !o.AllowLive))

	// The admin console (/console): on the admin listener when there is
	// one, else on the main listener (then with Secure cookies under an
	// https --public-url).
	cons, err := console.New(console.Config{Service: app.Service, Logger: logger.With("component", "console"),
		SecureCookies: adminAddr == "" && strings.HasPrefix(app.BaseURL, "https://")})
	if err != nil {
		return err
	}
	var admin *http.Server
	// Metrics describe traffic by route and status: they are served on the
	// admin listener, and on the public one only when asked for. Profiling
	// and the built-in simulator's ledger (raw test keys), faults and reset
	// are served only on the admin listener (routes.go).
	mux := app.ServeRoutes(cons, adminAddr != "", publicMetrics)
	if adminAddr != "" {
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
	if adminAddr == "" {
		fmt.Fprintf(stdout, "  console:    %s/console/   (billkey operator create)\n", app.BaseURL)
	} else {
		fmt.Fprintf(stdout, "  console:    http://%s/console/   (admin listener; billkey operator create)\n", adminAddr)
	}
	fmt.Fprintf(stdout, "  iamport.js: %s/js/iamport.js\n  API:        %s/users/getToken\n", app.BaseURL, app.BaseURL)

	<-ctx.Done()
	logger.Info("billkey shutting down: not ready, draining in-flight requests", slog.Duration("drain_timeout", o.DrainTimeout))
	sctx, cancel := context.WithCancel(context.Background()) // App.Close bounds the drain
	defer cancel()
	if admin != nil {
		_ = admin.Shutdown(sctx)
	}
	return app.Close(sctx)
}

// ensureDemoMerchant creates a demo merchant on an empty database and prints
// its credentials; on later starts it prints nothing new.
func ensureDemoMerchant(ctx context.Context, svc *gateway.Service, stdout io.Writer) error {
	ms, err := svc.Merchants(ctx)
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
