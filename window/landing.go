package window

import (
	"net/http"
)

// registerLanding serves billkey's front door: a page at / pointing to the
// demo shop, the API and the docs (instead of the API's 401 for a path
// without a token), the stylesheet it uses and the favicon.
// HandleLanding serves GET /.
func (h *Handler) HandleLanding(w http.ResponseWriter, r *http.Request) {
	demoHeaders(w.Header())
	h.render(w, http.StatusOK, "landing.html", map[string]any{"Demo": h.cfg.Demo, "Base": h.cfg.BaseURL})
}

// Asset serves an embedded asset with a short public cache.
func (h *Handler) Asset(name, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		serveAsset(w, r, name, contentType, "public, max-age=3600")
	}
}

// serveAsset writes the embedded asset name (404 when there is none) with its
// content type and cache policy.
func serveAsset(w http.ResponseWriter, r *http.Request, name, contentType, cacheControl string) {
	b, err := assetFS.ReadFile("assets/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", cacheControl)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}
