/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * test_ibuf_remote.c - an IBuf whose consumer is another process (a
 * client of the daemon), both sides here over the same memfd: the
 * consumer hands slots back by moving cons, the producer frees their frames
 * (reclaim), a cons that lies is ignored and counted, and drain returns
 * every frame whatever the consumer did.
 */
#include <errno.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "pbuf.h"

#define FRAME	256
#define NFRAMES	16

static unsigned char mem[NFRAMES * FRAME];

struct pair {
	struct ffpf_pbuf pb;
	struct ffpf_ibuf prod;		/* the daemon's side */
	struct ffpf_ibuf cons;		/* the client's side */
	struct ffpf_ibuf *ibs[1];
};

static void pair_init(struct pair *p, __u32 capacity)
{
	cr_assert_eq(ffpf_pbuf_init(&p->pb, mem, FRAME, NFRAMES, NULL), 0);
	cr_assert_eq(ffpf_ibuf_init_remote(&p->prod, capacity, 0, &p->pb), 0);
	cr_assert_eq(ffpf_ibuf_attach(&p->cons, dup(p->prod.memfd), p->prod.ring_len, capacity,
				      0, dup(ffpf_ibuf_fd(&p->prod))), 0);
	p->ibs[0] = &p->prod;
}

static void pair_fini(struct pair *p)
{
	ffpf_ibuf_destroy(&p->cons);
	ffpf_ibuf_destroy(&p->prod);
	ffpf_pbuf_destroy(&p->pb);
}

/* One packet into the producer's IBuf; returns its frame. */
static __u64 push(struct pair *p, __u64 seq)
{
	struct ffpf_meta meta = { .matched = 1, .ts_ns = seq, .wire_len = 60 };
	__u64 addr;

	cr_assert_eq(ffpf_pbuf_alloc(&p->pb, &addr), 0);
	cr_assert_eq(ffpf_pbuf_deliver(&p->pb, addr, 60, &meta, p->ibs, 1), 1);
	return addr;
}

static __u64 bad_cons(struct ffpf_ibuf *ib)
{
	return atomic_load(&ib->bad_cons);
}

Test(ibuf_remote, consumer_releases_producer_frees)
{
	struct ffpf_ibuf_desc d[8];
	struct pair p;
	__u64 addr[5];

	pair_init(&p, 8);
	for (int i = 0; i < 5; i++)
		addr[i] = push(&p, i);
	cr_assert_eq(ffpf_pbuf_nfree(&p.pb), NFRAMES - 5, "the ring holds 5 frames");
	/* the client sees the descriptors the daemon pushed */
	cr_assert_eq(ffpf_ibuf_peek_batch(&p.cons, d, 8), 5);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(d[i].addr, addr[i]);
	/* it hands 3 back: it has no PBuf to release into (pb NULL) */
	cr_assert_eq(ffpf_ibuf_release_batch(&p.cons, NULL, 3), 3);
	cr_assert_eq(ffpf_pbuf_nfree(&p.pb), NFRAMES - 5, "nothing freed before reclaim");
	cr_assert_eq(ffpf_ibuf_reclaim(&p.prod), 3);
	cr_assert_eq(ffpf_pbuf_nfree(&p.pb), NFRAMES - 2);
	cr_assert_eq(ffpf_ibuf_reclaim(&p.prod), 0, "reclaim is idempotent");
	cr_assert_eq(bad_cons(&p.prod), 0);
	/* room comes back through reclaim: 8 slots, 2 in use */
	cr_assert_eq(ffpf_ibuf_space(&p.prod), 6);
	pair_fini(&p);
}

