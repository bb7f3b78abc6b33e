package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/internal/cycle"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/internal/teststore"
)

// TestLiveCustomerNeverAttachesToATestClock: a customer whose billing key
// belongs to a live channel cannot be put on a test clock (its charges would
// be real); without a clock the same customer may subscribe. Both databases.
func TestLiveCustomerNeverAttachesToATestClock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st, keys := teststore.Open(t, dsn)
		svc := New(st, keys, nil, nil)
		m, err := svc.CreateMerchant(ctx, NewMerchant{Name: "m", ImpSecret: "secret-0123456789"})
		if err != nil {
			t.Fatal(err)
		}
		live := &billkey.Channel{MerchantID: m.Merchant.ID, Provider: billkey.ProviderHTML5Inicis, MID: "LIVEMID001", Live: true,
			Credentials: inicis.Credentials{SignKey: "s", APIKey: "a", APIIV: "iv", LiteKey: "l"}.Encode()}
		if err := st.CreateChannel(ctx, live); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SaveCustomer(ctx, &billkey.Customer{MerchantID: m.Merchant.ID, ChannelID: live.ID, CustomerUID: "live-1",
			PGProvider: billkey.ProviderHTML5Inicis, PGID: live.MID, KeyCiphertext: []byte("sealed")}); err != nil {
			t.Fatal(err)
		}
		clock, err := svc.CreateTestClock(ctx, m.Merchant.ID, "c", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		in := SubscriptionInput{CustomerUID: "live-1", Name: "plan", Amount: 1000,
			Interval: cycle.Interval{Unit: cycle.Month, Count: 1}, Start: time.Now().Add(time.Hour), TestClockID: clock.ID}
		if _, err := svc.CreateSubscription(ctx, m.Merchant.ID, in); billkey.ErrorCode(err) != billkey.EREJECTED {
			t.Fatalf("live customer attached to a clock: %v", err)
		}
		if _, total, _ := st.ListSubscriptions(ctx, m.Merchant.ID, "", 0, 10); total != 0 {
			t.Fatalf("refused subscription written: %d", total)
		}
		in.TestClockID = 0
		sub, err := svc.CreateSubscription(ctx, m.Merchant.ID, in)
		if err != nil || sub.TestClockID != 0 {
			t.Fatalf("live subscription without a clock: %v", err)
		}
		sc, err := st.ScheduleByMerchantUID(ctx, m.Merchant.ID, billkey.SubscriptionOrder(sub.ID, 0))
		if err != nil || sc.TestClockID != 0 || !sc.ScheduleAt.Equal(in.Start.Truncate(time.Second)) {
			t.Fatalf("first schedule: %+v %v", sc, err)
		}
	})
}

