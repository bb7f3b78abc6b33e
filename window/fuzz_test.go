package window_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/window"
)

// FuzzReturnPost posts arbitrary bodies to the returnUrl of a fresh open
// attempt (PC or mobile): billkey must answer with a page, never a 5xx, and
// never store a key (nothing but INICIS's own approval can yield one).
func FuzzReturnPost(f *testing.F) {
	for _, seed := range []string{
		"",
		"resultCode=0000&mid=INIBillTst&orderNumber=imp_1&authToken=x&authUrl=http://evil/api/payAuth&netCancelUrl=http://evil/api/netCancel&idc_name=stg",
		"resultCode=0000&mid=INIBillTst&orderNumber=imp_1&authToken=x&authUrl=http://127.0.0.1:1/api/payAuth&netCancelUrl=http://127.0.0.1:1/api/netCancel&idc_name=fc",
		"resultCode=V801&resultMsg=%EC%B7%A8%EC%86%8C",
		"resultcode=00&mid=INIBillTst&orderid=imp_000000000000&billkey=0123456789abcdef0123456789abcdef01234567",
		"resultcode=00&mid=INIBillTst&orderid=imp_000000000000&billkey=zz",
		"resultcode=99&resultmsg=x",
		"%zz&&==;;",
		strings.Repeat("a=b&", 1000),
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	e := newEnv(f, dbtest.DSN(f, "sqlite"), nil)
	f.Fuzz(func(t *testing.T, body string, mobile bool) {
		e.t = t
		kind, delivery := gateway.WindowPC, gateway.DeliverMessage
		p := issueParams("cust-fuzz")
		params := gateway.WindowParams{
			PG: "html5_inicis", MerchantUID: "", CustomerUID: "cust-fuzz", Name: "퍼즈", Amount: 100,
		}
		params.Buyer.Email, params.Buyer.Tel = p["buyer_email"].(string), p["buyer_tel"].(string)
		if mobile {
			kind, delivery = gateway.WindowMobile, gateway.DeliverRedirect
			params.MRedirectURL = "https://shop.example/done"
		}
		var returnURL string
		_, err := e.app.Service.OpenWindow(context.Background(), gateway.WindowRequest{
			ImpCode: e.merchant.ImpCode, Params: params, Kind: kind, Delivery: delivery, OpenerOrigin: merchantOrigin,
			URLs: func(tok string) (string, string) {
				returnURL = e.app.BaseURL + "/window/return/" + tok
				return returnURL, e.app.BaseURL + "/window/close/" + tok
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, returnURL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		status, page, hdr := e.do(req)
		if status >= 500 {
			t.Fatalf("status %d\n%s", status, page)
		}
		if status != 303 && !strings.Contains(page, "</html>") {
			t.Fatalf("not a page: %d %s", status, page)
		}
		if loc := hdr.Get("Location"); status == 303 && (!strings.HasPrefix(loc, "https://shop.example/done?") || strings.Contains(loc, "imp_success=true")) {
			t.Fatalf("redirect %s", loc)
		}
		if _, err := e.app.Service.Customer(context.Background(), e.merchant.ID, "cust-fuzz"); err == nil {
			t.Fatalf("a key was stored from a forged post: %q", body)
		}
	})
}

// FuzzDecodeParams: arbitrary params JSON never panics, and what it accepts
// is sane.
func FuzzDecodeParams(f *testing.F) {
	for _, seed := range []string{
		`{}`, `null`, `[]`, `{"amount":"9900"}`, `{"amount":9900.0}`, `{"amount":-1}`, `{"amount":1e400}`,
		`{"merchant_uid":123,"buyer_tel":1012345678,"custom_data":{"a":[1,2]}}`, `{"notice_url":["https://a.example/h","x"]}`,
		`{"custom_data":"text","language":"EN","currency":"krw"}`, `{"customer_uid":{"x":1}}`, `{"amount":"١٢"}`, "{\"name\":\"\xff\"}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := window.DecodeParams([]byte(raw))
		if err != nil {
			return
		}
		if p.Amount < 0 {
			t.Fatalf("negative amount accepted: %q", raw)
		}
		for _, s := range []string{p.PG, p.MerchantUID, p.Name, p.CustomerUID, p.Buyer.Name, p.Buyer.Tel, strings.Join(p.NoticeURLs, " "), p.RequestID} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 accepted: %q", raw)
			}
		}
	})
}

// FuzzParseOrigin: whatever parseOrigin accepts is safe as a postMessage
// target and a CSP source.
func FuzzParseOrigin(f *testing.F) {
	for _, seed := range []string{"https://shop.example", "http://127.0.0.1:8080", "null", "https://a.example/path", "https://a b", "https://x.example;script-src *", "javascript:alert(1)", "https://[::1]:443/"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, ok := window.ParseOrigin(s)
		if !ok {
			return
		}
		if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			t.Fatalf("%q → %q", s, o)
		}
		if strings.ContainsAny(o, " ;,'\"\t\r\n*/?#@\\") && strings.Count(o, "/") != 2 {
			t.Fatalf("%q → unsafe %q", s, o)
		}
		if strings.ContainsAny(o[strings.Index(o, "//")+2:], " ;,'\"\t\r\n*/?#@\\") {
			t.Fatalf("%q → unsafe host %q", s, o)
		}
	})
}

