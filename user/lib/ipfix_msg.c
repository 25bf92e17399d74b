// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ipfix_msg.c - IPFIX messages of ended flows (see ipfix_msg.h): the two
 * templates and the data records, written from one table so a template
 * and its records cannot disagree.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ipfix_msg.h"

#define SET_TEMPLATE	2	/* RFC 7011 3.3.2: Template Set id */
#define IPFIX_VERSION	10
#define ETH_HLEN_	14

/* What a field of our templates holds. */
enum fld {
	F_START_MS, F_END_MS,
	F_OCTETS, F_PACKETS, F_L2_OCTETS,
	F_REV_OCTETS, F_REV_PACKETS, F_REV_L2_OCTETS,
	F_SRC_ADDR, F_DST_ADDR,
	F_SRC_PORT, F_DST_PORT, F_ICMP,
	F_REV_TCP_FLAGS, F_TCP_FLAGS,
	F_PROTO, F_END_REASON, F_BIFLOW_DIR,
};

struct ie {
	__u16 id;
	__u16 len;
	bool rev;		/* RFC 5103 reverse element: PEN 29305 */
	__u8 fld;
};

/*
 * The 8-byte fields first, then by size: no padding needed. The reverse
 * TCP flags come before the forward ones because nfdump 1.7 stores a
 * reverse element it has no reverse slot for into the forward element's:
 * in this order the forward flags win there.
 */
#define IE_COMMON_HEAD							\
	{ 152, 8, false, F_START_MS },		/* flowStartMilliseconds */	\
	{ 153, 8, false, F_END_MS },		/* flowEndMilliseconds */	\
	{ 1, 8, false, F_OCTETS },		/* octetDeltaCount */		\
	{ 2, 8, false, F_PACKETS },		/* packetDeltaCount */		\
	{ 352, 8, false, F_L2_OCTETS },		/* layer2OctetDeltaCount */	\
	{ 1, 8, true, F_REV_OCTETS },		/* reverseOctetDeltaCount */	\
	{ 2, 8, true, F_REV_PACKETS },		/* reversePacketDeltaCount */	\
	{ 352, 8, true, F_REV_L2_OCTETS }	/* reverseLayer2OctetDeltaCount */
#define IE_COMMON_TAIL(icmp_ie)						\
	{ 7, 2, false, F_SRC_PORT },		/* sourceTransportPort */	\
	{ 11, 2, false, F_DST_PORT },		/* destinationTransportPort */	\
	{ icmp_ie, 2, false, F_ICMP },		/* icmpTypeCodeIPv4 / IPv6 */	\
	{ 6, 2, true, F_REV_TCP_FLAGS },	/* reverseTcpControlBits */	\
	{ 6, 2, false, F_TCP_FLAGS },		/* tcpControlBits */		\
	{ 4, 1, false, F_PROTO },		/* protocolIdentifier */	\
	{ 136, 1, false, F_END_REASON },	/* flowEndReason */		\
	{ 239, 1, false, F_BIFLOW_DIR }		/* biflowDirection */

static const struct ie ie_v4[] = {
	IE_COMMON_HEAD,
	{ 8, 4, false, F_SRC_ADDR },		/* sourceIPv4Address */
	{ 12, 4, false, F_DST_ADDR },		/* destinationIPv4Address */
	IE_COMMON_TAIL(32),
};

static const struct ie ie_v6[] = {
	IE_COMMON_HEAD,
	{ 27, 16, false, F_SRC_ADDR },		/* sourceIPv6Address */
	{ 28, 16, false, F_DST_ADDR },		/* destinationIPv6Address */
	IE_COMMON_TAIL(139),
};

#define NIE(t)	(sizeof(t) / sizeof((t)[0]))

_Static_assert(FFPF_IPFIX_MAX_MSG_MIN == FFPF_IPFIX_HDR_LEN + FFPF_IPFIX_TSET_LEN +
	       FFPF_IPFIX_SET_HDR_LEN + FFPF_IPFIX_REC_V6_LEN,
	       "the smallest message holds the templates and one IPv6 record");

static const struct {
	const struct ie *ie;
	unsigned n;
	__u16 tid;
	__u16 rec_len;
} tmpls[2] = {
	{ ie_v4, NIE(ie_v4), FFPF_IPFIX_TEMPLATE_V4, FFPF_IPFIX_REC_V4_LEN },
	{ ie_v6, NIE(ie_v6), FFPF_IPFIX_TEMPLATE_V6, FFPF_IPFIX_REC_V6_LEN },
};

static __u8 *put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
	return p + 2;
}

static __u8 *put32(__u8 *p, __u32 v)
{
	p = put16(p, v >> 16);
	return put16(p, v);
}

