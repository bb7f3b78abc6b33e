package inicissim_test

import (
	"crypto/sha512"
	"encoding/hex"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/inicissim"
)

func hexSHA512(s string) string { h := sha512.Sum512([]byte(s)); return hex.EncodeToString(h[:]) }

const (
	mid     = "INIBillTst"
	apiKey  = "rKnPljRn5m6J9Mzz"
	apiIV   = "W2KLNKra6Wxc1P=="
	signKey = "SU5JTElURV9UUklQTEVERVNfS0VZU1RS"
	liteKey = "b09LVzhuTGZVaEY1WmJoQnZzdXpRdz09"
)

func testChannel() billkey.PGChannel {
	return billkey.PGChannel{MID: mid, Credentials: inicis.Credentials{SignKey: signKey, APIKey: apiKey, APIIV: apiIV, LiteKey: liteKey}.Encode()}
}

type env struct {
	sim  *inicissim.Simulator
	srv  *httptest.Server
	conn *inicis.Connector
	ch   billkey.PGChannel
	http *http.Client
}

func newEnv(t *testing.T, cfg inicissim.Config) *env {
	t.Helper()
	if cfg.HoldMax == 0 {
		cfg.HoldMax = 20 * time.Second
	}
	sim := inicissim.New(cfg)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { _ = sim.Close(); srv.Close() })
	return &env{
		sim:  sim,
		srv:  srv,
		conn: inicis.New(inicis.Config{Test: inicis.SimulatorEndpoints(srv.URL + cfg.Prefix), Timeout: 5 * time.Second}),
		ch:   testChannel(),
		http: &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
}

// post sends a form and returns status and body.
func (e *env) post(t *testing.T, rawURL string, v url.Values) (int, string) {
	t.Helper()
	return e.postHeader(t, rawURL, v, nil)
}

func (e *env) postHeader(t *testing.T, rawURL string, v url.Values, h http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var (
	reForm   = regexp.MustCompile(`<form id="inicis-return" method="post" action="([^"]*)"`)
	reInput  = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	reAction = regexp.MustCompile(`<form id="card-form" method="post" action="([^"]*)"`)
	reSID    = regexp.MustCompile(`name="sid" value="([^"]*)"`)
)

// autoPost extracts the form a simulator page posts to the merchant.
func autoPost(t *testing.T, page string) (string, url.Values) {
	t.Helper()
	m := reForm.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no return form in page:\n%s", page)
	}
	i := strings.Index(page, m[0])
	rest := page[i:]
	rest = rest[:strings.Index(rest, "</form>")]
	v := url.Values{}
	for _, in := range reInput.FindAllStringSubmatch(rest, -1) {
		v.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), v
}

// cardPage extracts the card form's action and session id.
func cardPage(t *testing.T, page string) (string, string) {
	t.Helper()
	a, s := reAction.FindStringSubmatch(page), reSID.FindStringSubmatch(page)
	if a == nil || s == nil {
		t.Fatalf("not a card page:\n%s", page)
	}
	return html.UnescapeString(a[1]), s[1]
}

func cardFields(sid, number string) url.Values {
	return url.Values{"sid": {sid}, "cardNumber": {number}, "expiry": {"12/31"}, "birth": {"800101"}, "pwd2digit": {"12"}}
}

func buyer() billkey.Buyer {
	return billkey.Buyer{Name: "홍길동", Email: "gildong@example.com", Tel: "01012345678"}
}
