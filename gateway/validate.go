package gateway

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/billkey/billkey"
)

// Field limits of i'mport's request parameters and Payment object.
// merchant_uid is 40 in i'mport's OpenAPI document and 80 in a
// 2018 client; billkey accepts 80 so no existing order id is refused.
const (
	maxCustomerUID = 80
	maxMerchantUID = 80
	maxName        = 100
	maxBuyerField  = 200
	maxCustomData  = 10000
	maxAmount      = 1_000_000_000_000 // INICIS price is at most 12 digits
	// maxNoticeURL is the longest notice_url accepted (the de facto URL
	// limit of browsers and proxies; also what the webhook sender allows).
	maxNoticeURL = 2048
	// maxUserAgent is how much of a caller's User-Agent header a payment
	// keeps (the header is not a parameter: it is cut, never refused).
	maxUserAgent = 256
)

// checkNoticeURL accepts an empty notice_url or an absolute http(s) URL with
// a host, without credentials (user:pass@), of at most maxNoticeURL bytes.
func checkNoticeURL(u string) error {
	if u == "" {
		return nil
	}
	if len(u) > maxNoticeURL {
		return rejectf("notice_url은 최대 %d바이트까지 가능합니다.", maxNoticeURL)
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.Opaque != "" {
		return rejectf("notice_url은 http:// 또는 https://로 시작하는 URL이어야 합니다.")
	}
	if p.User != nil {
		return rejectf("notice_url에 사용자 정보(user:password@)를 넣을 수 없습니다.")
	}
	return nil
}

// cleanUserAgent makes a User-Agent header storable: invalid UTF-8 and
// control characters become U+FFFD, and it is cut to maxUserAgent runes.
func cleanUserAgent(ua string) string {
	ua = strings.Map(func(r rune) rune {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(ua, "\uFFFD"))
	if utf8.RuneCountInString(ua) > maxUserAgent {
		ua = string([]rune(ua)[:maxUserAgent])
	}
	return ua
}

func rejectf(format string, args ...any) error {
	return billkey.Errorf(billkey.EREJECTED, format, args...)
}

func checkUID(name, v string, max int) error {
	if v == "" {
		return rejectf("%s 파라미터가 누락되었습니다.", name)
	}
	if utf8.RuneCountInString(v) > max {
		return rejectf("%s는 최대 %d자까지 가능합니다.", name, max)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return rejectf("%s에 제어 문자를 사용할 수 없습니다.", name)
		}
	}
	return nil
}

func checkText(name, v string, max int) error {
	if utf8.RuneCountInString(v) > max {
		return rejectf("%s는 최대 %d자까지 가능합니다.", name, max)
	}
	return nil
}

func checkBuyer(b billkey.Buyer) error {
	for name, v := range map[string]string{
		"buyer_name": b.Name, "buyer_email": b.Email, "buyer_tel": b.Tel, "buyer_addr": b.Addr, "buyer_postcode": b.Postcode,
	} {
		if err := checkText(name, v, maxBuyerField); err != nil {
			return err
		}
	}
	return nil
}

// Amounts is the money of a charge request.
type Amounts struct {
	Amount    int64
	TaxFree   int64
	VatAmount *int64
	Currency  string
	CardQuota int
}

func (a *Amounts) check() error {
	if a.Amount <= 0 {
		return rejectf("결제금액(amount)은 0보다 커야 합니다.")
	}
	if a.Amount > maxAmount {
		return rejectf("결제금액(amount)이 너무 큽니다.")
	}
	if a.TaxFree < 0 || a.TaxFree > a.Amount {
		return rejectf("면세금액(tax_free)은 0 이상 결제금액 이하여야 합니다.")
	}
	if a.VatAmount != nil && (*a.VatAmount < 0 || *a.VatAmount > a.Amount-a.TaxFree) {
		return rejectf("부가세(vat_amount)는 0 이상 과세금액 이하여야 합니다.")
	}
	if a.Currency == "" {
		a.Currency = "KRW"
	}
	if a.Currency != "KRW" {
		return rejectf("KG이니시스 정기결제는 KRW만 지원합니다. (currency: %s)", truncate(a.Currency, 10))
	}
	if a.CardQuota != 0 && (a.CardQuota < 2 || a.CardQuota > 36) {
		return rejectf("할부개월수(card_quota)는 0(일시불) 또는 2~36이어야 합니다.")
	}
	if a.CardQuota != 0 && a.Amount < 50000 {
		return rejectf("할부는 50,000원 이상 결제에만 가능합니다.")
	}
	return nil
}

// normalizeCard checks key-in card data and returns it with digits only.
func normalizeCard(c billkey.Card, needBirth bool) (billkey.Card, error) {
	digits := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '-' || r == ' ' {
				return -1
			}
			return r
		}, s)
	}
	c.Number = digits(c.Number)
	if c.Number == "" {
		return c, rejectf("card_number 파라미터가 누락되었습니다.")
	}
	if !allDigits(c.Number) || len(c.Number) < 13 || len(c.Number) > 19 {
		return c, rejectf("카드번호(card_number) 형식이 올바르지 않습니다. (dddd-dddd-dddd-dddd)")
	}
	exp := strings.TrimSpace(c.Expiry)
	if exp == "" {
		return c, rejectf("expiry 파라미터가 누락되었습니다.")
	}
	exp = strings.ReplaceAll(exp, "/", "-")
	if len(exp) == 6 && allDigits(exp) { // YYYYMM
		exp = exp[:4] + "-" + exp[4:]
	}
	t, err := time.Parse("2006-01", exp)
	if err != nil {
		return c, rejectf("카드 유효기간(expiry) 형식이 올바르지 않습니다. (YYYY-MM)")
	}
	c.Expiry = t.Format("2006-01")
	c.Birth = strings.TrimSpace(c.Birth)
	if c.Birth == "" && needBirth {
		return c, rejectf("birth 파라미터가 누락되었습니다. (생년월일 6자리 또는 사업자번호 10자리)")
	}
	if c.Birth != "" && (!allDigits(c.Birth) || (len(c.Birth) != 6 && len(c.Birth) != 10)) {
		return c, rejectf("생년월일(birth)은 6자리(YYMMDD) 또는 사업자번호 10자리여야 합니다.")
	}
	c.Pwd2Digit = strings.TrimSpace(c.Pwd2Digit)
	if c.Pwd2Digit != "" && (len(c.Pwd2Digit) != 2 || !allDigits(c.Pwd2Digit)) {
		return c, rejectf("카드 비밀번호 앞 2자리(pwd_2digit)는 숫자 2자리여야 합니다.")
	}
	c.CVC = strings.TrimSpace(c.CVC)
	return c, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
