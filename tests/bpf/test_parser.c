// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_parser.c - the root program's parser (bpf/lib/parse.h), driven
 * with BPF_PROG_TEST_RUN: every row's frame goes through the real root
 * program attached to the test's private `lo` (one `count` flow), and the
 * per-CPU struct ffpf_pkt it leaves is compared field by field.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include "harness.h"

#define L3	FFPF_PF_L3
#define L4	FFPF_PF_L4
#define FRAG	FFPF_PF_FRAG
#define LATER	FFPF_PF_FRAG_LATER
#define TRUNC	FFPF_PF_TRUNC
#define BAD	FFPF_PF_BAD
#define OPTS	FFPF_PF_IPOPTS
#define EXT	FFPF_PF_EXTHDR
#define DEEP	FFPF_PF_DEEP

struct prow {
	const char *desc;
	void (*build)(struct pkt *p);
	__u16 flags;		/* exact */
	__u16 eth_proto;
	__u8 vlan_cnt;
	__u16 vlan[2];
	__u8 ip_ver;
	__u8 l4_proto;
	const char *src, *dst;	/* NULL: the addresses must be all zero */
	__u16 l4_off;		/* checked when non-zero */
	__u16 payload_off;	/* checked when non-zero */
	__u16 sport, dport;
	__u8 tcp_flags;
	__u8 icmp_type, icmp_code;
};

/* --- frames ---------------------------------------------------------- */

static void v4(struct pkt *p, uint8_t proto)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IP);
	pkt_ipv4(p, &(struct ip4){ .proto = proto });
}

static void v6(struct pkt *p, uint8_t next)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IPV6);
	pkt_ipv6(p, &(struct ip6){ .next = next });
}

static void b_v4_tcp_syn(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IP);
	pkt_ipv4(p, &(struct ip4){ .src = "192.0.2.1", .dst = "198.51.100.7",
				    .proto = PKT_P_TCP });
	pkt_tcp(p, 40000, 80, TH_SYN, 0);
}

static void b_v4_tcp_opts_payload(struct pkt *p)
{
	v4(p, PKT_P_TCP);
	pkt_tcp(p, 443, 51000, TH_PSH | TH_ACK, 8);
	pkt_payload(p, 100, 0xaa);
}

static void b_v4_tcp_all_flags(struct pkt *p)
{
	v4(p, PKT_P_TCP);
	pkt_tcp(p, 1, 2, 0xff, 0);
}

static void b_v4_udp(struct pkt *p)
{
	v4(p, PKT_P_UDP);
	pkt_udp(p, 5353, 53);
	pkt_payload(p, 30, 0);
}

static void b_v4_icmp_echo(struct pkt *p)
{
	v4(p, PKT_P_ICMP);
	pkt_icmp(p, 8, 0, 0x4242);
	pkt_payload(p, 56, 0x55);
}

static void b_v4_icmp_4bytes(struct pkt *p)
{
	v4(p, PKT_P_ICMP);
	pkt_icmp(p, 3, 1, 0x0102);
	pkt_cut(p, 14 + 20 + 4);
}

static void b_v4_icmp_2bytes(struct pkt *p)
{
	v4(p, PKT_P_ICMP);
	pkt_icmp(p, 3, 1, 0x0102);
	pkt_cut(p, 14 + 20 + 2);
}

static void b_v4_opts12_udp(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IP);
	pkt_ipv4(p, &(struct ip4){ .proto = PKT_P_UDP, .optlen = 12 });
	pkt_udp(p, 1000, 2000);
}

static void b_v4_opts40_tcp(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IP);
	pkt_ipv4(p, &(struct ip4){ .proto = PKT_P_TCP, .optlen = 40 });
	pkt_tcp(p, 179, 33000, TH_ACK, 0);
}

static void b_v4_opts_cut(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IP);
	pkt_ipv4(p, &(struct ip4){ .proto = PKT_P_TCP, .optlen = 40 });
	pkt_tcp(p, 179, 33000, TH_ACK, 0);
	pkt_cut(p, 14 + 20);
}

static void b_v4_frag_first(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IP);
	pkt_ipv4(p, &(struct ip4){ .proto = PKT_P_UDP, .mf = true });
	pkt_udp(p, 7000, 53);
	pkt_payload(p, 64, 1);
}

/* The payload looks like a UDP header to port 53: it must not be read. */
static void b_v4_frag_middle(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IP);
	pkt_ipv4(p, &(struct ip4){ .proto = PKT_P_UDP, .mf = true, .frag_off = 185 });
	pkt_udp(p, 7000, 53);
	pkt_payload(p, 64, 1);
}

static void b_v4_frag_last_tcp(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IP);
	pkt_ipv4(p, &(struct ip4){ .proto = PKT_P_TCP, .frag_off = 370 });
	pkt_tcp(p, 1234, 22, TH_SYN, 0);
}

