package window_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/cycle"
	"github.com/billkey/billkey/internal/dbtest"
)

// pastDue creates, for customerUID with a 0341 key (한도초과, soft), a
// monthly subscription on a test clock and advances it past its retries:
// past_due. It returns the subscription id.
func (e *env) pastDue(tok, customerUID string) int64 {
	e.t.Helper()
	e.mustAPI("POST", "/subscribe/customers/"+customerUID, map[string]any{"card_number": "4000-0000-0000-0341", "expiry": "2030-12",
		"birth": "880101", "pwd_2digit": "12", "customer_name": "홍길동", "customer_email": "gildong@example.com",
		"customer_tel": "010-1234-5678"}, tok)
	t0 := time.Date(time.Now().In(cycle.KST).Year()+2, 1, 31, 10, 0, 0, 0, cycle.KST)
	clk := e.mustAPI("POST", "/test_clocks", map[string]any{"frozen_time": t0.Unix()}, tok)
	sub := e.mustAPI("POST", "/subscriptions", map[string]any{"customer_uid": customerUID, "name": "프리미엄 월간", "amount": 9900,
		"test_clock": clk["id"]}, tok)
	e.mustAPI("POST", fmt.Sprintf("/test_clocks/%v/advance", clk["id"]), map[string]any{"frozen_time": t0.AddDate(0, 0, 10).Unix()}, tok)
	id := int64(sub["id"].(float64))
	if got := e.mustAPI("GET", fmt.Sprintf("/subscriptions/%d", id), nil, tok); got["status"] != "past_due" {
		e.t.Fatalf("not past_due: %v", got)
	}
	return id
}

// mustAPI calls the API and returns the response object of a success.
func (e *env) mustAPI(method, path string, body any, tok string) map[string]any {
	e.t.Helper()
	env := e.api(method, path, body, tok)
	r, _ := env["response"].(map[string]any)
	if env["code"] != float64(0) || r == nil {
		e.t.Fatalf("%s %s: %v", method, path, env)
	}
	return r
}

// linkToken returns the token of a card-update link's url.
func linkToken(t *testing.T, e *env, link map[string]any) string {
	t.Helper()
	u, _ := link["url"].(string)
	tok, ok := strings.CutPrefix(u, e.app.BaseURL+gateway.PathCardUpdate)
	if !ok || len(tok) != 43 {
		t.Fatalf("link url %q", u)
	}
	return tok
}

func cardUpdateForm(impCode, token string, extra map[string]any) url.Values {
	p := map[string]any{"pay_method": "card", "amount": 0, gateway.WindowParamCardUpdate: token}
	for k, v := range extra {
		p[k] = v
	}
	return openForm(impCode, p, "pc", "message")
}

