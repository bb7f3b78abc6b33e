package window_test

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/dbtest"
)

// parseCSP splits a policy into directive → sources.
func parseCSP(t *testing.T, csp string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		if _, dup := out[f[0]]; dup {
			t.Fatalf("directive %s twice in %q", f[0], csp)
		}
		out[f[0]] = f[1:]
	}
	return out
}

// TestPCWindowCSPOnLiveChannel: the page that loads INICIS's real
// INIStdPay.js allows exactly the origins that script needs (its host
// stdpay.inicis.com for the script, its stylesheet, the overlay iframe and
// the form post; stdux.inicis.com for the helper script and overlay images;
// billkey itself for the iframe's last page, the returnUrl) and nothing
// else; a test channel's page allows the simulator's origin instead.
func TestPCWindowCSPOnLiveChannel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil, func(o *cli.AppOptions) { o.AllowLive = true })
		ch := &billkey.Channel{Provider: billkey.ProviderHTML5Inicis, MID: "MOIlive001", Live: true,
			Credentials: inicis.Credentials{SignKey: "live-sign-key", APIKey: "0123456789abcdef", APIIV: "fedcba9876543210", LiteKey: "lite"}.Encode()}
		if err := e.app.Service.AddChannel(context.Background(), e.merchant.ImpCode, ch); err != nil {
			t.Fatal(err)
		}
		p := issueParams("cust-live")
		p["pg"] = "html5_inicis.MOIlive001"
		status, page, hdr := e.post(e.app.BaseURL+"/window/open", openForm(e.merchant.ImpCode, p, "pc", "message"), merchantOrigin)
		if status != 200 || !strings.Contains(page, `src="https://stdpay.inicis.com/stdjs/INIStdPay.js"`) {
			t.Fatalf("open on a live channel: %d\n%s", status, page)
		}
		nonce := "'nonce-" + reNonce.FindStringSubmatch(page)[1] + "'"
		got := parseCSP(t, hdr.Get("Content-Security-Policy"))
		want := map[string][]string{
			"default-src":     {"'none'"},
			"script-src":      {nonce, "https://stdpay.inicis.com", "https://stdux.inicis.com"},
			"style-src":       {nonce, "https://stdpay.inicis.com"},
			"img-src":         {"https://stdpay.inicis.com", "https://stdux.inicis.com"},
			"frame-src":       {"'self'", "https://stdpay.inicis.com"},
			"form-action":     {"https://stdpay.inicis.com"},
			"object-src":      {"'none'"},
			"base-uri":        {"'none'"},
			"frame-ancestors": {merchantOrigin},
		}
		for d, srcs := range want {
			if !slices.Equal(got[d], srcs) {
				t.Errorf("%s = %v, want %v", d, got[d], srcs)
			}
		}
		for d := range got {
			if _, ok := want[d]; !ok {
				t.Errorf("unexpected directive %s %v", d, got[d])
			}
		}

		// A test channel's page: the simulator's origin only.
		status, page, hdr = e.post(e.app.BaseURL+"/window/open", openForm(e.merchant.ImpCode, issueParams("cust-test"), "pc", "message"), merchantOrigin)
		if status != 200 {
			t.Fatalf("open on the test channel: %d\n%s", status, page)
		}
		action, _ := formIn(t, page, reOpenAct)
		u, _ := url.Parse(action)
		sim := u.Scheme + "://" + u.Host
		got = parseCSP(t, hdr.Get("Content-Security-Policy"))
		if !slices.Equal(got["form-action"], []string{sim}) || !slices.Contains(got["script-src"], sim) || len(got["script-src"]) != 2 ||
			got["frame-src"] != nil || !slices.Equal(got["frame-ancestors"], []string{merchantOrigin}) {
			t.Errorf("test channel CSP %v (simulator %s)", got, sim)
		}
	})
}

var reNonce = regexp.MustCompile(`<script nonce="([^"]+)"`)
