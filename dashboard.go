package billkey

import "time"

// DailyFigure is one day of approvals.
type DailyFigure struct {
	Day    time.Time // midnight, in the dashboard's location
	Count  int
	Amount int64
}

// Reason is a decline reason and how often it happened.
type Reason struct {
	Reason string
	Count  int
}

// Dashboard is a merchant's figures for a period, of test or live channels.
type Dashboard struct {
	Daily            []DailyFigure // every day of the period, zeros included
	ApprovedCount    int
	ApprovedAmount   int64
	DeclinedCount    int
	DeclineReasons   []Reason // the most frequent first, at most 8
	RefundCount      int
	RefundAmount     int64
	UpcomingCount    int // scheduled in the next 30 days
	UpcomingAmount   int64
	UnknownPayments  int // charges of unknown outcome awaiting reconciliation
	UncertainRefunds int // refunds of unknown outcome
	Webhooks         map[DeliveryState]int
	WebhookFailures  int // attempts of the period that got no 2xx
}

// ApprovalRate is approved / (approved + declined), in percent; -1 when
// there was no attempt.
func (d *Dashboard) ApprovalRate() float64 {
	n := d.ApprovedCount + d.DeclinedCount
	if n == 0 {
		return -1
	}
	return float64(d.ApprovedCount) * 100 / float64(n)
}

// DashboardQuery selects the merchant, period [From, To) and mode.
type DashboardQuery struct {
	MerchantID int64
	Live       bool
	From, To   time.Time
	Loc        *time.Location // days are cut in this location
	// SchedulesLive is the mode of the merchant's default channel, which
	// scheduled payments charge: upcoming schedules are counted only in it.
	SchedulesLive bool
	Now           time.Time
}
