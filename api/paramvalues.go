package api

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/billkey/billkey"
)

// Has reports whether the parameter is present and not null or "".
func (p Params) Has(name string) bool {
	v, ok := p[name]
	if !ok || v == nil {
		return false
	}
	if s, ok := v.(string); ok && s == "" {
		return false
	}
	return true
}

// String returns a string parameter; numbers and booleans are accepted and
// formatted; objects and arrays are an error.
func (p Params) String(name string) (string, error) {
	switch v := p[name].(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(v), nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", billkey.Errorf(billkey.EREJECTED, "%s 파라미터는 문자열이어야 합니다.", name)
}

// JSONText returns a parameter as text: a string as is, anything else as its
// JSON encoding (custom_data may be an object). nil means absent.
func (p Params) JSONText(name string) (*string, error) {
	v, ok := p[name]
	if !ok || v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		return &s, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, billkey.Errorf(billkey.EREJECTED, "%s 파라미터를 해석할 수 없습니다.", name)
	}
	s := string(b)
	return &s, nil
}

// Int64 returns an integer parameter (a JSON number or a decimal string).
// Fractions, exponents and overflow are errors: money is exact. ok is false
// when the parameter is absent.
func (p Params) Int64(name string) (n int64, ok bool, err error) {
	var s string
	switch v := p[name].(type) {
	case nil:
		return 0, false, nil
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
		if s == "" {
			return 0, false, nil
		}
	default:
		return 0, true, billkey.Errorf(billkey.EREJECTED, "%s 파라미터는 숫자여야 합니다.", name)
	}
	// Accept "1000.0" (some clients send floats) but never a real fraction.
	if whole, frac, found := strings.Cut(s, "."); found && strings.Trim(frac, "0") == "" && whole != "" {
		s = whole
	}
	n, err = strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, true, billkey.Errorf(billkey.EREJECTED, "%s 파라미터는 정수여야 합니다. (%q)", name, truncate(s, 40))
	}
	return n, true, nil
}

// Bool returns a boolean parameter ("true"/"false"/"1"/"0" or a JSON bool).
func (p Params) Bool(name string) (bool, error) {
	switch v := p[name].(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	case string, json.Number:
		s := fmt.Sprint(v)
		if s == "" {
			return false, nil
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			return false, billkey.Errorf(billkey.EREJECTED, "%s 파라미터는 true 또는 false여야 합니다.", name)
		}
		return b, nil
	}
	return false, billkey.Errorf(billkey.EREJECTED, "%s 파라미터는 true 또는 false여야 합니다.", name)
}

// Strings returns a list parameter: a JSON array, repeated PHP-style keys
// (name[]=a&name[]=b) or a single value.
func (p Params) Strings(name string) ([]string, error) {
	v, ok := p[name]
	if !ok || v == nil {
		return nil, nil
	}
	arr, isArr := v.([]any)
	if !isArr {
		arr = []any{v}
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		switch e := e.(type) {
		case string:
			if s := strings.TrimSpace(e); s != "" {
				out = append(out, s)
			}
		case json.Number:
			out = append(out, e.String())
		case nil:
		default:
			return nil, billkey.Errorf(billkey.EREJECTED, "%s 파라미터는 문자열 배열이어야 합니다.", name)
		}
	}
	return out, nil
}

// Objects returns a list of objects (schedules[]).
func (p Params) Objects(name string) ([]Params, error) {
	v, ok := p[name]
	if !ok || v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		// Some clients send the array as a JSON string in a form field.
		var arr []any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if err := dec.Decode(&arr); err != nil {
			return nil, billkey.Errorf(billkey.EREJECTED, "%s 파라미터는 객체 배열이어야 합니다.", name)
		}
		v = arr
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, billkey.Errorf(billkey.EREJECTED, "%s 파라미터는 객체 배열이어야 합니다.", name)
	}
	out := make([]Params, 0, len(arr))
	for _, e := range arr {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, billkey.Errorf(billkey.EREJECTED, "%s 파라미터는 객체 배열이어야 합니다.", name)
		}
		out = append(out, Params(m))
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