static void b_v4_df(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IP);
	pkt_ipv4(p, &(struct ip4){ .proto = PKT_P_UDP, .df = true });
	pkt_udp(p, 123, 123);
}

static void b_v4_gre(struct pkt *p)
{
	v4(p, 47);
	pkt_payload(p, 8, 0);
}

static void b_v4_sctp(struct pkt *p)
{
	v4(p, PKT_P_SCTP);
	pkt_sctp(p, 3868, 2905);
}

static void b_v4_sctp_cut(struct pkt *p)
{
	v4(p, PKT_P_SCTP);
	pkt_sctp(p, 3868, 2905);
	pkt_cut(p, 14 + 20 + 8);
}

static void b_v4_tcp_cut12(struct pkt *p)
{
	v4(p, PKT_P_TCP);
	pkt_tcp(p, 40000, 80, TH_SYN, 0);
	pkt_cut(p, 14 + 20 + 12);
}

/* data offset 15 (60-byte header) but the frame ends after 20 TCP bytes:
 * ports and flags are readable, the options are cut */
static void b_v4_tcp_opts_cut(struct pkt *p)
{
	v4(p, PKT_P_TCP);
	pkt_tcp(p, 40000, 80, TH_SYN, 15);
	pkt_cut(p, 14 + 20 + 20);
}

static void b_v4_tcp_doff4(struct pkt *p)
{
	v4(p, PKT_P_TCP);
	pkt_tcp(p, 40000, 80, TH_SYN, 4);
}

/* data offset 0: pkt_tcp's 0 means "5", so patch the byte afterwards */
static void b_v4_tcp_doff0(struct pkt *p)
{
	v4(p, PKT_P_TCP);
	pkt_tcp(p, 40000, 80, TH_SYN, 0);
	p->b[14 + 20 + 12] = 0;
}

static void b_v4_udp_cut6(struct pkt *p)
{
	v4(p, PKT_P_UDP);
	pkt_udp(p, 5353, 53);
	pkt_cut(p, 14 + 20 + 6);
}

static void b_v4_hdr_cut12(struct pkt *p)
{
	v4(p, PKT_P_UDP);
	pkt_udp(p, 5353, 53);
	pkt_cut(p, 14 + 12);
}

static void b_eth_only_ipv4(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IP);
}

static void b_v4_ihl4(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IP);
	pkt_ipv4(p, &(struct ip4){ .proto = PKT_P_UDP, .ihl = 4 });
	pkt_udp(p, 5353, 53);
}

static void b_v4_version6(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IP);
	pkt_ipv4(p, &(struct ip4){ .proto = PKT_P_UDP, .version = 6 });
	pkt_udp(p, 5353, 53);
}

static void b_vlan1_udp(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_8021Q);
	pkt_vlan(p, 100, PKT_ETH_IP);
	pkt_ipv4(p, &(struct ip4){ .proto = PKT_P_UDP });
	pkt_udp(p, 68, 67);
}

static void b_qinq_udp(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_8021AD);
	pkt_vlan(p, 100, PKT_ETH_8021Q);
	pkt_vlan(p, 200, PKT_ETH_IP);
	pkt_ipv4(p, &(struct ip4){ .proto = PKT_P_UDP });
	pkt_udp(p, 68, 67);
}

static void b_qinq_8100_8100(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_8021Q);
	pkt_vlan(p, 5, PKT_ETH_8021Q);
	pkt_vlan(p, 4095, PKT_ETH_IP);
	pkt_ipv4(p, &(struct ip4){ .proto = PKT_P_TCP });
	pkt_tcp(p, 1, 2, TH_RST, 0);
}

static void b_vlan_pcp_dei(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_8021Q);
	pkt_vlan(p, 0xF000 | 123, PKT_ETH_IP);	/* PCP 7, DEI 1, id 123 */
	pkt_ipv4(p, &(struct ip4){ .proto = PKT_P_UDP });
	pkt_udp(p, 68, 67);
}

static void b_vlan3(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_8021Q);
	pkt_vlan(p, 1, PKT_ETH_8021Q);
	pkt_vlan(p, 2, PKT_ETH_8021Q);
	pkt_vlan(p, 3, PKT_ETH_IP);
	pkt_ipv4(p, &(struct ip4){ .proto = PKT_P_UDP });
	pkt_udp(p, 68, 67);
}

static void b_vlan_cut(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_8021Q);
	pkt_vlan(p, 100, PKT_ETH_IP);
	pkt_ipv4(p, &(struct ip4){ .proto = PKT_P_UDP });
	pkt_cut(p, 16);
}

static void b_arp(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_ARP);
	pkt_arp(p);
}

static void b_lldp(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, 0x88cc);
	pkt_payload(p, 40, 0x02);
}

