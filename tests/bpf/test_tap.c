// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tap mode sink (issue 3, kernel side): a matched packet gets its metadata
 * and is redirected to the RX queue's AF_XDP socket; with no socket on the
 * queue it must be passed on (never dropped) and counted as such.
 */
#include <linux/bpf.h>
#include "harness.h"

TestSuite(tap, .init = tf_setup, .timeout = 60);

Test(tap, no_socket_falls_back_to_pass_and_is_counted)
{
	struct ffpf_flow *f = tf_flow("match(udp, dst port 53) -> count", true);
	struct pkt hit = pkt_udp4(1000, 53, 0), miss = pkt_udp4(1000, 54, 0);
	struct ffpf_iface_stats s;

	f->iface->ctl->tap = 1;
	f->iface->ctl->rx = 1ULL << f->idx;
	cr_assert_eq(tf_run(f, &hit), XDP_PASS, "matched packet with no socket must pass");
	cr_assert_eq(tf_run(f, &miss), XDP_PASS);
	cr_assert_eq(tf_run(f, &hit), XDP_PASS);
	s = tf_iface(f);
	cr_expect_eq(s.tap_no_socket, 2, "no-socket fallbacks %llu, want 2",
		     (unsigned long long)s.tap_no_socket);
	cr_expect_eq(s.tap_redirected, 0);
	cr_expect_eq(s.tap_meta_fail, 0);
	cr_expect_eq(tf_stats(f).packets, 2);
	ffpf_flow_close(f);
}

Test(tap, only_rx_flows_are_redirected)
{
	struct ffpf_flow *f = tf_flow("match(udp) -> count", true);
	struct pkt hit = pkt_udp4(1000, 53, 0);
	struct ffpf_iface_stats s;

	/* Tap is on, but the flow wants statistics only: nothing leaves the stack. */
	f->iface->ctl->tap = 1;
	cr_assert_eq(tf_run(f, &hit), XDP_PASS);
	s = tf_iface(f);
	cr_expect_eq(s.tap_no_socket + s.tap_redirected + s.tap_meta_fail, 0);
	cr_expect_eq(s.matched, 1);
	ffpf_flow_close(f);
}

Test(tap, tap_off_touches_nothing)
{
	struct ffpf_flow *f = tf_flow("match(udp) -> count", true);
	struct pkt hit = pkt_udp4(1000, 53, 0);
	struct ffpf_iface_stats s;

	cr_assert_eq(tf_run(f, &hit), XDP_PASS);
	s = tf_iface(f);
	cr_expect_eq(s.tap_no_socket + s.tap_redirected + s.tap_meta_fail, 0);
	cr_expect_eq(s.matched, 1);
	ffpf_flow_close(f);
}
