package inicissim_test

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/inicissim"
	"github.com/billkey/billkey/internal/browsertest"
)

// newBrowser starts headless Chromium ($BILLKEY_TEST_CHROMIUM, default
// /usr/bin/chromium), failing under CI=true when it is missing and skipping
// otherwise.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	ctx, cancelCtx := chromedp.NewContext(browsertest.Allocator(t))
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx() })
	return ctx
}

// merchant is a tiny merchant site: /pay opens the StdPay window through
// the simulator's INIStdPay.js, /mobile auto-submits the INILite form, and
// /return receives INICIS's post.
type merchant struct {
	*httptest.Server
	posts chan url.Values
	page  string
}

var merchantPage = template.Must(template.New("").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>상점</title>
{{if .Script}}<script src="{{.Script}}"></script>{{end}}</head>
<body><form id="SendPayForm_id" method="post" action="{{.Action}}" accept-charset="UTF-8">
{{range $k, $vs := .Fields}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
</form>
<script>{{if .Script}}INIStdPay.pay("SendPayForm_id");{{else}}document.getElementById("SendPayForm_id").submit();{{end}}</script>
</body></html>`))

func newMerchant(t *testing.T) *merchant {
	t.Helper()
	m := &merchant{posts: make(chan url.Values, 4)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pay", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, m.page)
	})
	mux.HandleFunc("POST /return", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		m.posts <- r.PostForm
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html><body><h1 id="done">받았습니다</h1></body></html>`)
	})
	m.Server = httptest.NewServer(mux)
	t.Cleanup(m.Close)
	return m
}

func (m *merchant) set(t *testing.T, script, action string, fields url.Values) {
	t.Helper()
	var b strings.Builder
	if err := merchantPage.Execute(&b, map[string]any{"Script": script, "Action": action, "Fields": fields}); err != nil {
		t.Fatal(err)
	}
	m.page = b.String()
}

func (m *merchant) received(t *testing.T) url.Values {
	t.Helper()
	select {
	case v := <-m.posts:
		return v
	case <-time.After(30 * time.Second):
		t.Fatal("returnUrl never received INICIS's post")
		return nil
	}
}

func TestBrowserStdPayWindow(t *testing.T) {
	t.Parallel()
	bctx := newBrowser(t)
	e := newEnv(t, inicissim.Config{})
	m := newMerchant(t)
	form, err := e.conn.StdPayForm(e.ch, inicis.StdPayRequest{
		OrderID: "imp_browser_1", GoodName: "월간 구독", Buyer: buyer(), ReturnURL: m.URL + "/return",
	})
	if err != nil {
		t.Fatal(err)
	}
	m.set(t, form.ScriptURL, "", form.Fields)

	var scrollWidth int
	err = chromedp.Do(bctx,
		chromedp.EmulateViewport(375, 812),
		chromedp.Navigate(m.URL+"/pay"),
		chromedp.WaitVisible(chromedp.ID("cardNumber")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			w, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
			scrollWidth = w
			return err
		}),
		chromedp.SendKeys(chromedp.ID("cardNumber"), "4242-4242-4242-4242"),
		chromedp.SendKeys(chromedp.ID("expiry"), "12/31"),
		chromedp.SendKeys(chromedp.ID("birth"), "800101"),
		chromedp.SendKeys(chromedp.ID("pwd2digit"), "12"),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if scrollWidth > 375 {
		t.Errorf("window is %dpx wide at a 375px viewport", scrollWidth)
	}
	posted := m.received(t)
	for _, k := range []string{"resultCode", "resultMsg", "mid", "orderNumber", "authToken", "authUrl", "netCancelUrl", "idc_name", "charset"} {
		if posted.Get(k) == "" {
			t.Errorf("returnUrl post lacks %s: %v", k, posted)
		}
	}
	ret, err := inicis.ParseStdPayReturn(posted)
	if err != nil {
		t.Fatal(err)
	}
	bk, err := e.conn.ApproveStdPay(context.Background(), e.ch, ret, "imp_browser_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(bk.Key) != 40 || bk.CardNumber != "424242*********2" {
		t.Errorf("billing key %+v", bk)
	}
	if _, err := e.conn.Charge(context.Background(), e.ch, billkey.ChargeRequest{OrderID: "imp_browser_c", BillingKey: bk.Key, Amount: 1000, GoodName: "g", Buyer: buyer()}); err != nil {
		t.Errorf("charge: %v", err)
	}
}

func TestBrowserMobileWindowCancel(t *testing.T) {
	t.Parallel()
	bctx := newBrowser(t)
	e := newEnv(t, inicissim.Config{})
	m := newMerchant(t)
	form, err := e.conn.LiteForm(e.ch, inicis.LiteRequest{OrderID: "imp_browser_m", GoodName: "모바일", Buyer: buyer(), ReturnURL: m.URL + "/return"})
	if err != nil {
		t.Fatal(err)
	}
	m.set(t, "", form.Action, form.Fields)
	err = chromedp.Do(bctx,
		chromedp.EmulateViewport(375, 667),
		chromedp.Navigate(m.URL+"/pay"),
		chromedp.WaitVisible(chromedp.ID("cardNumber")),
		// A malformed number keeps the buyer in the window with a message.
		chromedp.SendKeys(chromedp.ID("cardNumber"), "4242"),
		chromedp.SendKeys(chromedp.ID("expiry"), "12/31"),
		chromedp.SendKeys(chromedp.ID("birth"), "800101"),
		chromedp.SendKeys(chromedp.ID("pwd2digit"), "12"),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("error")),
		chromedp.Click(chromedp.ID("cancel")),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	ret, err := inicis.ParseLiteReturn(m.received(t))
	if err != nil {
		t.Fatal(err)
	}
	if !ret.Cancelled() || ret.OrderID != "imp_browser_m" {
		t.Errorf("cancel post %+v", ret)
	}
	if n := len(e.sim.Ledger().Keys); n != 0 {
		t.Errorf("%d keys issued", n)
	}
}