// FuzzOpenParams posts arbitrary IMP.request_pay parameters (and
// User-Agent) to /window/open over HTTP: billkey never answers 5xx, and
// whatever it accepts and stores is text the databases hold: valid UTF-8
// without control characters. The seeds in testdata/fuzz/FuzzOpenParams
// replay on every plain go test.
func FuzzOpenParams(f *testing.F) {
	for _, seed := range []struct{ params, ua string }{
		{`{"pg":"html5_inicis","customer_uid":"c","merchant_uid":"m1","buyer_email":"a@b.example","buyer_tel":"010","name":"월간"}`, "Mozilla/5.0"},
		{`{"customer_uid":"c","buyer_email":"a@b.example","buyer_tel":"010","name":"a\u0000b"}`, ""},
		{`{"customer_uid":"c","buyer_email":"a@b.example","buyer_tel":"010","buyer_name":"\ud800"}`, "\xff"},
	} {
		f.Add(seed.params, seed.ua)
	}
	e := newEnv(f, dbtest.DSN(f, "sqlite"), nil)
	f.Fuzz(func(t *testing.T, params, ua string) {
		e.t = t
		form := openForm(e.merchant.ImpCode, nil, "pc", "message")
		form.Set("params", params)
		req, _ := http.NewRequest(http.MethodPost, e.app.BaseURL+"/window/open", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", merchantOrigin)
		if !strings.ContainsFunc(ua, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
			req.Header.Set("User-Agent", ua) // what Go's client can send
		}
		status, page, _ := e.do(req)
		if status >= 500 {
			t.Fatalf("status %d for %q\n%s", status, params, page)
		}
		if !strings.Contains(page, "SendPayForm_id") {
			return // refused: the failure rsp reached the page
		}
		imp := pageData(t, page)["message"]
		var opened message
		if err := json.Unmarshal([]byte(imp), &opened); err != nil {
			t.Fatalf("opened message %q: %v", imp, err)
		}
		p, err := e.store.PaymentByImpUID(context.Background(), e.merchant.ID, opened.Data["imp_uid"].(string))
		if err != nil {
			t.Fatalf("accepted but not stored: %v", err)
		}
		for name, s := range map[string]string{"merchant_uid": p.MerchantUID, "name": p.Name, "customer_uid": p.CustomerUID,
			"buyer_name": p.Buyer.Name, "buyer_email": p.Buyer.Email, "buyer_tel": p.Buyer.Tel, "buyer_addr": p.Buyer.Addr,
			"buyer_postcode": p.Buyer.Postcode, "notice_url": p.NoticeURL} {
			if gateway.BadText(s, name == "notice_url") != "" {
				t.Fatalf("%s stored as %q from %q", name, s, params)
			}
		}
		// The User-Agent header is cleaned, not refused: what the databases
		// cannot hold becomes U+FFFD (the only "bad" rune it may keep).
		if why := gateway.BadText(strings.ReplaceAll(p.UserAgent, "\uFFFD", ""), false); why != "" {
			t.Fatalf("user_agent stored as %q (%s) from %q", p.UserAgent, why, params)
		}
		if p.CustomData != nil && gateway.BadText(*p.CustomData, true) != "" {
			t.Fatalf("custom_data stored as %q", *p.CustomData)
		}
	})
}
