package tracing

import (
	"context"
	"net/url"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/billkey/billkey"
)

// tracer makes the PG call spans. It is looked up on each use, not kept:
// OpenTelemetry binds a kept tracer to the first provider ever installed.
func tracer() trace.Tracer { return otel.Tracer("github.com/billkey/billkey/pg") }

// Provider returns a copy of the PG provider whose every PG call (issue,
// charge, refund, inquire) and window approval and cancellation is a
// client span named "LABEL OPERATION", LABEL being the provider's shortest
// name ("inicis charge" for KG INICIS), with the operation, whether the
// channel is live, and the outcome: ok, refused (the PG or card company
// said no) or unknown (no answer in time, or an unexpected failure after
// sending). Building the window's form calls nothing and makes no span.
// Requests and replies are never recorded.
func Provider(p *billkey.PGProvider) *billkey.PGProvider {
	if p == nil {
		return nil
	}
	label := p.Name
	for _, n := range p.Aliases {
		if len(n) < len(label) {
			label = n
		}
	}
	out := *p
	out.PG = &tracedPG{pg: p.PG, label: label}
	if p.Window != nil {
		out.Window = &tracedWindow{w: p.Window, label: label}
	}
	return &out
}

func start(ctx context.Context, label, op string, ch billkey.PGChannel) (context.Context, trace.Span) {
	return tracer().Start(ctx, label+" "+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("billkey.pg.operation", op), attribute.Bool("billkey.pg.live", ch.Live)))
}
func end(span trace.Span, err error) {
	outcome := "ok"
	switch code := billkey.ErrorCode(err); code {
	case "":
	case billkey.EPG:
		outcome = "refused"
	default:
		outcome = "unknown"
		span.SetStatus(codes.Error, code)
	}
	if err != nil {
		code := billkey.ErrorCode(err)
		if code == "" {
			code = "internal"
		}
		span.SetAttributes(attribute.String("billkey.error_code", code))
	}
	span.SetAttributes(attribute.String("billkey.pg.outcome", outcome))
	span.End()
}

type tracedPG struct {
	pg    billkey.PG
	label string
}

func (t *tracedPG) IssueBillingKey(ctx context.Context, ch billkey.PGChannel, req billkey.IssueRequest) (*billkey.BillingKey, error) {
	ctx, span := start(ctx, t.label, "issue", ch)
	k, err := t.pg.IssueBillingKey(ctx, ch, req)
	end(span, err)
	return k, err
}

func (t *tracedPG) Charge(ctx context.Context, ch billkey.PGChannel, req billkey.ChargeRequest) (*billkey.Approval, error) {
	ctx, span := start(ctx, t.label, "charge", ch)
	a, err := t.pg.Charge(ctx, ch, req)
	end(span, err)
	return a, err
}

func (t *tracedPG) Refund(ctx context.Context, ch billkey.PGChannel, req billkey.RefundRequest) (*billkey.RefundResult, error) {
	ctx, span := start(ctx, t.label, "refund", ch)
	r, err := t.pg.Refund(ctx, ch, req)
	end(span, err)
	return r, err
}

func (t *tracedPG) Inquire(ctx context.Context, ch billkey.PGChannel, orderID string) (*billkey.Inquiry, error) {
	ctx, span := start(ctx, t.label, "inquire", ch)
	q, err := t.pg.Inquire(ctx, ch, orderID)
	end(span, err)
	return q, err
}

type tracedWindow struct {
	w     billkey.WindowPG
	label string
}

func (t *tracedWindow) CheckWindow(ch billkey.PGChannel) error { return t.w.CheckWindow(ch) }

func (t *tracedWindow) WindowForm(ch billkey.PGChannel, req billkey.WindowFormRequest) (*billkey.WindowForm, error) {
	return t.w.WindowForm(ch, req)
}

func (t *tracedWindow) ApproveWindow(ctx context.Context, ch billkey.PGChannel, orderID string, post url.Values) (*billkey.BillingKey, error) {
	ctx, span := start(ctx, t.label, "window approval", ch)
	k, err := t.w.ApproveWindow(ctx, ch, orderID, post)
	end(span, err)
	return k, err
}

func (t *tracedWindow) CancelWindow(ctx context.Context, ch billkey.PGChannel, post url.Values) error {
	ctx, span := start(ctx, t.label, "window net cancel", ch)
	err := t.w.CancelWindow(ctx, ch, post)
	end(span, err)
	return err
}

func (t *tracedWindow) WindowClosedCode() string { return t.w.WindowClosedCode() }
