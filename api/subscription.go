package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/internal/cycle"
)

// subscriptionView is a subscription as the API shows it. Times are UNIX
// seconds (0: none); next_billing_at is the pending charge's billing time
// (0 once ended or while paused).
type subscriptionView struct {
	ID                int64   `json:"id"`
	CustomerUID       string  `json:"customer_uid"`
	Name              string  `json:"name"`
	Amount            int64   `json:"amount"`
	NextAmount        *int64  `json:"next_amount"`
	Currency          string  `json:"currency"`
	Interval          string  `json:"interval"`
	IntervalCount     int     `json:"interval_count"`
	Status            string  `json:"status"`
	StartAt           int64   `json:"start_at"`
	TrialEnd          int64   `json:"trial_end"`
	Cycles            int     `json:"cycles"`
	PaidCycles        int     `json:"paid_cycles"`
	CurrentCycle      int     `json:"current_cycle"`
	CurrentMerchantUI string  `json:"current_merchant_uid"`
	NextBillingAt     int64   `json:"next_billing_at"`
	Retries           int     `json:"retries"`
	RetryDays         []int   `json:"retry_days"`
	FinalAction       string  `json:"final_action"`
	CancelAtPeriodEnd bool    `json:"cancel_at_period_end"`
	LastFailReason    *string `json:"last_fail_reason"`
	TestClockID       *int64  `json:"test_clock_id"`
	NoticeURL         *string `json:"notice_url"`
	EndedAt           int64   `json:"ended_at"`
	CreatedAt         int64   `json:"created_at"`
	UpdatedAt         int64   `json:"updated_at"`
}

func newSubscriptionView(sub *billkey.Subscription) subscriptionView {
	v := subscriptionView{
		ID: sub.ID, CustomerUID: sub.CustomerUID, Name: sub.Name, Amount: sub.Amount, Currency: "KRW",
		Interval: sub.Unit, IntervalCount: sub.Count, Status: string(sub.Status), StartAt: ts(sub.StartAt),
		TrialEnd: ts(sub.TrialEndAt), Cycles: sub.Cycles, PaidCycles: sub.PaidCycles, CurrentCycle: sub.Period + 1,
		CurrentMerchantUI: billkey.SubscriptionOrder(sub.ID, sub.Period), Retries: sub.Retries,
		RetryDays: append([]int{}, sub.RetryDays...), FinalAction: sub.FinalAction, CancelAtPeriodEnd: sub.CancelAtEnd,
		LastFailReason: ns(sub.LastFail), NoticeURL: ns(sub.NoticeURL), EndedAt: ts(sub.EndedAt),
		CreatedAt: ts(sub.CreatedAt), UpdatedAt: ts(sub.UpdatedAt),
	}
	if sub.AmountFrom >= 0 {
		v.NextAmount = &sub.NextAmount
	}
	if sub.TestClockID != 0 {
		v.TestClockID = &sub.TestClockID
	}
	if !sub.Status.Ended() && sub.Status != billkey.SubPaused {
		v.NextBillingAt = ts(gateway.PeriodAt(sub, sub.Period))
	}
	return v
}

// testClockView is a test clock.
type testClockView struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	FrozenTime int64  `json:"frozen_time"`
	Status     string `json:"status"`
	CreatedAt  int64  `json:"created_at"`
}

func newTestClockView(c *billkey.TestClock) testClockView {
	return testClockView{ID: c.ID, Name: c.Name, FrozenTime: ts(c.Now), Status: c.Status, CreatedAt: ts(c.CreatedAt)}
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, billkey.Errorf(billkey.ENOTFOUND, "존재하지 않는 id입니다. (%s)", truncate(r.PathValue("id"), 40))
	}
	return id, nil
}

func unixParam(p Params, name string) (time.Time, error) {
	n, ok, err := p.Int64(name)
	if err != nil || !ok {
		return time.Time{}, err
	}
	if n <= 0 || n > 253402300799 {
		return time.Time{}, billkey.Errorf(billkey.EREJECTED, "%s는 UNIX timestamp(초)여야 합니다.", name)
	}
	return time.Unix(n, 0), nil
}

func intParam(p Params, name string) (int, error) {
	n, _, err := p.Int64(name)
	if err != nil {
		return 0, err
	}
	if n < -1<<31 || n > 1<<31-1 {
		return 0, billkey.Errorf(billkey.EREJECTED, "%s 파라미터가 너무 큽니다.", name)
	}
	return int(n), nil
}

