package gateway

import (
	"context"
	"strings"
	"testing"

	"github.com/billkey/billkey"
)

// TestOpenWindowValidation: every refusal of a window request is EREJECTED
// with its message, and nothing is written (no payment, no attempt) and
// nothing sent to the PG: the fake window PG would panic if called.
func TestOpenWindowValidation(t *testing.T) {
	valid := func(u *unit) WindowRequest {
		return WindowRequest{ImpCode: u.merchant.ImpCode, Kind: WindowPC, Delivery: DeliverMessage, OpenerOrigin: "https://shop.example",
			URLs:   func(string) (string, string) { return "https://b/return", "https://b/close" },
			Params: WindowParams{CustomerUID: "c1", MerchantUID: "w-1", Name: "카드 등록", Buyer: billkey.Buyer{Email: "a@b.c", Tel: "010-1234-5678"}}}
	}
	for _, c := range []struct {
		name string
		edit func(*unit, *WindowRequest)
		msg  string
	}{
		{"unknown kind", func(_ *unit, r *WindowRequest) { r.Kind = "tv" }, "결제창 종류"},
		{"unknown delivery", func(_ *unit, r *WindowRequest) { r.Delivery = "pigeon" }, "결과 전달 방식"},
		{"redirect without url", func(_ *unit, r *WindowRequest) { r.Delivery = DeliverRedirect }, "m_redirect_url 파라미터가 필요"},
		{"redirect to a script", func(_ *unit, r *WindowRequest) {
			r.Delivery, r.Params.MRedirectURL = DeliverRedirect, "javascript:alert(1)"
		}, "http(s) URL"},
		{"message without origin", func(_ *unit, r *WindowRequest) { r.OpenerOrigin = "" }, "출처(origin)"},
		{"control character", func(_ *unit, r *WindowRequest) { r.Params.Name = "a\x07b" }, "name 파라미터에 허용되지 않는 문자"},
		{"replacement character", func(_ *unit, r *WindowRequest) { r.Params.Buyer.Name = "\uFFFD" }, "U+FFFD"},
		{"no customer_uid", func(_ *unit, r *WindowRequest) { r.Params.CustomerUID = "" }, "customer_uid 파라미터가 누락"},
		{"not card", func(_ *unit, r *WindowRequest) { r.Params.PayMethod = "vbank" }, "pay_method"},
		{"not KRW", func(_ *unit, r *WindowRequest) { r.Params.Currency = "USD" }, "KRW만"},
		{"no buyer tel", func(_ *unit, r *WindowRequest) { r.Params.Buyer.Tel = "" }, "buyer_tel"},
		{"no imp code", func(_ *unit, r *WindowRequest) { r.ImpCode = "" }, "IMP.init"},
		{"unknown imp code", func(_ *unit, r *WindowRequest) { r.ImpCode = "imp99999999" }, "가맹점을 찾을 수 없습니다"},
		{"prepared amount differs", func(u *unit, r *WindowRequest) {
			_ = u.st.CreatePrepare(context.Background(), &billkey.Prepare{MerchantID: u.merchant.ID, MerchantUID: "w-1", Amount: 100})
			r.Params.Amount = 200
		}, "사전등록된 결제금액"},
		{"notice_url host not allowed", func(_ *unit, r *WindowRequest) { r.Params.NoticeURLs = []string{"https://evil.example/x"} }, "notice_url"},
		{"unknown channel key", func(_ *unit, r *WindowRequest) { r.Params.ChannelKey = "channel-key-nope" }, "channelKey"},
		{"mobile refused by the channel", func(u *unit, r *WindowRequest) {
			u.st.channels[0].MobileWindow = billkey.MobileWindowRefuse
			r.Kind = WindowMobile
		}, "모바일 결제창을 지원하지 않습니다"},
		{"the PG refuses the channel's window", func(u *unit, r *WindowRequest) { u.st.channels[0].Credentials = nil }, "서명 키가 없어"},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := newUnit(t)
			r := valid(u)
			c.edit(u, &r)
			_, err := u.svc.OpenWindow(context.Background(), r)
			if billkey.ErrorCode(err) != billkey.EREJECTED || !strings.Contains(billkey.ErrorMessage(err), c.msg) {
				t.Fatalf("err %v, want %q", err, c.msg)
			}
			if len(u.st.payments) != 0 {
				t.Fatalf("%d payments written", len(u.st.payments))
			}
		})
	}
}

// TestBadTextRules pins the one text check every layer uses.
func TestBadTextRules(t *testing.T) {
	for _, c := range []struct {
		s         string
		multiline bool
		bad       bool
	}{
		{"홍길동 abc-123", false, false},
		{"a\tb", false, true},
		{"a\tb\r\nc", true, false},
		{"\x00", true, true},
		{"\x7f", false, true},
		{"\u0085", false, true}, // C1
		{"\uFFFD", false, true},
		{string([]byte{0xff, 0xfe}), false, true},
		{"", false, false},
	} {
		if got := BadText(c.s, c.multiline) != ""; got != c.bad {
			t.Errorf("BadText(%q, %v) bad = %v", c.s, c.multiline, got)
		}
	}
}
