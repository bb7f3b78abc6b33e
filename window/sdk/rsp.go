// Package sdk is the reply iamport.js's IMP.request_pay callback receives
// from billkey's payment window: the rsp object, field for field as
// i'mport's SDK delivers it. The gateway records it with each window
// attempt (a replayed return post gets the recorded rsp back unchanged)
// and the window package delivers it to the merchant's page.
package sdk

import (
	"encoding/json"

	"github.com/billkey/billkey"
)

// Rsp is the rsp of IMP.request_pay as i'mport's SDK delivers it
// (the rsp fields are listed in README's "Payment window and iamport.js").
// It never carries a billing key.
type Rsp struct {
	Success       bool            `json:"success"`
	ErrorCode     *string         `json:"error_code"`
	ErrorMsg      *string         `json:"error_msg"`
	ImpUID        *string         `json:"imp_uid"`
	MerchantUID   string          `json:"merchant_uid"`
	CustomerUID   *string         `json:"customer_uid"`
	PayMethod     string          `json:"pay_method"`
	PaidAmount    int64           `json:"paid_amount"`
	Currency      string          `json:"currency"`
	Status        string          `json:"status"`
	Name          *string         `json:"name"`
	PGProvider    *string         `json:"pg_provider"`
	PGType        string          `json:"pg_type"`
	PGTID         *string         `json:"pg_tid"`
	ApplyNum      string          `json:"apply_num"`
	CardName      *string         `json:"card_name"`
	CardNumber    *string         `json:"card_number"`
	CardQuota     int             `json:"card_quota"`
	BankName      *string         `json:"bank_name"`
	PaidAt        int64           `json:"paid_at"`
	ReceiptURL    string          `json:"receipt_url"`
	BuyerName     *string         `json:"buyer_name"`
	BuyerEmail    *string         `json:"buyer_email"`
	BuyerTel      *string         `json:"buyer_tel"`
	BuyerAddr     *string         `json:"buyer_addr"`
	BuyerPostcode *string         `json:"buyer_postcode"`
	CustomData    json.RawMessage `json:"custom_data"`
	RequestID     string          `json:"request_id,omitempty"`
}

// Payment builds the rsp of a payment window attempt from its payment
// (paid_amount 0: the window only issues billing keys). requestID is the
// page's request_id, echoed back.
func Payment(p *billkey.Payment, requestID string) *Rsp {
	r := &Rsp{
		Success: p.Status == billkey.StatusPaid, ImpUID: &p.ImpUID, MerchantUID: p.MerchantUID, PayMethod: p.PayMethod,
		PaidAmount: 0, Currency: p.Currency, Status: string(p.Status), PGType: "payment",
		CustomerUID: Optional(p.CustomerUID), Name: Optional(p.Name), PGProvider: Optional(p.PGProvider),
		PGTID: Optional(p.PGTID), CardName: Optional(p.CardName), CardNumber: Optional(p.CardNumber),
		BuyerName: Optional(p.Buyer.Name), BuyerEmail: Optional(p.Buyer.Email), BuyerTel: Optional(p.Buyer.Tel),
		BuyerAddr: Optional(p.Buyer.Addr), BuyerPostcode: Optional(p.Buyer.Postcode),
		CustomData: CustomData(p.CustomData), RequestID: requestID, ReceiptURL: p.ReceiptURL,
	}
	if p.Status == billkey.StatusPaid {
		r.PaidAt = p.PaidAt.Unix()
	}
	return r
}

// Optional is s, or nil (JSON null) for "".
func Optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CustomData echoes custom_data as the JSON value the page sent: stored
// JSON text comes back as that value, any other stored text as a string.
func CustomData(v *string) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	if json.Valid([]byte(*v)) {
		return json.RawMessage(*v)
	}
	b, _ := json.Marshal(*v)
	return b
}
