package e2e

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/jobs"
)

// TestIdempotencyKeysExpire: an Idempotency-Key is remembered 24 hours (as
// Stripe): past that the key is new again over HTTP, and the jobs runner's
// maintenance queue deletes the expired rows while keeping fresh ones. On
// both databases.
func TestIdempotencyKeysExpire(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		ctx := context.Background()
		h.mustIssue("cust", "4242-4242-4242-4242")
		body := map[string]any{"customer_uid": "cust", "merchant_uid": "idem-old", "amount": 1000, "name": "x"}
		if _, env := h.call("POST", "/subscribe/payments/again", body, "Idempotency-Key", "old-key"); env.Code != 0 {
			t.Fatalf("first: %s", env.raw)
		}
		body["merchant_uid"] = "idem-fresh"
		if _, env := h.call("POST", "/subscribe/payments/again", body, "Idempotency-Key", "fresh-key"); env.Code != 0 {
			t.Fatalf("fresh: %s", env.raw)
		}
		age := func(key string, d time.Duration) {
			if _, err := h.store.DB.ExecContext(ctx, `UPDATE idempotency_keys SET created_at = created_at - $1 WHERE idem_key = $2`,
				int64(d/time.Second), key); err != nil {
				t.Fatal(err)
			}
		}
		count := func() int {
			var n int
			if err := h.store.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM idempotency_keys`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// 25 hours later the key is new: other parameters are a new request,
		// not a 422.
		age("old-key", 25*time.Hour)
		body["merchant_uid"], body["amount"] = "idem-old-2", 2000
		status, env := h.call("POST", "/subscribe/payments/again", body, "Idempotency-Key", "old-key")
		if status != 200 || env.Code != 0 || env.header.Get("Idempotent-Replayed") != "" || env.payment(t).Amount != 2000 {
			t.Fatalf("expired key reused: %d %s", status, env.raw)
		}
		// The sweep, through a jobs runner with the maintenance queue.
		age("old-key", 25*time.Hour)
		if n := count(); n != 2 {
			t.Fatalf("%d rows before the sweep", n)
		}
		// Another node's runner (its first claim is due at once).
		node := gateway.New(h.store, h.keys, nil, nil)
		r := jobs.New("test-owner", slog.New(slog.DiscardHandler), nil,
			jobs.Queue{Name: gateway.QueueMaintenance, Claim: node.ClaimMaintenance, Concurrency: 1, Interval: time.Hour})
		r.Start(ctx)
		eventually(t, 10*time.Second, "the expired row deleted", func() bool { return count() == 1 })
		if err := r.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		// The fresh key still replays.
		body["merchant_uid"], body["amount"] = "idem-fresh", 1000
		if _, env := h.call("POST", "/subscribe/payments/again", body, "Idempotency-Key", "fresh-key"); env.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("fresh key not replayed: %s", env.raw)
		}
	})
}
