// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_graph.c - flow graphs on real flows: alternation ('|'), grouping and
 * backtracking, the root's guard, the bpf and obj classes inside
 * alternatives, named instances shared within and across flows, the egress
 * hook, the 16-stage limit and appending to an alternation. Every verdict
 * comes from the root program under BPF_PROG_TEST_RUN; each stage's MBuf
 * counters show which way the packet went.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "compose.h"

#define EVEN	"obj(\"build/examples/user_stage.bpf.o\", \"even_port\")"

TestSuite(graph, .init = tf_setup, .timeout = 120);

/* --- frames ----------------------------------------------------------- */

static struct pkt udp(uint16_t dport)
{
	return pkt_udp4(40000, dport, 8);
}

static struct pkt tcp(uint16_t dport)
{
	return pkt_tcp4_ab("10.0.0.1", "10.0.0.2", 40000, dport, TH_SYN, 0);
}

static struct pkt icmp(void)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_ICMP });
	pkt_icmp(&p, 8, 0, 1);
	return p;
}

/* An Ethernet header announcing IPv4, and nothing after it. */
static struct pkt eth_only(void)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IP);
	return p;
}

/* UDP to port 53 cut 12 bytes into its IPv4 header (protocol byte kept). */
static struct pkt ip_cut(void)
{
	struct pkt p = udp(53);

	pkt_cut(&p, 14 + 12);
	return p;
}

/* --- checks ----------------------------------------------------------- */

/*
 * Run @p once through the root and check @f's verdict and the path it
 * took: @path has one character per stage, '.' not reached, 'r' seen and
 * rejected, 'a' seen and passed (deltas of the stage's MBuf counters).
 */
static void expect_path(const struct ffpf_flow *f, const struct pkt *p, bool accept,
			const char *path, const char *what)
{
	struct ffpf_mbuf_hdr h0[FFPF_MAX_STAGES];
	struct ffpf_flow_stats s0 = tf_stats(f), s1;
	int n = ffpf_flow_nfilters(f);

	cr_assert_eq((int)strlen(path), n, "[%s] path '%s' for %d stages", what, path, n);
	for (int i = 0; i < n; i++)
		h0[i] = tf_fstats(f, i);
	tf_run(f, p);
	s1 = tf_stats(f);
	cr_expect_eq(s1.packets - s0.packets, accept, "[%s] accepted %llu, want %d (%s)",
		     what, (unsigned long long)(s1.packets - s0.packets), accept, tf_hex(p));
	cr_expect_eq(s1.missed, s0.missed, "[%s] missed tail call", what);
	for (int i = 0; i < n; i++) {
		struct ffpf_mbuf_hdr h = tf_fstats(f, i);

		cr_expect_eq(h.seen - h0[i].seen, path[i] != '.',
			     "[%s] stage %d (%s): seen +%llu, path '%s'", what, i,
			     ffpf_flow_filter_class(f, i),
			     (unsigned long long)(h.seen - h0[i].seen), path);
		cr_expect_eq(h.passed - h0[i].passed, path[i] == 'a',
			     "[%s] stage %d (%s): passed +%llu, path '%s'", what, i,
			     ffpf_flow_filter_class(f, i),
			     (unsigned long long)(h.passed - h0[i].passed), path);
	}
}

/* The flow's entry in the interface's flow directory. */
static struct ffpf_flow_desc desc(const struct ffpf_flow *f)
{
	struct ffpf_flow_desc d;

	cr_assert_eq(ffpf_iface_read_desc(f->iface, ffpf_flow_index(f), &d), 0);
	return d;
}

/* The slot a desc edge must hold: stage @to of @f, or none (-1). */
static __u16 slot_of(const struct ffpf_flow *f, int to)
{
	return to < 0 ? FFPF_SLOT_NONE : ffpf_stage_slot(ffpf_flow_index(f), to);
}

static void expect_edges(const struct ffpf_flow *f, const int (*edge)[2], int n)
{
	struct ffpf_flow_desc d = desc(f);

	cr_assert_eq(d.nstages, (__u32)n);
	for (int i = 0; i < n; i++) {
		cr_expect_eq(d.stages[i].next_slot, slot_of(f, edge[i][0]),
			     "stage %d next_slot %u", i, d.stages[i].next_slot);
		cr_expect_eq(d.stages[i].fail_slot, slot_of(f, edge[i][1]),
			     "stage %d fail_slot %u", i, d.stages[i].fail_slot);
	}
}

