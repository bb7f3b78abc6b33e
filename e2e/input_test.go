package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/dbtest"
)

// ledgerSize counts every entry of the simulator's ledger.
func (h *harness) ledgerSize() int {
	l := h.ledger()
	return len(l.Keys) + len(l.Approvals) + len(l.Declines) + len(l.Refunds) + len(l.NetCancels)
}

// TestBytesTheDatabasesCannotHold sends invalid UTF-8 and control characters
// in form bodies, JSON bodies and paths: each is refused at the edge with the
// envelope (HTTP 400), nothing is written and INICIS is never asked.
func TestBytesTheDatabasesCannotHold(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		h.mustIssue("cust-bytes", "4242-4242-4242-4242")
		before := h.ledgerSize()
		card := "card_number=4242-4242-4242-4242&expiry=2030-12&birth=880101&pwd_2digit=12"
		cases := []struct {
			name, method, path string
			body               any
		}{
			{"issue form name", "POST", "/subscribe/customers/cust-new", card + "&customer_name=utf\xff"},
			{"issue form escaped", "POST", "/subscribe/customers/cust-new", card + "&customer_name=utf%FF"},
			{"issue control char", "POST", "/subscribe/customers/cust-new", card + "&customer_name=a%1Bb"},
			{"issue C1 control", "POST", "/subscribe/customers/cust-new", card + "&customer_name=a%C2%85b"},
			{"issue path", "POST", "/subscribe/customers/cust%FFnew", card},
			{"issue path newline", "POST", "/subscribe/customers/cust%0Anew", card},
			{"again form", "POST", "/subscribe/payments/again", "customer_uid=cust-bytes&merchant_uid=order-bytes&amount=1000&name=utf\xff"},
			{"again json", "POST", "/subscribe/payments/again", rawJSON(`{"customer_uid":"cust-bytes","merchant_uid":"order-bytes","amount":1000,"name":"utf` + "\xff" + `"}`)},
			{"again json escape", "POST", "/subscribe/payments/again", rawJSON(`{"customer_uid":"cust-bytes","merchant_uid":"order-bytes","amount":1000,"name":"a\u0007b"}`)},
			{"again newline in name", "POST", "/subscribe/payments/again", "customer_uid=cust-bytes&merchant_uid=order-bytes&amount=1000&name=a%0Ab"},
			{"again bad key", "POST", "/subscribe/payments/again", "customer_uid=cust-bytes&merchant_uid=order-bytes&amount=1000&name=x&k\xff=1"},
			{"onetime", "POST", "/subscribe/payments/onetime", card + "&merchant_uid=order-bytes&amount=1000&name=x&buyer_name=\xfe&buyer_email=a@b.c&buyer_tel=010"},
			{"cancel", "POST", "/payments/cancel", "merchant_uid=order\xff"},
			{"lookup", "GET", "/payments/find/order%FF", nil},
		}
		for _, c := range cases {
			status, env := h.call(c.method, c.path, c.body)
			if status != http.StatusBadRequest || env.Code == 0 || !(strings.Contains(env.msg(), "UTF-8") || strings.Contains(env.msg(), "제어 문자")) {
				t.Errorf("%s: got %d %s, want 400 with a clear message", c.name, status, env.raw)
			}
		}
		if n := h.ledgerSize(); n != before {
			t.Fatalf("INICIS was asked: ledger grew from %d to %d entries", before, n)
		}
		if _, env := h.call("GET", "/subscribe/customers/cust-new", nil); env.Code != 1 {
			t.Fatalf("a customer was written: %s", env.raw)
		}
		if status, env := h.call("GET", "/payments/find/order-bytes", nil); status != http.StatusNotFound {
			t.Fatalf("a payment was written: %d %s", status, env.raw)
		}
		// Multiline fields keep their newlines: custom_data and a cancel reason.
		status, env := h.call("POST", "/subscribe/payments/again", "customer_uid=cust-bytes&merchant_uid=order-ok&amount=1000&name=x&custom_data=line1%0Aline2%09tab")
		if status != 200 || env.Code != 0 || env.payment(t).Status != "paid" {
			t.Fatalf("custom_data with a newline: %d %s", status, env.raw)
		}
		if status, env := h.call("POST", "/payments/cancel", "merchant_uid=order-ok&reason=first%0Asecond"); status != 200 || env.Code != 0 {
			t.Fatalf("reason with a newline: %d %s", status, env.raw)
		}
		// Valid Korean text is of course fine.
		if status, env := h.call("POST", "/subscribe/payments/again", "customer_uid=cust-bytes&merchant_uid=order-ko&amount=1000&name=%EC%9B%94%EA%B0%84"); status != 200 || env.Code != 0 {
			t.Fatalf("Korean name: %d %s", status, env.raw)
		}
	})
}

// rawJSON is a JSON body sent byte for byte.
type rawJSON string

