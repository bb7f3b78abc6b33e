package gateway

// In-memory fakes of the gateway's ports, for the unit tests (files named
// *_unit_test.go) that run without any database. memStore embeds the Store
// interface: a method a fake does not implement panics (nil interface), so a
// test that reaches storage it did not expect fails loudly.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey"
)

// fakeNow is the fixed clock of the unit tests.
var fakeNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// memStore is an in-memory Store with the rules the gateway relies on: one
// payment that is not failed per (merchant, merchant_uid), outcomes recorded
// only on ready payments, one refund of a payment in flight at a time and
// never more refunded than paid. Hooks let a test inject failures.
type memStore struct {
	Store

	mu         sync.Mutex
	seq        int64
	merchants  []*billkey.Merchant
	channels   []*billkey.Channel
	customers  map[string]*billkey.Customer // merchant id "/" customer_uid
	payments   []*billkey.Payment
	prepares   map[string]*billkey.Prepare
	cancels    map[int64]*memCancel
	schedules  []*billkey.Schedule
	events     []billkey.Event
	orphans    []*billkey.Orphan
	deliveries []billkey.NewDelivery
	tokens     map[string]memToken // hex MAC → token
	secretMAC  map[int64][]byte

	// Hooks (nil: normal behaviour).
	finishErr   func(p *billkey.Payment) error // FinishPayment fails
	reserveErr  func(call int) error           // ReserveCancel fails on its call-th call (1-based)
	reserves    int
	completeErr error
}

type memCancel struct {
	c     billkey.Cancel
	state string // pending, uncertain, done, failed
}

type memToken struct {
	merchantID int64
	expires    time.Time
}

func newMemStore() *memStore {
	return &memStore{customers: map[string]*billkey.Customer{}, prepares: map[string]*billkey.Prepare{},
		cancels: map[int64]*memCancel{}, tokens: map[string]memToken{}, secretMAC: map[int64][]byte{}}
}

func (m *memStore) id() int64 { m.seq++; return m.seq }

func notFound(what string) error { return billkey.Errorf(billkey.ENOTFOUND, "%s not found", what) }

func ck(mid int64, s string) string { return fmt.Sprint(mid) + "/" + s }

// -- merchants, channels, tokens

func (m *memStore) addMerchant(name string) *billkey.Merchant {
	m.mu.Lock()
	defer m.mu.Unlock()
	mr := &billkey.Merchant{ID: m.id(), ImpCode: fmt.Sprintf("imp%08d", m.seq), Name: name, APIKey: fmt.Sprintf("key%d", m.seq)}
	m.merchants = append(m.merchants, mr)
	return mr
}

func (m *memStore) addChannel(mid int64, live bool) *billkey.Channel {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := &billkey.Channel{ID: m.id(), MerchantID: mid, Provider: billkey.ProviderHTML5Inicis, MID: fmt.Sprintf("MID%07d", m.seq),
		Live: live, Credentials: billkey.ChannelCredentials(`{"fake":"creds"}`)}
	ch.Default = !slices.ContainsFunc(m.channels, func(c *billkey.Channel) bool { return c.MerchantID == mid })
	m.channels = append(m.channels, ch)
	return ch
}

func (m *memStore) MerchantByImpCode(_ context.Context, code string) (*billkey.Merchant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mr := range m.merchants {
		if mr.ImpCode == code {
			c := *mr
			return &c, nil
		}
	}
	return nil, notFound("merchant")
}

func (m *memStore) MerchantByID(_ context.Context, id int64) (*billkey.Merchant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mr := range m.merchants {
		if mr.ID == id {
			c := *mr
			return &c, nil
		}
	}
	return nil, notFound("merchant")
}

func (m *memStore) MerchantSecrets(_ context.Context, apiKey string) (*billkey.Merchant, []byte, []byte, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mr := range m.merchants {
		if mr.APIKey == apiKey {
			c := *mr
			return &c, m.secretMAC[mr.ID], nil, time.Time{}, nil
		}
	}
	return nil, nil, nil, time.Time{}, notFound("merchant")
}

