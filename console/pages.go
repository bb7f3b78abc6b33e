package console

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
)

const pageSize = 30

// pager is a list's paging.
type pager struct {
	Total, Page, Pages int
	Prev, Next         string // URLs, "" when none
}

func newPager(r *http.Request, total int) pager {
	pg := pageOf(r)
	p := pager{Total: total, Page: pg, Pages: (total + pageSize - 1) / pageSize}
	link := func(n int) string {
		v := r.URL.Query()
		v.Set("page", strconv.Itoa(n))
		return r.URL.Path + "?" + v.Encode()
	}
	if pg > 1 {
		p.Prev = link(pg - 1)
	}
	if pg < p.Pages {
		p.Next = link(pg + 1)
	}
	return p
}

func pageOf(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 || n > 100000 {
		return 1
	}
	return n
}

// mode is the test/live switch of lists and the dashboard: the query's
// "mode", else the mode of the merchant's default channel.
func (c *Console) mode(r *http.Request, q *request) string {
	switch m := r.URL.Query().Get("mode"); m {
	case "test", "live", "all":
		return m
	}
	if c.defaultLive(r, q) {
		return "live"
	}
	return "test"
}

func (c *Console) defaultLive(r *http.Request, q *request) bool {
	chs, err := c.store.Channels(r.Context(), q.Merchant.ID)
	if err != nil {
		return false
	}
	for _, ch := range chs {
		if ch.Default {
			return ch.Live
		}
	}
	return false
}

// parseDay reads a YYYY-MM-DD date in the console's location.
func (c *Console) parseDay(s string) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), c.cfg.Location)
	return t, err == nil
}

type dashboardData struct {
	From, To, Mode string
	D              *billkey.Dashboard
	AmountChart    template.HTML
	CountChart     template.HTML
	ReasonChart    template.HTML
	WebhookChart   template.HTML
	Error          string
}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, q *request) {
	now := c.now().In(c.cfg.Location)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, c.cfg.Location)
	from, to := today.AddDate(0, 0, -13), today
	data := &dashboardData{Mode: c.mode(r, q)}
	if data.Mode == "all" {
		data.Mode = "test"
	}
	if f, ok := c.parseDay(r.URL.Query().Get("from")); ok {
		from = f
	}
	if t, ok := c.parseDay(r.URL.Query().Get("to")); ok {
		to = t
	}
	if to.Before(from) || to.Sub(from) > 366*24*time.Hour {
		data.Error = "기간이 올바르지 않습니다 (최대 1년). 최근 14일을 보여 줍니다."
		from, to = today.AddDate(0, 0, -13), today
	}
	data.From, data.To = from.Format("2006-01-02"), to.Format("2006-01-02")
	d, err := c.store.Dashboard(r.Context(), billkey.DashboardQuery{
		MerchantID: q.Merchant.ID, Live: data.Mode == "live", From: from, To: to.AddDate(0, 0, 1), Loc: c.cfg.Location,
		SchedulesLive: c.defaultLive(r, q), Now: c.now(),
	})
	if err != nil {
		c.log.Error("console dashboard", "error", err)
		c.errorPage(w, r, q, http.StatusInternalServerError, "대시보드를 불러오지 못했습니다.")
		return
	}
	data.D = d
	var amounts, counts []barPoint
	for _, f := range d.Daily {
		label := f.Day.Format("1/2")
		amounts = append(amounts, barPoint{Label: label, Value: f.Amount, Title: f.Day.Format("2006-01-02") + " " + won(f.Amount)})
		counts = append(counts, barPoint{Label: label, Value: int64(f.Count), Title: f.Day.Format("2006-01-02") + " " + strconv.Itoa(f.Count) + "건"})
	}
	data.AmountChart = barChart("일별 승인 금액", amounts, "#2563eb", won)
	data.CountChart = barChart("일별 승인 건수", counts, "#0d9488", func(n int64) string { return strconv.FormatInt(n, 10) + "건" })
	var reasons []barPoint
	for _, x := range d.DeclineReasons {
		reasons = append(reasons, barPoint{Label: x.Reason, Value: int64(x.Count), Title: x.Reason})
	}
	data.ReasonChart = hbarChart("거절 사유", reasons, "#dc2626")
	wh := []barPoint{
		{Label: "전달됨", Value: int64(d.Webhooks[billkey.DeliveryDelivered]), Color: "#16a34a"},
		{Label: "재시도 대기", Value: int64(d.Webhooks[billkey.DeliveryPending]), Color: "#d97706"},
		{Label: "실패(중단)", Value: int64(d.Webhooks[billkey.DeliveryFailed]), Color: "#dc2626"},
		{Label: "건너뜀", Value: int64(d.Webhooks[billkey.DeliverySkipped]), Color: "#94a3b8"},
	}
	data.WebhookChart = stackChart("웹훅 전달 상태", wh)
	c.render(w, r, http.StatusOK, "dashboard", &page{Title: "대시보드", Nav: "dashboard", Q: q, Data: data})
}

