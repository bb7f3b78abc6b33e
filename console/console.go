// Package console is billkey's admin console: server-rendered pages at
// /console where operators (people, created with `billkey operator
// create`) find payments, refund them, look after billing keys, schedules
// and webhooks, and watch a merchant's figures.
//
// Security model:
//
//   - Operators log in with a password hashed by argon2id (HashPassword).
//     Each operator sees only the merchants it was granted (or all): every
//     merchant page is under /console/m/{imp_code}/ and a merchant the
//     operator may not see answers 404, exactly like one that does not exist.
//   - A login makes a session: a 256-bit random token in an HttpOnly,
//     SameSite=Strict cookie (Secure under HTTPS) scoped to /console; the
//     database keeps only its SHA-256. Sessions expire (Config.SessionTTL)
//     and lapse when idle (Config.IdleTimeout).
//   - Every POST carries a CSRF token (an HMAC of the session token; the
//     login form uses a double-submit cookie) and, when the browser sends
//     one, an Origin of this host; anything else is refused with 403.
//   - Logins are throttled per login name and per client address
//     (Config.MaxFailures within Config.FailureWindow), in the database, so
//     the limit holds across nodes.
//   - Every action (login, failed login, refund, resend, revoke, export,
//     rotation...) is written to an audit log shown at /console/audit.
//   - Pages carry a strict Content-Security-Policy with no script at all
//     (charts are server-drawn SVG), frame-ancestors 'none', no-store
//     caching and a same-origin referrer policy. No page shows a billing key, a full card
//     number or a stored secret; a rotated secret is shown once, when made.
//
// Every change goes through the gateway's use cases (gateway.Service): a
// refund is exactly POST /payments/cancel's path, never direct SQL.
package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
)

// Prefix is where the console is mounted.
const Prefix = "/console"

const (
	sessionCookie = "billkey_console"
	loginCookie   = "billkey_console_login"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Config configures the console.
type Config struct {
	Service *gateway.Service
	// Store serves the console's read models and operator sessions; nil
	// uses the service's store (which must then implement Store).
	Store  Store
	Logger *slog.Logger
	// SecureCookies marks cookies Secure (billkey is reached over HTTPS);
	// they are also marked Secure on requests that arrive over TLS.
	SecureCookies bool
	// SessionTTL bounds a session's life (default 8 hours); IdleTimeout
	// ends a session unused for that long (default 1 hour).
	SessionTTL  time.Duration
	IdleTimeout time.Duration
	// MaxFailures failed logins of one login name within FailureWindow
	// (defaults 5 and 15 minutes) refuse further logins of that name, even
	// with the right password, until the window passes; 6 times as many
	// from one client address refuse that address.
	MaxFailures   int
	FailureWindow time.Duration
	// HashParams are used for the timing-equalizing hash of unknown
	// logins (default DefaultHashParams); stored hashes carry their own.
	HashParams *HashParams
	// Location is where days are cut and times shown (default Asia/Seoul,
	// or UTC+9 when the zone database is missing).
	Location *time.Location
}

// Console is the admin console's HTTP handler.
type Console struct {
	cfg       Config
	svc       *gateway.Service
	store     Store
	log       *slog.Logger
	pages     map[string]*template.Template
	dummyHash string
}

// New builds the console.
func New(cfg Config) (*Console, error) {
	if cfg.Service == nil {
		return nil, errors.New("console: no service")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = time.Hour
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 5
	}
	if cfg.FailureWindow <= 0 {
		cfg.FailureWindow = 15 * time.Minute
	}
	if cfg.HashParams == nil {
		cfg.HashParams = &DefaultHashParams
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Asia/Seoul")
		if err != nil {
			loc = time.FixedZone("KST", 9*3600)
		}
		cfg.Location = loc
	}
	if cfg.Store == nil {
		st, ok := cfg.Service.Store.(Store)
		if !ok {
			return nil, errors.New("console: no store (the service's store has no console read models)")
		}
		cfg.Store = st
	}
	c := &Console{cfg: cfg, svc: cfg.Service, store: cfg.Store, log: cfg.Logger}
	dummy, err := HashPassword("timing-equalizer-"+randomToken(), *cfg.HashParams)
	if err != nil {
		return nil, err
	}
	c.dummyHash = dummy
	if err := c.parseTemplates(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Console) now() time.Time { return c.svc.Now() }

// Guard serves every console path through next with the security
// headers, and refuses cross-site POSTs.
func (c *Console) Guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { c.guard(next, w, r) })
}

