package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/internal/dbtest"
)

type prepareJSON struct {
	MerchantUID string  `json:"merchant_uid"`
	Amount      int64   `json:"amount"`
	Currency    *string `json:"currency"`
}

// TestPrepare: POST/PUT/GET /payments/prepare with i'mport's bodies and
// messages, and a payment whose amount differs from the prepared one refused
// before any PG call, on every payment path.
func TestPrepare(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		prep := func(method string, body any) (int, prepareJSON, envelope) {
			t.Helper()
			status, env := h.call(method, "/payments/prepare", body)
			var p prepareJSON
			if env.Code == 0 {
				if err := json.Unmarshal(env.Response, &p); err != nil {
					t.Fatalf("prepare reply: %s", env.raw)
				}
			}
			return status, p, env
		}
		// Unknown: GET and PUT are HTTP 404 with i'mport's text.
		status, env := h.call("GET", "/payments/prepare/nope", nil)
		if status != 404 || env.Code == 0 || env.msg() != "사전등록된 결제정보가 존재하지 않습니다." || string(env.Response) != "null" {
			t.Fatalf("unknown prepare: %d %s", status, env.raw)
		}
		if status, _, env := prep("PUT", map[string]any{"merchant_uid": "nope", "amount": 100}); status != 404 ||
			env.msg() != "사전등록된 결제정보가 존재하지 않습니다." {
			t.Fatalf("PUT unknown prepare: %d %s", status, env.raw)
		}
		// POST (JSON, or a form as go-iamport sends it) round-trips amount
		// and merchant_uid (python's prepare-validate compares them).
		status, p, env := prep("POST", map[string]any{"merchant_uid": "p-again", "amount": 9900})
		if status != 200 || env.Code != 0 || p.MerchantUID != "p-again" || p.Amount != 9900 || p.Currency != nil ||
			string(env.Response) != `{"merchant_uid":"p-again","amount":9900}` { // the legacy shape go-iamport decodes strictly
			t.Fatalf("prepare: %d %s", status, env.raw)
		}
		if status, env := h.call("POST", "/payments/prepare", "merchant_uid=p-form& amount=5000& currency=KRW"); status != 200 || env.Code != 0 {
			t.Fatalf("form prepare: %d %s", status, env.raw)
		}
		status, env = h.call("GET", "/payments/prepare/p-form", nil)
		if err := json.Unmarshal(env.Response, &p); err != nil || status != 200 || p.Amount != 5000 || p.Currency == nil || *p.Currency != "KRW" {
			t.Fatalf("get prepare: %d %s", status, env.raw)
		}
		// A second POST for one merchant_uid is refused; PUT changes it.
		if status, _, env := prep("POST", map[string]any{"merchant_uid": "p-again", "amount": 1}); status != 200 || env.Code != 1 {
			t.Fatalf("duplicate prepare: %d %s", status, env.raw)
		}
		// Bad input is refused without a write.
		for _, body := range []map[string]any{{"amount": 100}, {"merchant_uid": "p-bad"}, {"merchant_uid": "p-bad", "amount": -1},
			{"merchant_uid": "p-bad", "amount": 10.5}, {"merchant_uid": "p-bad", "amount": 100, "currency": "KRWX"}} {
			if status, _, env := prep("POST", body); env.Code == 0 || status == 500 {
				t.Errorf("%v: %d %s", body, status, env.raw)
			}
		}
		if status, _ := h.call("GET", "/payments/prepare/p-bad", nil); status != 404 {
			t.Fatal("a refused prepare was written")
		}

		h.mustIssue("cust-p", "4242-4242-4242-4242")
		before := h.ledger()
		// again, onetime and schedule with another amount: code 1, the
		// mismatch message, no payment, no PG call.
		_, env = h.again("cust-p", "p-again", 9000)
		if env.Code != 1 || !strings.Contains(env.msg(), "사전등록된 결제금액") || !strings.Contains(env.msg(), "9900") {
			t.Fatalf("again with another amount: %s", env.raw)
		}
		if _, _, env := prep("POST", map[string]any{"merchant_uid": "p-onetime", "amount": 3000}); env.Code != 0 {
			t.Fatal(string(env.raw))
		}
		_, env = h.call("POST", "/subscribe/payments/onetime", map[string]any{"merchant_uid": "p-onetime", "amount": 3001,
			"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "880101", "pwd_2digit": "12", "name": "x"})
		if env.Code != 1 || !strings.Contains(env.msg(), "사전등록된 결제금액") {
			t.Fatalf("onetime with another amount: %s", env.raw)
		}
		if _, _, env := prep("POST", map[string]any{"merchant_uid": "p-sched", "amount": 700}); env.Code != 0 {
			t.Fatal(string(env.raw))
		}
		_, env = h.call("POST", "/subscribe/payments/schedule", map[string]any{"customer_uid": "cust-p",
			"schedules": []map[string]any{{"merchant_uid": "p-sched", "schedule_at": time.Now().Unix() + 3600, "amount": 800, "name": "x"}}})
		if env.Code != 1 || !strings.Contains(env.msg(), "사전등록된 결제금액") {
			t.Fatalf("schedule with another amount: %s", env.raw)
		}
		// A currency registered must match too.
		_, env = h.call("POST", "/subscribe/payments/again", map[string]any{"customer_uid": "cust-p", "merchant_uid": "p-form", "amount": 5000, "currency": "USD"})
		if env.Code != 1 {
			t.Fatalf("again with another currency: %s", env.raw)
		}
		after := h.ledger()
		if len(after.Approvals) != len(before.Approvals) || len(after.Keys) != len(before.Keys) || len(after.Declines) != len(before.Declines) {
			t.Fatalf("a refused payment reached the PG: %d→%d approvals, %d→%d keys", len(before.Approvals), len(after.Approvals), len(before.Keys), len(after.Keys))
		}
		for _, m := range []string{"p-again", "p-onetime"} {
			if status, _ := h.call("GET", "/payments/find/"+m, nil); status != 404 {
				t.Fatalf("a refused payment was written: %s", m)
			}
		}
		if status, _, _ := h.schedule("p-sched"); status != 404 {
			t.Fatal("a refused schedule was written")
		}

		// PUT changes the amount; the matching amount is charged.
		if status, p, env := prep("PUT", map[string]any{"merchant_uid": "p-again", "amount": 9000}); status != 200 || p.Amount != 9000 {
			t.Fatalf("PUT prepare: %d %s", status, env.raw)
		}
		_, env = h.again("cust-p", "p-again", 9000)
		if pay := env.payment(t); env.Code != 0 || pay.Status != "paid" || pay.Amount != 9000 {
			t.Fatalf("again with the prepared amount: %s", env.raw)
		}
		_, env = h.call("POST", "/subscribe/payments/onetime", map[string]any{"merchant_uid": "p-onetime", "amount": 3000,
			"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "880101", "pwd_2digit": "12", "name": "x"})
		if pay := env.payment(t); env.Code != 0 || pay.Status != "paid" {
			t.Fatalf("onetime with the prepared amount: %s", env.raw)
		}
		// A schedule registered with the prepared amount, then the prepared
		// amount changed: the run is refused without a PG call and the
		// schedule fails with the mismatch message.
		_, env = h.call("POST", "/subscribe/payments/schedule", map[string]any{"customer_uid": "cust-p",
			"schedules": []map[string]any{{"merchant_uid": "p-sched", "schedule_at": time.Now().Unix() + 2, "amount": 700, "name": "x"}}})
		if env.Code != 0 {
			t.Fatalf("schedule with the prepared amount: %s", env.raw)
		}
		if _, _, env := prep("PUT", map[string]any{"merchant_uid": "p-sched", "amount": 701}); env.Code != 0 {
			t.Fatal(string(env.raw))
		}
		sc := h.waitExecuted("p-sched", 20*time.Second)
		if str(sc.PaymentStatus) != "failed" || sc.FailReason == nil || !strings.Contains(*sc.FailReason, "사전등록된 결제금액") {
			t.Fatalf("scheduled run after the prepared amount changed: %+v", sc)
		}
		if status, _ := h.call("GET", "/payments/find/p-sched", nil); status != 404 {
			t.Fatal("the refused scheduled run wrote a payment")
		}
		// Prepares are per merchant: another merchant's token sees none.
		other := h.otherMerchantToken()
		saved := h.token
		h.token = other
		status, _ = h.call("GET", "/payments/prepare/p-form", nil)
		h.token = saved
		if status != 404 {
			t.Fatalf("another merchant saw a prepare: %d", status)
		}
	})
}

// TestValidationOrder: i'mport's order of refusals, and a missing name that
// is not an error.
func TestValidationOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		// Unknown customer_uid first, whatever else is missing.
		for _, body := range []map[string]any{
			{"customer_uid": "nobody"},
			{"customer_uid": "nobody", "merchant_uid": "v-1"},
			{"customer_uid": "nobody", "amount": 100},
			{"customer_uid": "nobody", "merchant_uid": "v-1", "amount": 0},
		} {
			status, env := h.call("POST", "/subscribe/payments/again", body)
			if status != 200 || env.Code != 1 || env.msg() != "등록되지 않은 구매자입니다." {
				t.Errorf("%v: %d %s", body, status, env.raw)
			}
		}
		h.mustIssue("cust-v", "4242-4242-4242-4242")
		if _, env := h.call("POST", "/subscribe/payments/again", map[string]any{"customer_uid": "cust-v", "merchant_uid": "v-1"}); env.Code != 1 ||
			env.msg() != "amount 파라미터가 누락되었습니다." {
			t.Errorf("known customer, no amount: %s", env.raw)
		}
		// No name (older clients omit it): charged with INICIS's fallback
		// goodName (the simulator refuses a blank one), name stays null.
		_, env := h.call("POST", "/subscribe/payments/again", map[string]any{"customer_uid": "cust-v", "merchant_uid": "v-noname", "amount": 1000})
		var raw map[string]any
		_ = json.Unmarshal(env.Response, &raw)
		if env.Code != 0 || raw["status"] != "paid" || raw["name"] != nil {
			t.Fatalf("again without name: %s", env.raw)
		}
		// onetime with a card INICIS refuses, no name and no buyer fields:
		// the card error, code -1.
		for _, card := range []string{"1234-1234-1234-1234", "1111-2222-3333-4444"} {
			status, env := h.call("POST", "/subscribe/payments/onetime", map[string]any{"merchant_uid": "v-card-" + card[:4], "amount": 1000,
				"card_number": card, "expiry": "2030-12", "birth": "880101", "pwd_2digit": "12"})
			// i'mport's lead-in, then the buyer's sentence and INICIS's own
			// code and message (one refusal format everywhere).
			if status != 200 || env.Code != -1 || !strings.HasPrefix(env.msg(), "카드정보 인증에 실패하였습니다. ") || !strings.Contains(env.msg(), "([F11") {
				t.Errorf("onetime %s: %d %s", card, status, env.raw)
			}
		}
		// onetime with a good card and no name / buyer fields is paid.
		_, env = h.call("POST", "/subscribe/payments/onetime", map[string]any{"merchant_uid": "v-ok", "amount": 1000,
			"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "880101", "pwd_2digit": "12"})
		raw = nil
		_ = json.Unmarshal(env.Response, &raw)
		if env.Code != 0 || raw["status"] != "paid" || raw["name"] != nil {
			t.Fatalf("onetime without name: %s", env.raw)
		}
	})
}

// TestForeignCard: the legacy POST /subscribe/payments/foreign (no birth).
func TestForeignCard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		_, env := h.call("POST", "/subscribe/payments/foreign", map[string]any{"merchant_uid": "f-1", "amount": 1200,
			"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "name": "해외카드 결제", "customer_uid": "cust-foreign"})
		pay := env.payment(t)
		if env.Code != 0 || pay.Status != "paid" || pay.Amount != 1200 || pay.CardName != "해외비자" || len(h.approvalsFor(pay.ImpUID)) != 1 {
			t.Fatalf("foreign: %s", env.raw)
		}
		// The key is kept under customer_uid after an approval, as onetime.
		if _, env := h.again("cust-foreign", "f-2", 1300); env.payment(t).Status != "paid" {
			t.Fatalf("again on the foreign card's key: %s", env.raw)
		}
		// A domestic card without birth is refused by INICIS: the card error.
		_, env = h.call("POST", "/subscribe/payments/foreign", map[string]any{"merchant_uid": "f-3", "amount": 1200,
			"card_number": "4518-4200-0000-0007", "expiry": "2030-12"})
		if env.Code != -1 || !strings.HasPrefix(env.msg(), "카드정보 인증에 실패하였습니다.") {
			t.Fatalf("domestic card on foreign: %s", env.raw)
		}
		// Format errors are code 1 before any PG call.
		if _, env := h.call("POST", "/subscribe/payments/foreign", map[string]any{"merchant_uid": "f-4", "amount": 1200, "expiry": "2030-12"}); env.Code != 1 {
			t.Fatalf("no card number: %s", env.raw)
		}
	})
}

