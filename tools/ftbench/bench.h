/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * bench.h - what the user-side files of the flow-table benchmark
 * (tools/ftbench/) share: the vary program and the readers (vary.c), and
 * the two ways of ending flows (sweep.c, timers.c).
 */
#ifndef FFPF_FTBENCH_BENCH_H
#define FFPF_FTBENCH_BENCH_H

#include <stdbool.h>
#include <ffpf/ffpf.h>
#include "ftbench.h"

#define FTB_64KI	65536
#define FTB_128KI	131072
#define FTB_1MI		1048576

/* Source addresses: flows a table is warmed with, flows never in a table. */
#define FTB_BASE_WARM	0x0a010000	/* 10.1.0.0 */
#define FTB_BASE_FRESH	0x0a800000	/* 10.128.0.0 */

struct vary_bpf;

/* Load the vary program; NULL (message printed) on error. */
struct vary_bpf *vary_open(void);
void vary_close(struct vary_bpf *v);

/* Visit order of vary_run(): as inserted, or scattered (vary.bpf.c). */
enum vary_order { VARY_IN_ORDER, VARY_SCATTERED };

/*
 * @repeat test runs of a 60-byte UDP frame, packet k made flow
 * i = k * M % @nflows (a power of two; M from @order) with source address
 * @base + i / 65536, through program @target_fd. Returns ns per packet, or
 * < 0 (message printed) if the run failed or a packet did not reach the
 * target with XDP_PASS.
 */
double vary_run(struct vary_bpf *v, int target_fd, __u32 nflows, __u32 base,
		__u32 repeat, enum vary_order order);

/* A flow on lo with @spec, instantiated and active; NULL (message printed). */
struct ffpf_flow *ftb_flow(const char *spec);
/* The root program of the flow's interface, for vary_run(). */
int ftb_flow_prog_fd(struct ffpf_flow *f);
/* flowtrack counter @word (0: created, 1: table_full) of the flow's filter 0. */
__u64 ftb_ft_counter(struct ffpf_flow *f, int word);
/* The flowtrack table of the flow's filter 0, or < 0. */
int ftb_ft_table_fd(struct ffpf_flow *f);
/* Entries in the hash map @fd (key struct ffpf_ft_key), or < 0. */
long ftb_count_entries(int fd, __u32 value_size);
/* Sum over CPUs of a bare program's per-CPU counters map @fd. */
int ftb_counters_sum(int fd, struct ftb_counters *out);

double ftb_now(void);			/* CLOCK_MONOTONIC, seconds */
double ftb_thread_cpu(void);		/* this thread's CPU time, seconds */
double ftb_median(double *v, int n);	/* sorts @v */

/* Ending flows, each prints its table; 0 or -1 (message printed). */
int sweep_bench(struct vary_bpf *v, int rounds);	/* sweep.c */
int timer_bench(struct vary_bpf *v, int rounds);	/* timers.c */

#endif /* FFPF_FTBENCH_BENCH_H */
