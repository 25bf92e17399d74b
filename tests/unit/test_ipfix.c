/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * test_ipfix.c - IPFIX export (ffpf/ipfix.h, user/lib/ipfix*.c).
 *
 * The message builder is checked byte by byte against records written out
 * here by hand, in the order docs/ipfix.md gives, not from the library's
 * table. The exporter's tests move into a private network namespace
 * (Criterion runs every test in its own process) and send to a socket on
 * its `lo`: nothing leaves it. Those need root, like test_rx.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <criterion/criterion.h>

#include <ffpf/ipfix.h>
#include "ipfix_msg.h"
#include "../../tools/privnet.h"

#define T0_NS	1700000000123456789ULL	/* flowStartMilliseconds 1700000000123 */
#define T1_NS	1700000004987654321ULL	/* flowEndMilliseconds 1700000004987 */

/* --- records and bytes ------------------------------------------------- */

static void v4(__u8 a[16], __u8 b0, __u8 b1, __u8 b2, __u8 b3)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = b0; a[13] = b1; a[14] = b2; a[15] = b3;
}

/* TCP 10.0.0.2:40000 (side 1, the initiator) -> 10.0.0.1:80 (side 0), FIN. */
static struct ffpf_ft_record rec_tcp4(void)
{
	struct ffpf_ft_record r = {0};

	v4(r.key.addr[0], 10, 0, 0, 1);
	v4(r.key.addr[1], 10, 0, 0, 2);
	r.key.port[0] = 80;
	r.key.port[1] = 40000;
	r.key.proto = 6;
	r.key.ip_ver = 4;
	r.flow.side[0] = (struct ffpf_ft_side){ .packets = 8, .bytes = 5112, .tcp_flags = 0x13 };
	r.flow.side[1] = (struct ffpf_ft_side){ .packets = 10, .bytes = 1140, .tcp_flags = 0x1b };
	r.flow.initiator = FFPF_FT_INIT_SIDE1;
	r.first_real_ns = T0_NS;
	r.last_real_ns = T1_NS;
	r.reason = FFPF_FT_END_FIN;
	return r;
}

/* ICMPv6 echo fd00::1 <-> fd00::2, first seen as a reply: initiator unknown. */
static struct ffpf_ft_record rec_icmp6(void)
{
	struct ffpf_ft_record r = {0};

	inet_pton(AF_INET6, "fd00::1", r.key.addr[0]);
	inet_pton(AF_INET6, "fd00::2", r.key.addr[1]);
	r.key.port[0] = 128 << 8;	/* echo request, code 0 */
	r.key.port[1] = 0x1234;		/* echo id: not exported */
	r.key.proto = 58;
	r.key.ip_ver = 6;
	r.flow.side[0] = (struct ffpf_ft_side){ .packets = 3, .bytes = 354 };
	r.flow.side[1] = (struct ffpf_ft_side){ .packets = 2, .bytes = 236 };
	r.flow.initiator = FFPF_FT_INIT_UNKNOWN;
	r.first_real_ns = T0_NS;
	r.last_real_ns = T1_NS;
	r.reason = FFPF_FT_END_CLOSED;
	return r;
}

static __u8 *be(__u8 *p, __u64 v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = v;
	return p + n;
}

