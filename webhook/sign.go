package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header names of the Standard Webhooks scheme.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every webhook secret.
const SecretPrefix = "whsec_"

// secretBytes is the entropy of a new secret (the scheme asks for 24 to 64).
const secretBytes = 32

// DefaultTolerance is how far a webhook-timestamp may be from the receiver's
// clock in Verify.
const DefaultTolerance = 5 * time.Minute

// NewSecret returns a fresh secret: "whsec_" + base64 of 32 random bytes.
func NewSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhook: new secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// DecodeSecret returns the HMAC key of a secret: the base64-decoded part
// after "whsec_" (a secret without the prefix is decoded whole).
func DecodeSecret(secret string) ([]byte, error) {
	raw := strings.TrimPrefix(strings.TrimSpace(secret), SecretPrefix)
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("webhook: secret is not base64 after %q: %w", SecretPrefix, err)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("webhook: secret key must be 24 to 64 bytes, got %d", len(key))
	}
	return key, nil
}

// Sign returns one signature ("v1," + base64 HMAC-SHA256) of a message.
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, timestamp, body))
}

func mac(key []byte, id string, timestamp int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(strconv.FormatInt(timestamp, 10)))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// SignatureHeader returns the webhook-signature value: one signature per
// key, space separated (the newest key first by convention).
func SignatureHeader(keys [][]byte, id string, timestamp int64, body []byte) string {
	sigs := make([]string, len(keys))
	for i, k := range keys {
		sigs[i] = Sign(k, id, timestamp, body)
	}
	return strings.Join(sigs, " ")
}

// Signature is one entry of a webhook-signature header.
type Signature struct {
	Version string // "v1" for HMAC-SHA256
	Value   []byte // the decoded MAC
}

// maxSignatures bounds how many entries ParseSignatureHeader keeps.
const maxSignatures = 16

// ParseSignatureHeader splits a webhook-signature value into its entries.
// Entries that are not "version,base64" are skipped, so a receiver that
// knows only v1 ignores other schemes. At most 16 entries are kept.
func ParseSignatureHeader(h string) []Signature {
	var out []Signature
	for _, f := range strings.Fields(h) {
		if len(out) == maxSignatures {
			break
		}
		version, value, ok := strings.Cut(f, ",")
		if !ok || version == "" || value == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			continue
		}
		out = append(out, Signature{Version: version, Value: b})
	}
	return out
}

// Verification errors.
var (
	ErrNoSignature      = errors.New("webhook: no v1 signature")
	ErrBadSignature     = errors.New("webhook: no signature matches")
	ErrBadTimestamp     = errors.New("webhook: bad webhook-timestamp")
	ErrTimestampTooFar  = errors.New("webhook: webhook-timestamp outside the tolerance")
	ErrMissingHeaders   = errors.New("webhook: webhook-id, webhook-timestamp or webhook-signature missing")
	errNoUsableSecrets  = errors.New("webhook: no usable secret")
	errSecretsMalformed = errors.New("webhook: a secret is malformed")
)

// Verify checks a received webhook against the secrets the receiver knows
// (more than one during a rotation): the timestamp must be within tolerance
// of now (DefaultTolerance when zero) and one v1 signature must match one
// secret, compared in constant time.
func Verify(secrets []string, id, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	if id == "" || timestamp == "" || signature == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrTimestampTooFar
	}
	var keys [][]byte
	for _, s := range secrets {
		k, err := DecodeSecret(s)
		if err != nil {
			return errors.Join(errSecretsMalformed, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return errNoUsableSecrets
	}
	found := false
	for _, sig := range ParseSignatureHeader(signature) {
		if sig.Version != "v1" {
			continue
		}
		found = true
		for _, k := range keys {
			if hmac.Equal(sig.Value, mac(k, id, ts, body)) {
				return nil
			}
		}
	}
	if !found {
		return ErrNoSignature
	}
	return ErrBadSignature
}
