package api

import (
	"context"
	"net"
	"net/http"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
)

// customerView is the billing-key record as i'mport sends it.
type customerView struct {
	CardCode         *string `json:"card_code"`
	CardName         *string `json:"card_name"`
	CardNumber       *string `json:"card_number"`
	CardType         *int    `json:"card_type"`
	CustomerAddr     *string `json:"customer_addr"`
	CustomerEmail    *string `json:"customer_email"`
	CustomerName     *string `json:"customer_name"`
	CustomerPostcode *string `json:"customer_postcode"`
	CustomerTel      *string `json:"customer_tel"`
	CustomerUID      string  `json:"customer_uid"`
	Inserted         int64   `json:"inserted"`
	PGID             string  `json:"pg_id"`
	PGProvider       string  `json:"pg_provider"`
	Updated          int64   `json:"updated"`
}

func newCustomerView(c *billkey.Customer) customerView {
	return customerView{
		CardCode: ns(c.CardCode), CardName: ns(c.CardName), CardNumber: ns(c.CardNumber), CardType: c.CardType,
		CustomerAddr: ns(c.Addr), CustomerEmail: ns(c.Email), CustomerName: ns(c.Name), CustomerPostcode: ns(c.Postcode),
		CustomerTel: ns(c.Tel), CustomerUID: c.CustomerUID, Inserted: ts(c.Inserted), PGID: c.PGID,
		PGProvider: c.PGProvider, Updated: ts(c.Updated),
	}
}

