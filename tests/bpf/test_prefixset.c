// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_prefixset.c - the prefixset class (issue 5) on real flows: tables
 * of {spec, frame, accepted?} run through the root program with
 * BPF_PROG_TEST_RUN, then the live API changing the set under a flow.
 */
#include <errno.h>
#include <string.h>
#include <ffpf/prefixset.h>
#include "harness.h"

enum kind {
	K_UDP,		/* Ethernet / IP / UDP */
	K_ARP,		/* not IP */
	K_CUT_L3,	/* frame ends inside the IP header: no addresses */
	K_CUT_L4,	/* frame ends inside the UDP header: addresses valid */
	K_BAD_IHL,	/* IPv4 IHL 4: malformed, no addresses */
};

struct prow {
	const char *spec;
	const char *desc;
	uint8_t ver;			/* 4 or 6 */
	const char *src, *dst;		/* NULL: the builder's defaults */
	enum kind kind;
	bool accept;
};

static void build(struct pkt *p, const struct prow *r)
{
	pkt_init(p);
	if (r->kind == K_ARP) {
		pkt_eth(p, PKT_ETH_ARP);
		pkt_arp(p);
		return;
	}
	pkt_eth(p, r->ver == 6 ? PKT_ETH_IPV6 : PKT_ETH_IP);
	if (r->ver == 6)
		pkt_ipv6(p, &(struct ip6){ .src = r->src, .dst = r->dst, .next = PKT_P_UDP });
	else
		pkt_ipv4(p, &(struct ip4){ .src = r->src, .dst = r->dst, .proto = PKT_P_UDP,
					    .ihl = r->kind == K_BAD_IHL ? 4 : 0 });
	pkt_udp(p, 1000, 2000);
	pkt_payload(p, 16, 0x5a);
	if (r->kind == K_CUT_L3)
		pkt_cut(p, 14 + 10);
	else if (r->kind == K_CUT_L4)
		pkt_cut(p, 14 + (r->ver == 6 ? 40 : 20) + 4);
}

#define SRC_ALLOW	"prefixset(src, allow, 10.0.0.0/8, 192.0.2.7, 2001:db8:aa::/48, fd00::1)"
#define DST_DENY	"prefixset(dst, deny, 10.0.0.0/8, 2001:db8::/32) -> count"
#define EITHER		"prefixset(either, allow, 192.168.0.0/16, 2001:db8::1)"
#define OVERLAP		"prefixset(src, allow, 10.0.0.0/8, 10.1.0.0/16, 10.1.2.3)"
#define ADJACENT	"prefixset(src, allow, 10.0.0.0/25, 10.0.0.128/25)"

