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
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/internal/testkeys"
	"github.com/billkey/billkey/internal/teststore"
	"github.com/billkey/billkey/sqlstore"
)

// testBundle is an open store with one merchant and its channel.
type testBundle struct {
	store    *sqlstore.Store
	merchant *billkey.Merchant
	channel  *billkey.Channel
	now      time.Time
	seq      int
}

func setup(t *testing.T, dsn string) *testBundle {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn, testkeys.New(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	b := &testBundle{store: st, now: time.Unix(1_800_000_000, 0)}
	st.Now = func() time.Time { return b.now }
	b.merchant, b.channel = createMerchant(t, st, "imp10000001", "key-1")
	return b
}

func createMerchant(t *testing.T, st *sqlstore.Store, code, key string) (*billkey.Merchant, *billkey.Channel) {
	t.Helper()
	m := &billkey.Merchant{ImpCode: code, Name: "shop " + code, APIKey: key}
	ch := &billkey.Channel{Provider: billkey.ProviderHTML5Inicis, MID: "INIBillTst", Default: true,
		Credentials: inicis.Credentials{SignKey: "SIGNKEY-SECRET-" + code, APIKey: "apikey", APIIV: "apiiv", LiteKey: "lite"}.Encode()}
	if err := st.CreateMerchant(context.Background(), m, []byte("mac-"+key), []*billkey.Channel{ch}); err != nil {
		t.Fatalf("create merchant: %v", err)
	}
	return m, ch
}

func (b *testBundle) payment(t *testing.T, merchantUID string, amount int64) *billkey.Payment {
	t.Helper()
	b.seq++
	p := &billkey.Payment{MerchantID: b.merchant.ID, ChannelID: b.channel.ID, ImpUID: fmt.Sprintf("imps_%012d", b.seq),
		MerchantUID: merchantUID, PayMethod: "card", Channel: billkey.ChannelAPI, PGProvider: "html5_inicis",
		PGID: "INIBillTst", Name: "월간 이용권", Amount: amount, Currency: "KRW", Status: billkey.StatusReady,
		CustomerUID: "cust-1", CustomerUIDUsage: billkey.UsagePayment}
	if err := b.store.CreatePayment(context.Background(), p); err != nil {
		t.Fatalf("create payment: %v", err)
	}
	return p
}

func (b *testBundle) pay(t *testing.T, p *billkey.Payment) {
	t.Helper()
	p.Status, p.PGTID, p.ApplyNum, p.PaidAt = billkey.StatusPaid, "INIAPICARDINIBillTst"+p.MerchantUID, "12345678", b.now
	ok, err := b.store.FinishPayment(context.Background(), p, &billkey.Event{MerchantID: p.MerchantID, ImpUID: p.ImpUID, MerchantUID: p.MerchantUID, Status: billkey.StatusPaid})
	if err != nil || !ok {
		t.Fatalf("finish payment: %v %v", ok, err)
	}
}

func TestStoreMerchantsAndChannels(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		m, mac, err := b.store.MerchantByAPIKey(ctx, "key-1")
		if err != nil || m.ID != b.merchant.ID || string(mac) != "mac-key-1" || m.ImpCode != "imp10000001" {
			t.Fatalf("by key: %+v %q %v", m, mac, err)
		}
		if _, _, err := b.store.MerchantByAPIKey(ctx, "nope"); billkey.ErrorCode(err) != billkey.ENOTFOUND {
			t.Fatalf("unknown key: %v", err)
		}
		// The same imp code or key again is refused and writes nothing.
		dup := &billkey.Merchant{ImpCode: "imp10000001", Name: "x", APIKey: "other"}
		if err := b.store.CreateMerchant(ctx, dup, []byte("m"), nil); billkey.ErrorCode(err) != billkey.EREJECTED {
			t.Fatalf("duplicate code: %v", err)
		}
		ms, err := b.store.ListMerchants(ctx)
		if err != nil || len(ms) != 1 {
			t.Fatalf("list: %d %v", len(ms), err)
		}
		chs, err := b.store.Channels(ctx, m.ID)
		if err != nil || len(chs) != 1 || !chs[0].Default {
			t.Fatalf("channels: %+v %v", chs, err)
		}
		if cr, err := inicis.ParseCredentials(chs[0].Credentials); err != nil || cr.SignKey != "SIGNKEY-SECRET-imp10000001" {
			t.Fatalf("credentials: %v", err)
		}
		// A second, default channel takes the default flag over.
		ch2 := &billkey.Channel{MerchantID: m.ID, Provider: billkey.ProviderInicis, MID: "MIDTWO0001", Default: true,
			Credentials: inicis.Credentials{APIKey: "k2"}.Encode()}
		if err := b.store.CreateChannel(ctx, ch2); err != nil {
			t.Fatal(err)
		}
		chs, _ = b.store.Channels(ctx, m.ID)
		if len(chs) != 2 || chs[0].ID != ch2.ID || chs[1].Default {
			t.Fatalf("default order: %+v", chs)
		}
		// Credentials are sealed: no column holds them in plaintext.
		var blob []byte
		if err := b.store.DB.QueryRowContext(ctx, `SELECT credentials_cipher FROM channels WHERE id = $1`, b.channel.ID).Scan(&blob); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(blob, []byte("SIGNKEY-SECRET")) || len(blob) < 40 {
			t.Fatalf("credentials not sealed: %q", blob)
		}
	})
}

