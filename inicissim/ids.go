package inicissim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"strings"
	"time"
)

// kst is Korea Standard Time; a fixed zone avoids the tz database.
var kst = time.FixedZone("KST", 9*60*60)

func randDigits(n int) string {
	var b strings.Builder
	for range n {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

func randHex(nbytes int) string {
	b := make([]byte, nbytes)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newTID builds a 40-byte-style tid: prefix (e.g. "INIAPICARD") + mid +
// yyyyMMddHHmmss (KST) + 6 digits.
func newTID(prefix, mid string, now time.Time) string {
	return prefix + mid + now.In(kst).Format("20060102150405") + randDigits(6)
}

// newBillKey is 40 lowercase hex characters.
func newBillKey() string { return randHex(20) }

// newAuthCode is an 8-digit card approval number.
func newAuthCode() string { return randDigits(8) }

// newAuthToken is an opaque StdPay authToken. Standard base64 on purpose:
// real tokens carry '+', '/' and '=', which must survive form encoding.
//
// Every token carries a "+" and a "/" (drawn again until it does), so each
// one exercises a client's form escaping.
func newAuthToken() string {
	b := make([]byte, 60)
	for {
		_, _ = rand.Read(b)
		if t := base64.StdEncoding.EncodeToString(b); strings.Contains(t, "+") && strings.Contains(t, "/") {
			return t
		}
	}
}

// newLiteAuthKey is MID + "_" + 29 uppercase hex characters.
func newLiteAuthKey(mid string) string {
	return mid + "_" + strings.ToUpper(randHex(15)[:29])
}

// newSessionID identifies a window session.
func newSessionID() string { return randHex(16) }
