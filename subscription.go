package billkey

import (
	"strconv"
	"strings"
	"time"
)

// SubscriptionStatus is where a subscription stands.
type SubscriptionStatus string

// Subscription statuses.
const (
	SubTrialing  SubscriptionStatus = "trialing"  // before the first charge, which is after a trial
	SubActive    SubscriptionStatus = "active"    // renewing (perhaps retrying a soft decline)
	SubPastDue   SubscriptionStatus = "past_due"  // retries exhausted or a hard decline: waits for a new card
	SubPaused    SubscriptionStatus = "paused"    // no charges until resumed
	SubUnpaid    SubscriptionStatus = "unpaid"    // the dunning policy gave up; kept, not charged
	SubCancelled SubscriptionStatus = "cancelled" // ended by the merchant or the dunning policy
	SubCompleted SubscriptionStatus = "completed" // every cycle paid
)

// Ended reports whether no charge will ever be made again.
func (s SubscriptionStatus) Ended() bool {
	return s == SubCancelled || s == SubCompleted || s == SubUnpaid
}

// Subscription is a recurring plan of one customer_uid. Each period's charge
// is the schedule SubscriptionOrder(ID, Period).
type Subscription struct {
	ID          int64
	MerchantID  int64
	CustomerUID string
	Name        string
	Amount      int64
	NextAmount  int64
	AmountFrom  int // period from which NextAmount applies; -1: none
	Unit        string
	Count       int
	AnchorAt    time.Time
	StartAt     time.Time
	TrialEndAt  time.Time
	Cycles      int // 0: until cancelled
	Status      SubscriptionStatus
	Period      int
	PaidCycles  int
	Retries     int
	RetryDays   []int
	FinalAction string // none, unpaid or cancel
	CancelAtEnd bool
	TestClockID int64
	NoticeURL   string
	LastFail    string
	PausedAt    time.Time
	EndedAt     time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// SubscriptionOrderPrefix starts the merchant_uid of every subscription
// charge: sub_<subscription id>_<period+1>.
const SubscriptionOrderPrefix = "sub_"

// SubscriptionOrder returns the merchant_uid of period k's charge.
func SubscriptionOrder(id int64, period int) string {
	return SubscriptionOrderPrefix + strconv.FormatInt(id, 10) + "_" + strconv.Itoa(period+1)
}

// ParseSubscriptionOrder returns the subscription id and period of a
// subscription charge's merchant_uid; ok is false for any other order.
func ParseSubscriptionOrder(merchantUID string) (id int64, period int, ok bool) {
	rest, found := strings.CutPrefix(merchantUID, SubscriptionOrderPrefix)
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(rest, "_")
	if !found {
		return 0, 0, false
	}
	id, err1 := strconv.ParseInt(a, 10, 64)
	n, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || id <= 0 || n <= 0 || strconv.Itoa(n) != b || strconv.FormatInt(id, 10) != a {
		return 0, 0, false
	}
	return id, n - 1, true
}

// ParseRetryDays parses a stored "1,3,7".
func ParseRetryDays(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// SubscriptionEvent is a subscription.* webhook to queue with a change.
type SubscriptionEvent struct {
	Type        string // subscription.renewed, .past_due, .recovered, .cancelled
	ImpUID      string
	MerchantUID string
	Payload     []byte
}

// TestClock is a simulated "now" that subscriptions attach to.
type TestClock struct {
	ID         int64
	MerchantID int64
	Name       string
	Now        time.Time
	Status     string // ready, advancing
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// SubscriptionEventRow is a subscription.* event of the outbox.
type SubscriptionEventRow struct {
	ID          int64
	Type        string
	MerchantUID string
	ImpUID      string
	CreatedAt   time.Time
}