// TestStoreChannelCredentialsOldShape: a channel written before
// credentials became an opaque blob (sealed JSON with sign_key, api_key,
// api_iv and lite_key, exactly as the store wrote it then) reads back as
// the same blob, which the INICIS provider parses to the same secrets.
func TestStoreChannelCredentialsOldShape(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st, keys := teststore.Open(t, dsn)
		m, ch := createMerchant(t, st, "imp10000009", "key-9")
		old := []byte(`{"sign_key":"OLD-SIGN","api_key":"OLD-API-KEY-0001","api_iv":"OLD-API-IV-00001","lite_key":"OLD-LITE"}`)
		blob, err := keys.Seal(old, sqlstore.PurposeChannel, m.ID, fmt.Sprint(ch.ID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.DB.ExecContext(ctx, `UPDATE channels SET credentials_cipher = $1 WHERE id = $2`, blob, ch.ID); err != nil {
			t.Fatal(err)
		}
		chs, err := st.Channels(ctx, m.ID)
		if err != nil || len(chs) != 1 {
			t.Fatalf("channels: %d %v", len(chs), err)
		}
		if !bytes.Equal(chs[0].Credentials, old) {
			t.Fatal("stored credentials changed on read")
		}
		cr, err := inicis.ParseCredentials(chs[0].Credentials)
		want := inicis.Credentials{SignKey: "OLD-SIGN", APIKey: "OLD-API-KEY-0001", APIIV: "OLD-API-IV-00001", LiteKey: "OLD-LITE"}
		if err != nil || cr != want {
			t.Fatalf("old credentials parse to a different value (err %v)", err)
		}
		// And what the INICIS provider writes now is that same shape.
		if got := string(want.Encode()); got != string(old) {
			t.Fatalf("INICIS credentials encode as %s, want the stored shape", got)
		}
		// Never in a log line or a formatted value.
		for _, s := range []string{fmt.Sprint(chs[0].Credentials), fmt.Sprintf("%v %s %x %#v", chs[0].Credentials, chs[0].Credentials, chs[0].Credentials, chs[0].Credentials), fmt.Sprintf("%+v %#v", cr, cr)} {
			if strings.Contains(s, "OLD-") || strings.Contains(s, "4f4c442d") {
				t.Fatalf("credentials printed: %s", s)
			}
		}
	})
}

func TestStoreTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		t0 := b.now
		rec, err := b.store.CurrentToken(ctx, b.merchant.ID, []byte("nonce-1"), []byte("mac-1"), t0)
		if err != nil || string(rec.Nonce) != "nonce-1" || !rec.ExpiresAt.Equal(t0.Add(30*time.Minute)) {
			t.Fatalf("first: %+v %v", rec, err)
		}
		// Before expiry the same token comes back, unchanged.
		rec, err = b.store.CurrentToken(ctx, b.merchant.ID, []byte("nonce-2"), []byte("mac-2"), t0.Add(10*time.Minute))
		if err != nil || string(rec.Nonce) != "nonce-1" || !rec.ExpiresAt.Equal(t0.Add(30*time.Minute)) {
			t.Fatalf("reuse: %+v %v", rec, err)
		}
		// In the last minute it is extended by 5 minutes, once.
		rec, _ = b.store.CurrentToken(ctx, b.merchant.ID, []byte("nonce-3"), []byte("mac-3"), t0.Add(29*time.Minute+30*time.Second))
		if string(rec.Nonce) != "nonce-1" || !rec.ExpiresAt.Equal(t0.Add(35*time.Minute)) {
			t.Fatalf("extend: %+v", rec)
		}
		rec, _ = b.store.CurrentToken(ctx, b.merchant.ID, []byte("nonce-4"), []byte("mac-4"), t0.Add(29*time.Minute+40*time.Second))
		if !rec.ExpiresAt.Equal(t0.Add(35 * time.Minute)) {
			t.Fatalf("extended twice: %+v", rec)
		}
		id, exp, err := b.store.TokenByMAC(ctx, []byte("mac-1"))
		if err != nil || id != b.merchant.ID || !exp.Equal(t0.Add(35*time.Minute)) {
			t.Fatalf("lookup: %d %v %v", id, exp, err)
		}
		// After expiry a new token replaces it, and the old MAC is gone.
		rec, _ = b.store.CurrentToken(ctx, b.merchant.ID, []byte("nonce-5"), []byte("mac-5"), t0.Add(36*time.Minute))
		if string(rec.Nonce) != "nonce-5" {
			t.Fatalf("renew: %+v", rec)
		}
		if _, _, err := b.store.TokenByMAC(ctx, []byte("mac-1")); billkey.ErrorCode(err) != billkey.EUNAUTHORIZED {
			t.Fatalf("old token: %v", err)
		}
	})
}

func TestStoreTokensConcurrent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		var wg sync.WaitGroup
		nonces := make([]string, 20)
		for i := range nonces {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec, err := b.store.CurrentToken(context.Background(), b.merchant.ID, []byte(fmt.Sprint("n", i)), []byte(fmt.Sprint("m", i)), b.now)
				if err != nil {
					t.Error(err)
					return
				}
				nonces[i] = string(rec.Nonce)
			}()
		}
		wg.Wait()
		for _, n := range nonces {
			if n != nonces[0] {
				t.Fatalf("racing getToken calls got different tokens: %v", nonces)
			}
		}
	})
}

