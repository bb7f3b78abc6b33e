package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/api"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/internal/teststore"
	"github.com/billkey/billkey/sqlstore"
)

type testBundle struct {
	srv     *httptest.Server
	svc     *gateway.Service
	a, b    *gateway.CreatedMerchant
	now     time.Time
	tokenA  string
	paidA   *billkey.Payment
	paidB   *billkey.Payment
	clockMu chan struct{}
}

func setup(t *testing.T, dsn string) *testBundle {
	t.Helper()
	ctx := context.Background()
	st, keys := teststore.Open(t, dsn)
	var err error
	tb := &testBundle{now: time.Unix(1_800_000_000, 0)}
	svc := gateway.New(st, keys, nil, nil)
	svc.Now = func() time.Time { return tb.now }
	st.Now = svc.Now
	tb.svc = svc
	if tb.a, err = svc.CreateMerchant(ctx, gateway.NewMerchant{Name: "A"}); err != nil {
		t.Fatal(err)
	}
	if tb.b, err = svc.CreateMerchant(ctx, gateway.NewMerchant{Name: "B", ImpCode: "imp12345678", ImpKey: "imp_apikey", ImpSecret: "moved-from-iamport-secret"}); err != nil {
		t.Fatal(err)
	}
	tb.paidA = insertPaid(t, st, tb.a.Merchant.ID, "imps_100000000001", "order-1", tb.now)
	tb.paidB = insertPaid(t, st, tb.b.Merchant.ID, "imps_200000000001", "order-1", tb.now)
	srv := api.NewServer(svc, nil, api.NewMetrics())
	cli.MountAPI(srv)
	tb.srv = httptest.NewServer(srv)
	t.Cleanup(tb.srv.Close)
	tb.tokenA = tb.token(t, tb.a)
	return tb
}

