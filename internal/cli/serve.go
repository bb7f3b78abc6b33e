package cli

import (
	"context"
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
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := storeFlags("serve")
	var o AppOptions
	var adminAddr string
	var noDemo, live bool
	var publicMetrics bool
	bindSetting(fs, "addr", &o.Addr)
	bindSetting(fs, "admin-addr", &adminAddr)
	bindSetting(fs, "public-metrics", &publicMetrics)
	bindSetting(fs, "public-url", &o.PublicURL)
	bindSetting(fs, "inicis-sim-url", &o.SimulatorURL)
	bindSetting(fs, "inicis-sim-state", &o.SimulatorState)
	bindSetting(fs, "pg-timeout", &o.PGTimeout)
	bindSetting(fs, "in-flight-margin", &o.InFlightMargin)
	bindSetting(fs, "reconcile-delays", delaysInto(&o.ReconcileDelays))
	bindSetting(fs, "no-approval-grace", &o.NoApprovalGrace)
	bindSetting(fs, "drain-timeout", &o.DrainTimeout)
	jobFlags(fs, &o.Jobs)
	bindSetting(fs, "live", &live)
	bindSetting(fs, "no-demo", &noDemo)
	bindSetting(fs, "demo-merchant", &o.DemoMerchant)
	var trace tracing.Options
	tracingFlags(fs, &trace)
	var tlsCert, tlsKey string
	var insecurePublic bool
	bindSetting(fs, "tls-cert", &tlsCert)
	bindSetting(fs, "tls-key", &tlsKey)
	bindSetting(fs, "insecure-public-url", &insecurePublic)
	svc, k, err := setupChecked(ctx, fs, c, args, stderr, func() error {
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
	logger.Info("configuration (secrets masked)", settingAttrs(fs)...)
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
