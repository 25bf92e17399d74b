/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * pkt.h - a tiny packet builder for the BPF_PROG_TEST_RUN fixtures.
 *
 * Every function appends one header to the frame, in wire order:
 *
 *	struct pkt p;
 *	pkt_init(&p);
 *	pkt_eth(&p, PKT_ETH_8021AD);		// outer TPID
 *	pkt_vlan(&p, 100, PKT_ETH_8021Q);	// outer TCI, inner TPID
 *	pkt_vlan(&p, 200, PKT_ETH_IP);		// inner TCI, ethertype
 *	pkt_ipv4(&p, &(struct ip4){ .src = "10.0.0.1", .dst = "10.0.0.2",
 *				     .proto = PKT_P_UDP });
 *	pkt_udp(&p, 1234, 53);
 *	pkt_cut(&p, 30);			// optional: truncate to 30 bytes
 *
 * Lengths (IPv4 total length, IPv6 payload length, UDP length) are filled
 * in as headers are appended; checksums are left zero: the parser never
 * looks at them.
 */
#ifndef FFPF_TEST_PKT_H
#define FFPF_TEST_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define PKT_MAX		2048

/* Ethertypes and IP protocol numbers, so fixtures need no system header. */
#define PKT_ETH_IP	0x0800
#define PKT_ETH_ARP	0x0806
#define PKT_ETH_8021Q	0x8100
#define PKT_ETH_8021AD	0x88A8
#define PKT_ETH_IPV6	0x86DD

#define PKT_P_HOPOPTS	0
#define PKT_P_ICMP	1
#define PKT_P_TCP	6
#define PKT_P_UDP	17
#define PKT_P_ROUTING	43
#define PKT_P_FRAGMENT	44
#define PKT_P_AH	51
#define PKT_P_ICMPV6	58
#define PKT_P_NONE	59
#define PKT_P_DSTOPTS	60
#define PKT_P_SCTP	132

/* TCP flag bits, as in byte 13 of the header. */
#define TH_FIN	0x01
#define TH_SYN	0x02
#define TH_RST	0x04
#define TH_PSH	0x08
#define TH_ACK	0x10
#define TH_URG	0x20
#define TH_ECE	0x40
#define TH_CWR	0x80

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;
	int l3_off;		/* last IP header appended, -1 if none */
	int l3_ver;
	int udp_off;		/* last UDP header appended, -1 if none */
};

struct ip4 {
	const char *src, *dst;	/* dotted quads; NULL: 10.0.0.1 / 10.0.0.2 */
	uint8_t proto;
	uint8_t version;	/* 0: 4 (set another value for a bad header) */
	uint8_t ihl;		/* 0: 5 + optlen / 4 (set < 5 for a bad header) */
	uint8_t optlen;		/* bytes of options, a multiple of 4 (<= 40) */
	uint16_t frag_off;	/* fragment offset in 8-byte units */
	bool mf;		/* more fragments */
	bool df;
};

struct ip6 {
	const char *src, *dst;	/* NULL: 2001:db8::1 / 2001:db8::2 */
	uint8_t next;		/* next header */
	uint8_t version;	/* 0: 6 */
};

void pkt_init(struct pkt *p);

/* dst MAC, src MAC, ethertype (or a TPID if pkt_vlan follows). */
void pkt_eth(struct pkt *p, uint16_t type);
/*
 * One VLAN tag: its 16-bit TCI (PCP, DEI and the 12-bit VLAN id; a plain
 * id is a TCI with PCP 0) and the next ethertype or TPID.
 */
void pkt_vlan(struct pkt *p, uint16_t tci, uint16_t next_type);

void pkt_ipv4(struct pkt *p, const struct ip4 *o);
void pkt_ipv6(struct pkt *p, const struct ip6 *o);
/*
 * Hop-by-hop, routing or destination options header (they share one
 * layout): next header @next, Hdr Ext Len @len8 (so (len8 + 1) * 8 bytes).
 * The type of this header is the previous header's next-header value.
 */
void pkt_ip6_ext(struct pkt *p, uint8_t next, uint8_t len8);
/* Fragment header: @offset in 8-byte units, M flag @mf. */
void pkt_ip6_frag(struct pkt *p, uint8_t next, uint16_t offset, bool mf);
/* Authentication header: Payload Len @len4 (so (len4 + 2) * 4 bytes). */
void pkt_ip6_ah(struct pkt *p, uint8_t next, uint8_t len4);

/* @doff 0: 5; a @doff above 5 appends NOP options to fill doff * 4 bytes. */
void pkt_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint8_t flags,
	     uint8_t doff);
void pkt_udp(struct pkt *p, uint16_t sport, uint16_t dport);
/* ICMP or ICMPv6: type, code, checksum, then 16-bit id and sequence. */
void pkt_icmp(struct pkt *p, uint8_t type, uint8_t code, uint16_t id);
void pkt_sctp(struct pkt *p, uint16_t sport, uint16_t dport);
/* An Ethernet/IPv4 ARP request body (28 bytes). */
void pkt_arp(struct pkt *p);
void pkt_payload(struct pkt *p, size_t n, uint8_t fill);

/* A whole Ethernet/IPv4/UDP frame (10.0.0.1 -> 10.0.0.2) with @payload zero bytes. */
struct pkt pkt_udp4(uint16_t sport, uint16_t dport, size_t payload);

/* Ethernet/IPv4/UDP or TCP between dotted quads @src and @dst, payload bytes 0x5a. */
struct pkt pkt_udp4_ab(const char *src, const char *dst, uint16_t sport, uint16_t dport,
			size_t payload);
struct pkt pkt_tcp4_ab(const char *src, const char *dst, uint16_t sport, uint16_t dport,
		       uint8_t flags, size_t payload);

/* Cut the frame to @n bytes (no-op if it is shorter already). */
void pkt_cut(struct pkt *p, size_t n);

#endif /* FFPF_TEST_PKT_H */
