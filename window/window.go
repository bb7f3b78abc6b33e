package window

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/inicis"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Paths of the window endpoints.
const (
	PathOpen   = "/window/open"
	PathReturn = "/window/return/" // + token
	PathClose  = "/window/close/"  // + token
)

// maxForm bounds the body of the window's form posts.
const maxForm = 64 << 10

// Config configures the payment window, iamport.js and the demo shop.
type Config struct {
	// Service runs the window use cases (its Window field must be set).
	Service *gateway.Service
	// BaseURL is how browsers reach billkey (no trailing slash). INICIS's
	// returnUrl and closeUrl are built from it, so merchants must load
	// iamport.js from this origin.
	BaseURL string
	// Logger receives one line per failure; never a key or card number.
	Logger *slog.Logger
	// Demo serves the demo shop at /demo.
	Demo bool
	// DemoMerchant is the imp code of the demo shop's merchant; "" means
	// the oldest merchant.
	DemoMerchant string
}

// Handler serves iamport.js, the window endpoints and the demo shop.
type Handler struct {
	cfg  Config
	log  *slog.Logger
	tpl  *template.Template
	base string // origin of BaseURL
	sdk  []byte // iamport.js

	hostWarning sync.Once
}

// New returns a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Service == nil {
		return nil, errors.New("window: no service")
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	base := originOf(cfg.BaseURL)
	if base == "" {
		return nil, fmt.Errorf("window: base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	tpl, err := template.New("").Funcs(template.FuncMap{"won": won, "dict": dict}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("window: templates: %w", err)
	}
	sdk, err := assetFS.ReadFile("assets/iamport.js")
	if err != nil {
		return nil, fmt.Errorf("window: iamport.js: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, log: log, tpl: tpl, base: base, sdk: sdk}, nil
}

// Register mounts the routes (api.Server.Mount: public, no token). They are
// served by the handler's own ServeMux, so path wildcards and methods are
// matched there.
func (h *Handler) Register(mount func(pattern string, handler http.Handler)) {
	mux := http.NewServeMux()
	for _, p := range SDKPaths {
		mux.HandleFunc("GET "+p, h.handleSDK)
		mount(p, mux)
	}
	mux.HandleFunc("POST "+PathOpen, h.handleOpen)
	mux.HandleFunc("POST "+PathReturn+"{token}", h.handleReturn)
	mux.HandleFunc("GET "+PathClose+"{token}", h.handleClose)
	mux.HandleFunc("POST "+PathClose+"{token}", h.handleClose)
	mount("/window/", mux)
	h.registerLanding(mux, mount)
	h.registerCardUpdate(mux, mount) // cardupdate.go
	if h.cfg.Demo {
		h.registerDemo(mux)
		mount("/demo", mux)
		mount("/demo/", mux)
	}
}

// urls builds INICIS's returnUrl and closeUrl for an attempt token.
func (h *Handler) urls(token string) (string, string) {
	return h.cfg.BaseURL + PathReturn + token, h.cfg.BaseURL + PathClose + token
}

// openerOrigin is the merchant page's origin: the browser's Origin header
// (which page script cannot forge), else the origin field iamport.js sends
// (only reachable when the browser sent "Origin: null", e.g. under a
// no-referrer policy; postMessage's targetOrigin pinning still keeps the
// result from any other origin). Both present and different is an error.
func openerOrigin(r *http.Request) (string, error) {
	field, fieldOK := parseOrigin(r.PostForm.Get("origin"))
	header, headerOK := parseOrigin(r.Header.Get("Origin"))
	switch {
	case headerOK && fieldOK && header != field:
		// The failure still goes to the page that really asked.
		return header, rejectf("결제 요청 페이지의 출처(origin)가 일치하지 않습니다.")
	case headerOK:
		return header, nil
	case fieldOK:
		return field, nil
	}
	return "", nil
}

// handleOpen serves POST /window/open, which iamport.js submits (into the
// modal iframe, or the page itself in redirect mode) with the fields
// imp_code, tier, params (JSON), device (pc|mobile), delivery
// (message|redirect), origin and sdk.
func (h *Handler) handleOpen(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.message(w, http.StatusBadRequest, "", "결제 요청을 읽을 수 없습니다.")
		return
	}
	f := r.PostForm
	delivery := gateway.DeliverMessage
	if f.Get("delivery") == gateway.DeliverRedirect {
		delivery = gateway.DeliverRedirect
	}
	kind := gateway.WindowPC
	if f.Get("device") == gateway.WindowMobile {
		kind = gateway.WindowMobile
	}
	params, err := decodeParams([]byte(f.Get("params")))
	origin, oerr := openerOrigin(r)
	if err == nil {
		err = oerr
	}
	if host := strings.ToLower(r.Host); host != "" && !strings.HasSuffix(h.base, "://"+host) {
		// The result page lives at the public URL: if the browser reached
		// billkey elsewhere, the SDK drops its message. Said once (a proxy
		// rewriting Host would say it on every request).
		h.hostWarning.Do(func() {
			h.log.Warn("payment window reached under another host than the public URL; merchants must load iamport.js from the public URL",
				"host", host, "public_url", h.cfg.BaseURL)
		})
	}
	var opened *gateway.OpenedWindow
	if err == nil {
		opened, err = h.cfg.Service.OpenWindow(r.Context(), gateway.WindowRequest{
			ImpCode: f.Get("imp_code"), Params: params, Kind: kind, Delivery: delivery, OpenerOrigin: origin,
			UserAgent: r.UserAgent(), URLs: h.urls,
		})
	}
	if err != nil {
		if billkey.ErrorCode(err) == billkey.EINTERNAL {
			h.log.Error("payment window: open failed", "error", err)
		}
		redirect := params.MRedirectURL
		if delivery == gateway.DeliverRedirect && !h.knownMerchant(r, f.Get("imp_code")) {
			// No open redirect: only a known merchant's page may be sent
			// the browser; anyone else gets billkey's error page.
			redirect = ""
		}
		h.deliver(w, r, delivery, origin, redirect, gateway.NewFailureRsp(params, err))
		return
	}
	h.renderOpen(w, opened)
}

// knownMerchant reports whether impCode names a merchant (the failure
// redirect to m_redirect_url is only for them).
func (h *Handler) knownMerchant(r *http.Request, impCode string) bool {
	impCode = strings.TrimSpace(impCode)
	if impCode == "" || gateway.BadText(impCode, false) != "" || len(impCode) > 40 {
		return false
	}
	_, err := h.cfg.Service.Store.MerchantByImpCode(r.Context(), impCode)
	return err == nil
}

// handleReturn serves POST /window/return/{token}: INICIS's result post.
func (h *Handler) handleReturn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	// A body that cannot be parsed counts as a post without a result code:
	// the attempt fails with a clear message rather than staying open.
	_ = r.ParseForm()
	post := r.PostForm
	if post == nil {
		post = url.Values{}
	}
	res, err := h.cfg.Service.CompleteWindow(r.Context(), r.PathValue("token"), post)
	h.result(w, r, res, err)
}

