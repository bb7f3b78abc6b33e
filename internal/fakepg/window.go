package fakepg

import (
	"context"
	"crypto/hmac"
	"net/url"

	"github.com/billkey/billkey"
)

// The fake's payment window: WindowForm signs the order with the channel's
// secret; the buyer's side (Buyer, in place of a browser) checks that
// signature and hands back a single-use auth token; ApproveWindow redeems
// the token server side for a billing key, so the key never travels
// through the browser. CancelWindow revokes the key a token produced.

// WindowAction is where the fake's window form "posts".
const WindowAction = "https://fakepg.example/window"

// CheckWindow refuses a channel without a readable secret.
func (f *PG) CheckWindow(ch billkey.PGChannel) error {
	if _, err := parse(ch); err != nil {
		return billkey.Errorf(billkey.EREJECTED, "PG 설정(%s)에 fakepg secret이 없어 결제창을 열 수 없습니다.", ch.MID)
	}
	return nil
}

// WindowForm returns the signed form of an attempt.
func (f *PG) WindowForm(ch billkey.PGChannel, req billkey.WindowFormRequest) (*billkey.WindowForm, error) {
	c, err := parse(ch)
	if err != nil {
		return nil, err
	}
	v := url.Values{"mid": {ch.MID}, "order": {req.OrderID}, "return_url": {req.ReturnURL}, "sig": {sign(c.Secret, req.OrderID)}}
	return &billkey.WindowForm{Action: WindowAction, Fields: v,
		Sources: billkey.PageSources{Form: []string{"https://fakepg.example"}}}, nil
}

// Buyer plays the buyer in the fake's window: it checks the form's
// signature and returns where the result goes and the result post, with a
// single-use token (or, with cancel, the buyer's cancel).
func (f *PG) Buyer(ch billkey.PGChannel, form *billkey.WindowForm, card billkey.Card, cancel bool) (string, url.Values, error) {
	c, err := parse(ch)
	if err != nil {
		return "", nil, err
	}
	order := form.Fields.Get("order")
	if !hmac.Equal([]byte(form.Fields.Get("sig")), []byte(sign(c.Secret, order))) {
		return "", nil, refused("W02", "결제창 요청 서명 불일치")
	}
	to := form.Fields.Get("return_url")
	if cancel {
		return to, url.Values{"result": {WindowClosedCode}, "order": {order}}, nil
	}
	tok := token()
	f.mu.Lock()
	f.windows[tok] = &windowAuth{mid: ch.MID, order: order, card: card.Number}
	f.mu.Unlock()
	return to, url.Values{"result": {"0000"}, "order": {order}, "token": {tok}}, nil
}

// ApproveWindow redeems the result post's token for a billing key, once.
func (f *PG) ApproveWindow(_ context.Context, ch billkey.PGChannel, orderID string, post url.Values) (*billkey.BillingKey, error) {
	f.calls.Add(1)
	if _, err := parse(ch); err != nil {
		return nil, err
	}
	switch post.Get("result") {
	case "":
		return nil, billkey.Errorf(billkey.EINVALID, "fakepg 결과에 result가 없습니다.")
	case WindowClosedCode:
		return nil, refused(WindowClosedCode, "사용자가 결제를 취소하였습니다.")
	case "0000":
	default:
		return nil, refused(post.Get("result"), "카드 등록 실패")
	}
	if post.Get("order") != orderID {
		return nil, billkey.Errorf(billkey.EREJECTED, "fakepg 결과의 주문번호가 일치하지 않습니다.")
	}
	f.mu.Lock()
	w := f.windows[post.Get("token")]
	if w == nil || w.used || w.mid != ch.MID || w.order != orderID {
		f.mu.Unlock()
		return nil, refused("W01", "유효하지 않은 인증 토큰")
	}
	w.used = true
	f.mu.Unlock()
	k := f.issue(w.card)
	f.mu.Lock()
	w.key = k.Key
	f.mu.Unlock()
	return k, nil
}

// CancelWindow revokes the key a redeemed token produced.
func (f *PG) CancelWindow(_ context.Context, ch billkey.PGChannel, post url.Values) error {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.windows[post.Get("token")]
	if w == nil || w.mid != ch.MID {
		return refused("W01", "유효하지 않은 인증 토큰")
	}
	delete(f.keys, w.key)
	return nil
}

// WindowClosedCode is the fake's cancel code.
func (f *PG) WindowClosedCode() string { return WindowClosedCode }
