// Package fakepg is an in-memory second PG for tests: a complete billkey
// PG provider (billing keys, charges, partial and full refunds, inquiries,
// a payment window redeemed server to server) that talks to no network. It
// exists to prove that a PG plugs into billkey through the provider
// registry alone: it passes the pgtest conformance suite, and the e2e
// tests register it and use it through billkey's public REST API.
//
// Its rules: card numbers of 12 to 19 digits issue a key; charges on
// DeclineNumber's key are declined ([D01]); charges on HangNumber's key are
// approved but never answered (the call waits for its context, or Timeout,
// and fails EUNCERTAIN); every other key is approved. An order id is
// approved at most once per MID ([D02] after). Its credentials are its own
// JSON format, Credentials, whose Secret signs its window forms.
package fakepg

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/billkey/billkey"
)

// Name is the provider name channels of the fake carry.
const Name = "fakepg"

// Magic card numbers.
const (
	ApproveNumber = "5555444433332222"
	DeclineNumber = "5555000000000001"
	HangNumber    = "5555000000000002"
)

// WindowClosedCode is the result code of a cancelled window.
const WindowClosedCode = "FAKE_CANCEL"

// Credentials are the fake's channel credentials.
type Credentials struct {
	Secret string `json:"secret"`
}

// Encode returns the credentials as a channel's opaque blob.
func (c Credentials) Encode() billkey.ChannelCredentials {
	b, _ := json.Marshal(c)
	return b
}

func parse(ch billkey.PGChannel) (Credentials, error) {
	var c Credentials
	if err := json.Unmarshal(ch.Credentials, &c); err != nil || c.Secret == "" {
		return c, billkey.Errorf(billkey.EPG, "[A01] fakepg: 인증정보가 올바르지 않습니다. (bad credentials)")
	}
	return c, nil
}

// resultError carries the fake's result code.
type resultError struct{ code, msg string }

func (e *resultError) Error() string        { return "fakepg: [" + e.code + "] " + e.msg }
func (e *resultError) PGResultCode() string { return e.code }

func refused(code, msg string) error {
	return billkey.WrapError(billkey.EPG, "["+code+"] "+msg, &resultError{code, msg})
}

type approval struct {
	mid, order, tid string
	amount, left    int64
	card            string
	paidAt          time.Time
}

type windowAuth struct {
	mid, order, card string
	used             bool
	key              string
}

// PG is the fake PG: the in-memory state all its connectors share.
type PG struct {
	// Timeout bounds a call the PG never answers (default 2s), like a
	// connector's timeout.
	Timeout time.Duration

	calls atomic.Int64
	seq   atomic.Int64

	mu        sync.Mutex
	keys      map[string]string // billing key → card number
	approvals map[string]*approval
	byTID     map[string]*approval
	declined  map[string]bool // mid + order
	windows   map[string]*windowAuth
}

// New returns an empty fake PG.
func New() *PG {
	return &PG{keys: map[string]string{}, approvals: map[string]*approval{}, byTID: map[string]*approval{},
		declined: map[string]bool{}, windows: map[string]*windowAuth{}}
}

// Calls is how many calls reached the fake.
func (f *PG) Calls() int64 { return f.calls.Load() }

// Provider returns the fake as a billkey provider named Name.
func (f *PG) Provider() *billkey.PGProvider {
	return &billkey.PGProvider{
		Name: Name, PG: f, Window: f,
		CheckCredentials: func(_ bool, b billkey.ChannelCredentials) error {
			if _, err := parse(billkey.PGChannel{Credentials: b}); err != nil {
				return billkey.Errorf(billkey.EINVALID, "fakepg channels need credentials {\"secret\": \"...\"}")
			}
			return nil
		},
	}
}

// Factory is a billkey.PGFactory that registers this fake.
func (f *PG) Factory(billkey.PGEnv) (*billkey.PGProvider, error) { return f.Provider(), nil }

func (f *PG) next(prefix string) string {
	return prefix + strconv.FormatInt(time.Now().UnixNano(), 36) + strconv.FormatInt(f.seq.Add(1), 10)
}

func mask(number string) string {
	if len(number) < 10 {
		return "****"
	}
	return number[:6] + "******" + number[len(number)-4:]
}

// IssueBillingKey issues a key for a card of 12 to 19 digits.
func (f *PG) IssueBillingKey(_ context.Context, ch billkey.PGChannel, req billkey.IssueRequest) (*billkey.BillingKey, error) {
	f.calls.Add(1)
	if _, err := parse(ch); err != nil {
		return nil, err
	}
	n := req.Card.Number
	if len(n) < 12 || len(n) > 19 {
		return nil, billkey.Errorf(billkey.EREJECTED, "카드번호 형식이 올바르지 않습니다.")
	}
	return f.issue(n), nil
}

