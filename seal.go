package billkey

import "time"

// Sealer encrypts and decrypts small secrets bound to an owner: the purpose,
// the merchant and a subject (a customer_uid or a row id) are authenticated
// with the ciphertext, so a blob opens only where it was sealed. The vault
// package implements it; the store and the gateway use it.
type Sealer interface {
	Seal(plaintext []byte, purpose string, merchantID int64, subject string) ([]byte, error)
	Open(blob []byte, purpose string, merchantID int64, subject string) ([]byte, error)
}

// Purposes passed to the Sealer. Each seals one kind of secret; they are part
// of the stored data and never change.
const (
	// PurposeChannel seals a channel's PG credentials (subject: channel id).
	PurposeChannel = "channel-credentials"
	// PurposeBillingKey seals a billing key (subject: customer_uid).
	PurposeBillingKey = "billing-key"
	// PurposeWebhookSecret seals a webhook signing secret (subject: secret id).
	PurposeWebhookSecret = "webhook-secret"
)

// KeyBlob is one sealed secret and the row it lives in, as listed for a
// rewrap under a new master key.
type KeyBlob struct {
	Table       string
	ID          int64
	MerchantID  int64
	CustomerUID string
	Blob        []byte
}

// TokenRecord is the stored form of a merchant's current access token. The
// token itself is not stored: it is derived from Nonce with the server's MAC
// key, and looked up by the MAC of the token.
type TokenRecord struct {
	MerchantID int64
	Nonce      []byte
	IssuedAt   time.Time
	ExpiresAt  time.Time
}
