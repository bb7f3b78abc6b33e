package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicissim"
	"github.com/billkey/billkey/internal/dbtest"
)

func TestIssueAndCharge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		env := h.issue("cust-ok", "4518-4200-0000-0007") // 신한카드 in the simulator's BIN table
		var cust map[string]any
		_ = json.Unmarshal(env.Response, &cust)
		if env.Code != 0 || cust["customer_uid"] != "cust-ok" || cust["card_number"] == nil || cust["pg_id"] != "INIBillTst" ||
			cust["card_name"] != "신한카드" || cust["card_code"] != "366" || cust["card_type"] != nil || cust["customer_name"] != "홍길동" {
			t.Fatalf("issue: %s", env.raw)
		}
		if len(cust) != 14 {
			t.Errorf("customer has %d fields, want the 14 of i'mport's legacy CustomerAnnotation: %s", len(cust), env.raw)
		}
		if n := fmt.Sprint(cust["card_number"]); strings.Contains(n, "4518420000000007") || !strings.Contains(n, "*") {
			t.Fatalf("card number not masked: %s", n)
		}

		_, env = h.again("cust-ok", "order-paid", 9900)
		p := env.payment(t)
		if env.Code != 0 || p.Status != "paid" || p.Amount != 9900 || !strings.HasPrefix(p.ImpUID, "imps_") || len(p.ImpUID) != 17 ||
			p.PGTID == "" || p.ApplyNum == "" || p.Channel != "api" || p.Usage != "payment" || p.CustomerUID != "cust-ok" || p.PaidAt == 0 {
			t.Fatalf("again: %s", env.raw)
		}
		ap := h.approvalsFor(p.ImpUID)
		if len(ap) != 1 || ap[0].Price != 9900 || ap[0].TID != p.PGTID || ap[0].AuthCode != p.ApplyNum {
			t.Fatalf("ledger approvals for %s: %+v", p.ImpUID, ap)
		}
		if _, got := h.call("GET", "/payments/"+p.ImpUID, nil); got.payment(t).Status != "paid" {
			t.Fatalf("lookup: %s", got.raw)
		}

		// A card the issuer always declines: code 0, status failed, reason.
		h.mustIssue("cust-limit", "4000-0000-0000-0341")
		_, env = h.again("cust-limit", "order-declined", 9900)
		p = env.payment(t)
		if env.Code != 0 || p.Status != "failed" || p.FailReason == "" || !strings.Contains(p.FailReason, "[") {
			t.Fatalf("declined: %s", env.raw)
		}
		if len(h.approvalsFor(p.ImpUID)) != 0 {
			t.Fatal("a declined charge is in the ledger's approvals")
		}

		// The same merchant_uid again: rejected with i'mport's message, no PG call.
		before := len(h.ledger().Approvals)
		_, env = h.again("cust-ok", "order-paid", 9900)
		if env.Code == 0 || !strings.Contains(env.msg(), "이미 주문이 이루어진 건입니다") || string(env.Response) != "null" {
			t.Fatalf("reused merchant_uid: %s", env.raw)
		}
		if after := len(h.ledger().Approvals); after != before {
			t.Fatalf("reused merchant_uid reached the PG: %d → %d approvals", before, after)
		}
		// A failed order may be tried again (new imp_uid, one approval).
		h.mustIssue("cust-limit", "4242-4242-4242-4242")
		_, env = h.again("cust-limit", "order-declined", 9900)
		if p2 := env.payment(t); p2.Status != "paid" || p2.ImpUID == p.ImpUID {
			t.Fatalf("retry after failure: %s", env.raw)
		}

		status, env := h.again("nobody", "order-x", 1000)
		if status != 200 || env.Code != 1 || env.msg() != "등록되지 않은 구매자입니다." {
			t.Fatalf("unknown customer: %d %s", status, env.raw)
		}
		// Bad input: an envelope with a clear message, never a 500, nothing written.
		for _, body := range []map[string]any{
			{"customer_uid": "cust-ok", "merchant_uid": "m-bad", "amount": 10.5, "name": "x"},
			{"customer_uid": "cust-ok", "merchant_uid": "m-bad", "amount": -1, "name": "x"},
			{"customer_uid": "cust-ok", "amount": 100, "name": "x"},
			{"customer_uid": "cust-ok", "merchant_uid": "m-bad", "amount": "abc", "name": "x"},
			{"customer_uid": "cust-ok", "merchant_uid": "m-bad", "amount": 1000, "name": "x", "currency": "USD"},
		} {
			status, env := h.call("POST", "/subscribe/payments/again", body)
			if status != 200 || env.Code != 1 || env.msg() == "" {
				t.Errorf("%v: %d %s", body, status, env.raw)
			}
		}
		if _, env := h.call("GET", "/payments/find/m-bad", nil); env.Code == 0 {
			t.Fatal("a refused request wrote a payment")
		}
	})
}

func TestCustomersAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		// Cards the simulator refuses: i'mport's code -1 and a card message.
		for _, card := range []string{"1234-1234-1234-1234", "1111-2222-3333-4444", "4000-0000-0000-0002"} {
			env := h.issue("cust-bad", card)
			if env.Code != -1 || !strings.Contains(env.msg(), "카드") || !strings.Contains(env.msg(), "[") {
				t.Errorf("%s: %s", card, env.raw)
			}
		}
		for _, body := range []map[string]string{
			{"expiry": "2030-12", "birth": "880101"},
			{"card_number": "4242424242424242", "expiry": "2030-13", "birth": "880101"},
			{"card_number": "4242424242424242", "expiry": "2030-12", "birth": "8801"},
			{"card_number": "4242424242424242", "expiry": "2030-12", "birth": "880101", "pwd_2digit": "123"},
		} {
			if status, env := h.call("POST", "/subscribe/customers/cust-v", body); status != 200 || env.Code != 1 {
				t.Errorf("%v: %d %s", body, status, env.raw)
			}
		}
		status, env := h.call("GET", "/subscribe/customers/cust-bad", nil)
		if status != 200 || env.Code != 1 || env.msg() != "요청하신 customer_uid(cust-bad)로 등록된 정보를 찾을 수 없습니다." {
			t.Fatalf("unknown customer: %d %s", status, env.raw)
		}
		// The go-iamport form body works too.
		_, env = h.call("POST", "/subscribe/customers/cust-form", "card_number=4242-4242-4242-4242& expiry=2030-12& birth=880101& pwd_2digit=12")
		if env.Code != 0 {
			t.Fatalf("form issue: %s", env.raw)
		}
		// No buyer or customer fields anywhere: INICIS needs them, billkey fills placeholders.
		if _, env = h.again("cust-form", "o-nobuyer", 1000); env.payment(t).Status != "paid" {
			t.Fatalf("charge without buyer fields: %s", env.raw)
		}
		h.mustIssue("cust-a", "4242424242424242")
		status, env = h.call("GET", "/subscribe/customers?customer_uid[]=cust-a&customer_uid[]=cust-form", nil)
		if status != 200 || !strings.Contains(string(env.Response), "cust-form") {
			t.Fatalf("multi: %d %s", status, env.raw)
		}
		if status, _ := h.call("GET", "/subscribe/customers?customer_uid[]=cust-a&customer_uid[]=zzz", nil); status != 207 {
			t.Fatalf("multi partial: %d", status)
		}
		if status, _ := h.call("GET", "/subscribe/customers?customer_uid[]=zzz", nil); status != 404 {
			t.Fatalf("multi none: %d", status)
		}
		h.again("cust-a", "o-1", 1000)
		h.again("cust-a", "o-2", 2000)
		_, env = h.call("GET", "/subscribe/customers/cust-a/payments", nil)
		var page struct {
			Total int       `json:"total"`
			List  []payment `json:"list"`
		}
		_ = json.Unmarshal(env.Response, &page)
		if page.Total != 2 || len(page.List) != 2 || page.List[0].MerchantUID != "o-2" {
			t.Fatalf("customer payments: %s", env.raw)
		}
		if _, env = h.call("GET", "/subscribe/customers/nobody/payments", nil); env.Code != 0 || !strings.Contains(string(env.Response), `"total":0`) {
			t.Fatalf("unknown customer payments: %s", env.raw)
		}
		// Re-issuing replaces the key; the next charge uses the new card.
		h.mustIssue("cust-a", "5361-8100-0000-0004")
		_, env = h.call("GET", "/subscribe/customers/cust-a", nil)
		if !strings.HasPrefix(gjson(env.Response, "card_number"), "536181") || gjson(env.Response, "card_name") != "삼성카드" {
			t.Fatalf("replaced: %s", env.raw)
		}
		_, env = h.call("DELETE", "/subscribe/customers/cust-a?reason=x&requester=customer", nil)
		if env.Code != 0 || gjson(env.Response, "customer_uid") != "cust-a" {
			t.Fatalf("delete: %s", env.raw)
		}
		if _, env = h.again("cust-a", "o-3", 1000); env.Code != 1 {
			t.Fatalf("charge after delete: %s", env.raw)
		}
		if status, env = h.call("DELETE", "/subscribe/customers/cust-a", nil); status != 200 || env.Code != 1 {
			t.Fatalf("delete twice: %d %s", status, env.raw)
		}
	})
}

