package gateway

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/billkey/billkey"
)

// IssueInput is a REST billing-key issuance (POST /subscribe/customers/{uid}).
type IssueInput struct {
	CustomerUID string
	Card        billkey.Card
	PG          string
	Customer    billkey.Buyer // customer_name, _tel, _email, _addr, _postcode
	ClientIP    string
}

// IssueCustomer issues a billing key from card data at the PG the pg rules
// pick, seals it and stores it under the customer_uid (replacing any key
// there; the old one is kept sealed as superseded, INICIS offering no
// revocation).
func (s *Service) IssueCustomer(ctx context.Context, merchantID int64, in IssueInput) (*billkey.Customer, error) {
	if err := checkUID("customer_uid", in.CustomerUID, maxCustomerUID); err != nil {
		return nil, err
	}
	card, err := normalizeCard(in.Card, true)
	if err != nil {
		return nil, err
	}
	if err := checkBuyer(in.Customer); err != nil {
		return nil, err
	}
	ch, err := s.ResolveChannel(ctx, merchantID, in.PG, false)
	if err != nil {
		return nil, err
	}
	key, err := s.issueKey(ctx, ch, card, in.Customer, "issue_"+randomAlnum(20), in.ClientIP)
	if err != nil {
		return nil, prefixPG("카드정보 인증 및 빌키 발급에 실패하였습니다.", err)
	}
	return s.saveCustomer(ctx, merchantID, ch, in.CustomerUID, key, in.Customer)
}

// issueKey asks the PG for a key. The PG call is detached from the caller's
// cancellation: once sent, its answer is always awaited.
func (s *Service) issueKey(ctx context.Context, ch *billkey.Channel, card billkey.Card, buyer billkey.Buyer, orderID, ip string) (*billkey.BillingKey, error) {
	key, err := s.pgOf(ch).IssueBillingKey(context.WithoutCancel(ctx), ch.PGChannel(), billkey.IssueRequest{
		OrderID: orderID, Card: card, Buyer: buyer, GoodName: "billing key", ClientIP: ip,
	})
	if err != nil {
		if billkey.ErrorCode(err) == billkey.EUNCERTAIN {
			// An issued key nobody holds charges nothing; say so and let
			// the merchant retry.
			return nil, billkey.WrapError(billkey.EPG, "PG사 응답 지연으로 빌키 발급 결과를 확인하지 못했습니다. 다시 시도해주세요.", err)
		}
		return nil, err
	}
	return key, nil
}

// saveCustomer seals a key and stores the customer record.
func (s *Service) saveCustomer(ctx context.Context, merchantID int64, ch *billkey.Channel, customerUID string, key *billkey.BillingKey, info billkey.Buyer) (*billkey.Customer, error) {
	return s.saveCustomerID(ctx, merchantID, ch, customerUID, "", key, info)
}

// saveCustomerID is saveCustomer with the merchant's own buyer id
// (IMP.request_pay's customer_id) stored on the key.
func (s *Service) saveCustomerID(ctx context.Context, merchantID int64, ch *billkey.Channel, customerUID, customerID string, key *billkey.BillingKey, info billkey.Buyer) (*billkey.Customer, error) {
	blob, err := s.Keys.Seal([]byte(key.Key), billkey.PurposeBillingKey, merchantID, customerUID)
	if err != nil {
		return nil, fmt.Errorf("gateway: seal billing key: %w", err)
	}
	c := &billkey.Customer{
		MerchantID: merchantID, ChannelID: ch.ID, CustomerUID: customerUID, CustomerID: customerID, PGProvider: ch.Provider, PGID: ch.MID,
		CardCode: key.CardCode, CardName: key.CardName, CardNumber: key.CardNumber,
		Name: info.Name, Tel: info.Tel, Email: info.Email, Addr: info.Addr, Postcode: info.Postcode,
		KeyCiphertext: blob,
	}
	replaced, err := s.Store.SaveCustomer(ctx, c)
	if err != nil {
		return nil, err
	}
	if replaced {
		s.Logger.Info("billing key replaced; the old one is kept sealed as superseded",
			"merchant_id", merchantID, "customer_uid", customerUID, "pg_id", ch.MID)
		s.keyReplaced(context.WithoutCancel(ctx), merchantID, customerUID) // subscription.go: past-due renewals retried
	}
	return c, nil
}

