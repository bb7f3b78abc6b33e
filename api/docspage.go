package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
)

// The /docs page: billkey's OpenAPI document rendered on the server by
// html/template (no script, so it renders instantly anywhere); /docs/redoc
// is the interactive view of the same document.

type refParam struct{ Name, In string }

type refResponse struct{ Status, Description, Schema string }

type refOp struct {
	Method, Path, Summary, Description, Anchor string
	Params                                     []refParam
	Responses                                  []refResponse
}

type refTag struct {
	Name string
	Ops  []refOp
}

type refField struct {
	Name, Type string
	Nullable   bool
	Required   bool
}

type refSchema struct {
	Name   string
	Fields []refField
}

type refPage struct {
	Title, Description string
	Tags               []refTag
	Schemas            []refSchema
	Count              int
}

var refTemplate = template.Must(template.New("ref").Parse(`<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>{{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,-apple-system,"Noto Sans KR",sans-serif;margin:0;color:#1f2933;background:#fff}
header{background:#12263a;color:#fff;padding:24px 32px}header h1{margin:0 0 6px;font-size:24px}header p{margin:0;max-width:900px;opacity:.9}
header a{color:#9fd3ff}main{display:flex}nav{width:260px;flex:none;padding:16px;border-right:1px solid #e4e7eb;font-size:13px}
nav a{display:block;color:#334e68;text-decoration:none;padding:2px 0}section{flex:1;padding:8px 32px 48px;min-width:0}
h2{border-bottom:2px solid #e4e7eb;padding-top:16px;margin-bottom:8px}.op{border:1px solid #e4e7eb;border-radius:6px;margin:12px 0;padding:10px 14px}
.m{display:inline-block;min-width:58px;font-weight:700;font-family:ui-monospace,monospace;border-radius:4px;padding:1px 6px;color:#fff;text-align:center}
.GET{background:#2f80ed}.POST{background:#27ae60}.PUT{background:#f2994a}.DELETE{background:#eb5757}
code,.p{font-family:ui-monospace,SFMono-Regular,monospace;font-size:13px}.p{font-weight:600;margin-left:6px;word-break:break-all}
.s{color:#52606d;margin:4px 0}table{border-collapse:collapse;margin:6px 0;font-size:13px}td,th{border:1px solid #e4e7eb;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f5f7fa}.n{color:#9aa5b1}
</style></head><body>
<header><h1>{{.Title}}</h1><p>{{.Description}}</p>
<p>{{.Count}} operations · <a href="/openapi.json">/openapi.json</a> (OpenAPI 3) · <a href="/docs/redoc">interactive view (Redoc)</a></p></header>
<main><nav>{{range .Tags}}<a href="#tag-{{.Name}}">{{.Name}}</a>{{end}}<a href="#schemas">schemas</a></nav>
<section>{{range .Tags}}<h2 id="tag-{{.Name}}">{{.Name}}</h2>{{range .Ops}}
<div class="op" id="{{.Anchor}}"><span class="m {{.Method}}">{{.Method}}</span><span class="p">{{.Path}}</span>
<div class="s">{{.Summary}}</div>{{if .Description}}<div class="s">{{.Description}}</div>{{end}}
{{if .Params}}<div class="s">parameters: {{range .Params}}<code>{{.Name}}</code> ({{.In}}) {{end}}</div>{{end}}
<table><tr><th>status</th><th>reply</th><th>response</th></tr>{{range .Responses}}<tr><td>{{.Status}}</td><td>{{.Description}}</td><td><code>{{.Schema}}</code></td></tr>{{end}}</table></div>{{end}}{{end}}
<h2 id="schemas">schemas</h2>{{range .Schemas}}<h3 id="schema-{{.Name}}">{{.Name}}</h3>
<table><tr><th>field</th><th>type</th><th></th></tr>{{range .Fields}}<tr><td><code>{{.Name}}</code></td><td><code>{{.Type}}</code></td><td>{{if .Nullable}}nullable{{end}}{{if not .Required}} <span class="n">optional</span>{{end}}</td></tr>{{end}}</table>{{end}}
</section></main></body></html>
`))

