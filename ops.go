package billkey

import "time"

// OpsSnapshot is what an operator watches in the database: work that is
// waiting, and since when. Every count is an index lookup (partial indexes
// on the waiting states), cheap enough to run on each metrics scrape.
type OpsSnapshot struct {
	// UnknownCharges are API payments whose PG outcome is unknown (the
	// reconciler is asking INICIS); OldestUnknownCharge is when the oldest
	// started (zero when none).
	UnknownCharges      int
	OldestUnknownCharge time.Time
	// UnknownRefunds are refunds whose PG outcome is unknown; a partial one
	// waits for an operator.
	UnknownRefunds      int
	OldestUnknownRefund time.Time
	// WebhooksPending are deliveries not yet acknowledged by the merchant
	// (retrying); OldestWebhookPending is when the oldest was queued.
	WebhooksPending      int
	OldestWebhookPending time.Time
	// SchedulesDue are scheduled payments due at now but not run yet;
	// OldestScheduleDue is when the longest-waiting one fell due.
	SchedulesDue      int
	OldestScheduleDue time.Time
	// WindowsOpen are payment window attempts open or being approved.
	WindowsOpen int
}