static bool guarded(const struct ffpf_flow *f)
{
	return f->iface->ctl->guarded & (1ULL << ffpf_flow_index(f));
}

/* --- alternation and backtracking ------------------------------------- */

Test(graph, alternation_inside_a_sequence)
{
	struct ffpf_flow *f = tf_flow("match(udp) -> (match(dst port 53) | "
				      "match(dst port 5353)) -> count", true);
	struct pkt u53 = udp(53), u5353 = udp(5353), u80 = udp(80), t53 = tcp(53);
	static const int edge[][2] = { { 1, -1 }, { 3, 2 }, { 3, -1 }, { -1, -1 } };

	expect_path(f, &u53, true, "aa.a", "udp 53");
	expect_path(f, &u5353, true, "araa", "udp 5353");
	expect_path(f, &u80, false, "arr.", "udp 80");
	/* the guard (leading match, fail = reject) keeps TCP off the chain */
	expect_path(f, &t53, false, "....", "tcp 53");
	cr_expect(guarded(f));
	cr_expect_eq(tf_stats(f).packets, 2);
	cr_expect_eq(tf_stats(f).dispatched, 3);
	expect_edges(f, edge, 4);
	cr_expect_str_eq(desc(f).spec,
			 "match(udp) -> (match(dst port 53) | match(dst port 5353)) -> count");
	ffpf_flow_close(f);
}

Test(graph, reject_inside_a_sequence_backtracks)
{
	struct ffpf_flow *f = tf_flow("(match(udp) -> match(dst port 53) | match(icmp))", true);
	struct pkt u53 = udp(53), u80 = udp(80), ic = icmp(), t53 = tcp(53);

	cr_expect_not(guarded(f), "stage 0 fails into match(icmp): no guard");
	expect_path(f, &u53, true, "aa.", "udp 53");
	/* passed match(udp), then refused: the next alternative still runs */
	expect_path(f, &u80, false, "arr", "udp 80");
	expect_path(f, &ic, true, "r.a", "icmp");
	expect_path(f, &t53, false, "r.r", "tcp 53");
	cr_expect_eq(tf_stats(f).packets, 2);
	ffpf_flow_close(f);
}

Test(graph, sample_reject_falls_through_to_count)
{
	struct ffpf_flow *f = tf_flow("(match(udp) -> sample(2) | count)", true);
	struct pkt u = udp(53), t = tcp(80);
	int n = 0;

	for (int i = 0; i < 6; i++, n++)
		tf_run(f, &u);
	for (int i = 0; i < 3; i++, n++)
		tf_run(f, &t);
	/* sample(2) passes UDP packets 1, 3, 5: 3 UDP + 3 TCP reach count */
	cr_expect_eq(tf_stats(f).packets, n, "every packet is accepted");
	cr_expect_eq(tf_stats(f).missed, 0);
	cr_expect_eq(tf_fstats(f, 0).seen, 9);
	cr_expect_eq(tf_fstats(f, 0).passed, 6);
	cr_expect_eq(tf_fstats(f, 1).seen, 6);
	cr_expect_eq(tf_fstats(f, 1).passed, 3);
	cr_expect_eq(tf_fstats(f, 2).seen, (6 - 3) + 3, "count: sample's rejects + TCP");
	ffpf_flow_close(f);
}

Test(graph, top_level_alternation_has_no_guard)
{
	struct ffpf_flow *f = tf_flow("match(tcp) | match(udp)", true);
	struct pkt t = tcp(80), u = udp(53), ic = icmp();

	cr_expect_not(guarded(f), "match(tcp) can fail into match(udp)");
	expect_path(f, &t, true, "a.", "tcp");
	expect_path(f, &u, true, "ra", "udp");
	expect_path(f, &ic, false, "rr", "icmp");
	cr_expect_eq(tf_stats(f).dispatched, 3, "no guard: every packet reaches the chain");
	ffpf_flow_close(f);

	/* the same leading match in a plain sequence is mirrored by the guard */
	f = tf_flow("match(tcp) -> count", true);
	cr_expect(guarded(f));
	expect_path(f, &t, true, "aa", "tcp");
	expect_path(f, &u, false, "..", "udp, stopped by the guard");
	cr_expect_eq(tf_stats(f).dispatched, 1);
	ffpf_flow_close(f);
}