func TestStorePayments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		p := b.payment(t, "order-1", 10000)
		// The same merchant_uid is refused while the first is not failed.
		dup := *p
		dup.ImpUID = "imps_other"
		if err := b.store.CreatePayment(ctx, &dup); billkey.ErrorCode(err) != billkey.EREJECTED || !strings.Contains(billkey.ErrorMessage(err), "이미 주문이 이루어진 건입니다") {
			t.Fatalf("duplicate: %v", err)
		}
		// The same imp_uid for another order is ErrImpUIDTaken.
		other := *p
		other.ID, other.MerchantUID = 0, "order-x"
		if err := b.store.CreatePayment(ctx, &other); err != billkey.ErrImpUIDTaken {
			t.Fatalf("imp_uid collision: %v", err)
		}
		b.pay(t, p)
		// FinishPayment on a payment that is no longer ready changes nothing.
		p2 := *p
		p2.Status = billkey.StatusFailed
		if ok, err := b.store.FinishPayment(ctx, &p2, nil); ok || err != nil {
			t.Fatalf("double finish: %v %v", ok, err)
		}
		got, err := b.store.PaymentByImpUID(ctx, b.merchant.ID, p.ImpUID)
		if err != nil || got.Status != billkey.StatusPaid || got.PGTID == "" || got.Amount != 10000 || !got.PaidAt.Equal(b.now) {
			t.Fatalf("by imp_uid: %+v %v", got, err)
		}
		// A failed attempt frees the merchant_uid for a new attempt.
		f := b.payment(t, "order-2", 500)
		f.Status, f.FailReason, f.FailedAt = billkey.StatusFailed, "[01] 한도초과", b.now
		if _, err := b.store.FinishPayment(ctx, f, nil); err != nil {
			t.Fatal(err)
		}
		b.now = b.now.Add(time.Second)
		retry := b.payment(t, "order-2", 500)
		found, err := b.store.FindPayment(ctx, b.merchant.ID, "order-2", "")
		if err != nil || found.ImpUID != retry.ImpUID {
			t.Fatalf("find newest: %+v %v", found, err)
		}
		found, err = b.store.FindPayment(ctx, b.merchant.ID, "order-2", billkey.StatusFailed)
		if err != nil || found.ImpUID != f.ImpUID {
			t.Fatalf("find failed: %+v %v", found, err)
		}
		if _, err := b.store.FindPayment(ctx, b.merchant.ID, "nope", ""); billkey.ErrorCode(err) != billkey.ENOTFOUND || billkey.ErrorMessage(err) != "존재하지 않는 결제정보입니다." {
			t.Fatalf("find unknown: %v", err)
		}
		// Another merchant sees none of it.
		m2, ch2 := createMerchant(t, b.store, "imp10000002", "key-2")
		if _, err := b.store.PaymentByImpUID(ctx, m2.ID, p.ImpUID); billkey.ErrorCode(err) != billkey.ENOTFOUND {
			t.Fatalf("cross-merchant lookup: %v", err)
		}
		ps, total, err := b.store.ListPayments(ctx, billkey.PaymentFilter{MerchantID: m2.ID, Limit: 20})
		if err != nil || total != 0 || len(ps) != 0 {
			t.Fatalf("cross-merchant list: %d %v", total, err)
		}
		// ...and may use the same merchant_uid.
		q := &billkey.Payment{MerchantID: m2.ID, ChannelID: ch2.ID, ImpUID: "imps_m2", MerchantUID: "order-1", PayMethod: "card",
			Channel: "api", PGProvider: "html5_inicis", PGID: "INIBillTst", Amount: 1, Currency: "KRW", Status: billkey.StatusReady}
		if err := b.store.CreatePayment(ctx, q); err != nil {
			t.Fatalf("same merchant_uid, other merchant: %v", err)
		}
		many, err := b.store.PaymentsByUIDs(ctx, b.merchant.ID, []string{p.ImpUID, "imps_nope"}, []string{"order-2"})
		if err != nil || len(many) != 2 || many[0].ImpUID != p.ImpUID || many[1].ImpUID != retry.ImpUID {
			t.Fatalf("by uids: %d %v", len(many), err)
		}
	})
}

