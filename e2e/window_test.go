package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
	"github.com/chromedp/chromedp/kb"

	"github.com/billkey/billkey/internal/browsertest"
	"github.com/billkey/billkey/internal/dbtest"
)

// Browser tests of the payment window: a merchant page on another origin
// loads billkey's iamport.js and calls IMP.request_pay in headless Chromium
// ($BILLKEY_TEST_CHROMIUM, default /usr/bin/chromium; under CI=true a
// missing browser fails, otherwise the tests skip). The tests wait for
// conditions, never for fixed times; one deadline bounds each browser.

// browser is a headless Chromium tab that records what it receives: every
// request URL (redirects included) and the body of every document, script
// and fetch response.
type browser struct {
	t       *testing.T
	ctx     context.Context
	mu      sync.Mutex
	urls    []string
	bodies  map[string]string // request id → "URL\nbody"
	pending sync.WaitGroup
}

func newBrowser(t *testing.T, phone bool) *browser {
	t.Helper()
	if phone {
		return newBrowserAs(t, chromedp.Emulate(device.IPhone12))
	}
	return newBrowserAs(t, chromedp.EmulateViewport(1280, 860))
}

// newBrowserAs is newBrowser with the given device emulation.
func newBrowserAs(t *testing.T, emulate chromedp.Action[chromedp.Void]) *browser {
	t.Helper()
	b := &browser{t: t, bodies: map[string]string{}}
	ctx, cancelCtx := chromedp.NewContext(browsertest.Allocator(t), chromedp.WithListener(b.onEvent))
	ctx, cancelTimeout := context.WithTimeout(ctx, 45*time.Second)
	b.ctx = ctx
	t.Cleanup(func() {
		b.pending.Wait()
		cancelTimeout()
		cancelCtx()
	})
	steps := []chromedp.Action[chromedp.Void]{chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
		return err
	})}
	steps = append(steps, emulate)
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
	return b
}

// onEvent records requests and fetches response bodies (in a goroutine:
// the listener must not block the target's event loop).
func (b *browser) onEvent(ev any) {
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.mu.Lock()
		b.urls = append(b.urls, e.Request.URL)
		b.mu.Unlock()
	case *network.EventResponseReceived:
		switch e.Type {
		case network.ResourceTypeDocument, network.ResourceTypeScript, network.ResourceTypeXHR, network.ResourceTypeFetch:
			b.mu.Lock()
			b.bodies[string(e.RequestID)] = e.Response.URL + "\n"
			b.mu.Unlock()
		}
	case *network.EventLoadingFinished:
		b.mu.Lock()
		_, tracked := b.bodies[string(e.RequestID)]
		b.mu.Unlock()
		if !tracked {
			return
		}
		b.pending.Add(1)
		go func() {
			defer b.pending.Done()
			res, err := chromedp.Call(b.ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: e.RequestID})
			if err != nil {
				return // evicted, or the tab is gone
			}
			body := res.Body
			if res.Base64encoded {
				if dec, err := base64.StdEncoding.DecodeString(string(body)); err == nil {
					body = dec
				}
			}
			b.mu.Lock()
			b.bodies[string(e.RequestID)] += string(body)
			b.mu.Unlock()
		}()
	}
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// frame returns the payment iframe's node as it is now (re-read after each
// navigation inside it).
func (b *browser) frame() *chromedp.Node {
	b.t.Helper()
	nodes, err := chromedp.Run(b.ctx, chromedp.Nodes(chromedp.CSS("#billkey-frame")))
	if err != nil || len(nodes) == 0 {
		b.t.Fatalf("payment iframe: %v", err)
	}
	return nodes[0]
}

// inFrame waits until sel is visible in the payment iframe and then runs
// act on it, re-reading the iframe after each of its navigations.
func (b *browser) inFrame(sel string, act func(chromedp.QueryOption) []chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	for {
		fr := b.frame()
		wctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(sel), chromedp.FromNode(fr)))
		cancel()
		if err == nil {
			if act != nil {
				b.do("in frame "+sel, act(chromedp.FromNode(fr))...)
			}
			return
		}
		if b.ctx.Err() != nil {
			b.t.Fatalf("waiting for %s in the payment iframe: %v", sel, b.ctx.Err())
		}
	}
}

