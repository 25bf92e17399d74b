// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ffpf-ftbench: in-kernel cost per packet of flow tracking with many live
 * flows (issue 4), next to a bare LRU lookup-or-insert and a bpf_timer
 * variant, then the cost of ending flows: user-space sweeper (sweep.c) or
 * bpf_timer (timers.c).
 *
 *   build/ffpf-ftbench [ROUNDS] [REPEAT]        (root; runs in a private netns on lo)
 *
 * BPF_PROG_TEST_RUN repeats one packet; the vary program (vary.bpf.c) in
 * front of every row, baselines included, makes each packet one of N
 * flows. Every row is set up afresh, warmed (its flows put in the table by
 * one pass in order), measured (REPEAT packets visiting the N flows in a
 * scattered order, as interleaved traffic does), checked with the table's
 * own counters (the warm-up inserted N flows, the measured run created
 * none, or one per packet where it should), and torn down. Rows are
 * interleaved over ROUNDS rounds; medians are printed with the range.
 *
 * The machine drifts between runs: compare rows of one run, not runs.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "privnet.h"
#include "bench.h"
#include "lru.skel.h"
#include "timer.skel.h"

enum target_kind { T_ROOT, T_PARSE, T_LRU, T_PLAIN, T_LAZY, T_REARM };

/* What the table's counters must say about the measured run. */
enum expect {
	X_NONE,		/* no table */
	X_HITS,		/* every packet found its flow: nothing created or refused */
	X_NEW,		/* every packet created a flow */
	X_REFUSED,	/* every packet was a new flow the full table refused */
};

struct row {
	const char *name;
	enum target_kind target;
	const char *spec;	/* T_ROOT: the ffpf flow */
	__u32 size;		/* bare tables: entries */
	__u32 live;		/* flows put in the table before the measured run */
	__u32 flows;		/* distinct flows of the measured run */
	__u32 base;		/* their source addresses */
	enum expect expect;
	__u32 tables;		/* X_NEW: runs, each on a fresh table (0: one) */
};

#define WARM	FTB_BASE_WARM
#define FRESH	FTB_BASE_FRESH
#define K64	FTB_64KI
#define K128	FTB_128KI
#define M1	FTB_1MI
/*
 * 128 flows: the table stays in the CPU's caches, so what is left is the
 * code. It is also as many live bpf_timers as this VM allows
 * (bpf_timer_init() fails with -ENOMEM after a few hundred, see
 * docs/flowtrack.md): new flows with timers are measured 128 at a time on
 * fresh tables, and so are those without, for the difference.
 */
#define C128	128
#define TABLES	32

/* The rows, in the order they run and print. */
enum {
	R_COUNT, R_PARSE,					/* baselines */
	R_FT_C, R_LRU_C, R_HASH_C, R_LAZY_C, R_REARM_C,		/* hits, 128 flows */
	R_FT, R_LRU, R_HASH,					/* hits, 64Ki flows */
	R_FT_1M, R_LRU_1M,					/* hits, 1Mi flows */
	R_FT_NEW, R_FT_NEW_IX, R_LRU_NEW, R_HASH_NEW, R_HASH_NEW_C,	/* new flows */
	R_TIMER_NEW_C,
	R_FT_FULL, R_LRU_FULL,					/* new flows, table full */
	NROWS
};

