package cli

import (
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/billkey/billkey/api"
	"github.com/billkey/billkey/console"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/window"
)

// listener says where a route is served.
type listener int

const (
	// pub is --addr without a token (api.Server.Public): the API server's
	// request log, tracing, metrics and panic recovery apply.
	pub listener = iota
	// rest is --addr behind the i'mport access token (api.Server.Private).
	rest
	// win is the window's own mux (iamport.js, the payment window, the
	// landing page, the demo shop), reached through the pub lines that
	// mount it, so a wrong method gets its 405 rather than a token error.
	win
	// con is the console's own mux, mounted under console.Prefix behind
	// Console.Guard (security headers, same-origin POSTs).
	con
	// admin is the private --admin-addr listener only.
	admin
)

// route is one line of the route table.
type route struct {
	on      listener
	pattern string // net/http pattern: "METHOD /path", or a subtree mounted as is
	h       http.HandlerFunc
	when    bool // false: not served under this configuration
}

// parts are what the routes are served by; a nil part serves nothing.
type parts struct {
	api       *api.Server
	win       *window.Handler
	sim       http.Handler // the built-in simulator (behind the live gate)
	simAdmin  http.Handler // its /_sim/ introspection
	metrics   *api.Metrics
	console   *console.Console
	adminAddr bool // --admin-addr is set: console and metrics go there
	pubMetric bool // --public-metrics

	winMux, conMux *http.ServeMux // the win and con lines, made by serveRoutes
}

