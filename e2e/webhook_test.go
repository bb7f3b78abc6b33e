package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/sqlstore"
	"github.com/billkey/billkey/vault"
)

// receiver is a merchant's webhook endpoint: it records every request and
// answers 500 to the first failFirst of them.
type receiver struct {
	srv       *httptest.Server
	mu        sync.Mutex
	reqs      []received
	failFirst int
}

type received struct {
	ID, Timestamp, Signature string
	Body                     []byte
	Answer                   int
}

// hookBody is the webhook body as i'mport sends it.
type hookBody struct {
	ImpUID      *string `json:"imp_uid"`
	MerchantUID string  `json:"merchant_uid"`
	Status      string  `json:"status"`
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	t.Helper()
	rc := &receiver{failFirst: failFirst}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		answer := http.StatusOK
		if len(rc.reqs) < rc.failFirst {
			answer = http.StatusInternalServerError
		}
		rc.reqs = append(rc.reqs, received{ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"),
			Signature: r.Header.Get("webhook-signature"), Body: body, Answer: answer})
		rc.mu.Unlock()
		w.WriteHeader(answer)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) URL() string { return rc.srv.URL + "/iamport-webhook" }

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// accepted returns the requests answered 2xx about the merchant_uid.
func (rc *receiver) accepted(merchantUID string) []received {
	var out []received
	for _, r := range rc.all() {
		var b hookBody
		if json.Unmarshal(r.Body, &b) == nil && b.MerchantUID == merchantUID && r.Answer < 300 {
			out = append(out, r)
		}
	}
	return out
}

// verifyStandardWebhook checks a request's signature the way a receiver
// would, written here from the Standard Webhooks recipe rather than with
// billkey's webhook package: HMAC-SHA256 keyed with the base64-decoded
// secret after "whsec_", over id.timestamp.body; any one of the
// space-separated "v1,<base64>" entries may match.
func verifyStandardWebhook(secret string, r received, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	ts, err := strconv.ParseInt(r.Timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q", r.Timestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %d too far from now", ts)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(r.ID + "." + r.Timestamp + "."))
	m.Write(r.Body)
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, sig := range strings.Fields(r.Signature) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("no signature of %q matches", r.Signature)
}

// restartWithJobs restarts the harness's gateway (same store, keys and
// external simulator, if any) with job options tests need, such as a short
// poll interval and webhook backoff.
func restartWithJobs(h *harness, j cli.JobOptions) {
	h.t.Helper()
	ctx := context.Background()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := h.app.Close(sctx); err != nil {
		h.t.Fatal(err)
	}
	simURL := ""
	if h.app.Simulator == nil {
		simURL = h.app.SimURL
	}
	logger := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	app, err := cli.StartApp(ctx, cli.AppOptions{
		Store: h.store, Keys: h.keys, Logger: logger, Addr: "127.0.0.1:0", PGTimeout: 1500 * time.Millisecond,
		SimulatorURL: simURL, ReconcileDelays: []time.Duration{300 * time.Millisecond, 600 * time.Millisecond, time.Second},
		ReconcileInterval: 100 * time.Millisecond, InFlightMargin: 500 * time.Millisecond, Jobs: j,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	h.app = app
	if app.Simulator != nil {
		h.sim = app.Simulator
	}
	h.t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = app.Close(sctx)
	})
}

// rotateSecret gets a new webhook signing secret through the API.
func (h *harness) rotateSecret(previousValidFor int) string {
	h.t.Helper()
	_, env := h.call("POST", "/webhooks/secret/rotate", map[string]any{"previous_valid_for": previousValidFor})
	var v struct {
		Secret string `json:"secret"`
	}
	if env.Code != 0 || json.Unmarshal(env.Response, &v) != nil || !strings.HasPrefix(v.Secret, "whsec_") {
		h.t.Fatalf("rotate: %s", env.raw)
	}
	if env.header.Get("Cache-Control") != "no-store" {
		h.t.Errorf("rotate reply is cacheable: %v", env.header)
	}
	return v.Secret
}

type deliveryJSON struct {
	ID        int64  `json:"id"`
	WebhookID string `json:"webhook_id"`
	ImpUID    string `json:"imp_uid"`
	State     string `json:"state"`
	Body      string `json:"body"`
	URL       string `json:"url"`
	LastError string `json:"last_error"`
	Attempts  []struct {
		StatusCode  int    `json:"status_code"`
		Error       string `json:"error"`
		LatencyMS   int64  `json:"latency_ms"`
		Node        string `json:"node"`
		AttemptedAt int64  `json:"attempted_at"`
	} `json:"attempts"`
}

func (h *harness) deliveries(query string) (total int, list []deliveryJSON) {
	h.t.Helper()
	_, env := h.call("GET", "/webhooks/deliveries?"+query, nil)
	var page struct {
		Total int            `json:"total"`
		List  []deliveryJSON `json:"list"`
	}
	if env.Code != 0 || json.Unmarshal(env.Response, &page) != nil {
		h.t.Fatalf("deliveries: %s", env.raw)
	}
	return page.Total, page.List
}