// fillCard types a card into the simulator's window (which is in the
// payment iframe, or the page itself) and submits it.
func fillCard(card string, opts ...chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.SendKeys(chromedp.CSS("#cardNumber"), card, opts...),
		chromedp.SendKeys(chromedp.CSS("#expiry"), "12/31", opts...),
		chromedp.SendKeys(chromedp.CSS("#birth"), "800101", opts...),
		chromedp.SendKeys(chromedp.CSS("#pwd2digit"), "12", opts...),
		chromedp.Click(chromedp.CSS("#submit"), opts...),
	}
}

// seen returns everything the browser received: URLs and bodies.
func (b *browser) seen() string {
	b.pending.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	var s strings.Builder
	for _, u := range b.urls {
		s.WriteString(u + "\n")
	}
	for _, body := range b.bodies {
		s.WriteString(body + "\n")
	}
	return s.String()
}

// shop is a merchant site on its own origin: /pay loads billkey's
// iamport.js and exposes pay(params); every message the page receives is
// kept in window.messages; /complete is its m_redirect_url.
type shop struct {
	*httptest.Server
}

var shopPage = template.Must(template.New("").Parse(`<!DOCTYPE html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>테스트 상점</title>
<style>body{margin:0;font-family:sans-serif;background:#f4f6fb;color:#1d2330}header{background:#222b45;color:#fff;padding:14px 20px;font-weight:700}
main{max-width:720px;margin:24px auto;padding:0 16px}.item{background:#fff;border-radius:12px;padding:20px;box-shadow:0 2px 10px rgba(0,0,0,.06)}
.price{font-size:24px;font-weight:700;color:#3355cc}button{font-size:16px;padding:12px 18px;border:0;border-radius:8px;background:#3355cc;color:#fff}</style>
<script src="{{.SDK}}"></script></head>
<body><header>스트리밍플러스 · merchant page on another origin</header><main><div class="item">
<h1>프리미엄 월간 이용권</h1><p class="price">9,900원 / 월</p><p>매월 자동 결제 · 언제든 해지할 수 있습니다.</p><button type="button">정기결제 카드 등록</button></div>
<pre id="result"></pre></main>
<script>
window.messages = [];
window.addEventListener("message", function (ev) {
  window.messages.push({origin: ev.origin, data: typeof ev.data === "string" ? ev.data : JSON.stringify(ev.data)});
});
window.pay = function (params, noCallback) {
  IMP.init({{.Code}});
  if (noCallback) { IMP.request_pay(params); return; }
  IMP.request_pay(params, function (rsp) {
    window.rsp = rsp;
    document.getElementById("result").textContent = JSON.stringify(rsp);
  });
};
</script></body></html>`))

