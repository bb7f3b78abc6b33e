package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// maxBatch bounds how many callers share one SQLite commit.
const maxBatch = 256

// writeOp is one caller's transaction body waiting for the group committer.
type writeOp struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// groupCommitter serves SQLite writes: it takes whatever transaction bodies
// are waiting, runs each in a savepoint of one transaction, and commits once,
// so one fsync serves every caller of the batch. Nobody waits for a batch to
// fill: a lone caller commits at once, and batches grow only while a commit
// is in progress. Each caller is answered after the commit is durable, so
// the guarantee to a merchant is the same as with a transaction of its own.
func (s *Store) groupCommitter() {
	defer s.wg.Done()
	written := 0
	for op := range s.writes {
		batch := []writeOp{op}
	drain:
		for len(batch) < maxBatch {
			select {
			case next, ok := <-s.writes:
				if !ok {
					break drain
				}
				batch = append(batch, next)
			default:
				break drain
			}
		}
		s.commitBatch(batch)
		if written += len(batch); written >= checkpointAfter {
			s.checkpoint("PASSIVE")
			written = 0
		}
	}
}

func (s *Store) commitBatch(batch []writeOp) {
	if len(batch) == 1 {
		batch[0].done <- s.soloTx(batch[0].ctx, batch[0].fn)
		return
	}
	ctx := context.Background()
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		err = fmt.Errorf("sqlstore: begin: %w", err)
		for _, op := range batch {
			op.done <- err
		}
		return
	}
	results := make([]error, len(batch))
	for i, op := range batch {
		var aborted bool
		aborted, results[i] = s.runInSavepoint(op, tx)
		if aborted {
			// SQLite rolled the whole transaction back (an interrupted
			// statement, I/O error, full disk): the writes of the callers
			// before this one are gone too. Tell this caller, and run
			// everyone else again in a new transaction, rather than let
			// later savepoints run (and commit) outside any transaction.
			_ = tx.Rollback()
			batch[i].done <- results[i]
			rest := append(append([]writeOp(nil), batch[:i]...), batch[i+1:]...)
			if len(rest) > 0 {
				s.commitBatch(rest)
			}
			return
		}
	}
	if err := tx.Commit(); err != nil {
		err = fmt.Errorf("sqlstore: commit: %w", err)
		for _, op := range batch {
			op.done <- err
		}
		return
	}
	for i, op := range batch {
		op.done <- results[i]
	}
}

// runInSavepoint runs one caller's body so that its failure undoes only its
// own writes. aborted reports that the shared transaction itself is gone
// (its savepoint can no longer be set, rolled back to or released).
func (s *Store) runInSavepoint(op writeOp, tx *sql.Tx) (aborted bool, err error) {
	ctx := context.Background()
	if err := s.execTx(ctx, tx, savepointSQL); err != nil {
		return true, fmt.Errorf("sqlstore: savepoint: %w", err)
	}
	err = op.fn(tx)
	if err != nil {
		if rerr := s.execTx(ctx, tx, rollbackToSavepointSQL); rerr != nil {
			return true, fmt.Errorf("sqlstore: rollback to savepoint: %w (after %w)", rerr, err)
		}
	}
	if rerr := s.execTx(ctx, tx, releaseSavepointSQL); rerr != nil {
		return true, fmt.Errorf("sqlstore: release savepoint: %w", rerr)
	}
	return false, err
}

// Savepoint statements of the group committer (prepared once).
const (
	savepointSQL           = `SAVEPOINT op`
	rollbackToSavepointSQL = `ROLLBACK TO op`
	releaseSavepointSQL    = `RELEASE op`
)

func (s *Store) execTx(ctx context.Context, tx *sql.Tx, query string) error {
	st, err := s.txStmt(ctx, tx, query)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx)
	return err
}

// prepared returns db's prepared statement for query, preparing it once.
// SQLite re-parses every unprepared query; PostgreSQL (pgx) caches its own
// statements, so this matters most for SQLite.
func (s *Store) prepared(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	key := query
	if db != s.DB {
		key = "r:" + query
	}
	if st, ok := s.stmts.Load(key); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: prepare: %w", err)
	}
	if prev, loaded := s.stmts.LoadOrStore(key, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// writeStatements are prepared on the write pool when the store opens.
// They must be prepared before any transaction runs: preparing on the pool
// needs a free connection, and SQLite's single one belongs to the
// transaction.
var writeStatements = []string{insertPaymentSQL, finishPaymentSQL, insertEventSQL}

// sqliteWriteStatements are prepared on SQLite only (the group committer's).
var sqliteWriteStatements = []string{savepointSQL, rollbackToSavepointSQL, releaseSavepointSQL}

func (s *Store) prepareWrites(ctx context.Context) error {
	qs := writeStatements
	if s.dialect.groupCommit {
		qs = append(qs[:len(qs):len(qs)], sqliteWriteStatements...)
	}
	for _, q := range qs {
		if _, err := s.prepared(ctx, s.DB, q); err != nil {
			return err
		}
	}
	return nil
}

// write runs one prepared write statement durably: on SQLite inside a
// group commit, on PostgreSQL as a single autocommit statement (no
// BEGIN/COMMIT round trips).
func (s *Store) write(ctx context.Context, query string, fn func(st *sql.Stmt) error) error {
	if s.writes == nil {
		st, err := s.prepared(ctx, s.DB, query)
		if err != nil {
			return err
		}
		return fn(st)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		st, err := s.txStmt(ctx, tx, query)
		if err != nil {
			return err
		}
		return fn(st)
	})
}

// txStmt returns query prepared for use in tx: the store's prepared
// statement when it has one, else one prepared in tx (closed with it).
func (s *Store) txStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return tx.StmtContext(ctx, st.(*sql.Stmt)), nil
	}
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: prepare: %w", err)
	}
	return st, nil
}
