// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Flow tracking, user-space half (issue 4): packets go through the real
 * datapath with BPF_PROG_TEST_RUN, the tracker runs in manual mode
 * (ffpf_ft_sweep()), and the termination callback must see every flow
 * exactly once, with the right reason and final per-direction counters.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "harness.h"

TestSuite(ftsweep, .init = tf_setup, .timeout = 60);

#define MAXREC 64

struct recs {
	int n;
	struct ffpf_ft_record r[MAXREC];
};

static void on_end(struct ffpf_flow *f, const struct ffpf_ft_record *rec, void *ctx)
{
	struct recs *rs = ctx;

	if (rs->n < MAXREC)
		rs->r[rs->n] = *rec;
	rs->n++;
}

static struct ffpf_flow *tracked(const char *spec, struct recs *rs)
{
	struct ffpf_flow *f = tf_flow(spec, true);
	FFPF_OPTS(ffpf_ft_opts, o, .on_end = on_end, .ctx = rs, .manual = true);

	memset(rs, 0, sizeof(*rs));
	cr_assert_eq(ffpf_ft_start(f, &o), 0);
	return f;
}

static struct ffpf_flowtrack_mbuf *ft_mbuf(struct ffpf_flow *f)
{
	return ffpf_flow_filter_mbuf(f, 0, NULL);
}

#define A "10.0.0.1"
#define B "10.0.0.2"

Test(ftsweep, idle_ends_a_udp_flow_once_with_both_directions)
{
	struct recs *rs = calloc(1, sizeof(*rs));
	struct ffpf_flow *f = tracked("flowtrack", rs);
	struct pkt q = pkt_udp4_ab(B, A, 40000, 53, 20), r = pkt_udp4_ab(A, B, 53, 40000, 100);
	const struct ffpf_ft_side *out, *in;

	/* The client (B, the higher address) starts: it must be outbound. */
	for (int i = 0; i < 3; i++)
		tf_run(f, &q);
	for (int i = 0; i < 2; i++)
		tf_run(f, &r);
	cr_assert_eq(ffpf_ft_sweep(f), 0, "nothing is due yet");
	cr_assert_eq(rs->n, 0);
	__atomic_store_n(&ft_mbuf(f)->cfg.idle_ns, 1, __ATOMIC_RELAXED);
	usleep(1000);
	cr_assert_eq(ffpf_ft_sweep(f), 1);
	cr_assert_eq(rs->n, 1);
	cr_expect_eq(rs->r[0].reason, FFPF_FT_END_IDLE);
	out = ffpf_ft_dir(&rs->r[0].flow, FFPF_FT_OUTBOUND);
	in = ffpf_ft_dir(&rs->r[0].flow, FFPF_FT_INBOUND);
	cr_expect_eq(out->packets, 3, "outbound (client) packets %llu", (unsigned long long)out->packets);
	cr_expect_eq(in->packets, 2);
	cr_expect_eq(out->bytes, 3 * q.len);
	cr_expect_eq(in->bytes, 2 * r.len);
	cr_expect(rs->r[0].last_real_ns >= rs->r[0].first_real_ns);
	cr_expect_eq(ffpf_ft_sweep(f), 0, "an ended flow is not ended twice");
	ffpf_flow_close(f);
	cr_expect_eq(rs->n, 1, "close found nothing left");
	free(rs);
}

Test(ftsweep, rst_ends_with_reason_rst_and_creates_nothing_after)
{
	struct recs *rs = calloc(1, sizeof(*rs));
	struct ffpf_flow *f = tracked("flowtrack", rs);
	struct pkt syn = pkt_tcp4_ab(A, B, 1234, 80, TH_SYN, 0);
	struct pkt rst = pkt_tcp4_ab(B, A, 80, 1234, TH_RST | TH_ACK, 0);
	struct ffpf_ft_stats st = { .sz = sizeof(st) };

	tf_run(f, &syn);
	tf_run(f, &rst);
	cr_assert_eq(ffpf_ft_sweep(f), 1);
	cr_expect_eq(rs->r[0].reason, FFPF_FT_END_RST);
	cr_expect_eq(rs->r[0].flow.initiator, FFPF_FT_INIT_SIDE0);
	tf_run(f, &rst);	/* a retransmitted RST: no new flow */
	cr_expect_eq(ffpf_ft_sweep(f), 0);
	cr_assert_eq(ffpf_ft_stats(f, &st), 0);
	cr_expect_eq(st.created, 1);
	cr_expect_eq(st.rst_no_flow, 1);
	cr_expect_eq(st.ended[FFPF_FT_END_RST], 1);
	ffpf_flow_close(f);
	cr_expect_eq(rs->n, 1);
	free(rs);
}