/* --- the bpf and obj classes in alternatives -------------------------- */

Test(graph, bpf_class_alternatives_and_malformed_frames)
{
	struct ffpf_flow *f = tf_flow("bpf(\"tcp\") | bpf(\"udp port 53\")", true);
	struct pkt t = tcp(80), u53 = udp(53), u80 = udp(80), e = eth_only(), c = ip_cut();

	expect_path(f, &t, true, "a.", "tcp");
	expect_path(f, &u53, true, "ra", "udp 53");
	expect_path(f, &u80, false, "rr", "udp 80");
	expect_path(f, &e, false, "rr", "14-byte frame");
	expect_path(f, &c, false, "rr", "cut IPv4 header");
	cr_expect_eq(tf_stats(f).missed, 0);
	ffpf_flow_close(f);

	f = tf_flow("(bpf(\"icmp\") | match(udp)) -> count", true);
	{
		struct pkt ic = icmp();

		expect_path(f, &ic, true, "a.a", "icmp");
		expect_path(f, &u80, true, "raa", "udp");
		expect_path(f, &t, false, "rr.", "tcp");
		expect_path(f, &e, false, "rr.", "14-byte frame");
		expect_path(f, &c, false, "rr.", "cut IPv4 header");
	}
	cr_expect_eq(tf_stats(f).missed, 0);
	cr_expect_eq(tf_iface(f).missed, 0);
	ffpf_flow_close(f);
}

Test(graph, obj_stage_in_an_alternation)
{
	struct ffpf_flow *f;
	struct pkt ue = udp(2000), uo = udp(2001), te = tcp(80), to = tcp(443);

	cr_assert_eq(access("build/examples/user_stage.bpf.o", R_OK), 0,
		     "make tests builds build/examples/user_stage.bpf.o");
	f = tf_flow(EVEN " | count", true);
	expect_path(f, &ue, true, "a.", "udp even");
	expect_path(f, &uo, true, "ra", "udp odd: obj rejects, count accepts");
	ffpf_flow_close(f);

	f = tf_flow("(" EVEN " | match(tcp)) -> count", true);
	expect_path(f, &ue, true, "a.a", "udp even");
	expect_path(f, &uo, false, "rr.", "udp odd");
	expect_path(f, &te, true, "a.a", "tcp even");
	expect_path(f, &to, true, "raa", "tcp odd");
	cr_expect_eq(tf_stats(f).missed, 0);
	ffpf_flow_close(f);
}

Test(graph, egress_alternation)
{
	struct ffpf_flow *f = tf_flow_on("(match(tcp, dst port 80) | match(udp)) -> count",
					 FFPF_HOOK_EGRESS, true);
	struct pkt t80 = tcp(80), t81 = tcp(81), u = udp(9), ic = icmp();

	cr_expect_eq(ffpf_flow_hook(f), FFPF_HOOK_EGRESS);
	expect_path(f, &t80, true, "a.a", "tcp 80");
	expect_path(f, &u, true, "raa", "udp");
	expect_path(f, &t81, false, "rr.", "tcp 81");
	expect_path(f, &ic, false, "rr.", "icmp");
	cr_expect_eq(tf_stats(f).packets, 2);
	ffpf_flow_close(f);
}

/* --- named instances -------------------------------------------------- */

