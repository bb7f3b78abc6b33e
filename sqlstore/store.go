// Package sqlstore is billkey's one store over database/sql, for SQLite
// (modernc.org/sqlite, pure Go) and PostgreSQL (pgx). The same SQL text runs on
// both; the few differences (row locks, group commit, data-modifying CTEs,
// migration locking, durability settings) live in the dialect struct that
// Open picks once. Migrations are embedded and applied by Open (goose, one
// directory per dialect).
//
// The payments table is described once, in paymentFields: its column list,
// scan destinations and the argument lists of the insert and the finish
// statements are built from that table.
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
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
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
	dialect dialect
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

// Open opens the database named by dsn (a postgres:// URL, or else an SQLite
// file path), applies pending migrations, and returns the store.
func Open(ctx context.Context, dsn string, sealer Sealer) (*Store, error) {
	s := &Store{sealer: sealer, Now: time.Now}
	var err error
	// The writer never checkpoints inside a commit: see checkpoint.
	if s.DB, s.dialect, s.pool, err = openDB(ctx, dsn, "wal_autocheckpoint(0)"); err != nil {
		return nil, err
	}
	s.Dialect = s.dialect.name
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
	if s.dialect.groupCommit {
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

// OpenDB opens the database named by dsn with billkey's connection settings
// (the same as Open's, without migrations or a store): for tools that must
// measure or inspect a database the way billkey uses it.
func OpenDB(ctx context.Context, dsn string) (db *sql.DB, dialect string, err error) {
	db, d, _, err := openDB(ctx, dsn)
	return db, d.name, err
}

// openDB opens dsn's database with its dialect's driver and settings
// (sqlitePragmas are added to an SQLite DSN).
func openDB(ctx context.Context, dsn string, sqlitePragmas ...string) (*sql.DB, dialect, *pgxpool.Pool, error) {
	d := dialectOf(dsn)
	db, pool, err := d.open(ctx, dsn, sqlitePragmas)
	return db, d, pool, err
}

// Durability describes the commit durability in force, e.g.
// "synchronous=FULL journal_mode=wal" or "synchronous_commit=on".
func (s *Store) Durability(ctx context.Context) string { return s.dialect.durability(ctx, s.DB) }

// Durability describes the commit durability of a database opened by OpenDB
// (dialect as OpenDB returned it).
func Durability(ctx context.Context, db *sql.DB, dialect string) string {
	return dialectNamed(dialect).durability(ctx, db)
}

// Migrate applies every pending embedded migration. On PostgreSQL a session
// advisory lock keeps nodes that start together from racing.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.dialect.migrationProvider(s.DB, true)
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
	if s.dialect.groupCommit && s.DB != nil {
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

// notFound returns the domain's not-found error.
func notFound(format string, args ...any) error {
	return billkey.Errorf(billkey.ENOTFOUND, format, args...)
}

// DialectName is the database's dialect: "sqlite" or "postgres".
func (s *Store) DialectName() string { return s.Dialect }
