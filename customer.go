package billkey

import (
	"log/slog"
	"time"
)

// Customer is a billing-key record, stored under the merchant's customer_uid.
// The billing key itself lives only in KeyCiphertext, sealed by the vault; no
// response, log, page or webhook ever carries it.
type Customer struct {
	ID          int64
	MerchantID  int64
	ChannelID   int64
	CustomerUID string
	CustomerID  string // the merchant's own buyer id (IMP.request_pay's customer_id); "" if not given
	PGProvider  string
	PGID        string
	CardCode    string // KFTC 3-digit code
	CardName    string
	CardNumber  string // masked
	CardType    *int   // null for INICIS billing

	Name     string
	Tel      string
	Email    string
	Addr     string
	Postcode string

	KeyCiphertext []byte // vault blob of the billing key
	Inserted      time.Time
	Updated       time.Time
}

// Card is card data typed in by a merchant for key-in issuance or a one-time
// charge. It is never stored and never logged: String and LogValue redact it.
type Card struct {
	Number    string // digits only
	Expiry    string // YYYY-MM
	Birth     string // YYMMDD or 10-digit business number
	Pwd2Digit string
	CVC       string
}

// String redacts the card.
func (c Card) String() string { return "Card{redacted}" }

// LogValue redacts the card.
func (c Card) LogValue() slog.Value { return slog.StringValue("redacted") }

// GoString redacts the card.
func (c Card) GoString() string { return c.String() }

// MaskCardNumber masks a card number the way INICIS does: first 6 digits,
// then one '*' per hidden digit, then the last digit.
func MaskCardNumber(digits string) string {
	if len(digits) < 8 {
		return "****"
	}
	b := []byte(digits)
	for i := 6; i < len(b)-1; i++ {
		b[i] = '*'
	}
	return string(b)
}

// CustomerSummary is a billing key as the console lists it: never the key.
type CustomerSummary struct {
	Customer
	// IssuedBy is how the key was issued: "pc" or "mobile" (payment
	// window) or "api" (REST), from the newest issuance record.
	IssuedBy string
	Payments int
}
