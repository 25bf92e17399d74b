/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * test_pbuf.c - unit tests of the PBuf/IBuf core (user/lib/pbuf.c): one
 * frame per packet whatever the number of flows, frames freed by the last
 * holder, per-flow drops, eventfd wake-ups, delivery numbers, per-flow
 * snaplen, and an SPSC two-thread run.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "pbuf.h"

#define FRAME 256

/* Deterministic pseudo-random numbers (xorshift64). */
static __u64 rnd_state = 0x9e3779b97f4a7c15ULL;
static __u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

struct free_log {
	int calls;
	__u64 last;
};

static void on_free_cb(__u64 addr, void *ctx)
{
	struct free_log *log = ctx;

	log->calls++;
	log->last = addr;
}

/* Allocate a frame, stamp @seq into it and deliver it with @matched. */
static int send_pkt(struct ffpf_pbuf *pb, struct ffpf_ibuf **ibs, int nib,
		    __u64 seq, __u64 matched, __u64 *addr_out)
{
	struct ffpf_meta meta = { .matched = matched, .ts_ns = seq, .wire_len = 60 };
	__u64 addr;
	int ret = ffpf_pbuf_alloc(pb, &addr);

	cr_assert_eq(ret, 0, "alloc for packet %llu: %d", (unsigned long long)seq, ret);
	memcpy(ffpf_pbuf_data(pb, addr), &seq, sizeof(seq));
	if (addr_out)
		*addr_out = addr;
	return ffpf_pbuf_deliver(pb, addr, 60, &meta, ibs, nib);
}

static __u64 in_use(struct ffpf_pbuf *pb)
{
	struct ffpf_pbuf_stats st;

	ffpf_pbuf_get_stats(pb, &st);
	return st.in_use;
}

Test(pbuf, three_overlapping_flows)
{
	enum { NPKT = 1000, NFRAMES = 1024 };
	static unsigned char mem[NFRAMES * FRAME];
	static __u64 want[3][NPKT];
	const int flows[3] = { 0, 7, 63 };	/* first, middle and last bit */
	int nwant[3] = { 0 }, stored = 0, descs = 0;
	struct ffpf_ibuf ib[3], *ibs[3] = { &ib[0], &ib[1], &ib[2] };
	struct ffpf_pbuf pb;
	struct ffpf_pbuf_stats st;

	cr_assert_eq(ffpf_pbuf_init(&pb, mem, FRAME, NFRAMES, NULL), 0);
	for (int k = 0; k < 3; k++)
		cr_assert_eq(ffpf_ibuf_init(&ib[k], 1024, flows[k]), 0);

	for (__u64 i = 0; i < NPKT; i++) {
		__u64 r = rnd(), mask = 0;
		int n = 0;

		for (int k = 0; k < 3; k++)
			if (r & (1ULL << k)) {
				mask |= 1ULL << flows[k];
				want[k][nwant[k]++] = i;
				n++;
			}
		if (r & 8)
			mask |= 1ULL << 3;	/* a flow with no IBuf here */
		cr_assert_eq(send_pkt(&pb, ibs, 3, i, mask, NULL), n, "packet %llu",
			     (unsigned long long)i);
		stored += n > 0;
		descs += n;
	}

	/* One frame per packet that reached an IBuf, not one per flow. */
	ffpf_pbuf_get_stats(&pb, &st);
	cr_expect_eq(st.delivered, NPKT);
	cr_expect_eq(st.stored, (__u64)stored);
	cr_expect_eq(st.unclaimed, (__u64)(NPKT - stored));
	cr_expect_eq(st.descs, (__u64)descs);
	cr_expect_eq(st.in_use, (__u64)stored);
	cr_expect_leq(st.high_water, (__u64)stored + 1);
	cr_expect_lt(st.in_use, (__u64)descs, "frames must be shared between flows");

	/* Each IBuf holds exactly its packets, in order. */
	for (int k = 0; k < 3; k++) {
		struct ffpf_ibuf_desc d[64];
		struct ffpf_ibuf_stats is;
		int got = 0, n;

		while ((n = ffpf_ibuf_peek_batch(&ib[k], d, 64)) > 0) {
			for (int j = 0; j < n; j++, got++) {
				__u64 seq;

				cr_assert_lt(got, nwant[k]);
				cr_assert_eq(d[j].meta.ts_ns, want[k][got], "flow %d #%d", k, got);
				cr_assert(d[j].meta.matched & (1ULL << flows[k]));
				cr_assert_eq(d[j].len, 60);
				memcpy(&seq, ffpf_pbuf_data(&pb, d[j].addr), sizeof(seq));
				cr_assert_eq(seq, want[k][got]);
			}
			cr_assert_eq(ffpf_ibuf_release_batch(&ib[k], &pb, n), n);
		}
		cr_expect_eq(got, nwant[k]);
		ffpf_ibuf_get_stats(&ib[k], &is);
		cr_expect_eq(is.pushed, (__u64)nwant[k]);
		cr_expect_eq(is.consumed, (__u64)nwant[k]);
		cr_expect_eq(is.dropped, 0);
		cr_expect_eq(is.count, 0);
	}
	cr_expect_eq(in_use(&pb), 0);
	cr_expect_eq(ffpf_pbuf_nfree(&pb), NFRAMES);

	for (int k = 0; k < 3; k++)
		ffpf_ibuf_destroy(&ib[k]);
	ffpf_pbuf_destroy(&pb);
}

