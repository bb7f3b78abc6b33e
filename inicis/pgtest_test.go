package inicis_test

import (
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
	"github.com/billkey/billkey/pgtest"
)

// TestConformance runs the PG conformance suite against the KG INICIS
// provider as billkey serve builds it (inicis.Factory), talking over real
// HTTP to the INICIS simulator, whose magic cards give the suite's
// behaviours: 4242… approves, 4000-0000-0000-9995 is declined for lack of
// funds, 4000-0000-0000-0119 is approved without a reply.
func TestConformance(t *testing.T) {
	sim := inicissim.New(inicissim.Config{HoldMax: 20 * time.Second})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { _ = sim.Close(); srv.Close() })
	p, err := inicis.Factory(billkey.PGEnv{SimulatorURL: srv.URL, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b := &simBrowser{client: &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	pgtest.Run(t, pgtest.Harness{
		Provider: p,
		Channel:  testChannel(),
		Cards: pgtest.Cards{
			Approve: card("4242424242424242"),
			Decline: card("4000000000009995"),
			Hang:    card("4000000000000119"),
		},
		Buyer:        billkey.Buyer{Name: "홍길동", Email: "gildong@example.com", Tel: "01012345678"},
		WindowBuyer:  b.pay,
		WindowCancel: b.cancel,
	})
	// Every call above went to the simulator and was recorded there.
	if l := sim.Ledger(); len(l.Approvals) == 0 || len(l.Refunds) == 0 || len(l.NetCancels) != 1 {
		t.Errorf("simulator ledger: %d approvals, %d refunds, %d net cancels", len(l.Approvals), len(l.Refunds), len(l.NetCancels))
	}
}

// simBrowser drives the simulator's INIStdPay window over HTTP as a
// browser would: it posts the form, fills in the card page, and reads the
// auto-submitting form INICIS posts to returnUrl.
type simBrowser struct{ client *http.Client }

var (
	reReturnForm = regexp.MustCompile(`<form id="inicis-return" method="post" action="([^"]*)"`)
	reHidden     = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	reCardForm   = regexp.MustCompile(`<form id="card-form" method="post" action="([^"]*)"`)
	reSession    = regexp.MustCompile(`name="sid" value="([^"]*)"`)
)

func (b *simBrowser) post(t *testing.T, to string, v url.Values) string {
	t.Helper()
	res, err := b.client.PostForm(to, v)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: HTTP %d\n%s", to, res.StatusCode, body)
	}
	return string(body)
}

// open posts the window form and returns the card form's URL and session.
func (b *simBrowser) open(t *testing.T, f *billkey.WindowForm) (string, string) {
	t.Helper()
	page := b.post(t, f.Action, f.Fields)
	a, s := reCardForm.FindStringSubmatch(page), reSession.FindStringSubmatch(page)
	if a == nil || s == nil {
		t.Fatalf("not a card page:\n%s", page)
	}
	base, err := url.Parse(f.Action)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := url.Parse(html.UnescapeString(a[1]))
	if err != nil {
		t.Fatal(err)
	}
	return base.ResolveReference(ref).String(), s[1]
}

func returned(t *testing.T, page string) (string, url.Values) {
	t.Helper()
	m := reReturnForm.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no return form in page:\n%s", page)
	}
	rest := page[strings.Index(page, m[0]):]
	rest = rest[:strings.Index(rest, "</form>")]
	v := url.Values{}
	for _, in := range reHidden.FindAllStringSubmatch(rest, -1) {
		v.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), v
}

func (b *simBrowser) pay(t *testing.T, f *billkey.WindowForm, c billkey.Card) (string, url.Values) {
	action, sid := b.open(t, f)
	expiry := c.Expiry[5:7] + "/" + c.Expiry[2:4]
	return returned(t, b.post(t, action, url.Values{"sid": {sid}, "cardNumber": {c.Number}, "expiry": {expiry},
		"birth": {c.Birth}, "pwd2digit": {c.Pwd2Digit}}))
}

func (b *simBrowser) cancel(t *testing.T, f *billkey.WindowForm) (string, url.Values) {
	action, sid := b.open(t, f)
	u, err := url.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = strings.TrimSuffix(u.Path, "/auth") + "/cancel"
	return returned(t, b.post(t, u.String(), url.Values{"sid": {sid}}))
}