Test(graph, instance_shared_by_two_flows)
{
	struct ffpf_flow *a = tf_flow("c :: count -> match(udp)", true);
	struct ffpf_flow *b = tf_flow("c -> match(tcp)", true);
	struct pkt u = udp(53), t = tcp(80);
	struct ffpf_flow_desc da = desc(a), db = desc(b);
	struct ffpf_mbuf_hdr ha, hb;

	for (int i = 0; i < 3; i++)
		tf_run(a, &u);
	for (int i = 0; i < 2; i++)
		tf_run(a, &t);
	cr_expect_eq(tf_stats(a).packets, 3);
	cr_expect_eq(tf_stats(b).packets, 2);
	ha = tf_fstats(a, 0);
	hb = tf_fstats(b, 0);
	cr_expect_eq(ha.seen, 2 * 5, "each packet counted once in each flow");
	cr_expect_eq(hb.seen, ha.seen);
	cr_expect_eq(hb.passed, ha.passed);
	cr_expect_eq(hb.bytes, ha.bytes);
	cr_expect_eq(da.stages[0].mbuf_id, db.stages[0].mbuf_id, "one MBuf");
	cr_expect_neq(da.stages[0].prog_id, db.stages[0].prog_id, "two programs");
	cr_expect_neq(da.stages[1].mbuf_id, db.stages[1].mbuf_id);
	cr_expect_str_eq(da.spec, "c :: count -> match(udp)");
	cr_expect_str_eq(db.spec, "c -> match(tcp)");

	/* closing the defining flow keeps the instance for the other */
	ffpf_flow_close(a);
	tf_run(b, &t);
	cr_expect_eq(tf_stats(b).packets, 3);
	cr_expect_eq(tf_fstats(b, 0).seen, 11);
	{
		/* ... and in the registry: a later reference still finds it */
		struct ffpf_flow *c = tf_flow("c -> count", true);

		tf_run(b, &u);
		cr_expect_eq(tf_fstats(c, 0).seen, 13);
		cr_expect_eq(desc(c).stages[0].mbuf_id, db.stages[0].mbuf_id);
		ffpf_flow_close(c);
	}
	ffpf_flow_close(b);

	/* no flow holds c any more: the name is free for another class */
	b = tf_flow("c :: sample(5)", true);
	for (int i = 0; i < 6; i++)
		tf_run(b, &u);
	cr_expect_str_eq(ffpf_flow_filter_class(b, 0), "sample");
	cr_expect_eq(tf_fstats(b, 0).seen, 6, "a new instance, new counters");
	cr_expect_eq(tf_stats(b).packets, 2);
	ffpf_flow_close(b);
}

Test(graph, instance_shared_by_ingress_and_egress)
{
	struct ffpf_flow *in = tf_flow("c :: count -> (match(tcp) | match(udp))", true);
	struct ffpf_flow *eg = tf_flow_on("c :: count -> (match(tcp) | match(udp))",
					  FFPF_HOOK_EGRESS, true);
	struct pkt u = udp(53), ic = icmp();

	/* one MBuf for an XDP and a TC program */
	cr_expect_eq(desc(in).stages[0].mbuf_id, desc(eg).stages[0].mbuf_id);
	expect_path(in, &u, true, "ara", "udp ingress");
	tf_run(eg, &u);
	tf_run(eg, &ic);
	cr_expect_eq(tf_stats(eg).packets, 1);
	cr_expect_eq(tf_fstats(in, 0).seen, 3);
	cr_expect_eq(tf_fstats(eg, 0).seen, 3);
	ffpf_flow_close(eg);
	ffpf_flow_close(in);
}

Test(graph, sample_instance_keeps_one_ticket_across_flows)
{
	struct ffpf_flow *a = tf_flow("s :: sample(3)", true);
	struct ffpf_flow *b = tf_flow("s", true);
	const struct ffpf_flow *order[2] = { a, b };
	struct ffpf_sample_mbuf *ma = ffpf_flow_filter_mbuf(a, 0, NULL);
	struct ffpf_sample_mbuf *mb = ffpf_flow_filter_mbuf(b, 0, NULL);
	struct pkt u = udp(53);
	__u64 n = 0;

	cr_assert_not_null(ma);
	cr_assert_not_null(mb);
	/* the root runs flows in index order: one ticket sequence over both */
	if (ffpf_flow_index(b) < ffpf_flow_index(a)) {
		order[0] = b;
		order[1] = a;
	}
	for (int i = 0; i < 9; i++) {
		__u64 before[2] = { tf_stats(order[0]).packets, tf_stats(order[1]).packets };

		tf_run(a, &u);
		for (int k = 0; k < 2; k++, n++)
			cr_expect_eq(tf_stats(order[k]).packets - before[k], n % 3 == 0,
				     "packet %d, flow %s: ticket %llu", i + 1,
				     ffpf_flow_name(order[k]), (unsigned long long)n);
	}
	cr_expect_eq(ma->ticket, 18);
	cr_expect_eq(mb->ticket, 18, "b's mapping shows the same MBuf");
	cr_expect_eq(tf_fstats(a, 0).passed, 6);
	cr_expect_eq(tf_fstats(b, 0).passed, 6);

	/* the configuration is shared too: written through b, a follows */
	__atomic_store_n(&mb->every, 1, __ATOMIC_RELEASE);
	cr_expect_eq(ma->every, 1);
	tf_run(a, &u);
	cr_expect_eq(tf_stats(a).packets + tf_stats(b).packets, 6 + 2);
	ffpf_flow_close(b);
	ffpf_flow_close(a);
}

