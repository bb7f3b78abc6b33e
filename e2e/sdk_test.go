package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/billkey/billkey/internal/dbtest"
)

// Browser tests of iamport.js with merchant pages written the way i'mport's
// own samples and guides write them: the 1.1.x samples (load
// /js/iamport.payment-1.1.x.js, copy pg "html5_inicis.{MID}", test
// rsp.success and alert rsp.error_msg) and PortOne's current V1 guide (load
// /v1/iamport.js, test rsp.error_code != null). Every JavaScript alert is
// recorded (and accepted), so a test can prove an alert was, or was not,
// raised.

// sourcesShop serves the merchant pages. Each page loads billkey's SDK from
// the path in ?sdk= and exposes requestPay(params, withCallback).
type sourcesShop struct {
	*httptest.Server
}

// samplePage is written like the 1.1.x samples: window.IMP, init inside the
// click handler, rsp.success, alert on failure. Its stylesheet targets
// .imp-dialog as merchant pages do to adjust i'mport's dialog.
const samplePage = `<!DOCTYPE html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>샘플 상점</title>
<style>body{margin:0;font-family:sans-serif} .imp-dialog{background:rgba(1, 2, 3, 0.25)}</style>
<script src="BILLKEY_SDK"></script></head>
<body><h1>정기결제 등록</h1><button id="check_module" type="button">결제하기</button><pre id="result"></pre>
<script>
window.calls = 0;
function requestPay(params, withCallback) {
  var IMP = window.IMP; // 생략가능
  IMP.init("IMP_CODE");
  if (!withCallback) { IMP.request_pay(params); return; }
  IMP.request_pay(params, function (rsp) {
    window.calls++;
    window.rsp = rsp;
    if (rsp.success) {
      var msg = '결제가 완료되었습니다.';
      msg += '고유ID : ' + rsp.imp_uid;
      msg += '상점 거래ID : ' + rsp.merchant_uid;
      document.getElementById("result").textContent = msg;
    } else {
      var msg = '결제에 실패하였습니다.';
      msg += '에러내용 : ' + rsp.error_msg;
      alert(msg);
    }
  });
}
</script></body></html>`

// guidePage is written like PortOne's current V1 guide: a failure is
// whatever carries an error_code.
const guidePage = `<!DOCTYPE html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>가이드 상점</title>
<script src="BILLKEY_SDK"></script></head>
<body><h1>정기결제 등록</h1><pre id="result"></pre>
<script>
window.calls = 0;
var IMP = window.IMP;
function requestPay(params, withCallback, skipInit) {
  if (!skipInit) { IMP.init("IMP_CODE"); }
  if (!withCallback) { IMP.request_pay(params); return; }
  IMP.request_pay(params, function (rsp) {
    window.calls++;
    window.rsp = rsp;
    if (rsp.error_code != null) {
      return alert("결제에 실패하였습니다. 에러 내용: " + rsp.error_msg);
    }
    document.getElementById("result").textContent = "빌링키 발급 성공";
  });
}
</script></body></html>`

