package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/inicissim"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/sqlstore"
	"github.com/billkey/billkey/vault"
)

// Crash drills: billkey serve runs as a process against an out-of-process
// simulator (billkey inicis-sim); clients charge and cancel concurrently,
// retrying with the same merchant_uid as i'mport clients do; the process is
// killed with SIGKILL and restarted several times (and, in one subtest, the
// PostgreSQL server restarts in immediate mode mid-load); after
// reconciliation the simulator's ledger is checked against the database.
//
// BILLKEY_DRILL_ROUNDS sets the number of kills (default 3; the issue's
// operator drill used 6) and BILLKEY_DRILL_ROUND_MS the load between kills
// (default 1500).

func drillRounds() (int, time.Duration) {
	rounds, every := 3, 1500*time.Millisecond
	if n, err := strconv.Atoi(os.Getenv("BILLKEY_DRILL_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	if n, err := strconv.Atoi(os.Getenv("BILLKEY_DRILL_ROUND_MS")); err == nil && n > 0 {
		every = time.Duration(n) * time.Millisecond
	}
	return rounds, every
}

// freePort returns a loopback address nothing listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// simProcess runs "billkey inicis-sim" and returns its base URL.
func simProcess(t *testing.T, bin string) string {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(bin, "inicis-sim", "--addr", addr, "--log-level", "error", "--hold-max", "3s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	select {
	case <-ready:
	case <-done:
		t.Fatal("inicis-sim exited")
	case <-time.After(30 * time.Second):
		t.Fatal("inicis-sim did not start")
	}
	url := "http://" + addr
	eventually(t, 10*time.Second, "the simulator to answer", func() bool {
		res, err := http.Get(url + "/_sim/ledger")
		if err == nil {
			res.Body.Close()
		}
		return err == nil && res.StatusCode == 200
	})
	return url
}

func simLedger(t *testing.T, url string) inicissim.Ledger {
	t.Helper()
	res, err := http.Get(url + "/_sim/ledger")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var l inicissim.Ledger
	if err := json.NewDecoder(res.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	return l
}

func simFaults(t *testing.T, url string, f inicissim.Faults) {
	t.Helper()
	b, _ := json.Marshal(f)
	res, err := http.Post(url+"/_sim/faults", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("set faults: %d", res.StatusCode)
	}
}

// drillClient is a merchant's server: it charges and cancels, retrying
// anything without a definite answer with the same merchant_uid.
type drillClient struct {
	base, token string
	http        *http.Client
}

// post returns the envelope, or ok=false when no envelope came back (the
// node died, refused the connection, or answered something else).
func (c *drillClient) post(path string, body any) (env envelope, ok bool) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", c.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", c.token)
	res, err := c.http.Do(req)
	if err != nil {
		return env, false
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if json.Unmarshal(raw, &env) != nil {
		return env, false
	}
	env.raw = raw
	return env, true
}

type drillStats struct {
	charges, paid, failed, retries, cancels, cancelled atomic.Int64
}

// drive runs workers until stop closes: each charges a fresh merchant_uid
// (retrying it until a definite answer), and cancels about a third of what
// was paid, in full (a full refund's unknown outcome is retried safely).
func (c *drillClient) drive(stop <-chan struct{}, worker int, customers []string, st *drillStats) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		uid := fmt.Sprintf("drill-%d-%d", worker, i)
		amount := int64(1000 + 100*(i%50))
		st.charges.Add(1)
		var p payment
		for try := 0; ; try++ {
			env, ok := c.post("/subscribe/payments/again", map[string]any{"customer_uid": customers[(worker+i)%len(customers)],
				"merchant_uid": uid, "amount": amount, "name": "정기결제"})
			if ok && env.Code == 0 {
				_ = json.Unmarshal(env.Response, &p)
				break
			}
			if ok && env.Message != nil && strings.Contains(*env.Message, billkey.DuplicateOrderMessage) {
				break // an earlier try is recorded; reconciliation settles it
			}
			st.retries.Add(1)
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
		switch p.Status {
		case "paid":
			st.paid.Add(1)
		case "failed":
			st.failed.Add(1)
		}
		if p.Status != "paid" || i%3 != 0 {
			continue
		}
		st.cancels.Add(1)
		for try := 0; try < 20; try++ {
			env, ok := c.post("/payments/cancel", map[string]any{"imp_uid": p.ImpUID, "reason": "drill"})
			if ok && env.Code == 0 {
				st.cancelled.Add(1)
				break
			}
			if ok && env.Message != nil && (strings.Contains(*env.Message, "이미 전액취소") || strings.Contains(*env.Message, "보류")) {
				break // done, or held for the reconciler
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// drillEnv is one drill: a database, the simulator process, one billkey
// process restarted on a fixed address.
type drillEnv struct {
	t        *testing.T
	bin      string
	dsn      string
	simURL   string
	addr     string
	env      []string
	args     []string
	node     *node
	merchant *gateway.CreatedMerchant
	keys     vault.Owned
}

func newDrill(t *testing.T, bin, dsn string) *drillEnv {
	t.Helper()
	keys, kek, mac := knownKeys(t)
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn, keys)
	if err != nil {
		t.Fatal(err)
	}
	created, err := gateway.New(st, keys, nil, nil).CreateMerchant(ctx, gateway.NewMerchant{Name: "drill shop", ImpSecret: "drill-secret-0123456789"})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	d := &drillEnv{t: t, bin: bin, dsn: dsn, simURL: simProcess(t, bin), addr: freePort(t), merchant: created, keys: keys,
		env: []string{"BILLKEY_KEK=" + kek, "BILLKEY_MAC_KEY=" + mac}}
	d.args = []string{"--db", dsn, "--addr", d.addr, "--inicis-sim-url", d.simURL, "--no-demo", "--data-dir", t.TempDir(),
		"--log-level", "warn", "--pg-timeout", "1500ms", "--in-flight-margin", "500ms", "--stale-ready-after", "4s",
		"--reconcile-delays", "300ms,600ms,1s", "--jobs-poll-interval", "200ms", "--webhook-allow-cidr", "127.0.0.1/32"}
	d.start()
	return d
}

func (d *drillEnv) start() {
	d.t.Helper()
	// The address was just freed by a killed process: wait until it can
	// be bound again.
	eventually(d.t, 10*time.Second, "the listen address to be free", func() bool {
		ln, err := net.Listen("tcp", d.addr)
		if err != nil {
			return false
		}
		ln.Close()
		return true
	})
	d.node = startNode(d.t, d.bin, "billkey", d.env, d.args...)
}

func (d *drillEnv) kill() {
	d.t.Helper()
	_ = d.node.cmd.Process.Kill() // SIGKILL
	<-d.node.done
}

func (d *drillEnv) client() *drillClient {
	c := &drillClient{base: "http://" + d.addr, http: &http.Client{Timeout: 10 * time.Second}}
	env := apiCall(d.t, c.base, "", "POST", "/users/getToken", map[string]string{"imp_key": d.merchant.Merchant.APIKey, "imp_secret": d.merchant.ImpSecret})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(env.Response, &tok)
	c.token = tok.AccessToken
	return c
}

// run drives load while disrupt runs, then stops the load.
func (d *drillEnv) run(disrupt func()) *drillStats {
	d.t.Helper()
	c := d.client()
	customers := []string{"drill-a", "drill-b", "drill-c"}
	for _, cu := range customers {
		env := apiCall(d.t, c.base, c.token, "POST", "/subscribe/customers/"+cu, map[string]string{
			"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "880101", "pwd_2digit": "12",
			"customer_name": "홍길동", "customer_email": "gildong@example.com", "customer_tel": "010-1234-5678"})
		if env.Code != 0 {
			d.t.Fatalf("issue: %s", env.raw)
		}
	}
	// Every INICIS call takes a little while, so kills land mid-call.
	simFaults(d.t, d.simURL, inicissim.Faults{Latency: 80 * time.Millisecond, Paths: []string{"/api/v1/billing", "/api/v1/refund"}})
	st := &drillStats{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); c.drive(stop, w, customers, st) }()
	}
	disrupt()
	close(stop)
	wg.Wait()
	return st
}

// verify waits for reconciliation and checks the ledger against the
// database.
func (d *drillEnv) verify(st *drillStats) {
	t := d.t
	t.Helper()
	t.Logf("drill load: %d charges (%d paid, %d failed answers), %d retries, %d cancels (%d answered)",
		st.charges.Load(), st.paid.Load(), st.failed.Load(), st.retries.Load(), st.cancels.Load(), st.cancelled.Load())
	if st.paid.Load() == 0 || st.retries.Load() == 0 {
		t.Fatalf("the drill provoked nothing: %d paid, %d retries", st.paid.Load(), st.retries.Load())
	}
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, d.dsn, d.keys)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	mid := d.merchant.Merchant.ID
	var ps []*billkey.Payment
	eventually(t, 90*time.Second, "reconciliation: nothing ready, no refund unsettled", func() bool {
		ps, _, err = store.ListPayments(ctx, billkey.PaymentFilter{MerchantID: mid, Limit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.Status == billkey.StatusReady {
				return false
			}
		}
		var unsettled int
		if err := store.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM payment_cancels WHERE state IN ('pending', 'uncertain')`).Scan(&unsettled); err != nil {
			t.Fatal(err)
		}
		return unsettled == 0
	})
	ledger := simLedger(t, d.simURL)
	approvals := map[string][]inicissim.Approval{}
	for _, a := range ledger.Approvals {
		approvals[a.OrderID] = append(approvals[a.OrderID], a)
	}
	refunded := map[string]int64{} // approval tid → refunded at INICIS
	for _, r := range ledger.Refunds {
		refunded[r.TID] += r.Amount
	}
	byImpUID := map[string]*billkey.Payment{}
	perMerchantUID := map[string]int{} // merchant_uid → approvals
	for _, p := range ps {
		byImpUID[p.ImpUID] = p
		ap := approvals[p.ImpUID]
		switch p.Status {
		case billkey.StatusPaid, billkey.StatusCancelled:
			if len(ap) != 1 || ap[0].TID != p.PGTID || ap[0].Price != p.Amount {
				t.Errorf("%s %s %d: ledger approvals %+v", p.ImpUID, p.Status, p.Amount, ap)
				continue
			}
			if refunded[p.PGTID] != p.CancelAmount || ap[0].Cancelled != p.CancelAmount || p.CancelAmount > p.Amount {
				t.Errorf("%s: billkey cancelled %d, INICIS refunded %d (approval says %d)", p.ImpUID, p.CancelAmount, refunded[p.PGTID], ap[0].Cancelled)
			}
			if p.Status == billkey.StatusCancelled && p.CancelAmount != p.Amount {
				t.Errorf("%s cancelled with %d of %d refunded", p.ImpUID, p.CancelAmount, p.Amount)
			}
			perMerchantUID[p.MerchantUID]++
		case billkey.StatusFailed:
			// A failed payment's approval, if any, must have been refunded
			// (an orphan); with correct timing there is none.
			if len(ap) != 0 {
				t.Errorf("%s failed (%s) but INICIS approved it: %+v", p.ImpUID, p.FailReason, ap)
			}
		default:
			t.Errorf("%s left %s", p.ImpUID, p.Status)
		}
	}
	for order, ap := range approvals {
		if byImpUID[order] == nil {
			t.Errorf("INICIS approved %s (%+v) but billkey has no such payment", order, ap)
		}
	}
	for uid, n := range perMerchantUID {
		if n > 1 {
			t.Errorf("merchant_uid %s charged %d times", uid, n)
		}
	}
	var orphans int
	if err := store.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM orphan_approvals`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Errorf("%d orphan approvals: a payment was declared failed while its PG call was in flight", orphans)
	}
	t.Logf("drill verified: %d payments, %d approvals, %d refunds", len(ps), len(ledger.Approvals), len(ledger.Refunds))
}

func TestCrashDrill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs billkey and the simulator as processes")
	}
	bin := buildBillkey(t)
	rounds, every := drillRounds()
	killLoop := func(d *drillEnv) func() {
		return func() {
			for range rounds {
				time.Sleep(every)
				d.kill()
				d.start()
			}
			time.Sleep(every)
		}
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend+"/kill-9", func(t *testing.T) {
			d := newDrill(t, bin, dbtest.DSN(t, backend))
			st := d.run(killLoop(d))
			d.verify(st)
		})
	}
	t.Run("postgres/immediate-restart", func(t *testing.T) {
		pg := throwawayPostgres(t)
		d := newDrill(t, bin, pg.dsn)
		st := d.run(func() {
			time.Sleep(every)
			pg.restartImmediate()
			time.Sleep(every)
			d.kill() // and a crash of billkey while it recovers
			d.start()
			time.Sleep(every)
		})
		d.verify(st)
	})
}

