package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/billkey/billkey/api"
	"github.com/billkey/billkey/internal/dbtest"
)

// openAPI is billkey's own OpenAPI document, loaded once.
var openAPI = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPIDocument())
	if err != nil {
		return nil, err
	}
	return doc, doc.Validate(context.Background())
})

// notAPI are the paths served by billkey that are not REST operations
// (payment window, SDK, demo shop, simulator, metrics, the docs).
var notAPI = []string{"/window/", "/card-update/", "/js/", "/v1/", "/demo", "/inicis-sim", "/_sim", "/metrics", "/docs", "/openapi.json"}

// validatingTransport checks every reply of billkey's REST API against
// billkey's OpenAPI document: the operation must be documented, the status
// listed, and the body must match its schema (types, nullability, required
// and no undocumented field). A mismatch fails the test.
type validatingTransport struct {
	t    testing.TB
	base http.RoundTripper
}

func (v *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := v.base.RoundTrip(req)
	if err != nil || res == nil {
		return res, err
	}
	path := req.URL.Path
	for _, p := range notAPI {
		if strings.HasPrefix(path, p) {
			return res, nil
		}
	}
	body, rerr := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return res, nil
	}
	if err := validateReply(req, res.StatusCode, res.Header, body); err != nil {
		v.t.Errorf("OpenAPI: %s %s → %d: %v\n%s", req.Method, req.URL.RequestURI(), res.StatusCode, err, truncateBody(body))
	}
	return res, nil
}

func truncateBody(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// validateReply validates one reply against billkey's document.
func validateReply(req *http.Request, status int, header http.Header, body []byte) error {
	doc, err := openAPI()
	if err != nil {
		return fmt.Errorf("the document is invalid: %w", err)
	}
	route, params := findRoute(doc, req.Method, req.URL.Path)
	if route == nil {
		if status == http.StatusNotFound && bytes.Contains(body, []byte("존재하지 않는 API입니다.")) {
			return nil // an unknown path, answered as such
		}
		return fmt.Errorf("no documented operation")
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	return openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
}

// findRoute finds the documented operation of a request path, preferring
// the template with the most literal segments (as billkey's router does).
func findRoute(doc *openapi3.T, method, path string) (*routers.Route, map[string]string) {
	if len(path) > 1 {
		path = strings.TrimRight(path, "/")
	}
	segs := strings.Split(path, "/")
	var best *routers.Route
	var bestParams map[string]string
	bestLiterals := -1
	for tmpl, item := range doc.Paths.Map() {
		op := item.GetOperation(method)
		if op == nil {
			continue
		}
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		params, literals, ok := map[string]string{}, 0, true
		for i, s := range ts {
			switch {
			case strings.HasPrefix(s, "{"):
				params[strings.Trim(s, "{}")] = segs[i]
			case s == segs[i]:
				literals++
			default:
				ok = false
			}
		}
		if ok && literals > bestLiterals {
			best = &routers.Route{Spec: doc, Path: tmpl, PathItem: item, Method: method, Operation: op}
			bestParams, bestLiterals = params, literals
		}
	}
	return best, bestParams
}

// TestOpenAPIDocument: /openapi.json is a valid OpenAPI 3 document that
// documents every route billkey serves and every i'mport operation, and
// /docs renders it with the vendored Redoc.
func TestOpenAPIDocument(t *testing.T) {
	if _, err := openAPI(); err != nil {
		t.Fatal(err)
	}
	h := start(t, dbtest.DSN(t, "sqlite"), options{})
	res, err := http.Get(h.app.BaseURL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(served, api.OpenAPIDocument()) {
		t.Fatalf("/openapi.json: %d", res.StatusCode)
	}
	res, err = http.Get(h.app.BaseURL + "/docs")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(page, []byte(`/payments/prepare/{merchant_uid}`)) || !bytes.Contains(page, []byte(`href="/docs/redoc"`)) {
		t.Fatalf("/docs: %d %s", res.StatusCode, page)
	}
	res, err = http.Get(h.app.BaseURL + "/docs/redoc")
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(page, []byte(`data-spec-url="/openapi.json"`)) || !bytes.Contains(page, []byte(`src="/docs/redoc.standalone.js"`)) ||
		bytes.Contains(page, []byte("https://")) || bytes.Contains(page, []byte("http://")) {
		t.Fatalf("/docs/redoc: %d %s", res.StatusCode, page)
	}
	res, err = http.Get(h.app.BaseURL + "/docs/redoc.standalone.js")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || len(js) < 500_000 || !bytes.Contains(js, []byte("Redoc")) {
		t.Fatalf("redoc bundle: %d, %d bytes", res.StatusCode, len(js))
	}
	// Every documented operation is routed (not answered "no such API").
	for _, op := range api.DocumentedOperations() {
		method, path, _ := strings.Cut(op, " ")
		path = strings.NewReplacer("{imp_uid}", "imps_000000000000", "{payment_status}", "paid").Replace(path)
		for strings.Contains(path, "{") {
			i, j := strings.Index(path, "{"), strings.Index(path, "}")
			path = path[:i] + "x" + path[j+1:]
		}
		_, env := h.call(method, path, map[string]any{})
		if strings.HasPrefix(env.msg(), "존재하지 않는 API입니다.") {
			t.Errorf("documented but not routed: %s", op)
		}
	}
}

// TestValidatingTransportCatchesDrift: the validation the e2e tests rely on
// does refuse replies that differ from the document.
func TestValidatingTransportCatchesDrift(t *testing.T) {
	req, _ := http.NewRequest("GET", "http://billkey.test/payments/prepare/m-1", nil)
	h := http.Header{"Content-Type": {"application/json; charset=UTF-8"}}
	good := `{"code":0,"message":null,"response":{"merchant_uid":"m-1","amount":1000,"currency":null}}`
	if err := validateReply(req, 200, h, []byte(good)); err != nil {
		t.Fatalf("a documented reply was refused: %v", err)
	}
	for name, c := range map[string]struct {
		status int
		body   string
	}{
		"undocumented field": {200, `{"code":0,"message":null,"response":{"merchant_uid":"m-1","amount":1000,"currency":null,"extra":1}}`},
		"missing field":      {200, `{"code":0,"message":null,"response":{"merchant_uid":"m-1","currency":null}}`},
		"wrong type":         {200, `{"code":0,"message":null,"response":{"merchant_uid":"m-1","amount":"1000","currency":null}}`},
		"null not allowed":   {200, `{"code":0,"message":null,"response":{"merchant_uid":null,"amount":1000,"currency":null}}`},
		"undocumented code":  {418, `{"code":-1,"message":"x","response":null}`},
		"error with payload": {404, `{"code":-1,"message":"x","response":{"a":1}}`},
		"not an envelope":    {200, `{"merchant_uid":"m-1","amount":1000}`},
	} {
		if err := validateReply(req, c.status, h, []byte(c.body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	other, _ := http.NewRequest("GET", "http://billkey.test/no/such/api", nil)
	if err := validateReply(other, 200, h, []byte(`{"code":0,"message":null,"response":null}`)); err == nil {
		t.Error("an undocumented operation was accepted")
	}
}
