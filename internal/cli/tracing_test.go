package cli_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpCollector keeps the span names posted to it over OTLP/HTTP.
type otlpCollector struct {
	mu    sync.Mutex
	names []string
}

func (c *otlpCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if r.URL.Path == "/v1/traces" && proto.Unmarshal(body, &req) == nil {
		c.mu.Lock()
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					c.names = append(c.names, s.GetName())
				}
			}
		}
		c.mu.Unlock()
	}
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (c *otlpCollector) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.names...)
}

// TestServeTracing: without --otlp-endpoint serve installs no tracer
// provider (OpenTelemetry's global stays the no-op one); with it, the
// spans of the requests served reach the collector by the time serve has
// stopped, named by route pattern. An endpoint that is not an http(s) URL
// stops serve from starting.
func TestServeTracing(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	col := &otlpCollector{}
	srv := httptest.NewServer(col)
	defer srv.Close()

	off := serve(t, "--data-dir", t.TempDir())
	getToken(t, off.url, "nobody", "wrong")
	if _, sdk := otel.GetTracerProvider().(*sdktrace.TracerProvider); sdk {
		t.Fatal("serve without --otlp-endpoint installed a tracer provider")
	}
	if code := off.stop(); code != 0 {
		t.Fatalf("stop: %d\n%s", code, off.errs)
	}

	on := serve(t, "--data-dir", t.TempDir(), "--otlp-endpoint", srv.URL)
	m := credRE.FindStringSubmatch(on.out.String())
	if m == nil {
		t.Fatalf("no demo merchant printed:\n%s", on.out)
	}
	if code := getToken(t, on.url, m[2], m[3]); code != 200 {
		t.Fatalf("getToken: %d", code)
	}
	if code := on.stop(); code != 0 {
		t.Fatalf("stop: %d\n%s", code, on.errs)
	}
	names := col.got()
	found := false
	for _, n := range names {
		found = found || n == "POST /users/getToken"
		if strings.Contains(n, m[2]) || strings.Contains(n, m[3]) {
			t.Errorf("span name %q holds a credential", n)
		}
	}
	if !found {
		t.Fatalf("no POST /users/getToken span reached the collector; got %v", names)
	}

	code, _, errs := run(t, "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--otlp-endpoint", srv.URL, "--otlp-sample-ratio", "0")
	if code == 0 || !strings.Contains(errs, "otlp-sample-ratio") {
		t.Fatalf("serve with a sample ratio of 0: exit %d\n%s", code, errs)
	}
	code, _, errs = run(t, "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--otlp-endpoint", "collector:4318")
	if code == 0 || !strings.Contains(errs, "OTLP endpoint") {
		t.Fatalf("serve with a bad endpoint: exit %d\n%s", code, errs)
	}
}