func newSourcesShop(t *testing.T, billkeyURL, impCode string) *sourcesShop {
	t.Helper()
	mux := http.NewServeMux()
	serve := func(tpl string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			sdk := r.URL.Query().Get("sdk")
			if !strings.HasPrefix(sdk, "/") {
				http.Error(w, "sdk", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, strings.NewReplacer("BILLKEY_SDK", billkeyURL+sdk, "IMP_CODE", impCode).Replace(tpl))
		}
	}
	mux.HandleFunc("GET /sample", serve(samplePage))
	// The guide page under a strict Content-Security-Policy: no inline
	// styles, so the SDK's <style> element is refused.
	mux.HandleFunc("GET /shop/csp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline' "+billkeyURL+
			"; frame-src "+billkeyURL+"; form-action "+billkeyURL+"; style-src 'self'")
		serve(guidePage)(w, r)
	})
	mux.HandleFunc("GET /shop/guide", serve(guidePage))
	// m_redirect_url: shows the raw query it was reached with.
	mux.HandleFunc("GET /shop/complete", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><body><h1 id="complete">완료</h1><pre id="query">%s</pre></body></html>`, html.EscapeString(r.URL.RawQuery))
	})
	s := &sourcesShop{httptest.NewServer(mux)}
	t.Cleanup(s.Close)
	return s
}

// alerts records (and accepts) every JavaScript dialog of a browser.
type alerts struct {
	mu   sync.Mutex
	msgs []string
}

func recordAlerts(b *browser) *alerts {
	a := &alerts{}
	opening := chromedp.Events(b.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range opening {
			if err != nil {
				return
			}
			a.mu.Lock()
			a.msgs = append(a.msgs, ev.Message)
			a.mu.Unlock()
			go func() {
				_, _ = chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			}()
		}
	}()
	return a
}

func (a *alerts) list() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.msgs...)
}

// open loads a shop page with the SDK at sdkPath.
func (b *browser) open(s *sourcesShop, pagePath, sdkPath string) {
	b.t.Helper()
	b.do("open "+pagePath,
		chromedp.Navigate(s.URL+pagePath+"?sdk="+url.QueryEscape(sdkPath)),
		chromedp.WaitReady(chromedp.CSS("#result")),
	)
	if ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!!(window.IMP && IMP.request_pay && IMP.init)`)); err != nil || !ok {
		b.t.Fatalf("%s: IMP did not load from %s (%v)", pagePath, sdkPath, err)
	}
}

// call runs requestPay(params, withCallback[, skipInit]) on the page.
func (b *browser) call(params map[string]any, withCallback bool, extra ...string) {
	b.t.Helper()
	j, _ := json.Marshal(params)
	args := string(j) + fmt.Sprintf(", %v", withCallback)
	for _, e := range extra {
		args += ", " + e
	}
	b.do("requestPay", chromedp.Evaluate[chromedp.Void]("requestPay("+args+")"))
}

// clearRsp forgets the last callback's rsp.
func (b *browser) clearRsp() {
	b.t.Helper()
	b.do("clear rsp", chromedp.Evaluate[chromedp.Void](`window.rsp = undefined`))
}

func sampleParams(customerUID string) map[string]any {
	return map[string]any{
		"pg": "html5_inicis.INIBillTst", "pay_method": "card", "merchant_uid": "order_monthly_" + customerUID,
		"name": "최초인증결제", "amount": 0, "customer_uid": customerUID,
		"buyer_email": "iamport@siot.do", "buyer_name": "구매자이름", "buyer_tel": "02-1234-1234",
	}
}

// rspRaw is the callback's argument as the page got it.
func (b *browser) rspRaw() map[string]any {
	b.t.Helper()
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`JSON.stringify(window.rsp)`))
	if err != nil {
		b.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		b.t.Fatalf("rsp %s: %v", raw, err)
	}
	return m
}

