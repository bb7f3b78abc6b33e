package api

import (
	"time"

	"github.com/billkey/billkey"
)

// paymentView is the Payment object exactly as i'mport sends it (the legacy 46-field set),
// keys in alphabetical order. It carries the legacy field set: PortOne-era
// additions (emb_pg_provider, sandbox, card_issuer_*...) are left out because
// go-iamport decodes strictly and fails on unknown fields.
type paymentView struct {
	Amount            int64        `json:"amount"`
	ApplyNum          string       `json:"apply_num"`
	BankCode          *string      `json:"bank_code"`
	BankName          *string      `json:"bank_name"`
	BuyerAddr         *string      `json:"buyer_addr"`
	BuyerEmail        *string      `json:"buyer_email"`
	BuyerName         *string      `json:"buyer_name"`
	BuyerPostcode     *string      `json:"buyer_postcode"`
	BuyerTel          *string      `json:"buyer_tel"`
	CancelAmount      int64        `json:"cancel_amount"`
	CancelHistory     []cancelView `json:"cancel_history"`
	CancelReason      *string      `json:"cancel_reason"`
	CancelReceiptURLs []string     `json:"cancel_receipt_urls"`
	CancelledAt       int64        `json:"cancelled_at"`
	CardCode          *string      `json:"card_code"`
	CardName          *string      `json:"card_name"`
	CardNumber        *string      `json:"card_number"`
	CardQuota         int          `json:"card_quota"`
	CardType          *int         `json:"card_type"`
	CashReceiptIssued bool         `json:"cash_receipt_issued"`
	Channel           string       `json:"channel"`
	Currency          string       `json:"currency"`
	CustomData        *string      `json:"custom_data"`
	CustomerUID       *string      `json:"customer_uid"`
	CustomerUIDUsage  *string      `json:"customer_uid_usage"`
	Escrow            bool         `json:"escrow"`
	FailReason        *string      `json:"fail_reason"`
	FailedAt          int64        `json:"failed_at"`
	ImpUID            string       `json:"imp_uid"`
	MerchantUID       string       `json:"merchant_uid"`
	Name              *string      `json:"name"`
	PaidAt            int64        `json:"paid_at"`
	PayMethod         string       `json:"pay_method"`
	PGID              string       `json:"pg_id"`
	PGProvider        string       `json:"pg_provider"`
	PGTID             *string      `json:"pg_tid"`
	ReceiptURL        *string      `json:"receipt_url"`
	StartedAt         int64        `json:"started_at"`
	Status            string       `json:"status"`
	UserAgent         string       `json:"user_agent"`
	VbankCode         *string      `json:"vbank_code"`
	VbankDate         int64        `json:"vbank_date"`
	VbankHolder       *string      `json:"vbank_holder"`
	VbankIssuedAt     int64        `json:"vbank_issued_at"`
	VbankName         *string      `json:"vbank_name"`
	VbankNum          *string      `json:"vbank_num"`
}

type cancelView struct {
	Amount      int64   `json:"amount"`
	CancelledAt int64   `json:"cancelled_at"`
	PGTID       *string `json:"pg_tid"`
	Reason      *string `json:"reason"`
	ReceiptURL  *string `json:"receipt_url"`
}

// ts converts a time to i'mport's UNIX seconds, 0 for "not happened".
func ts(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// ns returns nil for "" so that absent strings are JSON null, as i'mport sends.
func ns(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func newPaymentView(p *billkey.Payment) paymentView {
	v := paymentView{
		Amount: p.Amount, ApplyNum: p.ApplyNum,
		BuyerAddr: ns(p.Buyer.Addr), BuyerEmail: ns(p.Buyer.Email), BuyerName: ns(p.Buyer.Name),
		BuyerPostcode: ns(p.Buyer.Postcode), BuyerTel: ns(p.Buyer.Tel),
		CancelAmount: p.CancelAmount, CancelHistory: []cancelView{}, CancelReason: ns(p.CancelReason),
		CancelReceiptURLs: []string{}, CancelledAt: ts(p.CancelledAt),
		CardCode: ns(p.CardCode), CardName: ns(p.CardName), CardNumber: ns(p.CardNumber), CardQuota: p.CardQuota,
		Channel: p.Channel, Currency: p.Currency, CustomData: p.CustomData,
		CustomerUID: ns(p.CustomerUID), CustomerUIDUsage: ns(p.CustomerUIDUsage),
		FailReason: ns(p.FailReason), FailedAt: ts(p.FailedAt), ImpUID: p.ImpUID, MerchantUID: p.MerchantUID,
		Name: ns(p.Name), PaidAt: ts(p.PaidAt), PayMethod: p.PayMethod, PGID: p.PGID, PGProvider: p.PGProvider,
		PGTID: ns(p.PGTID), ReceiptURL: ns(p.ReceiptURL), StartedAt: ts(p.StartedAt), Status: string(p.Status),
		UserAgent: p.UserAgent,
	}
	if v.UserAgent == "" {
		v.UserAgent = "sorry_not_supported_anymore"
	}
	for _, c := range p.Cancels {
		v.CancelHistory = append(v.CancelHistory, cancelView{
			Amount: c.Amount, CancelledAt: ts(c.CancelledAt), PGTID: ns(c.PGTID), Reason: ns(c.Reason), ReceiptURL: ns(c.ReceiptURL),
		})
		if c.ReceiptURL != "" {
			v.CancelReceiptURLs = append(v.CancelReceiptURLs, c.ReceiptURL)
		}
	}
	return v
}

// viewsOf renders each item with view, in order.
func viewsOf[T, V any](items []T, view func(T) V) []V {
	out := make([]V, len(items))
	for i, it := range items {
		out[i] = view(it)
	}
	return out
}

// pageView is i'mport's paged list shape.
type pageView[T any] struct {
	Total    int `json:"total"`
	Previous int `json:"previous"`
	Next     int `json:"next"`
	List     []T `json:"list"`
}

func newPage[T any](list []T, total, page, limit int) pageView[T] {
	v := pageView[T]{Total: total, List: list}
	if v.List == nil {
		v.List = []T{}
	}
	if page > 1 {
		v.Previous = page - 1
	}
	if page*limit < total {
		v.Next = page + 1
	}
	return v
}