func gjson(raw []byte, field string) string {
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if v, ok := m[field]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

func TestOnetime(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		body := map[string]any{"merchant_uid": "one-1", "amount": 5000, "card_number": "4242-4242-4242-4242", "expiry": "2030-12",
			"birth": "880101", "pwd_2digit": "12", "name": "단건", "buyer_name": "홍길동", "buyer_email": "a@b.c", "buyer_tel": "010",
			"customer_uid": "saved-by-onetime"}
		_, env := h.call("POST", "/subscribe/payments/onetime", body)
		if p := env.payment(t); env.Code != 0 || p.Status != "paid" || p.CustomerUID != "saved-by-onetime" {
			t.Fatalf("onetime: %s", env.raw)
		}
		if _, env = h.again("saved-by-onetime", "one-2", 5000); env.payment(t).Status != "paid" {
			t.Fatalf("charge the saved key: %s", env.raw)
		}
		body["merchant_uid"], body["card_number"] = "one-3", "1234-1234-1234-1234"
		_, env = h.call("POST", "/subscribe/payments/onetime", body)
		if env.Code != -1 || !strings.Contains(env.msg(), "카드정보 인증에 실패하였습니다.") {
			t.Fatalf("bad card: %s", env.raw)
		}
		// buyer_* are optional (INICIS gets placeholders, as for again).
		delete(body, "buyer_tel")
		body["merchant_uid"], body["card_number"] = "one-4", "4242-4242-4242-4242"
		if _, env = h.call("POST", "/subscribe/payments/onetime", body); env.Code != 0 || env.payment(t).Status != "paid" {
			t.Fatalf("missing buyer_tel: %s", env.raw)
		}
	})
}

// TestExactlyOnceConcurrent: 50 concurrent again calls with one merchant_uid
// give exactly one PG approval and one paid payment.
func TestExactlyOnceConcurrent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		h.mustIssue("cust-race", "4242-4242-4242-4242")
		var wg sync.WaitGroup
		var mu sync.Mutex
		paid, rejected := 0, 0
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, env := h.again("cust-race", "order-race", 30000)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case env.Code == 0 && env.payment(t).Status == "paid":
					paid++
				case env.Code == 1 && strings.Contains(env.msg(), "이미 주문이 이루어진 건입니다"):
					rejected++
				default:
					t.Errorf("unexpected reply: %s", env.raw)
				}
			}()
		}
		wg.Wait()
		if paid != 1 || rejected != 49 {
			t.Fatalf("paid %d, rejected %d", paid, rejected)
		}
		if n := len(h.ledger().Approvals); n != 1 {
			t.Fatalf("%d approvals in the simulator's ledger, want 1", n)
		}
		_, env := h.call("GET", "/payments/findAll/order-race", nil)
		if !strings.Contains(string(env.Response), `"total":1`) {
			t.Fatalf("payments for the order: %s", env.raw)
		}
	})
}

