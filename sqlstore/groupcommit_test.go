package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/dbtest"
)

// TestStoreConcurrentWrites races many writers, some of which fail by
// design (a reused merchant_uid). On SQLite they share group commits: a
// failing caller's writes are undone without touching its batch-mates', and
// every caller told "done" is durable.
func TestStoreConcurrentWrites(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		var wg sync.WaitGroup
		var mu sync.Mutex
		created, dupes := map[string]*billkey.Payment{}, 0
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				uid := fmt.Sprintf("order-%d", i)
				if i%4 == 0 {
					uid = "order-shared" // 50 callers want the same order
				}
				p := &billkey.Payment{MerchantID: b.merchant.ID, ChannelID: b.channel.ID, ImpUID: fmt.Sprintf("imps_%012d", i),
					MerchantUID: uid, PayMethod: "card", Channel: "api", PGProvider: "html5_inicis", PGID: "INIBillTst",
					Amount: 100, Currency: "KRW", Status: billkey.StatusReady}
				err := b.store.CreatePayment(ctx, p)
				if err != nil && !strings.Contains(billkey.ErrorMessage(err), "이미 주문") {
					t.Error(err)
					return
				}
				if err == nil {
					p.Status, p.PaidAt = billkey.StatusPaid, b.now
					ok, ferr := b.store.FinishPayment(ctx, p, &billkey.Event{MerchantID: p.MerchantID, ImpUID: p.ImpUID, MerchantUID: uid, Status: billkey.StatusPaid})
					if ferr != nil || !ok {
						t.Errorf("finish %s: %v %v", uid, ok, ferr)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					dupes++
				} else {
					created[uid] = p
				}
			}()
		}
		wg.Wait()
		if len(created) != 151 || dupes != 49 {
			t.Fatalf("created %d orders, refused %d duplicates; want 151 and 49", len(created), dupes)
		}
		ps, total, err := b.store.ListPayments(ctx, billkey.PaymentFilter{MerchantID: b.merchant.ID, Status: billkey.StatusPaid, Limit: 1000})
		if err != nil || total != 151 {
			t.Fatalf("paid payments stored: %d %v", total, err)
		}
		for _, p := range ps {
			if created[p.MerchantUID] == nil || created[p.MerchantUID].ImpUID != p.ImpUID {
				t.Fatalf("stored %s/%s, not what its caller was told", p.MerchantUID, p.ImpUID)
			}
		}
		evs, _ := b.store.Events(ctx, b.merchant.ID, 0, 1000)
		if len(evs) != 151 {
			t.Fatalf("%d outbox events, want one per paid payment", len(evs))
		}
	})
}

// TestStoreSQLiteWALStaysBounded: under a steady stream of writes the
// write-ahead log is checkpointed and restarted, so its size does not grow
// with the number of writes (a checkpointer racing the writer once let it
// reach 15 GB in a 5-minute soak).
func TestStoreSQLiteWALStaysBounded(t *testing.T) {
	dsn := dbtest.DSN(t, "sqlite")
	b := setup(t, dsn)
	ctx := context.Background()
	write := func(round int) int64 {
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 500 {
					p := &billkey.Payment{MerchantID: b.merchant.ID, ChannelID: b.channel.ID,
						ImpUID: fmt.Sprintf("imps_%02d%02d%08d", round, w, i), MerchantUID: fmt.Sprintf("wal-%d-%d-%d", round, w, i),
						PayMethod: "card", Channel: "api", PGProvider: "html5_inicis", PGID: "INIBillTst",
						Name: strings.Repeat("월간 이용권 ", 20), Amount: 100, Currency: "KRW", Status: billkey.StatusReady}
					if err := b.store.CreatePayment(ctx, p); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		st, err := os.Stat(dsn + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	first := write(1)
	for round := 2; round <= 4; round++ {
		if size := write(round); size > first*5/4+1<<20 {
			t.Fatalf("WAL grew from %d to %d bytes over %d×4,000 writes: it is not checkpointed and restarted", first, size, round)
		}
	}
	t.Logf("WAL stays at %d KiB over 16,000 writes", first/1024)
}