// TestCardUpdateLink: the link's page, its window bound to the link, two
// windows completing at once (one wins, one approval of the retried cycle,
// the loser's key net-cancelled), reuse and expiry refused, the token
// stored only hashed. On SQLite and PostgreSQL.
func TestCardUpdateLink(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		ctx := context.Background()
		tok := e.token()
		id := e.pastDue(tok, "cu-1")
		link := e.mustAPI("POST", fmt.Sprintf("/subscriptions/%d/card_update_link", id), map[string]any{}, tok)
		token := linkToken(t, e, link)
		if exp := int64(link["expires_at"].(float64)) - int64(link["created_at"].(float64)); exp != 24*3600 || link["customer_uid"] != "cu-1" {
			t.Fatalf("link %v", link)
		}
		// Only the token's hash is stored.
		var stored []byte
		if err := e.store.DB.QueryRowContext(ctx, `SELECT token_hash FROM card_update_links WHERE id = $1`, link["id"]).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256([]byte(token)); !bytes.Equal(stored, sum[:]) {
			t.Fatalf("stored %x", stored)
		}

		// The page: merchant, masked card, the overdue amount; Korean, no
		// referrer, never framed or cached.
		status, page, hdr := e.get(link["url"].(string))
		for _, want := range []string{"창 테스트 상점", "400000*********1", "9,900원", "연체", "새 카드 등록하기", "/js/iamport.js"} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if status != 200 || hdr.Get("Referrer-Policy") != "no-referrer" || hdr.Get("X-Frame-Options") != "DENY" ||
			hdr.Get("Cache-Control") != "no-store" || !strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Fatalf("page: %d %v", status, hdr)
		}
		if strings.Contains(page, "4000000000000341") || strings.Contains(page, "4000-0000-0000-0341") {
			t.Fatal("full card number on the page")
		}
		// Before use the result page sends the buyer back to the form.
		if status, _, hdr := e.get(link["url"].(string) + "/result"); status != http.StatusSeeOther || !strings.HasSuffix(hdr.Get("Location"), token) {
			t.Fatalf("result before use: %d %v", status, hdr)
		}

		// Windows bound to the link: another customer_uid, another
		// merchant's imp code or a made-up token are refused.
		other, err := e.app.Service.CreateMerchant(ctx, gateway.NewMerchant{Name: "다른 상점", ImpSecret: "other-secret-0123456789"})
		if err != nil {
			t.Fatal(err)
		}
		for name, form := range map[string]url.Values{
			"customer_uid": cardUpdateForm(e.merchant.ImpCode, token, map[string]any{"customer_uid": "someone-else"}),
			"merchant":     cardUpdateForm(other.Merchant.ImpCode, token, nil),
			"token":        cardUpdateForm(e.merchant.ImpCode, gateway.NewWindowToken(), nil),
		} {
			_, page, _ := e.post(e.app.BaseURL+"/window/open", form, merchantOrigin)
			if m, _ := doneMessage(t, page); m.Data["success"] != false || m.Data["error_code"] != "F400" {
				t.Errorf("%s: %v", name, m.Data)
			}
		}

		// Two tabs: both windows open, both cards typed, both return posts
		// at once. One stores its key and retries the cycle; the other is
		// refused and its approval net-cancelled.
		w1 := e.openWindow(cardUpdateForm(e.merchant.ImpCode, token, nil))
		w2 := e.openWindow(cardUpdateForm(e.merchant.ImpCode, token, nil))
		to1, post1 := e.pay(w1, "4242-4242-4242-4242")
		to2, post2 := e.pay(w2, "5555-5555-5555-4444")
		var wg sync.WaitGroup
		pages := make([]string, 2)
		for i, p := range []struct {
			to   string
			post url.Values
		}{{to1, post1}, {to2, post2}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, pages[i], _ = e.post(p.to, p.post, "")
			}()
		}
		wg.Wait()
		var won, lost []map[string]any
		for _, pg := range pages {
			m, _ := doneMessage(t, pg)
			if m.Data["success"] == true {
				won = append(won, m.Data)
			} else {
				lost = append(lost, m.Data)
			}
		}
		if len(won) != 1 || len(lost) != 1 || !strings.Contains(fmt.Sprint(lost[0]["error_msg"]), "이미 변경") ||
			won[0]["customer_uid"] != "cu-1" {
			t.Fatalf("won %v, lost %v", won, lost)
		}
		led := e.app.Simulator.Ledger()
		uid := fmt.Sprintf("sub_%d_1", id)
		approvals := 0
		for _, a := range led.Approvals {
			if p, err := e.store.PaymentByImpUID(ctx, e.merchant.ID, a.OrderID); err == nil && p.MerchantUID == uid {
				approvals++
			}
		}
		if approvals != 1 || len(led.NetCancels) != 1 {
			t.Fatalf("%d approvals of %s, %d net cancels; want 1 and 1", approvals, uid, len(led.NetCancels))
		}
		sub := e.mustAPI("GET", fmt.Sprintf("/subscriptions/%d", id), nil, tok)
		if sub["status"] != "active" || sub["paid_cycles"] != float64(1) || sub["current_cycle"] != float64(2) {
			t.Fatalf("after the card update: %v", sub)
		}
		c, err := e.app.Service.Customer(ctx, e.merchant.ID, "cu-1")
		if err != nil || c.CardNumber != won[0]["card_number"] {
			t.Fatalf("customer card %v %v (won %v)", c, err, won[0]["card_number"])
		}
		evs, err := e.store.Events(ctx, e.merchant.ID, 0, 200)
		if err != nil {
			t.Fatal(err)
		}
		recovered := 0
		for _, ev := range evs {
			if ev.Status == "subscription.recovered" && ev.MerchantUID == uid {
				recovered++
			}
		}
		if recovered != 1 {
			t.Fatalf("%d subscription.recovered events", recovered)
		}

		// The result page shows the paid retry; the link refuses a second
		// use, and so does a replayed window.
		status, page, _ = e.get(link["url"].(string) + "/result")
		if status != 200 || !strings.Contains(page, "결제가 완료") || !strings.Contains(page, `data-retry="paid"`) {
			t.Fatalf("result: %d\n%s", status, page)
		}
		status, page, _ = e.get(link["url"].(string))
		if status != http.StatusGone || !strings.Contains(page, "이미 사용된 카드 변경 링크") {
			t.Fatalf("reused link: %d\n%s", status, page)
		}
		_, page, _ = e.post(e.app.BaseURL+"/window/open", cardUpdateForm(e.merchant.ImpCode, token, nil), merchantOrigin)
		if m, _ := doneMessage(t, page); m.Data["success"] != false || !strings.Contains(fmt.Sprint(m.Data["error_msg"]), "이미 사용된") {
			t.Fatalf("window from a used link: %v", m.Data)
		}
		if status, again, _ := e.post(to1, post1, ""); status != 200 || len(e.app.Simulator.Ledger().Approvals) != len(led.Approvals) {
			t.Fatalf("replayed return: %d %s", status, again)
		}

		// Expiry: a link past its time is refused, page and window alike.
		exp := e.mustAPI("POST", fmt.Sprintf("/subscriptions/%d/card_update_link", id), map[string]any{"expires_in": 600}, tok)
		if d := exp["expires_at"].(float64) - exp["created_at"].(float64); d != 600 {
			t.Fatalf("expires_in 600: %v", exp)
		}
		if _, err := e.store.DB.ExecContext(ctx, `UPDATE card_update_links SET expires_at = created_at - 1 WHERE id = $1`, exp["id"]); err != nil {
			t.Fatal(err)
		}
		status, page, _ = e.get(exp["url"].(string))
		if status != http.StatusGone || !strings.Contains(page, "만료된 카드 변경 링크") {
			t.Fatalf("expired link: %d\n%s", status, page)
		}
		_, page, _ = e.post(e.app.BaseURL+"/window/open", cardUpdateForm(e.merchant.ImpCode, linkToken(t, e, exp), nil), merchantOrigin)
		if m, _ := doneMessage(t, page); m.Data["success"] != false {
			t.Fatalf("window from an expired link: %v", m.Data)
		}
		if status, page, _ := e.get(e.app.BaseURL + gateway.PathCardUpdate + "not-a-token"); status != http.StatusNotFound || !strings.Contains(page, "유효하지 않은") {
			t.Fatalf("unknown link: %d\n%s", status, page)
		}

		// Bounds, other merchants, cancelled subscriptions.
		for _, secs := range []int64{60, 8 * 24 * 3600, -5} {
			if env := e.api("POST", fmt.Sprintf("/subscriptions/%d/card_update_link", id), map[string]any{"expires_in": secs}, tok); env["code"] == float64(0) || env["_status"] != float64(200) {
				t.Errorf("expires_in %d: %v", secs, env)
			}
		}
		otherTok := e.api("POST", "/users/getToken", map[string]string{"imp_key": other.Merchant.APIKey, "imp_secret": "other-secret-0123456789"}, "")
		ot := otherTok["response"].(map[string]any)["access_token"].(string)
		if env := e.api("POST", fmt.Sprintf("/subscriptions/%d/card_update_link", id), map[string]any{}, ot); env["_status"] != float64(404) {
			t.Fatalf("another merchant's subscription: %v", env)
		}
		open := e.mustAPI("POST", fmt.Sprintf("/subscriptions/%d/card_update_link", id), map[string]any{}, tok)
		e.mustAPI("POST", fmt.Sprintf("/subscriptions/%d/cancel", id), map[string]any{}, tok)
		if status, page, _ := e.get(open["url"].(string)); status != http.StatusGone || !strings.Contains(page, "해지되었거나") {
			t.Fatalf("link of a cancelled subscription: %d\n%s", status, page)
		}
		if env := e.api("POST", fmt.Sprintf("/subscriptions/%d/card_update_link", id), map[string]any{}, tok); env["code"] == float64(0) {
			t.Fatalf("link for a cancelled subscription: %v", env)
		}
	})
}

