package inicissim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/inicissim"
)

func TestIntrospection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	key := e.issueKey(t, "4242424242424242")
	if _, err := e.conn.Charge(context.Background(), e.ch, billkey.ChargeRequest{OrderID: "imp_i", BillingKey: key, Amount: 1000, GoodName: "g", Buyer: buyer()}); err != nil {
		t.Fatal(err)
	}
	resp, err := e.http.Get(e.srv.URL + "/_sim/ledger")
	if err != nil {
		t.Fatal(err)
	}
	var l inicissim.Ledger
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(l.Keys) != 1 || l.Keys[0].BillKey != key || len(l.Approvals) != 1 || l.Approvals[0].OrderID != "imp_i" {
		t.Errorf("ledger JSON %+v", l)
	}
	raw, _ := json.Marshal(l)
	if strings.Contains(string(raw), "4242424242424242") {
		t.Error("ledger carries a full card number")
	}

	status, body := e.post(t, e.srv.URL+"/_sim/faults", nil)
	if status != 400 {
		t.Errorf("empty faults body: %d %s", status, body)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/_sim/faults", strings.NewReader(`{"latency":"20ms","status":503,"paths":["/api/v1/refund"],"count":2}`))
	resp, err = e.http.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("set faults: %v %v", resp, err)
	}
	resp.Body.Close()
	if f := e.sim.CurrentFaults(); f.Latency != 20*time.Millisecond || f.Status != 503 || f.Count != 2 {
		t.Errorf("faults %+v", f)
	}
	// Paths filter: billing is unaffected.
	if _, err := e.conn.Charge(context.Background(), e.ch, billkey.ChargeRequest{OrderID: "imp_j", BillingKey: key, Amount: 1000, GoodName: "g", Buyer: buyer()}); err != nil {
		t.Errorf("billing hit by a refund-only fault: %v", err)
	}
	req, _ = http.NewRequest(http.MethodDelete, e.srv.URL+"/_sim/faults", nil)
	if resp, err = e.http.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if f := e.sim.CurrentFaults(); f.Status != 0 {
		t.Errorf("faults not cleared: %+v", f)
	}
	// Header faults.
	if status, _ := e.postHeader(t, e.srv.URL+"/api/v1/billing", url.Values{}, http.Header{inicissim.FaultHeader: {"status=502"}}); status != 502 {
		t.Errorf("header status fault: %d", status)
	}
	if status, _ := e.postHeader(t, e.srv.URL+"/api/v1/billing", url.Values{}, http.Header{inicissim.FaultHeader: {"bogus"}}); status != 400 {
		t.Errorf("bad header: %d", status)
	}
	if status, _ := e.post(t, e.srv.URL+"/_sim/reset", nil); status != 200 {
		t.Errorf("reset: %d", status)
	}
	if l := e.sim.Ledger(); len(l.Keys)+len(l.Approvals) != 0 {
		t.Errorf("after reset %+v", l)
	}
	// Human pages.
	for _, p := range []string{"/", "/receipt?noTid=none"} {
		resp, err := e.http.Get(e.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 1<<16)
		n, _ := resp.Body.Read(b)
		resp.Body.Close()
		if !strings.Contains(string(b[:n]), "<html lang=\"ko\">") || strings.Contains(string(b[:n]), apiKey) || strings.Contains(string(b[:n]), liteKey) {
			t.Errorf("%s: page missing or leaking secrets", p)
		}
	}
}

func TestParseFaultHeader(t *testing.T) {
	t.Parallel()
	f, err := inicissim.ParseFaultHeader("latency=200ms|status=503, drop-after-approve")
	if err != nil || f.Latency != 200*time.Millisecond || f.Status != 503 || !f.Drop {
		t.Errorf("%+v %v", f, err)
	}
	for _, bad := range []string{"latency=fast", "status=200", "status=x", "explode"} {
		if _, err := inicissim.ParseFaultHeader(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	var g inicissim.Faults
	if err := json.Unmarshal([]byte(`{"latency":150,"drop_after_approve":true}`), &g); err != nil || g.Latency != 150*time.Millisecond || !g.Drop {
		t.Errorf("numeric latency: %+v %v", g, err)
	}
	b, _ := json.Marshal(inicissim.Faults{Latency: time.Second, Drop: true})
	if string(b) != `{"latency":"1s","drop_after_approve":true}` {
		t.Errorf("marshal %s", b)
	}
}

func TestHeaderDropFault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	key := e.issueKey(t, "4242424242424242")
	client := &http.Client{Timeout: 300 * time.Millisecond}
	ts := time.Now().In(inicis.KST).Format("20060102150405")
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/billing", strings.NewReader(billingForm(ts, "DROP-1", "1000", key).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(inicissim.FaultHeader, "drop-after-approve")
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("dropped reply arrived")
	}
	l := e.sim.Ledger()
	if len(l.Approvals) != 1 || !l.Approvals[0].ReplyDropped || l.Approvals[0].OrderID != "DROP-1" {
		t.Errorf("ledger %+v", l.Approvals)
	}
	inq, err := e.conn.Inquire(context.Background(), e.ch, "DROP-1")
	if err != nil || inq.State != billkey.InquiryApproved {
		t.Errorf("inquiry %+v %v", inq, err)
	}
}

