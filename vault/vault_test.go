package vault

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// testKey returns 32 deterministic, distinct, non-zero key bytes.
func testKey(seed byte) []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = seed*37 + byte(i)*11 + 1
	}
	return k
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

var testMAC = b64(testKey(200))

func mustParse(t testing.TB, spec string) *Keyring {
	t.Helper()
	kr, err := Parse(spec, testMAC)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return kr
}

// spec builds a BILLKEY_KEK value from ids, key i being testKey(seed i).
func spec(pairs ...any) string {
	var parts []string
	for i := 0; i < len(pairs); i += 2 {
		parts = append(parts, pairs[i].(string)+":"+b64(testKey(byte(pairs[i+1].(int)))))
	}
	return strings.Join(parts, ",")
}

var adBK = AD{Purpose: PurposeBillingKey, MerchantID: 42, Subject: "cust_0001"}

func mustSeal(t testing.TB, kr *Keyring, pt []byte, ad AD) []byte {
	t.Helper()
	blob, err := kr.Seal(pt, ad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return blob
}

// payloadOf returns the payload section (after header and wrapped DEK).
func payloadOf(t testing.TB, blob []byte) []byte {
	t.Helper()
	p, err := parse(blob)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return p.payload
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	kr := mustParse(t, spec("k1", 1, "k0", 2))
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	tests := []struct {
		name string
		pt   []byte
		ad   AD
	}{
		{"billing key", []byte("BILLKEY-abcdef0123456789"), adBK},
		{"empty plaintext", []byte{}, adBK},
		{"nil plaintext", nil, adBK},
		{"one byte", []byte{0}, adBK},
		{"channel secret", []byte(`{"sign_key":"x","api_key":"y"}`), AD{Purpose: PurposeChannelSecret, MerchantID: 7, Subject: "12"}},
		{"empty subject", []byte("x"), AD{Purpose: "merchant_secret", MerchantID: 1}},
		{"negative merchant", []byte("x"), AD{Purpose: PurposeBillingKey, MerchantID: -1, Subject: "s"}},
		{"unicode subject", []byte("x"), AD{Purpose: PurposeBillingKey, MerchantID: 3, Subject: "고객-01\x00\xff"}},
		{"1 MiB", big, adBK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			blob := mustSeal(t, kr, tt.pt, tt.ad)
			if got, want := len(blob), 90+len("k1")+len(tt.pt); got != want {
				t.Errorf("blob length = %d, want %d", got, want)
			}
			if blob[0] != FormatV1 {
				t.Errorf("version byte = %d", blob[0])
			}
			got, err := kr.Open(blob, tt.ad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tt.pt) {
				t.Fatalf("Open = %q..., want %q...", trunc(got), trunc(tt.pt))
			}
			if got == nil {
				t.Errorf("Open returned nil slice, want non-nil")
			}
			if id, err := KeyID(blob); err != nil || id != "k1" {
				t.Errorf("KeyID = %q, %v; want k1", id, err)
			}
		})
	}
}

func trunc(b []byte) []byte { return b[:min(len(b), 32)] }

func TestADMismatch(t *testing.T) {
	t.Parallel()
	kr := mustParse(t, spec("k1", 1))
	base := AD{Purpose: PurposeBillingKey, MerchantID: 42, Subject: "ab"}
	blob := mustSeal(t, kr, []byte("secret billing key"), base)
	tests := []struct {
		name string
		ad   AD
	}{
		{"purpose", AD{Purpose: PurposeChannelSecret, MerchantID: 42, Subject: "ab"}},
		{"purpose case", AD{Purpose: "Billing_key", MerchantID: 42, Subject: "ab"}},
		{"merchant", AD{Purpose: PurposeBillingKey, MerchantID: 43, Subject: "ab"}},
		{"merchant zero", AD{Purpose: PurposeBillingKey, Subject: "ab"}},
		{"merchant negated", AD{Purpose: PurposeBillingKey, MerchantID: -42, Subject: "ab"}},
		{"subject", AD{Purpose: PurposeBillingKey, MerchantID: 42, Subject: "ac"}},
		{"subject empty", AD{Purpose: PurposeBillingKey, MerchantID: 42}},
		{"subject prefix", AD{Purpose: PurposeBillingKey, MerchantID: 42, Subject: "a"}},
		{"subject suffix", AD{Purpose: PurposeBillingKey, MerchantID: 42, Subject: "ab\x00"}},
		// Length prefixes: moving bytes between fields must not collide.
		{"purpose/subject shift", AD{Purpose: PurposeBillingKey + "a", MerchantID: 42, Subject: "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := kr.Open(blob, tt.ad); !errors.Is(err, ErrDecrypt) {
				t.Errorf("Open with %+v: err = %v, want ErrDecrypt", tt.ad, err)
			}
			if _, err := kr.Rewrap(blob, tt.ad); !errors.Is(err, ErrDecrypt) {
				t.Errorf("Rewrap with %+v: err = %v, want ErrDecrypt", tt.ad, err)
			}
		})
	}
	if _, err := kr.Open(blob, base); err != nil {
		t.Fatalf("Open with the right AD: %v", err)
	}
}

