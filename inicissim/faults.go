package inicissim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultHeader is the per-request fault switch. Its value is a list of
// switches separated by ',', ';', '|' or spaces:
//
//	latency=200ms        wait before handling (Go duration syntax)
//	status=503           reply with this HTTP status and a plain-text body, without handling
//	drop-after-approve   handle the request (approve, refund, issue...), then never reply:
//	                     hold the connection until the client gives up (or HoldMax), then close it
//
// "drop" is accepted for drop-after-approve.
const FaultHeader = "X-Sim-Fault"

// Faults are injected failures. The zero value injects nothing.
type Faults struct {
	// Latency is added before handling a request.
	Latency time.Duration
	// Status, when non-zero, is returned instead of handling the request.
	Status int
	// Drop handles the request, then drops the reply (JSON APIs only:
	// INIAPI, payAuth, netCancel).
	Drop bool
	// Paths limits global faults to requests whose path (after the mount
	// prefix) starts with one of these; empty means every path outside /_sim/.
	Paths []string
	// Count limits global faults to the next Count matching requests; 0
	// means until cleared.
	Count int
}

type faultsJSON struct {
	Latency json.RawMessage `json:"latency,omitempty"`
	Status  int             `json:"status,omitempty"`
	Drop    bool            `json:"drop_after_approve,omitempty"`
	Paths   []string        `json:"paths,omitempty"`
	Count   int             `json:"count,omitempty"`
}

// MarshalJSON writes latency as a Go duration string ("200ms").
func (f Faults) MarshalJSON() ([]byte, error) {
	j := faultsJSON{Status: f.Status, Drop: f.Drop, Paths: f.Paths, Count: f.Count}
	if f.Latency > 0 {
		j.Latency, _ = json.Marshal(f.Latency.String())
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads {"latency": "200ms" | 200 (ms), "status": 503,
// "drop_after_approve": true, "paths": ["/api/v1/billing"], "count": 1}.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var j faultsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	n := Faults{Status: j.Status, Drop: j.Drop, Paths: j.Paths, Count: j.Count}
	if len(j.Latency) > 0 && string(j.Latency) != "null" {
		var s string
		var ms float64
		switch {
		case json.Unmarshal(j.Latency, &s) == nil:
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("latency: %w", err)
			}
			n.Latency = d
		case json.Unmarshal(j.Latency, &ms) == nil:
			n.Latency = time.Duration(ms * float64(time.Millisecond))
		default:
			return errors.New("latency: want a duration string or milliseconds")
		}
	}
	if err := n.validate(); err != nil {
		return err
	}
	*f = n
	return nil
}

func (f Faults) validate() error {
	if f.Latency < 0 || f.Latency > 10*time.Minute {
		return errors.New("latency must be between 0 and 10m")
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		return errors.New("status must be 4xx or 5xx")
	}
	if f.Count < 0 {
		return errors.New("count must not be negative")
	}
	return nil
}

// ParseFaultHeader parses an X-Sim-Fault value.
func ParseFaultHeader(v string) (Faults, error) {
	var f Faults
	for _, tok := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == '|' || r == ' ' || r == '\t' }) {
		name, val, _ := strings.Cut(tok, "=")
		switch strings.ToLower(name) {
		case "latency":
			d, err := time.ParseDuration(val)
			if err != nil {
				return Faults{}, fmt.Errorf("latency: %w", err)
			}
			f.Latency = d
		case "status":
			n, err := strconv.Atoi(val)
			if err != nil {
				return Faults{}, fmt.Errorf("status: %w", err)
			}
			f.Status = n
		case "drop-after-approve", "drop":
			f.Drop = true
		default:
			return Faults{}, fmt.Errorf("unknown switch %q", name)
		}
	}
	return f, f.validate()
}

// SetFaults installs global faults (replacing any).
func (s *Simulator) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("inicissim: %w", err)
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = f
	return nil
}

// ClearFaults removes global faults.
func (s *Simulator) ClearFaults() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = Faults{}
}

// CurrentFaults returns the global faults in force.
func (s *Simulator) CurrentFaults() Faults {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faults
}

// faultsFor merges the request's header faults with the global ones that
// match its path (consuming one of their Count).
func (s *Simulator) faultsFor(r *http.Request) (Faults, error) {
	var f Faults
	if v := r.Header.Get(FaultHeader); v != "" && !s.cfg.PrivateIntrospection {
		var err error
		if f, err = ParseFaultHeader(v); err != nil {
			return Faults{}, err
		}
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	g := s.faults
	if g.Latency == 0 && g.Status == 0 && !g.Drop {
		return f, nil
	}
	if len(g.Paths) > 0 {
		match := false
		for _, p := range g.Paths {
			match = match || strings.HasPrefix(withoutIDC(r.URL.Path), p)
		}
		if !match {
			return f, nil
		}
	}
	if g.Count > 0 {
		s.faults.Count--
		if s.faults.Count == 0 {
			s.faults = Faults{}
		}
	}
	f.Latency += g.Latency
	if f.Status == 0 {
		f.Status = g.Status
	}
	f.Drop = f.Drop || g.Drop
	return f, nil
}

type dropKey struct{}

func dropped(r *http.Request) bool {
	v, _ := r.Context().Value(dropKey{}).(bool)
	return v
}

// hold keeps a reply back until the client gives up, HoldMax passes or the
// simulator closes, then drops the connection without a response.
func (s *Simulator) hold(w http.ResponseWriter, r *http.Request) {
	t := time.NewTimer(s.cfg.HoldMax)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-t.C:
	case <-s.closed:
	}
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

// withoutIDC strips an "/idc/{fc|ks}" prefix, so a fault on "/api/payAuth"
// meets the approval at every data centre.
func withoutIDC(path string) string {
	for _, idc := range stdIDCs {
		if p := idcPath(idc); p != "" && strings.HasPrefix(path, p+"/") {
			return path[len(p):]
		}
	}
	return path
}
