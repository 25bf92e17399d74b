/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * parse.h - the one packet parser, run by the root program before any
 * stage. It never fails: what it cannot read is recorded in ffpf_pkt.flags
 * (TRUNC, BAD) and later stages simply see fewer valid fields.
 */
#ifndef FFPF_BPF_PARSE_H
#define FFPF_BPF_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <ffpf/abi.h>

#define ETH_P_IP_	0x0800
#define ETH_P_IPV6_	0x86DD
#define ETH_P_8021Q_	0x8100
#define ETH_P_8021AD_	0x88A8

#define IPPROTO_HOPOPTS_	0
#define IPPROTO_ICMP_		1
#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17
#define IPPROTO_ROUTING_	43
#define IPPROTO_FRAGMENT_	44
#define IPPROTO_AH_		51
#define IPPROTO_ICMPV6_		58
#define IPPROTO_DSTOPTS_	60
#define IPPROTO_SCTP_		132

/* Longest header chain we follow; keeps offsets provably bounded. */
#define FFPF_MAX_HDR_OFF	512
#define FFPF_MAX_IP6_EXT	6

/* True if [off, off+len) lies inside the packet. */
#define FFPF_HAS(data, end, off, len) \
	((void *)(data) + (off) + (len) <= (void *)(end))

static __always_inline void ffpf_parse_l4(void *data, void *end, __u32 off,
					  struct ffpf_pkt *p)
{
	p->l4_off = off;
	if (off > FFPF_MAX_HDR_OFF) {
		p->flags |= FFPF_PF_DEEP;
		return;
	}
	switch (p->l4_proto) {
	case IPPROTO_TCP_: {
		struct tcphdr *th = data + off;

		if (!FFPF_HAS(data, end, off, sizeof(*th))) {
			p->flags |= FFPF_PF_TRUNC;
			return;
		}
		if (th->doff < 5) {
			p->flags |= FFPF_PF_BAD;
			return;
		}
		p->sport = bpf_ntohs(th->source);
		p->dport = bpf_ntohs(th->dest);
		/* byte 13 of the TCP header holds the eight flag bits */
		p->tcp_flags = ((__u8 *)th)[13];
		/* ports and flags are valid; options may run past the end */
		if (!FFPF_HAS(data, end, off, th->doff * 4))
			p->flags |= FFPF_PF_TRUNC;
		else
			p->payload_off = off + th->doff * 4;
		break;
	}
	case IPPROTO_UDP_:
	case IPPROTO_SCTP_: {
		/* both start with 16-bit source and destination ports */
		__u32 hlen = p->l4_proto == IPPROTO_UDP_ ? 8 : 12;
		__be16 *ports = data + off;

		if (!FFPF_HAS(data, end, off, 8) ||
		    (hlen == 12 && !FFPF_HAS(data, end, off, 12))) {
			p->flags |= FFPF_PF_TRUNC;
			return;
		}
		p->sport = bpf_ntohs(ports[0]);
		p->dport = bpf_ntohs(ports[1]);
		p->payload_off = off + hlen;
		break;
	}
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_: {
		__u8 *ic = data + off;

		if (!FFPF_HAS(data, end, off, 4)) {
			p->flags |= FFPF_PF_TRUNC;
			return;
		}
		p->icmp_type = ic[0];
		p->icmp_code = ic[1];
		p->sport = (__u16)ic[0] << 8 | ic[1];
		if (FFPF_HAS(data, end, off, 8)) {
			p->dport = bpf_ntohs(*(__be16 *)(ic + 4));
			p->payload_off = off + 8;
		} else {
			p->flags |= FFPF_PF_TRUNC;	/* type/code valid, rest cut */
		}
		break;
	}
	default:
		/* unknown transport: L3 fields are still valid */
		return;
	}
	p->flags |= FFPF_PF_L4;
}

static __always_inline void ffpf_parse_ipv4(void *data, void *end, __u32 off,
					    struct ffpf_pkt *p)
{
	struct iphdr *iph = data + off;
	__u32 hlen;

	if (!FFPF_HAS(data, end, off, sizeof(*iph))) {
		p->flags |= FFPF_PF_TRUNC;
		return;
	}
	hlen = iph->ihl * 4;
	if (iph->version != 4 || hlen < sizeof(*iph)) {
		p->flags |= FFPF_PF_BAD;
		return;
	}
	if (!FFPF_HAS(data, end, off, hlen)) {
		p->flags |= FFPF_PF_TRUNC;
		return;
	}
	if (hlen > sizeof(*iph))
		p->flags |= FFPF_PF_IPOPTS;
	p->ip_ver = 4;
	p->l4_proto = iph->protocol;
	/* v4-mapped: ::ffff:a.b.c.d */
	p->saddr[10] = p->saddr[11] = 0xff;
	p->daddr[10] = p->daddr[11] = 0xff;
	__builtin_memcpy(&p->saddr[12], &iph->saddr, 4);
	__builtin_memcpy(&p->daddr[12], &iph->daddr, 4);
	p->flags |= FFPF_PF_L3;
	if (iph->frag_off & bpf_htons(0x3fff)) {	/* MF or offset */
		p->flags |= FFPF_PF_FRAG;
		if (iph->frag_off & bpf_htons(0x1fff)) {
			p->flags |= FFPF_PF_FRAG_LATER;
			return;
		}
	}
	ffpf_parse_l4(data, end, off + hlen, p);
}

