/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * match.h - evaluate a struct ffpf_match_cfg against a parsed packet.
 * Used by the `match` stage and by the root's per-flow guard, so the two
 * can never disagree.
 */
#ifndef FFPF_BPF_MATCH_H
#define FFPF_BPF_MATCH_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <ffpf/mbuf.h>

/* First plen bits of a and prefix equal? (prefix is stored pre-masked) */
static __always_inline bool ffpf_prefix_eq(const __u8 *a, const __u8 *pfx, __u32 plen)
{
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) {
		__u32 wa, wp, mask;
		int bits = (int)plen - 32 * i;

		if (bits <= 0)
			break;
		__builtin_memcpy(&wa, a + 4 * i, 4);
		__builtin_memcpy(&wp, pfx + 4 * i, 4);
		mask = bits >= 32 ? 0xffffffffu : bpf_htonl(~0u << (32 - bits));
		if ((wa ^ wp) & mask)
			return false;
	}
	return true;
}

static __always_inline bool ffpf_in_range(__u16 v, __u16 lo, __u16 hi)
{
	return v >= lo && v <= hi;
}

static __always_inline bool ffpf_has_ports(const struct ffpf_pkt *p)
{
	return (p->flags & FFPF_PF_L4) &&
	       (p->l4_proto == 6 || p->l4_proto == 17 || p->l4_proto == 132);
}

static __always_inline bool ffpf_match_eval(const struct ffpf_match_cfg *c,
					    const struct ffpf_pkt *p)
{
	__u32 f = c->fields;

	if (!f)
		return true;
	if ((f & FFPF_M_IPVER) && p->ip_ver != c->ip_ver)
		return false;
	if ((f & FFPF_M_PROTO) && (!(p->flags & FFPF_PF_L3) || p->l4_proto != c->l4_proto))
		return false;
	if (f & (FFPF_M_SRC | FFPF_M_DST | FFPF_M_ANYADDR)) {
		if (!(p->flags & FFPF_PF_L3))
			return false;
		if ((f & FFPF_M_SRC) && !ffpf_prefix_eq(p->saddr, c->src, c->src_plen))
			return false;
		if ((f & FFPF_M_DST) && !ffpf_prefix_eq(p->daddr, c->dst, c->dst_plen))
			return false;
		if ((f & FFPF_M_ANYADDR) &&
		    !ffpf_prefix_eq(p->saddr, c->any, c->any_plen) &&
		    !ffpf_prefix_eq(p->daddr, c->any, c->any_plen))
			return false;
	}
	if (f & (FFPF_M_SPORT | FFPF_M_DPORT | FFPF_M_ANYPORT)) {
		if (!ffpf_has_ports(p))
			return false;
		if ((f & FFPF_M_SPORT) && !ffpf_in_range(p->sport, c->sport_lo, c->sport_hi))
			return false;
		if ((f & FFPF_M_DPORT) && !ffpf_in_range(p->dport, c->dport_lo, c->dport_hi))
			return false;
		if ((f & FFPF_M_ANYPORT) &&
		    !ffpf_in_range(p->sport, c->port_lo, c->port_hi) &&
		    !ffpf_in_range(p->dport, c->port_lo, c->port_hi))
			return false;
	}
	if ((f & FFPF_M_TCPFLAGS) &&
	    (!(p->flags & FFPF_PF_L4) || p->l4_proto != 6 ||
	     (p->tcp_flags & c->tcp_mask) != c->tcp_value))
		return false;
	if ((f & FFPF_M_ANYVLAN) && !p->vlan_cnt)
		return false;
	if ((f & FFPF_M_VLAN) &&
	    !((p->vlan_cnt >= 1 && p->vlan_id[0] == c->vlan_id) ||
	      (p->vlan_cnt >= 2 && p->vlan_id[1] == c->vlan_id)))
		return false;
	if ((f & FFPF_M_ICMPTYPE) &&
	    (!(p->flags & FFPF_PF_L4) || (p->l4_proto != 1 && p->l4_proto != 58) ||
	     p->icmp_type != c->icmp_type))
		return false;
	return true;
}

#endif /* FFPF_BPF_MATCH_H */
