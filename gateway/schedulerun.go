package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/jobs"
)

// ClaimSchedules is the schedules queue's claim function: it leases due
// schedules to owner and returns a job executing each.
func (s *Service) ClaimSchedules(ctx context.Context, owner string, limit int) ([]jobs.Job, error) {
	now := s.Now()
	scs, err := s.Store.ClaimDueSchedules(ctx, owner, now, now.Add(s.Schedules.lease()), limit)
	if err != nil {
		return nil, err
	}
	out := make([]jobs.Job, len(scs))
	for i, sc := range scs {
		out[i] = jobs.Job{Key: fmt.Sprintf("schedule %d", sc.ID), Run: func(ctx context.Context) {
			if _, err := s.executeSchedule(ctx, owner, sc); err != nil && !errors.Is(err, errLeaseLost) &&
				billkey.ErrorCode(err) != billkey.EUNCERTAIN {
				s.Logger.Warn("schedule run deferred", "merchant_uid", sc.MerchantUID, "schedule_id", sc.ID, "error", err)
			}
		}}
	}
	return out, nil
}

// errLeaseLost means another node (or a revocation) took the schedule first.
var errLeaseLost = errors.New("gateway: schedule lease lost")

// executeSchedule runs a schedule owner has claimed: it charges the
// customer's key through ChargeAgain with the schedule's merchant_uid and
// records the result. It returns the payment made or adopted, or nil when
// the schedule was recorded failed without one.
//
// Exactly once: the payments table allows one non-failed payment per
// merchant_uid, so a second run can never approve again; and a run first
// adopts any payment the current run already made (a node died before
// recording it): paid or failed → the schedule is executed with it; ready
// (outcome unknown) → run again later, once the reconciler has resolved it.
func (s *Service) executeSchedule(ctx context.Context, owner string, sc *billkey.Schedule) (*billkey.Payment, error) {
	p, err := s.Store.RunPayment(ctx, sc.MerchantID, sc.MerchantUID, sc.PriorPaymentID)
	if err != nil {
		return nil, s.deferSchedule(ctx, owner, sc, err)
	}
	if p != nil && p.Status == billkey.StatusFailed && p.FailReason == reasonNoApproval {
		// A node died before this run's charge reached the PG, and the
		// reconciler confirmed the PG has no approval: nothing was charged,
		// so the run charges anew (one live payment per merchant_uid still
		// holds).
		ok, err := s.Store.SkipRunPayment(ctx, sc.ID, owner, p.ID)
		if err != nil {
			return nil, s.deferSchedule(ctx, owner, sc, err)
		}
		if !ok {
			return nil, errLeaseLost
		}
		s.Logger.Warn("scheduled payment never reached the PG (node stopped); charging again",
			"merchant_uid", sc.MerchantUID, "abandoned_imp_uid", p.ImpUID)
		sc.PriorPaymentID, p = p.ID, nil
	}
	if p != nil {
		return s.adoptPayment(ctx, owner, sc, p)
	}
	// Renewing the lease rechecks that the schedule is still pending and
	// ours right before the charge.
	ok, err := s.Store.RenewScheduleLease(ctx, sc.ID, owner, s.Now().Add(s.Schedules.lease()))
	if err != nil {
		return nil, s.deferSchedule(ctx, owner, sc, err)
	}
	if !ok {
		return nil, errLeaseLost
	}
	in := ChargeInput{
		CustomerUID: sc.CustomerUID, MerchantUID: sc.MerchantUID, Name: sc.Name,
		Amounts: Amounts{Amount: sc.Amount, TaxFree: sc.TaxFree, VatAmount: sc.VatAmount, Currency: sc.Currency, CardQuota: sc.CardQuota},
		Buyer:   sc.Buyer, CustomData: sc.CustomData, NoticeURL: sc.NoticeURL, Usage: billkey.UsageScheduled,
		fillBuyer: true,
	}
	pay, err := s.ChargeAgain(ctx, sc.MerchantID, in)
	switch code := billkey.ErrorCode(err); {
	case err == nil:
		return pay, s.finishSchedule(ctx, sc, pay)
	case code == billkey.EUNCERTAIN:
		// The payment stays ready for the reconciler; a later run adopts it.
		_ = s.deferSchedule(ctx, owner, sc, err)
		return nil, err
	case code == billkey.EREJECTED || code == billkey.EPG || code == billkey.EINVALID:
		// Perhaps a concurrent run of this schedule made the payment.
		if p, perr := s.Store.RunPayment(ctx, sc.MerchantID, sc.MerchantUID, sc.PriorPaymentID); perr == nil && p != nil {
			return s.adoptPayment(ctx, owner, sc, p)
		}
		return nil, s.failSchedule(ctx, sc, billkey.ErrorMessage(err))
	default:
		if sc.Attempts >= s.Schedules.maxAttempts() {
			s.Logger.Error("schedule failed after repeated internal errors", "merchant_uid", sc.MerchantUID,
				"schedule_id", sc.ID, "attempts", sc.Attempts, "error", err)
			return nil, s.failSchedule(ctx, sc, "내부 오류로 예약결제를 실행하지 못했습니다. (internal error)")
		}
		return nil, s.deferSchedule(ctx, owner, sc, err)
	}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// adoptPayment records an existing payment of the current run as the
// schedule's result, or waits for a ready one to be resolved.
func (s *Service) adoptPayment(ctx context.Context, owner string, sc *billkey.Schedule, p *billkey.Payment) (*billkey.Payment, error) {
	if p.Status != billkey.StatusReady {
		return p, s.finishSchedule(ctx, sc, p)
	}
	if !p.OutcomeUnknown && s.Now().Sub(p.StartedAt) >= s.staleReadyAfter() {
		// The node that made this payment died mid-charge: hand it to the
		// reconciler now (it asks the PG; it never charges).
		if err := s.Store.MarkUncertain(ctx, p.ID, s.Now()); err != nil {
			return nil, s.deferSchedule(ctx, owner, sc, err)
		}
		s.Logger.Warn("scheduled payment left ready by a stopped node; handed to the reconciler",
			"imp_uid", p.ImpUID, "merchant_uid", p.MerchantUID)
	}
	err := billkey.Errorf(billkey.EUNCERTAIN, "결제 결과 확인 대기 중입니다. (imp_uid: %s)", p.ImpUID)
	_ = s.deferSchedule(ctx, owner, sc, err)
	return nil, err
}

// finishSchedule marks the schedule executed with its payment. The
// payment's own webhook is already in the outbox (written with the payment).
func (s *Service) finishSchedule(ctx context.Context, sc *billkey.Schedule, p *billkey.Payment) error {
	r := billkey.ScheduleResult{ImpUID: p.ImpUID, PaymentStatus: billkey.StatusPaid, ExecutedAt: s.Now()}
	if p.Status == billkey.StatusFailed {
		r.PaymentStatus, r.FailReason = billkey.StatusFailed, p.FailReason
	}
	done, err := s.Store.FinishSchedule(context.WithoutCancel(ctx), sc.ID, r, nil)
	if err != nil {
		return err
	}
	if done {
		s.Logger.Info("scheduled payment executed", "merchant_uid", sc.MerchantUID, "imp_uid", p.ImpUID,
			"status", string(r.PaymentStatus))
		s.subscriptionCharged(context.WithoutCancel(ctx), sc, r) // subscription.go; no-op for other orders
	}
	s.wake(QueueWebhooks)
	return nil
}

// failSchedule marks the schedule executed and failed without a payment
// (e.g. the billing key was deleted), and queues its failed webhook.
func (s *Service) failSchedule(ctx context.Context, sc *billkey.Schedule, reason string) error {
	ev := &billkey.Event{MerchantID: sc.MerchantID, MerchantUID: sc.MerchantUID, Status: billkey.StatusFailed, NoticeURL: sc.NoticeURL}
	r := billkey.ScheduleResult{PaymentStatus: billkey.StatusFailed, FailReason: reason, ExecutedAt: s.Now()}
	done, err := s.Store.FinishSchedule(context.WithoutCancel(ctx), sc.ID, r, ev)
	if err != nil {
		return err
	}
	if done {
		s.subscriptionCharged(context.WithoutCancel(ctx), sc, r) // subscription.go; no-op for other orders
	}
	s.Logger.Info("scheduled payment failed before reaching the PG", "merchant_uid", sc.MerchantUID, "reason", reason)
	s.wake(QueueWebhooks)
	return nil
}

// deferSchedule releases the schedule to run again after the retry delay.
// It returns cause.
func (s *Service) deferSchedule(ctx context.Context, owner string, sc *billkey.Schedule, cause error) error {
	next := s.Now().Add(s.Schedules.retryDelay(sc.Attempts))
	if err := s.Store.DeferSchedule(context.WithoutCancel(ctx), sc.ID, owner, next, billkey.ErrorMessage(cause)); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

func (s *Service) wake(queue string) {
	if s.Wake != nil {
		s.Wake(queue)
	}
}
