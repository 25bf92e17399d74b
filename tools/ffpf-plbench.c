// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ffpf-plbench: in-kernel cost per packet of the payload class (issue 5)
 * with 1, 8 and 32 patterns and a search depth of 64, 256 and 1458 bytes,
 * next to a `count` flow on the same frame, measured with
 * BPF_PROG_TEST_RUN (repeat N) on the root program; every row once per
 * round, rounds interleaved, medians printed.
 *
 *   build/ffpf-plbench [ROUNDS] [REPEAT]    (root; runs in a private netns on lo)
 *
 * The frame is Ethernet/IPv4/UDP with 1458 bytes of pseudo-random lowercase
 * text (1500-byte IP packet); the patterns are 8 lowercase letters each and
 * do not occur, so every row searches its whole depth, except the "hit"
 * row, whose pattern starts at payload byte 0. Lowercase text on both
 * sides keeps the automaton off its start state often (partial matches),
 * as real text would.
 *
 * The machine drifts between runs: compare rows of one run, not runs.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "internal.h"	/* ffpf_flow_root_prog_fd() */
#include "privnet.h"

#define PAYLOAD		1458
#define FRAME		(14 + 20 + 8 + PAYLOAD)
#define PATLEN		8

struct row {
	const char *name;
	int npat;		/* 0: count */
	int depth;
	bool hit;		/* the frame starts with pattern 0 */
};

static const struct row rows[] = {
	{ "count (baseline)",                 0,  0,    false },
	{ "payload, 1 pattern, depth 64",     1,  64,   false },
	{ "payload, 8 patterns, depth 64",    8,  64,   false },
	{ "payload, 32 patterns, depth 64",   32, 64,   false },
	{ "payload, 1 pattern, depth 256",    1,  256,  false },
	{ "payload, 8 patterns, depth 256",   8,  256,  false },
	{ "payload, 32 patterns, depth 256",  32, 256,  false },
	{ "payload, 1 pattern, depth 1458",   1,  1458, false },
	{ "payload, 8 patterns, depth 1458",  8,  1458, false },
	{ "payload, 32 patterns, depth 1458", 32, 1458, false },
	{ "payload, 32 patterns, depth 1458, hit at byte 0", 32, 1458, true },
};
#define NROWS (int)(sizeof(rows) / sizeof(rows[0]))

static unsigned seed = 20261123;

static char letter(void)
{
	return 'a' + rand_r(&seed) % 26;
}

static char pats[32][PATLEN + 1];

static void build(__u8 *f, bool hit)
{
	static const __u8 hdr[] = {
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, (FRAME - 14) >> 8, (FRAME - 14) & 0xff, 0, 1, 0, 0, 64, 17, 0, 0,
		10, 0, 0, 1, 10, 0, 0, 2,
		0x30, 0x39, 0x03, 0xed, (8 + PAYLOAD) >> 8, (8 + PAYLOAD) & 0xff, 0, 0,
	};
	unsigned s = 7;

	memcpy(f, hdr, sizeof(hdr));
	for (int i = 0; i < PAYLOAD; i++)
		f[sizeof(hdr) + i] = 'a' + rand_r(&s) % 26;
	if (hit)
		memcpy(f + sizeof(hdr), pats[0], PATLEN);
}

static const char *spec(const struct row *r, char *b, size_t len)
{
	size_t off;

	if (!r->npat)
		return "count";
	off = snprintf(b, len, "payload(");
	for (int i = 0; i < r->npat; i++)
		off += snprintf(b + off, len - off, "\"%s\", ", pats[i]);
	snprintf(b + off, len - off, "depth=%d)", r->depth);
	return b;
}

/* ns per packet, or < 0; *@acc: packets the flow accepted per run. */
static double measure(const struct row *r, int repeat, double *acc)
{
	static __u8 frame[FRAME];
	struct ffpf_flow_stats st = { .sz = sizeof(st) };
	struct ffpf_flow *f = ffpf_flow_create("lo", NULL);
	char buf[1024];
	double ns = -1;

	build(frame, r->hit);
	if (!f || ffpf_flow_populate(f, spec(r, buf, sizeof(buf))) ||
	    ffpf_flow_instantiate(f) || ffpf_flow_activate(f)) {
		ffpf_flow_close(f);
		return -1;
	}
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame, .data_size_in = FRAME,
		    .repeat = repeat);
	if (!bpf_prog_test_run_opts(ffpf_flow_root_prog_fd(f), &t))
		ns = t.duration;
	if (!ffpf_flow_stats(f, &st))
		*acc = (double)st.packets / repeat;
	ffpf_flow_close(f);
	return ns;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	double res[NROWS][32], acc[NROWS] = {0}, base;
	int rounds, repeat, ret = ffpf_bench_start(argc, argv, &rounds, &repeat);

	if (ret)
		return ret;
	ffpf_set_print(NULL);
	for (int i = 0; i < 32; i++) {
		for (int k = 0; k < PATLEN; k++)
			pats[i][k] = letter();
		pats[i][PATLEN] = 0;
	}
	for (int r = 0; r < rounds; r++)
		for (int s = 0; s < NROWS; s++)
			if ((res[s][r] = measure(&rows[s], repeat, &acc[s])) < 0) {
				fprintf(stderr, "row '%s' failed\n", rows[s].name);
				return 1;
			}
	printf("| payload scenario (%d-byte frame, %d-byte patterns) | ns/packet (median of %d x %d) "
	       "| minus count | ns/byte searched | accepted |\n|---|---:|---:|---:|---:|\n",
	       FRAME, PATLEN, rounds, repeat);
	for (int s = 0; s < NROWS; s++) {
		double med;

		qsort(res[s], rounds, sizeof(double), cmp_double);
		med = res[s][rounds / 2];
		if (s == 0)
			base = med;
		printf("| %s | %.1f | %+.1f |", rows[s].name, med, med - base);
		if (rows[s].npat && !rows[s].hit)
			printf(" %.2f |", (med - base) / rows[s].depth);
		else
			printf(" - |");
		printf(" %.0f%% |\n", 100 * acc[s]);
	}
	return 0;
}
