package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/billkey/billkey/api"
	"github.com/billkey/billkey/internal/dbtest"
)

// TestDocsPage renders /docs in headless Chromium: the server-rendered
// reference shows every operation of the document, contacts no other
// origin, and links the Redoc view. With BILLKEY_SCREENSHOTS set it also
// writes docs.png there.
func TestDocsPage(t *testing.T) {
	h := start(t, dbtest.DSN(t, "sqlite"), options{})
	b := newBrowser(t, false)
	b.do("docs", chromedp.Navigate(h.app.BaseURL+"/docs"),
		chromedp.WaitVisible(chromedp.CSS(`#get_payments_prepare_merchant_uid`)))
	title, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || !strings.Contains(title, "billkey REST API") {
		t.Fatalf("title: %q %v", title, err)
	}
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll(".op").length`))
	if err != nil || n != len(api.DocumentedOperations())+2 { // + /healthz, /readyz
		t.Fatalf("operations rendered: %d %v", n, err)
	}
	b.mu.Lock()
	for _, u := range b.urls {
		if !strings.HasPrefix(u, h.app.BaseURL) && !strings.HasPrefix(u, "blob:") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the docs page contacted another origin: %s", u)
		}
	}
	b.mu.Unlock()
	if dir := os.Getenv("BILLKEY_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/docs.png", png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
