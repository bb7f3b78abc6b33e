package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/billkey/billkey"
)

// calendarLimit bounds the schedules one month of the calendar loads.
const calendarLimit = 2000

// calendarCell is one day of the month grid.
type calendarCell struct {
	Day     time.Time
	InMonth bool
	Today   bool
	Amount  int64
	Count   int
	Items   []calendarItem // the first few, soonest first
	More    int            // how many more that day
}

// calendarItem is one schedule listed in a day of the grid.
type calendarItem struct {
	Time, MerchantUID, CustomerUID string
	Amount                         int64
}

type calendarData struct {
	Month      time.Time
	Prev, Next string // "2006-01" of the neighbouring months
	Weeks      [][]*calendarCell
	Count      int
	Amount     int64
	Truncated  bool // more than calendarLimit schedules in the month
	Customer   string
	Weekdays   []string
}

// calendar is the month grid of upcoming (pending) schedules: the query's
// month ("2006-01", default this month in the console's location), weeks
// from Sunday, each day with its count, amount and first schedules.
func (c *Console) calendar(w http.ResponseWriter, r *http.Request, q *request) {
	loc := c.cfg.Location
	now := c.now().In(loc)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	if t, err := time.ParseInLocation("2006-01", r.URL.Query().Get("month"), loc); err == nil && t.Year() >= 2000 && t.Year() <= 2999 {
		month = t
	}
	next := month.AddDate(0, 1, 0)
	customer := truncate(strings.TrimSpace(r.URL.Query().Get("customer_uid")), 200)
	scs, total, err := c.store.ListSchedules(r.Context(), billkey.ScheduleFilter{MerchantID: q.Merchant.ID, CustomerUID: customer,
		Status: billkey.ScheduleScheduled, From: month, To: next, OldestFirst: true, Limit: calendarLimit})
	if err != nil {
		c.log.Error("console schedule calendar", "error", err)
		c.errorPage(w, r, q, http.StatusInternalServerError, "예약 결제를 불러오지 못했습니다.")
		return
	}
	const listed = 3
	data := &calendarData{Month: month, Prev: month.AddDate(0, -1, 0).Format("2006-01"), Next: next.Format("2006-01"),
		Truncated: total > len(scs), Customer: customer,
		Weekdays: []string{"일", "월", "화", "수", "목", "금", "토"}}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	byDay := map[int]*calendarCell{}
	start := month.AddDate(0, 0, -int(month.Weekday()))
	for d := start; d.Before(next) || d.Weekday() != time.Sunday; d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Sunday {
			data.Weeks = append(data.Weeks, nil)
		}
		cell := &calendarCell{Day: d, InMonth: d.Month() == month.Month(), Today: d.Equal(today)}
		if cell.InMonth {
			byDay[d.Day()] = cell
		}
		data.Weeks[len(data.Weeks)-1] = append(data.Weeks[len(data.Weeks)-1], cell)
	}
	for _, sc := range scs {
		cell := byDay[sc.ScheduleAt.In(loc).Day()]
		if cell == nil {
			continue
		}
		cell.Count++
		cell.Amount += sc.Amount
		if len(cell.Items) < listed {
			cell.Items = append(cell.Items, calendarItem{Time: sc.ScheduleAt.In(loc).Format("15:04"), MerchantUID: sc.MerchantUID,
				CustomerUID: sc.CustomerUID, Amount: sc.Amount})
		} else {
			cell.More++
		}
		data.Count++
		data.Amount += sc.Amount
	}
	c.render(w, r, http.StatusOK, "calendar", &page{Title: "예약 결제 달력", Nav: "schedules", Q: q, Data: data})
}

// scheduleActionable loads the schedule of the URL for reschedule or
// retry; when the confirmed form says which version the operator saw
// ("seen", its update time), a schedule changed since is refused, so a
// stale or repeated confirmation does nothing.
func (c *Console) scheduleActionable(w http.ResponseWriter, r *http.Request, q *request) (*billkey.Schedule, bool) {
	sc, err := c.svc.ScheduleByMerchantUID(r.Context(), q.Merchant.ID, r.PathValue("merchant_uid"))
	if err != nil {
		c.showSchedules(w, r, q, http.StatusNotFound, "예약 결제를 찾을 수 없습니다.")
		return nil, false
	}
	if r.PostForm.Get("confirm") == "yes" && r.PostForm.Get("seen") != scheduleVersion(sc) {
		c.showSchedules(w, r, q, http.StatusConflict, "확인한 뒤에 예약 상태가 바뀌었습니다. 목록을 확인하고 다시 시도해 주세요.")
		return nil, false
	}
	return sc, true
}

// scheduleVersion identifies the state of a schedule an operator confirmed.
func scheduleVersion(sc *billkey.Schedule) string {
	return fmt.Sprintf("%s/%s/%s/%d", sc.Status, sc.PaymentStatus, sc.ImpUID, sc.UpdatedAt.Unix())
}