func (c *Console) guard(next http.Handler, w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "+
		"frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin") // "no-referrer" would make Chromium send "Origin: null" on form posts
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, Prefix+"/assets/") {
		h.Set("Cache-Control", "no-store")
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if !c.sameOrigin(r) {
			c.errorPage(w, r, nil, http.StatusForbidden, "다른 사이트에서 보낸 요청은 받지 않습니다. (cross-origin request refused)")
			return
		}
	}
	next.ServeHTTP(w, r)
}

// sameOrigin refuses POSTs whose Origin (when the browser sends one) is
// another host.
func (c *Console) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return r.Header.Get("Sec-Fetch-Site") != "cross-site"
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// Pages are the console's handlers, each behind its login check (and,
// under /m/{imp}, the operator's access to that merchant). The route table
// (internal/cli) serves them under Prefix, behind Guard.
type Pages struct {
	Assets, LoginPage, Login, Logout, Home, Audit, NotFound                http.HandlerFunc
	Dashboard, Payments, PaymentsCSV, Payment, Refund                      http.HandlerFunc
	Customers, Customer, DeleteCustomer                                    http.HandlerFunc
	Schedules, Calendar, RevokeSchedule, RescheduleSchedule, RetrySchedule http.HandlerFunc
	Subscriptions, Subscription, CardUpdateLink                            http.HandlerFunc
	Webhooks, ResendWebhook, Settings, SetWebhookURL                       http.HandlerFunc
	RotateAPISecret, RotateWebhookSecret                                   http.HandlerFunc
}

// Pages returns the console's handlers.
func (c *Console) Pages() Pages {
	sub, _ := fs.Sub(assetFS, "assets")
	assets := http.StripPrefix(Prefix+"/assets/", http.FileServerFS(sub))
	m := c.merchant
	return Pages{
		Assets: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "public, max-age=3600")
			assets.ServeHTTP(w, r)
		},
		LoginPage: c.loginPage, Login: c.login, Logout: c.authed(c.logout), Home: c.authed(c.home), Audit: c.authed(c.auditPage),
		NotFound: func(w http.ResponseWriter, r *http.Request) {
			c.errorPage(w, r, nil, http.StatusNotFound, "페이지를 찾을 수 없습니다. (not found)")
		},
		Dashboard: m(c.dashboard), Payments: m(c.payments), PaymentsCSV: m(c.paymentsCSV), Payment: m(c.payment), Refund: m(c.refund),
		Customers: m(c.customers), Customer: m(c.customer), DeleteCustomer: m(c.deleteCustomer),
		Schedules: m(c.schedules), Calendar: m(c.calendar), RevokeSchedule: m(c.revokeSchedule),
		RescheduleSchedule: m(c.rescheduleSchedule), RetrySchedule: m(c.retrySchedule),
		Subscriptions: m(c.subscriptions), Subscription: m(c.subscription), CardUpdateLink: m(c.cardUpdateLink),
		Webhooks: m(c.webhooks), ResendWebhook: m(c.resendWebhook), Settings: m(c.settings), SetWebhookURL: m(c.setWebhookURL),
		RotateAPISecret: m(c.rotateAPISecret), RotateWebhookSecret: m(c.rotateWebhookSecret),
	}
}

// request is what an authenticated handler knows about its request.
type request struct {
	Op        *billkey.Operator
	session   *billkey.OperatorSession
	CSRF      string
	Addr      string
	Merchants []*billkey.Merchant // the merchants the operator may see
	Merchant  *billkey.Merchant   // the merchant of a /m/{imp}/ page
}

type handler func(w http.ResponseWriter, r *http.Request, q *request)

