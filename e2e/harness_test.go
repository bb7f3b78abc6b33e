// Package e2e tests billkey end to end: a real gateway (cli.StartApp) on
// SQLite and PostgreSQL, its built-in KG INICIS simulator over real HTTP, and
// merchant calls made the way i'mport clients make them.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/inicissim"
	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/testkeys"
	"github.com/billkey/billkey/sqlstore"
	"github.com/billkey/billkey/vault"
)

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is a running gateway with one merchant and a token.
type harness struct {
	t        *testing.T
	app      *cli.App
	store    *sqlstore.Store
	keys     vault.Owned
	merchant *gateway.CreatedMerchant
	token    string
	logs     *syncBuffer
	// bodies records every reply body the merchant received.
	bodies *syncBuffer
	client *http.Client
	sim    *inicissim.Simulator
	// simAdmin is where the built-in simulator's /_sim/ endpoints are
	// served: a private listener, as billkey serve's --admin-addr ("" with
	// an external simulator).
	simAdmin string
}

type options struct {
	keys      *vault.Owned
	pgTimeout time.Duration
	// sim is an external simulator that outlives gateway restarts; nil
	// means the gateway's built-in one.
	sim *externalSim
	// staleReadyAfter shortens when work left by a "dead node" is taken
	// over (default: the gateway's).
	staleReadyAfter time.Duration
	// reconcileInterval overrides the gateway's reconciler interval
	// (default 100ms); an hour leaves reconciliation to the test.
	reconcileInterval time.Duration
	// extraPGs are PG providers registered besides KG INICIS.
	extraPGs []billkey.PGFactory
}

// externalSim is a standalone simulator on its own port.
type externalSim struct {
	sim *inicissim.Simulator
	url string
}

func startSim(t *testing.T) *externalSim {
	t.Helper()
	sim := inicissim.New(inicissim.Config{})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &externalSim{sim: sim, url: srv.URL}
}

