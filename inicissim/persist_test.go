package inicissim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/inicissim"
)

// openWithState starts a simulator on a state file behind a test server;
// stop closes both (server first, as billkey serve does).
func openWithState(t *testing.T, path string) (*env, func()) {
	t.Helper()
	sim, err := inicissim.Open(inicissim.Config{StateFile: path, HoldMax: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = sim.Close()
		srv.Close()
		if err := sim.CloseState(); err != nil {
			t.Errorf("CloseState: %v", err)
		}
	}
	t.Cleanup(stop)
	e := &env{sim: sim, srv: srv, conn: inicis.New(inicis.Config{Test: inicis.SimulatorEndpoints(srv.URL), Timeout: 5 * time.Second}), ch: testChannel()}
	e.http = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e, stop
}

func ledgerJSON(t *testing.T, l inicissim.Ledger) string {
	t.Helper()
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStateSurvivesRestart: with a state file, keys, approvals, declines,
// refunds and an open window outlive the simulator; a key issued before the
// restart charges after it, a refunded order keeps its remaining amount, a
// used moid stays used, and reset clears the file too.
func TestStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sim", "state.db")
	e, stop := openWithState(t, path)

	card := billkey.Card{Number: "4242424242424242", Expiry: "2031-12", Birth: "800101"}
	bk, err := e.conn.IssueBillingKey(ctx, e.ch, billkey.IssueRequest{OrderID: "issue-1", Card: card})
	if err != nil {
		t.Fatal(err)
	}
	limit := card
	limit.Number = "4000000000000341"
	bkLimit, err := e.conn.IssueBillingKey(ctx, e.ch, billkey.IssueRequest{OrderID: "issue-2", Card: limit})
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.conn.Charge(ctx, e.ch, billkey.ChargeRequest{OrderID: "order-1", BillingKey: bk.Key, Amount: 1000, GoodName: "g", Buyer: buyer()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.conn.Charge(ctx, e.ch, billkey.ChargeRequest{OrderID: "order-limit", BillingKey: bkLimit.Key, Amount: 1000, GoodName: "g", Buyer: buyer()}); err == nil {
		t.Fatal("the limit card was approved")
	}
	if _, err := e.conn.Refund(ctx, e.ch, billkey.RefundRequest{TID: a.TID, OrderID: "order-1", Amount: 300, Remaining: 700, Partial: true, Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	action, sid := cardPage(t, e.openLite(t, "lite-1", nil))
	before := ledgerJSON(t, e.sim.Ledger())
	stop()

	e2, _ := openWithState(t, path)
	if after := ledgerJSON(t, e2.sim.Ledger()); after != before {
		t.Fatalf("ledger changed across the restart:\nbefore %s\nafter  %s", before, after)
	}
	// The key issued before the restart charges.
	if _, err := e2.conn.Charge(ctx, e2.ch, billkey.ChargeRequest{OrderID: "order-2", BillingKey: bk.Key, Amount: 500, GoodName: "g", Buyer: buyer()}); err != nil {
		t.Fatalf("charge with a key issued before the restart: %v", err)
	}
	// The used moid is still used; the refused key still refuses.
	if _, err := e2.conn.Charge(ctx, e2.ch, billkey.ChargeRequest{OrderID: "order-1", BillingKey: bk.Key, Amount: 1000, GoodName: "g", Buyer: buyer()}); err == nil {
		t.Fatal("a moid approved before the restart was approved again")
	}
	if _, err := e2.conn.Charge(ctx, e2.ch, billkey.ChargeRequest{OrderID: "order-limit-2", BillingKey: bkLimit.Key, Amount: 1000, GoodName: "g", Buyer: buyer()}); err == nil {
		t.Fatal("the limit card was approved after the restart")
	}
	// The partial refund's remaining amount survived: refunding more than
	// 700 is refused, refunding the 700 left is accepted.
	if _, err := e2.conn.Refund(ctx, e2.ch, billkey.RefundRequest{TID: a.TID, OrderID: "order-1", Amount: 800, Remaining: 0, Partial: true, Reason: "r"}); err == nil {
		t.Fatal("refunded more than what remained before the restart")
	}
	if _, err := e2.conn.Refund(ctx, e2.ch, billkey.RefundRequest{TID: a.TID, OrderID: "order-1", Amount: 700, Remaining: 0, Partial: true, Reason: "r"}); err != nil {
		t.Fatalf("refund the rest after the restart: %v", err)
	}
	// The window opened before the restart still completes.
	u, err := url.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	_, page := e2.post(t, e2.srv.URL+u.Path, url.Values{"sid": {sid}, "cardNumber": {"4518421234567894"}, "expiryMonth": {"03"}, "expiryYear": {"2030"}, "birth": {"1234567890"}, "pwd2digit": {"00"}})
	_, fields := autoPost(t, page)
	ret, err := inicis.ParseLiteReturn(fields)
	if err != nil || !ret.OK() {
		t.Fatalf("window opened before the restart: %+v %v", ret, err)
	}
	l := e2.sim.Ledger()
	if len(l.Keys) != 3 || len(l.Approvals) != 2 || len(l.Declines) != 2 || len(l.Refunds) != 2 || l.Approvals[0].Remaining != 0 {
		t.Fatalf("ledger after the restart: %s", ledgerJSON(t, l))
	}

	// One simulator per file.
	if _, err := inicissim.Open(inicissim.Config{StateFile: path}); err == nil {
		t.Fatal("a second simulator opened a state file in use")
	}

	// Reset clears the file too.
	e2.sim.Reset()
	_, stop3 := openWithStateAfter(t, e2, path)
	defer stop3()
}

// openWithStateAfter stops e and reopens path, asserting it is empty.
func openWithStateAfter(t *testing.T, e *env, path string) (*env, func()) {
	t.Helper()
	e.srv.Close()
	if err := e.sim.CloseState(); err != nil {
		t.Fatal(err)
	}
	e3, stop := openWithState(t, path)
	if l := e3.sim.Ledger(); len(l.Keys)+len(l.Approvals)+len(l.Declines)+len(l.Refunds)+len(l.NetCancels) != 0 {
		t.Fatalf("ledger after reset and restart: %s", ledgerJSON(t, l))
	}
	return e3, stop
}

// TestStateFileRefusesGarbage: a file that is not a state file is an error,
// not a silently empty ledger.
func TestStateFileRefusesGarbage(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "not-a-db")
	if err := os.WriteFile(path, []byte("this is not SQLite at all, just text that fills the header page"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := inicissim.Open(inicissim.Config{StateFile: path}); err == nil {
		t.Fatal("a garbage state file was accepted")
	}
}
