package api

import (
	"sync"
	"time"
)

// Failed getToken throttling. A client address or an imp_key with too many
// failed attempts in a window is answered 429 without checking credentials
// (checking them would tell a guesser when it is right), until the window
// that saw the failures ends. The counters live in each node's memory: with
// N nodes behind a balancer a guesser gets at most N times the budget.
const (
	// tokenFailWindow is the window failures are counted in.
	tokenFailWindow = 10 * time.Minute
	// maxFailsPerKey is the failed attempts allowed per imp_key per window
	// (a guesser spread over many addresses).
	maxFailsPerKey = 10
	// maxFailsPerAddr is the failed attempts allowed per client address per
	// window (one guesser trying many keys).
	maxFailsPerAddr = 30
	// trustedPairTTL is how long a (imp_key, address) pair that succeeded
	// stays exempt from the per-key limit: a merchant's own servers keep
	// getting tokens while someone else guesses its key.
	trustedPairTTL = 24 * time.Hour
	// maxThrottleEntries bounds each map; past it, expired entries are
	// dropped, and if none are, the oldest windows are forgotten wholesale.
	maxThrottleEntries = 100000
)

type failCount struct {
	start time.Time
	n     int
}

// tokenThrottle counts failed getToken attempts.
type tokenThrottle struct {
	mu      sync.Mutex
	byKey   map[string]failCount
	byAddr  map[string]failCount
	trusted map[string]time.Time // key + "\x00" + addr -> last success
}

func newTokenThrottle() *tokenThrottle {
	return &tokenThrottle{byKey: map[string]failCount{}, byAddr: map[string]failCount{}, trusted: map[string]time.Time{}}
}

// blocked reports whether an attempt for key from addr must be refused, and
// when it may be retried.
func (t *tokenThrottle) blocked(key, addr string, now time.Time) (bool, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.byAddr[addr]; ok && now.Sub(c.start) < tokenFailWindow && c.n >= maxFailsPerAddr {
		return true, c.start.Add(tokenFailWindow)
	}
	if last, ok := t.trusted[key+"\x00"+addr]; ok && now.Sub(last) < trustedPairTTL {
		return false, time.Time{}
	}
	if c, ok := t.byKey[key]; ok && now.Sub(c.start) < tokenFailWindow && c.n >= maxFailsPerKey {
		return true, c.start.Add(tokenFailWindow)
	}
	return false, time.Time{}
}

// failed records a failed attempt.
func (t *tokenThrottle) failed(key, addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	bump(t.byKey, key, now)
	bump(t.byAddr, addr, now)
}

// succeeded records a successful attempt: the pair is trusted.
func (t *tokenThrottle) succeeded(key, addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.trusted) >= maxThrottleEntries {
		for k, last := range t.trusted {
			if now.Sub(last) >= trustedPairTTL {
				delete(t.trusted, k)
			}
		}
		if len(t.trusted) >= maxThrottleEntries {
			clear(t.trusted)
		}
	}
	t.trusted[key+"\x00"+addr] = now
}

func bump(m map[string]failCount, k string, now time.Time) {
	c, ok := m[k]
	if !ok || now.Sub(c.start) >= tokenFailWindow {
		if len(m) >= maxThrottleEntries {
			for k2, c2 := range m {
				if now.Sub(c2.start) >= tokenFailWindow {
					delete(m, k2)
				}
			}
			if len(m) >= maxThrottleEntries {
				clear(m)
			}
		}
		c = failCount{start: now}
	}
	c.n++
	m[k] = c
}
