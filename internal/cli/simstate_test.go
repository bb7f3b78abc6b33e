package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/internal/cli"
)

// call sends an i'mport API request and decodes the envelope.
func call(t *testing.T, base, method, path, token string, body any) (code int, message string, response json.RawMessage) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var env struct {
		Code     int             `json:"code"`
		Message  string          `json:"message"`
		Response json.RawMessage `json:"response"`
	}
	if err := json.NewDecoder(res.Body).Decode(&env); err != nil {
		t.Fatalf("%s %s: %d, not an envelope: %v", method, path, res.StatusCode, err)
	}
	return env.Code, env.Message, env.Response
}

func accessToken(t *testing.T, base, key, secret string) string {
	t.Helper()
	code, msg, resp := call(t, base, "POST", "/users/getToken", "", map[string]string{"imp_key": key, "imp_secret": secret})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if code != 0 || json.Unmarshal(resp, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("getToken: %d %s", code, msg)
	}
	return tok.AccessToken
}

// TestServeSimulatorStateSurvivesRestart: a test customer registered before
// "billkey serve" restarts (same data folder) is charged after it, instead
// of the simulator refusing a billing key it forgot.
func TestServeSimulatorStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s := serve(t, "--data-dir", dir)
	m := credRE.FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("no demo merchant printed:\n%s", s.out)
	}
	tok := accessToken(t, s.url, m[2], m[3])
	if code, msg, _ := call(t, s.url, "POST", "/subscribe/customers/cust-restart", tok, map[string]any{
		"card_number": "4242-4242-4242-4242", "expiry": "2031-12", "birth": "800101", "pwd_2digit": "12",
	}); code != 0 {
		t.Fatalf("register customer: %d %s", code, msg)
	}
	if code, msg, _ := call(t, s.url, "POST", "/subscribe/payments/again", tok, map[string]any{
		"customer_uid": "cust-restart", "merchant_uid": "before-restart", "amount": 1000, "name": "before",
	}); code != 0 {
		t.Fatalf("charge before the restart: %d %s", code, msg)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("stop: %d\n%s", code, s.errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "inicis-sim.db")); err != nil {
		t.Fatalf("no simulator state file in the data folder: %v", err)
	}

	s2 := serve(t, "--data-dir", dir)
	tok = accessToken(t, s2.url, m[2], m[3])
	code, msg, resp := call(t, s2.url, "POST", "/subscribe/payments/again", tok, map[string]any{
		"customer_uid": "cust-restart", "merchant_uid": "after-restart", "amount": 2000, "name": "after",
	})
	var p struct {
		Status string `json:"status"`
		Amount int64  `json:"amount"`
	}
	if code != 0 || json.Unmarshal(resp, &p) != nil || p.Status != "paid" || p.Amount != 2000 {
		t.Fatalf("charge after the restart: %d %s %s", code, msg, resp)
	}
	// The payment made before the restart is still refundable at the PG.
	if code, msg, _ := call(t, s2.url, "POST", "/payments/cancel", tok, map[string]any{"merchant_uid": "before-restart", "reason": "test"}); code != 0 {
		t.Fatalf("refund a payment approved before the restart: %d %s", code, msg)
	}
}

var simListenRE = regexp.MustCompile(`listening on (http://\S+)`)

// TestInicisSimStateFlag: "billkey inicis-sim --state FILE" keeps billing
// keys across restarts; it says "listening" only once it listens, and a
// busy address is an error without that line.
func TestInicisSimStateFlag(t *testing.T) {
	state := filepath.Join(t.TempDir(), "sim.db")
	start := func() (string, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		out, errs := &syncBuffer{}, &syncBuffer{}
		done := make(chan int, 1)
		go func() {
			done <- cli.Main(ctx, []string{"inicis-sim", "--addr", "127.0.0.1:0", "--state", state}, out, errs)
		}()
		deadline := time.Now().Add(20 * time.Second)
		for {
			if m := simListenRE.FindStringSubmatch(out.String()); m != nil {
				return m[1], func() {
					cancel()
					if code := <-done; code != 0 {
						t.Errorf("inicis-sim exit %d: %s", code, errs)
					}
				}
			}
			select {
			case code := <-done:
				t.Fatalf("inicis-sim exited %d: %s %s", code, out, errs)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("inicis-sim did not start: %s %s", out, errs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	base, stop := start()
	if strings.HasSuffix(base, ":0") {
		t.Fatalf("listening line shows the requested port, not the bound one: %s", base)
	}
	ctx := context.Background()
	ch := billkey.PGChannel{MID: "INIBillTst", Credentials: inicis.Credentials{
		SignKey: "SU5JTElURV9UUklQTEVERVNfS0VZU1RS", APIKey: "rKnPljRn5m6J9Mzz", APIIV: "W2KLNKra6Wxc1P=="}.Encode()}
	conn := inicis.New(inicis.Config{Test: inicis.SimulatorEndpoints(base), Timeout: 5 * time.Second})
	bk, err := conn.IssueBillingKey(ctx, ch, billkey.IssueRequest{OrderID: "o-issue", Card: billkey.Card{Number: "4242424242424242", Expiry: "2031-12", Birth: "800101"}})
	if err != nil {
		t.Fatal(err)
	}
	// While it runs, a second simulator on the same address fails without
	// claiming to listen.
	var out, errs bytes.Buffer
	busy := strings.TrimPrefix(base, "http://")
	if code := cli.Main(ctx, []string{"inicis-sim", "--addr", busy}, &out, &errs); code == 0 || strings.Contains(out.String(), "listening") {
		t.Fatalf("busy address: exit %d, out %q", code, out.String())
	}
	stop()

	base2, stop2 := start()
	defer stop2()
	conn2 := inicis.New(inicis.Config{Test: inicis.SimulatorEndpoints(base2), Timeout: 5 * time.Second})
	if _, err := conn2.Charge(ctx, ch, billkey.ChargeRequest{OrderID: "o-charge", BillingKey: bk.Key, Amount: 1000, GoodName: "g"}); err != nil {
		t.Fatalf("charge with a key issued before the restart: %v", err)
	}
}