func TestInvalidAD(t *testing.T) {
	t.Parallel()
	kr := mustParse(t, spec("k1", 1))
	blob := mustSeal(t, kr, []byte("x"), adBK)
	empty := AD{MerchantID: 42, Subject: "cust_0001"}
	if _, err := kr.Seal([]byte("x"), empty); !errors.Is(err, ErrInvalidAD) {
		t.Errorf("Seal with empty Purpose: err = %v, want ErrInvalidAD", err)
	}
	if _, err := kr.Open(blob, empty); !errors.Is(err, ErrInvalidAD) {
		t.Errorf("Open with empty Purpose: err = %v, want ErrInvalidAD", err)
	}
	if _, err := kr.Rewrap(blob, empty); !errors.Is(err, ErrInvalidAD) {
		t.Errorf("Rewrap with empty Purpose: err = %v, want ErrInvalidAD", err)
	}
}

func TestTamper(t *testing.T) {
	t.Parallel()
	kr := mustParse(t, spec("k1", 1))
	pt := []byte("billing-key-0123456789")
	blob := mustSeal(t, kr, pt, adBK)
	idEnd := 2 + len("k1")
	wantErr := func(i int) error {
		switch {
		case i == 0:
			return ErrMalformed // version
		case i == 1:
			return ErrMalformed // id length: other lengths fail length/unknown-key checks
		case i < idEnd:
			return ErrUnknownKey
		default:
			return ErrDecrypt
		}
	}
	for _, mask := range []byte{0x01, 0x80, 0xff} {
		t.Run(fmt.Sprintf("xor %#02x", mask), func(t *testing.T) {
			t.Parallel()
			for i := range blob {
				bad := bytes.Clone(blob)
				bad[i] ^= mask
				_, err := kr.Open(bad, adBK)
				if err == nil {
					t.Fatalf("byte %d ^ %#x: Open succeeded", i, mask)
				}
				if i == 1 {
					// A changed id length moves every later field: the error
					// is ErrMalformed or ErrUnknownKey depending on the value.
					if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) {
						t.Errorf("byte 1: err = %v", err)
					}
					continue
				}
				if w := wantErr(i); !errors.Is(err, w) {
					t.Errorf("byte %d ^ %#x: err = %v, want %v", i, mask, err, w)
				}
				if _, err := kr.Rewrap(bad, adBK); err == nil {
					t.Errorf("byte %d ^ %#x: Rewrap succeeded", i, mask)
				}
			}
		})
	}
	t.Run("truncate", func(t *testing.T) {
		t.Parallel()
		for n := range len(blob) {
			if _, err := kr.Open(blob[:n], adBK); err == nil {
				t.Fatalf("Open of %d-byte prefix succeeded", n)
			} else if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrDecrypt) {
				t.Errorf("prefix %d: err = %v", n, err)
			}
		}
	})
	t.Run("append", func(t *testing.T) {
		t.Parallel()
		if _, err := kr.Open(append(bytes.Clone(blob), 0), adBK); !errors.Is(err, ErrDecrypt) {
			t.Errorf("err = %v, want ErrDecrypt", err)
		}
	})
	t.Run("swap wrapped DEK between blobs", func(t *testing.T) {
		t.Parallel()
		other := mustSeal(t, kr, pt, adBK)
		mixed := bytes.Clone(blob)
		copy(mixed[idEnd:idEnd+wrappedSize], other[idEnd:idEnd+wrappedSize])
		if _, err := kr.Open(mixed, adBK); !errors.Is(err, ErrDecrypt) {
			t.Errorf("err = %v, want ErrDecrypt", err)
		}
	})
	t.Run("same id, other key material", func(t *testing.T) {
		t.Parallel()
		impostor := mustParse(t, spec("k1", 9))
		if _, err := impostor.Open(blob, adBK); !errors.Is(err, ErrDecrypt) {
			t.Errorf("err = %v, want ErrDecrypt", err)
		}
	})
}