// throwawayCluster is a PostgreSQL cluster of its own, so it can be
// restarted without disturbing other tests' server.
type throwawayCluster struct {
	t    *testing.T
	dir  string
	port int
	dsn  string
}

const pgBin = "/usr/lib/postgresql/15/bin"

func throwawayPostgres(t *testing.T) *throwawayCluster {
	t.Helper()
	if os.Getenv(dbtest.EnvPostgres) == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no PostgreSQL for the immediate-restart drill")
		}
		t.Skip("no PostgreSQL server configured (BILLKEY_TEST_POSTGRES); run scripts/test.sh")
	}
	if _, err := os.Stat(filepath.Join(pgBin, "pg_ctl")); err != nil {
		t.Fatalf("PostgreSQL binaries: %v", err)
	}
	dir, err := os.MkdirTemp("", "billkey-drill-pg-")
	if err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	c := &throwawayCluster{t: t, dir: dir, port: port,
		dsn: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_ = c.pgCtl("-m", "immediate", "stop")
		os.RemoveAll(dir)
	})
	if out, err := c.asPostgres(filepath.Join(pgBin, "initdb"), "-D", dir+"/data", "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	if out, err := c.start(); err != nil {
		t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
	return c
}

func (c *throwawayCluster) asPostgres(name string, args ...string) ([]byte, error) {
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "postgres", "--", name}, args...)
		name = "runuser"
	}
	return exec.Command(name, args...).CombinedOutput()
}

