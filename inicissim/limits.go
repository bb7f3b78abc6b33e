package inicissim

import (
	"fmt"
	"unicode/utf8"
)

// Field limits the simulator enforces, as INICIS publishes them: the
// billing-key window manual's STEP 1 table (orderId 64, price 12, goodName
// 40, buyerName 30, buyerEmail 60, buyerTel 40 bytes) for INIAPI's fields of
// the same name, and INIStdPay.js's own check for the PC window (oid 1~40,
// buyertel 1~20, counted by the script in characters). Bytes are UTF-8
// bytes: no source says whether INICIS counts EUC-KR or UTF-8, and UTF-8 is
// the stricter of the two for Hangul (a simulator choice, listed in
// docs/inicis-simulator.md).
var apiLimits = []fieldLimit{
	{"moid", 64}, {"goodName", 40}, {"buyerName", 30}, {"buyerEmail", 60}, {"buyerTel", 40},
}

// fieldLimit is one field's maximum length in UTF-8 bytes.
type fieldLimit struct {
	Field string
	Max   int
}

// tooLong returns the first field of limits whose value is longer than its
// limit, or nil.
func tooLong(get func(string) string, limits []fieldLimit) *fieldLimit {
	for i, l := range limits {
		if len(get(l.Field)) > l.Max {
			return &limits[i]
		}
	}
	return nil
}

// lengthReply is INIAPI's answer to an over-long field: resultCode ERR101,
// the length error INICIS is observed to send (for a 13-digit timestamp);
// the message naming the field is the simulator's wording.
func lengthReply(l *fieldLimit) map[string]any {
	return map[string]any{"resultCode": codeLength, "resultMsg": fmt.Sprintf("%s 길이 오류 (최대 %d바이트)", l.Field, l.Max)}
}

// charLen counts characters as INIStdPay.js does (JavaScript string length;
// every Hangul syllable is one).
func charLen(s string) int { return utf8.RuneCountInString(s) }