func TestSealRandomized(t *testing.T) {
	t.Parallel()
	kr := mustParse(t, spec("k1", 1))
	pt := []byte("same plaintext every time")
	const n = 64
	seenBlob := map[string]bool{}
	seenWrap := map[string]bool{}
	seenPayload := map[string]bool{}
	for range n {
		blob := mustSeal(t, kr, pt, adBK)
		p, _ := parse(blob)
		seenBlob[string(blob)] = true
		seenWrap[string(p.wrapped)] = true
		seenPayload[string(p.payload)] = true
	}
	if len(seenBlob) != n || len(seenWrap) != n || len(seenPayload) != n {
		t.Fatalf("distinct blobs/wrapped DEKs/payloads = %d/%d/%d, want %d each", len(seenBlob), len(seenWrap), len(seenPayload), n)
	}
}

func TestPlaintextNotInBlob(t *testing.T) {
	t.Parallel()
	kr := mustParse(t, spec("k1", 1))
	tests := []struct {
		name string
		pt   []byte
	}{
		{"billing key", []byte("ini_billkey_3f9a01c2d4e5f60718293a4b")},
		{"repeated", bytes.Repeat([]byte("SECRET"), 100)},
		{"json credentials", []byte(`{"sign_key":"SU5JTElURV9UUklQTEVERVNfS0VZU1RS"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			blob := mustSeal(t, kr, tt.pt, adBK)
			for _, w := range []int{len(tt.pt), 8, 6} {
				for i := 0; i+w <= len(tt.pt); i += w {
					if bytes.Contains(blob, tt.pt[i:i+w]) {
						t.Fatalf("blob contains plaintext bytes %q", tt.pt[i:i+w])
					}
				}
			}
		})
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	old := mustParse(t, spec("k1", 1))
	rotated := mustParse(t, spec("k2", 2, "k1", 1))
	newOnly := mustParse(t, spec("k2", 2))
	pt := []byte("billing key sealed before rotation")

	oldBlob := mustSeal(t, old, pt, adBK)
	newBlob := mustSeal(t, rotated, pt, adBK)

	if rotated.PrimaryID() != "k2" || strings.Join(rotated.IDs(), ",") != "k2,k1" {
		t.Fatalf("rotated ring: primary %q ids %v", rotated.PrimaryID(), rotated.IDs())
	}
	for name, b := range map[string][]byte{"old": oldBlob, "new": newBlob} {
		if got, err := rotated.Open(b, adBK); err != nil || !bytes.Equal(got, pt) {
			t.Errorf("rotated ring opens %s blob: %q, %v", name, got, err)
		}
	}
	if id, _ := KeyID(newBlob); id != "k2" {
		t.Errorf("new blob key id = %q, want k2", id)
	}
	if _, err := old.Open(newBlob, adBK); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old ring on new blob: err = %v, want ErrUnknownKey", err)
	}

	if !rotated.NeedsRewrap(oldBlob) || rotated.NeedsRewrap(newBlob) {
		t.Errorf("NeedsRewrap old/new = %v/%v, want true/false", rotated.NeedsRewrap(oldBlob), rotated.NeedsRewrap(newBlob))
	}
	if !rotated.NeedsRewrap([]byte("garbage")) {
		t.Errorf("NeedsRewrap(garbage) = false, want true")
	}
	if old.NeedsRewrap(oldBlob) {
		t.Errorf("old ring: NeedsRewrap(oldBlob) = true")
	}

	oldCopy := bytes.Clone(oldBlob)
	rw, err := rotated.Rewrap(oldBlob, adBK)
	if err != nil {
		t.Fatalf("Rewrap: %v", err)
	}
	if !bytes.Equal(oldBlob, oldCopy) {
		t.Fatalf("Rewrap modified its input")
	}
	if id, err := rotated.KeyID(rw); err != nil || id != "k2" {
		t.Errorf("rewrapped key id = %q, %v; want k2", id, err)
	}
	if !bytes.Equal(payloadOf(t, rw), payloadOf(t, oldBlob)) {
		t.Errorf("Rewrap changed the payload ciphertext")
	}
	if len(rw) != len(oldBlob) {
		t.Errorf("rewrapped length %d, old %d (same id length)", len(rw), len(oldBlob))
	}
	if rotated.NeedsRewrap(rw) {
		t.Errorf("NeedsRewrap(rewrapped) = true")
	}
	for name, kr := range map[string]*Keyring{"rotated": rotated, "newOnly": newOnly} {
		if got, err := kr.Open(rw, adBK); err != nil || !bytes.Equal(got, pt) {
			t.Errorf("%s ring opens rewrapped blob: %q, %v", name, got, err)
		}
	}

	// Old key removed: a blob that was not rewrapped is lost.
	if _, err := newOnly.Open(oldBlob, adBK); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old blob after removing k1: err = %v, want ErrUnknownKey", err)
	}
	if _, err := newOnly.Rewrap(oldBlob, adBK); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Rewrap after removing k1: err = %v, want ErrUnknownKey", err)
	}

	// Rewrap under the primary is a no-op copy.
	same, err := rotated.Rewrap(rw, adBK)
	if err != nil || !bytes.Equal(same, rw) {
		t.Errorf("Rewrap of primary blob: changed=%v err=%v", !bytes.Equal(same, rw), err)
	}
	if &same[0] == &rw[0] {
		t.Errorf("Rewrap of primary blob returned its input, want a copy")
	}

	// Rewrap to a longer id keeps the payload and opens.
	long := mustParse(t, spec("k-much-longer-id.2026", 3, "k2", 2))
	rw2, err := long.Rewrap(rw, adBK)
	if err != nil {
		t.Fatalf("Rewrap to long id: %v", err)
	}
	if !bytes.Equal(payloadOf(t, rw2), payloadOf(t, oldBlob)) {
		t.Errorf("Rewrap to long id changed the payload")
	}
	if got, err := long.Open(rw2, adBK); err != nil || !bytes.Equal(got, pt) {
		t.Errorf("Open after second rewrap: %q, %v", got, err)
	}

	// Rewrap refuses a blob whose payload was tampered, even though the DEK
	// unwraps.
	bad := bytes.Clone(oldBlob)
	bad[len(bad)-1] ^= 1
	if _, err := rotated.Rewrap(bad, adBK); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Rewrap of tampered payload: err = %v, want ErrDecrypt", err)
	}
}

func TestKeyIDMalformed(t *testing.T) {
	t.Parallel()
	for _, b := range [][]byte{nil, {}, {1}, {2, 2, 'k', '1'}, bytes.Repeat([]byte{1}, 10)} {
		if _, err := KeyID(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("KeyID(%x): err = %v, want ErrMalformed", b, err)
		}
	}
}

func TestMAC(t *testing.T) {
	t.Parallel()
	a := mustParse(t, spec("k1", 1))
	rotated := mustParse(t, spec("k2", 2, "k1", 1))
	otherKEKs := mustParse(t, spec("x", 5))
	otherMAC, err := Parse(spec("k1", 1), b64(testKey(201)))
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("imp_secret_value_0123456789")
	m := a.MAC(MACImpSecret, data)
	if len(m) != MACSize {
		t.Fatalf("MAC length %d, want %d", len(m), MACSize)
	}
	tests := []struct {
		name string
		got  []byte
		same bool
	}{
		{"repeat", a.MAC(MACImpSecret, data), true},
		{"after KEK rotation", rotated.MAC(MACImpSecret, data), true},
		{"completely different KEKs", otherKEKs.MAC(MACImpSecret, data), true},
		{"other purpose", a.MAC(MACAccessToken, data), false},
		{"other data", a.MAC(MACImpSecret, append(bytes.Clone(data), '!')), false},
		{"other MAC key", otherMAC.MAC(MACImpSecret, data), false},
		{"purpose/data boundary", a.MAC(MACImpSecret+"i", data[1:]), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if Equal(tt.got, m) != tt.same {
				t.Errorf("Equal = %v, want %v", !tt.same, tt.same)
			}
		})
	}
}

// TestMACGolden pins the MAC construction: stored hashes depend on it.
func TestMACGolden(t *testing.T) {
	t.Parallel()
	kr := mustParse(t, spec("k1", 1))
	got := hex.EncodeToString(kr.MAC(MACImpSecret, []byte("abc")))
	const want = "2708353f76053ac5181812f83cbc9268acdb4e73b382bdfc23b0355742178683"
	if got != want {
		t.Fatalf("MAC golden = %s, want %s", got, want)
	}
}

// TestOpenGolden pins the blob format: blobs in the database must keep opening.
// The blob was made by Seal once and checked by an independent implementation
// (Python cryptography: HKDF + AESGCM) following the format in doc.go.
func TestOpenGolden(t *testing.T) {
	t.Parallel()
	kr := mustParse(t, spec("k1", 1))
	blob := goldenBlob(t)
	got, err := kr.Open(blob, adBK)
	if err != nil || string(got) != "golden billing key" {
		t.Fatalf("Open(golden) = %q, %v", got, err)
	}
}

// goldenBlob is "golden billing key" sealed by key "k1" = testKey(1) with adBK.
func goldenBlob(t testing.TB) []byte {
	t.Helper()
	blob, err := hex.DecodeString(
		"01026b3108b99e21217ccadc3233085f817ffdad4c5ffb86be2936b0c0d4e2621391242519c4d4a7623a592e06cd9c6d29f9" +
			"e7ff60f2b2d393fe0da0b05dd9febd92e736e9c05a52e746796b97e59fc0d6f11703679899463b4bb09d5a937de5ba65ea5c0a6322c7a9c5ea2ffed7")
	if err != nil {
		t.Fatal(err)
	}
	return blob
}

func TestEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b []byte
		want bool
	}{
		{[]byte("abc"), []byte("abc"), true},
		{[]byte("abc"), []byte("abd"), false},
		{[]byte("abc"), []byte("ab"), false},
		{nil, nil, false},
		{[]byte{}, []byte{}, false},
		{nil, []byte("a"), false},
		{[]byte("a"), nil, false},
	}
	for _, tt := range tests {
		if got := Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	k1, k2 := b64(testKey(1)), b64(testKey(2))
	short := b64(testKey(1)[:16])
	long := b64(append(testKey(1), 0))
	zero := b64(make([]byte, 32))
	tests := []struct {
		name    string
		spec    string
		mac     string
		wantErr string // substring; "" means success
	}{
		{"ok single", "k1:" + k1, testMAC, ""},
		{"ok two", "k2:" + k2 + ",k1:" + k1, testMAC, ""},
		{"ok long mac", "k1:" + k1, b64(bytes.Repeat(testKey(7), 2)), ""},
		{"empty spec", "", testMAC, "BILLKEY_KEK is empty"},
		{"empty entry", "k1:" + k1 + ",", testMAC, "entry 2 is empty"},
		{"no colon", k1, testMAC, "entry 1 has no ':'"},
		{"empty id", ":" + k1, testMAC, "entry 1: empty key id"},
		{"bad id char", "k 1:" + k1, testMAC, `key id "k 1" has character ' '`},
		{"id too long", strings.Repeat("k", 65) + ":" + k1, testMAC, "key id is 65 bytes, at most 64"},
		{"empty key", "k1:", testMAC, `entry 1 (id "k1"): key is empty`},
		{"bad base64", "k1:" + k1[:10] + "*" + k1[11:], testMAC, `entry 1 (id "k1"): key is not valid standard (padded) base64: bad data at input byte 10`},
		{"url base64 rejected", "k1:" + strings.NewReplacer("+", "-", "/", "_").Replace(b64(bytes.Repeat([]byte{0xfb}, 32))), testMAC, "not valid standard (padded) base64"},
		{"unpadded", "k1:" + strings.TrimRight(k1, "="), testMAC, "not valid standard (padded) base64"},
		{"short key", "k1:" + short, testMAC, `entry 1 (id "k1"): key decodes to 16 bytes, want exactly 32`},
		{"long key", "k1:" + long, testMAC, "key decodes to 33 bytes, want exactly 32"},
		{"zero key", "k1:" + zero, testMAC, "all zero bytes"},
		{"duplicate id", "k1:" + k1 + ",k1:" + k2, testMAC, `entry 2: duplicate key id "k1"`},
		{"duplicate material", "k1:" + k1 + ",k2:" + k1, testMAC, `entry 2 (id "k2"): same key material as id "k1"`},
		{"empty mac", "k1:" + k1, "", "BILLKEY_MAC_KEY is empty"},
		{"bad mac base64", "k1:" + k1, "!!!!", "BILLKEY_MAC_KEY: key is not valid standard (padded) base64"},
		{"short mac", "k1:" + k1, short, "BILLKEY_MAC_KEY: key decodes to 16 bytes, want at least 32"},
		{"zero mac", "k1:" + k1, zero, "BILLKEY_MAC_KEY: key is all zero bytes"},
		{"mac equals kek", "k1:" + k1, k1, `MAC key must differ from KEK "k1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kr, err := Parse(tt.spec, tt.mac)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if kr.PrimaryID() != strings.Split(tt.spec, ":")[0] {
					t.Errorf("PrimaryID = %q", kr.PrimaryID())
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tt.wantErr)
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("error %v does not wrap ErrConfig", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
			}
			for _, s := range []string{k1, k2, short, long, testMAC, k1[:12], k1[11:]} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q leaks key material", err)
				}
			}
		})
	}
}

