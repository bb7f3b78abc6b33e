package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/billkey/billkey/internal/testkeys"
	"github.com/billkey/billkey/sqlstore"
)

// TestSQLiteFilesPrivate: the database, its WAL and shared-memory files are
// created 0600 (under the usual umask 022 SQLite would make them 0644), and
// an existing database left readable by others is brought back to 0600.
func TestSQLiteFilesPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "billkey.db")
	st, err := sqlstore.Open(ctx, path, testkeys.New(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB.ExecContext(ctx, `INSERT INTO merchants (imp_code, name, api_key, secret_mac, created_at) VALUES ('imp00000001', 'm', 'k', x'00', 0)`); err != nil {
		t.Fatal(err)
	}
	check := func() {
		t.Helper()
		seen := 0
		for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
			fi, err := os.Stat(p)
			if os.IsNotExist(err) {
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			seen++
			if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("%s has mode %#o, want 0600", filepath.Base(p), m)
			}
		}
		if seen < 2 {
			t.Fatalf("only %d SQLite files found: the WAL should exist", seen)
		}
	}
	check()
	st.Close()
	// An existing database readable by others is restricted on open.
	for _, p := range []string{path, path + "-wal"} {
		_ = os.Chmod(p, 0o644)
	}
	if _, err := os.Stat(path + "-wal"); os.IsNotExist(err) {
		_ = os.WriteFile(path+"-wal", nil, 0o644)
	}
	st, err = sqlstore.Open(ctx, path, testkeys.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	check()
}
