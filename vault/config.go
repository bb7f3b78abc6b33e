package vault

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// ErrConfig is wrapped by every configuration error from [Parse], [LoadFile],
// [GenerateFile] and [RotateFile] that is caused by bad key material or a bad
// key file (as opposed to I/O errors). Messages name ids, entry positions and
// paths, never key material.
var ErrConfig = errors.New("vault: bad key configuration")

// Environment variable names conventionally holding the arguments of [Parse].
const (
	EnvKEK    = "BILLKEY_KEK"     // "id:base64key[,id:base64key...]", first is primary
	EnvMACKey = "BILLKEY_MAC_KEY" // base64 of at least 32 random bytes
)

// MinMACKeySize is the minimum MAC key length in bytes.
const MinMACKeySize = 32

const maxKeyFileSize = 1 << 20

type keyEntry struct {
	where string // e.g. `BILLKEY_KEK entry 2` or `keks[1]`
	id    string
	b64   string
}

func validID(id string) error {
	if id == "" {
		return errors.New("empty key id")
	}
	if len(id) > maxIDLen {
		return fmt.Errorf("key id is %d bytes, at most %d allowed", len(id), maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("key id %q has character %q at byte %d; allowed: A-Z a-z 0-9 - _ .", id, c, i)
		}
	}
	return nil
}

// decodeKey decodes standard padded base64. The error never contains input.
func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("key is empty")
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("key is not valid standard (padded) base64: bad data at input byte %d", int64(ce))
		}
		return nil, errors.New("key is not valid standard (padded) base64")
	}
	return b, nil
}

func allZero(b []byte) bool {
	var acc byte
	for _, c := range b {
		acc |= c
	}
	return acc == 0
}

// build validates entries and the MAC key and makes a Keyring.
func build(src string, entries []keyEntry, macWhere, macB64 string) (*Keyring, error) {
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w: %s: no KEK", ErrConfig, src)
	}
	keks := make([]kek, 0, len(entries))
	for _, e := range entries {
		if err := validID(e.id); err != nil {
			return nil, fmt.Errorf("%w: %s: %s: %v", ErrConfig, src, e.where, err)
		}
		key, err := decodeKey(e.b64)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %s (id %q): %v", ErrConfig, src, e.where, e.id, err)
		}
		if len(key) != kekSize {
			return nil, fmt.Errorf("%w: %s: %s (id %q): key decodes to %d bytes, want exactly %d", ErrConfig, src, e.where, e.id, len(key), kekSize)
		}
		if allZero(key) {
			return nil, fmt.Errorf("%w: %s: %s (id %q): key is all zero bytes", ErrConfig, src, e.where, e.id)
		}
		for _, o := range keks {
			if o.id == e.id {
				return nil, fmt.Errorf("%w: %s: %s: duplicate key id %q", ErrConfig, src, e.where, e.id)
			}
			if subtle.ConstantTimeCompare(o.key, key) == 1 {
				return nil, fmt.Errorf("%w: %s: %s (id %q): same key material as id %q", ErrConfig, src, e.where, e.id, o.id)
			}
		}
		keks = append(keks, kek{id: e.id, key: key})
	}
	mac, err := decodeKey(macB64)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, macWhere, err)
	}
	if len(mac) < MinMACKeySize {
		return nil, fmt.Errorf("%w: %s: key decodes to %d bytes, want at least %d", ErrConfig, macWhere, len(mac), MinMACKeySize)
	}
	if allZero(mac) {
		return nil, fmt.Errorf("%w: %s: key is all zero bytes", ErrConfig, macWhere)
	}
	for _, o := range keks {
		if subtle.ConstantTimeCompare(o.key, mac) == 1 {
			return nil, fmt.Errorf("%w: %s: MAC key must differ from KEK %q", ErrConfig, macWhere, o.id)
		}
	}
	return newKeyring(keks, mac), nil
}

// Parse builds a keyring from kekSpec, "id:base64key[,id:base64key...]" with
// the primary KEK first (env BILLKEY_KEK), and macKey, the standard base64 of
// at least 32 bytes (env BILLKEY_MAC_KEY). Each KEK must decode to exactly 32
// bytes; ids are 1-64 characters of A-Z a-z 0-9 - _ . and unique. Errors wrap
// [ErrConfig] and never include key material.
func Parse(kekSpec, macKey string) (*Keyring, error) {
	if kekSpec == "" {
		return nil, fmt.Errorf("%w: %s is empty; want id:base64key[,id:base64key...]", ErrConfig, EnvKEK)
	}
	parts := strings.Split(kekSpec, ",")
	entries := make([]keyEntry, len(parts))
	for i, p := range parts {
		where := fmt.Sprintf("entry %d", i+1)
		if p == "" {
			return nil, fmt.Errorf("%w: %s: %s is empty (stray comma?)", ErrConfig, EnvKEK, where)
		}
		id, key, ok := strings.Cut(p, ":")
		if !ok {
			return nil, fmt.Errorf("%w: %s: %s has no ':' between key id and key", ErrConfig, EnvKEK, where)
		}
		entries[i] = keyEntry{where: where, id: id, b64: key}
	}
	if macKey == "" {
		return nil, fmt.Errorf("%w: %s is empty", ErrConfig, EnvMACKey)
	}
	return build(EnvKEK, entries, EnvMACKey, macKey)
}

// keyFile is the JSON key file. keks[0] is primary.
type keyFile struct {
	Version int       `json:"version"`
	KEKs    []fileKEK `json:"keks"`
	MACKey  string    `json:"mac_key"`
}