Test(ftsweep, fin_both_ways_lingers_for_the_last_ack)
{
	struct recs *rs = calloc(1, sizeof(*rs));
	struct ffpf_flow *f = tracked("flowtrack", rs);
	struct pkt pk[] = {
		pkt_tcp4_ab(A, B, 1234, 80, TH_SYN, 0), pkt_tcp4_ab(B, A, 80, 1234, TH_SYN | TH_ACK, 0),
		pkt_tcp4_ab(A, B, 1234, 80, TH_ACK, 0), pkt_tcp4_ab(A, B, 1234, 80, TH_FIN | TH_ACK, 0),
		pkt_tcp4_ab(B, A, 80, 1234, TH_FIN | TH_ACK, 0),
	};
	struct pkt last = pkt_tcp4_ab(A, B, 1234, 80, TH_ACK, 0);

	for (size_t i = 0; i < sizeof(pk) / sizeof(pk[0]); i++)
		tf_run(f, &pk[i]);
	cr_assert_eq(ffpf_ft_sweep(f), 0, "FIN both ways: lingers first");
	tf_run(f, &last);
	usleep(FFPF_FT_LINGER_NS / 1000 + 100000);
	cr_assert_eq(ffpf_ft_sweep(f), 1);
	cr_expect_eq(rs->r[0].reason, FFPF_FT_END_FIN);
	cr_expect_eq(rs->r[0].flow.side[0].packets + rs->r[0].flow.side[1].packets, 6,
		     "the last ACK counts into the same flow");
	cr_expect_eq(ffpf_ft_dir(&rs->r[0].flow, FFPF_FT_OUTBOUND)->packets, 4);
	ffpf_flow_close(f);
	cr_expect_eq(rs->n, 1);
	free(rs);
}

/*
 * The second FIN can land after a sweep read its clock but before its
 * snapshot read the flow: the flow's end_ns is then later than the sweep's
 * "now". It must linger like any other, not end at once (now - end_ns
 * wrapping around) and leave its last ACK to start a second flow.
 */
Test(ftsweep, fin_marked_after_the_sweep_clock_still_lingers)
{
	struct recs *rs = calloc(1, sizeof(*rs));
	struct ffpf_flow *f = tracked("flowtrack", rs);
	struct pkt pk[] = {
		pkt_tcp4_ab(A, B, 1234, 80, TH_SYN, 0), pkt_tcp4_ab(B, A, 80, 1234, TH_SYN | TH_ACK, 0),
		pkt_tcp4_ab(A, B, 1234, 80, TH_FIN | TH_ACK, 0),
		pkt_tcp4_ab(B, A, 80, 1234, TH_FIN | TH_ACK, 0),
	};
	struct ffpf_ft_key key;
	struct ffpf_ft_flow v;
	struct ffpf_pkt ctx;
	struct timespec ts;
	int fd;

	for (size_t i = 0; i < sizeof(pk) / sizeof(pk[0]); i++)
		tf_run(f, &pk[i]);
	tf_pctx(f, &ctx);
	memset(&key, 0, sizeof(key));
	memcpy(key.addr[0], ctx.daddr, 16);	/* A sorts first: side 0 */
	memcpy(key.addr[1], ctx.saddr, 16);
	key.port[0] = 1234;
	key.port[1] = 80;
	key.proto = PKT_P_TCP;
	key.ip_ver = 4;
	cr_assert_eq(ffpf_ft_lookup(f, &key, &v), 0);
	cr_assert_eq(v.state, FFPF_FT_CLOSING);
	/* as if the FIN came 100 ms after the sweep's clock read */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	v.end_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec + 100000000ULL;
	fd = ffpf_stage_map_fd(&f->stages[0], "flowtrack_table");
	cr_assert_geq(fd, 0);
	cr_assert_eq(bpf_map_update_elem(fd, &key, &v, BPF_EXIST), 0);
	cr_expect_eq(ffpf_ft_sweep(f), 0, "a FIN newer than the sweep's clock: lingers first");
	ffpf_flow_close(f);
	cr_assert_eq(rs->n, 1);
	cr_expect_eq(rs->r[0].reason, FFPF_FT_END_CLOSED);
	free(rs);
}