// cardUpdateThrough completes a card update of token with card through the
// window (HTTP, as the browser would) and returns the rsp.
func (e *env) cardUpdateThrough(token, card string) map[string]any {
	e.t.Helper()
	w := e.openWindow(cardUpdateForm(e.merchant.ImpCode, token, nil))
	to, post := e.pay(w, card)
	_, page, _ := e.post(to, post, "")
	m, _ := doneMessage(e.t, page)
	return m.Data
}

// subEvents counts the merchant's events of a type for a merchant_uid.
func (e *env) subEvents(typ, merchantUID string) int {
	e.t.Helper()
	evs, err := e.store.Events(context.Background(), e.merchant.ID, 0, 500)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if string(ev.Status) == typ && ev.MerchantUID == merchantUID {
			n++
		}
	}
	return n
}

// TestCardUpdateUnpaidAndRetrying: a card update recovers an unpaid
// subscription (the dunning policy gave up on it) and charges at once a
// subscription whose soft decline waits for a retry days away. On SQLite
// and PostgreSQL.
func TestCardUpdateUnpaidAndRetrying(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		tok := e.token()
		t0 := time.Date(time.Now().In(cycle.KST).Year()+2, 5, 20, 10, 0, 0, 0, cycle.KST)
		clk := e.mustAPI("POST", "/test_clocks", map[string]any{"frozen_time": t0.Unix()}, tok)
		plans := map[string]map[string]any{
			"cu-unpaid": {"retry_days": []int{}, "final_action": "unpaid"},
			"cu-retry":  {},
		}
		ids := map[string]int64{}
		for uid, extra := range plans {
			e.mustAPI("POST", "/subscribe/customers/"+uid, map[string]any{"card_number": "4000-0000-0000-0341", "expiry": "2030-12",
				"birth": "880101", "pwd_2digit": "12", "customer_email": "gildong@example.com", "customer_tel": "010-1234-5678"}, tok)
			body := map[string]any{"customer_uid": uid, "name": "월간", "amount": 5500, "test_clock": clk["id"]}
			for k, v := range extra {
				body[k] = v
			}
			ids[uid] = int64(e.mustAPI("POST", "/subscriptions", body, tok)["id"].(float64))
		}
		e.mustAPI("POST", fmt.Sprintf("/test_clocks/%v/advance", clk["id"]), map[string]any{"frozen_time": t0.Add(time.Hour).Unix()}, tok)
		unpaid := e.mustAPI("GET", fmt.Sprintf("/subscriptions/%d", ids["cu-unpaid"]), nil, tok)
		retrying := e.mustAPI("GET", fmt.Sprintf("/subscriptions/%d", ids["cu-retry"]), nil, tok)
		if unpaid["status"] != "unpaid" || unpaid["ended_at"] == float64(0) || retrying["status"] != "active" || retrying["retries"] != float64(1) {
			t.Fatalf("before: unpaid %v, retrying %v", unpaid, retrying)
		}

		for uid, id := range ids {
			link := e.mustAPI("POST", fmt.Sprintf("/subscriptions/%d/card_update_link", id), map[string]any{}, tok)
			token := linkToken(t, e, link)
			if _, page, _ := e.get(link["url"].(string)); !strings.Contains(page, "5,500원") || !strings.Contains(page, "새 카드로 바로 결제") {
				t.Fatalf("%s page:\n%s", uid, page)
			}
			if rsp := e.cardUpdateThrough(token, "4242-4242-4242-4242"); rsp["success"] != true {
				t.Fatalf("%s: %v", uid, rsp)
			}
			sub := e.mustAPI("GET", fmt.Sprintf("/subscriptions/%d", id), nil, tok)
			muid := fmt.Sprintf("sub_%d_1", id)
			if sub["status"] != "active" || sub["paid_cycles"] != float64(1) || sub["ended_at"] != float64(0) || sub["retries"] != float64(0) {
				t.Fatalf("%s after the card update: %v", uid, sub)
			}
			// Recovered only from past_due or unpaid; renewed in both cases.
			wantRecovered := map[string]int{"cu-unpaid": 1, "cu-retry": 0}[uid]
			if r, n := e.subEvents("subscription.recovered", muid), e.subEvents("subscription.renewed", muid); r != wantRecovered || n != 1 {
				t.Fatalf("%s: %d recovered, %d renewed events", uid, r, n)
			}
			if _, page, _ := e.get(link["url"].(string) + "/result"); !strings.Contains(page, `data-retry="paid"`) {
				t.Fatalf("%s result:\n%s", uid, page)
			}
		}
	})
}

