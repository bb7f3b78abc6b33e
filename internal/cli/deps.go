package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/billkey/billkey/sqlstore"
	"github.com/billkey/billkey/vault"
)

// keys is the loaded keyring and whether it was configured explicitly
// (BILLKEY_KEK or a named key file) rather than generated in the data folder.
type keys struct {
	Owned    sealer
	Explicit bool
	Source   string
}

// sealer is what billkey needs of its master keys: a fixed keyring
// (vault.Owned, from BILLKEY_KEK) or a key file that follows rotations
// (*vault.FileKeys).
type sealer interface {
	Seal(plaintext []byte, purpose string, merchantID int64, subject string) ([]byte, error)
	Open(blob []byte, purpose string, merchantID int64, subject string) ([]byte, error)
	Rewrap(blob []byte, purpose string, merchantID int64, subject string) ([]byte, error)
	MAC(purpose string, data []byte) []byte
	PrimaryID() string
}

// Rewrap re-wraps a blob under the primary master key.
func (k *keys) Rewrap(blob []byte, purpose string, merchantID int64, subject string) ([]byte, error) {
	return k.Owned.Rewrap(blob, purpose, merchantID, subject)
}

// PrimaryID is the id of the primary master key.
func (k *keys) PrimaryID() string { return k.Owned.PrimaryID() }

// fileKeys opens a key file that a running node re-reads when another
// process rotates it (billkey keys rotate).
func fileKeys(path string, stderr io.Writer) (*vault.FileKeys, error) {
	fk, err := vault.OpenFileKeys(path)
	if err != nil {
		return nil, err
	}
	fk.OnReload = func(ids []string, err error) {
		if err != nil {
			fmt.Fprintf(stderr, "billkey: re-reading master key file %s after an unknown key id failed: %v\n", path, err)
			return
		}
		fmt.Fprintf(stderr, "billkey: master key file %s re-read (a key id was unknown); primary key now %s\n", path, ids[0])
	}
	return fk, nil
}

// loadKeys loads the master keys: BILLKEY_KEK and BILLKEY_MAC_KEY when set,
// else the key file, generating it on first start (loudly) when it is the
// default one in the data folder.
func loadKeys(c *config, keyFileExplicit bool, stderr io.Writer) (*keys, error) {
	if kek := getenv(vault.EnvKEK); kek != "" {
		ring, err := vault.Parse(kek, getenv(vault.EnvMACKey))
		if err != nil {
			return nil, fmt.Errorf("BILLKEY_KEK/BILLKEY_MAC_KEY: %w", err)
		}
		return &keys{Owned: vault.Owned{Keyring: ring}, Explicit: true, Source: "env BILLKEY_KEK"}, nil
	}
	fk, err := fileKeys(c.KeyFile, stderr)
	if err == nil {
		return &keys{Owned: fk, Explicit: keyFileExplicit, Source: c.KeyFile}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) || keyFileExplicit {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(c.KeyFile), 0o700); err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	_, err = vault.GenerateFile(c.KeyFile)
	if errors.Is(err, fs.ErrExist) {
		// Another process generated it first.
		err = nil
	} else if err == nil {
		fmt.Fprintf(stderr, "\n"+
			"!!! billkey generated a NEW MASTER KEY at %s (mode 0600).\n"+
			"!!! It encrypts every billing key and channel secret: back it up, or they are lost.\n"+
			"!!! This is for test mode. Live channels refuse to run without an explicit key\n"+
			"!!! (--key-file / BILLKEY_KEY_FILE, or BILLKEY_KEK and BILLKEY_MAC_KEY).\n\n", c.KeyFile)
	}
	if err == nil {
		fk, err = fileKeys(c.KeyFile, stderr)
	}
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return &keys{Owned: fk, Source: c.KeyFile}, nil
}

// openStore opens the database (creating the data folder for a default
// SQLite file) with the keys.
func openStore(ctx context.Context, c *config, k *keys) (*sqlstore.Store, error) {
	if !sqlstore.IsPostgres(c.DB) {
		if err := os.MkdirAll(filepath.Dir(c.DB), 0o700); err != nil {
			return nil, fmt.Errorf("data folder: %w", err)
		}
	}
	return sqlstore.Open(ctx, c.DB, k.Owned)
}
