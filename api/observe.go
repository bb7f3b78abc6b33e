package api

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/billkey/billkey"
)

// Operational metrics: what billkey does at INICIS, how payment windows end,
// and the waiting work in the database. Metric names are part of billkey's
// interface: deploy/prometheus/alerts.yml and the Grafana dashboard use
// them, and a test checks that every name they use is exported.

// opsMetrics are registered by NewMetrics with the HTTP metrics.
type opsMetrics struct {
	pgRequests *prometheus.CounterVec
	pgLatency  *prometheus.HistogramVec
	charges    *prometheus.CounterVec
	windows    *prometheus.CounterVec
}

func newOpsMetrics(reg prometheus.Registerer) opsMetrics {
	o := opsMetrics{
		pgRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billkey_pg_requests_total",
			Help: "Calls to the PG (KG INICIS) by operation (issue, charge, refund, inquire) and outcome: ok, refused (the PG or card company said no), unknown (no answer in time, or an unexpected failure after sending).",
		}, []string{"operation", "outcome"}),
		pgLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "billkey_pg_request_duration_seconds",
			Help:    "Latency of calls to the PG (KG INICIS) by operation.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2, 3, 5, 10, 20, 30, 60},
		}, []string{"operation"}),
		charges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billkey_charges_total",
			Help: "Billing key charges sent to the PG by outcome: approved, declined (card company or PG refusal), unknown (reconciled by inquiry, never retried blindly).",
		}, []string{"outcome"}),
		windows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billkey_window_attempts_total",
			Help: "Payment window attempts by how they ended: issued, refused, closed, expired, superseded, interrupted, failed.",
		}, []string{"result"}),
	}
	reg.MustRegister(o.pgRequests, o.pgLatency, o.charges, o.windows)
	for _, op := range []string{"issue", "charge", "refund", "inquire"} {
		o.pgLatency.WithLabelValues(op)
		for _, out := range []string{"ok", "refused", "unknown"} {
			o.pgRequests.WithLabelValues(op, out)
		}
	}
	for _, out := range []string{"approved", "declined", "unknown"} {
		o.charges.WithLabelValues(out)
	}
	for _, r := range []string{"issued", "refused", "closed", "expired", "superseded", "interrupted", "failed"} {
		o.windows.WithLabelValues(r)
	}
	return o
}

// WindowResult counts a finished payment window attempt; it fits
// gateway.Service.OnWindowResult.
func (m *Metrics) WindowResult(result string) {
	if m == nil {
		return
	}
	m.ops.windows.WithLabelValues(result).Inc()
}

// ObservePG wraps a PG so every call is timed and counted by outcome.
func (m *Metrics) ObservePG(pg billkey.PG) billkey.PG {
	if m == nil || pg == nil {
		return pg
	}
	return &observedPG{pg: pg, m: &m.ops}
}

type observedPG struct {
	pg billkey.PG
	m  *opsMetrics
}

func (o *observedPG) done(op string, start time.Time, err error) {
	o.m.pgLatency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	outcome := "ok"
	switch billkey.ErrorCode(err) {
	case "":
	case billkey.EPG:
		outcome = "refused"
	default:
		outcome = "unknown"
	}
	o.m.pgRequests.WithLabelValues(op, outcome).Inc()
	if op == "charge" {
		o.m.charges.WithLabelValues(map[string]string{"ok": "approved", "refused": "declined", "unknown": "unknown"}[outcome]).Inc()
	}
}

func (o *observedPG) IssueBillingKey(ctx context.Context, ch billkey.PGChannel, req billkey.IssueRequest) (*billkey.BillingKey, error) {
	start := time.Now()
	k, err := o.pg.IssueBillingKey(ctx, ch, req)
	o.done("issue", start, err)
	return k, err
}

