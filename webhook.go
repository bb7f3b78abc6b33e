package billkey

import "time"

// DeliveryState is where a webhook delivery stands.
type DeliveryState string

// Delivery states.
const (
	DeliveryPending   DeliveryState = "pending"   // to be attempted at NextAttemptAt
	DeliveryDelivered DeliveryState = "delivered" // the receiver answered 2xx
	DeliveryFailed    DeliveryState = "failed"    // retries exhausted
	DeliverySkipped   DeliveryState = "skipped"   // nothing to send (no URL, or an internal event)
)

// Valid reports whether d is one of the states.
func (d DeliveryState) Valid() bool {
	switch d {
	case DeliveryPending, DeliveryDelivered, DeliveryFailed, DeliverySkipped:
		return true
	}
	return false
}

// WebhookDelivery is the delivery of one outbox event to one URL.
type WebhookDelivery struct {
	ID          int64
	EventID     int64
	MerchantID  int64
	ImpUID      string
	MerchantUID string
	Status      PaymentStatus
	URL         string
	Body        []byte

	State          DeliveryState
	Attempts       int
	NextAttemptAt  time.Time
	GiveUpAt       time.Time
	LeaseOwner     string
	LeaseUntil     time.Time
	LastStatusCode int
	LastError      string
	DeliveredAt    time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time

	// Log holds the attempts, oldest first, in lookups that load them.
	Log []WebhookAttempt
}

// WebhookAttempt is one HTTP attempt of a delivery.
type WebhookAttempt struct {
	ID         int64
	DeliveryID int64
	At         time.Time
	StatusCode int // 0 when no HTTP answer came
	Latency    time.Duration
	Error      string
	Node       string
	// Response is an excerpt of the receiver's answer body (see
	// webhook.Excerpt); stored bounded to 512 bytes.
	Response string
}

// RelayedEvent is an outbox event being turned into a delivery, with the
// merchant's configured URL at this moment.
type RelayedEvent struct {
	Event
	MerchantWebhookURL string
	// Payload is the body of a subscription.* event ("" for payment
	// events, whose body is built from the fields).
	Payload string
}

// NewDelivery is what the webhook worker decides for a relayed event.
type NewDelivery struct {
	URL      string
	Body     []byte
	State    DeliveryState // pending, or skipped
	Note     string        // why it was skipped
	GiveUpAt time.Time
}

// AttemptOutcome is what a delivery attempt leads to.
type AttemptOutcome struct {
	Delivered bool
	// Next is when to try again; zero with Delivered false means give up.
	Next time.Time
}

// DeliveryFilter selects a merchant's deliveries for paged lookups.
type DeliveryFilter struct {
	MerchantID  int64
	ImpUID      string        // "" means any
	MerchantUID string        // "" means any
	State       DeliveryState // "" means any
	Offset      int
	Limit       int
}

// WebhookSecretInfo describes a valid secret without revealing it.
type WebhookSecretInfo struct {
	ID        int64
	CreatedAt time.Time
	ExpiresAt time.Time // zero: valid until rotated out
}