func (m *memStore) Channels(_ context.Context, mid int64) ([]*billkey.Channel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*billkey.Channel
	for _, ch := range m.channels {
		if ch.MerchantID == mid {
			c := *ch
			out = append(out, &c)
		}
	}
	slices.SortStableFunc(out, func(a, b *billkey.Channel) int {
		if a.Default == b.Default {
			return 0
		} else if a.Default {
			return -1
		}
		return 1
	})
	return out, nil
}

func (m *memStore) ChannelByID(ctx context.Context, mid, id int64) (*billkey.Channel, error) {
	chs, _ := m.Channels(ctx, mid)
	for _, ch := range chs {
		if ch.ID == id {
			return ch, nil
		}
	}
	return nil, notFound("channel")
}

func (m *memStore) TokensRevokedMark(context.Context) (int64, error) { return 0, nil }

func (m *memStore) CurrentToken(_ context.Context, mid int64, nonce, mac []byte, now time.Time) (*billkey.TokenRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[fmt.Sprintf("%x", mac)] = memToken{merchantID: mid, expires: now.Add(30 * time.Minute)}
	return &billkey.TokenRecord{MerchantID: mid, Nonce: nonce, IssuedAt: now, ExpiresAt: now.Add(30 * time.Minute)}, nil
}

func (m *memStore) TokenByMAC(_ context.Context, mac []byte) (int64, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[fmt.Sprintf("%x", mac)]
	if !ok {
		return 0, time.Time{}, billkey.Errorf(billkey.EUNAUTHORIZED, "unknown token")
	}
	return t.merchantID, t.expires, nil
}

// -- customers

func (m *memStore) CustomerByUID(_ context.Context, mid int64, uid string) (*billkey.Customer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.customers[ck(mid, uid)]
	if !ok {
		return nil, notFound("customer")
	}
	cc := *c
	return &cc, nil
}

func (m *memStore) SaveCustomer(_ context.Context, c *billkey.Customer) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, replaced := m.customers[ck(c.MerchantID, c.CustomerUID)]
	cc := *c
	m.customers[ck(c.MerchantID, c.CustomerUID)] = &cc
	return replaced, nil
}

func (m *memStore) DeleteCustomer(_ context.Context, mid int64, uid string) (*billkey.Customer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.customers[ck(mid, uid)]
	if !ok {
		return nil, notFound("customer")
	}
	delete(m.customers, ck(mid, uid))
	return c, nil
}

// ListSubscriptions: the unit tests' merchants have no subscriptions.
func (m *memStore) ListSubscriptions(context.Context, int64, string, int, int) ([]*billkey.Subscription, int, error) {
	return nil, 0, nil
}

// -- payments

func (m *memStore) CreatePayment(_ context.Context, p *billkey.Payment) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, q := range m.payments {
		if q.ImpUID == p.ImpUID {
			return billkey.ErrImpUIDTaken
		}
		if q.MerchantID == p.MerchantID && q.MerchantUID == p.MerchantUID && q.Status != billkey.StatusFailed {
			return billkey.Errorf(billkey.EREJECTED, "%s", billkey.DuplicateOrderMessage)
		}
	}
	p.ID = m.id()
	q := *p
	m.payments = append(m.payments, &q)
	return nil
}

