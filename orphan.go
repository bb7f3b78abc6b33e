package billkey

import "time"

// Orphan kinds and states.
const (
	OrphanCharge = "charge" // an approval for a payment recorded failed
	OrphanRefund = "refund" // a refund for a reservation already released

	OrphanRefunding = "refunding" // the approval is being refunded at the PG
	OrphanRefunded  = "refunded"  // the approval was refunded
	OrphanRaised    = "raised"    // recorded for an operator to settle
)

// Orphan is a PG approval (or refund) that reached billkey for a payment
// whose outcome was already recorded otherwise.
type Orphan struct {
	ID         int64
	MerchantID int64
	PaymentID  int64
	Kind       string
	PGTID      string
	Amount     int64
	State      string
	Attempts   int
	NextAt     time.Time
	LastError  string
	CreatedAt  time.Time
}