// handleClose serves GET and POST /window/close/{token}: INICIS's closeUrl
// and the SDK's close button.
func (h *Handler) handleClose(w http.ResponseWriter, r *http.Request) {
	res, err := h.cfg.Service.CloseWindow(r.Context(), r.PathValue("token"))
	h.result(w, r, res, err)
}

func (h *Handler) result(w http.ResponseWriter, r *http.Request, res *gateway.WindowResult, err error) {
	switch code := billkey.ErrorCode(err); {
	case err == nil:
		a := res.Attempt
		h.deliver(w, r, a.Delivery, a.OpenerOrigin, a.RedirectURL, res.Rsp)
	case code == billkey.ENOTFOUND:
		h.message(w, http.StatusNotFound, "", billkey.ErrorMessage(err))
	case code == billkey.EREJECTED:
		h.message(w, http.StatusConflict, "", billkey.ErrorMessage(err))
	default:
		h.log.Error("payment window: result failed", "error", err)
		h.message(w, http.StatusInternalServerError, "", "결제 결과를 처리하지 못했습니다. 잠시 후 다시 시도해주세요.")
	}
}

// deliver sends an rsp where it belongs: a 303 to m_redirect_url with
// imp_uid, merchant_uid, imp_success (and error_code, error_msg on failure);
// or a page posting {from:"billkey", action:"done", data: rsp} to the opener
// origin; or, without either, a plain page showing the outcome.
func (h *Handler) deliver(w http.ResponseWriter, r *http.Request, delivery, origin, redirectURL string, rsp *gateway.WindowRsp) {
	if delivery == gateway.DeliverRedirect && gateway.IsWebURL(redirectURL) {
		to, err := RedirectURL(redirectURL, rsp)
		if err == nil {
			noStore(w.Header())
			w.Header().Set("Referrer-Policy", "no-referrer")
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
	}
	msg := ""
	if rsp.ErrorMsg != nil {
		msg = *rsp.ErrorMsg
	}
	if origin == "" || delivery == gateway.DeliverRedirect {
		if rsp.Success {
			h.page(w, http.StatusOK, true, "카드가 등록되었습니다", "이 창을 닫고 상점으로 돌아가 주세요.")
		} else {
			h.message(w, http.StatusBadRequest, "카드를 등록하지 못했습니다", msg)
		}
		return
	}
	payload, err := json.Marshal(struct {
		From   string             `json:"from"`
		Action string             `json:"action"`
		Data   *gateway.WindowRsp `json:"data"`
	}{"billkey", "done", rsp})
	if err != nil {
		h.message(w, http.StatusInternalServerError, "", "결제 결과를 만들지 못했습니다.")
		return
	}
	nonce := newNonce()
	hd := w.Header()
	setPageHeaders(hd)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'nonce-"+nonce+
		"'; base-uri 'none'; form-action 'none'; frame-ancestors "+origin)
	h.render(w, http.StatusOK, "done.html", map[string]any{
		"Nonce": nonce, "Success": rsp.Success, "Message": msg,
		"Data": map[string]string{"opener": origin, "message": string(payload)},
	})
}