func TestStoreListPayments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		start := b.now
		for i := range 25 {
			b.now = start.Add(time.Duration(i) * time.Minute)
			p := b.payment(t, fmt.Sprintf("o-%02d", i), int64(1000+i))
			if i%2 == 0 {
				b.pay(t, p)
			}
		}
		all, total, err := b.store.ListPayments(ctx, billkey.PaymentFilter{MerchantID: b.merchant.ID, Limit: 10})
		if err != nil || total != 25 || len(all) != 10 || all[0].MerchantUID != "o-24" {
			t.Fatalf("page 1: %d %d %v", total, len(all), err)
		}
		page3, _, _ := b.store.ListPayments(ctx, billkey.PaymentFilter{MerchantID: b.merchant.ID, Limit: 10, Offset: 20})
		if len(page3) != 5 || page3[4].MerchantUID != "o-00" {
			t.Fatalf("page 3: %d", len(page3))
		}
		paid, total, _ := b.store.ListPayments(ctx, billkey.PaymentFilter{MerchantID: b.merchant.ID, Status: billkey.StatusPaid, Sorting: "started", Limit: 100})
		if total != 13 || paid[0].MerchantUID != "o-00" {
			t.Fatalf("paid: %d %s", total, paid[0].MerchantUID)
		}
		window, total, _ := b.store.ListPayments(ctx, billkey.PaymentFilter{MerchantID: b.merchant.ID,
			From: start.Add(5 * time.Minute), To: start.Add(9 * time.Minute), Limit: 100})
		if total != 5 || len(window) != 5 {
			t.Fatalf("window: %d", total)
		}
		byCustomer, total, _ := b.store.ListPayments(ctx, billkey.PaymentFilter{MerchantID: b.merchant.ID, CustomerUID: "cust-1", Limit: 1})
		if total != 25 || len(byCustomer) != 1 {
			t.Fatalf("by customer: %d", total)
		}
	})
}

func TestStoreCancels(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		p := b.payment(t, "order-c", 10000)
		if _, _, err := b.store.ReserveCancel(ctx, p.ID, billkey.CancelRequest{Amount: 100}); billkey.ErrorCode(err) != billkey.EREJECTED {
			t.Fatalf("cancel of a ready payment: %v", err)
		}
		b.pay(t, p)
		chk := int64(9999)
		if _, _, err := b.store.ReserveCancel(ctx, p.ID, billkey.CancelRequest{Amount: 100, Checksum: &chk}); billkey.ErrorCode(err) != billkey.EREJECTED {
			t.Fatalf("bad checksum: %v", err)
		}
		if _, _, err := b.store.ReserveCancel(ctx, p.ID, billkey.CancelRequest{Amount: 10001}); billkey.ErrorCode(err) != billkey.EREJECTED {
			t.Fatalf("over-refund: %v", err)
		}
		_, c, err := b.store.ReserveCancel(ctx, p.ID, billkey.CancelRequest{Amount: 3000, Reason: "부분환불"})
		if err != nil || c.Amount != 3000 {
			t.Fatalf("reserve: %+v %v", c, err)
		}
		// While one refund is in flight, another waits.
		if _, _, err := b.store.ReserveCancel(ctx, p.ID, billkey.CancelRequest{Amount: 1}); err != billkey.ErrCancelBusy {
			t.Fatalf("second in flight: %v", err)
		}
		c.PGTID, c.CancelledAt = "tid-c1", b.now
		got, err := b.store.CompleteCancel(ctx, c, &billkey.Event{})
		if err != nil || got.CancelAmount != 3000 || got.Status != billkey.StatusPaid || len(got.Cancels) != 1 || got.Cancels[0].Reason != "부분환불" {
			t.Fatalf("complete partial: %+v %v", got, err)
		}
		// A refused refund releases its reservation.
		_, c2, _ := b.store.ReserveCancel(ctx, p.ID, billkey.CancelRequest{Amount: 500})
		if err := b.store.FailCancel(ctx, c2); err != nil {
			t.Fatal(err)
		}
		// The rest: amount 0 means everything left, and the status flips.
		chk = 7000
		_, c3, err := b.store.ReserveCancel(ctx, p.ID, billkey.CancelRequest{Checksum: &chk})
		if err != nil || c3.Amount != 7000 {
			t.Fatalf("reserve rest: %+v %v", c3, err)
		}
		c3.CancelledAt = b.now
		got, err = b.store.CompleteCancel(ctx, c3, &billkey.Event{})
		if err != nil || got.Status != billkey.StatusCancelled || got.CancelAmount != 10000 || len(got.Cancels) != 2 {
			t.Fatalf("complete rest: %+v %v", got, err)
		}
		if _, _, err := b.store.ReserveCancel(ctx, p.ID, billkey.CancelRequest{}); billkey.ErrorCode(err) != billkey.EREJECTED || !strings.Contains(billkey.ErrorMessage(err), "전액취소") {
			t.Fatalf("cancel of a cancelled payment: %v", err)
		}
		// Paid and cancelled both went to the webhook outbox, in order.
		evs, err := b.store.Events(ctx, b.merchant.ID, 0, 10)
		if err != nil || len(evs) != 2 || evs[0].Status != billkey.StatusPaid || evs[1].Status != billkey.StatusCancelled {
			t.Fatalf("events: %+v %v", evs, err)
		}
	})
}

