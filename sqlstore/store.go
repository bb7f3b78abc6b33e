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
	"strings"
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

// Sealer encrypts and decrypts small secrets bound to an owner. The vault
// package implements it.
type Sealer interface {
	Seal(plaintext []byte, purpose string, merchantID int64, subject string) ([]byte, error)
	Open(blob []byte, purpose string, merchantID int64, subject string) ([]byte, error)
}

// Purposes passed to the Sealer.
const (
	PurposeChannel    = "channel-credentials"
	PurposeBillingKey = "billing-key"
)

// Store is billkey's persistence. It is safe for concurrent use.
type Store struct {
	DB      *sql.DB
	Dialect string // "sqlite" or "postgres"
	sealer  Sealer
	pool    *pgxpool.Pool
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
	if IsPostgres(dsn) {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: parse postgres dsn: %w", err)
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: connect postgres: %w", err)
		}
		s.pool = pool
		s.DB = stdlib.OpenDBFromPool(pool)
		s.Dialect = "postgres"
	} else {
		db, err := sql.Open("sqlite", sqliteDSN(dsn))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
		}
		// One connection: SQLite has one writer anyway, and a single
		// connection turns lock contention into an orderly Go queue.
		db.SetMaxOpenConns(1)
		s.DB = db
		s.Dialect = "sqlite"
	}
	if err := s.DB.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlstore: ping %s: %w", s.Dialect, err)
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sqliteDSN turns a file path into a modernc DSN with billkey's settings:
// WAL, a busy timeout, foreign keys, full synchronous commits (a payment
// acknowledged to a merchant survives power loss) and immediate write locks.
func sqliteDSN(path string) string {
	if strings.HasPrefix(path, "file:") {
		return path
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_txlock", "immediate")
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

// tx runs fn in a transaction, committing if it returns nil.
func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
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
