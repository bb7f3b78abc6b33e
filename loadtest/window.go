package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// The window phase drives the payment window without a browser, request
// for request as Chromium does it with iamport.js on a PC (message
// delivery, the iframe flow):
//
//  1. POST billkey /window/open with the fields iamport.js submits
//     (imp_code, tier, params, device=pc, delivery=message, origin, sdk)
//     and the merchant page's Origin header;
//  2. the open page's hidden form, posted where INIStdPay.pay posts it: the
//     simulator's /stdpay/window (the page loads the simulator's
//     INIStdPay.js, which sets that action);
//  3. the simulator's card form (sid, cardNumber, expiry, birth, pwd2digit)
//     posted to its action;
//  4. the simulator's auto-submitting return form posted to billkey's
//     returnUrl, where billkey redeems the authToken (payAuth) server to
//     server and stores the key; its result page carries the rsp the SDK
//     would hand to the callback.
//
// Each client opens windows one after another for a distinct customer_uid.
// Afterwards every window that succeeded must have its customer on record
// at billkey and exactly one key issued by the simulator's window for its
// imp_uid, not revoked.

// WindowReport is the window phase's outcome.
type WindowReport struct {
	Windows     int                `json:"windows"`
	Concurrency int                `json:"concurrency"`
	Succeeded   int                `json:"succeeded"`
	Failed      map[string]int     `json:"failed,omitempty"`
	Seconds     float64            `json:"seconds"`
	PerSecond   float64            `json:"windows_per_second"`
	P50         time.Duration      `json:"p50_ns"` // open → result page, the whole flow
	P99         time.Duration      `json:"p99_ns"`
	ReturnP50   time.Duration      `json:"return_p50_ns"` // billkey's return step alone (approval, key stored)
	ReturnP99   time.Duration      `json:"return_p99_ns"`
	CPU         map[string]ProcCPU `json:"cpu,omitempty"`
	// The check: customers billkey holds, and the simulator's window keys
	// for the run's imp_uids (once each, none revoked).
	Stored     int `json:"customers_stored"`
	KeysIssued int `json:"keys_issued"`
	KeysTwice  int `json:"keys_issued_twice"`
	KeysLost   int `json:"keys_missing"`
	Revoked    int `json:"keys_revoked"`
}

// OK reports whether every window succeeded and stored its key once.
func (w *WindowReport) OK() bool {
	return len(w.Failed) == 0 && w.Succeeded == w.Windows && w.Stored == w.Succeeded &&
		w.KeysIssued == w.Succeeded && w.KeysTwice == 0 && w.KeysLost == 0 && w.Revoked == 0
}

func (w *WindowReport) String() string {
	verdict := "OK"
	if !w.OK() {
		verdict = "MISMATCH"
	}
	return fmt.Sprintf("%d windows with %d clients: %d succeeded in %.1fs (%.1f windows/s), p50 %s p99 %s (return step p50 %s p99 %s); %s; check %s: %d customers stored, %d keys issued, %d twice, %d missing, %d revoked%s",
		w.Windows, w.Concurrency, w.Succeeded, w.Seconds, w.PerSecond, round(w.P50), round(w.P99), round(w.ReturnP50), round(w.ReturnP99),
		cpuLine(w.CPU), verdict, w.Stored, w.KeysIssued, w.KeysTwice, w.KeysLost, w.Revoked, failures(w.Failed))
}

func failures(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	return "; failures: " + errorList(m)
}

// windowOrigin is the merchant page's origin the windows are opened from.
const windowOrigin = "https://shop.loadtest.invalid"

// desktopUA is a desktop Chrome's user agent (iamport.js says "pc" for it).
const desktopUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

