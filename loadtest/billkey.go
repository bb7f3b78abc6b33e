package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// client is billkey's REST API as the merchant of the run sees it: a
// token, billing keys registered for the run, and what it was answered.
type client struct {
	cfg        Config
	runID      string
	token      atomic.Pointer[string] // the current access token
	stop       chan struct{}
	started    time.Time
	paid       syncSet // imp_uids answered paid
	durability string
	http       *http.Client
}

func newClient(ctx context.Context, cfg Config, runID string) (*client, error) {
	c := &client{cfg: cfg, runID: runID, started: time.Now().Add(-time.Minute),
		http: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	if err := c.getToken(ctx); err != nil {
		return nil, err
	}
	c.stop = make(chan struct{})
	go c.keepToken(c.stop)
	var health struct {
		Database, Durability string
	}
	if err := c.do(ctx, "GET", "/healthz", nil, &health); err == nil {
		c.durability = strings.TrimSpace(health.Database + " " + health.Durability)
	}
	for i := range cfg.Customers {
		if err := c.registerCustomer(ctx, c.customerUID(i)); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

// customerUID is the run's i-th load-test customer.
func (c *client) customerUID(i int) string { return fmt.Sprintf("%s-c%d", c.runID, i%c.cfg.Customers) }

// registerCustomer issues a billing key for a customer (key-in).
func (c *client) registerCustomer(ctx context.Context, uid string) error {
	form := url.Values{"card_number": {"4242-4242-4242-4242"}, "expiry": {"2030-12"}, "birth": {"880101"}, "pwd_2digit": {"12"}}
	var env envelope
	if err := c.do(ctx, "POST", "/subscribe/customers/"+url.PathEscape(uid), form, &env); err != nil {
		return err
	}
	if env.Code != 0 {
		return fmt.Errorf("register a billing key: %s", msg(env))
	}
	return nil
}

// billkeyTarget charges billkey with again, on the run's billing keys,
// spread over the nodes in turn.
type billkeyTarget struct {
	*target
	c *client
}

func newBillkeyTarget(ctx context.Context, c *client) (*billkeyTarget, error) {
	b := &billkeyTarget{c: c}
	cfg, runID := c.cfg, c.runID
	var seq counter
	b.target = &target{name: PhaseBillkey,
		next: func(t *vegeta.Target) error {
			n := seq.next()
			body, _ := json.Marshal(map[string]any{
				"customer_uid": c.customerUID(int(n % uint64(cfg.Customers))),
				"merchant_uid": fmt.Sprintf("%s-%d", runID, n), "amount": cfg.Amount, "name": "load test",
			})
			base := cfg.URLs[n%uint64(len(cfg.URLs))]
			header := http.Header{"Content-Type": {"application/json"}, "Authorization": {c.currentToken()}}
			*t = vegeta.Target{Method: "POST", URL: base + "/subscribe/payments/again", Body: body, Header: header}
			return nil
		},
		judge: func(res *vegeta.Result) (bool, string) {
			if kind := transportError(res); kind != "" {
				return false, kind
			}
			var env envelope
			if err := json.Unmarshal(res.Body, &env); err != nil {
				return false, "bad envelope"
			}
			if env.Code != 0 {
				return false, fmt.Sprintf("code %d: %s", env.Code, truncate(msg(env), 50))
			}
			var p struct {
				ImpUID string `json:"imp_uid"`
				Status string `json:"status"`
			}
			_ = json.Unmarshal(env.Response, &p)
			if p.Status != "paid" {
				return false, "status " + p.Status
			}
			c.paid.add(p.ImpUID)
			return true, ""
		},
	}
	return b, nil
}

// currentToken is the access token to send ("" before the first).
func (c *client) currentToken() string {
	if t := c.token.Load(); t != nil {
		return *t
	}
	return ""
}

// keepToken asks for the token every 20 seconds until stop is closed. An
// access token lives 30 minutes and a getToken in its last minute extends
// it by 5 (after it expired, a new one is issued), so a run of any length
// never sends an expired token. A failed renewal is retried at the next
// tick (and shows up in the measurement's errors if it keeps failing).
func (c *client) keepToken(stop <-chan struct{}) {
	t := time.NewTicker(20 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = c.getToken(ctx)
			cancel()
		}
	}
}

// close stops the token renewal.
func (c *client) close() { close(c.stop) }

func (c *client) getToken(ctx context.Context) error {
	var env envelope
	req := url.Values{"imp_key": {c.cfg.ImpKey}, "imp_secret": {c.cfg.ImpSecret}}
	if err := c.call(ctx, "POST", "/users/getToken", "application/x-www-form-urlencoded", strings.NewReader(req.Encode()), &env, false); err != nil {
		return err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if env.Code != 0 || json.Unmarshal(env.Response, &tok) != nil || tok.AccessToken == "" {
		return fmt.Errorf("getToken: %s (check --imp-key and --imp-secret)", msg(env))
	}
	c.token.Store(&tok.AccessToken)
	return nil
}

// do makes one API call on the first node and decodes its JSON reply.
func (c *client) do(ctx context.Context, method, path string, form url.Values, out any) error {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	return c.call(ctx, method, path, "application/x-www-form-urlencoded", body, out, true)
}

// doJSON makes one API call with a JSON body.
func (c *client) doJSON(ctx context.Context, method, path string, in, out any) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.call(ctx, method, path, "application/json", bytes.NewReader(raw), out, true)
}

func (c *client) call(ctx context.Context, method, path, contentType string, body io.Reader, out any, auth bool) error {
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.URLs[0]+path, body)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if auth {
		req.Header.Set("Authorization", c.currentToken())
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, truncate(string(raw), 200))
	}
	return nil
}

