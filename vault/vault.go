package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
)

// Purposes for [AD].Purpose. Each purpose gets its own wrapping subkey, so a
// blob sealed for one purpose never opens as another.
const (
	PurposeBillingKey    = "billing_key"    // Subject: customer_uid
	PurposeChannelSecret = "channel_secret" // Subject: channel id (decimal)
)

// Errors returned (wrapped) by [Keyring.Open], [Keyring.Rewrap] and
// [Keyring.KeyID]. Test with errors.Is.
var (
	// ErrMalformed means the blob is not a well-formed vault blob (wrong
	// version, truncated, bad length fields).
	ErrMalformed = errors.New("vault: malformed blob")
	// ErrUnknownKey means the blob names a KEK id that is not in the keyring.
	ErrUnknownKey = errors.New("vault: unknown key id")
	// ErrDecrypt means authentication failed: wrong AD (purpose, merchant or
	// subject), tampered blob, or a KEK with the right id but wrong material.
	ErrDecrypt = errors.New("vault: decryption failed")
	// ErrInvalidAD means the AD itself is unusable (empty Purpose).
	ErrInvalidAD = errors.New("vault: invalid associated data")
)

// FormatV1 is the first byte of every blob written by this package.
const FormatV1 byte = 1

const (
	kekSize     = 32                    // AES-256
	dekSize     = 32                    // AES-256
	gcmOverhead = 12 + 16               // random nonce + tag (NewGCMWithRandomNonce)
	wrappedSize = dekSize + gcmOverhead // 60
	maxIDLen    = 64                    // also fits the 1-byte length prefix
	maxCached   = 256                   // bound on cached (kek, purpose) AEADs
	minBlobSize = 2 + 1 + wrappedSize + gcmOverhead
)

// Domain-separation labels. They are part of the format: never change them.
const (
	labelWrapKey    = "billkey/vault/v1 kek-wrap purpose="
	labelWrapAAD    = "billkey/vault/v1 wrap\x00"
	labelPayloadAAD = "billkey/vault/v1 payload\x00"
)

// AD is the associated data that binds a blob to its owner. It is not stored in
// the blob: the caller supplies the same AD to Seal and Open, and any
// difference makes Open fail with [ErrDecrypt].
type AD struct {
	Purpose    string // e.g. PurposeBillingKey; must not be empty
	MerchantID int64
	Subject    string // customer_uid for billing keys, channel id for channel secrets
}

func (ad AD) validate() error {
	if ad.Purpose == "" {
		return fmt.Errorf("%w: empty Purpose", ErrInvalidAD)
	}
	if uint64(len(ad.Purpose)) > math.MaxUint32 || uint64(len(ad.Subject)) > math.MaxUint32 {
		return fmt.Errorf("%w: field too long", ErrInvalidAD)
	}
	return nil
}

// appendAD appends the unambiguous encoding of ad:
// u32be len(Purpose) | Purpose | i64be MerchantID | u32be len(Subject) | Subject.
func appendAD(dst []byte, ad AD) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(ad.Purpose)))
	dst = append(dst, ad.Purpose...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(ad.MerchantID))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(ad.Subject)))
	return append(dst, ad.Subject...)
}

// wrapAAD authenticates the header (version, KEK id) and the AD.
func wrapAAD(version byte, id string, ad AD) []byte {
	b := make([]byte, 0, len(labelWrapAAD)+2+len(id)+16+len(ad.Purpose)+len(ad.Subject))
	b = append(b, labelWrapAAD...)
	b = append(b, version, byte(len(id)))
	b = append(b, id...)
	return appendAD(b, ad)
}

// payloadAAD authenticates the version and the AD, but not the KEK id, so that
// a rewrap leaves the payload untouched.
func payloadAAD(version byte, ad AD) []byte {
	b := make([]byte, 0, len(labelPayloadAAD)+1+16+len(ad.Purpose)+len(ad.Subject))
	b = append(b, labelPayloadAAD...)
	b = append(b, version)
	return appendAD(b, ad)
}

// secretBytes is key material; it formats as "redacted" in every verb.
type secretBytes []byte

func (secretBytes) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("redacted")) }
func (secretBytes) String() string             { return "redacted" }
func (secretBytes) GoString() string           { return "redacted" }
func (secretBytes) LogValue() slog.Value       { return slog.StringValue("redacted") }

type kek struct {
	id  string
	key secretBytes
}

type cacheKey struct{ id, purpose string }

// ring is the immutable keyring state plus a cache of derived wrap AEADs.
// Keyring points to it so that no copy of a Keyring value ever carries key
// bytes that reflection-based printers could reach.
type ring struct {
	keks []kek // keks[0] is primary
	mac  secretBytes

	mu    sync.RWMutex
	cache map[cacheKey]cipher.AEAD
}