static void b_v6_tcp(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IPV6);
	pkt_ipv6(p, &(struct ip6){ .src = "2001:db8:aaaa::1", .dst = "fe80::1234",
				    .next = PKT_P_TCP });
	pkt_tcp(p, 22, 50000, TH_ACK, 0);
}

static void b_v6_udp(struct pkt *p)
{
	v6(p, PKT_P_UDP);
	pkt_udp(p, 40000, 4789);
	pkt_payload(p, 12, 0);
}

static void b_v6_chain_udp(struct pkt *p)
{
	v6(p, PKT_P_HOPOPTS);
	pkt_ip6_ext(p, PKT_P_DSTOPTS, 0);	/* hop-by-hop, 8 bytes */
	pkt_ip6_ext(p, PKT_P_ROUTING, 1);	/* dstopts, 16 bytes */
	pkt_ip6_ext(p, PKT_P_UDP, 0);		/* routing, 8 bytes */
	pkt_udp(p, 546, 547);
}

static void b_v6_ah_tcp(struct pkt *p)
{
	v6(p, PKT_P_AH);
	pkt_ip6_ah(p, PKT_P_TCP, 4);		/* 24 bytes */
	pkt_tcp(p, 500, 4500, TH_SYN | TH_ACK, 0);
}

static void b_v6_frag_first(struct pkt *p)
{
	v6(p, PKT_P_FRAGMENT);
	pkt_ip6_frag(p, PKT_P_UDP, 0, true);
	pkt_udp(p, 7000, 53);
	pkt_payload(p, 32, 0);
}

static void b_v6_frag_later(struct pkt *p)
{
	v6(p, PKT_P_FRAGMENT);
	pkt_ip6_frag(p, PKT_P_UDP, 100, true);
	pkt_udp(p, 7000, 53);			/* payload bytes, not a header */
	pkt_payload(p, 32, 0);
}

static void b_v6_hbh_frag_later(struct pkt *p)
{
	v6(p, PKT_P_HOPOPTS);
	pkt_ip6_ext(p, PKT_P_FRAGMENT, 0);
	pkt_ip6_frag(p, PKT_P_TCP, 8, false);
	pkt_tcp(p, 1, 2, TH_SYN, 0);
}

static void b_v6_six_ext_udp(struct pkt *p)
{
	v6(p, PKT_P_HOPOPTS);
	pkt_ip6_ext(p, PKT_P_DSTOPTS, 0);
	pkt_ip6_ext(p, PKT_P_ROUTING, 0);
	pkt_ip6_ext(p, PKT_P_DSTOPTS, 0);
	pkt_ip6_ext(p, PKT_P_DSTOPTS, 0);
	pkt_ip6_ext(p, PKT_P_DSTOPTS, 0);
	pkt_ip6_ext(p, PKT_P_UDP, 0);
	pkt_udp(p, 1111, 2222);
}

static void b_v6_seven_ext_udp(struct pkt *p)
{
	v6(p, PKT_P_HOPOPTS);
	pkt_ip6_ext(p, PKT_P_DSTOPTS, 0);
	pkt_ip6_ext(p, PKT_P_ROUTING, 0);
	pkt_ip6_ext(p, PKT_P_DSTOPTS, 0);
	pkt_ip6_ext(p, PKT_P_DSTOPTS, 0);
	pkt_ip6_ext(p, PKT_P_DSTOPTS, 0);
	pkt_ip6_ext(p, PKT_P_DSTOPTS, 0);
	pkt_ip6_ext(p, PKT_P_UDP, 0);
	pkt_udp(p, 1111, 2222);
}

static void b_v6_ext_past_end(struct pkt *p)
{
	v6(p, PKT_P_HOPOPTS);
	pkt_ip6_ext(p, PKT_P_UDP, 2);		/* claims 24 bytes */
	pkt_udp(p, 1111, 2222);
	pkt_cut(p, 14 + 40 + 8);
}

static void b_v6_ext_cut4(struct pkt *p)
{
	v6(p, PKT_P_HOPOPTS);
	pkt_ip6_ext(p, PKT_P_UDP, 0);
	pkt_udp(p, 1111, 2222);
	pkt_cut(p, 14 + 40 + 4);
}

static void b_v6_rt_then_dst_past_end(struct pkt *p)
{
	v6(p, PKT_P_ROUTING);
	pkt_ip6_ext(p, PKT_P_DSTOPTS, 1);	/* 16 bytes */
	pkt_ip6_ext(p, PKT_P_UDP, 0);
	pkt_udp(p, 1111, 2222);
	pkt_cut(p, 14 + 40 + 10);
}

static void b_v6_huge_dstopts(struct pkt *p)
{
	v6(p, PKT_P_DSTOPTS);
	pkt_ip6_ext(p, PKT_P_UDP, 70);		/* 568 bytes */
	pkt_udp(p, 1111, 2222);
}