func insertPaid(t *testing.T, st *sqlstore.Store, merchantID int64, impUID, merchantUID string, at time.Time) *billkey.Payment {
	t.Helper()
	chs, err := st.Channels(context.Background(), merchantID)
	if err != nil || len(chs) == 0 {
		t.Fatalf("channels: %v", err)
	}
	p := &billkey.Payment{MerchantID: merchantID, ChannelID: chs[0].ID, ImpUID: impUID, MerchantUID: merchantUID, PayMethod: "card",
		Channel: "api", PGProvider: "html5_inicis", PGID: "INIBillTst", Name: "월간 이용권", Amount: 9900, Currency: "KRW",
		Status: billkey.StatusReady, StartedAt: at, CustomerUID: "cust", CustomerUIDUsage: "payment"}
	if err := st.CreatePayment(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	p.Status, p.PaidAt, p.PGTID, p.ApplyNum = billkey.StatusPaid, at, "INIAPICARDINIBillTst20270115080000123456", "30123157"
	if _, err := st.FinishPayment(context.Background(), p, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

type reply struct {
	status int
	Code   int             `json:"code"`
	Msg    *string         `json:"message"`
	Resp   json.RawMessage `json:"response"`
	header http.Header
}

func (r *reply) message() string {
	if r.Msg == nil {
		return ""
	}
	return *r.Msg
}

func do(t *testing.T, req *http.Request) *reply {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	r := &reply{status: res.StatusCode, header: res.Header}
	if err := json.Unmarshal(body, r); err != nil {
		t.Fatalf("%s %s: not an envelope (%d): %s", req.Method, req.URL.Path, res.StatusCode, body)
	}
	return r
}

func (tb *testBundle) get(t *testing.T, path, token string) *reply {
	t.Helper()
	req, _ := http.NewRequest("GET", tb.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	return do(t, req)
}

func (tb *testBundle) post(t *testing.T, path, contentType, body string) *reply {
	t.Helper()
	req, _ := http.NewRequest("POST", tb.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	return do(t, req)
}

func (tb *testBundle) token(t *testing.T, m *gateway.CreatedMerchant) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"imp_key": m.Merchant.APIKey, "imp_secret": m.ImpSecret})
	r := tb.post(t, "/users/getToken", "application/json", string(body))
	if r.status != 200 || r.Code != 0 {
		t.Fatalf("getToken: %d %+v", r.status, r)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		Now         int64  `json:"now"`
		ExpiredAt   int64  `json:"expired_at"`
	}
	_ = json.Unmarshal(r.Resp, &tok)
	return tok.AccessToken
}

func TestGetToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		tb := setup(t, dsn)
		key, secret := tb.a.Merchant.APIKey, tb.a.ImpSecret
		// JSON, with the reply shape and the null message i'mport sends.
		r := tb.post(t, "/users/getToken", "application/json", fmt.Sprintf(`{"imp_key":%q,"imp_secret":%q}`, key, secret))
		var tok struct {
			AccessToken string `json:"access_token"`
			Now         int64  `json:"now"`
			ExpiredAt   int64  `json:"expired_at"`
		}
		_ = json.Unmarshal(r.Resp, &tok)
		if r.status != 200 || r.Code != 0 || r.Msg != nil || !regexp.MustCompile(`^[a-f0-9]{40}$`).MatchString(tok.AccessToken) ||
			tok.Now != tb.now.Unix() || tok.ExpiredAt != tb.now.Unix()+1800 {
			t.Fatalf("json getToken: %d %+v %+v", r.status, r, tok)
		}
		if r.header.Get("Content-Length") == "" {
			t.Fatal("getToken reply must carry a Content-Length (iamport 0.3.4 reads the first chunk only)")
		}
		// go-iamport's mangled form body, with spaces before keys; same token.
		r = tb.post(t, "/users/getToken", "application/x-www-form-urlencoded", "imp_key="+key+"& imp_secret="+secret)
		var tok2 struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.Unmarshal(r.Resp, &tok2)
		if r.status != 200 || tok2.AccessToken != tok.AccessToken {
			t.Fatalf("form getToken: %d %+v", r.status, r)
		}
		// Moved-from-i'mport credentials work as given.
		r = tb.post(t, "/users/getToken", "application/json", `{"imp_key":"imp_apikey","imp_secret":"moved-from-iamport-secret"}`)
		if r.status != 200 || r.Code != 0 {
			t.Fatalf("kept credentials: %d %+v", r.status, r)
		}
		// Wrong secret, unknown key: 401 with the envelope.
		for _, body := range []string{
			fmt.Sprintf(`{"imp_key":%q,"imp_secret":"wrong"}`, key),
			`{"imp_key":"nobody","imp_secret":"x"}`,
		} {
			r = tb.post(t, "/users/getToken", "application/json", body)
			if r.status != 401 || r.Code != -1 || !strings.Contains(r.message(), "인증에 실패") || string(r.Resp) != "null" {
				t.Fatalf("bad credentials %s: %d %+v", body, r.status, r)
			}
		}
		// Missing key or secret: i'mport's message, not 401.
		for body, ct := range map[string]string{`{}`: "application/json", `{"imp_key":"x"}`: "application/json",
			`imp_secret=`: "application/x-www-form-urlencoded", `imp_key= &imp_secret=`: ""} {
			r = tb.post(t, "/users/getToken", ct, body)
			if r.status != 400 || r.Code != -1 || r.message() != "imp_key, imp_secret 파라메터가 누락되었습니다." {
				t.Fatalf("missing %s: %d %+v", body, r.status, r)
			}
		}
		// Bad JSON is an envelope, never a 500.
		r = tb.post(t, "/users/getToken", "application/json", `{"imp_key":`)
		if r.status != 400 || r.Code != -1 {
			t.Fatalf("bad json: %d %+v", r.status, r)
		}
	})
}

func TestTokenReuseAndExpiry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		tb := setup(t, dsn)
		first := tb.tokenA
		tb.now = tb.now.Add(29*time.Minute + 30*time.Second)
		if again := tb.token(t, tb.a); again != first {
			t.Fatal("a token asked for before expiry must be the same token")
		}
		// Extended by 5 minutes: still valid 31 minutes after issue.
		tb.now = tb.now.Add(2 * time.Minute)
		if r := tb.get(t, "/payments/"+tb.paidA.ImpUID, first); r.status != 200 {
			t.Fatalf("extended token refused: %d %+v", r.status, r)
		}
		tb.now = tb.now.Add(10 * time.Minute)
		r := tb.get(t, "/payments/"+tb.paidA.ImpUID, first)
		if r.status != 401 || r.Code != -1 {
			t.Fatalf("expired token: %d %+v", r.status, r)
		}
		if fresh := tb.token(t, tb.a); fresh == first {
			t.Fatal("after expiry getToken must issue a new token")
		}
	})
}

