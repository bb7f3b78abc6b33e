package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/billkey/billkey/inicissim"
	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/dbtest"
)

// apiClient calls a running billkey's REST API as a merchant would.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

type envelope struct {
	Code     int             `json:"code"`
	Message  *string         `json:"message"`
	Response json.RawMessage `json:"response"`
}

func newAPIClient(t *testing.T, base, key, secret string) *apiClient {
	t.Helper()
	c := &apiClient{t: t, base: base}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if env := c.call("POST", "/users/getToken", url.Values{"imp_key": {key}, "imp_secret": {secret}}); env.Code != 0 {
		t.Fatalf("getToken: %+v", env)
	} else if err := json.Unmarshal(env.Response, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("getToken response %s: %v", env.Response, err)
	}
	c.token = tok.AccessToken
	return c
}

// call sends a form request and decodes the envelope; transport errors and
// non-JSON replies fail the test (from any goroutine: Errorf, then a zero
// envelope with code -999).
func (c *apiClient) call(method, path string, form url.Values) envelope {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.token != "" {
		req.Header.Set("Authorization", c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Errorf("%s %s: %v", method, path, err)
		return envelope{Code: -999}
	}
	defer res.Body.Close()
	var env envelope
	if err := json.NewDecoder(res.Body).Decode(&env); err != nil {
		c.t.Errorf("%s %s: HTTP %d, not an envelope: %v", method, path, res.StatusCode, err)
		return envelope{Code: -999}
	}
	return env
}

func (c *apiClient) register(uid string) bool {
	env := c.call("POST", "/subscribe/customers/"+uid, url.Values{
		"card_number": {"4242-4242-4242-4242"}, "expiry": {"2030-12"}, "birth": {"880101"}, "pwd_2digit": {"12"}})
	return env.Code == 0
}

// charge charges a billing key and reports whether the payment is paid.
func (c *apiClient) charge(customerUID, merchantUID string) bool {
	env := c.call("POST", "/subscribe/payments/again", url.Values{
		"customer_uid": {customerUID}, "merchant_uid": {merchantUID}, "amount": {"9900"}, "name": {"월간 이용권"}})
	var p struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(env.Response, &p)
	return env.Code == 0 && p.Status == "paid"
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errs bytes.Buffer
	code = cli.Main(context.Background(), args, &out, &errs)
	return code, out.String(), errs.String()
}

// TestBackupUnderLoadAndRestore: "billkey backup" copies a serving SQLite
// database while charges and billing key registrations run; "billkey
// restore" makes it the database of a new data folder, where every payment
// and billing key acknowledged before the backup started is found, and a
// restored billing key charges against the (shared) INICIS simulator.
func TestBackupUnderLoadAndRestore(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "master-key.json")
	if code, _, errs := run(t, "keys", "generate", "--key-file", keyFile); code != 0 {
		t.Fatalf("keys generate: %s", errs)
	}
	sim := httptest.NewServer(inicissim.New(inicissim.Config{}))
	defer sim.Close()
	s := serve(t, "--data-dir", dir, "--key-file", keyFile, "--inicis-sim-url", sim.URL)
	m := credRE.FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("no demo merchant printed:\n%s", s.out)
	}
	api := newAPIClient(t, s.url, m[2], m[3])

	// The load: workers register keys and charge them until told to stop.
	var (
		mu                sync.Mutex
		paid              []string // merchant_uids acknowledged paid
		keys              []string // customer_uids acknowledged registered
		stop              = make(chan struct{})
		wg                sync.WaitGroup
		acks              = make(chan bool, 1<<16) // one per paid charge: after the backup started?
		backupStarted     bool
		paidBefore, keysB []string
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				uid := fmt.Sprintf("cust_%d_%d", w, i/3)
				if i%3 == 0 {
					if !api.register(uid) {
						t.Errorf("register %s failed", uid)
						return
					}
					mu.Lock()
					keys = append(keys, uid)
					mu.Unlock()
				}
				order := fmt.Sprintf("order_%d_%d", w, i)
				if !api.charge(uid, order) {
					t.Errorf("charge %s failed", order)
					return
				}
				mu.Lock()
				paid = append(paid, order)
				after := backupStarted
				mu.Unlock()
				acks <- after
			}
		}()
	}
	stopLoad := func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}
	defer stopLoad()
	// Wait for some work to exist, then back up while it continues.
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	nextAck := func() bool {
		select {
		case a := <-acks:
			return a
		case <-allDone:
			t.Fatal("the load stopped early")
			return false
		}
	}
	for range 40 {
		nextAck()
	}
	mu.Lock()
	backupStarted = true
	paidBefore = append([]string(nil), paid...)
	keysB = append([]string(nil), keys...)
	mu.Unlock()

	out := filepath.Join(t.TempDir(), "billkey-backup.db")
	code, stdout, stderr := run(t, "backup", "--data-dir", dir, "--key-file", keyFile, "--out", out)
	t.Logf("%s", stdout)
	if code != 0 {
		t.Fatalf("backup: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The load kept running during and after the backup: wait for charges
	// acknowledged after it started, so the overlap is real.
	for n := 0; n < 8; {
		if nextAck() {
			n++
		}
	}
	stopLoad()
	if t.Failed() {
		t.FailNow()
	}
	if !strings.Contains(stdout, "master key") || !strings.Contains(stdout, "NOT in the backup") {
		t.Errorf("backup did not remind about the master key:\n%s", stdout)
	}
	if !strings.Contains(stdout, "billing keys") {
		t.Errorf("backup did not report the sealed secrets it checked:\n%s", stdout)
	}
	if _, err := os.Stat(out + ".partial"); !os.IsNotExist(err) {
		t.Errorf("the partial file was left behind: %v", err)
	}
	// A second backup to the same file is refused, the first kept.
	before, _ := os.ReadFile(out)
	if code, _, stderr := run(t, "backup", "--data-dir", dir, "--key-file", keyFile, "--out", out); code == 0 || !strings.Contains(stderr, "already exists") {
		t.Errorf("backup over an existing file: exit %d %s", code, stderr)
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
		t.Error("the existing backup was changed")
	}
	// A backup checked with another master key is refused.
	otherKey := filepath.Join(t.TempDir(), "other-key.json")
	if code, _, errs := run(t, "keys", "generate", "--key-file", otherKey); code != 0 {
		t.Fatalf("keys generate: %s", errs)
	}
	out2 := filepath.Join(t.TempDir(), "wrong-key.db")
	if code, _, stderr := run(t, "backup", "--data-dir", dir, "--key-file", otherKey, "--out", out2); code == 0 || !strings.Contains(stderr, "does not open with the configured master key") {
		t.Errorf("backup with a wrong key: exit %d %s", code, stderr)
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Errorf("an unusable backup was left at %s", out2)
	}
	// Restore needs the master key: a new folder without one is refused
	// (no key is generated for it).
	dir2 := t.TempDir()
	if code, _, stderr := run(t, "restore", "--data-dir", dir2, "--from", out); code == 0 || !strings.Contains(stderr, "backed up separately") {
		t.Errorf("restore without the master key: exit %d %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir2, "master-key.json")); !os.IsNotExist(err) {
		t.Error("restore generated a master key")
	}
	code, stdout, stderr = run(t, "restore", "--data-dir", dir2, "--key-file", keyFile, "--from", out)
	if code != 0 {
		t.Fatalf("restore: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "NOT in the backup") {
		t.Errorf("restore did not remind about the master key:\n%s", stdout)
	}
	// Restore never overwrites: not the restored database, not the live one.
	for _, d := range []string{dir2, dir} {
		if code, _, stderr := run(t, "restore", "--data-dir", d, "--key-file", keyFile, "--from", out); code == 0 || !strings.Contains(stderr, "never overwrites") {
			t.Errorf("restore over %s: exit %d %s", d, code, stderr)
		}
	}
	s.stop()

	// Serve the restored folder with the same key and simulator.
	r := serve(t, "--data-dir", dir2, "--key-file", keyFile, "--inicis-sim-url", sim.URL, "--no-demo")
	rapi := newAPIClient(t, r.url, m[2], m[3])
	for _, order := range paidBefore {
		env := rapi.call("GET", "/payments/find/"+order, nil)
		var p struct {
			Status string `json:"status"`
			Amount int64  `json:"amount"`
		}
		_ = json.Unmarshal(env.Response, &p)
		if env.Code != 0 || p.Status != "paid" || p.Amount != 9900 {
			t.Errorf("payment %s after restore: code %d %s", order, env.Code, env.Response)
		}
	}
	for _, uid := range keysB {
		if env := rapi.call("GET", "/subscribe/customers/"+uid, nil); env.Code != 0 {
			t.Errorf("billing key %s after restore: %+v", uid, env)
		}
	}
	if len(paidBefore) < 40 || len(keysB) == 0 {
		t.Fatalf("too little load before the backup: %d payments, %d keys", len(paidBefore), len(keysB))
	}
	// The restored key still charges at INICIS (the simulator).
	if !rapi.charge(keysB[0], "after_restore_1") {
		t.Error("a restored billing key did not charge")
	}
}

// TestBackupRefusesPostgres: on PostgreSQL, backup and restore refuse and
// point at pg_dump / pg_restore.
func TestBackupRefusesPostgres(t *testing.T) {
	dsn := dbtest.Postgres(t)
	code, _, stderr := run(t, "backup", "--db", dsn, "--out", filepath.Join(t.TempDir(), "x.db"))
	if code == 0 || !strings.Contains(stderr, "pg_dump") {
		t.Errorf("backup of PostgreSQL: exit %d %s", code, stderr)
	}
	code, _, stderr = run(t, "restore", "--db", dsn, "--from", filepath.Join(t.TempDir(), "x.db"))
	if code == 0 || !strings.Contains(stderr, "pg_restore") {
		t.Errorf("restore into PostgreSQL: exit %d %s", code, stderr)
	}
}