static __u64 get(const __u8 *p, int n)
{
	__u64 v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* The parts of a message: header fields and where each set starts. */
struct msg {
	unsigned version, len, seq, domain;
	__u32 export_s;
	int nsets;
	unsigned set_id[8], set_len[8];
	const __u8 *set[8];	/* set contents, after the set header */
};

static void parse(const __u8 *b, int len, struct msg *m)
{
	int off = 16;

	memset(m, 0, sizeof(*m));
	cr_assert_geq(len, 16);
	m->version = get(b, 2);
	m->len = get(b + 2, 2);
	m->export_s = get(b + 4, 4);
	m->seq = get(b + 8, 4);
	m->domain = get(b + 12, 4);
	cr_assert_eq(m->len, (unsigned)len, "header length %u, message %d", m->len, len);
	while (off < len) {
		cr_assert_leq(off + 4, len);
		cr_assert_lt(m->nsets, 8);
		m->set_id[m->nsets] = get(b + off, 2);
		m->set_len[m->nsets] = get(b + off + 2, 2);
		cr_assert_geq(m->set_len[m->nsets], 4u);
		cr_assert_leq(off + (int)m->set_len[m->nsets], len, "set overruns the message");
		m->set[m->nsets] = b + off + 4;
		off += m->set_len[m->nsets];
		m->nsets++;
	}
	cr_assert_eq(off, len);
}

/* Data records in a parsed message (from the set lengths). */
static unsigned data_records(const struct msg *m)
{
	unsigned n = 0;

	for (int i = 0; i < m->nsets; i++) {
		if (m->set_id[i] == FFPF_IPFIX_TEMPLATE_V4)
			n += (m->set_len[i] - 4) / FFPF_IPFIX_REC_V4_LEN;
		else if (m->set_id[i] == FFPF_IPFIX_TEMPLATE_V6)
			n += (m->set_len[i] - 4) / FFPF_IPFIX_REC_V6_LEN;
	}
	return n;
}

static bool has_templates(const struct msg *m)
{
	for (int i = 0; i < m->nsets; i++)
		if (m->set_id[i] == 2)
			return true;
	return false;
}

static struct ffpf_ipfix_msg M;
static __u8 buf[65536];

static void fini_msg(void)
{
	ffpf_ipfix_msg_free(&M);
}

/* --- the message builder ------------------------------------------------ */

Test(ipfix, header_and_sets, .fini = fini_msg)
{
	struct ffpf_ft_record r = rec_tcp4();
	struct ffpf_ipfix_msg_info info;
	struct msg m;
	int len;

	cr_assert_eq(ffpf_ipfix_msg_init(&M, 0x01020304, 0, 0, 0), 0);
	cr_assert_eq(M.max_msg, FFPF_IPFIX_MAX_MSG_DEFAULT);
	cr_assert_eq(ffpf_ipfix_msg_add(&M, &r, 0), 0);
	cr_assert_eq(ffpf_ipfix_msg_pending(&M), 1);
	len = ffpf_ipfix_msg_finish(&M, 0, 1700000005, buf, sizeof(buf), &info);
	cr_assert_eq(len, 16 + FFPF_IPFIX_TSET_LEN + 4 + FFPF_IPFIX_REC_V4_LEN);
	cr_assert_eq(info.len, (unsigned)len);
	cr_assert_eq(info.records, 1);
	cr_assert_eq(info.templates, 2);
	cr_assert_eq(ffpf_ipfix_msg_pending(&M), 0);

	parse(buf, len, &m);
	cr_assert_eq(m.version, 10);
	cr_assert_eq(m.export_s, 1700000005u);
	cr_assert_eq(m.seq, 0);
	cr_assert_eq(m.domain, 0x01020304u);
	cr_assert_eq(m.nsets, 2);
	cr_assert_eq(m.set_id[0], 2, "the template set comes first");
	cr_assert_eq(m.set_len[0], FFPF_IPFIX_TSET_LEN);
	cr_assert_eq(m.set_id[1], FFPF_IPFIX_TEMPLATE_V4);
	cr_assert_eq(m.set_len[1], 4 + FFPF_IPFIX_REC_V4_LEN);

	/* nothing buffered, templates not due: nothing to send */
	cr_assert_eq(ffpf_ipfix_msg_finish(&M, 1, 1700000005, buf, sizeof(buf), &info), 0);
	/* a buffer smaller than the message */
	cr_assert_eq(ffpf_ipfix_msg_add(&M, &r, 2), 0);
	cr_assert_eq(ffpf_ipfix_msg_finish(&M, 2, 0, buf, 20, NULL), -EINVAL);
}

/* One template record as sent: (id, length, enterprise) per field. */
static void check_template(const __u8 *p, unsigned tid, const unsigned (*want)[3], int n,
			   int *consumed)
{
	const __u8 *q = p + 4;

	cr_assert_eq(get(p, 2), tid);
	cr_assert_eq(get(p + 2, 2), (unsigned)n, "template %u: field count", tid);
	for (int i = 0; i < n; i++) {
		unsigned id = get(q, 2), len = get(q + 2, 2), pen = 0;

		q += 4;
		if (id & 0x8000) {
			pen = get(q, 4);
			q += 4;
			id &= 0x7fff;
		}
		cr_assert(id == want[i][0] && len == want[i][1] && pen == want[i][2],
			  "template %u field %d: got %u/%u/%u, want %u/%u/%u", tid, i, id, len,
			  pen, want[i][0], want[i][1], want[i][2]);
	}
	*consumed = q - p;
}

Test(ipfix, template_contents, .fini = fini_msg)
{
	enum { R = FFPF_IPFIX_PEN_REVERSE };
	/* docs/ipfix.md's table, in order */
	static const unsigned v4[18][3] = {
		{ 152, 8, 0 }, { 153, 8, 0 }, { 1, 8, 0 }, { 2, 8, 0 }, { 352, 8, 0 },
		{ 1, 8, R }, { 2, 8, R }, { 352, 8, R },
		{ 8, 4, 0 }, { 12, 4, 0 },
		{ 7, 2, 0 }, { 11, 2, 0 }, { 32, 2, 0 }, { 6, 2, R }, { 6, 2, 0 },
		{ 4, 1, 0 }, { 136, 1, 0 }, { 239, 1, 0 },
	};
	unsigned v6[18][3];
	struct msg m;
	int len, used4, used6;

	memcpy(v6, v4, sizeof(v6));
	v6[8][0] = 27;  v6[8][1] = 16;
	v6[9][0] = 28;  v6[9][1] = 16;
	v6[12][0] = 139;

	cr_assert_eq(ffpf_ipfix_msg_init(&M, 0, 0, 0, 0), 0);
	len = ffpf_ipfix_msg_finish(&M, 0, 0, buf, sizeof(buf), NULL);
	cr_assert_eq(len, 16 + FFPF_IPFIX_TSET_LEN, "templates alone when nothing is buffered");
	parse(buf, len, &m);
	cr_assert_eq(m.nsets, 1);
	cr_assert_eq(m.set_id[0], 2);
	check_template(m.set[0], 256, v4, 18, &used4);
	check_template(m.set[0] + used4, 257, v6, 18, &used6);
	cr_assert_eq(4 + used4 + used6, FFPF_IPFIX_TSET_LEN, "no padding, nothing else in the set");

	/* the field lengths add up to the data record lengths */
	unsigned s4 = 0, s6 = 0;

	for (int i = 0; i < 18; i++) {
		s4 += v4[i][1];
		s6 += v6[i][1];
	}
	cr_assert_eq(s4, FFPF_IPFIX_REC_V4_LEN);
	cr_assert_eq(s6, FFPF_IPFIX_REC_V6_LEN);
}

/* The data record of rec_tcp4(), field by field. */
Test(ipfix, record_v4_bytes, .fini = fini_msg)
{
	struct ffpf_ft_record r = rec_tcp4();
	__u8 want[FFPF_IPFIX_REC_V4_LEN], *p = want;
	struct msg m;
	int len;

	p = be(p, 1700000000123ULL, 8);		/* flowStartMilliseconds */
	p = be(p, 1700000004987ULL, 8);		/* flowEndMilliseconds */
	p = be(p, 1140 - 10 * 14, 8);		/* octetDeltaCount: IP bytes of the client */
	p = be(p, 10, 8);			/* packetDeltaCount */
	p = be(p, 1140, 8);			/* layer2OctetDeltaCount: frames */
	p = be(p, 5112 - 8 * 14, 8);		/* reverse: the server's */
	p = be(p, 8, 8);
	p = be(p, 5112, 8);
	p = be(p, 0x0a000002, 4);		/* source: the initiator, side 1 */
	p = be(p, 0x0a000001, 4);
	p = be(p, 40000, 2);
	p = be(p, 80, 2);
	p = be(p, 0, 2);			/* icmpTypeCodeIPv4 */
	p = be(p, 0x13, 2);			/* reverseTcpControlBits */
	p = be(p, 0x1b, 2);			/* tcpControlBits */
	p = be(p, 6, 1);
	p = be(p, 3, 1);			/* flowEndReason: end of flow detected */
	p = be(p, 1, 1);			/* biflowDirection: initiator */
	cr_assert_eq(p - want, FFPF_IPFIX_REC_V4_LEN);

	cr_assert_eq(ffpf_ipfix_msg_init(&M, 0, 0, 0, 0), 0);
	cr_assert_eq(ffpf_ipfix_msg_add(&M, &r, 0), 0);
	len = ffpf_ipfix_msg_finish(&M, 0, 0, buf, sizeof(buf), NULL);
	parse(buf, len, &m);
	cr_assert_eq(m.set_id[1], FFPF_IPFIX_TEMPLATE_V4);
	for (int i = 0; i < FFPF_IPFIX_REC_V4_LEN; i++)
		cr_assert_eq(m.set[1][i], want[i], "byte %d: %#x, want %#x", i, m.set[1][i],
			     want[i]);
}

/* The data record of rec_icmp6(): no ports, type and code, side 0 as the source. */
Test(ipfix, record_v6_bytes, .fini = fini_msg)
{
	struct ffpf_ft_record r = rec_icmp6();
	__u8 want[FFPF_IPFIX_REC_V6_LEN], *p = want;
	struct msg m;
	int len;

	p = be(p, 1700000000123ULL, 8);
	p = be(p, 1700000004987ULL, 8);
	p = be(p, 354 - 3 * 14, 8);
	p = be(p, 3, 8);
	p = be(p, 354, 8);
	p = be(p, 236 - 2 * 14, 8);
	p = be(p, 2, 8);
	p = be(p, 236, 8);
	inet_pton(AF_INET6, "fd00::1", p);
	p += 16;
	inet_pton(AF_INET6, "fd00::2", p);
	p += 16;
	p = be(p, 0, 2);			/* sourceTransportPort */
	p = be(p, 0, 2);			/* destinationTransportPort */
	p = be(p, 0x8000, 2);			/* icmpTypeCodeIPv6: echo request */
	p = be(p, 0, 2);
	p = be(p, 0, 2);
	p = be(p, 58, 1);
	p = be(p, 4, 1);			/* flowEndReason: forced end */
	p = be(p, 0, 1);			/* biflowDirection: arbitrary */
	cr_assert_eq(p - want, FFPF_IPFIX_REC_V6_LEN);

	cr_assert_eq(ffpf_ipfix_msg_init(&M, 0, 0, 0, 0), 0);
	cr_assert_eq(ffpf_ipfix_msg_add(&M, &r, 0), 0);
	len = ffpf_ipfix_msg_finish(&M, 0, 0, buf, sizeof(buf), NULL);
	parse(buf, len, &m);
	cr_assert_eq(m.nsets, 2);
	cr_assert_eq(m.set_id[1], FFPF_IPFIX_TEMPLATE_V6);
	cr_assert_eq(m.set_len[1], 4 + FFPF_IPFIX_REC_V6_LEN);
	for (int i = 0; i < FFPF_IPFIX_REC_V6_LEN; i++)
		cr_assert_eq(m.set[1][i], want[i], "byte %d: %#x, want %#x", i, m.set[1][i],
			     want[i]);
}

Test(ipfix, udp_initiator_side0_and_bad_version, .fini = fini_msg)
{
	struct ffpf_ft_record r = rec_tcp4();
	struct msg m;
	int len;

	r.key.proto = 17;
	r.flow.initiator = FFPF_FT_INIT_SIDE0;
	r.flow.side[0].tcp_flags = r.flow.side[1].tcp_flags = 0;
	r.reason = FFPF_FT_END_IDLE;
	cr_assert_eq(ffpf_ipfix_msg_init(&M, 0, 0, 0, 0), 0);
	cr_assert_eq(ffpf_ipfix_msg_add(&M, &r, 0), 0);
	len = ffpf_ipfix_msg_finish(&M, 0, 0, buf, sizeof(buf), NULL);
	parse(buf, len, &m);
	const __u8 *d = m.set[1];

	cr_assert_eq(get(d + 16, 8), 5112u - 8 * 14, "side 0's counters are the forward ones");
	cr_assert_eq(get(d + 24, 8), 8u);
	cr_assert_eq(get(d + 32, 8), 5112u);
	cr_assert_eq(get(d + 48, 8), 10u);
	cr_assert_eq(get(d + 64, 4), 0x0a000001u, "source: side 0");
	cr_assert_eq(get(d + 72, 2), 80u);
	cr_assert_eq(get(d + 74, 2), 40000u);
	cr_assert_eq(get(d + 82, 1), 17u);
	cr_assert_eq(get(d + 83, 1), 1u, "idle timeout");

	r.key.ip_ver = 5;
	cr_assert_eq(ffpf_ipfix_msg_add(&M, &r, 0), -EINVAL);
	cr_assert_eq(ffpf_ipfix_msg_pending(&M), 0);
}

Test(ipfix, end_reasons)
{
	static const __u8 want[] = {
		[FFPF_FT_END_IDLE] = 1, [FFPF_FT_END_ACTIVE] = 2, [FFPF_FT_END_FIN] = 3,
		[FFPF_FT_END_RST] = 3, [FFPF_FT_END_EVICTED] = 5, [FFPF_FT_END_FORCED] = 4,
		[FFPF_FT_END_CLOSED] = 4,
	};

	for (unsigned r = 1; r < sizeof(want); r++)
		cr_assert_eq(ffpf_ipfix_end_reason(r), want[r], "reason %u", r);
	cr_assert_eq(ffpf_ipfix_end_reason(0), 0);
	cr_assert_eq(ffpf_ipfix_end_reason(99), 0);
}

/* Each message's sequence number: data records of the messages before it. */
Test(ipfix, sequence_numbers, .fini = fini_msg)
{
	static const int counts[] = { 3, 0, 1, 5, 0, 2 };	/* 0: templates alone */
	struct ffpf_ft_record r4 = rec_tcp4(), r6 = rec_icmp6();
	struct ffpf_ipfix_msg_info info;
	unsigned expect = 0;
	__u64 now = 0;
	struct msg m;

	/* interval 1 ms and now += 1: templates due every time */
	cr_assert_eq(ffpf_ipfix_msg_init(&M, 7, 0, 1, 0), 0);
	for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++, now++) {
		for (int k = 0; k < counts[i]; k++)
			cr_assert_eq(ffpf_ipfix_msg_add(&M, k & 1 ? &r6 : &r4, now), 0);
		int len = ffpf_ipfix_msg_finish(&M, now, 100 + i, buf, sizeof(buf), &info);

		cr_assert_gt(len, 0, "message %u", i);
		parse(buf, len, &m);
		cr_assert_eq(m.seq, expect, "message %u: seq %u, want %u", i, m.seq, expect);
		cr_assert_eq(info.seq, expect);
		cr_assert_eq(data_records(&m), (unsigned)counts[i]);
		cr_assert_eq(info.records, (unsigned)counts[i]);
		cr_assert(has_templates(&m));
		expect += counts[i];
	}

	/* modulo 2^32 */
	M.seq = 0xffffffffu;
	cr_assert_eq(ffpf_ipfix_msg_add(&M, &r4, now), 0);
	cr_assert_eq(ffpf_ipfix_msg_add(&M, &r4, now), 0);
	cr_assert_gt(ffpf_ipfix_msg_finish(&M, now, 0, buf, sizeof(buf), &info), 0);
	cr_assert_eq(info.seq, 0xffffffffu);
	cr_assert_eq(M.seq, 1u);
}

