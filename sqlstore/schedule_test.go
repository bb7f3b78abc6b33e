package sqlstore_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/dbtest"
)

func (b *testBundle) schedule(uid, customer string, at time.Time) *billkey.Schedule {
	return &billkey.Schedule{MerchantID: b.merchant.ID, CustomerUID: customer, MerchantUID: uid, ScheduleAt: at,
		Amount: 8900, Currency: "KRW", Name: "월간 이용권", Buyer: billkey.Buyer{Tel: "01012345678"}}
}

func mustCreateSchedules(t *testing.T, b *testBundle, scs ...*billkey.Schedule) {
	t.Helper()
	if err := b.store.CreateSchedules(context.Background(), scs); err != nil {
		t.Fatalf("create schedules: %v", err)
	}
}

func uidsOf(scs []*billkey.Schedule) []string {
	out := make([]string, len(scs))
	for i, sc := range scs {
		out[i] = sc.MerchantUID
	}
	return out
}

func TestStoreSchedules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		at := b.now.Add(time.Hour)
		custom := `{"plan":"monthly"}`
		vat := int64(800)
		first := b.schedule("s-1", "cust-a", at)
		first.CustomData, first.VatAmount, first.NoticeURL = &custom, &vat, "https://shop.example/hook"
		mustCreateSchedules(t, b, first, b.schedule("s-2", "cust-a", at.Add(time.Hour)), b.schedule("s-3", "cust-b", at.Add(2*time.Hour)))
		if first.ID == 0 || first.Status != billkey.ScheduleScheduled {
			t.Fatalf("created: %+v", first)
		}

		// All or nothing: one taken merchant_uid refuses the whole batch.
		b.pay(t, b.payment(t, "paid-order", 1000))
		for _, uid := range []string{"s-2", "paid-order"} {
			err := b.store.CreateSchedules(ctx, []*billkey.Schedule{b.schedule("s-new", "cust-a", at), b.schedule(uid, "cust-a", at)})
			if billkey.ErrorCode(err) != billkey.EREJECTED {
				t.Fatalf("duplicate %s: %v", uid, err)
			}
		}
		if _, err := b.store.ScheduleByMerchantUID(ctx, b.merchant.ID, "s-new"); billkey.ErrorCode(err) != billkey.ENOTFOUND {
			t.Fatalf("a refused batch wrote s-new: %v", err)
		}
		scheduled, paid, err := b.store.OrdersTaken(ctx, b.merchant.ID, []string{"s-1", "paid-order", "free"})
		if err != nil || !scheduled["s-1"] || !paid["paid-order"] || scheduled["free"] || paid["free"] || len(scheduled)+len(paid) != 2 {
			t.Fatalf("orders taken: %v %v %v", scheduled, paid, err)
		}

		got, err := b.store.ScheduleByMerchantUID(ctx, b.merchant.ID, "s-1")
		if err != nil || got.CustomData == nil || *got.CustomData != custom || got.VatAmount == nil || *got.VatAmount != 800 ||
			!got.ScheduleAt.Equal(at) || got.NoticeURL != first.NoticeURL || got.Buyer.Tel != "01012345678" || got.PaymentStatus != "" {
			t.Fatalf("lookup: %+v %v", got, err)
		}
		other, _ := createMerchant(t, b.store, "imp10000002", "key-2")
		if _, err := b.store.ScheduleByMerchantUID(ctx, other.ID, "s-1"); billkey.ErrorCode(err) != billkey.ENOTFOUND {
			t.Fatalf("another merchant sees s-1: %v", err)
		}

		// Lists: newest first by default, window [from, to), status, customer, paging.
		list := func(f billkey.ScheduleFilter) ([]string, int) {
			t.Helper()
			f.MerchantID = b.merchant.ID
			scs, total, err := b.store.ListSchedules(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return uidsOf(scs), total
		}
		if uids, total := list(billkey.ScheduleFilter{}); fmt.Sprint(uids) != "[s-3 s-2 s-1]" || total != 3 {
			t.Fatalf("all: %v %d", uids, total)
		}
		if uids, _ := list(billkey.ScheduleFilter{OldestFirst: true, Limit: 2, Offset: 1}); fmt.Sprint(uids) != "[s-2 s-3]" {
			t.Fatalf("oldest first, page 2: %v", uids)
		}
		if uids, _ := list(billkey.ScheduleFilter{From: at, To: at.Add(2 * time.Hour)}); fmt.Sprint(uids) != "[s-2 s-1]" {
			t.Fatalf("window: %v", uids)
		}
		if uids, total := list(billkey.ScheduleFilter{CustomerUID: "cust-b"}); fmt.Sprint(uids) != "[s-3]" || total != 1 {
			t.Fatalf("customer: %v", uids)
		}
		if uids, _ := list(billkey.ScheduleFilter{CustomerUID: "nobody"}); len(uids) != 0 {
			t.Fatalf("unknown customer: %v", uids)
		}

		// Move a pending one; a lease or a payment of its run makes it immovable.
		moved, err := b.store.MoveSchedule(ctx, b.merchant.ID, "s-1", at.Add(30*time.Minute))
		if err != nil || !moved.ScheduleAt.Equal(at.Add(30*time.Minute)) || !moved.RunAfter.Equal(moved.ScheduleAt) {
			t.Fatalf("move: %+v %v", moved, err)
		}
		if _, err := b.store.MoveSchedule(ctx, b.merchant.ID, "nope", at); billkey.ErrorCode(err) != billkey.ENOTFOUND {
			t.Fatalf("move unknown: %v", err)
		}

		// Revoke: by merchant_uid (with the customer checked), by customer.
		revoked, err := b.store.RevokeSchedules(ctx, b.merchant.ID, "cust-b", []string{"s-1", "s-3", "nope"})
		if err != nil || fmt.Sprint(uidsOf(revoked)) != "[s-3]" || revoked[0].Status != billkey.ScheduleRevoked || !revoked[0].RevokedAt.Equal(b.now) {
			t.Fatalf("revoke s-3 of cust-b: %v %v", uidsOf(revoked), err)
		}
		if again, err := b.store.RevokeSchedules(ctx, b.merchant.ID, "", []string{"s-3"}); err != nil || len(again) != 0 {
			t.Fatalf("revoke twice: %v %v", again, err)
		}
		if _, err := b.store.MoveSchedule(ctx, b.merchant.ID, "s-3", at); billkey.ErrorCode(err) != billkey.EINVALID {
			t.Fatalf("move revoked: %v", err)
		}
		// s-2 has a payment of its run (a node is charging it): not revocable.
		b.payment(t, "s-2", 8900)
		revoked, err = b.store.RevokeSchedules(ctx, b.merchant.ID, "cust-a", nil)
		if err != nil || fmt.Sprint(uidsOf(revoked)) != "[s-1]" {
			t.Fatalf("revoke cust-a: %v %v", uidsOf(revoked), err)
		}
		if _, err := b.store.MoveSchedule(ctx, b.merchant.ID, "s-2", at); billkey.ErrorCode(err) != billkey.EINVALID {
			t.Fatalf("move with a run payment: %v", err)
		}

		// Rearm: revoked → scheduled; pending → refused; earlier payments are
		// not part of the new run.
		if _, err := b.store.RearmSchedule(ctx, b.merchant.ID, "s-2", at, "", time.Time{}); billkey.ErrorCode(err) != billkey.EINVALID {
			t.Fatalf("rearm pending: %v", err)
		}
		re, err := b.store.RearmSchedule(ctx, b.merchant.ID, "s-1", at.Add(time.Hour), "", time.Time{})
		if err != nil || re.Status != billkey.ScheduleScheduled || !re.RevokedAt.IsZero() || !re.ScheduleAt.Equal(at.Add(time.Hour)) {
			t.Fatalf("rearm revoked: %+v %v", re, err)
		}
		if p, err := b.store.RunPayment(ctx, b.merchant.ID, "s-2", 0); err != nil || p == nil || p.MerchantUID != "s-2" {
			t.Fatalf("run payment: %+v %v", p, err)
		}
		if p, err := b.store.RunPayment(ctx, b.merchant.ID, "s-1", re.PriorPaymentID); err != nil || p != nil {
			t.Fatalf("run payment of s-1: %+v %v", p, err)
		}
	})
}

