package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/internal/teststore"
)

// TestGetTokenThrottled: failed getToken attempts are throttled per client
// address and per imp_key (429 in the envelope, credentials not even
// checked), while a merchant's server that already authenticated from its
// address keeps getting tokens.
func TestGetTokenThrottled(t *testing.T) {
	ctx := context.Background()
	st, keys := teststore.Open(t, dbtest.DSN(t, "sqlite"))
	svc := gateway.New(st, keys, nil, nil)
	m, err := svc.CreateMerchant(ctx, gateway.NewMerchant{Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(svc, nil, NewMetrics())
	srv.Public("POST /users/getToken", http.HandlerFunc(srv.HandleGetToken))
	get := func(addr, key, secret string) (int, envelope, http.Header) {
		body := `{"imp_key":"` + key + `","imp_secret":"` + secret + `"}`
		r := httptest.NewRequest("POST", "/users/getToken", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = addr + ":40000"
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		var env envelope
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
			t.Fatalf("not an envelope: %s", w.Body)
		}
		return w.Code, env, w.Header()
	}
	key, secret := m.Merchant.APIKey, m.ImpSecret
	if code, _, _ := get("192.0.2.1", key, secret); code != 200 { // the merchant's server
		t.Fatalf("getToken: %d", code)
	}
	// A guesser spread over addresses: the key is locked after maxFailsPerKey.
	for i := 0; i < maxFailsPerKey; i++ {
		if code, _, _ := get("198.51.100."+itoa(i), key, "wrong-guess"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	code, env, h := get("203.0.113.9", key, secret)
	if code != http.StatusTooManyRequests || env.Code != -1 || env.Message == nil || h.Get("Retry-After") == "" {
		t.Fatalf("locked key from a new address with the right secret: %d %+v %v", code, env, h)
	}
	// The merchant's own server is not locked out.
	if code, env, _ := get("192.0.2.1", key, secret); code != 200 || env.Code != 0 {
		t.Fatalf("trusted pair: %d %+v", code, env)
	}
	// One address trying many keys is locked after maxFailsPerAddr, even
	// for a key it authenticated with before.
	for i := 0; i < maxFailsPerAddr; i++ {
		get("192.0.2.1", "other-key-"+itoa(i), "x")
	}
	if code, _, _ := get("192.0.2.1", key, secret); code != http.StatusTooManyRequests {
		t.Fatalf("address past its budget: %d", code)
	}

	// The window ends: counters reset.
	th := newTokenThrottle()
	now := time.Unix(1_800_000_000, 0)
	for i := 0; i < maxFailsPerKey; i++ {
		th.failed("k", "a"+itoa(i), now)
	}
	if b, _ := th.blocked("k", "z", now); !b {
		t.Fatal("key not locked")
	}
	if b, _ := th.blocked("k", "z", now.Add(tokenFailWindow)); b {
		t.Fatal("key still locked after the window")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
