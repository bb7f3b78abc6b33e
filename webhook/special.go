package webhook

import "net/netip"

// specialRange is one entry of IANA's special-purpose address registries.
type specialRange struct {
	Prefix netip.Prefix
	Name   string // the registry's name of the block
	RFC    string // where the registry says it is defined
}

func sp(prefix, name, rfc string) specialRange {
	return specialRange{Prefix: netip.MustParsePrefix(prefix), Name: name, RFC: rfc}
}

// specialRanges is every entry of the IANA IPv4 Special-Purpose Address
// Registry (https://www.iana.org/assignments/iana-ipv4-special-registry/)
// and the IANA IPv6 Special-Purpose Address Registry
// (https://www.iana.org/assignments/iana-ipv6-special-registry/), as
// published in 2025, plus the few non-unicast blocks those registries leave
// to others (IPv4 and IPv6 multicast, the deprecated IPv4-compatible IPv6
// block ::/96 and site-local fec0::/10).
//
// Webhooks refuse every one of them, including the blocks the registry marks
// "globally reachable" (anycast services such as AS112 or TURN, NAT64's
// 64:ff9b::/96, 6to4, Teredo): none is a merchant's web server, and the
// translation prefixes (NAT64, 6to4, Teredo, IPv4-compatible) can carry an
// internal IPv4 address inside an IPv6 one. When IANA adds a block, add it
// here with its RFC; TestGuardRefusesEverySpecialRange checks every entry.
var specialRanges = []specialRange{
	// IPv4 Special-Purpose Address Registry.
	sp("0.0.0.0/8", "This network", "RFC 791"),
	sp("0.0.0.0/32", "This host on this network", "RFC 1122"),
	sp("10.0.0.0/8", "Private-Use", "RFC 1918"),
	sp("100.64.0.0/10", "Shared Address Space", "RFC 6598"),
	sp("127.0.0.0/8", "Loopback", "RFC 1122"),
	sp("169.254.0.0/16", "Link Local", "RFC 3927"),
	sp("172.16.0.0/12", "Private-Use", "RFC 1918"),
	sp("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890"),
	sp("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335"),
	sp("192.0.0.8/32", "IPv4 dummy address", "RFC 7600"),
	sp("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723"),
	sp("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
	sp("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050"),
	sp("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050"),
	sp("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737"),
	sp("192.31.196.0/24", "AS112-v4", "RFC 7535"),
	sp("192.52.193.0/24", "AMT", "RFC 7450"),
	sp("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526"),
	sp("192.168.0.0/16", "Private-Use", "RFC 1918"),
	sp("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534"),
	sp("198.18.0.0/15", "Benchmarking", "RFC 2544"),
	sp("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737"),
	sp("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737"),
	sp("240.0.0.0/4", "Reserved", "RFC 1112"),
	sp("255.255.255.255/32", "Limited Broadcast", "RFC 8190, RFC 919"),
	// Not unicast: the IPv4 multicast registry's block.
	sp("224.0.0.0/4", "Multicast", "RFC 5771"),

	// IPv6 Special-Purpose Address Registry.
	sp("::1/128", "Loopback Address", "RFC 4291"),
	sp("::/128", "Unspecified Address", "RFC 4291"),
	sp("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291"),
	sp("64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052"),
	sp("64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215"),
	sp("100::/64", "Discard-Only Address Block", "RFC 6666"),
	sp("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780"),
	sp("2001::/23", "IETF Protocol Assignments", "RFC 2928"),
	sp("2001::/32", "TEREDO", "RFC 4380, RFC 8190"),
	sp("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723"),
	sp("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
	sp("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665"),
	sp("2001:2::/48", "Benchmarking", "RFC 5180, RFC Errata 1752"),
	sp("2001:3::/32", "AMT", "RFC 7450"),
	sp("2001:4:112::/48", "AS112-v6", "RFC 7535"),
	sp("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843"),
	sp("2001:20::/28", "ORCHIDv2", "RFC 7343"),
	sp("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374"),
	sp("2001:db8::/32", "Documentation", "RFC 3849"),
	sp("2002::/16", "6to4", "RFC 3056"),
	sp("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534"),
	sp("3fff::/20", "Documentation", "RFC 9637"),
	sp("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602"),
	sp("fc00::/7", "Unique-Local", "RFC 4193, RFC 8190"),
	sp("fe80::/10", "Link-Local Unicast", "RFC 4291"),
	// Outside the registry but never a web server: the deprecated
	// IPv4-compatible block, site-local and multicast.
	sp("::/96", "IPv4-compatible Address (deprecated)", "RFC 4291"),
	sp("fec0::/10", "Site-Local (deprecated)", "RFC 3879"),
	sp("ff00::/8", "Multicast", "RFC 4291"),
}

// special returns the most specific registry entry holding ip.
func special(ip netip.Addr) (specialRange, bool) {
	var best specialRange
	found := false
	for _, r := range specialRanges {
		if r.Prefix.Contains(ip) && (!found || r.Prefix.Bits() > best.Prefix.Bits()) {
			best, found = r, true
		}
	}
	return best, found
}