// TestSDKSamplePC: a 1.1.8-era sample page whose pg names a MID billkey
// does not have (copied from a sample) falls back to the default channel as
// i'mport does; the dialog is i'mport's full-viewport .imp-dialog (the
// page's own .imp-dialog rule applies) and INICIS's window draws itself
// centered inside it, unclipped; the rsp has no request_id and custom_data
// in the type the page gave. On SQLite and PostgreSQL.
func TestSDKSamplePC(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		s := newSourcesShop(t, h.app.BaseURL, h.merchant.Merchant.ImpCode)
		b := newBrowser(t, false)
		al := recordAlerts(b)
		b.open(s, "/sample", "/js/iamport.payment-1.1.8.js")
		p := sampleParams("cust-sample")
		p["pg"] = "html5_inicis.INIBillOld"
		p["custom_data"] = `{"plan":"monthly"}` // a string that looks like JSON stays a string
		p["customer_id"] = "member-1004"        // the merchant's own buyer id, kept with the key
		b.call(p, true)
		b.inFrame("#cardNumber", nil)

		var g struct {
			Class, Position, Z, Background, BodyClass string
			Dialog, Frame                             struct{ X, Y, W, H float64 }
			VW, VH                                    float64
			Dialogs                                   int
		}
		raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(function () {
		  var d = document.querySelector(".imp-dialog"), f = d.querySelector("iframe"), cs = getComputedStyle(d);
		  function r(e) { var x = e.getBoundingClientRect(); return {X: x.left, Y: x.top, W: x.width, H: x.height}; }
		  return JSON.stringify({Class: d.className, Position: cs.position, Z: cs.zIndex, Background: cs.backgroundColor,
		    BodyClass: document.body.className, Dialog: r(d), Frame: r(f), VW: innerWidth, VH: innerHeight,
		    Dialogs: document.querySelectorAll(".imp-dialog").length});
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(raw), &g); err != nil {
			t.Fatal(err)
		}
		full := func(r struct{ X, Y, W, H float64 }) bool { return r.X == 0 && r.Y == 0 && r.W == g.VW && r.H == g.VH }
		if !strings.Contains(" "+g.Class+" ", " imp-dialog ") || !strings.Contains(" "+g.Class+" ", " pc ") || g.Position != "fixed" ||
			g.Z != "99999" || !full(g.Dialog) || !full(g.Frame) || g.Dialogs != 1 || g.VW != 1280 {
			t.Fatalf("dialog geometry %+v", g)
		}
		if g.Background != "rgba(1, 2, 3, 0.25)" {
			t.Errorf("the page's .imp-dialog rule did not apply: background %s", g.Background)
		}
		// INICIS's window (the simulator's) is a centered card on a dimmed,
		// otherwise transparent page; a 650×490 issuer window fits too.
		fr := b.frame()
		var card struct{ X, Y, W, H, FW, FH float64 }
		raw, err = chromedp.Run(b.ctx, chromedp.Poll[string](`(function () {
		  var c = document.querySelector("#inicis-window .card").getBoundingClientRect();
		  return JSON.stringify({X: c.left, Y: c.top, W: c.width, H: c.height, FW: innerWidth, FH: innerHeight,
		    Body: getComputedStyle(document.body).backgroundColor});
		})()`, chromedp.WithPollingInFrame(fr), chromedp.WithPollingTimeout(0)))
		if err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal([]byte(raw), &card)
		if card.FW != g.VW || card.FH != g.VH || card.X <= 0 || card.Y < 0 || card.X+card.W > card.FW || card.Y+card.H > card.FH ||
			abs(card.X+card.W/2-card.FW/2) > 1 || card.FW < 650 || card.FH < 490 || !strings.Contains(raw, `"Body":"rgba(0, 0, 0, 0)"`) {
			t.Fatalf("INICIS window in the frame: %s", raw)
		}

		b.inFrame("#cardNumber", func(o chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
			return fillCard("4242-4242-4242-4242", o)
		})
		r := b.waitRsp()
		m := b.rspRaw()
		if !r.Success || r.ErrorCode != nil || r.CustomerUID != "cust-sample" || r.PGProvider != "html5_inicis" {
			t.Fatalf("rsp %+v", r)
		}
		if _, ok := m["request_id"]; ok {
			t.Errorf("request_id leaked into the rsp: %v", m)
		}
		if cd, ok := m["custom_data"].(string); !ok || cd != `{"plan":"monthly"}` {
			t.Errorf("custom_data %#v, want the string the page gave", m["custom_data"])
		}
		_, env := h.call("GET", "/payments/"+*r.ImpUID, nil)
		if pay := env.payment(t); pay.Status != "paid" || pay.Usage != "issue" {
			t.Fatalf("issuance: %s", env.raw)
		}
		if c, err := h.store.CustomerByUID(context.Background(), h.merchant.Merchant.ID, "cust-sample"); err != nil || c.CustomerID != "member-1004" {
			t.Fatalf("customer_id on the key: %+v %v", c, err)
		}
		if got := al.list(); len(got) != 0 {
			t.Errorf("alerts on success: %q", got)
		}
	})
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// TestSDKFailuresHaveCodes: with PortOne's guide page (rsp.error_code !=
// null means failure), every failure is one: a card company's refusal, a
// request billkey refuses before any window, a page that forgot IMP.init,
// the buyer closing INICIS's window, the buyer closing the dialog.
func TestSDKFailuresHaveCodes(t *testing.T) {
	h := start(t, dbtest.DSN(t, "sqlite"), options{})
	s := newSourcesShop(t, h.app.BaseURL, h.merchant.Merchant.ImpCode)
	// Two browsers, each well inside its deadline.
	b, b2 := newBrowser(t, false), newBrowser(t, false)
	al, al2 := recordAlerts(b), recordAlerts(b2)

	failed := func(b *browser, what, wantCode string) rsp {
		t.Helper()
		r := b.waitRsp()
		if r.Success || r.ErrorCode == nil || *r.ErrorCode == "" || r.ErrorMsg == nil || (wantCode != "" && *r.ErrorCode != wantCode) {
			t.Fatalf("%s: rsp %+v, want error_code %q", what, r, wantCode)
		}
		return r
	}
	// A card company refusal: INICIS's code.
	b.open(s, "/shop/guide", "/v1/iamport.js")
	b.call(sampleParams("cust-refused"), true)
	b.inFrame("#cardNumber", func(o chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return fillCard("4000-0000-0000-0002", o)
	})
	failed(b, "refused card", "1103")

	// Refused before any window (INICIS needs buyer_tel): F400, imp_uid null.
	b.clearRsp()
	p := sampleParams("cust-no-tel")
	delete(p, "buyer_tel")
	b.call(p, true)
	if r := failed(b, "no buyer_tel", "F400"); r.ImpUID != nil {
		t.Fatalf("imp_uid %v", *r.ImpUID)
	}

	// A page that never called IMP.init (fresh page: the SDK keeps the code).
	b.open(s, "/shop/guide", "/v1/iamport.js")
	b.call(sampleParams("cust-noinit"), true, "true")
	failed(b, "no IMP.init", "NOT_READY")

	// The buyer closes INICIS's window: INICIS's user-cancel code.
	b2.open(s, "/shop/guide", "/v1/iamport.js")
	b2.call(sampleParams("cust-closed"), true)
	b2.inFrame("#close", func(o chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS("#close"), o)}
	})
	failed(b2, "closed in INICIS's window", "")

	// The buyer closes the dialog (its ×, hidden unless the page shows it,
	// as i'mport's pages may for its .imp-header).
	b2.clearRsp()
	b2.do("show the dialog ×", chromedp.Evaluate[chromedp.Void](`(function () { var s = document.createElement("style");
		s.textContent = ".imp-dialog .imp-header{display:block}"; document.head.appendChild(s); })()`))
	b2.call(sampleParams("cust-x"), true)
	b2.inFrame("#cardNumber", nil)
	b2.do("dialog ×", chromedp.Click(chromedp.CSS(".imp-dialog .imp-close")))
	failed(b2, "dialog ×", "")

	got := append(al.list(), al2.list()...)
	if len(got) != 5 {
		t.Fatalf("5 failures raised %d alerts: %q", len(got), got)
	}
	for _, a := range got {
		if !strings.HasPrefix(a, "결제에 실패하였습니다. 에러 내용: ") {
			t.Errorf("alert %q", a)
		}
	}
}

