package inicissim

import "strings"

// Issuer is one row of the simulator's BIN table: card numbers starting with
// BIN belong to the card company with INICIS code Code (docs/inicis.md), KFTC code
// KFTC (the code i'mport reports as card_code; "" for foreign brands) and name Name.
//
// The Korean BINs are illustrative, chosen by the simulator; they are not a
// statement about which real BIN belongs to which issuer. 424242, 400000,
// 555555, 353011 and 378282 are the usual international test BINs.
type Issuer struct {
	BIN   string `json:"bin"`
	Code  string `json:"code"`
	KFTC  string `json:"kftc"`
	Name  string `json:"name"`
	Brand string `json:"brand"`
}

// BINTable is the simulator's BIN table, longest prefix first where they
// overlap (none do today).
var BINTable = []Issuer{
	{"910020", "11", "361", "BC카드", "BC"},
	{"457973", "06", "381", "국민KB카드", "VISA"},
	{"433290", "04", "367", "현대카드", "VISA"},
	{"536181", "12", "365", "삼성카드", "MASTER"},
	{"451842", "14", "366", "신한카드", "VISA"},
	{"467309", "03", "368", "롯데카드", "VISA"},
	{"524335", "16", "371", "NH카드", "MASTER"},
	{"465887", "17", "374", "하나SK카드", "VISA"},
	{"404678", "01", "374", "외환카드", "VISA"},
	{"540926", "15", "370", "씨티카드", "MASTER"},
	{"424242", "21", "", "해외비자", "VISA"},
	{"400000", "21", "", "해외비자", "VISA"},
	{"555555", "22", "", "해외마스터", "MASTER"},
	{"353011", "23", "", "해외JCB", "JCB"},
	{"378282", "24", "", "해외아멕스", "AMEX"},
}

// lookupBIN finds the issuer of a card number.
func lookupBIN(number string) (Issuer, bool) {
	for _, is := range BINTable {
		if strings.HasPrefix(number, is.BIN) {
			return is, true
		}
	}
	return Issuer{}, false
}

// luhnValid reports whether digits passes the Luhn check.
func luhnValid(digits string) bool {
	if len(digits) < 2 {
		return false
	}
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		c := digits[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// maskCard masks like INICIS: first 6 digits, '*' for each hidden digit, the
// last digit ("436420*********6").
func maskCard(digits string) string {
	if len(digits) < 8 {
		return "****"
	}
	return digits[:6] + strings.Repeat("*", len(digits)-7) + digits[len(digits)-1:]
}