// Keyring holds the master keys (KEKs) and the MAC key. It is immutable and
// safe for concurrent use. Build one with [Parse], [LoadFile], [GenerateFile].
// It never prints or logs key material.
type Keyring struct {
	// The state sits behind a func value: fmt (including its %!verb path,
	// which dereferences one pointer level) and reflection-based dumpers print
	// a func as an address and never call it, so no printing path, even of a
	// struct embedding a Keyring value, can reach key bytes.
	state func() *ring
}

func newKeyring(keks []kek, mac []byte) *Keyring {
	r := &ring{keks: keks, mac: mac, cache: make(map[cacheKey]cipher.AEAD)}
	return &Keyring{state: func() *ring { return r }}
}

// ring returns the state, or nil for a nil or zero Keyring.
func (k *Keyring) ring() *ring {
	if k == nil || k.state == nil {
		return nil
	}
	return k.state()
}

func (k *Keyring) ok() error {
	if r := k.ring(); r == nil || len(r.keks) == 0 {
		return errors.New("vault: keyring not initialized")
	}
	return nil
}

// PrimaryID returns the id of the primary KEK, which Seal and Rewrap use.
func (k *Keyring) PrimaryID() string {
	if k.ok() != nil {
		return ""
	}
	return k.ring().keks[0].id
}

// IDs returns the KEK ids, primary first.
func (k *Keyring) IDs() []string {
	if k.ok() != nil {
		return nil
	}
	keks := k.ring().keks
	ids := make([]string, len(keks))
	for i, e := range keks {
		ids[i] = e.id
	}
	return ids
}

func (k *Keyring) find(id string) *kek {
	keks := k.ring().keks
	for i := range keks {
		if keks[i].id == id {
			return &keks[i]
		}
	}
	return nil
}

// wrapAEAD returns AES-256-GCM (random nonce) under
// HKDF-SHA256(KEK, salt=nil, info=labelWrapKey+purpose).
func (k *Keyring) wrapAEAD(e *kek, purpose string) (cipher.AEAD, error) {
	ck := cacheKey{e.id, purpose}
	r := k.ring()
	r.mu.RLock()
	a, hit := r.cache[ck]
	r.mu.RUnlock()
	if hit {
		return a, nil
	}
	sub, err := hkdf.Key(sha256.New, e.key, nil, labelWrapKey+purpose, kekSize)
	if err != nil {
		return nil, fmt.Errorf("vault: derive subkey: %v", err)
	}
	a, err = newAEAD(sub)
	clear(sub)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if len(r.cache) < maxCached {
		r.cache[ck] = a
	}
	r.mu.Unlock()
	return a, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("vault: %v", err)
	}
	a, err := cipher.NewGCMWithRandomNonce(b)
	if err != nil {
		return nil, fmt.Errorf("vault: %v", err)
	}
	return a, nil
}

// Seal encrypts plaintext for the owner described by ad. A fresh random DEK
// encrypts the plaintext; the DEK is wrapped under the primary KEK's subkey
// for ad.Purpose. The result is a self-describing blob (see package doc).
func (k *Keyring) Seal(plaintext []byte, ad AD) ([]byte, error) {
	if err := k.ok(); err != nil {
		return nil, err
	}
	if err := ad.validate(); err != nil {
		return nil, err
	}
	e := &k.ring().keks[0]
	wrap, err := k.wrapAEAD(e, ad.Purpose)
	if err != nil {
		return nil, err
	}
	dek := make([]byte, dekSize)
	defer clear(dek)
	_, _ = rand.Read(dek) // never fails (crashes the program instead)
	payload, err := newAEAD(dek)
	if err != nil {
		return nil, err
	}

	out := make([]byte, 0, 2+len(e.id)+wrappedSize+len(plaintext)+gcmOverhead)
	out = append(out, FormatV1, byte(len(e.id)))
	out = append(out, e.id...)
	out = wrap.Seal(out, nil, dek, wrapAAD(FormatV1, e.id, ad))
	out = payload.Seal(out, nil, plaintext, payloadAAD(FormatV1, ad))
	return out, nil
}

// parsed is a split blob. All fields alias the input.
type parsed struct {
	version byte
	id      string
	wrapped []byte
	payload []byte
}

func parse(blob []byte) (parsed, error) {
	if len(blob) < minBlobSize {
		return parsed{}, fmt.Errorf("%w: %d bytes, need at least %d", ErrMalformed, len(blob), minBlobSize)
	}
	if blob[0] != FormatV1 {
		return parsed{}, fmt.Errorf("%w: unknown format version %d", ErrMalformed, blob[0])
	}
	n := int(blob[1])
	if n == 0 || n > maxIDLen {
		return parsed{}, fmt.Errorf("%w: key id length %d out of range 1..%d", ErrMalformed, n, maxIDLen)
	}
	if len(blob) < minBlobSize-1+n {
		return parsed{}, fmt.Errorf("%w: %d bytes, too short for key id length %d", ErrMalformed, len(blob), n)
	}
	rest := blob[2+n:]
	return parsed{
		version: blob[0],
		id:      string(blob[2 : 2+n]),
		wrapped: rest[:wrappedSize:wrappedSize],
		payload: rest[wrappedSize:],
	}, nil
}

