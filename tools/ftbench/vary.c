// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * vary.c - the user half of vary.bpf.c, and the readers every part of the
 * benchmark uses: flows on lo, flowtrack counters, entries in a table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "internal.h"
#include "bench.h"
#include "vary.skel.h"

/* Ethernet + IPv4 + UDP 10.0.0.1:12345 -> 10.0.0.2:1005, 60 bytes (nsbench's). */
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

struct vary_bpf *vary_open(void)
{
	struct vary_bpf *v = vary_bpf__open_and_load();

	if (!v)
		fprintf(stderr, "ftbench: cannot load the vary program: %s\n", strerror(errno));
	return v;
}

void vary_close(struct vary_bpf *v)
{
	vary_bpf__destroy(v);
}

/* Odd, and far from a power of two: consecutive packets land far apart. */
#define VARY_SCATTER	0x9e3779b1u

double vary_run(struct vary_bpf *v, int target_fd, __u32 nflows, __u32 base,
		__u32 repeat, enum vary_order order)
{
	__u32 slot = FTB_SLOT_TARGET;
	__u64 missed = v->bss->ftb_missed, not_ip = v->bss->ftb_not_ip;
	int map = bpf_map__fd(v->maps.ftb_target), err;
	__u8 frame[60];

	build_udp(frame, sizeof(frame));
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = repeat);
	if (bpf_map_update_elem(map, &slot, &target_fd, BPF_ANY)) {
		fprintf(stderr, "ftbench: cannot put the target in ftb_target: %s\n",
			strerror(errno));
		return -1;
	}
	v->bss->ftb_mask = nflows - 1;
	v->bss->ftb_base = base;
	v->bss->ftb_mult = order == VARY_SCATTERED ? VARY_SCATTER : 1;
	err = bpf_prog_test_run_opts(bpf_program__fd(v->progs.ftb_vary), &t) ? -errno : 0;
	/* the slot holds a reference: let the target go with its owner */
	bpf_map_delete_elem(map, &slot);
	if (err || t.retval != XDP_PASS || v->bss->ftb_missed != missed ||
	    v->bss->ftb_not_ip != not_ip) {
		fprintf(stderr, "ftbench: test run failed (%s), verdict %u, %llu missed tail calls\n",
			strerror(-err), t.retval,
			(unsigned long long)(v->bss->ftb_missed - missed));
		return -1;
	}
	return t.duration;
}

struct ffpf_flow *ftb_flow(const char *spec)
{
	FFPF_OPTS(ffpf_flow_opts, o, .name = "ftb");
	struct ffpf_flow *f = ffpf_flow_create("lo", &o);
	int err = f ? 0 : -errno;

	if (!err)
		err = ffpf_flow_populate(f, spec);
	if (!err)
		err = ffpf_flow_instantiate(f);
	if (!err)
		err = ffpf_flow_activate(f);
	if (err) {
		fprintf(stderr, "ftbench: flow '%s': %s\n", spec, strerror(-err));
		ffpf_flow_close(f);
		return NULL;
	}
	return f;
}

int ftb_flow_prog_fd(struct ffpf_flow *f)
{
	return ffpf_flow_root_prog_fd(f);
}

__u64 ftb_ft_counter(struct ffpf_flow *f, int word)
{
	struct ffpf_flowtrack_mbuf *m = ffpf_flow_filter_mbuf(f, 0, NULL);
	__u64 sum = 0;

	for (int c = 0; m && c < FFPF_MBUF_CPUS; c++)
		sum += __atomic_load_n(&m->cpu[c].spare[word], __ATOMIC_RELAXED);
	return sum;
}

int ftb_ft_table_fd(struct ffpf_flow *f)
{
	return ffpf_stage_map_fd(&f->stages[0], "flowtrack_table");
}

#define COUNT_BATCH	8192

long ftb_count_entries(int fd, __u32 value_size)
{
	struct ffpf_ft_key *keys = calloc(COUNT_BATCH, sizeof(*keys));
	void *vals = calloc(COUNT_BATCH, value_size);
	__u32 batch = 0;
	bool first = true;
	long n = -ENOMEM;

	if (!keys || !vals)
		goto out;
	for (n = 0;; first = false) {
		__u32 count = COUNT_BATCH;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals,
					       &count, NULL);

		if (err && errno != ENOENT) {
			n = -errno;
			break;
		}
		n += count;
		if (err)	/* ENOENT: that was the last batch */
			break;
	}
out:
	free(keys);
	free(vals);
	return n;
}

int ftb_counters_sum(int fd, struct ftb_counters *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct ftb_counters *pc;
	__u32 zero = 0;

	if (ncpu < 1 || !(pc = calloc(ncpu, sizeof(*pc))))
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(fd, &zero, pc)) {
		free(pc);
		return -errno;
	}
	for (int c = 0; c < ncpu; c++) {
		out->packets += pc[c].packets;
		out->hits += pc[c].hits;
		out->created += pc[c].created;
		out->failed += pc[c].failed;
		out->timer_err += pc[c].timer_err;
	}
	free(pc);
	return 0;
}

static double clock_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double ftb_now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

double ftb_thread_cpu(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double ftb_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}
