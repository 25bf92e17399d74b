// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_filters.c - the filter classes on real flows: every row's spec is
 * instantiated on the test's private `lo`, the row's frame is run through
 * the root program, and the flow must have accepted it exactly once or
 * not at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

/* --- a compact packet description for the tables --------------------- */

enum mal {
	M_NONE,
	M_L4_CUT,	/* frame ends 4 bytes into the transport header */
	M_L4_CUT2,	/* ... 2 bytes into it */
	M_TCP_CUT12,	/* TCP header cut at 12 bytes: ports present, flags not */
	M_DOFF4,	/* TCP data offset 4 */
	M_FRAG_FIRST,	/* first fragment (offset 0, more fragments) */
	M_FRAG_LATER,	/* non-first fragment; payload still looks like L4 */
	M_IHL4,		/* IPv4 IHL 4 */
};

struct pd {
	uint8_t ver;		/* 0 or 4: IPv4, 6: IPv6, 'A': ARP */
	const char *src, *dst;	/* NULL: 10.0.0.1/10.0.0.2 or 2001:db8::1/::2 */
	uint8_t proto;
	uint16_t sport, dport;	/* ICMP: dport is the echo id */
	uint8_t flags;		/* TCP flags */
	uint8_t icmp_type;
	int ntags;
	uint16_t tag[2];	/* outer, inner */
	enum mal mal;
};

static void build(struct pkt *p, const struct pd *d)
{
	bool is6 = d->ver == 6;
	size_t l4;

	pkt_init(p);
	if (d->ntags == 0) {
		pkt_eth(p, d->ver == 'A' ? PKT_ETH_ARP : is6 ? PKT_ETH_IPV6 : PKT_ETH_IP);
	} else {
		pkt_eth(p, d->ntags == 2 ? PKT_ETH_8021AD : PKT_ETH_8021Q);
		if (d->ntags == 2)
			pkt_vlan(p, d->tag[0], PKT_ETH_8021Q);
		pkt_vlan(p, d->tag[d->ntags - 1],
			 d->ver == 'A' ? PKT_ETH_ARP : is6 ? PKT_ETH_IPV6 : PKT_ETH_IP);
	}
	if (d->ver == 'A') {
		pkt_arp(p);
		return;
	}
	if (is6) {
		bool frag = d->mal == M_FRAG_FIRST || d->mal == M_FRAG_LATER;

		pkt_ipv6(p, &(struct ip6){ .src = d->src, .dst = d->dst,
					    .next = frag ? PKT_P_FRAGMENT : d->proto });
		if (frag)
			pkt_ip6_frag(p, d->proto, d->mal == M_FRAG_LATER ? 64 : 0, true);
	} else {
		pkt_ipv4(p, &(struct ip4){
			.src = d->src, .dst = d->dst, .proto = d->proto,
			.mf = d->mal == M_FRAG_FIRST || d->mal == M_FRAG_LATER,
			.frag_off = d->mal == M_FRAG_LATER ? 64 : 0,
			.ihl = d->mal == M_IHL4 ? 4 : 0 });
	}
	l4 = p->len;
	switch (d->proto) {
	case PKT_P_TCP:
		pkt_tcp(p, d->sport, d->dport, d->flags, d->mal == M_DOFF4 ? 4 : 0);
		break;
	case PKT_P_UDP:
		pkt_udp(p, d->sport, d->dport);
		break;
	case PKT_P_SCTP:
		pkt_sctp(p, d->sport, d->dport);
		break;
	case PKT_P_ICMP:
	case PKT_P_ICMPV6:
		pkt_icmp(p, d->icmp_type, 0, d->dport);
		break;
	default:
		pkt_payload(p, 8, 0);
		break;
	}
	pkt_payload(p, 16, 0x5a);
	if (d->mal == M_L4_CUT)
		pkt_cut(p, l4 + 4);
	else if (d->mal == M_L4_CUT2)
		pkt_cut(p, l4 + 2);
	else if (d->mal == M_TCP_CUT12)
		pkt_cut(p, l4 + 12);
}

/* Shorthands for the table. */
#define TCP4(sp, dp, fl)	{ .proto = PKT_P_TCP, .sport = sp, .dport = dp, .flags = fl }
#define UDP4(sp, dp)		{ .proto = PKT_P_UDP, .sport = sp, .dport = dp }
#define TCP6(sp, dp, fl)	{ .ver = 6, .proto = PKT_P_TCP, .sport = sp, .dport = dp, .flags = fl }
#define UDP6(sp, dp)		{ .ver = 6, .proto = PKT_P_UDP, .sport = sp, .dport = dp }
#define SCTP4(sp, dp)		{ .proto = PKT_P_SCTP, .sport = sp, .dport = dp }
#define ICMP4(t)		{ .proto = PKT_P_ICMP, .icmp_type = t, .dport = 1 }
#define ICMP6(t)		{ .ver = 6, .proto = PKT_P_ICMPV6, .icmp_type = t, .dport = 1 }
#define ARP			{ .ver = 'A' }
#define SRC4(s)			{ .proto = PKT_P_UDP, .sport = 1, .dport = 2, .src = s }
#define DST4(d)			{ .proto = PKT_P_UDP, .sport = 1, .dport = 2, .dst = d }
#define SRC6(s)			{ .ver = 6, .proto = PKT_P_UDP, .sport = 1, .dport = 2, .src = s }
#define DST6(d)			{ .ver = 6, .proto = PKT_P_UDP, .sport = 1, .dport = 2, .dst = d }

