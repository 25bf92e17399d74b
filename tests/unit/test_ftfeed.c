/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * test_ftfeed.c - the record ring from the daemon's sweeper to a client
 * (user/lib/ftfeed.c), both sides in one process over the same memfd:
 * order, a full ring drops and counts, a lying consumer cannot make the
 * producer overwrite unread records, attach refuses what does not fit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "ftfeed.h"

static struct ffpf_ft_record rec(__u32 id, int reason)
{
	struct ffpf_ft_record r = { .reason = reason };

	r.flow.id = id;
	r.key.proto = 17;
	return r;
}

/* The client's side of @d, over dups of its fds. */
static void attach(struct ffpf_ft_feed *d, struct ffpf_ft_feed *c)
{
	int err = ffpf_ft_feed_attach(c, dup(d->memfd), d->len, d->capacity, dup(d->efd));

	cr_assert_eq(err, 0, "attach: %d", err);
}

Test(ftfeed, in_order_with_wakeup)
{
	struct ffpf_ft_feed d, c;
	struct ffpf_ft_record r;
	struct pollfd p;

	cr_assert_eq(ffpf_ft_feed_create(&d, 100), 0);
	cr_assert_eq(d.capacity, 128, "rounded up to a power of two");
	attach(&d, &c);
	p = (struct pollfd){ .fd = c.efd, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 0), 0, "nothing pushed: no wake-up");
	cr_assert(!ffpf_ft_feed_pop(&c, &r));
	for (__u32 i = 1; i <= 100; i++)
		cr_assert(ffpf_ft_feed_push(&d, &(struct ffpf_ft_record){ .flow.id = i }));
	cr_assert_eq(poll(&p, 1, 0), 1, "a push signals the eventfd");
	for (__u32 i = 1; i <= 100; i++) {
		cr_assert(ffpf_ft_feed_pop(&c, &r), "record %u", i);
		cr_assert_eq(r.flow.id, i);
	}
	cr_assert(!ffpf_ft_feed_pop(&c, &r));
	cr_assert_eq(d.dropped, 0);
	ffpf_ft_feed_destroy(&c);
	ffpf_ft_feed_destroy(&d);
}

Test(ftfeed, full_ring_drops_and_counts)
{
	struct ffpf_ft_feed d, c;
	struct ffpf_ft_record r = rec(0, FFPF_FT_END_IDLE);
	int pushed = 0;

	cr_assert_eq(ffpf_ft_feed_create(&d, 64), 0);
	attach(&d, &c);
	for (__u32 i = 0; i < 100; i++) {
		r.flow.id = i;
		pushed += ffpf_ft_feed_push(&d, &r);
	}
	cr_assert_eq(pushed, 64);
	cr_assert_eq(d.dropped, 36, "every record without room is counted");
	/* the first 64 arrive intact; then there is room again */
	for (__u32 i = 0; i < 64; i++) {
		cr_assert(ffpf_ft_feed_pop(&c, &r));
		cr_assert_eq(r.flow.id, i);
	}
	cr_assert(ffpf_ft_feed_push(&d, &r));
	ffpf_ft_feed_destroy(&c);
	ffpf_ft_feed_destroy(&d);
}

Test(ftfeed, lying_consumer_overwrites_nothing)
{
	struct ffpf_ft_feed d;
	struct ffpf_ft_record r = rec(7, FFPF_FT_END_FIN);

	cr_assert_eq(ffpf_ft_feed_create(&d, 64), 0);
	for (int i = 0; i < 10; i++)
		cr_assert(ffpf_ft_feed_push(&d, &r));
	/* cons ahead of prod ("I took more than there was") */
	atomic_store(&d.r->cons, 1000);
	cr_assert(!ffpf_ft_feed_push(&d, &r), "cons ahead of prod reads as full");
	/* cons far behind (backwards past the records) */
	atomic_store(&d.r->cons, (__u32)-500);
	cr_assert(!ffpf_ft_feed_push(&d, &r), "cons behind the records reads as full");
	cr_assert_eq(d.dropped, 2);
	cr_assert_eq(atomic_load(&d.r->prod), 10, "the producer's index stayed its own");
	/* an honest cons again: service resumes */
	atomic_store(&d.r->cons, 10);
	cr_assert(ffpf_ft_feed_push(&d, &r));
	/* prod in shared memory scribbled on: the producer uses its own copy */
	atomic_store(&d.r->prod, 12345);
	cr_assert(ffpf_ft_feed_push(&d, &r));
	cr_assert_eq(atomic_load(&d.r->prod), 12, "published from the private index");
	ffpf_ft_feed_destroy(&d);
}

Test(ftfeed, attach_refuses_what_does_not_fit)
{
	struct ffpf_ft_feed d, c;

	cr_assert_eq(ffpf_ft_feed_create(&d, 64), 0);
	cr_assert_eq(ffpf_ft_feed_attach(&c, dup(d.memfd), d.len, 100, dup(d.efd)), -EINVAL,
		     "capacity not a power of two");
	cr_assert_eq(ffpf_ft_feed_attach(&c, dup(d.memfd), d.len, 0, dup(d.efd)), -EINVAL);
	cr_assert_eq(ffpf_ft_feed_attach(&c, dup(d.memfd), d.len - 1, 64, dup(d.efd)), -EINVAL,
		     "ring shorter than its records");
	cr_assert_eq(ffpf_ft_feed_attach(&c, dup(d.memfd), d.len * 4, 256, dup(d.efd)), -EINVAL,
		     "mapping past the memfd's end (would SIGBUS)");
	cr_assert_eq(ffpf_ft_feed_attach(&c, dup(d.memfd), d.len, 2 * FFPF_FT_FEED_MAX,
					 dup(d.efd)), -EINVAL);
	cr_assert_eq(c.r, NULL);
	cr_assert_eq(c.efd, -1, "the fds were taken and closed on error");
	ffpf_ft_feed_destroy(&c);	/* harmless after a failed attach */
	ffpf_ft_feed_destroy(&d);
	ffpf_ft_feed_destroy(&d);	/* and twice */
}

Test(ftfeed, capacity_is_bounded)
{
	struct ffpf_ft_feed d;

	cr_assert_eq(ffpf_ft_feed_create(&d, 1u << 30), 0);
	cr_assert_eq(d.capacity, FFPF_FT_FEED_MAX);
	ffpf_ft_feed_destroy(&d);
	cr_assert_eq(ffpf_ft_feed_create(&d, 0), 0);
	cr_assert_eq(d.capacity, 64);
	ffpf_ft_feed_destroy(&d);
}
