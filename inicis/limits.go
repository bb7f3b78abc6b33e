package inicis

import (
	"unicode/utf8"

	"github.com/billkey/billkey"
)

// INICIS field limits, in bytes unless noted. Sources (see docs/inicis.md):
// INICIS's billing-key window manual table (manual.inicis.com/pay/bill.html,
// STEP 1: orderId 64, price 12, goodName 40, buyerName 30, buyerEmail 60,
// buyerTel 40) and INIStdPay.js's own parameter check (oid 1~40,
// buyertel 1~20, counted by the script in characters). INIAPI billing has no
// published table; the same limits apply to its fields of the same name.
//
// The unit: no source says whether INICIS counts EUC-KR or UTF-8 bytes.
// Every byte billkey sends is UTF-8 (INIAPI is UTF-8 only; the StdPay and
// INILite forms are posted with charset UTF-8), and a UTF-8 string is never
// shorter in bytes than its EUC-KR form (Hangul is 3 bytes against 2), so a
// value cut to n UTF-8 bytes fits n under either count.
const (
	LimitOrderID        = 64 // INIAPI moid, INILite orderId
	LimitStdPayOID      = 40 // INIStdPay oid (INIStdPay.js)
	LimitPrice          = 12 // digits
	LimitGoodName       = 40
	LimitBuyerName      = 30
	LimitBuyerEmail     = 60
	LimitBuyerTel       = 40
	LimitStdPayBuyerTel = 20 // INIStdPay buyertel (INIStdPay.js)
)

// CutBytes returns s shortened to at most n UTF-8 bytes, cut on a character
// boundary (never inside a multi-byte character).
func CutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// FitGoodName cuts a product name to INICIS's goodName limit.
func FitGoodName(s string) string { return CutBytes(s, LimitGoodName) }

// FitBuyer returns b with each field within INICIS's limits: name and
// telephone are cut (telTo bytes for the telephone); an e-mail address too
// long to send whole is dropped rather than cut, since a cut address would
// send the buyer's receipt to somebody else.
func FitBuyer(b billkey.Buyer, telTo int) billkey.Buyer {
	b.Name = CutBytes(b.Name, LimitBuyerName)
	b.Tel = CutBytes(b.Tel, telTo)
	if len(b.Email) > LimitBuyerEmail {
		b.Email = ""
	}
	return b
}

// orderIDFits reports whether an order id fits limit bytes. Order ids are
// identities: they are refused when too long, never cut.
func orderIDFits(id string, limit int) error {
	if len(id) > limit {
		return billkey.Errorf(billkey.EREJECTED, "주문번호가 KG이니시스 허용 길이(%d바이트)를 넘습니다. (order id too long for INICIS)", limit)
	}
	return nil
}
