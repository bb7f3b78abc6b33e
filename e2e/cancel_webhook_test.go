package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/dbtest"
)

// TestCancellationWebhook: a full refund through POST /payments/cancel
// sends the merchant a signed webhook with status cancelled (after the paid
// one), to the payment's notice_url; a partial refund sends none (the
// payment stays paid, as with i'mport).
func TestCancellationWebhook(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		restartWithJobs(h, cli.JobOptions{PollInterval: 50 * time.Millisecond, WebhookRetry: []time.Duration{200 * time.Millisecond}})
		rc := newReceiver(t, 0)
		secret := h.rotateSecret(0)
		h.mustIssue("cust-cw", "4242-4242-4242-4242")
		_, env := h.call("POST", "/subscribe/payments/again", map[string]any{
			"customer_uid": "cust-cw", "merchant_uid": "order-cw", "amount": 8000, "name": "취소 웹훅", "notice_url": rc.URL(),
		})
		p := env.payment(t)
		if env.Code != 0 || p.Status != "paid" {
			t.Fatalf("again: %s", env.raw)
		}
		eventually(t, 20*time.Second, "the paid webhook", func() bool { return len(rc.accepted("order-cw")) == 1 })

		_, env = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": p.ImpUID, "amount": 3000, "reason": "부분 환불"})
		if env.Code != 0 || env.payment(t).Status != "paid" {
			t.Fatalf("partial cancel: %s", env.raw)
		}
		_, env = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": p.ImpUID, "reason": "해지"})
		if got := env.payment(t); env.Code != 0 || got.Status != "cancelled" || got.CancelAmount != 8000 {
			t.Fatalf("full cancel: %s", env.raw)
		}
		eventually(t, 20*time.Second, "the cancelled webhook", func() bool { return len(rc.accepted("order-cw")) >= 2 })
		got := rc.accepted("order-cw")
		if len(got) != 2 {
			t.Fatalf("%d webhooks for order-cw, want paid then cancelled", len(got))
		}
		for i, want := range []string{"paid", "cancelled"} {
			if body := fmt.Sprintf(`{"imp_uid":%q,"merchant_uid":"order-cw","status":%q}`, p.ImpUID, want); string(got[i].Body) != body {
				t.Fatalf("webhook %d: %s, want %s", i, got[i].Body, body)
			}
			if err := verifyStandardWebhook(secret, got[i], time.Now()); err != nil {
				t.Fatalf("webhook %d: %v", i, err)
			}
		}
		if got[0].ID == got[1].ID {
			t.Fatal("the cancelled webhook reuses the paid one's webhook-id")
		}
		var hb hookBody
		_ = json.Unmarshal(got[1].Body, &hb)
		if hb.ImpUID == nil || *hb.ImpUID != p.ImpUID {
			t.Fatalf("body %s", got[1].Body)
		}
	})
}
