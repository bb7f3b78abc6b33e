package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/sqlstore"
	"github.com/billkey/billkey/vault"
)

// TestKeyRotationWhileNodesRun: two gateway nodes on one database (and one
// simulator) charge a stream of orders while "billkey keys rotate" adds a
// master key and re-wraps every billing key and channel secret under it.
// Each node re-reads the key file on the unknown key id: no charge fails and
// every order is approved exactly once. On both databases.
func TestKeyRotationWhileNodesRun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dir := t.TempDir()
		keyFile := filepath.Join(dir, "keys.json")
		if _, err := vault.GenerateFile(keyFile); err != nil {
			t.Fatal(err)
		}
		sim := startSim(t)
		var nodes []*cli.App
		for i := 0; i < 2; i++ {
			fk, err := vault.OpenFileKeys(keyFile)
			if err != nil {
				t.Fatal(err)
			}
			st, err := sqlstore.Open(ctx, dsn, fk)
			if err != nil {
				t.Fatal(err)
			}
			app, err := cli.StartApp(ctx, cli.AppOptions{Store: st, Keys: fk, Addr: "127.0.0.1:0", SimulatorURL: sim.url,
				PGTimeout: 10 * time.Second, NoDemo: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = app.Close(sctx)
				st.Close()
			})
			nodes = append(nodes, app)
		}
		m, err := nodes[0].Service.CreateMerchant(ctx, gateway.NewMerchant{Name: "rot shop", ImpSecret: "rotation-secret-0123"})
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{Timeout: 30 * time.Second}
		post := func(base, token, path string, body any) (int, map[string]any) {
			j, _ := json.Marshal(body)
			req, _ := http.NewRequest("POST", base+path, bytes.NewReader(j))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", token)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Errorf("%s: %v", path, err)
				return 0, nil
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			var env map[string]any
			_ = json.Unmarshal(raw, &env)
			return res.StatusCode, env
		}
		_, env := post(nodes[0].BaseURL, "", "/users/getToken", map[string]string{"imp_key": m.Merchant.APIKey, "imp_secret": "rotation-secret-0123"})
		token, _ := env["response"].(map[string]any)["access_token"].(string)
		customers := []string{"rot-a", "rot-b", "rot-c"}
		for i, c := range customers {
			status, env := post(nodes[i%2].BaseURL, token, "/subscribe/customers/"+c, map[string]string{
				"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "880101", "pwd_2digit": "12"})
			if status != 200 || env["code"] != float64(0) {
				t.Fatalf("issue %s: %d %v", c, status, env)
			}
		}

		// The stream: each node charges until told to stop.
		var done atomic.Int64
		var failures []string
		var mu sync.Mutex
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for n := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					order := fmt.Sprintf("rot-%d-%d", n, i)
					status, env := post(nodes[n].BaseURL, token, "/subscribe/payments/again", map[string]any{
						"customer_uid": customers[i%len(customers)], "merchant_uid": order, "amount": 1000 + i, "name": "월간 이용권"})
					resp, _ := env["response"].(map[string]any)
					if status != 200 || env["code"] != float64(0) || resp["status"] != "paid" {
						mu.Lock()
						failures = append(failures, fmt.Sprintf("%s: %d %v", order, status, env))
						mu.Unlock()
					}
					done.Add(1)
				}
			}()
		}
		waitFor := func(n int64) {
			deadline := time.Now().Add(60 * time.Second)
			for done.Load() < n {
				if time.Now().After(deadline) {
					t.Fatalf("the stream stalled at %d charges", done.Load())
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		waitFor(10)
		var out, errs bytes.Buffer
		if code := cli.Main(ctx, []string{"keys", "rotate", "--db", dsn, "--key-file", keyFile, "--data-dir", dir}, &out, &errs); code != 0 {
			t.Fatalf("keys rotate: %s", errs.String())
		}
		if !strings.Contains(out.String(), "re-wrapped") {
			t.Fatalf("keys rotate: %s", out.String())
		}
		after := done.Load()
		waitFor(after + 20)
		close(stop)
		wg.Wait()
		if len(failures) > 0 {
			t.Fatalf("%d of %d charges failed during the rotation, e.g. %s", len(failures), done.Load(), failures[0])
		}
		// Nothing lost, nothing twice: one approval per charge.
		approvals := map[string]int{}
		for _, a := range sim.sim.Ledger().Approvals {
			approvals[a.OrderID]++
		}
		paid, _, err := nodes[0].Store.ListPayments(ctx, billkey.PaymentFilter{MerchantID: m.Merchant.ID, Limit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		charges := 0
		for _, p := range paid {
			if p.CustomerUIDUsage == billkey.UsagePayment {
				charges++
				if p.Status != billkey.StatusPaid || approvals[p.ImpUID] != 1 {
					t.Errorf("%s: %s, %d approvals", p.MerchantUID, p.Status, approvals[p.ImpUID])
				}
			}
		}
		if int64(charges) != done.Load() {
			t.Fatalf("%d charges recorded, %d made", charges, done.Load())
		}
		// Both nodes now seal under the new primary once they re-read.
		for i, n := range nodes {
			if status, env := post(n.BaseURL, token, "/subscribe/customers/rot-new-"+fmt.Sprint(i), map[string]string{
				"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "880101", "pwd_2digit": "12"}); status != 200 || env["code"] != float64(0) {
				t.Fatalf("issue after rotation on node %d: %d %v", i, status, env)
			}
		}
	})
}