Test(pbuf, last_holder_frees)
{
	static unsigned char mem[4 * FRAME];
	struct free_log log = { 0 };
	FFPF_OPTS(ffpf_pbuf_opts, opts, .on_free = on_free_cb, .ctx = &log);
	struct ffpf_ibuf ib[3], *ibs[3] = { &ib[0], &ib[1], &ib[2] };
	struct ffpf_pbuf pb;
	__u64 a, b, c;

	cr_assert_eq(ffpf_pbuf_init(&pb, mem, FRAME, 4, &opts), 0);
	for (int k = 0; k < 3; k++)
		cr_assert_eq(ffpf_ibuf_init(&ib[k], 4, k), 0);

	cr_assert_eq(send_pkt(&pb, ibs, 3, 1, 0x7, &a), 3);	/* flows 0 1 2 */
	cr_assert_eq(send_pkt(&pb, ibs, 3, 2, 0x2, &b), 1);	/* flow 1 */
	cr_assert_eq(send_pkt(&pb, ibs, 3, 3, 0x5, &c), 2);	/* flows 0 2 */
	cr_assert_eq(ffpf_pbuf_nfree(&pb), 1);
	cr_assert_eq(log.calls, 0);

	cr_assert_eq(ffpf_ibuf_release(&ib[0], &pb), 0);	/* a: 2 left */
	cr_expect_eq(ffpf_pbuf_nfree(&pb), 1);
	cr_assert_eq(ffpf_ibuf_release(&ib[1], &pb), 0);	/* a: 1 left */
	cr_expect_eq(ffpf_pbuf_nfree(&pb), 1);
	cr_assert_eq(ffpf_ibuf_release(&ib[2], &pb), 0);	/* a: freed */
	cr_expect_eq(ffpf_pbuf_nfree(&pb), 2);
	cr_expect_eq(log.calls, 1);
	cr_expect_eq(log.last, a);
	cr_assert_eq(ffpf_ibuf_release(&ib[1], &pb), 0);	/* b: freed */
	cr_expect_eq(ffpf_pbuf_nfree(&pb), 3);
	cr_expect_eq(log.calls, 2);
	cr_expect_eq(log.last, b);
	cr_assert_eq(ffpf_ibuf_release(&ib[0], &pb), 0);	/* c: 1 left */
	cr_expect_eq(ffpf_pbuf_nfree(&pb), 3);
	cr_expect_eq(log.calls, 2);
	cr_assert_eq(ffpf_ibuf_release(&ib[2], &pb), 0);	/* c: freed */
	cr_expect_eq(ffpf_pbuf_nfree(&pb), 4);
	cr_expect_eq(log.calls, 3);
	cr_expect_eq(log.last, c);

	/* Nothing left to release; a frame cannot be freed twice. */
	for (int k = 0; k < 3; k++)
		cr_expect_eq(ffpf_ibuf_release(&ib[k], &pb), -EAGAIN);
	ffpf_print_fn_t old = ffpf_set_print(NULL);
	cr_expect_eq(ffpf_pbuf_release(&pb, a), -EINVAL);
	ffpf_set_print(old);
	cr_expect_eq(ffpf_pbuf_nfree(&pb), 4);

	for (int k = 0; k < 3; k++)
		ffpf_ibuf_destroy(&ib[k]);
	ffpf_pbuf_destroy(&pb);
}

