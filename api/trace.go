package api

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// tracer makes one server span per request on the global OpenTelemetry
// tracer provider: the no-op one unless tracing is configured.
//
// The tracer is looked up on each use, not kept: OpenTelemetry binds a
// kept tracer to the first provider ever installed.
func tracer() trace.Tracer { return otel.Tracer("github.com/billkey/billkey/api") }

// startSpan starts a request's server span. Its name is set at the end,
// once the route is known; until then it is the method alone, and the raw
// path (which holds ids and window tokens) is never recorded.
func startSpan(r *http.Request) (*http.Request, trace.Span) {
	ctx, span := tracer().Start(r.Context(), r.Method, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithNewRoot(), // an incoming traceparent is not trusted: every request is its own trace
		trace.WithAttributes(attribute.String("http.request.method", r.Method)))
	return r.WithContext(ctx), span
}

// endSpan names the span by the route pattern ("POST
// /subscribe/payments/again"), or by the method alone with the label the
// metrics use (unmatched, unauthorized, invalid) when no route matched.
func endSpan(span trace.Span, method, route string, status int, merchantID int64) {
	if !span.IsRecording() {
		span.End()
		return
	}
	name, path := method, ""
	if m, p, ok := strings.Cut(route, " "); ok && !strings.HasPrefix(m, "/") {
		name, path = route, p
	} else if strings.HasPrefix(route, "/") {
		name, path = method+" "+route, route
	}
	span.SetName(name)
	attrs := []attribute.KeyValue{attribute.String("billkey.route", route), attribute.Int("http.response.status_code", status)}
	if path != "" {
		attrs = append(attrs, attribute.String("http.route", path))
	}
	if merchantID != 0 {
		attrs = append(attrs, attribute.Int64("billkey.merchant_id", merchantID))
	}
	span.SetAttributes(attrs...)
	if status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.End()
}
