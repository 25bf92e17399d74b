// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ffpf-nsbench: in-kernel cost per packet of the datapath, measured with
 * BPF_PROG_TEST_RUN (repeat N) on the root program, scenario by scenario,
 * interleaved over several rounds in one run; prints medians.
 *
 *   build/ffpf-nsbench [ROUNDS] [REPEAT]        (root; runs in a private netns on lo)
 *
 * Copy-mode rows (issue 3) include the hand-over to user space: the
 * library's receive thread and a reader thread that releases every packet
 * run on CPU 1 while the packets run on CPU 0; "to user" is the share of
 * the flows' packets their readers got (the rest is counted as lost in the
 * ring, no frame, or IBuf full).
 *
 * The "bare" rows run tools/bench/chain.bpf.c: the same parse and count
 * stages chained by constant-index tail calls, without the framework.
 *
 * The machine drifts between runs: compare rows of one run, not runs.
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
#include "internal.h"
#include "privnet.h"
#include "chain.skel.h"

#define MAXF FFPF_MAX_FLOWS

struct scenario {
	const char *name;
	int nflows;
	const char *(*spec)(int i, char *buf, size_t len);
	bool active;
	enum ffpf_rx_mode rx;
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
/* n - 1 alternatives the UDP packet fails (each a fail_slot hop), then count */
static const char *alt(int n, char *b, size_t l)
{
	size_t off = 0;

	for (int k = 0; k < n - 1; k++)
		off += snprintf(b + off, l - off, "match(tcp) | ");
	snprintf(b + off, l - off, "count");
	return b;
}
static const char *spec_alt4(int i, char *b, size_t l) { return alt(4, b, l); }
static const char *spec_alt8(int i, char *b, size_t l) { return alt(8, b, l); }
static const char *spec_alt16(int i, char *b, size_t l) { return alt(16, b, l); }

static const struct scenario scenarios[] = {
	{ "parse only (1 paused flow)",            1,  spec_count,     false, FFPF_RX_NONE },
	{ "1 flow: count",                         1,  spec_count,     true, FFPF_RX_NONE },
	{ "1 flow: count x4",                      1,  spec_chain4,    true, FFPF_RX_NONE },
	{ "1 flow: count x8",                      1,  spec_chain8,    true, FFPF_RX_NONE },
	{ "1 flow: count x16",                     1,  spec_chain16,   true, FFPF_RX_NONE },
	{ "1 flow: 4 alternatives, the 4th accepts", 1,  spec_alt4,      true, FFPF_RX_NONE },
	{ "1 flow: 8 alternatives, the 8th accepts", 1,  spec_alt8,      true, FFPF_RX_NONE },
	{ "1 flow: 16 alternatives, the 16th accepts", 1,  spec_alt16,     true, FFPF_RX_NONE },
	{ "1 flow: match(udp) -> count (accept)",  1,  spec_match_udp, true, FFPF_RX_NONE },
	{ "1 flow: match(tcp) -> count (guarded out)", 1, spec_match_tcp, true, FFPF_RX_NONE },
	{ "16 flows: disjoint ports, 1 accepts",   16, spec_port,      true, FFPF_RX_NONE },
	{ "64 flows: disjoint ports, 1 accepts",   64, spec_port,      true, FFPF_RX_NONE },
	{ "64 flows: disjoint ports, none accepts", 64, spec_port_miss, true, FFPF_RX_NONE },
	{ "1 flow: count, copy to user space",     1,  spec_count,     true, FFPF_RX_COPY },
	{ "2 flows: count, all accept, copy to user space", 2, spec_count, true, FFPF_RX_COPY },
	{ "4 flows: count, all accept, copy to user space", 4, spec_count, true, FFPF_RX_COPY },
};
#define NSCEN (int)(sizeof(scenarios) / sizeof(scenarios[0]))

/* The same work without the framework (make bench, group 5): rows after
 * the scenarios, in every round. */
static const struct { const char *name; int stages; } bare_rows[] = {
	{ "bare: parse only", 0 },
	{ "bare: parse + count", 1 },
	{ "bare: parse + count x4", 4 },
	{ "bare: parse + count x8", 8 },
	{ "bare: parse + count x16", 16 },
};
#define NBARE (int)(sizeof(bare_rows) / sizeof(bare_rows[0]))
#define NROWS (NSCEN + NBARE)

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

/* Reader: releases every packet of every flow until told to stop. */
struct reader {
	struct ffpf_flow **flows;
	int n;
	atomic_bool stop;
	_Atomic __u64 got;
	double last;		/* when the last packet was read */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int count_pkt(struct ffpf_flow *f, const struct ffpf_packet *p, void *ctx)
{
	struct reader *r = ctx;

	if (!(atomic_fetch_add_explicit(&r->got, 1, memory_order_relaxed) & 255))
		r->last = now_s();
	return 0;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;

	/* Runs on until the producer finished and the ring was drained. */
	while (!atomic_load(&r->stop))
		ffpf_flows_run(r->flows, r->n, count_pkt, r, 20);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Copy rows: a flood of test runs would overflow the ring within
 * milliseconds, and a failed reserve is cheap, which would flatter the
 * kernel side. Send chunks the ring and the IBufs can hold and wait for
 * the readers in between: ns/packet is the kernel's time for packets that
 * really made a record; the rate is end to end, waits included.
 */
#define RX_CHUNK	4096

static double run_chunked(int prog_fd, __u8 *frame, size_t len, int repeat,
			  struct reader *rd, int nflows)
{
	double kernel_ns = 0;

	for (int sent = 0; sent < repeat;) {
		int n = repeat - sent < RX_CHUNK ? repeat - sent : RX_CHUNK;
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame, .data_size_in = len,
			    .repeat = n);
		double until;

		if (bpf_prog_test_run_opts(prog_fd, &t))
			return -1;
		kernel_ns += (double)t.duration * n;
		sent += n;
		until = now_s() + 0.5;
		while (atomic_load(&rd->got) < (__u64)sent * nflows && now_s() < until)
			usleep(50);
	}
	return kernel_ns / repeat;
}

/*
 * Every packet a rx flow accepted is read, dropped from its IBuf, lost in
 * the ring or found no PBuf frame: nothing may vanish uncounted.
 */
static bool accounted(struct ffpf_flow **flows, int n, __u64 sent, __u64 got)
{
	__u64 sum = 0;

	for (int i = 0; i < n; i++) {
		struct ffpf_rx_stats rs = { .sz = sizeof(rs) };

		if (ffpf_flow_rx_stats(flows[i], &rs))
			return false;
		sum += rs.dropped + rs.lost + rs.no_frame;
		if (getenv("NSBENCH_DEBUG"))
			fprintf(stderr, "flow %d: received %llu dropped %llu lost %llu no_frame %llu records %llu\n",
				i, (unsigned long long)rs.received, (unsigned long long)rs.dropped,
				(unsigned long long)rs.lost, (unsigned long long)rs.no_frame,
				(unsigned long long)rs.records);
	}
	return sum + got == sent * n;
}

static int bad_accounting;

/* A bare chain of @stages count stages: ns per packet, or < 0. */
static double measure_bare(int stages, int repeat)
{
	struct chain_bpf *skel = chain_bpf__open_and_load();
	__u8 frame[60];
	double ns = -1;
	int map;

	if (!skel)
		return -1;
	map = bpf_map__fd(skel->maps.chain_progs);
	for (int i = 0; i < stages; i++) {
		char name[32];
		struct bpf_program *p;
		int fd;

		snprintf(name, sizeof(name), "chain_stage%d", i);
		p = bpf_object__find_program_by_name(skel->obj, name);
		fd = p ? bpf_program__fd(p) : -1;
		if (fd < 0 || bpf_map_update_elem(map, &i, &fd, BPF_ANY))
			goto out;
	}
	build_udp(frame, sizeof(frame));
	ffpf_run_on(0);
	{
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame,
			    .data_size_in = sizeof(frame), .repeat = repeat);

		if (!bpf_prog_test_run_opts(bpf_program__fd(skel->progs.chain_entry), &t))
			ns = t.duration;
	}
out:
	chain_bpf__destroy(skel);
	return ns;
}

/* ns per packet for one scenario, or < 0 on error; *@user: share delivered. */
static double measure(const struct scenario *s, int repeat, double *user, double *rate)
{
	struct ffpf_flow *flows[MAXF] = {0};
	struct reader rd = { .flows = flows, .n = s->nflows };
	pthread_t th;
	bool reading = false;
	__u8 frame[60];
	char buf[512], name[16];
	double ns = -1, t0;
	int i;

	build_udp(frame, sizeof(frame));
	*user = *rate = -1;
	/* The receive thread starts with the first rx flow: on CPU 1. */
	ffpf_run_on(s->rx ? 1 : 0);
	for (i = 0; i < s->nflows; i++) {
		FFPF_OPTS(ffpf_flow_opts, o, .name = name, .rx = s->rx,
			  .ibuf_size = 2 * RX_CHUNK);

		snprintf(name, sizeof(name), "b%d", i);
		flows[i] = ffpf_flow_create("lo", &o);
		if (!flows[i] || ffpf_flow_populate(flows[i], s->spec(i, buf, sizeof(buf))) ||
		    ffpf_flow_instantiate(flows[i]) ||
		    (s->active && ffpf_flow_activate(flows[i])))
			goto out;
	}
	if (s->rx) {
		if (pthread_create(&th, NULL, reader_main, &rd))
			goto out;
		reading = true;
	}
	ffpf_run_on(0);
	t0 = now_s();
	if (s->rx) {
		ns = run_chunked(ffpf_flow_root_prog_fd(flows[0]), frame, sizeof(frame), repeat,
				 &rd, s->nflows);
	} else {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame,
			    .data_size_in = sizeof(frame), .repeat = repeat);

		if (!bpf_prog_test_run_opts(ffpf_flow_root_prog_fd(flows[0]), &t))
			ns = t.duration;
	}
out:
	if (reading) {
		usleep(100 * 1000);	/* let the ring drain */
		atomic_store(&rd.stop, true);
		pthread_join(th, NULL);
		*user = (double)rd.got / ((double)repeat * s->nflows);
		if (rd.last > t0)
			*rate = rd.got / s->nflows / (rd.last - t0) / 1e6;
		if (!accounted(flows, s->nflows, repeat, rd.got)) {
			fprintf(stderr, "%s: packets unaccounted for\n", s->name);
			bad_accounting++;
		}
	}
	for (i = 0; i < s->nflows; i++)
		ffpf_flow_close(flows[i]);
	return ns;
}