Test(ipfix, templates_resent_after_interval, .fini = fini_msg)
{
	struct ffpf_ft_record r = rec_tcp4();
	struct ffpf_ipfix_msg_info info;
	/* (now_ms, templates expected) with a 1000 ms interval */
	static const struct { __u64 now; bool tmpl; } steps[] = {
		{ 5000, true },		/* the first message */
		{ 5001, false }, { 5999, false },
		{ 6000, true },		/* 1000 ms after the last ones */
		{ 6500, false }, { 6999, false },
		{ 7000, true },
	};

	cr_assert_eq(ffpf_ipfix_msg_init(&M, 0, 0, 1000, 0), 0);
	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		cr_assert_eq(ffpf_ipfix_msg_add(&M, &r, steps[i].now), 0);
		cr_assert_gt(ffpf_ipfix_msg_finish(&M, steps[i].now, 0, buf, sizeof(buf), &info), 0);
		cr_assert_eq(info.templates, steps[i].tmpl ? 2u : 0u, "step %u (now %llu)", i,
			     (unsigned long long)steps[i].now);
	}
	/* nothing buffered: a message of templates only once they are due */
	cr_assert_eq(ffpf_ipfix_msg_finish(&M, 7999, 0, buf, sizeof(buf), &info), 0);
	cr_assert_eq(ffpf_ipfix_msg_finish(&M, 8000, 0, buf, sizeof(buf), &info),
		     16 + FFPF_IPFIX_TSET_LEN);
	cr_assert_eq(info.templates, 2);
	cr_assert_eq(info.records, 0);

	/* a lost template message: the next one carries them again */
	ffpf_ipfix_msg_templates_lost(&M);
	cr_assert_eq(ffpf_ipfix_msg_add(&M, &r, 8001), 0);
	cr_assert_gt(ffpf_ipfix_msg_finish(&M, 8001, 0, buf, sizeof(buf), &info), 0);
	cr_assert_eq(info.templates, 2);
}

