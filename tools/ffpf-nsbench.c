// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ffpf-nsbench: in-kernel cost per packet of the datapath, measured with
 * BPF_PROG_TEST_RUN (repeat N) on the root program, scenario by scenario,
 * interleaved over several rounds in one run; prints medians.
 *
 *   build/ffpf-nsbench [ROUNDS] [REPEAT]        (root; runs in a private netns on lo)
 *
 * The machine drifts between runs: compare rows of one run, not runs.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "internal.h"
#include "privnet.h"

#define MAXF FFPF_MAX_FLOWS

struct scenario {
	const char *name;
	int nflows;
	const char *(*spec)(int i, char *buf, size_t len);
	bool active;
};

static const char *spec_count(int i, char *b, size_t l) { return "count"; }
static const char *spec_match_udp(int i, char *b, size_t l) { return "match(udp) -> count"; }
static const char *spec_match_tcp(int i, char *b, size_t l) { return "match(tcp) -> count"; }
static const char *spec_port(int i, char *b, size_t l)
{
	snprintf(b, l, "match(udp, dst port %d) -> count", 1000 + i);
	return b;
}
static const char *spec_port_miss(int i, char *b, size_t l)
{
	snprintf(b, l, "match(udp, dst port %d) -> count", 2000 + i);
	return b;
}
static const char *chain(int n, char *b, size_t l)
{
	size_t off = 0;

	for (int k = 0; k < n; k++)
		off += snprintf(b + off, l - off, "%scount", k ? " -> " : "");
	return b;
}
static const char *spec_chain4(int i, char *b, size_t l) { return chain(4, b, l); }
static const char *spec_chain8(int i, char *b, size_t l) { return chain(8, b, l); }
static const char *spec_chain16(int i, char *b, size_t l) { return chain(16, b, l); }

static const struct scenario scenarios[] = {
	{ "parse only (1 paused flow)",            1,  spec_count,     false },
	{ "1 flow: count",                         1,  spec_count,     true },
	{ "1 flow: count x4",                      1,  spec_chain4,    true },
	{ "1 flow: count x8",                      1,  spec_chain8,    true },
	{ "1 flow: count x16",                     1,  spec_chain16,   true },
	{ "1 flow: match(udp) -> count (accept)",  1,  spec_match_udp, true },
	{ "1 flow: match(tcp) -> count (guarded out)", 1, spec_match_tcp, true },
	{ "16 flows: disjoint ports, 1 accepts",   16, spec_port,      true },
	{ "64 flows: disjoint ports, 1 accepts",   64, spec_port,      true },
	{ "64 flows: disjoint ports, none accepts", 64, spec_port_miss, true },
};
#define NSCEN (int)(sizeof(scenarios) / sizeof(scenarios[0]))

/* Ethernet + IPv4 + UDP to port 1005, 64 bytes on the wire minus FCS. */
static void build_udp(__u8 *f, size_t len)
{
	static const __u8 hdr[] = {
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x30, 0x39, 0x03, 0xed, 0, 26, 0, 0,
	};
	memset(f, 0, len);
	memcpy(f, hdr, sizeof(hdr));
}

static int setup_netns(void)
{
	cpu_set_t set;

	if (ffpf_private_netns())
		return -1;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ns per packet for one scenario, or < 0 on error. */
static double measure(const struct scenario *s, int repeat)
{
	struct ffpf_flow *flows[MAXF] = {0};
	__u8 frame[60];
	char buf[512], name[16];
	double ns = -1;
	int i;

	build_udp(frame, sizeof(frame));
	for (i = 0; i < s->nflows; i++) {
		FFPF_OPTS(ffpf_flow_opts, o, .name = name);

		snprintf(name, sizeof(name), "b%d", i);
		flows[i] = ffpf_flow_create("lo", &o);
		if (!flows[i] || ffpf_flow_populate(flows[i], s->spec(i, buf, sizeof(buf))) ||
		    ffpf_flow_instantiate(flows[i]) ||
		    (s->active && ffpf_flow_activate(flows[i])))
			goto out;
	}
	{
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame,
			    .data_size_in = sizeof(frame), .repeat = repeat);

		if (!bpf_prog_test_run_opts(ffpf_flow_root_prog_fd(flows[0]), &t))
			ns = t.duration;
	}
out:
	for (i = 0; i < s->nflows; i++)
		ffpf_flow_close(flows[i]);
	return ns;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	int repeat = argc > 2 ? atoi(argv[2]) : 1000000;
	double res[NSCEN][32];

	if (rounds < 1 || rounds > 32 || repeat < 1) {
		fprintf(stderr, "usage: %s [ROUNDS 1..32] [REPEAT]\n", argv[0]);
		return 2;
	}
	if (setup_netns())
		return 1;
	ffpf_set_print(NULL);
	/* Interleave: every round runs every scenario once. */
	for (int r = 0; r < rounds; r++)
		for (int s = 0; s < NSCEN; s++)
			if ((res[s][r] = measure(&scenarios[s], repeat)) < 0) {
				fprintf(stderr, "scenario '%s' failed\n", scenarios[s].name);
				return 1;
			}
	printf("| scenario | ns/packet (median of %d x %d) | vs parse only |\n|---|---:|---:|\n",
	       rounds, repeat);
	double base = 0;

	for (int s = 0; s < NSCEN; s++) {
		qsort(res[s], rounds, sizeof(double), cmp_double);
		double med = res[s][rounds / 2];

		if (s == 0)
			base = med;
		printf("| %s | %.1f | %.2fx |\n", scenarios[s].name, med, med / base);
	}
	return 0;
}