#define S TH_SYN
#define A TH_ACK
#define R TH_RST
#define F TH_FIN

struct frow {
	const char *spec;
	const char *desc;
	struct pd pkt;
	bool accept;
};

static const struct frow rows[] = {
	/* protocols */
	{ "match(tcp)", "IPv4 TCP", TCP4(1, 2, S), true },
	{ "match(tcp)", "IPv6 TCP", TCP6(1, 2, A), true },
	{ "match(tcp)", "IPv4 UDP", UDP4(1, 2), false },
	{ "match(tcp)", "IPv4 ICMP", ICMP4(8), false },
	{ "match(tcp)", "ARP", ARP, false },
	{ "match(tcp)", "non-first IPv4 fragment of TCP (protocol needs no L4)",
	  { .proto = PKT_P_TCP, .sport = 1, .dport = 2, .mal = M_FRAG_LATER }, true },
	{ "match(udp)", "IPv4 UDP", UDP4(1, 2), true },
	{ "match(udp)", "IPv6 UDP", UDP6(1, 2), true },
	{ "match(udp)", "IPv4 TCP", TCP4(1, 2, S), false },
	{ "match(udp)", "IPv4 SCTP", SCTP4(1, 2), false },
	{ "match(icmp)", "ICMP echo request", ICMP4(8), true },
	{ "match(icmp)", "ICMPv6 echo request", ICMP6(128), false },
	{ "match(icmp)", "IPv4 UDP", UDP4(1, 2), false },
	{ "match(icmp6)", "ICMPv6 echo request", ICMP6(128), true },
	{ "match(icmp6)", "ICMP echo request", ICMP4(8), false },
	{ "match(sctp)", "IPv4 SCTP", SCTP4(3868, 3868), true },
	{ "match(sctp)", "IPv6 SCTP", { .ver = 6, .proto = PKT_P_SCTP, .sport = 1, .dport = 2 }, true },
	{ "match(sctp)", "IPv4 UDP", UDP4(3868, 3868), false },
	{ "match(proto 47)", "IPv4 GRE", { .proto = 47 }, true },
	{ "match(proto 47)", "IPv4 TCP", TCP4(1, 2, S), false },
	{ "match(ip)", "IPv4 UDP", UDP4(1, 2), true },
	{ "match(ip)", "IPv6 UDP", UDP6(1, 2), false },
	{ "match(ip)", "ARP", ARP, false },
	{ "match(ip)", "IPv4 with IHL 4 (malformed)", { .proto = PKT_P_UDP, .mal = M_IHL4 }, false },
	{ "match(ip6)", "IPv6 UDP", UDP6(1, 2), true },
	{ "match(ip6)", "IPv4 UDP", UDP4(1, 2), false },
	{ "match(ip6)", "ARP", ARP, false },

	/* hosts */
	{ "match(src host 10.1.2.3)", "source 10.1.2.3", SRC4("10.1.2.3"), true },
	{ "match(src host 10.1.2.3)", "destination 10.1.2.3", DST4("10.1.2.3"), false },
	{ "match(src host 10.1.2.3)", "source 10.1.2.4", SRC4("10.1.2.4"), false },
	{ "match(dst host 10.1.2.3)", "destination 10.1.2.3", DST4("10.1.2.3"), true },
	{ "match(dst host 10.1.2.3)", "source 10.1.2.3", SRC4("10.1.2.3"), false },
	{ "match(host 10.1.2.3)", "source 10.1.2.3", SRC4("10.1.2.3"), true },
	{ "match(host 10.1.2.3)", "destination 10.1.2.3", DST4("10.1.2.3"), true },
	{ "match(host 10.1.2.3)", "neither", SRC4("10.1.2.2"), false },
	{ "match(host 2001:db8::5)", "IPv6 source ::5", SRC6("2001:db8::5"), true },
	{ "match(host 2001:db8::5)", "IPv6 destination ::5", DST6("2001:db8::5"), true },
	{ "match(host 2001:db8::5)", "IPv6 neither", SRC6("2001:db8::6"), false },
	{ "match(host 2001:db8::5)", "IPv4", UDP4(1, 2), false },

	/* IPv4 prefixes */
	{ "match(net 0.0.0.0/0)", "IPv4 255.255.255.255", SRC4("255.255.255.255"), true },
	{ "match(net 0.0.0.0/0)", "IPv4 0.0.0.0", SRC4("0.0.0.0"), true },
	{ "match(net 0.0.0.0/0)", "IPv6", UDP6(1, 2), false },
	{ "match(net 0.0.0.0/0)", "ARP", ARP, false },
	{ "match(net 10.0.0.0/8)", "source 10.255.255.255",
	  { .proto = PKT_P_UDP, .src = "10.255.255.255", .dst = "192.0.2.1" }, true },
	{ "match(net 10.0.0.0/8)", "destination 10.0.0.0",
	  { .proto = PKT_P_UDP, .src = "192.0.2.1", .dst = "10.0.0.0" }, true },
	{ "match(net 10.0.0.0/8)", "11.0.0.0 and 9.255.255.255",
	  { .proto = PKT_P_UDP, .src = "11.0.0.0", .dst = "9.255.255.255" }, false },
	{ "match(net 10.0.0.0/8)", "IPv6 from the v4-mapped ::ffff:10.0.0.1",
	  SRC6("::ffff:10.0.0.1"), false },
	{ "match(src net 192.168.1.0/24)", "source 192.168.1.0", SRC4("192.168.1.0"), true },
	{ "match(src net 192.168.1.0/24)", "source 192.168.1.255", SRC4("192.168.1.255"), true },
	{ "match(src net 192.168.1.0/24)", "source 192.168.2.0", SRC4("192.168.2.0"), false },
	{ "match(src net 192.168.1.0/24)", "source 192.168.0.255", SRC4("192.168.0.255"), false },
	{ "match(src net 192.168.1.0/24)", "destination 192.168.1.5", DST4("192.168.1.5"), false },
	{ "match(src net 10.20.128.0/17)", "source 10.20.128.0", SRC4("10.20.128.0"), true },
	{ "match(src net 10.20.128.0/17)", "source 10.20.255.255", SRC4("10.20.255.255"), true },
	{ "match(src net 10.20.128.0/17)", "source 10.20.127.255", SRC4("10.20.127.255"), false },
	{ "match(src net 10.20.128.0/17)", "source 10.21.128.0", SRC4("10.21.128.0"), false },
	{ "match(dst net 172.16.5.4/32)", "destination 172.16.5.4", DST4("172.16.5.4"), true },
	{ "match(dst net 172.16.5.4/32)", "destination 172.16.5.5", DST4("172.16.5.5"), false },
	{ "match(dst net 172.16.5.4/32)", "destination 172.16.5.3", DST4("172.16.5.3"), false },

	/* IPv6 prefixes */
	{ "match(net ::/0)", "IPv6", UDP6(1, 2), true },
	/* the literal's family sets the IP version: ::/0 is every IPv6 packet only */
	{ "match(net ::/0)", "IPv4 (stored v4-mapped, still not IPv6)", UDP4(1, 2), false },
	{ "match(net ::/0)", "ARP", ARP, false },
	{ "match(src net 2001:db8:0:1::/64)", "source 2001:db8:0:1::",
	  SRC6("2001:db8:0:1::"), true },
	{ "match(src net 2001:db8:0:1::/64)", "source 2001:db8:0:1:ffff:ffff:ffff:ffff",
	  SRC6("2001:db8:0:1:ffff:ffff:ffff:ffff"), true },
	{ "match(src net 2001:db8:0:1::/64)", "source 2001:db8:0:2::",
	  SRC6("2001:db8:0:2::"), false },
	{ "match(src net 2001:db8:0:1::/64)", "source 2001:db8:0:0:ffff::",
	  SRC6("2001:db8:0:0:ffff::"), false },
	{ "match(src net 2001:db8:0:1::/64)", "IPv4", UDP4(1, 2), false },
	{ "match(src net 2001:db8:ab80::/41)", "source 2001:db8:ab80::",
	  SRC6("2001:db8:ab80::"), true },
	{ "match(src net 2001:db8:ab80::/41)", "source 2001:db8:abff:ffff::",
	  SRC6("2001:db8:abff:ffff::"), true },
	{ "match(src net 2001:db8:ab80::/41)", "source 2001:db8:ab7f:ffff::",
	  SRC6("2001:db8:ab7f:ffff::"), false },
	{ "match(src net 2001:db8:ab80::/41)", "source 2001:db8:ac00::",
	  SRC6("2001:db8:ac00::"), false },
	{ "match(dst net 2001:db8::2/128)", "destination 2001:db8::2", DST6("2001:db8::2"), true },
	{ "match(dst net 2001:db8::2/128)", "destination 2001:db8::3", DST6("2001:db8::3"), false },
	{ "match(dst net 2001:db8::2/128)", "destination 2001:db9::2", DST6("2001:db9::2"), false },

	/* ports */
	{ "match(port 53)", "source port 53", UDP4(53, 40000), true },
	{ "match(port 53)", "destination port 53", UDP4(40000, 53), true },
	{ "match(port 53)", "IPv6 destination port 53", UDP6(40000, 53), true },
	{ "match(port 53)", "TCP destination port 53", TCP4(40000, 53, S), true },
	{ "match(port 53)", "neither port 53", UDP4(52, 54), false },
	{ "match(port 53)", "ICMP with echo id 53", { .proto = PKT_P_ICMP, .icmp_type = 8, .dport = 53 }, false },
	{ "match(src port 1024)", "source port 1024", UDP4(1024, 80), true },
	{ "match(src port 1024)", "destination port 1024", UDP4(80, 1024), false },
	{ "match(dst port 53)", "destination port 53", UDP4(1, 53), true },
	{ "match(dst port 53)", "source port 53", UDP4(53, 1), false },
	{ "match(dst port 1000-2000)", "dport 1000 (lo)", UDP4(1, 1000), true },
	{ "match(dst port 1000-2000)", "dport 2000 (hi)", UDP4(1, 2000), true },
	{ "match(dst port 1000-2000)", "dport 999 (lo-1)", UDP4(1, 999), false },
	{ "match(dst port 1000-2000)", "dport 2001 (hi+1)", UDP4(1, 2001), false },
	{ "match(dst port 1000-2000)", "dport 1500", UDP4(1, 1500), true },
	{ "match(dst port 1000-2000)", "sport 1500, dport 80", UDP4(1500, 80), false },
	{ "match(src portrange 0-1023)", "sport 0 (lo)", UDP4(0, 5000), true },
	{ "match(src portrange 0-1023)", "sport 1023 (hi)", UDP4(1023, 5000), true },
	{ "match(src portrange 0-1023)", "sport 1024 (hi+1)", UDP4(1024, 5000), false },
	{ "match(dst port 65535)", "dport 65535", UDP4(1, 65535), true },
	{ "match(dst port 65535)", "dport 65534", UDP4(1, 65534), false },
	{ "match(dst port 65535)", "SCTP dport 65535", SCTP4(1, 65535), true },
	{ "match(portrange 1000-2000)", "sport 2000 (hi), dport 80", UDP4(2000, 80), true },
	{ "match(portrange 1000-2000)", "sport 80, dport 1000 (lo)", TCP4(80, 1000, S), true },
	{ "match(portrange 1000-2000)", "sport 999, dport 2001", UDP4(999, 2001), false },

	/* TCP flags */
	{ "match(tcp, flags S/SA)", "SYN", TCP4(1, 2, S), true },
	{ "match(tcp, flags S/SA)", "SYN-ACK", TCP4(1, 2, S | A), false },
	{ "match(tcp, flags S/SA)", "ACK", TCP4(1, 2, A), false },
	{ "match(tcp, flags S/SA)", "SYN|ECE|CWR (outside the mask)",
	  TCP4(1, 2, S | TH_ECE | TH_CWR), true },
	{ "match(tcp, flags S/SA)", "IPv6 SYN", TCP6(1, 2, S), true },
	{ "match(tcp, flags S/SA)", "UDP", UDP4(1, 2), false },
	{ "match(flags S)", "SYN", TCP4(1, 2, S), true },
	{ "match(flags S)", "SYN-ACK", TCP4(1, 2, S | A), true },
	{ "match(flags S)", "ACK", TCP4(1, 2, A), false },
	{ "match(flags R)", "RST", TCP4(1, 2, R), true },
	{ "match(flags R)", "RST|ACK", TCP4(1, 2, R | A), true },
	{ "match(flags R)", "ACK", TCP4(1, 2, A), false },
	{ "match(flags R)", "FIN", TCP4(1, 2, F), false },
	{ "match(flags R)", "UDP", UDP4(1, 2), false },
	{ "match(tcp flags SA)", "SYN-ACK", TCP4(1, 2, S | A), true },
	{ "match(tcp flags SA)", "SYN", TCP4(1, 2, S), false },
	{ "match(tcp flags SA)", "ACK", TCP4(1, 2, A), false },
	{ "match(flags F/FSRPAUEC)", "FIN alone", TCP4(1, 2, F), true },
	{ "match(flags F/FSRPAUEC)", "FIN|ACK", TCP4(1, 2, F | A), false },

	/* VLAN */
	{ "match(vlan)", "802.1Q 5", { .proto = PKT_P_UDP, .ntags = 1, .tag = { 5 } }, true },
	{ "match(vlan)", "QinQ 5/6", { .proto = PKT_P_UDP, .ntags = 2, .tag = { 5, 6 } }, true },
	{ "match(vlan)", "untagged", UDP4(1, 2), false },
	{ "match(vlan 100)", "802.1Q 100", { .proto = PKT_P_UDP, .ntags = 1, .tag = { 100 } }, true },
	{ "match(vlan 100)", "QinQ outer 100, inner 200",
	  { .proto = PKT_P_UDP, .ntags = 2, .tag = { 100, 200 } }, true },
	{ "match(vlan 100)", "QinQ outer 200, inner 100",
	  { .proto = PKT_P_UDP, .ntags = 2, .tag = { 200, 100 } }, true },
	{ "match(vlan 100)", "QinQ 200/300", { .proto = PKT_P_UDP, .ntags = 2, .tag = { 200, 300 } }, false },
	{ "match(vlan 100)", "802.1Q 101", { .proto = PKT_P_UDP, .ntags = 1, .tag = { 101 } }, false },
	{ "match(vlan 100)", "untagged", UDP4(1, 2), false },
	{ "match(vlan 100)", "802.1Q 100 around ARP", { .ver = 'A', .ntags = 1, .tag = { 100 } }, true },
	{ "match(vlan 0)", "priority tag (id 0)", { .proto = PKT_P_UDP, .ntags = 1, .tag = { 0 } }, true },
	{ "match(vlan 0)", "untagged", UDP4(1, 2), false },

	/* ICMP types */
	{ "match(icmp-type 8)", "ICMP echo request", ICMP4(8), true },
	{ "match(icmp-type 8)", "ICMP echo reply", ICMP4(0), false },
	{ "match(icmp-type 8)", "UDP", UDP4(8, 8), false },
	{ "match(icmp-type 8)", "echo request of 4 bytes (type and code are there)",
	  { .proto = PKT_P_ICMP, .icmp_type = 8, .mal = M_L4_CUT }, true },
	{ "match(icmp-type 8)", "echo request cut after 2 bytes",
	  { .proto = PKT_P_ICMP, .icmp_type = 8, .mal = M_L4_CUT2 }, false },
	{ "match(icmp, icmp-type echo-reply)", "ICMP echo reply", ICMP4(0), true },
	{ "match(icmp, icmp-type echo-reply)", "ICMP echo request", ICMP4(8), false },
	{ "match(icmp6, icmp-type 128)", "ICMPv6 echo request", ICMP6(128), true },
	{ "match(icmp6, icmp-type 128)", "ICMPv6 echo reply", ICMP6(129), false },
	{ "match(icmp6, icmp-type 128)", "ICMP type 128", ICMP4(128), false },

	/* combinations */
	{ "match(ip6, udp, dst port 53)", "IPv6 UDP to 53", UDP6(1, 53), true },
	{ "match(ip6, udp, dst port 53)", "IPv4 UDP to 53", UDP4(1, 53), false },
	{ "match(ip6, udp, dst port 53)", "IPv6 TCP to 53", TCP6(1, 53, S), false },
	{ "match(ip6, udp, dst port 53)", "IPv6 UDP to 54", UDP6(1, 54), false },
	{ "match(tcp, src net 10.0.0.0/8, dst port 22, flags S/SA)", "all terms hold",
	  { .proto = PKT_P_TCP, .src = "10.9.9.9", .sport = 4000, .dport = 22, .flags = S }, true },
	{ "match(tcp, src net 10.0.0.0/8, dst port 22, flags S/SA)", "VLAN-tagged, all hold",
	  { .proto = PKT_P_TCP, .src = "10.9.9.9", .sport = 4000, .dport = 22, .flags = S,
	    .ntags = 2, .tag = { 1, 2 } }, true },
	{ "match(tcp, src net 10.0.0.0/8, dst port 22, flags S/SA)", "source outside",
	  { .proto = PKT_P_TCP, .src = "11.9.9.9", .sport = 4000, .dport = 22, .flags = S }, false },
	{ "match(tcp, src net 10.0.0.0/8, dst port 22, flags S/SA)", "dport 23",
	  { .proto = PKT_P_TCP, .src = "10.9.9.9", .sport = 4000, .dport = 23, .flags = S }, false },
	{ "match(tcp, src net 10.0.0.0/8, dst port 22, flags S/SA)", "SYN-ACK",
	  { .proto = PKT_P_TCP, .src = "10.9.9.9", .sport = 4000, .dport = 22, .flags = S | A }, false },
	{ "match(tcp, src net 10.0.0.0/8, dst port 22, flags S/SA)", "UDP",
	  { .proto = PKT_P_UDP, .src = "10.9.9.9", .sport = 4000, .dport = 22 }, false },
	{ "match(vlan 100, udp, port 53)", "QinQ 100/200 UDP 53",
	  { .proto = PKT_P_UDP, .sport = 53, .dport = 9, .ntags = 2, .tag = { 100, 200 } }, true },
	{ "match(vlan 100, udp, port 53)", "untagged UDP 53", UDP4(53, 9), false },

	/* malformed packets never satisfy a port term */
	{ "match(udp, dst port 53)", "plain UDP to 53", UDP4(1, 53), true },
	{ "match(udp, dst port 53)", "first IPv4 fragment to 53",
	  { .proto = PKT_P_UDP, .sport = 1, .dport = 53, .mal = M_FRAG_FIRST }, true },
	{ "match(udp, dst port 53)", "first IPv6 fragment to 53",
	  { .ver = 6, .proto = PKT_P_UDP, .sport = 1, .dport = 53, .mal = M_FRAG_FIRST }, true },
	{ "match(udp, dst port 53)", "non-first IPv4 fragment, payload looks like UDP to 53",
	  { .proto = PKT_P_UDP, .sport = 1, .dport = 53, .mal = M_FRAG_LATER }, false },
	{ "match(udp, dst port 53)", "non-first IPv6 fragment, payload looks like UDP to 53",
	  { .ver = 6, .proto = PKT_P_UDP, .sport = 1, .dport = 53, .mal = M_FRAG_LATER }, false },
	{ "match(udp, dst port 53)", "UDP header cut at 4 bytes (ports present)",
	  { .proto = PKT_P_UDP, .sport = 1, .dport = 53, .mal = M_L4_CUT }, false },
	{ "match(tcp, port 80)", "plain TCP to 80", TCP4(1, 80, S), true },
	{ "match(tcp, port 80)", "TCP header cut at 12 bytes (ports present)",
	  { .proto = PKT_P_TCP, .sport = 1, .dport = 80, .flags = S, .mal = M_TCP_CUT12 }, false },
	{ "match(tcp, port 80)", "TCP data offset 4",
	  { .proto = PKT_P_TCP, .sport = 1, .dport = 80, .flags = S, .mal = M_DOFF4 }, false },
	{ "match(tcp, port 80)", "non-first IPv4 fragment, payload looks like TCP to 80",
	  { .proto = PKT_P_TCP, .sport = 1, .dport = 80, .mal = M_FRAG_LATER }, false },
	{ "match(tcp, port 80)", "non-first IPv6 fragment, payload looks like TCP to 80",
	  { .ver = 6, .proto = PKT_P_TCP, .sport = 1, .dport = 80, .mal = M_FRAG_LATER }, false },
	{ "match(tcp, port 80)", "IPv6 TCP header cut at 12 bytes",
	  { .ver = 6, .proto = PKT_P_TCP, .sport = 1, .dport = 80, .mal = M_TCP_CUT12 }, false },
	{ "match(port 0-65535)", "any UDP", UDP4(1, 2), true },
	{ "match(port 0-65535)", "UDP header cut at 4 bytes",
	  { .proto = PKT_P_UDP, .sport = 1, .dport = 2, .mal = M_L4_CUT }, false },
	{ "match(port 0-65535)", "TCP data offset 4",
	  { .proto = PKT_P_TCP, .sport = 1, .dport = 2, .mal = M_DOFF4 }, false },
	{ "match(port 0-65535)", "non-first fragment",
	  { .proto = PKT_P_UDP, .sport = 1, .dport = 2, .mal = M_FRAG_LATER }, false },
	{ "match(port 0-65535)", "ICMP (no ports)", ICMP4(8), false },
	{ "match(port 0-65535)", "GRE (no ports)", { .proto = 47 }, false },
	{ "match(tcp, flags S)", "SYN with the header cut at 12 bytes",
	  { .proto = PKT_P_TCP, .sport = 1, .dport = 2, .flags = S, .mal = M_TCP_CUT12 }, false },
	{ "match(tcp, flags S)", "SYN with data offset 4",
	  { .proto = PKT_P_TCP, .sport = 1, .dport = 2, .flags = S, .mal = M_DOFF4 }, false },
	{ "match(tcp, flags S)", "non-first fragment, payload looks like a SYN",
	  { .proto = PKT_P_TCP, .sport = 1, .dport = 2, .flags = S, .mal = M_FRAG_LATER }, false },

	/* chains */
	{ "count", "count takes a malformed TCP header too",
	  { .proto = PKT_P_TCP, .sport = 1, .dport = 2, .mal = M_TCP_CUT12 }, true },
	{ "count", "count takes ARP", ARP, true },
	{ "match(udp, dst port 53) -> count", "UDP to 53", UDP4(1, 53), true },
	{ "match(udp, dst port 53) -> count", "UDP to 54", UDP4(1, 54), false },
	{ "match(udp) -> match(dst port 53) -> count", "UDP to 53", UDP4(1, 53), true },
	{ "match(udp) -> match(dst port 53) -> count", "UDP to 54 (second match rejects)",
	  UDP4(1, 54), false },
	{ "match(udp) -> match(dst port 53) -> count", "TCP to 53 (guard rejects)",
	  TCP4(1, 53, S), false },
	{ "count -> match(tcp) -> count", "TCP (unguarded chain)", TCP4(1, 2, S), true },
	{ "count -> match(tcp) -> count", "UDP (rejected mid-chain)", UDP4(1, 2), false },
};

