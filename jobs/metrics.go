package jobs

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics count claims and job runs per queue. A nil *Metrics records
// nothing.
type Metrics struct {
	claims      *prometheus.CounterVec
	claimErrors *prometheus.CounterVec
	duration    *prometheus.HistogramVec
}

// NewMetrics registers the job metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		claims: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billkey_jobs_claimed_total", Help: "Work items claimed by this node, by queue.",
		}, []string{"queue"}),
		claimErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billkey_jobs_claim_errors_total", Help: "Failed claim queries, by queue.",
		}, []string{"queue"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "billkey_jobs_run_seconds",
			Help:    "Time spent running one claimed job, by queue.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"queue"}),
	}
	reg.MustRegister(m.claims, m.claimErrors, m.duration)
	return m
}

func (m *Metrics) claimed(queue string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.claims.WithLabelValues(queue).Add(float64(n))
}

func (m *Metrics) claimError(queue string) {
	if m == nil {
		return
	}
	m.claimErrors.WithLabelValues(queue).Inc()
}

func (m *Metrics) ran(queue string, d time.Duration) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(queue).Observe(d.Seconds())
}

// queue exports a queue's series at zero before its first claim, so
// dashboards and alert rules see them from the start.
func (m *Metrics) queue(name string) {
	if m == nil {
		return
	}
	m.claims.WithLabelValues(name)
	m.claimErrors.WithLabelValues(name)
	m.duration.WithLabelValues(name)
}
