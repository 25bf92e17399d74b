// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Monitor mode (FFPF_FLOW_MONITOR): on ingress, while a monitor flow is
 * active, the root ends every packet in XDP_DROP after the flows had their
 * look, and counts it in monitor_dropped. A paused monitor flow, or only
 * ordinary flows, let packets pass; the TC egress root never drops.
 *
 * Malformed and truncated packets are mirror traffic too: they are dropped
 * and counted like any other (and still counted as truncated/malformed).
 */
#include <errno.h>
#include <string.h>
#include <linux/bpf.h>
#include "harness.h"

#define TC_PASS	0xffffffffu	/* TC_ACT_UNSPEC (-1) */

TestSuite(monitor, .init = tf_setup, .timeout = 60);

/* A flow on lo with FFPF_FLOW_MONITOR, instantiated (and activated). */
static struct ffpf_flow *mon_flow(const char *spec, bool activate)
{
	FFPF_OPTS(ffpf_flow_opts, o, .flags = FFPF_FLOW_MONITOR);
	struct ffpf_flow *f = ffpf_flow_create(TF_IFNAME, &o);
	int err;

	cr_assert_not_null(f, "ffpf_flow_create: %s", strerror(errno));
	err = ffpf_flow_populate(f, spec);
	cr_assert_eq(err, 0, "populate \"%s\": %d", spec, err);
	err = ffpf_flow_instantiate(f);
	cr_assert_eq(err, 0, "instantiate \"%s\": %d (%s)", spec, err, strerror(-err));
	if (activate)
		cr_assert_eq(ffpf_flow_activate(f), 0);
	return f;
}

static unsigned long long dropped(const struct ffpf_flow *f)
{
	return tf_iface(f).monitor_dropped;
}

Test(monitor, active_monitor_flow_drops_after_the_flow_counted)
{
	struct ffpf_flow *f = mon_flow("match(udp) -> count", true);
	struct pkt udp = pkt_udp4(1000, 53, 0);
	struct pkt tcp = pkt_tcp4_ab("10.0.0.1", "10.0.0.2", 1000, 80, TH_SYN, 0);

	cr_expect_eq(f->iface->ctl->monitor, 1ULL << f->idx, "ctl.monitor %#llx",
		     (unsigned long long)f->iface->ctl->monitor);
	cr_assert_eq(tf_run(f, &udp), XDP_DROP, "UDP with an active monitor flow");
	cr_expect_eq(dropped(f), 1);
	cr_expect_eq(tf_stats(f).packets, 1, "the flow had its look before the drop");
	cr_expect_eq(tf_fstats(f, 1).passed, 1);
	/* the guard rejects TCP: no flow runs, the packet is dropped all the same */
	cr_assert_eq(tf_run(f, &tcp), XDP_DROP, "TCP with an active monitor flow");
	cr_expect_eq(dropped(f), 2);
	cr_expect_eq(tf_stats(f).packets, 1);
	cr_expect_eq(tf_iface(f).rx_packets, 2);
	ffpf_flow_close(f);
}

Test(monitor, paused_monitor_flow_passes)
{
	struct ffpf_flow *f = mon_flow("count", false);
	struct pkt udp = pkt_udp4(1000, 53, 0);

	cr_assert_eq(tf_run(f, &udp), XDP_PASS, "instantiated, not active: pass");
	cr_expect_eq(dropped(f), 0);
	cr_assert_eq(ffpf_flow_activate(f), 0);
	cr_assert_eq(tf_run(f, &udp), XDP_DROP, "active: drop");
	cr_assert_eq(ffpf_flow_pause(f), 0);
	cr_assert_eq(tf_run(f, &udp), XDP_PASS, "paused: pass");
	cr_expect_eq(dropped(f), 1, "only the packet of the active period");
	cr_expect_eq(tf_iface(f).rx_packets, 3);
	ffpf_flow_close(f);
}

Test(monitor, ordinary_flow_passes)
{
	struct ffpf_flow *f = tf_flow("match(udp) -> count", true);
	struct pkt udp = pkt_udp4(1000, 53, 0);

	cr_expect_eq(f->iface->ctl->monitor, 0);
	cr_assert_eq(tf_run(f, &udp), XDP_PASS);
	cr_expect_eq(tf_stats(f).packets, 1);
	cr_expect_eq(dropped(f), 0);
	ffpf_flow_close(f);
}

