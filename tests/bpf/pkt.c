// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pkt.c - the fixture packet builder (see pkt.h). */
#include <assert.h>
#include <string.h>
#include <arpa/inet.h>
#include "pkt.h"

static uint8_t *grow(struct pkt *p, size_t n)
{
	uint8_t *h;

	assert(p->len + n <= PKT_MAX);
	h = p->b + p->len;
	memset(h, 0, n);
	p->len += n;
	return h;
}

static void put16(uint8_t *at, uint16_t v)
{
	at[0] = v >> 8;
	at[1] = v & 0xff;
}

/* Length fields of the enclosing headers cover everything appended so far. */
static void fix_lengths(struct pkt *p)
{
	if (p->l3_off >= 0 && p->l3_ver == 4)
		put16(p->b + p->l3_off + 2, p->len - p->l3_off);
	else if (p->l3_off >= 0 && p->l3_ver == 6)
		put16(p->b + p->l3_off + 4, p->len - p->l3_off - 40);
	if (p->udp_off >= 0)
		put16(p->b + p->udp_off + 4, p->len - p->udp_off);
}

void pkt_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->l3_off = p->udp_off = -1;
}

void pkt_eth(struct pkt *p, uint16_t type)
{
	static const uint8_t macs[12] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02,	/* dst */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,	/* src */
	};
	uint8_t *h = grow(p, 14);

	memcpy(h, macs, 12);
	put16(h + 12, type);
}

void pkt_vlan(struct pkt *p, uint16_t tci, uint16_t next_type)
{
	uint8_t *h = grow(p, 4);

	put16(h, tci);
	put16(h + 2, next_type);
}

static void addr4(const char *s, const char *dflt, uint8_t *out)
{
	int ok = inet_pton(AF_INET, s ? s : dflt, out);

	assert(ok == 1);
	(void)ok;
}

static void addr6(const char *s, const char *dflt, uint8_t *out)
{
	int ok = inet_pton(AF_INET6, s ? s : dflt, out);

	assert(ok == 1);
	(void)ok;
}

void pkt_ipv4(struct pkt *p, const struct ip4 *o)
{
	size_t hlen = 20 + o->optlen;
	uint8_t ver = o->version ? o->version : 4;
	uint8_t ihl = o->ihl ? o->ihl : hlen / 4;
	uint16_t frag = (o->frag_off & 0x1fff) | (o->mf ? 0x2000 : 0) |
			(o->df ? 0x4000 : 0);
	uint8_t *h;

	assert(o->optlen % 4 == 0 && o->optlen <= 40);
	p->l3_off = p->len;
	p->l3_ver = 4;
	h = grow(p, hlen);
	h[0] = ver << 4 | (ihl & 0x0f);
	put16(h + 4, 0x1234);		/* id */
	put16(h + 6, frag);
	h[8] = 64;			/* ttl */
	h[9] = o->proto;
	addr4(o->src, "10.0.0.1", h + 12);
	addr4(o->dst, "10.0.0.2", h + 16);
	if (o->optlen) {
		memset(h + 20, 1, o->optlen - 1);	/* NOPs */
		h[hlen - 1] = 0;			/* EOL */
	}
	fix_lengths(p);
}

void pkt_ipv6(struct pkt *p, const struct ip6 *o)
{
	uint8_t ver = o->version ? o->version : 6;
	uint8_t *h;

	p->l3_off = p->len;
	p->l3_ver = 6;
	h = grow(p, 40);
	h[0] = ver << 4;
	h[6] = o->next;
	h[7] = 64;			/* hop limit */
	addr6(o->src, "2001:db8::1", h + 8);
	addr6(o->dst, "2001:db8::2", h + 24);
	fix_lengths(p);
}

void pkt_ip6_ext(struct pkt *p, uint8_t next, uint8_t len8)
{
	uint8_t *h = grow(p, ((size_t)len8 + 1) * 8);

	h[0] = next;
	h[1] = len8;
	/* the rest: Pad1 options (0), or routing type 0 with no segments left */
	fix_lengths(p);
}