type balanceJSON struct {
	Amount  int64 `json:"amount"`
	Primary struct {
		TaxFree int64 `json:"tax_free"`
		Supply  int64 `json:"supply"`
		Vat     int64 `json:"vat"`
		Service int64 `json:"service"`
	} `json:"primary"`
	CashReceipt map[string]int64 `json:"cash_receipt"`
	Histories   []struct {
		Primary map[string]int64 `json:"primary"`
		Created int64            `json:"created"`
	} `json:"histories"`
}

// TestBalance: GET /payments/{imp_uid}/balance from billkey's records.
func TestBalance(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		h.mustIssue("cust-b", "4242-4242-4242-4242")
		_, env := h.call("POST", "/subscribe/payments/again", map[string]any{"customer_uid": "cust-b", "merchant_uid": "b-1",
			"amount": 11000, "tax_free": 1000, "name": "x"})
		pay := env.payment(t)
		balance := func() balanceJSON {
			t.Helper()
			status, env := h.call("GET", "/payments/"+pay.ImpUID+"/balance", nil)
			var b balanceJSON
			if err := json.Unmarshal(env.Response, &b); err != nil || status != 200 || env.Code != 0 {
				t.Fatalf("balance: %d %s", status, env.raw)
			}
			return b
		}
		// 10,000 taxed: VAT 10/110 → 909, supply 9,091.
		b := balance()
		if b.Amount != 11000 || b.Primary.TaxFree != 1000 || b.Primary.Vat != 909 || b.Primary.Supply != 9091 || b.Primary.Service != 0 ||
			len(b.Histories) != 1 || b.CashReceipt["supply"] != 0 {
			t.Fatalf("balance after payment: %+v", b)
		}
		if _, env := h.call("POST", "/payments/cancel", map[string]any{"imp_uid": pay.ImpUID, "amount": 2200, "tax_free": 0}); env.Code != 0 {
			t.Fatalf("partial cancel: %s", env.raw)
		}
		b = balance()
		if b.Amount != 11000 || b.Primary.TaxFree+b.Primary.Supply+b.Primary.Vat != 8800 || len(b.Histories) != 2 ||
			b.Histories[1].Primary["vat"] != -200 || b.Histories[1].Primary["supply"] != -2000 {
			t.Fatalf("balance after a partial cancel: %+v", b)
		}
		if _, env := h.call("POST", "/payments/cancel", map[string]any{"imp_uid": pay.ImpUID}); env.Code != 0 {
			t.Fatalf("full cancel: %s", env.raw)
		}
		b = balance()
		if b.Primary.TaxFree != 0 || b.Primary.Supply != 0 || b.Primary.Vat != 0 || len(b.Histories) != 3 {
			t.Fatalf("balance after the full cancel: %+v", b)
		}
		if status, env := h.call("GET", "/payments/imps_000000000000/balance", nil); status != 404 || env.msg() != "존재하지 않는 결제정보입니다." {
			t.Fatalf("unknown balance: %d %s", status, env.raw)
		}
		if status, _ := h.call("GET", "/payments/"+pay.ImpUID+"/nothing", nil); status != 404 {
			t.Fatalf("unknown sub-resource: %d", status)
		}
	})
}

