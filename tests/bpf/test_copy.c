// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Copy mode sink and the egress (TC) build of the datapath, kernel side
 * (issue 3): a packet accepted by a flow that wants packets becomes one
 * ring buffer record (meta + the first snaplen bytes) and still passes;
 * a full ring is counted; the TC root runs the same filters on egress.
 * The ring is read here directly, without the library's receive thread.
 */
#include <errno.h>
#include <time.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "harness.h"

TestSuite(copy, .init = tf_setup, .timeout = 60);

#define TC_PASS	0xffffffffu	/* TC_ACT_UNSPEC (-1): leave the packet to the stack */

struct got {
	int n;
	struct ffpf_meta meta[8];
	__u32 caplen[8];
	__u8 data[8][2048];
	__u32 size[8];		/* record size as the ring reports it */
};

static int on_rec(void *ctx, void *data, size_t size)
{
	struct got *g = ctx;
	const struct ffpf_copy_rec *r = data;

	if (g->n < 8) {
		g->meta[g->n] = r->meta;
		g->caplen[g->n] = r->caplen;
		g->size[g->n] = size;
		memcpy(g->data[g->n], r->data, r->caplen < 2048 ? r->caplen : 2048);
	}
	g->n++;
	return 0;
}

/* Switch copy mode on for @rx flows of @f's datapath, as the library's engine does. */
static void copy_on(struct ffpf_flow *f, __u64 rx, __u32 snaplen)
{
	f->iface->ctl->snaplen = snaplen;
	f->iface->ctl->rx = rx;
	f->iface->ctl->copy = 1;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Run @p through @f's root and collect what the ring got. */
static void run_and_read(struct ffpf_flow *f, const struct pkt *p, __u32 want_ret,
			 struct got *g)
{
	struct ring_buffer *rb = ring_buffer__new(f->iface->copy_fd, on_rec, g, NULL);
	__u64 t0 = mono_ns(), t1;

	cr_assert_not_null(rb, "ring_buffer__new: %s", strerror(errno));
	memset(g, 0, sizeof(*g));
	cr_assert_eq(tf_run(f, p), want_ret, "verdict of a %zu-byte frame", p->len);
	t1 = mono_ns();
	cr_assert_geq(ring_buffer__consume(rb), 0);
	ring_buffer__free(rb);
	for (int i = 0; i < g->n && i < 8; i++)
		cr_expect(g->meta[i].ts_ns >= t0 && g->meta[i].ts_ns <= t1,
			  "record timestamp %llu outside the run [%llu, %llu]",
			  (unsigned long long)g->meta[i].ts_ns, (unsigned long long)t0,
			  (unsigned long long)t1);
}

static void expect_record(const struct got *g, int i, const struct pkt *p, __u32 snap,
			  __u64 matched, __u8 dir)
{
	__u32 cap = p->len < snap ? p->len : snap;

	cr_expect_eq(g->meta[i].matched, matched, "matched %#llx, want %#llx",
		     (unsigned long long)g->meta[i].matched, (unsigned long long)matched);
	cr_expect_eq(g->meta[i].wire_len, p->len, "wire_len %u, want %zu",
		     g->meta[i].wire_len, p->len);
	cr_expect_eq(g->caplen[i], cap, "caplen %u, want %u (frame %zu, snaplen %u)",
		     g->caplen[i], cap, p->len, snap);
	cr_expect_eq(g->meta[i].dir, dir);
	cr_expect_eq(g->meta[i].ifindex, if_nametoindex(TF_IFNAME));
	cr_expect(g->size[i] >= sizeof(struct ffpf_copy_rec) + cap,
		  "record of %u bytes cannot hold %u captured bytes", g->size[i], cap);
	cr_expect_eq(memcmp(g->data[i], p->b, cap), 0, "captured bytes differ from the frame %s",
		     tf_hex(p));
}

Test(copy, record_is_the_packet_at_every_size_class_edge)
{
	static const size_t sizes[] = { 42, 64, 65, 128, 129, 512, 513, 1024, 1025, 1514, 2048 };
	struct ffpf_flow *f = tf_flow("match(udp) -> count", true);
	struct got *g = calloc(1, sizeof(*g));

	copy_on(f, 1ULL << f->idx, 2048);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct pkt p = pkt_udp4(1000 + i, 53, sizes[i] - 42);

		cr_assert_eq(p.len, sizes[i]);
		for (size_t b = 42; b < p.len; b++)
			p.b[b] = (__u8)(b * 7 + i);
		run_and_read(f, &p, XDP_PASS, g);
		cr_assert_eq(g->n, 1, "%zu-byte frame: %d records, want 1", p.len, g->n);
		expect_record(g, 0, &p, 2048, 1ULL << f->idx, FFPF_DIR_INGRESS);
	}
	cr_expect_eq(tf_iface(f).copied, sizeof(sizes) / sizeof(sizes[0]));
	cr_expect_eq(tf_iface(f).copy_lost, 0);
	free(g);
	ffpf_flow_close(f);
}

Test(copy, snaplen_cuts_the_capture_not_the_wire_length)
{
	struct ffpf_flow *f = tf_flow("match(udp) -> count", true);
	struct pkt p = pkt_udp4(1000, 53, 600);
	struct got *g = calloc(1, sizeof(*g));

	copy_on(f, 1ULL << f->idx, 100);
	run_and_read(f, &p, XDP_PASS, g);
	cr_assert_eq(g->n, 1);
	expect_record(g, 0, &p, 100, 1ULL << f->idx, FFPF_DIR_INGRESS);
	cr_expect(g->size[0] <= sizeof(struct ffpf_copy_rec) + 128,
		  "snaplen 100 must use the 128-byte class, record is %u bytes", g->size[0]);
	free(g);
	ffpf_flow_close(f);
}

