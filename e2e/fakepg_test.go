package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/internal/fakepg"
)

// TestSecondPGThroughTheAPI: a second PG registered in the provider
// registry (the in-memory fakepg, knowing nothing of INICIS) issues,
// charges, looks up and refunds through billkey's public REST API exactly
// as KG INICIS does, selected by the channel's provider; KG INICIS (the
// simulator) sees none of it.
func TestSecondPGThroughTheAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		fake := fakepg.New()
		h := start(t, dsn, options{extraPGs: []billkey.PGFactory{fake.Factory}})
		ctx := context.Background()
		ch := &billkey.Channel{Provider: fakepg.Name, MID: "FAKEMID01", Credentials: fakepg.Credentials{Secret: "fake-secret"}.Encode()}
		if err := h.app.Service.AddChannel(ctx, h.merchant.Merchant.ImpCode, ch); err != nil {
			t.Fatal(err)
		}
		// A provider the server does not know is refused when the channel
		// is added, with a message.
		if err := h.app.Service.AddChannel(ctx, h.merchant.Merchant.ImpCode, &billkey.Channel{Provider: "tosspayments", MID: "T1"}); billkey.ErrorCode(err) != billkey.EINVALID ||
			!strings.Contains(billkey.ErrorMessage(err), "지원하지 않는 PG") {
			t.Fatalf("unknown provider: %v", err)
		}
		inicisBefore, _ := json.Marshal(h.ledger())

		// Issue: the pg parameter picks the fake's channel.
		_, env := h.call("POST", "/subscribe/customers/cust-fake", map[string]string{
			"pg": "fakepg", "card_number": fakepg.ApproveNumber, "expiry": "2030-12", "birth": "880101", "pwd_2digit": "12",
			"customer_name": "홍길동", "customer_email": "gildong@example.com", "customer_tel": "010-1234-5678",
		})
		var cust map[string]any
		_ = json.Unmarshal(env.Response, &cust)
		if env.Code != 0 || cust["pg_id"] != "FAKEMID01" || cust["pg_provider"] != fakepg.Name || cust["card_name"] != "페이크카드" ||
			strings.Contains(string(env.raw), fakepg.ApproveNumber) || strings.Contains(string(env.raw), "fakekey_") {
			t.Fatalf("issue through the fake: %s", env.raw)
		}

		// Charge on the key: the customer's channel, hence the fake.
		_, env = h.again("cust-fake", "fake-order-1", 10_000)
		p := env.payment(t)
		if env.Code != 0 || p.Status != "paid" || p.Amount != 10_000 || !strings.HasPrefix(p.PGTID, "faketid_") || p.ApplyNum == "" ||
			p.CardName != "페이크카드" || p.PaidAt == 0 {
			t.Fatalf("charge through the fake: %s", env.raw)
		}
		var full map[string]any
		_, got := h.call("GET", "/payments/"+p.ImpUID, nil)
		_ = json.Unmarshal(got.Response, &full)
		if got.Code != 0 || got.payment(t).Status != "paid" || got.payment(t).Amount != 10_000 || full["pg_provider"] != fakepg.Name ||
			full["pg_id"] != "FAKEMID01" || full["receipt_url"] != "https://fakepg.example/receipt/"+p.PGTID {
			t.Fatalf("lookup: %s", got.raw)
		}

		// Partial refund, then the rest.
		_, env = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": p.ImpUID, "amount": 3_000, "reason": "부분 환불"})
		c := env.payment(t)
		if env.Code != 0 || c.Status != "paid" || c.CancelAmount != 3_000 || len(c.CancelHistory) != 1 || c.CancelHistory[0].Amount != 3_000 {
			t.Fatalf("partial refund through the fake: %s", env.raw)
		}
		if n, left := fake.Approvals(); n != 1 || left != 7_000 {
			t.Fatalf("fake after the partial refund: %d approvals, %d left", n, left)
		}
		// More than remains is refused by billkey before any PG call.
		calls := fake.Calls()
		if _, env = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": p.ImpUID, "amount": 8_000}); env.Code == 0 || fake.Calls() != calls {
			t.Fatalf("refund past what remains: %s (fake calls %d → %d)", env.raw, calls, fake.Calls())
		}
		_, env = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": p.ImpUID, "reason": "전액 환불"})
		c = env.payment(t)
		if env.Code != 0 || c.Status != "cancelled" || c.CancelAmount != 10_000 || len(c.CancelHistory) != 2 || c.CancelHistory[1].Amount != 7_000 {
			t.Fatalf("refund of the rest through the fake: %s", env.raw)
		}
		if n, left := fake.Approvals(); n != 1 || left != 0 {
			t.Fatalf("fake after the full refund: %d approvals, %d left", n, left)
		}
		if _, got = h.call("GET", "/payments/"+p.ImpUID, nil); got.payment(t).Status != "cancelled" || got.payment(t).CancelAmount != 10_000 {
			t.Fatalf("lookup after the refunds: %s", got.raw)
		}

		// A decline by the fake is a failed payment with its code, like
		// an INICIS decline.
		_, env = h.call("POST", "/subscribe/customers/cust-fake-poor", map[string]string{
			"pg": "fakepg.FAKEMID01", "card_number": fakepg.DeclineNumber, "expiry": "2030-12", "birth": "880101", "pwd_2digit": "12",
		})
		if env.Code != 0 {
			t.Fatalf("issue (decline card): %s", env.raw)
		}
		_, env = h.again("cust-fake-poor", "fake-order-2", 5_000)
		if p := env.payment(t); env.Code != 0 || p.Status != "failed" || !strings.Contains(p.FailReason, "[D01]") {
			t.Fatalf("declined through the fake: %s", env.raw)
		}

		// The payment window through the fake: the gateway asks the
		// channel's provider for the form, and redeems the provider's
		// return post server to server for the key.
		var token string
		opened, err := h.app.Service.OpenWindow(ctx, gateway.WindowRequest{
			ImpCode: h.merchant.Merchant.ImpCode, Kind: gateway.WindowPC, Delivery: gateway.DeliverMessage,
			OpenerOrigin: "https://shop.example",
			Params: gateway.WindowParams{PG: "fakepg", MerchantUID: "fake-window-1", CustomerUID: "cust-fake-window",
				Buyer: billkey.Buyer{Name: "홍길동", Email: "gildong@example.com", Tel: "01012345678"}},
			URLs: func(tok string) (string, string) {
				token = tok
				return "https://billkey.example/window/return/" + tok, "https://billkey.example/window/close/" + tok
			},
		})
		if err != nil {
			t.Fatalf("open window on the fake: %v", err)
		}
		if opened.Form.Action != fakepg.WindowAction || opened.Form.Sources.Form[0] != "https://fakepg.example" {
			t.Fatalf("window form: %+v", opened.Form)
		}
		to, post, err := fake.Buyer(ch.PGChannel(), &billkey.WindowForm{Fields: opened.Form.Fields}, billkey.Card{Number: fakepg.ApproveNumber}, false)
		if err != nil || !strings.HasSuffix(to, token) {
			t.Fatalf("fake window: %s %v", to, err)
		}
		res, err := h.app.Service.CompleteWindow(ctx, token, post)
		if err != nil || !res.Rsp.Success || *res.Rsp.PGProvider != fakepg.Name || !strings.HasPrefix(*res.Rsp.PGTID, "fakeiss_") {
			t.Fatalf("complete window on the fake: %+v %v", res, err)
		}
		if _, env = h.again("cust-fake-window", "fake-order-3", 2_500); env.payment(t).Status != "paid" || !strings.HasPrefix(env.payment(t).PGTID, "faketid_") {
			t.Fatalf("charge on the window's key: %s", env.raw)
		}
		// A replayed return post gets the recorded result; nothing is
		// redeemed again.
		calls = fake.Calls()
		if again, err := h.app.Service.CompleteWindow(ctx, token, post); err != nil || !again.Replayed || fake.Calls() != calls {
			t.Fatalf("replayed return post: %+v %v", again, err)
		}

		// KG INICIS saw nothing of it.
		if after, _ := json.Marshal(h.ledger()); string(after) != string(inicisBefore) {
			t.Fatalf("the INICIS simulator was called:\nbefore %s\nafter  %s", inicisBefore, after)
		}
		// And INICIS still works beside it, on the default channel.
		h.mustIssue("cust-inicis", "4242-4242-4242-4242")
		if _, env = h.again("cust-inicis", "inicis-order-1", 1_000); env.payment(t).Status != "paid" || strings.HasPrefix(env.payment(t).PGTID, "faketid_") {
			t.Fatalf("INICIS beside the fake: %s", env.raw)
		}
	})
}