// RedirectURL appends imp_uid, merchant_uid and imp_success (plus
// error_code and error_msg on failure) to m_redirect_url the way i'mport's
// SDK does: the page's own query string is kept byte for byte (order, bare
// keys, encoding) and the fragment stays last. Values are percent-encoded
// with spaces as %20, as i'mport's encodeURI gives them (and, unlike it, a
// '&' or '=' inside error_msg is encoded too, so the query stays parseable).
func RedirectURL(base string, rsp *gateway.WindowRsp) (string, error) {
	if _, err := url.Parse(base); err != nil {
		return "", fmt.Errorf("window: m_redirect_url: %w", err)
	}
	rest, frag, hasFrag := strings.Cut(base, "#")
	imp := ""
	if rsp.ImpUID != nil {
		imp = *rsp.ImpUID
	}
	var b strings.Builder
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + queryEscape(v))
	}
	add("imp_uid", imp)
	add("merchant_uid", rsp.MerchantUID)
	if rsp.Success {
		add("imp_success", "true")
	} else {
		add("imp_success", "false")
		code := gateway.ErrCodeServer
		if rsp.ErrorCode != nil && *rsp.ErrorCode != "" {
			code = *rsp.ErrorCode
		}
		add("error_code", code)
		msg := ""
		if rsp.ErrorMsg != nil {
			msg = *rsp.ErrorMsg
		}
		add("error_msg", msg)
	}
	switch {
	case !strings.Contains(rest, "?"):
		rest += "?"
	case strings.HasSuffix(rest, "?") || strings.HasSuffix(rest, "&"):
	default:
		rest += "&"
	}
	out := rest + b.String()
	if hasFrag {
		out += "#" + frag
	}
	return out, nil
}

// queryEscape percent-encodes a query value with spaces as %20.
func queryEscape(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}

