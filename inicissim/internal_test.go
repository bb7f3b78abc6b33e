package inicissim

import (
	"testing"
	"time"
)

func TestMagicNumbersAreLuhnValidWithKnownBIN(t *testing.T) {
	t.Parallel()
	for _, m := range MagicCards {
		if !luhnValid(m.Number) {
			t.Errorf("%s fails Luhn", m.Number)
		}
		if _, ok := lookupBIN(m.Number); !ok {
			t.Errorf("%s has no BIN", m.Number)
		}
	}
	if !luhnValid("1111222233334444") {
		t.Error("1111222233334444 should be Luhn-valid")
	}
	if _, ok := lookupBIN("1111222233334444"); ok {
		t.Error("1111222233334444 should have an unknown BIN")
	}
	if luhnValid("1234123412341234") {
		t.Error("1234123412341234 should fail Luhn")
	}
}

func TestEvaluateCard(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, kst)
	cases := []struct {
		number, expiry string
		code           string
		behavior       Behavior
	}{
		{"4242424242424242", "3012", "", ChargeApprove},
		{"4242424242424242", "2603", "", ChargeApprove}, // valid through March 2026
		{"4242424242424242", "2602", "F113", ""},
		{"4242424242424242", "2613", "F113", ""},
		{"1234123412341234", "3012", "F111", ""},
		{"1111222233334444", "3012", "F112", ""},
		{"4000000000000002", "3012", "1103", ""},
		{"4000000000000127", "3012", "F114", ""},
		{"4000000000000341", "3012", "", ChargeLimit},
		{"4000000000009995", "3012", "", ChargeBalance},
		{"4000000000000069", "3012", "", ChargeExpired},
		{"4000000000000119", "3012", "", ChargeHang},
		{"4000000000000010", "3012", "", ChargeApprove}, // other numbers of BIN 400000
	}
	for _, tc := range cases {
		p, ref := evaluateCard(tc.number, tc.expiry, "12", now)
		switch {
		case tc.code != "" && (ref == nil || ref.Code != tc.code):
			t.Errorf("%s/%s: refusal %v, want %s", tc.number, tc.expiry, ref, tc.code)
		case tc.code == "" && ref != nil:
			t.Errorf("%s/%s: refused %v", tc.number, tc.expiry, ref)
		case tc.code == "" && p.Behavior != tc.behavior:
			t.Errorf("%s: behavior %s, want %s", tc.number, p.Behavior, tc.behavior)
		case tc.code == "" && p.Masked != tc.number[:6]+"*********"+tc.number[15:]:
			t.Errorf("%s: masked %s", tc.number, p.Masked)
		}
	}
	// A key whose card expires later declines as expired.
	p, _ := evaluateCard("4242424242424242", "2603", "12", now)
	if ref := chargeRefusal(p, now.AddDate(0, 1, 0)); ref == nil || ref.Code != "1205" {
		t.Errorf("charge after expiry: %v", ref)
	}
}

func TestParseCardForm(t *testing.T) {
	t.Parallel()
	ok := map[string][]string{"cardNumber": {"4242 4242-4242 4242"}, "expiry": {"12/31"}, "birth": {"800101"}, "pwd2digit": {"12"}}
	c, msg := parseCardForm(ok)
	if msg != "" || c.number != "4242424242424242" || c.expiry != "3112" {
		t.Fatalf("%+v %q", c, msg)
	}
	split := map[string][]string{"cardNumber": {"4242424242424242"}, "expiryMonth": {"7"}, "expiryYear": {"2031"}, "birth": {"1234567890"}, "pwd2digit": {"00"}}
	if c, msg := parseCardForm(split); msg != "" || c.expiry != "3107" {
		t.Fatalf("split expiry: %+v %q", c, msg)
	}
	for _, bad := range []map[string][]string{
		{"cardNumber": {"4242"}, "expiry": {"12/31"}, "birth": {"800101"}, "pwd2digit": {"12"}},
		{"cardNumber": {"4242424242424242"}, "expiry": {"13/31"}, "birth": {"800101"}, "pwd2digit": {"12"}},
		{"cardNumber": {"4242424242424242"}, "expiry": {"12/31"}, "birth": {"8001"}, "pwd2digit": {"12"}},
		{"cardNumber": {"4242424242424242"}, "expiry": {"12/31"}, "birth": {"800101"}, "pwd2digit": {"1"}},
	} {
		if _, msg := parseCardForm(bad); msg == "" {
			t.Errorf("accepted %v", bad)
		}
	}
}

func TestTIDShapes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 24, 13, 56, 20, 0, kst)
	for _, p := range []string{"INIAPICARD", "StdpayBill", "INIpayBill", "INIAPIAUTH"} {
		if tid := newTID(p, "INIBillTst", now); len(tid) != 40 || tid[:34] != p+"INIBillTst20260624135620" {
			t.Errorf("tid %s", tid)
		}
	}
	if k := newBillKey(); len(k) != 40 {
		t.Errorf("billKey %s", k)
	}
	if c := newAuthCode(); len(c) != 8 || !isDigits(c, 8) {
		t.Errorf("auth code %s", c)
	}
	if a := newLiteAuthKey("INIBillTst"); len(a) != 40 || a[:11] != "INIBillTst_" {
		t.Errorf("authkey %s", a)
	}
}

func TestAuthSignatureVector(t *testing.T) {
	t.Parallel()
	if got := authSignatureOf("INIBillTst", "INIBillTst_1700000000123", "1000", "1700000001234"); got != "db95a4f2f443254248e55506dba731ac459a9d8f4e6cff2e92ebbe6fabfe272e" {
		t.Errorf("authSignature %s", got)
	}
	if got, err := aesDecrypt("5l8uENBFbTe50/9F3/7o0g==", "ItEQKi3rY7uvDS8l", "HYb3yQ4f65QL89=="); err != nil || got != "01011112222" {
		t.Errorf("aes vector 1: %q %v", got, err)
	}
	if got, err := aesDecrypt("qwMHVJqsmXKoR+d8wQTS4g==", "ItEQKi3rY7uvDS8l", "HYb3yQ4f65QL89=="); err != nil || got != "123456789" {
		t.Errorf("aes vector 2: %q %v", got, err)
	}
}

func TestFormatWon(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -5000: "-5,000"} {
		if got := formatWon(n); got != want {
			t.Errorf("formatWon(%d) = %s", n, got)
		}
	}
}