static void b_v6_icmp_echo(struct pkt *p)
{
	v6(p, PKT_P_ICMPV6);
	pkt_icmp(p, 128, 0, 7);
	pkt_payload(p, 16, 0);
}

static void b_v6_sctp(struct pkt *p)
{
	v6(p, PKT_P_SCTP);
	pkt_sctp(p, 38412, 38412);
}

static void b_v6_hdr_cut(struct pkt *p)
{
	v6(p, PKT_P_UDP);
	pkt_udp(p, 1, 2);
	pkt_cut(p, 14 + 30);
}

static void b_v6_version4(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IPV6);
	pkt_ipv6(p, &(struct ip6){ .next = PKT_P_UDP, .version = 4 });
	pkt_udp(p, 1, 2);
}

static void b_vlan_v6_tcp(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_8021Q);
	pkt_vlan(p, 7, PKT_ETH_IPV6);
	pkt_ipv6(p, &(struct ip6){ .next = PKT_P_TCP });
	pkt_tcp(p, 8080, 443, TH_FIN | TH_ACK, 0);
}

static void b_v6_no_next(struct pkt *p)
{
	v6(p, PKT_P_NONE);
	pkt_payload(p, 8, 0);
}

/* --- the table ------------------------------------------------------- */

#define V4A	.src = "10.0.0.1", .dst = "10.0.0.2"
#define V6A	.src = "2001:db8::1", .dst = "2001:db8::2"
#define IP4	.eth_proto = PKT_ETH_IP
#define IP6	.eth_proto = PKT_ETH_IPV6

