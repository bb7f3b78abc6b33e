package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billkey/billkey/jobs"
)

// memQueue is an in-memory work list claimed the way billkey's tables are:
// each item at most once.
type memQueue struct {
	mu       sync.Mutex
	items    []string
	claimed  map[string]string
	fail     atomic.Int32 // claim errors still to return
	claims   atomic.Int32
	running  atomic.Int32
	peak     atomic.Int32
	ran      sync.Map
	workTime time.Duration
}

func newMemQueue(n int, work time.Duration) *memQueue {
	q := &memQueue{claimed: map[string]string{}, workTime: work}
	for i := range n {
		q.items = append(q.items, fmt.Sprintf("item-%d", i))
	}
	return q
}

func (q *memQueue) add(item string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, item)
}

func (q *memQueue) claim(_ context.Context, owner string, limit int) ([]jobs.Job, error) {
	q.claims.Add(1)
	if q.fail.Load() > 0 {
		q.fail.Add(-1)
		return nil, errors.New("database unavailable")
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []jobs.Job
	for len(q.items) > 0 && len(out) < limit {
		it := q.items[0]
		q.items = q.items[1:]
		q.claimed[it] = owner
		out = append(out, jobs.Job{Key: it, Run: func(ctx context.Context) {
			n := q.running.Add(1)
			for {
				p := q.peak.Load()
				if n <= p || q.peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(q.workTime)
			q.running.Add(-1)
			if _, dup := q.ran.LoadOrStore(it, true); dup {
				panic("ran twice: " + it)
			}
		}})
	}
	return out, nil
}

func (q *memQueue) count() int {
	n := 0
	q.ran.Range(func(_, _ any) bool { n++; return true })
	return n
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunnerRunsEverythingWithinConcurrency(t *testing.T) {
	t.Parallel()
	q := newMemQueue(100, 2*time.Millisecond)
	r := jobs.New("node-1", nil, nil, jobs.Queue{Name: "q", Claim: q.claim, Concurrency: 4, Interval: time.Hour})
	r.Start(context.Background())
	defer r.Stop(context.Background())
	// A full claim makes the runner claim again as soon as a slot frees,
	// without waiting for the (hour-long) interval.
	eventually(t, "100 items", func() bool { return q.count() == 100 })
	if p := q.peak.Load(); p > 4 || p < 2 {
		t.Fatalf("peak concurrency %d, limit 4", p)
	}
	for it, owner := range q.claimed {
		if owner != "node-1" {
			t.Fatalf("%s claimed by %q", it, owner)
		}
	}
}

// A busy queue refills its slots in groups: with 16 slots and 400 items,
// one claim per finished job would be about 385 claims; refilling when a
// quarter of the slots is free needs at most 400/4 after the first.
func TestRunnerRefillsSlotsInGroups(t *testing.T) {
	t.Parallel()
	q := newMemQueue(400, time.Millisecond)
	r := jobs.New("node-1", nil, nil, jobs.Queue{Name: "q", Claim: q.claim, Concurrency: 16, Interval: time.Hour})
	r.Start(context.Background())
	defer r.Stop(context.Background())
	eventually(t, "400 items", func() bool { return q.count() == 400 })
	if n := q.claims.Load(); n > 1+400/4 {
		t.Fatalf("%d claims for 400 items with 16 slots: slots refilled one by one", n)
	}
	if p := q.peak.Load(); p > 16 {
		t.Fatalf("peak concurrency %d, limit 16", p)
	}
}

func TestRunnerWake(t *testing.T) {
	t.Parallel()
	q := newMemQueue(0, 0)
	r := jobs.New("", nil, nil, jobs.Queue{Name: "q", Claim: q.claim, Interval: time.Hour})
	if r.Owner() == "" {
		t.Fatal("no owner id")
	}
	r.Start(context.Background())
	defer r.Stop(context.Background())
	eventually(t, "the first claim", func() bool { return q.claims.Load() >= 1 })
	q.add("late")
	r.Wake("other queue") // ignored
	r.Wake("q")
	eventually(t, "the woken claim", func() bool { return q.count() == 1 })
}

func TestRunnerRetriesClaimErrors(t *testing.T) {
	t.Parallel()
	q := newMemQueue(3, 0)
	q.fail.Store(2)
	r := jobs.New("n", nil, nil, jobs.Queue{Name: "q", Claim: q.claim, Interval: 10 * time.Millisecond})
	r.Start(context.Background())
	defer r.Stop(context.Background())
	eventually(t, "work after claim errors", func() bool { return q.count() == 3 })
}

func TestRunnerStopWaitsForRunningJobs(t *testing.T) {
	t.Parallel()
	q := newMemQueue(2, 200*time.Millisecond)
	r := jobs.New("n", nil, nil, jobs.Queue{Name: "q", Claim: q.claim, Interval: time.Hour})
	r.Start(context.Background())
	eventually(t, "jobs running", func() bool { return q.running.Load() == 2 })
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if q.running.Load() != 0 || q.count() != 2 {
		t.Fatalf("Stop returned with %d running, %d done", q.running.Load(), q.count())
	}
	// A Stop that cannot wait long enough says so.
	q2 := newMemQueue(1, time.Second)
	r2 := jobs.New("n", nil, nil, jobs.Queue{Name: "q", Claim: q2.claim, Interval: time.Hour})
	r2.Start(context.Background())
	eventually(t, "a job running", func() bool { return q2.running.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := r2.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v", err)
	}
	_ = r2.Stop(context.Background())
}

func TestRunnerSurvivesPanics(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	claim := func(context.Context, string, int) ([]jobs.Job, error) {
		if n.Add(1) > 2 {
			return nil, nil
		}
		return []jobs.Job{{Key: "boom", Run: func(context.Context) { panic("boom") }}}, nil
	}
	r := jobs.New("n", nil, nil, jobs.Queue{Name: "q", Claim: claim, Concurrency: 1, Interval: 5 * time.Millisecond})
	r.Start(context.Background())
	eventually(t, "claims after a panic", func() bool { return n.Load() > 2 })
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}