// search reads the payment search form.
func (c *Console) search(r *http.Request, q *request) (billkey.PaymentSearch, url.Values) {
	v := r.URL.Query()
	f := billkey.PaymentSearch{MerchantID: q.Merchant.ID, Limit: pageSize, Offset: (pageOf(r) - 1) * pageSize}
	get := func(k string) string { return truncate(strings.TrimSpace(v.Get(k)), 200) }
	f.ImpUID, f.MerchantUID, f.CustomerUID, f.Buyer = get("imp_uid"), get("merchant_uid"), get("customer_uid"), get("buyer")
	if s := billkey.PaymentStatus(get("status")); s.Valid() {
		f.Status = s
	}
	switch ch := get("channel"); ch {
	case billkey.ChannelAPI, billkey.ChannelPC, billkey.ChannelMobile:
		f.Channel = ch
	}
	if m := c.mode(r, q); m != "all" {
		f.Mode = m
	}
	if t, ok := c.parseDay(get("from")); ok {
		f.From = t
	}
	if t, ok := c.parseDay(get("to")); ok {
		f.To = t.AddDate(0, 0, 1)
	}
	form := url.Values{}
	for _, k := range []string{"imp_uid", "merchant_uid", "customer_uid", "buyer", "status", "channel", "from", "to"} {
		form.Set(k, get(k))
	}
	form.Set("mode", c.mode(r, q))
	return f, form
}

type paymentsData struct {
	Form     url.Values
	Payments []*billkey.Payment
	Pager    pager
	CSV      string
}

func (c *Console) payments(w http.ResponseWriter, r *http.Request, q *request) {
	f, form := c.search(r, q)
	ps, total, err := c.store.SearchPayments(r.Context(), f)
	if err != nil {
		c.log.Error("console payments", "error", err)
		c.errorPage(w, r, q, http.StatusInternalServerError, "결제 내역을 불러오지 못했습니다.")
		return
	}
	data := &paymentsData{Form: form, Payments: ps, Pager: newPager(r, total),
		CSV: Prefix + "/m/" + q.Merchant.ImpCode + "/payments.csv?" + form.Encode()}
	c.render(w, r, http.StatusOK, "payments", &page{Title: "결제 내역", Nav: "payments", Q: q, Data: data})
}

