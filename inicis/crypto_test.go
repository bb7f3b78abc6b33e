package inicis

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"testing"
)

// The expected values below are computed in the test from hand-written
// concatenations (sha512/sha256 of literal strings) and compared with the
// spec's computed vectors, never with the production functions' output.

func hexSHA512(s string) string { h := sha512.Sum512([]byte(s)); return hex.EncodeToString(h[:]) }
func hexSHA256(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

const testSignKey = "SU5JTElURV9UUklQTEVERVNfS0VZU1RS"

func TestAESVectors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ plain, want string }{
		{"01011112222", "5l8uENBFbTe50/9F3/7o0g=="},
		{"123456789", "qwMHVJqsmXKoR+d8wQTS4g=="},
	} {
		got, err := EncryptField(tc.plain, "ItEQKi3rY7uvDS8l", "HYb3yQ4f65QL89==")
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("EncryptField(%q) = %q, want %q", tc.plain, got, tc.want)
		}
		back, err := DecryptField(tc.want, "ItEQKi3rY7uvDS8l", "HYb3yQ4f65QL89==")
		if err != nil || back != tc.plain {
			t.Errorf("DecryptField(%q) = %q, %v; want %q", tc.want, back, err, tc.plain)
		}
	}
}

func TestAESRejectsBadInput(t *testing.T) {
	t.Parallel()
	if _, err := EncryptField("x", "short", "HYb3yQ4f65QL89=="); err == nil {
		t.Error("short key accepted")
	}
	for _, enc := range []string{"", "not base64!", "AAAA", "5l8uENBFbTe50/9F3/7o0g"} {
		if _, err := DecryptField(enc, "ItEQKi3rY7uvDS8l", "HYb3yQ4f65QL89=="); err == nil {
			t.Errorf("DecryptField(%q) succeeded", enc)
		}
	}
	// Right length, wrong key: padding check fails.
	if _, err := DecryptField("5l8uENBFbTe50/9F3/7o0g==", "rKnPljRn5m6J9Mzz", "W2KLNKra6Wxc1P=="); err == nil {
		t.Error("decrypt with the wrong key succeeded")
	}
}

