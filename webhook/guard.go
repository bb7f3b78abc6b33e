package webhook

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// Guard decides which IP addresses outbound webhook connections may reach.
// By default it refuses loopback, private (RFC 1918, RFC 4193), link-local,
// multicast and unspecified addresses, and every other block of IANA's IPv4
// and IPv6 special-purpose address registries (see specialRanges: shared
// address space, benchmarking, documentation, reserved, NAT64, 6to4, Teredo,
// IPv4-compatible, ...). The zero Guard is the strict live-mode guard.
type Guard struct {
	// AllowLoopback lets webhooks reach 127.0.0.0/8 and ::1 (test mode, so a
	// developer's local receiver works).
	AllowLoopback bool
	// Allow lists ranges reachable even though they would be refused
	// (e.g. an internal receiver on 10.0.0.0/8), from configuration.
	Allow []netip.Prefix
}

// BlockedError is returned when a webhook would connect to a refused address.
type BlockedError struct {
	Addr   netip.Addr
	Reason string
}

// Error implements the error interface.
func (e *BlockedError) Error() string {
	return fmt.Sprintf("webhook: refusing to connect to %s (%s address; allow it with --webhook-allow-cidr)", e.Addr, e.Reason)
}

// Check returns a *BlockedError when ip may not be reached.
func (g *Guard) Check(ip netip.Addr) error {
	ip = ip.Unmap().WithZone("")
	for _, p := range g.Allow {
		if p.Contains(ip) {
			return nil
		}
	}
	reason := ""
	switch {
	case !ip.IsValid():
		reason = "invalid"
	case ip.IsLoopback():
		if g.AllowLoopback {
			return nil
		}
		reason = "loopback"
	case ip.IsUnspecified():
		reason = "unspecified"
	case ip.IsPrivate():
		reason = "private"
	case ip.IsLinkLocalUnicast():
		reason = "link-local"
	case ip.IsMulticast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		reason = "multicast"
	}
	if reason == "" {
		if r, ok := special(ip); ok {
			reason = r.Name + ", " + r.RFC
		}
	}
	if reason == "" {
		return nil
	}
	return &BlockedError{Addr: ip, Reason: reason}
}

// Control is a net.Dialer.Control function: it checks the address about to
// be dialed, after DNS resolution, so a hostname that resolves (or
// re-resolves) to a refused address is caught.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	if !strings.HasPrefix(network, "tcp") {
		return fmt.Errorf("webhook: refusing network %q", network)
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("webhook: dial address %q: %w", address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("webhook: dial address %q is not an IP: %w", address, err)
	}
	return g.Check(ip)
}

// ParsePrefixes parses a comma-separated list of CIDR ranges or single
// addresses (configuration of Guard.Allow).
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("webhook: %q is not an address or CIDR range: %w", f, err)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("webhook: %q is not a CIDR range: %w", f, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