// renderOpen renders the page that opens INICIS's window: it tells the
// opener the attempt's close URL (message delivery) and starts the INICIS
// form (INIStdPay.pay on PC, a form post on mobile).
func (h *Handler) renderOpen(w http.ResponseWriter, o *gateway.OpenedWindow) {
	a := o.Attempt
	type field struct{ Name, Value string }
	var fields []field
	for name, vs := range o.Form.Fields {
		for _, v := range vs {
			fields = append(fields, field{name, v})
		}
	}
	data := map[string]any{
		"kind": o.Form.Kind, "delivery": a.Delivery, "opener": a.OpenerOrigin,
	}
	if a.Delivery == gateway.DeliverMessage {
		opened, _ := json.Marshal(map[string]any{
			"from": "billkey", "action": "opened",
			"data": map[string]string{"request_id": a.RequestID, "imp_uid": a.ImpUID, "merchant_uid": a.MerchantUID, "close_url": o.CloseURL},
		})
		data["message"] = string(opened)
	}
	nonce := newNonce()
	hd := w.Header()
	setPageHeaders(hd)
	csp := "script-src 'nonce-" + nonce + "' 'strict-dynamic'; object-src 'none'; base-uri 'none'; frame-ancestors "
	if o.Form.Kind == gateway.WindowPC {
		csp = pcOpenCSP(nonce, inicis.StdPayPageSources(o.Form.ScriptURL))
	}
	if a.Delivery == gateway.DeliverMessage {
		csp += a.OpenerOrigin
	} else {
		csp += "'none'"
		hd.Set("X-Frame-Options", "DENY")
	}
	hd.Set("Content-Security-Policy", csp)
	h.render(w, http.StatusOK, "open.html", map[string]any{
		"Nonce": nonce, "Kind": o.Form.Kind, "ScriptURL": o.Form.ScriptURL, "Action": o.Form.Action, "Fields": fields,
		"Data": data,
	})
}

// message renders a plain error page with a title and a message.
func (h *Handler) message(w http.ResponseWriter, status int, title, msg string) {
	if title == "" {
		title = "결제 안내"
	}
	h.page(w, status, false, title, msg)
}

// page renders a plain page with a title and a message.
func (h *Handler) page(w http.ResponseWriter, status int, ok bool, title, msg string) {
	nonce := newNonce()
	hd := w.Header()
	setPageHeaders(hd)
	hd.Set("Referrer-Policy", "no-referrer")
	// Never framed: these pages carry no opener and must not be overlaid.
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	hd.Set("X-Frame-Options", "DENY")
	h.render(w, status, "message.html", map[string]any{"Nonce": nonce, "OK": ok, "Title": title, "Message": msg})
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, data any) {
	var buf strings.Builder
	if err := h.tpl.ExecuteTemplate(&buf, name, data); err != nil {
		h.log.Error("window: template", "name", name, "error", err)
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

// setPageHeaders sets what every window page carries.
func setPageHeaders(h http.Header) {
	noStore(h)
	h.Set("X-Content-Type-Options", "nosniff")
}

func noStore(h http.Header) { h.Set("Cache-Control", "no-store") }

// newNonce returns a CSP nonce.
func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// dict builds a map from key, value pairs (for template calls).
func dict(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		m[k] = kv[i+1]
	}
	return m
}

// won formats an amount with thousands separators.
func won(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// pcOpenCSP is the policy of the page that opens the PC window through
// INIStdPay.js, up to its frame-ancestors: nothing by default, and exactly
// the origins the script needs (inicis.StdPayPageSources: INICIS's hosts on
// live channels, the simulator's origin on test ones). frame-src adds 'self'
// because INICIS's overlay iframe ends on billkey's own returnUrl.
func pcOpenCSP(nonce string, src inicis.PageSources) string {
	n := "'nonce-" + nonce + "'"
	var b strings.Builder
	b.WriteString("default-src 'none'")
	dir := func(name string, pre []string, origins []string) {
		all := append(append([]string{}, pre...), origins...)
		if len(all) == 0 {
			return
		}
		b.WriteString("; " + name + " " + strings.Join(all, " "))
	}
	dir("script-src", []string{n}, src.Script)
	dir("style-src", []string{n}, src.Style)
	dir("img-src", nil, src.Img)
	if len(src.Frame) > 0 {
		dir("frame-src", []string{"'self'"}, src.Frame)
	}
	dir("form-action", nil, src.Form)
	b.WriteString("; object-src 'none'; base-uri 'none'; frame-ancestors ")
	return b.String()
}
