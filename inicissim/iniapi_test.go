package inicissim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/inicissim"
)

type apiReply map[string]any

func (r apiReply) s(k string) string { v, _ := r[k].(string); return v }

func (e *env) api(t *testing.T, path string, v url.Values) apiReply {
	t.Helper()
	status, body := e.post(t, e.srv.URL+path, v)
	if status != 200 {
		t.Fatalf("%s: HTTP %d %s", path, status, body)
	}
	var r apiReply
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("%s: %v: %s", path, err, body)
	}
	return r
}

func (e *env) issueKey(t *testing.T, number string) string {
	t.Helper()
	bk, err := e.conn.IssueBillingKey(context.Background(), e.ch, billkey.IssueRequest{OrderID: "issue", Card: billkey.Card{Number: number, Expiry: "2031-12", Birth: "800101", Pwd2Digit: "12"}})
	if err != nil {
		t.Fatal(err)
	}
	return bk.Key
}

// billingForm builds a type=Billing form by hand with its hash.
func billingForm(ts, moid, price, billKey string) url.Values {
	v := url.Values{
		"type": {"Billing"}, "paymethod": {"Card"}, "timestamp": {ts}, "clientIp": {"127.0.0.1"}, "mid": {mid},
		"moid": {moid}, "goodName": {"테스트"}, "buyerName": {"홍길동"}, "buyerEmail": {"a@b.com"}, "buyerTel": {"01012345678"},
		"price": {price}, "billKey": {billKey}, "authentification": {"00"}, "cardQuota": {"00"},
	}
	v.Set("hashData", hexSHA512(apiKey+"Billing"+"Card"+ts+"127.0.0.1"+mid+moid+price+billKey))
	return v
}

func TestTamperingIsRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	key := e.issueKey(t, "4242424242424242")
	ts := time.Now().In(inicis.KST).Format("20060102150405")

	tampered := billingForm(ts, "ORDER-T1", "1000", key)
	tampered.Set("price", "100")
	if r := e.api(t, "/api/v1/billing", tampered); r.s("resultCode") != "01" || !strings.Contains(r.s("resultMsg"), "hashData") {
		t.Errorf("changed price: %v", r)
	}
	tampered = billingForm(ts, "ORDER-T1", "1000", key)
	tampered.Set("moid", "ORDER-T2")
	if r := e.api(t, "/api/v1/billing", tampered); r.s("resultCode") != "01" || !strings.Contains(r.s("resultMsg"), "hashData") {
		t.Errorf("changed moid: %v", r)
	}
	tampered = billingForm(ts, "ORDER-T1", "1000", key)
	tampered.Set("mid", "INIpayTest")
	if r := e.api(t, "/api/v1/billing", tampered); r.s("resultCode") != "01" {
		t.Errorf("changed mid: %v", r)
	}
	if n := len(e.sim.Ledger().Approvals); n != 0 {
		t.Fatalf("tampered requests approved %d charges", n)
	}
	if r := e.api(t, "/api/v1/billing", billingForm(ts, "ORDER-T1", "1000", key)); r.s("resultCode") != "00" {
		t.Fatalf("untampered request: %v", r)
	}

	// Refund hash covers the tid and, for partials, price and confirmPrice.
	a := e.sim.Ledger().Approvals[0]
	rf := url.Values{"type": {"PartialRefund"}, "paymethod": {"Card"}, "timestamp": {ts}, "clientIp": {"127.0.0.1"}, "mid": {mid},
		"tid": {a.TID}, "msg": {"x"}, "price": {"100"}, "confirmPrice": {"900"}}
	rf.Set("hashData", hexSHA512(apiKey+"PartialRefund"+"Card"+ts+"127.0.0.1"+mid+a.TID+"100"+"900"))
	rf.Set("price", "900")
	rf.Set("confirmPrice", "100")
	if r := e.api(t, "/api/v1/refund", rf); r.s("resultCode") != "01" || !strings.Contains(r.s("resultMsg"), "hashData") {
		t.Errorf("changed refund price: %v", r)
	}
	if n := len(e.sim.Ledger().Refunds); n != 0 {
		t.Errorf("tampered refund recorded")
	}
}

func TestRequestValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	key := e.issueKey(t, "4242424242424242")
	ts := time.Now().In(inicis.KST).Format("20060102150405")

	blank := billingForm(ts, "O1", "1000", key)
	blank.Set("buyerName", "")
	blank.Set("buyerEmail", " ")
	r := e.api(t, "/api/v1/billing", blank)
	if r.s("resultCode") != "ER0102" || r.s("resultMsg") != "파라미터 값이 잘못 되었습니다." {
		t.Fatalf("blank buyer: %v", r)
	}
	details, _ := r["errorDetails"].([]any)
	if len(details) != 2 || !strings.Contains(mustJSON(details), `"contents":"공백일 수 없습니다"`) {
		t.Errorf("errorDetails %v", details)
	}
	for _, bad := range []string{"2026031412000", "1773448013000", "2026-03-14 12:", "20261399120000"} {
		if r := e.api(t, "/api/v1/billing", billingForm(bad, "O2", "1000", key)); r.s("resultCode") != "ERR101" {
			t.Errorf("timestamp %q: %v", bad, r)
		}
	}
	unknown := billingForm(ts, "O3", "1000", key)
	unknown.Set("mid", "NOSUCHMID1")
	if r := e.api(t, "/api/v1/billing", unknown); r.s("resultCode") != "01" || !strings.Contains(r.s("resultMsg"), "상점아이디") {
		t.Errorf("unknown mid: %v", r)
	}
	if r := e.api(t, "/api/v1/billing", billingForm(ts, "O4", "1,000", key)); r.s("resultCode") != "ER0102" {
		t.Errorf("price with comma: %v", r)
	}
	if r := e.api(t, "/api/v1/billing", billingForm(ts, "O5", "0", key)); r.s("resultCode") != "01" || r.s("resultMsg") != "[1113][실시간빌링실패|요청금액 0원 이하]" || len(r.s("tid")) != 40 {
		t.Errorf("zero price: %v", r)
	}
	if r := e.api(t, "/api/v1/billing", url.Values{"type": {"Pay"}}); r.s("resultCode") != "01" {
		t.Errorf("unknown type: %v", r)
	}
	// JSON is not accepted by v1.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/billing", strings.NewReader(`{"type":"Billing"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var jr apiReply
	_ = json.NewDecoder(resp.Body).Decode(&jr)
	resp.Body.Close()
	if jr.s("resultCode") != "ER0102" {
		t.Errorf("JSON body: %v", jr)
	}
	// Clock skew, when configured.
	skewed := newEnv(t, inicissim.Config{MaxSkew: 5 * time.Minute})
	old := time.Now().Add(-time.Hour).In(inicis.KST).Format("20060102150405")
	if r := skewed.api(t, "/api/v1/billing", billingForm(old, "O6", "1000", key)); r.s("resultCode") != "01" || !strings.Contains(r.s("resultMsg"), "timestamp") {
		t.Errorf("skew: %v", r)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestDuplicateMoidExactlyOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	key := e.issueKey(t, "4242424242424242")
	var wg sync.WaitGroup
	results := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.conn.Charge(context.Background(), e.ch, billkey.ChargeRequest{OrderID: "imp_same", BillingKey: key, Amount: 1000, GoodName: "g", Buyer: buyer()})
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	ok, dup := 0, 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case strings.Contains(billkey.ErrorMessage(err), "[1196]"):
			dup++
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	if ok != 1 || dup != 15 || len(e.sim.Ledger().Approvals) != 1 {
		t.Errorf("ok %d dup %d approvals %d", ok, dup, len(e.sim.Ledger().Approvals))
	}
}

// v2 requests, built by hand.
func v2Body(typ, ts, data string) string {
	return `{"mid":"` + mid + `","type":"` + typ + `","paymethod":"Card","timestamp":"` + ts + `","clientIp":"127.0.0.1","data":` + data +
		`,"hashData":"` + hexSHA512(apiKey+mid+typ+ts+data) + `"}`
}

