package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// openSQLite opens an SQLite file (created mode 0600) on one connection,
// with billkey's settings and the extra pragmas.
func openSQLite(_ context.Context, path string, pragmas []string) (*sql.DB, *pgxpool.Pool, error) {
	if err := restrictSQLiteFile(path); err != nil {
		return nil, nil, err
	}
	db, err := sql.Open("sqlite", sqliteDSN(path, pragmas...))
	if err != nil {
		return nil, nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	// One connection: SQLite has one writer anyway, and a single
	// connection turns lock contention into an orderly Go queue.
	db.SetMaxOpenConns(1)
	return db, nil, nil
}

// openSQLiteReaders opens the read-only pool of an SQLite database.
func openSQLiteReaders(path string) (*sql.DB, error) {
	dsn := sqliteDSN(path)
	if strings.Contains(dsn, "?") {
		dsn += "&_pragma=query_only(1)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite readers: %w", err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	return db, nil
}

// sqliteFileMode is the mode of billkey's SQLite files: the database holds
// sealed billing keys, hashed secrets and payment data, for billkey alone.
const sqliteFileMode = 0o600

// restrictSQLiteFile creates the SQLite database file with mode 0600 before
// SQLite opens it (SQLite would create it 0644 under the usual umask), and
// brings an existing database and its -wal, -shm and -journal files to
// 0600. SQLite creates its WAL, shared-memory and journal files with the
// database file's mode, so they follow. file: URIs are left to the caller.
func restrictSQLiteFile(path string) error {
	if strings.HasPrefix(path, "file:") || path == "" || path == ":memory:" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, sqliteFileMode)
	if err != nil {
		return fmt.Errorf("sqlstore: create sqlite file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sqlstore: create sqlite file: %w", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("sqlstore: sqlite file: %w", err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != sqliteFileMode {
			if err := os.Chmod(p, sqliteFileMode); err != nil {
				return fmt.Errorf("sqlstore: restrict %s to mode 0600: %w", p, err)
			}
		}
	}
	return nil
}

// sqliteDSN turns a file path into a modernc DSN with billkey's settings:
// WAL, a busy timeout, foreign keys, full synchronous commits (a payment
// acknowledged to a merchant survives power loss), immediate write locks,
// and temporary data in memory: the group committer runs each caller in a
// savepoint, and SQLite copies every page a savepoint first touches into a
// statement journal, which with temporary files on disk cost a file
// create, writes and a delete per batch (about a tenth of a charge's CPU).
func sqliteDSN(path string, pragmas ...string) string {
	if strings.HasPrefix(path, "file:") {
		return path
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_txlock", "immediate")
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	return "file:" + path + "?" + q.Encode()
}
