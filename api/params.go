package api

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
)

// maxBody bounds request bodies.
const maxBody = 1 << 20

// Params is a request's parameters, from a JSON body, a form body or the
// query string, as one tree of values: string, json.Number, bool, nil,
// []any and map[string]any. Form keys are trimmed (go-iamport sends
// "a=1& b=2") and PHP-style brackets build arrays and objects
// ("imp_uid[]=a", "schedules[0][amount]=1000").
//
// Every key and string in the tree is checked once, at the edge, before any
// handler runs (see checkText): valid UTF-8, no control characters (C0, DEL,
// C1) except tab, line feed and carriage return inside the free-text fields
// in multilineFields. A scalar given twice (a=1&a=2, a repeated JSON key, the
// same array index twice) is refused as ambiguous rather than guessed.
type Params map[string]any

// multilineFields are the parameters (at any depth, with everything inside
// them) whose text may hold tab, LF and CR: the merchant's free-form
// custom_data and a cancel's reason. Every other field is one line.
var multilineFields = map[string]bool{"custom_data": true, "reason": true}

// readParams binds a request's parameters. A POST, PUT or PATCH reads its
// body only (JSON or form, whatever the Content-Type says, sniffed when it
// says nothing useful): query-string values are ignored, except that
// "_token" stays usable for authentication (tokenOf reads it from the URL).
// GET and HEAD read the query string; DELETE reads the query string and a
// form or JSON body (go-iamport sends reason/requester in the query, Ruby an
// empty form body), refusing a name given in both.
func readParams(r *http.Request) (Params, error) {
	bodyOnly := r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch
	p := Params{}
	if !bodyOnly {
		q, err := parseForm(r.URL.RawQuery)
		if err != nil {
			return nil, err
		}
		delete(q, "_token")
		p = q
	}
	if r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return nil, billkey.WrapError(billkey.EINVALID, "요청 본문을 읽을 수 없습니다.", err)
		}
		if len(body) > maxBody {
			return nil, billkey.Errorf(billkey.EINVALID, "요청 본문이 너무 큽니다. (max %d bytes)", maxBody)
		}
		var bodyParams Params
		if isJSON(r.Header.Get("Content-Type"), body) {
			bodyParams, err = parseJSON(body)
		} else {
			bodyParams, err = parseForm(string(body))
		}
		if err != nil {
			return nil, err
		}
		for k, v := range bodyParams {
			if _, dup := p[k]; dup {
				return nil, errRepeated(k)
			}
			p[k] = v
		}
	}
	if err := checkTree(map[string]any(p), "", false); err != nil {
		return nil, err
	}
	return p, nil
}

// errNUL refuses NUL characters, which no i'mport field can hold and which
// PostgreSQL cannot store in text.
var errNUL = billkey.Errorf(billkey.EINVALID, "파라미터에 NUL 문자를 사용할 수 없습니다. (NUL character in a parameter)")

// errRepeated refuses a parameter given more than once.
func errRepeated(name string) error {
	return billkey.Errorf(billkey.EINVALID, "%s 파라미터가 여러 번 전달되었습니다. 한 번만 보내 주세요. (parameter %q is repeated: ambiguous)",
		printable(name), printable(name))
}

// checkTree checks every key and string of a parameter tree with checkText.
// field is the name of the nearest enclosing parameter, for messages;
// multiline is inherited from an enclosing multilineFields entry.
func checkTree(v any, field string, multiline bool) error {
	switch v := v.(type) {
	case string:
		return checkText(field, v, multiline)
	case []any:
		for _, e := range v {
			if err := checkTree(e, field, multiline); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range v {
			if err := checkText("", k, false); err != nil {
				return err
			}
			if err := checkTree(e, k, multiline || multilineFields[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkText refuses text the databases cannot hold faithfully or that no
// i'mport field means: invalid UTF-8 (PostgreSQL refuses it, SQLite would
// store bytes that display as U+FFFD), NUL, and the other control characters
// (C0, DEL and C1; tab, LF and CR are allowed when multiline). field names
// the parameter in the message; "" means a parameter name itself.
func checkText(field, s string, multiline bool) error {
	what := "파라미터 이름"
	if field != "" {
		what = printable(field) + " 파라미터"
	}
	switch fault, c := gateway.ScanText(s, multiline, false); {
	case fault == gateway.TextInvalidUTF8:
		return billkey.Errorf(billkey.EINVALID, "%s에 올바르지 않은 UTF-8 바이트가 있습니다. (invalid UTF-8 in %s)", what, printable(field))
	case fault == gateway.TextControl && c == 0:
		return errNUL
	case fault == gateway.TextControl:
		return billkey.Errorf(billkey.EINVALID, "%s에 제어 문자(U+%04X)를 사용할 수 없습니다. (control character in %s)", what, c, printable(field))
	}
	return nil
}

// printable makes a name safe to echo in a message: invalid bytes and
// control characters become U+FFFD, and it is shortened.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return truncate(s, 40)
}

func isJSON(contentType string, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return true
	case mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data":
		return false
	}
	t := bytes.TrimSpace(body)
	return len(t) > 0 && t[0] == '{'
}

func parseJSON(body []byte) (Params, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return Params{}, nil
	}
	if !utf8.Valid(body) {
		// encoding/json would silently turn invalid bytes into U+FFFD.
		return nil, billkey.Errorf(billkey.EINVALID, "요청 본문에 올바르지 않은 UTF-8 바이트가 있습니다. (invalid UTF-8 in the JSON body)")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, billkey.WrapError(billkey.EINVALID, "JSON 형식이 올바르지 않습니다. (invalid JSON body)", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		// Anything but white space after the object, a stray '}' included.
		return nil, billkey.Errorf(billkey.EINVALID, "JSON 형식이 올바르지 않습니다. (trailing data)")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, billkey.Errorf(billkey.EINVALID, "JSON 본문은 객체여야 합니다. (body must be a JSON object)")
	}
	// A key named twice in one object collapses into one map entry, so the
	// body names more keys than the decoded tree holds; only then is the
	// (slower) token walk run to name the repeated key.
	if jsonKeys(body) != treeEntries(v) {
		if err := checkJSONDuplicates(body); err != nil {
			return nil, err
		}
		return nil, billkey.Errorf(billkey.EINVALID, "JSON 본문에 같은 이름이 여러 번 있습니다. (a key is repeated)")
	}
	return Params(m), nil
}

// jsonKeys counts the object keys of one valid JSON text: the strings
// followed by a colon. It allocates nothing.
func jsonKeys(b []byte) int {
	n := 0
	for i := 0; i < len(b); i++ {
		if b[i] != '"' {
			continue
		}
		for i++; i < len(b) && b[i] != '"'; i++ {
			if b[i] == '\\' {
				i++ // the escaped byte, a quote included
			}
		}
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\n' || b[j] == '\r') {
			j++
		}
		if j < len(b) && b[j] == ':' {
			n++
		}
	}
	return n
}

// treeEntries counts the entries of every object in a decoded JSON tree.
func treeEntries(v any) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		n += len(v)
		for _, e := range v {
			n += treeEntries(e)
		}
	case []any:
		for _, e := range v {
			n += treeEntries(e)
		}
	}
	return n
}

// checkJSONDuplicates refuses an object that names a key twice
// ({"amount":100,"amount":999999}): encoding/json would keep the last one,
// and an upstream check may have read the first.
func checkJSONDuplicates(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		obj  bool
		keys map[string]bool
		key  bool // the next token of an object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // syntax errors are reported by the real decode
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k, _ := tok.(string)
			if top.keys[k] {
				return errRepeated(k)
			}
			top.keys[k] = true
			top.key = false
			continue
		}
		if top != nil && top.obj {
			top.key = true // this token is the value
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, &frame{obj: true, keys: map[string]bool{}, key: true})
			case '[':
				stack = append(stack, &frame{})
			case ']':
				stack = stack[:len(stack)-1]
			}
		}
	}
}

