package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/dbtest"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serving is a "billkey serve" running in the test process.
type serving struct {
	out, errs *syncBuffer
	url       string
	stop      func() int
}

var listenRE = regexp.MustCompile(`listening on (https?://\S+)`)

func serve(t *testing.T, args ...string) *serving {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{out: &syncBuffer{}, errs: &syncBuffer{}}
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), s.out, s.errs)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := listenRE.FindStringSubmatch(s.out.String()); m != nil {
			s.url = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d:\n%s\n%s", code, s.out, s.errs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s\n%s", s.out, s.errs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	code := -1
	s.stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { s.stop() })
	return s
}

func getToken(t *testing.T, url, key, secret string) int {
	t.Helper()
	res, err := http.Post(url+"/users/getToken", "application/json",
		strings.NewReader(fmt.Sprintf(`{"imp_key":%q,"imp_secret":%q}`, key, secret)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

var credRE = regexp.MustCompile(`imp code:\s+(imp\d{8})\s+imp_key:\s+(\S+)\s+imp_secret:\s+(\S+)`)

// TestServeCreatesDemoMerchantOnce: the first serve on an empty database
// prints a demo merchant that can get a token; the second prints none.
func TestServeCreatesDemoMerchantOnce(t *testing.T) {
	dir := t.TempDir()
	s := serve(t, "--data-dir", dir)
	m := credRE.FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("no demo merchant printed:\n%s", s.out)
	}
	if code := getToken(t, s.url, m[2], m[3]); code != 200 {
		t.Fatalf("demo credentials: getToken %d", code)
	}
	if !strings.Contains(s.errs.String(), "NEW MASTER KEY") {
		t.Errorf("the generated master key was not announced:\n%s", s.errs)
	}
	if strings.Contains(s.errs.String(), m[3]) {
		t.Error("the imp_secret appears in the logs")
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("graceful stop exit code %d:\n%s", code, s.errs)
	}
	s2 := serve(t, "--data-dir", dir)
	if strings.Contains(s2.out.String(), "demo merchant") || strings.Contains(s2.errs.String(), "NEW MASTER KEY") {
		t.Fatalf("second start created again:\n%s\n%s", s2.out, s2.errs)
	}
	if code := getToken(t, s2.url, m[2], m[3]); code != 200 {
		t.Fatalf("demo credentials after restart: getToken %d", code)
	}
}

// TestMerchantCreateJSON: "merchant create --json" prints exactly one JSON
// object, works while serve runs on the same database, and serve accepts
// its credentials; on both databases.
func TestMerchantCreateJSON(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		keyFile := filepath.Join(dir, "keys.json")
		var out, errs bytes.Buffer
		if code := cli.Main(context.Background(), []string{"keys", "generate", "--key-file", keyFile}, &out, &errs); code != 0 {
			t.Fatalf("keys generate: %s", errs.String())
		}
		out.Reset()
		s := serve(t, "--db", dsn, "--key-file", keyFile, "--no-demo", "--data-dir", dir)
		code := cli.Main(context.Background(), []string{"merchant", "create", "--db", dsn, "--data-dir", dir,
			"--key-file", keyFile, "--name", "shop", "--json"}, &out, &errs)
		if code != 0 {
			t.Fatalf("merchant create: %d %s", code, errs.String())
		}
		dec := json.NewDecoder(&out)
		var created map[string]any
		if err := dec.Decode(&created); err != nil {
			t.Fatalf("not JSON: %q", out.String())
		}
		if dec.More() {
			t.Fatal("more than one JSON value printed")
		}
		code2 := fmt.Sprint(created["imp_code"])
		if !regexp.MustCompile(`^imp\d{8}$`).MatchString(code2) || created["imp_key"] == nil || created["imp_secret"] == nil {
			t.Fatalf("fields: %v", created)
		}
		if c := getToken(t, s.url, fmt.Sprint(created["imp_key"]), fmt.Sprint(created["imp_secret"])); c != 200 {
			t.Fatalf("serve refused the new merchant: %d", c)
		}
		if c := getToken(t, s.url, fmt.Sprint(created["imp_key"]), "wrong"); c != 401 {
			t.Fatalf("wrong secret: %d", c)
		}
		// Keeping i'mport's values, and refusing a taken imp code.
		var out2, errs2 bytes.Buffer
		args := []string{"merchant", "create", "--db", dsn, "--data-dir", dir, "--key-file", keyFile, "--name", "moved",
			"--imp-code", "imp87654321", "--imp-key", "1234567890123456", "--imp-secret", "old-iamport-secret-value", "--json"}
		if code := cli.Main(context.Background(), args, &out2, &errs2); code != 0 {
			t.Fatalf("create with kept values: %s", errs2.String())
		}
		if c := getToken(t, s.url, "1234567890123456", "old-iamport-secret-value"); c != 200 {
			t.Fatalf("kept credentials: %d", c)
		}
		args[len(args)-5] = "9999999999999999"
		if code := cli.Main(context.Background(), args, &out2, &errs2); code == 0 {
			t.Fatal("a taken imp code was accepted")
		}
		var list bytes.Buffer
		if code := cli.Main(context.Background(), []string{"merchant", "list", "--db", dsn, "--data-dir", dir, "--key-file", keyFile}, &list, &errs2); code != 0 ||
			!strings.Contains(list.String(), "imp87654321") || strings.Contains(list.String(), "old-iamport-secret-value") {
			t.Fatalf("list: %s", list.String())
		}
		var chans bytes.Buffer
		if code := cli.Main(context.Background(), []string{"channel", "list", "--db", dsn, "--data-dir", dir, "--key-file", keyFile, "--merchant", "imp87654321"}, &chans, &errs2); code != 0 ||
			!strings.Contains(chans.String(), "INIBillTst") || strings.Contains(chans.String(), "rKnPljRn5m6J9Mzz") {
			t.Fatalf("channel list: %s %s", chans.String(), errs2.String())
		}
	})
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"bogus"}, {"merchant"}, {"merchant", "create", "--nope"}} {
		var out, errs bytes.Buffer
		if code := cli.Main(context.Background(), args, &out, &errs); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
	var out bytes.Buffer
	if code := cli.Main(context.Background(), []string{"version"}, &out, &out); code != 0 || !strings.HasPrefix(out.String(), "billkey ") {
		t.Errorf("version: %d %q", code, out.String())
	}
}