static const struct prow rows[] = {
	/* allow by source: IPv4 and IPv6, prefixes and hosts */
	{ SRC_ALLOW, "v4 src in 10/8", 4, "10.1.2.3", "172.16.0.1", K_UDP, true },
	{ SRC_ALLOW, "v4 src 11.0.0.1: not in", 4, "11.0.0.1", "172.16.0.1", K_UDP, false },
	{ SRC_ALLOW, "v4 src 9.255.255.255: just below 10/8", 4, "9.255.255.255", NULL, K_UDP, false },
	{ SRC_ALLOW, "v4 src 10.255.255.255: last of 10/8", 4, "10.255.255.255", NULL, K_UDP, true },
	{ SRC_ALLOW, "v4 host /32", 4, "192.0.2.7", NULL, K_UDP, true },
	{ SRC_ALLOW, "v4 host /32, next address", 4, "192.0.2.8", NULL, K_UDP, false },
	{ SRC_ALLOW, "v4 only dst in the set", 4, "11.0.0.1", "10.0.0.2", K_UDP, false },
	{ SRC_ALLOW, "v6 src in /48", 6, "2001:db8:aa::1", NULL, K_UDP, true },
	{ SRC_ALLOW, "v6 src in the adjacent /48", 6, "2001:db8:ab::1", NULL, K_UDP, false },
	{ SRC_ALLOW, "v6 host /128", 6, "fd00::1", NULL, K_UDP, true },
	{ SRC_ALLOW, "v6 host /128, next address", 6, "fd00::2", NULL, K_UDP, false },
	{ SRC_ALLOW, "ARP: not IP, allow rejects", 4, NULL, NULL, K_ARP, false },
	{ SRC_ALLOW, "IPv4 header cut: no address", 4, "10.1.2.3", NULL, K_CUT_L3, false },
	{ SRC_ALLOW, "IPv6 header cut: no address", 6, "2001:db8:aa::1", NULL, K_CUT_L3, false },
	{ SRC_ALLOW, "IPv4 IHL 4: malformed", 4, "10.1.2.3", NULL, K_BAD_IHL, false },
	{ SRC_ALLOW, "v4 UDP cut: addresses still valid", 4, "10.1.2.3", NULL, K_CUT_L4, true },
	{ SRC_ALLOW, "v6 UDP cut: addresses still valid", 6, "2001:db8:aa::9", NULL, K_CUT_L4, true },
	/* deny by destination */
	{ DST_DENY, "v4 dst in 10/8", 4, "11.0.0.1", "10.0.0.2", K_UDP, false },
	{ DST_DENY, "v4 dst out", 4, "11.0.0.1", "11.0.0.2", K_UDP, true },
	{ DST_DENY, "v4 src in, dst out: dst only", 4, "10.0.0.1", "11.0.0.2", K_UDP, true },
	{ DST_DENY, "v6 dst in /32", 6, "2001:db9::1", "2001:db8::2", K_UDP, false },
	{ DST_DENY, "v6 dst out", 6, "2001:db8::1", "2001:db9::2", K_UDP, true },
	{ DST_DENY, "ARP: not IP, deny passes", 4, NULL, NULL, K_ARP, true },
	{ DST_DENY, "IPv4 header cut: deny passes", 4, "10.0.0.1", "10.0.0.2", K_CUT_L3, true },
	/* either address */
	{ EITHER, "src in", 4, "192.168.1.1", "8.8.8.8", K_UDP, true },
	{ EITHER, "dst in", 4, "8.8.8.8", "192.168.1.1", K_UDP, true },
	{ EITHER, "neither", 4, "8.8.8.8", "8.8.4.4", K_UDP, false },
	{ EITHER, "v6 dst host", 6, "2001:db8::2", "2001:db8::1", K_UDP, true },
	{ EITHER, "v6 neither", 6, "2001:db8::2", "2001:db8::3", K_UDP, false },
	{ "prefixset(either, deny, 192.168.0.0/16)", "deny either: src in", 4,
	  "192.168.1.1", "8.8.8.8", K_UDP, false },
	{ "prefixset(either, deny, 192.168.0.0/16)", "deny either: neither", 4,
	  "8.8.8.8", "8.8.4.4", K_UDP, true },
	/* /0: IPv4's 0.0.0.0/0 is every IPv4 address, ::/0 every address */
	{ "prefixset(src, allow, 0.0.0.0/0)", "0/0: any IPv4", 4, "203.0.113.9", NULL, K_UDP, true },
	{ "prefixset(src, allow, 0.0.0.0/0)", "0/0: not IPv6", 6, "2001:db8::1", NULL, K_UDP, false },
	{ "prefixset(src, allow, ::/0)", "::/0: IPv6", 6, "2001:db8::1", NULL, K_UDP, true },
	{ "prefixset(src, allow, ::/0)", "::/0: IPv4 too (v4-mapped)", 4, "203.0.113.9", NULL, K_UDP, true },
	{ "prefixset(src, allow, ::/0)", "::/0: ARP is not IP", 4, NULL, NULL, K_ARP, false },
	/* overlapping prefixes: membership, whichever is longest */
	{ OVERLAP, "in all three", 4, "10.1.2.3", NULL, K_UDP, true },
	{ OVERLAP, "in /8 and /16", 4, "10.1.9.9", NULL, K_UDP, true },
	{ OVERLAP, "in /8 only", 4, "10.9.9.9", NULL, K_UDP, true },
	{ OVERLAP, "in none", 4, "11.1.2.3", NULL, K_UDP, false },
	/* adjacent prefixes */
	{ ADJACENT, "first half", 4, "10.0.0.0", NULL, K_UDP, true },
	{ ADJACENT, "last of first half", 4, "10.0.0.127", NULL, K_UDP, true },
	{ ADJACENT, "first of second half", 4, "10.0.0.128", NULL, K_UDP, true },
	{ ADJACENT, "last of second half", 4, "10.0.0.255", NULL, K_UDP, true },
	{ ADJACENT, "one past", 4, "10.0.1.0", NULL, K_UDP, false },
	{ ADJACENT, "one before", 4, "9.255.255.255", NULL, K_UDP, false },
	/* empty sets */
	{ "prefixset(src, allow)", "empty allow: nothing", 4, "10.0.0.1", NULL, K_UDP, false },
	{ "prefixset(src, deny)", "empty deny: everything", 4, "10.0.0.1", NULL, K_UDP, true },
	{ "prefixset(src, deny)", "empty deny: ARP too", 4, NULL, NULL, K_ARP, true },
};