#define NROWS	(sizeof(rows) / sizeof(rows[0]))

static int count_matches(const char *spec)
{
	int n = 0;

	for (const char *s = spec; (s = strstr(s, "match(")); s++)
		n++;
	return n;
}

TestSuite(filters, .init = tf_setup, .timeout = 120);

Test(filters, match_table_on_real_flows)
{
	struct ffpf_flow *f = NULL;
	const char *cur = NULL;
	int idx = -1, naccept = 0;

	for (size_t i = 0; i < NROWS; i++) {
		const struct frow *r = &rows[i];
		struct ffpf_flow_stats s0, s1;
		struct ffpf_pkt c;
		struct pkt p;
		__u32 verdict;
		bool guard_only;

		if (!cur || strcmp(cur, r->spec)) {
			ffpf_flow_close(f);
			f = tf_flow(r->spec, true);
			idx = ffpf_flow_index(f);
			cur = r->spec;
		}
		/* the guard mirrors a leading match: if it is the flow's only
		 * match, a packet reaches the chain exactly when accepted */
		guard_only = !strncmp(r->spec, "match(", 6) && count_matches(r->spec) == 1;

		build(&p, &r->pkt);
		s0 = tf_stats(f);
		verdict = tf_run(f, &p);
		s1 = tf_stats(f);
		tf_pctx(f, &c);
		cr_expect_eq(verdict, 2, "[%s | %s] XDP verdict %u, want XDP_PASS",
			     r->spec, r->desc, verdict);
		cr_expect_eq(s1.packets - s0.packets, r->accept ? 1 : 0,
			     "[%s | %s] accepted %llu times, want %d (frame %s)", r->spec,
			     r->desc, (unsigned long long)(s1.packets - s0.packets),
			     r->accept, tf_hex(&p));
		cr_expect_eq(!!(c.matched & (1ULL << idx)), r->accept,
			     "[%s | %s] matched bit %d, want %d", r->spec, r->desc,
			     !!(c.matched & (1ULL << idx)), r->accept);
		cr_expect_eq(s1.missed, s0.missed, "[%s | %s] missed tail call", r->spec,
			     r->desc);
		if (guard_only)
			cr_expect_eq(s1.dispatched - s0.dispatched, r->accept ? 1 : 0,
				     "[%s | %s] dispatched +%llu: the guard disagrees with "
				     "the match", r->spec, r->desc,
				     (unsigned long long)(s1.dispatched - s0.dispatched));
		else
			cr_expect_lt(s1.dispatched - s0.dispatched, 2,
				     "[%s | %s] dispatched twice", r->spec, r->desc);
		naccept += r->accept;
	}
	ffpf_flow_close(f);
	cr_expect_gt(naccept, 0);
	cr_expect_lt(naccept, (int)NROWS);
}

