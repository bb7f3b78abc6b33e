package tracing

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/inicis"
)

// tracer makes the INICIS call spans. It is looked up on each use, not
// kept: OpenTelemetry binds a kept tracer to the first provider ever installed.
func tracer() trace.Tracer { return otel.Tracer("github.com/billkey/billkey/inicis") }

// PG wraps a PG so every call (issue, charge, refund, inquire) is a client
// span named "inicis OPERATION", with the operation, whether the channel
// is live, and the outcome: ok, refused (the PG or card company said no)
// or unknown (no answer in time, or an unexpected failure after sending).
// Requests and replies are never recorded.
func PG(pg billkey.PG) billkey.PG {
	if pg == nil {
		return nil
	}
	return &tracedPG{pg: pg}
}

// Window wraps the browser window protocol so the window approval and its
// network cancellation are spans like the PG calls. Building the window's
// form (StdPayForm) calls nothing and makes no span.
func Window(w gateway.WindowPG) gateway.WindowPG {
	if w == nil {
		return nil
	}
	return &tracedWindow{w: w}
}

func start(ctx context.Context, op string, ch billkey.PGChannel) (context.Context, trace.Span) {
	return tracer().Start(ctx, "inicis "+op, trace.WithSpanKind(trace.SpanKindClient),
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

type tracedPG struct{ pg billkey.PG }

func (t *tracedPG) IssueBillingKey(ctx context.Context, ch billkey.PGChannel, req billkey.IssueRequest) (*billkey.BillingKey, error) {
	ctx, span := start(ctx, "issue", ch)
	k, err := t.pg.IssueBillingKey(ctx, ch, req)
	end(span, err)
	return k, err
}

func (t *tracedPG) Charge(ctx context.Context, ch billkey.PGChannel, req billkey.ChargeRequest) (*billkey.Approval, error) {
	ctx, span := start(ctx, "charge", ch)
	a, err := t.pg.Charge(ctx, ch, req)
	end(span, err)
	return a, err
}

func (t *tracedPG) Refund(ctx context.Context, ch billkey.PGChannel, req billkey.RefundRequest) (*billkey.RefundResult, error) {
	ctx, span := start(ctx, "refund", ch)
	r, err := t.pg.Refund(ctx, ch, req)
	end(span, err)
	return r, err
}

func (t *tracedPG) Inquire(ctx context.Context, ch billkey.PGChannel, orderID string) (*billkey.Inquiry, error) {
	ctx, span := start(ctx, "inquire", ch)
	q, err := t.pg.Inquire(ctx, ch, orderID)
	end(span, err)
	return q, err
}

type tracedWindow struct{ w gateway.WindowPG }

func (t *tracedWindow) StdPayForm(ch billkey.PGChannel, req inicis.StdPayRequest) (*inicis.StdPayForm, error) {
	return t.w.StdPayForm(ch, req)
}

func (t *tracedWindow) ApproveStdPay(ctx context.Context, ch billkey.PGChannel, r *inicis.StdPayReturn, orderID string) (*billkey.BillingKey, error) {
	ctx, span := start(ctx, "window approval", ch)
	k, err := t.w.ApproveStdPay(ctx, ch, r, orderID)
	end(span, err)
	return k, err
}

func (t *tracedWindow) NetCancel(ctx context.Context, ch billkey.PGChannel, r *inicis.StdPayReturn) error {
	ctx, span := start(ctx, "window net cancel", ch)
	err := t.w.NetCancel(ctx, ch, r)
	end(span, err)
	return err
}
