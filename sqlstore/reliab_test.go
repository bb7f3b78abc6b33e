package sqlstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/dbtest"
)

// TestStoreFinishedWindowAttemptNotClaimable: an attempt that is done or
// failed can never be claimed again, whatever the time: two racing (or
// replayed) INICIS return posts rely on the store alone.
func TestStoreFinishedWindowAttemptNotClaimable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		for _, final := range []string{billkey.WindowDone, billkey.WindowFailed} {
			a := b.windowAttempt(t, "order-fin-"+final, b.now.Add(time.Hour))
			if ok, err := b.store.ClaimWindowAttempt(ctx, a.ID, b.now); !ok || err != nil {
				t.Fatalf("claim: %v %v", ok, err)
			}
			if ok, err := b.store.FinishWindowAttempt(ctx, a.ID, []string{billkey.WindowProcessing}, final, []byte(`{}`), b.now); !ok || err != nil {
				t.Fatalf("finish %s: %v %v", final, ok, err)
			}
			for _, at := range []time.Time{b.now, b.now.Add(-time.Hour)} {
				if ok, err := b.store.ClaimWindowAttempt(ctx, a.ID, at); ok || err != nil {
					t.Fatalf("a %s attempt was claimed again: %v %v", final, ok, err)
				}
			}
			// Finishing without a claim, straight from open (the expiry
			// sweep): no claim afterwards either.
			o := b.windowAttempt(t, "order-swept-"+final, b.now.Add(time.Hour))
			if ok, err := b.store.FinishWindowAttempt(ctx, o.ID, []string{billkey.WindowOpen}, final, nil, b.now); !ok || err != nil {
				t.Fatalf("sweep %s: %v %v", final, ok, err)
			}
			if ok, _ := b.store.ClaimWindowAttempt(ctx, o.ID, b.now); ok {
				t.Fatalf("a swept (%s) attempt was claimed", final)
			}
			got, _ := b.store.WindowAttemptByID(ctx, a.ID)
			if got.State != final {
				t.Fatalf("state %s, want %s", got.State, final)
			}
		}
	})
}

// TestStorePartialCancelsOneAtATime: concurrent partial refunds of one
// payment are serialised by billkey's own reservation (one in flight at a
// time, never more than what is left), before any PG is asked.
func TestStorePartialCancelsOneAtATime(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		p := b.payment(t, "order-partial", 10000)
		b.pay(t, p)
		start := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []*billkey.Cancel
		busy := 0
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, c, err := b.store.ReserveCancel(ctx, p.ID, billkey.CancelRequest{Amount: 3000})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won = append(won, c)
				case errors.Is(err, billkey.ErrCancelBusy):
					busy++
				default:
					t.Errorf("reserve: %v", err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(won) != 1 || busy != 11 {
			t.Fatalf("%d reservations won, %d told busy; want exactly one in flight", len(won), busy)
		}
		// While it is in flight, every other refund is told busy.
		if _, _, err := b.store.ReserveCancel(ctx, p.ID, billkey.CancelRequest{Amount: 1}); !errors.Is(err, billkey.ErrCancelBusy) {
			t.Fatalf("a second refund while one is in flight: %v", err)
		}
		won[0].CancelledAt = b.now
		if _, err := b.store.CompleteCancel(ctx, won[0], nil); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			_, c, err := b.store.ReserveCancel(ctx, p.ID, billkey.CancelRequest{Amount: 3000})
			if err != nil {
				t.Fatalf("refund %d: %v", i+2, err)
			}
			c.CancelledAt = b.now
			if _, err := b.store.CompleteCancel(ctx, c, nil); err != nil {
				t.Fatal(err)
			}
		}
		// 1000 left: billkey refuses 3000 itself.
		_, _, err := b.store.ReserveCancel(ctx, p.ID, billkey.CancelRequest{Amount: 3000})
		if billkey.ErrorCode(err) != billkey.EREJECTED {
			t.Fatalf("refund above what is left: %v", err)
		}
		got, _ := b.store.PaymentByImpUID(ctx, b.merchant.ID, p.ImpUID)
		if got.CancelAmount != 9000 || got.Status != billkey.StatusPaid || len(got.Cancels) != 3 {
			t.Fatalf("stored: %d cancelled, %s, %d cancels", got.CancelAmount, got.Status, len(got.Cancels))
		}
	})
}

