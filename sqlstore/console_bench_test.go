package sqlstore_test

import (
	"context"
	"database/sql"
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

// consoleBenchPayments is how many payments BenchmarkConsole seeds.
const consoleBenchPayments = 100_000

// BenchmarkConsole times the admin console's searches and dashboard on a
// database of 100,000 payments (90 days, one merchant, ~8% declines,
// every 20th partly refunded), on SQLite and PostgreSQL:
//
//	go test -run '^$' -bench BenchmarkConsole -benchtime 200x ./sqlstore/
func BenchmarkConsole(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, dbtest.DSN(b, backend), testkeys.New(b))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			m := &billkey.Merchant{ImpCode: "imp20000001", Name: "bench", APIKey: "bench-key"}
			ch := &billkey.Channel{Provider: billkey.ProviderHTML5Inicis, MID: "INIBillTst", Default: true,
				Credentials: inicis.Credentials{SignKey: "s", APIKey: "a", APIIV: "iv", LiteKey: "l"}.Encode()}
			if err := st.CreateMerchant(ctx, m, []byte("mac"), []*billkey.Channel{ch}); err != nil {
				b.Fatal(err)
			}
			end := time.Date(2027, 3, 31, 15, 0, 0, 0, time.UTC)
			if err := seedPayments(ctx, st.DB, m.ID, ch.ID, end); err != nil {
				b.Fatal(err)
			}
			if _, err := st.DB.ExecContext(ctx, `ANALYZE`); err != nil {
				b.Fatal(err)
			}
			kst := time.FixedZone("KST", 9*3600)
			run := func(name string, f billkey.PaymentSearch, want func(int) bool) {
				b.Run(name, func(b *testing.B) {
					f.MerchantID, f.Limit = m.ID, 30
					for b.Loop() {
						ps, total, err := st.SearchPayments(ctx, f)
						if err != nil || !want(total) || len(ps) == 0 {
							b.Fatalf("search: %d %d %v", len(ps), total, err)
						}
					}
				})
			}
			one := func(n int) bool { return n == 1 }
			some := func(n int) bool { return n > 0 }
			run("search/merchant_uid", billkey.PaymentSearch{MerchantUID: "order-0054321"}, one)
			run("search/imp_uid", billkey.PaymentSearch{ImpUID: "imps_000000054321"}, one)
			run("search/buyer", billkey.PaymentSearch{Buyer: "buyer0321@example.com"}, some)
			run("search/customer_uid", billkey.PaymentSearch{CustomerUID: "cust-0321"}, some)
			run("search/status+week", billkey.PaymentSearch{Status: billkey.StatusFailed, From: end.AddDate(0, 0, -7), To: end, Mode: "test"}, some)
			run("search/newest-page-100", billkey.PaymentSearch{Mode: "test", Offset: 30 * 99}, some)
			b.Run("dashboard/30-days", func(b *testing.B) {
				for b.Loop() {
					d, err := st.Dashboard(ctx, billkey.DashboardQuery{MerchantID: m.ID, From: end.AddDate(0, 0, -30), To: end,
						Loc: kst, Now: end})
					if err != nil || d.ApprovedCount == 0 || d.DeclinedCount == 0 {
						b.Fatalf("dashboard: %+v %v", d, err)
					}
				}
			})
			b.Run("dashboard/90-days", func(b *testing.B) {
				for b.Loop() {
					d, err := st.Dashboard(ctx, billkey.DashboardQuery{MerchantID: m.ID, From: end.AddDate(0, 0, -90), To: end,
						Loc: kst, Now: end})
					if err != nil || d.ApprovedCount < consoleBenchPayments/2 {
						b.Fatalf("dashboard: %+v %v", d, err)
					}
				}
			})
		})
	}
}

// seedPayments writes the benchmark's payments in multi-row INSERTs.
func seedPayments(ctx context.Context, db *sql.DB, merchantID, channelID int64, end time.Time) error {
	const batch = 500
	span := int64(90 * 24 * 3600)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for start := 0; start < consoleBenchPayments; start += batch {
		var sb strings.Builder
		sb.WriteString(`INSERT INTO payments (merchant_id, channel_id, imp_uid, merchant_uid, pay_method, channel, pg_provider,
			pg_id, amount, cancel_amount, currency, buyer_name, buyer_email, buyer_tel, status, started_at, paid_at, failed_at,
			updated_at, fail_reason, customer_uid, customer_uid_usage) VALUES `)
		var args []any
		for i := start; i < start+batch; i++ {
			at := end.Unix() - span + int64(i)*span/consoleBenchPayments
			status, paid, failed, reason, cancelled := "paid", at, int64(0), "", int64(0)
			switch {
			case i%13 == 0:
				status, paid, failed, reason = "failed", 0, at, []string{"[01] 한도초과", "[01] 유효기간 경과"}[i%2]
			case i%20 == 0:
				cancelled = 1000
			}
			if i > start {
				sb.WriteString(", ")
			}
			n := len(args)
			sb.WriteString("(")
			for k := 1; k <= 22; k++ {
				if k > 1 {
					sb.WriteString(", ")
				}
				fmt.Fprintf(&sb, "$%d", n+k)
			}
			sb.WriteString(")")
			c := i % 1000
			args = append(args, merchantID, channelID, fmt.Sprintf("imps_%012d", i), fmt.Sprintf("order-%07d", i), "card", "api",
				"html5_inicis", "INIBillTst", int64(9900+(i%5)*1000), cancelled, "KRW", fmt.Sprintf("구매자%04d", c),
				fmt.Sprintf("buyer%04d@example.com", c), fmt.Sprintf("010-0000-%04d", c), status, at, paid, failed, at, reason,
				fmt.Sprintf("cust-%04d", c), "payment")
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return tx.Commit()
}
