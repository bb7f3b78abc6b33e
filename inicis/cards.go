package inicis

// CardCompany is how billkey names a card company: the KFTC 3-digit code
// i'mport returns as card_code (empty when KFTC has none, e.g. foreign
// brands) and the Korean name it returns as card_name.
type CardCompany struct {
	INICIS string // INICIS 2-digit code (cardCode, CARD_Code, cardcd)
	KFTC   string // KFTC 3-digit code, "" when none
	Name   string
}

// cardCompanies maps INICIS card codes to KFTC codes and names.
//
// The INICIS codes 01–25 and 93–98 are those INICIS publishes in its card code table. The rest
// are from INICIS's card-code table as commonly reproduced by integrators,
// not from INICIS's published table, and are unverified. KFTC codes are those i'mport reports
// as card_code (BC 361, KB 381, 현대 367, 삼성 365, 롯데 368, NH 371, 하나 374, 신한 366,
// 씨티 370...); 외환 (01) has been part of 하나카드 since 2014 and
// 한미 (15) of 한국씨티, so they map to 374 and 370.
var cardCompanies = map[string]CardCompany{
	"01": {"01", "374", "외환카드"},
	"03": {"03", "368", "롯데카드"},
	"04": {"04", "367", "현대카드"},
	"06": {"06", "381", "국민KB카드"},
	"11": {"11", "361", "BC카드"},
	"12": {"12", "365", "삼성카드"},
	"14": {"14", "366", "신한카드"},
	"15": {"15", "370", "씨티카드"},
	"16": {"16", "371", "NH카드"},
	"17": {"17", "374", "하나SK카드"},
	"21": {"21", "", "해외비자"},
	"22": {"22", "", "해외마스터"},
	"23": {"23", "", "해외JCB"},
	"24": {"24", "", "해외아멕스"},
	"25": {"25", "", "해외다이너스"},
	"26": {"26", "", "중국은련"},
	"32": {"32", "364", "광주카드"},
	"33": {"33", "372", "전북카드"},
	"34": {"34", "374", "하나카드"},
	"35": {"35", "002", "KDB산업카드"},
	"41": {"41", "371", "NH카드"},
	"43": {"43", "370", "씨티카드"},
	"44": {"44", "041", "우리카드"},
	"48": {"48", "048", "신협카드"},
	"51": {"51", "369", "수협카드"},
	"52": {"52", "373", "제주카드"},
	"54": {"54", "045", "새마을금고카드"},
	"55": {"55", "089", "K뱅크카드"},
	"56": {"56", "090", "카카오뱅크카드"},
	"71": {"71", "071", "우체국카드"},
	"93": {"93", "", "토스머니"},
	"94": {"94", "", "SSG머니"},
	"97": {"97", "", "카카오머니"},
	"98": {"98", "", "페이코"},
}

// LookupCardCompany translates an INICIS card code. Single-digit codes are
// zero-padded ("6" is "06"). For an unknown code it returns a CardCompany
// with empty KFTC code and name, and false.
func LookupCardCompany(inicisCode string) (CardCompany, bool) {
	if len(inicisCode) == 1 {
		inicisCode = "0" + inicisCode
	}
	c, ok := cardCompanies[inicisCode]
	if !ok {
		return CardCompany{INICIS: inicisCode}, false
	}
	return c, true
}

// cardInfo returns the KFTC code and the name for an INICIS card code,
// falling back to the name INICIS sent when the code is unknown.
func cardInfo(inicisCode, inicisName string) (kftc, name string) {
	c, ok := LookupCardCompany(inicisCode)
	if !ok {
		return "", inicisName
	}
	return c.KFTC, c.Name
}
