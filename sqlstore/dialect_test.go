package sqlstore

import (
	"context"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/internal/testkeys"
)

// TestDialectChosenOnce: Open picks the dialect from the DSN, and the store's
// behaviour follows its fields: SQLite writes through the group committer
// and reads through a separate read-only pool; PostgreSQL writes on its own
// connections and locks claimed rows.
func TestDialectChosenOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openTestStore(t, dsn)
		if s.dialect.name != s.Dialect || dialectOf(dsn).name != s.Dialect || dialectNamed(s.Dialect).name != s.Dialect {
			t.Fatalf("dialect %q, Store.Dialect %q", s.dialect.name, s.Dialect)
		}
		if got := s.writes != nil; got != s.dialect.groupCommit {
			t.Errorf("group committer running %v, dialect says %v", got, s.dialect.groupCommit)
		}
		if got := s.read != s.DB; got != s.dialect.groupCommit {
			t.Errorf("separate read pool %v, dialect says %v", got, s.dialect.groupCommit)
		}
		want := map[string]string{"sqlite": "", "postgres": " FOR UPDATE OF e SKIP LOCKED"}[s.Dialect]
		if got := s.dialect.skipLocked("e"); got != want {
			t.Errorf("skipLocked(e) = %q, want %q", got, want)
		}
		wantDurability := map[string]string{"sqlite": "synchronous=FULL journal_mode=wal", "postgres": "synchronous_commit="}[s.Dialect]
		if d := s.Durability(ctx); !strings.HasPrefix(d, wantDurability) || d != Durability(ctx, s.DB, s.Dialect) {
			t.Errorf("durability %q, want %q…", d, wantDurability)
		}
	})
}

// openTestStore opens a store on dsn, closed when the test ends.
func openTestStore(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, testkeys.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
