package api

import (
	"bytes"
	_ "embed" // go:embed of the vendored Redoc bundle
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// The OpenAPI 3 document of billkey's REST API, served at /openapi.json and
// rendered for people at /docs by Redoc (vendored under api/docs/redoc with
// its MIT license; no CDN).
//
// The document is built from the operation table below and from the very
// Go types the handlers encode (paymentView, scheduleView...), by
// reflection: a field added to a view appears in the document. The e2e
// tests validate every reply they receive against the served document
// (status code, envelope, field types, nullability, no undocumented
// field), so the table cannot drift from the routes either.

//go:embed docs/redoc/redoc.standalone.js
var redocJS []byte

// docOp is one documented operation.
type docOp struct {
	Method, Path string
	Tag, Summary string
	// Response is a value of the type of the envelope's response on
	// success (nil: the operation never succeeds).
	Response any
	// Multi: HTTP 207 with the found items when only some ids were found.
	Multi bool
	// Idempotent: POST/PUT honouring the Idempotency-Key header (409, 422).
	Idempotent bool
	// Public: no access token needed.
	Public bool
	// Description adds text to the summary.
	Description string
}

// healthView is GET /healthz's reply (no envelope).
type healthView struct {
	Status     string `json:"status"`
	Database   string `json:"database,omitempty"`
	Durability string `json:"durability,omitempty"`
}

func docOps() []docOp {
	pay, pays := paymentView{}, []paymentView{}
	payPage := pageView[paymentView]{}
	sched, scheds, schedPage := scheduleView{}, []scheduleView{}, pageView[scheduleView]{}
	cust := customerView{}
	ops := []docOp{
		{Method: "POST", Path: "/users/getToken", Tag: "auth", Summary: "Access token (imp_key, imp_secret)", Response: tokenView{}, Public: true},
		{Method: "GET", Path: "/payments/{imp_uid}", Tag: "payments", Summary: "Payment by imp_uid", Response: pay},
		{Method: "GET", Path: "/payments", Tag: "payments", Summary: "Payments by imp_uid[] and merchant_uid[] (each payment once)", Response: pays, Multi: true},
		{Method: "GET", Path: "/payments/find/{merchant_uid}", Tag: "payments", Summary: "Newest payment of a merchant_uid", Response: pay},
		{Method: "GET", Path: "/payments/find/{merchant_uid}/{payment_status}", Tag: "payments", Summary: "Newest payment of a merchant_uid in a status", Response: pay},
		{Method: "GET", Path: "/payments/findAll/{merchant_uid}", Tag: "payments", Summary: "Every payment of a merchant_uid (404 when none)", Response: payPage},
		{Method: "GET", Path: "/payments/findAll/{merchant_uid}/{payment_status}", Tag: "payments", Summary: "Every payment of a merchant_uid in a status (404 when none)", Response: payPage},
		{Method: "GET", Path: "/payments/status/{payment_status}", Tag: "payments", Summary: "Payments by status (all, ready, paid, cancelled, failed); page=0 is the first page", Response: payPage},
		{Method: "GET", Path: "/payments/{imp_uid}/balance", Tag: "payments", Summary: "Balance: approved minus refunded, split into tax-free, supply and VAT", Response: balanceView{}},
		{Method: "POST", Path: "/payments/cancel", Tag: "payments", Summary: "Full or partial refund", Response: pay, Idempotent: true},
		{Method: "POST", Path: "/payments/prepare", Tag: "prepare", Summary: "Pre-register the amount of a merchant_uid", Response: prepareView{}, Idempotent: true},
		{Method: "PUT", Path: "/payments/prepare", Tag: "prepare", Summary: "Change a pre-registered amount (404 when unknown)", Response: prepareView{}, Idempotent: true},
		{Method: "GET", Path: "/payments/prepare/{merchant_uid}", Tag: "prepare", Summary: "Pre-registered amount (404 사전등록된 결제정보가 존재하지 않습니다.)", Response: prepareView{}},
		{Method: "POST", Path: "/subscribe/customers/{customer_uid}", Tag: "billing keys", Summary: "Issue (or replace) a billing key from card data", Response: cust, Idempotent: true},
		{Method: "GET", Path: "/subscribe/customers/{customer_uid}", Tag: "billing keys", Summary: "Billing key record (unknown: HTTP 200, code 1)", Response: cust},
		{Method: "DELETE", Path: "/subscribe/customers/{customer_uid}", Tag: "billing keys", Summary: "Delete a billing key; its pending schedules fail when due (등록되지 않은 구매자입니다.)", Response: cust},
		{Method: "GET", Path: "/subscribe/customers", Tag: "billing keys", Summary: "Billing keys by customer_uid[]", Response: []customerView{}, Multi: true},
		{Method: "GET", Path: "/subscribe/customers/{customer_uid}/payments", Tag: "billing keys", Summary: "Payments made with a billing key", Response: payPage},
		{Method: "GET", Path: "/subscribe/customers/{customer_uid}/schedules", Tag: "schedules", Summary: "Schedules of a billing key", Response: schedPage},
		{Method: "POST", Path: "/subscribe/payments/again", Tag: "charges", Summary: "Charge a stored billing key", Response: pay, Idempotent: true},
		{Method: "POST", Path: "/subscribe/payments/onetime", Tag: "charges", Summary: "Key-in charge (optionally keeping the key under customer_uid)", Response: pay, Idempotent: true},
		{Method: "POST", Path: "/subscribe/payments/foreign", Tag: "charges", Summary: "Legacy key-in charge for foreign cards (birth optional)", Response: pay, Idempotent: true},
		{Method: "POST", Path: "/subscribe/payments/schedule", Tag: "schedules", Summary: "Register scheduled charges", Response: scheds, Idempotent: true},
		{Method: "POST", Path: "/subscribe/payments/unschedule", Tag: "schedules", Summary: "Revoke pending schedules", Response: scheds, Idempotent: true},
		{Method: "GET", Path: "/subscribe/payments/schedule", Tag: "schedules", Summary: "Schedules in a time range", Response: schedPage},
		{Method: "GET", Path: "/subscribe/payments/schedule/{merchant_uid}", Tag: "schedules", Summary: "One schedule", Response: sched},
		{Method: "GET", Path: "/subscribe/payments/schedule/customers/{customer_uid}", Tag: "schedules", Summary: "Schedules of a billing key", Response: schedPage},
		{Method: "PUT", Path: "/subscribe/payments/schedule/{merchant_uid}", Tag: "schedules", Summary: "Move a pending schedule", Response: sched, Idempotent: true},
		{Method: "POST", Path: "/subscribe/payments/schedule/{merchant_uid}/reschedule", Tag: "schedules", Summary: "Schedule a failed or revoked schedule again", Response: sched, Idempotent: true},
		{Method: "POST", Path: "/subscribe/payments/schedule/{merchant_uid}/retry", Tag: "schedules", Summary: "Run a failed or revoked schedule now", Response: pay, Idempotent: true},
		{Method: "GET", Path: "/cards", Tag: "codes", Summary: "Card companies' KFTC codes", Response: []standardCode{}},
		{Method: "GET", Path: "/cards/{card_standard_code}", Tag: "codes", Summary: "One card company", Response: standardCode{}},
		{Method: "GET", Path: "/banks", Tag: "codes", Summary: "Banks' KFTC codes", Response: []standardCode{}},
		{Method: "GET", Path: "/banks/{bank_standard_code}", Tag: "codes", Summary: "One bank", Response: standardCode{}},
		{Method: "GET", Path: "/users/pg", Tag: "codes", Summary: "The merchant's PG channels", Response: []pgSetting{}},
		{Method: "GET", Path: "/webhooks", Tag: "webhooks (billkey)", Summary: "Webhook URL and signing secrets", Response: webhookSettingsView{}},
		{Method: "PUT", Path: "/webhooks/url", Tag: "webhooks (billkey)", Summary: "Set the webhook URL", Response: webhookSettingsView{}, Idempotent: true},
		{Method: "PUT", Path: "/webhooks/notice-hosts", Tag: "webhooks (billkey)", Summary: "Hosts, besides the webhook URL's, a payment window's notice_url may name", Response: webhookSettingsView{}, Idempotent: true},
		{Method: "POST", Path: "/webhooks/secret/rotate", Tag: "webhooks (billkey)", Summary: "Rotate the signing secret (shown once)", Response: rotatedSecretView{}},
		{Method: "GET", Path: "/webhooks/deliveries", Tag: "webhooks (billkey)", Summary: "Webhook deliveries", Response: pageView[deliveryView]{}},
		{Method: "GET", Path: "/webhooks/deliveries/{id}", Tag: "webhooks (billkey)", Summary: "One delivery with its attempts", Response: deliveryView{}},
		{Method: "POST", Path: "/webhooks/deliveries/{id}/resend", Tag: "webhooks (billkey)", Summary: "Send a delivery again", Response: deliveryView{}, Idempotent: true},
	}
	ops = append(ops, subscriptionOps()...) // subscription.go
	for _, u := range unsupportedOps {
		ops = append(ops, docOp{Method: u.Method, Path: u.Path, Tag: "not offered: " + u.Product,
			Summary:     "Not offered by billkey: " + u.Message,
			Description: unsupportedDescription(u)})
	}
	return ops
}

func unsupportedDescription(u UnsupportedOperation) string {
	switch u.Kind {
	case NoData:
		return "Always HTTP 404, code -1: " + u.Message
	case ByPayment:
		return "Unknown imp_uid: HTTP 404 존재하지 않는 결제정보입니다.; one of billkey's (card) payments: " + u.Message
	}
	return "Always HTTP 200, code 1: " + u.Message
}

// schemaBuilder turns Go view types into OpenAPI schemas.
type schemaBuilder struct {
	components map[string]any
}

var genericName = regexp.MustCompile(`\[.*\.(\w+)\]$`)

func (b *schemaBuilder) schemaOf(t reflect.Type) map[string]any {
	switch t.Kind() {
	case reflect.Pointer:
		s := b.schemaOf(t.Elem())
		if _, ref := s["$ref"]; ref {
			return map[string]any{"allOf": []any{s}, "nullable": true}
		}
		s["nullable"] = true
		return s
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": b.schemaOf(t.Elem())}
	case reflect.Map: // e.g. /readyz's checks
		return map[string]any{"type": "object", "additionalProperties": b.schemaOf(t.Elem())}
	case reflect.Struct:
		name := t.Name()
		if m := genericName.FindStringSubmatch(name); m != nil { // pageView[...paymentView]
			name = "pageOf" + strings.ToUpper(m[1][:1]) + m[1][1:]
		}
		name = strings.ToUpper(name[:1]) + strings.TrimSuffix(name[1:], "View")
		if _, done := b.components[name]; !done {
			b.components[name] = nil // recursion guard
			props, required := map[string]any{}, []string{}
			for i := range t.NumField() {
				f := t.Field(i)
				tag, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
				if tag == "" || tag == "-" {
					continue
				}
				props[tag] = b.schemaOf(f.Type)
				if !strings.Contains(opts, "omitempty") {
					required = append(required, tag)
				}
			}
			b.components[name] = map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	panic(fmt.Sprintf("api: no OpenAPI schema for %s", t))
}

var docParam = regexp.MustCompile(`\{([^}]+)\}`)

// OpenAPIDocument returns billkey's OpenAPI 3.0 document as JSON.
func OpenAPIDocument() []byte {
	docOnce.Do(func() { docJSON = buildDocument() })
	return docJSON
}

var (
	docOnce sync.Once
	docJSON []byte
)

func buildDocument() []byte {
	b := &schemaBuilder{components: map[string]any{}}
	errorEnv := map[string]any{"$ref": "#/components/schemas/ErrorEnvelope"}
	b.components["ErrorEnvelope"] = map[string]any{
		"type": "object", "required": []string{"code", "message", "response"}, "additionalProperties": false,
		"description": "i'mport's envelope of a refusal: code 1 (business rule, HTTP 200) or -1 (PG/card failure, lookups, auth)",
		"properties": map[string]any{
			"code":     map[string]any{"type": "integer", "enum": []int{1, -1}},
			"message":  map[string]any{"type": "string"},
			"response": map[string]any{"type": "object", "nullable": true, "maxProperties": 0, "description": "always null"},
		},
	}
	errResp := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": errorEnv}}}
	}
	paths := map[string]map[string]any{}
	for _, op := range docOps() {
		responses := map[string]any{}
		if op.Response != nil {
			ok := map[string]any{
				"type": "object", "required": []string{"code", "message", "response"}, "additionalProperties": false,
				"properties": map[string]any{
					"code":     map[string]any{"type": "integer"},
					"message":  map[string]any{"type": "string", "nullable": true},
					"response": nullable(b.schemaOf(reflect.TypeOf(op.Response))),
				},
			}
			body := map[string]any{"application/json": map[string]any{"schema": ok}}
			responses["200"] = map[string]any{"description": "code 0 with the response; or a business refusal (code 1 or -1, response null)", "content": body}
			if op.Multi {
				responses["207"] = map[string]any{"description": "some ids were not found: the found ones", "content": body}
			}
		} else {
			responses["200"] = errResp("code 1: refused (no such contract)")
		}
		responses["400"] = errResp("bad parameters or path")
		responses["404"] = errResp("not found")
		responses["500"] = errResp("internal error (details logged, never shown)")
		if !op.Public {
			responses["401"] = errResp("missing, invalid or expired access token")
		} else {
			responses["401"] = errResp("wrong imp_key or imp_secret")
			responses["429"] = errResp("too many failed attempts for this imp_key or client address; see Retry-After")
		}
		if op.Idempotent {
			responses["409"] = errResp("a request with the same Idempotency-Key is in flight")
			responses["422"] = errResp("the Idempotency-Key was used with other parameters")
		}
		o := map[string]any{
			"tags": []string{op.Tag}, "summary": op.Summary, "responses": responses,
			"operationId": strings.ToLower(op.Method) + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_").Replace(op.Path),
		}
		if op.Description != "" {
			o["description"] = op.Description
		}
		if op.Public {
			o["security"] = []any{}
		}
		var params []any
		for _, m := range docParam.FindAllStringSubmatch(op.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if op.Idempotent {
			params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "required": false,
				"description": "replays the first reply for the same key and parameters", "schema": map[string]any{"type": "string", "maxLength": 255}})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.Method == "POST" || op.Method == "PUT" {
			anyBody := map[string]any{"schema": map[string]any{"type": "object", "additionalProperties": true}}
			o["requestBody"] = map[string]any{"required": false, "description": "JSON or form (PHP-style arrays accepted); the fields of i'mport's API",
				"content": map[string]any{"application/json": anyBody, "application/x-www-form-urlencoded": anyBody}}
		}
		if paths[op.Path] == nil {
			paths[op.Path] = map[string]any{}
		}
		paths[op.Path][strings.ToLower(op.Method)] = o
	}
	paths["/healthz"] = map[string]any{"get": map[string]any{
		"tags": []string{"operations"}, "summary": "Health (checks the database)", "operationId": "get_healthz", "security": []any{},
		"responses": map[string]any{
			"200": map[string]any{"description": "ok", "content": map[string]any{"application/json": map[string]any{"schema": b.schemaOf(reflect.TypeOf(healthView{}))}}},
			"503": map[string]any{"description": "database unreachable", "content": map[string]any{"application/json": map[string]any{"schema": b.schemaOf(reflect.TypeOf(healthView{}))}}},
		},
	}}
	paths["/readyz"] = map[string]any{"get": map[string]any{
		"tags": []string{"operations"}, "summary": "Readiness: a durable write succeeds, migrations current, master key loaded, jobs running, not draining", "operationId": "get_readyz", "security": []any{},
		"responses": map[string]any{
			"200": map[string]any{"description": "ready", "content": map[string]any{"application/json": map[string]any{"schema": b.schemaOf(reflect.TypeOf(readyCheck{}))}}},
			"503": map[string]any{"description": "not ready: the failing checks", "content": map[string]any{"application/json": map[string]any{"schema": b.schemaOf(reflect.TypeOf(readyCheck{}))}}},
		},
	}}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "billkey REST API",
			"version": "1",
			"description": "billkey speaks i'mport's (PortOne V1) REST API: same paths, bodies, envelopes and messages. " +
				"Every reply is the envelope {code, message, response}. Operations tagged \"not offered\" are i'mport products " +
				"billkey does not provide; they are answered as i'mport answers a merchant without such a contract. " +
				"Authenticate with the token of POST /users/getToken in the Authorization header (raw or Bearer), X-ImpTokenHeader or ?_token=.",
		},
		"servers":    []any{map[string]any{"url": "/"}},
		"security":   []any{map[string]any{"token": []any{}}},
		"paths":      paths,
		"components": map[string]any{"schemas": b.components, "securitySchemes": map[string]any{"token": map[string]any{"type": "apiKey", "in": "header", "name": "Authorization"}}},
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("api: OpenAPI document: %v", err))
	}
	return out
}

