package gateway

import (
	"context"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/cycle"
)

// Subscription returns one subscription; ENOTFOUND (HTTP 404) if none.
func (s *Service) Subscription(ctx context.Context, merchantID, id int64) (*billkey.Subscription, error) {
	return s.Store.SubscriptionByID(ctx, merchantID, id)
}

// Subscriptions lists the merchant's subscriptions (of customerUID when
// given), newest first.
func (s *Service) Subscriptions(ctx context.Context, merchantID int64, customerUID string, page, limit int) ([]*billkey.Subscription, int, error) {
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	page = max(page, 1)
	return s.Store.ListSubscriptions(ctx, merchantID, customerUID, (page-1)*limit, limit)
}

// mutate applies change to the subscription under optimistic concurrency
// (retried a few times when a renewal races it).
func (s *Service) mutate(ctx context.Context, merchantID, id int64,
	change func(prev, sub *billkey.Subscription, now time.Time) ([]billkey.SubscriptionEvent, error),
	after func(sub *billkey.Subscription, now time.Time) error) (*billkey.Subscription, error) {
	for range 5 {
		prev, err := s.Store.SubscriptionByID(ctx, merchantID, id)
		if err != nil {
			return nil, err
		}
		now, err := s.subNow(ctx, prev)
		if err != nil {
			return nil, err
		}
		sub := *prev
		evs, err := change(prev, &sub, now)
		if err != nil {
			return nil, err
		}
		done, err := s.Store.UpdateSubscription(ctx, prev, &sub, evs)
		if err != nil {
			return nil, err
		}
		if !done {
			continue
		}
		if len(evs) > 0 {
			s.wake(QueueWebhooks)
		}
		if after != nil {
			if err := after(&sub, now); err != nil {
				return nil, err
			}
		}
		return &sub, nil
	}
	return nil, billkey.Errorf(billkey.EREJECTED, "구독이 동시에 변경되고 있습니다. 잠시 후 다시 시도해주세요.")
}

// revokePending revokes the pending schedule of the subscription's current
// period. A schedule being charged right now cannot be revoked: the caller
// is told to try again.
func (s *Service) revokePending(ctx context.Context, sub *billkey.Subscription) error {
	uid := billkey.SubscriptionOrder(sub.ID, sub.Period)
	sc, err := s.Store.ScheduleByMerchantUID(ctx, sub.MerchantID, uid)
	if billkey.ErrorCode(err) == billkey.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if sc.Status != billkey.ScheduleScheduled {
		return nil
	}
	scs, err := s.Store.RevokeSchedules(ctx, sub.MerchantID, sub.CustomerUID, []string{uid})
	if err != nil {
		return err
	}
	if len(scs) == 0 {
		return rejectf("이번 회차(%s) 결제가 지금 진행 중입니다. 잠시 후 다시 시도해주세요.", uid)
	}
	return nil
}

// PauseSubscription stops charging until resumed: the pending charge is
// revoked. Periods that fall inside the pause are skipped, not charged late.
func (s *Service) PauseSubscription(ctx context.Context, merchantID, id int64) (*billkey.Subscription, error) {
	prev, err := s.Store.SubscriptionByID(ctx, merchantID, id)
	if err != nil {
		return nil, err
	}
	if prev.Status != billkey.SubActive && prev.Status != billkey.SubTrialing && prev.Status != billkey.SubPastDue {
		return nil, rejectf("진행 중인 구독만 일시정지할 수 있습니다. (status: %s)", prev.Status)
	}
	if err := s.revokePending(ctx, prev); err != nil {
		return nil, err
	}
	return s.mutate(ctx, merchantID, id, func(prev, sub *billkey.Subscription, now time.Time) ([]billkey.SubscriptionEvent, error) {
		if prev.Status.Ended() || prev.Status == billkey.SubPaused {
			return nil, rejectf("진행 중인 구독만 일시정지할 수 있습니다. (status: %s)", prev.Status)
		}
		sub.Status, sub.PausedAt = billkey.SubPaused, now
		return nil, nil
	}, nil)
}

// ResumeSubscription resumes a paused subscription at its first period
// after now; the retries of an unpaid period start over.
func (s *Service) ResumeSubscription(ctx context.Context, merchantID, id int64) (*billkey.Subscription, error) {
	return s.mutate(ctx, merchantID, id, func(prev, sub *billkey.Subscription, now time.Time) ([]billkey.SubscriptionEvent, error) {
		if prev.Status != billkey.SubPaused {
			return nil, rejectf("일시정지된 구독만 재개할 수 있습니다. (status: %s)", prev.Status)
		}
		sub.Status, sub.PausedAt, sub.Retries = billkey.SubActive, time.Time{}, 0
		if prev.PaidCycles == 0 && !prev.TrialEndAt.IsZero() && prev.TrialEndAt.After(now) {
			sub.Status = billkey.SubTrialing
		}
		sub.Period = cycle.NextAfter(prev.AnchorAt, interval(prev), prev.Period, now)
		return nil, nil
	}, func(sub *billkey.Subscription, now time.Time) error {
		return s.schedulePeriod(ctx, sub, sub.Period, PeriodAt(sub, sub.Period))
	})
}