// routeTable is every route billkey serves, one line each: listener,
// pattern, handler, and whether this configuration serves it. Middleware
// comes with the listener (pub and rest: the API server's request log,
// tracing, metrics, panic recovery, and the token for rest; con: the
// console's Guard; each console page checks its own login), or is named on
// the line (idem: Idempotency-Key replay; sameOrigin). The INICIS
// simulator's own routes live under /inicis-sim (package inicissim).
func routeTable(p parts) []route {
	s, w, idem, c := p.api, p.win, p.api.Idempotent, p.console
	consoleOn, hasWin, demo, hasCon := pub, w != nil, w != nil && w.Demo(), c != nil
	if p.adminAddr {
		consoleOn = admin
	}
	var cp console.Pages
	if hasCon {
		cp = c.Pages()
	}
	const m = console.Prefix + "/m/{imp}" // a merchant's pages
	metrics := http.NotFound
	if p.metrics != nil {
		metrics = p.metrics.Handler().ServeHTTP
	}
	serve := func(h http.Handler) http.HandlerFunc {
		if h == nil || h == (*http.ServeMux)(nil) {
			return nil
		}
		return h.ServeHTTP
	}
	t := []route{
		{pub, "POST /users/getToken", s.HandleGetToken, true},
		{pub, "GET /healthz", s.HandleHealthz, true},
		{pub, "GET /readyz", s.HandleReadyz, true},
		{pub, "GET /openapi.json", s.HandleOpenAPI, true},
		{pub, "GET /docs", s.HandleDocs, true},
		{pub, "GET /docs/redoc", s.HandleRedoc, true},
		{pub, "GET /docs/redoc.standalone.js", s.HandleRedocJS, true},
		{pub, "GET /docs/init.js", s.HandleDocsInit, true},
		{pub, "GET /metrics", metrics, p.pubMetric},
		{pub, SimulatorPrefix + "/", serve(p.sim), p.sim != nil},

		{rest, "GET /payments/{imp_uid}", s.HandlePayment, true},
		{rest, "GET /payments", s.HandlePayments, true},
		{rest, "GET /payments/find/{merchant_uid}", s.HandleFindPayment, true},
		{rest, "GET /payments/find/{merchant_uid}/{payment_status}", s.HandleFindPayment, true},
		{rest, "GET /payments/findAll/{merchant_uid}", s.HandleFindAllPayments, true},
		{rest, "GET /payments/findAll/{merchant_uid}/{payment_status}", s.HandleFindAllPayments, true},
		{rest, "GET /payments/status/{payment_status}", s.HandlePaymentsByStatus, true},
		// {sub} is "balance"; a wildcard so it does not conflict with /payments/prepare/{...}.
		{rest, "GET /payments/{imp_uid}/{sub}", s.HandlePaymentSub, true},
		{rest, "GET /payments/{imp_uid}/{product}/{op}", s.HandleProductOp, true},
		{rest, "POST /payments/cancel", idem(s.HandleCancel), true},
		{rest, "POST /payments/prepare", idem(s.HandlePrepare), true},
		{rest, "PUT /payments/prepare", idem(s.HandleUpdatePrepare), true},
		{rest, "GET /payments/prepare/{merchant_uid}", s.HandleGetPrepare, true},
		{rest, "POST /subscribe/customers/{customer_uid}", idem(s.HandleIssueCustomer), true},
		{rest, "GET /subscribe/customers/{customer_uid}", s.HandleCustomer, true},
		{rest, "DELETE /subscribe/customers/{customer_uid}", s.HandleDeleteCustomer, true},
		{rest, "GET /subscribe/customers", s.HandleCustomers, true},
		{rest, "GET /subscribe/customers/{customer_uid}/payments", s.HandleCustomerPayments, true},
		{rest, "GET /subscribe/customers/{customer_uid}/schedules", s.HandleCustomerSchedules, true},
		{rest, "POST /subscribe/payments/again", idem(s.HandleAgain), true},
		{rest, "POST /subscribe/payments/onetime", idem(s.HandleOnetime), true},
		{rest, "POST /subscribe/payments/foreign", idem(s.HandleForeign), true},
		{rest, "POST /subscribe/payments/schedule", idem(s.HandleSchedule), true},
		{rest, "POST /subscribe/payments/unschedule", idem(s.HandleUnschedule), true},
		{rest, "GET /subscribe/payments/schedule", s.HandleSchedulesByRange, true},
		{rest, "GET /subscribe/payments/schedule/{merchant_uid}", s.HandleScheduleByMerchantUID, true},
		{rest, "GET /subscribe/payments/schedule/customers/{customer_uid}", s.HandleCustomerSchedules, true},
		{rest, "PUT /subscribe/payments/schedule/{merchant_uid}", idem(s.HandleMoveSchedule), true},
		{rest, "POST /subscribe/payments/schedule/{merchant_uid}/reschedule", idem(s.HandleReschedule), true},
		{rest, "POST /subscribe/payments/schedule/{merchant_uid}/retry", idem(s.HandleRetrySchedule), true},
		{rest, "GET /cards", s.HandleCards, true},
		{rest, "GET /cards/{code}", s.HandleCard, true},
		{rest, "GET /banks", s.HandleBanks, true},
		{rest, "GET /banks/{code}", s.HandleBank, true},
		{rest, "GET /users/pg", s.HandlePGSettings, true},
		// billkey's own API (not i'mport's): webhooks, subscriptions, test clocks.
		{rest, "GET /webhooks", s.HandleWebhookSettings, true},
		{rest, "PUT /webhooks/url", idem(s.HandleSetWebhookURL), true},
		{rest, "PUT /webhooks/notice-hosts", idem(s.HandleSetNoticeHosts), true},
		// Not Idempotent: a stored reply would keep the new secret in the idempotency table.
		{rest, "POST /webhooks/secret/rotate", s.HandleRotateWebhookSecret, true},
		{rest, "GET /webhooks/deliveries", s.HandleWebhookDeliveries, true},
		{rest, "GET /webhooks/deliveries/{id}", s.HandleWebhookDelivery, true},
		{rest, "POST /webhooks/deliveries/{id}/resend", idem(s.HandleResendWebhook), true},
		{rest, "POST /subscriptions", idem(s.HandleCreateSubscription), true},
		{rest, "GET /subscriptions", s.HandleSubscriptions, true},
		{rest, "GET /subscriptions/{id}", s.HandleSubscription, true},
		{rest, "PUT /subscriptions/{id}", idem(s.HandleChangeSubscription), true},
		{rest, "POST /subscriptions/{id}/pause", idem(s.HandlePauseSubscription), true},
		{rest, "POST /subscriptions/{id}/resume", idem(s.HandleResumeSubscription), true},
		{rest, "POST /subscriptions/{id}/cancel", idem(s.HandleCancelSubscription), true},
		{rest, "POST /subscriptions/{id}/retry", idem(s.HandleRetrySubscription), true},
		// Not idempotent-wrapped: the stored reply would keep the link's token.
		{rest, "POST /subscriptions/{id}/card_update_link", s.HandleCardUpdateLink, true},
		{rest, "POST /test_clocks", idem(s.HandleCreateTestClock), true},
		{rest, "GET /test_clocks/{id}", s.HandleTestClock, true},
		{rest, "POST /test_clocks/{id}/advance", idem(s.HandleAdvanceTestClock), true},
		{rest, "/", s.HandleNotFound, true},

		{win, "POST " + window.PathOpen, w.HandleOpen, hasWin},
		{win, "POST " + window.PathReturn + "{token}", w.HandleReturn, hasWin},
		{win, "GET " + window.PathClose + "{token}", w.HandleClose, hasWin},
		{win, "POST " + window.PathClose + "{token}", w.HandleClose, hasWin},
		{win, "GET /{$}", w.HandleLanding, hasWin},
		{win, "GET /billkey.css", w.Asset("demo.css", "text/css; charset=utf-8"), hasWin},
		{win, "GET /favicon.svg", w.Asset("favicon.svg", "image/svg+xml"), hasWin},
		{win, "GET /favicon.ico", w.Asset("favicon.svg", "image/svg+xml"), hasWin},
		{win, "GET " + gateway.PathCardUpdate + "{token}", w.HandleCardUpdatePage, hasWin},
		{win, "GET " + gateway.PathCardUpdate + "{token}/result", w.HandleCardUpdateResult, hasWin},
		{win, "GET " + window.PathCardUpdateJS, w.Asset("cardupdate.js", "text/javascript; charset=utf-8"), hasWin},
		{win, "GET /demo", w.HandleDemoIndex, demo},
		{win, "GET /demo/{$}", w.HandleDemoIndex, demo},
		{win, "GET /demo/assets/{file}", w.HandleDemoAsset, demo},
		{win, "GET /demo/complete", w.HandleDemoComplete, demo},
		{win, "POST /demo/subscribe", sameOrigin(w.HandleDemoSubscribe), demo},
		{win, "GET /demo/orders/{imp_uid}", w.HandleDemoOrder, demo},
		{win, "POST /demo/orders/{imp_uid}/cancel", sameOrigin(w.HandleDemoCancel), demo},
		{win, "POST /demo/orders/{imp_uid}/unschedule", sameOrigin(w.HandleDemoUnschedule), demo},
		{win, "GET /demo/payments/{imp_uid}", w.HandleDemoPayment, demo},
		// The window's mux is mounted on these public patterns.
		{pub, "/window/", serve(p.winMux), hasWin},
		{pub, "GET /{$}", serve(p.winMux), hasWin},
		{pub, "GET /billkey.css", serve(p.winMux), hasWin},
		{pub, "GET /favicon.svg", serve(p.winMux), hasWin},
		{pub, "GET /favicon.ico", serve(p.winMux), hasWin},
		{pub, gateway.PathCardUpdate, serve(p.winMux), hasWin},
		{pub, "/demo", serve(p.winMux), demo},
		{pub, "/demo/", serve(p.winMux), demo},

		{con, "GET " + console.Prefix + "/assets/", cp.Assets, hasCon},
		{con, "GET " + console.Prefix + "/login", cp.LoginPage, hasCon},
		{con, "POST " + console.Prefix + "/login", cp.Login, hasCon},
		{con, "POST " + console.Prefix + "/logout", cp.Logout, hasCon},
		{con, "GET " + console.Prefix + "/{$}", cp.Home, hasCon},
		{con, "GET " + console.Prefix + "/audit", cp.Audit, hasCon},
		{con, "GET " + m + "/{$}", cp.Dashboard, hasCon},
		{con, "GET " + m + "/payments", cp.Payments, hasCon},
		{con, "GET " + m + "/payments.csv", cp.PaymentsCSV, hasCon},
		{con, "GET " + m + "/payments/{imp_uid}", cp.Payment, hasCon},
		{con, "POST " + m + "/payments/{imp_uid}/refund", cp.Refund, hasCon},
		{con, "GET " + m + "/customers", cp.Customers, hasCon},
		{con, "GET " + m + "/customers/{customer_uid}", cp.Customer, hasCon},
		{con, "POST " + m + "/customers/{customer_uid}/delete", cp.DeleteCustomer, hasCon},
		{con, "GET " + m + "/schedules", cp.Schedules, hasCon},
		{con, "GET " + m + "/schedules/calendar", cp.Calendar, hasCon},
		{con, "POST " + m + "/schedules/{merchant_uid}/revoke", cp.RevokeSchedule, hasCon},
		{con, "POST " + m + "/schedules/{merchant_uid}/reschedule", cp.RescheduleSchedule, hasCon},
		{con, "POST " + m + "/schedules/{merchant_uid}/retry", cp.RetrySchedule, hasCon},
		{con, "GET " + m + "/subscriptions", cp.Subscriptions, hasCon},
		{con, "GET " + m + "/subscriptions/{id}", cp.Subscription, hasCon},
		{con, "POST " + m + "/subscriptions/{id}/card_update_link", cp.CardUpdateLink, hasCon},
		{con, "GET " + m + "/webhooks", cp.Webhooks, hasCon},
		{con, "POST " + m + "/webhooks/{id}/resend", cp.ResendWebhook, hasCon},
		{con, "GET " + m + "/settings", cp.Settings, hasCon},
		{con, "POST " + m + "/settings/webhook-url", cp.SetWebhookURL, hasCon},
		{con, "POST " + m + "/settings/api-secret", cp.RotateAPISecret, hasCon},
		{con, "POST " + m + "/settings/webhook-secret", cp.RotateWebhookSecret, hasCon},
		{con, console.Prefix + "/", cp.NotFound, hasCon},
		{consoleOn, console.Prefix + "/", serve(guard(c, p.conMux)), hasCon},
		{consoleOn, console.Prefix, http.RedirectHandler(console.Prefix+"/", http.StatusSeeOther).ServeHTTP, hasCon},
		{admin, "GET /metrics", metrics, true},
		{admin, "/debug/pprof/", pprof.Index, true},
		{admin, "/debug/pprof/profile", pprof.Profile, true},
		{admin, "/debug/pprof/trace", pprof.Trace, true},
		{admin, SimulatorPrefix + "/_sim/", serve(p.simAdmin), p.simAdmin != nil},
	}
	for _, u := range s.UnsupportedRoutes() { // i'mport products billkey does not offer
		t = append(t, route{rest, u.Pattern, u.Handler, true})
	}
	for _, path := range window.SDKPaths { // iamport.js and its CDN names
		t = append(t, route{win, "GET " + path, w.HandleSDK, hasWin}, route{pub, path, serve(p.winMux), hasWin})
	}
	return t
}

