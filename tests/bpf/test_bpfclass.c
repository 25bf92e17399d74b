// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_bpfclass.c - the bpf("EXPR") class as a stage of real flows: each
 * expression is instantiated on the test's private `lo` and every packet
 * (crafted frames and tests/corpus/cbpf-traffic.pcap) is run through the
 * root program; the flow must accept exactly the packets libpcap's
 * bpf_filter() accepts. Then chains with other classes, the stage's
 * counters, the egress (TC) build and what a bad expression says.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "harness.h"
#include "cbpf_compile.h"
#include "cbpf_ref.h"
#include "spec.h"

#define PCAP_FILE	"tests/corpus/cbpf-traffic.pcap"
#define MAX_PKTS	512

TestSuite(bpfclass, .init = tf_setup);

static struct pkt pkts[MAX_PKTS];
static int npkts;

static void add(const uint8_t *b, size_t len)
{
	if (npkts == MAX_PKTS || len < 14 || len > PKT_MAX)
		return;
	pkt_init(&pkts[npkts]);
	memcpy(pkts[npkts].b, b, len);
	pkts[npkts++].len = len;
}

static void on_captured(const uint8_t *b, size_t len, void *arg)
{
	add(b, len);
}

static void load_packets(void)
{
	static const uint8_t flags[] = { TH_SYN, TH_SYN | TH_ACK, TH_ACK, TH_RST | TH_ACK };
	char err[256];
	struct pkt p;

	for (size_t i = 0; i < sizeof(flags); i++) {
		p = pkt_tcp4_ab("10.1.2.3", "192.0.2.80", 40000 + i, i & 1 ? 8080 : 80,
				flags[i], 10 * i);
		add(p.b, p.len);
	}
	p = pkt_tcp4_ab("192.0.2.80", "10.1.2.3", 80, 40000, TH_ACK | TH_PSH, 300);
	add(p.b, p.len);
	p = pkt_udp4_ab("10.0.0.1", "10.0.0.2", 5353, 5353, 40);
	add(p.b, p.len);
	p = pkt_udp4_ab("192.168.1.1", "8.8.8.8", 1234, 53, 30);
	add(p.b, p.len);
	p = pkt_udp4(1500, 2000, 1472);
	add(p.b, p.len);
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IPV6);
	pkt_ipv6(&p, &(struct ip6){ .next = PKT_P_UDP });
	pkt_udp(&p, 53, 5353);
	pkt_payload(&p, 20, 'x');
	add(p.b, p.len);
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_8021Q);
	pkt_vlan(&p, 100, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_TCP });
	pkt_tcp(&p, 1000, 80, TH_SYN, 0);
	add(p.b, p.len);
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_ARP);
	pkt_arp(&p);
	add(p.b, p.len);
	p = pkt_tcp4_ab("10.1.2.3", "192.0.2.80", 40000, 80, TH_ACK, 0);
	pkt_cut(&p, 40);	/* truncated in the TCP header */
	add(p.b, p.len);
	cr_assert_gt(ref_read_pcap(PCAP_FILE, on_captured, NULL, err, sizeof(err)), 0,
		     "%s", err);
}

/* Verdicts of the expressions: each one a flow, every packet through the root. */
static const char *const exprs[] = {
	"", "ip", "ip6", "arp", "tcp", "udp", "icmp", "vlan", "vlan 100",
	"tcp port 80", "tcp dst port 8080", "udp and dst port 5353", "port 53",
	"tcp port 80 and not src net 10.0.0.0/8", "src net 10.0.0.0/8",
	"host 10.0.0.1", "dst host 8.8.8.8", "ip6 and udp", "portrange 5000-6000",
	"tcp[tcpflags] & tcp-syn != 0", "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
	"greater 200", "less 64", "len > 1000", "ether[12:2] = 0x0800",
	"ip[8] < 64", "ip[2:2] > 100 and udp", "udp[8:4] = 0x78787878",
	"ether broadcast or ether multicast", "not ip and not ip6",
	"(tcp or udp) and (port 53 or port 80 or port 443)", "icmp6 or arp",
	"ip and tcp[13] = 0x10", "tcp and ip[6:2] & 0x1fff = 0",
};