// TestStoreReconcileBookkeeping covers the store side of the reconciler's
// timing rules, orphans and readiness.
func TestStoreReconcileBookkeeping(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()

		// A crash-left payment (found by age) follows the backoff once
		// inquired: DeferReconcile marks its outcome unknown.
		p := b.payment(t, "order-crash", 5000)
		stale := b.now.Add(time.Minute)
		if ps, err := b.store.UncertainPayments(ctx, b.now.Add(2*time.Minute), stale, 10); err != nil || len(ps) != 1 {
			t.Fatalf("crash-left payment not found: %v %v", ps, err)
		}
		if err := b.store.DeferReconcile(ctx, p.ID, 1, b.now.Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if ps, _ := b.store.UncertainPayments(ctx, b.now.Add(2*time.Minute), stale, 10); len(ps) != 0 {
			t.Fatalf("inquired again before its next delay: %+v", ps[0])
		}
		if ps, _ := b.store.UncertainPayments(ctx, b.now.Add(5*time.Minute), stale, 10); len(ps) != 1 || !ps[0].OutcomeUnknown || ps[0].ReconcileAttempts != 1 {
			t.Fatalf("due payment: %+v", ps)
		}

		// An orphan is recorded once, with its note and event.
		p.Status, p.FailedAt, p.FailReason = billkey.StatusFailed, b.now, "no approval"
		if _, err := b.store.FinishPayment(ctx, p, nil); err != nil {
			t.Fatal(err)
		}
		o := &billkey.Orphan{MerchantID: b.merchant.ID, PaymentID: p.ID, Kind: billkey.OrphanCharge, PGTID: "T1", Amount: 5000,
			State: billkey.OrphanRefunding, NextAt: b.now.Add(time.Minute)}
		ev := &billkey.Event{MerchantID: b.merchant.ID, ImpUID: p.ImpUID, MerchantUID: p.MerchantUID, Status: billkey.StatusFailed}
		if added, err := b.store.RecordOrphan(ctx, o, " / late", ev); !added || err != nil {
			t.Fatalf("record orphan: %v %v", added, err)
		}
		dup := *o
		if added, err := b.store.RecordOrphan(ctx, &dup, " / late", ev); added || err != nil {
			t.Fatalf("orphan recorded twice: %v %v", added, err)
		}
		got, _ := b.store.PaymentByImpUID(ctx, b.merchant.ID, p.ImpUID)
		if got.FailReason != "no approval / late" {
			t.Fatalf("fail_reason %q", got.FailReason)
		}
		if due, _ := b.store.DueOrphans(ctx, b.now, 10); len(due) != 0 {
			t.Fatalf("orphan due before its time: %+v", due)
		}
		due, err := b.store.DueOrphans(ctx, b.now.Add(time.Minute), 10)
		if err != nil || len(due) != 1 || due[0].PGTID != "T1" || due[0].Amount != 5000 {
			t.Fatalf("due orphans: %+v %v", due, err)
		}
		due[0].State, due[0].Attempts = billkey.OrphanRefunded, 1
		if err := b.store.SettleOrphan(ctx, due[0]); err != nil {
			t.Fatal(err)
		}
		if due, _ := b.store.DueOrphans(ctx, b.now.Add(time.Hour), 10); len(due) != 0 {
			t.Fatalf("a refunded orphan is still due: %+v", due)
		}

		// A cancel released (refused) then completed: ErrCancelReleased.
		q := b.payment(t, "order-released", 3000)
		b.pay(t, q)
		_, c, err := b.store.ReserveCancel(ctx, q.ID, billkey.CancelRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.store.FailCancel(ctx, c); err != nil {
			t.Fatal(err)
		}
		c.CancelledAt = b.now
		if _, err := b.store.CompleteCancel(ctx, c, nil); !errors.Is(err, billkey.ErrCancelReleased) {
			t.Fatalf("completing a released cancel: %v", err)
		}

		// Readiness: the write probe and the migration check.
		if err := b.store.ProbeWrite(ctx, "node-1"); err != nil {
			t.Fatal(err)
		}
		if err := b.store.ProbeWrite(ctx, "node-1"); err != nil {
			t.Fatalf("second probe (upsert): %v", err)
		}
		if err := b.store.MigrationsCurrent(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
