package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReadParams feeds arbitrary bodies and queries to the parameter binder.
// Whatever it accepts must be a tree of valid, control-free UTF-8 (except
// tab/LF/CR under custom_data and reason) with no repeated scalar, and it must
// never panic. Seeds live in testdata/fuzz/FuzzReadParams, so plain go test
// replays them.
func FuzzReadParams(f *testing.F) {
	f.Add("POST", "application/json", `{"customer_uid":"c","amount":1000,"name":"월간"}`, "")
	f.Add("POST", "application/x-www-form-urlencoded", "customer_uid=cust1& merchant_uid=m-1& amount=1000& name=x", "_token=abc")
	f.Add("POST", "", "schedules[0][merchant_uid]=s1&schedules[0][amount]=5&imp_uid[]=a&imp_uid[]=b", "")
	f.Add("GET", "", "", "imp_uid[]=a&imp_uid%5B%5D=b&sorting=-started")
	f.Add("DELETE", "", "", "reason=a&requester=customer")
	f.Add("POST", "application/json", `{"custom_data":{"memo":"a\nb"},"reason":"x\ty"}`, "")
	f.Add("POST", "application/json", `{"a\\\"":1,"o":{"a\\\"":{"k":[{"x":":","x":2}]}}}`, "")
	f.Add("POST", "application/json", `{"a":1} }`, "")
	f.Fuzz(func(t *testing.T, method, contentType, body, query string) {
		// parseJSON's key count finds a repeated key exactly when the
		// token walk does, on every JSON object.
		var tree any
		if json.Unmarshal([]byte(body), &tree) == nil {
			if _, obj := tree.(map[string]any); obj {
				counted := jsonKeys([]byte(body)) != treeEntries(tree)
				walked := checkJSONDuplicates([]byte(body)) != nil
				if counted != walked {
					t.Fatalf("%q: key count says repeated=%v, the token walk %v", body, counted, walked)
				}
			}
		}
		switch method {
		case "GET", "POST", "PUT", "DELETE":
		default:
			method = "POST"
		}
		r, err := http.NewRequest(method, "/x", strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", contentType)
		p, err := readParams(r)
		if err != nil {
			return
		}
		if err := checkTree(map[string]any(p), "", false); err != nil {
			t.Fatalf("accepted parameters fail the text checks: %v", err)
		}
		var walk func(v any, multiline bool)
		walk = func(v any, multiline bool) {
			switch v := v.(type) {
			case string:
				if !utf8.ValidString(v) {
					t.Fatalf("invalid UTF-8 accepted: %q", v)
				}
				for _, c := range v {
					if c < 0x20 && !(multiline && (c == '\t' || c == '\n' || c == '\r')) || c >= 0x7f && c <= 0x9f {
						t.Fatalf("control character accepted: %q", v)
					}
				}
			case []any:
				for _, e := range v {
					walk(e, multiline)
				}
			case map[string]any:
				for k, e := range v {
					walk(k, false)
					walk(e, multiline || multilineFields[k])
				}
			}
		}
		walk(map[string]any(p), false)
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("accepted parameters do not marshal: %v", err)
		}
		if method == "POST" || method == "PUT" {
			if _, ok := p["_token"]; ok && strings.Contains(query, "_token") && !strings.Contains(body, "_token") {
				t.Fatalf("the query string leaked into a POST: %v", p)
			}
		}
	})
}