// parseForm parses a query or form body. It is lenient where real clients
// are sloppy (spaces around keys, unescaped values) and strict where
// ambiguity would lose money (a key used both as a value and an array).
func parseForm(raw string) (Params, error) {
	p := Params{}
	for _, pair := range strings.Split(raw, "&") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(strings.TrimSpace(k))
		if err != nil {
			key = strings.TrimSpace(k)
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			val = v // go-iamport sends values unescaped
		}
		key = strings.TrimSpace(key)
		if key == "" {
			continue
		}
		if strings.IndexByte(key, 0) >= 0 || strings.IndexByte(val, 0) >= 0 {
			return nil, errNUL
		}
		if err := setPath(p, key, val); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// setPath stores val under a PHP-style key such as a, a[], a[0][b].
func setPath(p Params, key, val string) error {
	name, rest, hasBracket := strings.Cut(key, "[")
	name = strings.TrimSpace(name)
	if !hasBracket {
		if _, dup := p[name]; dup {
			return errRepeated(name)
		}
		p[name] = val
		return nil
	}
	var segs []string
	rest = "[" + rest
	for len(rest) > 0 {
		if rest[0] != '[' {
			return billkey.Errorf(billkey.EINVALID, "잘못된 파라미터 이름입니다: %q", key)
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return billkey.Errorf(billkey.EINVALID, "잘못된 파라미터 이름입니다: %q", key)
		}
		segs = append(segs, rest[1:end])
		rest = rest[end+1:]
	}
	if len(segs) > 4 {
		return billkey.Errorf(billkey.EINVALID, "파라미터 중첩이 너무 깊습니다: %q", key)
	}
	cur, err := assign(p[name], segs, val, key)
	if err != nil {
		return err
	}
	p[name] = cur
	return nil
}

func assign(cur any, segs []string, val, key string) (any, error) {
	if len(segs) == 0 {
		if cur != nil {
			return nil, errRepeated(key)
		}
		return val, nil
	}
	seg := segs[0]
	if seg == "" {
		arr, ok := cur.([]any)
		if cur != nil && !ok {
			return nil, billkey.Errorf(billkey.EINVALID, "파라미터 %q의 형식이 섞여 있습니다.", key)
		}
		elem, err := assign(nil, segs[1:], val, key)
		if err != nil {
			return nil, err
		}
		return append(arr, elem), nil
	}
	if i, err := strconv.Atoi(seg); err == nil && i >= 0 {
		if i > 1000 {
			return nil, billkey.Errorf(billkey.EINVALID, "파라미터 %q의 배열 인덱스가 너무 큽니다.", key)
		}
		arr, ok := cur.([]any)
		if cur != nil && !ok {
			return nil, billkey.Errorf(billkey.EINVALID, "파라미터 %q의 형식이 섞여 있습니다.", key)
		}
		for len(arr) <= i {
			arr = append(arr, nil)
		}
		elem, err := assign(arr[i], segs[1:], val, key)
		if err != nil {
			return nil, err
		}
		arr[i] = elem
		return arr, nil
	}
	obj, ok := cur.(map[string]any)
	if cur != nil && !ok {
		return nil, billkey.Errorf(billkey.EINVALID, "파라미터 %q의 형식이 섞여 있습니다.", key)
	}
	if obj == nil {
		obj = map[string]any{}
	}
	elem, err := assign(obj[seg], segs[1:], val, key)
	if err != nil {
		return nil, err
	}
	obj[seg] = elem
	return obj, nil
}
