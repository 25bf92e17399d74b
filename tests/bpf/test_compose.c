// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_compose.c - the jump table and the kernel's limits on real flows:
 * all 64 flow slots of one interface, the 65th refused, the tail-call
 * budget enforced at instantiate, and - with the budget switched off -
 * the kernel's own limit of 33 tail calls per packet observed for real.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

#define PORT0	20000

/* Same source port and 8 payload bytes in every compose test. */
static struct pkt udp_to(uint16_t dport)
{
	return pkt_udp4(4242, dport, 8);
}

static struct pkt tcp_to(uint16_t dport)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_TCP });
	pkt_tcp(&p, 4242, dport, TH_SYN, 0);
	return p;
}

/* "[head -> ]count -> count -> ..." with @n stages in all. */
static const char *chain(const char *head, int n)
{
	static char buf[FFPF_SPEC_LEN];
	size_t len = 0;

	buf[0] = '\0';
	if (head) {
		len += snprintf(buf, sizeof(buf), "%s", head);
		n--;
	}
	for (int i = 0; i < n; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%scount",
				len ? " -> " : "");
	return buf;
}

static void snapshot(struct ffpf_flow **f, int n, __u64 *packets)
{
	for (int i = 0; i < n; i++)
		packets[i] = f[i] ? tf_stats(f[i]).packets : 0;
}

TestSuite(compose, .init = tf_setup, .timeout = 300);

Test(compose, sixty_four_flows_fill_the_jump_table)
{
	struct ffpf_flow *f[FFPF_MAX_FLOWS], *extra;
	__u64 before[FFPF_MAX_FLOWS], after[FFPF_MAX_FLOWS];
	char spec[64];
	int err;

	for (int i = 0; i < FFPF_MAX_FLOWS; i++) {
		snprintf(spec, sizeof(spec), "match(udp, dst port %d) -> count", PORT0 + i);
		f[i] = tf_flow(spec, true);
		cr_assert_eq(ffpf_flow_index(f[i]), i, "flow %d got index %d", i,
			     ffpf_flow_index(f[i]));
	}

	/* a 65th flow has no slot */
	err = tf_try_flow("match(udp, dst port 1) -> count", NULL, &extra);
	cr_expect_eq(err, -ENOSPC, "65th flow: %d (%s), want -ENOSPC", err, strerror(-err));

	for (int i = 0; i < FFPF_MAX_FLOWS; i++) {
		struct pkt p = udp_to(PORT0 + i);
		struct ffpf_pkt c;

		snapshot(f, FFPF_MAX_FLOWS, before);
		cr_assert_eq(tf_run(f[0], &p), 2);
		snapshot(f, FFPF_MAX_FLOWS, after);
		tf_pctx(f[0], &c);
		cr_expect_eq(c.matched, 1ULL << i, "[port %d] matched 0x%llx, want bit %d",
			     PORT0 + i, (unsigned long long)c.matched, i);
		for (int k = 0; k < FFPF_MAX_FLOWS; k++)
			cr_expect_eq(after[k] - before[k], k == i,
				     "[port %d] flow %d counted +%llu, want +%d", PORT0 + i, k,
				     (unsigned long long)(after[k] - before[k]), k == i);
	}
	/* a port nobody asked for, and a TCP packet to a listed port */
	{
		struct pkt p[2] = { udp_to(PORT0 + FFPF_MAX_FLOWS), tcp_to(PORT0) };

		for (int j = 0; j < 2; j++) {
			struct ffpf_pkt c;

			snapshot(f, FFPF_MAX_FLOWS, before);
			cr_assert_eq(tf_run(f[0], &p[j]), 2);
			snapshot(f, FFPF_MAX_FLOWS, after);
			tf_pctx(f[0], &c);
			cr_expect_eq(c.matched, 0, "[unlisted packet %d] matched 0x%llx", j,
				     (unsigned long long)c.matched);
			for (int k = 0; k < FFPF_MAX_FLOWS; k++)
				cr_expect_eq(after[k], before[k], "[unlisted packet %d] flow %d counted",
					     j, k);
		}
	}
	cr_expect_eq(tf_iface(f[0]).missed, 0, "root missed tail calls");

	/* closing one frees exactly its slot; the others keep working */
	ffpf_flow_close(f[17]);
	f[17] = NULL;
	{
		struct pkt p = udp_to(PORT0 + 17), q = udp_to(PORT0 + 18);
		struct ffpf_pkt c;

		cr_assert_eq(tf_run(f[0], &p), 2);
		tf_pctx(f[0], &c);
		cr_expect_eq(c.matched, 0, "closed flow 17 still matches: 0x%llx",
			     (unsigned long long)c.matched);
		snapshot(f, FFPF_MAX_FLOWS, before);
		cr_assert_eq(tf_run(f[0], &q), 2);
		snapshot(f, FFPF_MAX_FLOWS, after);
		cr_expect_eq(after[18] - before[18], 1, "flow 18 after closing 17");
	}
	err = tf_try_flow("match(udp, dst port 1) -> count", NULL, &extra);
	cr_expect_eq(err, 0, "a flow after a close: %d", err);
	if (!err) {
		struct pkt p = udp_to(1);
		struct ffpf_pkt c;

		cr_expect_eq(ffpf_flow_index(extra), 17, "new flow took index %d, want 17",
			     ffpf_flow_index(extra));
		cr_assert_eq(ffpf_flow_activate(extra), 0);
		cr_assert_eq(tf_run(f[0], &p), 2);
		tf_pctx(f[0], &c);
		cr_expect_eq(c.matched, 1ULL << 17, "reused slot: matched 0x%llx",
			     (unsigned long long)c.matched);
		cr_expect_eq(tf_stats(extra).packets, 1);
		/* its counters started from zero, not from flow 17's */
		cr_expect_eq(tf_stats(extra).dispatched, 1);
		ffpf_flow_close(extra);
	}
	for (int i = 0; i < FFPF_MAX_FLOWS; i++)
		ffpf_flow_close(f[i]);
}