// TestStoreConcurrentCancels races many refunds of one payment: the total
// reserved never exceeds what was paid.
func TestStoreConcurrentCancels(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		p := b.payment(t, "order-race", 10000)
		b.pay(t, p)
		var mu sync.Mutex
		total := int64(0)
		var wg sync.WaitGroup
		for range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					_, c, err := b.store.ReserveCancel(ctx, p.ID, billkey.CancelRequest{Amount: 1000})
					if err == billkey.ErrCancelBusy {
						time.Sleep(time.Millisecond)
						continue
					}
					if err != nil {
						return // nothing left
					}
					c.CancelledAt = b.now
					if _, err := b.store.CompleteCancel(ctx, c, nil); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					total += c.Amount
					mu.Unlock()
					return
				}
			}()
		}
		wg.Wait()
		got, _ := b.store.PaymentByImpUID(ctx, b.merchant.ID, p.ImpUID)
		if total != 10000 || got.CancelAmount != 10000 || got.Status != billkey.StatusCancelled || len(got.Cancels) != 10 {
			t.Fatalf("refunded %d, stored %d (%s, %d cancels)", total, got.CancelAmount, got.Status, len(got.Cancels))
		}
	})
}

func TestStoreCustomers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		c := &billkey.Customer{MerchantID: b.merchant.ID, ChannelID: b.channel.ID, CustomerUID: "cust-1", PGProvider: "html5_inicis",
			PGID: "INIBillTst", CardName: "신한카드", CardCode: "366", CardNumber: "424242*********2", KeyCiphertext: []byte("blob-1"),
			CustomerID: "user-1"}
		if replaced, err := b.store.SaveCustomer(ctx, c); err != nil || replaced {
			t.Fatalf("save: %v %v", replaced, err)
		}
		if got, err := b.store.CustomerByUID(ctx, b.merchant.ID, "cust-1"); err != nil || got.CustomerID != "user-1" {
			t.Fatalf("customer_id: %+v %v", got, err)
		}
		b.now = b.now.Add(time.Hour)
		c2 := *c
		c2.KeyCiphertext, c2.CardNumber, c2.CustomerID = []byte("blob-2"), "536648*********3", "user-2"
		if replaced, err := b.store.SaveCustomer(ctx, &c2); err != nil || !replaced {
			t.Fatalf("replace: %v %v", replaced, err)
		}
		got, err := b.store.CustomerByUID(ctx, b.merchant.ID, "cust-1")
		if err != nil || string(got.KeyCiphertext) != "blob-2" || got.Inserted.Equal(got.Updated) || got.CardType != nil || got.CustomerID != "user-2" {
			t.Fatalf("get: %+v %v", got, err)
		}
		blobs, _ := b.store.BillingKeyBlobs(ctx)
		if len(blobs) != 2 {
			t.Fatalf("the replaced key must be kept as superseded, got %d blobs", len(blobs))
		}
		if _, err := b.store.CustomerByUID(ctx, b.merchant.ID, "nope"); billkey.ErrorCode(err) != billkey.ENOTFOUND ||
			billkey.ErrorMessage(err) != "요청하신 customer_uid(nope)로 등록된 정보를 찾을 수 없습니다." {
			t.Fatalf("unknown: %v", err)
		}
		del, err := b.store.DeleteCustomer(ctx, b.merchant.ID, "cust-1")
		if err != nil || del.CustomerUID != "cust-1" {
			t.Fatalf("delete: %v", err)
		}
		if _, err := b.store.CustomerByUID(ctx, b.merchant.ID, "cust-1"); billkey.ErrorCode(err) != billkey.ENOTFOUND {
			t.Fatalf("after delete: %v", err)
		}
		blobs, _ = b.store.BillingKeyBlobs(ctx)
		if len(blobs) != 2 || blobs[0].Table != "retired_billing_keys" {
			t.Fatalf("retired after delete: %+v", blobs)
		}
	})
}