func (m *memStore) byID(id int64) *billkey.Payment {
	for _, p := range m.payments {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (m *memStore) FinishPayment(_ context.Context, p *billkey.Payment, ev *billkey.Event) (bool, error) {
	if m.finishErr != nil {
		if err := m.finishErr(p); err != nil {
			return false, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.byID(p.ID)
	if q == nil || q.Status != billkey.StatusReady {
		return false, nil
	}
	*q = *p
	if ev != nil {
		m.events = append(m.events, *ev)
	}
	return true, nil
}

func (m *memStore) MarkUncertain(_ context.Context, id int64, next time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.byID(id)
	if q == nil {
		return notFound("payment")
	}
	q.OutcomeUnknown, q.ReconcileAfter = true, next
	return nil
}

func (m *memStore) DeferReconcile(_ context.Context, id int64, attempts int, next time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.byID(id)
	q.ReconcileAttempts, q.ReconcileAfter = attempts, next
	return nil
}

func (m *memStore) PaymentByID(_ context.Context, id int64) (*billkey.Payment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if q := m.byID(id); q != nil {
		c := *q
		return &c, nil
	}
	return nil, notFound("payment")
}

func (m *memStore) PaymentByImpUID(_ context.Context, mid int64, imp string) (*billkey.Payment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, q := range m.payments {
		if q.MerchantID == mid && q.ImpUID == imp {
			c := *q
			return &c, nil
		}
	}
	return nil, notFound("payment")
}

func (m *memStore) FindPayment(_ context.Context, mid int64, muid string, st billkey.PaymentStatus) (*billkey.Payment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.payments) - 1; i >= 0; i-- {
		q := m.payments[i]
		if q.MerchantID == mid && q.MerchantUID == muid && (st == "" || q.Status == st) {
			c := *q
			return &c, nil
		}
	}
	return nil, notFound("payment")
}

// UncertainPayments returns the ready payments of unknown outcome that are
// due, and those left ready without an outcome since before staleBefore.
func (m *memStore) UncertainPayments(_ context.Context, now, staleBefore time.Time, limit int) ([]*billkey.Payment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*billkey.Payment
	for _, q := range m.payments {
		due := q.OutcomeUnknown && !q.ReconcileAfter.After(now) || !q.OutcomeUnknown && q.StartedAt.Before(staleBefore)
		if q.Status == billkey.StatusReady && due && len(out) < limit {
			c := *q
			out = append(out, &c)
		}
	}
	return out, nil
}

func (m *memStore) MarkStaleCancelsUncertain(context.Context, time.Time) (int64, error) {
	return 0, nil
}

func (m *memStore) UncertainFullRefunds(context.Context, time.Time, int) ([]*billkey.Cancel, error) {
	return nil, nil
}

func (m *memStore) DueOrphans(context.Context, time.Time, int) ([]*billkey.Orphan, error) {
	return nil, nil
}

func (m *memStore) RecordOrphan(_ context.Context, o *billkey.Orphan, _ string, ev *billkey.Event) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.orphans {
		if x.PaymentID == o.PaymentID && x.Kind == o.Kind {
			return false, nil
		}
	}
	o.ID = m.id()
	m.orphans = append(m.orphans, o)
	m.events = append(m.events, *ev)
	return true, nil
}

func (m *memStore) SettleOrphan(_ context.Context, o *billkey.Orphan) error { return nil }

// -- cancels

func (m *memStore) ReserveCancel(_ context.Context, id int64, req billkey.CancelRequest) (*billkey.Payment, *billkey.Cancel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reserves++
	if m.reserveErr != nil {
		if err := m.reserveErr(m.reserves); err != nil {
			return nil, nil, err
		}
	}
	q := m.byID(id)
	if q == nil || q.Status != billkey.StatusPaid {
		return nil, nil, billkey.Errorf(billkey.EREJECTED, "결제완료 상태가 아닌 결제건은 취소할 수 없습니다.")
	}
	for _, c := range m.cancels {
		if c.c.PaymentID == id && (c.state == "pending" || c.state == "uncertain") {
			return nil, nil, billkey.ErrCancelBusy
		}
	}
	left := q.Amount - q.CancelAmount
	c := billkey.Cancel{ID: m.id(), PaymentID: id, Amount: req.Amount, TaxFree: req.TaxFree, VatAmount: req.VatAmount, Reason: req.Reason}
	if c.Amount == 0 {
		c.Amount = left
	}
	if c.Amount <= 0 || c.Amount > left {
		return nil, nil, billkey.Errorf(billkey.EREJECTED, "취소 가능 잔액(%d원)보다 큰 금액(%d원)을 취소할 수 없습니다.", left, c.Amount)
	}
	m.cancels[c.ID] = &memCancel{c: c, state: "pending"}
	p := *q
	return &p, &c, nil
}

func (m *memStore) CompleteCancel(_ context.Context, c *billkey.Cancel, ev *billkey.Event) (*billkey.Payment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.completeErr != nil {
		return nil, m.completeErr
	}
	mc := m.cancels[c.ID]
	if mc.state == "failed" {
		return nil, billkey.ErrCancelReleased
	}
	mc.state, mc.c = "done", *c
	q := m.byID(c.PaymentID)
	q.CancelAmount += c.Amount
	q.Cancels = append(q.Cancels, *c)
	if q.CancelAmount == q.Amount {
		q.Status = billkey.StatusCancelled
	}
	m.events = append(m.events, billkey.Event{MerchantID: q.MerchantID, ImpUID: q.ImpUID, Status: q.Status, NoticeURL: ev.NoticeURL})
	p := *q
	return &p, nil
}

func (m *memStore) FailCancel(_ context.Context, c *billkey.Cancel) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cancels[c.ID].state = "failed"
	return nil
}

func (m *memStore) MarkCancelUncertain(_ context.Context, c *billkey.Cancel) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cancels[c.ID].state = "uncertain"
	return nil
}