func newShop(t *testing.T, billkeyURL, impCode string) *shop {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pay", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = shopPage.Execute(w, map[string]string{"SDK": billkeyURL + "/js/iamport.js", "Code": impCode})
	})
	mux.HandleFunc("GET /complete", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html><body><h1 id="complete">완료</h1></body></html>`)
	})
	s := &shop{httptest.NewServer(mux)}
	t.Cleanup(s.Close)
	return s
}

// rsp is the callback's argument.
type rsp struct {
	Success     bool            `json:"success"`
	ImpUID      *string         `json:"imp_uid"`
	MerchantUID string          `json:"merchant_uid"`
	CustomerUID string          `json:"customer_uid"`
	CardNumber  string          `json:"card_number"`
	CardName    string          `json:"card_name"`
	Status      string          `json:"status"`
	ErrorCode   *string         `json:"error_code"`
	ErrorMsg    *string         `json:"error_msg"`
	PaidAmount  int64           `json:"paid_amount"`
	PGProvider  string          `json:"pg_provider"`
	CustomData  json.RawMessage `json:"custom_data"`
	RequestID   string          `json:"request_id"`
}

// startPay opens the shop's page and calls pay(params).
func (b *browser) startPay(s *shop, params map[string]any) {
	b.t.Helper()
	j, _ := json.Marshal(params)
	b.do("open the shop and request_pay",
		chromedp.Navigate(s.URL+"/pay"),
		chromedp.WaitReady(chromedp.CSS("#result")),
		chromedp.Evaluate[chromedp.Void]("pay("+string(j)+")"),
	)
}

// waitRsp waits for the callback.
func (b *browser) waitRsp() rsp {
	b.t.Helper()
	raw, err := chromedp.Run(b.ctx, chromedp.Poll[string](`window.rsp && JSON.stringify(window.rsp)`, chromedp.WithPollingTimeout(0)))
	if err != nil {
		b.t.Fatalf("waiting for the callback: %v", err)
	}
	var r rsp
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		b.t.Fatalf("rsp %s: %v", raw, err)
	}
	// The dialog is hidden (and its iframe gone) once the callback ran.
	if n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll(".imp-dialog iframe").length +
		Array.prototype.filter.call(document.querySelectorAll(".imp-dialog"), function (d) { return getComputedStyle(d).display !== "none"; }).length`)); err != nil || n != 0 {
		b.t.Errorf("dialog still shown (%d) %v", n, err)
	}
	return r
}

// messages returns what the shop page received by postMessage.
func (b *browser) messages() []struct{ Origin, Data string } {
	b.t.Helper()
	var out []struct{ Origin, Data string }
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`JSON.stringify(window.messages || [])`))
	if err != nil {
		b.t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(raw), &out)
	return out
}

func payParams(customerUID string) map[string]any {
	return map[string]any{
		"pg": "html5_inicis", "pay_method": "card", "merchant_uid": "order_" + customerUID, "name": "월간 구독",
		"amount": 0, "customer_uid": customerUID, "buyer_email": "gildong@example.com", "buyer_name": "홍길동",
		"buyer_tel": "010-1234-5678",
	}
}

// TestBrowserWindowPC: (a) the PC flow on a merchant page of another origin,
// then a charge over the REST API; (f) the billing key appears nowhere in
// what the browser received. On SQLite and PostgreSQL.
func TestBrowserWindowPC(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		s := newShop(t, h.app.BaseURL, h.merchant.Merchant.ImpCode)
		b := newBrowser(t, false)
		b.startPay(s, payParams("cust-browser"))
		b.inFrame("#cardNumber", func(o chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
			return fillCard("4242-4242-4242-4242", o)
		})
		r := b.waitRsp()
		if !r.Success || r.ImpUID == nil || !strings.HasPrefix(*r.ImpUID, "imp_") || r.CardNumber != "424242*********2" ||
			r.CustomerUID != "cust-browser" || r.MerchantUID != "order_cust-browser" || r.Status != "paid" || r.ErrorMsg != nil ||
			r.PGProvider != "html5_inicis" || r.RequestID != "" || r.ErrorCode != nil {
			t.Fatalf("rsp %+v", r)
		}
		// The key is stored: the merchant's server charges it.
		_, env := h.again("cust-browser", "order-browser-1", 9900)
		if p := env.payment(t); env.Code != 0 || p.Status != "paid" || p.Amount != 9900 {
			t.Fatalf("again: %s", env.raw)
		}
		_, env = h.call("GET", "/payments/"+*r.ImpUID, nil)
		if p := env.payment(t); p.Status != "paid" || p.Usage != "issue" || p.Channel != "pc" || p.Amount != 0 {
			t.Fatalf("issuance payment: %s", env.raw)
		}
		// Messages reached the shop only from billkey's origin.
		msgs := b.messages()
		if len(msgs) < 2 {
			t.Fatalf("messages %v", msgs)
		}
		for _, m := range msgs {
			if m.Origin != h.app.BaseURL {
				t.Errorf("message from %s", m.Origin)
			}
		}
		noKeyLeak(t, h, b, msgs)
	})
}