Test(pbuf, slow_consumer_drops_only_its_own)
{
	enum { NPKT = 1000, NFRAMES = 16, CAP = 8 };
	static unsigned char mem[NFRAMES * FRAME];
	struct ffpf_ibuf ib[3], *ibs[3] = { &ib[0], &ib[1], &ib[2] };
	__u64 nfor[3] = { 0 }, first_slow[CAP];
	struct ffpf_ibuf_stats is;
	struct ffpf_pbuf_stats st;
	struct ffpf_pbuf pb;

	cr_assert_eq(ffpf_pbuf_init(&pb, mem, FRAME, NFRAMES, NULL), 0);
	for (int k = 0; k < 3; k++)
		cr_assert_eq(ffpf_ibuf_init(&ib[k], CAP, k), 0);

	for (__u64 i = 0; i < NPKT; i++) {
		__u64 mask = rnd() & 7;

		for (int k = 0; k < 3; k++)
			if (mask & (1ULL << k)) {
				if (k == 2 && nfor[2] < CAP)
					first_slow[nfor[2]] = i;
				nfor[k]++;
			}
		/* send_pkt asserts the pool never runs dry. */
		send_pkt(&pb, ibs, 3, i, mask, NULL);
		/* The fast flows catch up every 4 packets; flow 2 never reads. */
		if (i % 4 == 3)
			for (int k = 0; k < 2; k++)
				cr_assert_geq(ffpf_ibuf_release_batch(&ib[k], &pb,
								      ffpf_ibuf_count(&ib[k])), 0);
	}
	for (int k = 0; k < 2; k++)
		ffpf_ibuf_release_batch(&ib[k], &pb, ffpf_ibuf_count(&ib[k]));

	for (int k = 0; k < 2; k++) {
		ffpf_ibuf_get_stats(&ib[k], &is);
		cr_expect_eq(is.dropped, 0, "fast flow %d dropped %llu", k,
			     (unsigned long long)is.dropped);
		cr_expect_eq(is.pushed, nfor[k]);
		cr_expect_eq(is.consumed, nfor[k]);
	}
	ffpf_ibuf_get_stats(&ib[2], &is);
	cr_assert_gt(nfor[2], CAP);
	cr_expect_eq(is.dropped, nfor[2] - CAP);
	cr_expect_eq(is.pushed, CAP);
	cr_expect_eq(is.count, CAP);

	ffpf_pbuf_get_stats(&pb, &st);
	cr_expect_eq(st.alloc_fail, 0);
	cr_expect_eq(st.in_use, CAP, "only the slow flow's frames stay held");
	cr_expect_leq(st.high_water, NFRAMES);

	/* The slow flow kept its oldest packets, in order. */
	for (int j = 0; j < CAP; j++) {
		struct ffpf_ibuf_desc d;

		cr_assert_eq(ffpf_ibuf_peek(&ib[2], &d), 0);
		cr_expect_eq(d.meta.ts_ns, first_slow[j]);
		cr_assert_eq(ffpf_ibuf_release(&ib[2], &pb), 0);
	}
	cr_expect_eq(in_use(&pb), 0);

	for (int k = 0; k < 3; k++)
		ffpf_ibuf_destroy(&ib[k]);
	ffpf_pbuf_destroy(&pb);
}