// -- prepares

func (m *memStore) CreatePrepare(_ context.Context, p *billkey.Prepare) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.prepares[ck(p.MerchantID, p.MerchantUID)]; ok {
		return billkey.Errorf(billkey.EREJECTED, "%s", billkey.PrepareExistsMessage)
	}
	c := *p
	m.prepares[ck(p.MerchantID, p.MerchantUID)] = &c
	return nil
}

func (m *memStore) UpdatePrepare(_ context.Context, p *billkey.Prepare) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.prepares[ck(p.MerchantID, p.MerchantUID)]; !ok {
		return notFound("prepare")
	}
	c := *p
	m.prepares[ck(p.MerchantID, p.MerchantUID)] = &c
	return nil
}

func (m *memStore) CustomerForCharge(ctx context.Context, mid int64, uid, muid string) (*billkey.Customer, *billkey.Prepare, error) {
	c, err := m.CustomerByUID(ctx, mid, uid)
	if err != nil {
		return nil, nil, err
	}
	p, err := m.PrepareByMerchantUID(ctx, mid, muid)
	if billkey.ErrorCode(err) == billkey.ENOTFOUND {
		return c, nil, nil
	}
	return c, p, err
}

func (m *memStore) PrepareByMerchantUID(_ context.Context, mid int64, muid string) (*billkey.Prepare, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.prepares[ck(mid, muid)]
	if !ok {
		return nil, notFound("prepare")
	}
	c := *p
	return &c, nil
}

// -- counting helpers

func (m *memStore) paymentsOf(mid int64, muid string) []billkey.Payment {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []billkey.Payment
	for _, p := range m.payments {
		if p.MerchantID == mid && p.MerchantUID == muid {
			out = append(out, *p)
		}
	}
	return out
}

func (m *memStore) eventsOf(imp string) []billkey.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []billkey.Event
	for _, e := range m.events {
		if e.ImpUID == imp {
			out = append(out, e)
		}
	}
	return out
}

// fakeKeys seals reversibly (the purpose and owner are checked on open) and
// MACs with HMAC-SHA256 under a fixed key.
type fakeKeys struct{}

func (fakeKeys) Seal(plain []byte, purpose string, mid int64, subject string) ([]byte, error) {
	return fmt.Appendf(nil, "sealed|%s|%d|%s|%s", purpose, mid, subject, plain), nil
}

func (fakeKeys) Open(blob []byte, purpose string, mid int64, subject string) ([]byte, error) {
	prefix := fmt.Sprintf("sealed|%s|%d|%s|", purpose, mid, subject)
	if !strings.HasPrefix(string(blob), prefix) {
		return nil, errors.New("fakeKeys: wrong owner")
	}
	return blob[len(prefix):], nil
}

func (fakeKeys) MAC(purpose string, data []byte) []byte {
	h := hmac.New(sha256.New, []byte("unit-test-mac-key"))
	h.Write([]byte(purpose + "\x00"))
	h.Write(data)
	return h.Sum(nil)
}

// fakePG records every call; each operation answers with its func (nil:
// approve / succeed).
type fakePG struct {
	mu        sync.Mutex
	issues    []billkey.IssueRequest
	charges   []billkey.ChargeRequest
	refunds   []billkey.RefundRequest
	inquiries []string

	issue   func(billkey.IssueRequest) (*billkey.BillingKey, error)
	charge  func(billkey.ChargeRequest) (*billkey.Approval, error)
	refund  func(billkey.RefundRequest) (*billkey.RefundResult, error)
	inquire func(orderID string) (*billkey.Inquiry, error)
}

