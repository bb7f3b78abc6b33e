package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/dbtest"
)

// TestOpsSnapshot: the waiting work operators are alerted on (unknown
// outcomes, undelivered webhooks, due schedules) is counted with the age
// of its oldest item, and leaves the counts once done; on both databases.
func TestOpsSnapshot(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		snap := func() billkey.OpsSnapshot {
			t.Helper()
			s, err := b.store.OpsSnapshot(ctx, b.now)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		if s := snap(); s != (billkey.OpsSnapshot{}) {
			t.Fatalf("empty database: %+v", s)
		}
		// Two unknown charges; a ready payment with no unknown outcome is
		// not one.
		started := b.now
		p1 := b.payment(t, "order-1", 1000)
		b.now = b.now.Add(10 * time.Second)
		p2 := b.payment(t, "order-2", 1000)
		b.payment(t, "order-3", 1000)
		for _, p := range []*billkey.Payment{p1, p2} {
			if err := b.store.MarkUncertain(ctx, p.ID, b.now.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		// A paid payment queues a webhook delivery.
		p4 := b.payment(t, "order-4", 1000)
		b.pay(t, p4)
		n, err := b.store.RelayEvents(ctx, 10, func(billkey.RelayedEvent) billkey.NewDelivery {
			return billkey.NewDelivery{URL: "https://shop.example/hook", Body: []byte(`{}`), State: billkey.DeliveryPending, GiveUpAt: b.now.Add(72 * time.Hour)}
		})
		if err != nil || n != 1 {
			t.Fatalf("relay: %d %v", n, err)
		}
		// Schedules: one due an hour ago, one due later.
		mustCreateSchedules(t, b, b.schedule("sch-due", "cust-1", b.now.Add(-time.Hour)), b.schedule("sch-later", "cust-1", b.now.Add(time.Hour)))

		b.now = b.now.Add(20 * time.Second)
		s := snap()
		if s.UnknownCharges != 2 || !s.OldestUnknownCharge.Equal(started) {
			t.Errorf("unknown charges: %d since %v, want 2 since %v", s.UnknownCharges, s.OldestUnknownCharge, started)
		}
		if s.WebhooksPending != 1 || s.OldestWebhookPending.IsZero() || s.OldestWebhookPending.After(b.now) {
			t.Errorf("webhooks: %+v", s)
		}
		if s.SchedulesDue != 1 || !s.OldestScheduleDue.Equal(b.now.Add(-20*time.Second-time.Hour)) {
			t.Errorf("schedules due: %d since %v", s.SchedulesDue, s.OldestScheduleDue)
		}
		// Settled work leaves the counts.
		p1.Status, p1.FailReason, p1.FailedAt = billkey.StatusFailed, "declined", b.now
		if ok, err := b.store.FinishPayment(ctx, p1, nil); err != nil || !ok {
			t.Fatalf("finish: %v %v", ok, err)
		}
		if s := snap(); s.UnknownCharges != 1 || s.OldestUnknownCharge.Equal(started) {
			t.Errorf("after settling one: %d since %v", s.UnknownCharges, s.OldestUnknownCharge)
		}
	})
}