static const struct row rows[NROWS] = {
	[R_COUNT] = { "root: count (baseline of flowtrack)", T_ROOT, "count",
		      .flows = K64, .base = WARM, .expect = X_NONE },
	[R_PARSE] = { "bare: 5-tuple parse only (baseline of the bare tables)", T_PARSE,
		      .flows = K64, .base = WARM, .expect = X_NONE },

	[R_FT_C] = { "root: flowtrack(size=256), 128 live flows (hits)", T_ROOT,
		     "flowtrack(size=256)", 0, C128, C128, WARM, X_HITS },
	[R_LRU_C] = { "bare: LRU 256, 128 live flows (hits)", T_LRU, NULL, 2 * C128, C128, C128,
		      WARM, X_HITS },
	[R_HASH_C] = { "bare: hash 256, 128 live flows (hits)", T_PLAIN, NULL, 2 * C128, C128,
		       C128, WARM, X_HITS },
	[R_LAZY_C] = { "bare: hash 256 + bpf_timer, 128 live flows, lazy (hits)", T_LAZY, NULL,
		       2 * C128, C128, C128, WARM, X_HITS },
	[R_REARM_C] = { "bare: hash 256 + bpf_timer, 128 live flows, re-armed every packet "
			"(hits)", T_REARM, NULL, 2 * C128, C128, C128, WARM, X_HITS },

	[R_FT] = { "root: flowtrack, 64Ki table, 64Ki live flows (hits)", T_ROOT, "flowtrack",
		   0, K64, K64, WARM, X_HITS },
	[R_LRU] = { "bare: LRU 64Ki, 64Ki live flows (hits)", T_LRU, NULL, K64, K64, K64, WARM,
		    X_HITS },
	[R_HASH] = { "bare: hash 64Ki, 64Ki live flows (hits)", T_PLAIN, NULL, K64, K64, K64,
		     WARM, X_HITS },

	[R_FT_1M] = { "root: flowtrack(size=1048576), 1Mi live flows (hits)", T_ROOT,
		      "flowtrack(size=1048576)", 0, M1, M1, WARM, X_HITS },
	[R_LRU_1M] = { "bare: LRU 1Mi, 1Mi live flows (hits)", T_LRU, NULL, M1, M1, M1, WARM,
		       X_HITS },

	[R_FT_NEW] = { "root: flowtrack(size=131072), 64Ki new flows", T_ROOT,
		       "flowtrack(size=131072)", 0, 0, K64, WARM, X_NEW },
	[R_FT_NEW_IX] = { "root: flowtrack(size=131072, index=1), 64Ki new flows", T_ROOT,
			  "flowtrack(size=131072, index=1)", 0, 0, K64, WARM, X_NEW },
	[R_LRU_NEW] = { "bare: LRU 128Ki, 64Ki new flows", T_LRU, NULL, K128, 0, K64, WARM,
			X_NEW },
	[R_HASH_NEW] = { "bare: hash 128Ki, 64Ki new flows", T_PLAIN, NULL, K128, 0, K64, WARM,
			 X_NEW },
	[R_HASH_NEW_C] = { "bare: hash 256, 128 new flows (x32 fresh tables)", T_PLAIN, NULL,
			   2 * C128, 0, C128, WARM, X_NEW, TABLES },
	[R_TIMER_NEW_C] = { "bare: hash 256 + bpf_timer, 128 new flows (x32 fresh tables)",
			    T_LAZY, NULL, 2 * C128, 0, C128, WARM, X_NEW, TABLES },

	[R_FT_FULL] = { "root: flowtrack, 64Ki table full, a new flow every packet (refused)",
			T_ROOT, "flowtrack", 0, K64, K64, FRESH, X_REFUSED },
	[R_LRU_FULL] = { "bare: LRU 64Ki full, a new flow every packet (evicts)", T_LRU, NULL,
			 K64, K64, K64, FRESH, X_NEW },
};

/* One row, set up: what the vary program jumps to, and its table. */
struct target {
	struct ffpf_flow *flow;
	struct lru_bpf *lru;
	struct timer_bpf *timer;
	int prog_fd;
	int table_fd;		/* -1: no table */
	int cnt_fd;		/* bare programs: their counters */
	__u32 vsize;
};

struct counts {
	__u64 created, refused;
	long entries;
};

static int target_open(const struct row *r, struct target *t)
{
	memset(t, 0, sizeof(*t));
	t->table_fd = t->cnt_fd = -1;
	t->vsize = sizeof(struct ffpf_ft_flow);
	switch (r->target) {
	case T_ROOT:
		t->flow = ftb_flow(r->spec);
		if (!t->flow)
			return -1;
		t->prog_fd = ftb_flow_prog_fd(t->flow);
		if (strstr(r->spec, "flowtrack"))
			t->table_fd = ftb_ft_table_fd(t->flow);
		return 0;
	case T_PARSE:
	case T_LRU:
		t->lru = lru_bpf__open();
		if (!t->lru || bpf_map__set_max_entries(t->lru->maps.ftb_lru, r->size ? r->size : 1) ||
		    lru_bpf__load(t->lru))
			break;
		t->prog_fd = bpf_program__fd(r->target == T_LRU ? t->lru->progs.ftb_lru_track
								  : t->lru->progs.ftb_parse);
		t->cnt_fd = bpf_map__fd(t->lru->maps.ftb_cnt);
		if (r->target == T_LRU)
			t->table_fd = bpf_map__fd(t->lru->maps.ftb_lru);
		return 0;
	default:
		t->timer = timer_bpf__open();
		if (!t->timer ||
		    bpf_map__set_max_entries(t->timer->maps.ftt_plain,
					     r->target == T_PLAIN ? r->size : 1) ||
		    bpf_map__set_max_entries(t->timer->maps.ftt_timed,
					     r->target == T_PLAIN ? 1 : r->size) ||
		    timer_bpf__load(t->timer))
			break;
		t->prog_fd = bpf_program__fd(r->target == T_PLAIN ? t->timer->progs.ftt_plain_track :
					     r->target == T_LAZY ? t->timer->progs.ftt_timer_lazy :
					     t->timer->progs.ftt_timer_rearm);
		t->cnt_fd = bpf_map__fd(t->timer->maps.ftb_cnt);
		t->table_fd = bpf_map__fd(r->target == T_PLAIN ? t->timer->maps.ftt_plain :
					  t->timer->maps.ftt_timed);
		if (r->target != T_PLAIN)
			t->vsize = bpf_map__value_size(t->timer->maps.ftt_timed);
		return 0;
	}
	fprintf(stderr, "ftbench: cannot load the bare programs: %s\n", strerror(errno));
	return -1;
}