func runWindows(ctx context.Context, r *runner) (*WindowReport, error) {
	cfg := r.cfg
	if cfg.ImpCode == "" {
		return nil, errors.New("the window phase needs the merchant's imp code (--imp-code)")
	}
	n, conc := cfg.Windows, min(cfg.WindowConcurrency, cfg.Windows)
	fmt.Fprintf(r.out, "\n== window: %d windows, %d concurrent clients\n", n, conc)
	hc := &http.Client{Timeout: 60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 2 * conc},
		// Every redirect is a failure to report, not to follow: the flow
		// has none.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	type outcome struct {
		total, ret time.Duration
		impUID     string
		customer   string
		err        string
	}
	results := make([]outcome, n)
	var next counter
	var wg sync.WaitGroup
	before := r.cpu.sample(ctx)
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.next()) - 1
				if i >= n {
					return
				}
				o := &results[i]
				o.customer = fmt.Sprintf("%s-w%d", r.rep.RunID, i)
				began := time.Now()
				imp, ret, err := openWindow(ctx, hc, cfg, cfg.URLs[i%len(cfg.URLs)], o.customer, fmt.Sprintf("win-%s-%d", r.rep.RunID, i))
				o.total, o.ret, o.impUID = time.Since(began), ret, imp
				if err != nil {
					o.err = err.Error()
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	w := &WindowReport{Windows: n, Concurrency: conc, Seconds: elapsed.Seconds(), Failed: map[string]int{}}
	var totals, rets []time.Duration
	for _, o := range results {
		switch {
		case o.err != "":
			w.Failed[truncate(o.err, 80)]++
		case o.impUID == "":
			w.Failed["not run"]++
		default:
			w.Succeeded++
			totals, rets = append(totals, o.total), append(rets, o.ret)
		}
	}
	w.CPU = usage(before, r.cpu.sample(ctx), uint64(w.Succeeded))
	if len(w.Failed) == 0 {
		w.Failed = nil
	}
	w.PerSecond = float64(w.Succeeded) / elapsed.Seconds()
	sort.Slice(totals, func(i, j int) bool { return totals[i] < totals[j] })
	sort.Slice(rets, func(i, j int) bool { return rets[i] < rets[j] })
	w.P50, w.P99 = quantile(totals, 0.5), quantile(totals, 0.99)
	w.ReturnP50, w.ReturnP99 = quantile(rets, 0.5), quantile(rets, 0.99)

	// The check: the customer is on record, and the PG issued one key for
	// the window's order, not revoked.
	ledger, err := fetchLedger(ctx, r.client.http, cfg.SimLedgerURL)
	if err != nil {
		return w, err
	}
	keys := map[string]int{}
	revoked := map[string]bool{}
	for _, k := range ledger.Keys {
		if k.Source == "stdpay" {
			keys[k.OrderID]++
			revoked[k.OrderID] = revoked[k.OrderID] || k.Revoked
		}
	}
	var mu sync.Mutex
	sem := make(chan struct{}, 8)
	for _, o := range results {
		if o.err != "" || o.impUID == "" {
			continue
		}
		switch keys[o.impUID] {
		case 0:
			w.KeysLost++
		case 1:
			w.KeysIssued++
		default:
			w.KeysIssued++
			w.KeysTwice++
		}
		if revoked[o.impUID] {
			w.Revoked++
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(uid string) {
			defer wg.Done()
			defer func() { <-sem }()
			var env envelope
			if err := r.client.do(ctx, "GET", "/subscribe/customers/"+url.PathEscape(uid), nil, &env); err == nil && env.Code == 0 {
				mu.Lock()
				w.Stored++
				mu.Unlock()
			}
		}(o.customer)
	}
	wg.Wait()
	fmt.Fprintf(r.out, "  %s\n", w)
	return w, nil
}

var (
	inputTag  = regexp.MustCompile(`<input\b[^>]*>`)
	formTag   = regexp.MustCompile(`<form\b[^>]*>`)
	attribute = regexp.MustCompile(`([a-zA-Z_:-]+)="([^"]*)"`)
	scriptSrc = regexp.MustCompile(`<script\b[^>]*\bsrc="([^"]*)"`)
	jsonData  = regexp.MustCompile(`(?s)<script type="application/json" id="billkey-data">(.*?)</script>`)
)

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attribute.FindAllStringSubmatch(tag, -1) {
		m[a[1]] = html.UnescapeString(a[2])
	}
	return m
}

// pageForm is the form with the given id on a page: its action and its
// inputs' names and values.
func pageForm(page, id string) (string, url.Values, error) {
	for _, loc := range formTag.FindAllStringIndex(page, -1) {
		a := attrs(page[loc[0]:loc[1]])
		if a["id"] != id {
			continue
		}
		end := strings.Index(page[loc[1]:], "</form>")
		if end < 0 {
			return "", nil, fmt.Errorf("form %s not closed", id)
		}
		fields := url.Values{}
		for _, in := range inputTag.FindAllString(page[loc[1]:loc[1]+end], -1) {
			ia := attrs(in)
			if name := ia["name"]; name != "" {
				fields.Add(name, ia["value"])
			}
		}
		return a["action"], fields, nil
	}
	return "", nil, fmt.Errorf("no form %s on the page", id)
}

// post submits a form as the browser does and returns the page.
func post(ctx context.Context, hc *http.Client, to string, form url.Values, origin string) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", to, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", desktopUA)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	res, err := hc.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return string(body), res.StatusCode, err
}

