package sqlstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/dbtest"
)

// TestStoreCardUpdateLinks: a link is found by its token's hash only, used
// once (of concurrent uses exactly one wins), released only by the window
// that used it; RearmDeclined retries only the decline seen when the card
// was updated. On SQLite and PostgreSQL.
func TestStoreCardUpdateLinks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		sum := sha256.Sum256([]byte("token"))
		l := &billkey.CardUpdateLink{MerchantID: b.merchant.ID, SubscriptionID: 7, CustomerUID: "cust-a", TokenHash: sum[:],
			CreatedAt: b.now, ExpiresAt: b.now.Add(24 * time.Hour)}
		if err := b.store.CreateCardUpdateLink(ctx, l); err != nil || l.ID == 0 {
			t.Fatalf("create: %v", err)
		}
		got, err := b.store.CardUpdateLinkByToken(ctx, sum[:])
		if err != nil || got.ID != l.ID || got.Used() || !got.ExpiresAt.Equal(l.ExpiresAt) || !bytes.Equal(got.TokenHash, sum[:]) {
			t.Fatalf("by token: %+v %v", got, err)
		}
		other := sha256.Sum256([]byte("other"))
		if _, err := b.store.CardUpdateLinkByToken(ctx, other[:]); billkey.ErrorCode(err) != billkey.ENOTFOUND {
			t.Fatalf("unknown token: %v", err)
		}
		if _, err := b.store.CardUpdateLinkByID(ctx, b.merchant.ID+1, l.ID); billkey.ErrorCode(err) != billkey.ENOTFOUND {
			t.Fatalf("another merchant's link: %v", err)
		}

		// Concurrent uses: exactly one wins.
		var wg sync.WaitGroup
		wins := make(chan string, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				imp := "imp_" + string(rune('a'+i))
				if ok, err := b.store.UseCardUpdateLink(ctx, l.ID, imp, "imps_declined", b.now); err != nil {
					t.Error(err)
				} else if ok {
					wins <- imp
				}
			}()
		}
		wg.Wait()
		close(wins)
		var winners []string
		for w := range wins {
			winners = append(winners, w)
		}
		if len(winners) != 1 {
			t.Fatalf("winners %v", winners)
		}
		// Only the winner's release makes it usable again.
		if err := b.store.ReleaseCardUpdateLink(ctx, l.ID, "imp_other"); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.store.CardUpdateLinkByID(ctx, b.merchant.ID, l.ID); !got.Used() || got.ImpUID != winners[0] || got.RetryImpUID != "imps_declined" {
			t.Fatalf("released by another window: %+v", got)
		}
		if err := b.store.ReleaseCardUpdateLink(ctx, l.ID, winners[0]); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.store.CardUpdateLinkByID(ctx, b.merchant.ID, l.ID); got.Used() {
			t.Fatalf("not released: %+v", got)
		}
		if links, err := b.store.CardUpdateLinks(ctx, b.merchant.ID, 7, 10); err != nil || len(links) != 1 {
			t.Fatalf("links of the subscription: %v %v", links, err)
		}

		// A declined schedule: retried for a card update after the decline,
		// not for one before it.
		at := b.now.Add(-time.Minute)
		mustCreateSchedules(t, b, b.schedule("sub_7_1", "cust-a", at))
		scs, err := b.store.ClaimDueSchedules(ctx, "node", b.now, b.now.Add(time.Minute), 10)
		if err != nil || len(scs) != 1 {
			t.Fatalf("claim: %v %v", scs, err)
		}
		if ok, err := b.store.FinishSchedule(ctx, scs[0].ID, billkey.ScheduleResult{ImpUID: "imps_first", PaymentStatus: billkey.StatusFailed,
			FailReason: "declined", ExecutedAt: b.now}, nil); err != nil || !ok {
			t.Fatalf("finish: %v %v", ok, err)
		}
		for _, imp := range []string{"imps_other", ""} {
			if _, err := b.store.RearmDeclined(ctx, b.merchant.ID, "sub_7_1", b.now, imp); billkey.ErrorCode(err) != billkey.EINVALID {
				t.Fatalf("rearmed for the decline %q: %v", imp, err)
			}
		}
		re, err := b.store.RearmDeclined(ctx, b.merchant.ID, "sub_7_1", b.now, "imps_first")
		if err != nil || re.Status != billkey.ScheduleScheduled || re.ImpUID != "" {
			t.Fatalf("rearm: %+v %v", re, err)
		}
		if _, err := b.store.RearmDeclined(ctx, b.merchant.ID, "sub_7_1", b.now, "imps_first"); billkey.ErrorCode(err) != billkey.EINVALID {
			t.Fatalf("a pending schedule was rearmed: %v", err)
		}
	})
}
