package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/billkey/billkey/api"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/inicissim"
	"github.com/billkey/billkey/jobs"
	"github.com/billkey/billkey/sqlstore"
	"github.com/billkey/billkey/window"
)

// SimulatorPrefix is where billkey serve mounts the built-in INICIS
// simulator.
const SimulatorPrefix = "/inicis-sim"

// AppOptions configure a running billkey gateway.
type AppOptions struct {
	Store  *sqlstore.Store
	Keys   gateway.Keys
	Logger *slog.Logger
	// Addr is the listen address ("127.0.0.1:0" in tests).
	Addr string
	// PublicURL is the base URL browsers use to reach billkey; default
	// http://<listen address>.
	PublicURL string
	// SimulatorURL points test channels at an external INICIS simulator;
	// empty means the built-in one, mounted at SimulatorPrefix.
	SimulatorURL string
	// SimulatorState is the built-in simulator's state file (its ledger
	// survives restarts); empty keeps the ledger in memory.
	SimulatorState string
	// PGTimeout bounds each INICIS call (default 30s).
	PGTimeout time.Duration
	// ReconcileDelays overrides the reconciliation schedule.
	ReconcileDelays []time.Duration
	// ReconcileInterval is how often the reconciler looks for due work
	// (default 1s).
	ReconcileInterval time.Duration
	// AllowLive lets live channels charge (only with an explicit master key).
	AllowLive bool
	// Jobs configures scheduled payments and webhook delivery.
	Jobs JobOptions
	// NoDemo leaves the demo shop (/demo) out.
	NoDemo bool
	// DemoMerchant is the imp code of the demo shop's merchant; empty
	// means the oldest merchant.
	DemoMerchant string
	// WindowTTL bounds how long a payment window stays open (default 30 min).
	WindowTTL time.Duration
	// WindowSweepInterval is how often expired window attempts are settled
	// (default 1 min).
	WindowSweepInterval time.Duration
}

// App is a running gateway: HTTP server, built-in simulator, workers.
type App struct {
	Store     *sqlstore.Store
	Service   *gateway.Service
	API       *api.Server
	PG        *inicis.Connector
	Simulator *inicissim.Simulator // nil with an external simulator
	Metrics   *api.Metrics
	Jobs      *jobs.Runner // scheduled payments and webhook delivery
	BaseURL   string       // how browsers reach billkey
	SimURL    string       // how test channels reach INICIS

	server *http.Server
	ln     net.Listener
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// StartApp listens, wires everything and serves until Close.
func StartApp(ctx context.Context, o AppOptions) (*App, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", o.Addr, err)
	}
	a := &App{Store: o.Store, ln: ln}
	a.BaseURL = strings.TrimRight(o.PublicURL, "/")
	if a.BaseURL == "" {
		a.BaseURL = "http://" + ln.Addr().String()
	}
	a.SimURL = strings.TrimRight(o.SimulatorURL, "/")
	if a.SimURL == "" {
		a.SimURL = a.BaseURL + SimulatorPrefix
		a.Simulator, err = inicissim.Open(inicissim.Config{Prefix: SimulatorPrefix, Logger: o.Logger.With("component", "inicis-sim"), StateFile: o.SimulatorState})
		if err != nil {
			ln.Close()
			return nil, err
		}
	}
	a.PG = inicis.New(inicis.Config{
		Test:    inicis.SimulatorEndpoints(a.SimURL),
		Live:    inicis.ProductionEndpoints(),
		Timeout: o.PGTimeout,
		Logger:  o.Logger.With("component", "inicis"),
	})
	a.Service = gateway.New(o.Store, o.Keys, a.PG, o.Logger)
	a.Service.AllowLive = o.AllowLive
	a.Service.Window = a.PG
	a.Service.WindowTTL = o.WindowTTL
	if o.ReconcileDelays != nil {
		a.Service.ReconcileDelays = o.ReconcileDelays
	}
	o.Jobs.apply(a.Service, o.AllowLive)
	a.Metrics = api.NewMetrics()
	a.API = api.NewServer(a.Service, o.Logger, a.Metrics)
	if a.Simulator != nil {
		a.API.Mount(SimulatorPrefix+"/", http.StripPrefix(SimulatorPrefix, a.Simulator))
	}
	win, err := window.New(window.Config{
		Service: a.Service, BaseURL: a.BaseURL, Logger: o.Logger.With("component", "window"),
		Demo: !o.NoDemo, DemoMerchant: o.DemoMerchant,
	})
	if err != nil {
		ln.Close()
		if a.Simulator != nil {
			a.Simulator.CloseState()
		}
		return nil, err
	}
	win.Register(a.API.Mount)
	a.server = &http.Server{
		Handler:           a.API,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second, // above the PG timeout: a charge may wait for INICIS
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	interval := o.ReconcileInterval
	if interval <= 0 {
		interval = time.Second
	}
	sweep := o.WindowSweepInterval
	if sweep <= 0 {
		sweep = time.Minute
	}
	a.wg.Add(3)
	go func() {
		defer a.wg.Done()
		if err := a.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.Logger.Error("http server stopped", slog.Any("error", err))
		}
	}()
	go func() {
		defer a.wg.Done()
		a.Service.RunReconciler(wctx, interval)
	}()
	go func() {
		defer a.wg.Done()
		a.Service.RunWindowSweeper(wctx, sweep)
	}()
	a.Jobs = o.Jobs.runner(a.Service, o.Logger, a.Metrics)
	a.Jobs.Start(wctx)
	return a, nil
}

// Addr is the address the gateway listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Close shuts the server down gracefully (in-flight requests finish, within
// the context's deadline) and stops the workers.
func (a *App) Close(ctx context.Context) error {
	if a.Simulator != nil {
		a.Simulator.Close() // releases replies it holds on purpose
	}
	err := a.server.Shutdown(ctx)
	a.cancel()
	a.wg.Wait()
	if jerr := a.Jobs.Stop(ctx); jerr != nil && err == nil {
		err = jerr
	}
	if a.Simulator != nil {
		if serr := a.Simulator.CloseState(); serr != nil && err == nil {
			err = serr
		}
	}
	return err
}
