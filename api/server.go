// Package api serves billkey's i'mport-compatible REST API: the envelope,
// token authentication, JSON and form binding, and the handlers, which
// internal/cli's route table serves (Server.Public and Server.Private).
// Handlers only bind requests and render replies; the use cases live in
// package gateway, which is also the only way to the store.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
)

// Server is the HTTP front of billkey.
type Server struct {
	Service *gateway.Service
	Logger  *slog.Logger
	Metrics *Metrics
	// Ready backs /readyz; nil checks the database and migrations only.
	Ready *Readiness

	public   *http.ServeMux // routes that need no token
	private  *http.ServeMux // i'mport API routes, behind token authentication
	throttle *tokenThrottle // failed getToken attempts
}

// NewServer returns a Server with no route: the composition root
// (internal/cli's route table) adds them with Public and Private.
func NewServer(svc *gateway.Service, logger *slog.Logger, metrics *Metrics) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{Service: svc, Logger: logger, Metrics: metrics, public: http.NewServeMux(), private: http.NewServeMux(),
		throttle: newTokenThrottle()}
	return s
}

// Public serves pattern without a token: getToken, health, docs, and the
// payment window, iamport.js, the demo shop or the simulator mounted here.
func (s *Server) Public(pattern string, h http.Handler) { s.public.Handle(pattern, h) }

// Private serves pattern behind the access token: an i'mport API route.
// Its handler finds the merchant with MerchantID.
func (s *Server) Private(pattern string, h http.Handler) { s.private.Handle(pattern, h) }

type ctxKey int

const merchantKey ctxKey = 0

// merchantID returns the authenticated merchant of the request.
func merchantID(r *http.Request) int64 {
	id, _ := r.Context().Value(merchantKey).(int64)
	return id
}

// ServeHTTP routes a request: public routes as they are; everything else
// only after the token is checked (before any path or parameter
// validation), with or without a trailing slash.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	route := "unmatched"
	r, span := startSpan(r)
	defer func() { endSpan(span, r.Method, route, rec.status, merchantID(r)) }()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v) // a deliberately aborted reply (the simulator's dropped replies)
			}
			s.Logger.Error("panic", slog.String("path", logPath(r.URL.Path)), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			if !rec.wrote {
				s.writeError(rec, r, fmt.Errorf("panic: %v", v))
			}
		}
		s.Metrics.observe(route, r.Method, rec.status, time.Since(start))
		s.Logger.Debug("request", slog.String("method", r.Method), slog.String("route", route),
			slog.String("path", logPath(r.URL.Path)), slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)),
			slog.Int64("merchant_id", merchantID(r)))
	}()

	if h, pattern := s.public.Handler(r); pattern != "" {
		route = pattern
		h.ServeHTTP(rec, r)
		return
	}
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		r.URL.Path = strings.TrimRight(p, "/")
		if r.URL.RawPath != "" {
			r.URL.RawPath = strings.TrimRight(r.URL.RawPath, "/")
		}
		if h, pattern := s.public.Handler(r); pattern != "" {
			route = pattern
			h.ServeHTTP(rec, r)
			return
		}
	}
	id, err := s.Service.Authenticate(r.Context(), tokenOf(r))
	if err != nil {
		route = "unauthorized"
		s.writeError(rec, r, err)
		return
	}
	*r = *r.WithContext(context.WithValue(r.Context(), merchantKey, id))
	// Path parameters ({customer_uid}, {merchant_uid}, ...) get the same
	// text checks as every other parameter, before any handler runs.
	if err := checkText("path", r.URL.Path, false); err != nil {
		route = "invalid"
		s.writeError(rec, r, err)
		return
	}
	_, route = s.private.Handler(r)
	s.private.ServeHTTP(rec, r)
}

// tokenOf finds the access token the ways i'mport clients send it:
// Authorization (raw or Bearer) wins over X-ImpTokenHeader, then ?_token=.
func tokenOf(r *http.Request) string {
	if a := strings.TrimSpace(r.Header.Get("Authorization")); a != "" {
		if scheme, tok, ok := strings.Cut(a, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return a
	}
	if t := strings.TrimSpace(r.Header.Get("X-ImpTokenHeader")); t != "" {
		return t
	}
	return r.URL.Query().Get("_token")
}

// HandleNotFound answers an unknown API route with i'mport's 404 envelope.
func (s *Server) HandleNotFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, billkey.Errorf(billkey.ENOTFOUND, "존재하지 않는 API입니다. (%s %s)", r.Method, r.URL.Path))
}

// HandleHealthz serves GET /healthz: whether the database answers.
func (s *Server) HandleHealthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	h, err := s.Service.Health(ctx)
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": h.Dialect, "durability": h.Durability})
}

// statusRecorder remembers the status written, for logs and metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
