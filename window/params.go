package window

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
)

// maxParams bounds the JSON of IMP.request_pay's parameters.
const maxParams = 32 << 10

// decodeParams reads the JSON object iamport.js sends as the params field
// (IMP.request_pay's first argument plus request_id). It is lenient where
// merchant pages are (numbers for ids and phone numbers, an amount as a
// numeric string, notice_url as a string or an array) and strict where it
// matters (amount must be a non-negative integer). Unknown keys are ignored.
// On error the returned params still hold what could be read, so the
// failure rsp can echo merchant_uid and request_id.
func decodeParams(raw []byte) (gateway.WindowParams, error) {
	var p gateway.WindowParams
	if len(raw) > maxParams {
		return p, rejectf("결제 요청 파라미터가 너무 큽니다.")
	}
	if !utf8.Valid(raw) {
		return p, rejectf("결제 요청 파라미터가 UTF-8이 아닙니다.")
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return p, rejectf("결제 요청 파라미터(JSON)를 읽을 수 없습니다.")
	}
	var errs []string
	text := func(name string) string {
		v, ok := m[name]
		if !ok {
			return ""
		}
		s, err := scalarText(v)
		if err != nil {
			errs = append(errs, name)
		}
		return strings.TrimSpace(s)
	}
	// Echo fields first, so even a failure rsp can carry them.
	p.RequestID = text("request_id")
	p.MerchantUID = text("merchant_uid")
	p.PG = text("pg")
	p.ChannelKey = text("channelKey")
	p.PayMethod = text("pay_method")
	p.Name = text("name")
	p.Currency = strings.ToUpper(text("currency"))
	p.CustomerUID = text("customer_uid")
	p.CustomerID = text("customer_id")
	p.Buyer = billkey.Buyer{
		Name: text("buyer_name"), Email: text("buyer_email"), Tel: text("buyer_tel"),
		Addr: text("buyer_addr"), Postcode: text("buyer_postcode"),
	}
	p.MRedirectURL = text("m_redirect_url")
	p.Language = strings.ToLower(text("language"))
	p.CardUpdate = text(gateway.WindowParamCardUpdate)
	if v, ok := m["custom_data"]; ok && !isNull(v) {
		cd, err := customData(v)
		if err != nil {
			errs = append(errs, "custom_data")
		} else {
			p.CustomData = &cd
		}
	}
	if v, ok := m["notice_url"]; ok && !isNull(v) {
		u, err := noticeURLs(v)
		if err != nil {
			errs = append(errs, "notice_url")
		}
		p.NoticeURLs = u
	}
	if v, ok := m["amount"]; ok && !isNull(v) {
		a, err := amountOf(v)
		if err != nil {
			return p, rejectf("결제금액(amount)은 0 이상의 정수여야 합니다.")
		}
		p.Amount = a
	}
	if len(errs) > 0 {
		return p, rejectf("파라미터 형식이 올바르지 않습니다: %s", strings.Join(errs, ", "))
	}
	return p, nil
}

func rejectf(format string, args ...any) error {
	return billkey.Errorf(billkey.EREJECTED, format, args...)
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// scalarText reads a JSON string, number or boolean as text; null is "".
func scalarText(v json.RawMessage) (string, error) {
	var x any
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	if err := dec.Decode(&x); err != nil {
		return "", err
	}
	switch t := x.(type) {
	case nil:
		return "", nil
	case string:
		return t, nil
	case json.Number:
		return t.String(), nil
	case bool:
		return strconv.FormatBool(t), nil
	}
	return "", fmt.Errorf("not a scalar")
}

// amountOf reads a non-negative integer amount given as a number or a
// numeric string ("9900", 9900, 9900.0).
func amountOf(v json.RawMessage) (int64, error) {
	s, err := scalarText(v)
	if err != nil {
		return 0, err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("negative")
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f != math.Trunc(f) || f > 1e15 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("not a non-negative integer: %q", s)
	}
	return int64(f), nil
}

// customData keeps a string as is and any other JSON value as its JSON
// text (i'mport stores custom_data as a JSON string).
func customData(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// noticeURLs reads notice_url: a string, or an array of strings (the SDK
// allows both); blank entries are dropped, every other one is used.
func noticeURLs(v json.RawMessage) ([]string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if s = strings.TrimSpace(s); s == "" {
			return nil, nil
		}
		return []string{s}, nil
	}
	var list []string
	if err := json.Unmarshal(v, &list); err != nil {
		return nil, err
	}
	var out []string
	for _, u := range list {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out, nil
}

// parseOrigin returns the serialized origin (scheme://host[:port]) of an
// http(s) origin string, or false. A path of "/" is tolerated; anything
// else (path, query, credentials, "null") is refused, so the result is safe
// as a postMessage target and a CSP source.
func parseOrigin(s string) (string, bool) {
	if s == "" || s == "null" || len(s) > 300 {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", false
	}
	host := strings.ToLower(u.Host)
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == ':' || r == '[' || r == ']') {
			return "", false
		}
	}
	return u.Scheme + "://" + host, true
}

// originOf returns the origin of an absolute URL ("" if it has none).
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	o, _ := parseOrigin(u.Scheme + "://" + u.Host)
	return o
}