Test(ftsweep, forced_expiry_and_close_end_each_flow_once)
{
	struct recs *rs = calloc(1, sizeof(*rs));
	struct ffpf_flow *f = tracked("flowtrack", rs);
	struct pkt p1 = pkt_udp4_ab(A, B, 1000, 2000, 0), p2 = pkt_udp4_ab(A, B, 1001, 2000, 0);
	struct ffpf_ft_key key;
	struct ffpf_ft_flow v;
	struct ffpf_pkt ctx;

	tf_run(f, &p1);
	tf_run(f, &p2);
	/* The key of p2's flow: find it through the packet's flow id. */
	tf_pctx(f, &ctx);
	cr_assert_neq(ctx.flow_id, 0);
	memset(&key, 0, sizeof(key));
	memcpy(key.addr[0], ctx.saddr, 16);
	memcpy(key.addr[1], ctx.daddr, 16);
	key.port[0] = 1001;
	key.port[1] = 2000;
	key.proto = PKT_P_UDP;
	key.ip_ver = 4;
	cr_assert_eq(ffpf_ft_lookup(f, &key, &v), 0, "normalised key of A:1001 -> B:2000");
	cr_expect_eq(v.id, ctx.flow_id);
	cr_assert_eq(ffpf_ft_expire(f, &key), 0);
	cr_expect_eq(ffpf_ft_expire(f, &key), -ENOENT);
	cr_assert_eq(rs->n, 1);
	cr_expect_eq(rs->r[0].reason, FFPF_FT_END_FORCED);
	ffpf_flow_close(f);
	cr_assert_eq(rs->n, 2, "close ends the flow left");
	cr_expect_eq(rs->r[1].reason, FFPF_FT_END_CLOSED);
	cr_expect_eq(rs->r[1].key.port[0], 1000);
	free(rs);
}

Test(ftsweep, a_packets_flow_id_finds_its_flow_until_it_ends)
{
	struct recs *rs = calloc(1, sizeof(*rs));
	struct ffpf_flow *f = tracked("flowtrack(size=16, index=1)", rs);
	struct pkt q = pkt_udp4_ab(B, A, 7000, 53, 10), r = pkt_udp4_ab(A, B, 53, 7000, 90);
	struct ffpf_ft_stats st = { .sz = sizeof(st) };
	struct ffpf_ft_key key;
	struct ffpf_ft_flow v;
	struct ffpf_pkt ctx;
	__u32 id, ids[20];

	tf_run(f, &q);
	tf_pctx(f, &ctx);
	id = ctx.flow_id;
	cr_assert_neq(id, 0);
	tf_run(f, &r);
	tf_pctx(f, &ctx);
	cr_assert_eq(ctx.flow_id, id, "the reply carries the same id");
	cr_assert_eq(ffpf_ft_lookup_id(f, id, &key, &v), 0);
	cr_expect_eq(v.id, id);
	cr_expect_eq(key.port[0], 53, "side 0 is A:53 (the lower address)");
	cr_expect_eq(key.port[1], 7000);
	cr_expect_eq(ffpf_ft_dir(&v, FFPF_FT_OUTBOUND)->bytes, q.len, "B started: outbound");
	cr_expect_eq(ffpf_ft_dir(&v, FFPF_FT_INBOUND)->bytes, r.len);
	cr_expect_eq(ffpf_ft_lookup_id(f, id, NULL, NULL), 0, "key and counters optional");
	cr_expect_eq(ffpf_ft_lookup_id(f, id + 1000, &key, &v), -ENOENT);
	cr_expect_eq(ffpf_ft_lookup_id(f, 0, &key, &v), -EINVAL, "0 is no flow");
	cr_assert_eq(ffpf_ft_expire(f, &key), 0);
	cr_expect_eq(ffpf_ft_lookup_id(f, id, &key, &v), -ENOENT, "gone once ended");

	/* Evictions clean the index as well: 20 flows through a table of 16. */
	for (int i = 0; i < 20; i++) {
		struct pkt p = pkt_udp4_ab(A, B, 3000 + i, 4000, 0);

		tf_run(f, &p);
		tf_pctx(f, &ctx);
		ids[i] = ctx.flow_id;
	}
	ffpf_ft_sweep(f);
	for (int i = 0, found = 0; i < 20; i++) {
		int err = ffpf_ft_lookup_id(f, ids[i], &key, &v);

		if (i >= 16) {
			cr_expect_eq(ids[i], 0, "refused by the full table: no id");
			continue;
		}
		found += !err;
		cr_expect(err == 0 || err == -ENOENT);
		if (!err)
			cr_expect_eq(key.port[0], 3000 + i);
		if (i == 15)
			cr_expect_eq(found, 12, "the 12 flows left after eviction, and no other");
	}
	cr_assert_eq(ffpf_ft_stats(f, &st), 0);
	cr_expect_eq(st.unindexed, 0);
	ffpf_flow_close(f);
	free(rs);
}