Test(pbuf, unmatched_freed_at_once)
{
	static unsigned char mem[2 * FRAME];
	struct free_log log = { 0 };
	FFPF_OPTS(ffpf_pbuf_opts, opts, .on_free = on_free_cb, .ctx = &log);
	struct ffpf_ibuf ib, *ibs[1] = { &ib };
	struct ffpf_pbuf_stats st;
	struct ffpf_pbuf pb;
	__u64 a;

	cr_assert_eq(ffpf_pbuf_init(&pb, mem, FRAME, 2, &opts), 0);
	cr_assert_eq(ffpf_ibuf_init(&ib, 4, 5), 0);

	cr_expect_eq(send_pkt(&pb, ibs, 1, 0, 0, &a), 0);		/* no flow */
	cr_expect_eq(ffpf_pbuf_nfree(&pb), 2);
	cr_expect_eq(log.calls, 1);
	cr_expect_eq(log.last, a);
	cr_expect_eq(send_pkt(&pb, ibs, 1, 1, 1ULL << 4, NULL), 0);	/* other flow */
	cr_expect_eq(ffpf_pbuf_nfree(&pb), 2);
	cr_expect_eq(send_pkt(&pb, NULL, 0, 2, ~0ULL, NULL), 0);	/* no IBuf at all */
	cr_expect_eq(ffpf_pbuf_nfree(&pb), 2);
	cr_expect_eq(log.calls, 3);
	cr_expect_eq(ffpf_ibuf_count(&ib), 0);

	ffpf_pbuf_get_stats(&pb, &st);
	cr_expect_eq(st.delivered, 3);
	cr_expect_eq(st.unclaimed, 3);
	cr_expect_eq(st.stored, 0);
	cr_expect_eq(st.in_use, 0);
	cr_expect_eq(st.high_water, 1);

	ffpf_ibuf_destroy(&ib);
	ffpf_pbuf_destroy(&pb);
}

Test(pbuf, exhaustion)
{
	static unsigned char mem[3 * FRAME];
	struct ffpf_pbuf_stats st;
	struct ffpf_pbuf pb;
	__u64 addr[3], x;

	cr_assert_eq(ffpf_pbuf_init(&pb, mem, FRAME, 3, NULL), 0);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(ffpf_pbuf_alloc(&pb, &addr[i]), 0);
		cr_expect_eq(addr[i] % FRAME, 0);
		for (int j = 0; j < i; j++)
			cr_expect_neq(addr[i], addr[j]);
	}
	cr_expect_eq(ffpf_pbuf_alloc(&pb, &x), -ENOBUFS);
	cr_expect_eq(ffpf_pbuf_alloc(&pb, &x), -ENOBUFS);
	/* Any address inside a frame names it (headroom offsets). */
	cr_expect_eq(ffpf_pbuf_release(&pb, addr[1] + 17), 0);
	cr_expect_eq(ffpf_pbuf_alloc(&pb, &x), 0);
	cr_expect_eq(x, addr[1]);

	ffpf_pbuf_get_stats(&pb, &st);
	cr_expect_eq(st.alloc_fail, 2);
	cr_expect_eq(st.in_use, 3);
	cr_expect_eq(st.high_water, 3);
	cr_expect_eq(st.nframes, 3);
	ffpf_pbuf_destroy(&pb);
	ffpf_pbuf_destroy(&pb);	/* twice is harmless */
}

