package api

import (
	"context"
	"net/http"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
)

// scheduleView is the schedule object with the legacy field set go-iamport
// decodes strictly (unknown fields fail it): the PortOne-era currency, pg_* and
// customer_id are left out. payment_status is JSON null until execution.
type scheduleView struct {
	Amount         int64   `json:"amount"`
	BuyerAddr      *string `json:"buyer_addr"`
	BuyerEmail     *string `json:"buyer_email"`
	BuyerName      *string `json:"buyer_name"`
	BuyerPostcode  *string `json:"buyer_postcode"`
	BuyerTel       *string `json:"buyer_tel"`
	CustomData     *string `json:"custom_data"`
	CustomerUID    string  `json:"customer_uid"`
	ExecutedAt     int64   `json:"executed_at"`
	FailReason     *string `json:"fail_reason"`
	ImpUID         *string `json:"imp_uid"`
	MerchantUID    string  `json:"merchant_uid"`
	Name           *string `json:"name"`
	PaymentStatus  *string `json:"payment_status"`
	RevokedAt      int64   `json:"revoked_at"`
	ScheduleAt     int64   `json:"schedule_at"`
	ScheduleStatus string  `json:"schedule_status"`
}

func newScheduleView(sc *billkey.Schedule) scheduleView {
	v := scheduleView{
		Amount: sc.Amount, BuyerAddr: ns(sc.Buyer.Addr), BuyerEmail: ns(sc.Buyer.Email), BuyerName: ns(sc.Buyer.Name),
		BuyerPostcode: ns(sc.Buyer.Postcode), BuyerTel: ns(sc.Buyer.Tel), CustomData: sc.CustomData,
		CustomerUID: sc.CustomerUID, ExecutedAt: ts(sc.ExecutedAt), FailReason: ns(sc.FailReason), ImpUID: ns(sc.ImpUID),
		MerchantUID: sc.MerchantUID, Name: ns(sc.Name), RevokedAt: ts(sc.RevokedAt), ScheduleAt: ts(sc.ScheduleAt),
		ScheduleStatus: string(sc.Status),
	}
	if sc.Status == billkey.ScheduleExecuted {
		v.PaymentStatus = ns(string(sc.PaymentStatus))
	}
	return v
}

// HandleSchedule serves POST /subscribe/payments/schedule. The reply is an
// array of the created schedules (code 0), or code 1 with nothing written.
func (s *Server) HandleSchedule(w http.ResponseWriter, r *http.Request, p Params) {
	v, err := strs(p, "customer_uid", "card_number", "expiry", "birth", "pwd_2digit", "cvc", "pg")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in := gateway.ScheduleInput{
		CustomerUID: v[0],
		Card:        billkey.Card{Number: v[1], Expiry: v[2], Birth: v[3], Pwd2Digit: v[4], CVC: v[5]},
		PG:          v[6],
		ClientIP:    clientIP(r),
	}
	if in.CheckingAmount, _, err = p.Int64("checking_amount"); err != nil {
		s.writeError(w, r, err)
		return
	}
	items, err := p.Objects("schedules")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, it := range items {
		item, err := scheduleItem(it)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		in.Schedules = append(in.Schedules, item)
	}
	scs, err := s.Service.CreateSchedules(r.Context(), merchantID(r), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, viewsOf(scs, newScheduleView))
}

