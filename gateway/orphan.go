package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/billkey/billkey"
)

// Orphan approvals.
//
// An orphan approval is a PG approval that reaches billkey for a payment
// already recorded failed: the reconciler's timing rules make it impossible
// in normal operation (a payment is never declared failed while a PG call
// for it may still be in flight), but a PG that answers far later than its
// timeout, a stalled process or a clock jump could still produce one.
//
// Policy: billkey refunds the orphan approval at the PG automatically. The
// merchant was told the payment failed and may already have charged the
// customer again under a new merchant_uid (a schedule whose charge failed
// for lack of an approval runs again by design), so turning the payment into
// paid would charge the customer twice for one order; refunding restores
// what the merchant was told. The orphan is recorded (orphan_approvals) in
// the same transaction as a note on the payment's fail_reason and a webhook
// event for the payment (status failed: the merchant re-reads the payment
// and sees the note), logged at error level and counted (OnOrphan). A refund
// the PG does not confirm is retried by the reconciler until it is; a full
// refund of one tid is idempotent at INICIS (기 취소 거래), so a retry never
// refunds twice.
//
// A refund that reaches billkey for a reservation already released is
// recorded as an orphan of kind refund and raised (error log, metric,
// event) for an operator: money went back to the customer and cannot be
// taken again automatically.

// orphanNote is appended to the fail_reason of a payment whose late approval
// is refunded.
const orphanNote = " / 실패 처리 후 PG사 승인이 늦게 도착하여 자동으로 승인취소(환불)합니다. (late PG approval refunded)"

// orphanRetry is the wait between refund attempts of an orphan approval.
var orphanRetry = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute}

// orphanApproval records the approval a of payment p (recorded failed),
// refunds it at the PG, and returns the payment as now stored.
func (s *Service) orphanApproval(ctx context.Context, p *billkey.Payment, a *billkey.Approval) *billkey.Payment {
	s.recordOrphanApproval(ctx, p, a)
	if got, err := s.Store.PaymentByID(context.WithoutCancel(ctx), p.ID); err == nil {
		return got
	}
	return p
}

func (s *Service) recordOrphanApproval(ctx context.Context, p *billkey.Payment, a *billkey.Approval) {
	ctx = context.WithoutCancel(ctx)
	amount := a.Amount
	if amount <= 0 {
		amount = p.Amount
	}
	o := &billkey.Orphan{MerchantID: p.MerchantID, PaymentID: p.ID, Kind: billkey.OrphanCharge, PGTID: a.TID,
		Amount: amount, State: billkey.OrphanRefunding, NextAt: s.Now().Add(orphanRetry[0])}
	ev := &billkey.Event{MerchantID: p.MerchantID, ImpUID: p.ImpUID, MerchantUID: p.MerchantUID, Status: p.Status, NoticeURL: p.NoticeURL}
	added, err := s.Store.RecordOrphan(ctx, o, orphanNote, ev)
	if err == nil && !added {
		return // already recorded, and being refunded, by another caller
	}
	// When the record failed, the payment stays failed and this error line
	// is the record; the refund is still attempted below.
	s.Logger.Error("ORPHAN APPROVAL: the PG approved a payment already recorded failed; refunding it at the PG",
		"imp_uid", p.ImpUID, "merchant_uid", p.MerchantUID, "tid", a.TID, "amount", amount, "recorded", err == nil, "error", err)
	if s.OnOrphan != nil {
		s.OnOrphan(billkey.OrphanCharge)
	}
	s.wake(QueueWebhooks)
	s.refundOrphan(ctx, p, o, err == nil)
}

// refundOrphan asks the PG to refund an orphan approval and records the
// result when the orphan is recorded.
func (s *Service) refundOrphan(ctx context.Context, p *billkey.Payment, o *billkey.Orphan, recorded bool) bool {
	ch, err := s.channel(ctx, p.MerchantID, p.ChannelID)
	if err == nil {
		_, err = s.pgOf(ch).Refund(ctx, ch.PGChannel(), billkey.RefundRequest{
			TID: o.PGTID, OrderID: p.ImpUID, Amount: o.Amount,
			Reason: "결제 실패 처리 후 도착한 승인 자동 취소 (late approval on a failed payment)",
		})
	}
	o.Attempts++
	if err == nil {
		o.State, o.LastError = billkey.OrphanRefunded, ""
		s.Logger.Error("orphan approval refunded at the PG", "imp_uid", p.ImpUID, "tid", o.PGTID, "amount", o.Amount)
	} else {
		o.LastError = billkey.ErrorMessage(err)
		o.NextAt = s.Now().Add(orphanRetry[min(o.Attempts-1, len(orphanRetry)-1)])
		s.Logger.Error("orphan approval: refund at the PG not confirmed; will retry", "imp_uid", p.ImpUID, "tid", o.PGTID,
			"attempt", o.Attempts, "error", err)
	}
	if recorded {
		if serr := s.Store.SettleOrphan(ctx, o); serr != nil {
			s.Logger.Error("orphan approval: record refund attempt", "imp_uid", p.ImpUID, "error", serr)
		}
	}
	return err == nil
}

// refundDueOrphans retries the refunds of orphan approvals that are due.
func (s *Service) refundDueOrphans(ctx context.Context) {
	os, err := s.Store.DueOrphans(ctx, s.Now(), 20)
	if err != nil {
		s.Logger.Error("orphan approvals", "error", err)
		return
	}
	for _, o := range os {
		p, err := s.Store.PaymentByID(ctx, o.PaymentID)
		if err != nil {
			s.Logger.Error("orphan approval", "orphan_id", o.ID, "error", err)
			continue
		}
		s.refundOrphan(ctx, p, o, true)
	}
}

// orphanRefund records a refund the PG made for a reservation that was
// already released, and raises it.
func (s *Service) orphanRefund(ctx context.Context, p *billkey.Payment, c *billkey.Cancel, tid string) {
	ctx = context.WithoutCancel(ctx)
	o := &billkey.Orphan{MerchantID: p.MerchantID, PaymentID: p.ID, Kind: billkey.OrphanRefund, PGTID: tid,
		Amount: c.Amount, State: billkey.OrphanRaised}
	ev := &billkey.Event{MerchantID: p.MerchantID, ImpUID: p.ImpUID, MerchantUID: p.MerchantUID, Status: p.Status, NoticeURL: p.NoticeURL}
	if tid == "" {
		o.PGTID = fmt.Sprintf("cancel-%d", c.ID)
	}
	_, err := s.Store.RecordOrphan(ctx, o, "", ev)
	s.Logger.Error("ORPHAN REFUND: the PG refunded a cancel whose reservation was already released; settle it by hand",
		"imp_uid", p.ImpUID, "cancel_id", c.ID, "amount", c.Amount, "tid", tid, "recorded", err == nil, "error", err)
	if s.OnOrphan != nil {
		s.OnOrphan(billkey.OrphanRefund)
	}
	s.wake(QueueWebhooks)
}
