package vault

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// MinReloadInterval is how often, at most, a [FileKeys] re-reads its key
// file because a blob named a key id it does not know.
const MinReloadInterval = time.Second

// FileKeys is the keyring of a key file that follows the file: when a blob
// names a key id the loaded keyring does not know (another process ran
// "billkey keys rotate", which adds a key and re-wraps blobs under it), it
// re-reads the file and tries again. Re-reads are rate-limited (one per
// MinReloadInterval, whatever the concurrency: callers that arrive during a
// re-read wait for it and then use its result) and accepted only when the
// new file keeps the MAC key (which tokens and API secrets depend on).
//
// It adapts to the billkey.Sealer and gateway.Keys interfaces like [Owned],
// and is safe for concurrent use.
type FileKeys struct {
	path string
	cur  atomic.Pointer[Keyring]

	mu         sync.Mutex
	lastReload time.Time
	// Now returns the current time; tests may replace it before use.
	Now func() time.Time
	// OnReload, when set, is told about every re-read (nil error: the
	// keyring was replaced), for logging.
	OnReload func(ids []string, err error)
}

// OpenFileKeys loads the key file at path (see [LoadFile]).
func OpenFileKeys(path string) (*FileKeys, error) {
	kr, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	f := &FileKeys{path: path, Now: time.Now}
	f.cur.Store(kr)
	return f, nil
}

// Keyring returns the keyring loaded last.
func (f *FileKeys) Keyring() *Keyring { return f.cur.Load() }

// PrimaryID returns the id of the current primary KEK.
func (f *FileKeys) PrimaryID() string { return f.Keyring().PrimaryID() }

// MAC computes a keyed MAC (see [Keyring.MAC]).
func (f *FileKeys) MAC(purpose string, data []byte) []byte { return f.Keyring().MAC(purpose, data) }

// Seal seals plaintext under the current primary KEK.
func (f *FileKeys) Seal(plaintext []byte, purpose string, merchantID int64, subject string) ([]byte, error) {
	return Owned{f.Keyring()}.Seal(plaintext, purpose, merchantID, subject)
}

// Open opens a blob, re-reading the key file once if the blob's key id is
// unknown.
func (f *FileKeys) Open(blob []byte, purpose string, merchantID int64, subject string) ([]byte, error) {
	out, err := Owned{f.Keyring()}.Open(blob, purpose, merchantID, subject)
	if errors.Is(err, ErrUnknownKey) && f.reloadFor(blob) {
		return Owned{f.Keyring()}.Open(blob, purpose, merchantID, subject)
	}
	return out, err
}

// Rewrap re-wraps a blob under the current primary KEK, re-reading the key
// file once if the blob's key id is unknown.
func (f *FileKeys) Rewrap(blob []byte, purpose string, merchantID int64, subject string) ([]byte, error) {
	out, err := Owned{f.Keyring()}.Rewrap(blob, purpose, merchantID, subject)
	if errors.Is(err, ErrUnknownKey) && f.reloadFor(blob) {
		return Owned{f.Keyring()}.Rewrap(blob, purpose, merchantID, subject)
	}
	return out, err
}

// reloadFor re-reads the key file unless the keyring already knows the
// blob's key id (a concurrent caller re-read it) or the last re-read is less
// than MinReloadInterval ago. It reports whether the keyring now knows the id.
func (f *FileKeys) reloadFor(blob []byte) bool {
	id, err := KeyID(blob)
	if err != nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := f.Keyring()
	if cur.find(id) != nil {
		return true
	}
	now := f.Now()
	if !f.lastReload.IsZero() && now.Sub(f.lastReload) < MinReloadInterval && !now.Before(f.lastReload) {
		return false
	}
	f.lastReload = now
	next, err := LoadFile(f.path)
	if err == nil && !sameMACKey(cur, next) {
		err = fmt.Errorf("%w: key file %s: its MAC key changed; restart billkey to use it", ErrConfig, f.path)
	}
	if f.OnReload != nil {
		var ids []string
		if err == nil {
			ids = next.IDs()
		}
		f.OnReload(ids, err)
	}
	if err != nil {
		return false
	}
	f.cur.Store(next)
	return next.find(id) != nil
}

// sameMACKey compares two keyrings' MAC keys without exposing them.
func sameMACKey(a, b *Keyring) bool {
	const probe = "billkey/vault/v1 reload-probe"
	return subtle.ConstantTimeCompare(a.MAC(probe, nil), b.MAC(probe, nil)) == 1
}