func TestRedaction(t *testing.T) {
	t.Parallel()
	kr := mustParse(t, spec("k2", 2, "k1", 1))
	var secrets []string
	for _, k := range [][]byte{testKey(1), testKey(2), testKey(200)} {
		secrets = append(secrets, b64(k), hex.EncodeToString(k), fmt.Sprint(k[:4])[1:10], string(k[:8]))
	}
	type holder struct {
		ring  *Keyring
		Ring  *Keyring
		value Keyring
		Value Keyring
	}
	h := holder{kr, kr, *kr, *kr}
	var outs []string
	for _, v := range []any{kr, *kr, h, &h, []any{h}, map[string]holder{"h": h}} {
		for _, f := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q"} {
			outs = append(outs, fmt.Sprintf(f, v))
		}
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("boot", "keyring", kr)
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("boot", "keyring", kr)
	js, _ := json.Marshal(kr)
	outs = append(outs, kr.String(), kr.GoString(), logBuf.String(), string(js))
	for _, o := range outs {
		for _, s := range secrets {
			if strings.Contains(o, s) {
				t.Fatalf("output %q leaks key material %q", o, s)
			}
		}
	}
	if s := kr.String(); !strings.Contains(s, "redacted") || !strings.Contains(s, "k2") {
		t.Errorf("String = %q", s)
	}
	if !strings.Contains(logBuf.String(), `"primary":"k2"`) || !strings.Contains(logBuf.String(), "redacted") {
		t.Errorf("log output = %s", logBuf.String())
	}
	var nilRing *Keyring
	if s := fmt.Sprint(nilRing); !strings.Contains(s, "empty") {
		t.Errorf("nil keyring prints %q", s)
	}
	if _, err := nilRing.Seal([]byte("x"), adBK); err == nil {
		t.Errorf("Seal on nil keyring succeeded")
	}
	if _, err := nilRing.Open([]byte("x"), adBK); err == nil {
		t.Errorf("Open on nil keyring succeeded")
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	kr := mustParse(t, spec("k2", 2, "k1", 1))
	old := mustParse(t, spec("k1", 1))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			ad := AD{Purpose: fmt.Sprintf("p%d", g%3), MerchantID: int64(g), Subject: "s"}
			for i := range 50 {
				pt := []byte(fmt.Sprintf("g%d-i%d", g, i))
				ob, err := old.Seal(pt, ad)
				if err != nil {
					t.Error(err)
					return
				}
				b, err := kr.Rewrap(ob, ad)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := kr.Open(b, ad); err != nil || !bytes.Equal(got, pt) {
					t.Errorf("Open = %q, %v", got, err)
					return
				}
				_ = kr.MAC(ad.Purpose, pt)
			}
		})
	}
	wg.Wait()
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("file modes are Unix-only")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")

	kr, err := GenerateFile(path)
	if err != nil {
		t.Fatalf("GenerateFile: %v", err)
	}
	if m := fileMode(t, path); m != 0o600 {
		t.Errorf("generated file mode = %#o, want 0600", m)
	}
	id := kr.PrimaryID()
	if len(id) != 9 || id[0] != 'k' {
		t.Errorf("generated id %q, want k + 8 hex", id)
	} else if _, err := hex.DecodeString(id[1:]); err != nil {
		t.Errorf("generated id %q, want k + 8 hex", id)
	}
	before, _ := os.ReadFile(path)
	if _, err := GenerateFile(path); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second GenerateFile: err = %v, want refusal", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("second GenerateFile changed the file")
	}

	loaded, err := LoadFile(path)
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	if loaded.PrimaryID() != id || len(loaded.IDs()) != 1 {
		t.Errorf("loaded ids %v, want [%s]", loaded.IDs(), id)
	}
	pt := []byte("billing key")
	blob := mustSeal(t, kr, pt, adBK)
	if got, err := loaded.Open(blob, adBK); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("loaded ring opens blob: %q, %v", got, err)
	}
	mac := kr.MAC(MACAccessToken, []byte("tok"))
	if !Equal(loaded.MAC(MACAccessToken, []byte("tok")), mac) {
		t.Errorf("MAC differs after LoadFile")
	}

	newID, err := RotateFile(path)
	if err != nil {
		t.Fatalf("RotateFile: %v", err)
	}
	if m := fileMode(t, path); m != 0o600 {
		t.Errorf("rotated file mode = %#o, want 0600", m)
	}
	rot, err := LoadFile(path)
	if err != nil {
		t.Fatalf("LoadFile after rotate: %v", err)
	}
	if newID == id || rot.PrimaryID() != newID || strings.Join(rot.IDs(), ",") != newID+","+id {
		t.Errorf("after rotate: newID %q, ids %v", newID, rot.IDs())
	}
	if got, err := rot.Open(blob, adBK); err != nil || !bytes.Equal(got, pt) {
		t.Errorf("rotated ring opens old blob: %q, %v", got, err)
	}
	if !Equal(rot.MAC(MACAccessToken, []byte("tok")), mac) {
		t.Errorf("MAC changed across RotateFile")
	}
	if !rot.NeedsRewrap(blob) {
		t.Errorf("old blob does not need rewrap after rotate")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("leftover files after rotate: %v", names)
	}

	// A leftover lock blocks rotation.
	if err := os.WriteFile(path+".lock", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := RotateFile(path); err == nil || !strings.Contains(err.Error(), "lock file") {
		t.Errorf("RotateFile with lock present: err = %v", err)
	}
	os.Remove(path + ".lock")

	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o601} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadFile(path); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "must not be accessible by group or others") {
			t.Errorf("LoadFile of mode %#o: err = %v, want refusal", mode, err)
		}
		if _, err := RotateFile(path); err == nil {
			t.Errorf("RotateFile of mode %#o succeeded", mode)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(path); err != nil {
		t.Errorf("LoadFile of mode 0400: %v", err)
	}
}