func (f *fakePG) IssueBillingKey(_ context.Context, _ billkey.PGChannel, r billkey.IssueRequest) (*billkey.BillingKey, error) {
	f.mu.Lock()
	f.issues = append(f.issues, r)
	fn := f.issue
	f.mu.Unlock()
	if fn != nil {
		return fn(r)
	}
	return &billkey.BillingKey{Key: "BK-" + r.OrderID, CardCode: "361", CardName: "BC카드", CardNumber: billkey.MaskCardNumber(r.Card.Number)}, nil
}

func (f *fakePG) Charge(_ context.Context, _ billkey.PGChannel, r billkey.ChargeRequest) (*billkey.Approval, error) {
	f.mu.Lock()
	f.charges = append(f.charges, r)
	fn := f.charge
	f.mu.Unlock()
	if fn != nil {
		return fn(r)
	}
	return approve(r), nil
}

func approve(r billkey.ChargeRequest) *billkey.Approval {
	return &billkey.Approval{TID: "TID-" + r.OrderID, ApplyNum: "12345678", Amount: r.Amount, PaidAt: fakeNow}
}

func (f *fakePG) Refund(_ context.Context, _ billkey.PGChannel, r billkey.RefundRequest) (*billkey.RefundResult, error) {
	f.mu.Lock()
	f.refunds = append(f.refunds, r)
	fn := f.refund
	f.mu.Unlock()
	if fn != nil {
		return fn(r)
	}
	return &billkey.RefundResult{TID: "RTID-" + r.OrderID, CancelledAt: fakeNow}, nil
}

func (f *fakePG) Inquire(_ context.Context, _ billkey.PGChannel, orderID string) (*billkey.Inquiry, error) {
	f.mu.Lock()
	f.inquiries = append(f.inquiries, orderID)
	fn := f.inquire
	f.mu.Unlock()
	if fn != nil {
		return fn(orderID)
	}
	return &billkey.Inquiry{State: billkey.InquiryNotFound}, nil
}

func (f *fakePG) chargeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.charges)
}

// unit is one test's service over fakes: a merchant with one test channel.
type unit struct {
	svc      *Service
	st       *memStore
	pg       *fakePG
	merchant *billkey.Merchant
	channel  *billkey.Channel
}

func newUnit(t *testing.T) *unit {
	t.Helper()
	st, pg := newMemStore(), &fakePG{}
	reg, err := billkey.NewPGRegistry(&billkey.PGProvider{Name: billkey.ProviderHTML5Inicis, Aliases: []string{billkey.ProviderInicis},
		PG: pg, Window: fakeWindow{}})
	if err != nil {
		t.Fatal(err)
	}
	svc := New(st, fakeKeys{}, reg, slog.New(slog.DiscardHandler))
	svc.Now = func() time.Time { return fakeNow }
	m := st.addMerchant("unit shop")
	ch := st.addChannel(m.ID, false)
	return &unit{svc: svc, st: st, pg: pg, merchant: m, channel: ch}
}

// addCustomer stores a customer with a sealed key "BK-<uid>".
func (u *unit) addCustomer(t *testing.T, uid string) {
	t.Helper()
	blob, _ := fakeKeys{}.Seal([]byte("BK-"+uid), billkey.PurposeBillingKey, u.merchant.ID, uid)
	if _, err := u.st.SaveCustomer(context.Background(), &billkey.Customer{MerchantID: u.merchant.ID, ChannelID: u.channel.ID,
		CustomerUID: uid, PGProvider: u.channel.Provider, PGID: u.channel.MID, CardNumber: "5365-10**-****-1234",
		Name: "홍길동", KeyCiphertext: blob}); err != nil {
		t.Fatal(err)
	}
}

// again is a valid ChargeAgain input.
func again(customerUID, merchantUID string, amount int64) ChargeInput {
	return ChargeInput{CustomerUID: customerUID, MerchantUID: merchantUID, Name: "정기결제", Amounts: Amounts{Amount: amount}}
}

// pgDecline is a PG refusal as connectors return it.
func pgDecline(msg string) error { return billkey.Errorf(billkey.EPG, "%s", msg) }

