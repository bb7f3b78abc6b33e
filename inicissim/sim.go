package inicissim

import (
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Account is one merchant ID the simulator knows, with its secrets.
type Account struct {
	MID     string `json:"mid"`
	Name    string `json:"name"`     // shown in the windows
	SignKey string `json:"sign_key"` // INIStdPay signKey
	APIKey  string `json:"api_key"`  // INIAPI key (16 bytes)
	APIIV   string `json:"api_iv"`   // INIAPI IV (16 bytes, used raw)
	LiteKey string `json:"lite_key"` // INILite key; "" = no INILite contract
}

// TestAccounts returns INICIS's public test accounts (docs/inicis.md): INIBillTst
// (billing) and INIpayTest (general payments), which every Simulator knows.
func TestAccounts() []Account {
	return []Account{
		{
			MID:     "INIBillTst",
			Name:    "이니시스 빌링 테스트",
			SignKey: "SU5JTElURV9UUklQTEVERVNfS0VZU1RS",
			APIKey:  "rKnPljRn5m6J9Mzz",
			APIIV:   "W2KLNKra6Wxc1P==",
			LiteKey: "b09LVzhuTGZVaEY1WmJoQnZzdXpRdz09",
		},
		{
			MID:     "INIpayTest",
			Name:    "이니시스 일반결제 테스트",
			SignKey: "SU5JTElURV9UUklQTEVERVNfS0VZU1RS",
			APIKey:  "ItEQKi3rY7uvDS8l",
			APIIV:   "HYb3yQ4f65QL89==",
		},
	}
}

// Config configures a Simulator.
type Config struct {
	// Accounts are added to TestAccounts; an account with the MID of a test
	// account replaces it.
	Accounts []Account
	// Prefix is the path the simulator is mounted under (behind
	// http.StripPrefix), e.g. "/inicis-sim"; "" when it runs alone. Absolute
	// URLs it emits are built from the request's scheme and Host + Prefix.
	Prefix string
	// PublicURL, when set, replaces scheme://Host+Prefix in emitted URLs.
	PublicURL string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives one line per operation, never with billing keys, card
	// data or secrets (default: discard).
	Logger *slog.Logger
	// HoldMax bounds how long a dropped reply is held before the connection
	// is closed (default 2 minutes).
	HoldMax time.Duration
	// TokenTTL is how long a StdPay authToken can be approved (default 10m).
	TokenTTL time.Duration
	// WindowTTL is how long an open window stays usable (default 30m).
	WindowTTL time.Duration
	// MaxSkew, when positive, refuses INIAPI timestamps further than this
	// from Now. INICIS's tolerance is unknown; 0 checks the format only.
	MaxSkew time.Duration
	// PrivateIntrospection takes the introspection and fault endpoints
	// (/_sim/...) and the X-Sim-Fault request header off ServeHTTP: they
	// reveal raw billing keys and change behaviour, so a simulator mounted
	// on a public listener serves them only through IntrospectionHandler,
	// on a private one. The Go API (Ledger, SetFaults, ...) is unaffected.
	PrivateIntrospection bool
	// IntrospectToken, when set, makes every /_sim/ request carry
	// "Authorization: Bearer <token>" (compared in constant time); others
	// get 401. For a standalone simulator bound beyond loopback.
	IntrospectToken string
	// StateFile, when set, is an SQLite file (created if missing) holding
	// the ledger: keys, approvals, declines, refunds, net cancels, open
	// windows and auth tokens survive a restart, as they do at INICIS. One
	// simulator at a time may use a file. Empty keeps everything in memory.
	// Faults are never persisted.
	StateFile string
}

// Simulator is a stateful KG INICIS simulator: an http.Handler speaking
// INIAPI v1/v2, INIStdPay (window, payAuth, netCancel) and legacy INILite,
// plus test-only introspection under /_sim/. It is safe for concurrent use.
type Simulator struct {
	cfg      Config
	log      *slog.Logger
	accounts map[string]Account
	mux      *http.ServeMux
	intro    *http.ServeMux // /_sim/ routes
	tpl      *template.Template
	st       *state

	faultMu sync.Mutex
	faults  Faults

	idcTurn atomic.Uint64 // rotates the idc_name of StdPay grants

	closeOnce sync.Once
	closed    chan struct{}
}

//go:embed templates/*.html
var templateFS embed.FS

// New returns a Simulator. It panics if Config.StateFile cannot be opened;
// use Open to handle that error.
func New(cfg Config) *Simulator {
	s, err := Open(cfg)
	if err != nil {
		panic(err)
	}
	return s
}

// Open returns a Simulator, loading its ledger from Config.StateFile when
// set. Call CloseState when done with a state file.
func Open(cfg Config) (*Simulator, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HoldMax <= 0 {
		cfg.HoldMax = 2 * time.Minute
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 10 * time.Minute
	}
	if cfg.WindowTTL <= 0 {
		cfg.WindowTTL = 30 * time.Minute
	}
	cfg.Prefix = strings.TrimRight(cfg.Prefix, "/")
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Simulator{
		cfg:      cfg,
		log:      log,
		accounts: map[string]Account{},
		st:       newState(),
		closed:   make(chan struct{}),
	}
	for _, a := range append(TestAccounts(), cfg.Accounts...) {
		s.accounts[a.MID] = a
	}
	if cfg.StateFile != "" {
		f, err := openStateFile(cfg.StateFile, log)
		if err != nil {
			return nil, err
		}
		if err := f.load(s.st, s.account); err != nil {
			f.close()
			return nil, err
		}
		s.st.file = f
	}
	s.tpl = template.Must(template.New("").Funcs(template.FuncMap{"won": formatWon}).ParseFS(templateFS, "templates/*.html"))
	s.routes()
	return s, nil
}

// CloseState closes the state file (a no-op without one). Call it after the
// server using the simulator has stopped: later changes stay in memory only.
func (s *Simulator) CloseState() error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	f := s.st.file
	s.st.file = nil
	if err := f.close(); err != nil {
		return fmt.Errorf("inicissim: close state file: %w", err)
	}
	return nil
}