// TestRenewalHookIsIdempotent: the outcome hook called twice for the same
// paid cycle (a repeated notification) renews once: one event, one next
// schedule; a stale hook for an earlier cycle changes nothing.
func TestRenewalHookIsIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st, keys := teststore.Open(t, dsn)
		svc := New(st, keys, nil, nil)
		m, err := svc.CreateMerchant(ctx, NewMerchant{Name: "m", ImpSecret: "secret-0123456789"})
		if err != nil {
			t.Fatal(err)
		}
		chs, err := st.Channels(ctx, m.Merchant.ID)
		if err != nil || len(chs) == 0 || chs[0].Live {
			t.Fatalf("the merchant's test channel: %v", err)
		}
		ch := chs[0]
		if _, err := st.SaveCustomer(ctx, &billkey.Customer{MerchantID: m.Merchant.ID, ChannelID: ch.ID, CustomerUID: "c-1",
			PGProvider: billkey.ProviderHTML5Inicis, PGID: ch.MID, KeyCiphertext: []byte("sealed")}); err != nil {
			t.Fatal(err)
		}
		start := time.Date(2031, 1, 31, 10, 0, 0, 0, cycle.KST)
		sub, err := svc.CreateSubscription(ctx, m.Merchant.ID, SubscriptionInput{CustomerUID: "c-1", Name: "plan", Amount: 1000,
			Interval: cycle.Interval{Unit: cycle.Month, Count: 1}, Start: start})
		if err != nil {
			t.Fatal(err)
		}
		sc, err := st.ScheduleByMerchantUID(ctx, m.Merchant.ID, billkey.SubscriptionOrder(sub.ID, 0))
		if err != nil {
			t.Fatal(err)
		}
		paid := billkey.ScheduleResult{ImpUID: "imps_000000000001", PaymentStatus: billkey.StatusPaid, ExecutedAt: start}
		for range 3 {
			svc.subscriptionCharged(ctx, sc, paid)
		}
		got, err := st.SubscriptionByID(ctx, m.Merchant.ID, sub.ID)
		if err != nil || got.PaidCycles != 1 || got.Period != 1 || got.Status != billkey.SubActive {
			t.Fatalf("after repeated hooks: %+v %v", got, err)
		}
		next, err := st.ScheduleByMerchantUID(ctx, m.Merchant.ID, billkey.SubscriptionOrder(sub.ID, 1))
		if err != nil || !next.ScheduleAt.Equal(time.Date(2031, 2, 28, 10, 0, 0, 0, cycle.KST)) {
			t.Fatalf("next schedule: %+v %v", next, err)
		}
		evs, err := st.Events(ctx, m.Merchant.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		renewed := 0
		for _, e := range evs {
			if e.Status == "subscription.renewed" {
				renewed++
			}
		}
		if renewed != 1 {
			t.Fatalf("%d subscription.renewed events, want 1", renewed)
		}
		// A declined outcome reported late for the paid cycle is stale.
		svc.subscriptionCharged(ctx, sc, billkey.ScheduleResult{PaymentStatus: billkey.StatusFailed, FailReason: "[1251] 한도초과"})
		if again, _ := st.SubscriptionByID(ctx, m.Merchant.ID, sub.ID); again.Status != billkey.SubActive || again.Retries != 0 || again.Period != 1 {
			t.Fatalf("stale decline applied: %+v", again)
		}
	})
}

// TestRepairFinishesARenewalWhoseHookNeverRan: a charge recorded without
// its hook (the node stopped in between) is renewed by the maintenance
// repair a minute later, once.
func TestRepairFinishesARenewalWhoseHookNeverRan(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st, keys := teststore.Open(t, dsn)
		now := time.Date(2031, 1, 1, 0, 0, 0, 0, cycle.KST)
		svc := New(st, keys, nil, nil)
		svc.Now = func() time.Time { return now }
		st.Now = svc.Now
		m, err := svc.CreateMerchant(ctx, NewMerchant{Name: "m", ImpSecret: "secret-0123456789"})
		if err != nil {
			t.Fatal(err)
		}
		chs, err := st.Channels(ctx, m.Merchant.ID)
		if err != nil || len(chs) == 0 {
			t.Fatal(err)
		}
		if _, err := st.SaveCustomer(ctx, &billkey.Customer{MerchantID: m.Merchant.ID, ChannelID: chs[0].ID, CustomerUID: "c-1",
			PGProvider: billkey.ProviderHTML5Inicis, PGID: chs[0].MID, KeyCiphertext: []byte("sealed")}); err != nil {
			t.Fatal(err)
		}
		sub, err := svc.CreateSubscription(ctx, m.Merchant.ID, SubscriptionInput{CustomerUID: "c-1", Name: "plan", Amount: 1000,
			Interval: cycle.Interval{Unit: cycle.Week, Count: 1}})
		if err != nil {
			t.Fatal(err)
		}
		sc, err := st.ScheduleByMerchantUID(ctx, m.Merchant.ID, billkey.SubscriptionOrder(sub.ID, 0))
		if err != nil {
			t.Fatal(err)
		}
		// Recorded, but the hook never ran.
		if done, err := st.FinishSchedule(ctx, sc.ID, billkey.ScheduleResult{ImpUID: "imps_000000000001",
			PaymentStatus: billkey.StatusPaid, ExecutedAt: now}, nil); !done || err != nil {
			t.Fatalf("finish: %v %v", done, err)
		}
		if n, err := svc.RepairSubscriptions(ctx); n != 0 || err != nil {
			t.Fatalf("repaired before the grace: %d %v", n, err)
		}
		now = now.Add(2 * time.Minute)
		for range 2 {
			if _, err := svc.RepairSubscriptions(ctx); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := st.SubscriptionByID(ctx, m.Merchant.ID, sub.ID)
		if got.PaidCycles != 1 || got.Period != 1 {
			t.Fatalf("after repair: %+v", got)
		}
		next, err := st.ScheduleByMerchantUID(ctx, m.Merchant.ID, billkey.SubscriptionOrder(sub.ID, 1))
		if err != nil || !next.ScheduleAt.Equal(time.Date(2031, 1, 8, 0, 0, 0, 0, cycle.KST)) {
			t.Fatalf("next: %+v %v", next, err)
		}
		if n, _ := svc.RepairSubscriptions(ctx); n != 0 {
			t.Fatalf("repaired again: %d", n)
		}
	})
}