Test(ipfix, templates_every_n_messages, .fini = fini_msg)
{
	struct ffpf_ft_record r = rec_tcp4();
	struct ffpf_ipfix_msg_info info;

	/* every 3rd message, the interval (1 h) never reached */
	cr_assert_eq(ffpf_ipfix_msg_init(&M, 0, 0, 3600000, 3), 0);
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(ffpf_ipfix_msg_add(&M, &r, 0), 0);
		cr_assert_gt(ffpf_ipfix_msg_finish(&M, 0, 0, buf, sizeof(buf), &info), 0);
		cr_assert_eq(info.templates, i % 3 == 0 ? 2u : 0u, "message %d", i);
	}
}

/* Records go in until the next would pass max_msg; no message is longer. */
Test(ipfix, message_size_limit, .fini = fini_msg)
{
	struct ffpf_ft_record r4 = rec_tcp4(), r6 = rec_icmp6();
	struct ffpf_ipfix_msg_info info;
	unsigned total = 0, msgs = 0, sent = 0;
	struct msg m;
	int n = 0, err;

	cr_assert_eq(ffpf_ipfix_msg_init(&M, 0, 400, 1000, 0), 0);
	/* first message: 16 + 188 + 4 + 2 * 85 = 378; a third would make 463 */
	cr_assert_eq(ffpf_ipfix_msg_add(&M, &r4, 0), 0);
	cr_assert_eq(ffpf_ipfix_msg_add(&M, &r4, 0), 0);
	cr_assert_eq(ffpf_ipfix_msg_add(&M, &r4, 0), -ENOSPC);
	cr_assert_eq(ffpf_ipfix_msg_finish(&M, 0, 0, buf, sizeof(buf), &info), 378);
	/* without templates: 16 + 4 + 4 * 85 = 360 */
	for (n = 0; (err = ffpf_ipfix_msg_add(&M, &r4, 1)) == 0; n++)
		;
	cr_assert_eq(err, -ENOSPC);
	cr_assert_eq(n, 4);
	cr_assert_eq(ffpf_ipfix_msg_finish(&M, 1, 0, buf, sizeof(buf), &info), 360);

	/* mixed: a second data set costs its 4-byte header too */
	for (int i = 0; i < 200; i++) {
		const struct ffpf_ft_record *r = i % 3 ? &r4 : &r6;

		err = ffpf_ipfix_msg_add(&M, r, 2);
		if (err == -ENOSPC) {
			int len = ffpf_ipfix_msg_finish(&M, 2, 0, buf, sizeof(buf), &info);

			cr_assert_gt(len, 0);
			cr_assert_leq(len, 400, "message of %d bytes", len);
			parse(buf, len, &m);
			cr_assert_eq(data_records(&m), info.records);
			/* full: the record refused would have passed the limit */
			unsigned tid = r == &r4 ? FFPF_IPFIX_TEMPLATE_V4 : FFPF_IPFIX_TEMPLATE_V6;
			int need = r == &r4 ? FFPF_IPFIX_REC_V4_LEN : FFPF_IPFIX_REC_V6_LEN;
			bool have_set = false;

			for (int k = 0; k < m.nsets; k++)
				have_set |= m.set_id[k] == tid;
			cr_assert_gt(len + need + (have_set ? 0 : 4), 400,
				     "a %d-byte message refused a record", len);
			sent += info.records;
			msgs++;
			err = ffpf_ipfix_msg_add(&M, r, 2);
		}
		cr_assert_eq(err, 0);
		total++;
	}
	sent += ffpf_ipfix_msg_pending(&M);
	cr_assert_eq(sent, total);
	cr_assert_gt(msgs, 40u);
}

