package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"

	"github.com/billkey/billkey/internal/dbtest"
)

// Browser tests of how the payment window looks to a buyer: one close
// control, the card form inside the viewport without scrollbars, Korean
// text breaking between words, and what a validation error keeps.

// layoutJS measures the page it runs in (this is its <html> element) and
// returns JSON: every visible close control (a × or an aria-label with
// 닫기), the card form's box against the viewport, the scroll sizes of the
// document and of the simulator's layer, and word-break of the Korean text.
const layoutJS = `function () {
  var doc = this.ownerDocument, win = doc.defaultView;
  function visible(el) {
    var r = el.getBoundingClientRect(), st = win.getComputedStyle(el);
    return r.width > 0 && r.height > 0 && st.visibility !== "hidden" && st.display !== "none" && el.offsetParent !== null;
  }
  var closes = [];
  Array.prototype.forEach.call(doc.querySelectorAll("button, a, [role=button]"), function (el) {
    var t = (el.textContent || "").trim(), l = el.getAttribute("aria-label") || "";
    if ((t === "\u00d7" || l.indexOf("닫기") >= 0) && visible(el)) { closes.push(el.id || el.className); }
  });
  var card = doc.querySelector("#inicis-window .card"), box = null;
  if (card) { var r = card.getBoundingClientRect(); box = {top: r.top, left: r.left, bottom: r.bottom, right: r.right}; }
  var layer = doc.querySelector(".wrap.layer"), wb = {};
  ["body", "label", ".hint", ".bar h1", "h1", "p"].forEach(function (s) {
    var el = doc.querySelector(s);
    if (el) { wb[s] = win.getComputedStyle(el).wordBreak; }
  });
  return JSON.stringify({
    closes: closes, card: box, vw: win.innerWidth, vh: win.innerHeight,
    docScroll: [doc.documentElement.scrollWidth, doc.documentElement.clientWidth, doc.documentElement.scrollHeight, doc.documentElement.clientHeight],
    layerScroll: layer ? [layer.scrollWidth, layer.clientWidth, layer.scrollHeight, layer.clientHeight] : null,
    wordBreak: wb
  });
}`

type layout struct {
	Closes []string `json:"closes"`
	Card   *struct {
		Top, Left, Bottom, Right float64
	} `json:"card"`
	VW          float64           `json:"vw"`
	VH          float64           `json:"vh"`
	DocScroll   []int             `json:"docScroll"`
	LayerScroll []int             `json:"layerScroll"`
	WordBreak   map[string]string `json:"wordBreak"`
}

// measure runs layoutJS in the document that holds root (the page itself
// when root is nil, or the payment iframe's document).
func (b *browser) measure(root *chromedp.Node) layout {
	b.t.Helper()
	var opts []chromedp.QueryOption
	if root != nil {
		opts = append(opts, chromedp.FromNode(root))
	}
	raw, err := chromedp.Run(b.ctx, chromedp.QueryAfter(chromedp.CSS("html"), func(ctx context.Context, t *chromedp.Target, nodes []*chromedp.Node) (string, error) {
		r, err := chromedp.Call(ctx, dom.ResolveNode, dom.ResolveNodeParams{NodeID: nodes[0].NodeID})
		if err != nil {
			return "", err
		}
		return chromedp.CallFunctionOn[string](layoutJS, func(p *runtime.CallFunctionOnParams) { p.ObjectID = r.Object.ObjectID })(ctx, t)
	}, opts...))
	if err != nil {
		b.t.Fatalf("measuring the page: %v", err)
	}
	var l layout
	if err := json.Unmarshal([]byte(raw), &l); err != nil {
		b.t.Fatalf("layout %s: %v", raw, err)
	}
	return l
}

// checkFits fails unless the card form lies fully inside the viewport.
func checkFits(t *testing.T, what string, l layout) {
	t.Helper()
	if l.Card == nil {
		t.Fatalf("%s: no card form", what)
	}
	if c := l.Card; c.Top < 0 || c.Left < 0 || c.Bottom > l.VH || c.Right > l.VW {
		t.Errorf("%s: card form %+v is not inside the %gx%g viewport", what, *c, l.VW, l.VH)
	}
}

// checkKeepAll fails unless the Korean text of the page breaks between
// words (word-break: keep-all), for each of the selectors.
func checkKeepAll(t *testing.T, what string, l layout, sels ...string) {
	t.Helper()
	for _, s := range sels {
		if got := l.WordBreak[s]; got != "keep-all" {
			t.Errorf("%s: %s has word-break %q, want keep-all", what, s, got)
		}
	}
}

