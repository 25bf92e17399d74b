// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * copybench: what handing a copy-mode record (struct ffpf_meta + the first
 * snaplen bytes) to user space costs, per transport (issue 3).
 *
 *   build/copybench/copybench [ROUNDS] [PACKETS]     (root; private netns on lo)
 *
 * Producer: this thread, pinned to CPU 0, runs BPF_PROG_TEST_RUN in a loop
 * (repeat CHUNK per call) until PACKETS packets went through the program.
 * Consumer: a thread pinned to CPU 1 drains the ring(s) meanwhile and checks
 * every record's sequence number and last captured byte. Every variant and
 * frame runs once per round, interleaved; medians over the rounds.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ffpf/abi.h>
#include "copybench.skel.h"
#include "../privnet.h"

#define CHUNK		10000	/* repeat per bpf_prog_test_run_opts call */
#define MAXCPU		64
#define MAXROUNDS	32
#define RB_SIZE		(4 << 20)	/* as in copybench.bpf.c */
#define PERF_PAGES	1024		/* 4 MiB per CPU with 4 KiB pages */
#define SNAP_FULL	1536

enum transport { T_BASE, T_RB, T_RB_CPU, T_PERF };
enum consumer { C_NONE, C_POLL, C_BUSY };

struct variant {
	const char *name;
	enum transport t;
	int wake_mode;		/* 0 adaptive, 1 NO_WAKEUP, 2 FORCE every wake_every */
	int wake_every;
	enum consumer c;
};

static const struct variant variants[] = {
	{ "5 baseline: copy to per-CPU array",		T_BASE,   0, 0,  C_NONE },
	{ "1 ringbuf, adaptive wakeup, poll",		T_RB,     0, 0,  C_POLL },
	{ "2 ringbuf, NO_WAKEUP, busy consume",		T_RB,     1, 0,  C_BUSY },
	{ "2b ringbuf, wakeup every 16th, poll",	T_RB,     2, 16, C_POLL },
	{ "2c ringbuf, wakeup every 64th, poll",	T_RB,     2, 64, C_POLL },
	{ "2d ringbuf, wakeup every 256th, poll",	T_RB,     2, 256, C_POLL },
	{ "3 per-CPU ringbufs, adaptive, poll",		T_RB_CPU, 0, 0,  C_POLL },
	{ "3b per-CPU ringbufs, NO_WAKEUP, busy",	T_RB_CPU, 1, 0,  C_BUSY },
	{ "4 perf_event_output, perf_buffer poll",	T_PERF,   0, 0,  C_POLL },
};
#define NVAR (int)(sizeof(variants) / sizeof(variants[0]))

struct frame_case {
	int len;
	int snap;
	const char *name;
};

static const struct frame_case cases[] = {
	{ 64,   128,       "64 B, snap 128" },
	{ 64,   SNAP_FULL, "64 B, full" },
	{ 1500, 128,       "1500 B, snap 128" },
	{ 1500, SNAP_FULL, "1500 B, full" },
};
#define NCASE (int)(sizeof(cases) / sizeof(cases[0]))

struct result {
	double prod_ns;		/* kernel-timed ns per packet (test_run duration) */
	double prod_wall_ns;	/* wall ns per packet, syscalls included */
	double cons_mrps;	/* records received per second while producing (M) */
	__u64 produced, received, lost, perf_lost, gaps, bad, backlog;
};