Test(graph, instance_used_twice_in_one_flow)
{
	struct ffpf_flow *f = tf_flow("c :: count -> (match(tcp) -> c | match(udp) -> c)", true);
	struct pkt t = tcp(80), u = udp(53), ic = icmp();
	struct ffpf_flow_desc d = desc(f);

	tf_run(f, &t);
	cr_expect_eq(tf_fstats(f, 0).seen, 2, "a TCP packet meets c twice");
	tf_run(f, &u);
	cr_expect_eq(tf_fstats(f, 0).seen, 4, "so does a UDP packet");
	tf_run(f, &ic);
	cr_expect_eq(tf_fstats(f, 0).seen, 5, "ICMP meets it once");
	cr_expect_eq(tf_stats(f).packets, 2);
	cr_expect_eq(tf_stats(f).missed, 0);
	cr_expect_eq(tf_fstats(f, 2).seen, 5, "every c stage shows the one instance");
	cr_expect_eq(tf_fstats(f, 4).seen, 5);
	cr_expect_eq(tf_fstats(f, 1).seen, 3);
	cr_expect_eq(tf_fstats(f, 3).seen, 2);
	cr_expect_eq(d.stages[0].mbuf_id, d.stages[2].mbuf_id);
	cr_expect_eq(d.stages[0].mbuf_id, d.stages[4].mbuf_id);
	cr_expect_str_eq(d.spec, "c :: count -> (match(tcp) -> c | match(udp) -> c)");
	ffpf_flow_close(f);
}

Test(graph, instance_errors)
{
	static const struct tf_bad_spec rows[] = {
		{ "c :: sample(2)", "instance 'c' is defined already, as count" },
		{ "count :: match(udp)", "instance name 'count' is a filter class" },
		{ "x :: count -> x()", "'x' is a filter instance" },
		{ "u :: flowtrack -> u", "flowtrack instance 'u' is used a second time" },
		{ "t -> count", "flowtrack instance 't' is used a second time" },
	};
	struct ffpf_flow *c = tf_flow("c :: count", true);
	struct ffpf_flow *same = tf_flow("c :: count -> match(udp)", true);
	struct ffpf_flow *t = tf_flow("t :: flowtrack", true);	/* held by one flow */
	struct ffpf_flow *x;
	struct pkt u = udp(53);

	/* the identical definition again is the same instance */
	tf_run(c, &u);
	cr_expect_eq(tf_fstats(c, 0).seen, 2);
	cr_expect_eq(desc(c).stages[0].mbuf_id, desc(same).stages[0].mbuf_id);
	tf_expect_bad_specs(rows, sizeof(rows) / sizeof(rows[0]));
	/* a refused spec leaves no name behind */
	x = tf_flow("x :: sample(2)", true);
	ffpf_flow_close(x);
	ffpf_flow_close(t);
	ffpf_flow_close(same);
	ffpf_flow_close(c);
}

/* --- limits and appending --------------------------------------------- */

/* "(match(dst port 1) | ... | match(dst port N)) -> count" */
static void alt_ports(char *buf, size_t len, int n)
{
	size_t o = snprintf(buf, len, "(");

	for (int i = 1; i <= n; i++)
		o += snprintf(buf + o, len - o, "match(dst port %d)%s", i, i < n ? " | " : "");
	snprintf(buf + o, len - o, ") -> count");
}

