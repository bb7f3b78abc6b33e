package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/cycle"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/internal/testkeys"
	"github.com/billkey/billkey/sqlstore"
)

// TestLiveCustomerNeverAttachesToATestClock: a customer whose billing key
// belongs to a live channel cannot be put on a test clock (its charges would
// be real); without a clock the same customer may subscribe. Both databases.
func TestLiveCustomerNeverAttachesToATestClock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		keys := testkeys.New(t)
		st, err := sqlstore.Open(ctx, dsn, keys)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		svc := New(st, keys, nil, nil)
		m, err := svc.CreateMerchant(ctx, NewMerchant{Name: "m", ImpSecret: "secret-0123456789"})
		if err != nil {
			t.Fatal(err)
		}
		live := &billkey.Channel{MerchantID: m.Merchant.ID, Provider: billkey.ProviderHTML5Inicis, MID: "LIVEMID001", Live: true,
			Credentials: billkey.ChannelCredentials{SignKey: "s", APIKey: "a", APIIV: "iv", LiteKey: "l"}}
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
		sc, err := st.ScheduleByMerchantUID(ctx, m.Merchant.ID, sqlstore.SubscriptionOrder(sub.ID, 0))
		if err != nil || sc.TestClockID != 0 || !sc.ScheduleAt.Equal(in.Start.Truncate(time.Second)) {
			t.Fatalf("first schedule: %+v %v", sc, err)
		}
	})
}
