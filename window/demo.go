package window

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
)

// The demo shop is a tiny merchant living inside billkey: its page uses
// /js/iamport.js exactly as a merchant page would, and its "server side"
// (the handlers below) charges the first month with ChargeAgain, as a
// merchant's server would with POST /subscribe/payments/again. It only works
// on a merchant whose default channel is a test channel, and only shows or
// cancels its own payments (merchant_uid starting with "demo_").

// Demo plan.
const (
	demoPlanName  = "베이직 월간 구독"
	demoPlanPrice = 9900
	demoPrefix    = "demo_"
)

var (
	impUIDRE = regexp.MustCompile(`^imps?_[0-9]{12}$`)
	kst      = time.FixedZone("KST", 9*60*60)
)

// demoMerchant returns the demo shop's merchant: the one named by
// Config.DemoMerchant, else the oldest; its default channel must be a test
// channel.
func (h *Handler) demoMerchant(ctx context.Context) (*billkey.Merchant, error) {
	var m *billkey.Merchant
	if code := h.cfg.DemoMerchant; code != "" {
		var err error
		if m, err = h.cfg.Service.MerchantByImpCode(ctx, code); err != nil {
			return nil, billkey.WrapError(billkey.EREJECTED, "데모 상점 가맹점("+code+")을 찾을 수 없습니다.", err)
		}
	} else {
		ms, err := h.cfg.Service.Merchants(ctx)
		if err != nil {
			return nil, err
		}
		if len(ms) == 0 {
			return nil, billkey.Errorf(billkey.EREJECTED, "가맹점이 없습니다. billkey merchant create --name \"데모\" 로 가맹점을 만든 뒤 다시 열어주세요.")
		}
		m = ms[0]
	}
	ch, err := h.cfg.Service.ResolveChannel(ctx, m.ID, "", false)
	if billkey.ErrorCode(err) == billkey.EREJECTED && strings.Contains(billkey.ErrorMessage(err), "live") {
		return nil, billkey.Errorf(billkey.EREJECTED, "데모 상점은 테스트 채널에서만 동작합니다.")
	} else if err != nil {
		return nil, err
	}
	if ch.Live {
		return nil, billkey.Errorf(billkey.EREJECTED, "데모 상점은 테스트 채널에서만 동작합니다. (the demo merchant's default channel is live)")
	}
	return m, nil
}