static void target_close(struct target *t)
{
	ffpf_flow_close(t->flow);
	lru_bpf__destroy(t->lru);
	timer_bpf__destroy(t->timer);
}

/*
 * Flows created and refused so far (entries in the table if @entries);
 * -EAGAIN if a bpf_timer could not be armed.
 */
static int target_counts(const struct target *t, struct counts *c, bool entries)
{
	struct ftb_counters bc;

	c->entries = entries && t->table_fd >= 0 ? ftb_count_entries(t->table_fd, t->vsize) : -1;
	if (t->flow) {
		c->created = t->table_fd >= 0 ? ftb_ft_counter(t->flow, 0) : 0;
		c->refused = t->table_fd >= 0 ? ftb_ft_counter(t->flow, 1) : 0;
		return 0;
	}
	if (ftb_counters_sum(t->cnt_fd, &bc))
		return -1;
	if (bc.timer_err)	/* bpf_timer_init() found no memory: run it again */
		return -EAGAIN;
	c->created = bc.created;
	c->refused = bc.failed;
	return 0;
}

static int checks_failed;

static bool check(const struct row *r, bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "ftbench: %s: %s\n", r->name, what);
		checks_failed++;
	}
	return ok;
}

struct result {
	double ns;
	struct counts warm;	/* after the warm-up */
	struct counts run;	/* what the measured run added; entries after it */
};

/* One table: set up, warm, measure, check, tear down. */
static int measure_one(struct vary_bpf *v, const struct row *r, __u32 repeat,
		       struct result *res)
{
	struct counts c0, c1;
	struct target t;
	int err = -1;

	if (target_open(r, &t))
		return -1;
	memset(res, 0, sizeof(*res));
	if (r->live) {
		/* one pass over the flows: every one of them inserted */
		if (vary_run(v, t.prog_fd, r->live, FTB_BASE_WARM, r->live,
			     VARY_IN_ORDER) < 0 ||
		    (err = target_counts(&t, &res->warm, true)))
			goto out;
		check(r, res->warm.created == r->live && res->warm.refused == 0 &&
		      res->warm.entries == r->live, "warm-up did not insert every flow");
	}
	if ((err = target_counts(&t, &c0, false)))
		goto out;
	err = -1;
	res->ns = vary_run(v, t.prog_fd, r->flows, r->base, repeat, VARY_SCATTERED);
	if (res->ns < 0 || (err = target_counts(&t, &c1, true)))
		goto out;
	res->run.created = c1.created - c0.created;
	res->run.refused = c1.refused - c0.refused;
	res->run.entries = c1.entries;
	switch (r->expect) {
	case X_HITS:
		check(r, !res->run.created && !res->run.refused && c1.entries == r->live,
		      "a packet missed its flow");
		break;
	case X_NEW:
		check(r, res->run.created == repeat && !res->run.refused,
		      "not every packet created a flow");
		break;
	case X_REFUSED:
		check(r, !res->run.created && res->run.refused == repeat &&
		      c1.entries == r->live, "not every packet was refused");
		break;
	case X_NONE:
		break;
	}
	err = 0;
out:
	target_close(&t);
	return err;
}

/* Runs done again because a bpf_timer could not be armed; at most RETRIES a table. */
static int timer_retries;
#define RETRIES	16

/* ns per packet of the row (over all its tables); counts of the last table. */
static int measure(struct vary_bpf *v, const struct row *r, __u32 repeat, struct result *res)
{
	__u32 tables = r->tables ? r->tables : 1;
	double sum = 0;
	int err, tries;

	if (r->expect == X_NEW)		/* each packet a flow never seen */
		repeat = r->flows;
	for (__u32 i = 0; i < tables; i++) {
		for (tries = 0; (err = measure_one(v, r, repeat, res)) == -EAGAIN &&
				tries < RETRIES; tries++)
			timer_retries++;
		if (err) {
			if (err == -EAGAIN)
				fprintf(stderr, "ftbench: bpf_timer_init() found no memory "
					"%d times in a row\n", RETRIES + 1);
			return -1;
		}
		sum += res->ns;
	}
	res->ns = sum / tables;
	return 0;
}

static void print_count(long v)
{
	if (v < 0)
		printf(" - |");
	else
		printf(" %ld |", v);
}