static struct pkt udp_frame(uint16_t dport, size_t payload)
{
	struct pkt p;

	build(&p, &(struct pd)UDP4(1000, dport));
	pkt_payload(&p, payload, 0);
	return p;
}

Test(filters, sample_3_passes_packets_1_4_7_10)
{
	struct ffpf_flow *f = tf_flow("sample(3) -> count", true);
	struct ffpf_sample_mbuf *m = ffpf_flow_filter_mbuf(f, 0, NULL);
	struct pkt p = udp_frame(53, 0);
	struct ffpf_mbuf_hdr h;
	int passed_at[10], n = 0;

	cr_assert_not_null(m, "sample MBuf: %s", strerror(errno));
	cr_expect_eq(m->every, 3, "sample MBuf every %u, want 3", m->every);
	for (int i = 1; i <= 10; i++) {
		struct ffpf_flow_stats s0 = tf_stats(f), s1;

		cr_assert_eq(tf_run(f, &p), 2);
		s1 = tf_stats(f);
		cr_assert_leq(s1.packets - s0.packets, 1);
		if (s1.packets > s0.packets)
			passed_at[n++] = i;
	}
	cr_expect_eq(n, 4, "sample(3) passed %d of 10 packets, want 4", n);
	for (int i = 0; i < n && i < 4; i++)
		cr_expect_eq(passed_at[i], 1 + 3 * i, "pass #%d was packet %d, want %d",
			     i + 1, passed_at[i], 1 + 3 * i);
	h = tf_fstats(f, 0);
	cr_expect_eq(h.seen, 10, "sample seen %llu, want 10", (unsigned long long)h.seen);
	cr_expect_eq(h.passed, 4, "sample passed %llu, want 4", (unsigned long long)h.passed);
	{
		struct ffpf_mbuf_hdr mh;

		ffpf_mbuf_sum(m->cpu, &mh);	/* the mapped MBuf, summed by hand */
		cr_expect_eq(mh.seen, 10, "mapped MBuf seen %llu", (unsigned long long)mh.seen);
		cr_expect_eq(m->ticket, 10, "sample ticket %llu", (unsigned long long)m->ticket);
	}
	h = tf_fstats(f, 1);
	cr_expect_eq(h.seen, 4, "count after sample saw %llu, want 4",
		     (unsigned long long)h.seen);
	cr_expect_eq(tf_stats(f).dispatched, 10);
	ffpf_flow_close(f);
}