// TestSubscriptionsAndClocksStayWithTheirMerchant: another merchant can
// neither see, change nor advance them, nor attach to the clock.
func TestSubscriptionsAndClocksStayWithTheirMerchant(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st, keys := teststore.Open(t, dsn)
		svc := New(st, keys, nil, nil)
		var ids []int64
		for _, name := range []string{"a", "b"} {
			m, err := svc.CreateMerchant(ctx, NewMerchant{Name: name, ImpSecret: "secret-0123456789"})
			if err != nil {
				t.Fatal(err)
			}
			chs, err := st.Channels(ctx, m.Merchant.ID)
			if err != nil || len(chs) == 0 {
				t.Fatal(err)
			}
			if _, err := st.SaveCustomer(ctx, &billkey.Customer{MerchantID: m.Merchant.ID, ChannelID: chs[0].ID, CustomerUID: "c-1",
				PGProvider: billkey.ProviderHTML5Inicis, PGID: chs[0].MID, KeyCiphertext: []byte("sealed")}); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.Merchant.ID)
		}
		a, b := ids[0], ids[1]
		clock, err := svc.CreateTestClock(ctx, a, "", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := svc.CreateSubscription(ctx, a, SubscriptionInput{CustomerUID: "c-1", Name: "plan", Amount: 1000, TestClockID: clock.ID})
		if err != nil {
			t.Fatal(err)
		}
		notFound := func(what string, err error) {
			t.Helper()
			if billkey.ErrorCode(err) != billkey.ENOTFOUND {
				t.Errorf("%s by another merchant: %v", what, err)
			}
		}
		_, err = svc.Subscription(ctx, b, sub.ID)
		notFound("get", err)
		_, err = svc.PauseSubscription(ctx, b, sub.ID)
		notFound("pause", err)
		_, err = svc.CancelSubscription(ctx, b, sub.ID, false)
		notFound("cancel", err)
		_, err = svc.ChangeSubscription(ctx, b, sub.ID, 2000, "")
		notFound("change", err)
		_, err = svc.TestClock(ctx, b, clock.ID)
		notFound("clock", err)
		_, err = svc.AdvanceTestClock(ctx, b, clock.ID, clock.Now.Add(time.Hour))
		notFound("advance", err)
		_, err = svc.CreateSubscription(ctx, b, SubscriptionInput{CustomerUID: "c-1", Name: "plan", Amount: 1000, TestClockID: clock.ID})
		notFound("attach", err)
		if subs, total, err := svc.Subscriptions(ctx, b, "", 1, 20); err != nil || total != 0 || len(subs) != 0 {
			t.Errorf("list by another merchant: %d %v", total, err)
		}
		if got, err := svc.Subscription(ctx, a, sub.ID); err != nil || got.Status != billkey.SubActive {
			t.Errorf("owner's subscription changed: %+v %v", got, err)
		}
	})
}
