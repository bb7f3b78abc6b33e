package gateway

import (
	"net/url"
)

// Byte-level checks of what reaches the payment window from browsers. Text
// the databases cannot hold (invalid UTF-8 makes PostgreSQL fail; SQLite
// stores the raw bytes) or that has no business in a parameter (control
// characters; U+FFFD, which is what a lone surrogate escape such as "\ud800"
// decodes to) is refused before anything is written or sent to INICIS.

// BadText reports why s is not acceptable window text ("" when it is):
// invalid UTF-8, a control character (C0, DEL, C1) or U+FFFD. allowSpace
// also lets tab, newline and carriage return through (free text such as
// custom_data).
func BadText(s string, allowSpace bool) string {
	switch fault, _ := ScanText(s, allowSpace, true); fault {
	case TextInvalidUTF8:
		return "UTF-8이 아닌 바이트"
	case TextReplacement:
		return "유효하지 않은 문자(U+FFFD)"
	case TextControl:
		return "제어 문자"
	}
	return ""
}

// checkWindowText refuses a parameter whose text BadText rejects.
func checkWindowText(name, v string, allowSpace bool) error {
	if why := BadText(v, allowSpace); why != "" {
		return rejectf("%s 파라미터에 허용되지 않는 문자가 있습니다(%s). 다시 시도해주세요.", name, why)
	}
	return nil
}

// checkText applies checkWindowText to every text parameter.
func (p *WindowParams) checkText() error {
	fields := []struct {
		name, v string
	}{
		{"pg", p.PG}, {"pay_method", p.PayMethod}, {"merchant_uid", p.MerchantUID}, {"name", p.Name},
		{"currency", p.Currency}, {"customer_uid", p.CustomerUID}, {"buyer_name", p.Buyer.Name},
		{"buyer_email", p.Buyer.Email}, {"buyer_tel", p.Buyer.Tel}, {"buyer_addr", p.Buyer.Addr},
		{"buyer_postcode", p.Buyer.Postcode}, {"m_redirect_url", p.MRedirectURL}, {"request_id", p.RequestID},
		{"language", p.Language},
	}
	for _, u := range p.NoticeURLs {
		fields = append(fields, struct{ name, v string }{"notice_url", u})
	}
	for _, f := range fields {
		if err := checkWindowText(f.name, f.v, false); err != nil {
			return err
		}
	}
	if p.CustomData != nil {
		return checkWindowText("custom_data", *p.CustomData, true)
	}
	return nil
}

// checkReturnPost refuses an INICIS return post with unacceptable bytes in
// any name or value: INICIS sends UTF-8 (charset=UTF-8 is in the request),
// so such a post is not INICIS's and is not approved.
func checkReturnPost(post url.Values) error {
	for name, vs := range post {
		if why := BadText(name, false); why != "" {
			return rejectf("결제 결과에 허용되지 않는 문자가 있어 처리하지 않았습니다(%s). 다시 시도해주세요.", why)
		}
		for _, v := range vs {
			if why := BadText(v, false); why != "" {
				return rejectf("결제 결과(%s)에 허용되지 않는 문자가 있어 처리하지 않았습니다(%s). 다시 시도해주세요.", truncate(name, 30), why)
			}
		}
	}
	return nil
}
