package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/billkey/billkey/internal/dbtest"
)

// TestTracingSpans: with a tracer provider installed (as billkey serve
// --otlp-endpoint does), a charge over HTTP is one trace: a server span
// named by the route pattern, with the INICIS charge and the store calls of
// the money path as its children; a refund likewise. No span name or
// attribute holds the billing key, the card number, the access token, the
// secret or the ids in the path.
func TestTracingSpans(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		otel.SetTracerProvider(tp)
		t.Cleanup(func() {
			otel.SetTracerProvider(noop.NewTracerProvider())
			_ = tp.Shutdown(context.Background())
		})

		h := start(t, dsn, options{})
		h.mustIssue("cust-trace", "4518-4200-0000-0007")
		_, env := h.again("cust-trace", "order-trace", 9900)
		p := env.payment(t)
		if env.Code != 0 || p.Status != "paid" {
			t.Fatalf("again: %s", env.raw)
		}
		if _, env = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": p.ImpUID, "amount": 1000, "reason": "부분 환불"}); env.Code != 0 {
			t.Fatalf("cancel: %s", env.raw)
		}

		// A server span ends once its reply is written, possibly after the
		// client has read it.
		server := func(name string) sdktrace.ReadOnlySpan {
			var found sdktrace.ReadOnlySpan
			eventually(t, 10*time.Second, "server span "+name, func() bool {
				for _, s := range rec.Ended() {
					if s.Name() == name && s.SpanKind() == trace.SpanKindServer {
						found = s
						return true
					}
				}
				return false
			})
			return found
		}
		children := func(parent sdktrace.ReadOnlySpan) map[string]sdktrace.ReadOnlySpan {
			out := map[string]sdktrace.ReadOnlySpan{}
			for _, s := range rec.Ended() {
				if s.Parent().SpanID() == parent.SpanContext().SpanID() && s.SpanContext().TraceID() == parent.SpanContext().TraceID() {
					out[s.Name()] = s
				}
			}
			return out
		}

		charge := server("POST /subscribe/payments/again")
		if charge.Parent().IsValid() {
			t.Errorf("the charge's server span has a parent: %v", charge.Parent())
		}
		wantAttrs(t, charge, map[string]string{"http.route": "/subscribe/payments/again", "http.request.method": "POST",
			"http.response.status_code": "200", "billkey.merchant_id": fmt.Sprint(h.merchant.Merchant.ID)})
		kids := children(charge)
		for _, name := range []string{"inicis charge", "store CustomerForCharge", "store CreatePayment", "store FinishPayment"} {
			if kids[name] == nil {
				t.Errorf("no %q span under the charge's server span; children: %v", name, keys(kids))
			}
		}
		if s := kids["inicis charge"]; s != nil {
			if s.SpanKind() != trace.SpanKindClient {
				t.Errorf("inicis charge span kind %v", s.SpanKind())
			}
			wantAttrs(t, s, map[string]string{"billkey.pg.operation": "charge", "billkey.pg.outcome": "ok", "billkey.pg.live": "false"})
		}
		if s := kids["store FinishPayment"]; s != nil {
			wantAttrs(t, s, map[string]string{"db.operation.name": "FinishPayment"})
		}

		refund := server("POST /payments/cancel")
		kids = children(refund)
		for _, name := range []string{"store ReserveCancel", "inicis refund", "store CompleteCancel"} {
			if kids[name] == nil {
				t.Errorf("no %q span under the refund's server span; children: %v", name, keys(kids))
			}
		}
		issue := server("POST /subscribe/customers/{customer_uid}")
		if kids = children(issue); kids["inicis issue"] == nil || kids["store SaveCustomer"] == nil {
			t.Errorf("issue's children: %v", keys(kids))
		}

		// Nothing secret or identifying anywhere: names, attributes, events.
		secrets := []string{"4518420000000007", "4518-4200-0000-0007", "880101", h.token, h.merchant.ImpSecret, "cust-trace", "order-trace", p.ImpUID}
		for _, k := range h.ledger().Keys {
			secrets = append(secrets, k.BillKey)
		}
		for _, s := range rec.Ended() {
			text := s.Name()
			for _, a := range s.Attributes() {
				text += " " + string(a.Key) + "=" + a.Value.Emit()
			}
			for _, e := range s.Events() {
				text += " " + e.Name
				for _, a := range e.Attributes {
					text += " " + a.Value.Emit()
				}
			}
			text += " " + s.Status().Description
			for _, secret := range secrets {
				if secret != "" && strings.Contains(text, secret) {
					t.Errorf("span %q reveals %q: %s", s.Name(), secret, text)
				}
			}
		}
	})
}

func wantAttrs(t *testing.T, s sdktrace.ReadOnlySpan, want map[string]string) {
	t.Helper()
	got := map[attribute.Key]string{}
	for _, a := range s.Attributes() {
		got[a.Key] = a.Value.Emit()
	}
	for k, v := range want {
		if got[attribute.Key(k)] != v {
			t.Errorf("span %q: %s = %q, want %q (all: %v)", s.Name(), k, got[attribute.Key(k)], v, got)
		}
	}
}

func keys(m map[string]sdktrace.ReadOnlySpan) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
