package webhook

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// RetryPolicy says when a failed delivery is attempted again.
type RetryPolicy struct {
	// Delays[i] is the wait after the (i+1)-th failed attempt; the last
	// delay repeats.
	Delays []time.Duration
	// GiveUpAfter is how long after the event a delivery keeps being
	// retried. The last attempt happens at that moment at the latest.
	GiveUpAfter time.Duration
}

// DefaultRetryPolicy retries with exponential-ish backoff for 3 days: after
// 10 s, 1 min, 5 min, 30 min, 1 h, 2 h, 4 h, 8 h, 12 h, 24 h, then every 24 h,
// with a final attempt exactly 3 days after the event — 12 attempts in all
// (13 when jitter shortens the waits) for a receiver that never answers
// 2xx. Waits of a minute or more get ±10 % jitter so a receiver that comes
// back is not hit by every node at once.
var DefaultRetryPolicy = RetryPolicy{
	Delays: []time.Duration{
		10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute, time.Hour,
		2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	},
	GiveUpAfter: 72 * time.Hour,
}

// Next returns when to make the next attempt after the failed attempt
// number failed (1-based) that ended at last, for a delivery that gives up
// at giveUp; ok is false when there is none.
func (p RetryPolicy) Next(failed int, last, giveUp time.Time) (next time.Time, ok bool) {
	if !last.Before(giveUp) {
		return time.Time{}, false
	}
	d := p.delay(failed)
	if d >= time.Minute {
		d += time.Duration((rand.Float64()*0.2 - 0.1) * float64(d))
	}
	next = last.Add(d)
	if next.After(giveUp) {
		next = giveUp // one final attempt at the deadline
	}
	return next, true
}

func (p RetryPolicy) delay(failed int) time.Duration {
	ds := p.Delays
	if len(ds) == 0 {
		ds = DefaultRetryPolicy.Delays
	}
	i := min(max(failed-1, 0), len(ds)-1)
	return ds[i]
}

// ParseDelays parses a comma-separated list of durations ("10s,1m,5m").
func ParseDelays(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := time.ParseDuration(f)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("webhook: bad retry delay %q", f)
		}
		out = append(out, d)
	}
	return out, nil
}