// otherMerchantToken creates a second merchant and returns its token.
func (h *harness) otherMerchantToken() string {
	h.t.Helper()
	m, err := h.app.Service.CreateMerchant(h.t.Context(), gateway.NewMerchant{Name: "other shop", ImpSecret: "other-secret-0123456789"})
	if err != nil {
		h.t.Fatal(err)
	}
	saved, savedM := h.token, h.merchant
	h.merchant = m
	tok := h.getToken()
	h.token, h.merchant = saved, savedM
	return tok
}

// TestScheduleRetryAndDeletedKey: retrying a pending schedule is refused
// with a retry message; deleting a billing key with pending schedules is
// allowed (i'mport only warns the merchant to check them) and each schedule
// then fails when due with i'mport's unknown-customer message, without a PG
// call.
func TestScheduleRetryAndDeletedKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		h.mustIssue("cust-d", "4242-4242-4242-4242")
		now := time.Now().Unix()
		_, env := h.call("POST", "/subscribe/payments/schedule", map[string]any{"customer_uid": "cust-d", "schedules": []map[string]any{
			{"merchant_uid": "d-later", "schedule_at": now + 3600, "amount": 1000, "name": "x"},
			{"merchant_uid": "d-soon", "schedule_at": now + 2, "amount": 1000, "name": "x"},
		}})
		if env.Code != 0 {
			t.Fatalf("schedule: %s", env.raw)
		}
		status, env := h.call("POST", "/subscribe/payments/schedule/d-later/retry", nil)
		if status != 400 || !strings.Contains(env.msg(), "즉시 재시도") || strings.Contains(env.msg(), "다시 예약") {
			t.Fatalf("retry of a pending schedule: %d %s", status, env.raw)
		}
		before := len(h.ledger().Approvals)
		if status, env := h.call("DELETE", "/subscribe/customers/cust-d", nil); status != 200 || env.Code != 0 {
			t.Fatalf("delete with pending schedules: %d %s", status, env.raw)
		}
		if _, sc, _ := h.schedule("d-later"); sc.ScheduleStatus != "scheduled" {
			t.Fatalf("a pending schedule changed on delete: %+v", sc)
		}
		sc := h.waitExecuted("d-soon", 20*time.Second)
		if str(sc.PaymentStatus) != "failed" || str(sc.FailReason) != "등록되지 않은 구매자입니다." || sc.ImpUID != nil {
			t.Fatalf("due schedule of a deleted key: %+v", sc)
		}
		if after := len(h.ledger().Approvals); after != before {
			t.Fatalf("a deleted key was charged: %d → %d approvals", before, after)
		}
	})
}

