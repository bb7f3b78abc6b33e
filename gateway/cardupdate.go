package gateway

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/cycle"
)

// Card-update links: the merchant asks for a link (POST
// /subscriptions/{id}/card_update_link) and sends it to the subscription's
// customer. Its page (window package, PathCardUpdate) shows the merchant,
// the masked current card and the next charge, and opens the ordinary
// payment window (iamport.js, IMP.request_pay) for the same customer_uid,
// with the link's token as the window parameter billkey_card_update:
//
//   - OpenWindow binds the attempt to the link (cardUpdateWindow): the link
//     must be unused, unexpired, of the imp code's merchant, and its
//     subscription neither cancelled nor completed; customer_uid, the
//     channel and the buyer fields come from the link's customer.
//   - CompleteWindow, once INICIS approved the new key, uses the link
//     (claimCardUpdate) before storing the key: of two windows completing
//     at once exactly one wins; the other's approval is net-cancelled and
//     its buyer told the link was used. The key is then sealed and replaces
//     the old one as any window issuance does.
//   - After the key is stored (cardUpdated), a subscription waiting on a
//     declined charge (past_due, unpaid, or a pending dunning retry) has
//     that charge retried at once: the period's own schedule is made due
//     now (on a test clock, the clock runs it), so the schedule's and the
//     payment's exactly-once guarantees carry the retry. A paid retry of a
//     past-due or unpaid subscription makes it active again with
//     subscription.recovered.
//
// The token is 256 random bits (base64url, 43 characters), shown once in the
// URL; only its SHA-256 is stored.

// Card-update link lifetimes.
const (
	DefaultCardUpdateTTL = 24 * time.Hour
	MinCardUpdateTTL     = 10 * time.Minute
	MaxCardUpdateTTL     = 7 * 24 * time.Hour
)

// PathCardUpdate is where a link's page is served (+ token).
const PathCardUpdate = "/card-update/"

// WindowParamCardUpdate is the IMP.request_pay parameter carrying a link's
// token from its page to OpenWindow.
const WindowParamCardUpdate = "billkey_card_update"

// Messages of refused links, shown on the link's page.
const (
	msgLinkUnknown   = "유효하지 않은 카드 변경 링크입니다. 주소를 다시 확인하거나 상점에 새 링크를 요청해주세요."
	msgLinkUsed      = "이미 사용된 카드 변경 링크입니다. 카드를 다시 변경하려면 상점에 새 링크를 요청해주세요. (link already used)"
	msgLinkExpired   = "만료된 카드 변경 링크입니다. 상점에 새 링크를 요청해주세요. (link expired)"
	msgLinkSubEnded  = "해지되었거나 종료된 구독입니다. 이 링크로 카드를 변경할 수 없습니다. (subscription ended)"
	msgLinkTakenByMe = "다른 창에서 이 링크로 카드가 이미 변경되었습니다. 이 창의 카드 등록은 취소되었습니다. (link already used)"
)

// CardUpdateLink is a new link: Token appears only here, in URL.
type CardUpdateLink struct {
	Link  *billkey.CardUpdateLink
	Token string
	URL   string
}