// unwrap finds the KEK and returns the DEK (caller clears it).
func (k *Keyring) unwrap(p parsed, ad AD) ([]byte, error) {
	e := k.find(p.id)
	if e == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, p.id)
	}
	wrap, err := k.wrapAEAD(e, ad.Purpose)
	if err != nil {
		return nil, err
	}
	dek, err := wrap.Open(make([]byte, 0, dekSize), nil, p.wrapped, wrapAAD(p.version, p.id, ad))
	if err != nil || len(dek) != dekSize {
		return nil, fmt.Errorf("%w: data key does not unwrap under key %q (wrong AD or tampered blob)", ErrDecrypt, p.id)
	}
	return dek, nil
}

func openPayload(dek []byte, p parsed, ad AD) ([]byte, error) {
	a, err := newAEAD(dek)
	if err != nil {
		return nil, err
	}
	pt, err := a.Open(nil, nil, p.payload, payloadAAD(p.version, ad))
	if err != nil {
		return nil, fmt.Errorf("%w: payload does not authenticate (tampered blob)", ErrDecrypt)
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

// openDEK checks the keyring and ad, parses blob and unwraps its DEK with
// the KEK the header names. The caller clears the DEK when done.
func (k *Keyring) openDEK(blob []byte, ad AD) (parsed, []byte, error) {
	if err := k.ok(); err != nil {
		return parsed{}, nil, err
	}
	if err := ad.validate(); err != nil {
		return parsed{}, nil, err
	}
	p, err := parse(blob)
	if err != nil {
		return parsed{}, nil, err
	}
	dek, err := k.unwrap(p, ad)
	if err != nil {
		return parsed{}, nil, err
	}
	return p, dek, nil
}

// Open decrypts a blob made by Seal or Rewrap with any KEK still in the ring.
// ad must equal the AD given to Seal. Errors wrap [ErrMalformed],
// [ErrUnknownKey], [ErrDecrypt] or [ErrInvalidAD]; Open never panics on bad
// input.
func (k *Keyring) Open(blob []byte, ad AD) ([]byte, error) {
	p, dek, err := k.openDEK(blob, ad)
	if err != nil {
		return nil, err
	}
	defer clear(dek)
	return openPayload(dek, p, ad)
}

// Rewrap re-wraps the blob's DEK under the current primary KEK. The payload
// ciphertext bytes are copied unchanged; only the header and wrapped DEK
// change. Rewrap first authenticates the whole blob (DEK and payload), so it
// succeeds exactly when Open would. A blob already under the primary KEK is
// returned as an unchanged copy.
func (k *Keyring) Rewrap(blob []byte, ad AD) ([]byte, error) {
	p, dek, err := k.openDEK(blob, ad)
	if err != nil {
		return nil, err
	}
	defer clear(dek)
	pt, err := openPayload(dek, p, ad)
	if err != nil {
		return nil, err
	}
	clear(pt)

	e := &k.ring().keks[0]
	if p.id == e.id {
		return slices.Clone(blob), nil
	}
	wrap, err := k.wrapAEAD(e, ad.Purpose)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 2+len(e.id)+wrappedSize+len(p.payload))
	out = append(out, p.version, byte(len(e.id)))
	out = append(out, e.id...)
	out = wrap.Seal(out, nil, dek, wrapAAD(p.version, e.id, ad))
	out = append(out, p.payload...)
	return out, nil
}

// KeyID returns the id of the KEK that wraps the blob's DEK, without
// decrypting anything. The error wraps [ErrMalformed].
func KeyID(blob []byte) (string, error) {
	p, err := parse(blob)
	if err != nil {
		return "", err
	}
	return p.id, nil
}

// KeyID is [KeyID] as a method, for callers that hold a Keyring.
func (k *Keyring) KeyID(blob []byte) (string, error) { return KeyID(blob) }

// NeedsRewrap reports whether the blob is not wrapped under the primary KEK.
// A malformed blob also reports true, so that a rotation job passes it to
// Rewrap and surfaces the error instead of silently skipping it.
func (k *Keyring) NeedsRewrap(blob []byte) bool {
	id, err := KeyID(blob)
	return err != nil || id != k.PrimaryID()
}

// String describes the keyring by key ids only; key material is redacted.
func (k *Keyring) String() string {
	if k.ok() != nil {
		return "vault.Keyring(empty)"
	}
	return fmt.Sprintf("vault.Keyring{primary: %s, keks: [%s], secrets: redacted}",
		k.PrimaryID(), strings.Join(k.IDs(), " "))
}

// GoString is String: key material is redacted under %#v too.
func (k *Keyring) GoString() string { return k.String() }

// Format makes every fmt verb (including %d, %x, %+v) print String.
func (k *Keyring) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// LogValue implements slog.LogValuer: key ids only, secrets redacted.
func (k *Keyring) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("primary", k.PrimaryID()),
		slog.Any("keks", k.IDs()),
		slog.String("secrets", "redacted"),
	)
}
