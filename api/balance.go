package api

import (
	"net/http"

	"github.com/billkey/billkey"
)

// balanceAmounts is i'mport's PaymentBalanceAnnotation: a split of money
// into tax-free supply, taxed supply, VAT and service charge.
type balanceAmounts struct {
	TaxFree int64 `json:"tax_free"`
	Supply  int64 `json:"supply"`
	Vat     int64 `json:"vat"`
	Service int64 `json:"service"`
}

func (a balanceAmounts) minus(b balanceAmounts) balanceAmounts {
	return balanceAmounts{TaxFree: a.TaxFree - b.TaxFree, Supply: a.Supply - b.Supply, Vat: a.Vat - b.Vat, Service: a.Service - b.Service}
}

// balanceHistory is one event of PaymentBalanceHistoriesAnnotation: the
// approval (positive) or a refund (negative), at created.
type balanceHistory struct {
	CashReceipt balanceAmounts `json:"cash_receipt"`
	Primary     balanceAmounts `json:"primary"`
	Secondary   balanceAmounts `json:"secondary"`
	Discount    balanceAmounts `json:"discount"`
	Created     int64          `json:"created"`
}

// balanceView is i'mport's PaymentBalanceResponseAnnotation.
type balanceView struct {
	Amount      int64            `json:"amount"`
	CashReceipt balanceAmounts   `json:"cash_receipt"`
	Primary     balanceAmounts   `json:"primary"`
	Secondary   balanceAmounts   `json:"secondary"`
	Discount    balanceAmounts   `json:"discount"`
	Histories   []balanceHistory `json:"histories"`
}

// split divides an amount into tax-free, supply and VAT. Without an explicit
// VAT, it is 10/110 of the taxed part rounded half up, as i'mport computes
// a missing vat_amount.
func split(amount, taxFree int64, vat *int64) balanceAmounts {
	taxed := amount - taxFree
	v := (taxed + 5) / 11
	if vat != nil {
		v = *vat
	}
	return balanceAmounts{TaxFree: taxFree, Supply: taxed - v, Vat: v}
}

// newBalanceView computes a payment's balance from billkey's records: the
// card (primary) part is everything approved minus everything refunded;
// billkey has no cash receipts, points or PG discounts, so those parts are
// zero. A payment never approved (ready, failed) has a zero balance and no
// history.
func newBalanceView(p *billkey.Payment) balanceView {
	v := balanceView{Amount: p.Amount, Histories: []balanceHistory{}}
	if p.PaidAt.IsZero() || (p.Status != billkey.StatusPaid && p.Status != billkey.StatusCancelled) {
		return v
	}
	paid := split(p.Amount, p.TaxFree, p.VatAmount)
	v.Primary = paid
	v.Histories = append(v.Histories, balanceHistory{Primary: paid, Created: ts(p.PaidAt)})
	left := p.Amount
	for _, c := range p.Cancels {
		refund := split(c.Amount, c.TaxFree, c.VatAmount)
		if c.Amount >= left {
			refund = v.Primary // the last refund clears whatever split remains
		}
		left -= c.Amount
		v.Primary = v.Primary.minus(refund)
		v.Histories = append(v.Histories, balanceHistory{Primary: balanceAmounts{}.minus(refund), Created: ts(c.CancelledAt)})
	}
	return v
}

// HandlePaymentSub serves GET /payments/{imp_uid}/balance; any other
// two-segment GET under /payments is an unknown API.
func (s *Server) HandlePaymentSub(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("sub") != "balance" {
		s.HandleNotFound(w, r)
		return
	}
	p, err := s.Service.Payment(r.Context(), merchantID(r), r.PathValue("imp_uid"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newBalanceView(p))
}
