package inicis_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
)

func okReturn(base string) url.Values {
	return url.Values{
		"resultCode": {"0000"}, "resultMsg": {"성공"}, "mid": {"INIBillTst"}, "orderNumber": {"imp_1"},
		"authToken": {"tok+/="}, "authUrl": {base + "/api/payAuth"}, "netCancelUrl": {base + "/api/netCancel"},
		"idc_name": {"stg"}, "charset": {"UTF-8"},
	}
}

func TestCheckStdPayURLs(t *testing.T) {
	t.Parallel()
	base := "https://billkey.example/inicis-sim"
	c := inicis.New(inicis.Config{Test: inicis.SimulatorEndpoints(base), Live: inicis.ProductionEndpoints()})
	ch := testChannel()
	good, err := inicis.ParseStdPayReturn(okReturn(base))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckStdPayURLs(ch, good); err != nil {
		t.Fatalf("good URLs refused: %v", err)
	}
	bad := []struct{ field, value string }{
		{"authUrl", "https://evil.example/api/payAuth"},
		{"authUrl", "http://billkey.example/inicis-sim/api/payAuth"},
		{"authUrl", "https://billkey.example/inicis-sim/api/payAuth?x=1"},
		{"authUrl", "https://user@billkey.example/inicis-sim/api/payAuth"},
		{"authUrl", "https://billkey.example/inicis-sim/api/payAuth/../../admin"},
		{"authUrl", "https://billkey.example.evil.example/inicis-sim/api/payAuth"},
		{"authUrl", "https://billkey.example:444/inicis-sim/api/payAuth"},
		{"authUrl", "https://billkey.example/inicis-sim/api/netCancel"},
		{"netCancelUrl", "https://169.254.169.254/latest/meta-data"},
		{"authUrl", "//billkey.example/inicis-sim/api/payAuth"},
		{"idc_name", "fc"},
	}
	for _, b := range bad {
		v := okReturn(base)
		v.Set(b.field, b.value)
		r, err := inicis.ParseStdPayReturn(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckStdPayURLs(ch, r); err == nil {
			t.Errorf("%s=%s accepted", b.field, b.value)
		}
	}
	// Live channels accept INICIS's own hosts only.
	live := ch
	live.Live = true
	for idc, host := range map[string]string{"fc": "https://fcstdpay.inicis.com", "ks": "https://ksstdpay.inicis.com", "stg": "https://stgstdpay.inicis.com"} {
		v := okReturn(host)
		v.Set("idc_name", idc)
		r, _ := inicis.ParseStdPayReturn(v)
		if err := c.CheckStdPayURLs(live, r); err != nil {
			t.Errorf("%s refused: %v", idc, err)
		}
	}
	if err := c.CheckStdPayURLs(live, good); err == nil {
		t.Error("live channel accepted simulator URLs")
	}
	// ApproveStdPay refuses before calling anything.
	v := okReturn(base)
	v.Set("authUrl", "https://evil.example/api/payAuth")
	r, _ := inicis.ParseStdPayReturn(v)
	if _, err := c.ApproveStdPay(context.Background(), ch, r, "imp_1"); billkey.ErrorCode(err) != billkey.EPG {
		t.Errorf("ApproveStdPay with evil authUrl: %v", err)
	}
}

func TestParseStdPayReturn(t *testing.T) {
	t.Parallel()
	if _, err := inicis.ParseStdPayReturn(url.Values{}); billkey.ErrorCode(err) != billkey.EINVALID {
		t.Errorf("empty post: %v", err)
	}
	v := okReturn("https://x")
	v.Del("authToken")
	if _, err := inicis.ParseStdPayReturn(v); err == nil {
		t.Error("success without authToken accepted")
	}
	r, err := inicis.ParseStdPayReturn(url.Values{"resultCode": {"V801"}, "resultMsg": {"사용자가 결제를 취소하였습니다."}})
	if err != nil || r.OK() || !r.Cancelled() || billkey.ErrorMessage(r.Err()) != "결제를 취소하셨습니다. ([V801] 사용자가 결제를 취소하였습니다.)" {
		t.Errorf("cancel: %+v %v", r, err)
	}
	r, _ = inicis.ParseStdPayReturn(url.Values{"resultCode": {"F112"}, "resultMsg": {"유효하지않은 카드번호를 입력하셨습니다. (card_bin 없음)"}})
	if r.Cancelled() || billkey.ErrorCode(r.Err()) != billkey.EPG {
		t.Errorf("refusal: %+v", r)
	}
}

func TestParseLiteReturn(t *testing.T) {
	t.Parallel()
	v := url.Values{"resultcode": {"00"}, "resultmsg": {"ok"}, "mid": {"INIBillTst"}, "orderid": {"o1"}, "tid": {"T"},
		"billkey": {"a94b3384630058effd9cff593d05ec0ef6145725"}, "cardcd": {"14"}, "cardno": {"451842*********1"},
		"pgauthdate": {"20260314"}, "pgauthtime": {"120000"}}
	r, err := inicis.ParseLiteReturn(v)
	if err != nil {
		t.Fatal(err)
	}
	c := newConnector("http://sim", 0)
	bk, err := c.CompleteLite(testChannel(), r, "o1")
	if err != nil {
		t.Fatal(err)
	}
	if bk.CardCode != "366" || bk.CardName != "신한카드" || bk.CardNumber != "451842*********1" || bk.PGTID != "T" {
		t.Errorf("%+v", bk)
	}
	if _, err := c.CompleteLite(testChannel(), r, "other"); err == nil {
		t.Error("wrong order id accepted")
	}
	v.Set("billkey", "not-a-key")
	r, _ = inicis.ParseLiteReturn(v)
	if _, err := c.CompleteLite(testChannel(), r, "o1"); err == nil {
		t.Error("malformed billkey accepted")
	}
	v.Set("cardno", "4518421234567891")
	v.Set("billkey", "a94b3384630058effd9cff593d05ec0ef6145725")
	r, _ = inicis.ParseLiteReturn(v)
	if bk, _ := c.CompleteLite(testChannel(), r, "o1"); bk.CardNumber != "451842*********1" {
		t.Errorf("plain card number not masked: %s", bk.CardNumber)
	}
	r, err = inicis.ParseLiteReturn(url.Values{"resultcode": {"99"}, "resultmsg": {"취소"}})
	if err != nil || !r.Cancelled() || r.Err() == nil {
		t.Errorf("cancel %+v %v", r, err)
	}
}
