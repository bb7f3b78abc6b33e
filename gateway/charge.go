package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/billkey/billkey"
)

// ChargeInput is a charge on a stored billing key (again, or a schedule).
type ChargeInput struct {
	CustomerUID string
	MerchantUID string
	Name        string
	Amounts
	Buyer      billkey.Buyer
	CustomData *string
	NoticeURL  string
	UserAgent  string
	ClientIP   string
	// Usage is billkey.UsagePayment (again) or billkey.UsageScheduled.
	Usage string
	// AmountMissing is set by the API when the request had no amount; it
	// is reported only after the customer_uid check (i'mport's order).
	AmountMissing bool
	// fillBuyer makes each missing buyer field fall back to the
	// customer's (schedules); otherwise only a request without any.
	fillBuyer bool
}

// unknownCustomer is i'mport's message for again with an unknown customer.
const unknownCustomer = "등록되지 않은 구매자입니다."

func (in *ChargeInput) check() error {
	if err := checkUID("customer_uid", in.CustomerUID, maxCustomerUID); err != nil {
		return err
	}
	if err := checkUID("merchant_uid", in.MerchantUID, maxMerchantUID); err != nil {
		return err
	}
	// name may be absent (clients written for the older API omit it): the
	// payment's name stays null and INICIS gets inicis.DefaultGoodName.
	if err := checkText("name", in.Name, maxName); err != nil {
		return err
	}
	if in.CustomData != nil {
		if err := checkText("custom_data", *in.CustomData, maxCustomData); err != nil {
			return err
		}
	}
	if err := checkBuyer(in.Buyer); err != nil {
		return err
	}
	if err := checkNoticeURL(in.NoticeURL); err != nil {
		return err
	}
	in.UserAgent = cleanUserAgent(in.UserAgent)
	if in.AmountMissing {
		return rejectf("amount 파라미터가 누락되었습니다.")
	}
	return in.Amounts.check()
}

// ChargeAgain charges a stored billing key: POST /subscribe/payments/again.
//
// Exactly once: the payment row (status ready) is inserted before the PG is
// called, and the database allows one payment that is not failed per
// (merchant, merchant_uid), so concurrent or repeated calls with one
// merchant_uid reach the PG at most once. A declined card returns the payment
// with status failed (i'mport's code 0). When the PG's answer is unknown the
// payment stays ready, marked for the reconciler, and an EUNCERTAIN error is
// returned: it is never charged again blindly.
func (s *Service) ChargeAgain(ctx context.Context, merchantID int64, in ChargeInput) (*billkey.Payment, error) {
	// i'mport answers an unknown customer_uid before looking at anything
	// else the request lacks.
	if err := checkUID("customer_uid", in.CustomerUID, maxCustomerUID); err != nil {
		return nil, err
	}
	cust, prep, err := s.Store.CustomerForCharge(ctx, merchantID, in.CustomerUID, in.MerchantUID)
	if billkey.ErrorCode(err) == billkey.ENOTFOUND {
		return nil, rejectf(unknownCustomer)
	} else if err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if err := checkPrepare(prep, in.MerchantUID, in.Amount, in.Currency); err != nil {
		return nil, err
	}
	if in.Usage == "" {
		in.Usage = billkey.UsagePayment
	}
	ch, err := s.channel(ctx, merchantID, cust.ChannelID)
	if err != nil {
		return nil, fmt.Errorf("gateway: channel of customer %q: %w", in.CustomerUID, err)
	}
	if ch, err = s.usable(ch); err != nil {
		return nil, err
	}
	if in.Buyer == (billkey.Buyer{}) || in.fillBuyer {
		// Missing buyer_* fall back to the customer's customer_*: all of
		// them for a request without any, each one for a schedule.
		b := &in.Buyer
		b.Name, b.Email, b.Tel = or(b.Name, cust.Name), or(b.Email, cust.Email), or(b.Tel, cust.Tel)
		b.Addr, b.Postcode = or(b.Addr, cust.Addr), or(b.Postcode, cust.Postcode)
	}
	p := s.newAPIPayment(merchantID, ch, in)
	p.CardCode, p.CardName, p.CardNumber = cust.CardCode, cust.CardName, cust.CardNumber
	if err := s.createPayment(ctx, p); err != nil {
		return nil, err
	}
	key, err := s.openKey(cust)
	if err != nil {
		s.fail(ctx, p, "빌키를 복호화할 수 없습니다. (billing key could not be decrypted)")
		return nil, err
	}
	return s.charge(ctx, p, ch, key, in.ClientIP)
}