func TestStoreScheduleClaims(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		const n = 60
		var scs []*billkey.Schedule
		for i := range n {
			scs = append(scs, b.schedule(fmt.Sprintf("due-%02d", i), "cust-a", b.now.Add(-time.Duration(i)*time.Second)))
		}
		scs = append(scs, b.schedule("later", "cust-a", b.now.Add(time.Hour)), b.schedule("revoked", "cust-a", b.now))
		mustCreateSchedules(t, b, scs...)
		if _, err := b.store.RevokeSchedules(ctx, b.merchant.ID, "", []string{"revoked"}); err != nil {
			t.Fatal(err)
		}

		// Eight claimers race: every due schedule is claimed exactly once.
		lease := b.now.Add(time.Minute)
		var mu sync.Mutex
		claimedBy := map[string][]string{}
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := fmt.Sprintf("node-%d", w)
				// Bounded: if leased rows could be claimed again, this
				// loop would never see an empty claim.
				for round := 0; ; round++ {
					if round > n {
						t.Errorf("%s still claiming after %d rounds: leased schedules are claimed again", owner, round)
						return
					}
					got, err := b.store.ClaimDueSchedules(ctx, owner, b.now, lease, 3)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					if len(got) > 3 {
						t.Errorf("claimed %d rows with limit 3", len(got))
					}
					mu.Lock()
					for _, sc := range got {
						if sc.LeaseOwner != owner || sc.Attempts != 1 || !sc.LeaseUntil.Equal(lease) {
							t.Errorf("claimed row: %+v", sc)
						}
						claimedBy[sc.MerchantUID] = append(claimedBy[sc.MerchantUID], owner)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(claimedBy) != n {
			t.Fatalf("%d schedules claimed, want %d: %v", len(claimedBy), n, claimedBy)
		}
		for uid, owners := range claimedBy {
			if len(owners) != 1 || uid == "later" || uid == "revoked" {
				t.Fatalf("%s claimed by %v", uid, owners)
			}
		}
		// A leased schedule is neither revoked nor moved.
		if rv, err := b.store.RevokeSchedules(ctx, b.merchant.ID, "", []string{"due-00"}); err != nil || len(rv) != 0 {
			t.Fatalf("revoked a leased schedule: %v %v", rv, err)
		}

		// The lease expires (the node died): another node takes over.
		owner0 := claimedBy["due-00"][0]
		b.now = b.now.Add(2 * time.Minute)
		var due00 *billkey.Schedule
		for round := 0; ; round++ {
			if round > 3 {
				t.Fatal("still claiming: leased schedules are claimed again")
			}
			got, err := b.store.ClaimDueSchedules(ctx, "node-new", b.now, b.now.Add(time.Minute), 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				break
			}
			for _, sc := range got {
				if sc.MerchantUID == "due-00" {
					due00 = sc
				}
			}
		}
		if due00 == nil || due00.Attempts != 2 || due00.LeaseOwner != "node-new" {
			t.Fatalf("takeover: %+v", due00)
		}
		if ok, err := b.store.RenewScheduleLease(ctx, due00.ID, owner0, b.now.Add(time.Hour)); err != nil || ok {
			t.Fatalf("the old owner renewed: %v %v", ok, err)
		}
		if ok, err := b.store.RenewScheduleLease(ctx, due00.ID, "node-new", b.now.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("renew: %v %v", ok, err)
		}

		// Defer releases the lease until the retry time.
		if err := b.store.DeferSchedule(ctx, due00.ID, "node-new", b.now.Add(10*time.Second), "PG outcome unknown"); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.store.ClaimDueSchedules(ctx, "x", b.now.Add(9*time.Second), b.now.Add(time.Minute), 100); len(got) != 0 {
			t.Fatalf("claimed before its retry time: %v", uidsOf(got))
		}
		b.now = b.now.Add(10 * time.Second)
		got, err := b.store.ClaimDueSchedules(ctx, "node-2", b.now, b.now.Add(time.Minute), 100)
		if err != nil || fmt.Sprint(uidsOf(got)) != "[due-00]" || got[0].LastError != "PG outcome unknown" || got[0].Attempts != 3 {
			t.Fatalf("claim after defer: %v %v", uidsOf(got), err)
		}

		// Finish once; a second finish changes nothing. A failure without
		// payment adds its webhook event in the same transaction.
		ok, err := b.store.FinishSchedule(ctx, due00.ID, billkey.ScheduleResult{PaymentStatus: billkey.StatusFailed,
			FailReason: "등록되지 않은 구매자입니다.", ExecutedAt: b.now},
			&billkey.Event{MerchantID: b.merchant.ID, MerchantUID: "due-00", Status: billkey.StatusFailed})
		if err != nil || !ok {
			t.Fatalf("finish: %v %v", ok, err)
		}
		if ok, err := b.store.FinishSchedule(ctx, due00.ID, billkey.ScheduleResult{ImpUID: "x", PaymentStatus: billkey.StatusPaid}, nil); err != nil || ok {
			t.Fatalf("finished twice: %v %v", ok, err)
		}
		fin, _ := b.store.ScheduleByMerchantUID(ctx, b.merchant.ID, "due-00")
		if fin.Status != billkey.ScheduleExecuted || fin.PaymentStatus != billkey.StatusFailed || fin.LeaseOwner != "" || fin.ImpUID != "" {
			t.Fatalf("finished: %+v", fin)
		}
		evs, _ := b.store.Events(ctx, b.merchant.ID, 0, 100)
		if len(evs) != 1 || evs[0].MerchantUID != "due-00" || evs[0].Status != billkey.StatusFailed {
			t.Fatalf("events: %+v", evs)
		}

		// An executed schedule shows its payment's current status.
		b.now = b.now.Add(time.Minute)
		p := b.payment(t, "due-01", 8900)
		b.pay(t, p)
		s1, _ := b.store.ScheduleByMerchantUID(ctx, b.merchant.ID, "due-01")
		if ok, err := b.store.FinishSchedule(ctx, s1.ID, billkey.ScheduleResult{ImpUID: p.ImpUID, PaymentStatus: billkey.StatusPaid, ExecutedAt: b.now}, nil); err != nil || !ok {
			t.Fatal(ok, err)
		}
		s1, _ = b.store.ScheduleByMerchantUID(ctx, b.merchant.ID, "due-01")
		if s1.ImpUID != p.ImpUID || s1.PaymentStatus != billkey.StatusPaid {
			t.Fatalf("executed: %+v", s1)
		}
		counts, err := b.store.ScheduleCounts(ctx)
		if err != nil || counts[billkey.ScheduleExecuted] != 2 || counts[billkey.ScheduleRevoked] != 1 {
			t.Fatalf("counts: %v %v", counts, err)
		}
	})
}