// sameOrigin refuses cross-origin POSTs of the demo shop's forms.
func sameOrigin(h http.HandlerFunc) http.HandlerFunc {
	return http.NewCrossOriginProtection().Handler(h).ServeHTTP
}

// guard puts the console's mux behind its security headers.
func guard(c *console.Console, mux *http.ServeMux) http.Handler {
	if c == nil {
		return nil
	}
	return c.Guard(mux)
}

// serveRoutes adds the routes of the table that only selects and that p
// serves: to p.api, to the window's and the console's muxes, and, for the
// admin lines, to the returned admin mux (nil unless p.adminAddr).
func serveRoutes(p parts, only func(route) bool) *http.ServeMux {
	var adminMux *http.ServeMux
	if p.win != nil {
		p.winMux = http.NewServeMux()
	}
	if p.console != nil {
		p.conMux = http.NewServeMux()
	}
	if p.adminAddr {
		adminMux = http.NewServeMux()
	}
	for _, r := range routeTable(p) {
		if !r.when || !only(r) {
			continue
		}
		switch r.on {
		case pub:
			p.api.Public(r.pattern, r.h)
		case rest:
			p.api.Private(r.pattern, r.h)
		case win:
			p.winMux.Handle(r.pattern, r.h)
		case con:
			p.conMux.Handle(r.pattern, r.h)
		case admin:
			if adminMux != nil {
				adminMux.Handle(r.pattern, r.h)
			}
		}
	}
	return adminMux
}

// late reports whether a route is added by billkey serve once the console
// exists (the console, metrics and the admin listener) rather than by
// StartApp.
func late(r route) bool {
	return r.on == admin || r.on == con || r.pattern == "GET /metrics" || strings.HasPrefix(r.pattern, console.Prefix)
}

// ServeRoutes adds the routes billkey serve adds once the console exists:
// the console (on the admin listener when adminAddr, else on the public
// one), /metrics (admin, and public when publicMetrics), pprof and the
// simulator's introspection (admin only). It returns the admin listener's
// handler (nil without adminAddr).
func (a *App) ServeRoutes(cons *console.Console, adminAddr, publicMetrics bool) http.Handler {
	admin := serveRoutes(parts{api: a.API, metrics: a.Metrics, simAdmin: a.SimIntrospection, console: cons,
		adminAddr: adminAddr, pubMetric: publicMetrics}, late)
	if admin == nil {
		return nil
	}
	return admin
}

// MountAPI serves the REST API's routes (and no window, console or
// simulator) on s: for tests of package api.
func MountAPI(s *api.Server) { serveRoutes(parts{api: s}, func(r route) bool { return !late(r) }) }
