package loadtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/billkey/billkey/sqlstore"
)

// maxBestBatch bounds how many writes share one commit in the best-design
// baseline (billkey's SQLite group commit uses 256).
const maxBestBatch = 256

// bestOp is one write waiting for a best-design writer.
type bestOp struct {
	insert bool
	order  string
	amount int64
	status string
	now    int64
	done   chan error
}

// drainBatch starts a batch with first and adds the writes already waiting
// on ops, up to maxBestBatch, without blocking.
func drainBatch(first bestOp, ops <-chan bestOp) []bestOp {
	batch := []bestOp{first}
	for len(batch) < maxBestBatch {
		select {
		case next, ok := <-ops:
			if !ok {
				return batch
			}
			batch = append(batch, next)
		default:
			return batch
		}
	}
	return batch
}

// newBestStore opens the best-design baseline's store on dsn's kind of
// database (a temporary SQLite file when dsn is empty).
func newBestStore(ctx context.Context, dsn string, pgWriters int) (bareStore, error) {
	if sqlstore.IsPostgres(dsn) {
		return newPGBest(ctx, dsn, pgWriters)
	}
	return newSQLiteBest(ctx, dsn)
}

// sqliteBest: one writer goroutine on one connection batches every write
// waiting (inserts and updates alike) into one transaction.
type sqliteBest struct {
	db       *sql.DB
	conn     *sql.Conn
	ins, upd *sql.Stmt
	ops      chan bestOp
	done     sync.WaitGroup
	dur      string
	tmpDir   string
}

func newSQLiteBest(ctx context.Context, dsn string) (*sqliteBest, error) {
	db, dur, tmp, err := openBaseline(ctx, dsn, "best", "loadtest_best")
	if err != nil {
		return nil, fmt.Errorf("best-design baseline: %w", err)
	}
	s := &sqliteBest{db: db, tmpDir: tmp, ops: make(chan bestOp, 4096), dur: dur}
	fail := func(err error) (*sqliteBest, error) {
		db.Close()
		if tmp != "" {
			os.RemoveAll(tmp)
		}
		return nil, fmt.Errorf("best-design baseline: %w", err)
	}
	if s.conn, err = db.Conn(ctx); err != nil {
		return fail(err)
	}
	if s.ins, err = s.conn.PrepareContext(ctx, `INSERT INTO loadtest_best (order_id, amount, status, created_at) VALUES ($1, $2, 'ready', $3)`); err != nil {
		return fail(err)
	}
	if s.upd, err = s.conn.PrepareContext(ctx, `UPDATE loadtest_best SET status = $1, updated_at = $2 WHERE order_id = $3`); err != nil {
		return fail(err)
	}
	s.done.Add(1)
	go s.writer()
	return s, nil
}

func (s *sqliteBest) writer() {
	defer s.done.Done()
	ctx := context.Background()
	for op := range s.ops {
		batch := drainBatch(op, s.ops)
		errs := make([]error, len(batch))
		_, err := s.conn.ExecContext(ctx, "BEGIN IMMEDIATE")
		if err == nil {
			for i, op := range batch {
				if op.insert {
					_, errs[i] = s.ins.ExecContext(ctx, op.order, op.amount, op.now)
				} else {
					_, errs[i] = s.upd.ExecContext(ctx, op.status, op.now, op.order)
				}
			}
			if _, err = s.conn.ExecContext(ctx, "COMMIT"); err != nil {
				_, _ = s.conn.ExecContext(ctx, "ROLLBACK")
			}
		}
		for i, op := range batch {
			if err != nil {
				op.done <- err
			} else {
				op.done <- errs[i]
			}
		}
	}
}

func (s *sqliteBest) submit(ctx context.Context, op bestOp) error {
	op.done = make(chan error, 1)
	select {
	case s.ops <- op:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-op.done // the write is in flight: wait for its commit
}

func (s *sqliteBest) insert(ctx context.Context, order string, amount int64, now int64) error {
	return s.submit(ctx, bestOp{insert: true, order: order, amount: amount, now: now})
}

func (s *sqliteBest) update(ctx context.Context, order, status string, now int64) error {
	return s.submit(ctx, bestOp{order: order, status: status, now: now})
}

func (s *sqliteBest) durability() string { return s.dur }

func (s *sqliteBest) close() {
	close(s.ops)
	s.done.Wait()
	s.ins.Close()
	s.upd.Close()
	s.conn.Close()
	closeBaseline(s.db, "loadtest_best", s.tmpDir)
}

// pgBest: the insert is one autocommit statement from the request's
// goroutine; updates go to writer goroutines, each on its own connection,
// that send every update waiting as one pipelined batch (one round trip,
// one implicit transaction, one WAL flush).
type pgBest struct {
	pool *pgxpool.Pool
	ops  chan bestOp
	done sync.WaitGroup
	dur  string
}

func newPGBest(ctx context.Context, dsn string, writers int) (*pgBest, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("best-design baseline: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = 32 // as billkey's store
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("best-design baseline: %w", err)
	}
	s := &pgBest{pool: pool, ops: make(chan bestOp, 4096)}
	var sc, fsync string
	_ = pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&sc)
	_ = pool.QueryRow(ctx, `SHOW fsync`).Scan(&fsync)
	s.dur = "postgres synchronous_commit=" + sc + " fsync=" + fsync
	if _, err := pool.Exec(ctx, baselineTable("postgres", "loadtest_best")); err != nil {
		pool.Close()
		return nil, fmt.Errorf("best-design baseline table: %w", err)
	}
	if writers <= 0 {
		writers = 2
	}
	conns := make([]*pgxpool.Conn, writers)
	for i := range conns {
		if conns[i], err = pool.Acquire(ctx); err != nil {
			for _, c := range conns[:i] {
				c.Release()
			}
			pool.Close()
			return nil, fmt.Errorf("best-design baseline: %w", err)
		}
	}
	for _, c := range conns {
		s.done.Add(1)
		go s.writer(c)
	}
	return s, nil
}

func (s *pgBest) writer(conn *pgxpool.Conn) {
	defer s.done.Done()
	defer conn.Release()
	ctx := context.Background()
	for op := range s.ops {
		batch := drainBatch(op, s.ops)
		b := &pgx.Batch{}
		for _, op := range batch {
			b.Queue(`UPDATE loadtest_best SET status = $1, updated_at = $2 WHERE order_id = $3`, op.status, op.now, op.order)
		}
		br := conn.SendBatch(ctx, b)
		errs := make([]error, len(batch))
		for i := range batch {
			_, errs[i] = br.Exec()
		}
		// Close reads the Sync's reply: the implicit transaction has
		// committed (or failed) only then.
		cerr := br.Close()
		for i, op := range batch {
			if errs[i] == nil && cerr != nil {
				errs[i] = cerr
			}
			op.done <- errs[i]
		}
	}
}

func (s *pgBest) insert(ctx context.Context, order string, amount int64, now int64) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO loadtest_best (order_id, amount, status, created_at) VALUES ($1, $2, 'ready', $3)`,
		order, amount, now)
	return err
}

func (s *pgBest) update(ctx context.Context, order, status string, now int64) error {
	op := bestOp{order: order, status: status, now: now, done: make(chan error, 1)}
	select {
	case s.ops <- op:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-op.done
}

func (s *pgBest) durability() string { return s.dur }

func (s *pgBest) close() {
	close(s.ops)
	s.done.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = s.pool.Exec(ctx, `DROP TABLE IF EXISTS loadtest_best`)
	s.pool.Close()
}