void pkt_ip6_frag(struct pkt *p, uint8_t next, uint16_t offset, bool mf)
{
	uint8_t *h = grow(p, 8);

	h[0] = next;
	put16(h + 2, (uint16_t)(offset << 3) | (mf ? 1 : 0));
	put16(h + 4, 0xabcd);		/* identification */
	put16(h + 6, 0x0001);
	fix_lengths(p);
}

void pkt_ip6_ah(struct pkt *p, uint8_t next, uint8_t len4)
{
	uint8_t *h = grow(p, ((size_t)len4 + 2) * 4);

	h[0] = next;
	h[1] = len4;
	fix_lengths(p);
}

void pkt_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint8_t flags,
	     uint8_t doff)
{
	size_t hlen = doff > 5 ? (size_t)doff * 4 : 20;
	uint8_t *h = grow(p, hlen);

	if (!doff)
		doff = 5;
	put16(h, sport);
	put16(h + 2, dport);
	put16(h + 4, 0x0102);		/* seq */
	put16(h + 6, 0x0304);
	h[12] = (doff & 0x0f) << 4;
	h[13] = flags;
	put16(h + 14, 65535);		/* window */
	if (hlen > 20)
		memset(h + 20, 1, hlen - 20);	/* NOP options */
	fix_lengths(p);
}

void pkt_udp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	uint8_t *h;

	p->udp_off = p->len;
	h = grow(p, 8);
	put16(h, sport);
	put16(h + 2, dport);
	fix_lengths(p);
}

void pkt_icmp(struct pkt *p, uint8_t type, uint8_t code, uint16_t id)
{
	uint8_t *h = grow(p, 8);

	h[0] = type;
	h[1] = code;
	put16(h + 4, id);
	put16(h + 6, 1);		/* sequence */
	fix_lengths(p);
}

void pkt_sctp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	uint8_t *h = grow(p, 12);

	put16(h, sport);
	put16(h + 2, dport);
	put16(h + 4, 0xdead);		/* verification tag */
	put16(h + 6, 0xbeef);
	fix_lengths(p);
}

void pkt_arp(struct pkt *p)
{
	uint8_t *h = grow(p, 28);

	put16(h, 1);			/* Ethernet */
	put16(h + 2, PKT_ETH_IP);
	h[4] = 6;
	h[5] = 4;
	put16(h + 6, 1);		/* request */
	memcpy(h + 8, "\x02\x00\x00\x00\x00\x01", 6);
	addr4("10.0.0.1", NULL, h + 14);
	addr4("10.0.0.2", NULL, h + 24);
	fix_lengths(p);
}

void pkt_payload(struct pkt *p, size_t n, uint8_t fill)
{
	memset(grow(p, n), fill, n);
	fix_lengths(p);
}

void pkt_cut(struct pkt *p, size_t n)
{
	if (n < p->len)
		p->len = n;
}

struct pkt pkt_udp4_ab(const char *src, const char *dst, uint16_t sport, uint16_t dport,
			size_t payload)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .src = src, .dst = dst, .proto = PKT_P_UDP });
	pkt_udp(&p, sport, dport);
	pkt_payload(&p, payload, 0x5a);
	return p;
}

struct pkt pkt_tcp4_ab(const char *src, const char *dst, uint16_t sport, uint16_t dport,
		       uint8_t flags, size_t payload)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .src = src, .dst = dst, .proto = PKT_P_TCP });
	pkt_tcp(&p, sport, dport, flags, 0);
	pkt_payload(&p, payload, 0x5a);
	return p;
}

struct pkt pkt_udp4(uint16_t sport, uint16_t dport, size_t payload)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_UDP });
	pkt_udp(&p, sport, dport);
	pkt_payload(&p, payload, 0);
	return p;
}
