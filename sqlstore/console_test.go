package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/internal/testkeys"
	"github.com/billkey/billkey/sqlstore"
)

func TestStoreOperators(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		st := b.store
		other, _ := createMerchant(t, st, "imp10000002", "key-2")
		op := &billkey.Operator{Login: "kim", Name: "김운영", PasswordHash: "$argon2id$x", MerchantIDs: []int64{b.merchant.ID}}
		if err := st.CreateOperator(ctx, op); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateOperator(ctx, &billkey.Operator{Login: "kim", PasswordHash: "h"}); billkey.ErrorCode(err) != billkey.EREJECTED {
			t.Fatalf("duplicate login: %v", err)
		}
		got, err := st.OperatorByLogin(ctx, "kim")
		if err != nil || !got.CanSee(b.merchant.ID) || got.CanSee(other.ID) || got.Name != "김운영" {
			t.Fatalf("operator: %+v %v", got, err)
		}
		sess := &billkey.OperatorSession{OperatorID: op.ID, ClientAddr: "10.0.0.1", CreatedAt: b.now, ExpiresAt: b.now.Add(time.Hour)}
		if err := st.CreateOperatorSession(ctx, []byte("hash-1"), sess); err != nil {
			t.Fatal(err)
		}
		if s, err := st.OperatorSessionByHash(ctx, []byte("hash-1")); err != nil || s.OperatorID != op.ID || !s.ExpiresAt.Equal(b.now.Add(time.Hour)) {
			t.Fatalf("session: %+v %v", s, err)
		}
		// A password reset (or disabling) ends the sessions.
		if err := st.SetOperatorPassword(ctx, "kim", "$argon2id$y"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.OperatorSessionByHash(ctx, []byte("hash-1")); billkey.ErrorCode(err) != billkey.ENOTFOUND {
			t.Fatalf("session after a password reset: %v", err)
		}
		if err := st.SetOperatorDisabled(ctx, "nobody", true); billkey.ErrorCode(err) != billkey.ENOTFOUND {
			t.Fatalf("disable unknown: %v", err)
		}

		// Login failures count per login and per address, in the window.
		for i, addr := range []string{"10.0.0.1", "10.0.0.1", "10.0.0.2"} {
			if err := st.RecordLoginFailure(ctx, "kim", addr, b.now.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if l, a, err := st.LoginFailures(ctx, "kim", "10.0.0.1", b.now.Add(30*time.Second)); err != nil || l != 2 || a != 1 {
			t.Fatalf("failures since +30s: login %d addr %d %v", l, a, err)
		}
		if err := st.ClearLoginFailures(ctx, "kim", b.now); err != nil {
			t.Fatal(err)
		}
		if l, _, _ := st.LoginFailures(ctx, "kim", "x", b.now.Add(-time.Hour)); l != 0 {
			t.Fatalf("failures after clearing: %d", l)
		}

		// The audit log is filtered by merchant: an operator sees its
		// merchants' entries and its own merchant-less ones.
		for _, e := range []*billkey.AuditEntry{
			{OperatorID: op.ID, OperatorLogin: "kim", Action: "login"},
			{OperatorID: op.ID, OperatorLogin: "kim", MerchantID: b.merchant.ID, Action: "payment.refund", Target: "imps_1"},
			{OperatorID: 99, OperatorLogin: "lee", MerchantID: other.ID, Action: "payment.refund", Target: "imps_2"},
			{OperatorID: 99, OperatorLogin: "lee", Action: "login"},
		} {
			if err := st.AddAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		es, n, err := st.ListAudit(ctx, billkey.AuditFilter{MerchantIDs: []int64{b.merchant.ID}, OperatorID: op.ID})
		if err != nil || n != 2 || len(es) != 2 || es[0].Action != "payment.refund" || es[1].Action != "login" {
			t.Fatalf("kim's audit: %d %v %+v", n, err, es)
		}
		if _, n, _ := st.ListAudit(ctx, billkey.AuditFilter{MerchantIDs: []int64{}, OperatorID: 5}); n != 0 {
			t.Fatalf("an operator with no merchants sees %d entries", n)
		}
		if _, n, _ := st.ListAudit(ctx, billkey.AuditFilter{}); n != 4 {
			t.Fatalf("all entries: %d", n)
		}
	})
}

func TestStoreSearchPaymentsAndDashboard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		st := b.store
		live := &billkey.Channel{MerchantID: b.merchant.ID, Provider: billkey.ProviderHTML5Inicis, MID: "LIVEMID001", Live: true,
			Credentials: inicis.Credentials{SignKey: "s", APIKey: "a", APIIV: "iv", LiteKey: "l"}.Encode()}
		if err := st.CreateChannel(ctx, live); err != nil {
			t.Fatal(err)
		}
		other, otherCh := createMerchant(t, st, "imp10000002", "key-2")
		kst := time.FixedZone("KST", 9*3600)
		day1 := time.Date(2027, 1, 10, 0, 30, 0, 0, kst) // just after midnight KST: still Jan 9 in UTC
		day2 := day1.Add(24 * time.Hour)
		mk := func(merchantID, channelID int64, muid, buyer string, amount int64, at time.Time, status billkey.PaymentStatus) *billkey.Payment {
			t.Helper()
			b.now = at
			b.seq++
			p := &billkey.Payment{MerchantID: merchantID, ChannelID: channelID, ImpUID: fmt.Sprintf("imps_%012d", b.seq),
				MerchantUID: muid, PayMethod: "card", Channel: billkey.ChannelAPI, PGProvider: "html5_inicis", PGID: "MID",
				Amount: amount, Currency: "KRW", Status: billkey.StatusReady, Buyer: billkey.Buyer{Name: buyer, Email: buyer + "@example.com"},
				CustomerUID: "cust-1", CustomerUIDUsage: billkey.UsagePayment}
			if err := st.CreatePayment(ctx, p); err != nil {
				t.Fatal(err)
			}
			p.Status = status
			switch status {
			case billkey.StatusPaid:
				p.PaidAt, p.PGTID = at, "TID"+muid
			case billkey.StatusFailed:
				p.FailedAt, p.FailReason = at, "[01] 한도초과"
			}
			if _, err := st.FinishPayment(ctx, p, nil); err != nil {
				t.Fatal(err)
			}
			return p
		}
		mk(b.merchant.ID, b.channel.ID, "order-1", "홍길동", 10000, day1, billkey.StatusPaid)
		mk(b.merchant.ID, b.channel.ID, "order-2", "김철수", 5000, day2, billkey.StatusPaid)
		mk(b.merchant.ID, b.channel.ID, "order-3", "김철수", 7000, day2, billkey.StatusFailed)
		mk(b.merchant.ID, b.channel.ID, "order-3", "김철수", 7000, day2.Add(time.Minute), billkey.StatusPaid) // the retry of a failed order
		mk(b.merchant.ID, live.ID, "live-1", "홍길동", 99000, day2, billkey.StatusPaid)
		mk(other.ID, otherCh.ID, "order-1", "홍길동", 1234, day2, billkey.StatusPaid)

		search := func(f billkey.PaymentSearch) []string {
			t.Helper()
			f.MerchantID = b.merchant.ID
			ps, total, err := st.SearchPayments(ctx, f)
			if err != nil || f.Offset == 0 && total != len(ps) || f.Offset > 0 && total != 1 {
				t.Fatalf("search %+v: %d/%d %v", f, len(ps), total, err)
			}
			var out []string
			for _, p := range ps {
				out = append(out, p.MerchantUID+":"+string(p.Status))
			}
			return out
		}
		for _, c := range []struct {
			f    billkey.PaymentSearch
			want string
		}{
			{billkey.PaymentSearch{MerchantUID: "order-1"}, "order-1:paid"},
			{billkey.PaymentSearch{MerchantUID: "order-3"}, "order-3:paid order-3:failed"},
			{billkey.PaymentSearch{Buyer: "홍길동"}, "live-1:paid order-1:paid"},
			{billkey.PaymentSearch{Buyer: "홍길동@example.com", Mode: "test"}, "order-1:paid"},
			{billkey.PaymentSearch{Mode: "live"}, "live-1:paid"},
			{billkey.PaymentSearch{Status: billkey.StatusFailed}, "order-3:failed"},
			{billkey.PaymentSearch{From: day2.Add(-time.Hour), Mode: "test"}, "order-3:paid order-3:failed order-2:paid"},
			{billkey.PaymentSearch{To: day2.Add(-time.Hour)}, "order-1:paid"},
			{billkey.PaymentSearch{Channel: billkey.ChannelPC}, ""},
			{billkey.PaymentSearch{MerchantUID: "order-2", Limit: 1, Offset: 1}, ""},
		} {
			if got := strings.Join(search(c.f), " "); got != c.want {
				t.Errorf("search %+v = %q, want %q", c.f, got, c.want)
			}
		}
		var all []string
		if err := st.EachPayment(ctx, billkey.PaymentSearch{MerchantID: b.merchant.ID}, func(p *billkey.Payment) error {
			all = append(all, p.MerchantUID)
			return nil
		}); err != nil || len(all) != 5 {
			t.Fatalf("export: %v %v", all, err)
		}

		d, err := st.Dashboard(ctx, billkey.DashboardQuery{MerchantID: b.merchant.ID, From: time.Date(2027, 1, 9, 0, 0, 0, 0, kst),
			To: time.Date(2027, 1, 12, 0, 0, 0, 0, kst), Loc: kst, Now: day2})
		if err != nil {
			t.Fatal(err)
		}
		var days []string
		for _, f := range d.Daily {
			days = append(days, fmt.Sprintf("%s:%d/%d", f.Day.Format("01-02"), f.Count, f.Amount))
		}
		// Days are cut in KST: order-1 at 00:30 KST counts on Jan 10.
		if got := strings.Join(days, " "); got != "01-09:0/0 01-10:1/10000 01-11:2/12000" {
			t.Errorf("daily figures: %s", got)
		}
		if d.ApprovedCount != 3 || d.ApprovedAmount != 22000 || d.DeclinedCount != 1 || len(d.DeclineReasons) != 1 ||
			d.DeclineReasons[0].Reason != "[01] 한도초과" || d.ApprovalRate() != 75 {
			t.Errorf("test figures: %+v", d)
		}
		d, err = st.Dashboard(ctx, billkey.DashboardQuery{MerchantID: b.merchant.ID, Live: true, From: time.Date(2027, 1, 9, 0, 0, 0, 0, kst),
			To: time.Date(2027, 1, 12, 0, 0, 0, 0, kst), Loc: kst, Now: day2})
		if err != nil || d.ApprovedAmount != 99000 || d.DeclinedCount != 0 {
			t.Errorf("live figures: %+v %v", d, err)
		}
	})
}