Test(pbuf, bad_arguments)
{
	static unsigned char mem[2 * FRAME];
	struct ffpf_meta meta = { .matched = 1 };
	struct ffpf_ibuf ib, *ibs[1] = { &ib };
	struct ffpf_pbuf pb;
	__u64 a;
	ffpf_print_fn_t old = ffpf_set_print(NULL);

	cr_expect_eq(ffpf_pbuf_init(&pb, NULL, FRAME, 2, NULL), -EINVAL);
	cr_expect_eq(ffpf_pbuf_init(&pb, mem, 0, 2, NULL), -EINVAL);
	cr_expect_eq(ffpf_pbuf_init(&pb, mem, FRAME, 0, NULL), -EINVAL);
	ffpf_pbuf_destroy(&pb);
	cr_expect_eq(ffpf_ibuf_init(&ib, 0, 0), -EINVAL);
	cr_expect_eq(ffpf_ibuf_init(&ib, 3, 0), -EINVAL);
	cr_expect_eq(ffpf_ibuf_init(&ib, 4, FFPF_MAX_FLOWS), -EINVAL);
	cr_expect_eq(ffpf_ibuf_init(&ib, 4, -1), -EINVAL);
	ffpf_ibuf_destroy(&ib);

	cr_assert_eq(ffpf_pbuf_init(&pb, mem, FRAME, 2, NULL), 0);
	cr_assert_eq(ffpf_ibuf_init(&ib, 1, 0), 0);
	cr_expect_eq(ffpf_pbuf_deliver(&pb, 0, 10, &meta, ibs, 1), -EINVAL,
		     "a free frame cannot be delivered");
	cr_assert_eq(ffpf_pbuf_alloc(&pb, &a), 0);
	cr_expect_eq(ffpf_pbuf_deliver(&pb, 2 * FRAME, 10, &meta, ibs, 1), -EINVAL);
	cr_expect_eq(ffpf_pbuf_deliver(&pb, a + 8, FRAME - 7, &meta, ibs, 1), -EINVAL);
	cr_expect_eq(ffpf_pbuf_deliver(&pb, a, 10, NULL, ibs, 1), -EINVAL);
	cr_expect_eq(ffpf_pbuf_release(&pb, 2 * FRAME), -EINVAL);
	cr_expect_null(ffpf_pbuf_data(&pb, 2 * FRAME));
	cr_expect_eq(in_use(&pb), 1, "failed delivers keep the caller's reference");
	cr_expect_eq(ffpf_pbuf_deliver(&pb, a + 8, FRAME - 8, &meta, ibs, 1), 1);
	cr_expect_eq(ffpf_ibuf_release_batch(&ib, &pb, 2), -EINVAL);
	cr_expect_eq(ffpf_ibuf_release_batch(&ib, &pb, 1), 1);
	cr_expect_eq(in_use(&pb), 0);
	ffpf_set_print(old);

	ffpf_ibuf_destroy(&ib);
	ffpf_ibuf_destroy(&ib);
	ffpf_pbuf_destroy(&pb);
}

static int readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ret = poll(&p, 1, 0);

	cr_assert_geq(ret, 0);
	return ret == 1 && (p.revents & POLLIN);
}

Test(pbuf, eventfd_wakeup)
{
	static unsigned char mem[4 * FRAME];
	struct ffpf_ibuf ib, *ibs[1] = { &ib };
	struct ffpf_pbuf pb;
	int fd;

	cr_assert_eq(ffpf_pbuf_init(&pb, mem, FRAME, 4, NULL), 0);
	cr_assert_eq(ffpf_ibuf_init(&ib, 4, 9), 0);
	fd = ffpf_ibuf_fd(&ib);
	cr_assert_geq(fd, 0);

	cr_expect_not(readable(fd), "empty IBuf: not readable");
	cr_expect_eq(send_pkt(&pb, ibs, 1, 0, 0, NULL), 0);
	cr_expect_not(readable(fd), "a packet for no flow must not wake");
	cr_expect_eq(send_pkt(&pb, ibs, 1, 1, 1ULL << 9, NULL), 1);
	cr_expect(readable(fd), "first push makes the fd readable");
	cr_expect_eq(send_pkt(&pb, ibs, 1, 2, 1ULL << 9, NULL), 1);
	cr_expect(readable(fd));

	/* arm() clears the fd but reports the waiting descriptors. */
	cr_expect_eq(ffpf_ibuf_arm(&ib), 1);
	cr_expect_not(readable(fd));
	cr_expect_eq(ffpf_ibuf_release_batch(&ib, &pb, 2), 2);
	cr_expect_eq(ffpf_ibuf_arm(&ib), 0);
	cr_expect_not(readable(fd));

	/* Empty again: the next push wakes again. */
	cr_expect_eq(send_pkt(&pb, ibs, 1, 3, 1ULL << 9, NULL), 1);
	cr_expect(readable(fd));
	cr_expect_eq(ffpf_ibuf_release(&ib, &pb), 0);

	ffpf_ibuf_destroy(&ib);
	ffpf_pbuf_destroy(&pb);
}

