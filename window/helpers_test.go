package window_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/testkeys"
	"github.com/billkey/billkey/sqlstore"
)

// merchantOrigin is the origin of the (imaginary) merchant page in the
// HTTP-level tests: browsers send it as the Origin header.
const merchantOrigin = "https://shop.example"

// testSecret is the env merchant's imp_secret.
const testSecret = "window-test-secret-0123"

// env is a running gateway (cli.StartApp, built-in simulator) with one
// merchant, driven over HTTP the way a browser would.
type env struct {
	t        testing.TB
	app      *cli.App
	store    *sqlstore.Store
	merchant *billkey.Merchant
	client   *http.Client
	mu       sync.Mutex
	seen     []string // every page body and Location the "browser" got
}

func newEnv(t testing.TB, dsn string, keys gateway.Keys, opts ...func(*cli.AppOptions)) *env {
	t.Helper()
	ctx := context.Background()
	owned := testkeys.New(t)
	if keys == nil {
		keys = owned
	}
	st, err := sqlstore.Open(ctx, dsn, owned)
	if err != nil {
		t.Fatal(err)
	}
	o := cli.AppOptions{Store: st, Keys: keys, Addr: "127.0.0.1:0", PGTimeout: 5 * time.Second, WindowSweepInterval: time.Hour}
	for _, f := range opts {
		f(&o)
	}
	app, err := cli.StartApp(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = app.Close(sctx)
		st.Close()
	})
	created, err := app.Service.CreateMerchant(ctx, gateway.NewMerchant{Name: "창 테스트 상점", ImpSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	return &env{
		t: t, app: app, store: st, merchant: created.Merchant,
		client: &http.Client{
			Timeout:       20 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

func (e *env) record(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seen = append(e.seen, s)
}

// post sends a form like a browser and returns the status, the body and the
// Location header.
func (e *env) post(rawURL string, form url.Values, origin string) (int, string, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return e.do(req)
}

func (e *env) get(rawURL string) (int, string, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) (int, string, http.Header) {
	e.t.Helper()
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	e.record(string(b))
	e.record(res.Header.Get("Location"))
	return res.StatusCode, string(b), res.Header
}

// openForm is the form iamport.js submits to /window/open.
func openForm(impCode string, params map[string]any, device, delivery string) url.Values {
	j, _ := json.Marshal(params)
	return url.Values{
		"imp_code": {impCode}, "params": {string(j)}, "device": {device}, "delivery": {delivery},
		"origin": {merchantOrigin}, "sdk": {"test"},
	}
}

func issueParams(customerUID string) map[string]any {
	return map[string]any{
		"pg": "html5_inicis", "pay_method": "card", "merchant_uid": "order_" + customerUID, "name": "월간 구독",
		"amount": 9900, "customer_uid": customerUID, "buyer_email": "gildong@example.com", "buyer_name": "홍길동",
		"buyer_tel": "010-1234-5678", "request_id": "req_1", "custom_data": map[string]any{"plan": "basic"},
	}
}

var (
	reHidden  = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	reOpenAct = regexp.MustCompile(`<form id="SendPayForm_id" name="SendPayForm_id" method="post" action="([^"]*)"`)
	reCardAct = regexp.MustCompile(`<form id="card-form" method="post" action="([^"]*)"`)
	reSID     = regexp.MustCompile(`name="sid" value="([^"]*)"`)
	reReturn  = regexp.MustCompile(`<form id="inicis-return" method="post" action="([^"]*)"`)
	reData    = regexp.MustCompile(`<script type="application/json" id="billkey-data">([^<]*)</script>`)
	reCancel  = regexp.MustCompile(`<form id="cancel-form" method="post" action="([^"]*)"`)
)

// formIn extracts a form's action and hidden fields, starting at the match
// of re.
func formIn(t testing.TB, page string, re *regexp.Regexp) (string, url.Values) {
	t.Helper()
	m := re.FindStringSubmatchIndex(page)
	if m == nil {
		t.Fatalf("form %s not in page:\n%s", re, page)
	}
	rest := page[m[0]:]
	if i := strings.Index(rest, "</form>"); i >= 0 {
		rest = rest[:i]
	}
	v := url.Values{}
	for _, in := range reHidden.FindAllStringSubmatch(rest, -1) {
		v.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(page[m[2]:m[3]]), v
}

// pageData decodes the JSON block of a billkey window page.
func pageData(t testing.TB, page string) map[string]string {
	t.Helper()
	m := reData.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no billkey-data in page:\n%s", page)
	}
	var d map[string]string
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatalf("billkey-data: %v\n%s", err, m[1])
	}
	return d
}

type message struct {
	From   string         `json:"from"`
	Action string         `json:"action"`
	Data   map[string]any `json:"data"`
}

// doneMessage decodes the message a result page posts to the opener.
func doneMessage(t testing.TB, page string) (message, string) {
	t.Helper()
	d := pageData(t, page)
	var m message
	if err := json.Unmarshal([]byte(d["message"]), &m); err != nil {
		t.Fatalf("message: %v\n%s", err, d["message"])
	}
	return m, d["opener"]
}

// inicisWindow is an INICIS window opened through billkey.
type inicisWindow struct {
	openPage string
	action   string // the simulator's card form
	sid      string
	cancel   string
}

// openWindow posts to /window/open and then the INICIS form, as the open
// page's script does, returning the simulator's card window.
func (e *env) openWindow(form url.Values) *inicisWindow {
	e.t.Helper()
	status, page, _ := e.post(e.app.BaseURL+"/window/open", form, merchantOrigin)
	if status != 200 || !strings.Contains(page, "SendPayForm_id") {
		e.t.Fatalf("open: %d\n%s", status, page)
	}
	action, fields := formIn(e.t, page, reOpenAct)
	status, win, _ := e.post(action, fields, "")
	if status != 200 {
		e.t.Fatalf("INICIS window: %d\n%s", status, win)
	}
	w := &inicisWindow{openPage: page}
	w.action, _ = formIn(e.t, win, reCardAct)
	w.cancel, _ = formIn(e.t, win, reCancel)
	m := reSID.FindStringSubmatch(win)
	if m == nil {
		e.t.Fatalf("no sid:\n%s", win)
	}
	w.sid = m[1]
	return w
}

// pay types a card into the simulator's window and returns INICIS's post
// to billkey's returnUrl (not yet sent).
func (e *env) pay(w *inicisWindow, card string) (string, url.Values) {
	e.t.Helper()
	status, page, _ := e.post(w.action, url.Values{"sid": {w.sid}, "cardNumber": {card}, "expiry": {"12/31"}, "birth": {"800101"}, "pwd2digit": {"12"}}, "")
	if status != 200 {
		e.t.Fatalf("card: %d\n%s", status, page)
	}
	return formIn(e.t, page, reReturn)
}

// token returns an API access token of the env's merchant.
func (e *env) token() string {
	e.t.Helper()
	env := e.api("POST", "/users/getToken", map[string]string{"imp_key": e.merchant.APIKey, "imp_secret": testSecret}, "")
	resp, _ := env["response"].(map[string]any)
	tok, _ := resp["access_token"].(string)
	if tok == "" {
		e.t.Fatalf("getToken: %v", env)
	}
	return tok
}

// api calls the REST API with a token of the env's merchant.
func (e *env) api(method, path string, body any, token string) map[string]any {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = strings.NewReader(string(j))
	}
	req, _ := http.NewRequest(method, e.app.BaseURL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var env map[string]any
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &env); err != nil {
		e.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	env["_status"] = float64(res.StatusCode)
	return env
}

// expiring makes every window attempt expire as soon as it opens (stored
// expiry times have one-second resolution), without touching the clock of
// a running app.
func expiring(o *cli.AppOptions) { o.WindowTTL = time.Nanosecond }