Test(ftsweep, lookup_by_id_needs_the_index)
{
	struct recs *rs = calloc(1, sizeof(*rs));
	struct ffpf_flow *f = tracked("flowtrack", rs);
	struct pkt q = pkt_udp4_ab(B, A, 7001, 53, 10);
	struct ffpf_ft_stats st = { .sz = sizeof(st) };
	struct ffpf_pkt ctx;

	tf_run(f, &q);
	tf_pctx(f, &ctx);
	cr_assert_neq(ctx.flow_id, 0, "the id travels without the index too");
	cr_expect_eq(ffpf_ft_lookup_id(f, ctx.flow_id, NULL, NULL), -EOPNOTSUPP);
	cr_assert_eq(ffpf_ft_stats(f, &st), 0);
	cr_expect_eq(st.unindexed, 0, "not asked for: not counted as missing");
	ffpf_flow_close(f);
	free(rs);
}

Test(ftsweep, full_table_evicts_the_oldest_with_a_record_each)
{
	struct recs *rs = calloc(1, sizeof(*rs));
	struct ffpf_flow *f = tracked("flowtrack(size=16)", rs);
	struct ffpf_ft_stats st = { .sz = sizeof(st) };
	bool seen[20] = { 0 };

	for (int i = 0; i < 20; i++) {
		struct pkt p = pkt_udp4_ab(A, B, 3000 + i, 4000, 0);

		tf_run(f, &p);
	}
	cr_assert_eq(ffpf_ft_stats(f, &st), 0);
	cr_expect_eq(st.created, 16);
	cr_expect_eq(st.table_full, 4);
	cr_assert_eq(ffpf_ft_sweep(f), 16 - 12, "evicted down to three quarters");
	for (int i = 0; i < rs->n; i++) {
		cr_expect_eq(rs->r[i].reason, FFPF_FT_END_EVICTED);
		cr_expect_lt(rs->r[i].key.port[0], 3004, "the oldest go first (port %u)",
			     rs->r[i].key.port[0]);
	}
	ffpf_flow_close(f);
	cr_assert_eq(rs->n, 16, "16 flows, 16 records");
	for (int i = 0; i < rs->n; i++) {
		int k = rs->r[i].key.port[0] - 3000;

		cr_assert(k >= 0 && k < 20 && !seen[k], "flow %d ended twice or unknown", k);
		seen[k] = true;
	}
	free(rs);
}