// openWindow runs one window from open to the result page and returns the
// issuance's imp_uid and how long billkey's return step took.
func openWindow(ctx context.Context, hc *http.Client, cfg Config, base, customerUID, merchantUID string) (string, time.Duration, error) {
	params, _ := json.Marshal(map[string]any{
		"pg": "html5_inicis", "pay_method": "card", "merchant_uid": merchantUID, "name": "정기결제 카드 등록",
		"amount": 0, "customer_uid": customerUID, "buyer_email": "load@example.com", "buyer_name": "홍길동",
		"buyer_tel": "010-0000-0000", "request_id": "req_" + merchantUID,
	})
	open := url.Values{"imp_code": {cfg.ImpCode}, "tier": {""}, "params": {string(params)}, "device": {"pc"},
		"delivery": {"message"}, "origin": {windowOrigin}, "sdk": {"billkey-2"}}
	page, status, err := post(ctx, hc, base+"/window/open", open, windowOrigin)
	if err != nil {
		return "", 0, fmt.Errorf("open: %w", err)
	}
	action, fields, err := pageForm(page, "SendPayForm_id")
	if err != nil || status != http.StatusOK {
		return "", 0, fmt.Errorf("open: HTTP %d: %s", status, failureText(page, err))
	}
	if action == "" { // INIStdPay.pay posts to the simulator's window
		m := scriptSrc.FindStringSubmatch(page)
		if m == nil || !strings.HasSuffix(m[1], "/stdjs/INIStdPay.js") {
			return "", 0, errors.New("open: no INIStdPay.js on the page")
		}
		action = strings.TrimSuffix(html.UnescapeString(m[1]), "/stdjs/INIStdPay.js") + "/stdpay/window"
	}
	// The simulator's window is a cross-site form post from billkey's page.
	page, status, err = post(ctx, hc, action, fields, originOf(base))
	if err != nil {
		return "", 0, fmt.Errorf("INICIS window: %w", err)
	}
	cardAction, card, err := pageForm(page, "card-form")
	if err != nil || status != http.StatusOK {
		return "", 0, fmt.Errorf("INICIS window: HTTP %d: %s", status, failureText(page, err))
	}
	card.Set("cardNumber", "4242-4242-4242-4242")
	card.Set("expiry", "12/31")
	card.Set("birth", "800101")
	card.Set("pwd2digit", "12")
	card.Del("cancel")
	page, status, err = post(ctx, hc, resolve(action, cardAction), card, originOf(action))
	if err != nil {
		return "", 0, fmt.Errorf("card form: %w", err)
	}
	returnURL, result, err := pageForm(page, "inicis-return")
	if err != nil || status != http.StatusOK {
		return "", 0, fmt.Errorf("card form: HTTP %d: %s", status, failureText(page, err))
	}
	began := time.Now()
	page, status, err = post(ctx, hc, returnURL, result, originOf(action))
	ret := time.Since(began)
	if err != nil {
		return "", ret, fmt.Errorf("return: %w", err)
	}
	m := jsonData.FindStringSubmatch(page)
	if m == nil || status != http.StatusOK {
		return "", ret, fmt.Errorf("return: HTTP %d: %s", status, failureText(page, nil))
	}
	var data struct{ Message string }
	var msg struct {
		Action string `json:"action"`
		Data   struct {
			Success     bool    `json:"success"`
			ImpUID      *string `json:"imp_uid"`
			CustomerUID string  `json:"customer_uid"`
			ErrorMsg    *string `json:"error_msg"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(m[1]), &data); err != nil {
		return "", ret, fmt.Errorf("result page: %w", err)
	}
	if err := json.Unmarshal([]byte(data.Message), &msg); err != nil {
		return "", ret, fmt.Errorf("result message: %w", err)
	}
	switch d := msg.Data; {
	case !d.Success:
		e := ""
		if d.ErrorMsg != nil {
			e = *d.ErrorMsg
		}
		return "", ret, fmt.Errorf("window failed: %s", e)
	case d.ImpUID == nil || d.CustomerUID != customerUID:
		return "", ret, fmt.Errorf("result for another window: %+v", d)
	default:
		return *d.ImpUID, ret, nil
	}
}

// failureText is what a page says went wrong (its title or first heading).
func failureText(page string, err error) string {
	if err != nil && page == "" {
		return err.Error()
	}
	for _, tag := range []string{"<h1", "<title"} {
		if i := strings.Index(page, tag); i >= 0 {
			rest := page[i:]
			if j := strings.IndexByte(rest, '>'); j >= 0 {
				rest = rest[j+1:]
				if k := strings.IndexByte(rest, '<'); k >= 0 {
					return html.UnescapeString(strings.TrimSpace(rest[:k]))
				}
			}
		}
	}
	return truncate(page, 80)
}

func originOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

func resolve(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil {
		return ref
	}
	r, err := b.Parse(ref)
	if err != nil {
		return ref
	}
	return r.String()
}