static void differential(enum ffpf_hook hook)
{
	long checked = 0, accepted = 0;

	load_packets();
	for (size_t e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
		struct sock_filter *c = NULL;
		char spec[256], err[256];
		struct ffpf_flow *f;
		int n;

		n = ffpf_cbpf_compile_insns(exprs[e], FFPF_BPF_SNAPLEN, &c, err, sizeof(err));
		cr_assert_geq(n, 0, "%s: %s", exprs[e], err);
		snprintf(spec, sizeof(spec), "bpf(\"%s\")", exprs[e]);
		f = tf_flow_on(spec, hook, true);
		for (int i = 0; i < npkts; i++) {
			struct ffpf_flow_stats s0 = tf_stats(f), s1;
			bool want = ref_filter(c, n, pkts[i].b, pkts[i].len) != 0;

			tf_run(f, &pkts[i]);
			s1 = tf_stats(f);
			cr_expect_eq(s1.packets - s0.packets, want,
				     "%s: packet %d accepted %llu times, libpcap says %d (%s)",
				     spec, i, (unsigned long long)(s1.packets - s0.packets),
				     want, tf_hex(&pkts[i]));
			cr_expect_eq(s1.missed, s0.missed, "%s: packet %d: missed tail call",
				     spec, i);
			checked++;
			accepted += want;
		}
		ffpf_flow_close(f);
		free(c);
	}
	cr_log_info("bpfclass: %ld verdicts, %ld accepts", checked, accepted);
	cr_expect_gt(accepted, 0);
	cr_expect_lt(accepted, checked);
}

Test(bpfclass, verdicts_equal_libpcap_ingress_xdp, .timeout = 300)
{
	differential(FFPF_HOOK_INGRESS);
}

Test(bpfclass, verdicts_equal_libpcap_egress_tc, .timeout = 300)
{
	differential(FFPF_HOOK_EGRESS);
}

static struct ffpf_mbuf_cpu sum_cpu(struct ffpf_flow *f, int idx)
{
	const struct ffpf_mbuf_cpu *cpu = ffpf_flow_filter_mbuf(f, idx, NULL);
	struct ffpf_mbuf_cpu s = {};

	cr_assert_not_null(cpu);
	cpu = (const void *)((const char *)cpu + offsetof(struct ffpf_bpf_mbuf, cpu));
	for (int c = 0; c < FFPF_MBUF_CPUS; c++) {
		s.seen += cpu[c].seen;
		s.passed += cpu[c].passed;
		s.bytes += cpu[c].bytes;
	}
	return s;
}

Test(bpfclass, counters_seen_passed_bytes)
{
	struct ffpf_flow *f = tf_flow("bpf(\"udp\") -> count", true);
	struct ffpf_bpf_mbuf *m = ffpf_flow_filter_mbuf(f, 0, NULL);
	struct pkt u = pkt_udp4(1000, 53, 100), t = pkt_tcp4_ab("10.0.0.1", "10.0.0.2",
								1, 2, TH_SYN, 0);
	struct ffpf_mbuf_cpu s;

	cr_assert_not_null(m);
	cr_expect_str_eq(m->cfg.expr, "udp", "the MBuf carries the expression");
	tf_run(f, &u);
	tf_run(f, &t);
	tf_run(f, &u);
	tf_run(f, &t);
	tf_run(f, &t);
	s = sum_cpu(f, 0);
	cr_expect_eq(s.seen, 5);
	cr_expect_eq(s.passed, 2);
	cr_expect_eq(s.bytes, 2 * u.len);
	cr_expect_eq(tf_fstats(f, 0).passed, 2);
	cr_expect_eq(tf_fstats(f, 1).seen, 2, "only udp reaches count");
	cr_expect_eq(tf_fstats(f, 1).bytes, 2 * u.len);
	cr_expect_eq(tf_stats(f).packets, 2);
	cr_expect_eq(tf_stats(f).missed, 0);
	ffpf_flow_close(f);
}

