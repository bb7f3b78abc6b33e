// Package vault protects billkey's stored secrets: it envelope-encrypts
// billing keys and channel credentials (AES-256-GCM), and computes keyed
// hashes (HMAC-SHA256) of high-entropy secrets that are only ever compared,
// never read back (imp_secret, access tokens, webhook secrets, idempotency
// material).
//
// # Keys
//
// A [Keyring] holds one or more master keys (KEKs, 32 bytes each, with a short
// id such as "k1" or "k3f9a01c2") and one MAC key (at least 32 bytes). The
// first KEK is the primary: [Keyring.Seal] and [Keyring.Rewrap] wrap under it;
// [Keyring.Open] accepts any KEK in the ring, chosen by the id in the blob.
//
// A KEK never encrypts anything directly. For every purpose (AD.Purpose, e.g.
// [PurposeBillingKey], [PurposeChannelSecret]) a wrapping subkey is derived:
//
//	subkey = HKDF-SHA256(secret=KEK, salt=none, info="billkey/vault/v1 kek-wrap purpose=" + purpose, 32 bytes)
//
// so billing keys and channel secrets are wrapped under different keys even
// with one KEK.
//
// The keyring comes from the environment via [Parse] (BILLKEY_KEK =
// "id:base64key[,id:base64key...]", primary first; BILLKEY_MAC_KEY = base64 of
// at least 32 bytes), or from a JSON key file via [LoadFile], created by
// [GenerateFile] and rotated by [RotateFile]:
//
//	{
//	  "version": 1,
//	  "keks": [
//	    {"id": "k3f9a01c2", "key": "<base64 32 bytes>", "created": "2026-05-01T00:00:00Z"},
//	    {"id": "k0a1b2c3d", "key": "<base64 32 bytes>", "created": "2025-11-01T00:00:00Z"}
//	  ],
//	  "mac_key": "<base64 32 bytes>"
//	}
//
// keks[0] is the primary. The file must be mode 0600 (LoadFile refuses any
// group/other permission bit). A Keyring never shows key material: String,
// GoString, Format and LogValue print ids only, and error messages name ids,
// positions and paths but never keys.
//
// # Blob format (version 1)
//
//	offset        size     field
//	0             1        version = 0x01
//	1             1        n = len(key id), 1..64
//	2             n        key id (ASCII), the KEK that wraps the DEK
//	2+n           60       wrapped DEK: nonce(12) | AES-256-GCM(subkey, DEK(32)) | tag(16)
//	62+n          rest     payload:     nonce(12) | AES-256-GCM(DEK, plaintext)   | tag(16)
//
// Overhead is 90+n bytes (99 for a generated 9-character id). The DEK is 32
// fresh random bytes per Seal; both nonces are random (NewGCMWithRandomNonce).
//
// The associated data [AD] binds a blob to its owner and is not stored. It is
// encoded without ambiguity as
//
//	ad = u32be len(Purpose) | Purpose | i64be MerchantID | u32be len(Subject) | Subject
//
// and authenticated by both GCM operations:
//
//	wrap AAD    = "billkey/vault/v1 wrap\x00"    | version | n | key id | ad
//	payload AAD = "billkey/vault/v1 payload\x00" | version | ad
//
// Opening a blob with another merchant id, customer_uid, channel id or purpose
// fails with [ErrDecrypt], so a database row copied onto another owner is
// useless. The payload AAD leaves out the key id on purpose: that is what lets
// Rewrap change the KEK without touching the payload.
//
// Errors: [ErrMalformed] (cannot be parsed), [ErrUnknownKey] (KEK id not in the
// ring), [ErrDecrypt] (authentication failed), [ErrInvalidAD] (empty Purpose).
// They are wrapped; test with errors.Is. No input makes Open panic.
//
// # Rotating KEKs
//
// Rotation needs no downtime and no decryption of data at rest:
//
//  1. Add the new KEK as the primary, keeping every old KEK:
//     RotateFile (key file), or put "new:..." first in BILLKEY_KEK.
//     With several instances, first deploy the new KEK as a secondary
//     ("old:...,new:...") everywhere, then promote it ("new:...,old:...");
//     otherwise an instance still on the old ring cannot open blobs the
//     updated ones have sealed. (RotateFile makes the new KEK primary at once,
//     so with a shared key file reload all instances together, or rotate
//     during a window in which nothing seals.)
//  2. Restart or reload: new blobs are wrapped under the new KEK; old blobs
//     still open, since the old KEK is in the ring.
//  3. Re-wrap old rows in the background: for each row where
//     [Keyring.NeedsRewrap] is true, store [Keyring.Rewrap] of the blob.
//     Rewrap authenticates the blob, then replaces only the header and the
//     60-byte wrapped DEK; the payload bytes are unchanged. Rows can be
//     updated one by one while the service runs (use compare-and-swap on the
//     old blob to avoid racing a concurrent update of the same row).
//  4. When no row reports NeedsRewrap (check with [KeyID]), remove the old
//     KEK from the ring. A blob still under a removed KEK then fails with
//     [ErrUnknownKey].
//
// A random-nonce GCM key must not wrap more than 2^32 DEKs; rotate well before
// that many Seals under one KEK and purpose.
//
// # The MAC key
//
// [Keyring.MAC] is HMAC-SHA256 under the MAC key of
// "billkey/vault/v1 mac\x00" | u32be len(purpose) | purpose | data; compare
// results with [Equal] (constant time). The MAC key is deliberately separate
// from the KEKs: stored hashes are looked up by recomputing the MAC, so if the
// MAC depended on the primary KEK every stored hash would stop matching at
// each KEK rotation. The MAC key is therefore never rotated by RotateFile;
// changing it invalidates every stored hash (all API secrets, tokens and
// webhook secrets must then be re-issued). Keep it as secret as the KEKs: with
// it, an attacker holding the database could test guesses of the hashed
// values. MAC suits only high-entropy inputs; it is not a password hash.
package vault
