package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/billkey/billkey"
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
	// Live declares live mode: the built-in simulator is not mounted at all
	// (it is not mounted either once any live channel exists).
	Live bool
	// Jobs configures scheduled payments and webhook delivery.
	Jobs JobOptions
	// ExtraPGs are PG providers served besides PGFactories (tests register
	// a second PG here).
	ExtraPGs []billkey.PGFactory
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
	// InFlightMargin and NoApprovalGrace tune the reconciler's timing
	// rules (defaults gateway.DefaultInFlightMargin and
	// gateway.DefaultNoApprovalGrace).
	InFlightMargin  time.Duration
	NoApprovalGrace time.Duration
	// DrainTimeout is how long Close waits for in-flight requests at most
	// when its context has no earlier deadline; it must be at least the PG
	// timeout (default DefaultDrainTimeout).
	DrainTimeout time.Duration
	// NoLiveCharges refuses live channels on this node even with AllowLive
	// (its public URL is not https); the SSRF guard still follows AllowLive.
	NoLiveCharges bool
	// TLS, when set, makes the listener serve HTTPS (the default public URL
	// becomes https://ADDR).
	TLS *tls.Config
}

// DefaultDrainTimeout is the drain timeout for a PG timeout: long enough for
// a onetime charge's two PG calls in a row, plus a margin.
func DefaultDrainTimeout(pgTimeout time.Duration) time.Duration {
	return 2*pgTimeout + 15*time.Second
}

// App is a running gateway: HTTP server, built-in simulator, workers.
type App struct {
	Store     *sqlstore.Store
	Service   *gateway.Service
	API       *api.Server
	PG        *inicis.Connector
	Simulator *inicissim.Simulator // nil with an external simulator or in live mode
	Metrics   *api.Metrics
	Jobs      *jobs.Runner // scheduled payments and webhook delivery
	BaseURL   string       // how browsers reach billkey
	SimURL    string       // how test channels reach INICIS

	// SimIntrospection serves the built-in simulator's /_sim/ endpoints
	// (ledger with raw test keys, faults, reset) for the private admin
	// listener, under SimulatorPrefix; nil without a built-in simulator.
	SimIntrospection http.Handler

	Ready *api.Readiness // backs /readyz

	server       *http.Server
	drainTimeout time.Duration
	workers      atomic.Int32 // reconciler and window sweeper running
	ln           net.Listener
	cancel       context.CancelFunc
	wg           sync.WaitGroup
}

