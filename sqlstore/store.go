// Package sqlstore is billkey's one store over database/sql, for SQLite
// (modernc.org/sqlite, pure Go) and PostgreSQL (pgx). The same SQL text runs on
// both; the few differences live in the dialect struct. Migrations are
// embedded and applied by Open (goose, one directory per dialect).
//
// Times are stored as BIGINT UNIX seconds (0 for "not happened"), matching
// i'mport's wire format. Money is BIGINT KRW.
//
// Secrets: channel credentials are sealed with the Sealer given to Open
// before they reach a column; billing keys arrive already sealed
// (Customer.KeyCiphertext); API secrets and tokens are stored only as MACs.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/billkey/billkey"
)

//go:embed migrations
var migrations embed.FS

// Sealer is the vault's sealing of small secrets (billkey.Sealer).
type Sealer = billkey.Sealer

// Purposes passed to the Sealer (see billkey.PurposeChannel).
const (
	PurposeChannel       = billkey.PurposeChannel
	PurposeBillingKey    = billkey.PurposeBillingKey
	PurposeWebhookSecret = billkey.PurposeWebhookSecret
)

// Store is billkey's persistence. It is safe for concurrent use.
type Store struct {
	DB      *sql.DB
	Dialect string // "sqlite" or "postgres"
	sealer  Sealer
	pool    *pgxpool.Pool
	// read serves hot lookups: on SQLite a pool of read-only connections
	// (WAL readers never wait for the writer's fsync); on PostgreSQL, DB.
	read *sql.DB
	// writes feeds the SQLite group committer; nil on PostgreSQL, whose
	// WAL already groups the commits of concurrent connections.
	writes chan writeOp
	wg     sync.WaitGroup
	stmts  sync.Map // query → *sql.Stmt, per pool
	// Now returns the current time; tests may replace it.
	Now func() time.Time
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens the database named by dsn (a postgres:// URL, or else an SQLite
// file path), applies pending migrations, and returns the store.
func Open(ctx context.Context, dsn string, sealer Sealer) (*Store, error) {
	s := &Store{sealer: sealer, Now: time.Now}
	var err error
	// The writer never checkpoints inside a commit: see checkpoint.
	if s.DB, s.Dialect, s.pool, err = openDB(ctx, dsn, "wal_autocheckpoint(0)"); err != nil {
		return nil, err
	}
	if err := s.DB.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlstore: ping %s: %w", s.Dialect, err)
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepareWrites(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.read = s.DB
	if s.Dialect == "sqlite" {
		if s.read, err = openSQLiteReaders(dsn); err != nil {
			s.Close()
			return nil, err
		}
		s.writes = make(chan writeOp, 1024)
		s.wg.Add(1)
		go s.groupCommitter()
	}
	return s, nil
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

// OpenDB opens the database named by dsn with billkey's connection settings
// (the same as Open's, without migrations or a store): for tools that must
// measure or inspect a database the way billkey uses it.
func OpenDB(ctx context.Context, dsn string) (db *sql.DB, dialect string, err error) {
	db, dialect, _, err = openDB(ctx, dsn)
	return db, dialect, err
}

func openDB(ctx context.Context, dsn string, sqlitePragmas ...string) (*sql.DB, string, *pgxpool.Pool, error) {
	if IsPostgres(dsn) {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return nil, "", nil, fmt.Errorf("sqlstore: parse postgres dsn: %w", err)
		}
		if !strings.Contains(dsn, "pool_max_conns") {
			// pgx's default (max(4, NumCPU)) starves concurrent charges:
			// PostgreSQL groups the commits of concurrent connections.
			cfg.MaxConns = 32
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, "", nil, fmt.Errorf("sqlstore: connect postgres: %w", err)
		}
		db := stdlib.OpenDBFromPool(pool)
		// database/sql keeps 2 idle connections by default: under
		// concurrency it would recycle connections, and with them their
		// prepared statements, on every request.
		db.SetMaxIdleConns(int(cfg.MaxConns))
		db.SetMaxOpenConns(int(cfg.MaxConns))
		return db, "postgres", pool, nil
	}
	if err := restrictSQLiteFile(dsn); err != nil {
		return nil, "", nil, err
	}
	db, err := sql.Open("sqlite", sqliteDSN(dsn, sqlitePragmas...))
	if err != nil {
		return nil, "", nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	// One connection: SQLite has one writer anyway, and a single
	// connection turns lock contention into an orderly Go queue.
	db.SetMaxOpenConns(1)
	return db, "sqlite", nil, nil
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

// Durability describes the commit durability in force, e.g.
// "synchronous=FULL journal_mode=wal" or "synchronous_commit=on".
func (s *Store) Durability(ctx context.Context) string { return Durability(ctx, s.DB, s.Dialect) }

// Durability describes the commit durability of a database opened by OpenDB.
func Durability(ctx context.Context, db *sql.DB, dialect string) string {
	if dialect == "postgres" {
		var sc, fsync string
		_ = db.QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&sc)
		_ = db.QueryRowContext(ctx, `SHOW fsync`).Scan(&fsync)
		return "synchronous_commit=" + sc + " fsync=" + fsync
	}
	var sync int
	var mode string
	_ = db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync)
	_ = db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode)
	names := map[int]string{0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
	return "synchronous=" + names[sync] + " journal_mode=" + mode
}

// sqliteDSN turns a file path into a modernc DSN with billkey's settings:
// WAL, a busy timeout, foreign keys, full synchronous commits (a payment
// acknowledged to a merchant survives power loss) and immediate write locks.
func sqliteDSN(path string, pragmas ...string) string {
	if strings.HasPrefix(path, "file:") {
		return path
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_txlock", "immediate")
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	return "file:" + path + "?" + q.Encode()
}

// Migrate applies every pending embedded migration. On PostgreSQL a session
// advisory lock keeps nodes that start together from racing.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations/"+s.Dialect)
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if s.Dialect == "postgres" {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("sqlstore: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.DB, sub, opts...)
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlstore: migrate %s: %w", s.Dialect, err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	var err error
	if s.writes != nil {
		close(s.writes)
		s.wg.Wait()
		s.writes = nil
	}
	if s.Dialect == "sqlite" && s.DB != nil {
		s.checkpoint("TRUNCATE")
	}
	s.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	if s.read != nil && s.read != s.DB {
		s.read.Close()
	}
	if s.DB != nil {
		err = s.DB.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.DB.PingContext(ctx) }

// tx runs fn in a transaction, committing if it returns nil. On SQLite the
// transaction may be shared with other callers' (group commit): fn must
// use only tx, and runs in a savepoint of its own, so its error undoes only
// its own writes. tx returns only once the commit is durable.
func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.writes != nil {
		op := writeOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
		s.writes <- op
		return <-op.done
	}
	return s.soloTx(ctx, fn)
}

// soloTx runs fn in a transaction of its own.
func (s *Store) soloTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// isUniqueViolation reports whether err is a unique-constraint violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		c := sqErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// unix converts a time to stored UNIX seconds (0 for the zero time).
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// fromUnix converts stored UNIX seconds back (0 is the zero time).
func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0)
}

// notFound returns the domain's not-found error.
func notFound(format string, args ...any) error {
	return billkey.Errorf(billkey.ENOTFOUND, format, args...)
}

// queryer is what both *sql.DB and *sql.Tx offer.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// rowScanner is what *sql.Row and *sql.Rows offer for one row.
type rowScanner interface{ Scan(...any) error }

// queryAll runs query and scans every row with scan; what names the
// objects in error messages ("payments", "schedules"...).
func queryAll[T any](ctx context.Context, q queryer, what string, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: query %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: scan %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: query %s: %w", what, err)
	}
	return out, nil
}

// DialectName is the database's dialect: "sqlite" or "postgres".
func (s *Store) DialectName() string { return s.Dialect }