// knownKeys returns a keyring and its BILLKEY_KEK / BILLKEY_MAC_KEY values,
// so CLI commands and other processes can open the same database.
func knownKeys(t *testing.T) (vault.Owned, string, string) {
	t.Helper()
	rnd := func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	kek, mac := "k1:"+rnd(), rnd()
	ring, err := vault.Parse(kek, mac)
	if err != nil {
		t.Fatal(err)
	}
	return vault.Owned{Keyring: ring}, kek, mac
}

func TestWebhookRetriesUntilDelivered(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		keys, kek, mac := knownKeys(t)
		h := start(t, dsn, options{keys: &keys})
		restartWithJobs(h, cli.JobOptions{PollInterval: 50 * time.Millisecond,
			WebhookRetry: []time.Duration{200 * time.Millisecond}, WebhookGiveUpAfter: time.Minute})
		rc := newReceiver(t, 3)
		secret := h.rotateSecret(0)
		if _, env := h.call("GET", "/webhooks", nil); env.Code != 0 || bytes.Contains(env.raw, []byte(secret)) ||
			!bytes.Contains(env.raw, []byte(`"secrets":[{`)) {
			t.Fatalf("settings: %s", env.raw)
		}

		h.mustIssue("cust-wh", "4242-4242-4242-4242")
		_, env := h.call("POST", "/subscribe/payments/again", map[string]any{
			"customer_uid": "cust-wh", "merchant_uid": "order-wh", "amount": 5000, "name": "웹훅 테스트", "notice_url": rc.URL(),
		})
		p := env.payment(t)
		if env.Code != 0 || p.Status != "paid" {
			t.Fatalf("again: %s", env.raw)
		}
		eventually(t, 20*time.Second, "the webhook after 3 failures", func() bool { return len(rc.accepted("order-wh")) == 1 })
		reqs := rc.all()
		if len(reqs) != 4 {
			t.Fatalf("receiver got %d requests, want 3 failures and 1 success", len(reqs))
		}
		for i, r := range reqs {
			if r.ID != reqs[0].ID || !strings.HasPrefix(r.ID, "evt_") {
				t.Fatalf("request %d has webhook-id %q, first %q", i, r.ID, reqs[0].ID)
			}
			if want := fmt.Sprintf(`{"imp_uid":%q,"merchant_uid":"order-wh","status":"paid"}`, p.ImpUID); string(r.Body) != want {
				t.Fatalf("body %s, want %s", r.Body, want)
			}
			if err := verifyStandardWebhook(secret, r, time.Now()); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}

		// Every attempt is listed, by the API...
		var d deliveryJSON
		eventually(t, 5*time.Second, "the delivery recorded as delivered", func() bool {
			total, list := h.deliveries("imp_uid=" + p.ImpUID)
			if total == 1 {
				d = list[0]
			}
			return total == 1 && d.State == "delivered"
		})
		codes := []int{}
		for _, a := range d.Attempts {
			codes = append(codes, a.StatusCode)
			if a.Node == "" || a.AttemptedAt == 0 || a.LatencyMS < 0 {
				t.Fatalf("attempt: %+v", a)
			}
		}
		if fmt.Sprint(codes) != "[500 500 500 200]" || d.WebhookID != reqs[0].ID || d.URL != rc.URL() || d.Attempts[0].Error != "HTTP 500" {
			t.Fatalf("delivery: %+v", d)
		}
		// ...and by the CLI.
		t.Setenv("BILLKEY_KEK", kek)
		t.Setenv("BILLKEY_MAC_KEY", mac)
		var out, errb bytes.Buffer
		ctx := context.Background()
		imp := h.merchant.Merchant.ImpCode
		if code := cli.Main(ctx, []string{"webhooks", "list", "--merchant", imp, "--db", dsn, "--imp-uid", p.ImpUID, "--json"}, &out, &errb); code != 0 {
			t.Fatalf("webhooks list: %d %s", code, errb.String())
		}
		var line struct {
			ID       int64 `json:"id"`
			State    string
			Attempts []struct {
				StatusCode int `json:"status_code"`
			} `json:"attempts"`
		}
		if err := json.Unmarshal(out.Bytes(), &line); err != nil || line.ID != d.ID || len(line.Attempts) != 4 || line.Attempts[3].StatusCode != 200 {
			t.Fatalf("cli list: %v %s", err, out.String())
		}
		out.Reset()
		if code := cli.Main(ctx, []string{"webhooks", "list", "--merchant", imp, "--db", dsn}, &out, &errb); code != 0 ||
			!strings.Contains(out.String(), d.WebhookID) || !strings.Contains(out.String(), "delivered") ||
			strings.Count(out.String(), "HTTP 200") != 1 {
			t.Fatalf("cli table: %d %s %s", code, out.String(), errb.String())
		}

		// Resend by API: same webhook-id, one more attempt.
		if _, env := h.call("POST", fmt.Sprintf("/webhooks/deliveries/%d/resend", d.ID), nil); env.Code != 0 {
			t.Fatalf("resend: %s", env.raw)
		}
		eventually(t, 10*time.Second, "the resent webhook", func() bool { return len(rc.accepted("order-wh")) == 2 })

		// Rotate by CLI, keeping the old secret: both sign the next resend.
		out.Reset()
		if code := cli.Main(ctx, []string{"webhooks", "secret", "--merchant", imp, "--db", dsn, "--previous-valid-for", "1h"}, &out, &errb); code != 0 {
			t.Fatalf("webhooks secret: %d %s", code, errb.String())
		}
		newSecret := ""
		for _, f := range strings.Fields(out.String()) {
			if strings.HasPrefix(f, "whsec_") {
				newSecret = f
			}
		}
		if newSecret == "" || newSecret == secret {
			t.Fatalf("cli secret: %s", out.String())
		}
		out.Reset()
		if code := cli.Main(ctx, []string{"webhooks", "resend", "--merchant", imp, "--db", dsn, "--id", strconv.FormatInt(d.ID, 10)}, &out, &errb); code != 0 {
			t.Fatalf("webhooks resend: %d %s", code, errb.String())
		}
		eventually(t, 10*time.Second, "the webhook resent by the CLI", func() bool { return len(rc.accepted("order-wh")) == 3 })
		last := rc.accepted("order-wh")[2]
		if len(strings.Fields(last.Signature)) != 2 || verifyStandardWebhook(secret, last, time.Now()) != nil ||
			verifyStandardWebhook(newSecret, last, time.Now()) != nil {
			t.Fatalf("during rotation: %q", last.Signature)
		}

		// The SSRF guard: even in test mode a link-local address is refused.
		_, env = h.call("POST", "/subscribe/payments/again", map[string]any{
			"customer_uid": "cust-wh", "merchant_uid": "order-ssrf", "amount": 5000, "name": "x",
			"notice_url": "http://169.254.169.254/latest/meta-data",
		})
		ssrf := env.payment(t)
		eventually(t, 10*time.Second, "the refused attempt", func() bool {
			_, list := h.deliveries("imp_uid=" + ssrf.ImpUID)
			return len(list) == 1 && len(list[0].Attempts) > 0 && strings.Contains(list[0].Attempts[0].Error, "link-local")
		})

		// No secret ever reached a log line.
		for _, s := range []string{secret, newSecret} {
			if strings.Contains(h.logs.String(), s) {
				t.Fatal("a webhook secret is in the logs")
			}
		}
	})
}

