/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * gen.h - what ffpf-gen's sender program (gen.bpf.c) and its user space
 * (ffpf-gen.c) share: the frame templates and the per-packet rewrite.
 *
 * A template is the first GEN_HDR bytes of a frame (Ethernet + IPv4 + an
 * L4 header, checksums correct for flow 0); the rest of the frame, the
 * payload, is the same in every packet. Packet n is template n % ntmpl,
 * flow n % nflows; flow f has source port sport_base + f % nsport and
 * source address src + f / nsport. gen_fill() writes the template over the
 * frame and patches ports, address and checksums (RFC 1624 increments from
 * the template's values, so the frame's earlier contents do not matter:
 * with BPF_F_TEST_XDP_LIVE_FRAMES the kernel recycles pages without
 * resetting their data).
 *
 * Both compilers (clang -target bpf, cc) build gen_fill() from this file:
 * the sequence of packets is the same in both modes.
 */
#ifndef FFPF_TOOLS_GEN_H
#define FFPF_TOOLS_GEN_H

#define GEN_HDR		56	/* 14 Ethernet + 20 IPv4 + 20 TCP + 2 */
#define GEN_TMPL_MAX	8
#define GEN_L4_OFF	34	/* IPv4 without options */

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define GEN_BE16(x)	((__u16)__builtin_bswap16((__u16)(x)))
#else
#define GEN_BE16(x)	((__u16)(x))
#endif

struct gen_tmpl {
	__u8 hdr[GEN_HDR];	/* the frame's first bytes, flow 0 */
	__u8 csum_off;		/* L4 checksum offset from GEN_L4_OFF */
	__u8 udp;		/* a UDP checksum of 0 is sent as 0xffff */
	__u8 pad[6];
};

struct gen_cfg {
	struct gen_tmpl tmpl[GEN_TMPL_MAX];
	__u32 ntmpl;		/* 1..GEN_TMPL_MAX */
	__u32 nflows;		/* >= 1 */
	__u32 nsport;		/* source ports per source address */
	__u16 sport_base;	/* host order */
	__u16 pad;
	__u32 saddr;		/* flow 0's source address, host order */
};

/* Where the next packet is: kept by the BPF program (a global) or the
 * AF_PACKET loop. */
struct gen_state {
	__u64 n;		/* packets built */
	__u32 tmpl;		/* n % ntmpl */
	__u32 sport;		/* (n % nflows) % nsport */
	__u32 sa;		/* (n % nflows) / nsport */
	__u32 flow;		/* n % nflows */
};

/* One's complement: checksum @csum (as stored) after a 16-bit word of the
 * covered data went from @from to @to (all three in network order). */
static __always_inline __u16 gen_csum_replace(__u16 csum, __u16 from, __u16 to)
{
	__u32 s = (__u16)~csum;

	s += (__u16)~from;
	s += to;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static __always_inline void gen_put16(__u8 *p, __u16 be)
{
	__builtin_memcpy(p, &be, 2);
}

/*
 * Write packet st->n into frame @f (at least GEN_HDR bytes) and advance
 * @st. @c must stay constant while a sequence is generated.
 */
static __always_inline void gen_fill(__u8 *f, const struct gen_cfg *c, struct gen_state *st)
{
	const struct gen_tmpl *t;
	__u32 ti = st->tmpl;
	__u16 sp_old, sp_new, hi_old, hi_new, lo_old, lo_new, ip_sum, l4_sum;
	__u32 sa_new;
	__u8 off;

	if (ti >= GEN_TMPL_MAX)
		ti = 0;
	t = &c->tmpl[ti];
	__builtin_memcpy(f, t->hdr, GEN_HDR);

	sp_old = GEN_BE16(c->sport_base);
	sp_new = GEN_BE16(c->sport_base + st->sport);
	sa_new = c->saddr + st->sa;
	hi_old = GEN_BE16(c->saddr >> 16);
	lo_old = GEN_BE16(c->saddr & 0xffff);
	hi_new = GEN_BE16(sa_new >> 16);
	lo_new = GEN_BE16(sa_new & 0xffff);

	/* IPv4 header checksum: the source address */
	__builtin_memcpy(&ip_sum, f + 24, 2);
	ip_sum = gen_csum_replace(ip_sum, hi_old, hi_new);
	ip_sum = gen_csum_replace(ip_sum, lo_old, lo_new);
	gen_put16(f + 24, ip_sum);
	gen_put16(f + 26, hi_new);
	gen_put16(f + 28, lo_new);

	/* L4: source port, and the address in the pseudo header */
	gen_put16(f + GEN_L4_OFF, sp_new);
	off = t->csum_off;
	if (off == 6 || off == 16) {
		__builtin_memcpy(&l4_sum, f + GEN_L4_OFF + off, 2);
		l4_sum = gen_csum_replace(l4_sum, hi_old, hi_new);
		l4_sum = gen_csum_replace(l4_sum, lo_old, lo_new);
		l4_sum = gen_csum_replace(l4_sum, sp_old, sp_new);
		if (t->udp && !l4_sum)
			l4_sum = 0xffff;
		gen_put16(f + GEN_L4_OFF + off, l4_sum);
	}

	/* next packet */
	st->n++;
	if (++st->tmpl >= c->ntmpl)
		st->tmpl = 0;
	if (++st->flow >= c->nflows) {
		st->flow = 0;
		st->sport = 0;
		st->sa = 0;
	} else if (++st->sport >= c->nsport) {
		st->sport = 0;
		st->sa++;
	}
}

#endif /* FFPF_TOOLS_GEN_H */