// scheduleItem binds one schedules[] entry.
func scheduleItem(p Params) (gateway.ScheduleItem, error) {
	var it gateway.ScheduleItem
	v, err := strs(p, "merchant_uid", "name", "currency", "notice_url",
		"buyer_name", "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode")
	if err != nil {
		return it, err
	}
	it.MerchantUID, it.Name, it.Currency, it.NoticeURL = v[0], v[1], v[2], v[3]
	it.Buyer = billkey.Buyer{Name: v[4], Email: v[5], Tel: v[6], Addr: v[7], Postcode: v[8]}
	at, ok, err := p.Int64("schedule_at")
	if err != nil {
		return it, err
	}
	if ok && at > 0 {
		it.ScheduleAt = time.Unix(at, 0)
	}
	amount, ok, err := p.Int64("amount")
	if err != nil {
		return it, err
	}
	if !ok {
		return it, billkey.Errorf(billkey.EREJECTED, "amount 파라미터가 누락되었습니다. (merchant_uid: %s)", it.MerchantUID)
	}
	it.Amount = amount
	if it.TaxFree, _, err = p.Int64("tax_free"); err != nil {
		return it, err
	}
	vat, hasVat, err := p.Int64("vat_amount")
	if err != nil {
		return it, err
	}
	if !hasVat {
		if vat, hasVat, err = p.Int64("vat"); err != nil {
			return it, err
		}
	}
	if hasVat {
		it.VatAmount = &vat
	}
	quota, _, err := p.Int64("card_quota")
	if err != nil {
		return it, err
	}
	if quota < 0 || quota > 36 {
		return it, billkey.Errorf(billkey.EREJECTED, "할부개월수(card_quota)는 0(일시불) 또는 2~36이어야 합니다.")
	}
	it.CardQuota = int(quota)
	if it.CustomData, err = p.JSONText("custom_data"); err != nil {
		return it, err
	}
	return it, nil
}

// HandleUnschedule serves POST /subscribe/payments/unschedule: customer_uid
// and/or merchant_uid (an array, merchant_uid[]= or one value).
func (s *Server) HandleUnschedule(w http.ResponseWriter, r *http.Request, p Params) {
	customerUID, err := p.String("customer_uid")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	uids, err := p.Strings("merchant_uid")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	scs, err := s.Service.Unschedule(r.Context(), merchantID(r), customerUID, uids)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, viewsOf(scs, newScheduleView))
}