func (e *env) v2(t *testing.T, path, body string) apiReply {
	t.Helper()
	resp, err := e.http.Post(e.srv.URL+path, "application/json;charset=utf-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r apiReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestV2Endpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inicissim.Config{})
	key := e.issueKey(t, "4579731234567892")
	ts := time.Now().In(inicis.KST).Format("20060102150405")
	data := `{"url":"www.example.com","moid":"V2-1","goodName":"테스트/상품","buyerName":"홍길동","buyerEmail":"a@b.com","buyerTel":"01012345678","price":"1000","billKey":"` + key + `","authentification":"00","cardQuota":"00","quotaInterest":"0"}`
	r := e.v2(t, "/v2/pg/billing", v2Body("billing", ts, data))
	if r.s("resultCode") != "00" || r.s("cardCode") != "06" {
		t.Fatalf("v2 billing: %v", r)
	}
	tid := r.s("tid")
	// Java/Node clients hash the data with backslashes removed.
	escaped := strings.Replace(data, "V2-1", "V2-2", 1)
	escaped = strings.Replace(escaped, "테스트/상품", `테스트\/상품`, 1)
	body := `{"mid":"` + mid + `","type":"billing","timestamp":"` + ts + `","clientIp":"127.0.0.1","data":` + escaped +
		`,"hashData":"` + hexSHA512(apiKey+mid+"billing"+ts+strings.ReplaceAll(escaped, `\`, "")) + `"}`
	if r := e.v2(t, "/v2/pg/billing", body); r.s("resultCode") != "00" {
		t.Errorf("backslash-stripped hash variant: %v", r)
	}
	tamperedBody := strings.Replace(v2Body("billing", ts, strings.Replace(data, "V2-1", "V2-3", 1)), `"price":"1000"`, `"price":"10"`, 1)
	if r := e.v2(t, "/v2/pg/billing", tamperedBody); r.s("resultCode") != "01" {
		t.Errorf("tampered v2: %v", r)
	}
	if r := e.v2(t, "/v2/pg/refund", v2Body("refund", ts, `{"tid":"`+tid+`","msg":"x","price":"100","confirmPrice":"900"}`)); r.s("resultCode") != "01" {
		t.Errorf("partial on the full-refund path: %v", r)
	}
	if r := e.v2(t, "/v2/pg/partialRefund", v2Body("partialRefund", ts, `{"tid":"`+tid+`","msg":"x","price":"400","confirmPrice":"600"}`)); r.s("resultCode") != "00" || r.s("prtcRemains") != "600" {
		t.Errorf("v2 partial refund: %v", r)
	}
	if r := e.v2(t, "/v2/pg/refund", v2Body("refund", ts, `{"tid":"`+tid+`","msg":"x"}`)); r.s("resultCode") != "00" {
		t.Errorf("v2 refund: %v", r)
	}
	if r := e.v2(t, "/v2/pg/refund", v2Body("refund", ts, `{"tid":"`+tid+`","msg":"x"}`)); r.s("resultMsg") != "기 취소 거래" || r.s("detailResultCode") != "500626" {
		t.Errorf("v2 second refund: %v", r)
	}
	if r := e.v2(t, "/v2/pg/inquiry", v2Body("inquiry", ts, `{"tid":"`+tid+`"}`)); r.s("transactionStatus") != "CANCEL" || r.s("oid") != "V2-1" {
		t.Errorf("inquiry by tid: %v", r)
	}
	if r := e.v2(t, "/v2/pg/inquiry", v2Body("inquiry", ts, `{"tid":"x","oid":"y"}`)); r.s("resultCode") != "ER0102" {
		t.Errorf("inquiry with both: %v", r)
	}
	if r := e.v2(t, "/v2/pg/inquiry", v2Body("inquiry", ts, `{"oid":"nothing"}`)); r.s("resultCode") != inicis.InquiryNotFoundCode {
		t.Errorf("inquiry not found: %v", r)
	}
	if r := e.v2(t, "/v2/pg/inquiry", `{"mid":`); r.s("resultCode") != "ER0102" {
		t.Errorf("broken JSON: %v", r)
	}
	l := e.sim.Ledger()
	if len(l.Approvals) != 2 || l.Approvals[0].State != inicissim.StateCancelled || len(l.Refunds) != 2 {
		t.Errorf("ledger %+v", l)
	}
}