static void print_table(struct result res[][32], int rounds, __u32 repeat, double *med)
{
	printf("| scenario (vary -> ...) | ns/packet, median of %d | min - max | packets per run | "
	       "flows in table before | created in run | refused in run | in table after |\n"
	       "|---|---:|---:|---:|---:|---:|---:|---:|\n", rounds);
	for (int s = 0; s < NROWS; s++) {
		const struct result *last = &res[s][rounds - 1];
		double ns[32];

		for (int r = 0; r < rounds; r++)
			ns[r] = res[s][r].ns;
		med[s] = ftb_median(ns, rounds);	/* sorts ns */
		printf("| %s | %.1f | %.0f - %.0f | %u |", rows[s].name, med[s], ns[0],
		       ns[rounds - 1], rows[s].expect == X_NEW ? rows[s].flows : repeat);
		print_count(rows[s].live ? last->warm.entries : -1);
		print_count(rows[s].expect == X_NONE ? -1 : (long)last->run.created);
		print_count(rows[s].expect == X_NONE ? -1 : (long)last->run.refused);
		print_count(last->run.entries);
		printf("\n");
	}
}

/* One line: flowtrack, LRU and (if @hash >= 0) hash, each less its baseline. */
static void print_hits(const char *what, const double *m, int ft, int lru, int hash)
{
	double f = m[ft] - m[R_COUNT], l = m[lru] - m[R_PARSE];

	printf("- %s: flowtrack %.1f ns, bare LRU %.1f ns", what, f, l);
	if (hash >= 0)
		printf(", bare hash %.1f ns", m[hash] - m[R_PARSE]);
	printf(": flowtrack / LRU = %.2f\n", f / l);
}

static void print_figures(const double *m)
{
	printf("\nPer packet, the table's share (row less its baseline: count for flowtrack, "
	       "the parse for the bare tables):\n");
	print_hits("128 live flows (in cache)", m, R_FT_C, R_LRU_C, R_HASH_C);
	print_hits("64Ki live flows", m, R_FT, R_LRU, R_HASH);
	print_hits("1Mi live flows", m, R_FT_1M, R_LRU_1M, -1);
	printf("- new flow, room in the table: flowtrack %.1f ns, bare LRU %.1f ns, "
	       "bare hash %.1f ns\n", m[R_FT_NEW] - m[R_COUNT], m[R_LRU_NEW] - m[R_PARSE],
	       m[R_HASH_NEW] - m[R_PARSE]);
	printf("- new flow, the id index (flowtrack(index=1)): %+.1f ns\n",
	       m[R_FT_NEW_IX] - m[R_FT_NEW]);
	printf("- new flow, table full: flowtrack refuses it in %.1f ns, the LRU evicts and "
	       "inserts in %.1f ns\n", m[R_FT_FULL] - m[R_COUNT], m[R_LRU_FULL] - m[R_PARSE]);
	printf("- bpf_timer: %+.1f ns per new flow (init, set_callback, start, second lookup); "
	       "per packet of a live flow %+.1f ns lazy, %+.1f ns re-armed every packet\n",
	       m[R_TIMER_NEW_C] - m[R_HASH_NEW_C], m[R_LAZY_C] - m[R_HASH_C],
	       m[R_REARM_C] - m[R_HASH_C]);
}

int main(int argc, char **argv)
{
	static struct result res[NROWS][32];
	double med[NROWS];
	struct vary_bpf *v;
	int rounds, repeat, err;

	/* packets, timers and the sweeper: all on CPU 0 */
	err = ffpf_bench_start(argc, argv, &rounds, &repeat);
	if (err)
		return err;
	ffpf_set_print(NULL);
	v = vary_open();
	if (!v)
		return 1;
	for (int r = 0; r < rounds; r++)
		for (int s = 0; s < NROWS; s++)
			if (measure(v, &rows[s], repeat, &res[s][r])) {
				fprintf(stderr, "ftbench: scenario '%s' failed\n", rows[s].name);
				vary_close(v);
				return 1;
			}
	printf("Flow tables in the kernel: BPF_PROG_TEST_RUN behind the vary program, "
	       "%d rounds interleaved\n\n", rounds);
	print_table(res, rounds, repeat, med);
	print_figures(med);
	printf("\nChecks (warm-up inserted every flow, hits created nothing, new flows were "
	       "created or refused one per packet): %s\n", checks_failed ? "FAILED" : "ok");
	printf("bpf_timer rows: %d runs done again because bpf_timer_init() found no memory\n\n",
	       timer_retries);
	err = sweep_bench(v, rounds) || timer_bench(v, rounds);
	vary_close(v);
	return checks_failed || err ? 1 : 0;
}
