package window

import (
	"net/http"
)

// registerLanding serves billkey's front door: a page at / pointing to the
// demo shop, the API and the docs (instead of the API's 401 for a path
// without a token), the stylesheet it uses and the favicon.
func (h *Handler) registerLanding(mux *http.ServeMux, mount func(pattern string, handler http.Handler)) {
	mux.HandleFunc("GET /{$}", h.landing)
	mux.HandleFunc("GET /billkey.css", h.staticAsset("demo.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /favicon.svg", h.staticAsset("favicon.svg", "image/svg+xml"))
	mux.HandleFunc("GET /favicon.ico", h.staticAsset("favicon.svg", "image/svg+xml"))
	for _, p := range []string{"GET /{$}", "GET /billkey.css", "GET /favicon.svg", "GET /favicon.ico"} {
		mount(p, mux)
	}
}

// landing serves GET /.
func (h *Handler) landing(w http.ResponseWriter, r *http.Request) {
	demoHeaders(w.Header())
	h.render(w, http.StatusOK, "landing.html", map[string]any{"Demo": h.cfg.Demo, "Base": h.cfg.BaseURL})
}

// staticAsset serves an embedded asset with a short public cache.
func (h *Handler) staticAsset(name, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := assetFS.ReadFile("assets/" + name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(b)
	}
}
