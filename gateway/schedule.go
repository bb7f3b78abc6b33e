package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/webhook"
)

// Queue names of the background job runner.
const (
	QueueSchedules = "schedules"
	QueueWebhooks  = "webhooks"
)

// ScheduleConfig configures the execution of scheduled payments.
type ScheduleConfig struct {
	// Lease is how long a node holds a claimed schedule; once it expires
	// (the node died) another node takes the schedule over. It must exceed
	// a charge's PG timeout comfortably. Default 2 minutes.
	Lease time.Duration
	// RetryDelays are the waits before a schedule is run again after its
	// charge's outcome was unknown (the payment stays ready until the
	// reconciler resolves it) or an internal error; the last repeats.
	// Default 5 s, 15 s, 30 s, 1 min, 5 min.
	RetryDelays []time.Duration
	// MaxAttempts is how many runs a schedule may have had when an
	// internal error (no payment made) makes billkey give up and record it
	// failed (default 20). A run that finds its payment waiting for an
	// unknown PG outcome always waits instead.
	MaxAttempts int
}

// DefaultScheduleLease is ScheduleConfig.Lease's default.
const DefaultScheduleLease = 2 * time.Minute

func (c ScheduleConfig) lease() time.Duration {
	if c.Lease > 0 {
		return c.Lease
	}
	return DefaultScheduleLease
}

func (c ScheduleConfig) retryDelay(attempt int) time.Duration {
	ds := c.RetryDelays
	if len(ds) == 0 {
		ds = []time.Duration{5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute}
	}
	return ds[min(max(attempt-1, 0), len(ds)-1)]
}

func (c ScheduleConfig) maxAttempts() int {
	if c.MaxAttempts > 0 {
		return c.MaxAttempts
	}
	return 20
}

// Schedule messages. i'mport's exact texts where public client test suites
// recorded them from the live API; billkey's own otherwise.
const (
	noScheduleCustomer  = "등록된 고객정보가 없습니다."
	nothingToUnschedule = "취소할 예약결제 기록이 존재하지 않습니다."
	scheduleCardFailed  = "카드정보 확인에 실패하였습니다."
	// retryNotFailed answers a retry of a schedule that is pending, running
	// or paid (HTTP 400, as i'mport's OpenAPI describes it).
	retryNotFailed      = "실패했거나 취소된(revoked) 예약결제만 즉시 재시도할 수 있습니다. 아직 실행되지 않았거나 실행 중이거나 승인된 예약결제입니다. (merchant_uid: %s)"
	maxSchedulesPerCall = 1000
	// schedulePastGrace is how far in the past a new schedule_at may be
	// (it then runs at once): clocks differ; anything older is a mistake.
	schedulePastGrace = 10 * time.Minute
	// maxScheduleAt is 9999-12-31T23:59:59Z: a larger schedule_at is
	// milliseconds sent as seconds.
	maxScheduleAt = 253402300799
)

// CheckOrderPrefix starts the merchant_uid of checking_amount approvals
// (charged and cancelled at once). Their webhooks are not sent.
const CheckOrderPrefix = "billkey_check_"

// ScheduleItem is one entry of schedules[].
type ScheduleItem struct {
	MerchantUID string
	ScheduleAt  time.Time
	Name        string
	Amounts
	Buyer      billkey.Buyer
	CustomData *string
	NoticeURL  string
}

// ScheduleInput is POST /subscribe/payments/schedule.
type ScheduleInput struct {
	CustomerUID string
	// Card issues a billing key first when customer_uid has none (the
	// number is required then); ignored when the customer has a key.
	Card billkey.Card
	PG   string
	// CheckingAmount > 0 approves that amount on the key and cancels it at
	// once, to check the card before the schedules are registered.
	CheckingAmount int64
	Schedules      []ScheduleItem
	ClientIP       string
}