func (s *Simulator) routes() {
	m := http.NewServeMux()
	// INIAPI
	m.HandleFunc("POST /api/v1/billing", s.handleV1Billing)
	m.HandleFunc("POST /api/v1/refund", s.handleV1Refund)
	m.HandleFunc("POST /v2/pg/billing", s.handleV2Billing)
	m.HandleFunc("POST /v2/pg/refund", s.handleV2Refund)
	m.HandleFunc("POST /v2/pg/partialRefund", s.handleV2PartialRefund)
	m.HandleFunc("POST /v2/pg/inquiry", s.handleV2Inquiry)
	// INIStdPay
	m.HandleFunc("GET /stdjs/INIStdPay.js", s.handleStdJS)
	m.HandleFunc("POST /stdpay/window", s.handleStdOpen)
	m.HandleFunc("POST /stdpay/window/auth", s.handleStdAuth)
	m.HandleFunc("POST /stdpay/window/cancel", s.handleStdCancel)
	m.HandleFunc("POST /api/payAuth", s.handlePayAuth)
	m.HandleFunc("POST /api/netCancel", s.handleNetCancel)
	m.HandleFunc("POST /idc/{idc}/api/payAuth", s.handlePayAuth)
	m.HandleFunc("POST /idc/{idc}/api/netCancel", s.handleNetCancel)
	m.HandleFunc("POST /idc/{idc}/api/checkAck", s.handleCheckAck)
	m.HandleFunc("POST /api/checkAck", s.handleCheckAck)
	// INILite (legacy mobile billing)
	m.HandleFunc("POST /inibill/inibill_card.jsp", s.handleLiteOpen)
	m.HandleFunc("POST /inibill/auth", s.handleLiteAuth)
	m.HandleFunc("POST /inibill/cancel", s.handleLiteCancel)
	// pages
	m.HandleFunc("GET /receipt", s.handleReceipt)
	m.HandleFunc("GET /{$}", s.handleIndex)
	// introspection
	in := http.NewServeMux()
	in.HandleFunc("GET /_sim/ledger", s.handleLedger)
	in.HandleFunc("POST /_sim/reset", s.handleReset)
	in.HandleFunc("GET /_sim/faults", s.handleGetFaults)
	in.HandleFunc("POST /_sim/faults", s.handleSetFaults)
	in.HandleFunc("DELETE /_sim/faults", s.handleClearFaults)
	s.intro = in
	s.mux = m
}