var (
	refOnce sync.Once
	refHTML []byte
)

// referencePage renders the OpenAPI document as the /docs page (once).
func referencePage() []byte {
	refOnce.Do(func() {
		var doc map[string]any
		if err := json.Unmarshal(OpenAPIDocument(), &doc); err != nil {
			panic(fmt.Sprintf("api: docs page: %v", err))
		}
		var buf bytes.Buffer
		if err := refTemplate.Execute(&buf, buildRefPage(doc)); err != nil {
			panic(fmt.Sprintf("api: docs page: %v", err))
		}
		refHTML = buf.Bytes()
	})
	return refHTML
}

// asString returns v as a string ("" if it is not one).
func asString(v any) string {
	s, _ := v.(string)
	return s
}

// asMap returns v as a JSON object (nil if it is not one).
func asMap(v any) map[string]any {
	x, _ := v.(map[string]any)
	return x
}

// typeName describes a schema briefly: Payment, [Payment], string...
func typeName(s map[string]any) string {
	if ref := asString(s["$ref"]); ref != "" {
		return strings.TrimPrefix(ref, "#/components/schemas/")
	}
	if all, ok := s["allOf"].([]any); ok && len(all) == 1 {
		return typeName(asMap(all[0]))
	}
	if asString(s["type"]) == "array" {
		return "[" + typeName(asMap(s["items"])) + "]"
	}
	if t := asString(s["type"]); t != "" {
		return t
	}
	return "any"
}

func buildRefPage(doc map[string]any) refPage {
	info := asMap(doc["info"])
	page := refPage{Title: asString(info["title"]), Description: asString(info["description"])}
	tags := map[string]*refTag{}
	var order []string
	paths := asMap(doc["paths"])
	var keys []string
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, path := range keys {
		for _, method := range []string{"get", "post", "put", "delete"} {
			o := asMap(asMap(paths[path])[method])
			if o == nil {
				continue
			}
			op := refOp{Method: strings.ToUpper(method), Path: path, Summary: asString(o["summary"]), Description: asString(o["description"]), Anchor: asString(o["operationId"])}
			ps, _ := o["parameters"].([]any)
			for _, p := range ps {
				op.Params = append(op.Params, refParam{Name: asString(asMap(p)["name"]), In: asString(asMap(p)["in"])})
			}
			resp := asMap(o["responses"])
			for _, c := range slices.Sorted(maps.Keys(resp)) {
				r := asMap(resp[c])
				schema := asMap(asMap(asMap(r["content"])["application/json"])["schema"])
				name := typeName(schema)
				if props := asMap(schema["properties"]); props != nil && props["response"] != nil {
					name = "{code, message, response: " + typeName(asMap(props["response"])) + "}"
				}
				op.Responses = append(op.Responses, refResponse{Status: c, Description: asString(r["description"]), Schema: name})
			}
			tag := "other"
			if ts, ok := o["tags"].([]any); ok && len(ts) > 0 {
				tag = asString(ts[0])
			}
			if tags[tag] == nil {
				tags[tag] = &refTag{Name: tag}
				order = append(order, tag)
			}
			tags[tag].Ops = append(tags[tag].Ops, op)
			page.Count++
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		return strings.HasPrefix(order[j], "not offered") && !strings.HasPrefix(order[i], "not offered")
	})
	for _, t := range order {
		page.Tags = append(page.Tags, *tags[t])
	}
	schemas := asMap(asMap(doc["components"])["schemas"])
	for _, n := range slices.Sorted(maps.Keys(schemas)) {
		sc := refSchema{Name: n}
		s := asMap(schemas[n])
		required := map[string]bool{}
		if rs, ok := s["required"].([]any); ok {
			for _, r := range rs {
				required[asString(r)] = true
			}
		}
		props := asMap(s["properties"])
		for _, f := range slices.Sorted(maps.Keys(props)) {
			p := asMap(props[f])
			sc.Fields = append(sc.Fields, refField{Name: f, Type: typeName(p), Nullable: p["nullable"] == true, Required: required[f]})
		}
		page.Schemas = append(page.Schemas, sc)
	}
	return page
}