Test(compose, unguarded_flows_beyond_33_tail_calls_are_refused)
{
	struct ffpf_flow *a, *b, *c;
	int err;

	unsetenv("FFPF_UNSAFE_NO_BUDGET");
	a = tf_flow(chain(NULL, 12), true);
	b = tf_flow(chain(NULL, 12), true);
	err = tf_try_flow(chain(NULL, 12), NULL, &c);
	cr_expect_eq(err, -E2BIG, "third 12-stage flow (36 tail calls): %d (%s), want -E2BIG",
		     err, strerror(-err));
	/* 24 + 9 = 33 fits exactly */
	err = tf_try_flow(chain(NULL, 9), NULL, &c);
	cr_expect_eq(err, 0, "a 9-stage third flow (33 tail calls): %d (%s)", err,
		     strerror(-err));
	if (!err) {
		struct pkt p = udp_to(9);

		cr_assert_eq(ffpf_flow_activate(c), 0);
		cr_assert_eq(tf_run(a, &p), 2);
		cr_expect_eq(tf_stats(a).packets, 1);
		cr_expect_eq(tf_stats(b).packets, 1);
		cr_expect_eq(tf_stats(c).packets, 1, "33 tail calls exactly: the last flow "
			     "missed (%llu)", (unsigned long long)tf_stats(c).missed);
		cr_expect_eq(tf_iface(a).missed, 0);
		ffpf_flow_close(c);
	}
	ffpf_flow_close(a);
	ffpf_flow_close(b);
}

Test(compose, disjoint_guards_do_not_add_up)
{
	struct ffpf_flow *u, *t, *i6, *over;
	int err;

	unsetenv("FFPF_UNSAFE_NO_BUDGET");
	/* 3 x 12 stages, but no packet can satisfy two of the guards */
	u = tf_flow(chain("match(ip, udp)", 12), true);
	t = tf_flow(chain("match(ip, tcp)", 12), true);
	i6 = tf_flow(chain("match(ip6)", 12), true);
	/* a flow that may share packets with the UDP one: 12 + 12 + ... > 33 */
	err = tf_try_flow(chain("match(dst port 53)", 12), NULL, &over);
	cr_expect_eq(err, -E2BIG, "overlapping guarded flow: %d (%s), want -E2BIG", err,
		     strerror(-err));
	{
		struct pkt p = udp_to(53), q = tcp_to(80);

		cr_assert_eq(tf_run(u, &p), 2);
		cr_assert_eq(tf_run(u, &q), 2);
		cr_expect_eq(tf_stats(u).packets, 1);
		cr_expect_eq(tf_stats(t).packets, 1);
		cr_expect_eq(tf_stats(i6).packets, 0);
		cr_expect_eq(tf_iface(u).missed, 0);
	}
	ffpf_flow_close(u);
	ffpf_flow_close(t);
	ffpf_flow_close(i6);
}

