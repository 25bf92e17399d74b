// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_payload.c - the payload class on real flows: each row's spec is
 * instantiated on the test's private `lo`, ingress (XDP) and egress (TC),
 * the row's frame is run through the root program and the flow must have
 * accepted it once or not at all. Then the class's own counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

enum pmal {
	P_NONE,
	P_FRAG_FIRST,	/* first fragment (offset 0, more fragments) */
	P_FRAG_LATER,	/* non-first fragment: no transport header */
	P_TCP_CUT12,	/* frame ends 12 bytes into the TCP header */
};

struct prow {
	const char *spec;
	const char *desc;
	uint8_t ver;		/* 4 or 6 */
	uint8_t proto;		/* PKT_P_TCP, PKT_P_UDP, PKT_P_ICMP */
	const char *data;	/* bytes written at `at` into the payload (NULL: none) */
	size_t dlen;		/* 0: strlen(data) */
	size_t at;
	size_t plen;		/* payload length; 0: at + dlen; filled with '.' */
	enum pmal mal;
	bool accept;
};

static void build(struct pkt *p, const struct prow *r)
{
	bool frag = r->mal == P_FRAG_FIRST || r->mal == P_FRAG_LATER;
	size_t dlen = r->data ? (r->dlen ? r->dlen : strlen(r->data)) : 0;
	size_t plen = r->plen ? r->plen : r->at + dlen;
	size_t l4;

	pkt_init(p);
	if (r->ver == 6) {
		pkt_eth(p, PKT_ETH_IPV6);
		pkt_ipv6(p, &(struct ip6){ .next = frag ? PKT_P_FRAGMENT : r->proto });
		if (frag)
			pkt_ip6_frag(p, r->proto, r->mal == P_FRAG_LATER ? 64 : 0, true);
	} else {
		pkt_eth(p, PKT_ETH_IP);
		pkt_ipv4(p, &(struct ip4){ .proto = r->proto, .mf = frag,
					    .frag_off = r->mal == P_FRAG_LATER ? 64 : 0 });
	}
	l4 = p->len;
	if (r->proto == PKT_P_TCP)
		pkt_tcp(p, 1000, 80, TH_ACK | TH_PSH, 0);
	else if (r->proto == PKT_P_UDP)
		pkt_udp(p, 1000, 53);
	else
		pkt_icmp(p, 8, 0, 1);
	pkt_payload(p, plen, '.');
	if (dlen)
		memcpy(p->b + p->len - plen + r->at, r->data, dlen);
	if (r->mal == P_TCP_CUT12)
		pkt_cut(p, l4 + 12);
}

#define GET	"payload(\"GET /\")"
#define EDGE	"payload(\"ABCD\", depth=64)"
#define WIN	"payload(\"ABCD\", offset=10, depth=8)"
#define MULTI	"payload(\"GET /\", \"\\x90\\x90\\x90\", \"worm\")"
#define AC	"payload(\"abcd\", \"bce\", \"aab\")"
#define BIN	"payload(\"\\x00\\x01\\xff\")"
#define ONE	"payload(\"Z\")"
#define PAIR	"payload(\"ZQ\")"
#define P32	"payload(\"pat-00\", \"pat-01\", \"pat-02\", \"pat-03\", \"pat-04\", "	\
		"\"pat-05\", \"pat-06\", \"pat-07\", \"pat-08\", \"pat-09\", \"pat-10\", "	\
		"\"pat-11\", \"pat-12\", \"pat-13\", \"pat-14\", \"pat-15\", \"pat-16\", "	\
		"\"pat-17\", \"pat-18\", \"pat-19\", \"pat-20\", \"pat-21\", \"pat-22\", "	\
		"\"pat-23\", \"pat-24\", \"pat-25\", \"pat-26\", \"pat-27\", \"pat-28\", "	\
		"\"pat-29\", \"pat-30\", \"pat-31\")"
#define LONG	"0123456789abcdef0123456789ABCDEF"	/* 32 bytes: the longest pattern */
#define DEEP	"payload(\"" LONG "\", depth=1500)"
#define DEEP2	"payload(\"" LONG "\", depth=1399)"

#define T4	.ver = 4, .proto = PKT_P_TCP
#define U4	.ver = 4, .proto = PKT_P_UDP
#define T6	.ver = 6, .proto = PKT_P_TCP
#define U6	.ver = 6, .proto = PKT_P_UDP