static __u8 *put_uint(__u8 *p, __u64 v, unsigned len)
{
	for (unsigned i = len; i-- > 0; v >>= 8)
		p[i] = v;
	return p + len;
}

/* The template set (FFPF_IPFIX_TSET_LEN bytes). */
static __u8 *put_template_set(__u8 *p)
{
	p = put16(p, SET_TEMPLATE);
	p = put16(p, FFPF_IPFIX_TSET_LEN);
	for (int t = 0; t < 2; t++) {
		p = put16(p, tmpls[t].tid);
		p = put16(p, tmpls[t].n);
		for (unsigned i = 0; i < tmpls[t].n; i++) {
			const struct ie *e = &tmpls[t].ie[i];

			p = put16(p, e->id | (e->rev ? 0x8000 : 0));
			p = put16(p, e->len);
			if (e->rev)
				p = put32(p, FFPF_IPFIX_PEN_REVERSE);
		}
	}
	return p;
}

__u8 ffpf_ipfix_end_reason(__u8 reason)
{
	/* the mapping written down in ffpf/flowtrack.h */
	switch (reason) {
	case FFPF_FT_END_IDLE:		return 1;	/* idle timeout */
	case FFPF_FT_END_ACTIVE:	return 2;	/* active timeout */
	case FFPF_FT_END_FIN:
	case FFPF_FT_END_RST:		return 3;	/* end of flow detected */
	case FFPF_FT_END_FORCED:
	case FFPF_FT_END_CLOSED:	return 4;	/* forced end */
	case FFPF_FT_END_EVICTED:	return 5;	/* lack of resources */
	default:			return 0;	/* not a reason we know */
	}
}

static bool is_icmp(const struct ffpf_ft_key *k)
{
	return (k->ip_ver == 4 && k->proto == 1) || (k->ip_ver == 6 && k->proto == 58);
}

/* IPFIX octets count IP headers and payload: our bytes are whole frames. */
static __u64 ip_octets(const struct ffpf_ft_side *s)
{
	__u64 l2 = s->packets * ETH_HLEN_;

	return s->bytes > l2 ? s->bytes - l2 : 0;
}

/* One data record of template @t (tmpls[t].rec_len bytes). */
static void put_record(__u8 *p, int t, const struct ffpf_ft_record *rec)
{
	const struct ffpf_ft_key *k = &rec->key;
	const struct ffpf_ft_flow *f = &rec->flow;
	const struct ffpf_ft_side *out = ffpf_ft_dir(f, FFPF_FT_OUTBOUND);
	const struct ffpf_ft_side *in = ffpf_ft_dir(f, FFPF_FT_INBOUND);
	int s = f->initiator == FFPF_FT_INIT_SIDE1 ? 1 : 0;	/* the source side */
	bool icmp = is_icmp(k);

	for (unsigned i = 0; i < tmpls[t].n; i++) {
		const struct ie *e = &tmpls[t].ie[i];
		__u64 v = 0;

		switch (e->fld) {
		case F_START_MS:	v = rec->first_real_ns / 1000000; break;
		case F_END_MS:		v = rec->last_real_ns / 1000000; break;
		case F_OCTETS:		v = ip_octets(out); break;
		case F_PACKETS:		v = out->packets; break;
		case F_L2_OCTETS:	v = out->bytes; break;
		case F_REV_OCTETS:	v = ip_octets(in); break;
		case F_REV_PACKETS:	v = in->packets; break;
		case F_REV_L2_OCTETS:	v = in->bytes; break;
		case F_SRC_ADDR:
		case F_DST_ADDR: {
			const __u8 *a = k->addr[e->fld == F_SRC_ADDR ? s : !s];

			/* IPv4 is v4-mapped in the key: its last 4 bytes */
			memcpy(p, e->len == 4 ? a + 12 : a, e->len);
			p += e->len;
			continue;
		}
		/* ICMP has no ports: the key's port[0] is its type and code */
		case F_SRC_PORT:	v = icmp ? 0 : k->port[s]; break;
		case F_DST_PORT:	v = icmp ? 0 : k->port[!s]; break;
		case F_ICMP:		v = icmp ? k->port[0] : 0; break;
		case F_TCP_FLAGS:	v = out->tcp_flags; break;
		case F_REV_TCP_FLAGS:	v = in->tcp_flags; break;
		case F_PROTO:		v = k->proto; break;
		case F_END_REASON:	v = ffpf_ipfix_end_reason(rec->reason); break;
		/* RFC 5103 6.3: 1 initiator (source opened it), 0 arbitrary */
		case F_BIFLOW_DIR:	v = f->initiator == FFPF_FT_INIT_UNKNOWN ? 0 : 1; break;
		}
		p = put_uint(p, v, e->len);
	}
}

