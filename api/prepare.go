package api

import (
	"net/http"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
)

// prepareView is i'mport's PaymentPrepareAnnotation. currency is left out
// when none was registered (not checked): the legacy reply is
// {merchant_uid, amount}, and go-iamport decodes it strictly.
type prepareView struct {
	MerchantUID string  `json:"merchant_uid"`
	Amount      int64   `json:"amount"`
	Currency    *string `json:"currency,omitempty"`
}

func newPrepareView(p *billkey.Prepare) prepareView {
	return prepareView{MerchantUID: p.MerchantUID, Amount: p.Amount, Currency: ns(p.Currency)}
}

// prepareInput binds merchant_uid, amount and currency.
func prepareInput(p Params) (gateway.PrepareInput, error) {
	var in gateway.PrepareInput
	v, err := strs(p, "merchant_uid", "currency")
	if err != nil {
		return in, err
	}
	in.MerchantUID, in.Currency = v[0], v[1]
	amount, ok, err := p.Int64("amount")
	if err != nil {
		return in, err
	}
	if !ok {
		return in, rejected("amount 파라미터가 누락되었습니다.")
	}
	in.Amount = amount
	return in, nil
}

// HandlePrepare serves POST /payments/prepare.
func (s *Server) HandlePrepare(w http.ResponseWriter, r *http.Request, p Params) {
	in, err := prepareInput(p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pr, err := s.Service.Prepare(r.Context(), merchantID(r), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newPrepareView(pr))
}

// HandleUpdatePrepare serves PUT /payments/prepare: an unknown merchant_uid
// is HTTP 404 with i'mport's message.
func (s *Server) HandleUpdatePrepare(w http.ResponseWriter, r *http.Request, p Params) {
	in, err := prepareInput(p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pr, err := s.Service.UpdatePrepare(r.Context(), merchantID(r), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newPrepareView(pr))
}

// HandleGetPrepare serves GET /payments/prepare/{merchant_uid}: HTTP 404
// `사전등록된 결제정보가 존재하지 않습니다.` for an unknown one.
func (s *Server) HandleGetPrepare(w http.ResponseWriter, r *http.Request) {
	pr, err := s.Service.Prepared(r.Context(), merchantID(r), r.PathValue("merchant_uid"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newPrepareView(pr))
}

// HandleForeign serves POST /subscribe/payments/foreign: onetime without
// birth, for foreign cards.
func (s *Server) HandleForeign(w http.ResponseWriter, r *http.Request, p Params) {
	s.keyInCharge(w, r, p, s.Service.ChargeForeign)
}

func rejected(msg string) error { return billkey.Errorf(billkey.EREJECTED, "%s", msg) }