static const struct prow rows[] = {
	/* IPv4 */
	{ "IPv4 TCP SYN", b_v4_tcp_syn, L3 | L4, IP4, .ip_ver = 4, .l4_proto = 6,
	  .src = "192.0.2.1", .dst = "198.51.100.7", .l4_off = 34, .payload_off = 54,
	  .sport = 40000, .dport = 80, .tcp_flags = TH_SYN },
	{ "IPv4 TCP PSH|ACK, doff 8, 100 bytes of payload", b_v4_tcp_opts_payload,
	  L3 | L4, IP4, .ip_ver = 4, .l4_proto = 6, V4A, .l4_off = 34,
	  .payload_off = 66, .sport = 443, .dport = 51000, .tcp_flags = TH_PSH | TH_ACK },
	{ "IPv4 TCP with all eight flag bits", b_v4_tcp_all_flags, L3 | L4, IP4,
	  .ip_ver = 4, .l4_proto = 6, V4A, .l4_off = 34, .sport = 1, .dport = 2,
	  .tcp_flags = 0xff },
	{ "IPv4 UDP 5353 -> 53", b_v4_udp, L3 | L4, IP4, .ip_ver = 4, .l4_proto = 17,
	  V4A, .l4_off = 34, .payload_off = 42, .sport = 5353, .dport = 53 },
	{ "IPv4 ICMP echo request id 0x4242", b_v4_icmp_echo, L3 | L4, IP4, .ip_ver = 4,
	  .l4_proto = 1, V4A, .l4_off = 34, .payload_off = 42, .sport = 0x0800,
	  .dport = 0x4242, .icmp_type = 8 },
	{ "IPv4 ICMP unreachable with only 4 bytes (no id)", b_v4_icmp_4bytes, L3 | L4 | TRUNC,
	  IP4, .ip_ver = 4, .l4_proto = 1, V4A, .l4_off = 34, .sport = 0x0301,
	  .dport = 0, .icmp_type = 3, .icmp_code = 1 },
	{ "IPv4 ICMP cut after 2 bytes", b_v4_icmp_2bytes, L3 | TRUNC, IP4, .ip_ver = 4,
	  .l4_proto = 1, V4A },
	{ "IPv4 with 12 bytes of options, UDP", b_v4_opts12_udp, L3 | L4 | OPTS, IP4,
	  .ip_ver = 4, .l4_proto = 17, V4A, .l4_off = 46, .payload_off = 54,
	  .sport = 1000, .dport = 2000 },
	{ "IPv4 IHL 15 (40 bytes of options), TCP", b_v4_opts40_tcp, L3 | L4 | OPTS, IP4,
	  .ip_ver = 4, .l4_proto = 6, V4A, .l4_off = 74, .sport = 179, .dport = 33000,
	  .tcp_flags = TH_ACK },
	{ "IPv4 IHL 15 but only 20 bytes present", b_v4_opts_cut, TRUNC, IP4 },
	{ "IPv4 first fragment (MF, offset 0), UDP", b_v4_frag_first, L3 | L4 | FRAG, IP4,
	  .ip_ver = 4, .l4_proto = 17, V4A, .l4_off = 34, .sport = 7000, .dport = 53 },
	{ "IPv4 middle fragment (MF, offset 185): no L4", b_v4_frag_middle,
	  L3 | FRAG | LATER, IP4, .ip_ver = 4, .l4_proto = 17, V4A },
	{ "IPv4 last fragment (offset 370), TCP-looking payload", b_v4_frag_last_tcp,
	  L3 | FRAG | LATER, IP4, .ip_ver = 4, .l4_proto = 6, V4A },
	{ "IPv4 DF set is not a fragment", b_v4_df, L3 | L4, IP4, .ip_ver = 4,
	  .l4_proto = 17, V4A, .l4_off = 34, .sport = 123, .dport = 123 },
	{ "IPv4 GRE: L3 only", b_v4_gre, L3, IP4, .ip_ver = 4, .l4_proto = 47, V4A },
	{ "IPv4 SCTP 3868 -> 2905", b_v4_sctp, L3 | L4, IP4, .ip_ver = 4,
	  .l4_proto = 132, V4A, .l4_off = 34, .payload_off = 46, .sport = 3868,
	  .dport = 2905 },
	{ "IPv4 SCTP cut at 8 of 12 header bytes", b_v4_sctp_cut, L3 | TRUNC, IP4,
	  .ip_ver = 4, .l4_proto = 132, V4A },
	{ "IPv4 TCP header cut at 12 bytes", b_v4_tcp_cut12, L3 | TRUNC, IP4, .ip_ver = 4,
	  .l4_proto = 6, V4A },
	{ "IPv4 TCP options run past the end", b_v4_tcp_opts_cut, L3 | L4 | TRUNC, IP4,
	  .ip_ver = 4, .l4_proto = 6, V4A, .l4_off = 34, .sport = 40000, .dport = 80,
	  .tcp_flags = TH_SYN },
	{ "IPv4 TCP data offset 4", b_v4_tcp_doff4, L3 | BAD, IP4, .ip_ver = 4,
	  .l4_proto = 6, V4A },
	{ "IPv4 TCP data offset 0", b_v4_tcp_doff0, L3 | BAD, IP4, .ip_ver = 4,
	  .l4_proto = 6, V4A },
	{ "IPv4 UDP cut at 6 bytes", b_v4_udp_cut6, L3 | TRUNC, IP4, .ip_ver = 4,
	  .l4_proto = 17, V4A },
	{ "IPv4 header cut at 12 bytes", b_v4_hdr_cut12, TRUNC, IP4 },
	{ "Ethernet header only (14 bytes), ethertype IPv4", b_eth_only_ipv4, TRUNC, IP4 },
	{ "IPv4 IHL 4", b_v4_ihl4, BAD, IP4 },
	{ "IPv4 ethertype, IP version 6", b_v4_version6, BAD, IP4 },
	/* VLAN and non-IP */
	{ "802.1Q tag 100, IPv4 UDP", b_vlan1_udp, L3 | L4, IP4, .vlan_cnt = 1,
	  .vlan = { 100 }, .ip_ver = 4, .l4_proto = 17, V4A, .l4_off = 38,
	  .sport = 68, .dport = 67 },
	{ "QinQ 802.1ad 100 / 802.1Q 200, IPv4 UDP", b_qinq_udp, L3 | L4, IP4,
	  .vlan_cnt = 2, .vlan = { 100, 200 }, .ip_ver = 4, .l4_proto = 17, V4A,
	  .l4_off = 42, .payload_off = 50, .sport = 68, .dport = 67 },
	{ "double 802.1Q 5 / 4095, IPv4 TCP RST", b_qinq_8100_8100, L3 | L4, IP4,
	  .vlan_cnt = 2, .vlan = { 5, 4095 }, .ip_ver = 4, .l4_proto = 6, V4A,
	  .l4_off = 42, .sport = 1, .dport = 2, .tcp_flags = TH_RST },
	{ "802.1Q TCI with PCP 7 and DEI: id 123", b_vlan_pcp_dei, L3 | L4, IP4,
	  .vlan_cnt = 1, .vlan = { 123 }, .ip_ver = 4, .l4_proto = 17, V4A,
	  .l4_off = 38, .sport = 68, .dport = 67 },
	{ "three VLAN tags: the third is not followed", b_vlan3, 0,
	  .eth_proto = PKT_ETH_8021Q, .vlan_cnt = 2, .vlan = { 1, 2 } },
	{ "802.1Q tag cut after 2 bytes", b_vlan_cut, TRUNC, .eth_proto = PKT_ETH_8021Q },
	{ "ARP request: not IP", b_arp, 0, .eth_proto = PKT_ETH_ARP },
	{ "LLDP: not IP", b_lldp, 0, .eth_proto = 0x88cc },
	/* IPv6 */
	{ "IPv6 TCP ACK", b_v6_tcp, L3 | L4, IP6, .ip_ver = 6, .l4_proto = 6,
	  .src = "2001:db8:aaaa::1", .dst = "fe80::1234", .l4_off = 54,
	  .payload_off = 74, .sport = 22, .dport = 50000, .tcp_flags = TH_ACK },
	{ "IPv6 UDP 40000 -> 4789", b_v6_udp, L3 | L4, IP6, .ip_ver = 6, .l4_proto = 17,
	  V6A, .l4_off = 54, .payload_off = 62, .sport = 40000, .dport = 4789 },
	{ "IPv6 hop-by-hop, dstopts (16), routing, then UDP", b_v6_chain_udp,
	  L3 | L4 | EXT, IP6, .ip_ver = 6, .l4_proto = 17, V6A, .l4_off = 86,
	  .sport = 546, .dport = 547 },
	{ "IPv6 AH (24 bytes) then TCP", b_v6_ah_tcp, L3 | L4 | EXT, IP6, .ip_ver = 6,
	  .l4_proto = 6, V6A, .l4_off = 78, .sport = 500, .dport = 4500,
	  .tcp_flags = TH_SYN | TH_ACK },
	{ "IPv6 first fragment (offset 0, M), UDP", b_v6_frag_first,
	  L3 | L4 | FRAG | EXT, IP6, .ip_ver = 6, .l4_proto = 17, V6A, .l4_off = 62,
	  .sport = 7000, .dport = 53 },
	{ "IPv6 later fragment (offset 100): no L4", b_v6_frag_later,
	  L3 | FRAG | LATER | EXT, IP6, .ip_ver = 6, .l4_proto = 17, V6A },
	{ "IPv6 hop-by-hop then last fragment (offset 8)", b_v6_hbh_frag_later,
	  L3 | FRAG | LATER | EXT, IP6, .ip_ver = 6, .l4_proto = 6, V6A },
	{ "IPv6 six extension headers (the limit), UDP", b_v6_six_ext_udp,
	  L3 | L4 | EXT, IP6, .ip_ver = 6, .l4_proto = 17, V6A, .l4_off = 102,
	  .sport = 1111, .dport = 2222 },
	/* beyond FFPF_MAX_IP6_EXT the parser stops and says so (DEEP):
	 * l4_proto is the 7th header, and the root counts the packet */
	{ "IPv6 seven extension headers: transport not reached", b_v6_seven_ext_udp,
	  L3 | EXT | DEEP, IP6, .ip_ver = 6, .l4_proto = PKT_P_DSTOPTS, V6A },
	{ "IPv6 hop-by-hop claiming 24 bytes, frame ends after 8", b_v6_ext_past_end,
	  L3 | EXT | TRUNC, IP6, .ip_ver = 6, .l4_proto = 17, V6A },
	{ "IPv6 hop-by-hop cut after 4 bytes", b_v6_ext_cut4, L3 | TRUNC, IP6,
	  .ip_ver = 6, .l4_proto = PKT_P_HOPOPTS, V6A },
	{ "IPv6 routing (16 bytes) runs past the end, dstopts next", b_v6_rt_then_dst_past_end,
	  L3 | EXT | TRUNC, IP6, .ip_ver = 6, .l4_proto = PKT_P_DSTOPTS, V6A },
	/* FFPF_MAX_HDR_OFF: transport headers past byte 512 are not read */
	{ "IPv6 568-byte dstopts: UDP beyond the 512-byte horizon", b_v6_huge_dstopts,
	  L3 | EXT | DEEP, IP6, .ip_ver = 6, .l4_proto = 17, V6A },
	{ "IPv6 ICMPv6 echo request id 7", b_v6_icmp_echo, L3 | L4, IP6, .ip_ver = 6,
	  .l4_proto = 58, V6A, .l4_off = 54, .payload_off = 62, .sport = 0x8000,
	  .dport = 7, .icmp_type = 128 },
	{ "IPv6 SCTP 38412 -> 38412", b_v6_sctp, L3 | L4, IP6, .ip_ver = 6,
	  .l4_proto = 132, V6A, .l4_off = 54, .payload_off = 66, .sport = 38412,
	  .dport = 38412 },
	{ "IPv6 no next header (59)", b_v6_no_next, L3, IP6, .ip_ver = 6,
	  .l4_proto = PKT_P_NONE, V6A },
	{ "IPv6 header cut at 30 bytes", b_v6_hdr_cut, TRUNC, IP6 },
	{ "IPv6 ethertype, IP version 4", b_v6_version4, BAD, IP6 },
	{ "802.1Q tag 7, IPv6 TCP FIN|ACK", b_vlan_v6_tcp, L3 | L4, IP6, .vlan_cnt = 1,
	  .vlan = { 7 }, .ip_ver = 6, .l4_proto = 6, V6A, .l4_off = 58,
	  .sport = 8080, .dport = 443, .tcp_flags = TH_FIN | TH_ACK },
};

