package gateway

import (
	"context"
	"strings"

	"github.com/billkey/billkey"
)

// PrepareInput is POST or PUT /payments/prepare.
type PrepareInput struct {
	MerchantUID string
	Amount      int64
	// Currency "" means the currency is not checked (i'mport's null).
	Currency string
}

// maxPrepareMerchantUID is the prepare call's merchant_uid limit: i'mport's
// OpenAPI says 40, but billkey accepts the 80 characters its payments accept,
// so every payable merchant_uid can be prepared.
const maxPrepareMerchantUID = maxMerchantUID

// PreparedAmountMismatch is the message of a payment refused because its
// amount differs from the pre-registered one. i'mport does not publish the
// text (its SDK blocks the window); this one names both amounts.
const PreparedAmountMismatch = "사전등록된 결제금액과 요청된 결제금액이 일치하지 않습니다. (사전등록: %d, 요청: %d, merchant_uid: %s)"

// PreparedCurrencyMismatch refuses a payment whose currency differs from
// the pre-registered one.
const PreparedCurrencyMismatch = "사전등록된 결제통화와 요청된 결제통화가 일치하지 않습니다. (사전등록: %s, 요청: %s, merchant_uid: %s)"

func (in *PrepareInput) check() error {
	if err := checkUID("merchant_uid", in.MerchantUID, maxPrepareMerchantUID); err != nil {
		return err
	}
	if in.Amount < 0 || in.Amount > maxAmount {
		return rejectf("결제예정금액(amount)은 0 이상 %d 이하의 정수여야 합니다.", int64(maxAmount))
	}
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if len(in.Currency) > 3 {
		return rejectf("결제예정통화(currency)는 ISO 4217 세 글자 코드여야 합니다. (ex. KRW)")
	}
	return nil
}

// Prepare pre-registers the amount of a merchant_uid (POST
// /payments/prepare). A merchant_uid already registered is refused.
func (s *Service) Prepare(ctx context.Context, merchantID int64, in PrepareInput) (*billkey.Prepare, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	p := &billkey.Prepare{MerchantID: merchantID, MerchantUID: in.MerchantUID, Amount: in.Amount, Currency: in.Currency}
	if err := s.Store.CreatePrepare(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// UpdatePrepare changes a pre-registered amount (PUT /payments/prepare); an
// unknown merchant_uid is HTTP 404 with i'mport's message.
func (s *Service) UpdatePrepare(ctx context.Context, merchantID int64, in PrepareInput) (*billkey.Prepare, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	p := &billkey.Prepare{MerchantID: merchantID, MerchantUID: in.MerchantUID, Amount: in.Amount, Currency: in.Currency}
	if err := s.Store.UpdatePrepare(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// checkPrepared refuses (code 1, before any PG call) a payment for a
// pre-registered merchant_uid whose amount, or currency when one was
// registered, differs. A merchant_uid that was not prepared passes.
func (s *Service) checkPrepared(ctx context.Context, merchantID int64, merchantUID string, amount int64, currency string) error {
	p, err := s.Store.PrepareByMerchantUID(ctx, merchantID, merchantUID)
	switch {
	case billkey.ErrorCode(err) == billkey.ENOTFOUND:
		return nil
	case err != nil:
		return err
	}
	return checkPrepare(p, merchantUID, amount, currency)
}

// checkPrepare refuses a charge whose amount or currency differs from what
// was prepared for its merchant_uid (p; nil when nothing was).
func checkPrepare(p *billkey.Prepare, merchantUID string, amount int64, currency string) error {
	switch {
	case p == nil:
		return nil
	case p.Amount != amount:
		return rejectf(PreparedAmountMismatch, p.Amount, amount, truncate(merchantUID, 80))
	case p.Currency != "" && currency != "" && !strings.EqualFold(p.Currency, currency):
		return rejectf(PreparedCurrencyMismatch, p.Currency, truncate(currency, 10), truncate(merchantUID, 80))
	}
	return nil
}