// LedgerCheck compares billkey's payments of the run with the simulator's
// ledger.
type LedgerCheck struct {
	RepliedPaid int // distinct imp_uids answered "paid" to the load generator
	Payments    int // payments of the run billkey holds
	Paid        int // ...of which paid
	Ready       int // ...still ready after waiting for reconciliation
	Approvals   int // ledger approvals whose order id is one of the run's imp_uids
	Duplicated  int // imp_uids with more than one approval
	Lost        int // paid payments (or paid replies) without an approval
	Unrecorded  int // approvals whose payment billkey does not hold as paid
	// DoubleCharged counts merchant_uids with more than one paid payment
	// or more than one approval (an order charged twice).
	DoubleCharged int
}

// OK reports whether billkey and the PG agree exactly.
func (c *LedgerCheck) OK() bool {
	return c.Duplicated == 0 && c.Lost == 0 && c.Unrecorded == 0 && c.Ready == 0 && c.DoubleCharged == 0 && c.Approvals == c.Paid
}

// String is the check in one line.
func (c *LedgerCheck) String() string {
	verdict := "OK"
	if !c.OK() {
		verdict = "MISMATCH"
	}
	return fmt.Sprintf("%s — %d charges answered paid, %d payments (%d paid), %d ledger approvals for them, %d duplicated, %d lost, %d unrecorded, %d still ready, %d orders charged twice",
		verdict, c.RepliedPaid, c.Payments, c.Paid, c.Approvals, c.Duplicated, c.Lost, c.Unrecorded, c.Ready, c.DoubleCharged)
}