/* Every IBuf that took a packet sees the same delivery number. */
Test(pbuf, seq_same_in_every_ibuf)
{
	static unsigned char mem[8 * FRAME];
	struct ffpf_ibuf ib[2], *ibs[2] = { &ib[0], &ib[1] };
	struct ffpf_ibuf_desc d0, d1;
	struct ffpf_pbuf pb;

	cr_assert_eq(ffpf_pbuf_init(&pb, mem, FRAME, 8, NULL), 0);
	cr_assert_eq(ffpf_ibuf_init(&ib[0], 8, 0), 0);
	cr_assert_eq(ffpf_ibuf_init(&ib[1], 8, 1), 0);

	cr_assert_eq(send_pkt(&pb, ibs, 2, 0, 0x3, NULL), 2);	/* seq 0: both */
	cr_assert_eq(send_pkt(&pb, ibs, 2, 1, 0x0, NULL), 0);	/* seq 1: nobody */
	cr_assert_eq(send_pkt(&pb, ibs, 2, 2, 0x2, NULL), 1);	/* seq 2: flow 1 */
	cr_assert_eq(send_pkt(&pb, ibs, 2, 3, 0x3, NULL), 2);	/* seq 3: both */

	for (__u64 want = 0; want <= 3; want += 3) {
		cr_assert_eq(ffpf_ibuf_peek(&ib[0], &d0), 0);
		cr_expect_eq(d0.seq, want);
		cr_assert_eq(ffpf_ibuf_release(&ib[0], &pb), 0);
	}
	for (__u64 want = 0; want <= 3; want++) {
		if (want == 1)
			continue;
		cr_assert_eq(ffpf_ibuf_peek(&ib[1], &d1), 0);
		cr_expect_eq(d1.seq, want, "flow 1: seq %llu, want %llu",
			     (unsigned long long)d1.seq, (unsigned long long)want);
		cr_expect_eq(d1.meta.ts_ns, want);
		cr_assert_eq(ffpf_ibuf_release(&ib[1], &pb), 0);
	}
	cr_expect_eq(in_use(&pb), 0);
	for (int k = 0; k < 2; k++)
		ffpf_ibuf_destroy(&ib[k]);
	ffpf_pbuf_destroy(&pb);
}

/* One stored copy, each flow sees its own snaplen of it. */
Test(pbuf, snaplen_per_ibuf)
{
	static unsigned char mem[4 * FRAME];
	struct ffpf_ibuf ib[3], *ibs[3] = { &ib[0], &ib[1], &ib[2] };
	struct ffpf_meta meta = { .matched = 0x7, .wire_len = 200 };
	const __u32 snap[3] = { 0, 64, 500 }, want[3] = { 200, 64, 200 };
	struct ffpf_ibuf_desc d;
	struct ffpf_pbuf pb;
	__u64 addr;

	cr_assert_eq(ffpf_pbuf_init(&pb, mem, FRAME, 4, NULL), 0);
	for (int k = 0; k < 3; k++) {
		cr_assert_eq(ffpf_ibuf_init(&ib[k], 4, k), 0);
		ib[k].snaplen = snap[k];
	}
	cr_assert_eq(ffpf_pbuf_alloc(&pb, &addr), 0);
	cr_assert_eq(ffpf_pbuf_deliver(&pb, addr, 200, &meta, ibs, 3), 3);
	for (int k = 0; k < 3; k++) {
		cr_assert_eq(ffpf_ibuf_peek(&ib[k], &d), 0);
		cr_expect_eq(d.len, want[k], "flow %d: len %u", k, d.len);
		cr_expect_eq(d.addr, addr, "the same frame for every flow");
		cr_expect_eq(d.meta.wire_len, 200);
		cr_assert_eq(ffpf_ibuf_release(&ib[k], &pb), 0);
	}
	cr_expect_eq(in_use(&pb), 0);
	for (int k = 0; k < 3; k++)
		ffpf_ibuf_destroy(&ib[k]);
	ffpf_pbuf_destroy(&pb);
}