Test(monitor, paused_monitor_beside_an_active_ordinary_flow_passes)
{
	struct ffpf_flow *m = mon_flow("count", false);
	struct ffpf_flow *f = tf_flow("match(udp) -> count", true);
	struct pkt udp = pkt_udp4(1000, 53, 0);

	cr_assert_eq(tf_run(f, &udp), XDP_PASS);
	cr_expect_eq(tf_stats(f).packets, 1);
	cr_assert_eq(ffpf_flow_activate(m), 0);
	cr_assert_eq(tf_run(f, &udp), XDP_DROP, "the monitor flow is active now");
	cr_expect_eq(tf_stats(f).packets, 2, "both flows still see the packet");
	cr_expect_eq(tf_stats(m).packets, 1);
	cr_expect_eq(dropped(f), 1);
	ffpf_flow_close(f);
	ffpf_flow_close(m);
}

Test(monitor, close_clears_the_monitor_bit)
{
	struct ffpf_flow *m = mon_flow("count", true);
	struct ffpf_flow *f = tf_flow("count", true);
	struct pkt udp = pkt_udp4(1000, 53, 0);

	cr_assert_eq(tf_run(f, &udp), XDP_DROP);
	ffpf_flow_close(m);
	cr_expect_eq(f->iface->ctl->monitor, 0, "ctl.monitor %#llx after close",
		     (unsigned long long)f->iface->ctl->monitor);
	cr_assert_eq(tf_run(f, &udp), XDP_PASS, "monitor flow closed: pass");
	cr_expect_eq(dropped(f), 1);
	ffpf_flow_close(f);
}

/* Mirror traffic includes broken frames: they are dropped and counted too. */
Test(monitor, truncated_and_malformed_packets_are_dropped_and_counted)
{
	struct ffpf_flow *f = mon_flow("match(udp) -> count", true);
	struct pkt cut = pkt_udp4(1000, 53, 0), bad;
	struct ffpf_iface_stats s;

	pkt_cut(&cut, 14 + 20 + 4);		/* ends inside the UDP header */
	pkt_init(&bad);
	pkt_eth(&bad, PKT_ETH_IP);
	pkt_ipv4(&bad, &(struct ip4){ .proto = PKT_P_UDP, .ihl = 3 });	/* IHL < 5 */
	pkt_udp(&bad, 1000, 53);
	cr_assert_eq(tf_run(f, &cut), XDP_DROP, "truncated: %s", tf_hex(&cut));
	cr_assert_eq(tf_run(f, &bad), XDP_DROP, "malformed: %s", tf_hex(&bad));
	s = tf_iface(f);
	cr_expect_eq(s.monitor_dropped, 2);
	cr_expect_eq(s.truncated, 1);
	cr_expect_eq(s.malformed, 1);
	cr_expect_eq(s.rx_packets, 2);
	ffpf_flow_close(f);
}

Test(monitor, egress_hook_refused)
{
	FFPF_OPTS(ffpf_flow_opts, o, .name = "mon_out", .flags = FFPF_FLOW_MONITOR,
		  .hook = FFPF_HOOK_EGRESS);
	struct ffpf_flow *f;

	tf_log_start();
	f = ffpf_flow_create(TF_IFNAME, &o);
	tf_log_stop();
	cr_assert_null(f, "monitor on egress must be refused");
	cr_expect_eq(errno, EINVAL);
	cr_expect_not_null(strstr(tf_log(), "flow mon_out: monitor mode"), "said '%s'",
			   tf_log());
	cr_expect_not_null(strstr(tf_log(), "egress"), "said '%s'", tf_log());
}

/* Even with the monitor bits set in its control word, the TC root passes. */
Test(monitor, tc_egress_root_never_drops)
{
	struct ffpf_flow *m = mon_flow("count", true);
	struct ffpf_flow *out = tf_flow_on("count", FFPF_HOOK_EGRESS, true);
	struct pkt udp = pkt_udp4(1000, 53, 0);

	out->iface->ctl->monitor = out->iface->ctl->active;
	cr_assert_neq(out->iface->ctl->monitor, 0);
	cr_assert_eq(tf_run(out, &udp), TC_PASS, "egress must leave the packet to the stack");
	cr_expect_eq(tf_stats(out).packets, 1);
	cr_expect_eq(dropped(out), 0);
	cr_assert_eq(tf_run(m, &udp), XDP_DROP, "the ingress root of the same device drops");
	out->iface->ctl->monitor = 0;
	ffpf_flow_close(out);
	ffpf_flow_close(m);
}
