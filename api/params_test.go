package api

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestParseForm(t *testing.T) {
	p, err := parseForm("customer_uid=cust1& merchant_uid=m-1& amount=1000& name=x")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := p.String("merchant_uid"); got != "m-1" {
		t.Fatalf("leading-space key lost: %v", p)
	}
	if n, ok, _ := p.Int64("amount"); !ok || n != 1000 {
		t.Fatalf("amount: %v", p)
	}
	p, err = parseForm("imp_uid[]=a&imp_uid[]=b&imp_uid%5B%5D=c&schedules[0][merchant_uid]=s1&schedules[0][amount]=5&schedules[1][merchant_uid]=s2")
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := p.Strings("imp_uid")
	if !reflect.DeepEqual(ids, []string{"a", "b", "c"}) {
		t.Fatalf("array: %v", ids)
	}
	sch, err := p.Objects("schedules")
	if err != nil || len(sch) != 2 {
		t.Fatalf("objects: %v %v", sch, err)
	}
	if v, _ := sch[1].String("merchant_uid"); v != "s2" {
		t.Fatalf("nested: %v", sch)
	}
	// Mixed shapes are refused, not guessed.
	if _, err := parseForm("a=1&a[]=2"); err == nil {
		t.Fatal("mixing a scalar and an array must fail")
	}
	if _, err := parseForm("a[99999]=1"); err == nil {
		t.Fatal("huge index must fail")
	}
}