// newAPIPayment builds a ready payment for an API charge.
func (s *Service) newAPIPayment(merchantID int64, ch *billkey.Channel, in ChargeInput) *billkey.Payment {
	return &billkey.Payment{
		MerchantID: merchantID, ChannelID: ch.ID, MerchantUID: in.MerchantUID, PayMethod: "card",
		Channel: billkey.ChannelAPI, PGProvider: ch.Provider, PGID: ch.MID, CardQuota: in.CardQuota,
		Name: in.Name, Amount: in.Amount, TaxFree: in.TaxFree, VatAmount: in.VatAmount, Currency: in.Currency,
		Buyer: in.Buyer, CustomData: in.CustomData, UserAgent: in.UserAgent, NoticeURL: in.NoticeURL,
		Status: billkey.StatusReady, CustomerUID: in.CustomerUID, CustomerUIDUsage: in.Usage,
		StartedAt: s.Now(),
	}
}

// createPayment inserts a ready payment with a fresh imps_ imp_uid.
func (s *Service) createPayment(ctx context.Context, p *billkey.Payment) error {
	prefix := "imps_"
	if p.Channel != billkey.ChannelAPI {
		prefix = "imp_"
	}
	for range 5 {
		p.ImpUID = prefix + randomDigits(12)
		err := s.Store.CreatePayment(ctx, p)
		if !errors.Is(err, billkey.ErrImpUIDTaken) {
			return err
		}
	}
	return fmt.Errorf("gateway: could not draw a free imp_uid")
}

// charge calls the PG for a ready payment and records the outcome. The PG
// call and the recording are detached from the caller's cancellation: a
// merchant that hangs up mid-charge still gets its payment recorded.
func (s *Service) charge(ctx context.Context, p *billkey.Payment, ch *billkey.Channel, key, clientIP string) (*billkey.Payment, error) {
	ctx = context.WithoutCancel(ctx)
	appr, err := s.pgOf(ch).Charge(ctx, ch.PGChannel(), billkey.ChargeRequest{
		OrderID: p.ImpUID, BillingKey: key, Amount: p.Amount, TaxFree: p.TaxFree, VatAmount: p.VatAmount,
		Currency: p.Currency, GoodName: p.Name, Buyer: p.Buyer, CardQuota: p.CardQuota, ClientIP: clientIP,
	})
	switch code := billkey.ErrorCode(err); {
	case err == nil:
		return s.recordApproval(ctx, p, appr)
	case code == billkey.EPG:
		return s.fail(ctx, p, billkey.ErrorMessage(err))
	default:
		// Timeout, lost reply, or anything unexpected after the request may
		// have reached the PG: the outcome is unknown.
		return nil, s.markUncertain(ctx, p, err)
	}
}

// recordApproval marks a ready payment paid with the PG's approval, and
// queues its webhook in the same transaction.
func (s *Service) recordApproval(ctx context.Context, p *billkey.Payment, a *billkey.Approval) (*billkey.Payment, error) {
	p.Status, p.OutcomeUnknown = billkey.StatusPaid, false
	p.PGTID, p.ApplyNum, p.PaidAt, p.ReceiptURL = a.TID, a.ApplyNum, a.PaidAt, a.ReceiptURL
	if p.PaidAt.IsZero() {
		p.PaidAt = s.Now()
	}
	if a.CardNumber != "" {
		p.CardCode, p.CardName, p.CardNumber = a.CardCode, a.CardName, a.CardNumber
	}
	paid, err := s.finish(ctx, p)
	if err != nil {
		// The card was charged but the record failed: the payment stays
		// ready and the reconciler finds the approval. Say so, so the
		// merchant does not retry with a new merchant_uid.
		return nil, billkey.WrapError(billkey.EUNCERTAIN, fmt.Sprintf(
			"PG사 승인은 완료되었으나 기록에 실패했습니다. 결과는 자동으로 확인되어 결제정보(GET /payments/%s)와 웹훅으로 전달됩니다. 다시 결제하지 마세요. (imp_uid: %s)",
			p.ImpUID, p.ImpUID), err)
	}
	if paid.Status == billkey.StatusFailed {
		// The PG approved a payment already recorded failed (a late
		// approval): never lose it.
		paid = s.orphanApproval(ctx, paid, a)
	}
	return paid, nil
}

// fail marks a ready payment failed with a reason, and queues its webhook.
func (s *Service) fail(ctx context.Context, p *billkey.Payment, reason string) (*billkey.Payment, error) {
	p.Status, p.OutcomeUnknown = billkey.StatusFailed, false
	p.FailReason, p.FailedAt = reason, s.Now()
	return s.finish(ctx, p)
}

