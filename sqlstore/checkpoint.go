package sqlstore

import (
	"context"
	"time"
)

// checkpointAfter is how many group-committed writes may accumulate in the
// SQLite write-ahead log before the writer checkpoints it (each write adds a
// few pages; SQLite's own default threshold is 1000 pages).
const checkpointAfter = 256

// checkpoint copies the write-ahead log into the database file, on the
// writer connection, between batches. billkey's writer disables SQLite's
// automatic checkpoint (wal_autocheckpoint(0) in its DSN), which would run
// inside a commit and add its fsync to that batch's callers; here the
// callers have already been answered. It must be the writer that does it: a
// checkpoint on another connection races the writer's appends, never reaches
// the end of the log, and the log is never restarted (it grew to 15 GB in a
// 5-minute soak before this was found).
func (s *Store) checkpoint(mode string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Errors (SQLITE_BUSY while another process checkpoints) only mean
	// the next checkpoint tries again.
	_, _ = s.DB.ExecContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`)
}