// TestBrowserWindowLayoutPC: at 1280x800 the buyer sees exactly one close
// control (INICIS's ×; billkey's dialog × is hidden, as i'mport hides its
// header for INICIS), the card form fits the viewport with no scrollbar
// inside the frame, Korean text breaks between words (the simulator's
// window and billkey's own pages), and a bad expiry keeps the expiry as
// typed and the card masked while the number, birth date and PIN digits
// are empty. INICIS's × still fails the attempt as a user cancel.
func TestBrowserWindowLayoutPC(t *testing.T) {
	h := start(t, dbtest.DSN(t, "sqlite"), options{})
	s := newShop(t, h.app.BaseURL, h.merchant.Merchant.ImpCode)
	b := newBrowserAs(t, chromedp.EmulateViewport(1280, 800))
	b.startPay(s, payParams("cust-layout"))
	b.inFrame("#cardNumber", nil)

	top, fr := b.measure(nil), b.measure(b.frame())
	if len(top.Closes)+len(fr.Closes) != 1 || len(fr.Closes) != 1 || fr.Closes[0] != "close" {
		t.Errorf("visible close controls: page %q, window %q; want only INICIS's #close", top.Closes, fr.Closes)
	}
	checkFits(t, "PC window", fr)
	if d := fr.DocScroll; d[0] > d[1] || d[2] > d[3] {
		t.Errorf("the window's document scrolls: %v (scrollW, clientW, scrollH, clientH)", d)
	}
	if d := fr.LayerScroll; d == nil || d[0] > d[1] || d[2] > d[3] {
		t.Errorf("the window's layer scrolls: %v", d)
	}
	if fr.VW != 1280 || fr.VH != 800 {
		t.Errorf("the frame is %gx%g, want the full 1280x800 viewport", fr.VW, fr.VH)
	}
	checkKeepAll(t, "PC window", fr, "body", "label", ".hint", ".bar h1")

	// A valid card with an impossible expiry.
	b.inFrame("#cardNumber", func(o chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.CSS("#cardNumber"), "4242-4242-4242-4242", o),
			chromedp.SendKeys(chromedp.CSS("#expiry"), "13/31", o),
			chromedp.SendKeys(chromedp.CSS("#birth"), "800101", o),
			chromedp.SendKeys(chromedp.CSS("#pwd2digit"), "12", o),
			chromedp.Click(chromedp.CSS("#submit"), o),
		}
	})
	b.inFrame("#error", nil)
	fn := b.frame()
	val := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel), chromedp.FromNode(fn)))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return v
	}
	kept, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("#kept-card"), chromedp.FromNode(fn)))
	if err != nil {
		t.Fatalf("#kept-card: %v", err)
	}
	if e := val("#expiry"); e != "13/31" {
		t.Errorf("expiry after the error %q, want 13/31 as typed", e)
	}
	if !strings.Contains(kept, "4242") || strings.Contains(strings.ReplaceAll(kept, "-", ""), "4242424242424242") {
		t.Errorf("kept card %q: want the card masked", kept)
	}
	for _, sel := range []string{"#cardNumber", "#birth", "#pwd2digit"} {
		if v := val(sel); v != "" {
			t.Errorf("%s kept %q after the error, want empty", sel, v)
		}
	}
	after := b.measure(fn)
	checkFits(t, "PC window with the error", after)
	if len(after.Closes) != 1 {
		t.Errorf("close controls after the error: %q", after.Closes)
	}

	// INICIS's × (the only one) still fails the attempt as a user cancel.
	b.inFrame("#close", func(o chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS("#close"), o)}
	})
	r := b.waitRsp()
	if r.Success || r.ErrorCode == nil || *r.ErrorCode != "V801" || r.ErrorMsg == nil || *r.ErrorMsg != "사용자가 결제를 취소하였습니다." || r.ImpUID == nil {
		t.Fatalf("closed with INICIS's ×: %+v", r)
	}
	if _, env := h.call("GET", "/payments/"+*r.ImpUID, nil); env.payment(t).Status != "failed" {
		t.Fatalf("closed window's payment: %s", env.raw)
	}

	// billkey's own window page (here the answer to an unknown close link).
	b.do("billkey page", chromedp.Navigate(h.app.BaseURL+"/window/close/unknown"), chromedp.WaitVisible(chromedp.CSS("#message")))
	checkKeepAll(t, "billkey's window page", b.measure(nil), "body", "h1", "p")
}

// TestBrowserWindowLayoutMobile: on a 360x740 phone the redirected window
// shows the card form inside the screen width, with Korean text breaking
// between words and INICIS's × as the only close control.
func TestBrowserWindowLayoutMobile(t *testing.T) {
	h := start(t, dbtest.DSN(t, "sqlite"), options{})
	s := newShop(t, h.app.BaseURL, h.merchant.Merchant.ImpCode)
	b := newBrowserAs(t, chromedp.Emulate(device.GalaxyS8))
	p := payParams("cust-layout-phone")
	p["m_redirect_url"] = s.URL + "/complete"
	b.startPay(s, p)
	b.do("mobile window", chromedp.WaitVisible(chromedp.CSS("#cardNumber")))
	l := b.measure(nil)
	if l.VW != 360 {
		t.Fatalf("viewport %gx%g, want 360 wide", l.VW, l.VH)
	}
	checkFits(t, "mobile window", l)
	if d := l.DocScroll; d[0] > d[1] {
		t.Errorf("the mobile window scrolls sideways: %v", d)
	}
	if len(l.Closes) != 1 || l.Closes[0] != "close" {
		t.Errorf("visible close controls %q, want only INICIS's #close", l.Closes)
	}
	checkKeepAll(t, "mobile window", l, "body", "label", ".hint", ".bar h1")
}