// strs reads several string parameters at once; the first bad one wins.
func strs(p Params, names ...string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		v, err := p.String(n)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// HandleIssueCustomer serves POST /subscribe/customers/{customer_uid}.
func (s *Server) HandleIssueCustomer(w http.ResponseWriter, r *http.Request, p Params) {
	v, err := strs(p, "card_number", "expiry", "birth", "pwd_2digit", "cvc", "pg",
		"customer_name", "customer_tel", "customer_email", "customer_addr", "customer_postcode")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.Service.IssueCustomer(r.Context(), merchantID(r), gateway.IssueInput{
		CustomerUID: r.PathValue("customer_uid"),
		Card:        billkey.Card{Number: v[0], Expiry: v[1], Birth: v[2], Pwd2Digit: v[3], CVC: v[4]},
		PG:          v[5],
		Customer:    billkey.Buyer{Name: v[6], Tel: v[7], Email: v[8], Addr: v[9], Postcode: v[10]},
		ClientIP:    clientIP(r),
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newCustomerView(c))
}

// HandleCustomer serves GET /subscribe/customers/{customer_uid}.
func (s *Server) HandleCustomer(w http.ResponseWriter, r *http.Request) {
	c, err := s.Service.Customer(r.Context(), merchantID(r), r.PathValue("customer_uid"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newCustomerView(c))
}

// HandleDeleteCustomer serves DELETE /subscribe/customers/{customer_uid}
// (go-iamport's reason/requester query is accepted and ignored).
func (s *Server) HandleDeleteCustomer(w http.ResponseWriter, r *http.Request) {
	c, err := s.Service.DeleteCustomer(r.Context(), merchantID(r), r.PathValue("customer_uid"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newCustomerView(c))
}

// HandleCustomers serves GET /subscribe/customers?customer_uid[]=: 200, 207
// or 404 like GET /payments.
func (s *Server) HandleCustomers(w http.ResponseWriter, r *http.Request) {
	q, err := parseForm(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	uids, err := q.Strings("customer_uid")
	if err != nil || len(uids) == 0 {
		s.writeError(w, r, billkey.Errorf(billkey.EINVALID, "customer_uid 파라미터가 누락되었습니다."))
		return
	}
	uids = unique(uids)
	if len(uids) > 100 {
		s.writeError(w, r, billkey.Errorf(billkey.EINVALID, "한 번에 최대 100건까지 조회할 수 있습니다."))
		return
	}
	cs, err := s.Service.CustomersByUID(r.Context(), merchantID(r), uids)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var views []customerView
	for _, c := range cs {
		views = append(views, newCustomerView(c))
	}
	switch {
	case len(views) == 0:
		s.writeError(w, r, billkey.Errorf(billkey.ENOTFOUND, "요청하신 customer_uid로 등록된 정보를 찾을 수 없습니다."))
	case len(views) < len(uids):
		writeJSON(w, http.StatusMultiStatus, envelope{Response: views})
	default:
		writeOK(w, views)
	}
}

// HandleCustomerPayments serves GET /subscribe/customers/{uid}/payments: an
// unknown customer has an empty list (code 0), as go-iamport's tests saw.
func (s *Server) HandleCustomerPayments(w http.ResponseWriter, r *http.Request) {
	f := billkey.PaymentFilter{MerchantID: merchantID(r), CustomerUID: r.PathValue("customer_uid")}
	s.listPayments(w, r, f, false, false)
}

// chargeInput binds the fields again and onetime share.
func chargeInput(p Params, r *http.Request) (gateway.ChargeInput, error) {
	var in gateway.ChargeInput
	v, err := strs(p, "customer_uid", "merchant_uid", "name", "currency", "notice_url",
		"buyer_name", "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode")
	if err != nil {
		return in, err
	}
	in.CustomerUID, in.MerchantUID, in.Name, in.Currency, in.NoticeURL = v[0], v[1], v[2], v[3], v[4]
	in.Buyer = billkey.Buyer{Name: v[5], Email: v[6], Tel: v[7], Addr: v[8], Postcode: v[9]}
	amount, ok, err := p.Int64("amount")
	if err != nil {
		return in, err
	}
	in.Amount, in.AmountMissing = amount, !ok
	if in.TaxFree, _, err = p.Int64("tax_free"); err != nil {
		return in, err
	}
	vat, hasVat, err := p.Int64("vat_amount")
	if err != nil {
		return in, err
	}
	if !hasVat { // deprecated spelling
		if vat, hasVat, err = p.Int64("vat"); err != nil {
			return in, err
		}
	}
	if hasVat {
		in.VatAmount = &vat
	}
	quota, _, err := p.Int64("card_quota")
	if err != nil {
		return in, err
	}
	if quota < 0 || quota > 36 {
		return in, billkey.Errorf(billkey.EREJECTED, "할부개월수(card_quota)는 0(일시불) 또는 2~36이어야 합니다.")
	}
	in.CardQuota = int(quota)
	if in.CustomData, err = p.JSONText("custom_data"); err != nil {
		return in, err
	}
	in.UserAgent, in.ClientIP = r.UserAgent(), clientIP(r)
	return in, nil
}

// HandleAgain serves POST /subscribe/payments/again.
func (s *Server) HandleAgain(w http.ResponseWriter, r *http.Request, p Params) {
	in, err := chargeInput(p, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pay, err := s.Service.ChargeAgain(r.Context(), merchantID(r), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newPaymentView(pay))
}

// HandleOnetime serves POST /subscribe/payments/onetime.
func (s *Server) HandleOnetime(w http.ResponseWriter, r *http.Request, p Params) {
	s.keyInCharge(w, r, p, s.Service.ChargeOnetime)
}

// keyInCharge binds a key-in charge (onetime, foreign) and runs it with
// the given use case.
func (s *Server) keyInCharge(w http.ResponseWriter, r *http.Request, p Params,
	charge func(context.Context, int64, gateway.OnetimeInput) (*billkey.Payment, error)) {
	in, err := chargeInput(p, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := strs(p, "card_number", "expiry", "birth", "pwd_2digit", "cvc", "pg")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pay, err := charge(r.Context(), merchantID(r), gateway.OnetimeInput{
		ChargeInput: in,
		Card:        billkey.Card{Number: v[0], Expiry: v[1], Birth: v[2], Pwd2Digit: v[3], CVC: v[4]},
		PG:          v[5],
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newPaymentView(pay))
}

// HandleCancel serves POST /payments/cancel.
func (s *Server) HandleCancel(w http.ResponseWriter, r *http.Request, p Params) {
	v, err := strs(p, "imp_uid", "merchant_uid", "reason")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in := gateway.CancelInput{ImpUID: v[0], MerchantUID: v[1], Reason: v[2], ClientIP: clientIP(r)}
	if in.Amount, _, err = p.Int64("amount"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.TaxFree, _, err = p.Int64("tax_free"); err != nil {
		s.writeError(w, r, err)
		return
	}
	for name, dst := range map[string]**int64{"vat_amount": &in.VatAmount, "checksum": &in.Checksum} {
		n, ok, err := p.Int64(name)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if ok {
			*dst = &n
		}
	}
	pay, err := s.Service.Cancel(r.Context(), merchantID(r), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newPaymentView(pay))
}