func TestStoreIdempotency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		mid := b.merchant.ID
		if stored, err := b.store.BeginIdempotent(ctx, mid, "k1", []byte("h1")); err != nil || stored != nil {
			t.Fatalf("claim: %v %v", stored, err)
		}
		if _, err := b.store.BeginIdempotent(ctx, mid, "k1", []byte("h1")); billkey.ErrorCode(err) != billkey.ECONFLICT {
			t.Fatalf("in flight: %v", err)
		}
		if _, err := b.store.BeginIdempotent(ctx, mid, "k1", []byte("h2")); billkey.ErrorCode(err) != billkey.EMISMATCH {
			t.Fatalf("mismatch: %v", err)
		}
		if err := b.store.FinishIdempotent(ctx, mid, "k1", billkey.StoredResponse{Status: 200, Body: []byte(`{"code":0}`)}); err != nil {
			t.Fatal(err)
		}
		stored, err := b.store.BeginIdempotent(ctx, mid, "k1", []byte("h1"))
		if err != nil || stored == nil || stored.Status != 200 || string(stored.Body) != `{"code":0}` {
			t.Fatalf("replay: %+v %v", stored, err)
		}
		// A stuck in-flight key (crashed node) may be taken over later.
		_, _ = b.store.BeginIdempotent(ctx, mid, "k2", []byte("h"))
		b.now = b.now.Add(billkey.IdempotencyTakeover + time.Second)
		if stored, err := b.store.BeginIdempotent(ctx, mid, "k2", []byte("h")); err != nil || stored != nil {
			t.Fatalf("takeover: %v %v", stored, err)
		}
		// Keys are per merchant.
		m2, _ := createMerchant(t, b.store, "imp10000003", "key-3")
		if stored, err := b.store.BeginIdempotent(ctx, m2.ID, "k1", []byte("other")); err != nil || stored != nil {
			t.Fatalf("other merchant: %v %v", stored, err)
		}
	})
}

func TestStoreUncertain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		p := b.payment(t, "order-u", 1000)
		fresh := b.payment(t, "order-fresh", 1000)
		_ = fresh
		if err := b.store.MarkUncertain(ctx, p.ID, b.now.Add(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		due, err := b.store.UncertainPayments(ctx, b.now, b.now.Add(-time.Hour), 10)
		if err != nil || len(due) != 0 {
			t.Fatalf("not yet due: %d %v", len(due), err)
		}
		due, _ = b.store.UncertainPayments(ctx, b.now.Add(3*time.Second), b.now.Add(-time.Hour), 10)
		if len(due) != 1 || due[0].ImpUID != p.ImpUID || !due[0].OutcomeUnknown {
			t.Fatalf("due: %+v", due)
		}
		if err := b.store.DeferReconcile(ctx, p.ID, 1, b.now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		due, _ = b.store.UncertainPayments(ctx, b.now.Add(3*time.Second), b.now.Add(-time.Hour), 10)
		if len(due) != 0 {
			t.Fatalf("deferred: %d", len(due))
		}
		// A ready API payment left behind by a crashed node is picked up too.
		due, _ = b.store.UncertainPayments(ctx, b.now.Add(3*time.Second), b.now.Add(time.Second), 10)
		if len(due) != 1 || due[0].MerchantUID != "order-fresh" {
			t.Fatalf("stale ready: %+v", due)
		}
	})
}
