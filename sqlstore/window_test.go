package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/dbtest"
)

// windowAttempt inserts an open attempt for a new ready payment.
func (b *testBundle) windowAttempt(t *testing.T, merchantUID string, expires time.Time) *billkey.WindowAttempt {
	t.Helper()
	p := b.payment(t, merchantUID, 0)
	h := sha256.Sum256([]byte(fmt.Sprintf("token-%s-%d", merchantUID, p.ID)))
	a := &billkey.WindowAttempt{
		TokenHash: h[:], MerchantID: b.merchant.ID, ChannelID: b.channel.ID, PaymentID: p.ID, ImpUID: p.ImpUID,
		MerchantUID: merchantUID, CustomerUID: "cust-w", OrderID: p.ImpUID, Kind: "pc", Delivery: "message",
		OpenerOrigin: "https://shop.example", RequestID: "req_1", CreatedAt: b.now, ExpiresAt: expires,
	}
	if err := b.store.CreateWindowAttempt(context.Background(), a); err != nil {
		t.Fatalf("create attempt: %v", err)
	}
	return a
}

func TestStoreWindowAttempts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		later := b.now.Add(30 * time.Minute)
		a := b.windowAttempt(t, "order-w1", later)

		got, err := b.store.WindowAttemptByToken(ctx, a.TokenHash)
		if err != nil || got.ID != a.ID || got.State != billkey.WindowOpen || got.ImpUID != a.ImpUID || got.OpenerOrigin != "https://shop.example" ||
			got.RequestID != "req_1" || !got.ExpiresAt.Equal(later) || got.Result != nil {
			t.Fatalf("by token: %+v %v", got, err)
		}
		if _, err := b.store.WindowAttemptByToken(ctx, []byte("nope")); billkey.ErrorCode(err) != billkey.ENOTFOUND {
			t.Fatalf("unknown token: %v", err)
		}
		dup := *a
		dup.ID = 0
		if err := b.store.CreateWindowAttempt(ctx, &dup); err == nil {
			t.Fatal("a token hash was accepted twice")
		}

		// Claiming: once, and never after expiry.
		if ok, err := b.store.ClaimWindowAttempt(ctx, a.ID, later); ok || err != nil {
			t.Fatalf("claim at expiry: %v %v", ok, err)
		}
		if ok, err := b.store.ClaimWindowAttempt(ctx, a.ID, b.now); !ok || err != nil {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if ok, _ := b.store.ClaimWindowAttempt(ctx, a.ID, b.now); ok {
			t.Fatal("claimed twice")
		}
		// Finishing: only from the given states, once.
		if ok, _ := b.store.FinishWindowAttempt(ctx, a.ID, []string{billkey.WindowOpen}, billkey.WindowFailed, []byte(`{}`), b.now); ok {
			t.Fatal("finished from the wrong state")
		}
		if ok, err := b.store.FinishWindowAttempt(ctx, a.ID, []string{billkey.WindowProcessing}, billkey.WindowDone, []byte(`{"rsp":{}}`), b.now); !ok || err != nil {
			t.Fatalf("finish: %v %v", ok, err)
		}
		if ok, _ := b.store.FinishWindowAttempt(ctx, a.ID, []string{billkey.WindowProcessing, billkey.WindowOpen}, billkey.WindowFailed, nil, b.now); ok {
			t.Fatal("finished twice")
		}
		if _, err := b.store.FinishWindowAttempt(ctx, a.ID, []string{billkey.WindowOpen}, billkey.WindowOpen, nil, b.now); err == nil {
			t.Fatal("finish as open accepted")
		}
		got, _ = b.store.WindowAttemptByID(ctx, a.ID)
		if got.State != billkey.WindowDone || string(got.Result) != `{"rsp":{}}` || !got.FinishedAt.Equal(b.now) {
			t.Fatalf("finished attempt %+v", got)
		}

		// Open attempts by order.
		o1 := b.windowAttempt(t, "order-w2", later)
		// A failed payment frees its merchant_uid for the next attempt.
		p1, _ := b.store.PaymentByImpUID(ctx, b.merchant.ID, o1.ImpUID)
		p1.Status, p1.FailedAt, p1.FailReason = billkey.StatusFailed, b.now, "superseded"
		if _, err := b.store.FinishPayment(ctx, p1, nil); err != nil {
			t.Fatal(err)
		}
		o2 := b.windowAttempt(t, "order-w2", later)
		open, err := b.store.OpenWindowAttempts(ctx, b.merchant.ID, "order-w2")
		if err != nil || len(open) != 2 || open[0].ID != o1.ID || open[1].ID != o2.ID {
			t.Fatalf("open attempts %+v %v", open, err)
		}
		if open, _ := b.store.OpenWindowAttempts(ctx, b.merchant.ID, "order-w1"); len(open) != 0 {
			t.Fatalf("a done attempt listed as open: %+v", open)
		}
	})
}

func TestStoreDueWindowAttempts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		past, future := b.now.Add(-time.Minute), b.now.Add(time.Hour)
		expired := b.windowAttempt(t, "order-expired", past)
		b.windowAttempt(t, "order-open", future)
		stale := b.windowAttempt(t, "order-stale", b.now.Add(-10*time.Minute))
		busy := b.windowAttempt(t, "order-busy", past)
		doneReady := b.windowAttempt(t, "order-done-ready", future)
		donePaid := b.windowAttempt(t, "order-done-paid", future)
		for _, a := range []*billkey.WindowAttempt{stale, busy, doneReady, donePaid} {
			if _, err := b.store.DB.ExecContext(ctx, `UPDATE window_attempts SET state = 'processing' WHERE id = $1`, a.ID); err != nil {
				t.Fatal(err)
			}
		}
		for _, a := range []*billkey.WindowAttempt{doneReady, donePaid} {
			if ok, err := b.store.FinishWindowAttempt(ctx, a.ID, []string{billkey.WindowProcessing}, billkey.WindowDone, []byte(`{}`), b.now); !ok || err != nil {
				t.Fatal(ok, err)
			}
		}
		paid, _ := b.store.PaymentByImpUID(ctx, b.merchant.ID, donePaid.ImpUID)
		b.pay(t, paid)

		due, err := b.store.DueWindowAttempts(ctx, b.now, b.now.Add(-5*time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, a := range due {
			ids = append(ids, a.ID)
		}
		want := []int64{expired.ID, stale.ID, doneReady.ID}
		if fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Fatalf("due %v, want %v (expired, stale processing, done with a ready payment)", ids, want)
		}
		if due, _ := b.store.DueWindowAttempts(ctx, b.now, b.now.Add(-5*time.Minute), 1); len(due) != 1 {
			t.Fatalf("limit ignored: %d", len(due))
		}
	})
}

func TestStoreWindowClaimRace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		a := b.windowAttempt(t, "order-race", b.now.Add(time.Hour))
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := b.store.ClaimWindowAttempt(context.Background(), a.ID, b.now)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d claims won, want 1", wins)
		}
	})
}
