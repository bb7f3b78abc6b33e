package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// billkeyTarget charges billkey with again, on billing keys it registers.
type billkeyTarget struct {
	*target
	cfg        Config
	runID      string
	token      string
	started    time.Time
	paid       syncSet // imp_uids answered paid
	durability string
}

func newBillkeyTarget(ctx context.Context, cfg Config, runID string) (*billkeyTarget, error) {
	b := &billkeyTarget{cfg: cfg, runID: runID, started: time.Now().Add(-time.Minute)}
	if err := b.getToken(ctx); err != nil {
		return nil, err
	}
	var health struct {
		Database, Durability string
	}
	if err := b.do(ctx, "GET", "/healthz", nil, &health); err == nil {
		b.durability = strings.TrimSpace(health.Database + " " + health.Durability)
	}
	for i := range cfg.Customers {
		form := url.Values{"card_number": {"4242-4242-4242-4242"}, "expiry": {"2030-12"}, "birth": {"880101"}, "pwd_2digit": {"12"}}
		var env envelope
		if err := b.do(ctx, "POST", fmt.Sprintf("/subscribe/customers/%s-c%d", runID, i), form, &env); err != nil {
			return nil, err
		}
		if env.Code != 0 {
			return nil, fmt.Errorf("register a billing key: %s", msg(env))
		}
	}
	var seq counter
	header := http.Header{"Content-Type": {"application/json"}, "Authorization": {b.token}}
	b.target = &target{name: PhaseBillkey,
		next: func(t *vegeta.Target) error {
			n := seq.next()
			body, _ := json.Marshal(map[string]any{
				"customer_uid": fmt.Sprintf("%s-c%d", runID, n%uint64(cfg.Customers)),
				"merchant_uid": fmt.Sprintf("%s-%d", runID, n), "amount": cfg.Amount, "name": "load test",
			})
			*t = vegeta.Target{Method: "POST", URL: cfg.URL + "/subscribe/payments/again", Body: body, Header: header}
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
			b.paid.add(p.ImpUID)
			return true, ""
		},
	}
	return b, nil
}

func (b *billkeyTarget) getToken(ctx context.Context) error {
	var env envelope
	if err := b.do(ctx, "POST", "/users/getToken", url.Values{"imp_key": {b.cfg.ImpKey}, "imp_secret": {b.cfg.ImpSecret}}, &env); err != nil {
		return err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if env.Code != 0 || json.Unmarshal(env.Response, &tok) != nil || tok.AccessToken == "" {
		return fmt.Errorf("getToken: %s (check --imp-key and --imp-secret)", msg(env))
	}
	b.token = tok.AccessToken
	return nil
}

// do makes one API call and decodes its JSON reply.
func (b *billkeyTarget) do(ctx context.Context, method, path string, form url.Values, out any) error {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, b.cfg.URL+path, body)
	if err != nil {
		return err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.token != "" {
		req.Header.Set("Authorization", b.token)
	}
	res, err := http.DefaultClient.Do(req)
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
}

// OK reports whether billkey and the PG agree exactly.
func (c *LedgerCheck) OK() bool {
	return c.Duplicated == 0 && c.Lost == 0 && c.Unrecorded == 0 && c.Ready == 0 && c.Approvals == c.Paid
}

// verify waits for unknown outcomes to be reconciled, then compares.
func (b *billkeyTarget) verify(ctx context.Context) (*LedgerCheck, error) {
	if err := b.getToken(ctx); err != nil { // the run may have outlived the token
		return nil, err
	}
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
	ledger, err := fetchLedger(ctx, b.cfg.SimLedgerURL)
	if err != nil {
		return nil, err
	}
	c := &LedgerCheck{RepliedPaid: b.paid.len(), Payments: len(payments)}
	byOrder := map[string]int{}
	for _, a := range ledger.Approvals {
		if _, ours := payments[a.OrderID]; ours {
			byOrder[a.OrderID]++
			c.Approvals++
		}
	}
	for id, p := range payments {
		switch p.Status {
		case "paid":
			c.Paid++
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
	b.paid.mu.Lock()
	for id := range b.paid.m {
		if p, ok := payments[id]; !ok || p.Status != "paid" {
			c.Lost++
		}
	}
	b.paid.mu.Unlock()
	return c, nil
}

type payment struct {
	ImpUID      string `json:"imp_uid"`
	MerchantUID string `json:"merchant_uid"`
	Status      string `json:"status"`
	PGTID       string `json:"pg_tid"`
}

// payments lists the run's payments by imp_uid.
func (b *billkeyTarget) payments(ctx context.Context) (map[string]payment, error) {
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
	Approvals []struct {
		OrderID string `json:"order_id"`
		TID     string `json:"tid"`
	} `json:"approvals"`
}

func fetchLedger(ctx context.Context, simURL string) (*ledger, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", simURL+"/_sim/ledger", nil)
	res, err := http.DefaultClient.Do(req)
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
