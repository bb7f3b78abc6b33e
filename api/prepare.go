package api

import (
	"net/http"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
)

// prepareRoutes registers payment pre-registration and the legacy foreign
// card charge.
func (s *Server) prepareRoutes() {
	s.private.HandleFunc("POST /payments/prepare", s.idempotent(s.handlePrepare))
	s.private.HandleFunc("PUT /payments/prepare", s.idempotent(s.handleUpdatePrepare))
	s.private.HandleFunc("GET /payments/prepare/{merchant_uid}", s.handleGetPrepare)
	// GET /payments/{imp_uid}/balance, registered with a wildcard last
	// segment so that it does not conflict with /payments/prepare/{...}.
	s.private.HandleFunc("GET /payments/{imp_uid}/{sub}", s.handlePaymentSub)
}

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

// handlePrepare serves POST /payments/prepare.
func (s *Server) handlePrepare(w http.ResponseWriter, r *http.Request, p Params) {
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

// handleUpdatePrepare serves PUT /payments/prepare: an unknown merchant_uid
// is HTTP 404 with i'mport's message.
func (s *Server) handleUpdatePrepare(w http.ResponseWriter, r *http.Request, p Params) {
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

// handleGetPrepare serves GET /payments/prepare/{merchant_uid}: HTTP 404
// `사전등록된 결제정보가 존재하지 않습니다.` for an unknown one.
func (s *Server) handleGetPrepare(w http.ResponseWriter, r *http.Request) {
	pr, err := s.Service.Prepared(r.Context(), merchantID(r), r.PathValue("merchant_uid"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newPrepareView(pr))
}

// handleForeign serves POST /subscribe/payments/foreign: onetime without
// birth, for foreign cards.
func (s *Server) handleForeign(w http.ResponseWriter, r *http.Request, p Params) {
	s.keyInCharge(w, r, p, s.Service.ChargeForeign)
}

func rejected(msg string) error { return billkey.Errorf(billkey.EREJECTED, "%s", msg) }