Test(filters, sample_every_is_writable_live)
{
	struct ffpf_flow *f = tf_flow("sample(3)", true);
	struct ffpf_sample_mbuf *m = ffpf_flow_filter_mbuf(f, 0, NULL);
	struct pkt p = udp_frame(53, 0);
	static const bool want[] = {
		/* every 3: packets 1..6 (seen 0..5) */
		1, 0, 0, 1, 0, 0,
		/* every 2 from here: seen 6..11 */
		1, 0, 1, 0, 1, 0,
		/* every 1: all pass */
		1, 1, 1,
	};

	cr_assert_not_null(m);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct ffpf_flow_stats s0, s1;

		if (i == 6)
			__atomic_store_n(&m->every, 2, __ATOMIC_RELEASE);
		if (i == 12)
			__atomic_store_n(&m->every, 1, __ATOMIC_RELEASE);
		s0 = tf_stats(f);
		cr_assert_eq(tf_run(f, &p), 2);
		s1 = tf_stats(f);
		cr_expect_eq(s1.packets - s0.packets, want[i],
			     "packet %zu (every %u): passed %llu, want %d", i + 1, m->every,
			     (unsigned long long)(s1.packets - s0.packets), want[i]);
	}
	{
		struct ffpf_mbuf_hdr mh;

		ffpf_mbuf_sum(m->cpu, &mh);
		cr_expect_eq(mh.seen, 15);
		cr_expect_eq(mh.passed, 2 + 3 + 3, "passed %llu, want 8",
			     (unsigned long long)mh.passed);
	}
	ffpf_flow_close(f);
}

