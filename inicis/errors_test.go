package inicis_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
)

func chargeReq() billkey.ChargeRequest {
	return billkey.ChargeRequest{OrderID: "imp_err", BillingKey: "k", Amount: 1000, GoodName: "g", Buyer: buyer()}
}

func TestConnectionRefusedIsPGNotUncertain(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := newConnector("http://"+addr, 2*time.Second)
	_, err = c.Charge(context.Background(), testChannel(), chargeReq())
	if errCode(err) != billkey.EPG || !errors.Is(err, inicis.ErrNotSent) {
		t.Fatalf("err = %v (code %s), want EPG wrapping ErrNotSent", err, errCode(err))
	}
	if !strings.Contains(billkey.ErrorMessage(err), "전달되지 않아") {
		t.Errorf("message %q does not say nothing was sent", billkey.ErrorMessage(err))
	}
}

func TestReplyClassification(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		code   string
		sent   error
	}{
		// 503: INICIS (or its load balancer) declined to process: nothing
		// was approved, so the charge fails at once.
		{"503 plain", 503, "Service Unavailable", billkey.EPG, inicis.ErrRefused},
		// 500, 502, 504 may come after the request was handled: unknown.
		{"500 plain", 500, "Internal Server Error", billkey.EUNCERTAIN, inicis.ErrNoReply},
		{"502 plain", 502, "Bad Gateway", billkey.EUNCERTAIN, inicis.ErrNoReply},
		{"504 plain", 504, "Gateway Timeout", billkey.EUNCERTAIN, inicis.ErrNoReply},
		{"200 garbage", 200, "<html>oops</html>", billkey.EUNCERTAIN, inicis.ErrNoReply},
		{"200 json without resultCode", 200, `{"foo":"bar"}`, billkey.EUNCERTAIN, inicis.ErrNoReply},
		{"302", 302, "", billkey.EUNCERTAIN, inicis.ErrNoReply},
		{"400 plain", 400, "bad", billkey.EPG, nil},
		{"decline", 200, `{"resultCode":"01","resultMsg":"[1254][실시간빌링실패|잔액부족]","tid":"INIAPICARDINIBillTst20260314092653000001"}`, billkey.EPG, nil},
		{"validation", 200, `{"resultMsg":"파라미터 값이 잘못 되었습니다.","resultCode":"ER0102","errorDetails":[{"field":"buyerName","contents":"공백일 수 없습니다"}]}`, billkey.EPG, nil},
		{"500 with INICIS body", 500, `{"resultCode":"01","resultMsg":"x"}`, billkey.EPG, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cs := newCaptureServer(t, tc.status, tc.body)
			_, err := newConnector(cs.URL, 5*time.Second).Charge(context.Background(), testChannel(), chargeReq())
			if errCode(err) != tc.code {
				t.Fatalf("err = %v, code %s, want %s", err, errCode(err), tc.code)
			}
			if tc.sent != nil && !errors.Is(err, tc.sent) {
				t.Errorf("err %v does not wrap %v", err, tc.sent)
			}
		})
	}

	cs := newCaptureServer(t, 200, `{"resultCode":"01","resultMsg":"[1254][실시간빌링실패|잔액부족]","tid":"TIDX"}`)
	_, err := newConnector(cs.URL, 5*time.Second).Charge(context.Background(), testChannel(), chargeReq())
	if got := billkey.ErrorMessage(err); got != "잔액이 부족합니다. 잔액을 확인하시거나 다른 카드로 결제해 주세요. ([1254] [실시간빌링실패|잔액부족])" {
		t.Errorf("message %q", got)
	}
	if re := resultErr(t, err); re.TID != "TIDX" || re.Code != "01" {
		t.Errorf("ResultError %+v", re)
	}
}

func TestTimeoutIsUncertain(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	_, err := newConnector(srv.URL, 300*time.Millisecond).Charge(context.Background(), testChannel(), chargeReq())
	if errCode(err) != billkey.EUNCERTAIN || !errors.Is(err, inicis.ErrNoReply) {
		t.Fatalf("err = %v, want EUNCERTAIN", err)
	}
}

func TestAmountMismatchIsUncertain(t *testing.T) {
	t.Parallel()
	cs := newCaptureServer(t, 200, `{"resultCode":"00","resultMsg":"ok","tid":"T","price":"999"}`)
	_, err := newConnector(cs.URL, 5*time.Second).Charge(context.Background(), testChannel(), chargeReq())
	if errCode(err) != billkey.EUNCERTAIN || !errors.Is(err, inicis.ErrTampered) {
		t.Fatalf("err = %v", err)
	}
}

func TestNoEndpoints(t *testing.T) {
	t.Parallel()
	c := inicis.New(inicis.Config{Test: inicis.SimulatorEndpoints("http://127.0.0.1:1")})
	ch := testChannel()
	ch.Live = true
	if _, err := c.Charge(context.Background(), ch, chargeReq()); err == nil || !strings.Contains(err.Error(), "live") {
		t.Errorf("live channel without live endpoints: %v", err)
	}
}

func TestInquiryMapping(t *testing.T) {
	t.Parallel()
	cases := []struct {
		body  string
		state billkey.InquiryState
		code  string
	}{
		{`{"resultCode":"R404","resultMsg":"없음"}`, billkey.InquiryNotFound, ""},
		{`{"resultCode":"SUCCESS","transactionStatus":"APPROVAL","tid":"T","price":"100"}`, billkey.InquiryApproved, ""},
		{`{"resultCode":"00","transactionStatus":"CANCEL","tid":"T","price":"100"}`, billkey.InquiryCancelled, ""},
		{`{"resultCode":"00","transactionStatus":"FAIL","failCode":"01","failMsg":"[1254][실시간빌링실패|잔액부족]"}`, billkey.InquiryDeclined, ""},
		// A refusal with a code that is not a known not-found code: no
		// approval state (INICIS's own not-found code is unpublished).
		{`{"resultCode":"01","resultMsg":"조회 불가"}`, billkey.InquiryNoApproval, ""},
		{`{"resultCode":"00","transactionStatus":"WHAT"}`, "", billkey.EUNCERTAIN},
	}
	for _, tc := range cases {
		cs := newCaptureServer(t, 200, tc.body)
		inq, err := newConnector(cs.URL, 5*time.Second).Inquire(context.Background(), testChannel(), "o")
		if tc.code != "" {
			if errCode(err) != tc.code {
				t.Errorf("%s: err %v, want %s", tc.body, err, tc.code)
			}
			continue
		}
		if err != nil || inq.State != tc.state {
			t.Errorf("%s: %+v %v, want %s", tc.body, inq, err, tc.state)
		}
		if tc.state == billkey.InquiryNoApproval && inq.Reason != "[01] 조회 불가" {
			t.Errorf("reason %q", inq.Reason)
		}
		if tc.state == billkey.InquiryDeclined && inq.Reason != "잔액이 부족합니다. 잔액을 확인하시거나 다른 카드로 결제해 주세요. ([1254] [실시간빌링실패|잔액부족])" {
			t.Errorf("reason %q", inq.Reason)
		}
	}
}
