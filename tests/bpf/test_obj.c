// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_obj.c - the obj("FILE", "PROG") class: the example user stage
 * (docs/examples/user_stage.bpf.c, built by make tests) run through the
 * root on both hooks, in chains, with its MBuf's counters and live
 * configuration; a stage without an MBuf; and what a bad path, program,
 * map, license or program the verifier refuses says.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"

#define EX	"build/examples/"
#define EVEN	"obj(\"" EX "user_stage.bpf.o\", \"even_port\")"

TestSuite(obj, .init = tf_setup);

struct row {
	struct pkt p;
	bool even;		/* accepted by even_port with cfg.odd = 0 */
	bool odd;		/* ... with cfg.odd = 1 */
};

static int rows(struct row *r)
{
	int n = 0;

	r[n++] = (struct row){ pkt_udp4(1000, 2000, 10), true, false };
	r[n++] = (struct row){ pkt_udp4(1000, 2001, 10), false, true };
	r[n++] = (struct row){ pkt_tcp4_ab("10.0.0.1", "10.0.0.2", 40000, 80, TH_SYN, 0),
			       true, false };
	r[n++] = (struct row){ pkt_tcp4_ab("10.0.0.1", "10.0.0.2", 40000, 443, TH_ACK, 5),
			       false, true };
	pkt_init(&r[n].p);
	pkt_eth(&r[n].p, PKT_ETH_ARP);
	pkt_arp(&r[n].p);
	r[n].even = r[n].odd = false;
	n++;
	pkt_init(&r[n].p);
	pkt_eth(&r[n].p, PKT_ETH_IP);
	pkt_ipv4(&r[n].p, &(struct ip4){ .proto = PKT_P_ICMP });
	pkt_icmp(&r[n].p, 8, 0, 2);	/* dport = echo id 2, but not TCP/UDP */
	r[n].even = r[n].odd = false;
	n++;
	return n;
}

static void verdicts_on(enum ffpf_hook hook)
{
	struct row r[8];
	int n = rows(r);
	struct ffpf_flow *f = tf_flow_on(EVEN, hook, true);
	struct ffpf_mbuf_hdr h;
	__u64 want = 0;

	for (int odd = 0; odd <= 1; odd++) {
		/* the configuration after the counters, written live */
		__u32 *cfg = (__u32 *)((char *)f->stages[0].mbuf +
				       sizeof(struct ffpf_mbuf_cpu) * FFPF_MBUF_CPUS);

		*cfg = odd;
		for (int i = 0; i < n; i++) {
			__u64 before = tf_stats(f).packets;
			bool acc = odd ? r[i].odd : r[i].even;

			tf_run(f, &r[i].p);
			cr_expect_eq(tf_stats(f).packets - before, acc,
				     "odd=%d row %d: %s", odd, i, tf_hex(&r[i].p));
			want += acc;
		}
	}
	h = tf_fstats(f, 0);
	cr_expect_eq(h.seen, 2 * n);
	cr_expect_eq(h.passed, want);
	cr_expect_eq(tf_stats(f).missed, 0);
	ffpf_flow_close(f);
}

Test(obj, verdicts_ingress_xdp)
{
	verdicts_on(FFPF_HOOK_INGRESS);
}

Test(obj, verdicts_egress_tc)
{
	verdicts_on(FFPF_HOOK_EGRESS);
}

Test(obj, chained_match_obj_count)
{
	struct ffpf_flow *f = tf_flow("match(udp) -> " EVEN " -> count", true);
	struct pkt ue = pkt_udp4(1, 2000, 20), uo = pkt_udp4(1, 2001, 20);
	struct pkt te = pkt_tcp4_ab("10.0.0.1", "10.0.0.2", 40000, 80, TH_SYN, 0);

	tf_run(f, &ue);
	tf_run(f, &uo);
	tf_run(f, &te);
	tf_run(f, &ue);
	cr_expect_eq(tf_stats(f).packets, 2);
	cr_expect_eq(tf_stats(f).missed, 0);
	cr_expect_eq(tf_fstats(f, 1).seen, 3, "match(udp) passes 3 to obj");
	cr_expect_eq(tf_fstats(f, 1).passed, 2);
	cr_expect_eq(tf_fstats(f, 1).bytes, 2 * ue.len);
	cr_expect_eq(tf_fstats(f, 2).seen, 2, "obj tail-calls count");
	cr_expect_eq(tf_fstats(f, 2).bytes, 2 * ue.len);
	ffpf_flow_close(f);
}