Test(filters, count_bytes_are_the_sum_of_frame_lengths)
{
	struct ffpf_flow *f = tf_flow("count", true);
	struct ffpf_count_mbuf *m = ffpf_flow_filter_mbuf(f, 0, NULL);
	static const size_t payloads[] = { 0, 1, 17, 100, 333, 1000, 1400 };
	__u64 sum = 0;
	size_t n = sizeof(payloads) / sizeof(payloads[0]);

	cr_assert_not_null(m);
	for (size_t i = 0; i < n; i++) {
		struct pkt p = udp_frame(9, payloads[i]);

		cr_assert_eq(tf_run(f, &p), 2);
		sum += p.len;
	}
	{
		struct ffpf_mbuf_hdr mh;

		ffpf_mbuf_sum(m->cpu, &mh);
		cr_expect_eq(mh.bytes, sum, "count bytes %llu, want %llu",
			     (unsigned long long)mh.bytes, (unsigned long long)sum);
		cr_expect_eq(mh.seen, n);
		cr_expect_eq(mh.passed, n);
		cr_expect_eq(tf_fstats(f, 0).bytes, sum);
	}
	cr_expect_eq(tf_stats(f).bytes, sum, "flow bytes %llu, want %llu",
		     (unsigned long long)tf_stats(f).bytes, (unsigned long long)sum);
	cr_expect_eq(tf_stats(f).packets, n);
	ffpf_flow_close(f);
}

