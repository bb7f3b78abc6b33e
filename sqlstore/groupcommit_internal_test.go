package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/testkeys"
)

// TestGroupCommitSurvivesAnAbortedTransaction: when SQLite rolls a shared
// transaction back under one caller (an interrupted statement or an I/O
// error does that), the callers before and after it in the batch must still
// get exactly what they were told: their writes committed, in a new
// transaction, and never outside one.
func TestGroupCommitSurvivesAnAbortedTransaction(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "gc.db"), testkeys.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := &billkey.Merchant{ImpCode: "imp10000009", Name: "gc", APIKey: "gc-key"}
	if err := s.CreateMerchant(ctx, m, []byte("mac"), nil); err != nil {
		t.Fatal(err)
	}
	insert := func(uid string) func(tx *sql.Tx) error {
		return func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO events (merchant_id, imp_uid, merchant_uid, status, created_at)
				VALUES ($1, $2, $2, 'paid', 0)`, m.ID, uid)
			return err
		}
	}
	boom := errors.New("boom")
	hold := make(chan struct{})
	var wg sync.WaitGroup
	results := make([]error, 4)
	bodies := []func(tx *sql.Tx) error{
		func(tx *sql.Tx) error { <-hold; return nil }, // keeps the writer busy while the others queue
		insert("before"),
		func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `ROLLBACK`); err != nil {
				return err
			}
			return boom
		},
		insert("after"),
	}
	for i, fn := range bodies {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = s.tx(ctx, fn) }()
		time.Sleep(30 * time.Millisecond) // queue in this order
	}
	close(hold)
	wg.Wait()
	if results[1] != nil || results[3] != nil || !errors.Is(results[2], boom) {
		t.Fatalf("results %v: the callers around the aborted one must succeed, it must fail", results)
	}
	var n int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE imp_uid IN ('before', 'after')`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d of the 2 successful writes are stored (%v)", n, err)
	}
}