// StartApp listens, wires everything and serves until Close.
func StartApp(ctx context.Context, o AppOptions) (*App, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PGTimeout <= 0 {
		o.PGTimeout = gateway.DefaultPGTimeout
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = DefaultDrainTimeout(o.PGTimeout)
	}
	if o.DrainTimeout < o.PGTimeout {
		return nil, fmt.Errorf("drain-timeout (%s) must be at least pg-timeout (%s): a shutdown would cut charges still waiting for INICIS", o.DrainTimeout, o.PGTimeout)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", o.Addr, err)
	}
	a := &App{Store: o.Store, ln: ln}
	a.BaseURL = strings.TrimRight(o.PublicURL, "/")
	if a.BaseURL == "" {
		a.BaseURL = "http://" + ln.Addr().String()
		if o.TLS != nil {
			a.BaseURL = "https://" + ln.Addr().String()
		}
	}
	a.SimURL = strings.TrimRight(o.SimulatorURL, "/")
	live := o.Live
	if !live {
		if live, err = o.Store.HasLiveChannel(ctx); err != nil {
			ln.Close()
			return nil, err
		}
	}
	if a.SimURL == "" {
		a.SimURL = a.BaseURL + SimulatorPrefix
		if live {
			o.Logger.Warn("live mode: the built-in INICIS simulator is not mounted; test channels need --inicis-sim-url")
		} else {
			// Its introspection and fault endpoints reveal raw billing keys
			// and change behaviour: never on the public listener.
			a.Simulator, err = inicissim.Open(inicissim.Config{Prefix: SimulatorPrefix, PrivateIntrospection: true,
				Logger: o.Logger.With("component", "inicis-sim"), StateFile: o.SimulatorState})
			if err != nil {
				ln.Close()
				return nil, err
			}
			a.SimIntrospection = http.StripPrefix(SimulatorPrefix, a.Simulator.IntrospectionHandler())
		}
	}
	a.Metrics = api.NewMetrics()
	pgs, conn, err := buildPGs(billkey.PGEnv{SimulatorURL: a.SimURL, Timeout: o.PGTimeout, Logger: o.Logger},
		o.ExtraPGs, a.Metrics)
	if err != nil {
		ln.Close()
		return nil, err
	}
	a.PG = conn
	a.Service = gateway.New(o.Store, o.Keys, pgs, o.Logger)
	a.Service.OnWindowResult = a.Metrics.WindowResult
	a.Metrics.WatchStore(o.Store)
	a.Service.AllowLive = o.AllowLive && !o.NoLiveCharges
	a.Service.WindowTTL = o.WindowTTL
	a.Service.PublicURL = a.BaseURL
	if o.ReconcileDelays != nil {
		a.Service.ReconcileDelays = o.ReconcileDelays
	}
	o.Jobs.apply(a.Service, o.AllowLive)
	a.Service.PGTimeout, a.Service.InFlightMargin, a.Service.NoApprovalGrace = o.PGTimeout, o.InFlightMargin, o.NoApprovalGrace
	if err := a.Service.CheckTiming(); err != nil {
		ln.Close()
		return nil, fmt.Errorf("refusing to start: %w", err)
	}
	a.drainTimeout = o.DrainTimeout
	a.Service.OnOrphan = a.Metrics.OrphanApproval
	a.API = api.NewServer(a.Service, o.Logger, a.Metrics)
	a.Ready = &api.Readiness{JobsRunning: func() bool { return a.workers.Load() == 2 }}
	a.API.Ready = a.Ready
	var sim http.Handler
	if a.Simulator != nil {
		sim = liveGate(o.Store, o.Logger, http.StripPrefix(SimulatorPrefix, a.Simulator))
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
	serveRoutes(parts{api: a.API, win: win, sim: sim}, func(r route) bool { return !late(r) }) // routes.go
	a.server = &http.Server{
		Handler:           a.API,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      max(90*time.Second, DefaultDrainTimeout(o.PGTimeout)+15*time.Second), // a charge may wait for INICIS twice
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
		serve := func() error { return a.server.Serve(ln) }
		if o.TLS != nil {
			a.server.TLSConfig = o.TLS
			serve = func() error { return a.server.ServeTLS(ln, "", "") }
		}
		if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.Logger.Error("http server stopped", slog.Any("error", err))
		}
	}()
	a.workers.Store(2)
	go func() {
		defer a.wg.Done()
		defer a.workers.Add(-1)
		a.Service.RunReconciler(wctx, interval)
	}()
	go func() {
		defer a.wg.Done()
		defer a.workers.Add(-1)
		a.Service.RunWindowSweeper(wctx, sweep)
	}()
	a.Jobs = o.Jobs.runner(a.Service, o.Logger, a.Metrics)
	a.Jobs.Start(wctx)
	a.Ready.Node = a.Jobs.Owner()
	return a, nil
}

// Addr is the address the gateway listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Close shuts the server down gracefully: readiness goes false first, the
// listener closes at once (no new requests), and every in-flight request is
// answered, waiting up to the drain timeout (or the context's earlier
// deadline); then the workers stop.
func (a *App) Close(ctx context.Context) error {
	a.Ready.Drain()
	ctx, cancel := context.WithTimeout(ctx, a.drainTimeout)
	defer cancel()
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

// liveGate serves h until a live channel exists: a live channel added while
// billkey runs takes the built-in simulator off the listener within
// liveCheckEvery, for good (a restart then does not mount it at all).
func liveGate(st *sqlstore.Store, log *slog.Logger, h http.Handler) http.Handler {
	var mu sync.Mutex
	var checked time.Time
	live := false
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if !live && time.Since(checked) >= liveCheckEvery {
			if l, err := st.HasLiveChannel(r.Context()); err == nil {
				checked, live = time.Now(), l
				if l {
					log.Warn("a live channel exists: the built-in INICIS simulator is no longer served")
				}
			}
		}
		off := live
		mu.Unlock()
		if off {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// liveCheckEvery is how often liveGate looks for live channels.
const liveCheckEvery = 2 * time.Second
