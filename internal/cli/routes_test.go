package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/billkey/billkey/api"
	"github.com/billkey/billkey/console"
	"github.com/billkey/billkey/window"
)

// TestRouteTable: the table is consistent under every listener layout
// (serving it panics on a conflicting or duplicate pattern), every served
// line has a handler, and every operation the REST API documents reaches
// a route of its own rather than the token-protected 404 catch-all.
func TestRouteTable(t *testing.T) {
	for _, layout := range []struct{ admin, pubMetrics bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		p := parts{api: api.NewServer(nil, nil, nil), win: &window.Handler{}, console: &console.Console{}, metrics: api.NewMetrics(),
			sim: http.NotFoundHandler(), simAdmin: http.NotFoundHandler(), adminAddr: layout.admin, pubMetric: layout.pubMetrics}
		p.winMux, p.conMux = http.NewServeMux(), http.NewServeMux()
		seen := map[string]bool{}
		for _, r := range routeTable(p) {
			if !r.when {
				continue
			}
			if r.h == nil {
				t.Errorf("%+v: %d %q has no handler", layout, r.on, r.pattern)
			}
			k := string(rune('0'+r.on)) + r.pattern
			if seen[k] {
				t.Errorf("%+v: %q listed twice", layout, r.pattern)
			}
			seen[k] = true
		}
		func() {
			defer func() {
				if v := recover(); v != nil {
					t.Fatalf("%+v: serving the table: %v", layout, v)
				}
			}()
			serveRoutes(parts{api: p.api, win: p.win, console: p.console, metrics: p.metrics, sim: p.sim, simAdmin: p.simAdmin,
				adminAddr: layout.admin, pubMetric: layout.pubMetrics}, func(route) bool { return true })
		}()
	}

	mux := http.NewServeMux()
	for _, r := range routeTable(parts{api: api.NewServer(nil, nil, nil)}) {
		if r.when && (r.on == rest || r.on == pub) {
			mux.Handle(r.pattern, r.h)
		}
	}
	for _, op := range api.DocumentedOperations() {
		method, path, _ := strings.Cut(op, " ")
		path = strings.NewReplacer("{", "x", "}", "").Replace(path)
		_, pattern := mux.Handler(httptest.NewRequest(method, path, nil))
		if pattern == "" || pattern == "/" {
			t.Errorf("%s reaches no route of its own (%q)", op, pattern)
		}
	}
}