// noKeyLeak checks that no billing key of the simulator's ledger is in any
// URL, page, script or message the browser got, nor in the final URL.
func noKeyLeak(t *testing.T, h *harness, b *browser, msgs []struct{ Origin, Data string }) {
	t.Helper()
	led := h.ledger()
	if len(led.Keys) == 0 {
		t.Fatal("no key in the ledger")
	}
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	html, _ := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	seen := b.seen() + loc + html
	for _, m := range msgs {
		seen += m.Data
	}
	// The recording must hold the pages of every step: billkey's open page,
	// INICIS's window and its auto-submitting result post, billkey's result.
	for _, step := range []string{"/window/open", `id="SendPayForm_id"`, `id="card-form"`, `id="inicis-return"`, `id="billkey-result"`} {
		if !strings.Contains(seen, step) {
			t.Fatalf("the recording missed %s (%d bytes)", step, len(seen))
		}
	}
	for _, k := range led.Keys {
		if strings.Contains(seen, k.BillKey) {
			i := strings.Index(seen, k.BillKey)
			t.Fatalf("billing key %s… reached the browser: …%s…", k.BillKey[:6], seen[max(0, i-300):i])
		}
	}
}

// TestBrowserWindowFailures: (b) a refused card, (c) the buyer closing the
// window (the simulator's ×, then Esc through the SDK), (e) a
// request refused before any window — each a failure rsp with an
// error_code, nothing stored.
func TestBrowserWindowFailures(t *testing.T) {
	h := start(t, dbtest.DSN(t, "sqlite"), options{})
	s := newShop(t, h.app.BaseURL, h.merchant.Merchant.ImpCode)
	b := newBrowser(t, false)

	b.startPay(s, payParams("cust-refused"))
	b.inFrame("#cardNumber", func(o chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return fillCard("4000-0000-0000-0002", o)
	})
	r := b.waitRsp()
	if r.Success || r.ErrorMsg == nil || !strings.Contains(*r.ErrorMsg, "카드사 승인거절") || r.ErrorCode == nil || *r.ErrorCode != "1103" {
		t.Fatalf("(b) refused card: %+v", r)
	}

	b.startPay(s, payParams("cust-closed"))
	b.inFrame("#close", func(o chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS("#close"), o)}
	})
	r = b.waitRsp()
	if r.Success || r.ErrorMsg == nil || *r.ErrorMsg != "사용자가 결제를 취소하였습니다." || r.ImpUID == nil || r.ErrorCode == nil {
		t.Fatalf("(c) closed in the window: %+v", r)
	}
	_, env := h.call("GET", "/payments/"+*r.ImpUID, nil)
	if p := env.payment(t); p.Status != "failed" {
		t.Fatalf("closed window's payment: %s", env.raw)
	}

	b.startPay(s, payParams("cust-sdk-close"))
	b.inFrame("#cardNumber", nil) // the window is open (and its close URL known)
	// billkey's own × is hidden (INICIS's is the one the buyer sees); Esc
	// closes through the SDK.
	b.do("Esc", chromedp.KeyEvent(kb.Escape))
	r = b.waitRsp()
	if r.Success || r.ErrorMsg == nil || !strings.Contains(*r.ErrorMsg, "취소") || r.ErrorCode == nil {
		t.Fatalf("(c) SDK close: %+v", r)
	}

	// (e) a request refused before any window: imp_uid null, error_code F400.
	p := payParams("cust-no-email")
	delete(p, "buyer_email")
	b.startPay(s, p)
	r = b.waitRsp()
	if r.Success || r.ImpUID != nil || r.ErrorMsg == nil || !strings.Contains(*r.ErrorMsg, "buyer_email") || r.ErrorCode == nil || *r.ErrorCode != "F400" {
		t.Fatalf("(e) refused request: %+v", r)
	}

	for _, uid := range []string{"cust-refused", "cust-closed", "cust-sdk-close", "cust-no-email"} {
		if _, env := h.call("GET", "/subscribe/customers/"+uid, nil); env.Code == 0 {
			t.Errorf("%s was stored: %s", uid, env.raw)
		}
	}
	if n := len(h.ledger().Keys); n != 0 {
		t.Errorf("%d keys issued", n)
	}
}