// HandleScheduleByMerchantUID serves GET /subscribe/payments/schedule/{merchant_uid}
// (404 when unknown).
func (s *Server) HandleScheduleByMerchantUID(w http.ResponseWriter, r *http.Request) {
	sc, err := s.Service.ScheduleByMerchantUID(r.Context(), merchantID(r), r.PathValue("merchant_uid"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newScheduleView(sc))
}

// HandleSchedulesByRange serves GET /subscribe/payments/schedule with
// schedule_from, schedule_to, schedule_status, page, limit and sorting.
func (s *Server) HandleSchedulesByRange(w http.ResponseWriter, r *http.Request) {
	s.listSchedules(w, r, "", "schedule_from", "schedule_to", "schedule_status")
}

// HandleCustomerSchedules serves both by-customer lists, with from, to,
// page and schedule-status (go-iamport, node) or schedule_status (Ruby). An
// unknown customer has an empty list (code 0), as go-iamport's tests saw.
func (s *Server) HandleCustomerSchedules(w http.ResponseWriter, r *http.Request) {
	s.listSchedules(w, r, r.PathValue("customer_uid"), "from", "to", "schedule-status", "schedule_status")
}

// maxScheduleWindow is "at most 3 months" (the longest three months).
const maxScheduleWindow = 92 * 24 * time.Hour

func (s *Server) listSchedules(w http.ResponseWriter, r *http.Request, customerUID, fromName, toName string, statusNames ...string) {
	q, page, limit, err := listParams(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := billkey.ScheduleFilter{MerchantID: merchantID(r), CustomerUID: customerUID, Offset: (page - 1) * limit, Limit: limit}
	if f.From, f.To, err = scheduleWindow(q, fromName, toName, s.Service.Now()); err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, name := range statusNames {
		v, err := q.String(name)
		if err != nil {
			s.writeError(w, r, invalid(err))
			return
		}
		if v == "" {
			continue
		}
		st := billkey.ScheduleStatus(v)
		if !st.Valid() {
			s.writeError(w, r, billkey.Errorf(billkey.EINVALID, "지원되지 않는 상태값입니다. (%s: scheduled, executed, revoked)", name))
			return
		}
		f.Status = st
	}
	sorting, err := q.String("sorting")
	if err != nil {
		s.writeError(w, r, invalid(err))
		return
	}
	switch sorting {
	case "", "-scheduled":
	case "scheduled":
		f.OldestFirst = true
	default:
		s.writeError(w, r, billkey.Errorf(billkey.EINVALID, "지원되지 않는 정렬 방식입니다. (sorting: scheduled, -scheduled)"))
		return
	}
	scs, total, err := s.Service.ListSchedules(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newPage(viewsOf(scs, newScheduleView), total, page, limit))
}

// scheduleWindow reads a [from, to) window of schedule_at in UNIX seconds.
// i'mport's API requires both; billkey fills what is missing (or 0): to = from +
// 3 months, from = to - 3 months, and with neither the 3 months centred on
// now. A wider window than 3 months, or from after to, is a 400.
func scheduleWindow(q Params, fromName, toName string, now time.Time) (from, to time.Time, err error) {
	f, _, err := q.Int64(fromName)
	if err != nil || f < 0 {
		return from, to, billkey.Errorf(billkey.EINVALID, "%s는 UNIX timestamp(초)여야 합니다.", fromName)
	}
	t, _, err := q.Int64(toName)
	if err != nil || t < 0 {
		return from, to, billkey.Errorf(billkey.EINVALID, "%s는 UNIX timestamp(초)여야 합니다.", toName)
	}
	switch {
	case f > 0 && t > 0:
		from, to = time.Unix(f, 0), time.Unix(t, 0)
	case f > 0:
		from = time.Unix(f, 0)
		to = from.Add(maxScheduleWindow)
	case t > 0:
		to = time.Unix(t, 0)
		from = to.Add(-maxScheduleWindow)
	default:
		from, to = now.Add(-maxScheduleWindow/2), now.Add(maxScheduleWindow/2)
	}
	if !from.Before(to) {
		return from, to, billkey.Errorf(billkey.EINVALID, "%s는 %s보다 이전이어야 합니다.", fromName, toName)
	}
	if to.Sub(from) > maxScheduleWindow {
		return from, to, billkey.Errorf(billkey.EINVALID, "조회 기간은 최대 3개월(92일)입니다.")
	}
	return from, to, nil
}

// scheduleAtParam reads schedule_at for PUT and reschedule; a bad value is
// a 400 like the rest of an invalid schedule update.
func scheduleAtParam(p Params) (time.Time, error) {
	at, ok, err := p.Int64("schedule_at")
	if err != nil {
		return time.Time{}, invalid(err)
	}
	if !ok || at <= 0 {
		return time.Time{}, billkey.Errorf(billkey.EINVALID, "schedule_at 파라미터가 누락되었습니다.")
	}
	return time.Unix(at, 0), nil
}

// HandleMoveSchedule serves PUT /subscribe/payments/schedule/{merchant_uid}:
// a pending schedule moves to schedule_at (400 when it is not pending or the
// time is not in the future; 404 when unknown).
func (s *Server) HandleMoveSchedule(w http.ResponseWriter, r *http.Request, p Params) {
	s.setScheduleAt(w, r, p, s.Service.MoveSchedule)
}

// HandleReschedule serves POST /subscribe/payments/schedule/{merchant_uid}/reschedule.
func (s *Server) HandleReschedule(w http.ResponseWriter, r *http.Request, p Params) {
	s.setScheduleAt(w, r, p, s.Service.Reschedule)
}

// setScheduleAt serves a request that gives the schedule named in the path a
// new schedule_at through set (a gateway use case) and replies with it.
func (s *Server) setScheduleAt(w http.ResponseWriter, r *http.Request, p Params,
	set func(ctx context.Context, merchantID int64, merchantUID string, at time.Time) (*billkey.Schedule, error)) {
	at, err := scheduleAtParam(p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sc, err := set(r.Context(), merchantID(r), r.PathValue("merchant_uid"), at)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newScheduleView(sc))
}

// HandleRetrySchedule serves POST /subscribe/payments/schedule/{merchant_uid}/retry:
// a failed or revoked schedule runs now; the reply is its Payment.
func (s *Server) HandleRetrySchedule(w http.ResponseWriter, r *http.Request, _ Params) {
	pay, err := s.Service.RetrySchedule(r.Context(), merchantID(r), r.PathValue("merchant_uid"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newPaymentView(pay))
}
