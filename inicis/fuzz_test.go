package inicis

import (
	"net/url"
	"testing"
	"time"

	"github.com/billkey/billkey"
)

// The fuzz targets check that no input makes the reply and return parsers
// panic, and that what they accept is self-consistent. Their seeds run as
// ordinary tests.

func FuzzParseReply(f *testing.F) {
	for _, s := range []string{
		`{"tid":"INIAPICARDinsurobo0220210216165408286836","resultCode":"00","resultMsg":"[Card|Transaction has been successful]","payDate":"20210216","payTime":"165408","payAuthCode":"56528778","cardCode":"11","checkFlg":"0","payAuthQuota":"00","prtcCode":"1","price":"1000","cardName":"BC카드"}`,
		`{"resultMsg":"파라미터 값이 잘못 되었습니다.","resultCode":"ER0102","errorDetails":[{"field":"buyerName","contents":"공백일 수 없습니다"}]}`,
		`{"resultCode":"01","resultMsg":"기 취소 거래","cancelDate":"20230912","cancelTime":"154230","detailResultCode":"512626"}`,
		`{"resultCode":"0000","MOID":"o","TotPrice":1000,"CARD_Billkey":"k","CARD_Num":"4242424242424242","applDate":null}`,
		`null`, `[]`, `{"a":1}{"b":2}`, `{"price":"-1","cardQuota":"x"}`, "",
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, KST)
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseReply(body)
		if err != nil {
			return
		}
		_, _ = resultOf(r)
		_ = alreadyCancelled(r)
		a := approvalFromReply(r, now)
		if a.CardNumber != "" && a.CardNumber == r.Get("cardNumber", "CARD_Num") && len(a.CardNumber) >= 8 && isAllDigits(a.CardNumber) {
			t.Fatalf("unmasked card number passed through: %q", a.CardNumber)
		}
		_ = r.GetFold("CARD_BillKey")
		_ = replySignature("INIBillTst", r.Get("MOID"), r.Get("TotPrice"), r.Get("tstamp"))
		_ = cardInfoOf(r)
	})
}

func cardInfoOf(r Reply) string { k, n := cardInfo(r.Get("cardCode"), r.Get("cardName")); return k + n }

func isAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func FuzzParseStdPayReturn(f *testing.F) {
	f.Add("resultCode=0000&resultMsg=%EC%84%B1%EA%B3%B5&mid=INIBillTst&orderNumber=o&authToken=a%2Bb%2F%3D&authUrl=https%3A%2F%2Fsim.example%2Fapi%2FpayAuth&netCancelUrl=https%3A%2F%2Fsim.example%2Fapi%2FnetCancel&idc_name=stg")
	f.Add("resultCode=V801&resultMsg=x")
	f.Add("resultCode=0000&authUrl=%zz")
	f.Add("")
	c := New(Config{Test: SimulatorEndpoints("https://sim.example"), Live: ProductionEndpoints()})
	f.Fuzz(func(t *testing.T, q string) {
		v, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		r, err := ParseStdPayReturn(v)
		if err != nil {
			return
		}
		if r.OK() && (r.AuthToken == "" || r.AuthURL == "") {
			t.Fatal("success without authToken/authUrl accepted")
		}
		_ = r.Err()
		for _, live := range []bool{false, true} {
			ch := testChannelFuzz(live)
			if err := c.CheckStdPayURLs(ch, r); err == nil {
				u, _ := url.Parse(r.AuthURL)
				if u == nil || (u.Host != "sim.example" && u.Host != "fcstdpay.inicis.com" && u.Host != "ksstdpay.inicis.com" && u.Host != "stgstdpay.inicis.com") {
					t.Fatalf("authUrl %q accepted", r.AuthURL)
				}
			}
		}
	})
}

func FuzzParseLiteReturn(f *testing.F) {
	f.Add("resultcode=00&resultmsg=ok&mid=INIBillTst&orderid=o&billkey=a94b3384630058effd9cff593d05ec0ef6145725&cardcd=11&cardno=4242424242424242&pgauthdate=20260101&pgauthtime=120000")
	f.Add("resultcode=99&resultmsg=cancel")
	f.Add("resultcode=00&billkey=")
	c := New(Config{Test: SimulatorEndpoints("https://sim.example")})
	f.Fuzz(func(t *testing.T, q string) {
		v, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		r, err := ParseLiteReturn(v)
		if err != nil {
			return
		}
		bk, err := c.CompleteLite(testChannelFuzz(false), r, r.OrderID)
		if err != nil {
			return
		}
		if !isHex40(bk.Key) || (isAllDigits(bk.CardNumber) && len(bk.CardNumber) >= 8) {
			t.Fatalf("accepted %+v", bk)
		}
	})
}

func FuzzDecryptField(f *testing.F) {
	f.Add("5l8uENBFbTe50/9F3/7o0g==")
	f.Add("qwMHVJqsmXKoR+d8wQTS4g==")
	f.Add("AAAAAAAAAAAAAAAAAAAAAA==")
	f.Fuzz(func(t *testing.T, enc string) {
		plain, err := DecryptField(enc, "ItEQKi3rY7uvDS8l", "HYb3yQ4f65QL89==")
		if err != nil {
			return
		}
		again, err := EncryptField(plain, "ItEQKi3rY7uvDS8l", "HYb3yQ4f65QL89==")
		if err != nil || again != enc {
			// Non-canonical base64 can decode to the same bytes; only a
			// failure to re-encrypt is a bug.
			if err != nil {
				t.Fatal(err)
			}
		}
		_, _ = yymm(plain)
	})
}

func testChannelFuzz(live bool) billkey.PGChannel {
	return billkey.PGChannel{MID: "INIBillTst", Live: live}
}