/* Chains: bpf between, after and before other classes, ingress and egress. */
static void chain(enum ffpf_hook hook)
{
	static const struct {
		const char *spec;
		int want;	/* of: dns, web, v6dns */
	} rows[] = {
		{ "match(ip) -> bpf(\"port 53\") -> count", 0x1 },
		{ "bpf(\"udp\") -> count", 0x5 },
		{ "count -> bpf(\"tcp\") -> sample(1) -> bpf(\"dst port 80\")", 0x2 },
		{ "bpf(\"ip or ip6\") -> bpf(\"udp\") -> bpf(\"port 53\")", 0x5 },
		{ "match(udp) -> bpf(\"ip6\")", 0x4 },
		{ "bpf(\"not udp\") -> match(tcp)", 0x2 },
	};
	struct pkt v6;
	const struct pkt *in[3];
	struct pkt dns = pkt_udp4(1000, 53, 20);
	struct pkt web = pkt_tcp4_ab("10.0.0.1", "10.0.0.2", 40000, 80, TH_SYN, 0);

	pkt_init(&v6);
	pkt_eth(&v6, PKT_ETH_IPV6);
	pkt_ipv6(&v6, &(struct ip6){ .next = PKT_P_UDP });
	pkt_udp(&v6, 1000, 53);
	in[0] = &dns, in[1] = &web, in[2] = &v6;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ffpf_flow *f = tf_flow_on(rows[r].spec, hook, true);

		for (int i = 0; i < 3; i++) {
			struct ffpf_flow_stats s0 = tf_stats(f), s1;

			tf_run(f, in[i]);
			s1 = tf_stats(f);
			cr_expect_eq(s1.packets - s0.packets, !!(rows[r].want & 1 << i),
				     "%s: packet %d", rows[r].spec, i);
			cr_expect_eq(s1.missed, 0, "%s: missed tail call", rows[r].spec);
		}
		ffpf_flow_close(f);
	}
}

Test(bpfclass, chained_with_other_classes_ingress)
{
	chain(FFPF_HOOK_INGRESS);
}

Test(bpfclass, chained_with_other_classes_egress)
{
	chain(FFPF_HOOK_EGRESS);
}

Test(bpfclass, bad_expressions_say_why_and_where)
{
	static const struct tf_bad_spec rows[] = {
		{ "count -> bpf(\"tcp prt 80\")",
		  "spec:1:15: bad pcap-filter expression: can't parse filter expression: "
		  "syntax error" },
		{ "bpf(\"tcp port 99999\")",
		  "spec:1:6: bad pcap-filter expression: illegal port number 99999 > 65535" },
		{ "bpf(\"ip protochain 6\")",
		  "spec:1:6: expression not supported by the translator: instruction 19 "
		  "(code 0x05): backward jump" },
		{ "bpf(udp)", "spec:1:5: expected a double-quoted pcap-filter expression" },
	};
	tf_expect_bad_specs(rows, sizeof(rows) / sizeof(rows[0]));
}

Test(bpfclass, stage_program_replaces_the_stub)
{
	struct ffpf_flow *a = tf_flow("bpf(\"tcp\")", true);
	struct ffpf_flow *b = tf_flow("bpf(\"tcp\") -> bpf(\"udp\")", true);
	struct pkt t = pkt_tcp4_ab("10.0.0.1", "10.0.0.2", 1, 2, TH_SYN, 0);

	/* The stub is never loaded: accepting proves the generated program runs. */
	tf_run(a, &t);
	tf_run(a, &t);
	cr_expect_eq(tf_stats(a).packets, 2);
	cr_expect_eq(tf_stats(b).packets, 0, "tcp and udp: never");
	cr_expect_eq(tf_fstats(b, 1).seen, 2, "the tcp stage tail-calls the udp stage");
	cr_expect_eq(tf_stats(b).missed, 0);
	ffpf_flow_close(b);
	ffpf_flow_close(a);
}

/* The generated program is the stage's, named like the class, and dies with the flow. */
Test(bpfclass, generated_program_is_closed_with_the_flow)
{
	struct ffpf_flow *f = tf_flow("bpf(\"udp\") -> count", true);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), id;
	int fd;

	cr_assert_eq(bpf_obj_get_info_by_fd(f->stages[0].prog_fd, &info, &len), 0);
	cr_expect_str_eq(info.name, "ffpf_bpf");
	cr_expect_eq(info.type, BPF_PROG_TYPE_XDP);
	id = info.id;
	ffpf_flow_close(f);
	fd = bpf_prog_get_fd_by_id(id);
	for (int i = 0; fd >= 0 && i < 100; i++) {	/* freed after an RCU grace period */
		close(fd);
		usleep(10000);
		fd = bpf_prog_get_fd_by_id(id);
	}
	cr_expect_lt(fd, 0, "program %u still alive after the flow closed", id);
}
