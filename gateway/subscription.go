package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/cycle"
)

// Subscriptions are billkey's own recurring plans over i'mport schedules:
// period k of subscription N is charged by the ordinary schedule
// "sub_N_<k+1>" (billkey.SubscriptionOrder), so every charge is an
// i'mport payment with its usual webhook, visible to
// GET /subscribe/payments/schedule. When a period's schedule is recorded
// (paid or declined), subscriptionCharged moves the subscription on:
// schedules the next period, or applies the dunning policy. Its writes
// are conditional on the subscription's state (a repeated or racing call
// changes nothing) and the next period's merchant_uid is deterministic
// (a second registration is refused by the schedules' unique key), so a
// period is never charged twice.

// Subscription policy defaults.
var (
	// DefaultRetryDays are the dunning retries of a soft decline: 1, 3 and
	// 7 days after the period's billing time.
	DefaultRetryDays = []int{1, 3, 7}
)

// Final actions once dunning gives up.
const (
	FinalPastDue = "past_due" // stay past_due until a new card or a cancel (default)
	FinalUnpaid  = "unpaid"   // stop charging, keep the subscription as unpaid
	FinalCancel  = "cancel"   // cancel the subscription
)

// maxRetries bounds a retry policy's length and maxRetryDay its days.
const (
	maxRetries  = 10
	maxRetryDay = 60
)

// SubscriptionInput is POST /subscriptions.
type SubscriptionInput struct {
	CustomerUID string
	Name        string
	Amount      int64
	Interval    cycle.Interval
	// Start is the first billing time (zero: now, or the clock's now);
	// with a trial, the first charge is at TrialEnd instead.
	Start     time.Time
	TrialEnd  time.Time
	TrialDays int
	Cycles    int // 0: until cancelled
	RetryDays []int
	// RetryDaysSet distinguishes "retry_days: []" (no retries) from absent.
	RetryDaysSet bool
	FinalAction  string
	NoticeURL    string
	TestClockID  int64
}

// subNow is the subscription's "now": its test clock's time, or the wall
// clock's.
func (s *Service) subNow(ctx context.Context, sub *billkey.Subscription) (time.Time, error) {
	if sub.TestClockID == 0 {
		return s.Now(), nil
	}
	c, err := s.Store.TestClockByID(ctx, sub.MerchantID, sub.TestClockID)
	if err != nil {
		return time.Time{}, err
	}
	return c.Now, nil
}

// CreateSubscription validates the plan, records it and schedules its
// first charge. Nothing is written when anything is refused.
func (s *Service) CreateSubscription(ctx context.Context, merchantID int64, in SubscriptionInput) (*billkey.Subscription, error) {
	ci := ChargeInput{CustomerUID: in.CustomerUID, MerchantUID: "sub_0_1", Name: in.Name,
		Amounts: Amounts{Amount: in.Amount}, NoticeURL: in.NoticeURL}
	if err := ci.check(); err != nil {
		return nil, err
	}
	if in.Name == "" {
		return nil, rejectf("name 파라미터가 누락되었습니다.")
	}
	if in.Amount <= 0 {
		return nil, rejectf("amount는 0보다 커야 합니다.")
	}
	if in.Interval.Unit == "" {
		in.Interval.Unit = cycle.Month
	}
	if in.Interval.Count == 0 {
		in.Interval.Count = 1
	}
	if err := in.Interval.Validate(); err != nil {
		return nil, rejectf("interval이 올바르지 않습니다: %s (interval: day, week, month, year; interval_count: 1~%d)", err.Error(), cycle.MaxCount)
	}
	if in.Cycles < 0 || in.Cycles > 10000 {
		return nil, rejectf("cycles는 0(해지할 때까지) 이상 10000 이하여야 합니다.")
	}
	days := in.RetryDays
	if !in.RetryDaysSet {
		days = DefaultRetryDays
	}
	if len(days) > maxRetries {
		return nil, rejectf("retry_days는 최대 %d개까지 지정할 수 있습니다.", maxRetries)
	}
	for i, d := range days {
		if d < 1 || d > maxRetryDay || (i > 0 && d <= days[i-1]) {
			return nil, rejectf("retry_days는 1~%d 사이의 증가하는 일 수여야 합니다. (예: [1, 3, 7])", maxRetryDay)
		}
	}
	switch in.FinalAction {
	case "":
		in.FinalAction = FinalPastDue
	case FinalPastDue, FinalUnpaid, FinalCancel:
	default:
		return nil, rejectf("final_action은 past_due, unpaid, cancel 중 하나여야 합니다.")
	}
	if in.TrialDays < 0 || in.TrialDays > 730 {
		return nil, rejectf("trial_days는 0~730 사이여야 합니다.")
	}
	cust, err := s.Store.CustomerByUID(ctx, merchantID, in.CustomerUID)
	if billkey.ErrorCode(err) == billkey.ENOTFOUND {
		return nil, rejectf("%s (customer_uid: %s) 빌링키를 먼저 발급해주세요.", noScheduleCustomer, truncate(in.CustomerUID, 80))
	} else if err != nil {
		return nil, err
	}
	now := s.Now()
	if in.TestClockID != 0 {
		c, err := s.Store.TestClockByID(ctx, merchantID, in.TestClockID)
		if err != nil {
			return nil, err
		}
		ch, err := s.Store.ChannelByID(ctx, merchantID, cust.ChannelID)
		if err != nil {
			return nil, err
		}
		if ch.Live {
			return nil, rejectf("실결제(live) 채널의 고객은 테스트 시계에 연결할 수 없습니다. (test clocks are for test mode only)")
		}
		now = c.Now
	}
	start := in.Start
	if start.IsZero() {
		start = now
	} else if start.Before(now.Add(-schedulePastGrace)) {
		return nil, rejectf("start_at이 이미 지난 시각입니다.")
	}
	trialEnd := in.TrialEnd
	if trialEnd.IsZero() && in.TrialDays > 0 {
		trialEnd = start.In(cycle.KST).AddDate(0, 0, in.TrialDays)
	}
	if !trialEnd.IsZero() && !trialEnd.After(start) {
		return nil, rejectf("trial_end는 start_at 이후여야 합니다.")
	}
	if unixOf(trialEnd) > maxScheduleAt || start.Unix() > maxScheduleAt {
		return nil, rejectf("start_at, trial_end는 UNIX timestamp(초)여야 합니다.")
	}
	sub := &billkey.Subscription{
		MerchantID: merchantID, CustomerUID: in.CustomerUID, Name: in.Name, Amount: in.Amount, AmountFrom: -1,
		Unit: string(in.Interval.Unit), Count: in.Interval.Count, AnchorAt: cycle.Anchor(start, trialEnd),
		StartAt: start, TrialEndAt: trialEnd, Cycles: in.Cycles, Status: billkey.SubActive, RetryDays: days,
		FinalAction: in.FinalAction, TestClockID: in.TestClockID, NoticeURL: in.NoticeURL,
	}
	if !trialEnd.IsZero() {
		sub.Status = billkey.SubTrialing
	}
	if err := s.Store.CreateSubscription(ctx, sub); err != nil {
		return nil, err
	}
	if err := s.schedulePeriod(ctx, sub, 0, sub.AnchorAt); err != nil {
		if derr := s.Store.DeleteSubscription(context.WithoutCancel(ctx), sub.MerchantID, sub.ID); derr != nil {
			err = errors.Join(err, derr)
		}
		return nil, err
	}
	return sub, nil
}

func unixOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func interval(sub *billkey.Subscription) cycle.Interval {
	return cycle.Interval{Unit: cycle.Unit(sub.Unit), Count: sub.Count}
}

// PeriodAt returns the billing time of the subscription's period k.
func PeriodAt(sub *billkey.Subscription, k int) time.Time {
	return cycle.At(sub.AnchorAt, interval(sub), k)
}

// schedulePeriod registers period k's charge at at: a new schedule, or the
// period's revoked schedule made pending again (a resume). An existing
// pending schedule of the period is left as it is (a repeated call).
func (s *Service) schedulePeriod(ctx context.Context, sub *billkey.Subscription, k int, at time.Time) error {
	uid := billkey.SubscriptionOrder(sub.ID, k)
	sc := &billkey.Schedule{
		MerchantID: sub.MerchantID, CustomerUID: sub.CustomerUID, MerchantUID: uid, ScheduleAt: at,
		Amount: cycle.Amount(sub.Amount, sub.NextAmount, sub.AmountFrom, k), Currency: "KRW",
		Name: sub.Name, NoticeURL: sub.NoticeURL, TestClockID: sub.TestClockID,
	}
	err := s.Store.CreateSchedules(ctx, []*billkey.Schedule{sc})
	if billkey.ErrorCode(err) == billkey.EREJECTED {
		// The period is already scheduled (a repeated hook), or revoked by a
		// pause: make it pending again.
		if _, rerr := s.Store.RearmSchedule(ctx, sub.MerchantID, uid, at, "", time.Time{}); rerr != nil &&
			billkey.ErrorCode(rerr) != billkey.EINVALID {
			return rerr
		}
		err = nil
	}
	if err != nil {
		return err
	}
	s.wake(QueueSchedules)
	return nil
}

// subscriptionEvent builds a subscription.* webhook: its body names the
// subscription, the period and the payment.
func subscriptionEvent(typ string, sub *billkey.Subscription, k int, impUID, reason string) billkey.SubscriptionEvent {
	uid := billkey.SubscriptionOrder(sub.ID, k)
	body, _ := json.Marshal(struct {
		Type           string  `json:"type"`
		SubscriptionID int64   `json:"subscription_id"`
		CustomerUID    string  `json:"customer_uid"`
		Status         string  `json:"status"`
		Cycle          int     `json:"cycle"`
		MerchantUID    string  `json:"merchant_uid"`
		ImpUID         *string `json:"imp_uid"`
		Reason         *string `json:"reason"`
	}{typ, sub.ID, sub.CustomerUID, string(sub.Status), k + 1, uid, nilIfEmpty(impUID), nilIfEmpty(reason)})
	return billkey.SubscriptionEvent{Type: typ, ImpUID: impUID, MerchantUID: uid, Payload: body}
}

