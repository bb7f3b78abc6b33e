package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are billkey's Prometheus metrics, on a private registry.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	orphans  *prometheus.CounterVec
	ops      opsMetrics
}

// OrphanApproval counts one orphan approval of the kind ("charge" or
// "refund").
func (m *Metrics) OrphanApproval(kind string) {
	if m != nil {
		m.orphans.WithLabelValues(kind).Inc()
	}
}

// NewMetrics registers the HTTP metrics and the Go runtime collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billkey_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "billkey_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
	}
	m.orphans = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "billkey_orphan_approvals_total",
		Help: "PG approvals (kind charge) or refunds (kind refund) that reached billkey for a payment whose outcome was already recorded otherwise. Any increase needs an operator's look.",
	}, []string{"kind"})
	m.orphans.WithLabelValues("charge")
	m.orphans.WithLabelValues("refund")
	m.Registry.MustRegister(m.requests, m.latency, m.orphans, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.ops = newOpsMetrics(m.Registry)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

func (m *Metrics) observe(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}