Test(ipfix, max_msg_bounds, .fini = fini_msg)
{
	struct ffpf_ft_record r6 = rec_icmp6();

	cr_assert_eq(ffpf_ipfix_msg_init(&M, 0, FFPF_IPFIX_MAX_MSG_MIN - 1, 0, 0), -EINVAL);
	cr_assert_eq(ffpf_ipfix_msg_init(&M, 0, 65536, 0, 0), -EINVAL);
	/* the smallest: templates and one IPv6 record, exactly */
	cr_assert_eq(ffpf_ipfix_msg_init(&M, 0, FFPF_IPFIX_MAX_MSG_MIN, 0, 0), 0);
	cr_assert_eq(ffpf_ipfix_msg_add(&M, &r6, 0), 0);
	cr_assert_eq(ffpf_ipfix_msg_add(&M, &r6, 0), -ENOSPC);
	cr_assert_eq(ffpf_ipfix_msg_finish(&M, 0, 0, buf, sizeof(buf), NULL),
		     FFPF_IPFIX_MAX_MSG_MIN);
}

/* --- the exporter: sockets in a private network namespace ---------------- */

static void private_lo(void)
{
	cr_assert_eq(geteuid(), 0, "the exporter tests need root (a private network namespace)");
	cr_assert_eq(ffpf_private_netns(), 0, "a private network namespace with lo up: %s",
		     strerror(errno));
	ffpf_set_print(NULL);
}