// SaveIssuedKey stores a key issued through the payment window, with the
// page's customer_id (the merchant's own buyer id; "" when not given).
func (s *Service) SaveIssuedKey(ctx context.Context, merchantID int64, ch *billkey.Channel, customerUID, customerID string, key *billkey.BillingKey, info billkey.Buyer) (*billkey.Customer, error) {
	return s.saveCustomerID(ctx, merchantID, ch, customerUID, customerID, key, info)
}

// Customer returns a billing-key record. An unknown customer_uid is an
// EREJECTED error (HTTP 200, code 1), which is what the go, python and node
// clients' tests recorded from the live API (an unknown billing key answers
// HTTP 200 with code 1 in all three suites), rather than
// the 404 of today's OpenAPI file.
func (s *Service) Customer(ctx context.Context, merchantID int64, customerUID string) (*billkey.Customer, error) {
	c, err := s.Store.CustomerByUID(ctx, merchantID, customerUID)
	return c, notFoundAsRejected(err)
}

// DeleteCustomer deletes a billing-key record and returns it.
func (s *Service) DeleteCustomer(ctx context.Context, merchantID int64, customerUID string) (*billkey.Customer, error) {
	c, err := s.Store.DeleteCustomer(ctx, merchantID, customerUID)
	return c, notFoundAsRejected(err)
}

func notFoundAsRejected(err error) error {
	if billkey.ErrorCode(err) == billkey.ENOTFOUND {
		return billkey.WrapError(billkey.EREJECTED, billkey.ErrorMessage(err), err)
	}
	return err
}

// openKey decrypts a customer's billing key.
func (s *Service) openKey(c *billkey.Customer) (string, error) {
	plain, err := s.Keys.Open(c.KeyCiphertext, billkey.PurposeBillingKey, c.MerchantID, c.CustomerUID)
	if err != nil {
		return "", fmt.Errorf("gateway: open billing key of customer %d: %w", c.ID, err)
	}
	return string(plain), nil
}

// prefixPG puts i'mport's prefix before a PG refusal; other errors pass.
func prefixPG(prefix string, err error) error {
	var e *billkey.Error
	if errors.As(err, &e) && e.Code == billkey.EPG {
		return billkey.WrapError(billkey.EPG, prefix+" "+e.Message, err)
	}
	return err
}

// RotateKeys re-wraps every sealed billing key and channel secret under the
// keyring's primary master key; rows sealed under it already are skipped.
func (s *Service) RotateKeys(ctx context.Context, rewrap func(blob []byte, purpose string, merchantID int64, subject string) ([]byte, error)) (n int, err error) {
	blobs, err := s.Store.BillingKeyBlobs(ctx)
	if err != nil {
		return 0, err
	}
	for _, b := range blobs {
		nb, err := rewrap(b.Blob, billkey.PurposeBillingKey, b.MerchantID, b.CustomerUID)
		if err != nil {
			return n, fmt.Errorf("gateway: rewrap billing key %s/%d: %w", b.Table, b.ID, err)
		}
		if string(nb) == string(b.Blob) {
			continue
		}
		if err := s.Store.ReplaceKeyBlob(ctx, b, nb); err != nil {
			return n, err
		}
		n++
	}
	chs, err := s.Store.ChannelBlobs(ctx)
	if err != nil {
		return n, err
	}
	for _, b := range chs {
		nb, err := rewrap(b.Blob, billkey.PurposeChannel, b.MerchantID, strconv.FormatInt(b.ID, 10))
		if err != nil {
			return n, fmt.Errorf("gateway: rewrap channel %d: %w", b.ID, err)
		}
		if string(nb) == string(b.Blob) {
			continue
		}
		if err := s.Store.ReplaceKeyBlob(ctx, b, nb); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