// subscriptionCharged is called once a schedule's outcome is recorded. For
// a subscription's charge it renews the subscription (next period
// scheduled, subscription.renewed) or applies the dunning policy to the
// decline. Failures are logged: the charge itself is recorded already.
func (s *Service) subscriptionCharged(ctx context.Context, sc *billkey.Schedule, r billkey.ScheduleResult) {
	id, k, ok := billkey.ParseSubscriptionOrder(sc.MerchantUID)
	if !ok {
		return
	}
	if err := s.advanceSubscription(ctx, sc, id, k, r); err != nil {
		s.Logger.Error("subscription: renewal bookkeeping failed", "subscription_id", id, "merchant_uid", sc.MerchantUID, "error", err)
	}
}

func (s *Service) advanceSubscription(ctx context.Context, sc *billkey.Schedule, id int64, k int, r billkey.ScheduleResult) error {
	prev, err := s.Store.SubscriptionByID(ctx, sc.MerchantID, id)
	if billkey.ErrorCode(err) == billkey.ENOTFOUND {
		return nil // a merchant's own order that looks like ours
	} else if err != nil {
		return err
	}
	waiting := prev.Status == billkey.SubPastDue || prev.Status == billkey.SubUnpaid // dunning gave up; a new card may pay
	if prev.CustomerUID != sc.CustomerUID || k < prev.Period || (prev.Status.Ended() && !waiting) || prev.Status == billkey.SubPaused {
		return nil // stale or repeated
	}
	now, err := s.subNow(ctx, prev)
	if err != nil {
		return err
	}
	sub := *prev
	var evs []billkey.SubscriptionEvent
	if r.PaymentStatus == billkey.StatusPaid {
		sub.Status, sub.PaidCycles, sub.Retries, sub.LastFail, sub.Period = billkey.SubActive, prev.PaidCycles+1, 0, "", k+1
		if sub.AmountFrom >= 0 && sub.Period >= sub.AmountFrom {
			sub.Amount, sub.NextAmount, sub.AmountFrom = sub.NextAmount, 0, -1
		}
		switch {
		case sub.Cycles > 0 && sub.PaidCycles >= sub.Cycles:
			sub.Status, sub.EndedAt = billkey.SubCompleted, now
		case sub.CancelAtEnd:
			sub.Status, sub.EndedAt = billkey.SubCancelled, now
		}
		if prev.Status == billkey.SubUnpaid {
			sub.EndedAt = time.Time{}
		}
		evs = append(evs, subscriptionEvent("subscription.renewed", &sub, k, r.ImpUID, ""))
		if waiting {
			evs = append(evs, subscriptionEvent("subscription.recovered", &sub, k, r.ImpUID, ""))
		}
		if sub.Status == billkey.SubCancelled {
			evs = append(evs, subscriptionEvent("subscription.cancelled", &sub, k, r.ImpUID, "cancel_at_period_end"))
		}
		done, err := s.Store.UpdateSubscription(ctx, prev, &sub, evs)
		if err != nil || !done || sub.Status.Ended() {
			return err
		}
		s.wake(QueueWebhooks)
		at := PeriodAt(&sub, sub.Period)
		if at.Before(now) {
			at = now // charges delayed past the next period's time: charge at once
		}
		return s.schedulePeriod(ctx, &sub, sub.Period, at)
	}
	// Declined.
	sub.LastFail, sub.Period = r.FailReason, k
	class := ClassifyDecline(r.FailReason)
	var retryAt time.Time
	if class == DeclineSoft && !waiting {
		if at, ok := cycle.Retry(PeriodAt(prev, k), prev.RetryDays, prev.Retries+1); ok {
			sub.Retries, retryAt = prev.Retries+1, at
			if retryAt.Before(now) {
				retryAt = now
			}
		}
	}
	if retryAt.IsZero() && !waiting {
		// Dunning gives up: hard decline, or the retries are exhausted.
		sub.Status = billkey.SubPastDue
		evs = append(evs, subscriptionEvent("subscription.past_due", &sub, k, r.ImpUID, r.FailReason))
		switch prev.FinalAction {
		case FinalUnpaid:
			sub.Status, sub.EndedAt = billkey.SubUnpaid, now
		case FinalCancel:
			sub.Status, sub.EndedAt = billkey.SubCancelled, now
			evs = append(evs, subscriptionEvent("subscription.cancelled", &sub, k, r.ImpUID, "dunning"))
		}
	}
	done, err := s.Store.UpdateSubscription(ctx, prev, &sub, evs)
	if err != nil || !done {
		return err
	}
	s.wake(QueueWebhooks)
	s.Logger.Info("subscription renewal declined", "subscription_id", sub.ID, "cycle", k+1, "class", string(class),
		"retry", sub.Retries, "retry_at", retryAt, "status", string(sub.Status))
	if !retryAt.IsZero() {
		if err := s.Store.RearmSubscriptionSchedule(ctx, sub.MerchantID, sc.MerchantUID, retryAt); err != nil {
			return err
		}
		s.wake(QueueSchedules)
	}
	return nil
}
