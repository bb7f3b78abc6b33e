package billkey

import "time"

// CardUpdateLink is a hosted, single-use, expiring card-update page of one
// subscription's customer. Only the SHA-256 of its token is stored; the
// token itself is shown once, in the link's URL.
type CardUpdateLink struct {
	ID             int64
	MerchantID     int64
	SubscriptionID int64
	CustomerUID    string
	TokenHash      []byte
	CreatedAt      time.Time
	ExpiresAt      time.Time
	UsedAt         time.Time // zero until a window stored the new card
	ImpUID         string    // the issuance payment that used the link
	// RetryImpUID is the subscription's declined payment when the link was
	// used: the one decline the card update retries ("" when none).
	RetryImpUID string
}

// Used reports whether the link replaced a card already.
func (l *CardUpdateLink) Used() bool { return !l.UsedAt.IsZero() }