func (f *PG) issue(number string) *billkey.BillingKey {
	key := f.next("fakekey_")
	f.mu.Lock()
	f.keys[key] = number
	f.mu.Unlock()
	return &billkey.BillingKey{Key: key, CardCode: "361", CardName: "페이크카드", CardNumber: mask(number), PGTID: f.next("fakeiss_"), IssuedAt: time.Now()}
}

// Charge approves, declines or hangs by the key's card.
func (f *PG) Charge(ctx context.Context, ch billkey.PGChannel, req billkey.ChargeRequest) (*billkey.Approval, error) {
	f.calls.Add(1)
	if _, err := parse(ch); err != nil {
		return nil, err
	}
	if req.Amount <= 0 {
		return nil, refused("D03", "요청금액 0원 이하")
	}
	f.mu.Lock()
	number, ok := f.keys[req.BillingKey]
	id := ch.MID + "\x00" + req.OrderID
	switch {
	case !ok:
		f.mu.Unlock()
		return nil, refused("D04", "등록되지 않은 빌링키")
	case f.approvals[id] != nil:
		f.mu.Unlock()
		return nil, refused("D02", "중복된 주문번호")
	case number == DeclineNumber:
		f.declined[id] = true
		f.mu.Unlock()
		return nil, refused("D01", "잔액부족")
	}
	a := &approval{mid: ch.MID, order: req.OrderID, tid: f.next("faketid_"), amount: req.Amount, left: req.Amount,
		card: number, paidAt: time.Now()}
	f.approvals[id], f.byTID[a.tid] = a, a
	f.mu.Unlock()
	if number == HangNumber {
		timeout := f.Timeout
		if timeout <= 0 {
			timeout = 2 * time.Second
		}
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		return nil, billkey.Errorf(billkey.EUNCERTAIN, "PG사 응답을 받지 못해 처리 결과를 알 수 없습니다. (fakepg never answered)")
	}
	return approvalOf(a), nil
}

func approvalOf(a *approval) *billkey.Approval {
	return &billkey.Approval{TID: a.tid, ApplyNum: a.tid[len(a.tid)-8:], Amount: a.amount, CardCode: "361", CardName: "페이크카드",
		CardNumber: mask(a.card), PaidAt: a.paidAt, ReceiptURL: "https://fakepg.example/receipt/" + url.PathEscape(a.tid)}
}

// Refund cancels all or part of an approval.
func (f *PG) Refund(_ context.Context, ch billkey.PGChannel, req billkey.RefundRequest) (*billkey.RefundResult, error) {
	f.calls.Add(1)
	if _, err := parse(ch); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.byTID[req.TID]
	switch {
	case a == nil || a.mid != ch.MID:
		return nil, refused("C03", "거래를 찾을 수 없습니다")
	case a.left == 0 && !req.Partial:
		return &billkey.RefundResult{TID: req.TID, CancelledAt: time.Now(), AlreadyDone: true}, nil
	case a.left == 0:
		return nil, refused("C02", "기 취소 거래")
	case req.Amount <= 0 || req.Amount > a.left:
		return nil, refused("C01", "취소요청금액이 취소가능금액을 초과합니다")
	case req.Partial && req.Remaining != a.left-req.Amount:
		return nil, refused("C04", "취소 후 잔액이 일치하지 않습니다")
	case !req.Partial && req.Amount != a.left:
		return nil, refused("C05", "전체취소 금액이 승인금액과 다릅니다")
	}
	a.left -= req.Amount
	return &billkey.RefundResult{TID: f.next("fakecxl_"), CancelledAt: time.Now()}, nil
}

// Inquire reports an order's state.
func (f *PG) Inquire(_ context.Context, ch billkey.PGChannel, orderID string) (*billkey.Inquiry, error) {
	f.calls.Add(1)
	if _, err := parse(ch); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := ch.MID + "\x00" + orderID
	if a := f.approvals[id]; a != nil {
		st := billkey.InquiryApproved
		if a.left == 0 {
			st = billkey.InquiryCancelled
		}
		return &billkey.Inquiry{State: st, Approval: approvalOf(a)}, nil
	}
	if f.declined[id] {
		return &billkey.Inquiry{State: billkey.InquiryDeclined, Reason: "[D01] 잔액부족"}, nil
	}
	return &billkey.Inquiry{State: billkey.InquiryNotFound}, nil
}

// Approvals returns how many approvals the fake made and the total still
// approved (not refunded), for assertions.
func (f *PG) Approvals() (n int, left int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.approvals {
		n++
		left += a.left
	}
	return n, left
}

func sign(secret, order string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(order))
	return hex.EncodeToString(m.Sum(nil))
}

func token() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