// TestStoreConsoleSearchesUseIndexes checks on SQLite that each console
// search is an index lookup, not a scan of every payment.
func TestStoreConsoleSearchesUseIndexes(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dbtest.DSN(t, "sqlite"), testkeys.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for q, index := range map[string]string{
		`SELECT id FROM payments WHERE merchant_id = 1 AND merchant_uid = 'x'`: "payments_console_merchant_uid",
		`SELECT id FROM payments WHERE merchant_id = 1 AND id IN (SELECT id FROM payments WHERE merchant_id = 1 AND buyer_name = 'x'
			UNION ALL SELECT id FROM payments WHERE merchant_id = 1 AND buyer_email = 'x')`: "payments_console_buyer_email",
		`SELECT id FROM payments WHERE merchant_id = 1 AND status = 'paid' AND started_at >= 5 ORDER BY started_at DESC`: "payments_console_status",
		`SELECT COUNT(*) FROM payments WHERE merchant_id = 1 AND paid_at >= 1 AND paid_at < 2`:                           "payments_console_paid",
		`SELECT COUNT(*) FROM payments WHERE merchant_id = 1 AND failed_at >= 1 AND failed_at < 2`:                       "payments_console_failed",
	} {
		rows, err := st.DB.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, index) {
			t.Errorf("%s does not use %s\n  plan: %s", q, index, p)
		}
	}
}