// demoHeaders sets the demo pages' headers: everything from billkey's own
// origin, framing refused. frame-src is left open because the payment
// window's iframe goes on to INICIS (or an external simulator).
func demoHeaders(hd http.Header) {
	setPageHeaders(hd)
	hd.Set("Content-Security-Policy", "script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
}

func (h *Handler) demoRender(w http.ResponseWriter, status int, name string, data map[string]any) {
	demoHeaders(w.Header())
	data["PlanName"], data["PlanPrice"] = demoPlanName, int64(demoPlanPrice)
	h.render(w, status, name, data)
}

// HandleDemoIndex serves GET /demo: the subscription page.
func (h *Handler) HandleDemoIndex(w http.ResponseWriter, r *http.Request) {
	h.demoHome(w, r, http.StatusOK, r.URL.Query().Get("error"))
}

func (h *Handler) demoHome(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	m, err := h.demoMerchant(r.Context())
	if err != nil {
		h.demoFail(w, err)
		return
	}
	cfg := map[string]any{"imp_code": m.ImpCode, "plan_name": demoPlanName, "price": demoPlanPrice}
	h.demoRender(w, status, "demo_index.html", map[string]any{
		"Config": cfg, "ImpCode": m.ImpCode, "Error": truncate(errMsg, 300), "Base": h.cfg.BaseURL,
	})
}

func (h *Handler) demoFail(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	switch billkey.ErrorCode(err) {
	case billkey.ENOTFOUND:
		status = http.StatusNotFound
	case billkey.EINTERNAL:
		h.log.Error("demo shop", "error", err)
		status = http.StatusInternalServerError
	}
	h.demoRender(w, status, "demo_error.html", map[string]any{"Message": billkey.ErrorMessage(err)})
}

// HandleDemoAsset serves the demo page's script and stylesheet.
func (h *Handler) HandleDemoAsset(w http.ResponseWriter, r *http.Request) {
	ct := map[string]string{"demo.js": "text/javascript; charset=utf-8", "demo.css": "text/css; charset=utf-8"}[r.PathValue("file")]
	if ct == "" {
		http.NotFound(w, r)
		return
	}
	serveAsset(w, r, r.PathValue("file"), ct, "public, max-age=300")
}

// HandleDemoComplete serves GET /demo/complete, the m_redirect_url of the demo
// (the PC callback goes there too). On success it shows a page whose form
// posts the imp_uid to /demo/subscribe (the charge is a POST, never a GET).
func (h *Handler) HandleDemoComplete(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("imp_success") != "true" {
		msg := q.Get("error_msg")
		if msg == "" {
			msg = "카드 등록이 완료되지 않았습니다."
		}
		h.demoHome(w, r, http.StatusOK, msg)
		return
	}
	imp := q.Get("imp_uid")
	if !impUIDRE.MatchString(imp) {
		h.demoHome(w, r, http.StatusBadRequest, "imp_uid가 올바르지 않습니다.")
		return
	}
	h.demoRender(w, http.StatusOK, "demo_complete.html", map[string]any{"ImpUID": imp})
}

// HandleDemoSubscribe serves POST /demo/subscribe: the demo merchant's server
// checks the issuance (GET /payments/{imp_uid} in a real shop: status paid,
// customer_uid_usage issue) and charges the first month on the stored key
// (POST /subscribe/payments/again). The charge's merchant_uid is derived
// from the issuance's imp_uid, so a repeated post never charges twice.
func (h *Handler) HandleDemoSubscribe(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	m, err := h.demoMerchant(ctx)
	if err != nil {
		h.demoFail(w, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	imp := r.PostFormValue("imp_uid")
	if !impUIDRE.MatchString(imp) {
		h.demoHome(w, r, http.StatusBadRequest, "imp_uid가 올바르지 않습니다.")
		return
	}
	issue, err := h.cfg.Service.Payment(ctx, m.ID, imp)
	if err != nil || issue.CustomerUIDUsage != billkey.UsageIssue || issue.Status != billkey.StatusPaid ||
		!strings.HasPrefix(issue.MerchantUID, demoPrefix) || issue.CustomerUID == "" {
		h.demoHome(w, r, http.StatusBadRequest, "카드 등록(빌링키 발급) 기록을 확인할 수 없습니다.")
		return
	}
	orderUID := demoPrefix + "first_" + strings.TrimPrefix(imp, "imp_")
	p, err := h.cfg.Service.ChargeAgain(ctx, m.ID, gateway.ChargeInput{
		CustomerUID: issue.CustomerUID, MerchantUID: orderUID, Name: demoPlanName + " (첫 달)",
		Amounts: gateway.Amounts{Amount: demoPlanPrice}, UserAgent: r.UserAgent(), ClientIP: remoteIP(r),
	})
	if billkey.ErrorCode(err) == billkey.EREJECTED {
		if prev, ferr := h.cfg.Service.FindPayment(ctx, m.ID, orderUID, ""); ferr == nil {
			p, err = prev, nil // already charged for this issuance
		}
	}
	if err != nil {
		if billkey.ErrorCode(err) == billkey.EINTERNAL {
			h.log.Error("demo shop: charge", "error", err)
		}
		h.demoHome(w, r, http.StatusOK, billkey.ErrorMessage(err))
		return
	}
	to := "/demo/orders/" + url.PathEscape(p.ImpUID)
	if p.Status == billkey.StatusPaid {
		if err := h.demoScheduleNext(ctx, m.ID, issue, p); err != nil {
			if billkey.ErrorCode(err) == billkey.EINTERNAL {
				h.log.Error("demo shop: schedule", "error", err)
			}
			to += "?error=" + url.QueryEscape("다음 결제를 예약하지 못했습니다: "+billkey.ErrorMessage(err))
		}
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// demoNextUID is the merchant_uid of the scheduled second month of a first
// charge (derived, so a repeated post schedules once).
func demoNextUID(first *billkey.Payment) string {
	return demoPrefix + "next_" + strings.TrimPrefix(first.MerchantUID, demoPrefix+"first_")
}

// demoScheduleNext schedules the second month one month after the first
// charge (POST /subscribe/payments/schedule in a real shop). A schedule made
// by an earlier post is kept.
func (h *Handler) demoScheduleNext(ctx context.Context, merchantID int64, issue, first *billkey.Payment) error {
	uid := demoNextUID(first)
	if _, err := h.cfg.Service.ScheduleByMerchantUID(ctx, merchantID, uid); err == nil {
		return nil
	}
	paidAt := first.PaidAt
	if paidAt.IsZero() {
		paidAt = time.Now()
	}
	_, err := h.cfg.Service.CreateSchedules(ctx, merchantID, gateway.ScheduleInput{
		CustomerUID: issue.CustomerUID,
		Schedules: []gateway.ScheduleItem{{
			MerchantUID: uid, ScheduleAt: paidAt.AddDate(0, 1, 0), Name: demoPlanName + " (2개월차)",
			Amounts: gateway.Amounts{Amount: demoPlanPrice}, Buyer: issue.Buyer,
		}},
	})
	return err
}

// HandleDemoUnschedule serves POST /demo/orders/{imp_uid}/unschedule: the next
// payment is revoked (POST /subscribe/payments/unschedule in a real shop).
func (h *Handler) HandleDemoUnschedule(w http.ResponseWriter, r *http.Request) {
	h.demoOrderPost(w, r, func(ctx context.Context, m *billkey.Merchant, p *billkey.Payment) string {
		_, err := h.cfg.Service.Unschedule(ctx, m.ID, "", []string{demoNextUID(p)})
		return h.demoActionError("unschedule", err)
	})
}

// demoOrderPost serves a buyer's POST on the order named in the path: act
// runs on it and returns "" or the message to show; the buyer is sent back to
// the order's page (with ?error= when act failed).
func (h *Handler) demoOrderPost(w http.ResponseWriter, r *http.Request, act func(context.Context, *billkey.Merchant, *billkey.Payment) string) {
	ctx := r.Context()
	m, p, err := h.demoPaymentOf(ctx, r.PathValue("imp_uid"))
	if err != nil {
		h.demoFail(w, err)
		return
	}
	to := "/demo/orders/" + url.PathEscape(p.ImpUID)
	if msg := act(ctx, m, p); msg != "" {
		to += "?error=" + url.QueryEscape(msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// demoActionError is the message to show for a failed demo action ("" when
// err is nil); an internal error is logged as "demo shop: "+what.
func (h *Handler) demoActionError(what string, err error) string {
	if err == nil {
		return ""
	}
	if billkey.ErrorCode(err) == billkey.EINTERNAL {
		h.log.Error("demo shop: "+what, "error", err)
	}
	return billkey.ErrorMessage(err)
}

// demoStatus is a payment status in the buyer's words.
func demoStatus(s billkey.PaymentStatus) string {
	switch s {
	case billkey.StatusPaid:
		return "결제 완료"
	case billkey.StatusCancelled:
		return "환불됨"
	case billkey.StatusFailed:
		return "실패"
	case billkey.StatusReady:
		return "결제 대기"
	}
	return string(s)
}

// demoScheduleStatus is a schedule's status in the buyer's words.
func demoScheduleStatus(sc *billkey.Schedule) string {
	switch sc.Status {
	case billkey.ScheduleScheduled:
		return "예약됨"
	case billkey.ScheduleRevoked:
		return "예약 취소됨"
	case billkey.ScheduleExecuted:
		return "결제 실행됨 (" + demoStatus(sc.PaymentStatus) + ")"
	}
	return string(sc.Status)
}

// demoPaymentOf returns one of the demo shop's payments.
func (h *Handler) demoPaymentOf(ctx context.Context, imp string) (*billkey.Merchant, *billkey.Payment, error) {
	m, err := h.demoMerchant(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !impUIDRE.MatchString(imp) {
		return nil, nil, billkey.Errorf(billkey.ENOTFOUND, "존재하지 않는 결제정보입니다.")
	}
	p, err := h.cfg.Service.Payment(ctx, m.ID, imp)
	if err != nil {
		return nil, nil, err
	}
	if !strings.HasPrefix(p.MerchantUID, demoPrefix) {
		return nil, nil, billkey.Errorf(billkey.ENOTFOUND, "존재하지 않는 결제정보입니다.")
	}
	return m, p, nil
}

// HandleDemoOrder serves GET /demo/orders/{imp_uid}: the result of the first
// charge, with a refund button and links to the payment.
func (h *Handler) HandleDemoOrder(w http.ResponseWriter, r *http.Request) {
	_, p, err := h.demoPaymentOf(r.Context(), r.PathValue("imp_uid"))
	if err != nil {
		h.demoFail(w, err)
		return
	}
	data := map[string]any{
		"P": p, "PaidAt": kstTime(p.PaidAt), "CancelledAt": kstTime(p.CancelledAt), "Base": h.cfg.BaseURL,
		"Error": truncate(r.URL.Query().Get("error"), 300), "Cancellable": p.Status == billkey.StatusPaid && p.Cancellable() > 0,
		"Status": demoStatus(p.Status),
	}
	if sc, err := h.cfg.Service.ScheduleByMerchantUID(r.Context(), p.MerchantID, demoNextUID(p)); err == nil {
		data["Next"] = map[string]any{
			"MerchantUID": sc.MerchantUID, "At": kstTime(sc.ScheduleAt), "Amount": sc.Amount,
			"Status": demoScheduleStatus(sc), "Pending": sc.Status == billkey.ScheduleScheduled,
		}
	}
	h.demoRender(w, http.StatusOK, "demo_order.html", data)
}

// HandleDemoCancel serves POST /demo/orders/{imp_uid}/cancel: a full refund
// through the gateway's Cancel (POST /payments/cancel in a real shop).
func (h *Handler) HandleDemoCancel(w http.ResponseWriter, r *http.Request) {
	h.demoOrderPost(w, r, func(ctx context.Context, m *billkey.Merchant, p *billkey.Payment) string {
		if _, err := h.cfg.Service.Cancel(ctx, m.ID, gateway.CancelInput{ImpUID: p.ImpUID, Reason: "데모 상점 구독 취소", ClientIP: remoteIP(r)}); err != nil {
			return h.demoActionError("cancel", err)
		}
		if _, err := h.cfg.Service.Unschedule(ctx, m.ID, "", []string{demoNextUID(p)}); err != nil && billkey.ErrorCode(err) == billkey.EINTERNAL {
			// The subscription ends with the refund; "nothing to revoke" is fine.
			h.log.Error("demo shop: unschedule after refund", "error", err)
			return "다음 결제 예약을 취소하지 못했습니다: " + billkey.ErrorMessage(err)
		}
		return ""
	})
}

// demoPaymentView is the demo's rendering of a payment, with i'mport's field
// names (a subset of GET /payments/{imp_uid}).
type demoPaymentView struct {
	ImpUID           string `json:"imp_uid"`
	MerchantUID      string `json:"merchant_uid"`
	Status           string `json:"status"`
	Amount           int64  `json:"amount"`
	CancelAmount     int64  `json:"cancel_amount"`
	Currency         string `json:"currency"`
	Name             string `json:"name"`
	PayMethod        string `json:"pay_method"`
	Channel          string `json:"channel"`
	PGProvider       string `json:"pg_provider"`
	PGID             string `json:"pg_id"`
	PGTID            string `json:"pg_tid"`
	ApplyNum         string `json:"apply_num"`
	CardCode         string `json:"card_code"`
	CardName         string `json:"card_name"`
	CardNumber       string `json:"card_number"`
	CustomerUID      string `json:"customer_uid"`
	CustomerUIDUsage string `json:"customer_uid_usage"`
	BuyerName        string `json:"buyer_name"`
	BuyerEmail       string `json:"buyer_email"`
	BuyerTel         string `json:"buyer_tel"`
	StartedAt        int64  `json:"started_at"`
	PaidAt           int64  `json:"paid_at"`
	FailedAt         int64  `json:"failed_at"`
	CancelledAt      int64  `json:"cancelled_at"`
	FailReason       string `json:"fail_reason"`
	CancelReason     string `json:"cancel_reason"`
	ReceiptURL       string `json:"receipt_url"`
}

func unixOr0(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// HandleDemoPayment serves GET /demo/payments/{imp_uid}: the payment as JSON,
// and how to fetch the same from the REST API.
func (h *Handler) HandleDemoPayment(w http.ResponseWriter, r *http.Request) {
	_, p, err := h.demoPaymentOf(r.Context(), r.PathValue("imp_uid"))
	if err != nil {
		h.demoFail(w, err)
		return
	}
	v := demoPaymentView{
		ImpUID: p.ImpUID, MerchantUID: p.MerchantUID, Status: string(p.Status), Amount: p.Amount, CancelAmount: p.CancelAmount,
		Currency: p.Currency, Name: p.Name, PayMethod: p.PayMethod, Channel: p.Channel, PGProvider: p.PGProvider, PGID: p.PGID,
		PGTID: p.PGTID, ApplyNum: p.ApplyNum, CardCode: p.CardCode, CardName: p.CardName, CardNumber: p.CardNumber,
		CustomerUID: p.CustomerUID, CustomerUIDUsage: p.CustomerUIDUsage, BuyerName: p.Buyer.Name, BuyerEmail: p.Buyer.Email,
		BuyerTel: p.Buyer.Tel, StartedAt: unixOr0(p.StartedAt), PaidAt: unixOr0(p.PaidAt), FailedAt: unixOr0(p.FailedAt),
		CancelledAt: unixOr0(p.CancelledAt), FailReason: p.FailReason, CancelReason: p.CancelReason, ReceiptURL: p.ReceiptURL,
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	h.demoRender(w, http.StatusOK, "demo_payment.html", map[string]any{"P": p, "JSON": string(b), "Base": h.cfg.BaseURL})
}

func kstTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(kst).Format("2006-01-02 15:04:05 KST")
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
