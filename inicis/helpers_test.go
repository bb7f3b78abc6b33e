package inicis_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/inicissim"
)

func hexSHA512(s string) string { h := sha512.Sum512([]byte(s)); return hex.EncodeToString(h[:]) }
func hexSHA256(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

// testChannel is the public INIBillTst channel (test mode).
func testChannel() billkey.PGChannel {
	return billkey.PGChannel{
		Provider: billkey.ProviderHTML5Inicis,
		MID:      "INIBillTst",
		Credentials: inicis.Credentials{
			SignKey: "SU5JTElURV9UUklQTEVERVNfS0VZU1RS",
			APIKey:  "rKnPljRn5m6J9Mzz",
			APIIV:   "W2KLNKra6Wxc1P==",
			LiteKey: "b09LVzhuTGZVaEY1WmJoQnZzdXpRdz09",
		}.Encode(),
	}
}

// decryptIndependently decrypts an [ENC] field with crypto/cipher directly.
func decryptIndependently(t *testing.T, enc, key, iv string) string {
	t.Helper()
	buf, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		t.Fatalf("base64 %q: %v", enc, err)
	}
	block, _ := aes.NewCipher([]byte(key))
	cipher.NewCBCDecrypter(block, []byte(iv)).CryptBlocks(buf, buf)
	n := int(buf[len(buf)-1])
	return string(buf[:len(buf)-n])
}

// captured is one request seen by a capture server.
type captured struct {
	Path        string
	ContentType string
	Body        []byte
	Form        url.Values
}

// captureServer replies with the given body to every request and records
// the requests.
type captureServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []captured
}

func newCaptureServer(t *testing.T, status int, reply string) *captureServer {
	t.Helper()
	cs := &captureServer{}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		cs.mu.Lock()
		cs.reqs = append(cs.reqs, captured{Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"), Body: body, Form: form})
		cs.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, reply)
	}))
	t.Cleanup(cs.Close)
	return cs
}

func (cs *captureServer) last(t *testing.T) captured {
	t.Helper()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if len(cs.reqs) == 0 {
		t.Fatal("no request captured")
	}
	return cs.reqs[len(cs.reqs)-1]
}

// fixedNow is a KST instant used by wire tests.
var fixedNow = time.Date(2026, 3, 14, 9, 26, 53, 0, inicis.KST)

func newConnector(base string, timeout time.Duration) *inicis.Connector {
	return inicis.New(inicis.Config{
		Test:     inicis.SimulatorEndpoints(base),
		Timeout:  timeout,
		ClientIP: "10.1.2.3",
	})
}

// simEnv is a simulator over real HTTP and a connector pointed at it.
type simEnv struct {
	sim  *inicissim.Simulator
	srv  *httptest.Server
	conn *inicis.Connector
	ch   billkey.PGChannel
}

func newSimEnv(t testing.TB, timeout time.Duration) *simEnv {
	t.Helper()
	sim := inicissim.New(inicissim.Config{HoldMax: 20 * time.Second})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { _ = sim.Close(); srv.Close() })
	return &simEnv{sim: sim, srv: srv, conn: newConnector(srv.URL, timeout), ch: testChannel()}
}

func errCode(err error) string { return billkey.ErrorCode(err) }

func resultErr(t *testing.T, err error) *inicis.ResultError {
	t.Helper()
	var re *inicis.ResultError
	if !errors.As(err, &re) {
		t.Fatalf("error %v carries no *inicis.ResultError", err)
	}
	return re
}

func card(number string) billkey.Card {
	return billkey.Card{Number: number, Expiry: "2031-12", Birth: "800101", Pwd2Digit: "12"}
}

func buyer() billkey.Buyer {
	return billkey.Buyer{Name: "홍길동", Email: "gildong@example.com", Tel: "010-1234-5678"}
}

var _ = bytes.Equal