func TestLoadFileErrors(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("file modes are Unix-only")
	}
	k1, k2 := b64(testKey(1)), b64(testKey(2))
	tests := []struct {
		name, content, wantErr string
	}{
		{"ok", `{"version":1,"keks":[{"id":"a","key":"` + k1 + `"},{"id":"b","key":"` + k2 + `"}],"mac_key":"` + testMAC + `"}`, ""},
		{"not json", `version=1 ` + k1, "syntax error at byte"},
		{"truncated", `{"version":1,"keks":[`, "truncated"},
		{"trailing", `{"version":1,"keks":[{"id":"a","key":"` + k1 + `"}],"mac_key":"` + testMAC + `"} {}`, "trailing data"},
		{"unknown field", `{"version":1,"kek":[],"mac_key":"` + testMAC + `"}`, `unknown field "kek"`},
		{"wrong type", `{"version":"1"}`, `wrong type for field "version"`},
		{"version", `{"version":2,"keks":[{"id":"a","key":"` + k1 + `"}],"mac_key":"` + testMAC + `"}`, "version 2, want 1"},
		{"no keks", `{"version":1,"keks":[],"mac_key":"` + testMAC + `"}`, "no KEK"},
		{"dup id", `{"version":1,"keks":[{"id":"a","key":"` + k1 + `"},{"id":"a","key":"` + k2 + `"}],"mac_key":"` + testMAC + `"}`, `keks[1]: duplicate key id "a"`},
		{"bad key", `{"version":1,"keks":[{"id":"a","key":"` + k1[:21] + `"}],"mac_key":"` + testMAC + `"}`, `keks[0] (id "a"): key is not valid`},
		{"short key", `{"version":1,"keks":[{"id":"a","key":"` + k1[:20] + `"}],"mac_key":"` + testMAC + `"}`, `keks[0] (id "a"): key decodes to 15 bytes, want exactly 32`},
		{"no mac", `{"version":1,"keks":[{"id":"a","key":"` + k1 + `"}]}`, "mac_key: key is empty"},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, fmt.Sprintf("k%d.json", i))
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadFile(path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("LoadFile: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("LoadFile: err = %v, want ErrConfig containing %q", err, tt.wantErr)
			}
			for _, s := range []string{k1, k2, testMAC, k1[:20], k1[:21]} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error leaks key material: %v", err)
				}
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		if _, err := LoadFile(filepath.Join(dir, "nope.json")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want ErrNotExist", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		t.Parallel()
		if _, err := LoadFile(dir); !errors.Is(err, ErrConfig) {
			t.Errorf("err = %v, want ErrConfig", err)
		}
	})
}