func (c *Console) scheduleConfirm(w http.ResponseWriter, r *http.Request, q *request, sc *billkey.Schedule, title, question, action string, fields [][2]string) {
	base := Prefix + "/m/" + q.Merchant.ImpCode
	fields = append(fields, [2]string{"seen", scheduleVersion(sc)})
	c.render(w, r, http.StatusOK, "confirm", &page{Title: title, Nav: "schedules", Q: q, Data: &confirmData{
		Question: question,
		Action:   base + "/schedules/" + url.PathEscape(sc.MerchantUID) + "/" + action + "?view=past",
		Fields:   fields,
		Back:     base + "/schedules?view=past",
	}})
}

// rescheduleSchedule makes a failed or revoked schedule pending again at
// the time the operator chose (POST .../reschedule's use case).
func (c *Console) rescheduleSchedule(w http.ResponseWriter, r *http.Request, q *request) {
	sc, ok := c.scheduleActionable(w, r, q)
	if !ok {
		return
	}
	raw := strings.TrimSpace(r.PostForm.Get("at"))
	at, err := time.ParseInLocation("2006-01-02T15:04", raw, c.cfg.Location)
	if err != nil {
		c.showSchedules(w, r, q, http.StatusUnprocessableEntity, "새 예약 시각을 입력해 주세요 (YYYY-MM-DDTHH:MM).")
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		c.scheduleConfirm(w, r, q, sc, "다시 예약 확인",
			fmt.Sprintf("%s (%s, %s)을 %s에 다시 예약할까요? 실행되면 새 결제가 만들어집니다.", sc.MerchantUID, sc.CustomerUID, won(sc.Amount), c.ts(at)),
			"reschedule", [][2]string{{"at", raw}})
		return
	}
	detail := "schedule_at=" + c.ts(at)
	if _, err := c.svc.Reschedule(r.Context(), q.Merchant.ID, sc.MerchantUID, at); err != nil {
		c.audit(r.Context(), q, q.Merchant.ID, "schedule.reschedule.failed", sc.MerchantUID, detail+" error="+billkey.ErrorCode(err))
		c.showSchedules(w, r, q, http.StatusUnprocessableEntity, "다시 예약하지 못했습니다: "+userMessage(err))
		return
	}
	c.audit(r.Context(), q, q.Merchant.ID, "schedule.reschedule", sc.MerchantUID, detail)
	http.Redirect(w, r, Prefix+"/m/"+q.Merchant.ImpCode+"/schedules?done=reschedule", http.StatusSeeOther)
}

// retrySchedule runs a failed or revoked schedule now (POST .../retry's
// use case) and shows the payment it made, approved or declined.
func (c *Console) retrySchedule(w http.ResponseWriter, r *http.Request, q *request) {
	sc, ok := c.scheduleActionable(w, r, q)
	if !ok {
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		c.scheduleConfirm(w, r, q, sc, "즉시 재시도 확인",
			fmt.Sprintf("%s (%s)의 %s 결제를 지금 다시 시도할까요? 카드가 승인되면 바로 청구됩니다.", sc.MerchantUID, sc.CustomerUID, won(sc.Amount)),
			"retry", nil)
		return
	}
	p, err := c.svc.RetrySchedule(r.Context(), q.Merchant.ID, sc.MerchantUID)
	if err != nil {
		c.audit(r.Context(), q, q.Merchant.ID, "schedule.retry.failed", sc.MerchantUID, "error="+billkey.ErrorCode(err))
		c.showSchedules(w, r, q, http.StatusUnprocessableEntity, "재시도하지 못했습니다: "+userMessage(err))
		return
	}
	c.audit(r.Context(), q, q.Merchant.ID, "schedule.retry", sc.MerchantUID, fmt.Sprintf("imp_uid=%s status=%s", p.ImpUID, p.Status))
	http.Redirect(w, r, Prefix+"/m/"+q.Merchant.ImpCode+"/payments/"+url.PathEscape(p.ImpUID)+"?done=retry", http.StatusSeeOther)
}

// setWebhookURL changes the merchant's default webhook URL (PUT
// /webhooks/url's use case); the old and new URLs go to the audit log.
func (c *Console) setWebhookURL(w http.ResponseWriter, r *http.Request, q *request) {
	old := q.Merchant.WebhookURL
	u := strings.TrimSpace(r.PostForm.Get("url"))
	if len(u) > 2048 {
		c.showSettings(w, r, q, http.StatusUnprocessableEntity, "웹훅 URL이 너무 깁니다 (최대 2048자).")
		return
	}
	if err := c.svc.SetWebhookURL(r.Context(), q.Merchant.ID, u); err != nil {
		c.audit(r.Context(), q, q.Merchant.ID, "webhook_url.set.failed", q.Merchant.ImpCode, fmt.Sprintf("url=%q error=%s", truncate(u, 300), billkey.ErrorCode(err)))
		c.showSettings(w, r, q, http.StatusUnprocessableEntity, "웹훅 URL을 바꾸지 못했습니다: "+userMessage(err))
		return
	}
	c.audit(r.Context(), q, q.Merchant.ID, "webhook_url.set", q.Merchant.ImpCode, fmt.Sprintf("from=%q to=%q", truncate(old, 300), truncate(u, 300)))
	http.Redirect(w, r, Prefix+"/m/"+q.Merchant.ImpCode+"/settings?done=webhook-url", http.StatusSeeOther)
}