int ffpf_ipfix_msg_init(struct ffpf_ipfix_msg *m, __u32 domain_id, __u32 max_msg,
			__u32 tmpl_interval_ms, __u32 tmpl_every)
{
	memset(m, 0, sizeof(*m));
	if (!max_msg)
		max_msg = FFPF_IPFIX_MAX_MSG_DEFAULT;
	if (max_msg < FFPF_IPFIX_MAX_MSG_MIN || max_msg > 65535)
		return -EINVAL;
	m->domain_id = domain_id;
	m->max_msg = max_msg;
	m->tmpl_interval_ms = tmpl_interval_ms ? tmpl_interval_ms
					       : FFPF_IPFIX_TEMPLATE_INTERVAL_DEFAULT;
	m->tmpl_every = tmpl_every;
	for (int t = 0; t < 2; t++) {
		m->set[t] = malloc(max_msg);
		if (!m->set[t]) {
			ffpf_ipfix_msg_free(m);
			return -ENOMEM;
		}
	}
	return 0;
}

void ffpf_ipfix_msg_free(struct ffpf_ipfix_msg *m)
{
	for (int t = 0; t < 2; t++) {
		free(m->set[t]);
		m->set[t] = NULL;
	}
}

static bool templates_due(const struct ffpf_ipfix_msg *m, __u64 now_ms)
{
	return !m->tmpl_sent || now_ms - m->tmpl_last_ms >= m->tmpl_interval_ms ||
	       (m->tmpl_every && m->since_tmpl + 1 >= m->tmpl_every);
}

/* Length of the message with @extra more bytes in set @t. */
static __u32 msg_len(const struct ffpf_ipfix_msg *m, int t, __u32 extra)
{
	__u32 len = FFPF_IPFIX_HDR_LEN + (m->with_tmpl ? FFPF_IPFIX_TSET_LEN : 0);

	for (int i = 0; i < 2; i++) {
		__u32 l = m->len[i] + (i == t ? extra : 0);

		if (l)
			len += FFPF_IPFIX_SET_HDR_LEN + l;
	}
	return len;
}

int ffpf_ipfix_msg_add(struct ffpf_ipfix_msg *m, const struct ffpf_ft_record *rec,
		       __u64 now_ms)
{
	int t;

	if (rec->key.ip_ver == 4)
		t = 0;
	else if (rec->key.ip_ver == 6)
		t = 1;
	else
		return -EINVAL;
	if (!m->started) {
		m->started = true;
		m->with_tmpl = templates_due(m, now_ms);
	}
	if (msg_len(m, t, tmpls[t].rec_len) > m->max_msg)
		return -ENOSPC;
	put_record(m->set[t] + m->len[t], t, rec);
	m->len[t] += tmpls[t].rec_len;
	m->n[t]++;
	return 0;
}

__u32 ffpf_ipfix_msg_pending(const struct ffpf_ipfix_msg *m)
{
	return m->n[0] + m->n[1];
}

int ffpf_ipfix_msg_finish(struct ffpf_ipfix_msg *m, __u64 now_ms, __u32 export_s,
			  void *buf, size_t len, struct ffpf_ipfix_msg_info *info)
{
	__u32 records = m->n[0] + m->n[1], mlen;
	__u8 *p = buf;

	if (info)
		memset(info, 0, sizeof(*info));
	if (!m->started) {
		/* nothing added: a message of templates alone, if they are due */
		if (!templates_due(m, now_ms))
			return 0;
		m->with_tmpl = true;
	}
	mlen = msg_len(m, 0, 0);
	if (len < mlen)
		return -EINVAL;

	p = put16(p, IPFIX_VERSION);
	p = put16(p, mlen);
	p = put32(p, export_s);
	p = put32(p, m->seq);
	p = put32(p, m->domain_id);
	if (m->with_tmpl)
		p = put_template_set(p);
	for (int t = 0; t < 2; t++) {
		if (!m->n[t])
			continue;
		p = put16(p, tmpls[t].tid);
		p = put16(p, FFPF_IPFIX_SET_HDR_LEN + m->len[t]);
		memcpy(p, m->set[t], m->len[t]);
		p += m->len[t];
	}

	if (info) {
		info->len = mlen;
		info->records = records;
		info->templates = m->with_tmpl ? 2 : 0;
		info->seq = m->seq;
	}
	m->seq += records;
	if (m->with_tmpl) {
		m->tmpl_sent = true;
		m->tmpl_last_ms = now_ms;
		m->since_tmpl = 0;
	} else {
		m->since_tmpl++;
	}
	m->started = m->with_tmpl = false;
	m->n[0] = m->n[1] = m->len[0] = m->len[1] = 0;
	return mlen;
}

void ffpf_ipfix_msg_templates_lost(struct ffpf_ipfix_msg *m)
{
	m->tmpl_sent = false;
}