// TestCodesAndPGSettings: the KFTC code tables and GET /users/pg.
func TestCodesAndPGSettings(t *testing.T) {
	h := start(t, dbtest.DSN(t, "sqlite"), options{}) // no storage involved: one database
	var list []map[string]string
	for _, path := range []string{"/cards", "/banks"} {
		status, env := h.call("GET", path, nil)
		list = nil
		if err := json.Unmarshal(env.Response, &list); err != nil || status != 200 || len(list) < 20 {
			t.Fatalf("%s: %d %s", path, status, env.raw)
		}
		for _, c := range list {
			if len(c["code"]) != 3 || c["name"] == "" || len(c) != 2 {
				t.Errorf("%s: bad entry %v", path, c)
			}
		}
	}
	for path, want := range map[string]string{"/cards/366": "신한카드", "/cards/381": "KB국민카드", "/banks/004": "KB국민은행", "/banks/088": "신한은행", "/banks/090": "카카오뱅크"} {
		status, env := h.call("GET", path, nil)
		var c map[string]string
		_ = json.Unmarshal(env.Response, &c)
		if status != 200 || c["name"] != want || c["code"] != path[len(path)-3:] {
			t.Errorf("%s: %d %s", path, status, env.raw)
		}
	}
	for path, msg := range map[string]string{"/cards/999": "카드사정보를 찾을 수 없습니다.", "/banks/999": "은행정보를 찾을 수 없습니다."} {
		if status, env := h.call("GET", path, nil); status != 404 || env.Code != -1 || !strings.Contains(env.msg(), msg) {
			t.Errorf("%s: %d %s", path, status, env.raw)
		}
	}
	// The card_code billkey reports is in the table.
	env := h.issue("cust-c", "4518-4200-0000-0007")
	var cust map[string]any
	_ = json.Unmarshal(env.Response, &cust)
	if status, got := h.call("GET", "/cards/"+cust["card_code"].(string), nil); status != 200 || !strings.Contains(string(got.Response), "신한") {
		t.Errorf("card_code %v: %d %s", cust["card_code"], status, got.raw)
	}
	status, env := h.call("GET", "/users/pg", nil)
	var pgs []map[string]any
	if err := json.Unmarshal(env.Response, &pgs); err != nil || status != 200 || len(pgs) != 2 {
		t.Fatalf("users/pg: %d %s", status, env.raw)
	}
	for i, typ := range []string{"payment", "api_payment"} {
		if p := pgs[i]; p["pg_provider"] != "html5_inicis" || p["pg_id"] != "INIBillTst" || p["sandbox"] != true || p["type"] != typ {
			t.Errorf("users/pg[%d]: %v", i, p)
		}
	}
}