type fileKEK struct {
	ID      string `json:"id"`
	Key     string `json:"key"`
	Created string `json:"created,omitempty"`
}

func (f *keyFile) keyring(path string) (*Keyring, error) {
	src := "key file " + path
	if f.Version != 1 {
		return nil, fmt.Errorf("%w: %s: version %d, want 1", ErrConfig, src, f.Version)
	}
	entries := make([]keyEntry, len(f.KEKs))
	for i, e := range f.KEKs {
		entries[i] = keyEntry{where: fmt.Sprintf("keks[%d]", i), id: e.ID, b64: e.Key}
	}
	return build(src, entries, src+": mac_key", f.MACKey)
}

// readKeyFile reads and strictly decodes a key file after checking that it is
// a regular file not accessible by group or others.
func readKeyFile(path string) (*keyFile, *Keyring, error) {
	// Refuse FIFOs and devices before opening (opening a FIFO blocks).
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%w: key file %s is not a regular file", ErrConfig, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("vault: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("vault: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%w: key file %s is not a regular file", ErrConfig, path)
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, nil, fmt.Errorf("%w: key file %s has mode %#o; it must not be accessible by group or others (chmod 600 %s)", ErrConfig, path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("vault: read key file: %w", err)
	}
	if len(data) > maxKeyFileSize {
		return nil, nil, fmt.Errorf("%w: key file %s is larger than %d bytes", ErrConfig, path, maxKeyFileSize)
	}
	var kf keyFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&kf); err != nil {
		// json errors can quote input; report only the kind and offset.
		return nil, nil, fmt.Errorf("%w: key file %s is not valid key-file JSON (%s)", ErrConfig, path, jsonErrKind(err, dec))
	}
	if dec.More() {
		return nil, nil, fmt.Errorf("%w: key file %s has trailing data after the JSON object", ErrConfig, path)
	}
	kr, err := kf.keyring(path)
	if err != nil {
		return nil, nil, err
	}
	return &kf, kr, nil
}

// jsonErrKind describes a JSON decode error without quoting file contents.
func jsonErrKind(err error, dec *json.Decoder) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("wrong type for field %q", te.Field)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ") // field names are not secret
	default:
		return fmt.Sprintf("decode error near byte %d", dec.InputOffset())
	}
}

// LoadFile reads a JSON key file written by [GenerateFile] or [RotateFile].
// It refuses a file that is not a regular file or whose mode grants any
// permission to group or others (on Unix).
func LoadFile(path string) (*Keyring, error) {
	_, kr, err := readKeyFile(path)
	return kr, err
}

func newFileKEK(taken func(string) bool) fileKEK {
	var id string
	for {
		var b [4]byte
		_, _ = rand.Read(b[:])
		id = "k" + hex.EncodeToString(b[:])
		if !taken(id) {
			break
		}
	}
	key := make([]byte, kekSize)
	_, _ = rand.Read(key)
	return fileKEK{ID: id, Key: base64.StdEncoding.EncodeToString(key), Created: time.Now().UTC().Format(time.RFC3339)}
}

func marshalKeyFile(kf *keyFile) []byte {
	b, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		panic(err) // plain strings and ints cannot fail
	}
	return append(b, '\n')
}

// GenerateFile creates a new key file at path with one random primary KEK
// (id "k" + 8 hex characters) and a random 32-byte MAC key, mode 0600. It
// refuses to overwrite an existing file (O_EXCL).
func GenerateFile(path string) (*Keyring, error) {
	mac := make([]byte, MinMACKeySize)
	_, _ = rand.Read(mac)
	kf := &keyFile{
		Version: 1,
		KEKs:    []fileKEK{newFileKEK(func(string) bool { return false })},
		MACKey:  base64.StdEncoding.EncodeToString(mac),
	}
	kr, err := kf.keyring(path)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("vault: key file %s already exists; refusing to overwrite it", path)
		}
		return nil, fmt.Errorf("vault: %w", err)
	}
	err = writeSyncClose(f, marshalKeyFile(kf))
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("vault: write key file: %w", err)
	}
	return kr, nil
}

// RotateFile adds a new random KEK to the key file at path and makes it the
// primary; old KEKs and the MAC key are kept. The file is replaced atomically
// (temporary file with mode 0600 in the same directory, fsync, rename, fsync
// of the directory). A lock file path+".lock" (O_EXCL) keeps two rotations
// from losing a key; if a crash leaves it behind, remove it by hand.
func RotateFile(path string) (newID string, err error) {
	lock := path + ".lock"
	lf, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("vault: lock file %s exists: another rotation is running, or one crashed (then remove the lock file)", lock)
		}
		return "", fmt.Errorf("vault: %w", err)
	}
	_ = lf.Close()
	defer os.Remove(lock)

	kf, kr, err := readKeyFile(path)
	if err != nil {
		return "", err
	}
	taken := map[string]bool{}
	for _, id := range kr.IDs() {
		taken[id] = true
	}
	nk := newFileKEK(func(id string) bool { return taken[id] })
	kf.KEKs = append([]fileKEK{nk}, kf.KEKs...)
	if _, err := kf.keyring(path); err != nil {
		return "", err
	}
	if err := writeAtomic(path, marshalKeyFile(kf)); err != nil {
		return "", fmt.Errorf("vault: replace key file: %w", err)
	}
	return nk.ID, nil
}

func writeSyncClose(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			_ = os.Remove(name)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		_ = tmp.Close()
		return err
	}
	if err := writeSyncClose(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

// syncDir makes a create or rename in dir durable (no-op on Windows).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
