package cli_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key,
// and returns their paths and a pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "billkey test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS: with --tls-cert and --tls-key billkey serves HTTPS (TLS 1.2
// or later) on --addr, its default public URL is https, and plain HTTP gets
// no API reply.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	s := serve(t, "--data-dir", t.TempDir(), "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(s.url, "https://") {
		t.Fatalf("public URL %q is not https", s.url)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := client.Get(s.url + "/healthz")
	if err != nil {
		t.Fatalf("https: %v", err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil || res.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("https /healthz: %d %+v", res.StatusCode, res.TLS)
	}
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if _, err := old.Get(s.url + "/healthz"); err == nil {
		t.Error("TLS 1.1 was accepted")
	}
	plain := "http://" + strings.TrimPrefix(s.url, "https://")
	if res, err := http.Get(plain + "/healthz"); err == nil {
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Error("plain HTTP answered on the TLS listener")
		}
	}
	// A key without a certificate is refused at start.
	if code, _, stderr := run(t, "serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--tls-key", keyFile); code == 0 || !strings.Contains(stderr, "--tls-cert and --tls-key") {
		t.Errorf("--tls-key alone: exit %d %s", code, stderr)
	}
}

// TestLivePublicURLMustBeHTTPS: with an explicit master key and a live
// channel, serve refuses a public URL that is not https unless overridden;
// without a live channel yet it starts with live channels disabled.
func TestLivePublicURLMustBeHTTPS(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "keys.json")
	if code, _, errs := run(t, "keys", "generate", "--key-file", keyFile); code != 0 {
		t.Fatalf("keys generate: %s", errs)
	}
	common := []string{"--data-dir", dir, "--key-file", keyFile}
	s := serve(t, append(common, "--public-url", "http://pay.example")...)
	m := credRE.FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("no demo merchant:\n%s", s.out)
	}
	if !strings.Contains(s.errs.String(), "live channels are disabled on this node") {
		t.Errorf("no warning that live channels are disabled:\n%s", s.errs)
	}
	// A live channel added while it runs is refused by this node, before
	// any PG call.
	code, _, stderr := run(t, append([]string{"channel", "add", "--merchant", m[1], "--mid", "MYMID00001", "--live",
		"--sign-key", "SU5JTElURV9UUklQTEVERVNfS0VZU1RS", "--iniapi-key", "ItEQKi3rY7uvDS8l", "--iniapi-iv", "HYb3yQ4f65QL89==",
		"--inilite-key", "b09LVzhuTGZVaEY1WmJoQnZzdXpRdz09"}, common...)...)
	if code != 0 {
		t.Fatalf("channel add --live: %s", stderr)
	}
	addr := regexp.MustCompile(` addr=(127\.0\.0\.1:\d+)`).FindStringSubmatch(s.errs.String())
	if addr == nil {
		t.Fatalf("no listen address logged:\n%s", s.errs)
	}
	api := newAPIClient(t, "http://"+addr[1], m[2], m[3])
	env := api.call("POST", "/subscribe/customers/live_cust", map[string][]string{"pg": {"html5_inicis.MYMID00001"},
		"card_number": {"4242-4242-4242-4242"}, "expiry": {"2030-12"}, "birth": {"880101"}, "pwd_2digit": {"12"}})
	if env.Code == 0 || env.Message == nil || !strings.Contains(*env.Message, "실결제(live)") {
		t.Errorf("a live channel was usable on a node with an http public URL: %+v", env)
	}
	s.stop()
	for _, public := range []string{"http://pay.example", ""} {
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--no-demo"}, common...)
		if public != "" {
			args = append(args, "--public-url", public)
		}
		code, _, stderr := run(t, args...)
		if code == 0 || !strings.Contains(stderr, "live mode needs an https --public-url") {
			t.Errorf("public URL %q with a live channel: exit %d %s", public, code, stderr)
		}
	}
	s2 := serve(t, append(common, "--no-demo", "--public-url", "https://pay.example")...)
	s2.stop()
	s3 := serve(t, append(common, "--no-demo", "--public-url", "http://pay.example", "--insecure-public-url")...)
	if !strings.Contains(s3.errs.String(), "not https (--insecure-public-url)") {
		t.Errorf("the override was not logged:\n%s", s3.errs)
	}
}