func TestStoreWebhookDeliveries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		if err := b.store.SetWebhookURL(ctx, b.merchant.ID, "https://shop.example/default"); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			p := b.payment(t, fmt.Sprintf("o-%d", i), 1000)
			if i == 0 {
				p.NoticeURL = "https://shop.example/notice"
			}
			b.pay(t, p)
		}
		build := func(ev billkey.RelayedEvent) billkey.NewDelivery {
			u := ev.MerchantWebhookURL
			if ev.MerchantUID == "o-0" {
				u = "https://shop.example/notice"
			}
			return billkey.NewDelivery{URL: u, Body: []byte(`{"imp_uid":"` + ev.ImpUID + `"}`), GiveUpAt: b.now.Add(time.Hour)}
		}
		// Concurrent relays: one delivery per event.
		var wg sync.WaitGroup
		var mu sync.Mutex
		relayed := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := b.store.RelayEvents(ctx, 2, build)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				relayed += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		for {
			n, err := b.store.RelayEvents(ctx, 2, build)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			relayed += n
		}
		ds, total, err := b.store.ListDeliveries(ctx, billkey.DeliveryFilter{MerchantID: b.merchant.ID, Limit: 100})
		if err != nil || total != 5 || len(ds) != 5 || relayed < 5 {
			t.Fatalf("deliveries: %d %d relayed %d %v", total, len(ds), relayed, err)
		}
		for _, d := range ds {
			if d.State != billkey.DeliveryPending || d.Status != billkey.StatusPaid || !bytes.Contains(d.Body, []byte(d.ImpUID)) {
				t.Fatalf("delivery: %+v", d)
			}
		}

		// Claims are exclusive; a failed attempt schedules a retry; a 2xx
		// delivers; every attempt is kept.
		got, err := b.store.ClaimDueDeliveries(ctx, "node-a", b.now, b.now.Add(time.Minute), 3)
		if err != nil || len(got) != 3 {
			t.Fatalf("claim: %d %v", len(got), err)
		}
		if more, _ := b.store.ClaimDueDeliveries(ctx, "node-b", b.now, b.now.Add(time.Minute), 10); len(more) != 2 {
			t.Fatalf("second claimer got %d", len(more))
		}
		d := got[0]
		if err := b.store.RecordWebhookAttempt(ctx, d, "node-a", billkey.WebhookAttempt{At: b.now, StatusCode: 500, Latency: 12 * time.Millisecond,
			Error: "HTTP 500", Node: "node-a"}, billkey.AttemptOutcome{Next: b.now.Add(10 * time.Second)}); err != nil {
			t.Fatal(err)
		}
		if again, _ := b.store.ClaimDueDeliveries(ctx, "node-c", b.now.Add(9*time.Second), b.now.Add(time.Minute), 10); len(again) != 0 {
			t.Fatalf("claimed before retry time: %d", len(again))
		}
		again, _ := b.store.ClaimDueDeliveries(ctx, "node-c", b.now.Add(10*time.Second), b.now.Add(time.Minute), 10)
		if len(again) != 1 || again[0].ID != d.ID || again[0].Attempts != 1 {
			t.Fatalf("retry claim: %+v", again)
		}
		if err := b.store.RecordWebhookAttempt(ctx, again[0], "node-c", billkey.WebhookAttempt{At: b.now, StatusCode: 204, Node: "node-c"},
			billkey.AttemptOutcome{Delivered: true}); err != nil {
			t.Fatal(err)
		}
		one, err := b.store.DeliveryByID(ctx, b.merchant.ID, d.ID)
		if err != nil || one.State != billkey.DeliveryDelivered || one.Attempts != 2 || len(one.Log) != 2 ||
			one.Log[0].StatusCode != 500 || one.Log[0].Latency != 12*time.Millisecond || one.Log[1].Node != "node-c" {
			t.Fatalf("delivered: %+v %v", one, err)
		}
		// A late failure report from a stale attempt does not undo it.
		_ = b.store.RecordWebhookAttempt(ctx, d, "node-a", billkey.WebhookAttempt{At: b.now, Error: "timeout"}, billkey.AttemptOutcome{})
		if one, _ = b.store.DeliveryByID(ctx, b.merchant.ID, d.ID); one.State != billkey.DeliveryDelivered || len(one.Log) != 3 {
			t.Fatalf("after a stale failure: %+v", one)
		}
		// Giving up, then a manual resend.
		if err := b.store.RecordWebhookAttempt(ctx, got[1], "node-a", billkey.WebhookAttempt{At: b.now, Error: "connection refused"},
			billkey.AttemptOutcome{}); err != nil {
			t.Fatal(err)
		}
		if g, _ := b.store.DeliveryByID(ctx, b.merchant.ID, got[1].ID); g.State != billkey.DeliveryFailed {
			t.Fatalf("gave up: %+v", g)
		}
		rs, err := b.store.ResendDelivery(ctx, b.merchant.ID, got[1].ID, b.now.Add(time.Hour))
		if err != nil || rs.State != billkey.DeliveryPending || !rs.NextAttemptAt.Equal(b.now) {
			t.Fatalf("resend: %+v %v", rs, err)
		}
		other, _ := createMerchant(t, b.store, "imp10000003", "key-3")
		if _, err := b.store.ResendDelivery(ctx, other.ID, got[1].ID, b.now); billkey.ErrorCode(err) != billkey.ENOTFOUND {
			t.Fatalf("another merchant resent: %v", err)
		}
		byImp, n, err := b.store.ListDeliveries(ctx, billkey.DeliveryFilter{MerchantID: b.merchant.ID, ImpUID: d.ImpUID})
		if err != nil || n != 1 || byImp[0].ID != d.ID {
			t.Fatalf("by imp_uid: %v %d %v", byImp, n, err)
		}
		counts, _ := b.store.WebhookDeliveryCounts(ctx)
		if counts[billkey.DeliveryDelivered] != 1 || counts[billkey.DeliveryPending] != 4 {
			t.Fatalf("counts: %v", counts)
		}
	})
}

