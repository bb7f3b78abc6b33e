package vault

// Owned adapts a Keyring to callers that name an owner's fields directly
// (the billkey.Sealer and gateway.Keys interfaces), so those packages need
// not import this one.
type Owned struct {
	*Keyring
}

// Seal seals plaintext bound to purpose, merchant and subject.
func (o Owned) Seal(plaintext []byte, purpose string, merchantID int64, subject string) ([]byte, error) {
	return o.Keyring.Seal(plaintext, AD{Purpose: purpose, MerchantID: merchantID, Subject: subject})
}

// Open opens a blob sealed by Seal for the same purpose, merchant and subject.
func (o Owned) Open(blob []byte, purpose string, merchantID int64, subject string) ([]byte, error) {
	return o.Keyring.Open(blob, AD{Purpose: purpose, MerchantID: merchantID, Subject: subject})
}

// Rewrap re-wraps a blob's data key under the primary master key.
func (o Owned) Rewrap(blob []byte, purpose string, merchantID int64, subject string) ([]byte, error) {
	return o.Keyring.Rewrap(blob, AD{Purpose: purpose, MerchantID: merchantID, Subject: subject})
}