// TestSDKCloseAndReopen: IMP.close() hides the dialog without a callback or
// alert (as i'mport's does) and billkey fails the abandoned attempt; a
// second request_pay while a window is open replaces it silently, and only
// the second request's callback runs.
func TestSDKCloseAndReopen(t *testing.T) {
	h := start(t, dbtest.DSN(t, "sqlite"), options{})
	s := newSourcesShop(t, h.app.BaseURL, h.merchant.Merchant.ImpCode)
	b := newBrowser(t, false)
	al := recordAlerts(b)
	b.open(s, "/sample", "/js/iamport.payment-1.1.7.js")

	failedLater := func(merchantUID string) {
		t.Helper()
		eventually(t, 20*time.Second, merchantUID+" failed", func() bool {
			_, env := h.call("GET", "/payments/find/"+merchantUID, nil)
			return env.Code == 0 && env.payment(t).Status == "failed"
		})
	}

	b.call(sampleParams("cust-closed-by-page"), true)
	b.inFrame("#cardNumber", nil)
	b.do("IMP.close()", chromedp.Evaluate[chromedp.Void](`IMP.close()`))
	shown, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll(".imp-dialog iframe").length +
		Array.prototype.filter.call(document.querySelectorAll(".imp-dialog"), function (d) { return getComputedStyle(d).display !== "none"; }).length`))
	if err != nil || shown != 0 {
		t.Fatalf("dialog still shown after IMP.close(): %d %v", shown, err)
	}
	failedLater("order_monthly_cust-closed-by-page")

	// A window, then a second request_pay while it is open.
	b.call(sampleParams("cust-first"), true)
	b.inFrame("#cardNumber", nil)
	b.call(sampleParams("cust-second"), true)
	b.inFrame("#cardNumber", func(o chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return fillCard("4242-4242-4242-4242", o)
	})
	r := b.waitRsp()
	if !r.Success || r.CustomerUID != "cust-second" {
		t.Fatalf("rsp %+v", r)
	}
	failedLater("order_monthly_cust-first")
	calls, _ := chromedp.Run(b.ctx, chromedp.Evaluate[int](`window.calls`))
	if calls != 1 {
		t.Errorf("%d callbacks, want 1 (the second request's)", calls)
	}
	if got := al.list(); len(got) != 0 {
		t.Errorf("alerts the real SDK never raises: %q", got)
	}
}

// TestSDKRelativeRedirectPC: pages pass m_redirect_url as a relative path.
// On PC without a callback (a 1.1.7 page) billkey redirects to it, resolved
// against the page; the page's own query string stays as it was.
func TestSDKRelativeRedirectPC(t *testing.T) {
	h := start(t, dbtest.DSN(t, "sqlite"), options{})
	s := newSourcesShop(t, h.app.BaseURL, h.merchant.Merchant.ImpCode)
	b := newBrowser(t, false)
	b.open(s, "/sample", "/js/iamport.payment-1.1.7.js")
	p := sampleParams("cust-rel-pc")
	p["m_redirect_url"] = "shop/complete?z=1&plain&a=%ED%95%9C"
	b.call(p, false)
	b.do("INICIS window", chromedp.WaitVisible(chromedp.CSS("#cardNumber")))
	b.do("card", fillCard("4242-4242-4242-4242")...)
	b.do("m_redirect_url", chromedp.WaitVisible(chromedp.CSS("#complete")))
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	u, _ := url.Parse(loc)
	if u.Path != "/shop/complete" || !strings.HasPrefix(u.RawQuery, "z=1&plain&a=%ED%95%9C&imp_uid=imp_") ||
		u.Query().Get("imp_success") != "true" || u.Query().Get("merchant_uid") != "order_monthly_cust-rel-pc" {
		t.Fatalf("landed at %s", loc)
	}
}

// TestSDKRelativeRedirectPhone: on a phone, a guide page with a callback and
// a relative m_redirect_url is redirected (the callback is not called);
// a refused card lands there with imp_success=false, error_code and
// error_msg (spaces as %20); a stale pg still opens the default channel.
func TestSDKRelativeRedirectPhone(t *testing.T) {
	h := start(t, dbtest.DSN(t, "sqlite"), options{})
	s := newSourcesShop(t, h.app.BaseURL, h.merchant.Merchant.ImpCode)
	b := newBrowser(t, true)
	b.open(s, "/shop/guide", "/v1/iamport.js")
	p := sampleParams("cust-phone-refused")
	p["m_redirect_url"] = "/shop/complete?from=app&plain"
	b.call(p, true)
	b.do("mobile window", chromedp.WaitVisible(chromedp.CSS("#cardNumber")))
	b.do("card", fillCard("4000-0000-0000-0002")...)
	b.do("m_redirect_url", chromedp.WaitVisible(chromedp.CSS("#complete")))
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	u, _ := url.Parse(loc)
	q := u.Query()
	if u.Path != "/shop/complete" || !strings.HasPrefix(u.RawQuery, "from=app&plain&imp_uid=imp_") || q.Get("imp_success") != "false" ||
		q.Get("error_code") == "" || q.Get("error_msg") == "" || strings.Contains(u.RawQuery, "+") ||
		!strings.Contains(q.Get("error_msg"), " ") || !strings.Contains(u.RawQuery, "%20") {
		t.Fatalf("landed at %s", loc)
	}

	b = newBrowser(t, true)
	b.open(s, "/shop/guide", "/js/iamport.payment-1.2.0.js")
	p = sampleParams("cust-phone-stale")
	p["pg"], p["m_redirect_url"] = "html5_inicis.INIBillOld", "complete" // next to /shop/guide
	b.call(p, true)
	b.do("mobile window", chromedp.WaitVisible(chromedp.CSS("#cardNumber")))
	b.do("card", fillCard("4242-4242-4242-4242")...)
	b.do("m_redirect_url", chromedp.WaitVisible(chromedp.CSS("#complete")))
	loc, _ = chromedp.Run(b.ctx, chromedp.Location())
	u, _ = url.Parse(loc)
	if u.Path != "/shop/complete" || u.Query().Get("imp_success") != "true" {
		t.Fatalf("landed at %s", loc)
	}
	_, env := h.call("GET", "/payments/"+u.Query().Get("imp_uid"), nil)
	if pay := env.payment(t); pay.Status != "paid" || pay.Channel != "mobile" {
		t.Fatalf("issuance: %s", env.raw)
	}
}

// TestSDKStrictCSP: on a page whose Content-Security-Policy refuses inline
// styles, the SDK's <style> element does not apply; the dialog is styled
// inline instead and still covers the viewport, and the flow completes. The
// page's notice_url array reaches billkey as one field per URL.
func TestSDKStrictCSP(t *testing.T) {
	h := start(t, dbtest.DSN(t, "sqlite"), options{})
	s := newSourcesShop(t, h.app.BaseURL, h.merchant.Merchant.ImpCode)
	b := newBrowser(t, false)
	b.open(s, "/shop/csp", "/v1/iamport.js")
	// The form post to /window/open, as the browser sent it.
	posted := make(chan string, 1)
	sent := chromedp.Events(b.ctx, network.RequestWillBeSent)
	go func() {
		for ev, err := range sent {
			if err != nil {
				return
			}
			if ev.Request.Method == "POST" && strings.HasSuffix(ev.Request.URL, "/window/open") {
				var body []byte
				for _, e := range ev.Request.PostDataEntries {
					body = append(body, e.Bytes...)
				}
				posted <- string(body)
				return
			}
		}
	}()
	// A window's notice_url must be on a host the merchant allowed.
	if _, env := h.call("PUT", "/webhooks/notice-hosts", map[string]any{"hosts": []string{"a.example", "b.example"}}); env.Code != 0 {
		t.Fatalf("notice hosts: %s", env.raw)
	}
	p := sampleParams("cust-csp")
	p["notice_url"] = []string{"https://a.example/notice", "https://b.example/notice?x=1"}
	b.call(p, true)
	b.inFrame("#cardNumber", nil)
	// An array notice_url is posted as one notice_url field per URL.
	var form url.Values
	select {
	case body := <-posted:
		form, _ = url.ParseQuery(body)
	case <-b.ctx.Done():
		t.Fatal("no post to /window/open seen")
	}
	if got := form["notice_url"]; len(got) != 2 || got[0] != "https://a.example/notice" || got[1] != "https://b.example/notice?x=1" {
		t.Errorf("notice_url fields %q", got)
	}
	geo, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(function () {
	  // d.style.position is set only when the <style> element did not apply.
	  var d = document.querySelector(".imp-dialog"), f = d.querySelector("iframe");
	  var dr = d.getBoundingClientRect(), fr = f.getBoundingClientRect(), cs = getComputedStyle(d);
	  return [!!document.getElementById("billkey-imp-style"), cs.position, cs.zIndex, dr.width === innerWidth && dr.height === innerHeight,
	    fr.width === innerWidth && fr.height === innerHeight, d.style.position].join(" ");
	})()`))
	if err != nil || geo != "true fixed 99999 true true fixed" {
		t.Fatalf("dialog under a strict CSP: %q %v", geo, err)
	}
	b.inFrame("#cardNumber", func(o chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return fillCard("4242-4242-4242-4242", o)
	})
	if r := b.waitRsp(); !r.Success {
		t.Fatalf("rsp %+v", r)
	}
}
