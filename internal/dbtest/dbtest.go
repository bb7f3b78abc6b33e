// Package dbtest gives tests a fresh, empty database on each of billkey's two
// backends: an SQLite file in a temporary directory, and a new PostgreSQL
// database created on the server named by BILLKEY_TEST_POSTGRES (dropped when
// the test ends). The README's test command starts a throwaway cluster and
// sets that variable; with CI=true a missing variable fails the test instead
// of skipping it.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvPostgres names the variable holding an admin DSN of a test server.
const EnvPostgres = "BILLKEY_TEST_POSTGRES"

// Backend is one database to run a test on.
type Backend struct {
	Name string // "sqlite" or "postgres"
	DSN  string
}

// Each runs fn as a subtest once per backend, each with a fresh database.
func Each(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			fn(t, DSN(t, name))
		})
	}
}

// DSN returns a fresh database of the named backend for t.
func DSN(t testing.TB, backend string) string {
	t.Helper()
	switch backend {
	case "sqlite":
		return filepath.Join(t.TempDir(), "billkey.db")
	case "postgres":
		return Postgres(t)
	}
	t.Fatalf("dbtest: unknown backend %q", backend)
	return ""
}

// Postgres creates a new database on the test server and returns its DSN.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dbtest: %s is not set; the PostgreSQL store tests must run in CI (use scripts/test.sh)", EnvPostgres)
		}
		t.Skipf("dbtest: %s is not set; run scripts/test.sh to test on PostgreSQL too", EnvPostgres)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("dbtest: connect %s: %v", EnvPostgres, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "billkey_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("dbtest: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("dbtest: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("dbtest: parse %s: %v", EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String()
}