func (c *throwawayCluster) pgCtl(args ...string) error {
	_, err := c.asPostgres(filepath.Join(pgBin, "pg_ctl"), append([]string{"-D", c.dir + "/data"}, args...)...)
	return err
}

func (c *throwawayCluster) start() ([]byte, error) {
	return c.asPostgres(filepath.Join(pgBin, "pg_ctl"), "-D", c.dir+"/data", "-l", c.dir+"/log", "-w", "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=100", c.port, c.dir), "start")
}

// restartImmediate crashes the server (no checkpoint, clients cut) and
// starts it again, as after a power loss.
func (c *throwawayCluster) restartImmediate() {
	c.t.Helper()
	if err := c.pgCtl("-m", "immediate", "stop"); err != nil {
		c.t.Fatalf("pg_ctl stop: %v", err)
	}
	if out, err := c.start(); err != nil {
		c.t.Fatalf("pg_ctl start after an immediate stop: %v\n%s", err, out)
	}
}

// TestSIGTERMDrains: billkey serve, told to stop while INICIS is slow,
// stops accepting at once but answers the charge in flight, and exits 0.
func TestSIGTERMDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs billkey and the simulator as processes")
	}
	bin := buildBillkey(t)
	d := newDrill(t, bin, dbtest.DSN(t, "sqlite"))
	c := d.client()
	env := apiCall(t, c.base, c.token, "POST", "/subscribe/customers/term", map[string]string{
		"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "880101", "pwd_2digit": "12"})
	if env.Code != 0 {
		t.Fatalf("issue: %s", env.raw)
	}
	// INICIS answers after 1s (within the drill's 1.5s PG timeout).
	simFaults(t, d.simURL, inicissim.Faults{Latency: time.Second, Paths: []string{"/api/v1/billing"}, Count: 1})
	type result struct {
		env envelope
		ok  bool
	}
	done := make(chan result, 1)
	go func() {
		env, ok := c.post("/subscribe/payments/again", map[string]any{"customer_uid": "term", "merchant_uid": "order-term", "amount": 4500, "name": "정기결제"})
		done <- result{env, ok}
	}()
	store, err := sqlstore.Open(context.Background(), d.dsn, d.keys)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	eventually(t, 10*time.Second, "the charge to reach INICIS", func() bool {
		p, err := store.FindPayment(context.Background(), d.merchant.Merchant.ID, "order-term", "")
		return err == nil && p.Status == billkey.StatusReady
	})
	if err := d.node.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the listener to close", func() bool {
		conn, err := net.DialTimeout("tcp", d.addr, time.Second)
		if err == nil {
			conn.Close()
			return false
		}
		return true
	})
	r := <-done
	var p payment
	if !r.ok || r.env.Code != 0 || json.Unmarshal(r.env.Response, &p) != nil || p.Status != "paid" {
		t.Fatalf("the charge in flight at shutdown: ok=%v %s", r.ok, r.env.raw)
	}
	<-d.node.done
	if code := d.node.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("billkey exited %d after draining:\n%s", code, tail(d.node.stderr.String(), 2000))
	}
}