// clientAddr is the peer address of the request (billkey does not trust
// forwarding headers here: put the console on the admin listener or behind
// a proxy you control).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// csrfToken derives a session's CSRF token from its (secret) cookie token.
func csrfToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("billkey console csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func equalTokens(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (c *Console) secure(r *http.Request) bool { return c.cfg.SecureCookies || r.TLS != nil }

// authed loads the session and operator, and checks the CSRF token of
// POSTs; without a valid session it redirects to the login page.
func (c *Console) authed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, ok := c.session(w, r)
		if !ok {
			if r.Method == http.MethodPost {
				c.errorPage(w, r, nil, http.StatusForbidden, "로그인이 필요합니다. 다시 로그인해 주세요.")
				return
			}
			http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil || !equalTokens(r.PostForm.Get("csrf"), q.CSRF) {
				c.audit(r.Context(), q, 0, "csrf.refused", r.URL.Path, "")
				c.errorPage(w, r, q, http.StatusForbidden, "보안 토큰(CSRF)이 없거나 맞지 않아 요청을 거부했습니다. 페이지를 새로 고친 뒤 다시 시도해 주세요.")
				return
			}
		}
		h(w, r, q)
	}
}

// merchant is authed plus the merchant of the URL, which the operator must
// be granted; otherwise 404, the same as a merchant that does not exist.
func (c *Console) merchant(h handler) http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request, q *request) {
		code := r.PathValue("imp")
		for _, m := range q.Merchants {
			if m.ImpCode == code {
				q.Merchant = m
				h(w, r, q)
				return
			}
		}
		c.errorPage(w, r, q, http.StatusNotFound, "가맹점을 찾을 수 없거나 볼 권한이 없습니다.")
	})
}

func (c *Console) session(w http.ResponseWriter, r *http.Request) (*request, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 100 {
		return nil, false
	}
	ctx := r.Context()
	sess, err := c.store.OperatorSessionByHash(ctx, tokenHash(ck.Value))
	if err != nil {
		return nil, false
	}
	now := c.now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) > c.cfg.IdleTimeout {
		_ = c.store.DeleteOperatorSession(ctx, sess.ID)
		return nil, false
	}
	op, err := c.store.OperatorByID(ctx, sess.OperatorID)
	if err != nil || op.Disabled {
		return nil, false
	}
	if now.Sub(sess.LastSeenAt) > time.Minute {
		_ = c.store.TouchOperatorSession(ctx, sess.ID, now)
	}
	all, err := c.store.ListMerchants(ctx)
	if err != nil {
		return nil, false
	}
	q := &request{Op: op, session: sess, CSRF: csrfToken(ck.Value), Addr: clientAddr(r)}
	for _, m := range all {
		if op.CanSee(m.ID) {
			q.Merchants = append(q.Merchants, m)
		}
	}
	return q, true
}

// audit writes an action to the audit log; a failure is logged (the
// action itself already happened).
func (c *Console) audit(ctx context.Context, q *request, merchantID int64, action, target, detail string) {
	e := &billkey.AuditEntry{MerchantID: merchantID, Action: action, Target: target, Detail: detail}
	if q != nil {
		e.OperatorID, e.OperatorLogin, e.ClientAddr = q.Op.ID, q.Op.Login, q.Addr
	}
	c.auditEntry(ctx, e)
}

func (c *Console) auditEntry(ctx context.Context, e *billkey.AuditEntry) {
	if err := c.store.AddAudit(context.WithoutCancel(ctx), e); err != nil {
		c.log.Error("console audit write failed", "action", e.Action, "error", err)
	}
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.session(w, r); ok {
		http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
		return
	}
	c.renderLogin(w, r, http.StatusOK, "", "")
}

func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, status int, login, msg string) {
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: Prefix + "/login", HttpOnly: true,
		Secure: c.secure(r), SameSite: http.SameSiteStrictMode, MaxAge: 1800})
	c.render(w, r, status, "login", &page{Title: "로그인", CSRF: tok, Data: map[string]string{"Login": login, "Error": msg}})
}