// HandleCreateSubscription serves POST /subscriptions.
func (s *Server) HandleCreateSubscription(w http.ResponseWriter, r *http.Request, p Params) {
	v, err := strs(p, "customer_uid", "name", "interval", "final_action", "notice_url")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in := gateway.SubscriptionInput{CustomerUID: v[0], Name: v[1], Interval: cycle.Interval{Unit: cycle.Unit(v[2])},
		FinalAction: v[3], NoticeURL: v[4]}
	amount, ok, err := p.Int64("amount")
	if err == nil && !ok {
		err = billkey.Errorf(billkey.EREJECTED, "amount 파라미터가 누락되었습니다.")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in.Amount = amount
	for _, f := range []struct {
		name string
		dst  *int
	}{{"interval_count", &in.Interval.Count}, {"cycles", &in.Cycles}, {"trial_days", &in.TrialDays}} {
		if *f.dst, err = intParam(p, f.name); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if in.Start, err = unixParam(p, "start_at"); err == nil {
		in.TrialEnd, err = unixParam(p, "trial_end")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	clock, _, err := p.Int64("test_clock")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in.TestClockID = clock
	if raw, ok := p["retry_days"]; ok && raw != nil {
		list, isList := raw.([]any)
		if !isList {
			s.writeError(w, r, billkey.Errorf(billkey.EREJECTED, "retry_days는 일 수의 배열이어야 합니다. (예: [1, 3, 7])"))
			return
		}
		in.RetryDaysSet = true
		for i := range list {
			n, _, err := Params{"d": list[i]}.Int64("d")
			if err != nil || n < -1<<31 || n > 1<<31-1 {
				s.writeError(w, r, billkey.Errorf(billkey.EREJECTED, "retry_days는 일 수의 배열이어야 합니다. (예: [1, 3, 7])"))
				return
			}
			in.RetryDays = append(in.RetryDays, int(n))
		}
	}
	sub, err := s.Service.CreateSubscription(r.Context(), merchantID(r), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newSubscriptionView(sub))
}

// HandleSubscriptions serves GET /subscriptions?customer_uid=&page=&limit=.
func (s *Server) HandleSubscriptions(w http.ResponseWriter, r *http.Request) {
	q, page, limit, err := listParams(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cust, err := q.String("customer_uid")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	subs, total, err := s.Service.Subscriptions(r.Context(), merchantID(r), cust, page, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newPage(viewsOf(subs, newSubscriptionView), total, page, limit))
}

func (s *Server) subscriptionReply(w http.ResponseWriter, r *http.Request, f func(id int64) (*billkey.Subscription, error)) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sub, err := f(id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newSubscriptionView(sub))
}

// HandleSubscription serves GET /subscriptions/{id}.
func (s *Server) HandleSubscription(w http.ResponseWriter, r *http.Request) {
	s.subscriptionReply(w, r, func(id int64) (*billkey.Subscription, error) {
		return s.Service.Subscription(r.Context(), merchantID(r), id)
	})
}

// HandleChangeSubscription serves PUT /subscriptions/{id}: amount (and
// name) from the next unscheduled cycle.
func (s *Server) HandleChangeSubscription(w http.ResponseWriter, r *http.Request, p Params) {
	amount, ok, err := p.Int64("amount")
	if err == nil && !ok {
		err = billkey.Errorf(billkey.EREJECTED, "amount 파라미터가 누락되었습니다.")
	}
	name, nerr := p.String("name")
	if err == nil {
		err = nerr
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.subscriptionReply(w, r, func(id int64) (*billkey.Subscription, error) {
		return s.Service.ChangeSubscription(r.Context(), merchantID(r), id, amount, name)
	})
}

// HandlePauseSubscription serves POST /subscriptions/{id}/pause.
func (s *Server) HandlePauseSubscription(w http.ResponseWriter, r *http.Request, _ Params) {
	s.subscriptionReply(w, r, func(id int64) (*billkey.Subscription, error) {
		return s.Service.PauseSubscription(r.Context(), merchantID(r), id)
	})
}

// HandleResumeSubscription serves POST /subscriptions/{id}/resume.
func (s *Server) HandleResumeSubscription(w http.ResponseWriter, r *http.Request, _ Params) {
	s.subscriptionReply(w, r, func(id int64) (*billkey.Subscription, error) {
		return s.Service.ResumeSubscription(r.Context(), merchantID(r), id)
	})
}

// HandleCancelSubscription serves POST /subscriptions/{id}/cancel.
func (s *Server) HandleCancelSubscription(w http.ResponseWriter, r *http.Request, p Params) {
	atEnd, err := p.Bool("at_period_end")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.subscriptionReply(w, r, func(id int64) (*billkey.Subscription, error) {
		return s.Service.CancelSubscription(r.Context(), merchantID(r), id, atEnd)
	})
}

// HandleRetrySubscription serves POST /subscriptions/{id}/retry.
func (s *Server) HandleRetrySubscription(w http.ResponseWriter, r *http.Request, _ Params) {
	s.subscriptionReply(w, r, func(id int64) (*billkey.Subscription, error) {
		return s.Service.RetrySubscription(r.Context(), merchantID(r), id)
	})
}

// HandleCreateTestClock serves POST /test_clocks {name, frozen_time}.
func (s *Server) HandleCreateTestClock(w http.ResponseWriter, r *http.Request, p Params) {
	name, err := p.String("name")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	frozen, err := unixParam(p, "frozen_time")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.Service.CreateTestClock(r.Context(), merchantID(r), name, frozen)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newTestClockView(c))
}

// HandleTestClock serves GET /test_clocks/{id}.
func (s *Server) HandleTestClock(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.Service.TestClock(r.Context(), merchantID(r), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newTestClockView(c))
}

// HandleAdvanceTestClock serves POST /test_clocks/{id}/advance
// {frozen_time}: it returns once every charge due on the way has run.
func (s *Server) HandleAdvanceTestClock(w http.ResponseWriter, r *http.Request, p Params) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	to, err := unixParam(p, "frozen_time")
	if err == nil && to.IsZero() {
		err = billkey.Errorf(billkey.EREJECTED, "frozen_time 파라미터가 누락되었습니다.")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.Service.AdvanceTestClock(r.Context(), merchantID(r), id, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newTestClockView(c))
}

// subscriptionOps documents the subscription and test-clock routes.
func subscriptionOps() []docOp {
	sub, clock := subscriptionView{}, testClockView{}
	const tag, clockTag = "subscriptions (billkey)", "test clocks (billkey)"
	return append([]docOp{
		{Method: "POST", Path: "/subscriptions", Tag: tag, Summary: "Create a recurring subscription for a customer_uid with a billing key", Response: sub, Idempotent: true,
			Description: "customer_uid, name, amount, interval (day, week, month, year; default month), interval_count, start_at, trial_end or trial_days, cycles (0: until cancelled), retry_days (default [1, 3, 7]), final_action (past_due, unpaid, cancel), notice_url, test_clock. Each cycle is the schedule sub_{id}_{n}."},
		{Method: "GET", Path: "/subscriptions", Tag: tag, Summary: "Subscriptions, newest first (customer_uid, page, limit)", Response: pageView[subscriptionView]{}},
		{Method: "GET", Path: "/subscriptions/{id}", Tag: tag, Summary: "One subscription", Response: sub},
		{Method: "PUT", Path: "/subscriptions/{id}", Tag: tag, Summary: "Change the amount (and name) from the next cycle not yet scheduled", Response: sub, Idempotent: true},
		{Method: "POST", Path: "/subscriptions/{id}/pause", Tag: tag, Summary: "Pause: the pending charge is revoked", Response: sub, Idempotent: true},
		{Method: "POST", Path: "/subscriptions/{id}/resume", Tag: tag, Summary: "Resume at the first cycle after now (cycles inside the pause are skipped)", Response: sub, Idempotent: true},
		{Method: "POST", Path: "/subscriptions/{id}/cancel", Tag: tag, Summary: "Cancel now or at_period_end; nothing is charged again", Response: sub, Idempotent: true},
		{Method: "POST", Path: "/subscriptions/{id}/retry", Tag: tag, Summary: "Charge a past-due or unpaid subscription's declined cycle now (after a card update)", Response: sub, Idempotent: true},
		{Method: "POST", Path: "/test_clocks", Tag: clockTag, Summary: "Create a test clock (name, frozen_time)", Response: clock, Idempotent: true},
		{Method: "GET", Path: "/test_clocks/{id}", Tag: clockTag, Summary: "One test clock", Response: clock},
		{Method: "POST", Path: "/test_clocks/{id}/advance", Tag: clockTag, Summary: "Advance to frozen_time, running every due renewal and retry in order", Response: clock, Idempotent: true},
	}, cardUpdateOps()...) // cardupdate.go
}
