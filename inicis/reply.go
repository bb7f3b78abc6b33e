package inicis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Reply is a flat INICIS JSON reply with every value as text: strings as is,
// numbers in their JSON spelling, booleans as "true"/"false", null as "",
// nested arrays and objects as their compact JSON text. The INIAPI manual
// warns that values may be null and fields may be added at any time, so
// nothing is decoded into fixed types.
type Reply map[string]string

// ParseReply decodes an INICIS JSON object reply. It fails on anything that is
// not a single JSON object.
func ParseReply(body []byte) (Reply, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("inicis: reply is not a JSON object: %w", err)
	}
	if raw == nil {
		return nil, errors.New("inicis: reply is null")
	}
	if dec.More() {
		return nil, errors.New("inicis: trailing data after reply object")
	}
	r := make(Reply, len(raw))
	for k, v := range raw {
		r[k] = scalarText(v)
	}
	return r, nil
}

func scalarText(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return ""
	}
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			return s
		}
		return ""
	case 'n':
		return ""
	case '{', '[':
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err == nil {
			return buf.String()
		}
		return string(v)
	default: // number, true, false
		return string(v)
	}
}

// Get returns the first non-empty value among keys, matched exactly.
func (r Reply) Get(keys ...string) string {
	for _, k := range keys {
		if v := r[k]; v != "" {
			return v
		}
	}
	return ""
}

// GetFold returns the first non-empty value among keys, matched
// case-insensitively (INICIS casing varies: CARD_BillKey / CARD_Billkey).
func (r Reply) GetFold(keys ...string) string {
	if v := r.Get(keys...); v != "" {
		return v
	}
	rks := make([]string, 0, len(r))
	for rk := range r {
		rks = append(rks, rk)
	}
	sort.Strings(rks) // deterministic when keys differ only by case
	for _, k := range keys {
		for _, rk := range rks {
			if v := r[rk]; v != "" && strings.EqualFold(rk, k) {
				return v
			}
		}
	}
	return ""
}
