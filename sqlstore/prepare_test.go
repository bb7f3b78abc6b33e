package sqlstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/dbtest"
)

// TestPrepares: one pre-registration per (merchant, merchant_uid), even
// under concurrent POSTs; PUT changes only an existing one; merchants are
// isolated.
func TestPrepares(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		other, _ := createMerchant(t, b.store, "imp10000002", "key-2")
		if _, err := b.store.PrepareByMerchantUID(ctx, b.merchant.ID, "o-1"); billkey.ErrorCode(err) != billkey.ENOTFOUND ||
			billkey.ErrorMessage(err) != billkey.NoPrepareMessage {
			t.Fatalf("unknown: %v", err)
		}
		if err := b.store.UpdatePrepare(ctx, &billkey.Prepare{MerchantID: b.merchant.ID, MerchantUID: "o-1", Amount: 1}); billkey.ErrorCode(err) != billkey.ENOTFOUND {
			t.Fatalf("update unknown: %v", err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 10)
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- b.store.CreatePrepare(ctx, &billkey.Prepare{MerchantID: b.merchant.ID, MerchantUID: "o-1", Amount: int64(1000 + i)})
			}()
		}
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			switch billkey.ErrorCode(err) {
			case "":
				ok++
			case billkey.EREJECTED:
			default:
				t.Fatalf("concurrent create: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d concurrent creates succeeded, want 1", ok)
		}
		b.now = b.now.Add(time.Minute)
		p := &billkey.Prepare{MerchantID: b.merchant.ID, MerchantUID: "o-1", Amount: 5000, Currency: "KRW"}
		if err := b.store.UpdatePrepare(ctx, p); err != nil || p.Updated.Sub(p.Created) != time.Minute {
			t.Fatalf("update: %v %+v", err, p)
		}
		got, err := b.store.PrepareByMerchantUID(ctx, b.merchant.ID, "o-1")
		if err != nil || got.Amount != 5000 || got.Currency != "KRW" {
			t.Fatalf("read back: %+v %v", got, err)
		}
		if _, err := b.store.PrepareByMerchantUID(ctx, other.ID, "o-1"); billkey.ErrorCode(err) != billkey.ENOTFOUND {
			t.Fatalf("another merchant sees it: %v", err)
		}
		if err := b.store.CreatePrepare(ctx, &billkey.Prepare{MerchantID: other.ID, MerchantUID: "o-1", Amount: 1}); err != nil {
			t.Fatalf("same merchant_uid at another merchant: %v", err)
		}
	})
}

// TestCustomerForCharge: the customer and the prepared amounts of the
// charge's merchant_uid come back together; another merchant's prepare with
// the same merchant_uid, or another merchant_uid's, is not joined.
func TestCustomerForCharge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		other, _ := createMerchant(t, b.store, "imp10000002", "key-2")
		c := &billkey.Customer{MerchantID: b.merchant.ID, ChannelID: b.channel.ID, CustomerUID: "cust-1", PGProvider: "html5_inicis",
			PGID: "INIBillTst", CardNumber: "424242*********2", KeyCiphertext: []byte("blob-1"), Name: "홍길동"}
		if _, err := b.store.SaveCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.store.CustomerForCharge(ctx, b.merchant.ID, "nobody", "o-1"); billkey.ErrorCode(err) != billkey.ENOTFOUND {
			t.Fatalf("unknown customer: %v", err)
		}
		if _, _, err := b.store.CustomerForCharge(ctx, other.ID, "cust-1", "o-1"); billkey.ErrorCode(err) != billkey.ENOTFOUND {
			t.Fatalf("another merchant's customer: %v", err)
		}
		for _, p := range []*billkey.Prepare{
			{MerchantID: other.ID, MerchantUID: "o-1", Amount: 1},
			{MerchantID: b.merchant.ID, MerchantUID: "o-2", Amount: 2},
		} {
			if err := b.store.CreatePrepare(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		got, prep, err := b.store.CustomerForCharge(ctx, b.merchant.ID, "cust-1", "o-1")
		if err != nil || got.Name != "홍길동" || string(got.KeyCiphertext) != "blob-1" || prep != nil {
			t.Fatalf("no prepare: %+v %+v %v", got, prep, err)
		}
		if err := b.store.CreatePrepare(ctx, &billkey.Prepare{MerchantID: b.merchant.ID, MerchantUID: "o-1", Amount: 5000, Currency: "KRW"}); err != nil {
			t.Fatal(err)
		}
		got, prep, err = b.store.CustomerForCharge(ctx, b.merchant.ID, "cust-1", "o-1")
		if err != nil || got.CustomerUID != "cust-1" || prep == nil || prep.Amount != 5000 || prep.Currency != "KRW" ||
			prep.MerchantUID != "o-1" || prep.Created.IsZero() {
			t.Fatalf("with prepare: %+v %+v %v", got, prep, err)
		}
	})
}
