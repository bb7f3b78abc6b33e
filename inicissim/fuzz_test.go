package inicissim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/inicissim"
)

// serve runs one request through the simulator in process. A held reply
// aborts with http.ErrAbortHandler, which is not a failure.
func serve(t *testing.T, sim *inicissim.Simulator, req *http.Request) (rec *httptest.ResponseRecorder) {
	t.Helper()
	rec = httptest.NewRecorder()
	defer func() {
		if p := recover(); p != nil {
			if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				return
			}
			panic(p)
		}
	}()
	sim.ServeHTTP(rec, req)
	return rec
}

func fuzzSim() *inicissim.Simulator {
	return inicissim.New(inicissim.Config{HoldMax: time.Millisecond})
}

// checkJSONReply asserts an INICIS-shaped reply: HTTP 200, a JSON object
// with a non-empty resultCode.
func checkJSONReply(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if rec.Code != 200 {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("reply is not JSON: %v: %s", err, rec.Body)
	}
	if s, _ := m["resultCode"].(string); s == "" {
		t.Fatalf("reply without resultCode: %s", rec.Body)
	}
	return m
}

func FuzzINIAPIv1(f *testing.F) {
	sim := fuzzSim()
	ts := time.Now().In(inicis.KST).Format("20060102150405")
	f.Add(uint8(0), billingForm(ts, "F1", "1000", strings.Repeat("a", 40)).Encode())
	f.Add(uint8(0), "type=Auth&paymethod=Card&timestamp="+ts+"&clientIp=1&mid=INIBillTst&moid=m&price=0&cardNumber=5l8uENBFbTe50%2F9F3%2F7o0g%3D%3D&cardExpire=x&regNo=y&hashData=z")
	f.Add(uint8(1), "type=PartialRefund&paymethod=Card&timestamp="+ts+"&clientIp=1&mid=INIBillTst&tid=t&price=-1&confirmPrice=99999999999999&hashData=h")
	f.Add(uint8(1), "type=Refund&%zz")
	f.Add(uint8(0), "")
	paths := []string{"/api/v1/billing", "/api/v1/refund"}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		req := httptest.NewRequest(http.MethodPost, paths[int(which)%len(paths)], strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		m := checkJSONReply(t, serve(t, sim, req))
		if m["resultCode"] == "00" {
			t.Fatalf("fuzzed request succeeded: %v", m)
		}
	})
}

func FuzzINIAPIv2(f *testing.F) {
	sim := fuzzSim()
	ts := time.Now().In(inicis.KST).Format("20060102150405")
	f.Add(uint8(0), v2Body("inquiry", ts, `{"oid":"x"}`))
	f.Add(uint8(1), v2Body("billing", ts, `{"moid":"m","goodName":"g","buyerName":"b","buyerEmail":"e","buyerTel":"t","price":"1000","billKey":"k"}`))
	f.Add(uint8(2), v2Body("refund", ts, `{"tid":"t","msg":"m"}`))
	f.Add(uint8(3), v2Body("partialRefund", ts, `{"tid":"t","price":1e99,"confirmPrice":null}`))
	f.Add(uint8(0), `{"mid":"INIBillTst","data":[1,2,3]}`)
	f.Add(uint8(0), `{"data":`)
	paths := []string{"/v2/pg/inquiry", "/v2/pg/billing", "/v2/pg/refund", "/v2/pg/partialRefund"}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		req := httptest.NewRequest(http.MethodPost, paths[int(which)%len(paths)], strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		checkJSONReply(t, serve(t, sim, req))
	})
}

func FuzzWindows(f *testing.F) {
	sim := fuzzSim()
	conn := inicis.New(inicis.Config{Test: inicis.SimulatorEndpoints("http://example.com")})
	std, _ := conn.StdPayForm(testChannel(), inicis.StdPayRequest{OrderID: "o", ReturnURL: "https://m.example/r"})
	lite, _ := conn.LiteForm(testChannel(), inicis.LiteRequest{OrderID: "o", ReturnURL: "https://m.example/r"})
	f.Add(uint8(0), std.Fields.Encode())
	f.Add(uint8(3), lite.Fields.Encode())
	f.Add(uint8(1), "sid=x&cardNumber=4242424242424242&expiry=12%2F31&birth=800101&pwd2digit=12")
	f.Add(uint8(4), "sid=&cardNumber=%EF%BF%BD&expiryMonth=99&expiryYear=1")
	f.Add(uint8(6), "mid=INIBillTst&authToken=a&timestamp=1700000000000&signature=s")
	f.Add(uint8(0), "returnUrl=javascript%3Aalert(1)&mid=INIBillTst")
	paths := []string{"/stdpay/window", "/stdpay/window/auth", "/stdpay/window/cancel", "/inibill/inibill_card.jsp", "/inibill/auth", "/inibill/cancel", "/api/payAuth", "/api/netCancel"}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		path := paths[int(which)%len(paths)]
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := serve(t, sim, req)
		if strings.HasPrefix(path, "/api/") {
			checkJSONReply(t, rec)
			return
		}
		if rec.Code >= 500 {
			t.Fatalf("HTTP %d", rec.Code)
		}
		if bytes.Contains(bytes.ToLower(rec.Body.Bytes()), []byte(`action="javascript:`)) {
			t.Fatalf("page posts to a javascript: URL")
		}
	})
}

func FuzzFaultSwitches(f *testing.F) {
	f.Add("latency=200ms|status=503|drop-after-approve", `{"latency":"1s","status":503,"paths":["/api"],"count":1}`)
	f.Add("drop", `{"latency":12.5}`)
	f.Add("status=99999999999999999999", `{"latency":[]}`)
	f.Fuzz(func(t *testing.T, header, body string) {
		if fl, err := inicissim.ParseFaultHeader(header); err == nil {
			if fl.Latency < 0 || (fl.Status != 0 && (fl.Status < 400 || fl.Status > 599)) {
				t.Fatalf("invalid faults accepted: %+v", fl)
			}
		}
		var fl inicissim.Faults
		if err := json.Unmarshal([]byte(body), &fl); err == nil {
			if fl.Latency < 0 || fl.Count < 0 {
				t.Fatalf("invalid faults accepted: %+v", fl)
			}
		}
		_ = url.QueryEscape(header)
	})
}