#define NROWS	(sizeof(rows) / sizeof(rows[0]))

TestSuite(prefixset, .init = tf_setup, .timeout = 120);

Test(prefixset, table_on_real_flows)
{
	struct ffpf_flow *f = NULL;
	const char *cur = NULL;
	int naccept = 0;

	for (size_t i = 0; i < NROWS; i++) {
		const struct prow *r = &rows[i];
		struct ffpf_flow_stats s0, s1;
		struct ffpf_mbuf_hdr h0, h1;
		struct pkt p;

		if (!cur || strcmp(cur, r->spec)) {
			ffpf_flow_close(f);
			f = tf_flow(r->spec, true);
			cur = r->spec;
		}
		build(&p, r);
		s0 = tf_stats(f);
		h0 = tf_fstats(f, 0);
		cr_expect_eq(tf_run(f, &p), 2, "[%s | %s] XDP verdict", r->spec, r->desc);
		s1 = tf_stats(f);
		h1 = tf_fstats(f, 0);
		cr_expect_eq(s1.packets - s0.packets, r->accept ? 1 : 0,
			     "[%s | %s] accepted %llu times, want %d (frame %s)", r->spec,
			     r->desc, (unsigned long long)(s1.packets - s0.packets),
			     r->accept, tf_hex(&p));
		cr_expect_eq(h1.seen - h0.seen, 1, "[%s | %s] stage seen +%llu", r->spec,
			     r->desc, (unsigned long long)(h1.seen - h0.seen));
		cr_expect_eq(h1.passed - h0.passed, r->accept ? 1 : 0,
			     "[%s | %s] stage passed", r->spec, r->desc);
		cr_expect_eq(s1.missed, s0.missed, "[%s | %s] missed tail call", r->spec,
			     r->desc);
		naccept += r->accept;
	}
	ffpf_flow_close(f);
	cr_expect_gt(naccept, 0);
	cr_expect_lt(naccept, (int)NROWS);
}

static struct pkt frame(uint8_t ver, const char *src, enum kind kind)
{
	struct prow r = { .ver = ver, .src = src, .kind = kind };
	struct pkt p;

	build(&p, &r);
	return p;
}

/* Run @p once: did the flow accept it? */
static bool accepted(struct ffpf_flow *f, const struct pkt *p)
{
	__u64 before = tf_stats(f).packets;

	cr_assert_eq(tf_run(f, p), 2);
	return tf_stats(f).packets - before == 1;
}

static __u64 spare(struct ffpf_flow *f, int k)
{
	struct ffpf_prefixset_mbuf *m = ffpf_flow_filter_mbuf(f, 0, NULL);
	__u64 sum = 0;

	cr_assert_not_null(m);
	for (int c = 0; c < FFPF_MBUF_CPUS; c++)
		sum += m->cpu[c].spare[k];
	return sum;
}

struct collect {
	char list[8][64];
	int n;
};

static int collect_cb(const char *prefix, void *ctx)
{
	struct collect *c = ctx;

	if (c->n < 8)
		snprintf(c->list[c->n], sizeof(c->list[0]), "%s", prefix);
	c->n++;
	return 0;
}