int main(int argc, char **argv)
{
	double res[NROWS][32], user[NROWS][32], rate[NROWS][32];
	int rounds, repeat, ret = ffpf_bench_start(argc, argv, &rounds, &repeat);

	if (ret)
		return ret;
	ffpf_set_print(NULL);
	/* Interleave: every round runs every scenario once. */
	for (int r = 0; r < rounds; r++)
		for (int s = 0; s < NROWS; s++) {
			if (s < NSCEN)
				res[s][r] = measure(&scenarios[s], repeat, &user[s][r], &rate[s][r]);
			else
				res[s][r] = measure_bare(bare_rows[s - NSCEN].stages, repeat);
			if (res[s][r] < 0) {
				fprintf(stderr, "scenario '%s' failed\n", s < NSCEN ? scenarios[s].name
							: bare_rows[s - NSCEN].name);
				return 1;
			}
		}
	printf("| scenario | ns/packet (median of %d x %d) | vs parse only | read by user space | "
	       "user-space rate, Mpkt/s per flow |\n|---|---:|---:|---:|---:|\n", rounds, repeat);
	double base = 0;

	for (int s = 0; s < NROWS; s++) {
		qsort(res[s], rounds, sizeof(double), cmp_double);
		double med = res[s][rounds / 2];

		if (s == 0)
			base = med;
		printf("| %s | %.1f | %.2fx |", s < NSCEN ? scenarios[s].name :
		       bare_rows[s - NSCEN].name, med, med / base);
		if (s < NSCEN && scenarios[s].rx) {
			qsort(user[s], rounds, sizeof(double), cmp_double);
			qsort(rate[s], rounds, sizeof(double), cmp_double);
			printf(" %.1f%% | %.2f |\n", 100 * user[s][rounds / 2], rate[s][rounds / 2]);
		} else {
			printf(" - | - |\n");
		}
	}
	printf("\nCopy rows: every packet not read was counted (IBuf full, ring full or "
	       "no PBuf frame): %s\n", bad_accounting ? "NO" : "yes");
	return bad_accounting ? 1 : 0;
}