// CreateCardUpdateLink creates a single-use card-update link for the
// merchant's subscription, valid for ttl (0: DefaultCardUpdateTTL; between
// MinCardUpdateTTL and MaxCardUpdateTTL). A cancelled or completed
// subscription is refused; another merchant's is not found.
func (s *Service) CreateCardUpdateLink(ctx context.Context, merchantID, subscriptionID int64, ttl time.Duration) (*CardUpdateLink, error) {
	if ttl == 0 {
		ttl = DefaultCardUpdateTTL
	}
	if ttl < MinCardUpdateTTL || ttl > MaxCardUpdateTTL {
		return nil, rejectf("expires_in은 %d초(%d분) 이상 %d초(%d일) 이하여야 합니다.", int(MinCardUpdateTTL.Seconds()),
			int(MinCardUpdateTTL.Minutes()), int(MaxCardUpdateTTL.Seconds()), int(MaxCardUpdateTTL.Hours()/24))
	}
	sub, err := s.Store.SubscriptionByID(ctx, merchantID, subscriptionID)
	if err != nil {
		return nil, err
	}
	if linkRefused(sub) {
		return nil, rejectf("해지되었거나 종료된 구독에는 카드 변경 링크를 만들 수 없습니다. (status: %s)", sub.Status)
	}
	if s.PublicURL == "" {
		return nil, fmt.Errorf("gateway: card-update links need the public URL")
	}
	token := NewWindowToken()
	hash, _ := WindowTokenHash(token)
	now := s.Now().Truncate(time.Second)
	l := &billkey.CardUpdateLink{MerchantID: merchantID, SubscriptionID: sub.ID, CustomerUID: sub.CustomerUID, TokenHash: hash,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.Store.CreateCardUpdateLink(ctx, l); err != nil {
		return nil, err
	}
	s.Logger.Info("card-update link created", "merchant_id", merchantID, "subscription_id", sub.ID, "link_id", l.ID,
		"expires_at", l.ExpiresAt)
	return &CardUpdateLink{Link: l, Token: token, URL: strings.TrimRight(s.PublicURL, "/") + PathCardUpdate + token}, nil
}

// linkRefused reports whether a subscription can no longer take a new card
// through a link: cancelled or completed ones never charge again. (Unpaid
// ones can: the new card pays the unpaid cycle.)
func linkRefused(sub *billkey.Subscription) bool {
	return sub.Status == billkey.SubCancelled || sub.Status == billkey.SubCompleted
}

// CardUpdateView is what a link's page shows. It never holds a full card
// number or a billing key.
type CardUpdateView struct {
	Link         *billkey.CardUpdateLink
	Merchant     *billkey.Merchant
	Subscription *billkey.Subscription
	// CardName and CardNumber are the current card as INICIS masked it
	// ("" when the customer has no key).
	CardName, CardNumber string
	// DueAmount is the next charge's amount; DueNow says it is overdue
	// (a declined charge waits), else DueAt is its billing time.
	DueAmount int64
	DueAt     time.Time
	DueNow    bool
	// NeedEmail and NeedTel say the customer record lacks the buyer e-mail
	// or phone INICIS's window requires: the page asks for them.
	NeedEmail, NeedTel bool
	// Retry is the state of the charge retried with the new card, on the
	// result page: "paid", "failed", "pending", or "" when none was due.
	Retry     string
	RetryFail string
}

// linkByToken finds a link by its token; ENOTFOUND for a malformed or
// unknown one.
func (s *Service) linkByToken(ctx context.Context, token string) (*billkey.CardUpdateLink, error) {
	hash, ok := WindowTokenHash(token)
	if !ok {
		return nil, billkey.Errorf(billkey.ENOTFOUND, msgLinkUnknown)
	}
	l, err := s.Store.CardUpdateLinkByToken(ctx, hash)
	if billkey.ErrorCode(err) == billkey.ENOTFOUND {
		return nil, billkey.WrapError(billkey.ENOTFOUND, msgLinkUnknown, err)
	}
	return l, err
}

// usableLink returns the link of token and its subscription when the link
// may still replace a card: EREJECTED (with the page's message) when it was
// used, has expired or its subscription ended.
func (s *Service) usableLink(ctx context.Context, token string) (*billkey.CardUpdateLink, *billkey.Subscription, error) {
	l, err := s.linkByToken(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	if l.Used() {
		return l, nil, rejectf(msgLinkUsed)
	}
	if !s.Now().Before(l.ExpiresAt) {
		return l, nil, rejectf(msgLinkExpired)
	}
	sub, err := s.Store.SubscriptionByID(ctx, l.MerchantID, l.SubscriptionID)
	if err != nil {
		return l, nil, err
	}
	if linkRefused(sub) || sub.CustomerUID != l.CustomerUID {
		return l, sub, rejectf(msgLinkSubEnded)
	}
	return l, sub, nil
}

// CardUpdatePage returns what the page of a usable link shows. Errors are
// ENOTFOUND (unknown link) or EREJECTED (used, expired, subscription ended),
// with the message for the page.
func (s *Service) CardUpdatePage(ctx context.Context, token string) (*CardUpdateView, error) {
	l, sub, err := s.usableLink(ctx, token)
	if err != nil {
		return nil, err
	}
	return s.cardUpdateView(ctx, l, sub)
}

func (s *Service) cardUpdateView(ctx context.Context, l *billkey.CardUpdateLink, sub *billkey.Subscription) (*CardUpdateView, error) {
	m, err := s.Store.MerchantByID(ctx, l.MerchantID)
	if err != nil {
		return nil, err
	}
	v := &CardUpdateView{Link: l, Merchant: m, Subscription: sub, NeedEmail: true, NeedTel: true}
	c, err := s.Store.CustomerByUID(ctx, l.MerchantID, l.CustomerUID)
	switch {
	case err == nil:
		v.CardName, v.CardNumber = c.CardName, c.CardNumber
		v.NeedEmail, v.NeedTel = strings.TrimSpace(c.Email) == "", strings.TrimSpace(c.Tel) == ""
	case billkey.ErrorCode(err) != billkey.ENOTFOUND:
		return nil, err
	}
	v.DueAmount = cycle.Amount(sub.Amount, sub.NextAmount, sub.AmountFrom, sub.Period)
	v.DueAt = PeriodAt(sub, sub.Period)
	sc, err := s.Store.ScheduleByMerchantUID(ctx, l.MerchantID, billkey.SubscriptionOrder(sub.ID, sub.Period))
	switch {
	case err == nil:
		v.DueAmount, v.DueAt = sc.Amount, sc.ScheduleAt
		v.DueNow = sc.Status == billkey.ScheduleExecuted && sc.PaymentStatus == billkey.StatusFailed
	case billkey.ErrorCode(err) != billkey.ENOTFOUND:
		return nil, err
	}
	if retryable(sub, true) {
		v.DueNow = true
	}
	return v, nil
}

// CardUpdateResult returns what the result page of a used link shows: the
// new card and the outcome of the retried charge. An unused link is
// EINVALID (its page is the form, not a result); an unknown one ENOTFOUND.
func (s *Service) CardUpdateResult(ctx context.Context, token string) (*CardUpdateView, error) {
	l, err := s.linkByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if !l.Used() {
		return nil, billkey.Errorf(billkey.EINVALID, "카드가 아직 변경되지 않았습니다.")
	}
	sub, err := s.Store.SubscriptionByID(ctx, l.MerchantID, l.SubscriptionID)
	if err != nil {
		return nil, err
	}
	v, err := s.cardUpdateView(ctx, l, sub)
	if err != nil {
		return nil, err
	}
	// The charge retried with the new card: the period that was current
	// when the link was used, i.e. the latest one executed since then.
	now, err := s.subNow(ctx, sub)
	if err != nil {
		return nil, err
	}
periods:
	for _, k := range []int{sub.Period, sub.Period - 1} {
		if k < 0 {
			continue
		}
		sc, err := s.Store.ScheduleByMerchantUID(ctx, l.MerchantID, billkey.SubscriptionOrder(sub.ID, k))
		if billkey.ErrorCode(err) == billkey.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		switch {
		case sc.Status == billkey.ScheduleScheduled && !sc.ScheduleAt.After(now) && retryable(sub, true):
			v.Retry = "pending"
		case sc.Status == billkey.ScheduleExecuted && !sc.ExecutedAt.Before(l.UsedAt.Add(-time.Second)):
			v.Retry = "failed"
			if sc.PaymentStatus == billkey.StatusPaid {
				v.Retry = "paid"
			}
			v.RetryFail = sc.FailReason
			v.DueAmount = sc.Amount
		default:
			continue
		}
		break periods
	}
	return v, nil
}

// cardUpdateWindow binds a window request carrying a link's token
// (WindowParams.CardUpdate) to that link, filling the parameters the page
// does not hold: customer_uid, the customer's channel, the buyer fields of
// the customer record, the window's name and merchant_uid. It returns the
// link's ID, or 0 for an ordinary request. Every refusal is EREJECTED with
// the message for the rsp.
func (s *Service) cardUpdateWindow(ctx context.Context, in *WindowRequest) (int64, error) {
	p := &in.Params
	if p.CardUpdate == "" {
		return 0, nil
	}
	l, sub, err := s.usableLink(ctx, p.CardUpdate)
	if billkey.ErrorCode(err) == billkey.ENOTFOUND {
		return 0, rejectf(msgLinkUnknown)
	} else if err != nil {
		return 0, err
	}
	m, err := s.Store.MerchantByID(ctx, l.MerchantID)
	if err != nil {
		return 0, err
	}
	if strings.TrimSpace(in.ImpCode) != m.ImpCode {
		return 0, rejectf("카드 변경 링크의 가맹점과 가맹점 식별코드가 일치하지 않습니다.")
	}
	if p.CustomerUID != "" && p.CustomerUID != l.CustomerUID {
		return 0, rejectf("카드 변경 링크의 고객(customer_uid)과 요청한 customer_uid가 다릅니다.")
	}
	p.CustomerUID = l.CustomerUID
	c, err := s.Store.CustomerByUID(ctx, l.MerchantID, l.CustomerUID)
	if err == nil {
		b := &p.Buyer
		fill(&b.Name, c.Name)
		fill(&b.Email, c.Email)
		fill(&b.Tel, c.Tel)
		fill(&b.Addr, c.Addr)
		fill(&b.Postcode, c.Postcode)
		if p.ChannelKey == "" && p.PG == "" {
			if ch, err := s.Store.ChannelByID(ctx, l.MerchantID, c.ChannelID); err == nil {
				p.ChannelKey = ChannelKey(ch) // the key stays with the channel that charges it
			}
		}
	} else if billkey.ErrorCode(err) != billkey.ENOTFOUND {
		return 0, err
	}
	if p.Name == "" {
		p.Name = truncate(sub.Name, 60) + " 결제카드 변경"
	}
	if p.MerchantUID == "" {
		p.MerchantUID = "card_update_" + strconv.FormatInt(l.ID, 10) + "_" + strconv.FormatInt(s.Now().UnixMilli(), 10)
	}
	p.Amount = 0 // issuing a key charges nothing
	return l.ID, nil
}

func fill(dst *string, v string) {
	if strings.TrimSpace(*dst) == "" {
		*dst = v
	}
}

// claimCardUpdate uses the attempt's link (if any) once INICIS approved the
// new key and before the key is stored: of concurrent completions exactly
// one wins. A loser's approval is undone (net cancel) and it gets an
// EREJECTED error saying the link was used.
func (s *Service) claimCardUpdate(ctx context.Context, a *billkey.WindowAttempt, undo func(context.Context) error) error {
	if a.CardUpdateLinkID == 0 {
		return nil
	}
	ok, err := s.Store.UseCardUpdateLink(ctx, a.CardUpdateLinkID, a.ImpUID, s.declinedNow(ctx, a), s.Now())
	if err == nil && ok {
		return nil
	}
	if uerr := undo(ctx); uerr != nil {
		s.Logger.Error("card update: refused window's approval could not be net-cancelled", "imp_uid", a.ImpUID, "error", uerr)
	}
	if err != nil {
		return err
	}
	s.Logger.Warn("card update: link already used; this window's approval was net-cancelled", "imp_uid", a.ImpUID,
		"link_id", a.CardUpdateLinkID)
	return rejectf(msgLinkTakenByMe)
}

// declinedNow returns the declined payment of the current cycle of the
// subscription of the attempt's link, before the new key is stored: the one
// decline the card update retries ("" when none, or on error).
func (s *Service) declinedNow(ctx context.Context, a *billkey.WindowAttempt) string {
	l, err := s.Store.CardUpdateLinkByID(ctx, a.MerchantID, a.CardUpdateLinkID)
	var sub *billkey.Subscription
	if err == nil {
		sub, err = s.Store.SubscriptionByID(ctx, l.MerchantID, l.SubscriptionID)
	}
	var sc *billkey.Schedule
	if err == nil {
		sc, err = s.Store.ScheduleByMerchantUID(ctx, l.MerchantID, billkey.SubscriptionOrder(sub.ID, sub.Period))
	}
	if err != nil {
		if billkey.ErrorCode(err) != billkey.ENOTFOUND {
			s.Logger.Error("card update: the declined charge could not be read", "link_id", a.CardUpdateLinkID, "error", err)
		}
		return ""
	}
	if sc.Status == billkey.ScheduleExecuted && sc.PaymentStatus == billkey.StatusFailed {
		return sc.ImpUID
	}
	return ""
}

// releaseCardUpdate makes the attempt's link usable again when the new key
// could not be stored.
func (s *Service) releaseCardUpdate(ctx context.Context, a *billkey.WindowAttempt) {
	if a.CardUpdateLinkID == 0 {
		return
	}
	if err := s.Store.ReleaseCardUpdateLink(ctx, a.CardUpdateLinkID, a.ImpUID); err != nil {
		s.Logger.Error("card update: link could not be released", "link_id", a.CardUpdateLinkID, "error", err)
	}
}

// cardUpdated retries at once the declined charge of the link's
// subscription, now that its new key is stored.
func (s *Service) cardUpdated(ctx context.Context, a *billkey.WindowAttempt) {
	if a.CardUpdateLinkID == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	l, err := s.Store.CardUpdateLinkByID(ctx, a.MerchantID, a.CardUpdateLinkID)
	var sub *billkey.Subscription
	if err == nil {
		sub, err = s.Store.SubscriptionByID(ctx, l.MerchantID, l.SubscriptionID)
	}
	if err == nil && retryable(sub, true) {
		s.Logger.Info("card update: retrying the declined charge with the new card", "subscription_id", sub.ID,
			"merchant_uid", billkey.SubscriptionOrder(sub.ID, sub.Period))
		// Only the decline seen when the link was used is retried: the
		// key's replacement may have retried it already (keyReplaced).
		err = s.retryDue(ctx, sub, true, &l.RetryImpUID)
	}
	if err != nil {
		s.Logger.Error("card update: the declined charge could not be retried", "link_id", a.CardUpdateLinkID, "error", err)
	}
}

// retryable reports whether the subscription waits on a declined charge
// that a new card should retry at once: past due, a pending dunning retry,
// or (withUnpaid: an explicit retry or a card-update link) unpaid.
func retryable(sub *billkey.Subscription, withUnpaid bool) bool {
	switch sub.Status {
	case billkey.SubPastDue:
		return true
	case billkey.SubUnpaid:
		return withUnpaid
	case billkey.SubActive, billkey.SubTrialing:
		return sub.Retries > 0
	}
	return false
}

// retryDue makes the subscription's current period's charge due now: its
// declined schedule pending again, or its pending retry moved to now. One
// being charged right now is left to finish. With declined, only that
// declined payment is retried: a decline recorded since (a retry that ran
// already) is left alone. runClock runs a test clock's due charges at once
// (they otherwise wait for the next advance).
func (s *Service) retryDue(ctx context.Context, sub *billkey.Subscription, runClock bool, declined *string) error {
	now, err := s.subNow(ctx, sub)
	if err != nil {
		return err
	}
	uid := billkey.SubscriptionOrder(sub.ID, sub.Period)
	if declined == nil {
		_, err = s.Store.RearmSchedule(ctx, sub.MerchantID, uid, now, "", time.Time{})
	} else {
		_, err = s.Store.RearmDeclined(ctx, sub.MerchantID, uid, now, *declined)
	}
	if billkey.ErrorCode(err) == billkey.EINVALID {
		// Pending (a retry waits), or being charged: move it to now.
		_, err = s.Store.MoveSchedule(ctx, sub.MerchantID, uid, now)
	}
	if err != nil && billkey.ErrorCode(err) != billkey.EINVALID {
		return err
	}
	s.wake(QueueSchedules)
	if runClock && sub.TestClockID != 0 {
		if _, err := s.AdvanceTestClock(ctx, sub.MerchantID, sub.TestClockID, now); err != nil {
			if billkey.ErrorCode(err) != billkey.EREJECTED {
				return err
			}
			// Another advance runs (and charges what is due), or the charge
			// could not finish: it stays due for the next advance.
			s.Logger.Warn("subscription retry: test clock not run now", "test_clock_id", sub.TestClockID, "error", err)
		}
	}
	return nil
}