// TestCardUpdateTokenNotLogged: a link's token, carried in its URL and in
// the window's parameters, never reaches the logs.
func TestCardUpdateTokenNotLogged(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, dbtest.DSN(t, "sqlite"), nil, func(o *cli.AppOptions) { o.Logger = logger })
	tok := e.token()
	id := e.pastDue(tok, "cu-log")
	link := e.mustAPI("POST", fmt.Sprintf("/subscriptions/%d/card_update_link", id), map[string]any{}, tok)
	token := linkToken(t, e, link)
	e.get(link["url"].(string))
	if rsp := e.cardUpdateThrough(token, "4242-4242-4242-4242"); rsp["success"] != true {
		t.Fatalf("card update: %v", rsp)
	}
	e.get(link["url"].(string) + "/result")
	e.get(link["url"].(string))
	out := logs.String()
	if strings.Contains(out, token) {
		t.Fatalf("card-update token in the logs:\n%s", out)
	}
	if !strings.Contains(out, "/card-update/{token}") || !strings.Contains(out, "card update: retrying the declined charge") {
		t.Fatalf("log lines missing:\n%s", out)
	}
}

// TestCardUpdateDeclinedAgain: a new card that is declined too is still
// stored, the overdue cycle is tried once more (one more declined payment,
// no approval), the subscription stays past_due and the result page says
// so.
func TestCardUpdateDeclinedAgain(t *testing.T) {
	e := newEnv(t, dbtest.DSN(t, "sqlite"), nil)
	tok := e.token()
	id := e.pastDue(tok, "cu-again")
	uid := fmt.Sprintf("sub_%d_1", id)
	attempts := func() int {
		env := e.api("GET", "/payments/findAll/"+uid, nil, tok)
		list, _ := env["response"].(map[string]any)["list"].([]any)
		return len(list)
	}
	before := attempts()
	link := e.mustAPI("POST", fmt.Sprintf("/subscriptions/%d/card_update_link", id), map[string]any{}, tok)
	if rsp := e.cardUpdateThrough(linkToken(t, e, link), "4000-0000-0000-0341"); rsp["success"] != true {
		t.Fatalf("card update: %v", rsp)
	}
	if n := attempts(); n != before+1 {
		t.Fatalf("%d attempts after the card update; want %d", n, before+1)
	}
	sub := e.mustAPI("GET", fmt.Sprintf("/subscriptions/%d", id), nil, tok)
	if sub["status"] != "past_due" || sub["paid_cycles"] != float64(0) || len(e.app.Simulator.Ledger().Approvals) != 0 {
		t.Fatalf("after a declined card update: %v", sub)
	}
	if _, page, _ := e.get(link["url"].(string) + "/result"); !strings.Contains(page, `data-retry="failed"`) || !strings.Contains(page, "결제되지 않았습니다") {
		t.Fatalf("result:\n%s", page)
	}
}