// TestWebhookSecretsFollowKeyRotation: webhook secrets sealed under an old
// master key are re-wrapped under the new primary (for billkey keys rotate).
func TestWebhookSecretsFollowKeyRotation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		rnd := func() string {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			return base64.StdEncoding.EncodeToString(b)
		}
		oldKey, newKey, mac := "k1:"+rnd(), "k2:"+rnd(), rnd()
		open := func(kek string) (*sqlstore.Store, vault.Owned) {
			t.Helper()
			ring, err := vault.Parse(kek, mac)
			if err != nil {
				t.Fatal(err)
			}
			keys := vault.Owned{Keyring: ring}
			st, err := sqlstore.Open(ctx, dsn, keys)
			if err != nil {
				t.Fatal(err)
			}
			return st, keys
		}
		st, keys := open(oldKey)
		created, err := gateway.New(st, keys, nil, nil).CreateMerchant(ctx, gateway.NewMerchant{Name: "rotation shop"})
		if err != nil {
			t.Fatal(err)
		}
		svc := gateway.New(st, keys, nil, nil)
		first, _ := svc.RotateWebhookSecret(ctx, created.Merchant.ID, time.Hour)
		second, _ := svc.RotateWebhookSecret(ctx, created.Merchant.ID, time.Hour)
		st.Close()

		st, keys = open(newKey + "," + oldKey)
		n, err := gateway.New(st, keys, nil, nil).RewrapWebhookSecrets(ctx, keys.Rewrap)
		st.Close()
		if err != nil || n != 3 { // the secret given at creation, and the two rotated in
			t.Fatalf("rewrapped %d: %v", n, err)
		}
		st, _ = open(newKey) // the old master key is gone
		defer st.Close()
		secrets, _, err := st.WebhookSecrets(ctx, created.Merchant.ID, time.Now())
		// The creation secret stopped signing at the second rotation; the two
		// latest still sign, and open under the new master key alone.
		if err != nil || len(secrets) != 2 || secrets[0] != second.Secret || secrets[1] != first.Secret {
			t.Fatalf("after rotation: %d secrets, %v", len(secrets), err)
		}
	})
}