Test(ibuf_remote, lying_cons_is_ignored_and_counted)
{
	struct pair p;

	pair_init(&p, 8);
	for (int i = 0; i < 4; i++)
		push(&p, i);
	/* past what was pushed: would free frames the client still "has" */
	atomic_store(&p.cons.r->cons, 7);
	cr_assert_eq(ffpf_ibuf_reclaim(&p.prod), 0);
	cr_assert_eq(bad_cons(&p.prod), 1);
	cr_assert_eq(ffpf_pbuf_nfree(&p.pb), NFRAMES - 4, "no frame freed on a lie");
	/* honest, 2 */
	atomic_store(&p.cons.r->cons, 2);
	cr_assert_eq(ffpf_ibuf_reclaim(&p.prod), 2);
	/* backwards: would free the same frames twice */
	atomic_store(&p.cons.r->cons, 1);
	cr_assert_eq(ffpf_ibuf_reclaim(&p.prod), 0);
	cr_assert_eq(bad_cons(&p.prod), 2);
	cr_assert_eq(ffpf_pbuf_nfree(&p.pb), NFRAMES - 2);
	/* the producer's space never trusts the lie either */
	atomic_store(&p.cons.r->cons, 1000);
	cr_assert_eq(ffpf_ibuf_space(&p.prod), 6);
	pair_fini(&p);
}

Test(ibuf_remote, full_ring_drops_then_recovers)
{
	struct ffpf_meta meta = { .matched = 1, .wire_len = 60 };
	struct ffpf_ibuf_stats st;
	struct pair p;
	__u64 addr;

	pair_init(&p, 4);
	for (int i = 0; i < 4; i++)
		push(&p, i);
	cr_assert_eq(ffpf_pbuf_alloc(&p.pb, &addr), 0);
	cr_assert_eq(ffpf_pbuf_deliver(&p.pb, addr, 60, &meta, p.ibs, 1), 0,
		     "a full ring takes nothing");
	ffpf_ibuf_get_stats(&p.prod, &st);
	cr_assert_eq(st.dropped, 1, "and counts the drop");
	cr_assert_eq(ffpf_pbuf_nfree(&p.pb), NFRAMES - 4, "the dropped packet's frame is back");
	cr_assert_eq(ffpf_ibuf_release_batch(&p.cons, NULL, 4), 4);
	push(&p, 5);	/* reclaim happens on the producer's next push */
	cr_assert_eq(ffpf_pbuf_nfree(&p.pb), NFRAMES - 1);
	pair_fini(&p);
}

Test(ibuf_remote, drain_returns_every_frame)
{
	struct pair p;

	pair_init(&p, 8);
	for (int i = 0; i < 6; i++)
		push(&p, i);
	cr_assert_eq(ffpf_ibuf_release_batch(&p.cons, NULL, 2), 2);
	/* the client dies with cons somewhere silly */
	atomic_store(&p.cons.r->cons, 0xdeadbeef);
	ffpf_ibuf_drain(&p.prod, NULL);
	cr_assert_eq(ffpf_pbuf_nfree(&p.pb), NFRAMES, "all 6 frames back, none twice");
	ffpf_ibuf_drain(&p.prod, NULL);
	cr_assert_eq(ffpf_pbuf_nfree(&p.pb), NFRAMES);
	pair_fini(&p);
}

Test(ibuf_remote, attach_refuses_bad_geometry)
{
	struct ffpf_ibuf prod, c;
	struct ffpf_pbuf pb;

	cr_assert_eq(ffpf_pbuf_init(&pb, mem, FRAME, NFRAMES, NULL), 0);
	cr_assert_eq(ffpf_ibuf_init_remote(&prod, 8, 0, NULL), -EINVAL, "no PBuf");
	cr_assert_eq(ffpf_ibuf_init_remote(&prod, 8, 0, &pb), 0);
	cr_assert_eq(ffpf_ibuf_attach(&c, dup(prod.memfd), prod.ring_len, 6, 0, -1), -EINVAL);
	cr_assert_eq(ffpf_ibuf_attach(&c, dup(prod.memfd), prod.ring_len - 1, 8, 0, -1),
		     -EINVAL);
	cr_assert_eq(ffpf_ibuf_attach(&c, dup(prod.memfd), prod.ring_len, 8, FFPF_MAX_FLOWS, -1),
		     -EINVAL);
	ffpf_ibuf_destroy(&c);
	ffpf_ibuf_destroy(&prod);
	ffpf_pbuf_destroy(&pb);
}
