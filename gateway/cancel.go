package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/billkey/billkey"
)

// CancelInput is POST /payments/cancel.
type CancelInput struct {
	ImpUID      string
	MerchantUID string
	Amount      int64 // 0: everything left
	TaxFree     int64
	VatAmount   *int64
	Checksum    *int64
	Reason      string
	ClientIP    string
}

// cancelWait bounds how long a cancel waits for another in-flight refund of
// the same payment (refunds of one payment are sent to INICIS one at a time,
// since each partial refund states what must remain).
const cancelWait = 20 * time.Second

// Cancel refunds all or part of a paid payment. The refund is reserved in
// the database before INICIS is asked, so concurrent cancels can never
// exceed what was paid; a refusal releases the reservation.
func (s *Service) Cancel(ctx context.Context, merchantID int64, in CancelInput) (*billkey.Payment, error) {
	if in.ImpUID == "" && in.MerchantUID == "" {
		return nil, rejectf("취소할 거래의 imp_uid 또는 merchant_uid 중 하나는 지정해주셔야합니다.")
	}
	if in.Amount < 0 || in.TaxFree < 0 || (in.VatAmount != nil && *in.VatAmount < 0) {
		return nil, rejectf("취소금액(amount, tax_free, vat_amount)은 0 이상이어야 합니다.")
	}
	if err := checkText("reason", in.Reason, 256); err != nil {
		return nil, err
	}
	var p *billkey.Payment
	var err error
	if in.ImpUID != "" {
		p, err = s.Store.PaymentByImpUID(ctx, merchantID, in.ImpUID)
	} else {
		p, err = s.Store.FindPayment(ctx, merchantID, in.MerchantUID, billkey.StatusPaid)
		if billkey.ErrorCode(err) == billkey.ENOTFOUND {
			p, err = s.Store.FindPayment(ctx, merchantID, in.MerchantUID, "")
		}
	}
	if billkey.ErrorCode(err) == billkey.ENOTFOUND {
		return nil, rejectf("취소할 결제건이 존재하지 않습니다.")
	} else if err != nil {
		return nil, err
	}
	req := billkey.CancelRequest{Amount: in.Amount, TaxFree: in.TaxFree, VatAmount: in.VatAmount, Checksum: in.Checksum, Reason: in.Reason}
	var c *billkey.Cancel
	paymentID := p.ID
	deadline := time.Now().Add(cancelWait)
	for wait := 10 * time.Millisecond; ; wait = min(wait*2, 500*time.Millisecond) {
		p, c, err = s.Store.ReserveCancel(ctx, paymentID, req)
		if !errors.Is(err, billkey.ErrCancelBusy) {
			break
		}
		if time.Now().After(deadline) {
			return nil, rejectf("같은 결제건의 다른 취소 요청이 처리 중입니다. 잠시 후 다시 시도해주세요.")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
	if err != nil {
		return nil, err
	}
	ch, err := s.channel(ctx, merchantID, p.ChannelID)
	if err != nil {
		_ = s.Store.FailCancel(context.WithoutCancel(ctx), c)
		return nil, err
	}
	ctx = context.WithoutCancel(ctx)
	remaining := p.Amount - p.CancelAmount - c.Amount
	res, err := s.pgOf(ch).Refund(ctx, ch.PGChannel(), billkey.RefundRequest{
		TID: p.PGTID, OrderID: p.ImpUID, Amount: c.Amount, Remaining: remaining,
		Partial: p.CancelAmount > 0 || remaining > 0, TaxFree: c.TaxFree, VatAmount: c.VatAmount,
		Reason: c.Reason, ClientIP: in.ClientIP,
	})
	switch code := billkey.ErrorCode(err); {
	case err == nil:
	case code == billkey.EPG:
		if ferr := s.Store.FailCancel(ctx, c); ferr != nil {
			return nil, errors.Join(err, ferr)
		}
		return nil, prefixPG("취소에 실패하였습니다.", err)
	default:
		// The refund may have happened: keep the reservation so nothing
		// is refunded twice, and say so.
		if merr := s.Store.MarkCancelUncertain(ctx, c); merr != nil {
			return nil, errors.Join(err, merr)
		}
		s.Logger.Warn("PG refund outcome unknown; reservation kept", "imp_uid", p.ImpUID, "amount", c.Amount)
		return nil, billkey.WrapError(billkey.EUNCERTAIN,
			"PG사 응답 지연으로 취소 결과를 확인하지 못했습니다. 취소 금액은 보류되었으며 확인 후 반영됩니다.", err)
	}
	c.PGTID, c.ReceiptURL, c.CancelledAt = res.TID, res.ReceiptURL, res.CancelledAt
	if c.PGTID == "" {
		c.PGTID = p.PGTID
	}
	if c.CancelledAt.IsZero() {
		c.CancelledAt = s.Now()
	}
	done, err := s.Store.CompleteCancel(ctx, c, &billkey.Event{NoticeURL: p.NoticeURL})
	if errors.Is(err, billkey.ErrCancelReleased) {
		s.orphanRefund(ctx, p, c, res.TID)
		return nil, billkey.WrapError(billkey.EUNCERTAIN,
			"PG사 취소가 완료되었으나 이미 취소 실패로 기록된 요청입니다. 운영자가 확인 후 반영합니다. 다시 취소하지 마세요.", err)
	}
	if err != nil {
		// INICIS refunded but recording failed: keep the reservation as an
		// unknown outcome (the reconciler settles a full refund), and never
		// report a 500 for money that has moved.
		if merr := s.Store.MarkCancelUncertain(ctx, c); merr != nil {
			s.Logger.Error("cancel: refund made but neither recorded nor marked", "imp_uid", p.ImpUID, "error", errors.Join(err, merr))
		}
		return nil, billkey.WrapError(billkey.EUNCERTAIN,
			"PG사 취소는 완료되었으나 기록에 실패했습니다. 결과는 자동으로 확인되어 반영됩니다. 다시 취소하지 마세요.", err)
	}
	return done, nil
}
