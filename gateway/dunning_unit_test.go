package gateway

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/billkey/billkey"
)

// subStore is memStore with one subscription, recording the dunning
// decisions the gateway writes.
type subStore struct {
	*memStore
	sub      billkey.Subscription
	updates  []billkey.Subscription
	events   []string
	rearmed  []time.Time
	schedule []*billkey.Schedule
}

func (s *subStore) SubscriptionByID(_ context.Context, mid, id int64) (*billkey.Subscription, error) {
	if id != s.sub.ID || mid != s.sub.MerchantID {
		return nil, notFound("subscription")
	}
	c := s.sub
	return &c, nil
}

func (s *subStore) UpdateSubscription(_ context.Context, prev, sub *billkey.Subscription, evs []billkey.SubscriptionEvent) (bool, error) {
	s.sub = *sub
	s.updates = append(s.updates, *sub)
	for _, e := range evs {
		s.events = append(s.events, e.Type)
	}
	return true, nil
}

func (s *subStore) RearmSubscriptionSchedule(_ context.Context, _ int64, _ string, at time.Time) error {
	s.rearmed = append(s.rearmed, at)
	return nil
}

func (s *subStore) CreateSchedules(_ context.Context, scs []*billkey.Schedule) error {
	s.schedule = append(s.schedule, scs...)
	return nil
}

// TestSubscriptionDunningDecisions: what a renewal's result does to its
// subscription: a payment renews it and schedules the next period; a soft
// decline is retried on the policy's days; a hard decline, or a soft one
// past the last retry, makes it past due and then applies the final action.
func TestSubscriptionDunningDecisions(t *testing.T) {
	anchor := fakeNow.Add(-time.Hour)
	for _, c := range []struct {
		name    string
		prev    func(*billkey.Subscription)
		result  billkey.ScheduleResult
		status  billkey.SubscriptionStatus
		retries int
		events  []string
		rearmed int
		next    int // schedules created for the next period
	}{
		{name: "paid", result: billkey.ScheduleResult{PaymentStatus: billkey.StatusPaid, ImpUID: "imps_1"},
			status: billkey.SubActive, events: []string{"subscription.renewed"}, next: 1},
		{name: "paid after past due recovers", prev: func(s *billkey.Subscription) { s.Status, s.Retries = billkey.SubPastDue, 2 },
			result: billkey.ScheduleResult{PaymentStatus: billkey.StatusPaid, ImpUID: "imps_1"},
			status: billkey.SubActive, events: []string{"subscription.renewed", "subscription.recovered"}, next: 1},
		{name: "last cycle paid completes", prev: func(s *billkey.Subscription) { s.Cycles, s.PaidCycles = 1, 0 },
			result: billkey.ScheduleResult{PaymentStatus: billkey.StatusPaid, ImpUID: "imps_1"},
			status: billkey.SubCompleted, events: []string{"subscription.renewed"}},
		{name: "soft decline retried", result: billkey.ScheduleResult{PaymentStatus: billkey.StatusFailed, FailReason: "[1254] 잔액부족"},
			status: billkey.SubActive, retries: 1, rearmed: 1},
		{name: "hard decline past due", result: billkey.ScheduleResult{PaymentStatus: billkey.StatusFailed, FailReason: "[1205] 유효기간 경과"},
			status: billkey.SubPastDue, events: []string{"subscription.past_due"}},
		{name: "retries exhausted then cancelled", prev: func(s *billkey.Subscription) { s.Retries, s.FinalAction = 3, FinalCancel },
			result: billkey.ScheduleResult{PaymentStatus: billkey.StatusFailed, FailReason: "[1254] 잔액부족"},
			status: billkey.SubCancelled, retries: 3, events: []string{"subscription.past_due", "subscription.cancelled"}},
		{name: "hard decline marked unpaid", prev: func(s *billkey.Subscription) { s.FinalAction = FinalUnpaid },
			result: billkey.ScheduleResult{PaymentStatus: billkey.StatusFailed, FailReason: "분실 신고된 카드"},
			status: billkey.SubUnpaid, events: []string{"subscription.past_due"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := newUnit(t)
			st := &subStore{memStore: u.st, sub: billkey.Subscription{ID: 7, MerchantID: u.merchant.ID, CustomerUID: "c1", Name: "plan",
				Amount: 9900, AmountFrom: -1, Unit: "month", Count: 1, AnchorAt: anchor, Status: billkey.SubActive, RetryDays: []int{1, 3, 7}}}
			if c.prev != nil {
				c.prev(&st.sub)
			}
			u.svc.Store = st
			sc := &billkey.Schedule{ID: 1, MerchantID: u.merchant.ID, CustomerUID: "c1", MerchantUID: billkey.SubscriptionOrder(7, 0)}
			u.svc.subscriptionCharged(context.Background(), sc, c.result)
			if st.sub.Status != c.status || st.sub.Retries != c.retries || !slices.Equal(st.events, c.events) {
				t.Fatalf("status %s retries %d events %v", st.sub.Status, st.sub.Retries, st.events)
			}
			if len(st.rearmed) != c.rearmed || len(st.schedule) != c.next {
				t.Fatalf("%d retries scheduled, %d next periods", len(st.rearmed), len(st.schedule))
			}
			if c.rearmed > 0 && !st.rearmed[0].Equal(anchor.In(time.UTC).AddDate(0, 0, 1)) {
				t.Fatalf("retry at %s, want a day after the due time", st.rearmed[0])
			}
			if c.next > 0 && (st.schedule[0].MerchantUID != billkey.SubscriptionOrder(7, 1) || st.schedule[0].Amount != 9900) {
				t.Fatalf("next period %+v", st.schedule[0])
			}
		})
	}
}

// TestRenewalOfAnotherOrderIsIgnored: a schedule whose merchant_uid only
// looks like a subscription's, or names a subscription of another
// customer, changes nothing.
func TestRenewalOfAnotherOrderIsIgnored(t *testing.T) {
	u := newUnit(t)
	st := &subStore{memStore: u.st, sub: billkey.Subscription{ID: 7, MerchantID: u.merchant.ID, CustomerUID: "c1", Status: billkey.SubActive, AmountFrom: -1}}
	u.svc.Store = st
	paid := billkey.ScheduleResult{PaymentStatus: billkey.StatusPaid}
	for _, sc := range []*billkey.Schedule{
		{MerchantID: u.merchant.ID, CustomerUID: "c1", MerchantUID: "order-123"},
		{MerchantID: u.merchant.ID, CustomerUID: "c2", MerchantUID: billkey.SubscriptionOrder(7, 0)},
		{MerchantID: u.merchant.ID, CustomerUID: "c1", MerchantUID: billkey.SubscriptionOrder(8, 0)},
	} {
		u.svc.subscriptionCharged(context.Background(), sc, paid)
	}
	if len(st.updates) != 0 || len(st.schedule) != 0 {
		t.Fatalf("updates %d, schedules %d", len(st.updates), len(st.schedule))
	}
}
