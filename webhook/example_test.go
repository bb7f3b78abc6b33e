package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/billkey/billkey/webhook"
)

// A merchant's receiver: verify, deduplicate by webhook-id, answer 2xx fast,
// then look the payment up with GET /payments/{imp_uid} before acting.
func ExampleVerify() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // from POST /webhooks/secret/rotate
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		err = webhook.Verify([]string{secret}, r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"),
			r.Header.Get("webhook-signature"), body, time.Now(), 5*time.Minute)
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Println("verified", r.Header.Get("webhook-id"), string(body))
		w.WriteHeader(http.StatusNoContent)
	})

	// What billkey sends (here signed by hand for the example).
	key, _ := webhook.DecodeSecret(secret)
	body := `{"imp_uid":"imps_410938374651","merchant_uid":"order_monthly_0001","status":"paid"}`
	ts := time.Now().Unix()
	req := httptest.NewRequest("POST", "/iamport-webhook", strings.NewReader(body))
	req.Header.Set("webhook-id", "evt_42")
	req.Header.Set("webhook-timestamp", fmt.Sprint(ts))
	req.Header.Set("webhook-signature", webhook.SignatureHeader([][]byte{key}, "evt_42", ts, []byte(body)))
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// verified evt_42 {"imp_uid":"imps_410938374651","merchant_uid":"order_monthly_0001","status":"paid"}
	// 204
}