Test(ftsweep, active_timeout_exports_a_long_flow)
{
	struct recs *rs = calloc(1, sizeof(*rs));
	struct ffpf_flow *f = tracked("flowtrack", rs);
	struct pkt p = pkt_udp4_ab(A, B, 5000, 6000, 10);

	tf_run(f, &p);
	__atomic_store_n(&ft_mbuf(f)->cfg.active_ns, 1, __ATOMIC_RELAXED);
	usleep(1000);
	tf_run(f, &p);		/* still active, but older than the active timeout */
	cr_assert_eq(ffpf_ft_sweep(f), 1);
	cr_expect_eq(rs->r[0].reason, FFPF_FT_END_ACTIVE);
	cr_expect_eq(rs->r[0].flow.side[0].packets, 2);
	ffpf_flow_close(f);
	free(rs);
}

Test(ftsweep, no_flowtrack_filter_is_refused)
{
	struct ffpf_flow *f = tf_flow("count", true);

	cr_expect_eq(ffpf_ft_start(f, NULL), -ENOENT);
	ffpf_flow_close(f);
}

Test(ftsweep, ingress_and_egress_share_one_table)
{
	struct recs *rs = calloc(1, sizeof(*rs));
	struct ffpf_flow *in = tracked("flowtrack", rs), *out;
	FFPF_OPTS(ffpf_flow_opts, o, .name = "out", .hook = FFPF_HOOK_EGRESS, .share = in);
	struct pkt q = pkt_udp4_ab(B, A, 40000, 53, 20), r = pkt_udp4_ab(A, B, 53, 40000, 100);
	struct ffpf_pkt cin, cout;

	out = ffpf_flow_create(TF_IFNAME, &o);
	cr_assert_not_null(out);
	cr_assert_eq(ffpf_flow_populate(out, "flowtrack"), 0);
	cr_assert_eq(ffpf_flow_instantiate(out), 0);
	cr_assert_eq(ffpf_flow_activate(out), 0);
	/* The request arrives (XDP), the answer leaves (TC). */
	tf_run(in, &q);
	tf_pctx(in, &cin);
	cr_assert_eq(tf_run(out, &r), 0xffffffffu);
	tf_pctx(out, &cout);
	cr_expect_eq(cin.flow_id, cout.flow_id, "both halves must see one flow (ids %u, %u)",
		     cin.flow_id, cout.flow_id);
	__atomic_store_n(&ft_mbuf(in)->cfg.idle_ns, 1, __ATOMIC_RELAXED);
	usleep(1000);
	cr_assert_eq(ffpf_ft_sweep(in), 1, "one flow for both directions");
	cr_expect_eq(ffpf_ft_dir(&rs->r[0].flow, FFPF_FT_OUTBOUND)->packets, 1);
	cr_expect_eq(ffpf_ft_dir(&rs->r[0].flow, FFPF_FT_INBOUND)->packets, 1);
	cr_expect_eq(ffpf_ft_dir(&rs->r[0].flow, FFPF_FT_INBOUND)->bytes, r.len);
	/* A flow first seen leaving counts in the table's stats too. */
	{
		struct pkt e = pkt_udp4_ab(A, B, 7000, 7001, 0);
		struct ffpf_ft_stats st = { .sz = sizeof(st) };

		cr_assert_eq(tf_run(out, &e), 0xffffffffu);
		cr_assert_eq(ffpf_ft_stats(in, &st), 0);
		cr_expect_eq(st.created, 2, "created %llu: the egress half's flow is missing",
			     (unsigned long long)st.created);
	}
	ffpf_flow_close(out);
	ffpf_flow_close(in);
	free(rs);
}

Test(ftsweep, sharing_needs_the_same_classes)
{
	struct ffpf_flow *in = tf_flow("flowtrack", true), *out;
	FFPF_OPTS(ffpf_flow_opts, o, .hook = FFPF_HOOK_EGRESS, .share = in);

	out = ffpf_flow_create(TF_IFNAME, &o);
	cr_assert_not_null(out);
	cr_assert_eq(ffpf_flow_populate(out, "count"), 0);
	cr_expect_eq(ffpf_flow_instantiate(out), -EINVAL);
	ffpf_flow_close(out);
	ffpf_flow_close(in);
}
