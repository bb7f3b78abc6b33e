// Package tracing sets up billkey's optional OpenTelemetry tracing and
// wraps the INICIS connector with spans.
//
// Tracing is off unless an OTLP endpoint is configured (billkey serve
// --otlp-endpoint, BILLKEY_OTLP_ENDPOINT, or the standard
// OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). Off,
// nothing is installed: the global tracer provider stays OpenTelemetry's
// no-op one, no exporter exists and nothing is sent. On, spans go by
// OTLP/HTTP (protobuf) in batches to the collector.
//
// Three layers make spans, all on the global provider: package api (one
// server span per request, named by its route pattern), package sqlstore
// (the store operations of the money paths) and this package's PG and
// Window wrappers (one span per INICIS call). No span or attribute ever
// holds a raw path, a token, a billing key, card data, a secret or an
// error message: only route patterns, operation names, outcomes and
// billkey error codes.
//
// Incoming W3C traceparent headers are ignored on purpose: billkey's API
// is public, and a caller must not choose trace ids or force sampling.
// Every request starts its own trace.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Options configure tracing.
type Options struct {
	// Endpoint is the collector's OTLP/HTTP base URL, such as
	// http://otel-collector:4318; spans are posted to its /v1/traces.
	// Empty falls back to the standard OTEL_EXPORTER_OTLP_ENDPOINT and
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT variables; none of them set means
	// tracing is off.
	Endpoint string
	// SampleRatio is the share of requests traced, from 0 to 1 (0 means 1:
	// everything).
	SampleRatio float64
	// Version is billkey's version, reported as service.version.
	Version string
	// Logger receives the exporter's errors (a collector that is down);
	// nil discards them.
	Logger *slog.Logger
}

// Enabled reports whether o (with the environment) turns tracing on.
func (o Options) Enabled() bool {
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	return o.Endpoint != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup installs the global tracer provider with an OTLP/HTTP exporter
// when o enables tracing, and returns the function that flushes and stops
// it. When o does not, it installs nothing and returns a shutdown that
// does nothing and false.
func Setup(ctx context.Context, o Options) (shutdown func(context.Context) error, on bool, err error) {
	noop := func(context.Context) error { return nil }
	if !o.Enabled() {
		return noop, false, nil
	}
	if o.SampleRatio < 0 || o.SampleRatio > 1 {
		return noop, false, fmt.Errorf("tracing: sample ratio %v is not between 0 and 1", o.SampleRatio)
	}
	if o.SampleRatio == 0 {
		o.SampleRatio = 1
	}
	var opts []otlptracehttp.Option
	if o.Endpoint != "" {
		u, err := TracesURL(o.Endpoint)
		if err != nil {
			return noop, false, err
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(u))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return noop, false, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "billkey"), attribute.String("service.version", o.Version)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
		resource.WithTelemetrySDK())
	if err != nil && res == nil {
		return noop, false, fmt.Errorf("tracing: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.TraceIDRatioBased(o.SampleRatio)))
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		logger.Warn("tracing: export failed", slog.Any("error", err))
	}))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, true, nil
}

// TracesURL turns an OTLP/HTTP base URL (http or https, with a host) into
// the URL spans are posted to: its path followed by /v1/traces, as the
// OTLP specification does with OTEL_EXPORTER_OTLP_ENDPOINT.
func TracesURL(endpoint string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("tracing: the OTLP endpoint must be an http:// or https:// base URL with a host, such as http://otel-collector:4318 (no credentials, query or fragment)")
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/v1/traces"
	u.RawPath = ""
	return u.String(), nil
}