Test(filters, paused_flow_counts_nothing_until_activated)
{
	struct ffpf_flow *f = tf_flow("match(udp) -> count", false);
	struct pkt p = udp_frame(53, 10);
	struct ffpf_flow_stats s;
	struct ffpf_pkt c;

	/* instantiated flows start paused */
	cr_expect_not(ffpf_flow_is_active(f), "a new flow is active");
	cr_assert_eq(tf_run(f, &p), 2);
	s = tf_stats(f);
	cr_expect_eq(s.packets, 0, "paused at start: %llu packets", (unsigned long long)s.packets);
	cr_expect_eq(s.dispatched, 0, "paused at start: dispatched");

	cr_assert_eq(ffpf_flow_activate(f), 0);
	cr_expect(ffpf_flow_is_active(f));
	cr_assert_eq(tf_run(f, &p), 2);
	cr_expect_eq(tf_stats(f).packets, 1, "active: want 1 packet");

	cr_assert_eq(ffpf_flow_pause(f), 0);
	cr_expect_not(ffpf_flow_is_active(f));
	for (int i = 0; i < 3; i++)
		cr_assert_eq(tf_run(f, &p), 2);
	tf_pctx(f, &c);
	s = tf_stats(f);
	cr_expect_eq(s.packets, 1, "paused: %llu packets, want still 1",
		     (unsigned long long)s.packets);
	cr_expect_eq(s.dispatched, 1, "paused: chain still dispatched");
	cr_expect_eq(c.matched, 0, "paused: matched 0x%llx", (unsigned long long)c.matched);
	cr_expect_eq(tf_fstats(f, 1).seen, 1, "paused: count stage ran");
	cr_expect_eq(tf_iface(f).rx_packets, 5, "the root still sees every packet");

	cr_assert_eq(ffpf_flow_activate(f), 0);
	cr_assert_eq(tf_run(f, &p), 2);
	cr_expect_eq(tf_stats(f).packets, 2, "resumed: want 2 packets");
	ffpf_flow_close(f);
}