func TestHashRecipes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, got, plain, vector string
	}{
		{
			"v1 billing",
			billingHash("rKnPljRn5m6J9Mzz", "Billing", "Card", "20240101120000", "127.0.0.1", "INIBillTst", "ORDER-1", "1000", "BILLKEY123"),
			"rKnPljRn5m6J9MzzBillingCard20240101120000127.0.0.1INIBillTstORDER-11000BILLKEY123",
			"2509dd9276d592db6dde49bc20e04c3004348fc873e003688a63b86fd39c27c46ea54140c7b43b373838211ad0ab73d04de7fdf4dd3a6ad9f5e7b36e42dbd9ac",
		},
		{
			"v1 refund",
			refundHash("ItEQKi3rY7uvDS8l", "Refund", "Card", "20191128121211", "123.123.123.123", "INIpayTest", "StdpayCARDINIpayTest20191128121211123456"),
			"ItEQKi3rY7uvDS8lRefundCard20191128121211123.123.123.123INIpayTestStdpayCARDINIpayTest20191128121211123456",
			"",
		},
		{
			"v1 partial refund",
			partialRefundHash("rKnPljRn5m6J9Mzz", "PartialRefund", "Card", "20240101120000", "10.0.0.1", "INIBillTst", "TID1", "700", "300"),
			"rKnPljRn5m6J9MzzPartialRefundCard2024010112000010.0.0.1INIBillTstTID1700300",
			"",
		},
		{
			"v2 billing",
			v2Hash("rKnPljRn5m6J9Mzz", "INIBillTst", "billing", "20240101120000",
				[]byte(`{"url":"www.example.com","moid":"ORDER-1","goodName":"테스트","buyerName":"홍길동","buyerEmail":"a@b.com","buyerTel":"01012345678","price":"1000","billKey":"BILLKEY123","authentification":"00","cardQuota":"00","quotaInterest":"0"}`)),
			`rKnPljRn5m6J9MzzINIBillTstbilling20240101120000{"url":"www.example.com","moid":"ORDER-1","goodName":"테스트","buyerName":"홍길동","buyerEmail":"a@b.com","buyerTel":"01012345678","price":"1000","billKey":"BILLKEY123","authentification":"00","cardQuota":"00","quotaInterest":"0"}`,
			"aea4c5579d633c92922fe5513987bce9797021794112c4328badd2a7a78ec95ec8206a5c94147d2cd9eb6f9c8bff48414f9cc87939b308c86db5e9807ed6f0bb",
		},
	}
	for _, tc := range cases {
		want := hexSHA512(tc.plain)
		if tc.got != want {
			t.Errorf("%s: got %s, want sha512(%q) = %s", tc.name, tc.got, tc.plain, want)
		}
		if tc.vector != "" && want != tc.vector {
			t.Errorf("%s: spec vector %s != independent %s", tc.name, tc.vector, want)
		}
	}

	sha256Cases := []struct{ name, got, plain, vector string }{
		{"stdpay signature", stdSignature("INIBillTst_1700000000123", "1000", "1700000000123"),
			"oid=INIBillTst_1700000000123&price=1000&timestamp=1700000000123",
			"a65cae850701b6349058e66cdc1bc7bdafe3fc39fa97efc710cd5c6b3d9d90df"},
		{"stdpay verification", stdVerification("INIBillTst_1700000000123", "1000", testSignKey, "1700000000123"),
			"oid=INIBillTst_1700000000123&price=1000&signKey=" + testSignKey + "&timestamp=1700000000123",
			"a23a15e2e4e40ed4443799640083982309255ae84c1e448cf11635e2f51b76d9"},
		{"mKey", stdMKey(testSignKey), testSignKey,
			"3a9503069192f207491d4b19bd743fc249a761ed94246c8c42fed06c3cd15a33"},
		{"approval signature", authSignature("AUTHTOKEN", "1700000001234"), "authToken=AUTHTOKEN&timestamp=1700000001234",
			"df300a0e3efe15a0ab134f89092ed956cacfa8f145aa8f98387cab7364b33f1b"},
		{"approval verification", authVerification("AUTHTOKEN", testSignKey, "1700000001234"),
			"authToken=AUTHTOKEN&signKey=" + testSignKey + "&timestamp=1700000001234",
			"2d8a04001c0d50fcc9a3197b3881d7fde45fac14c2043b52b83bb07a8c5fc3eb"},
		{"authSignature digit 4", replySignature("INIBillTst", "INIBillTst_1700000000123", "1000", "1700000001234"),
			"mid=INIBillTst&tstamp=1700000001234&MOID=INIBillTst_1700000000123",
			"db95a4f2f443254248e55506dba731ac459a9d8f4e6cff2e92ebbe6fabfe272e"},
		{"legacy INILite", liteHash("INIBillTst", "ORDER-1", "20240101120000", "b09LVzhuTGZVaEY1WmJoQnZzdXpRdz09"),
			"INIBillTstORDER-120240101120000b09LVzhuTGZVaEY1WmJoQnZzdXpRdz09",
			"4356cb99d8932958ef4ae8030eeaabe337da367c0c9e072ff879daf62d151f85"},
	}
	for _, tc := range sha256Cases {
		want := hexSHA256(tc.plain)
		if tc.got != want {
			t.Errorf("%s: got %s, want sha256(%q) = %s", tc.name, tc.got, tc.plain, want)
		}
		if want != tc.vector {
			t.Errorf("%s: spec vector %s != independent %s", tc.name, tc.vector, want)
		}
	}

	// New INILite (documented for completeness, not used): the spec vector.
	if got := hexSHA512("1000INIBillTstORDER-120240101120000b09LVzhuTGZVaEY1WmJoQnZzdXpRdz09"); got != "a14d8331423e23a111e8626a519245e12b3b2352a53f0e7e9b91b8585c8acddc4f5015edf3a37d524347e45c084dc6c857457e364f382d6a572b89ca8816fef0" {
		t.Errorf("inilitepay vector: %s", got)
	}
}

func TestReplySignatureAllDigits(t *testing.T) {
	t.Parallel()
	mid, moid, price := "INIBillTst", "ORD-9", "0"
	for d := 0; d <= 9; d++ {
		ts := "170000000123" + string(rune('0'+d))
		var plain string
		switch d {
		case 1:
			plain = "MOID=" + moid + "&mid=" + mid + "&tstamp=" + ts
		case 2:
			plain = "MOID=" + moid + "&tstamp=" + ts + "&mid=" + mid
		case 3:
			plain = "mid=" + mid + "&MOID=" + moid + "&tstamp=" + ts
		case 4:
			plain = "mid=" + mid + "&tstamp=" + ts + "&MOID=" + moid
		case 5:
			plain = "tstamp=" + ts + "&mid=" + mid + "&MOID=" + moid
		case 6:
			plain = "tstamp=" + ts + "&MOID=" + moid + "&mid=" + mid
		case 7:
			plain = "TotPrice=" + price + "&mid=" + mid + "&tstamp=" + ts
		case 8:
			plain = "TotPrice=" + price + "&tstamp=" + ts + "&mid=" + mid
		case 9:
			plain = "TotPrice=" + price + "&MOID=" + moid + "&tstamp=" + ts
		case 0:
			plain = "TotPrice=" + price + "&tstamp=" + ts + "&MOID=" + moid
		}
		if got, want := replySignature(mid, moid, price, ts), hexSHA256(plain); got != want {
			t.Errorf("digit %d: got %s want %s", d, got, want)
		}
	}
	if replySignature(mid, moid, price, "") != "" || replySignature(mid, moid, price, "12x") != "" {
		t.Error("malformed tstamp should give no signature")
	}
}