/* A long batch read in pieces, and the fd made readable again on demand. */
Test(pbuf, peek_from_and_kick)
{
	static unsigned char mem[16 * FRAME];
	struct ffpf_ibuf ib, *ibs[1] = { &ib };
	struct ffpf_ibuf_desc d[16];
	struct ffpf_pbuf pb;

	cr_assert_eq(ffpf_pbuf_init(&pb, mem, FRAME, 16, NULL), 0);
	cr_assert_eq(ffpf_ibuf_init(&ib, 16, 2), 0);
	for (__u64 i = 0; i < 10; i++)
		cr_assert_eq(send_pkt(&pb, ibs, 1, i, 1ULL << 2, NULL), 1);

	cr_expect_eq(ffpf_ibuf_peek_from(&ib, 0, d, 4), 4);
	cr_expect_eq(d[0].meta.ts_ns, 0);
	cr_expect_eq(ffpf_ibuf_peek_from(&ib, 4, d, 16), 6);
	cr_expect_eq(d[0].meta.ts_ns, 4);
	cr_expect_eq(d[5].meta.ts_ns, 9);
	cr_expect_eq(ffpf_ibuf_peek_from(&ib, 10, d, 16), 0);
	cr_expect_eq(ffpf_ibuf_peek_from(&ib, 99, d, 16), 0);
	cr_expect_eq(ffpf_ibuf_peek_from(&ib, 0, NULL, 1), -EINVAL);
	cr_expect_eq(ffpf_ibuf_count(&ib), 10, "peeking removes nothing");

	cr_expect_eq(ffpf_ibuf_arm(&ib), 1);
	cr_expect_not(readable(ffpf_ibuf_fd(&ib)));
	ffpf_ibuf_kick(&ib);
	cr_expect(readable(ffpf_ibuf_fd(&ib)));

	cr_expect_eq(ffpf_ibuf_release_batch(&ib, &pb, 10), 10);
	cr_expect_eq(in_use(&pb), 0);
	ffpf_ibuf_destroy(&ib);
	ffpf_pbuf_destroy(&pb);
}

/* --- two threads: one producer, one consumer, one IBuf ----------------- */

#define T_N	1000000ULL
#define T_CAP	1024
#define T_FRAMES 2048
#define T_FRAME	64

struct spsc {
	struct ffpf_pbuf pb;
	struct ffpf_ibuf ib;
	bool wait;			/* producer waits while the IBuf is full */
	atomic_bool done;		/* producer finished */
	/* producer's results */
	__u64 took, alloc_err, deliver_err;
	/* consumer's results */
	__u64 consumed, order_err, data_err, timeouts, release_err;
};

static void *producer(void *arg)
{
	struct spsc *s = arg;
	struct ffpf_ibuf *ibs[1] = { &s->ib };

	for (__u64 i = 0; i < T_N; i++) {
		struct ffpf_meta meta = { .matched = 1, .ts_ns = i };
		__u64 addr;
		int ret;

		while (s->wait && !ffpf_ibuf_space(&s->ib))
			sched_yield();
		if (ffpf_pbuf_alloc(&s->pb, &addr)) {
			s->alloc_err++;
			continue;
		}
		memcpy(ffpf_pbuf_data(&s->pb, addr), &i, sizeof(i));
		ret = ffpf_pbuf_deliver(&s->pb, addr, sizeof(i), &meta, ibs, 1);
		if (ret < 0)
			s->deliver_err++;
		else
			s->took += ret;
	}
	atomic_store_explicit(&s->done, true, memory_order_release);
	return NULL;
}