// pgHang is an unknown PG outcome (timeout after the request was sent).
func pgHang() error {
	return billkey.WrapError(billkey.EUNCERTAIN, "timeout", context.DeadlineExceeded)
}

// -- schedules (one run's bookkeeping) and the webhook outbox

// RunPayment returns the newest payment of the merchant_uid after prior.
func (m *memStore) RunPayment(_ context.Context, mid int64, muid string, prior int64) (*billkey.Payment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.payments) - 1; i >= 0; i-- {
		q := m.payments[i]
		if q.MerchantID == mid && q.MerchantUID == muid && q.ID > prior {
			c := *q
			return &c, nil
		}
	}
	return nil, nil
}

func (m *memStore) schedule(id int64) *billkey.Schedule {
	for _, sc := range m.schedules {
		if sc.ID == id {
			return sc
		}
	}
	return nil
}

func (m *memStore) SkipRunPayment(_ context.Context, id int64, owner string, paymentID int64) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sc := m.schedule(id)
	if sc == nil || sc.Status != billkey.ScheduleScheduled || sc.LeaseOwner != owner {
		return false, nil
	}
	sc.PriorPaymentID = paymentID
	return true, nil
}

func (m *memStore) RenewScheduleLease(_ context.Context, id int64, owner string, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sc := m.schedule(id)
	if sc == nil || sc.Status != billkey.ScheduleScheduled || sc.LeaseOwner != owner {
		return false, nil
	}
	sc.LeaseUntil = until
	return true, nil
}

func (m *memStore) FinishSchedule(_ context.Context, id int64, r billkey.ScheduleResult, ev *billkey.Event) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sc := m.schedule(id)
	if sc == nil || sc.Status != billkey.ScheduleScheduled {
		return false, nil
	}
	sc.Status, sc.ImpUID, sc.PaymentStatus, sc.FailReason, sc.ExecutedAt = billkey.ScheduleExecuted, r.ImpUID, r.PaymentStatus, r.FailReason, r.ExecutedAt
	sc.LeaseOwner = ""
	if ev != nil {
		m.events = append(m.events, *ev)
	}
	return true, nil
}

func (m *memStore) DeferSchedule(_ context.Context, id int64, owner string, runAfter time.Time, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if sc := m.schedule(id); sc != nil && sc.LeaseOwner == owner {
		sc.RunAfter, sc.LastError, sc.LeaseOwner = runAfter, reason, ""
	}
	return nil
}

// addSchedule stores a pending schedule leased to owner.
func (m *memStore) addSchedule(sc *billkey.Schedule, owner string) *billkey.Schedule {
	m.mu.Lock()
	defer m.mu.Unlock()
	sc.ID, sc.Status, sc.LeaseOwner, sc.Attempts = m.id(), billkey.ScheduleScheduled, owner, 1
	m.schedules = append(m.schedules, sc)
	return sc
}

// RelayEvents moves the outbox's events into deliveries, deciding each with
// build, as the SQL store does in one transaction.
func (m *memStore) RelayEvents(_ context.Context, limit int, build func(billkey.RelayedEvent) billkey.NewDelivery) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for len(m.events) > 0 && n < limit {
		ev := m.events[0]
		m.events = m.events[1:]
		var url string
		for _, mr := range m.merchants {
			if mr.ID == ev.MerchantID {
				url = mr.WebhookURL
			}
		}
		m.deliveries = append(m.deliveries, build(billkey.RelayedEvent{Event: ev, MerchantWebhookURL: url}))
		n++
	}
	return n, nil
}

func (m *memStore) ClaimDueDeliveries(context.Context, string, time.Time, time.Time, int) ([]*billkey.WebhookDelivery, error) {
	return nil, nil
}

// fakeWindow is the PG side of the payment window in unit tests: it refuses
// a channel without credentials (as a PG refuses a channel it cannot sign
// for) and panics if anything past that check is reached.
type fakeWindow struct{ billkey.WindowPG }

func (fakeWindow) CheckWindow(ch billkey.PGChannel) error {
	if len(ch.Credentials) == 0 {
		return billkey.Errorf(billkey.EREJECTED, "PG 설정(%s)에 결제창 서명 키가 없어 결제창을 열 수 없습니다.", ch.MID)
	}
	return nil
}
