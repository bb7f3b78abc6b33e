package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// checkpointEvery is how often the background checkpointer copies the SQLite
// write-ahead log into the database file.
const checkpointEvery = 500 * time.Millisecond

// startCheckpointer takes WAL checkpoints off the commit path. By default
// SQLite checkpoints inside whichever commit crosses the WAL size threshold,
// adding a database-file fsync to that caller's latency; billkey's writer
// connection disables that (wal_autocheckpoint(0) in its DSN) and a connection of its own
// runs PASSIVE checkpoints, which never block readers or the writer. Other
// processes on the same file (billkey merchant create) keep SQLite's default.
func (s *Store) startCheckpointer(path string) error {
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return fmt.Errorf("sqlstore: open checkpointer: %w", err)
	}
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// Errors (SQLITE_BUSY while another process checkpoints)
				// only mean the next tick tries again.
				_, _ = db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
			}
		}
	}()
	s.stopCheckpoints = func() {
		cancel()
		<-done
		_, _ = db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		db.Close()
	}
	return nil
}