// CreateSchedules registers scheduled payments (POST
// /subscribe/payments/schedule), all or none: every item is validated before
// anything is written or any PG call is made; then a billing key is issued
// when the customer has none and card data was given; then the
// checking_amount test approval is made and cancelled; then the schedules are
// inserted in one transaction. A merchant_uid already scheduled or already
// used by a payment is refused (code 1).
func (s *Service) CreateSchedules(ctx context.Context, merchantID int64, in ScheduleInput) ([]*billkey.Schedule, error) {
	if err := checkUID("customer_uid", in.CustomerUID, maxCustomerUID); err != nil {
		return nil, err
	}
	if len(in.Schedules) == 0 {
		return nil, rejectf("schedules 파라미터가 누락되었습니다.")
	}
	if len(in.Schedules) > maxSchedulesPerCall {
		return nil, rejectf("한 번에 최대 %d건까지 예약할 수 있습니다.", maxSchedulesPerCall)
	}
	if in.CheckingAmount < 0 || in.CheckingAmount > maxAmount {
		return nil, rejectf("checking_amount는 0 이상의 금액이어야 합니다.")
	}
	now := s.Now()
	seen := map[string]bool{}
	uids := make([]string, 0, len(in.Schedules))
	scs := make([]*billkey.Schedule, 0, len(in.Schedules))
	for i := range in.Schedules {
		it := &in.Schedules[i]
		ci := ChargeInput{CustomerUID: in.CustomerUID, MerchantUID: it.MerchantUID, Name: it.Name, Amounts: it.Amounts,
			Buyer: it.Buyer, CustomData: it.CustomData, NoticeURL: it.NoticeURL}
		if err := ci.check(); err != nil {
			return nil, billkey.WrapError(billkey.ErrorCode(err), fmt.Sprintf("schedules[%d]: %s", i, billkey.ErrorMessage(err)), err)
		}
		if err := checkScheduleAt(it.ScheduleAt, now); err != nil {
			return nil, err
		}
		if err := s.checkPrepared(ctx, merchantID, it.MerchantUID, ci.Amount, ci.Currency); err != nil {
			return nil, err
		}
		if it.NoticeURL != "" && webhook.CheckURL(it.NoticeURL) != nil {
			return nil, rejectf("notice_url은 http:// 또는 https://로 시작하는 URL이어야 합니다. (merchant_uid: %s)", it.MerchantUID)
		}
		if seen[it.MerchantUID] {
			return nil, rejectf("schedules에 같은 merchant_uid가 두 번 있습니다. (merchant_uid: %s)", it.MerchantUID)
		}
		seen[it.MerchantUID] = true
		uids = append(uids, it.MerchantUID)
		scs = append(scs, &billkey.Schedule{
			MerchantID: merchantID, CustomerUID: in.CustomerUID, MerchantUID: it.MerchantUID, ScheduleAt: it.ScheduleAt,
			Amount: ci.Amount, TaxFree: ci.TaxFree, VatAmount: ci.VatAmount, Currency: ci.Currency, CardQuota: ci.CardQuota,
			Name: it.Name, Buyer: it.Buyer, CustomData: it.CustomData, NoticeURL: it.NoticeURL,
		})
	}
	scheduled, paid, err := s.Store.OrdersTaken(ctx, merchantID, uids)
	if err != nil {
		return nil, err
	}
	for _, u := range uids {
		if scheduled[u] {
			return nil, rejectf("%s (merchant_uid: %s)", billkey.DuplicateScheduleMessage, u)
		}
		if paid[u] {
			return nil, rejectf("%s (merchant_uid: %s)", billkey.DuplicateOrderMessage, u)
		}
	}
	if err := s.scheduleCustomer(ctx, merchantID, in); err != nil {
		return nil, err
	}
	if in.CheckingAmount > 0 {
		if err := s.checkCard(ctx, merchantID, in.CustomerUID, in.CheckingAmount, in.ClientIP); err != nil {
			return nil, err
		}
	}
	if err := s.Store.CreateSchedules(ctx, scs); err != nil {
		return nil, err
	}
	s.wake(QueueSchedules)
	return scs, nil
}

func checkScheduleAt(at, now time.Time) error {
	switch {
	case at.IsZero():
		return rejectf("schedule_at 파라미터가 누락되었습니다.")
	case at.Unix() > maxScheduleAt:
		return rejectf("schedule_at은 UNIX timestamp(초)여야 합니다. (밀리초가 아닌지 확인해주세요)")
	case at.Before(now.Add(-schedulePastGrace)):
		return rejectf("schedule_at이 이미 지난 시각입니다.")
	}
	return nil
}

// scheduleCustomer makes sure the customer has a billing key: an existing
// key is used as is (card data is then ignored); otherwise one is issued
// from the card data, which is then required.
func (s *Service) scheduleCustomer(ctx context.Context, merchantID int64, in ScheduleInput) error {
	_, err := s.Store.CustomerByUID(ctx, merchantID, in.CustomerUID)
	if err == nil || billkey.ErrorCode(err) != billkey.ENOTFOUND {
		return err
	}
	if in.Card.Number == "" {
		return rejectf(noScheduleCustomer)
	}
	card, err := normalizeCard(in.Card, true)
	if err != nil {
		return err
	}
	ch, err := s.ResolveChannel(ctx, merchantID, in.PG, false)
	if err != nil {
		return err
	}
	// The schedule call has no customer_* fields; the first schedule's
	// buyer_* become the customer's.
	info := in.Schedules[0].Buyer
	key, err := s.issueKey(ctx, ch, card, info, "issue_"+randomAlnum(20), in.ClientIP)
	if err != nil {
		if billkey.ErrorCode(err) == billkey.EPG {
			return billkey.WrapError(billkey.EREJECTED, scheduleCardFailed+" "+billkey.ErrorMessage(err), err)
		}
		return err
	}
	_, err = s.saveCustomer(ctx, merchantID, ch, in.CustomerUID, key, info)
	return err
}

