package vault

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
)

// MAC purposes for [Keyring.MAC]. A purpose separates hash domains, so the
// hash of a value as one kind of secret never matches it as another.
const (
	MACImpSecret     = "imp_secret"
	MACAccessToken   = "access_token"
	MACWebhookSecret = "webhook_secret"
	MACIdempotency   = "idempotency"
)

// MACSize is the length in bytes of a [Keyring.MAC] result.
const MACSize = sha256.Size

const labelMAC = "billkey/vault/v1 mac\x00"

// MAC returns HMAC-SHA256 under the keyring's MAC key of
// label | u32be len(purpose) | purpose | data. It is deterministic and
// depends only on the MAC key (never on a KEK), so stored hashes survive KEK
// rotation. Use it only for high-entropy secrets (API secrets, tokens,
// webhook secrets, idempotency material), never for passwords or card data.
// Compare results with [Equal]. MAC panics if the keyring is not initialized.
func (k *Keyring) MAC(purpose string, data []byte) []byte {
	if err := k.ok(); err != nil {
		panic(err)
	}
	h := hmac.New(sha256.New, k.ring().mac)
	var hdr [len(labelMAC) + 4]byte
	copy(hdr[:], labelMAC)
	binary.BigEndian.PutUint32(hdr[len(labelMAC):], uint32(len(purpose)))
	h.Write(hdr[:])
	h.Write([]byte(purpose))
	h.Write(data)
	return h.Sum(make([]byte, 0, MACSize))
}

// Equal reports, in time independent of the contents, whether a and b are
// equal and non-empty. Two empty (or nil) inputs are NOT equal, so a missing
// stored hash never matches.
func Equal(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	return subtle.ConstantTimeCompare(a, b) == 1
}
