package sqlstore

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/billkey/billkey"
)

// Tracing: the store operations of the money paths (payment insert and
// finish, refund reservation and settlement, customer save and lookup)
// start a span on the global OpenTelemetry tracer provider. Without
// tracing configured (billkey serve --otlp-endpoint) that provider is the
// no-op one and a span costs next to nothing. Spans carry the operation
// and the database system only: never a query, an argument or an error
// message, which could hold a merchant's identifiers.
//
// The tracer is looked up on each use, not kept: OpenTelemetry binds a
// kept tracer to the first provider ever installed.
func tracer() trace.Tracer { return otel.Tracer("github.com/billkey/billkey/sqlstore") }

// span starts the span of one store operation; end it with endSpan.
func (s *Store) span(ctx context.Context, op string) (context.Context, trace.Span) {
	return tracer().Start(ctx, "store "+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", s.dialect.system), attribute.String("db.operation.name", op)))
}

// endSpan ends a store span, marking it failed with the error's billkey
// code (the message is left out).
func endSpan(span trace.Span, err *error) {
	if err != nil && *err != nil {
		code := billkey.ErrorCode(*err)
		if code == "" {
			code = "internal"
		}
		span.SetAttributes(attribute.String("billkey.error_code", code))
		if code != billkey.ENOTFOUND {
			span.SetStatus(codes.Error, code)
		}
	}
	span.End()
}
