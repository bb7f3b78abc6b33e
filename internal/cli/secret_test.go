package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/dbtest"
)

func tokenFor(t *testing.T, url, key, secret string) (int, string) {
	t.Helper()
	res, err := http.Post(url+"/users/getToken", "application/json",
		strings.NewReader(fmt.Sprintf(`{"imp_key":%q,"imp_secret":%q}`, key, secret)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var env struct {
		Response struct {
			AccessToken string `json:"access_token"`
		} `json:"response"`
	}
	_ = json.NewDecoder(res.Body).Decode(&env)
	return res.StatusCode, env.Response.AccessToken
}

func authorized(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/subscribe/customers/nobody", nil)
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// TestRotateSecretAndRevokeTokens: "merchant rotate-secret" prints a new
// secret once while the old one keeps working for --overlap (and not with
// --overlap 0); "merchant revoke-tokens" ends the merchant's tokens on every
// running node, token caches included. Two serve nodes on one database, on
// both databases.
func TestRotateSecretAndRevokeTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		keyFile := filepath.Join(dir, "keys.json")
		run := func(args ...string) string {
			t.Helper()
			var out, errs bytes.Buffer
			args = append(args, "--db", dsn, "--data-dir", dir, "--key-file", keyFile)
			if code := cli.Main(context.Background(), args, &out, &errs); code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, errs.String())
			}
			return out.String()
		}
		run("keys", "generate")
		var created map[string]string
		_ = json.Unmarshal([]byte(run("merchant", "create", "--name", "shop", "--json")), &created)
		code, key, oldSecret := created["imp_code"], created["imp_key"], created["imp_secret"]
		a := serve(t, "--db", dsn, "--key-file", keyFile, "--no-demo", "--data-dir", dir)
		// A second node on the same data folder needs its own simulator
		// state file (one simulator per file).
		b := serve(t, "--db", dsn, "--key-file", keyFile, "--no-demo", "--data-dir", dir, "--inicis-sim-state", filepath.Join(dir, "sim-b.db"))

		// Rotation with an overlap: both secrets work.
		var rot map[string]any
		_ = json.Unmarshal([]byte(run("merchant", "rotate-secret", "--merchant", code, "--overlap", "1h", "--json")), &rot)
		newSecret, _ := rot["imp_secret"].(string)
		if len(newSecret) < 40 || newSecret == oldSecret || rot["old_secret_valid_until"] == nil {
			t.Fatalf("rotate-secret: %v", rot)
		}
		if s, _ := tokenFor(t, a.url, key, oldSecret); s != 200 {
			t.Fatalf("old secret within the overlap: %d", s)
		}
		s, tok := tokenFor(t, b.url, key, newSecret)
		if s != 200 || tok == "" {
			t.Fatalf("new secret: %d", s)
		}
		// Rotating again without overlap: only the newest works.
		_ = json.Unmarshal([]byte(run("merchant", "rotate-secret", "--merchant", code, "--overlap", "0", "--json")), &rot)
		newest, _ := rot["imp_secret"].(string)
		for _, old := range []string{oldSecret, newSecret} {
			if s, _ := tokenFor(t, a.url, key, old); s != http.StatusUnauthorized {
				t.Fatalf("a replaced secret still works: %d", s)
			}
		}
		if s, _ := tokenFor(t, a.url, key, newest); s != 200 {
			t.Fatalf("newest secret: %d", s)
		}
		// The token is cached by both nodes; revocation reaches both.
		for _, n := range []*serving{a, b} {
			if s := authorized(t, n.url, tok); s != 200 {
				t.Fatalf("token before revocation: %d", s)
			}
		}
		if out := run("merchant", "revoke-tokens", "--merchant", code); !strings.Contains(out, "revoked") {
			t.Fatalf("revoke-tokens: %q", out)
		}
		for _, n := range []*serving{a, b} {
			deadline := time.Now().Add(10 * time.Second)
			for authorized(t, n.url, tok) != http.StatusUnauthorized {
				if time.Now().After(deadline) {
					t.Fatalf("node %s still accepts the revoked token", n.url)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		// A new token can be had, and it is a different one.
		if s, tok2 := tokenFor(t, b.url, key, newest); s != 200 || tok2 == tok {
			t.Fatalf("token after revocation: %d (same token: %v)", s, tok2 == tok)
		}
	})
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestMetricsNotPublicByDefault: /metrics is not on the public listener
// unless --public-metrics says so; with --admin-addr it is on the admin
// listener only.
func TestMetricsNotPublicByDefault(t *testing.T) {
	s := serve(t, "--data-dir", t.TempDir(), "--no-demo")
	if status, body := get(t, s.url+"/metrics"); status == 200 || strings.Contains(body, "go_goroutines") {
		t.Fatalf("/metrics on the public listener by default: %d", status)
	}
	admin := freeAddr(t)
	s2 := serve(t, "--data-dir", t.TempDir(), "--no-demo", "--admin-addr", admin)
	if status, _ := get(t, s2.url+"/metrics"); status == 200 {
		t.Fatal("/metrics on the public listener with an admin listener")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get("http://" + admin + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.Contains(string(b), "go_goroutines") {
				t.Fatalf("admin /metrics: %d", res.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("admin listener: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s3 := serve(t, "--data-dir", t.TempDir(), "--no-demo", "--public-metrics")
	if status, body := get(t, s3.url+"/metrics"); status != 200 || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("--public-metrics: %d", status)
	}
}
