package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// cardLink is a card-update link as POST /subscriptions/{id}/card_update_link
// returns it.
type cardLink struct {
	ID        int64  `json:"id"`
	URL       string `json:"url"`
	ExpiresAt int64  `json:"expires_at"`
	CreatedAt int64  `json:"created_at"`
}

// dsnName names a test database for file names.
func dsnName(dsn string) string {
	if strings.HasPrefix(dsn, "postgres") {
		return "postgres"
	}
	return "sqlite"
}

// findPaid returns the paid payment of a merchant_uid.
func (h *harness) findPaid(merchantUID string) payment {
	h.t.Helper()
	_, env := h.call("GET", "/payments/find/"+merchantUID+"/paid", nil)
	return env.payment(h.t)
}

// shot saves a screenshot of the browser's page as name under
// $BILLKEY_SCREENSHOTS (nothing without it).
func (b *browser) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("BILLKEY_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// pageText returns the text of the page's body once sel is visible.
func (b *browser) pageText(sel string) string {
	b.t.Helper()
	b.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	text, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		b.t.Fatal(err)
	}
	return text
}

// cardUpdateInBrowser has the subscription's customer replace the card
// through a card-update link in headless Chromium: the link's page, the
// payment window (the simulator's card form) and the result page. Then the
// link refuses a second use, and an expired link is refused too.
func cardUpdateInBrowser(t *testing.T, h *harness, subID int64, card, db string) {
	t.Helper()
	var link cardLink
	h.mustCall("POST", fmt.Sprintf("/subscriptions/%d/card_update_link", subID), map[string]any{}, &link)
	if link.ExpiresAt-link.CreatedAt != 86400 || !strings.HasPrefix(link.URL, h.app.BaseURL+"/card-update/") {
		t.Fatalf("link %+v", link)
	}
	b := newBrowser(t, false)
	b.do("open the link", chromedp.Navigate(link.URL))
	text := b.pageText("#change-card")
	for _, want := range []string{h.merchant.Merchant.Name, "결제카드 변경", "400000*********1", "밀린 요금", "9,900원", "연체"} {
		if !strings.Contains(text, want) {
			t.Errorf("link page lacks %q:\n%s", want, text)
		}
	}
	b.shot("card-update-" + db + "-1-link.png")

	b.do("change the card", chromedp.Click(chromedp.CSS("#change-card")))
	b.inFrame("#cardNumber", nil) // the KG INICIS window (the simulator) is open over the page
	b.shot("card-update-" + db + "-2-window.png")
	b.inFrame("#cardNumber", func(o chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return fillCard(card, o)
	})
	// The page navigates to the result page once the window reports success
	// (evaluations fail while it navigates: try again).
	for {
		done, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(function () { var r = document.getElementById("card-update-result");
			return !!r && r.dataset.retry === "paid"; })()`))
		if err == nil && done {
			break
		}
		if b.ctx.Err() != nil {
			t.Fatalf("waiting for the result page: %v (%v)", b.ctx.Err(), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	text = b.pageText("#card-update-result")
	if !strings.Contains(text, "카드가 변경되고 결제가 완료되었습니다") || !strings.Contains(text, "424242*********2") {
		t.Fatalf("result page:\n%s", text)
	}
	b.shot("card-update-" + db + "-3-done.png")
	// No billing key reached the browser.
	seen := b.seen()
	for _, k := range h.ledger().Keys {
		if strings.Contains(seen, k.BillKey) {
			t.Fatalf("billing key %s… reached the browser", k.BillKey[:6])
		}
	}

	// Used: the link refuses a second open.
	b.do("open the used link", chromedp.Navigate(link.URL))
	if text := b.pageText("#card-update-refused"); !strings.Contains(text, "이미 사용된 카드 변경 링크") {
		t.Fatalf("used link:\n%s", text)
	}
	b.shot("card-update-" + db + "-4-used.png")

	// Expired: refused as well.
	var exp cardLink
	h.mustCall("POST", fmt.Sprintf("/subscriptions/%d/card_update_link", subID), map[string]any{"expires_in": 600}, &exp)
	if _, err := h.store.DB.Exec(`UPDATE card_update_links SET expires_at = created_at - 1 WHERE id = $1`, exp.ID); err != nil {
		t.Fatal(err)
	}
	b.do("open the expired link", chromedp.Navigate(exp.URL))
	if text := b.pageText("#card-update-refused"); !strings.Contains(text, "만료된 카드 변경 링크") {
		t.Fatalf("expired link:\n%s", text)
	}
	b.shot("card-update-" + db + "-5-expired.png")
}
