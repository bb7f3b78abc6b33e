package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/jobs"
)

// QueueMaintenance is the job queue of periodic housekeeping: expiring
// Idempotency-Key rows, and finishing subscription renewals whose outcome
// hook a stopped node never ran.
const QueueMaintenance = "maintenance"

// MaintenanceInterval is how often each node runs the housekeeping job.
const MaintenanceInterval = time.Minute

// expireBatch bounds one DELETE of expired rows.
const expireBatch = 1000

// ClaimMaintenance is the jobs.ClaimFunc of QueueMaintenance: one job that
// deletes Idempotency-Key rows older than billkey.IdempotencyTTL (24 hours,
// as Stripe), in batches. Several nodes may run it at once: deleting an
// expired row twice is harmless.
func (s *Service) ClaimMaintenance(ctx context.Context, owner string, limit int) ([]jobs.Job, error) {
	now := s.Now()
	if limit <= 0 || !s.maintLast.swapIfOlder(now, MaintenanceInterval) {
		return nil, nil // not due on this node yet
	}
	return []jobs.Job{{Key: "expire idempotency keys", Run: func(ctx context.Context) {
		if _, err := s.ExpireIdempotencyKeys(ctx); err != nil {
			s.Logger.Error("expire idempotency keys", "error", err)
		}
	}}, {Key: "repair subscriptions", Run: func(ctx context.Context) { // subscription.go
		if _, err := s.RepairSubscriptions(ctx); err != nil {
			s.Logger.Error("repair subscriptions", "error", err)
		}
	}}}, nil
}

// ExpireIdempotencyKeys deletes every Idempotency-Key row older than
// billkey.IdempotencyTTL and reports how many it deleted.
func (s *Service) ExpireIdempotencyKeys(ctx context.Context) (int64, error) {
	cutoff := s.Now().Add(-billkey.IdempotencyTTL)
	var total int64
	for {
		n, err := s.Store.ExpireIdempotencyKeys(ctx, cutoff, expireBatch)
		total += n
		if err != nil || n < expireBatch {
			return total, err
		}
	}
}

// atomicTime is a time guarded by a mutex.
type atomicTime struct {
	mu sync.Mutex
	t  time.Time
}

// swapIfOlder sets the time to now and reports true when it was unset or at
// least d before now.
func (a *atomicTime) swapIfOlder(now time.Time, d time.Duration) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.t.IsZero() && now.Sub(a.t) < d && !now.Before(a.t) {
		return false
	}
	a.t = now
	return true
}
