package webhook

import (
	"errors"
	"net/netip"
	"testing"
)

// lastAddr returns the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// TestGuardRefusesEverySpecialRange checks every entry of the IANA table:
// its first, last and a middle address are refused by the strict guard,
// and the refusal names the block.
func TestGuardRefusesEverySpecialRange(t *testing.T) {
	g := &Guard{}
	for _, r := range specialRanges {
		if r.Prefix != r.Prefix.Masked() {
			t.Errorf("%s is not a masked prefix", r.Prefix)
		}
		first := r.Prefix.Addr()
		last := lastAddr(r.Prefix)
		for _, ip := range []netip.Addr{first, last, first.Next()} {
			if !r.Prefix.Contains(ip) {
				continue
			}
			err := g.Check(ip)
			var be *BlockedError
			if !errors.As(err, &be) {
				t.Errorf("%s (%s, %s): %s reachable: %v", r.Prefix, r.Name, r.RFC, ip, err)
			}
		}
	}
	// The blocks the issue named, spelled out, and their neighbours.
	for ip, blocked := range map[string]bool{
		"192.0.0.1": true, "192.0.0.255": true, "192.0.1.1": false,
		"198.18.0.1": true, "198.19.255.255": true, "198.20.0.1": false, "198.17.255.255": false,
		"240.0.0.1": true, "254.255.255.255": true,
		"64:ff9b::7f00:1": true, "64:ff9b::808:808": true, "64:ff9b:1::1": true,
		"2002:7f00:1::": true, "2002:0808:0808::1": true,
		"::7f00:1": true, "::a00:1": true, "::808:808": true,
		"2001::1": true, "2001:db8::1": true, "3fff::1": true, "5f00::1": true, "100::1": true,
		"fec0::1": true, "ff05::2": true,
		"8.8.8.8": false, "1.1.1.1": false, "2001:4860:4860::8888": false, "2606:4700::1111": false,
	} {
		err := g.Check(netip.MustParseAddr(ip))
		if (err != nil) != blocked {
			t.Errorf("%s: %v, want blocked=%v", ip, err, blocked)
		}
	}
	// The reason names the registry entry; the most specific one wins.
	var be *BlockedError
	if err := g.Check(netip.MustParseAddr("192.0.0.9")); !errors.As(err, &be) || be.Reason != "Port Control Protocol Anycast, RFC 7723" {
		t.Errorf("192.0.0.9: %v", err)
	}
	// An explicit allow still wins (an operator's internal receiver).
	a := &Guard{Allow: []netip.Prefix{netip.MustParsePrefix("198.18.0.0/15")}}
	if err := a.Check(netip.MustParseAddr("198.18.1.1")); err != nil {
		t.Errorf("allowed range refused: %v", err)
	}
}
