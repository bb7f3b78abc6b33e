package console

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
)

// The subscription pages: a list with a status filter and a detail page
// with the cycles (their schedules), every charge attempt (dunning retries
// included), the subscription.* events and the card-update links. They are
// read-only but for one action: creating a card-update link (the same use
// case as POST /subscriptions/{id}/card_update_link), whose URL is shown
// once.

// subStatuses are the statuses of the list's filter, in display order.
var subStatuses = []billkey.SubscriptionStatus{billkey.SubActive, billkey.SubTrialing, billkey.SubPastDue,
	billkey.SubPaused, billkey.SubUnpaid, billkey.SubCancelled, billkey.SubCompleted}

// subStatusKo names a subscription status in Korean.
func subStatusKo(s billkey.SubscriptionStatus) string {
	return map[billkey.SubscriptionStatus]string{billkey.SubActive: "정상", billkey.SubTrialing: "체험 중",
		billkey.SubPastDue: "연체", billkey.SubPaused: "일시정지", billkey.SubUnpaid: "미납 (중단)",
		billkey.SubCancelled: "해지", billkey.SubCompleted: "완료"}[s]
}

// subTone is the badge colour of a subscription status.
func subTone(s billkey.SubscriptionStatus) string {
	switch s {
	case billkey.SubActive:
		return "ok"
	case billkey.SubPastDue, billkey.SubUnpaid:
		return "bad"
	case billkey.SubTrialing:
		return "info"
	case billkey.SubPaused:
		return "warn"
	}
	return "muted"
}

// intervalKo says how often a plan renews.
func intervalKo(unit string, count int) string {
	if count == 1 {
		if s, ok := map[string]string{"day": "매일", "week": "매주", "month": "매월", "year": "매년"}[unit]; ok {
			return s
		}
	}
	return fmt.Sprintf("%d%s마다", count, map[string]string{"day": "일", "week": "주", "month": "개월", "year": "년"}[unit])
}

// subRow is a subscription as the pages show it.
type subRow struct {
	*billkey.Subscription
	Interval string
	Next     time.Time // the pending charge's billing time; zero when none
	Due      int64     // its amount
}

func newSubRow(sub *billkey.Subscription) subRow {
	r := subRow{Subscription: sub, Interval: intervalKo(sub.Unit, sub.Count)}
	// A past-due subscription has no next charge: it waits for a new card.
	if !sub.Status.Ended() && sub.Status != billkey.SubPaused && sub.Status != billkey.SubPastDue {
		r.Next = gateway.PeriodAt(sub, sub.Period)
		r.Due = sub.Amount
		if sub.AmountFrom >= 0 && sub.Period >= sub.AmountFrom {
			r.Due = sub.NextAmount
		}
	}
	return r
}

type subscriptionsData struct {
	UID, Status string
	Statuses    []billkey.SubscriptionStatus
	Subs        []subRow
	Pager       pager
}

// subscriptions is the list: newest first, by customer_uid and status.
func (c *Console) subscriptions(w http.ResponseWriter, r *http.Request, q *request) {
	uid := truncate(strings.TrimSpace(r.URL.Query().Get("customer_uid")), 200)
	status := billkey.SubscriptionStatus(r.URL.Query().Get("status"))
	if subStatusKo(status) == "" {
		status = ""
	}
	subs, total, err := c.store.SearchSubscriptions(r.Context(), q.Merchant.ID, uid, status, (pageOf(r)-1)*pageSize, pageSize)
	if err != nil {
		c.log.Error("console subscriptions", "error", err)
		c.errorPage(w, r, q, http.StatusInternalServerError, "구독 목록을 불러오지 못했습니다.")
		return
	}
	data := &subscriptionsData{UID: uid, Status: string(status), Statuses: subStatuses, Pager: newPager(r, total)}
	for _, s := range subs {
		data.Subs = append(data.Subs, newSubRow(s))
	}
	c.render(w, r, http.StatusOK, "subscriptions", &page{Title: "구독", Nav: "subscriptions", Q: q, Data: data})
}

type subscriptionData struct {
	Sub       subRow
	Clock     *billkey.TestClock
	Schedules []*billkey.Schedule
	Payments  []*billkey.Payment
	Events    []*billkey.SubscriptionEventRow
	Links     []*billkey.CardUpdateLink
	NewLink   *gateway.CardUpdateLink // just created: its URL is shown this once
	Error     string
	Now       time.Time
}

// detailLimit bounds each table of the detail page.
const detailLimit = 100

// subscription is the detail page.
func (c *Console) subscription(w http.ResponseWriter, r *http.Request, q *request) {
	c.showSubscription(w, r, q, http.StatusOK, nil, "")
}

func (c *Console) showSubscription(w http.ResponseWriter, r *http.Request, q *request, status int, link *gateway.CardUpdateLink, msg string) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var sub *billkey.Subscription
	if err == nil {
		sub, err = c.store.SubscriptionByID(ctx, q.Merchant.ID, id)
	}
	if err != nil {
		c.errorPage(w, r, q, http.StatusNotFound, "구독을 찾을 수 없습니다.")
		return
	}
	data := &subscriptionData{Sub: newSubRow(sub), NewLink: link, Error: msg, Now: c.now()}
	if sub.TestClockID != 0 {
		data.Clock, _ = c.store.TestClockByID(ctx, q.Merchant.ID, sub.TestClockID)
	}
	var errs []error
	var e error
	data.Schedules, e = c.store.SubscriptionSchedules(ctx, q.Merchant.ID, sub.ID, detailLimit)
	errs = append(errs, e)
	data.Payments, e = c.store.SubscriptionPayments(ctx, q.Merchant.ID, sub.ID, detailLimit)
	errs = append(errs, e)
	data.Events, e = c.store.SubscriptionEvents(ctx, q.Merchant.ID, sub.ID, detailLimit)
	errs = append(errs, e)
	data.Links, e = c.store.CardUpdateLinks(ctx, q.Merchant.ID, sub.ID, 10)
	errs = append(errs, e)
	for _, e := range errs {
		if e != nil {
			c.log.Error("console subscription", "subscription_id", sub.ID, "error", e)
			c.errorPage(w, r, q, http.StatusInternalServerError, "구독 정보를 불러오지 못했습니다.")
			return
		}
	}
	c.render(w, r, status, "subscription", &page{Title: fmt.Sprintf("구독 #%d", sub.ID), Nav: "subscriptions", Q: q, Data: data})
}

// cardUpdateLink creates a card-update link (24 hours) and shows its URL
// once; the action is audited (without the URL, which is a credential).
func (c *Console) cardUpdateLink(w http.ResponseWriter, r *http.Request, q *request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		c.errorPage(w, r, q, http.StatusNotFound, "구독을 찾을 수 없습니다.")
		return
	}
	link, err := c.svc.CreateCardUpdateLink(r.Context(), q.Merchant.ID, id, 0)
	if billkey.ErrorCode(err) == billkey.ENOTFOUND {
		c.errorPage(w, r, q, http.StatusNotFound, "구독을 찾을 수 없습니다.")
		return
	}
	if err != nil {
		c.showSubscription(w, r, q, http.StatusUnprocessableEntity, nil, "카드 변경 링크를 만들지 못했습니다: "+userMessage(err))
		return
	}
	c.audit(r.Context(), q, q.Merchant.ID, "subscription.card_update_link", strconv.FormatInt(id, 10),
		fmt.Sprintf("link %d, expires %s", link.Link.ID, c.ts(link.Link.ExpiresAt)))
	c.showSubscription(w, r, q, http.StatusOK, link, "")
}