Test(ipfix, bad_hostport, .init = private_lo)
{
	static const char *bad[] = {
		"", "collector", "10.0.0.1", "10.0.0.1:", "10.0.0.1:0", "10.0.0.1:65536",
		"10.0.0.1:-1", "10.0.0.1:12ab", "10.0.0.1: 80", "::1:4739", "[::1]", "[::1]4739",
		"[::1:4739", "[]:4739", "[10.0.0.1]:4739", "[::1]:", ":4739",
	};
	FFPF_OPTS(ffpf_ipfix_opts, small, .max_msg = FFPF_IPFIX_MAX_MSG_MIN - 1);
	FFPF_OPTS(ffpf_ipfix_opts, big, .max_msg = 65535);

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		cr_assert_null(ffpf_ipfix_open(bad[i], NULL), "'%s' accepted", bad[i]);
		cr_assert_eq(errno, EINVAL, "'%s': errno %d", bad[i], errno);
	}
	errno = 0;
	cr_assert_null(ffpf_ipfix_open(NULL, NULL));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(ffpf_ipfix_open("127.0.0.1:4739", &small));
	cr_assert_eq(errno, EINVAL);
	/* more than a UDP datagram over IPv4 holds */
	cr_assert_null(ffpf_ipfix_open("127.0.0.1:4739", &big));
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(ffpf_ipfix_add(NULL, NULL), -EINVAL);
	cr_assert_eq(ffpf_ipfix_flush(NULL), -EINVAL);
	ffpf_ipfix_close(NULL);
}