// CancelSubscription ends the subscription: its pending charge is revoked.
// atPeriodEnd keeps the service until the current period's end (reported
// as ended_at); either way nothing is charged again.
func (s *Service) CancelSubscription(ctx context.Context, merchantID, id int64, atPeriodEnd bool) (*billkey.Subscription, error) {
	prev, err := s.Store.SubscriptionByID(ctx, merchantID, id)
	if err != nil {
		return nil, err
	}
	if prev.Status == billkey.SubCancelled || prev.Status == billkey.SubCompleted {
		return nil, rejectf("이미 종료된 구독입니다. (status: %s)", prev.Status)
	}
	if err := s.revokePending(ctx, prev); err != nil {
		return nil, err
	}
	return s.mutate(ctx, merchantID, id, func(prev, sub *billkey.Subscription, now time.Time) ([]billkey.SubscriptionEvent, error) {
		if prev.Status == billkey.SubCancelled || prev.Status == billkey.SubCompleted {
			return nil, rejectf("이미 종료된 구독입니다. (status: %s)", prev.Status)
		}
		sub.Status, sub.EndedAt, sub.CancelAtEnd = billkey.SubCancelled, now, atPeriodEnd
		if atPeriodEnd && prev.Status != billkey.SubPastDue && PeriodAt(prev, prev.Period).After(now) {
			sub.EndedAt = PeriodAt(prev, prev.Period)
		}
		reason := "requested"
		if atPeriodEnd {
			reason = "requested_at_period_end"
		}
		return []billkey.SubscriptionEvent{subscriptionEvent("subscription.cancelled", sub, prev.Period, "", reason)}, nil
	}, nil)
}

// ChangeSubscription changes the amount (and name) from the next period
// whose charge is not yet scheduled: the charge already scheduled keeps
// its amount.
func (s *Service) ChangeSubscription(ctx context.Context, merchantID, id int64, amount int64, name string) (*billkey.Subscription, error) {
	if amount <= 0 || amount > maxAmount {
		return nil, rejectf("amount는 0보다 커야 합니다.")
	}
	if err := checkText("name", name, maxName); err != nil {
		return nil, err
	}
	return s.mutate(ctx, merchantID, id, func(prev, sub *billkey.Subscription, now time.Time) ([]billkey.SubscriptionEvent, error) {
		if prev.Status.Ended() {
			return nil, rejectf("종료된 구독은 변경할 수 없습니다. (status: %s)", prev.Status)
		}
		sub.NextAmount, sub.AmountFrom = amount, prev.Period+1
		if prev.Status == billkey.SubPaused {
			sub.AmountFrom = prev.Period // its next charge is scheduled at resume
		}
		if name != "" {
			sub.Name = name
		}
		return nil, nil
	}, nil)
}

// RetrySubscription charges a subscription's declined cycle now (after the
// customer's card was replaced: POST /subscribe/customers or the payment
// window): a past-due or unpaid subscription, or one waiting for a dunning
// retry. On a test clock the clock runs the charge at once. Paid, a past-due
// or unpaid subscription is active again with subscription.recovered.
func (s *Service) RetrySubscription(ctx context.Context, merchantID, id int64) (*billkey.Subscription, error) {
	sub, err := s.Store.SubscriptionByID(ctx, merchantID, id)
	if err != nil {
		return nil, err
	}
	if !retryable(sub, true) {
		return nil, rejectf("연체(past_due)·미납(unpaid) 중이거나 재시도 대기 중인 구독만 즉시 재시도할 수 있습니다. (status: %s)", sub.Status)
	}
	if err := s.retryDue(ctx, sub, true, nil); err != nil {
		return nil, err
	}
	return s.Store.SubscriptionByID(ctx, merchantID, id)
}

// repairAfter is how long after a charge was recorded a subscription that
// did not move on is considered stalled.
const repairAfter = time.Minute

// RepairSubscriptions finishes the renewals whose outcome hook never ran (a
// node stopped right after recording a charge): it applies the recorded
// outcome, which is safe to apply twice. It reports how many it repaired.
func (s *Service) RepairSubscriptions(ctx context.Context) (int, error) {
	scs, err := s.Store.StalledSubscriptions(ctx, s.Now().Add(-repairAfter), 100)
	if err != nil {
		return 0, err
	}
	for _, sc := range scs {
		r := billkey.ScheduleResult{ImpUID: sc.ImpUID, PaymentStatus: sc.PaymentStatus, FailReason: sc.FailReason, ExecutedAt: sc.ExecutedAt}
		if r.PaymentStatus != billkey.StatusPaid {
			r.PaymentStatus = billkey.StatusFailed // failed, or cancelled since: not a renewal
		}
		s.Logger.Warn("subscription: applying a recorded outcome whose hook did not run", "merchant_uid", sc.MerchantUID)
		s.subscriptionCharged(ctx, sc, r)
	}
	return len(scs), nil
}

// keyReplaced retries at once the declined cycle of the customer's
// subscriptions that wait on one (past due, or a dunning retry pending)
// when the customer's card was replaced (REST issuance or the payment
// window). On a test clock the retry is due at the clock's time and runs
// when the clock is next advanced (or by POST …/retry; a card-update link
// runs it at once). Unpaid subscriptions are retried only on request (POST
// …/retry or a card-update link): the dunning policy gave up on them.
func (s *Service) keyReplaced(ctx context.Context, merchantID int64, customerUID string) {
	subs, _, err := s.Store.ListSubscriptions(ctx, merchantID, customerUID, 0, 100)
	if err != nil {
		s.Logger.Error("subscription: retry after a card update", "customer_uid", customerUID, "error", err)
		return
	}
	for _, sub := range subs {
		if !retryable(sub, false) {
			continue
		}
		if err := s.retryDue(ctx, sub, false, nil); err != nil {
			s.Logger.Error("subscription: retry after a card update", "subscription_id", sub.ID, "error", err)
			continue
		}
		s.Logger.Info("subscription: card replaced, retrying the declined cycle", "subscription_id", sub.ID)
	}
}