// csvCell keeps a spreadsheet from reading a cell as a formula.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (c *Console) paymentsCSV(w http.ResponseWriter, r *http.Request, q *request) {
	f, form := c.search(r, q)
	c.audit(r.Context(), q, q.Merchant.ID, "payments.export", "", form.Encode())
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="payments-%s-%s.csv"`, q.Merchant.ImpCode, c.now().In(c.cfg.Location).Format("20060102-150405")))
	_, _ = w.Write([]byte("\uFEFF")) // so spreadsheet programs read UTF-8 Korean
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"imp_uid", "merchant_uid", "status", "amount", "cancel_amount", "currency", "name", "buyer_name",
		"buyer_email", "buyer_tel", "card_name", "card_number", "pg_tid", "apply_num", "channel", "customer_uid",
		"customer_uid_usage", "started_at", "paid_at", "failed_at", "cancelled_at", "fail_reason"})
	err := c.store.EachPayment(r.Context(), f, func(p *billkey.Payment) error {
		return cw.Write([]string{p.ImpUID, csvCell(p.MerchantUID), string(p.Status), strconv.FormatInt(p.Amount, 10),
			strconv.FormatInt(p.CancelAmount, 10), p.Currency, csvCell(p.Name), csvCell(p.Buyer.Name), csvCell(p.Buyer.Email),
			csvCell(p.Buyer.Tel), csvCell(p.CardName), p.CardNumber, p.PGTID, p.ApplyNum, p.Channel, csvCell(p.CustomerUID),
			p.CustomerUIDUsage, c.ts(p.StartedAt), c.ts(p.PaidAt), c.ts(p.FailedAt), c.ts(p.CancelledAt), csvCell(p.FailReason)})
	})
	cw.Flush()
	if err != nil {
		c.log.Error("console csv export", "error", err)
	}
}

// event is one line of a payment's timeline.
type event struct {
	At     time.Time
	Tone   string
	Title  string
	Detail string
}

type paymentData struct {
	P        *billkey.Payment
	Channel  *billkey.Channel
	Timeline []event
	Error    string
}

func (c *Console) loadPayment(w http.ResponseWriter, r *http.Request, q *request) *billkey.Payment {
	p, err := c.store.PaymentByImpUID(r.Context(), q.Merchant.ID, r.PathValue("imp_uid"))
	if err != nil {
		c.errorPage(w, r, q, http.StatusNotFound, "결제건을 찾을 수 없습니다.")
		return nil
	}
	return p
}

func (c *Console) payment(w http.ResponseWriter, r *http.Request, q *request) {
	if p := c.loadPayment(w, r, q); p != nil {
		c.showPayment(w, r, q, p, http.StatusOK, "")
	}
}

func (c *Console) showPayment(w http.ResponseWriter, r *http.Request, q *request, p *billkey.Payment, status int, msg string) {
	ctx := r.Context()
	data := &paymentData{P: p, Error: msg}
	data.Channel, _ = c.store.ChannelByID(ctx, q.Merchant.ID, p.ChannelID)
	tl := []event{{At: p.StartedAt, Tone: "info", Title: "결제 요청 생성",
		Detail: fmt.Sprintf("%s · %s · %s", channelKo(p.Channel), usageKo(p.CustomerUIDUsage), won(p.Amount))}}
	if p.CustomerUIDUsage != billkey.UsageIssue {
		tl = append(tl, event{At: p.StartedAt, Tone: "info", Title: "PG 승인 요청", Detail: fmt.Sprintf("KG이니시스 · MID %s", p.PGID)})
	}
	if p.OutcomeUnknown || p.ReconcileAttempts > 0 {
		d := fmt.Sprintf("PG 응답 없음: 조회(inquiry)로 확인합니다. 조회 %d회", p.ReconcileAttempts)
		if p.Status == billkey.StatusReady {
			d += fmt.Sprintf(", 다음 조회 %s", c.ts(p.ReconcileAfter))
		}
		tl = append(tl, event{At: p.StartedAt.Add(time.Second), Tone: "warn", Title: "결과 미확인 → 대사(reconciliation)", Detail: d})
	}
	if !p.PaidAt.IsZero() {
		tl = append(tl, event{At: p.PaidAt, Tone: "ok", Title: "승인", Detail: strings.TrimSpace(fmt.Sprintf("승인번호 %s · %s %s · TID %s", p.ApplyNum, p.CardName, p.CardNumber, p.PGTID))})
	}
	if !p.FailedAt.IsZero() {
		tl = append(tl, event{At: p.FailedAt, Tone: "bad", Title: "실패", Detail: p.FailReason})
	}
	cancels, err := c.store.PaymentCancelRecords(ctx, p.ID)
	if err == nil {
		for _, x := range cancels {
			tl = append(tl, event{At: x.CreatedAt, Tone: "info", Title: "환불 요청 " + won(x.Amount), Detail: x.Reason})
			switch x.State {
			case "done":
				tl = append(tl, event{At: x.CancelledAt, Tone: "ok", Title: "환불 완료 " + won(x.Amount), Detail: "TID " + x.PGTID})
			case "failed":
				tl = append(tl, event{At: x.CreatedAt, Tone: "bad", Title: "환불 거절 " + won(x.Amount), Detail: "PG사가 거절했습니다"})
			default:
				tl = append(tl, event{At: x.CreatedAt, Tone: "warn", Title: "환불 결과 미확인 " + won(x.Amount), Detail: "금액은 보류되었습니다 (" + x.State + ")"})
			}
		}
	}
	deliveries, err := c.store.DeliveriesOfPayment(ctx, q.Merchant.ID, p.ImpUID)
	if err == nil {
		for _, d := range deliveries {
			tl = append(tl, event{At: d.CreatedAt, Tone: "info", Title: "웹훅 생성 (" + string(d.Status) + ")", Detail: d.URL})
			for _, a := range d.Log {
				tone, res := "ok", fmt.Sprintf("HTTP %d", a.StatusCode)
				if a.StatusCode < 200 || a.StatusCode > 299 {
					tone = "bad"
					if a.StatusCode == 0 {
						res = "응답 없음"
					}
				}
				detail := truncate(a.Error, 200)
				if a.Response != "" {
					detail = strings.TrimSpace(detail + " 응답: " + truncate(a.Response, 120))
				}
				tl = append(tl, event{At: a.At, Tone: tone, Title: "웹훅 전송 #" + strconv.FormatInt(d.ID, 10) + " → " + res, Detail: detail})
			}
		}
	}
	audits, _, err := c.store.ListAudit(ctx, billkey.AuditFilter{MerchantIDs: []int64{q.Merchant.ID}, Target: p.ImpUID, Limit: 100})
	if err == nil {
		for _, a := range audits {
			tl = append(tl, event{At: a.CreatedAt, Tone: "muted", Title: "콘솔: " + a.OperatorLogin + " · " + a.Action, Detail: a.Detail + " (" + a.ClientAddr + ")"})
		}
	}
	sort.SliceStable(tl, func(i, j int) bool { return tl[i].At.Before(tl[j].At) })
	data.Timeline = tl
	c.render(w, r, status, "payment", &page{Title: "결제 " + p.ImpUID, Nav: "payments", Q: q, Data: data})
}

type confirmData struct {
	Question string
	Action   string
	Fields   [][2]string
	Back     string
}

// refund refunds all or part of a payment through the gateway (the same
// use case as POST /payments/cancel). The first POST shows a confirmation;
// the confirmed one carries the balance the operator saw as checksum, so a
// repeated or stale confirmation cannot refund twice.
func (c *Console) refund(w http.ResponseWriter, r *http.Request, q *request) {
	p := c.loadPayment(w, r, q)
	if p == nil {
		return
	}
	f := r.PostForm
	reason := truncate(strings.TrimSpace(f.Get("reason")), 200)
	amount := p.Cancellable()
	if s := strings.ReplaceAll(strings.TrimSpace(f.Get("amount")), ",", ""); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			c.showPayment(w, r, q, p, http.StatusUnprocessableEntity, "환불 금액은 1원 이상의 정수여야 합니다.")
			return
		}
		amount = n
	}
	if amount > p.Cancellable() || amount <= 0 {
		c.showPayment(w, r, q, p, http.StatusUnprocessableEntity, fmt.Sprintf("환불 가능 금액(%s)을 넘을 수 없습니다.", won(p.Cancellable())))
		return
	}
	if f.Get("confirm") != "yes" {
		kind := "부분 환불"
		if amount == p.Cancellable() {
			kind = "전액 환불"
		}
		c.render(w, r, http.StatusOK, "confirm", &page{Title: "환불 확인", Nav: "payments", Q: q, Data: &confirmData{
			Question: fmt.Sprintf("%s (%s)의 %s %s을 진행할까요? 환불 후 남는 금액: %s", p.ImpUID, p.MerchantUID, kind, won(amount), won(p.Cancellable()-amount)),
			Action:   Prefix + "/m/" + q.Merchant.ImpCode + "/payments/" + url.PathEscape(p.ImpUID) + "/refund",
			Fields:   [][2]string{{"amount", strconv.FormatInt(amount, 10)}, {"reason", reason}, {"checksum", strconv.FormatInt(p.Cancellable(), 10)}},
			Back:     Prefix + "/m/" + q.Merchant.ImpCode + "/payments/" + url.PathEscape(p.ImpUID),
		}})
		return
	}
	checksum, err := strconv.ParseInt(f.Get("checksum"), 10, 64)
	if err != nil {
		c.showPayment(w, r, q, p, http.StatusUnprocessableEntity, "확인 정보가 없습니다. 다시 시도해 주세요.")
		return
	}
	detail := fmt.Sprintf("amount=%d reason=%q", amount, reason)
	_, err = c.svc.Cancel(r.Context(), q.Merchant.ID, gateway.CancelInput{
		ImpUID: p.ImpUID, Amount: amount, Checksum: &checksum, Reason: reason, ClientIP: q.Addr,
	})
	if err != nil {
		c.audit(r.Context(), q, q.Merchant.ID, "payment.refund.failed", p.ImpUID, detail+" error="+billkey.ErrorCode(err))
		p2, gerr := c.store.PaymentByImpUID(r.Context(), q.Merchant.ID, p.ImpUID)
		if gerr == nil {
			p = p2
		}
		c.showPayment(w, r, q, p, http.StatusUnprocessableEntity, "환불하지 못했습니다: "+userMessage(err))
		return
	}
	c.audit(r.Context(), q, q.Merchant.ID, "payment.refund", p.ImpUID, detail)
	http.Redirect(w, r, Prefix+"/m/"+q.Merchant.ImpCode+"/payments/"+url.PathEscape(p.ImpUID)+"?done=refund", http.StatusSeeOther)
}

type customersData struct {
	UID       string
	Customers []*billkey.CustomerSummary
	Pager     pager
}