/* A bound UDP socket on lo; its port in *port. */
static int collector(int family, int *port)
{
	struct sockaddr_storage ss = { .ss_family = family };
	socklen_t sl = sizeof(ss);
	int fd = socket(family, SOCK_DGRAM, 0);
	struct timeval tv = { .tv_sec = 2 };

	cr_assert_geq(fd, 0);
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	cr_assert_eq(bind(fd, (struct sockaddr *)&ss, family == AF_INET ?
			  sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					: ((struct sockaddr_in6 *)&ss)->sin6_port);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void export_to(int family, const char *fmt)
{
	FFPF_OPTS(ffpf_ipfix_opts, o, .domain_id = 42, .max_msg = 600);
	struct ffpf_ft_record r4 = rec_tcp4(), r6 = rec_icmp6();
	struct ffpf_ipfix_stats st = { .sz = sizeof(st) };
	unsigned records = 0, seq = 0, msgs = 0, bytes = 0;
	char hp[64];
	struct ffpf_ipfix *x;
	struct msg m;
	int port, fd = collector(family, &port);

	snprintf(hp, sizeof(hp), fmt, port);
	x = ffpf_ipfix_open(hp, &o);
	cr_assert_not_null(x, "open %s: %s", hp, strerror(errno));
	for (int i = 0; i < 40; i++)
		cr_assert_eq(ffpf_ipfix_add(x, i % 4 ? &r4 : &r6), 0);
	cr_assert_eq(ffpf_ipfix_stats(x, &st), 0);
	cr_assert_eq(st.records + st.pending, 40u);
	cr_assert_gt(st.messages, 0u, "full messages are sent as records come");
	cr_assert_eq(ffpf_ipfix_flush(x), 0);
	cr_assert_eq(ffpf_ipfix_stats(x, &st), 0);
	cr_assert_eq(st.records, 40u);
	cr_assert_eq(st.pending, 0u);
	cr_assert_eq(st.lost, 0u);
	cr_assert_eq(st.send_errors, 0u);
	cr_assert_eq(st.templates, 2u, "one template set: the interval has not passed");

	while (records < 40) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		cr_assert_gt(n, 0, "received %u of 40 records: %s", records, strerror(errno));
		cr_assert_leq(n, 600);
		parse(buf, n, &m);
		cr_assert_eq(m.domain, 42u);
		cr_assert_eq(m.seq, seq, "message %u: seq %u, want %u", msgs, m.seq, seq);
		cr_assert_eq(has_templates(&m), msgs == 0);
		seq += data_records(&m);
		records += data_records(&m);
		bytes += n;
		msgs++;
	}
	cr_assert_eq(records, 40u);
	cr_assert_eq(msgs, st.messages);
	cr_assert_eq(bytes, st.bytes);
	ffpf_ipfix_close(x);
	close(fd);
}

Test(ipfix, export_ipv4, .init = private_lo)
{
	export_to(AF_INET, "127.0.0.1:%d");
}

Test(ipfix, export_ipv6, .init = private_lo)
{
	export_to(AF_INET6, "[::1]:%d");
}

/* A send the kernel refuses counts its records as lost. */
Test(ipfix, failed_send_counts_lost, .init = private_lo)
{
	struct ffpf_ft_record r = rec_tcp4();
	struct ffpf_ipfix_stats st = { .sz = sizeof(st) };
	struct ffpf_ipfix *x;
	int port, fd = collector(AF_INET, &port), err = 0, added = 0;
	char hp[32];

	close(fd);	/* nobody listens: port unreachable, then ECONNREFUSED */
	snprintf(hp, sizeof(hp), "127.0.0.1:%d", port);
	x = ffpf_ipfix_open(hp, NULL);
	cr_assert_not_null(x);
	for (int i = 0; i < 10 && err != -ECONNREFUSED; i++) {
		cr_assert_eq(ffpf_ipfix_add(x, &r), 0);
		added++;
		err = ffpf_ipfix_flush(x);
		usleep(10000);
	}
	cr_assert_eq(err, -ECONNREFUSED);
	cr_assert_eq(ffpf_ipfix_stats(x, &st), 0);
	cr_assert_geq(st.send_errors, 1u);
	cr_assert_geq(st.lost, 1u);
	cr_assert_eq(st.records + st.lost + st.pending, (unsigned)added,
		     "every record is sent, lost or pending");
	ffpf_ipfix_close(x);

	/* a small older struct gets the fields it has room for, no more */
	struct { size_t sz; __u64 messages; __u64 canary; } old = { .sz = 16, .canary = 77 };

	x = ffpf_ipfix_open(hp, NULL);
	cr_assert_not_null(x);
	cr_assert_eq(ffpf_ipfix_stats(x, (struct ffpf_ipfix_stats *)&old), 0);
	cr_assert_eq(old.canary, 77u);
	ffpf_ipfix_close(x);
}
