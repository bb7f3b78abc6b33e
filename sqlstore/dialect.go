package sqlstore

import (
	"context"
	"database/sql"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// dialect holds what differs between billkey's two databases; Open picks
// one for the store's lifetime and nothing else in the package asks which
// database it runs on. Everything else is the same SQL text on both: $N
// placeholders (SQLite takes them too), RETURNING, ON CONFLICT … DO
// NOTHING / DO UPDATE, MATERIALIZED common table expressions, SAVEPOINT,
// BIGINT UNIX times and BOOLEAN columns.
type dialect struct {
	// name is "sqlite" or "postgres": Store.Dialect, and the folder of the
	// dialect's migrations.
	name string
	// system is the OpenTelemetry db.system.name of store spans.
	system string
	// goose is the migration tool's dialect.
	goose goose.Dialect
	// lockMigrations takes a session advisory lock around migrations, so
	// nodes that start together do not race (PostgreSQL; SQLite's one
	// writer serializes them already).
	lockMigrations bool
	// rowLocks: a claim's inner SELECT can lock its rows and skip those
	// other claimers hold (FOR UPDATE SKIP LOCKED, PostgreSQL). SQLite has
	// one writer and needs none.
	rowLocks bool
	// groupCommit: one writer connection shares each commit (and its
	// fsync) among the callers waiting for it, reads go through a pool of
	// read-only connections, and the writer checkpoints the write-ahead log
	// itself between batches and on Close (SQLite). PostgreSQL's WAL
	// already groups the commits of concurrent connections.
	groupCommit bool
	// writingCTEs: an UPDATE … RETURNING can feed an INSERT in one
	// statement (PostgreSQL), so FinishPayment records an outcome and
	// queues its event in one round trip.
	writingCTEs bool
	// onlineBackup: Backup copies the live database into a new file
	// (VACUUM INTO, SQLite); PostgreSQL is backed up with its own tools.
	onlineBackup bool
	// open opens a database of the dialect (pool is pgx's, or nil).
	open func(ctx context.Context, dsn string, sqlitePragmas []string) (db *sql.DB, pool *pgxpool.Pool, err error)
	// durability reads the commit durability settings in force.
	durability func(ctx context.Context, db *sql.DB) string
}

var sqliteDialect = dialect{
	name:         "sqlite",
	system:       "sqlite",
	goose:        goose.DialectSQLite3,
	groupCommit:  true,
	onlineBackup: true,
	open:         openSQLite,
	durability: func(ctx context.Context, db *sql.DB) string {
		var sync int
		var mode string
		_ = db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync)
		_ = db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode)
		names := map[int]string{0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
		return "synchronous=" + names[sync] + " journal_mode=" + mode
	},
}

var postgresDialect = dialect{
	name:           "postgres",
	system:         "postgresql",
	goose:          goose.DialectPostgres,
	lockMigrations: true,
	rowLocks:       true,
	writingCTEs:    true,
	open:           openPostgres,
	durability: func(ctx context.Context, db *sql.DB) string {
		var sc, fsync string
		_ = db.QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&sc)
		_ = db.QueryRowContext(ctx, `SHOW fsync`).Scan(&fsync)
		return "synchronous_commit=" + sc + " fsync=" + fsync
	},
}

// dialectOf returns the dialect of a DSN: a postgres:// URL, or else an
// SQLite file.
func dialectOf(dsn string) dialect {
	if IsPostgres(dsn) {
		return postgresDialect
	}
	return sqliteDialect
}

// dialectNamed returns the dialect called name ("postgres" or "sqlite").
func dialectNamed(name string) dialect {
	if name == postgresDialect.name {
		return postgresDialect
	}
	return sqliteDialect
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// skipLocked is the row-locking clause of a claim's inner SELECT (of the
// table alias of, when not empty): where the database has row locks,
// concurrent claimers skip each other's rows instead of queueing behind
// them. Correctness does not depend on it: every claim rechecks its
// conditions in the UPDATE itself.
func (d dialect) skipLocked(of string) string {
	switch {
	case !d.rowLocks:
		return ""
	case of != "":
		return " FOR UPDATE OF " + of + " SKIP LOCKED"
	}
	return " FOR UPDATE SKIP LOCKED"
}

// migrationProvider returns the goose provider of the dialect's embedded
// migrations over db.
func (d dialect) migrationProvider(db *sql.DB, lockForUp bool) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+d.name)
	if err != nil {
		return nil, err
	}
	var opts []goose.ProviderOption
	if lockForUp && d.lockMigrations {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(d.goose, db, sub, opts...)
}