#define NROWS	(sizeof(rows) / sizeof(rows[0]))

/* 16-byte form of an address as the parser stores it (IPv4 v4-mapped). */
static void addr16(const char *s, __u8 out[16])
{
	memset(out, 0, 16);
	if (!s)
		return;
	if (strchr(s, ':')) {
		cr_assert_eq(inet_pton(AF_INET6, s, out), 1, "bad fixture address %s", s);
	} else {
		out[10] = out[11] = 0xff;
		cr_assert_eq(inet_pton(AF_INET, s, out + 12), 1, "bad fixture address %s", s);
	}
}

static void check_row(const struct prow *r, const struct pkt *p,
		      const struct ffpf_pkt *c)
{
	const char *d = r->desc;
	__u8 a[16];

	cr_expect_eq(c->flags, r->flags, "[%s] flags 0x%02x, want 0x%02x (frame %s)",
		     d, c->flags, r->flags, tf_hex(p));
	cr_expect_eq(c->len, p->len, "[%s] len %u, want %zu", d, c->len, p->len);
	cr_expect_eq(c->eth_proto, r->eth_proto, "[%s] eth_proto 0x%04x, want 0x%04x",
		     d, c->eth_proto, r->eth_proto);
	cr_expect_eq(c->vlan_cnt, r->vlan_cnt, "[%s] vlan_cnt %u, want %u", d,
		     c->vlan_cnt, r->vlan_cnt);
	cr_expect_eq(c->vlan_id[0], r->vlan[0], "[%s] outer vlan %u, want %u", d,
		     c->vlan_id[0], r->vlan[0]);
	cr_expect_eq(c->vlan_id[1], r->vlan[1], "[%s] inner vlan %u, want %u", d,
		     c->vlan_id[1], r->vlan[1]);
	cr_expect_eq(c->ip_ver, r->ip_ver, "[%s] ip_ver %u, want %u", d, c->ip_ver,
		     r->ip_ver);
	cr_expect_eq(c->l4_proto, r->l4_proto, "[%s] l4_proto %u, want %u", d,
		     c->l4_proto, r->l4_proto);
	cr_expect_eq(c->sport, r->sport, "[%s] sport %u, want %u", d, c->sport, r->sport);
	cr_expect_eq(c->dport, r->dport, "[%s] dport %u, want %u", d, c->dport, r->dport);
	cr_expect_eq(c->tcp_flags, r->tcp_flags, "[%s] tcp_flags 0x%02x, want 0x%02x",
		     d, c->tcp_flags, r->tcp_flags);
	cr_expect_eq(c->icmp_type, r->icmp_type, "[%s] icmp_type %u, want %u", d,
		     c->icmp_type, r->icmp_type);
	cr_expect_eq(c->icmp_code, r->icmp_code, "[%s] icmp_code %u, want %u", d,
		     c->icmp_code, r->icmp_code);
	addr16(r->src, a);
	cr_expect_eq(memcmp(c->saddr, a, 16), 0, "[%s] saddr differs from %s", d,
		     r->src ? r->src : "zero");
	addr16(r->dst, a);
	cr_expect_eq(memcmp(c->daddr, a, 16), 0, "[%s] daddr differs from %s", d,
		     r->dst ? r->dst : "zero");
	if (r->flags & L3)
		cr_expect_eq(c->l3_off, 14 + 4 * r->vlan_cnt, "[%s] l3_off %u, want %u",
			     d, c->l3_off, 14 + 4 * r->vlan_cnt);
	if ((r->flags & L4) && r->l4_off)
		cr_expect_eq(c->l4_off, r->l4_off, "[%s] l4_off %u, want %u", d,
			     c->l4_off, r->l4_off);
	if ((r->flags & L4) && r->payload_off)
		cr_expect_eq(c->payload_off, r->payload_off,
			     "[%s] payload_off %u, want %u", d, c->payload_off,
			     r->payload_off);
}