// TestConcurrentPartialCancels: 20 concurrent partial cancels of 1,000 on a
// 10,000 payment never refund more than was paid, and billkey agrees with
// the simulator's ledger.
func TestConcurrentPartialCancels(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		h.mustIssue("cust-c", "4242-4242-4242-4242")
		_, env := h.again("cust-c", "order-c", 10000)
		p := env.payment(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, env := h.call("POST", "/payments/cancel", map[string]any{"imp_uid": p.ImpUID, "amount": 1000, "reason": "부분취소"})
				if env.Code == 0 {
					mu.Lock()
					ok++
					mu.Unlock()
				} else if env.Code != 1 {
					t.Errorf("cancel: %s", env.raw)
				}
			}()
		}
		wg.Wait()
		_, env = h.call("GET", "/payments/"+p.ImpUID, nil)
		got := env.payment(t)
		var ledgerRefunded int64
		for _, r := range h.ledger().Refunds {
			if r.TID == p.PGTID {
				ledgerRefunded += r.Amount
			}
		}
		if got.CancelAmount > 10000 || got.CancelAmount != ledgerRefunded || int64(ok)*1000 != got.CancelAmount {
			t.Fatalf("billkey cancelled %d (%d ok replies), ledger refunded %d", got.CancelAmount, ok, ledgerRefunded)
		}
		if got.CancelAmount == 10000 && (got.Status != "cancelled" || len(got.CancelHistory) != 10) {
			t.Fatalf("fully cancelled payment: %s", env.raw)
		}
		t.Logf("%d of 20 partial cancels succeeded; cancelled %d of 10000", ok, got.CancelAmount)
	})
}

func TestCancel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		h.mustIssue("cust", "4242-4242-4242-4242")
		_, env := h.again("cust", "order-1", 10000)
		p := env.payment(t)
		status, env := h.call("POST", "/payments/cancel", map[string]any{})
		if status != 200 || env.Code == 0 || !strings.Contains(env.msg(), "지정해주셔야합니다.") {
			t.Fatalf("no id: %d %s", status, env.raw)
		}
		status, env = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": "imps_000000000000"})
		if status != 200 || env.Code != 1 || env.msg() != "취소할 결제건이 존재하지 않습니다." {
			t.Fatalf("unknown: %d %s", status, env.raw)
		}
		_, env = h.call("POST", "/payments/cancel", map[string]any{"merchant_uid": "order-1", "amount": 3000, "checksum": 10000, "reason": "일부"})
		if got := env.payment(t); env.Code != 0 || got.CancelAmount != 3000 || got.Status != "paid" || len(got.CancelHistory) != 1 {
			t.Fatalf("partial by merchant_uid: %s", env.raw)
		}
		// A stale checksum is refused.
		if _, env = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": p.ImpUID, "amount": 1000, "checksum": 10000}); env.Code != 1 {
			t.Fatalf("stale checksum: %s", env.raw)
		}
		if _, env = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": p.ImpUID, "amount": 7001}); env.Code != 1 {
			t.Fatalf("over-refund: %s", env.raw)
		}
		_, env = h.call("POST", "/payments/cancel", "imp_uid="+p.ImpUID+"& reason=전액")
		got := env.payment(t)
		if env.Code != 0 || got.Status != "cancelled" || got.CancelAmount != 10000 || len(got.CancelHistory) != 2 {
			t.Fatalf("rest: %s", env.raw)
		}
		if _, env = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": p.ImpUID}); env.Code != 1 || string(env.Response) != "null" {
			t.Fatalf("cancel twice: %s", env.raw)
		}
		var refunded int64
		for _, r := range h.ledger().Refunds {
			refunded += r.Amount
		}
		if refunded != 10000 {
			t.Fatalf("ledger refunded %d", refunded)
		}
	})
}

// TestUnknownOutcomeReconciled: the simulator approves 4000-0000-0000-0119's
// charges but never replies. billkey answers with an error, leaves the
// payment ready, and the reconciler finds the single approval by inquiry.
func TestUnknownOutcomeReconciled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{pgTimeout: time.Second})
		h.mustIssue("cust-lost", "4000-0000-0000-0119")
		status, env := h.again("cust-lost", "order-lost", 15000)
		if status != 200 || env.Code != -1 || !strings.Contains(env.msg(), "imps_") {
			t.Fatalf("unknown outcome: %d %s", status, env.raw)
		}
		// Retrying the order is refused while it is being reconciled.
		if _, env := h.again("cust-lost", "order-lost", 15000); env.Code != 1 {
			t.Fatalf("retry during reconciliation: %s", env.raw)
		}
		var p payment
		eventually(t, 15*time.Second, "the reconciler to resolve the payment", func() bool {
			_, env := h.call("GET", "/payments/find/order-lost", nil)
			p = env.payment(t)
			return p.Status != "ready"
		})
		ap := h.approvalsFor(p.ImpUID)
		if p.Status != "paid" || len(ap) != 1 || ap[0].TID != p.PGTID || ap[0].Price != 15000 || len(h.ledger().Approvals) != 1 {
			t.Fatalf("reconciled %+v; ledger %+v", p, h.ledger().Approvals)
		}
	})
}

func TestIdempotencyKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		h.mustIssue("cust", "4242-4242-4242-4242")
		body := map[string]any{"customer_uid": "cust", "merchant_uid": "idem-1", "amount": 1000, "name": "x"}
		_, first := h.call("POST", "/subscribe/payments/again", body, "Idempotency-Key", "key-1")
		_, second := h.call("POST", "/subscribe/payments/again", body, "Idempotency-Key", "key-1")
		if first.Code != 0 || string(first.raw) != string(second.raw) || second.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay:\n%s\n%s", first.raw, second.raw)
		}
		body["amount"] = 2000
		if status, env := h.call("POST", "/subscribe/payments/again", body, "Idempotency-Key", "key-1"); status != 422 || env.Code == 0 {
			t.Fatalf("other params: %d %s", status, env.raw)
		}
		if n := len(h.ledger().Approvals); n != 1 {
			t.Fatalf("%d approvals", n)
		}
	})
}

// TestUnknownRefundReconciled: the simulator refunds but drops the reply.
// billkey says the outcome is unknown and keeps the refund reserved; the
// reconciler retries the full refund (INICIS answers 기 취소 거래), records it
// once, and the payment ends cancelled, matching the ledger.
func TestUnknownRefundReconciled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		h.mustIssue("cust-r", "4242-4242-4242-4242")
		_, env := h.again("cust-r", "order-r", 10000)
		p := env.payment(t)
		if err := h.sim.SetFaults(inicissim.Faults{Drop: true, Paths: []string{"/api/v1/refund"}, Count: 1}); err != nil {
			t.Fatal(err)
		}
		_, env = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": p.ImpUID, "reason": "해지"})
		if env.Code != -1 || string(env.Response) != "null" {
			t.Fatalf("refund with a lost reply: %s", env.raw)
		}
		var got payment
		eventually(t, 15*time.Second, "the reconciler to resolve the refund", func() bool {
			_, env := h.call("GET", "/payments/"+p.ImpUID, nil)
			got = env.payment(t)
			return got.Status == "cancelled"
		})
		var refunded int64
		for _, r := range h.ledger().Refunds {
			if r.TID == p.PGTID {
				refunded += r.Amount
			}
		}
		if got.CancelAmount != 10000 || len(got.CancelHistory) != 1 || refunded != 10000 {
			t.Fatalf("billkey cancelled %d in %d entries; the ledger refunded %d", got.CancelAmount, len(got.CancelHistory), refunded)
		}
	})
}

// TestStalePendingRefundSettled: a refund reserved by a node that died
// before asking INICIS is, after the stale threshold, retried by the
// reconciler as a full refund and recorded once.
func TestStalePendingRefundSettled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		// Stale after 4s: longer than the in-flight window (2 x 1.5s + 0.5s).
		h := start(t, dsn, options{staleReadyAfter: 4 * time.Second})
		h.mustIssue("cust-s", "4242-4242-4242-4242")
		_, env := h.again("cust-s", "order-s", 7000)
		p := env.payment(t)
		got, err := h.store.PaymentByImpUID(context.Background(), h.merchant.Merchant.ID, p.ImpUID)
		if err != nil {
			t.Fatal(err)
		}
		// The "crashed" cancel: reserved, never sent.
		if _, _, err := h.store.ReserveCancel(context.Background(), got.ID, billkey.CancelRequest{Reason: "crash"}); err != nil {
			t.Fatal(err)
		}
		var final payment
		eventually(t, 15*time.Second, "the reconciler to settle the stale refund", func() bool {
			_, env := h.call("GET", "/payments/"+p.ImpUID, nil)
			final = env.payment(t)
			return final.Status == "cancelled"
		})
		var refunded int64
		for _, r := range h.ledger().Refunds {
			if r.TID == p.PGTID {
				refunded += r.Amount
			}
		}
		if final.CancelAmount != 7000 || refunded != 7000 {
			t.Fatalf("cancelled %d, ledger refunded %d", final.CancelAmount, refunded)
		}
	})
}
