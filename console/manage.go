package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
)

func (c *Console) customers(w http.ResponseWriter, r *http.Request, q *request) {
	uid := truncate(strings.TrimSpace(r.URL.Query().Get("customer_uid")), 200)
	cs, total, err := c.store.ListCustomers(r.Context(), q.Merchant.ID, uid, (pageOf(r)-1)*pageSize, pageSize)
	if err != nil {
		c.log.Error("console customers", "error", err)
		c.errorPage(w, r, q, http.StatusInternalServerError, "빌링키 목록을 불러오지 못했습니다.")
		return
	}
	c.render(w, r, http.StatusOK, "customers", &page{Title: "빌링키", Nav: "customers", Q: q,
		Data: &customersData{UID: uid, Customers: cs, Pager: newPager(r, total)}})
}

type customerData struct {
	C         *billkey.CustomerSummary
	Payments  []*billkey.Payment
	Schedules []*billkey.Schedule
	Confirm   bool
}

func (c *Console) customer(w http.ResponseWriter, r *http.Request, q *request) {
	ctx := r.Context()
	uid := r.PathValue("customer_uid")
	cs, _, err := c.store.ListCustomers(ctx, q.Merchant.ID, uid, 0, 1)
	if err != nil || len(cs) == 0 {
		c.errorPage(w, r, q, http.StatusNotFound, "빌링키를 찾을 수 없습니다.")
		return
	}
	data := &customerData{C: cs[0], Confirm: r.URL.Query().Get("confirm") == "delete"}
	data.Payments, _, _ = c.store.SearchPayments(ctx, billkey.PaymentSearch{MerchantID: q.Merchant.ID, CustomerUID: uid, Limit: 50})
	data.Schedules, _, _ = c.store.ListSchedules(ctx, billkey.ScheduleFilter{MerchantID: q.Merchant.ID, CustomerUID: uid, Limit: 50})
	c.render(w, r, http.StatusOK, "customer", &page{Title: "빌링키 " + uid, Nav: "customers", Q: q, Data: data})
}

func (c *Console) deleteCustomer(w http.ResponseWriter, r *http.Request, q *request) {
	uid := r.PathValue("customer_uid")
	if r.PostForm.Get("confirm") != "yes" {
		http.Redirect(w, r, Prefix+"/m/"+q.Merchant.ImpCode+"/customers/"+url.PathEscape(uid)+"?confirm=delete", http.StatusSeeOther)
		return
	}
	if _, err := c.svc.DeleteCustomer(r.Context(), q.Merchant.ID, uid); err != nil {
		c.errorPage(w, r, q, http.StatusUnprocessableEntity, "빌링키를 삭제하지 못했습니다: "+userMessage(err))
		return
	}
	c.audit(r.Context(), q, q.Merchant.ID, "customer.delete", uid, "")
	http.Redirect(w, r, Prefix+"/m/"+q.Merchant.ImpCode+"/customers?done=delete", http.StatusSeeOther)
}

// scheduleDay groups upcoming schedules by day (the calendar view).
type scheduleDay struct {
	Day       time.Time
	Amount    int64
	Schedules []*billkey.Schedule
}

type schedulesData struct {
	View     string // upcoming or past
	Days     []*scheduleDay
	Past     []*billkey.Schedule
	Pager    pager
	Error    string
	Customer string
}

func (c *Console) schedules(w http.ResponseWriter, r *http.Request, q *request) {
	c.showSchedules(w, r, q, http.StatusOK, "")
}