func start(t *testing.T, dsn string, o options) *harness {
	t.Helper()
	ctx := context.Background()
	keys := testkeys.New(t)
	if o.keys != nil {
		keys = *o.keys
	}
	if o.pgTimeout == 0 {
		o.pgTimeout = 1500 * time.Millisecond
	}
	if o.reconcileInterval == 0 {
		o.reconcileInterval = 100 * time.Millisecond
	}
	st, err := sqlstore.Open(ctx, dsn, keys)
	if err != nil {
		t.Fatal(err)
	}
	simURL := ""
	if o.sim != nil {
		simURL = o.sim.url
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	app, err := cli.StartApp(ctx, cli.AppOptions{
		Store: st, Keys: keys, Logger: logger, Addr: "127.0.0.1:0", PGTimeout: o.pgTimeout, SimulatorURL: simURL,
		ReconcileDelays: []time.Duration{300 * time.Millisecond, 600 * time.Millisecond, time.Second}, ReconcileInterval: o.reconcileInterval,
		InFlightMargin: 500 * time.Millisecond, // in-flight window 2 x pgTimeout + 0.5s
		Jobs:           cli.JobOptions{StaleReadyAfter: o.staleReadyAfter},
		ExtraPGs:       o.extraPGs,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, app: app, sim: app.Simulator, store: st, keys: keys, logs: logs, bodies: &syncBuffer{},
		// Every reply is checked against billkey's OpenAPI document.
		client: &http.Client{Timeout: 30 * time.Second, Transport: &validatingTransport{t: t, base: http.DefaultTransport}}}
	t.Cleanup(func() {
		if t.Failed() {
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"level":"WARN"`) {
					t.Log(line)
				}
			}
		}
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = app.Close(sctx)
		st.Close()
	})
	ms, _ := st.ListMerchants(ctx)
	if len(ms) == 0 {
		if h.merchant, err = app.Service.CreateMerchant(ctx, gateway.NewMerchant{Name: "e2e shop", ImpSecret: "e2e-secret-0123456789"}); err != nil {
			t.Fatal(err)
		}
	} else {
		h.merchant = &gateway.CreatedMerchant{Merchant: ms[0], ImpSecret: "e2e-secret-0123456789"}
	}
	if o.sim != nil {
		h.sim = o.sim.sim
	}
	if app.SimIntrospection != nil {
		admin := http.NewServeMux()
		// h.app changes when a test restarts the gateway (restartWithJobs):
		// serve the current one's simulator.
		admin.Handle(cli.SimulatorPrefix+"/_sim/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.app.SimIntrospection.ServeHTTP(w, r)
		}))
		srv := httptest.NewServer(admin)
		t.Cleanup(srv.Close)
		h.simAdmin = srv.URL + cli.SimulatorPrefix
	}
	h.token = h.getToken()
	return h
}

// call is a merchant's API call; body is sent as JSON unless it is a string
// (then as a form).
func (h *harness) call(method, path string, body any, header ...string) (status int, env envelope) {
	h.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/x-www-form-urlencoded"
	case rawJSON:
		rd, ct = strings.NewReader(string(b)), "application/json"
	default:
		j, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, h.app.BaseURL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if h.token != "" {
		req.Header.Set("Authorization", h.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	h.bodies.Write(raw)
	h.bodies.Write([]byte("\n"))
	if err := json.Unmarshal(raw, &env); err != nil {
		h.t.Fatalf("%s %s: not an envelope: %d %s", method, path, res.StatusCode, raw)
	}
	env.raw = raw
	env.header = res.Header
	return res.StatusCode, env
}

type envelope struct {
	Code     int             `json:"code"`
	Message  *string         `json:"message"`
	Response json.RawMessage `json:"response"`
	raw      []byte
	header   http.Header
}

func (e envelope) msg() string {
	if e.Message == nil {
		return ""
	}
	return *e.Message
}

func (e envelope) payment(t *testing.T) payment {
	t.Helper()
	var p payment
	if err := json.Unmarshal(e.Response, &p); err != nil {
		t.Fatalf("not a payment: %s", e.raw)
	}
	return p
}

type payment struct {
	ImpUID        string `json:"imp_uid"`
	MerchantUID   string `json:"merchant_uid"`
	Status        string `json:"status"`
	Amount        int64  `json:"amount"`
	CancelAmount  int64  `json:"cancel_amount"`
	PGTID         string `json:"pg_tid"`
	ApplyNum      string `json:"apply_num"`
	CardName      string `json:"card_name"`
	CardCode      string `json:"card_code"`
	CardNumber    string `json:"card_number"`
	FailReason    string `json:"fail_reason"`
	CustomerUID   string `json:"customer_uid"`
	Usage         string `json:"customer_uid_usage"`
	Channel       string `json:"channel"`
	PaidAt        int64  `json:"paid_at"`
	ReceiptURL    string `json:"receipt_url"`
	CancelHistory []struct {
		Amount int64  `json:"amount"`
		PGTID  string `json:"pg_tid"`
	} `json:"cancel_history"`
}

func (h *harness) getToken() string {
	h.t.Helper()
	saved := h.token
	h.token = ""
	status, env := h.call("POST", "/users/getToken", map[string]string{"imp_key": h.merchant.Merchant.APIKey, "imp_secret": h.merchant.ImpSecret})
	h.token = saved
	if status != 200 || env.Code != 0 {
		h.t.Fatalf("getToken: %d %s", status, env.raw)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(env.Response, &tok)
	return tok.AccessToken
}

// issue registers a billing key for a card by REST and returns the envelope.
func (h *harness) issue(customerUID, card string) envelope {
	h.t.Helper()
	_, env := h.call("POST", "/subscribe/customers/"+customerUID, map[string]string{
		"card_number": card, "expiry": "2030-12", "birth": "880101", "pwd_2digit": "12",
		"customer_name": "홍길동", "customer_email": "gildong@example.com", "customer_tel": "010-1234-5678",
	})
	return env
}

func (h *harness) mustIssue(customerUID, card string) {
	h.t.Helper()
	if env := h.issue(customerUID, card); env.Code != 0 {
		h.t.Fatalf("issue %s: %s", card, env.raw)
	}
}

func (h *harness) again(customerUID, merchantUID string, amount int64) (int, envelope) {
	h.t.Helper()
	return h.call("POST", "/subscribe/payments/again", map[string]any{
		"customer_uid": customerUID, "merchant_uid": merchantUID, "amount": amount, "name": "월간 이용권",
	})
}

// ledger is the simulator's ledger: the built-in simulator's is read over
// HTTP from the private listener (it is not on the public one).
func (h *harness) ledger() inicissim.Ledger {
	h.t.Helper()
	if h.simAdmin == "" {
		return h.sim.Ledger()
	}
	res, err := h.client.Get(h.simAdmin + "/_sim/ledger")
	if err != nil {
		h.t.Fatalf("simulator ledger: %v", err)
	}
	defer res.Body.Close()
	var l inicissim.Ledger
	if err := json.NewDecoder(res.Body).Decode(&l); err != nil || res.StatusCode != http.StatusOK {
		h.t.Fatalf("simulator ledger: %d %v", res.StatusCode, err)
	}
	return l
}

// approvalsFor returns the ledger's approvals with the order id.
func (h *harness) approvalsFor(orderID string) []inicissim.Approval {
	var out []inicissim.Approval
	for _, a := range h.ledger().Approvals {
		if a.OrderID == orderID {
			out = append(out, a)
		}
	}
	return out
}

func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