Test(copy, only_flows_that_want_packets_cause_a_record)
{
	struct ffpf_flow *all = tf_flow("count", true);
	struct ffpf_flow *dns = tf_flow("match(udp, dst port 53) -> count", true);
	struct pkt hit = pkt_udp4(1000, 53, 10), other = pkt_udp4(1000, 54, 10);
	struct got *g = calloc(1, sizeof(*g));

	/* Only "dns" is a rx flow; "all" counts but wants no packets. */
	copy_on(dns, 1ULL << dns->idx, 2048);
	run_and_read(dns, &other, XDP_PASS, g);
	cr_expect_eq(g->n, 0, "packet matched by a statistics-only flow: %d records", g->n);
	run_and_read(dns, &hit, XDP_PASS, g);
	cr_assert_eq(g->n, 1, "one record for a packet two flows accepted, got %d", g->n);
	/* matched names every flow that accepted it, rx or not. */
	expect_record(g, 0, &hit, 2048, (1ULL << dns->idx) | (1ULL << all->idx),
		      FFPF_DIR_INGRESS);
	cr_expect_eq(tf_stats(all).packets, 2);
	cr_expect_eq(tf_stats(dns).packets, 1);
	free(g);
	ffpf_flow_close(dns);
	ffpf_flow_close(all);
}

Test(copy, copy_off_writes_nothing)
{
	struct ffpf_flow *f = tf_flow("match(udp) -> count", true);
	struct pkt p = pkt_udp4(1000, 53, 10);
	struct got *g = calloc(1, sizeof(*g));

	f->iface->ctl->rx = 1ULL << f->idx;	/* a rx flow, but copy mode is off */
	run_and_read(f, &p, XDP_PASS, g);
	cr_expect_eq(g->n, 0);
	cr_expect_eq(tf_iface(f).copied + tf_iface(f).copy_lost, 0);
	free(g);
	ffpf_flow_close(f);
}

Test(copy, full_ring_is_counted_not_silent)
{
	struct ffpf_flow *f = tf_flow("match(udp) -> count", true);
	struct pkt p = pkt_udp4(1000, 53, 1400);
	int fd = ffpf_flow_root_prog_fd(f);
	const __u32 sent = 6000;	/* 2 KiB records: an 8 MiB ring holds < 4000 */
	LIBBPF_OPTS(bpf_test_run_opts, o, .repeat = sent, .data_in = p.b,
		    .data_size_in = p.len);
	struct ffpf_iface_stats s;

	copy_on(f, 1ULL << f->idx, 2048);
	cr_assert_eq(bpf_prog_test_run_opts(fd, &o), 0, "test run: %s", strerror(errno));
	s = tf_iface(f);
	cr_expect_gt(s.copy_lost, 0, "nobody consumed an 8 MiB ring: some records must be lost");
	cr_expect_eq(s.copied + s.copy_lost, sent, "copied %llu + lost %llu != sent %u",
		     (unsigned long long)s.copied, (unsigned long long)s.copy_lost, sent);
	cr_expect_eq(tf_stats(f).packets, sent, "a full ring must not change the verdicts");
	ffpf_flow_close(f);
}

Test(copy, egress_root_runs_the_same_filters_and_copies)
{
	struct ffpf_flow *f = tf_flow_on("match(udp, dst port 53) -> count", FFPF_HOOK_EGRESS, true);
	struct pkt hit = pkt_udp4(1000, 53, 300), miss = pkt_udp4(1000, 54, 300);
	struct got *g = calloc(1, sizeof(*g));

	cr_assert_eq(ffpf_flow_hook(f), FFPF_HOOK_EGRESS);
	cr_assert_str_eq(f->iface->ifname, TF_IFNAME ":egress");
	copy_on(f, 1ULL << f->idx, 2048);
	run_and_read(f, &miss, TC_PASS, g);
	cr_expect_eq(g->n, 0);
	run_and_read(f, &hit, TC_PASS, g);
	cr_assert_eq(g->n, 1);
	expect_record(g, 0, &hit, 2048, 1ULL << f->idx, FFPF_DIR_EGRESS);
	cr_expect_eq(tf_stats(f).packets, 1);
	cr_expect_eq(tf_stats(f).dispatched, 1, "the guard must keep the miss from the chain");
	cr_expect_eq(tf_iface(f).rx_packets, 2);
	free(g);
	ffpf_flow_close(f);
}

Test(copy, ingress_and_egress_datapaths_are_separate)
{
	struct ffpf_flow *in = tf_flow_on("match(udp) -> count", FFPF_HOOK_INGRESS, true);
	struct ffpf_flow *out = tf_flow_on("match(udp) -> count", FFPF_HOOK_EGRESS, true);
	struct pkt p = pkt_udp4(1000, 53, 10);

	cr_assert_neq(ffpf_flow_root_prog_fd(in), ffpf_flow_root_prog_fd(out));
	cr_expect_eq(tf_run(in, &p), XDP_PASS);
	cr_expect_eq(tf_stats(in).packets, 1);
	cr_expect_eq(tf_stats(out).packets, 0, "an ingress packet must not count on egress");
	cr_expect_eq(tf_run(out, &p), TC_PASS);
	cr_expect_eq(tf_stats(out).packets, 1);
	ffpf_flow_close(out);
	ffpf_flow_close(in);
}

Test(copy, tap_is_refused_on_egress)
{
	FFPF_OPTS(ffpf_flow_opts, o, .hook = FFPF_HOOK_EGRESS, .rx = FFPF_RX_TAP);
	struct ffpf_flow *f = ffpf_flow_create(TF_IFNAME, &o);

	cr_expect_null(f);
	cr_expect_eq(errno, EINVAL);
}