// ServeHTTP implements http.Handler. Fault injection applies to every path
// outside /_sim/.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		if s.cfg.PrivateIntrospection {
			http.NotFound(w, r)
			return
		}
		s.IntrospectionHandler().ServeHTTP(w, r)
		return
	}
	f, err := s.faultsFor(r)
	if err != nil {
		http.Error(w, "X-Sim-Fault: "+err.Error(), http.StatusBadRequest)
		return
	}
	if f.Latency > 0 {
		s.sleep(f.Latency)
	}
	if f.Status != 0 {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim fault: status", slog.String("path", r.URL.Path), slog.Int("status", f.Status))
		http.Error(w, http.StatusText(f.Status)+" (simulated fault)", f.Status)
		return
	}
	if f.Drop {
		r = r.WithContext(context.WithValue(r.Context(), dropKey{}, true))
	}
	s.mux.ServeHTTP(w, r)
}

// IntrospectionHandler serves only the introspection and fault endpoints
// (GET /_sim/ledger, POST /_sim/reset, GET/POST/DELETE /_sim/faults),
// behind IntrospectToken when one is set. Mount it on a private listener
// when PrivateIntrospection keeps them off ServeHTTP.
func (s *Simulator) IntrospectionHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_sim/") {
			http.NotFound(w, r)
			return
		}
		if t := s.cfg.IntrospectToken; t != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(t)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="inicis-sim"`)
				http.Error(w, "simulator introspection needs its token", http.StatusUnauthorized)
				return
			}
		}
		s.intro.ServeHTTP(w, r)
	})
}

// Close releases every held reply at once and cuts latency faults short.
// The Simulator still serves afterwards, but no longer holds or delays
// replies. Call it before closing a server that may hold replies.
func (s *Simulator) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return nil
}

// sleep waits d (the latency fault). It deliberately ignores the request's
// context: INICIS keeps working on a request whose client gave up.
func (s *Simulator) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.closed:
	}
}

// ListenAndServe runs the simulator alone on addr until ctx ends, then shuts
// down gracefully (held replies are released).
func ListenAndServe(ctx context.Context, addr string, cfg Config) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("inicissim: %w", err)
	}
	return Serve(ctx, ln, cfg)
}

// Serve is ListenAndServe on an existing listener.
func Serve(ctx context.Context, ln net.Listener, cfg Config) error {
	sim, err := Open(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	defer sim.CloseState()
	return ServeSimulator(ctx, ln, sim)
}

// ServeSimulator serves sim on ln until ctx ends, then shuts down gracefully
// (held replies are released). The caller closes sim's state file.
func ServeSimulator(ctx context.Context, ln net.Listener, sim *Simulator) error {
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	sim.log.Info("inicissim listening", slog.String("addr", ln.Addr().String()))
	select {
	case err := <-errc:
		return fmt.Errorf("inicissim: %w", err)
	case <-ctx.Done():
	}
	_ = sim.Close()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("inicissim: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("inicissim: %w", err)
	}
	return nil
}

// base is the absolute URL of the simulator as seen by this request.
func (s *Simulator) base(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	} else if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host + s.cfg.Prefix
}

func (s *Simulator) account(mid string) (Account, bool) {
	a, ok := s.accounts[mid]
	return a, ok
}

// writeJSON writes an INICIS reply. Every INICIS-level outcome is HTTP 200
// with a resultCode, as integrators observe for business failures.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// reply writes an INIAPI/StdPay JSON reply, unless a drop fault is set for
// this request: then the reply is held and the connection dropped.
func (s *Simulator) reply(w http.ResponseWriter, r *http.Request, v any) {
	if dropped(r) {
		s.hold(w, r)
		return
	}
	writeJSON(w, v)
}

// formatWon renders an amount with thousands separators.
func formatWon(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