Test(obj, two_stages_of_one_object_and_no_mbuf)
{
	struct ffpf_flow *f = tf_flow("obj(\"" EX "obj_nombuf.bpf.o\", \"udp_only\") -> "
				      EVEN, true);
	struct ffpf_flow *g = tf_flow("obj(\"" EX "obj_nombuf.bpf.o\", \"reject_all\")", true);
	struct pkt u = pkt_udp4(1, 2000, 20);
	struct pkt t = pkt_tcp4_ab("10.0.0.1", "10.0.0.2", 40000, 80, TH_SYN, 0);

	tf_run(f, &u);
	tf_run(f, &t);
	cr_expect_eq(tf_stats(f).packets, 1);
	cr_expect_eq(tf_stats(g).packets, 0);
	cr_expect_eq(tf_fstats(f, 0).seen, 0, "no MBuf: counters stay zero");
	cr_expect_eq(tf_fstats(f, 1).seen, 1, "udp_only tail-calls even_port");
	ffpf_flow_close(g);
	ffpf_flow_close(f);
}

Test(obj, bad_specs_say_why_and_where)
{
	static const struct tf_bad_spec rows[] = {
		{ "obj(\"" EX "nothere.o\", \"x\")",
		  "spec:1:6: " EX "nothere.o: No such file or directory" },
		{ "count -> obj(\"Makefile\", \"x\")", "is not an ELF object" },
		{ "obj(\"/dev/null\", \"x\")", "spec:1:6: /dev/null is not a regular file" },
		{ "obj(\"" EX "\", \"x\")", "examples is not a regular file" },
		{ "obj(\"" EX "user_stage.bpf.o\", \"nope\")",
		  "has no program 'nope'; it has: even_port" },
		{ "obj(\"" EX "user_stage.bpf.o\", \"even_port\", mbuf=\"zz\")",
		  "has no map 'zz'" },
		{ "obj(\"" EX "obj_badmap.bpf.o\", \"badmap\")",
		  "map ffpf_pctx has the name of an ffpf map but not its type" },
		{ "obj(\"" EX "obj_nolicense.bpf.o\", \"nolicense\")",
		  "has no license section" },
		{ "obj(" EX "user_stage.bpf.o, \"even_port\")",
		  "spec:1:5: expected a double-quoted object file name" },
		{ "obj(\"" EX "user_stage.bpf.o\")", "obj takes a double-quoted object file" },
	};
	tf_expect_bad_specs(rows, sizeof(rows) / sizeof(rows[0]));
}

Test(obj, verifier_refusal_shows_the_log_tail)
{
	struct ffpf_flow *f = NULL;
	int err;

	tf_log_start();
	err = tf_try_flow("obj(\"" EX "obj_bad.bpf.o\", \"oob\")", NULL, &f);
	tf_log_stop();
	cr_expect_lt(err, 0);
	cr_expect_null(f);
	cr_expect_not_null(strstr(tf_log(), "obj: the verifier refused oob"), "said '%s'", tf_log());
	cr_expect_not_null(strstr(tf_log(), "invalid access to map value"), "said '%s'", tf_log());
}

Test(obj, explicit_mbuf_argument)
{
	struct ffpf_flow *f = tf_flow("obj(\"" EX "user_stage.bpf.o\", \"even_port\", "
				      "mbuf=\"even_port_mbuf\")", true);
	struct pkt u = pkt_udp4(1, 2000, 20);
	size_t size = 0;

	tf_run(f, &u);
	cr_expect_eq(tf_stats(f).packets, 1);
	cr_expect_eq(tf_fstats(f, 0).passed, 1);
	cr_expect_not_null(ffpf_flow_filter_mbuf(f, 0, &size));
	cr_expect_geq(size, sizeof(struct ffpf_mbuf_cpu) * FFPF_MBUF_CPUS + 4);
	cr_expect_str_eq(ffpf_flow_filter_class(f, 0), "obj");
	ffpf_flow_close(f);
}
