// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* replay_pkt.c - parse a captured frame into a normalised flow key and a
 * TCP/UDP payload, for ffpf-replay (replay_cap.h). Everything is bounds
 * checked against the captured length: the input is untrusted. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <pcap/pcap.h>
#include "replay_cap.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2	276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4	228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6	229
#endif

int rp_dlt_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB: case DLT_LINUX_SLL: case DLT_LINUX_SLL2:
	case DLT_RAW: case DLT_IPV4: case DLT_IPV6:
	case DLT_NULL: case DLT_LOOP:
		return 1;
	}
	return 0;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Offset of the IP header, or -EBADMSG / -EPROTONOSUPPORT. */
static int l3_offset(int dlt, const uint8_t *d, uint32_t cap)
{
	uint32_t off;
	uint16_t et;

	switch (dlt) {
	case DLT_EN10MB:
		if (cap < 14)
			return -EBADMSG;
		et = get16(d + 12);
		off = 14;
		/* up to two VLAN tags (802.1Q, QinQ) */
		for (int i = 0; i < 2 && (et == 0x8100 || et == 0x88a8); i++) {
			if (cap < off + 4)
				return -EBADMSG;
			et = get16(d + off + 2);
			off += 4;
		}
		break;
	case DLT_LINUX_SLL:
		if (cap < 16)
			return -EBADMSG;
		et = get16(d + 14);
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (cap < 20)
			return -EBADMSG;
		et = get16(d);
		off = 20;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		/* the family's byte order varies: go by the IP version */
		if (cap < 5)
			return -EBADMSG;
		off = 4;
		et = (d[4] >> 4) == 6 ? 0x86dd : 0x0800;
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (cap < 1)
			return -EBADMSG;
		off = 0;
		et = (d[0] >> 4) == 6 ? 0x86dd : 0x0800;
		break;
	default:
		return -EPROTONOSUPPORT;
	}
	if (et != 0x0800 && et != 0x86dd)
		return -EPROTONOSUPPORT;
	return (int)off;
}

static void key_set(struct rp_pkt *p, const uint8_t src[16], const uint8_t dst[16],
		    uint16_t sport, uint16_t dport)
{
	int c = memcmp(src, dst, 16);

	/* side 0 sorts lower by address, then port (flowtrack.h) */
	p->side = c > 0 || (c == 0 && sport > dport);
	memcpy(p->key.addr[p->side], src, 16);
	memcpy(p->key.addr[!p->side], dst, 16);
	p->key.port[p->side] = sport;
	p->key.port[!p->side] = dport;
}

int rp_pkt_parse(int dlt, const uint8_t *d, uint32_t cap, struct rp_pkt *p)
{
	uint8_t src[16], dst[16];
	uint32_t off, l4len, hl;
	uint8_t proto;
	int r;

	memset(p, 0, sizeof(*p));
	r = l3_offset(dlt, d, cap);
	if (r < 0)
		return r;
	off = (uint32_t)r;
	if (cap < off + 1)
		return -EBADMSG;
	if ((d[off] >> 4) == 4) {
		const uint8_t *ip = d + off;
		uint32_t tot;

		if (cap < off + 20)
			return -EBADMSG;
		hl = (ip[0] & 15u) * 4;
		tot = get16(ip + 2);
		if (hl < 20 || tot < hl || cap < off + hl)
			return -EBADMSG;
		if (get16(ip + 6) & 0x3fff)	/* MF or offset */
			return -ENOTSUP;
		memset(src, 0, 10);
		src[10] = src[11] = 0xff;
		memcpy(dst, src, 12);
		memcpy(src + 12, ip + 12, 4);
		memcpy(dst + 12, ip + 16, 4);
		proto = ip[9];
		p->key.ip_ver = 4;
		off += hl;
		l4len = tot - hl;
	} else if ((d[off] >> 4) == 6) {
		const uint8_t *ip = d + off;
		uint32_t plen;

		if (cap < off + 40)
			return -EBADMSG;
		plen = get16(ip + 4);
		proto = ip[6];
		memcpy(src, ip + 8, 16);
		memcpy(dst, ip + 24, 16);
		p->key.ip_ver = 6;
		off += 40;
		/* extension headers we can walk */
		while (proto == 0 || proto == 43 || proto == 60 || proto == 44) {
			if (proto == 44)
				return -ENOTSUP;
			if (cap < off + 8)
				return -EBADMSG;
			hl = (d[off + 1] + 1u) * 8;
			if (plen < hl)
				return -EBADMSG;
			proto = d[off];
			off += hl;
			plen -= hl;
		}
		l4len = plen;
	} else {
		return -EBADMSG;
	}

	if (proto == IPPROTO_TCP) {
		const uint8_t *t = d + off;

		if (cap < off + 20)
			return -EBADMSG;
		hl = (t[12] >> 4) * 4u;
		if (hl < 20 || l4len < hl || cap < off + hl)
			return -EBADMSG;
		key_set(p, src, dst, get16(t), get16(t + 2));
		p->seq = get32(t + 4);
		p->tcp_flags = t[13];
		off += hl;
		p->pl_len = l4len - hl;
	} else if (proto == IPPROTO_UDP) {
		const uint8_t *u = d + off;
		uint32_t ulen;

		if (cap < off + 8)
			return -EBADMSG;
		ulen = get16(u + 4);
		if (ulen < 8 || ulen > l4len)
			return -EBADMSG;
		key_set(p, src, dst, get16(u), get16(u + 2));
		off += 8;
		p->pl_len = ulen - 8;
	} else {
		return -EPROTONOSUPPORT;
	}
	p->key.proto = proto;
	p->proto = proto;
	p->payload = d + off;
	p->pl_cap = cap - off < p->pl_len ? cap - off : p->pl_len;
	return 0;
}

void rp_key_endpoint(const struct ffpf_ft_key *k, int side, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (k->ip_ver == 4) {
		inet_ntop(AF_INET, k->addr[side] + 12, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, k->port[side]);
	} else {
		inet_ntop(AF_INET6, k->addr[side], a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, k->port[side]);
	}
}