/* Consumer state, reset per measurement. */
static struct {
	_Atomic int stop;
	enum consumer mode;
	struct ring_buffer *rb;
	struct perf_buffer *pb;
	__u8 frame[SNAP_FULL];
	__u32 snap;
	_Atomic __u64 received;
	__u64 gaps, bad, perf_lost;
	__u64 expect[MAXCPU];
} cons;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Checks one record: sequence number per CPU, length, last captured byte. */
static void check(const void *data, size_t size)
{
	const struct ffpf_meta *m = data;
	__u32 cpu, cap;
	__u64 seq;

	if (size < sizeof(*m)) {
		cons.bad++;
		goto out;
	}
	cpu = m->matched >> 56;
	seq = m->matched & ((1ULL << 56) - 1);
	cap = m->wire_len < cons.snap ? m->wire_len : cons.snap;
	if (cpu >= MAXCPU || size < sizeof(*m) + cap || cap < 1 ||
	    ((const __u8 *)data)[sizeof(*m) + cap - 1] != cons.frame[cap - 1]) {
		cons.bad++;
		goto out;
	}
	if (seq != cons.expect[cpu]) {
		if (seq > cons.expect[cpu])
			cons.gaps += seq - cons.expect[cpu];
		else
			cons.bad++;	/* duplicate or reordered */
	}
	cons.expect[cpu] = seq + 1;
out:
	atomic_store_explicit(&cons.received, cons.received + 1, memory_order_relaxed);
}

static int rb_cb(void *ctx, void *data, size_t size)
{
	check(data, size);
	return 0;
}

static void perf_cb(void *ctx, int cpu, void *data, __u32 size)
{
	check(data, size);
}

static void perf_lost_cb(void *ctx, int cpu, __u64 cnt)
{
	cons.perf_lost += cnt;
}

static void *consumer(void *arg)
{
	pin(1);
	while (!atomic_load(&cons.stop)) {
		if (cons.pb)
			perf_buffer__poll(cons.pb, 10);
		else if (cons.mode == C_BUSY)
			ring_buffer__consume(cons.rb);
		else
			ring_buffer__poll(cons.rb, 10);
	}
	/* Drain what is left (records not yet woken for). */
	if (cons.pb)
		perf_buffer__consume(cons.pb);
	else
		ring_buffer__consume(cons.rb);
	return NULL;
}

/* Ethernet + IPv4 + UDP header, then a byte pattern. */
static void build_frame(__u8 *f, int len)
{
	static const __u8 hdr[] = {
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x30, 0x39, 0x03, 0xed, 0, 26, 0, 0,
	};
	for (int i = 0; i < len; i++)
		f[i] = (__u8)(i * 7 + 3);
	memcpy(f, hdr, sizeof(hdr));
	f[16] = (len - 14) >> 8;
	f[17] = (len - 14) & 0xff;
}

static __u64 percpu_sum_reset(int fd, int ncpu)
{
	__u64 v[MAXCPU] = {0}, sum = 0;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(fd, &zero, v))
		return ~0ULL;
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	memset(v, 0, sizeof(v));
	bpf_map_update_elem(fd, &zero, v, BPF_ANY);
	return sum;
}

