package window

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
)

// SDKPaths are where billkey serves iamport.js: its own path and every
// path i'mport published and merchant pages still load — the current
// /v1/iamport.js, 1.2.0 and each 1.1.x release (1.1.0 to 1.1.8). All serve
// the same file; none needs jQuery.
var SDKPaths = []string{
	"/js/iamport.js",
	"/v1/iamport.js",
	"/js/iamport.payment-1.2.0.js",
	"/js/iamport.payment-1.1.8.js",
	"/js/iamport.payment-1.1.7.js",
	"/js/iamport.payment-1.1.6.js",
	"/js/iamport.payment-1.1.5.js",
	"/js/iamport.payment-1.1.4.js",
	"/js/iamport.payment-1.1.3.js",
	"/js/iamport.payment-1.1.2.js",
	"/js/iamport.payment-1.1.1.js",
	"/js/iamport.payment-1.1.0.js",
}

// HandleSDK serves iamport.js. It is public and cacheable for a short time;
// cross-origin pages load it with a plain script tag (Cross-Origin-Resource-
// Policy allows embedding under COEP).
func (h *Handler) HandleSDK(w http.ResponseWriter, r *http.Request) {
	sum := sha256.Sum256(h.sdk)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	hd := w.Header()
	hd.Set("Content-Type", "text/javascript; charset=utf-8")
	hd.Set("Cache-Control", "public, max-age=300")
	hd.Set("ETag", etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Length", strconv.Itoa(len(h.sdk)))
	_, _ = w.Write(h.sdk)
}