TestSuite(parser, .init = tf_setup, .timeout = 60);

Test(parser, table_through_root_program)
{
	struct ffpf_flow *f = tf_flow("count", true);
	int idx = ffpf_flow_index(f);
	struct ffpf_iface_stats before = tf_iface(f), after;
	__u64 want_trunc = 0, want_bad = 0, want_nonip = 0, want_bytes = 0, seq;
	struct ffpf_pkt c;

	cr_assert_geq(NROWS, 30);
	tf_pctx(f, &c);
	seq = c.seq;
	for (size_t i = 0; i < NROWS; i++) {
		const struct prow *r = &rows[i];
		struct ffpf_flow_stats s0 = tf_stats(f), s1;
		struct pkt p;
		__u32 verdict;

		r->build(&p);
		verdict = tf_run(f, &p);
		cr_expect_eq(verdict, 2 /* XDP_PASS */, "[%s] XDP verdict %u, want XDP_PASS",
			     r->desc, verdict);
		tf_pctx(f, &c);
		check_row(r, &p, &c);
		cr_expect_eq(c.seq, seq + 1, "[%s] seq %llu, want %llu", r->desc,
			     (unsigned long long)c.seq, (unsigned long long)seq + 1);
		seq = c.seq;
		/* `count` accepts everything, malformed or not */
		cr_expect_eq(c.matched, 1ULL << idx, "[%s] matched 0x%llx, want 0x%llx",
			     r->desc, (unsigned long long)c.matched, 1ULL << idx);
		s1 = tf_stats(f);
		cr_expect_eq(s1.packets - s0.packets, 1, "[%s] flow packets +%llu, want +1",
			     r->desc, (unsigned long long)(s1.packets - s0.packets));
		cr_expect_eq(s1.bytes - s0.bytes, p.len, "[%s] flow bytes +%llu, want +%zu",
			     r->desc, (unsigned long long)(s1.bytes - s0.bytes), p.len);

		want_trunc += !!(r->flags & TRUNC);
		want_bad += !!(r->flags & BAD);
		want_nonip += !(r->flags & L3);
		want_bytes += p.len;
	}

	after = tf_iface(f);
	cr_expect_eq(after.rx_packets - before.rx_packets, NROWS,
		     "rx_packets +%llu, want +%zu",
		     (unsigned long long)(after.rx_packets - before.rx_packets), NROWS);
	cr_expect_eq(after.rx_bytes - before.rx_bytes, want_bytes,
		     "rx_bytes +%llu, want +%llu",
		     (unsigned long long)(after.rx_bytes - before.rx_bytes),
		     (unsigned long long)want_bytes);
	cr_expect_eq(after.truncated - before.truncated, want_trunc,
		     "truncated +%llu, want +%llu",
		     (unsigned long long)(after.truncated - before.truncated),
		     (unsigned long long)want_trunc);
	cr_expect_eq(after.malformed - before.malformed, want_bad,
		     "malformed +%llu, want +%llu",
		     (unsigned long long)(after.malformed - before.malformed),
		     (unsigned long long)want_bad);
	cr_expect_eq(after.non_ip - before.non_ip, want_nonip, "non_ip +%llu, want +%llu",
		     (unsigned long long)(after.non_ip - before.non_ip),
		     (unsigned long long)want_nonip);
	cr_expect_eq(after.matched - before.matched, NROWS, "matched +%llu, want +%zu",
		     (unsigned long long)(after.matched - before.matched), NROWS);
	cr_expect_eq(after.missed - before.missed, 0, "missed +%llu, want 0",
		     (unsigned long long)(after.missed - before.missed));
	ffpf_flow_close(f);
}