static int measure(struct copybench *skel, struct ring_buffer *rb, struct ring_buffer *rb_cpu,
		   struct perf_buffer *pb, int ncpu, const struct variant *v,
		   const struct frame_case *fc, __u64 packets, struct result *res)
{
	int prog_fd, err = 0;
	pthread_t th;
	double t0, t1, kern = 0;
	__u64 done = 0;

	switch (v->t) {
	case T_BASE:   prog_fd = bpf_program__fd(skel->progs.cb_base); break;
	case T_RB:     prog_fd = bpf_program__fd(skel->progs.cb_rb_out); break;
	case T_RB_CPU: prog_fd = bpf_program__fd(skel->progs.cb_rb_cpu_out); break;
	default:       prog_fd = bpf_program__fd(skel->progs.cb_perf_out); break;
	}
	skel->bss->snaplen = fc->snap;
	skel->bss->wake_mode = v->wake_mode;
	skel->bss->wake_every = v->wake_every;
	percpu_sum_reset(bpf_map__fd(skel->maps.cb_seq), ncpu);
	percpu_sum_reset(bpf_map__fd(skel->maps.cb_lost), ncpu);

	memset(cons.expect, 0, sizeof(cons.expect));
	cons.stop = 0;
	cons.received = 0;
	cons.gaps = cons.bad = cons.perf_lost = 0;
	cons.snap = fc->snap;
	cons.mode = v->c;
	cons.rb = v->t == T_RB ? rb : rb_cpu;
	cons.pb = v->t == T_PERF ? pb : NULL;
	build_frame(cons.frame, fc->len);

	if (v->c != C_NONE && pthread_create(&th, NULL, consumer, NULL))
		return -1;
	usleep(2000);	/* let the consumer reach its loop */

	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = cons.frame,
		    .data_size_in = fc->len, .repeat = CHUNK);
	t0 = now_ns();
	while (done < packets) {
		t.duration = 0;
		if (bpf_prog_test_run_opts(prog_fd, &t)) {
			err = -errno;
			break;
		}
		if (t.retval != XDP_PASS) {
			err = -EINVAL;
			break;
		}
		kern += (double)t.duration * CHUNK;
		done += CHUNK;
	}
	t1 = now_ns();
	__u64 rcv_at_stop = atomic_load(&cons.received);

	if (v->c != C_NONE) {
		cons.stop = 1;
		pthread_join(th, NULL);
	}
	res->produced = done;
	res->prod_ns = kern / done;
	res->prod_wall_ns = (t1 - t0) / done;
	res->received = cons.received;
	res->cons_mrps = rcv_at_stop / ((t1 - t0) / 1e9) / 1e6;
	res->backlog = cons.received - rcv_at_stop;
	/* A failed bpf_perf_event_output() is also a perf "lost" event: kept apart, not summed. */
	res->lost = percpu_sum_reset(bpf_map__fd(skel->maps.cb_lost), ncpu);
	res->perf_lost = cons.perf_lost;
	/* Records lost after the last one received leave no gap behind them: count them too. */
	{
		__u64 seq[MAXCPU] = {0};
		__u32 zero = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.cb_seq), &zero, seq))
			return -errno;
		for (int i = 0; i < ncpu; i++)
			if (seq[i] > cons.expect[i])
				cons.gaps += seq[i] - cons.expect[i];
	}
	res->gaps = cons.gaps;
	res->bad = cons.bad;
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static struct result res[NCASE][NVAR][MAXROUNDS];

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	long long packets = argc > 2 ? atoll(argv[2]) : 1000000;
	int ncpu = libbpf_num_possible_cpus(), ok = 1;
	struct ring_buffer *rb = NULL, *rb_cpu = NULL;
	struct perf_buffer *pb = NULL;
	struct copybench *skel;
	int inner[MAXCPU];

	if (rounds < 1 || rounds > MAXROUNDS || packets < CHUNK) {
		fprintf(stderr, "usage: %s [ROUNDS 1..%d] [PACKETS >= %d]\n", argv[0],
			MAXROUNDS, CHUNK);
		return 2;
	}
	if (ncpu < 2 || ncpu > MAXCPU) {
		fprintf(stderr, "need 2..%d CPUs, have %d\n", MAXCPU, ncpu);
		return 1;
	}
	packets = (packets + CHUNK - 1) / CHUNK * CHUNK;
	if (ffpf_private_netns())
		return 1;
	pin(0);

	skel = copybench__open();
	if (!skel)
		return 1;
	bpf_map__set_max_entries(skel->maps.cb_rb_cpu, ncpu);
	if (copybench__load(skel)) {
		fprintf(stderr, "load failed\n");
		return 1;
	}
	for (int i = 0; i < ncpu; i++) {
		__u32 k = i;

		inner[i] = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "cb_rb_inner", 0, 0, RB_SIZE, NULL);
		if (inner[i] < 0 ||
		    bpf_map_update_elem(bpf_map__fd(skel->maps.cb_rb_cpu), &k, &inner[i], BPF_ANY)) {
			fprintf(stderr, "per-CPU ring %d: %s\n", i, strerror(errno));
			return 1;
		}
		if (!i)
			rb_cpu = ring_buffer__new(inner[i], rb_cb, NULL, NULL);
		else if (ring_buffer__add(rb_cpu, inner[i], rb_cb, NULL))
			rb_cpu = NULL;
		if (!rb_cpu) {
			fprintf(stderr, "ring_buffer for CPU %d failed\n", i);
			return 1;
		}
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.cb_rb), rb_cb, NULL, NULL);
	pb = perf_buffer__new(bpf_map__fd(skel->maps.cb_perf), PERF_PAGES, perf_cb,
			      perf_lost_cb, NULL, NULL);
	if (!rb || !pb) {
		fprintf(stderr, "ring_buffer/perf_buffer: %s\n", strerror(errno));
		return 1;
	}

	for (int r = 0; r < rounds; r++)
		for (int c = 0; c < NCASE; c++)
			for (int v = 0; v < NVAR; v++)
				if (measure(skel, rb, rb_cpu, pb, ncpu, &variants[v], &cases[c],
					    packets, &res[c][v][r])) {
					fprintf(stderr, "%s / %s failed\n", cases[c].name,
						variants[v].name);
					return 1;
				}

	printf("copybench: %d rounds x %lld packets per cell, producer CPU 0 (BPF_PROG_TEST_RUN, "
	       "repeat %d per call), consumer CPU 1; medians; loss/gap/bad columns are sums over "
	       "all rounds\n\n", rounds, packets, CHUNK);
	printf("| frame | variant | producer ns/pkt (min-max) | wall ns/pkt | consumer Mrec/s | "
	       "lost (BPF) | perf lost events | gaps | bad | received+lost = sent |\n"
	       "|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
	for (int c = 0; c < NCASE; c++)
		for (int v = 0; v < NVAR; v++) {
			double p[MAXROUNDS], w[MAXROUNDS], m[MAXROUNDS];
			__u64 lost = 0, plost = 0, gaps = 0, bad = 0, rcv = 0, sent = 0;
			int accounted = 1;

			for (int r = 0; r < rounds; r++) {
				struct result *x = &res[c][v][r];

				p[r] = x->prod_ns;
				w[r] = x->prod_wall_ns;
				m[r] = x->cons_mrps;
				lost += x->lost;
				plost += x->perf_lost;
				gaps += x->gaps;
				bad += x->bad;
				rcv += x->received;
				sent += x->produced;
				if (variants[v].c != C_NONE &&
				    (x->received + x->lost != x->produced || x->gaps != x->lost))
					accounted = 0;
			}
			double med = median(p, rounds);	/* sorts p */
			char pl[32] = "-";

			if (variants[v].t == T_PERF)
				snprintf(pl, sizeof(pl), "%llu", (unsigned long long)plost);
			if (variants[v].c == C_NONE)
				printf("| %s | %s | %.1f (%.0f-%.0f) | %.1f | - | %llu | - | - | - | (no consumer) |\n",
				       cases[c].name, variants[v].name, med, p[0], p[rounds - 1],
				       median(w, rounds), (unsigned long long)lost);
			else
				printf("| %s | %s | %.1f (%.0f-%.0f) | %.1f | %.2f | %llu | %s | %llu | %llu | %s |\n",
				       cases[c].name, variants[v].name, med, p[0], p[rounds - 1],
				       median(w, rounds), median(m, rounds),
				       (unsigned long long)lost, pl, (unsigned long long)gaps,
				       (unsigned long long)bad, accounted ? "yes" : "NO");
			if (!accounted || bad)
				ok = 0;
			(void)rcv; (void)sent;
		}

	perf_buffer__free(pb);
	ring_buffer__free(rb);
	ring_buffer__free(rb_cpu);
	for (int i = 0; i < ncpu; i++)
		close(inner[i]);
	copybench__destroy(skel);
	return ok ? 0 : 3;
}