// verify waits for unknown outcomes to be reconciled, then compares.
func (b *client) verify(ctx context.Context) (*LedgerCheck, error) {
	var payments map[string]payment
	deadline := time.Now().Add(90 * time.Second)
	for {
		var err error
		if payments, err = b.payments(ctx); err != nil {
			return nil, err
		}
		ready := 0
		for _, p := range payments {
			if p.Status == "ready" {
				ready++
			}
		}
		if ready == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	ledger, err := fetchLedger(ctx, b.http, b.cfg.SimLedgerURL)
	if err != nil {
		return nil, err
	}
	b.paid.mu.Lock()
	defer b.paid.mu.Unlock()
	return compare(payments, ledger, b.paid.m), nil
}

// compare checks billkey's payments of the run (by imp_uid) against the
// simulator's ledger (whose order ids are imp_uids) and the imp_uids the
// load generator was answered "paid" for.
func compare(payments map[string]payment, ledger *ledger, repliedPaid map[string]struct{}) *LedgerCheck {
	c := &LedgerCheck{RepliedPaid: len(repliedPaid), Payments: len(payments)}
	byOrder := map[string]int{}
	for _, a := range ledger.Approvals {
		if _, ours := payments[a.OrderID]; ours {
			byOrder[a.OrderID]++
			c.Approvals++
		}
	}
	paidByOrder, approvedByOrder := map[string]int{}, map[string]int{}
	for id, p := range payments {
		approvedByOrder[p.MerchantUID] += byOrder[id]
		switch p.Status {
		case "paid":
			c.Paid++
			paidByOrder[p.MerchantUID]++
			if byOrder[id] == 0 {
				c.Lost++
			}
		case "ready":
			c.Ready++
		}
		if byOrder[id] > 1 {
			c.Duplicated++
		}
		if byOrder[id] > 0 && p.Status != "paid" {
			c.Unrecorded++
		}
	}
	for uid, n := range approvedByOrder {
		if n > 1 || paidByOrder[uid] > 1 {
			c.DoubleCharged++
		}
	}
	for id := range repliedPaid {
		if p, ok := payments[id]; !ok || p.Status != "paid" {
			c.Lost++
		}
	}
	return c
}

type payment struct {
	ImpUID      string `json:"imp_uid"`
	MerchantUID string `json:"merchant_uid"`
	Status      string `json:"status"`
	PGTID       string `json:"pg_tid"`
}

// payments lists the run's payments by imp_uid.
func (b *client) payments(ctx context.Context) (map[string]payment, error) {
	out := map[string]payment{}
	for page := 1; ; page++ {
		var env envelope
		path := fmt.Sprintf("/payments/status/all?limit=1000&page=%d&from=%d&to=%d", page, b.started.Unix(), time.Now().Add(time.Minute).Unix())
		if err := b.do(ctx, "GET", path, nil, &env); err != nil {
			return nil, err
		}
		var list struct {
			Next int       `json:"next"`
			List []payment `json:"list"`
		}
		if env.Code != 0 || json.Unmarshal(env.Response, &list) != nil {
			return nil, fmt.Errorf("list payments: %s", msg(env))
		}
		for _, p := range list.List {
			if strings.HasPrefix(p.MerchantUID, b.runID+"-") {
				out[p.ImpUID] = p
			}
		}
		if list.Next == 0 {
			return out, nil
		}
	}
}

type ledger struct {
	Keys []struct {
		OrderID string `json:"order_id"`
		Source  string `json:"source"`
		Revoked bool   `json:"revoked"`
	} `json:"keys"`
	Approvals []struct {
		OrderID string `json:"order_id"`
		TID     string `json:"tid"`
	} `json:"approvals"`
}

func fetchLedger(ctx context.Context, hc *http.Client, simURL string) (*ledger, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", simURL+"/_sim/ledger", nil)
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("simulator ledger at %s: HTTP %d (billkey serve's built-in simulator serves it on --admin-addr: use --sim-ledger-url http://ADMIN_ADDR/inicis-sim)", simURL, res.StatusCode)
	}
	var l ledger
	if err := json.NewDecoder(res.Body).Decode(&l); err != nil {
		return nil, fmt.Errorf("simulator ledger: %w", err)
	}
	return &l, nil
}

func transportError(res *vegeta.Result) string {
	if res.Error != "" {
		e := res.Error
		if i := strings.LastIndex(e, ": "); i >= 0 {
			e = e[i+2:]
		}
		return "transport: " + truncate(e, 40)
	}
	if res.Code != http.StatusOK {
		return fmt.Sprintf("http %d", res.Code)
	}
	return ""
}

func msg(e envelope) string {
	if e.Message == nil {
		return ""
	}
	return *e.Message
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
