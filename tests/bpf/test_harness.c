// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_harness.c - the harness itself: each test really runs in a private
 * network namespace, on the CPU whose packet context the tests read, and
 * the packet builder lays headers out where the parser expects them.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/stat.h>
#include "harness.h"

TestSuite(harness, .init = tf_setup, .timeout = 60);

Test(harness, private_netns_with_lo_up_and_pinned_cpu)
{
	char path[64];
	struct stat self, parent;
	struct if_nameindex *ifs = if_nameindex(), *i;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)getppid());
	cr_assert_eq(stat("/proc/self/ns/net", &self), 0);
	cr_assert_eq(stat(path, &parent), 0, "stat %s: %s", path, strerror(errno));
	cr_expect_neq(self.st_ino, parent.st_ino,
		      "the test shares the runner's network namespace");

	cr_assert_not_null(ifs);
	for (i = ifs; i->if_index; i++)
		n++;
	cr_expect_eq(n, 1, "%d interfaces in the test's namespace, want only lo", n);
	cr_expect_str_eq(ifs[0].if_name, "lo");
	if_freenameindex(ifs);

	cr_expect_eq(sched_getcpu(), tf_cpu, "running on CPU %d, pinned to %d",
		     sched_getcpu(), tf_cpu);
}

/* The flow's datapath is attached in the test's namespace, not the host's. */
Test(harness, flow_attaches_to_the_private_lo)
{
	struct ffpf_flow *f = tf_flow("count", true);
	struct pkt p;
	struct ffpf_pkt c;

	cr_expect_str_eq(ffpf_flow_ifname(f), "lo");
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_UDP });
	pkt_udp(&p, 1, 2);
	cr_assert_eq(tf_run(f, &p), 2);
	tf_pctx(f, &c);
	cr_expect_eq(c.seq, 1, "first packet of a fresh datapath has seq %llu",
		     (unsigned long long)c.seq);
	cr_expect_eq(c.len, p.len);
	ffpf_flow_close(f);
}

Test(harness, packet_builder_layout)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_8021AD);
	pkt_vlan(&p, 100, PKT_ETH_8021Q);
	pkt_vlan(&p, 200, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .src = "1.2.3.4", .dst = "5.6.7.8",
				    .proto = PKT_P_UDP, .optlen = 4, .mf = true,
				    .frag_off = 3 });
	pkt_udp(&p, 0x1234, 0x5678);
	pkt_payload(&p, 4, 0xee);
	cr_assert_eq(p.len, 14 + 8 + 24 + 8 + 4);
	cr_expect(p.b[12] == 0x88 && p.b[13] == 0xa8);
	cr_expect(p.b[14] == 0x00 && p.b[15] == 100);
	cr_expect(p.b[16] == 0x81 && p.b[17] == 0x00);
	cr_expect(p.b[18] == 0x00 && p.b[19] == 200);
	cr_expect(p.b[20] == 0x08 && p.b[21] == 0x00);
	cr_expect_eq(p.b[22], 0x46, "version/IHL 0x%02x", p.b[22]);
	cr_expect(p.b[24] == 0 && p.b[25] == 24 + 8 + 4, "IPv4 total length");
	cr_expect(p.b[28] == 0x20 && p.b[29] == 3, "MF and offset 3");
	cr_expect_eq(p.b[31], PKT_P_UDP);
	cr_expect(!memcmp(p.b + 34, "\x01\x02\x03\x04\x05\x06\x07\x08", 8), "addresses");
	cr_expect(p.b[46] == 0x12 && p.b[47] == 0x34 && p.b[48] == 0x56 && p.b[49] == 0x78);
	cr_expect(p.b[50] == 0 && p.b[51] == 12, "UDP length");

	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IPV6);
	pkt_ipv6(&p, &(struct ip6){ .next = PKT_P_HOPOPTS });
	pkt_ip6_ext(&p, PKT_P_FRAGMENT, 1);
	pkt_ip6_frag(&p, PKT_P_TCP, 5, true);
	pkt_tcp(&p, 1, 2, TH_SYN | TH_ACK, 6);
	cr_assert_eq(p.len, 14 + 40 + 16 + 8 + 24);
	cr_expect_eq(p.b[14] >> 4, 6);
	cr_expect(p.b[18] == 0 && p.b[19] == 16 + 8 + 24, "payload length");
	cr_expect_eq(p.b[20], PKT_P_HOPOPTS);
	cr_expect(p.b[54] == PKT_P_FRAGMENT && p.b[55] == 1);
	cr_expect(p.b[70] == PKT_P_TCP && p.b[72] == 0 && p.b[73] == (5 << 3 | 1));
	cr_expect_eq(p.b[78 + 12], 6 << 4, "TCP data offset");
	cr_expect_eq(p.b[78 + 13], TH_SYN | TH_ACK);
	pkt_cut(&p, 20);
	cr_expect_eq(p.len, 20);
	pkt_cut(&p, 200);
	cr_expect_eq(p.len, 20, "cutting beyond the end grows nothing");
}