/*
 * Switch the budget off and let the kernel enforce MAX_TAIL_CALL_CNT:
 * three unguarded 12-stage flows need 36 tail calls per packet (each
 * stage is entered by one, the first stage of each flow included), the
 * kernel allows 33, so the third flow's chain dies after 9 stages.
 */
Test(compose, kernel_limit_without_the_budget)
{
	struct ffpf_flow *f[3];
	struct pkt p = udp_to(9);
	__u64 ran = 0;
	int err;

	f[0] = tf_flow(chain(NULL, 12), true);
	f[1] = tf_flow(chain(NULL, 12), true);
	err = tf_try_flow(chain(NULL, 12), NULL, &f[2]);
	cr_assert_eq(err, -E2BIG, "with the budget: %d, want -E2BIG", err);

	cr_assert_eq(setenv("FFPF_UNSAFE_NO_BUDGET", "1", 1), 0);
	err = tf_try_flow(chain(NULL, 12), NULL, &f[2]);
	unsetenv("FFPF_UNSAFE_NO_BUDGET");
	cr_assert_eq(err, 0, "FFPF_UNSAFE_NO_BUDGET=1: %d (%s)", err, strerror(-err));
	cr_assert_eq(ffpf_flow_activate(f[2]), 0);

	cr_assert_eq(tf_run(f[0], &p), 2, "XDP_PASS even when tail calls fail");
	/* flows run in index order: 12 + 12 + 9 = 33 tail calls succeed */
	for (int i = 0; i < 3; i++) {
		struct ffpf_flow_stats s = tf_stats(f[i]);

		cr_expect_eq(s.dispatched, 1, "flow %d dispatched %llu", i,
			     (unsigned long long)s.dispatched);
		cr_expect_eq(s.packets, i < 2, "flow %d accepted %llu, want %d", i,
			     (unsigned long long)s.packets, i < 2);
		cr_expect_eq(s.missed, i == 2, "flow %d missed %llu, want %d", i,
			     (unsigned long long)s.missed, i == 2);
		for (int k = 0; k < 12; k++) {
			struct ffpf_mbuf_hdr h = tf_fstats(f[i], k);

			ran += h.seen;
			if (i == 2)
				cr_expect_eq(h.seen, k < 9, "flow 2 stage %d ran %llu times, want %d",
					     k, (unsigned long long)h.seen, k < 9);
		}
	}
	cr_expect_eq(ran, FFPF_TAIL_CALL_LIMIT, "%llu stages ran, want %d (one tail call each)",
		     (unsigned long long)ran, FFPF_TAIL_CALL_LIMIT);
	cr_expect_eq(tf_iface(f[0]).missed, 1, "root missed %llu, want 1",
		     (unsigned long long)tf_iface(f[0]).missed);
	{
		struct ffpf_pkt c;

		tf_pctx(f[0], &c);
		cr_expect_eq(c.matched, 0x3, "matched 0x%llx, want flows 0 and 1",
			     (unsigned long long)c.matched);
	}

	/* the count is per packet: a second packet gets 33 again */
	cr_assert_eq(tf_run(f[0], &p), 2);
	cr_expect_eq(tf_stats(f[2]).missed, 2);
	cr_expect_eq(tf_fstats(f[2], 8).seen, 2);
	cr_expect_eq(tf_fstats(f[2], 9).seen, 0);

	/* closing flow 0 brings the path down to 24: everyone completes */
	ffpf_flow_close(f[0]);
	cr_assert_eq(tf_run(f[1], &p), 2);
	cr_expect_eq(tf_stats(f[1]).packets, 3, "flow 1 after closing flow 0");
	cr_expect_eq(tf_stats(f[2]).packets, 1, "flow 2 after closing flow 0: %llu",
		     (unsigned long long)tf_stats(f[2]).packets);
	cr_expect_eq(tf_stats(f[2]).missed, 2, "flow 2 missed again");
	cr_expect_eq(tf_iface(f[1]).missed, 2);
	ffpf_flow_close(f[1]);
	ffpf_flow_close(f[2]);
}