// TestBrowserWindowMobile: (d) on a phone the page is redirected through
// INICIS's INIStdPay billing window and ends at m_redirect_url with imp_uid,
// merchant_uid and imp_success=true; (f) no billing key in what billkey sent
// or in the final URL.
func TestBrowserWindowMobile(t *testing.T) {
	h := start(t, dbtest.DSN(t, "sqlite"), options{})
	s := newShop(t, h.app.BaseURL, h.merchant.Merchant.ImpCode)
	b := newBrowser(t, true)
	p := payParams("cust-phone")
	p["m_redirect_url"] = s.URL + "/complete"
	b.startPay(s, p)
	b.do("mobile window", chromedp.WaitVisible(chromedp.CSS("#cardNumber")))
	b.do("card", fillCard("4242-4242-4242-4242")...)
	b.do("m_redirect_url", chromedp.WaitVisible(chromedp.CSS("#complete")))
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	q := u.Query()
	if !strings.HasPrefix(loc, s.URL+"/complete?") || q.Get("imp_success") != "true" || q.Get("merchant_uid") != "order_cust-phone" ||
		!strings.HasPrefix(q.Get("imp_uid"), "imp_") {
		t.Fatalf("landed at %s", loc)
	}
	_, env := h.call("GET", "/payments/"+q.Get("imp_uid"), nil)
	if pay := env.payment(t); pay.Status != "paid" || pay.Channel != "mobile" || pay.Usage != "issue" {
		t.Fatalf("issuance payment: %s", env.raw)
	}
	if _, env := h.again("cust-phone", "order-phone-1", 9900); env.payment(t).Status != "paid" {
		t.Fatalf("again: %s", env.raw)
	}
	// Phones use the INIStdPay window too: the key comes from INICIS's
	// server-to-server approval, so nothing the browser got carries it, not
	// even INICIS's own pages (the legacy INILite window posted it through
	// the browser).
	key := h.ledger().Keys[0].BillKey
	b.pending.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, body := range b.bodies {
		if strings.Contains(body, key) {
			t.Fatalf("billing key in something the browser got: %.200s", body)
		}
	}
	if strings.Contains(loc, key) {
		t.Fatal("billing key in the final URL")
	}
	b.mu.Unlock()

	// popup: true keeps the callback on a phone: the mobile window opens in
	// the modal and the rsp comes back by postMessage.
	p = payParams("cust-phone-popup")
	p["m_redirect_url"], p["popup"] = s.URL+"/complete", true
	b.startPay(s, p)
	b.inFrame("#cardNumber", func(o chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return fillCard("4242-4242-4242-4242", o)
	})
	if r := b.waitRsp(); !r.Success || r.CustomerUID != "cust-phone-popup" {
		t.Fatalf("popup on a phone: %+v", r)
	}
	b.mu.Lock()
}

