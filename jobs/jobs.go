// Package jobs runs billkey's durable background work — scheduled charges
// and webhook deliveries — on any number of nodes sharing one database.
//
// # Model
//
// The work itself lives in billkey's own tables (schedules,
// webhook_deliveries), which are the record of truth. A Queue only knows how
// to claim due rows: its ClaimFunc leases up to n rows to this node with one
// conditional UPDATE (owner and lease expiry written, the due and unleased
// conditions rechecked in the same statement), so two nodes never hold one
// row, and returns a Job per row. The Runner polls each queue every
// Interval, or at once when woken (Wake) or when its last claim filled every
// free worker slot, and runs jobs concurrently up to the queue's limit. A
// node that dies mid-job loses nothing: its lease expires and another node
// claims the row again. Exactly-once effects are the job's business: the
// schedule executor, for instance, relies on the payments table's one
// non-failed payment per merchant_uid and adopts a payment it finds.
//
// # Why not River
//
// River (github.com/riverqueue/river v0.51.2 with the riversqlite and
// riverdatabasesql drivers) was the obvious candidate (the decision record:
// docs/decisions/0001-own-job-runner-not-river.md). A spike on billkey's own
// database settings showed it working on both backends: 300 jobs scheduled
// 2 s ahead ran once each, the last 3.0 s after due on SQLite (one
// connection, _txlock=immediate, shared with the application) and 1.0 s after
// due on PostgreSQL with three clients (poll-only, stdlib.OpenDBFromPool).
// It was not adopted, for these reasons:
//
//   - Crash takeover. A job fetched by a node that is then SIGKILLed stays
//     "running" until the leader's rescuer finds it. At v0.51.2 the rescuer
//     runs every 30 s and the scheduler that makes retried jobs available
//     every 5 s, both fixed (not in river.Config); RescueStuckJobsAfter must
//     exceed the job timeout, and a killed leader is replaced only after its
//     ~15 s leadership TTL. Takeover thus takes tens of seconds at best (an
//     hour with defaults). A lease on billkey's own row is taken over as soon
//     as it expires, and the lease length is ours to set.
//   - The webhook outbox (events) is written by the charge, cancel and
//     reconcile code paths inside their own store transactions; a River job
//     cannot be inserted in those transactions without changing them, so a
//     poller over billkey's tables would be needed anyway — two mechanisms
//     instead of one.
//   - Moving a schedule (PUT /subscribe/payments/schedule/{merchant_uid})
//     would have to keep a River job and billkey's row in step.
//   - On SQLite River shares the store's single connection with the API
//     (its producer, elector and maintenance services all poll through it),
//     and its SQLite driver is documented as "early testing".
//   - It brings its own schema (river_* tables migrated with rivermigrate on
//     both backends) and dependencies (riverdriver, rivershared, rivertype,
//     tidwall/gjson and sjson, lib/pq via riverdatabasesql).
//
// The Queue/Job interface keeps River (or anything else) pluggable later.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Job is one claimed unit of work.
type Job struct {
	// Key names the work in logs ("schedule 42").
	Key string
	// Run does the work while the claim's lease holds. Its context is not
	// cancelled by Runner.Stop: Stop waits for running jobs instead.
	Run func(ctx context.Context)
}

// ClaimFunc leases up to limit due items to owner and returns a Job for
// each. It must never return an item another owner holds a valid lease on.
type ClaimFunc func(ctx context.Context, owner string, limit int) ([]Job, error)

// Queue is one kind of durable work.
type Queue struct {
	// Name identifies the queue for Wake, logs and metrics.
	Name string
	// Claim claims due work.
	Claim ClaimFunc
	// Concurrency is how many of its jobs run at once on this node
	// (default 8).
	Concurrency int
	// Interval is how often an idle queue looks for due work (default 1 s).
	Interval time.Duration
}

// Runner polls queues and runs their jobs.
type Runner struct {
	owner   string
	logger  *slog.Logger
	queues  []*queueState
	metrics *Metrics

	mu      sync.Mutex
	started bool
	cancel  context.CancelFunc
	loops   sync.WaitGroup
	running sync.WaitGroup
}