Test(prefixset, live_add_and_del_change_the_verdict)
{
	struct ffpf_flow *f = tf_flow("prefixset(src, allow) -> count", true);
	struct pkt a4 = frame(4, "10.1.2.3", K_UDP), b4 = frame(4, "11.1.2.3", K_UDP);
	struct pkt a6 = frame(6, "2001:db8:5::1", K_UDP);
	struct collect c = { 0 };

	cr_expect(!accepted(f, &a4), "empty set accepted 10.1.2.3");
	cr_assert_eq(ffpf_prefixset_add(f, 0, "10.0.0.0/8"), 0);
	cr_expect(accepted(f, &a4), "10.0.0.0/8 added: 10.1.2.3 rejected");
	cr_expect(!accepted(f, &b4), "10.0.0.0/8 added: 11.1.2.3 accepted");
	cr_expect(!accepted(f, &a6));
	cr_assert_eq(ffpf_prefixset_add(f, 0, "2001:db8::/32"), 0);
	cr_expect(accepted(f, &a6), "2001:db8::/32 added: v6 rejected");
	/* adding twice is not an error; host bits are cleared */
	cr_expect_eq(ffpf_prefixset_add(f, 0, "10.9.9.9/8"), 0);
	cr_expect_eq(ffpf_prefixset_add(f, 0, "11.1.2.3"), 0);
	cr_expect(accepted(f, &b4), "host 11.1.2.3 added");

	cr_expect_eq(ffpf_prefixset_list(f, 0, collect_cb, &c), 3);
	cr_expect_eq(c.n, 3);
	cr_expect_str_eq(c.list[0], "10.0.0.0/8");
	cr_expect_str_eq(c.list[1], "11.1.2.3/32");
	cr_expect_str_eq(c.list[2], "2001:db8::/32");

	cr_assert_eq(ffpf_prefixset_del(f, 0, "10.0.0.0/8"), 0);
	cr_expect(!accepted(f, &a4), "10.0.0.0/8 deleted: 10.1.2.3 accepted");
	cr_expect(accepted(f, &a6), "deleting the v4 prefix removed the v6 one");
	cr_expect_eq(ffpf_prefixset_del(f, 0, "10.0.0.0/8"), -ENOENT);
	/* del takes the exact prefix: a covering or covered one is not it */
	cr_expect_eq(ffpf_prefixset_del(f, 0, "2001:db8::/48"), -ENOENT);
	cr_expect_eq(ffpf_prefixset_del(f, 0, "2001:db8::/32"), 0);
	cr_expect(!accepted(f, &a6));

	/* errors */
	cr_expect_eq(ffpf_prefixset_add(f, 0, "10.0.0.0/33"), -EINVAL);
	cr_expect_eq(ffpf_prefixset_add(f, 0, "2001:db8::/129"), -EINVAL);
	cr_expect_eq(ffpf_prefixset_add(f, 0, "banana"), -EINVAL);
	cr_expect_eq(ffpf_prefixset_add(f, 0, ""), -EINVAL);
	cr_expect_eq(ffpf_prefixset_add(f, 0, NULL), -EINVAL);
	cr_expect_eq(ffpf_prefixset_add(f, 1, "10.0.0.0/8"), -EINVAL, "count is no prefixset");
	cr_expect_eq(ffpf_prefixset_add(f, 2, "10.0.0.0/8"), -EINVAL, "no filter 2");
	cr_expect_eq(ffpf_prefixset_add(NULL, 0, "10.0.0.0/8"), -EINVAL);
	c.n = 0;
	cr_expect_eq(ffpf_prefixset_list(f, 0, collect_cb, &c), 1);
	cr_expect_str_eq(c.list[0], "11.1.2.3/32");
	ffpf_flow_close(f);
}