Test(graph, sixteen_stages_run_the_whole_fail_chain)
{
	char spec[FFPF_SPEC_LEN], path[FFPF_MAX_STAGES + 1];
	struct ffpf_flow *f;
	struct ffpf_flow_desc d;
	struct pkt last = udp(15), none = udp(16), first = udp(1);

	alt_ports(spec, sizeof(spec), FFPF_MAX_STAGES - 1);
	f = tf_flow(spec, true);
	cr_assert_eq(ffpf_flow_nfilters(f), FFPF_MAX_STAGES);
	/* port 15: 14 matches reject, the 15th accepts, count: 16 stages */
	memset(path, 'r', FFPF_MAX_STAGES - 2);
	strcpy(path + FFPF_MAX_STAGES - 2, "aa");
	expect_path(f, &last, true, path, "only the last alternative");
	memset(path, 'r', FFPF_MAX_STAGES - 1);
	strcpy(path + FFPF_MAX_STAGES - 1, ".");
	expect_path(f, &none, false, path, "no alternative");
	memset(path, '.', FFPF_MAX_STAGES);
	path[0] = path[FFPF_MAX_STAGES - 1] = 'a';
	expect_path(f, &first, true, path, "the first alternative");
	cr_expect_eq(tf_iface(f).missed, 0);
	d = desc(f);
	for (int i = 0; i < FFPF_MAX_STAGES - 1; i++) {
		cr_expect_eq(d.stages[i].next_slot, slot_of(f, FFPF_MAX_STAGES - 1), "stage %d", i);
		cr_expect_eq(d.stages[i].fail_slot,
			     slot_of(f, i < FFPF_MAX_STAGES - 2 ? i + 1 : -1), "stage %d", i);
	}
	ffpf_flow_close(f);
}

Test(graph, seventeen_stages_are_refused)
{
	char spec[FFPF_SPEC_LEN];
	struct ffpf_flow *f = ffpf_flow_create(TF_IFNAME, NULL);

	cr_assert_not_null(f);
	alt_ports(spec, sizeof(spec), FFPF_MAX_STAGES);
	tf_log_start();
	cr_expect_eq(ffpf_flow_populate(f, spec), -E2BIG);
	tf_log_stop();
	cr_expect_not_null(strstr(tf_log(), "at most 16 stages"), "said '%s'", tf_log());
	cr_expect_eq(ffpf_flow_nfilters(f), 0);

	/* appending past the limit is refused as well, the flow keeps its 16 */
	alt_ports(spec, sizeof(spec), FFPF_MAX_STAGES - 1);
	cr_assert_eq(ffpf_flow_populate(f, spec), 0);
	tf_log_start();
	cr_expect_eq(ffpf_flow_populate(f, "match(tcp) | count"), -E2BIG);
	tf_log_stop();
	cr_expect_eq(ffpf_flow_nfilters(f), FFPF_MAX_STAGES);
	cr_expect_eq(ffpf_flow_instantiate(f), 0);
	ffpf_flow_close(f);
}

Test(graph, appending_to_an_alternation_is_a_sequence)
{
	struct ffpf_flow *f = ffpf_flow_create(TF_IFNAME, NULL);
	struct pkt t = tcp(80), u = udp(53), ic = icmp();
	static const int edge[][2] = { { 2, 1 }, { 2, -1 }, { -1, -1 } };

	cr_assert_not_null(f);
	cr_assert_eq(ffpf_flow_populate(f, "match(tcp) | match(udp)"), 0);
	cr_assert_eq(ffpf_flow_populate(f, "count"), 0);
	cr_assert_eq(ffpf_flow_instantiate(f), 0);
	cr_assert_eq(ffpf_flow_activate(f), 0);
	expect_path(f, &t, true, "a.a", "tcp");
	expect_path(f, &u, true, "raa", "udp");
	expect_path(f, &ic, false, "rr.", "icmp");
	cr_expect_str_eq(desc(f).spec, "(match(tcp) | match(udp)) -> count");
	expect_edges(f, edge, 3);
	ffpf_flow_close(f);
}