static void *consumer(void *arg)
{
	struct spsc *s = arg;
	struct ffpf_ibuf_desc d[64];
	__u64 next = 0;		/* wait mode: exact; drop mode: lower bound */

	/* Drop mode: make sure the ring overflows at least once. */
	if (!s->wait)
		while (!atomic_load_explicit(&s->ib.dropped, memory_order_relaxed) &&
		       !atomic_load_explicit(&s->done, memory_order_acquire))
			sched_yield();

	for (;;) {
		int n = ffpf_ibuf_peek_batch(&s->ib, d, 64);

		if (n <= 0) {
			if (s->wait) {
				struct pollfd p = { .fd = ffpf_ibuf_fd(&s->ib), .events = POLLIN };

				if (s->consumed == T_N)
					break;
				if (ffpf_ibuf_arm(&s->ib) == 0 && poll(&p, 1, 5000) == 0)
					s->timeouts++;	/* a lost wake-up */
			} else {
				if (atomic_load_explicit(&s->done, memory_order_acquire) &&
				    !ffpf_ibuf_count(&s->ib))
					break;
				sched_yield();
			}
			continue;
		}
		for (int j = 0; j < n; j++) {
			__u64 seq, v;

			seq = d[j].meta.ts_ns;
			if (s->wait ? seq != next : seq < next)
				s->order_err++;
			next = seq + 1;
			memcpy(&v, ffpf_pbuf_data(&s->pb, d[j].addr), sizeof(v));
			if (v != seq || d[j].len != sizeof(v))
				s->data_err++;
		}
		if (ffpf_ibuf_release_batch(&s->ib, &s->pb, n) != n)
			s->release_err++;
		s->consumed += n;
		/* Drop mode: stall now and then so the producer overruns us. */
		if (!s->wait && s->consumed / 100000 != (s->consumed - n) / 100000)
			usleep(1000);
	}
	return NULL;
}

static void run_spsc(bool wait)
{
	static unsigned char mem[T_FRAMES * T_FRAME];
	struct spsc *s = calloc(1, sizeof(*s));
	struct ffpf_ibuf_stats is;
	struct ffpf_pbuf_stats st;
	pthread_t pt, ct;

	cr_assert_not_null(s);
	s->wait = wait;
	cr_assert_eq(ffpf_pbuf_init(&s->pb, mem, T_FRAME, T_FRAMES, NULL), 0);
	cr_assert_eq(ffpf_ibuf_init(&s->ib, T_CAP, 0), 0);
	cr_assert_eq(pthread_create(&ct, NULL, consumer, s), 0);
	cr_assert_eq(pthread_create(&pt, NULL, producer, s), 0);
	pthread_join(pt, NULL);
	pthread_join(ct, NULL);

	ffpf_ibuf_get_stats(&s->ib, &is);
	ffpf_pbuf_get_stats(&s->pb, &st);
	cr_expect_eq(s->alloc_err, 0);
	cr_expect_eq(s->deliver_err, 0);
	cr_expect_eq(s->order_err, 0);
	cr_expect_eq(s->data_err, 0);
	cr_expect_eq(s->release_err, 0);
	cr_expect_eq(s->timeouts, 0, "lost eventfd wake-ups");
	cr_expect_eq(is.pushed, s->took);
	cr_expect_eq(is.consumed, s->consumed);
	cr_expect_eq(s->consumed + is.dropped, T_N);
	cr_expect_eq(st.delivered, T_N);
	cr_expect_eq(st.stored, s->took);
	cr_expect_eq(st.unclaimed, is.dropped, "a dropped packet's frame is freed");
	cr_expect_eq(st.in_use, 0);
	cr_expect_leq(st.high_water, T_CAP + 2);
	if (wait) {
		cr_expect_eq(is.dropped, 0);
		cr_expect_eq(s->consumed, T_N);
	} else {
		cr_expect_gt(is.dropped, 0);
	}

	ffpf_ibuf_destroy(&s->ib);
	ffpf_pbuf_destroy(&s->pb);
	free(s);
}

Test(pbuf, spsc_threads_no_loss_when_waiting)
{
	run_spsc(true);
}

Test(pbuf, spsc_threads_drop_counting)
{
	run_spsc(false);
}