/*
 * The parser's "shorter than an Ethernet header" branch cannot be reached
 * from XDP: the kernel keeps at least ETH_HLEN bytes in every XDP buffer
 * and BPF_PROG_TEST_RUN refuses shorter data. Check that the refusal is
 * what happens (and that nothing was counted), rather than a crash.
 */
Test(parser, frames_shorter_than_ethernet_are_refused_by_the_kernel)
{
	struct ffpf_flow *f = tf_flow("count", true);
	struct ffpf_iface_stats before = tf_iface(f), after;

	for (size_t n = 1; n < 14; n++) {
		struct pkt p;
		__u32 ret;
		int err;

		b_v4_udp(&p);
		pkt_cut(&p, n);
		err = tf_try_run(f, &p, &ret);
		cr_expect_eq(err, -EINVAL, "[%zu-byte frame] test run returned %d, want -EINVAL",
			     n, err);
	}
	after = tf_iface(f);
	cr_expect_eq(after.rx_packets, before.rx_packets, "a refused frame was counted");
	ffpf_flow_close(f);
}

/* The packet context is rewritten whole: nothing leaks from the previous packet. */
Test(parser, context_is_reset_between_packets)
{
	struct ffpf_flow *f = tf_flow("count", true);
	struct ffpf_pkt c;
	struct pkt p;

	b_qinq_udp(&p);			/* fills vlan, ports, addresses */
	cr_assert_eq(tf_run(f, &p), 2);
	b_arp(&p);
	cr_assert_eq(tf_run(f, &p), 2);
	tf_pctx(f, &c);
	check_row(&(struct prow){ "ARP after a QinQ UDP packet", b_arp, 0,
				  .eth_proto = PKT_ETH_ARP }, &p, &c);
	cr_expect_eq(c.l4_off, 0, "l4_off %u left from the previous packet", c.l4_off);
	cr_expect_eq(c.payload_off, 0, "payload_off %u left over", c.payload_off);
	ffpf_flow_close(f);
}