// FuzzOpen feeds arbitrary blobs to the decoder. Nothing may panic, every
// error must be one of the package's sentinels, and nothing but the valid
// seeds may open.
func FuzzOpen(f *testing.F) {
	kr, err := Parse(spec("k2", 2, "k1", 1), testMAC)
	if err != nil {
		f.Fatal(err)
	}
	old, _ := Parse(spec("k1", 1), testMAC)
	pt := []byte("fuzz billing key")
	valid, _ := kr.Seal(pt, adBK)
	oldValid, _ := old.Seal(pt, adBK)
	empty, _ := kr.Seal(nil, adBK)
	f.Add(valid)
	f.Add(goldenBlob(f))
	f.Add(oldValid)
	f.Add(empty)
	f.Add([]byte{})
	f.Add([]byte{FormatV1})
	f.Add(valid[:minBlobSize])
	f.Add(append([]byte{FormatV1, 0xff}, valid[2:]...))
	f.Add(append([]byte{FormatV1, 0}, valid[2:]...))
	f.Add(append([]byte{2}, valid[1:]...))
	f.Add(append([]byte{FormatV1, 2, 'k', '9'}, valid[4:]...))
	f.Fuzz(func(t *testing.T, blob []byte) {
		in := bytes.Clone(blob)
		got, err := kr.Open(blob, adBK)
		if !bytes.Equal(in, blob) {
			t.Fatalf("Open modified its input")
		}
		if err == nil {
			// Seeds are re-sealed in every fuzz worker process, so compare
			// plaintexts (all seeds hold one of these), not blob bytes.
			if !bytes.Equal(got, pt) && len(got) != 0 && string(got) != "golden billing key" {
				t.Fatalf("forged blob opened: %x -> %q", blob, got)
			}
		} else if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrDecrypt) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		id, kerr := KeyID(blob)
		if kerr == nil && (len(id) == 0 || len(id) > maxIDLen) {
			t.Fatalf("KeyID = %q", id)
		}
		if kerr != nil && err == nil {
			t.Fatalf("KeyID fails (%v) but Open succeeded", kerr)
		}
		_ = kr.NeedsRewrap(blob)
		rw, rerr := kr.Rewrap(blob, adBK)
		if (rerr == nil) != (err == nil) {
			t.Fatalf("Rewrap err %v but Open err %v", rerr, err)
		}
		if rerr == nil {
			if got2, err := kr.Open(rw, adBK); err != nil || !bytes.Equal(got2, got) {
				t.Fatalf("rewrapped blob: %q, %v", got2, err)
			}
		}
	})
}

func benchRing(b *testing.B) *Keyring {
	kr, err := Parse(spec("k3f9a01c2", 1), testMAC)
	if err != nil {
		b.Fatal(err)
	}
	return kr
}

var benchSizes = []int{32, 1024}

func BenchmarkSeal(b *testing.B) {
	kr := benchRing(b)
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dB", n), func(b *testing.B) {
			pt := make([]byte, n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := kr.Seal(pt, adBK); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	kr := benchRing(b)
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dB", n), func(b *testing.B) {
			blob, err := kr.Seal(make([]byte, n), adBK)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := kr.Open(blob, adBK); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMAC(b *testing.B) {
	kr := benchRing(b)
	data := []byte("0123456789abcdef0123456789abcdef01234567")
	b.ReportAllocs()
	for b.Loop() {
		_ = kr.MAC(MACAccessToken, data)
	}
}