func TestInt64Exact(t *testing.T) {
	for in, want := range map[string]int64{`{"a":1000}`: 1000, `{"a":"1000"}`: 1000, `{"a":1000.0}`: 1000, `{"a":" 7 "}`: 7} {
		p, err := parseJSON([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if n, ok, err := p.Int64("a"); err != nil || !ok || n != want {
			t.Errorf("%s: %d %v %v", in, n, ok, err)
		}
	}
	for _, in := range []string{`{"a":1000.5}`, `{"a":1e3}`, `{"a":"1,000"}`, `{"a":99999999999999999999}`, `{"a":true}`, `{"a":[1]}`} {
		p, _ := parseJSON([]byte(in))
		if _, _, err := p.Int64("a"); err == nil {
			t.Errorf("%s must be refused: money is exact", in)
		}
	}
}

func TestReadParamsSniffs(t *testing.T) {
	for _, tc := range []struct{ ct, body string }{
		{"application/json;charset=utf-8", `{"amount":5}`},
		{"", `{"amount":5}`},
		{"text/plain", `amount=5`},
		{"application/x-www-form-urlencoded", `amount=5`},
	} {
		r, _ := http.NewRequest("POST", "/x?q=1", strings.NewReader(tc.body))
		r.Header.Set("Content-Type", tc.ct)
		p, err := readParams(r)
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		if n, _, _ := p.Int64("amount"); n != 5 {
			t.Errorf("%+v: %v", tc, p)
		}
		if p.Has("q") {
			t.Errorf("%+v: a POST must not read its query string: %v", tc, p)
		}
	}
}

// FuzzParams feeds arbitrary bodies and queries to the binder and every
// accessor: no input may panic, and errors are always billkey errors.
func FuzzParams(f *testing.F) {
	for _, s := range []string{`{"amount":1000,"schedules":[{"a":1}]}`, "a=1& b=2", "x[0][y][]=1&x[0][y][]=2", "%zz=%", "a[", "a]=[", `{"a":`, "[1,2]"} {
		f.Add(s, "q[]=1")
	}
	f.Fuzz(func(t *testing.T, body, query string) {
		for _, ct := range []string{"application/json", "application/x-www-form-urlencoded", ""} {
			r, err := http.NewRequest("POST", "/x", strings.NewReader(body))
			if err != nil {
				return
			}
			r.URL.RawQuery = query
			r.Header.Set("Content-Type", ct)
			p, err := readParams(r)
			if err != nil {
				continue
			}
			for k := range p {
				_, _ = p.String(k)
				_, _, _ = p.Int64(k)
				_, _ = p.Bool(k)
				_, _ = p.Strings(k)
				_, _ = p.Objects(k)
				_, _ = p.JSONText(k)
			}
		}
	})
}

func TestNULRefused(t *testing.T) {
	for _, tc := range []struct{ ct, body, query string }{
		{"application/json", `{"name":"a\u0000b"}`, ""},
		{"application/json", `{"schedules":[{"name":"\u0000"}]}`, ""},
		{"application/x-www-form-urlencoded", "name=a%00b", ""},
		{"application/json", `{}`, "merchant_uid[]=%00"},
	} {
		method := "POST"
		if tc.query != "" {
			method = "DELETE" // a POST does not read its query string
		}
		r, _ := http.NewRequest(method, "/x?"+tc.query, strings.NewReader(tc.body))
		r.Header.Set("Content-Type", tc.ct)
		if _, err := readParams(r); err != errNUL {
			t.Errorf("%+v: %v, want errNUL", tc, err)
		}
	}
}

func TestRepeatedScalarRefused(t *testing.T) {
	for _, raw := range []string{"a=1&a=2", "a=1& a=2", "a[0]=1&a[0]=2", "s[0][x]=1&s[0][x]=2"} {
		if _, err := parseForm(raw); err == nil {
			t.Errorf("%q: a repeated scalar must be refused", raw)
		}
	}
	for _, raw := range []string{`{"a":1,"a":2}`, `{"o":{"x":1,"x":1}}`, `{"l":[{"x":1,"x":2}]}`,
		`{"q\\\"":1, "q\\\"" : 2}`, `{"s":"a\":b","s":"c"}`, `{"o":{"x":":","x":{}}}`} {
		if _, err := parseJSON([]byte(raw)); err == nil {
			t.Errorf("%s: a repeated JSON key must be refused", raw)
		}
	}
	for _, raw := range []string{`{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}`, `{"a":[1,1],"b":{}}`,
		`{"s":"x\":y","t":"\\","u":["a:","b"]}`, "{\"a\"\t:\n1 , \"b\" :2}\n"} {
		if _, err := parseJSON([]byte(raw)); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
	}
	for _, raw := range []string{`{"a":1}}`, `{"a":1}]`, `{"a":1} {"a":2}`, `{"a":1}x`} {
		if _, err := parseJSON([]byte(raw)); err == nil {
			t.Errorf("%s: data after the object must be refused", raw)
		}
	}
	if p, err := parseForm("a[]=1&a[]=1"); err != nil || len(p["a"].([]any)) != 2 {
		t.Errorf("appending to a list is not a repetition: %v %v", p, err)
	}
}

func TestCheckText(t *testing.T) {
	for _, c := range []struct {
		s         string
		multiline bool
		ok        bool
	}{
		{"홍길동", false, true},
		{"utf\xff", false, false},
		{"a\x00b", true, false},
		{"a\nb", false, false},
		{"a\nb\r\n\tc", true, true},
		{"a\x1bb", true, false},
		{"a\u0085b", true, false},
		{"a\x7fb", false, false},
		{"\ufffd is valid", false, true},
	} {
		if err := checkText("f", c.s, c.multiline); (err == nil) != c.ok {
			t.Errorf("checkText(%q, %v) = %v, want ok=%v", c.s, c.multiline, err, c.ok)
		}
	}
	// custom_data's objects may hold newlines at any depth; name may not.
	if err := checkTree(map[string]any{"custom_data": map[string]any{"note": []any{"a\nb"}}}, "", false); err != nil {
		t.Error(err)
	}
	if err := checkTree(map[string]any{"schedules": []any{map[string]any{"name": "a\nb"}}}, "", false); err == nil {
		t.Error("a newline in a nested name must be refused")
	}
}

func TestPostReadsBodyOnly(t *testing.T) {
	r, _ := http.NewRequest("POST", "/x?amount=999999&_token=abc&extra=1", strings.NewReader("amount=100"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p, err := readParams(r)
	if err != nil {
		t.Fatal(err)
	}
	if n, _, _ := p.Int64("amount"); n != 100 || p.Has("extra") || p.Has("_token") {
		t.Fatalf("POST must read its body only: %v", p)
	}
	r, _ = http.NewRequest("DELETE", "/x?reason=a", strings.NewReader("reason=b"))
	if _, err := readParams(r); err == nil {
		t.Fatal("DELETE with a name in both the query and the body must be refused")
	}
	r, _ = http.NewRequest("DELETE", "/x?reason=a&requester=customer", strings.NewReader(""))
	if p, err := readParams(r); err != nil || !p.Has("reason") || !p.Has("requester") {
		t.Fatalf("DELETE with query parameters: %v %v", p, err)
	}
}