func (s *Service) finish(ctx context.Context, p *billkey.Payment) (*billkey.Payment, error) {
	ev := &billkey.Event{MerchantID: p.MerchantID, ImpUID: p.ImpUID, MerchantUID: p.MerchantUID, Status: p.Status, NoticeURL: p.NoticeURL}
	done, err := s.Store.FinishPayment(ctx, p, ev)
	if err != nil {
		return nil, err
	}
	if done {
		return p, nil
	}
	// Someone else recorded the outcome first: return what is stored.
	return s.Store.PaymentByImpUID(ctx, p.MerchantID, p.ImpUID)
}

// markUncertain leaves the payment ready for the reconciler and tells the
// merchant what happened.
func (s *Service) markUncertain(ctx context.Context, p *billkey.Payment, cause error) error {
	next := s.Now().Add(s.reconcileDelay(0))
	if err := s.Store.MarkUncertain(ctx, p.ID, next); err != nil {
		return errors.Join(cause, err)
	}
	s.Logger.Warn("PG outcome unknown; payment left ready for reconciliation",
		"imp_uid", p.ImpUID, "merchant_uid", p.MerchantUID, "error", billkey.ErrorMessage(cause))
	return billkey.WrapError(billkey.EUNCERTAIN, fmt.Sprintf(
		"PG사 응답 지연으로 승인 결과를 확인하지 못했습니다. 결과는 자동으로 확인되어 결제정보(GET /payments/%s)와 웹훅으로 전달됩니다. 같은 merchant_uid로 다시 결제하지 마세요. (imp_uid: %s)",
		p.ImpUID, p.ImpUID), cause)
}

// OnetimeInput is a key-in charge: POST /subscribe/payments/onetime.
type OnetimeInput struct {
	ChargeInput
	Card billkey.Card
	PG   string
	// foreign is set by ChargeForeign: birth is optional.
	foreign bool
}

// ChargeOnetime charges card data once. INICIS has no key-in approval
// without a key, so billkey issues a billing key, charges it, and keeps it
// under customer_uid only when one was given and the charge was approved
// (i'mport's semantics); otherwise the key is dropped unstored.
func (s *Service) ChargeOnetime(ctx context.Context, merchantID int64, in OnetimeInput) (*billkey.Payment, error) {
	keep := in.CustomerUID != ""
	if !keep {
		in.CustomerUID = "onetime" // placeholder for validation only
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if !keep {
		in.CustomerUID = ""
	}
	card, err := normalizeCard(in.Card, !in.foreign)
	if err != nil {
		return nil, err
	}
	if err := s.checkPrepared(ctx, merchantID, in.MerchantUID, in.Amount, in.Currency); err != nil {
		return nil, err
	}
	ch, err := s.ResolveChannel(ctx, merchantID, in.PG, false)
	if err != nil {
		return nil, err
	}
	in.Usage = ""
	if keep {
		in.Usage = billkey.UsagePayment
	}
	p := s.newAPIPayment(merchantID, ch, in.ChargeInput)
	p.CardNumber = billkey.MaskCardNumber(card.Number)
	if err := s.createPayment(ctx, p); err != nil {
		return nil, err
	}
	key, err := s.issueKey(ctx, ch, card, in.Buyer, "auth_"+p.ImpUID, in.ClientIP)
	if err != nil {
		reason := billkey.ErrorMessage(prefixPG("카드정보 인증에 실패하였습니다.", err))
		if _, ferr := s.fail(ctx, p, reason); ferr != nil {
			return nil, errors.Join(err, ferr)
		}
		return nil, prefixPG("카드정보 인증에 실패하였습니다.", err)
	}
	p.CardCode, p.CardName, p.CardNumber = key.CardCode, key.CardName, key.CardNumber
	paid, err := s.charge(ctx, p, ch, key.Key, in.ClientIP)
	if err != nil || !keep || paid.Status != billkey.StatusPaid {
		return paid, err
	}
	info := billkey.Buyer{Name: in.Buyer.Name, Email: in.Buyer.Email, Tel: in.Buyer.Tel, Addr: in.Buyer.Addr, Postcode: in.Buyer.Postcode}
	if _, err := s.saveCustomer(context.WithoutCancel(ctx), merchantID, ch, in.CustomerUID, key, info); err != nil {
		s.Logger.Error("onetime: payment approved but the billing key could not be saved",
			"imp_uid", paid.ImpUID, "customer_uid", in.CustomerUID, "error", err)
	}
	return paid, nil
}