func TestAuthentication(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		tb := setup(t, dsn)
		path := "/payments/" + tb.paidA.ImpUID
		forms := map[string]func(*http.Request){
			"raw Authorization":    func(r *http.Request) { r.Header.Set("Authorization", tb.tokenA) },
			"Bearer Authorization": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tb.tokenA) },
			"X-ImpTokenHeader":     func(r *http.Request) { r.Header.Set("X-ImpTokenHeader", tb.tokenA) },
			"_token query":         func(r *http.Request) { r.URL.RawQuery = "_token=" + tb.tokenA },
			"Authorization wins": func(r *http.Request) {
				r.Header.Set("Authorization", tb.tokenA)
				r.Header.Set("X-ImpTokenHeader", "0000000000000000000000000000000000000000")
			},
		}
		for name, set := range forms {
			req, _ := http.NewRequest("GET", tb.srv.URL+path, nil)
			set(req)
			if r := do(t, req); r.status != 200 || r.Code != 0 {
				t.Errorf("%s: %d %+v", name, r.status, r)
			}
		}
		// Every route without a valid token is 401 with the envelope, before
		// any path or parameter validation, including unknown routes.
		for _, p := range []string{path, "/payments/status/bogus", "/subscribe/customers/", "/no/such/route", "/payments",
			"/subscribe/payments/again"} {
			for _, tok := range []string{"", "0123456789abcdef0123456789abcdef01234567", "short"} {
				r := tb.get(t, p, tok)
				if r.status != 401 || r.Code != -1 || r.message() == "" || r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("GET %s with token %q: %d %+v", p, tok, r.status, r)
				}
			}
		}
		req, _ := http.NewRequest("POST", tb.srv.URL+"/subscribe/payments/again", strings.NewReader("{"))
		if r := do(t, req); r.status != 401 {
			t.Errorf("POST without token and with a bad body: %d", r.status)
		}
	})
}

func TestMerchantIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		tb := setup(t, dsn)
		tokB := tb.token(t, tb.b)
		// B's payment is invisible to A, by every lookup.
		for _, p := range []string{
			"/payments/" + tb.paidB.ImpUID,
			"/payments?imp_uid[]=" + tb.paidB.ImpUID,
		} {
			if r := tb.get(t, p, tb.tokenA); r.status != 404 {
				t.Errorf("A sees B's payment at %s: %d %s", p, r.status, r.Resp)
			}
		}
		// Both use merchant_uid order-1: each sees only its own.
		for tok, want := range map[string]string{tb.tokenA: tb.paidA.ImpUID, tokB: tb.paidB.ImpUID} {
			for _, p := range []string{"/payments/find/order-1", "/payments/status/all"} {
				r := tb.get(t, p, tok)
				if r.status != 200 || !strings.Contains(string(r.Resp), want) ||
					strings.Contains(string(r.Resp), map[bool]string{true: tb.paidB.ImpUID, false: tb.paidA.ImpUID}[want == tb.paidA.ImpUID]) {
					t.Errorf("%s: %d %s", p, r.status, r.Resp)
				}
			}
		}
	})
}