Test(filters, two_flows_each_get_their_own_packets)
{
	struct ffpf_flow *fu = tf_flow("match(udp) -> count", true);
	struct ffpf_flow *ft = tf_flow("match(tcp, dst port 80) -> count", true);
	struct ffpf_flow *fi = tf_flow("match(ip) -> count", true);
	int iu = ffpf_flow_index(fu), it = ffpf_flow_index(ft), ii = ffpf_flow_index(fi);
	struct {
		const char *desc;
		struct pd pkt;
		__u64 matched;
	} t[] = {
		{ "UDP: udp and ip", UDP4(1, 2), 1ULL << iu | 1ULL << ii },
		{ "TCP to 80: tcp and ip", TCP4(1, 80, S), 1ULL << it | 1ULL << ii },
		{ "TCP to 81: ip only", TCP4(1, 81, S), 1ULL << ii },
		{ "IPv6 UDP: udp only", UDP6(1, 2), 1ULL << iu },
		{ "IPv6 TCP to 80: tcp only", TCP6(1, 80, S), 1ULL << it },
		{ "ARP: nobody", ARP, 0 },
	};
	struct ffpf_flow *flows[3] = { fu, ft, fi };
	__u64 want[3] = { 0 };

	cr_assert(iu != it && it != ii && iu != ii, "flows share an index");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct ffpf_iface_stats r0 = tf_iface(fu), r1;
		struct ffpf_pkt c;
		struct pkt p;

		build(&p, &t[i].pkt);
		cr_assert_eq(tf_run(fu, &p), 2);
		tf_pctx(fu, &c);
		cr_expect_eq(c.matched, t[i].matched, "[%s] matched 0x%llx, want 0x%llx",
			     t[i].desc, (unsigned long long)c.matched,
			     (unsigned long long)t[i].matched);
		r1 = tf_iface(fu);
		cr_expect_eq(r1.matched - r0.matched, t[i].matched ? 1 : 0,
			     "[%s] root matched counter", t[i].desc);
		for (int k = 0; k < 3; k++) {
			int idx = ffpf_flow_index(flows[k]);

			want[k] += !!(t[i].matched & (1ULL << idx));
			cr_expect_eq(tf_stats(flows[k]).packets, want[k],
				     "[%s] flow %d (%s) has %llu packets, want %llu",
				     t[i].desc, idx, ffpf_flow_name(flows[k]),
				     (unsigned long long)tf_stats(flows[k]).packets,
				     (unsigned long long)want[k]);
		}
	}
	/* the match stages only ever saw what their guards let through */
	cr_expect_eq(tf_fstats(fu, 0).seen, 2);
	cr_expect_eq(tf_fstats(ft, 0).seen, 2);
	cr_expect_eq(tf_fstats(fi, 0).seen, 3);

	/* closing one leaves the others working */
	ffpf_flow_close(ft);
	{
		struct pkt p;
		struct ffpf_pkt c;

		build(&p, &(struct pd)TCP4(1, 80, S));
		cr_assert_eq(tf_run(fu, &p), 2);
		tf_pctx(fu, &c);
		cr_expect_eq(c.matched, 1ULL << ii, "after close: matched 0x%llx",
			     (unsigned long long)c.matched);
	}
	ffpf_flow_close(fu);
	ffpf_flow_close(fi);
}
