package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/inicissim"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/sqlstore"
)

// node is one "billkey serve" process.
type node struct {
	name   string
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	done   chan struct{}
}

// buildBillkey compiles the billkey binary into a temporary folder.
func buildBillkey(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "billkey")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/billkey/billkey/cmd/billkey")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startNode runs "billkey serve" and waits until it listens.
func startNode(t *testing.T, bin, name string, env []string, args ...string) *node {
	t.Helper()
	n := &node{name: name, stderr: &syncBuffer{}, done: make(chan struct{})}
	n.cmd = exec.Command(bin, append([]string{"serve"}, args...)...)
	n.cmd.Env = append(os.Environ(), env...)
	n.cmd.Stderr = n.stderr
	stdout, err := n.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), " listening on "); ok {
				select {
				case urls <- strings.TrimSpace(u):
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		_ = n.cmd.Wait()
		close(n.done)
	}()
	t.Cleanup(func() {
		_ = n.cmd.Process.Kill()
		<-n.done
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, tail(n.stderr.String(), 4000))
		}
	})
	select {
	case n.url = <-urls:
	case <-n.done:
		t.Fatalf("%s exited: %s", name, n.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start: %s", name, n.stderr.String())
	}
	return n
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// apiCall is a merchant call to one node.
func apiCall(t *testing.T, base, token, method, path string, body any) envelope {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	env.raw = raw
	return env
}

// TestMultiNodeSchedules runs three billkey processes on one PostgreSQL
// database against one external INICIS simulator, schedules 300 payments
// due within 10 seconds, SIGKILLs one process mid-run, and checks that every
// schedule was executed and charged exactly once, and notified.
func TestMultiNodeSchedules(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three billkey processes")
	}
	dsn := dbtest.Postgres(t)
	began := time.Now()
	bin := buildBillkey(t)
	built := time.Since(began)
	sim := startSim(t)
	keys, kek, mac := knownKeys(t)
	ctx := context.Background()

	st, err := sqlstore.Open(ctx, dsn, keys)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	created, err := gateway.New(st, keys, nil, nil).CreateMerchant(ctx, gateway.NewMerchant{Name: "multi-node shop", ImpSecret: "multi-secret-0123456789"})
	if err != nil {
		t.Fatal(err)
	}

	env := []string{"BILLKEY_KEK=" + kek, "BILLKEY_MAC_KEY=" + mac}
	// Eight jobs per node, not the default 32: about 37 schedules fall due
	// each second, and the nodes poll in a fixed order, so with 32 slots
	// the first poller would take nearly all of them every second and the
	// node to be killed might never hold any. With 8, every node is busy.
	args := []string{"--jobs-concurrency", "8", "--db", dsn, "--addr", "127.0.0.1:0", "--inicis-sim-url", sim.url, "--no-demo", "--data-dir", t.TempDir(),
		"--log-level", "warn", "--pg-timeout", "1500ms", "--in-flight-margin", "500ms", "--jobs-poll-interval", "200ms", "--schedule-lease", "4s",
		"--stale-ready-after", "4s", "--schedule-retry", "1s,2s", "--webhook-retry", "500ms",
		"--webhook-allow-cidr", "127.0.0.1/32"}
	var nodes []*node
	for i := range 3 {
		nodes = append(nodes, startNode(t, bin, fmt.Sprintf("node-%d", i+1), env, args...))
	}

	base := nodes[0].url
	tokEnv := apiCall(t, base, "", "POST", "/users/getToken", map[string]string{"imp_key": created.Merchant.APIKey, "imp_secret": created.ImpSecret})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(tokEnv.Response, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("token: %s", tokEnv.raw)
	}
	token := tok.AccessToken
	if e := apiCall(t, base, token, "POST", "/subscribe/customers/cust-multi", map[string]string{
		"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "880101", "pwd_2digit": "12", "customer_name": "홍길동",
	}); e.Code != 0 {
		t.Fatalf("issue: %s", e.raw)
	}
	rc := newReceiver(t, 0)
	if e := apiCall(t, base, token, "PUT", "/webhooks/url", map[string]string{"url": rc.URL()}); e.Code != 0 {
		t.Fatalf("url: %s", e.raw)
	}
	rot := apiCall(t, base, token, "POST", "/webhooks/secret/rotate", map[string]int{"previous_valid_for": 0})
	var sec struct {
		Secret string `json:"secret"`
	}
	if json.Unmarshal(rot.Response, &sec) != nil || sec.Secret == "" {
		t.Fatalf("rotate: %s", rot.raw)
	}

	// Charges take 150 ms at the PG, so a killed node dies with charges in
	// flight: some sent and approved but never recorded.
	if err := sim.sim.SetFaults(inicissim.Faults{Latency: 150 * time.Millisecond, Paths: []string{"/api/v1/billing"}}); err != nil {
		t.Fatal(err)
	}

	// 300 schedules due 3 to 10 seconds from now, created through all nodes.
	const total = 300
	start := time.Now()
	first := start.Unix() + 3
	for batch := range 3 {
		var items []map[string]any
		for i := batch * 100; i < (batch+1)*100; i++ {
			items = append(items, map[string]any{"merchant_uid": fmt.Sprintf("multi-%03d", i), "schedule_at": first + int64(i%8),
				"amount": 1000 + i, "name": "정기결제"})
		}
		if e := apiCall(t, nodes[batch].url, token, "POST", "/subscribe/payments/schedule", map[string]any{
			"customer_uid": "cust-multi", "schedules": items}); e.Code != 0 {
			t.Fatalf("schedule batch %d: %s", batch, e.raw)
		}
	}
	executed := func() int {
		c, err := st.ScheduleCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c[billkey.ScheduleExecuted]
	}

	// Kill node 2 mid-run, while it holds schedules.
	held := func() int {
		var n int
		if err := st.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM schedules WHERE status = 'scheduled' AND lease_owner LIKE $1`,
			fmt.Sprintf("%%-%d-%%", nodes[1].cmd.Process.Pid)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	eventually(t, 30*time.Second, "a quarter executed and node 2 holding schedules", func() bool {
		return executed() >= total/4 && held() > 0
	})
	killedAt := executed()
	if err := nodes[1].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-nodes[1].done
	killTime := time.Since(start)
	orphaned := held()

	eventually(t, 75*time.Second, "every schedule executed", func() bool { return executed() == total })
	allDone := time.Since(start)

	// Exactly one approval per schedule, none extra.
	scs, n, err := st.ListSchedules(ctx, billkey.ScheduleFilter{MerchantID: created.Merchant.ID, Limit: 1000})
	if err != nil || n != total {
		t.Fatalf("list: %d %v", n, err)
	}
	approvals := map[string]int{}
	for _, a := range sim.sim.Ledger().Approvals {
		approvals[a.OrderID]++
	}
	ours := map[string]bool{}
	for _, sc := range scs {
		if sc.Status != billkey.ScheduleExecuted || sc.PaymentStatus != "paid" || sc.ImpUID == "" {
			t.Fatalf("%s: %s %s %q (%s)", sc.MerchantUID, sc.Status, sc.PaymentStatus, sc.ImpUID, sc.FailReason)
		}
		if approvals[sc.ImpUID] != 1 {
			t.Fatalf("%s (%s) has %d approvals", sc.MerchantUID, sc.ImpUID, approvals[sc.ImpUID])
		}
		if ours[sc.ImpUID] {
			t.Fatalf("imp_uid %s recorded for two schedules", sc.ImpUID)
		}
		ours[sc.ImpUID] = true
	}
	led := sim.sim.Ledger()
	if len(led.Approvals) != total || len(approvals) != total {
		t.Fatalf("ledger: %d approvals, %d distinct orders; want %d", len(led.Approvals), len(approvals), total)
	}
	paid, paidTotal, err := st.ListPayments(ctx, billkeyPaid(created.Merchant.ID))
	if err != nil || paidTotal != total {
		t.Fatalf("paid payments: %d %v", paidTotal, err)
	}
	perOrder := map[string]int{}
	for _, p := range paid {
		perOrder[p.MerchantUID]++
	}
	for uid, c := range perOrder {
		if c != 1 {
			t.Fatalf("%s has %d paid payments", uid, c)
		}
	}
	abandoned, _, _ := st.ListPayments(ctx, billkeyFailed(created.Merchant.ID))

	// Every schedule's paid webhook arrives, signed (at least once). The
	// deliveries node 2 held when it was killed are claimed again only
	// after their lease (the webhook timeout + 45 s, a minute here), which
	// may end well after the last schedule ran.
	eventually(t, 90*time.Second, "a paid webhook per schedule", func() bool {
		for _, sc := range scs {
			if len(rc.accepted(sc.MerchantUID)) == 0 {
				return false
			}
		}
		return true
	})
	dupes := 0
	for _, sc := range scs {
		got := rc.accepted(sc.MerchantUID)
		for _, r := range got {
			if err := verifyStandardWebhook(sec.Secret, r, time.Now()); err != nil {
				t.Fatalf("%s webhook: %v", sc.MerchantUID, err)
			}
		}
		ids := map[string]bool{}
		for _, r := range got {
			if ids[r.ID] {
				dupes++
			}
			ids[r.ID] = true
		}
	}
	takenOver := 0
	for _, sc := range scs {
		if sc.Attempts > 1 {
			takenOver++
		}
	}
	t.Logf("3 nodes, node 2 SIGKILLed %s after scheduling (%d/%d executed, %d schedules leased by it); all %d executed %s after scheduling; "+
		"%d schedules run more than once (taken over or waiting for the reconciler); ledger: %d approvals, %d distinct orders; "+
		"%d payments abandoned by the killed node before reaching the PG; %d webhooks received, %d repeated; build %s, whole test %s",
		killTime.Round(time.Millisecond), killedAt, total, orphaned, total, allDone.Round(time.Millisecond), takenOver,
		len(led.Approvals), len(approvals), len(abandoned), len(rc.all()), dupes, built.Round(time.Millisecond),
		time.Since(began).Round(time.Millisecond))
}

func billkeyPaid(merchantID int64) billkey.PaymentFilter {
	return billkey.PaymentFilter{MerchantID: merchantID, Status: billkey.StatusPaid, Limit: 1000}
}

func billkeyFailed(merchantID int64) billkey.PaymentFilter {
	return billkey.PaymentFilter{MerchantID: merchantID, Status: billkey.StatusFailed, Limit: 1000}
}