func (o *observedPG) Charge(ctx context.Context, ch billkey.PGChannel, req billkey.ChargeRequest) (*billkey.Approval, error) {
	start := time.Now()
	a, err := o.pg.Charge(ctx, ch, req)
	o.done("charge", start, err)
	return a, err
}

func (o *observedPG) Refund(ctx context.Context, ch billkey.PGChannel, req billkey.RefundRequest) (*billkey.RefundResult, error) {
	start := time.Now()
	r, err := o.pg.Refund(ctx, ch, req)
	o.done("refund", start, err)
	return r, err
}

func (o *observedPG) Inquire(ctx context.Context, ch billkey.PGChannel, orderID string) (*billkey.Inquiry, error) {
	start := time.Now()
	q, err := o.pg.Inquire(ctx, ch, orderID)
	o.done("inquire", start, err)
	return q, err
}

// WatchStore exports the database's waiting work (billkey.OpsSnapshot) as
// gauges, read on each scrape (bounded by a 5 s timeout). Every node of a
// cluster reports the same shared figures: aggregate them with max().
func (m *Metrics) WatchStore(store OpsSource) {
	if m == nil || store == nil {
		return
	}
	m.Registry.MustRegister(&storeCollector{store: store})
}

// OpsSource counts the waiting work in the database (gateway.Service and
// *sqlstore.Store implement it).
type OpsSource interface {
	OpsSnapshot(ctx context.Context, now time.Time) (billkey.OpsSnapshot, error)
}

type storeCollector struct{ store OpsSource }

var (
	descUp = prometheus.NewDesc("billkey_store_snapshot_up",
		"1 when the last scrape could read the waiting work from the database, else 0.", nil, nil)
	descUnknown = prometheus.NewDesc("billkey_unknown_outcomes",
		"Payments (kind=charge) and refunds (kind=refund) whose PG outcome is unknown and not yet reconciled.", []string{"kind"}, nil)
	descUnknownAge = prometheus.NewDesc("billkey_unknown_outcome_oldest_age_seconds",
		"Age of the oldest unreconciled unknown outcome, by kind (0 when none).", []string{"kind"}, nil)
	descWebhooks = prometheus.NewDesc("billkey_webhook_backlog",
		"Webhook deliveries not yet acknowledged by the merchant (pending or retrying).", nil, nil)
	descWebhookAge = prometheus.NewDesc("billkey_webhook_oldest_undelivered_age_seconds",
		"Age of the oldest webhook delivery not yet acknowledged (0 when none).", nil, nil)
	descSchedules = prometheus.NewDesc("billkey_schedules_due",
		"Scheduled payments that are due but have not run yet.", nil, nil)
	descScheduleLag = prometheus.NewDesc("billkey_schedule_lag_seconds",
		"How long the longest-waiting due scheduled payment has been due (0 when none).", nil, nil)
	descWindows = prometheus.NewDesc("billkey_window_attempts_open",
		"Payment window attempts open or being approved.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descUnknown, descUnknownAge, descWebhooks, descWebhookAge, descSchedules, descScheduleLag, descWindows} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := time.Now()
	s, err := c.store.OpsSnapshot(ctx, now)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	age := func(t time.Time) float64 {
		if t.IsZero() || t.After(now) {
			return 0
		}
		return now.Sub(t).Seconds()
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descUp, 1)
	gauge(descUnknown, float64(s.UnknownCharges), "charge")
	gauge(descUnknown, float64(s.UnknownRefunds), "refund")
	gauge(descUnknownAge, age(s.OldestUnknownCharge), "charge")
	gauge(descUnknownAge, age(s.OldestUnknownRefund), "refund")
	gauge(descWebhooks, float64(s.WebhooksPending))
	gauge(descWebhookAge, age(s.OldestWebhookPending))
	gauge(descSchedules, float64(s.SchedulesDue))
	gauge(descScheduleLag, age(s.OldestScheduleDue))
	gauge(descWindows, float64(s.WindowsOpen))
}