// TestListSemantics: page=0, findAll's 404, find's sorting and multi-get
// de-duplication, as i'mport's clients expect them.
func TestListSemantics(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		h.mustIssue("cust-l", "4000-0000-0000-0341") // declined
		_, env := h.again("cust-l", "l-1", 1000)
		failed := env.payment(t)
		h.mustIssue("cust-l", "4242-4242-4242-4242")
		_, env = h.again("cust-l", "l-1", 1000)
		paid := env.payment(t)
		if failed.Status != "failed" || paid.Status != "paid" {
			t.Fatalf("setup: %s / %s", failed.Status, paid.Status)
		}
		find := func(q string) payment {
			t.Helper()
			status, env := h.call("GET", "/payments/find/l-1"+q, nil)
			if status != 200 {
				t.Fatalf("find%s: %d %s", q, status, env.raw)
			}
			return env.payment(t)
		}
		if p := find(""); p.ImpUID != paid.ImpUID {
			t.Errorf("find: %s, want the newest %s", p.ImpUID, paid.ImpUID)
		}
		if p := find("?sorting=started"); p.ImpUID != failed.ImpUID {
			t.Errorf("find?sorting=started: %s, want the oldest %s", p.ImpUID, failed.ImpUID)
		}
		if status, _ := h.call("GET", "/payments/find/l-1?sorting=bogus", nil); status != 400 {
			t.Errorf("bad sorting: %d", status)
		}
		var pg struct {
			Total int       `json:"total"`
			List  []payment `json:"list"`
		}
		status, env := h.call("GET", "/payments/findAll/l-1?page=0&limit=1", nil)
		if err := json.Unmarshal(env.Response, &pg); err != nil || status != 200 || pg.Total != 2 || len(pg.List) != 1 {
			t.Fatalf("findAll page=0: %d %s", status, env.raw)
		}
		for _, path := range []string{"/payments/findAll/nope", "/payments/findAll/l-1/cancelled"} {
			if status, env := h.call("GET", path, nil); status != 404 || env.msg() != "존재하지 않는 결제정보입니다." {
				t.Errorf("%s: %d %s", path, status, env.raw)
			}
		}
		status, env = h.call("GET", "/subscribe/customers/cust-l/payments?page=0", nil)
		if err := json.Unmarshal(env.Response, &pg); err != nil || status != 200 || pg.Total != 2 {
			t.Fatalf("customer payments page=0: %d %s", status, env.raw)
		}
		var list []payment
		status, env = h.call("GET", "/payments?imp_uid[]="+paid.ImpUID+"&imp_uid[]="+paid.ImpUID+"&merchant_uid[]=l-1", nil)
		if err := json.Unmarshal(env.Response, &list); err != nil || status != 200 || len(list) != 1 {
			t.Fatalf("multi-get of one payment three ways: %d %s", status, env.raw)
		}
		status, env = h.call("GET", "/subscribe/customers?customer_uid[]=cust-l&customer_uid[]=cust-l", nil)
		if err := json.Unmarshal(env.Response, &list); err != nil || status != 200 || len(list) != 1 {
			t.Fatalf("customers multi-get: %d %s", status, env.raw)
		}
	})
}
