// Package teststore opens a migrated store for tests, sealed with a fresh
// throwaway keyring and closed when the test ends.
package teststore

import (
	"context"
	"testing"

	"github.com/billkey/billkey/internal/testkeys"
	"github.com/billkey/billkey/sqlstore"
	"github.com/billkey/billkey/vault"
)

// Open opens the store at dsn (an SQLite path or a PostgreSQL URL, as
// internal/dbtest hands out) with a new keyring, and closes it at the end of
// the test. It returns the keyring too, for the services built over it.
func Open(t testing.TB, dsn string) (*sqlstore.Store, vault.Owned) {
	t.Helper()
	keys := testkeys.New(t)
	st, err := sqlstore.Open(context.Background(), dsn, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, keys
}
