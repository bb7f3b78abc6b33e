package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey"
)

// TestPreparedAmountGuardsCharges: a charge of a prepared merchant_uid
// must match its amount (and currency when one was registered), checked
// before anything is written or the PG called; an unprepared one passes.
func TestPreparedAmountGuardsCharges(t *testing.T) {
	for _, c := range []struct {
		name     string
		prepare  *billkey.Prepare
		amount   int64
		currency string
		msg      string
	}{
		{name: "not prepared", amount: 1000},
		{name: "same amount", prepare: &billkey.Prepare{Amount: 1000}, amount: 1000},
		{name: "amount differs", prepare: &billkey.Prepare{Amount: 1000}, amount: 1001, msg: "사전등록: 1000, 요청: 1001"},
		{name: "currency differs", prepare: &billkey.Prepare{Amount: 1000, Currency: "USD"}, amount: 1000, currency: "KRW", msg: "결제통화"},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := newUnit(t)
			u.addCustomer(t, "c1")
			ctx := context.Background()
			if c.prepare != nil {
				c.prepare.MerchantID, c.prepare.MerchantUID = u.merchant.ID, "p-1"
				if err := u.st.CreatePrepare(ctx, c.prepare); err != nil {
					t.Fatal(err)
				}
			}
			in := again("c1", "p-1", c.amount)
			in.Currency = c.currency
			p, err := u.svc.ChargeAgain(ctx, u.merchant.ID, in)
			if c.msg == "" {
				if err != nil || p.Status != billkey.StatusPaid {
					t.Fatalf("%v", err)
				}
				return
			}
			if billkey.ErrorCode(err) != billkey.EREJECTED || !strings.Contains(billkey.ErrorMessage(err), c.msg) {
				t.Fatalf("err %v", err)
			}
			if len(u.st.payments) != 0 || u.pg.chargeCount() != 0 {
				t.Fatal("a mismatched payment was written or charged")
			}
		})
	}
}

// TestPrepareRules: registering twice is refused, an update needs an
// existing registration, and amounts and currencies are validated.
func TestPrepareRules(t *testing.T) {
	u := newUnit(t)
	ctx := context.Background()
	mid := u.merchant.ID
	if p, err := u.svc.Prepare(ctx, mid, PrepareInput{MerchantUID: "p", Amount: 500, Currency: " krw "}); err != nil || p.Currency != "KRW" {
		t.Fatalf("prepare: %v %+v", err, p)
	}
	if _, err := u.svc.Prepare(ctx, mid, PrepareInput{MerchantUID: "p", Amount: 500}); billkey.ErrorCode(err) != billkey.EREJECTED {
		t.Fatalf("second prepare: %v", err)
	}
	if _, err := u.svc.UpdatePrepare(ctx, mid, PrepareInput{MerchantUID: "p", Amount: 700}); err != nil {
		t.Fatal(err)
	}
	if got, _ := u.svc.Prepared(ctx, mid, "p"); got.Amount != 700 {
		t.Fatalf("after update: %+v", got)
	}
	if _, err := u.svc.UpdatePrepare(ctx, mid, PrepareInput{MerchantUID: "q", Amount: 1}); billkey.ErrorCode(err) != billkey.ENOTFOUND {
		t.Fatalf("update unknown: %v", err)
	}
	for _, in := range []PrepareInput{{MerchantUID: "", Amount: 1}, {MerchantUID: "x", Amount: -1}, {MerchantUID: "x", Amount: 1, Currency: "WONS"}} {
		if _, err := u.svc.Prepare(ctx, mid, in); billkey.ErrorCode(err) != billkey.EREJECTED && billkey.ErrorCode(err) != billkey.EINVALID {
			t.Fatalf("%+v: %v", in, err)
		}
	}
	if _, err := u.svc.Prepared(ctx, mid+100, "p"); billkey.ErrorCode(err) != billkey.ENOTFOUND {
		t.Fatalf("another merchant's prepare: %v", err)
	}
}

// TestTokenRules: getToken needs the merchant's key and secret; the token
// it returns authenticates that merchant until it expires; anything else
// is EUNAUTHORIZED.
func TestTokenRules(t *testing.T) {
	u := newUnit(t)
	ctx := context.Background()
	u.st.secretMAC[u.merchant.ID] = fakeKeys{}.MAC(macAPISecret, []byte("s3cret-s3cret"))
	for _, c := range []struct{ key, secret string }{{"", ""}, {u.merchant.APIKey, "wrong"}, {"nokey", "s3cret-s3cret"}} {
		if _, _, err := u.svc.IssueToken(ctx, c.key, c.secret); billkey.ErrorCode(err) != billkey.EUNAUTHORIZED && billkey.ErrorCode(err) != billkey.EINVALID {
			t.Fatalf("%+v: %v", c, err)
		}
	}
	tok, now, err := u.svc.IssueToken(ctx, u.merchant.APIKey, "s3cret-s3cret")
	if err != nil || len(tok.Token) != 40 || !now.Equal(fakeNow) || tok.MerchantID != u.merchant.ID {
		t.Fatalf("token %+v %v", tok, err)
	}
	if id, err := u.svc.Authenticate(ctx, tok.Token); err != nil || id != u.merchant.ID {
		t.Fatalf("authenticate: %d %v", id, err)
	}
	for _, bad := range []string{"", "short", strings.Repeat("0", 40), tok.Token[:39] + "x"} {
		if _, err := u.svc.Authenticate(ctx, bad); billkey.ErrorCode(err) != billkey.EUNAUTHORIZED {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	u.svc.Now = func() time.Time { return tok.ExpiresAt }
	if _, err := u.svc.Authenticate(ctx, tok.Token); billkey.ErrorCode(err) != billkey.EUNAUTHORIZED {
		t.Fatalf("expired token: %v", err)
	}
}

// TestCheckTiming: the reconciler may never declare failed a payment whose
// PG calls can still be in flight.
func TestCheckTiming(t *testing.T) {
	for _, c := range []struct {
		stale, pgTimeout, grace time.Duration
		ok                      bool
	}{
		{0, 0, 0, true}, // defaults
		{time.Minute, 30 * time.Second, 0, false},
		{3 * time.Minute, 30 * time.Second, time.Minute, false},
		{10 * time.Minute, 2 * time.Minute, time.Hour, true},
	} {
		s := &Service{StaleReadyAfter: c.stale, PGTimeout: c.pgTimeout, NoApprovalGrace: c.grace}
		if err := s.CheckTiming(); (err == nil) != c.ok {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