func (c *Console) showSchedules(w http.ResponseWriter, r *http.Request, q *request, status int, msg string) {
	view := r.URL.Query().Get("view")
	if view != "past" {
		view = "upcoming"
	}
	now := c.now()
	f := billkey.ScheduleFilter{MerchantID: q.Merchant.ID, Limit: pageSize, Offset: (pageOf(r) - 1) * pageSize,
		CustomerUID: truncate(strings.TrimSpace(r.URL.Query().Get("customer_uid")), 200)}
	if view == "upcoming" {
		f.Status, f.OldestFirst = billkey.ScheduleScheduled, true
	} else {
		f.To = now.Add(time.Second)
	}
	scs, total, err := c.store.ListSchedules(r.Context(), f)
	if err != nil {
		c.log.Error("console schedules", "error", err)
		c.errorPage(w, r, q, http.StatusInternalServerError, "예약 결제를 불러오지 못했습니다.")
		return
	}
	data := &schedulesData{View: view, Pager: newPager(r, total), Error: msg, Customer: f.CustomerUID}
	if view == "upcoming" {
		for _, sc := range scs {
			at := sc.ScheduleAt.In(c.cfg.Location)
			day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, c.cfg.Location)
			if n := len(data.Days); n == 0 || !data.Days[n-1].Day.Equal(day) {
				data.Days = append(data.Days, &scheduleDay{Day: day})
			}
			d := data.Days[len(data.Days)-1]
			d.Schedules = append(d.Schedules, sc)
			d.Amount += sc.Amount
		}
	} else {
		data.Past = scs
	}
	c.render(w, r, status, "schedules", &page{Title: "예약 결제", Nav: "schedules", Q: q, Data: data})
}

func (c *Console) revokeSchedule(w http.ResponseWriter, r *http.Request, q *request) {
	muid := r.PathValue("merchant_uid")
	if _, err := c.svc.Unschedule(r.Context(), q.Merchant.ID, "", []string{muid}); err != nil {
		c.audit(r.Context(), q, q.Merchant.ID, "schedule.revoke.failed", muid, billkey.ErrorCode(err))
		c.showSchedules(w, r, q, http.StatusUnprocessableEntity, "예약을 해지하지 못했습니다: "+userMessage(err))
		return
	}
	c.audit(r.Context(), q, q.Merchant.ID, "schedule.revoke", muid, "")
	http.Redirect(w, r, Prefix+"/m/"+q.Merchant.ImpCode+"/schedules?done=revoke", http.StatusSeeOther)
}

type webhooksData struct {
	State      string
	ImpUID     string
	Deliveries []*billkey.WebhookDelivery
	Pager      pager
	URL        string
	Error      string
}

func (c *Console) webhooks(w http.ResponseWriter, r *http.Request, q *request) {
	c.showWebhooks(w, r, q, http.StatusOK, "")
}

func (c *Console) showWebhooks(w http.ResponseWriter, r *http.Request, q *request, status int, msg string) {
	v := r.URL.Query()
	f := billkey.DeliveryFilter{MerchantID: q.Merchant.ID, ImpUID: truncate(strings.TrimSpace(v.Get("imp_uid")), 100),
		Limit: pageSize, Offset: (pageOf(r) - 1) * pageSize}
	if st := billkey.DeliveryState(v.Get("state")); st.Valid() {
		f.State = st
	}
	ds, total, err := c.svc.WebhookDeliveries(r.Context(), f)
	if err != nil {
		c.log.Error("console webhooks", "error", err)
		c.errorPage(w, r, q, http.StatusInternalServerError, "웹훅 기록을 불러오지 못했습니다.")
		return
	}
	c.render(w, r, status, "webhooks", &page{Title: "웹훅", Nav: "webhooks", Q: q, Data: &webhooksData{
		State: string(f.State), ImpUID: f.ImpUID, Deliveries: ds, Pager: newPager(r, total), URL: q.Merchant.WebhookURL, Error: msg}})
}

func (c *Console) resendWebhook(w http.ResponseWriter, r *http.Request, q *request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		_, err = c.svc.ResendWebhook(r.Context(), q.Merchant.ID, id)
	}
	if err != nil {
		c.showWebhooks(w, r, q, http.StatusUnprocessableEntity, "다시 보내지 못했습니다: "+userMessage(err))
		return
	}
	c.audit(r.Context(), q, q.Merchant.ID, "webhook.resend", r.PathValue("id"), "")
	http.Redirect(w, r, Prefix+"/m/"+q.Merchant.ImpCode+"/webhooks?done=resend", http.StatusSeeOther)
}

type settingsData struct {
	Channels []*billkey.Channel
	Webhook  *gateway.WebhookSettings
	Error    string
}

func (c *Console) settings(w http.ResponseWriter, r *http.Request, q *request) {
	c.showSettings(w, r, q, http.StatusOK, "")
}