const throttledMessage = "로그인 시도가 너무 많습니다. 잠시 후 다시 시도해 주세요. (too many attempts)"

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie(loginCookie)
	if err := r.ParseForm(); err != nil || ck == nil || !equalTokens(r.PostForm.Get("csrf"), ck.Value) {
		c.errorPage(w, r, nil, http.StatusForbidden, "보안 토큰(CSRF)이 없거나 맞지 않아 요청을 거부했습니다. 로그인 페이지를 새로 열어 주세요.")
		return
	}
	_ = err
	ctx := r.Context()
	login := strings.TrimSpace(r.PostForm.Get("login"))
	password := r.PostForm.Get("password")
	addr := clientAddr(r)
	if len(login) > 100 || len(password) > 1000 {
		c.renderLogin(w, r, http.StatusBadRequest, "", "아이디 또는 비밀번호가 너무 깁니다.")
		return
	}
	now := c.now()
	byLogin, byAddr, err := c.store.LoginFailures(ctx, login, addr, now.Add(-c.cfg.FailureWindow))
	if err != nil {
		c.errorPage(w, r, nil, http.StatusInternalServerError, "일시적인 오류입니다. 잠시 후 다시 시도해 주세요.")
		return
	}
	if byLogin >= c.cfg.MaxFailures || byAddr >= 6*c.cfg.MaxFailures {
		c.auditEntry(ctx, &billkey.AuditEntry{OperatorLogin: login, Action: "login.throttled", ClientAddr: addr})
		c.renderLogin(w, r, http.StatusTooManyRequests, login, throttledMessage)
		return
	}
	op, err := c.store.OperatorByLogin(ctx, login)
	hash := c.dummyHash
	if err == nil {
		hash = op.PasswordHash
	}
	ok, verr := VerifyPassword(hash, password)
	if err != nil || verr != nil || !ok || op.Disabled {
		_ = c.store.RecordLoginFailure(ctx, login, addr, now)
		e := &billkey.AuditEntry{OperatorLogin: login, Action: "login.failed", ClientAddr: addr}
		if op != nil {
			e.OperatorID = op.ID
		}
		c.auditEntry(ctx, e)
		c.renderLogin(w, r, http.StatusUnauthorized, login, "아이디 또는 비밀번호가 올바르지 않습니다.")
		return
	}
	tok := randomToken()
	sess := &billkey.OperatorSession{OperatorID: op.ID, ClientAddr: addr, UserAgent: truncate(r.UserAgent(), 200),
		CreatedAt: now, ExpiresAt: now.Add(c.cfg.SessionTTL)}
	if err := c.store.CreateOperatorSession(ctx, tokenHash(tok), sess); err != nil {
		c.errorPage(w, r, nil, http.StatusInternalServerError, "일시적인 오류입니다. 잠시 후 다시 시도해 주세요.")
		return
	}
	_ = c.store.ClearLoginFailures(ctx, login, now.Add(-c.cfg.FailureWindow))
	c.auditEntry(ctx, &billkey.AuditEntry{OperatorID: op.ID, OperatorLogin: op.Login, Action: "login", ClientAddr: addr})
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: Prefix + "/login", MaxAge: -1, HttpOnly: true,
		Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: Prefix, HttpOnly: true, Secure: c.secure(r),
		SameSite: http.SameSiteStrictMode, Expires: sess.ExpiresAt})
	http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, q *request) {
	_ = c.store.DeleteOperatorSession(r.Context(), q.session.ID)
	c.audit(r.Context(), q, 0, "logout", "", "")
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: Prefix, MaxAge: -1, HttpOnly: true,
		Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, q *request) {
	if len(q.Merchants) == 1 {
		http.Redirect(w, r, Prefix+"/m/"+q.Merchants[0].ImpCode+"/", http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, "home", &page{Title: "가맹점", Q: q})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// errorPage renders an error with a way back.
func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, q *request, status int, msg string) {
	c.render(w, r, status, "error", &page{Title: "오류", Q: q, Data: msg})
}

// userMessage is the message of a gateway error an operator may read
// (billkey.Error messages are written for merchants); others are generic.
func userMessage(err error) string {
	var be *billkey.Error
	if errors.As(err, &be) && be.Message != "" && be.Code != billkey.EINTERNAL {
		return be.Message
	}
	return fmt.Sprintf("처리하지 못했습니다: 일시적인 오류입니다. (%s)", billkey.ErrorCode(err))
}
