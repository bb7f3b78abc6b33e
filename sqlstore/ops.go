package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/billkey/billkey"
)

// OpsSnapshot reads the waiting work as of now.
func (s *Store) OpsSnapshot(ctx context.Context, now time.Time) (billkey.OpsSnapshot, error) {
	var o billkey.OpsSnapshot
	var min int64
	row := func(dst *int, oldest *time.Time, ms bool, query string, args ...any) error {
		if err := s.read.QueryRowContext(ctx, query, args...).Scan(dst, &min); err != nil {
			return fmt.Errorf("sqlstore: ops snapshot: %w", err)
		}
		switch {
		case min == 0 || oldest == nil:
		case ms:
			*oldest = time.UnixMilli(min)
		default:
			*oldest = time.Unix(min, 0)
		}
		return nil
	}
	if err := row(&o.UnknownCharges, &o.OldestUnknownCharge, false,
		`SELECT COUNT(*), COALESCE(MIN(started_at), 0) FROM payments WHERE status = 'ready' AND outcome_unknown`); err != nil {
		return o, err
	}
	if err := row(&o.UnknownRefunds, &o.OldestUnknownRefund, false,
		`SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM payment_cancels WHERE state IN ('pending', 'uncertain') AND state = 'uncertain'`); err != nil {
		return o, err
	}
	if err := row(&o.WebhooksPending, &o.OldestWebhookPending, false,
		`SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM webhook_deliveries WHERE state = 'pending'`); err != nil {
		return o, err
	}
	if err := row(&o.SchedulesDue, &o.OldestScheduleDue, true,
		`SELECT COUNT(*), COALESCE(MIN(run_after_ms), 0) FROM schedules WHERE status = 'scheduled' AND run_after_ms <= $1`, now.UnixMilli()); err != nil {
		return o, err
	}
	if err := row(&o.WindowsOpen, nil, false,
		`SELECT COUNT(*), 0 FROM window_attempts WHERE state IN ('open', 'processing')`); err != nil {
		return o, err
	}
	return o, nil
}