Test(prefixset, full_set_is_enospc)
{
	struct ffpf_flow *f = tf_flow("prefixset(dst, deny, size=2, 10.0.0.0/8)", true);
	struct ffpf_prefixset_mbuf *m = ffpf_flow_filter_mbuf(f, 0, NULL);

	cr_assert_not_null(m);
	cr_expect_eq(m->cfg.size, 2);
	cr_expect_eq(m->cfg.dir, FFPF_PS_DST);
	cr_expect_eq(m->cfg.mode, FFPF_PS_DENY);
	cr_expect_eq(ffpf_prefixset_add(f, 0, "2001:db8::/32"), 0);
	cr_expect_eq(ffpf_prefixset_add(f, 0, "192.0.2.0/24"), -ENOSPC);
	/* an existing prefix still updates in place */
	cr_expect_eq(ffpf_prefixset_add(f, 0, "10.0.0.0/8"), 0);
	cr_expect_eq(ffpf_prefixset_del(f, 0, "2001:db8::/32"), 0);
	cr_expect_eq(ffpf_prefixset_add(f, 0, "192.0.2.0/24"), 0);
	cr_expect_eq(ffpf_prefixset_list(f, 0, NULL, NULL), 2);
	ffpf_flow_close(f);
}

Test(prefixset, hits_and_non_ip_counters)
{
	struct ffpf_flow *f = tf_flow("prefixset(either, deny, 10.0.0.0/8)", true);
	struct pkt in = frame(4, "10.0.0.1", K_UDP), out = frame(4, "11.0.0.1", K_UDP);
	struct pkt arp = frame(4, NULL, K_ARP), cut = frame(4, "10.0.0.1", K_CUT_L3);
	struct ffpf_mbuf_hdr h;

	/* frame(): dst is the builder's 10.0.0.2, so "either" hits on both */
	cr_expect(!accepted(f, &in));
	cr_expect(!accepted(f, &out), "dst 10.0.0.2 is in the set");
	cr_expect(accepted(f, &arp));
	cr_expect(accepted(f, &cut));
	cr_expect(accepted(f, &arp));
	h = tf_fstats(f, 0);
	cr_expect_eq(h.seen, 5);
	cr_expect_eq(h.passed, 3);
	cr_expect_eq(spare(f, FFPF_PS_HITS), 2);
	cr_expect_eq(spare(f, FFPF_PS_NON_IP), 3);
	ffpf_flow_close(f);
}

Test(prefixset, egress_hook)
{
	struct ffpf_flow *f = tf_flow_on("prefixset(src, allow, 10.0.0.0/8) -> count",
					 FFPF_HOOK_EGRESS, true);
	struct pkt a = frame(4, "10.0.0.1", K_UDP), b = frame(4, "11.0.0.1", K_UDP);
	__u64 p0 = tf_stats(f).packets;

	tf_run(f, &a);
	cr_expect_eq(tf_stats(f).packets - p0, 1, "egress: 10.0.0.1 not accepted");
	tf_run(f, &b);
	cr_expect_eq(tf_stats(f).packets - p0, 1, "egress: 11.0.0.1 accepted");
	cr_expect_eq(ffpf_prefixset_add(f, 0, "11.0.0.0/8"), 0);
	tf_run(f, &b);
	cr_expect_eq(tf_stats(f).packets - p0, 2, "egress: live add not seen");
	ffpf_flow_close(f);
}

Test(prefixset, flows_sharing_state_share_the_set)
{
	struct ffpf_flow *a = tf_flow("prefixset(src, allow, 10.0.0.0/8)", true), *b;
	FFPF_OPTS(ffpf_flow_opts, opts, .name = "sharer", .share = a);
	struct pkt p = frame(4, "192.0.2.1", K_UDP);

	b = ffpf_flow_create(TF_IFNAME, &opts);
	cr_assert_not_null(b);
	cr_assert_eq(ffpf_flow_populate(b, "prefixset(src, allow, 192.0.2.0/24)"), 0);
	cr_assert_eq(ffpf_flow_instantiate(b), 0);
	cr_assert_eq(ffpf_flow_activate(b), 0);
	/* one trie: b's initial prefix went into a's set, a's is in b's */
	cr_expect_eq(ffpf_prefixset_list(a, 0, NULL, NULL), 2);
	cr_expect(accepted(a, &p), "a does not see b's initial prefix");
	cr_expect(accepted(b, &p));
	cr_expect_eq(ffpf_prefixset_del(b, 0, "192.0.2.0/24"), 0);
	cr_expect(!accepted(a, &p), "a still sees a prefix deleted through b");
	ffpf_flow_close(b);
	ffpf_flow_close(a);
}