func (c *Console) showSettings(w http.ResponseWriter, r *http.Request, q *request, status int, msg string) {
	chs, err := c.store.Channels(r.Context(), q.Merchant.ID)
	if err != nil {
		c.errorPage(w, r, q, http.StatusInternalServerError, "설정을 불러오지 못했습니다.")
		return
	}
	wh, err := c.svc.WebhookSettings(r.Context(), q.Merchant.ID)
	if err != nil {
		c.errorPage(w, r, q, http.StatusInternalServerError, "설정을 불러오지 못했습니다.")
		return
	}
	c.render(w, r, status, "settings", &page{Title: "설정", Nav: "settings", Q: q, Data: &settingsData{Channels: chs, Webhook: wh, Error: msg}})
}

type secretData struct {
	What, Secret, Note string
}

func (c *Console) rotateAPISecret(w http.ResponseWriter, r *http.Request, q *request) {
	if r.PostForm.Get("confirm") != "yes" {
		c.render(w, r, http.StatusOK, "confirm", &page{Title: "API secret 교체", Nav: "settings", Q: q, Data: &confirmData{
			Question: "REST API secret(imp_secret)을 새로 발급할까요? 기존 secret과 발급된 토큰은 즉시 사용할 수 없게 됩니다.",
			Action:   Prefix + "/m/" + q.Merchant.ImpCode + "/settings/api-secret",
			Back:     Prefix + "/m/" + q.Merchant.ImpCode + "/settings",
		}})
		return
	}
	secret, err := c.svc.RotateAPISecret(r.Context(), q.Merchant.ID)
	if err != nil {
		c.errorPage(w, r, q, http.StatusInternalServerError, "secret을 교체하지 못했습니다.")
		return
	}
	c.audit(r.Context(), q, q.Merchant.ID, "api_secret.rotate", q.Merchant.ImpCode, "")
	c.render(w, r, http.StatusOK, "secret", &page{Title: "새 API secret", Nav: "settings", Q: q, Data: &secretData{
		What: "REST API secret (imp_secret)", Secret: secret, Note: "imp_key는 그대로입니다: " + q.Merchant.APIKey}})
}

func (c *Console) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, q *request) {
	if r.PostForm.Get("confirm") != "yes" {
		c.render(w, r, http.StatusOK, "confirm", &page{Title: "웹훅 secret 교체", Nav: "settings", Q: q, Data: &confirmData{
			Question: "웹훅 서명 secret을 새로 발급할까요? 기존 secret은 24시간 동안 함께 서명합니다.",
			Action:   Prefix + "/m/" + q.Merchant.ImpCode + "/settings/webhook-secret",
			Back:     Prefix + "/m/" + q.Merchant.ImpCode + "/settings",
		}})
		return
	}
	rot, err := c.svc.RotateWebhookSecret(r.Context(), q.Merchant.ID, -1)
	if err != nil {
		c.errorPage(w, r, q, http.StatusInternalServerError, "secret을 교체하지 못했습니다.")
		return
	}
	c.audit(r.Context(), q, q.Merchant.ID, "webhook_secret.rotate", q.Merchant.ImpCode, "")
	note := ""
	if !rot.PreviousValidUntil.IsZero() {
		note = "이전 secret은 " + c.ts(rot.PreviousValidUntil) + "까지 함께 서명합니다."
	}
	c.render(w, r, http.StatusOK, "secret", &page{Title: "새 웹훅 secret", Nav: "settings", Q: q, Data: &secretData{
		What: "웹훅 서명 secret", Secret: rot.Secret, Note: note}})
}

type auditData struct {
	Entries []*billkey.AuditEntry
	Pager   pager
	Names   map[int64]string
}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, q *request) {
	f := billkey.AuditFilter{Limit: pageSize, Offset: (pageOf(r) - 1) * pageSize, OperatorID: q.Op.ID}
	names := map[int64]string{}
	if !q.Op.AllMerchants {
		f.MerchantIDs = []int64{}
	}
	for _, m := range q.Merchants {
		names[m.ID] = m.Name + " (" + m.ImpCode + ")"
		if !q.Op.AllMerchants {
			f.MerchantIDs = append(f.MerchantIDs, m.ID)
		}
	}
	es, total, err := c.store.ListAudit(r.Context(), f)
	if err != nil {
		c.errorPage(w, r, q, http.StatusInternalServerError, "감사 로그를 불러오지 못했습니다.")
		return
	}
	c.render(w, r, http.StatusOK, "audit", &page{Title: "감사 로그", Nav: "audit", Q: q, Data: &auditData{Entries: es, Pager: newPager(r, total), Names: names}})
}
