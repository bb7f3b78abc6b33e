package billkey

import "time"

// IdempotencyTakeover is how long an in-flight Idempotency-Key may stay
// unfinished (a crashed node) before another request may take it over. The
// payment's own merchant_uid uniqueness still prevents a second approval.
const IdempotencyTakeover = 5 * time.Minute

// IdempotencyTTL is how long an Idempotency-Key is remembered (Stripe's 24
// hours): past it the key is new again, and ExpireIdempotencyKeys deletes
// the row.
const IdempotencyTTL = 24 * time.Hour

// StoredResponse is a reply kept for an Idempotency-Key.
type StoredResponse struct {
	Status int
	Body   []byte
}