// refillAt is how many free slots a busy queue waits for before it claims
// again: a quarter of its concurrency, at least one.
func refillAt(concurrency int) int {
	return max(1, concurrency/4)
}

type queueState struct {
	Queue
	wake chan struct{}
	slot chan struct{} // a running job finished
}

// NewOwner returns a lease-owner id unique to this process: host, pid and a
// random suffix (a restarted process never reuses its predecessor's leases).
func NewOwner() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "node"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// New returns a Runner that claims work as owner (NewOwner() when empty).
// metrics may be nil.
func New(owner string, logger *slog.Logger, metrics *Metrics, queues ...Queue) *Runner {
	if owner == "" {
		owner = NewOwner()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{owner: owner, logger: logger, metrics: metrics}
	for _, q := range queues {
		if q.Concurrency <= 0 {
			q.Concurrency = 8
		}
		if q.Interval <= 0 {
			q.Interval = time.Second
		}
		r.queues = append(r.queues, &queueState{Queue: q, wake: make(chan struct{}, 1), slot: make(chan struct{}, q.Concurrency)})
		metrics.queue(q.Name)
	}
	return r
}

// Owner is the lease-owner id of this runner.
func (r *Runner) Owner() string { return r.owner }

// Start begins polling every queue until Stop. Calling it twice is a no-op.
func (r *Runner) Start(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return
	}
	r.started = true
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, q := range r.queues {
		r.loops.Add(1)
		go r.loop(ctx, q)
	}
}

// Stop stops claiming and waits for running jobs to finish, or for ctx to
// end (then it returns ctx's error; the unfinished jobs' leases expire and
// other nodes take them over).
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	if !r.started {
		r.mu.Unlock()
		return nil
	}
	r.cancel()
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		r.loops.Wait()
		r.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jobs: stop: %w", ctx.Err())
	}
}

// Wake makes the named queue look for due work now (e.g. after a schedule
// due immediately was created). Unknown names are ignored.
func (r *Runner) Wake(name string) {
	for _, q := range r.queues {
		if q.Name == name {
			select {
			case q.wake <- struct{}{}:
			default:
			}
		}
	}
}

func (r *Runner) loop(ctx context.Context, q *queueState) {
	defer r.loops.Done()
	t := time.NewTicker(q.Interval)
	defer t.Stop()
	var mu sync.Mutex
	active := 0
	for {
		mu.Lock()
		free := q.Concurrency - active
		mu.Unlock()
		// With every slot busy, or after a claim that filled every free
		// slot, the next claim waits for a slot rather than the ticker.
		full := free <= 0
		if free > 0 {
			jobs, err := q.Claim(ctx, r.owner, free)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				r.metrics.claimError(q.Name)
				r.logger.Error("jobs: claim failed", "queue", q.Name, "error", err)
			}
			r.metrics.claimed(q.Name, len(jobs))
			full = len(jobs) == free
			for _, j := range jobs {
				mu.Lock()
				active++
				mu.Unlock()
				r.running.Add(1)
				go func(j Job) {
					defer r.running.Done()
					start := time.Now()
					defer func() {
						if v := recover(); v != nil {
							r.logger.Error("jobs: job panicked", "queue", q.Name, "job", j.Key, "panic", v)
						}
						r.metrics.ran(q.Name, time.Since(start))
						mu.Lock()
						active--
						mu.Unlock()
						select {
						case q.slot <- struct{}{}:
						default:
						}
					}()
					j.Run(context.WithoutCancel(ctx))
				}(j)
			}
		}
		if full {
			// More work is probably due: wait until a quarter of the
			// slots are free (or none is busy), so one claim refills
			// several slots rather than each finished job costing a
			// claim of its own.
			for {
				select {
				case <-ctx.Done():
					return
				case <-q.slot:
				}
				mu.Lock()
				free, idle := q.Concurrency-active, active == 0
				mu.Unlock()
				if idle || free >= refillAt(q.Concurrency) {
					break
				}
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-t.C:
		}
	}
}
