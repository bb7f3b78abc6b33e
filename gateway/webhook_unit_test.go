package gateway

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/billkey/billkey"
)

// TestWebhookEnqueue: a charge's outcome is queued with it; the relay then
// sends it to the call's notice_url, else to the merchant's webhook URL,
// and records it skipped when there is neither, with i'mport's body.
func TestWebhookEnqueue(t *testing.T) {
	for _, c := range []struct {
		name, notice, merchantURL, url string
		state                          billkey.DeliveryState
	}{
		{"notice_url wins", "https://shop.example/n", "https://shop.example/default", "https://shop.example/n", billkey.DeliveryPending},
		{"merchant URL", "", "https://shop.example/default", "https://shop.example/default", billkey.DeliveryPending},
		{"nowhere to send", "", "", "", billkey.DeliverySkipped},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := newUnit(t)
			u.st.merchants[0].WebhookURL = c.merchantURL
			u.addCustomer(t, "c1")
			in := again("c1", "wh-1", 1000)
			in.NoticeURL = c.notice
			p, err := u.svc.ChargeAgain(context.Background(), u.merchant.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := u.svc.ClaimWebhooks(context.Background(), "node", 10); err != nil {
				t.Fatal(err)
			}
			if len(u.st.deliveries) != 1 || len(u.st.events) != 0 {
				t.Fatalf("deliveries %+v, events left %d", u.st.deliveries, len(u.st.events))
			}
			d := u.st.deliveries[0]
			if d.URL != c.url || d.State != c.state || d.GiveUpAt.IsZero() {
				t.Fatalf("delivery %+v", d)
			}
			var body map[string]any
			if err := json.Unmarshal(d.Body, &body); err != nil || body["imp_uid"] != p.ImpUID || body["merchant_uid"] != "wh-1" || body["status"] != "paid" {
				t.Fatalf("body %s", d.Body)
			}
		})
	}
}
