package billkey

import "time"

// Operator is a person who uses the admin console. Operators are not
// merchants: each sees the merchants it was granted (or all of them).
type Operator struct {
	ID           int64
	Login        string
	Name         string
	PasswordHash string // argon2id, self-describing; never shown
	AllMerchants bool
	Disabled     bool
	MerchantIDs  []int64 // granted merchants (when not AllMerchants)
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// CanSee reports whether the operator may see the merchant's data.
func (o *Operator) CanSee(merchantID int64) bool {
	if o.AllMerchants {
		return true
	}
	for _, id := range o.MerchantIDs {
		if id == merchantID {
			return true
		}
	}
	return false
}

// OperatorSession is a console login, looked up by the hash of its cookie.
type OperatorSession struct {
	ID         int64
	OperatorID int64
	ClientAddr string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// AuditEntry is one console action.
type AuditEntry struct {
	ID            int64
	OperatorID    int64
	OperatorLogin string
	MerchantID    int64 // 0 for actions on no merchant (login, logout)
	Action        string
	Target        string // the object acted on: an imp_uid, a delivery id...
	Detail        string
	ClientAddr    string
	CreatedAt     time.Time
}

// AuditFilter selects audit entries. MerchantIDs limits them to those
// merchants (nil: every merchant and the merchant-less entries).
type AuditFilter struct {
	MerchantIDs []int64
	Target      string // "" means any
	OperatorID  int64  // with MerchantIDs: also the operator's own merchant-less entries
	Limit       int
	Offset      int
}
