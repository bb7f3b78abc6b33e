package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/billkey/billkey"
)

// staleReady is how long an API payment may stay ready without a recorded
// outcome before the reconciler treats it as unknown (a node that crashed
// between inserting the payment and recording the PG's answer). It must be
// longer than Service.InFlightWindow.
const staleReady = 3 * time.Minute

// reasonNoApproval is the fail_reason of a payment left ready for which the
// PG has no approval at all: the charge never reached the PG, so a schedule
// may safely run it again (schedule.go).
const reasonNoApproval = "PG사 승인 내역이 없어 실패 처리되었습니다. (no approval found at the PG)"

// notFoundGrace is how many inquiries must find nothing before an unknown
// charge is declared failed: a PG may list an approval a little late.
const notFoundGrace = 3

// reconcileDelay is the wait before the i-th inquiry (0-based).
func (s *Service) reconcileDelay(i int) time.Duration {
	d := s.ReconcileDelays
	if len(d) == 0 {
		d = DefaultReconcileDelays
	}
	if i >= len(d) {
		return d[len(d)-1]
	}
	return d[i]
}

// RunReconciler resolves unknown PG outcomes until ctx ends, looking for due
// work every interval. Several nodes may run it on one database: the result
// is recorded only while the payment is still ready, so one outcome wins.
func (s *Service) RunReconciler(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.ReconcileDue(ctx); err != nil && ctx.Err() == nil {
			s.Logger.Error("reconciler", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ReconcileDue inquires every payment whose outcome is unknown and due, and
// records what the PG says: approved → paid (with the PG's approval, and its
// webhook); declined → failed; not found → failed only after notFoundGrace
// inquiries and once no PG call for it can still be in flight
// (InFlightWindow), and a reply with no approval state only after
// NoApprovalGrace; no answer → asked again later on the published schedule.
// It never charges. It also retries unknown full refunds and the refunds of
// orphan approvals. It returns how many payments it resolved.
func (s *Service) ReconcileDue(ctx context.Context) (int, error) {
	now := s.Now()
	ps, err := s.Store.UncertainPayments(ctx, now, now.Add(-s.staleReadyAfter()), 50)
	if err != nil {
		return 0, err
	}
	resolved := s.reconcileRefunds(ctx)
	s.refundDueOrphans(ctx)
	for _, p := range ps {
		if ctx.Err() != nil {
			break
		}
		ok, err := s.reconcile(ctx, p)
		if err != nil {
			s.Logger.Warn("reconcile", "imp_uid", p.ImpUID, "error", err)
		}
		if ok {
			resolved++
		}
	}
	return resolved, nil
}

func (s *Service) reconcile(ctx context.Context, p *billkey.Payment) (bool, error) {
	ch, err := s.channel(ctx, p.MerchantID, p.ChannelID)
	if err != nil {
		return false, err
	}
	attempts := p.ReconcileAttempts + 1
	inq, err := s.pgOf(ch).Inquire(ctx, ch.PGChannel(), p.ImpUID)
	if err != nil {
		return false, s.deferReconcile(ctx, p, attempts, err)
	}
	switch inq.State {
	case billkey.InquiryApproved, billkey.InquiryCancelled:
		if inq.Approval == nil {
			return false, s.deferReconcile(ctx, p, attempts, nil)
		}
		if inq.State == billkey.InquiryCancelled {
			s.Logger.Warn("reconcile: the PG approved then cancelled this payment; recorded as paid, cancel it to match",
				"imp_uid", p.ImpUID)
		}
		got, err := s.recordApproval(ctx, p, inq.Approval)
		if err != nil {
			return false, err
		}
		// Logged only once the write succeeded.
		s.Logger.Info("reconciled unknown outcome: "+string(got.Status), "imp_uid", p.ImpUID, "tid", inq.Approval.TID)
		return true, nil
	case billkey.InquiryDeclined:
		_, err := s.fail(ctx, p, inq.Reason)
		return err == nil, err
	case billkey.InquiryNotFound, billkey.InquiryNoApproval:
		// Not found counts only after several inquiries and once no PG call
		// for the payment can still be in flight: a charge still on its way
		// is not found yet. A reply with no approval state at all (INICIS's
		// not-found code is unpublished) needs a much longer grace.
		wait := s.InFlightWindow()
		if inq.State == billkey.InquiryNoApproval {
			wait = s.noApprovalGrace()
			s.Logger.Warn("reconcile: the PG reports no approval state for this payment", "imp_uid", p.ImpUID,
				"reply", inq.Reason, "attempt", attempts, "counts_as_not_found_after", p.StartedAt.Add(wait))
		}
		if attempts < notFoundGrace || s.Now().Before(p.StartedAt.Add(wait)) {
			return false, s.deferReconcile(ctx, p, attempts, nil)
		}
		got, err := s.fail(ctx, p, reasonNoApproval)
		if err != nil {
			return false, err
		}
		s.Logger.Info("reconciled unknown outcome: "+string(got.Status)+" (no approval at the PG)", "imp_uid", p.ImpUID)
		return true, nil
	}
	return false, s.deferReconcile(ctx, p, attempts, nil)
}

// refundRetryAfter is how long an unknown refund outcome waits before the
// reconciler asks again.
const refundRetryAfter = 2 * time.Second

// reconcileRefunds retries full refunds whose PG outcome is unknown: INICIS
// answers a repeated full refund with 기 취소 거래 (AlreadyDone), so the retry
// can never refund twice. A refusal releases the reservation; no answer
// leaves it for the next round. It returns how many it resolved.
func (s *Service) reconcileRefunds(ctx context.Context) int {
	// A refund still pending long after any PG call could have ended was
	// left by a crash or a failed write: its outcome is unknown.
	if n, err := s.Store.MarkStaleCancelsUncertain(ctx, s.Now().Add(-s.staleReadyAfter())); err != nil {
		s.Logger.Error("reconcile refunds: stale reservations", "error", err)
	} else if n > 0 {
		s.Logger.Warn("refund reservations left pending are now of unknown outcome", "count", n)
	}
	// Retry only once the first call can no longer be in flight: a retry
	// refused while INICIS still works on the first would release a
	// reservation the first then uses.
	cs, err := s.Store.UncertainFullRefunds(ctx, s.Now().Add(-max(refundRetryAfter, s.InFlightWindow())), 20)
	if err != nil {
		s.Logger.Error("reconcile refunds", "error", err)
		return 0
	}
	resolved := 0
	for _, c := range cs {
		p, err := s.Store.PaymentByID(ctx, c.PaymentID)
		if err != nil {
			s.Logger.Warn("reconcile refund", "cancel_id", c.ID, "error", err)
			continue
		}
		ch, err := s.channel(ctx, p.MerchantID, p.ChannelID)
		if err != nil {
			s.Logger.Warn("reconcile refund", "imp_uid", p.ImpUID, "error", err)
			continue
		}
		res, err := s.pgOf(ch).Refund(context.WithoutCancel(ctx), ch.PGChannel(), billkey.RefundRequest{
			TID: p.PGTID, OrderID: p.ImpUID, Amount: c.Amount, TaxFree: c.TaxFree, VatAmount: c.VatAmount, Reason: c.Reason,
		})
		switch code := billkey.ErrorCode(err); {
		case err == nil:
			c.PGTID, c.ReceiptURL, c.CancelledAt = res.TID, res.ReceiptURL, res.CancelledAt
			if c.PGTID == "" {
				c.PGTID = p.PGTID
			}
			if c.CancelledAt.IsZero() {
				c.CancelledAt = s.Now()
			}
			if _, err := s.Store.CompleteCancel(ctx, c, &billkey.Event{NoticeURL: p.NoticeURL}); errors.Is(err, billkey.ErrCancelReleased) {
				s.orphanRefund(ctx, p, c, res.TID)
				continue
			} else if err != nil {
				s.Logger.Error("reconcile refund: record", "imp_uid", p.ImpUID, "error", err)
				continue
			}
			s.Logger.Info("reconciled unknown refund outcome: refunded", "imp_uid", p.ImpUID, "already_done", res.AlreadyDone)
			resolved++
		case code == billkey.EPG:
			if err := s.Store.FailCancel(ctx, c); err != nil {
				s.Logger.Error("reconcile refund: release", "imp_uid", p.ImpUID, "error", err)
				continue
			}
			s.Logger.Warn("reconciled unknown refund outcome: refused, reservation released", "imp_uid", p.ImpUID,
				"reason", billkey.ErrorMessage(err))
			resolved++
		}
	}
	return resolved
}

func (s *Service) deferReconcile(ctx context.Context, p *billkey.Payment, attempts int, cause error) error {
	// Ask again after the next published delay, counted from the outcome
	// becoming unknown; past the schedule's end, the last delay repeats as
	// the interval.
	gap := s.reconcileDelay(attempts) - s.reconcileDelay(attempts-1)
	if gap <= 0 {
		gap = s.reconcileDelay(attempts)
	}
	next := s.Now().Add(max(gap, time.Second))
	if err := s.Store.DeferReconcile(ctx, p.ID, attempts, next); err != nil {
		return err
	}
	return cause
}