func TestStoreWebhookSecrets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		if s, infos, err := b.store.WebhookSecrets(ctx, b.merchant.ID, b.now); err != nil || len(s) != 0 || len(infos) != 0 {
			t.Fatalf("none yet: %v %v %v", s, infos, err)
		}
		add := func(secret string, overlap time.Duration) {
			t.Helper()
			if err := b.store.AddWebhookSecret(ctx, b.merchant.ID, secret, b.now.Add(overlap)); err != nil {
				t.Fatal(err)
			}
		}
		add("whsec_first", time.Hour)
		b.now = b.now.Add(time.Second)
		add("whsec_second", time.Hour)
		s, infos, err := b.store.WebhookSecrets(ctx, b.merchant.ID, b.now)
		if err != nil || fmt.Sprint(s) != "[whsec_second whsec_first]" || !infos[0].ExpiresAt.IsZero() || !infos[1].ExpiresAt.Equal(b.now.Add(time.Hour)) {
			t.Fatalf("after rotation: %v %+v %v", s, infos, err)
		}
		// A third secret: only the newest previous one stays valid.
		b.now = b.now.Add(time.Second)
		add("whsec_third", 10*time.Minute)
		if s, _, _ := b.store.WebhookSecrets(ctx, b.merchant.ID, b.now); fmt.Sprint(s) != "[whsec_third whsec_second]" {
			t.Fatalf("after a second rotation: %v", s)
		}
		b.now = b.now.Add(11 * time.Minute)
		if s, _, _ := b.store.WebhookSecrets(ctx, b.merchant.ID, b.now); fmt.Sprint(s) != "[whsec_third]" {
			t.Fatalf("after the overlap: %v", s)
		}
		// Sealed at rest, bound to its row.
		blobs, err := b.store.WebhookSecretBlobs(ctx)
		if err != nil || len(blobs) != 3 {
			t.Fatalf("blobs: %d %v", len(blobs), err)
		}
		for _, bl := range blobs {
			if bytes.Contains(bl.Blob, []byte("whsec_")) {
				t.Fatalf("secret %d stored in the clear", bl.ID)
			}
		}
		if err := b.store.ReplaceWebhookSecretBlob(ctx, blobs[2], blobs[0].Blob); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.store.WebhookSecrets(ctx, b.merchant.ID, b.now); err == nil {
			t.Fatal("a secret moved to another row still opened")
		}
	})
}

