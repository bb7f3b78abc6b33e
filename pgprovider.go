package billkey

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

// PGProvider is one PG plug-in: the names a channel may carry for it, its
// server-to-server connector, the PG side of its payment window, and how it
// checks a channel's credentials. billkey dispatches every PG call by the
// channel's provider through a PGRegistry; nothing else in billkey knows
// which PG it talks to.
type PGProvider struct {
	// Name is the provider's canonical name: what channels store and the
	// pg parameter names it by (e.g. "html5_inicis").
	Name string
	// Aliases are other names of the same PG, accepted in channel settings
	// and in the pg parameter (e.g. "inicis").
	Aliases []string
	// PG is the server-to-server connector (billing keys, charges, refunds,
	// inquiries).
	PG PG
	// Window is the PG side of the payment window; nil when the provider
	// has none (IMP.request_pay is then refused for its channels).
	Window WindowPG
	// CheckCredentials validates a channel's credentials when the channel
	// is added (an *Error EINVALID with a message otherwise). Nil accepts
	// any credentials.
	CheckCredentials func(live bool, creds ChannelCredentials) error
}

// Names returns the canonical name and the aliases.
func (p *PGProvider) Names() []string { return append([]string{p.Name}, p.Aliases...) }

// PGEnv is what billkey serve hands every provider's factory.
type PGEnv struct {
	// SimulatorURL is the base URL at which test channels reach billkey's
	// built-in PG simulator (the KG INICIS simulator); providers with their
	// own test endpoints ignore it.
	SimulatorURL string
	// Timeout bounds one PG call.
	Timeout time.Duration
	// HTTPClient, when set, sends the server-to-server calls.
	HTTPClient *http.Client
	// Logger receives the provider's log lines (never secrets).
	Logger *slog.Logger
}

// PGFactory builds a provider for billkey serve. Adding a PG to billkey is
// writing a factory and listing it where the server lists its providers.
type PGFactory func(env PGEnv) (*PGProvider, error)

// PGRegistry maps provider names to providers. A nil *PGRegistry knows no
// provider. It is read-only once built and safe for concurrent use.
type PGRegistry struct {
	providers []*PGProvider
	byName    map[string]*PGProvider
}

// NewPGRegistry returns a registry of the providers. A provider
// without a name or a connector, or a name used twice, is an error.
func NewPGRegistry(providers ...*PGProvider) (*PGRegistry, error) {
	r := &PGRegistry{byName: map[string]*PGProvider{}}
	for _, p := range providers {
		if p == nil || p.Name == "" || p.PG == nil {
			return nil, fmt.Errorf("billkey: PG provider %v needs a name and a connector", providerName(p))
		}
		for _, n := range p.Names() {
			if n == "" || n != strings.TrimSpace(n) || strings.Contains(n, ".") {
				return nil, fmt.Errorf("billkey: PG provider name %q must be non-empty, without spaces or dots", n)
			}
			if _, dup := r.byName[n]; dup {
				return nil, fmt.Errorf("billkey: PG provider name %q registered twice", n)
			}
			r.byName[n] = p
		}
		r.providers = append(r.providers, p)
	}
	return r, nil
}

func providerName(p *PGProvider) string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%q", p.Name)
}

// BuildPGRegistry runs the factories with env and registers what they build.
func BuildPGRegistry(env PGEnv, factories ...PGFactory) (*PGRegistry, error) {
	ps := make([]*PGProvider, 0, len(factories))
	for _, f := range factories {
		p, err := f(env)
		if err != nil {
			return nil, fmt.Errorf("billkey: PG provider: %w", err)
		}
		ps = append(ps, p)
	}
	return NewPGRegistry(ps...)
}

// Lookup returns the provider a channel's provider name (or a pg parameter's
// provider part) names. An unknown name is an *Error EREJECTED saying which
// PGs this server knows.
func (r *PGRegistry) Lookup(name string) (*PGProvider, error) {
	if r != nil {
		if p, ok := r.byName[name]; ok {
			return p, nil
		}
	}
	return nil, Errorf(EREJECTED, "지원하지 않는 PG입니다: %q (이 서버의 PG: %s) (unknown PG provider)", clip(name, 40), strings.Join(r.Names(), ", "))
}

// Known reports whether name names a registered provider.
func (r *PGRegistry) Known(name string) bool {
	_, err := r.Lookup(name)
	return err == nil
}

// Same reports whether two names name the same registered provider (e.g.
// "html5_inicis" and "inicis").
func (r *PGRegistry) Same(a, b string) bool {
	pa, err := r.Lookup(a)
	if err != nil {
		return false
	}
	pb, err := r.Lookup(b)
	return err == nil && pa == pb
}

// Providers returns the providers in registration order.
func (r *PGRegistry) Providers() []*PGProvider {
	if r == nil {
		return nil
	}
	return slices.Clone(r.providers)
}

// Names returns every registered name, canonical names and aliases, in
// registration order.
func (r *PGRegistry) Names() []string {
	var out []string
	for _, p := range r.Providers() {
		out = append(out, p.Names()...)
	}
	return out
}

// clip shortens s to at most n bytes for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