// TestBrowserDemoShop: the demo shop at /demo, as a buyer uses it.
func TestBrowserDemoShop(t *testing.T) {
	h := start(t, dbtest.DSN(t, "sqlite"), options{})
	b := newBrowser(t, false)
	b.do("demo page",
		chromedp.Navigate(h.app.BaseURL+"/demo"),
		chromedp.WaitVisible(chromedp.CSS("#subscribe")),
		chromedp.Click(chromedp.CSS("#subscribe")),
	)
	b.inFrame("#cardNumber", func(o chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return fillCard("4242-4242-4242-4242", o)
	})
	b.do("order page", chromedp.WaitVisible(chromedp.CSS("#result-imp-uid")))
	imp, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("#result-imp-uid")))
	if err != nil {
		t.Fatal(err)
	}
	amount, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("#result-amount")))
	card, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("#result-card")))
	if amount != "9,900원" || !strings.Contains(card, "424242*********2") {
		t.Fatalf("order page: %s %s %s", imp, amount, card)
	}
	_, env := h.call("GET", "/payments/"+imp, nil)
	p := env.payment(t)
	if env.Code != 0 || p.Status != "paid" || p.Amount != 9900 || p.Usage != "payment" || !strings.HasPrefix(p.MerchantUID, "demo_first_") {
		t.Fatalf("GET /payments/%s: %s", imp, env.raw)
	}
	// The page says the next payment is scheduled, and it is: one month
	// after the first, for the plan's price, in Korean words.
	text := func(b *browser, sel string) string {
		t.Helper()
		v, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return v
	}
	nextUID := text(b, "#next-merchant-uid")
	if st, next, amt := text(b, "#result-status"), text(b, "#next-status"), text(b, "#next-amount"); st != "결제 완료" || next != "예약됨" || amt != "9,900원" ||
		nextUID != "demo_next_"+strings.TrimPrefix(p.MerchantUID, "demo_first_") {
		t.Fatalf("order page: status %q, next %q %q %q", st, next, amt, nextUID)
	}
	schedule := func(uid string) map[string]any {
		t.Helper()
		_, env := h.call("GET", "/subscribe/payments/schedule/"+uid, nil)
		var sc map[string]any
		if env.Code != 0 || json.Unmarshal(env.Response, &sc) != nil {
			t.Fatalf("GET schedule %s: %s", uid, env.raw)
		}
		return sc
	}
	sc := schedule(nextUID)
	at, _ := sc["schedule_at"].(float64)
	if sc["schedule_status"] != "scheduled" || sc["amount"] != float64(9900) ||
		time.Unix(int64(at), 0).Sub(time.Unix(p.PaidAt, 0)) < 27*24*time.Hour || !strings.Contains(text(b, "#next-at"), time.Unix(int64(at), 0).In(time.FixedZone("KST", 9*3600)).Format("2006-01-02")) {
		t.Fatalf("the scheduled next payment: %v (paid at %d)", sc, p.PaidAt)
	}
	// The payment page, then a full refund, asked for first: declined, the
	// payment stays paid; accepted, it is refunded and the schedule revoked.
	b.do("payment JSON", chromedp.Click(chromedp.CSS("#view-payment")), chromedp.WaitVisible(chromedp.CSS("#payment-json")))
	js, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("#payment-json")))
	if !strings.Contains(js, `"imp_uid": "`+imp+`"`) || !strings.Contains(js, `"status": "paid"`) {
		t.Fatalf("payment page: %s", js)
	}
	answer := func(yes bool) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.confirm = function (m) { sessionStorage.setItem("asked", m); return %t; }`, yes))
	}
	b.do("refund declined", chromedp.Navigate(h.app.BaseURL+"/demo/orders/"+imp), chromedp.WaitVisible(chromedp.CSS("#cancel")), answer(false),
		chromedp.Click(chromedp.CSS("#cancel")))
	if asked, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`sessionStorage.getItem("asked") || ""`)); !strings.Contains(asked, "환불") {
		t.Fatalf("no confirmation before the refund: %q", asked)
	}
	if _, env := h.call("GET", "/payments/"+imp, nil); env.payment(t).Status != "paid" {
		t.Fatalf("refunded although the buyer said no: %s", env.raw)
	}
	b.do("refund", answer(true), chromedp.Click(chromedp.CSS("#cancel")), chromedp.WaitVisible(chromedp.CSS("#result-cancel-amount")))
	_, env = h.call("GET", "/payments/"+imp, nil)
	if p := env.payment(t); p.Status != "cancelled" || p.CancelAmount != 9900 {
		t.Fatalf("after refund: %s", env.raw)
	}
	if st, next := text(b, "#result-status"), text(b, "#next-status"); st != "환불됨" || next != "예약 취소됨" || schedule(nextUID)["schedule_status"] != "revoked" {
		t.Fatalf("after refund: status %q, next %q, schedule %v", st, next, schedule(nextUID))
	}

	// On a phone: the redirect flow, ending on the order page, and nothing
	// wider than the screen.
	ph := newBrowser(t, true)
	ph.do("demo page on a phone",
		chromedp.Navigate(h.app.BaseURL+"/demo"),
		chromedp.WaitVisible(chromedp.CSS("#subscribe")),
	)
	if w, err := chromedp.Run(ph.ctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth")); err != nil || w > 390 {
		t.Errorf("demo page is %dpx wide on a 390px phone (%v)", w, err)
	}
	ph.do("subscribe", chromedp.Click(chromedp.CSS("#subscribe")), chromedp.WaitVisible(chromedp.CSS("#cardNumber")))
	ph.do("card", fillCard("4242-4242-4242-4242")...)
	ph.do("order page", chromedp.WaitVisible(chromedp.CSS("#result-imp-uid")))
	imp2, _ := chromedp.Run(ph.ctx, chromedp.Text(chromedp.CSS("#result-imp-uid")))
	_, env = h.call("GET", "/payments/"+imp2, nil)
	if p := env.payment(t); p.Status != "paid" || p.Amount != 9900 || imp2 == imp {
		t.Fatalf("phone: GET /payments/%s: %s", imp2, env.raw)
	}
	// Revoking the next payment alone keeps the first month paid.
	next2 := text(ph, "#next-merchant-uid")
	ph.do("unschedule", answer(true), chromedp.Click(chromedp.CSS("#unschedule")), chromedp.WaitNotPresent(chromedp.CSS("#unschedule")))
	if next := text(ph, "#next-status"); next != "예약 취소됨" || schedule(next2)["schedule_status"] != "revoked" {
		t.Fatalf("after unschedule: %q %v", next, schedule(next2))
	}
	if _, env := h.call("GET", "/payments/"+imp2, nil); env.payment(t).Status != "paid" {
		t.Fatalf("unschedule touched the paid month: %s", env.raw)
	}
}

// TestWindowScreenshots writes the README's screenshots when
// BILLKEY_SCREENSHOTS names a directory (e.g. docs/screenshots); it is
// skipped otherwise. Install a Korean font first (fonts-noto-cjk).
func TestWindowScreenshots(t *testing.T) {
	dir := os.Getenv("BILLKEY_SCREENSHOTS")
	if dir == "" {
		t.Skip("set BILLKEY_SCREENSHOTS=docs/screenshots to write the screenshots")
	}
	h := start(t, dbtest.DSN(t, "sqlite"), options{})
	s := newShop(t, h.app.BaseURL, h.merchant.Merchant.ImpCode)
	shot := func(b *browser, name string) {
		t.Helper()
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/"+name, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	typing := func(o ...chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.CSS("#cardNumber"), "4242-4242-4242-4242", o...),
			chromedp.SendKeys(chromedp.CSS("#expiry"), "12/30", o...),
		}
	}

	pc := newBrowser(t, false)
	pp := payParams("cust-shot")
	pp["amount"] = 9900
	pc.startPay(s, pp)
	pc.inFrame("#cardNumber", func(o chromedp.QueryOption) []chromedp.Action[chromedp.Void] { return typing(o) })
	shot(pc, "pc-window.png")

	phone := newBrowserAs(t, chromedp.Emulate(device.GalaxyS8)) // 360 px wide, the narrowest common phone
	p := payParams("cust-shot-phone")
	p["m_redirect_url"], p["amount"] = s.URL+"/complete", 9900
	phone.startPay(s, p)
	phone.do("mobile window", chromedp.WaitVisible(chromedp.CSS("#cardNumber")))
	phone.do("typing", typing()...)
	shot(phone, "mobile-window.png")

	demo := newBrowser(t, false)
	demo.do("demo", chromedp.Navigate(h.app.BaseURL+"/demo"), chromedp.WaitVisible(chromedp.CSS("#subscribe")))
	shot(demo, "demo.png")
	demo.do("subscribe", chromedp.Click(chromedp.CSS("#subscribe")))
	demo.inFrame("#cardNumber", func(o chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return fillCard("4242-4242-4242-4242", o)
	})
	demo.do("order page", chromedp.WaitVisible(chromedp.CSS("#result-imp-uid")), chromedp.WaitVisible(chromedp.CSS("#next-status")))
	// The whole page: the scheduled next payment is below the fold.
	png, err := chromedp.Run(demo.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/demo-result.png", png, 0o644); err != nil {
		t.Fatal(err)
	}
}