// checkCard makes the checking_amount test approval and cancels it at once.
func (s *Service) checkCard(ctx context.Context, merchantID int64, customerUID string, amount int64, ip string) error {
	p, err := s.ChargeAgain(ctx, merchantID, ChargeInput{
		CustomerUID: customerUID, MerchantUID: CheckOrderPrefix + randomAlnum(20), Name: "카드 확인 (checking_amount)",
		Amounts: Amounts{Amount: amount}, ClientIP: ip,
	})
	if err != nil {
		return err
	}
	if p.Status != billkey.StatusPaid {
		return rejectf("%s %s", scheduleCardFailed, p.FailReason)
	}
	if _, err := s.Cancel(context.WithoutCancel(ctx), merchantID, CancelInput{
		ImpUID: p.ImpUID, Reason: "checking_amount 확인 후 자동 취소", ClientIP: ip,
	}); err != nil {
		s.Logger.Error("checking_amount approval could not be cancelled; cancel it by hand",
			"imp_uid", p.ImpUID, "merchant_id", merchantID, "error", err)
		return billkey.WrapError(billkey.EPG, fmt.Sprintf(
			"checking_amount 확인 승인(imp_uid: %s)을 취소하지 못했습니다. 예약은 등록되지 않았습니다. 해당 결제를 취소해주세요.", p.ImpUID), err)
	}
	return nil
}

// Unschedule revokes pending schedules (POST /subscribe/payments/unschedule):
// the listed merchant_uids (of customerUID when given), or every pending
// schedule of customerUID. Executed schedules, ones running right now and
// unknown ids are left alone; when nothing could be revoked it is i'mport's
// code 1 "취소할 예약결제 기록이 존재하지 않습니다.".
func (s *Service) Unschedule(ctx context.Context, merchantID int64, customerUID string, merchantUIDs []string) ([]*billkey.Schedule, error) {
	if customerUID == "" && len(merchantUIDs) == 0 {
		return nil, rejectf("customer_uid 또는 merchant_uid 파라미터가 필요합니다.")
	}
	scs, err := s.Store.RevokeSchedules(ctx, merchantID, customerUID, merchantUIDs)
	if err != nil {
		return nil, err
	}
	if len(scs) == 0 {
		return nil, rejectf(nothingToUnschedule)
	}
	return scs, nil
}

// ScheduleByMerchantUID returns one schedule; ENOTFOUND (HTTP 404) if none.
func (s *Service) ScheduleByMerchantUID(ctx context.Context, merchantID int64, merchantUID string) (*billkey.Schedule, error) {
	return s.Store.ScheduleByMerchantUID(ctx, merchantID, merchantUID)
}

// MoveSchedule changes the time of a pending schedule (PUT
// /subscribe/payments/schedule/{merchant_uid}). A time not in the future, or
// a schedule that is not pending, is EINVALID (HTTP 400).
func (s *Service) MoveSchedule(ctx context.Context, merchantID int64, merchantUID string, at time.Time) (*billkey.Schedule, error) {
	if err := s.futureScheduleAt(at); err != nil {
		return nil, err
	}
	sc, err := s.Store.MoveSchedule(ctx, merchantID, merchantUID, at)
	if err != nil {
		return nil, err
	}
	s.wake(QueueSchedules)
	return sc, nil
}

// Reschedule makes a failed or revoked schedule pending again at a future
// time (POST .../{merchant_uid}/reschedule). The new run makes a new payment.
func (s *Service) Reschedule(ctx context.Context, merchantID int64, merchantUID string, at time.Time) (*billkey.Schedule, error) {
	if err := s.futureScheduleAt(at); err != nil {
		return nil, err
	}
	sc, err := s.Store.RearmSchedule(ctx, merchantID, merchantUID, at, "", time.Time{})
	if err != nil {
		return nil, err
	}
	s.wake(QueueSchedules)
	return sc, nil
}

func (s *Service) futureScheduleAt(at time.Time) error {
	switch {
	case at.IsZero():
		return billkey.Errorf(billkey.EINVALID, "schedule_at 파라미터가 누락되었습니다.")
	case at.Unix() > maxScheduleAt:
		return billkey.Errorf(billkey.EINVALID, "schedule_at은 UNIX timestamp(초)여야 합니다.")
	case !at.After(s.Now()):
		return billkey.Errorf(billkey.EINVALID, "schedule_at은 현재 시각 이후여야 합니다.")
	}
	return nil
}

// RetrySchedule runs a failed or revoked schedule now (POST
// .../{merchant_uid}/retry) and returns its payment. A declined card is a
// failed payment (code 0), as with again.
func (s *Service) RetrySchedule(ctx context.Context, merchantID int64, merchantUID string) (*billkey.Payment, error) {
	owner := "retry-" + randomAlnum(12)
	now := s.Now()
	sc, err := s.Store.RearmSchedule(ctx, merchantID, merchantUID, now, owner, now.Add(s.Schedules.lease()))
	if billkey.ErrorCode(err) == billkey.EINVALID {
		return nil, billkey.WrapError(billkey.EINVALID, fmt.Sprintf(retryNotFailed, truncate(merchantUID, 80)), err)
	} else if err != nil {
		return nil, err
	}
	p, err := s.executeSchedule(ctx, owner, sc)
	if err != nil {
		return nil, err
	}
	if p == nil {
		got, gerr := s.Store.ScheduleByMerchantUID(ctx, merchantID, merchantUID)
		if gerr != nil {
			return nil, gerr
		}
		return nil, rejectf("%s", got.FailReason)
	}
	return p, nil
}
