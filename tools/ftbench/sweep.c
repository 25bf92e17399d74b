// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sweep.c - what flowtrack's user-space sweeper costs: a flowtrack flow
 * warmed with 64Ki live flows (table of 128Ki: under the sweeper's
 * eviction mark of 7/8), its tracker in manual mode. Timed:
 * ffpf_ft_sweep() when nothing is due (what every interval costs) and
 * when every flow is due (idle set to 1 ns: each flow ends, with a
 * record), wall clock and this thread's CPU time, the syscalls' kernel
 * time included. The nothing-due sweep again with 1Mi live flows, once a
 * run (closing that flow ends its 1Mi flows one by one: seconds), for how
 * it grows.
 */
#include <stdio.h>
#include "bench.h"

#define N	FTB_64KI
#define SWEEPS	5	/* nothing-due sweeps per round */
/* 1Mi live flows: a table just big enough to stay under 7/8 */
#define BIG_SPEC	"flowtrack(size=1200000)"
/*
 * The tracker's period for the default 30 s idle timeout with @live flows
 * (ffpf_ft_opts.interval_ms in ffpf/ffpf.h): a quarter of the timeout, at
 * most 1 s, plus 1 s per 64Ki live flows, up to a quarter of the timeout.
 */
static double interval_s(__u64 live)
{
	double idle4 = FFPF_FT_IDLE_DEFAULT_NS / 4e9, base = idle4 < 1 ? idle4 : 1;
	double w = base + (double)(live / 65536);

	return w < idle4 ? w : idle4;
}

struct sweep_res {
	double idle_wall, idle_cpu;	/* one sweep, nothing due: seconds */
	double all_wall, all_cpu;	/* one sweep ending all N flows */
};

static void count_record(struct ffpf_flow *f, const struct ffpf_ft_record *rec, void *ctx)
{
	(*(__u64 *)ctx)++;
}

/* Median CPU (and wall) seconds of @sweeps sweeps with nothing due. */
static int sweep_idle(struct ffpf_flow *f, int sweeps, double *cpu, double *wall)
{
	double w[SWEEPS], c[SWEEPS], w0, c0;
	int n;

	for (int i = 0; i < sweeps; i++) {
		w0 = ftb_now();
		c0 = ftb_thread_cpu();
		n = ffpf_ft_sweep(f);
		c[i] = ftb_thread_cpu() - c0;
		w[i] = ftb_now() - w0;
		if (n) {
			fprintf(stderr, "ftbench: sweeper: %d flows ended, none was due\n", n);
			return -1;
		}
	}
	*cpu = ftb_median(c, sweeps);
	*wall = ftb_median(w, sweeps);
	return 0;
}

/* A tracked flow with @live flows in its table; NULL (message printed). */
static struct ffpf_flow *tracked(struct vary_bpf *v, const char *spec, __u32 live,
				 __u64 *records)
{
	struct ffpf_flow *f = ftb_flow(spec);
	FFPF_OPTS(ffpf_ft_opts, o, .on_end = count_record, .ctx = records, .manual = true);

	if (f && (vary_run(v, ftb_flow_prog_fd(f), live, FTB_BASE_WARM, live,
			   VARY_IN_ORDER) < 0 || ftb_ft_counter(f, 0) != live ||
		  ffpf_ft_start(f, &o))) {
		fprintf(stderr, "ftbench: sweeper: warm-up or tracker start failed\n");
		ffpf_flow_close(f);
		return NULL;
	}
	return f;
}

static int sweep_round(struct vary_bpf *v, struct sweep_res *res)
{
	__u64 records = 0;
	struct ffpf_flow *f = tracked(v, "flowtrack(size=131072)", N, &records);
	struct ffpf_flowtrack_mbuf *m;
	double w0, c0;
	int err = -1, n;

	if (!f || sweep_idle(f, SWEEPS, &res->idle_cpu, &res->idle_wall))
		goto out;
	m = ffpf_flow_filter_mbuf(f, 0, NULL);
	__atomic_store_n(&m->cfg.idle_ns, 1, __ATOMIC_RELAXED);
	w0 = ftb_now();
	c0 = ftb_thread_cpu();
	n = ffpf_ft_sweep(f);
	res->all_cpu = ftb_thread_cpu() - c0;
	res->all_wall = ftb_now() - w0;
	if (n != N || records != N) {
		fprintf(stderr, "ftbench: sweeper: %d flows ended, %llu records, not %d\n", n,
			(unsigned long long)records, N);
		goto out;
	}
	err = 0;
out:
	ffpf_flow_close(f);
	return err;
}

/* Nothing-due sweeps with 1Mi live flows: median CPU and wall seconds. */
static int sweep_big(struct vary_bpf *v, double *cpu, double *wall)
{
	__u64 records = 0;
	struct ffpf_flow *f = tracked(v, BIG_SPEC, FTB_1MI, &records);
	int err = f ? sweep_idle(f, 3, cpu, wall) : -1;

	ffpf_flow_close(f);
	return err;
}

int sweep_bench(struct vary_bpf *v, int rounds)
{
	struct sweep_res sw[32];
	double a[4][32], m[4], big_cpu, big_wall;

	for (int r = 0; r < rounds; r++)
		if (sweep_round(v, &sw[r]))
			return -1;
	if (sweep_big(v, &big_cpu, &big_wall))
		return -1;
	for (int r = 0; r < rounds; r++) {
		a[0][r] = sw[r].idle_wall * 1e3;
		a[1][r] = sw[r].idle_cpu * 1e3;
		a[2][r] = sw[r].all_wall * 1e3;
		a[3][r] = sw[r].all_cpu * 1e3;
	}
	for (int i = 0; i < 4; i++)
		m[i] = ftb_median(a[i], rounds);
	printf("| user-space sweeper: one ffpf_ft_sweep() (median of %d) | wall, ms | CPU, ms | "
	       "CPU per flow, ns | CPU at the default interval |\n|---|---:|---:|---:|---:|\n",
	       rounds);
	printf("| %d live flows, nothing due | %.2f | %.2f | %.1f | %.2f%% |\n", N, m[0], m[1],
	       m[1] * 1e6 / N, 100 * m[1] / 1e3 / interval_s(N));
	printf("| %d live flows, nothing due (median of 3, once) | %.2f | %.2f | %.1f | %.2f%% |\n",
	       FTB_1MI, big_wall * 1e3, big_cpu * 1e3, big_cpu * 1e9 / FTB_1MI,
	       100 * big_cpu / interval_s(FTB_1MI));
	printf("| %d live flows, all due: lookup-and-delete, one record each | %.2f | %.2f | "
	       "%.1f | - |\n", N, m[2], m[3], m[3] * 1e6 / N);
	printf("\nDefault interval for the %.0f s idle timeout: %.1f s with %d live flows, "
	       "%.1f s with %d.\n\n", FFPF_FT_IDLE_DEFAULT_NS / 1e9, interval_s(N), N,
	       interval_s(FTB_1MI), FTB_1MI);
	return 0;
}