func getBody(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestPrefixAndPublicURL(t *testing.T) {
	t.Parallel()
	sim := inicissim.New(inicissim.Config{Prefix: "/inicis-sim"})
	mux := http.NewServeMux()
	mux.Handle("/inicis-sim/", http.StripPrefix("/inicis-sim", sim))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	conn := inicis.New(inicis.Config{Test: inicis.SimulatorEndpoints(srv.URL + "/inicis-sim"), Timeout: 5 * time.Second})
	ch := testChannel()
	bk, err := conn.IssueBillingKey(context.Background(), ch, billkey.IssueRequest{OrderID: "p0", Card: billkey.Card{Number: "4242424242424242", Expiry: "2031-12", Birth: "800101"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Charge(context.Background(), ch, billkey.ChargeRequest{OrderID: "p1", BillingKey: bk.Key, Amount: 1000, GoodName: "g", Buyer: buyer()}); err != nil {
		t.Fatal(err)
	}
	if js := getBody(t, srv.URL+"/inicis-sim/stdjs/INIStdPay.js"); !strings.Contains(js, `"`+srv.URL+`/inicis-sim/stdpay/window"`) {
		t.Errorf("JS window URL:\n%s", js)
	}
	pub := httptest.NewServer(inicissim.New(inicissim.Config{PublicURL: "https://billkey.example/inicis-sim/"}))
	t.Cleanup(pub.Close)
	if js := getBody(t, pub.URL+"/stdjs/INIStdPay.js"); !strings.Contains(js, `"https://billkey.example/inicis-sim/stdpay/window"`) {
		t.Errorf("PublicURL not used:\n%s", js)
	}
}

// TestIntrospectionGuards: IntrospectToken makes /_sim/ ask for a bearer
// token; PrivateIntrospection takes /_sim/ and the fault header off
// ServeHTTP, leaving them to IntrospectionHandler.
func TestIntrospectionGuards(t *testing.T) {
	t.Parallel()
	get := func(h http.Handler, path string, header ...string) int {
		req := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	tok := inicissim.New(inicissim.Config{IntrospectToken: "s3cret-token"})
	if c := get(tok, "/_sim/ledger"); c != http.StatusUnauthorized {
		t.Errorf("no token: %d", c)
	}
	if c := get(tok, "/_sim/ledger", "Authorization", "Bearer wrong"); c != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", c)
	}
	if c := get(tok, "/_sim/ledger", "Authorization", "Bearer s3cret-token"); c != http.StatusOK {
		t.Errorf("right token: %d", c)
	}
	if c := get(tok, "/stdjs/INIStdPay.js"); c != http.StatusOK {
		t.Errorf("the protocol endpoints need no token: %d", c)
	}

	priv := inicissim.New(inicissim.Config{PrivateIntrospection: true})
	for _, p := range []string{"/_sim/ledger", "/_sim/faults"} {
		if c := get(priv, p); c != http.StatusNotFound {
			t.Errorf("%s on ServeHTTP: %d", p, c)
		}
		if c := get(priv.IntrospectionHandler(), p); c != http.StatusOK {
			t.Errorf("%s on IntrospectionHandler: %d", p, c)
		}
	}
	if c := get(priv, "/stdjs/INIStdPay.js", inicissim.FaultHeader, "status=503"); c != http.StatusOK {
		t.Errorf("fault header honoured with PrivateIntrospection: %d", c)
	}
	if c := get(priv.IntrospectionHandler(), "/stdjs/INIStdPay.js"); c != http.StatusNotFound {
		t.Errorf("IntrospectionHandler serves protocol paths: %d", c)
	}
}