static const struct prow rows[] = {
	{ GET, "TCP, pattern at payload byte 0", T4, "GET /index.html", 0, 0, 0, 0, true },
	{ GET, "TCP, pattern at byte 100", T4, "GET /", 0, 100, 300, 0, true },
	{ GET, "TCP, pattern absent", T4, "GET index", 0, 0, 300, 0, false },
	{ GET, "TCP, another case", T4, "get /", 0, 0, 0, 0, false },
	{ GET, "TCP, pattern past the default depth 256", T4, "GET /", 0, 252, 400, 0, false },
	{ GET, "TCP, pattern ends at the default depth", T4, "GET /", 0, 251, 400, 0, true },
	{ GET, "TCP, empty payload", T4, NULL, 0, 0, 0, 0, false },
	{ GET, "TCP, pattern is the last bytes of a short packet", T4, "GET /", 0, 40, 0, 0, true },
	{ GET, "TCP, only a prefix at the end of the packet", T4, "GET ", 0, 40, 0, 0, false },
	{ GET, "UDP", U4, "GET /", 0, 7, 64, 0, true },
	{ GET, "IPv6 TCP", T6, "GET /", 0, 7, 64, 0, true },
	{ GET, "IPv6 UDP", U6, "GET /", 0, 7, 64, 0, true },
	{ GET, "IPv6 UDP, absent", U6, "GET", 0, 7, 64, 0, false },
	{ GET, "ICMP echo: searched after the 8-byte header", .ver = 4, .proto = PKT_P_ICMP,
	  "GET /", 0, 3, 64, 0, true },
	{ GET, "in the TCP header only (frame cut at 12 bytes)", T4, "GET /", 0, 0, 0,
	  P_TCP_CUT12, false },
	{ GET, "IPv4 first fragment", U4, "GET /", 0, 0, 64, P_FRAG_FIRST, true },
	{ GET, "IPv4 later fragment (payload bytes look like one)", U4, "GET /", 0, 0, 64,
	  P_FRAG_LATER, false },
	{ GET, "IPv6 first fragment", U6, "GET /", 0, 0, 64, P_FRAG_FIRST, true },
	{ GET, "IPv6 later fragment", U6, "GET /", 0, 0, 64, P_FRAG_LATER, false },
	{ EDGE, "bytes 60..63: just inside depth 64", T4, "ABCD", 0, 60, 200, 0, true },
	{ EDGE, "bytes 61..64: one byte outside", T4, "ABCD", 0, 61, 200, 0, false },
	{ EDGE, "at 0", U4, "ABCD", 0, 0, 200, 0, true },
	{ WIN, "window [10,18): at 10", T4, "ABCD", 0, 10, 100, 0, true },
	{ WIN, "window [10,18): at 9, starts before it", T4, "ABCD", 0, 9, 100, 0, false },
	{ WIN, "window [10,18): at 14, ends on its last byte", T4, "ABCD", 0, 14, 100, 0, true },
	{ WIN, "window [10,18): at 15, one byte past it", T4, "ABCD", 0, 15, 100, 0, false },
	{ WIN, "payload shorter than the offset", T4, "ABCD", 0, 0, 8, 0, false },
	{ MULTI, "first pattern", T4, "xxGET /", 0, 0, 0, 0, true },
	{ MULTI, "binary second pattern", U4, "\x90\x90\x90", 0, 30, 100, 0, true },
	{ MULTI, "two NOPs only", U4, "\x90\x90.\x90", 0, 30, 100, 0, false },
	{ MULTI, "third pattern at the very end", U6, "worm", 0, 96, 100, 0, true },
	{ MULTI, "none of them", U4, "wor GET \x90\x90", 0, 0, 100, 0, false },
	{ AC, "overlap: abce holds bce after a failed abcd", T4, "abce", 0, 0, 0, 0, true },
	{ AC, "aaab holds aab", T4, "aaab", 0, 0, 0, 0, true },
	{ AC, "abcabcd", T4, "abcabcd", 0, 0, 0, 0, true },
	{ AC, "abc ab bc aa: no pattern", T4, "abc ab bc aa", 0, 0, 0, 0, false },
	{ BIN, "bytes 00 01 ff", U4, "\x00\x01\xff", 3, 5, 20, 0, true },
	{ BIN, "bytes 00 01 fe", U4, "\x00\x01\xfe", 3, 5, 20, 0, false },
	{ ONE, "one-byte pattern as the last payload byte", U4, "Z", 0, 30, 31, 0, true },
	{ ONE, "one-byte pattern absent", U4, "z", 0, 30, 31, 0, false },
	{ PAIR, "ZQ at the end (leaves Q in the scratch buffer)", U4, "ZQ", 0, 3, 5, 0, true },
	{ PAIR, "Z as the last byte, a stale Q after it: no match", U4, "Z", 0, 3, 4, 0, false },
	{ P32, "32 patterns: the last one", T4, "pat-31", 0, 200, 256, 0, true },
	{ P32, "32 patterns: the first one", U6, "pat-00", 0, 0, 256, 0, true },
	{ P32, "32 patterns: none", T4, "pat-32 pat-3 at-31", 0, 0, 256, 0, false },
	{ DEEP, "32-byte pattern ending at byte 1400 of depth 1500", T4, LONG, 0, 1368, 1400,
	  0, true },
	{ DEEP2, "the same at depth 1399", T4, LONG, 0, 1368, 1400, 0, false },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

TestSuite(payload, .init = tf_setup, .timeout = 120);

static void run_table(enum ffpf_hook hook)
{
	const char *hname = hook == FFPF_HOOK_EGRESS ? "TC" : "XDP";
	struct ffpf_flow *f = NULL;
	const char *cur = NULL;
	int naccept = 0;

	for (size_t i = 0; i < NROWS; i++) {
		const struct prow *r = &rows[i];
		struct ffpf_flow_stats s0, s1;
		struct pkt p;

		if (!cur || strcmp(cur, r->spec)) {
			ffpf_flow_close(f);
			f = tf_flow_on(r->spec, hook, true);
			cur = r->spec;
		}
		build(&p, r);
		s0 = tf_stats(f);
		tf_run(f, &p);
		s1 = tf_stats(f);
		cr_expect_eq(s1.packets - s0.packets, r->accept ? 1 : 0,
			     "%s [%s | %s] accepted %llu times, want %d (frame %s)", hname,
			     r->spec, r->desc, (unsigned long long)(s1.packets - s0.packets),
			     r->accept, tf_hex(&p));
		cr_expect_eq(s1.missed, s0.missed, "%s [%s | %s] missed tail call", hname,
			     r->spec, r->desc);
		naccept += r->accept;
	}
	ffpf_flow_close(f);
	cr_expect_gt(naccept, 0);
	cr_expect_lt(naccept, (int)NROWS);
}

Test(payload, table_ingress_xdp)
{
	run_table(FFPF_HOOK_INGRESS);
}

Test(payload, table_egress_tc)
{
	run_table(FFPF_HOOK_EGRESS);
}

static struct ffpf_mbuf_cpu sum_cpu(struct ffpf_flow *f, int idx)
{
	struct ffpf_payload_mbuf *m = ffpf_flow_filter_mbuf(f, idx, NULL);
	struct ffpf_mbuf_cpu s = {};

	cr_assert_not_null(m);
	for (int c = 0; c < FFPF_MBUF_CPUS; c++) {
		s.seen += m->cpu[c].seen;
		s.passed += m->cpu[c].passed;
		s.bytes += m->cpu[c].bytes;
		for (int k = 0; k < 5; k++)
			s.spare[k] += m->cpu[c].spare[k];
	}
	return s;
}

Test(payload, counters_seen_passed_scanned_empty_nol4)
{
	struct ffpf_flow *f = tf_flow("count -> payload(\"worm\", depth=100) -> count", true);
	const struct prow hit = { "", "", U4, "worm", 0, 10, 300, 0, true };
	const struct prow miss = { "", "", U4, NULL, 0, 0, 50, 0, false };
	const struct prow empty = { "", "", T4, NULL, 0, 0, 0, 0, false };
	const struct prow later = { "", "", U4, "worm", 0, 0, 60, P_FRAG_LATER, false };
	struct ffpf_payload_mbuf *m = ffpf_flow_filter_mbuf(f, 1, NULL);
	struct ffpf_mbuf_cpu s;
	struct pkt p;

	cr_assert_not_null(m);
	cr_expect_eq(m->cfg.depth, 100);
	cr_expect_eq(m->cfg.npat, 1);
	cr_expect_eq(m->cfg.len[0], 4);
	build(&p, &hit);
	tf_run(f, &p);
	tf_run(f, &p);
	build(&p, &miss);
	tf_run(f, &p);
	build(&p, &empty);
	tf_run(f, &p);
	build(&p, &later);
	tf_run(f, &p);
	s = sum_cpu(f, 1);
	cr_expect_eq(s.seen, 5);
	cr_expect_eq(s.passed, 2);
	build(&p, &hit);
	cr_expect_eq(s.bytes, 2 * p.len);
	/* scanned counts the window copied, also past a match */
	cr_expect_eq(s.spare[FFPF_PL_SCANNED], 100 + 100 + 50,
		     "scanned %llu", (unsigned long long)s.spare[FFPF_PL_SCANNED]);
	cr_expect_eq(s.spare[FFPF_PL_EMPTY], 1);
	cr_expect_eq(s.spare[FFPF_PL_NOL4], 1);
	cr_expect_eq(tf_fstats(f, 2).seen, 2, "only matches reach the next stage");
	cr_expect_eq(tf_stats(f).packets, 2);
	ffpf_flow_close(f);
}

Test(payload, bad_specs_are_refused_at_populate)
{
	static const char *const bad[] = {
		"payload", "payload(depth=10)", "payload(\"\")", "payload(\"a\", depth=0)",
		"payload(\"a\", depth=1501)", "payload(\"\\q\")", "payload(GET)",
	};
	struct ffpf_flow *f = ffpf_flow_create(TF_IFNAME, NULL);

	cr_assert_not_null(f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(ffpf_flow_populate(f, bad[i]), -EINVAL, "%s", bad[i]);
	cr_expect_eq(ffpf_flow_nfilters(f), 0);
	ffpf_flow_close(f);
}
