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
	vault.Owned
	Explicit bool
	Source   string
}

// loadKeys loads the master keys: BILLKEY_KEK and BILLKEY_MAC_KEY when set,
// else the key file, generating it on first start (loudly) when it is the
// default one in the data folder.
func loadKeys(c *config, keyFileExplicit bool, stderr io.Writer) (*keys, error) {
	if kek := os.Getenv("BILLKEY_KEK"); kek != "" {
		ring, err := vault.Parse(kek, os.Getenv("BILLKEY_MAC_KEY"))
		if err != nil {
			return nil, fmt.Errorf("BILLKEY_KEK/BILLKEY_MAC_KEY: %w", err)
		}
		return &keys{Owned: vault.Owned{Keyring: ring}, Explicit: true, Source: "env BILLKEY_KEK"}, nil
	}
	ring, err := vault.LoadFile(c.KeyFile)
	if err == nil {
		return &keys{Owned: vault.Owned{Keyring: ring}, Explicit: keyFileExplicit, Source: c.KeyFile}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) || keyFileExplicit {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(c.KeyFile), 0o700); err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	ring, err = vault.GenerateFile(c.KeyFile)
	if errors.Is(err, fs.ErrExist) {
		// Another process generated it first.
		ring, err = vault.LoadFile(c.KeyFile)
	} else if err == nil {
		fmt.Fprintf(stderr, "\n"+
			"!!! billkey generated a NEW MASTER KEY at %s (mode 0600).\n"+
			"!!! It encrypts every billing key and channel secret: back it up, or they are lost.\n"+
			"!!! This is for test mode. Live channels refuse to run without an explicit key\n"+
			"!!! (--key-file / BILLKEY_KEY_FILE, or BILLKEY_KEK and BILLKEY_MAC_KEY).\n\n", c.KeyFile)
	}
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return &keys{Owned: vault.Owned{Keyring: ring}, Source: c.KeyFile}, nil
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