func TestPaymentLookups(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		tb := setup(t, dsn)
		tok := tb.tokenA
		r := tb.get(t, "/payments/imp_000000000000", tok)
		if r.status != 404 || r.Code != -1 || r.message() != "존재하지 않는 결제정보입니다." || string(r.Resp) != "null" {
			t.Fatalf("unknown imp_uid: %d %+v", r.status, r)
		}
		r = tb.get(t, "/payments/"+tb.paidA.ImpUID, tok)
		var p map[string]any
		if err := json.Unmarshal(r.Resp, &p); err != nil || r.status != 200 {
			t.Fatalf("payment: %d %v", r.status, err)
		}
		// Every legacy field is present, with i'mport's types.
		for _, f := range []string{"amount", "apply_num", "bank_code", "bank_name", "buyer_addr", "buyer_email", "buyer_name",
			"buyer_postcode", "buyer_tel", "cancel_amount", "cancel_history", "cancel_reason", "cancel_receipt_urls",
			"cancelled_at", "card_code", "card_name", "card_number", "card_quota", "card_type", "cash_receipt_issued", "channel",
			"currency", "custom_data", "customer_uid", "customer_uid_usage", "escrow", "fail_reason", "failed_at", "imp_uid",
			"merchant_uid", "name", "paid_at", "pay_method", "pg_id", "pg_provider", "pg_tid", "receipt_url", "started_at",
			"status", "user_agent", "vbank_code", "vbank_date", "vbank_holder", "vbank_issued_at", "vbank_name", "vbank_num"} {
			if _, ok := p[f]; !ok {
				t.Errorf("payment lacks %s", f)
			}
		}
		if len(p) != 46 {
			t.Errorf("payment has %d fields, want exactly the 46 legacy ones (go-iamport rejects unknown fields)", len(p))
		}
		if p["paid_at"] != float64(tb.now.Unix()) || p["failed_at"] != float64(0) || p["status"] != "paid" || p["amount"] != float64(9900) ||
			p["channel"] != "api" || p["customer_uid_usage"] != "payment" {
			t.Errorf("payment values: %v", p)
		}
		// Trailing slashes are the same route.
		if r := tb.get(t, "/payments/"+tb.paidA.ImpUID+"/", tok); r.status != 200 {
			t.Errorf("trailing slash: %d", r.status)
		}
		r = tb.get(t, "/payments/status/bogus", tok)
		if r.status != 400 || r.Code == 0 || r.message() != "지원되지 않는 상태값입니다." {
			t.Errorf("bogus status: %d %+v", r.status, r)
		}
		for _, p := range []string{"/payments/status/all/", "/payments/status/all", "/payments/status/paid?page=1&limit=5&sorting=-paid",
			"/payments/status/all?page=0"} { // page=0 (clients' default) is the first page
			r = tb.get(t, p, tok)
			var page struct {
				Total, Previous, Next int
				List                  []map[string]any
			}
			_ = json.Unmarshal(r.Resp, &page)
			if r.status != 200 || page.Total != 1 || len(page.List) != 1 || page.Next != 0 || page.Previous != 0 {
				t.Errorf("%s: %d %s", p, r.status, r.Resp)
			}
		}
		for _, p := range []string{"/payments/status/all?page=-1", "/payments/status/all?limit=1001", "/payments/status/all?sorting=x",
			"/payments/status/all?from=abc", "/payments/status/all?from=1&to=100000000"} {
			if r := tb.get(t, p, tok); r.status != 400 || r.Code == 0 {
				t.Errorf("%s: %d %+v", p, r.status, r)
			}
		}
		// Multi-get: 200 all found, 207 some, 404 none.
		cases := map[string]int{
			"imp_uid[]=" + tb.paidA.ImpUID:                                 200,
			"imp_uid[]=" + tb.paidA.ImpUID + "&imp_uid[]=imps_nope":        207,
			"merchant_uid[]=order-1&merchant_uid[]=nope":                   207,
			"imp_uid[]=imps_nope":                                          404,
			url.Values{"imp_uid[]": {tb.paidA.ImpUID}}.Encode():            200,
			"imp_uid%5B%5D=" + tb.paidA.ImpUID + "&merchant_uid[]=order-1": 200,
		}
		for q, want := range cases {
			if r := tb.get(t, "/payments?"+q, tok); r.status != want {
				t.Errorf("GET /payments?%s: %d want %d (%s)", q, r.status, want, r.Resp)
			}
		}
		if r := tb.get(t, "/payments/find/order-1/paid", tok); r.status != 200 {
			t.Errorf("find with status: %d", r.status)
		}
		if r := tb.get(t, "/payments/find/order-1/failed", tok); r.status != 404 || r.message() != "존재하지 않는 결제정보입니다." {
			t.Errorf("find with other status: %d %+v", r.status, r)
		}
		if r := tb.get(t, "/payments/findAll/order-1", tok); r.status != 200 || !strings.Contains(string(r.Resp), `"total":1`) {
			t.Errorf("findAll: %d %s", r.status, r.Resp)
		}
		// findAll of an unknown merchant_uid (or of a status it never had)
		// is i'mport's 404, not an empty page.
		for _, p := range []string{"/payments/findAll/nope", "/payments/findAll/order-1/failed"} {
			if r := tb.get(t, p, tok); r.status != 404 || r.Code != -1 || r.message() != "존재하지 않는 결제정보입니다." {
				t.Errorf("%s: %d %+v", p, r.status, r)
			}
		}
		// A payment asked twice (same id twice, or by both its ids) appears once.
		for _, q := range []string{"imp_uid[]=" + tb.paidA.ImpUID + "&imp_uid[]=" + tb.paidA.ImpUID,
			"imp_uid[]=" + tb.paidA.ImpUID + "&merchant_uid[]=order-1"} {
			r := tb.get(t, "/payments?"+q, tok)
			var list []map[string]any
			_ = json.Unmarshal(r.Resp, &list)
			if r.status != 200 || len(list) != 1 {
				t.Errorf("GET /payments?%s: %d, %d items (%s)", q, r.status, len(list), r.Resp)
			}
		}
		// NUL can't be stored in PostgreSQL text: refused as bad input, never a 500.
		for _, p := range []string{"/payments/a%00b", "/payments/find/x%00", "/payments?imp_uid[]=%00"} {
			if r := tb.get(t, p, tok); r.status != 400 || r.Code != -1 {
				t.Errorf("%s: %d %+v", p, r.status, r)
			}
		}
		if r := tb.get(t, "/no/such/route", tok); r.status != 404 || r.Code != -1 {
			t.Errorf("unknown route: %d %+v", r.status, r)
		}
	})
}

func TestHealthzAndMetrics(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		tb := setup(t, dsn)
		res, err := http.Get(tb.srv.URL + "/healthz")
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("healthz: %v %v", res, err)
		}
		res.Body.Close()
	})
}
