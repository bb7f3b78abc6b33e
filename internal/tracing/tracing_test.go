package tracing_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/billkey/billkey/internal/tracing"
)

// collector is a minimal OTLP/HTTP receiver: it keeps every request.
type collector struct {
	mu   sync.Mutex
	reqs []*coltracepb.ExportTraceServiceRequest
	path []string
	ct   []string
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	_ = proto.Unmarshal(body, &req)
	c.mu.Lock()
	c.reqs, c.path, c.ct = append(c.reqs, &req), append(c.path, r.URL.Path), append(c.ct, r.Header.Get("Content-Type"))
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

// Off (no endpoint flag and none of the standard variables): nothing is
// installed, the global provider stays OpenTelemetry's no-op one, and a span
// records nothing. This test runs first: later ones install providers.
func TestOffInstallsNothing(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	c := &collector{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	before := otel.GetTracerProvider()
	shutdown, on, err := tracing.Setup(context.Background(), tracing.Options{})
	if err != nil || on {
		t.Fatalf("Setup without an endpoint: on=%v err=%v", on, err)
	}
	if after := otel.GetTracerProvider(); after != before {
		t.Fatalf("the global tracer provider changed to %T", after)
	}
	if _, sdk := otel.GetTracerProvider().(*sdktrace.TracerProvider); sdk {
		t.Fatal("an SDK tracer provider is installed with tracing off")
	}
	_, span := otel.Tracer("test").Start(context.Background(), "x")
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Fatal("a span records with tracing off")
	}
	span.End()
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// OTEL_SDK_DISABLED=true wins over an endpoint.
	t.Setenv("OTEL_SDK_DISABLED", "true")
	if _, on, err := tracing.Setup(context.Background(), tracing.Options{Endpoint: srv.URL}); on || err != nil {
		t.Fatalf("OTEL_SDK_DISABLED=true: on=%v err=%v", on, err)
	}
	if otel.GetTracerProvider() != before {
		t.Fatal("OTEL_SDK_DISABLED=true installed a provider")
	}
	if len(c.reqs) != 0 {
		t.Fatalf("%d requests reached the collector with tracing off", len(c.reqs))
	}
}

// On: spans reach the collector's /v1/traces as OTLP protobuf, with
// service.name billkey, and Shutdown flushes what is buffered.
func TestExportsToEndpoint(t *testing.T) {
	t.Setenv("OTEL_SDK_DISABLED", "")
	c := &collector{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	shutdown, on, err := tracing.Setup(context.Background(), tracing.Options{Endpoint: srv.URL + "/otlp/", Version: "v9.9.9"})
	if err != nil || !on {
		t.Fatalf("Setup: on=%v err=%v", on, err)
	}
	if _, sdk := otel.GetTracerProvider().(*sdktrace.TracerProvider); !sdk {
		t.Fatalf("global provider is %T", otel.GetTracerProvider())
	}
	_, span := otel.Tracer("test").Start(context.Background(), "POST /subscribe/payments/again")
	span.End()
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.reqs) != 1 || c.path[0] != "/otlp/v1/traces" || c.ct[0] != "application/x-protobuf" {
		t.Fatalf("collector got %d requests at %v (%v)", len(c.reqs), c.path, c.ct)
	}
	rs := c.reqs[0].GetResourceSpans()
	if len(rs) != 1 {
		t.Fatalf("resource spans: %v", rs)
	}
	attrs := map[string]string{}
	for _, a := range rs[0].GetResource().GetAttributes() {
		attrs[a.GetKey()] = a.GetValue().GetStringValue()
	}
	if attrs["service.name"] != "billkey" || attrs["service.version"] != "v9.9.9" {
		t.Errorf("resource: %v", attrs)
	}
	var names []string
	for _, ss := range rs[0].GetScopeSpans() {
		for _, s := range ss.GetSpans() {
			names = append(names, s.GetName())
		}
	}
	if len(names) != 1 || names[0] != "POST /subscribe/payments/again" {
		t.Errorf("spans: %v", names)
	}
}

func TestEndpointValidation(t *testing.T) {
	for in, want := range map[string]string{
		"http://collector:4318":          "http://collector:4318/v1/traces",
		"https://otel.example.com/":      "https://otel.example.com/v1/traces",
		"https://otel.example.com/base/": "https://otel.example.com/base/v1/traces",
	} {
		if got, err := tracing.TracesURL(in); err != nil || got != want {
			t.Errorf("TracesURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"collector:4318", "ftp://collector", "http://", "http://user:pw@collector:4318", "http://collector?x=1", "://"} {
		if got, err := tracing.TracesURL(bad); err == nil {
			t.Errorf("TracesURL(%q) = %q, want an error", bad, got)
		}
		if _, on, err := tracing.Setup(context.Background(), tracing.Options{Endpoint: bad}); err == nil || on {
			t.Errorf("Setup(%q): on=%v err=%v, want a refusal", bad, on, err)
		}
	}
	if _, _, err := tracing.Setup(context.Background(), tracing.Options{Endpoint: "http://collector:4318", SampleRatio: 1.5}); err == nil {
		t.Error("a sample ratio of 1.5 was accepted")
	}
}
