package api

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Readiness is what /readyz reports: whether this node should receive
// traffic. /healthz stays a liveness check (the process answers, the
// database answers); /readyz also proves the database takes writes, and goes
// false first when the node drains.
type Readiness struct {
	// Node names this node's write-probe row.
	Node string
	// KeysLoaded reports whether the master key is loaded.
	KeysLoaded func() bool
	// JobsRunning reports whether the background workers run.
	JobsRunning func() bool

	draining atomic.Bool
	mu       sync.Mutex // one write probe at a time
}

// Drain makes /readyz answer 503 from now on.
func (r *Readiness) Drain() { r.draining.Store(true) }

// Draining reports whether Drain was called.
func (r *Readiness) Draining() bool { return r.draining.Load() }

type readyCheck struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"`
}

// HandleReadyz answers 200 when the node is ready, 503 otherwise, with one
// line per check. Every call makes a tiny durable write, so a node whose
// database cannot write (full disk, read-only, unreachable) reports not
// ready until a write succeeds again.
func (s *Server) HandleReadyz(w http.ResponseWriter, r *http.Request) {
	rd := s.Ready
	if rd == nil {
		rd = &Readiness{}
	}
	res := readyCheck{Ready: true, Checks: map[string]string{}}
	set := func(name string, err error, bad string) {
		if err != nil || bad != "" {
			res.Ready = false
			if bad == "" {
				bad = err.Error()
			}
			res.Checks[name] = bad
			return
		}
		res.Checks[name] = "ok"
	}
	set("draining", nil, map[bool]string{true: "shutting down", false: ""}[rd.Draining()])
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	rd.mu.Lock()
	werr, merr := s.Service.CheckDatabase(ctx, rd.Node)
	rd.mu.Unlock()
	set("database_write", werr, "")
	set("migrations", merr, "")
	keys := s.Service.Keys != nil && (rd.KeysLoaded == nil || rd.KeysLoaded())
	set("master_key", nil, map[bool]string{true: "", false: "not loaded"}[keys])
	jobs := rd.JobsRunning == nil || rd.JobsRunning()
	set("jobs", nil, map[bool]string{true: "", false: "not running"}[jobs])
	status := http.StatusOK
	if !res.Ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, res)
}
