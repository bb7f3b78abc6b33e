package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres opens a PostgreSQL database through a pgx pool.
func openPostgres(ctx context.Context, dsn string, _ []string) (*sql.DB, *pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlstore: parse postgres dsn: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// pgx's default (max(4, NumCPU)) starves concurrent charges:
		// PostgreSQL groups the commits of concurrent connections.
		cfg.MaxConns = 32
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlstore: connect postgres: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	// database/sql keeps 2 idle connections by default: under
	// concurrency it would recycle connections, and with them their
	// prepared statements, on every request.
	db.SetMaxIdleConns(int(cfg.MaxConns))
	db.SetMaxOpenConns(int(cfg.MaxConns))
	return db, pool, nil
}