func nullable(s map[string]any) map[string]any {
	if _, ref := s["$ref"]; ref {
		return map[string]any{"allOf": []any{s}, "nullable": true}
	}
	c := map[string]any{}
	for k, v := range s {
		c[k] = v
	}
	c["nullable"] = true
	return c
}

// DocumentedOperations lists "METHOD /path" of every documented operation,
// sorted (for tests and the README's table).
func DocumentedOperations() []string {
	var out []string
	for _, op := range docOps() {
		out = append(out, op.Method+" "+op.Path)
	}
	sort.Strings(out)
	return out
}

var redocPage = template.Must(template.New("redoc").Parse(`<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>billkey REST API (Redoc)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{margin:0}</style></head>
<body><div id="redoc" data-spec-url="/openapi.json"></div>
<noscript>문서를 보려면 JavaScript가 필요합니다. <a href="/docs">/docs</a></noscript>
<script src="/docs/redoc.standalone.js"></script><script src="/docs/init.js"></script></body></html>
`))

// docsInit renders the document with the vendored Redoc (an external
// script, so the page's CSP needs no inline script).
const docsInit = `(function () {
  var el = document.getElementById("redoc");
  fetch(el.getAttribute("data-spec-url")).then(function (r) { return r.json(); }).then(function (spec) {
    Redoc.init(spec, { disableSearch: true }, el);
  }).catch(function (e) { el.textContent = "문서를 불러오지 못했습니다: " + e; });
})();
`

// HandleOpenAPI serves GET /openapi.json (public, any origin).
func (s *Server) HandleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(OpenAPIDocument())
}

// HandleRedocJS serves GET /docs/redoc.standalone.js.
func (s *Server) HandleRedocJS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=UTF-8")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(w, r, "redoc.standalone.js", time.Time{}, bytes.NewReader(redocJS))
}

// HandleDocsInit serves GET /docs/init.js, the Redoc page's start script.
func (s *Server) HandleDocsInit(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=UTF-8")
	_, _ = w.Write([]byte(docsInit))
}

// HandleRedoc serves GET /docs/redoc, the interactive reference.
func (s *Server) HandleRedoc(w http.ResponseWriter, r *http.Request) {
	// Redoc injects its styles and may run a blob: worker.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "+
		"style-src 'self' 'unsafe-inline'; font-src 'self' data:; worker-src blob:; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	_ = redocPage.Execute(w, nil)
}

// HandleDocs serves GET /docs, the server-rendered reference.
func (s *Server) HandleDocs(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	_, _ = w.Write(referencePage())
}