// TestStoreLeasedScheduleNotClaimedAgain: a schedule whose lease is still
// valid is never claimed by another node, and is claimable once it expired.
// It fails at once (rather than hanging a claim loop) if a claim ignores the
// lease.
func TestStoreLeasedScheduleNotClaimedAgain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		mustCreateSchedules(t, b, b.schedule("leased", "cust-a", b.now.Add(-time.Hour)))
		first, err := b.store.ClaimDueSchedules(ctx, "node-a", b.now, b.now.Add(time.Minute), 10)
		if err != nil || len(first) != 1 {
			t.Fatalf("first claim: %v %v", uidsOf(first), err)
		}
		for _, at := range []time.Duration{0, 30 * time.Second, time.Minute - time.Millisecond} {
			again, err := b.store.ClaimDueSchedules(ctx, "node-b", b.now.Add(at), b.now.Add(at+time.Minute), 10)
			if err != nil || len(again) != 0 {
				t.Fatalf("claimed while leased (+%s): %v %v", at, uidsOf(again), err)
			}
		}
		after, err := b.store.ClaimDueSchedules(ctx, "node-b", b.now.Add(time.Minute), b.now.Add(2*time.Minute), 10)
		if err != nil || len(after) != 1 || after[0].LeaseOwner != "node-b" || after[0].Attempts != 2 {
			t.Fatalf("claim after the lease expired: %+v %v", after, err)
		}
	})
}

// TestQueueTablesVacuumOften: on PostgreSQL the work-queue tables carry
// autovacuum settings that keep the dead entries of their partial indexes
// few (each claim walks them); SQLite has no such setting to check.
func TestQueueTablesVacuumOften(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		if !strings.HasPrefix(dsn, "postgres") {
			return
		}
		for _, table := range []string{"schedules", "events", "webhook_deliveries"} {
			var opts string
			if err := b.store.DB.QueryRowContext(context.Background(),
				`SELECT COALESCE(array_to_string(reloptions, ','), '') FROM pg_class WHERE relname = $1 AND relkind = 'r'`, table).Scan(&opts); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(opts, "autovacuum_vacuum_scale_factor=0.01") || !strings.Contains(opts, "autovacuum_vacuum_cost_delay=0") {
				t.Fatalf("%s: reloptions %q", table, opts)
			}
		}
	})
}