// TestRepeatedParameters: a scalar given twice is refused as ambiguous (in a
// form, in JSON, at one array index), and a POST reads its body only, never
// the query string, while ?_token= still authenticates.
func TestRepeatedParameters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		h.mustIssue("cust-rep", "4242-4242-4242-4242")
		before := len(h.ledger().Approvals)
		for name, body := range map[string]any{
			"form":       "customer_uid=cust-rep&merchant_uid=order-rep&amount=100&name=x&amount=999999",
			"form space": "customer_uid=cust-rep&merchant_uid=order-rep&amount=100&name=x& amount=999999",
			"json":       rawJSON(`{"customer_uid":"cust-rep","merchant_uid":"order-rep","amount":100,"name":"x","amount":999999}`),
		} {
			status, env := h.call("POST", "/subscribe/payments/again", body)
			if status != http.StatusBadRequest || !strings.Contains(env.msg(), "amount") || !strings.Contains(env.msg(), "여러 번") {
				t.Errorf("%s: got %d %s, want 400 naming the repeated amount", name, status, env.raw)
			}
		}
		status, env := h.call("POST", "/subscribe/payments/schedule",
			"customer_uid=cust-rep&schedules[0][merchant_uid]=s1&schedules[0][amount]=100&schedules[0][amount]=999999&schedules[0][schedule_at]=4102444800")
		if status != http.StatusBadRequest {
			t.Errorf("repeated array index: %d %s", status, env.raw)
		}
		if n := len(h.ledger().Approvals); n != before {
			t.Fatalf("a charge reached INICIS: %d approvals, want %d", n, before)
		}
		// The query string of a POST is not read: amount comes from the body.
		token := h.token
		h.token = ""
		status, env = h.call("POST", "/subscribe/payments/again?amount=999999&_token="+token,
			"customer_uid=cust-rep&merchant_uid=order-q&amount=100&name=x")
		h.token = token
		if status != 200 || env.Code != 0 {
			t.Fatalf("again with ?_token: %d %s", status, env.raw)
		}
		if p := env.payment(t); p.Amount != 100 {
			t.Fatalf("charged %d, want the body's 100", p.Amount)
		}
		if a := h.approvalsFor(env.payment(t).ImpUID); len(a) != 1 || a[0].Price != 100 {
			t.Fatalf("INICIS approvals for the order: %+v", a)
		}
		// GET still reads its query string (PHP-style arrays included).
		if status, env := h.call("GET", "/payments/find/order-q?sorting=-started", nil); status != 200 || env.Code != 0 {
			t.Fatalf("GET with a query: %d %s", status, env.raw)
		}
	})
}

// TestNoticeURLValidatedAtInput: notice_url must be an http(s) URL without
// credentials, of sane length, or the charge is refused before INICIS.
func TestNoticeURLValidatedAtInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		h.mustIssue("cust-url", "4242-4242-4242-4242")
		before := len(h.ledger().Approvals)
		for _, u := range []string{"javascript:alert(1)", "ftp://example.com/x", "https://user:pass@example.com/hook",
			"https://" + strings.Repeat("a", 2100) + ".com/", "//example.com/hook", "https:///nohost"} {
			status, env := h.call("POST", "/subscribe/payments/again", map[string]any{
				"customer_uid": "cust-url", "merchant_uid": "order-url", "amount": 1000, "name": "x", "notice_url": u})
			if status != 200 || env.Code != 1 || !strings.Contains(env.msg(), "notice_url") {
				t.Errorf("notice_url %.40q: got %d %s, want code 1 naming notice_url", u, status, env.raw)
			}
		}
		if n := len(h.ledger().Approvals); n != before {
			t.Fatalf("a charge reached INICIS")
		}
		if status, env := h.call("GET", "/payments/find/order-url", nil); status != http.StatusNotFound {
			t.Fatalf("a payment was written: %d %s", status, env.raw)
		}
		// A User-Agent with bytes PostgreSQL cannot hold is cleaned, not a 500.
		status, env := h.call("POST", "/subscribe/payments/again", map[string]any{
			"customer_uid": "cust-url", "merchant_uid": "order-ua", "amount": 1000, "name": "x", "notice_url": "https://shop.example.com/hook"},
			"User-Agent", "agent\xff/"+strings.Repeat("x", 400))
		if status != 200 || env.Code != 0 {
			t.Fatalf("odd User-Agent: %d %s", status, env.raw)
		}
		var p struct {
			UserAgent string `json:"user_agent"`
		}
		_, env = h.call("GET", "/payments/find/order-ua", nil)
		_ = json.Unmarshal(env.Response, &p)
		if !strings.HasPrefix(p.UserAgent, "agent\uFFFD/") || len([]rune(p.UserAgent)) != 256 {
			t.Fatalf("user_agent stored as %q", p.UserAgent)
		}
	})
}

// TestSecretRotationOverlapOverflow: a previous_valid_for whose nanoseconds
// overflow int64 (2^64/1e9 seconds wraps to 0.29 s) is refused, not turned
// into a near-zero overlap that drops the old secret at once.
func TestSecretRotationOverlapOverflow(t *testing.T) {
	h := start(t, dbtest.DSN(t, "sqlite"), options{})
	for _, secs := range []int64{18446744074, 9223372037, 30*24*3600 + 1} {
		_, env := h.call("POST", "/webhooks/secret/rotate", map[string]any{"previous_valid_for": secs})
		if env.Code != 1 || !strings.Contains(env.msg(), "30일") {
			t.Errorf("previous_valid_for=%d: %s, want a refusal", secs, env.raw)
		}
	}
	_, env := h.call("POST", "/webhooks/secret/rotate", map[string]any{"previous_valid_for": 30 * 24 * 3600})
	if env.Code != 0 {
		t.Fatalf("30 days: %s", env.raw)
	}
}