static __always_inline void ffpf_parse_ipv6(void *data, void *end, __u32 off,
					    struct ffpf_pkt *p)
{
	struct ipv6hdr *ip6 = data + off;
	__u8 nexthdr;
	int i;

	if (!FFPF_HAS(data, end, off, sizeof(*ip6))) {
		p->flags |= FFPF_PF_TRUNC;
		return;
	}
	if (ip6->version != 6) {
		p->flags |= FFPF_PF_BAD;
		return;
	}
	p->ip_ver = 6;
	__builtin_memcpy(p->saddr, &ip6->saddr, 16);
	__builtin_memcpy(p->daddr, &ip6->daddr, 16);
	p->flags |= FFPF_PF_L3;
	nexthdr = ip6->nexthdr;
	off += sizeof(*ip6);

#pragma unroll
	for (i = 0; i < FFPF_MAX_IP6_EXT; i++) {
		__u8 *eh = data + off;
		__u32 elen;

		if (nexthdr != IPPROTO_HOPOPTS_ && nexthdr != IPPROTO_ROUTING_ &&
		    nexthdr != IPPROTO_DSTOPTS_ && nexthdr != IPPROTO_FRAGMENT_ &&
		    nexthdr != IPPROTO_AH_)
			break;
		if (off > FFPF_MAX_HDR_OFF) {
			p->flags |= FFPF_PF_DEEP;
			p->l4_proto = nexthdr;
			return;
		}
		if (!FFPF_HAS(data, end, off, 8)) {
			p->flags |= FFPF_PF_TRUNC;
			p->l4_proto = nexthdr;
			return;
		}
		p->flags |= FFPF_PF_EXTHDR;
		if (nexthdr == IPPROTO_FRAGMENT_) {
			p->flags |= FFPF_PF_FRAG;
			elen = 8;
			/* offset in the upper 13 bits of bytes 2-3 */
			if (bpf_ntohs(*(__be16 *)(eh + 2)) & 0xfff8) {
				p->l4_proto = eh[0];
				p->flags |= FFPF_PF_FRAG_LATER;
				return;
			}
		} else if (nexthdr == IPPROTO_AH_) {
			elen = ((__u32)eh[1] + 2) * 4;
		} else {
			elen = ((__u32)eh[1] + 1) * 8;
		}
		nexthdr = eh[0];
		off += elen;
	}
	p->l4_proto = nexthdr;
	if (nexthdr == IPPROTO_HOPOPTS_ || nexthdr == IPPROTO_ROUTING_ ||
	    nexthdr == IPPROTO_DSTOPTS_ || nexthdr == IPPROTO_FRAGMENT_ ||
	    nexthdr == IPPROTO_AH_) {
		/* still an extension header after FFPF_MAX_IP6_EXT of them */
		p->flags |= FFPF_PF_DEEP;
		return;
	}
	ffpf_parse_l4(data, end, off, p);
}

/* Fill *p from the packet [data, end). p is a reused per-CPU slot. */
static __always_inline void ffpf_parse(void *data, void *end, struct ffpf_pkt *p)
{
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	__u16 proto;
	__u64 seq = p->seq + 1;
	int i;

	__builtin_memset(p, 0, sizeof(*p));
	p->seq = seq;
	p->cpu = bpf_get_smp_processor_id();
	p->len = end - data;
	if (!FFPF_HAS(data, end, 0, sizeof(*eth))) {
		p->flags |= FFPF_PF_TRUNC;
		return;
	}
	proto = bpf_ntohs(eth->h_proto);

#pragma unroll
	for (i = 0; i < 2; i++) {
		__be16 *tag = data + off;

		if (proto != ETH_P_8021Q_ && proto != ETH_P_8021AD_)
			break;
		if (!FFPF_HAS(data, end, off, 4)) {
			p->flags |= FFPF_PF_TRUNC;
			p->eth_proto = proto;
			return;
		}
		p->vlan_id[i] = bpf_ntohs(tag[0]) & 0x0fff;
		p->vlan_cnt = i + 1;
		proto = bpf_ntohs(tag[1]);
		off += 4;
	}
	p->eth_proto = proto;
	p->l3_off = off;
	if (proto == ETH_P_IP_)
		ffpf_parse_ipv4(data, end, off, p);
	else if (proto == ETH_P_IPV6_)
		ffpf_parse_ipv6(data, end, off, p);
}

#endif /* FFPF_BPF_PARSE_H */
