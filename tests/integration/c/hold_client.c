// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * hold_client.c - copy-mode consumers for test_hold.sh (a slow one, a stuck
 * one next to a fast one), reading through the public packet API:
 * ffpf_flow_peek_batch(), ffpf_flow_release(), the flow's fd.
 *
 *   hold_client IF FLOWS [IBUF [SECONDS [GENFLOWS [SPEC]]]]
 *
 *   FLOWS     one consumer per flow, comma separated; the flows are named
 *             a, b, c, ... in this order:
 *               slow:BATCH:SLEEP_US  peek at most BATCH packets, release
 *                                    them, sleep SLEEP_US, again
 *               fast                 peek up to 64, release, again
 *               stuck                never read, not even peeked
 *             each optionally with @N: that flow's .ibuf_size instead of IBUF.
 *             Each flow that is read has its own thread, which polls the
 *             flow's fd while its IBuf is empty.
 *   IBUF      .ibuf_size (64)
 *   SECONDS   stop on its own after this long (0, the default: only on
 *             SIGINT/SIGTERM)
 *   GENFLOWS  the sender's --flows: the k-th packet a flow reads must have
 *             UDP source port 1024 + k % GENFLOWS (ffpf-gen's sequence, so
 *             a lost, doubled or reordered packet shows); 0: no check (64)
 *   SPEC      every flow's spec ("match(udp)")
 *
 * Each flow is created on IF with .rx = FFPF_RX_COPY and .daemon = "off".
 * Prints "ready" once every flow is active. On SIGINT/SIGTERM (or after
 * SECONDS) it keeps consuming as before until the receive engine has read
 * every record the kernel put into the ring (rx records == the interface's
 * copied) and the flows it reads have empty IBufs, for 10 s at most, then
 * prints one line per flow and one for the interface:
 *
 *   flow name=a read=N order_errors=N seq_gaps=N matched=N received=N
 *        dropped=N released=N queued=N capacity=N lost=N no_frame=N records=N
 *        span_us=N lat_max_us=N
 *   iface copied=N copy_lost=N matched=N rx_packets=N drained=0|1
 *
 * read: packets the program read and released; order_errors: packets whose
 * source port broke the sequence; seq_gaps: packets whose ffpf_packet.seq
 * was not the previous one's + 1; matched: ffpf_flow_stats().packets (what
 * `ffpf-bpf run --json` calls received_by_filter); received .. records:
 * ffpf_flow_rx_stats(); span_us: from the first read that got packets to
 * the last; lat_max_us: the longest time from a packet's ts_ns (the root
 * program saw it) to its read; copied .. rx_packets: ffpf_flow_iface_stats();
 * drained: the wait above ended because everything was read (0: 10 s passed).
 * Exit status 0 unless a call failed.
 */
#define _DEFAULT_SOURCE	/* usleep, sigaction, clock_gettime under -std=c11 too */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <ffpf/ffpf.h>

#define MAXF		8
#define FAST_BATCH	64
#define DRAIN_MS	10000
#define GEN_SPORT	1024	/* ffpf-gen's default --sport */

static volatile sig_atomic_t stop;
static atomic_bool quit;	/* main to the consumer threads: done */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int print_fn(enum ffpf_print_level level, const char *fmt, va_list args)
{
	if (level == FFPF_DEBUG)
		return 0;
	fprintf(stderr, "hold_client: ");
	return vfprintf(stderr, fmt, args);
}

struct fl {
	struct ffpf_flow *f;
	char name[2];
	int batch;		/* packets per read; 0: never read */
	unsigned sleep_us;	/* after each read that got something */
	unsigned ibuf;		/* .ibuf_size; 0: IBUF */
	unsigned long long read, order_errors, seq_gaps;
	__u64 last_seq;
	long long first_us, last_us;	/* monotonic: first and last read that got packets */
	long long lat_max_ns;
	pthread_t thread;
	bool thread_ok;
	int err;		/* the consumer thread's, -errno */
};

static unsigned genflows = 64;

static long long clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long now_us(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000;
}

static long long now_ms(void)
{
	return now_us() / 1000;
}

/* The UDP source port of an IPv4 frame, -1 if it is not one or too short. */
static int udp_sport(const struct ffpf_packet *p)
{
	const unsigned char *d = p->data;
	unsigned ihl;

	if (!d || p->caplen < 14 + 20 + 8 || d[12] != 0x08 || d[13] != 0x00 || d[23] != 17)
		return -1;
	ihl = (d[14] & 0x0f) * 4;
	if (ihl < 20 || p->caplen < 14 + ihl + 8)
		return -1;
	return d[14 + ihl] << 8 | d[14 + ihl + 1];
}

/* One read of up to x->batch packets (then x->sleep_us); returns how many, or -errno. */
static int consume(struct fl *x)
{
	struct ffpf_packet pkts[FAST_BATCH];
	long long real;
	int n, err;

	n = ffpf_flow_peek_batch(x->f, pkts, x->batch);
	if (n <= 0)
		return n;
	x->last_us = now_us();
	if (!x->read)
		x->first_us = x->last_us;
	real = clock_ns(CLOCK_REALTIME);
	for (int i = 0; i < n; i++) {
		const struct ffpf_packet *p = &pkts[i];

		if (genflows && udp_sport(p) != (int)(GEN_SPORT + x->read % genflows))
			x->order_errors++;
		if (x->read && p->seq != x->last_seq + 1)
			x->seq_gaps++;
		if (real - (long long)p->ts_ns > x->lat_max_ns)
			x->lat_max_ns = real - (long long)p->ts_ns;
		x->last_seq = p->seq;
		x->read++;
	}
	err = ffpf_flow_release(x->f, n);	/* n, or -errno */
	if (err < 0)
		return err;
	if (x->sleep_us)
		usleep(x->sleep_us);
	return n;
}

/* A flow's consumer thread: read until main says quit. */
static void *consumer(void *arg)
{
	struct fl *x = arg;
	struct pollfd pfd = { .fd = ffpf_flow_fd(x->f), .events = POLLIN };

	while (!atomic_load(&quit)) {
		int n = consume(x);

		if (n < 0) {
			x->err = n;
			break;
		}
		if (!n && poll(&pfd, 1, 100) < 0 && errno != EINTR) {
			x->err = -errno;
			break;
		}
	}
	return NULL;
}

/* Has the engine read every record the kernel wrote, and are the read flows' IBufs empty? */
static int drained(struct fl *fl, int nf, int *done)
{
	struct ffpf_iface_stats is = { .sz = sizeof(is) };
	struct ffpf_rx_stats rs = { .sz = sizeof(rs) };
	int err;

	*done = 0;
	err = ffpf_flow_iface_stats(fl[0].f, &is);
	if (!err)
		err = ffpf_flow_rx_stats(fl[0].f, &rs);
	if (err)
		return err;
	if (rs.records != is.copied)
		return 0;
	for (int i = 0; i < nf; i++) {
		if (!fl[i].batch)
			continue;
		err = ffpf_flow_rx_stats(fl[i].f, &rs);
		if (err)
			return err;
		if (rs.queued)
			return 0;
	}
	*done = 1;
	return 0;
}

static int report(struct fl *fl, int nf, int done)
{
	struct ffpf_iface_stats is = { .sz = sizeof(is) };
	int err;

	for (int i = 0; i < nf; i++) {
		struct ffpf_flow_stats st = { .sz = sizeof(st) };
		struct ffpf_rx_stats rs = { .sz = sizeof(rs) };

		err = ffpf_flow_stats(fl[i].f, &st);
		if (!err)
			err = ffpf_flow_rx_stats(fl[i].f, &rs);
		if (err)
			return err;
		printf("flow name=%s read=%llu order_errors=%llu seq_gaps=%llu matched=%llu "
		       "received=%llu dropped=%llu released=%llu queued=%u capacity=%u "
		       "lost=%llu no_frame=%llu records=%llu span_us=%lld lat_max_us=%lld\n",
		       fl[i].name, fl[i].read, fl[i].order_errors, fl[i].seq_gaps,
		       (unsigned long long)st.packets, (unsigned long long)rs.received,
		       (unsigned long long)rs.dropped, (unsigned long long)rs.released,
		       rs.queued, rs.capacity, (unsigned long long)rs.lost,
		       (unsigned long long)rs.no_frame, (unsigned long long)rs.records,
		       fl[i].last_us - fl[i].first_us, fl[i].lat_max_ns / 1000);
	}
	err = ffpf_flow_iface_stats(fl[0].f, &is);
	if (err)
		return err;
	printf("iface copied=%llu copy_lost=%llu matched=%llu rx_packets=%llu drained=%d\n",
	       (unsigned long long)is.copied, (unsigned long long)is.copy_lost,
	       (unsigned long long)is.matched, (unsigned long long)is.rx_packets, done);
	fflush(stdout);
	return 0;
}

static void usage(const char *me)
{
	fprintf(stderr, "usage: %s IF slow:BATCH:SLEEP_US|fast|stuck[@IBUF][,...] "
		"[IBUF [SECONDS [GENFLOWS [SPEC]]]]\n", me);
	exit(2);
}

/* One FLOWS item into @x; false if it is not one. */
static bool parse_flow(const char *s, struct fl *x)
{
	const char *at = strchr(s, '@');
	size_t len = at ? (size_t)(at - s) : strlen(s);
	char what[64], end;
	int batch;
	unsigned us;

	if (!len || len >= sizeof(what))
		return false;
	memcpy(what, s, len);
	what[len] = '\0';
	if (at && (sscanf(at + 1, "%u%c", &x->ibuf, &end) != 1 || !x->ibuf))
		return false;
	if (!strcmp(what, "stuck")) {
		x->batch = 0;
	} else if (!strcmp(what, "fast")) {
		x->batch = FAST_BATCH;
	} else if (sscanf(what, "slow:%d:%u%c", &batch, &us, &end) == 2 && batch >= 1 &&
		   batch <= FAST_BATCH) {
		x->batch = batch;
		x->sleep_us = us;
	} else {
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct fl fl[MAXF] = {};
	const char *ifname, *spec = "match(udp)";
	unsigned ibuf = 64, seconds = 0;
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	long long deadline = -1, until;
	int nf = 0, err = 0, done = 0;
	char *list, *tok, *save = NULL;

	if (argc < 3 || argc > 7)
		usage(argv[0]);
	ifname = argv[1];
	if (argc > 3)
		ibuf = (unsigned)strtoul(argv[3], NULL, 0);
	if (argc > 4)
		seconds = (unsigned)strtoul(argv[4], NULL, 0);
	if (argc > 5)
		genflows = (unsigned)strtoul(argv[5], NULL, 0);
	if (argc > 6)
		spec = argv[6];
	list = strdup(argv[2]);
	if (!list)
		return 1;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (nf == MAXF || !parse_flow(tok, &fl[nf]))
			usage(argv[0]);
		fl[nf].name[0] = (char)('a' + nf);
		nf++;
	}
	free(list);
	if (!nf)
		usage(argv[0]);

	ffpf_set_print(print_fn);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	for (int i = 0; i < nf; i++) {
		FFPF_OPTS(ffpf_flow_opts, o, .name = fl[i].name, .rx = FFPF_RX_COPY,
			  .ibuf_size = fl[i].ibuf ? fl[i].ibuf : ibuf, .daemon = "off");

		fl[i].f = ffpf_flow_create(ifname, &o);
		if (!fl[i].f) {
			err = -errno;
			fprintf(stderr, "hold_client: flow %s on %s: %s\n", fl[i].name, ifname,
				strerror(errno));
			goto out;
		}
		err = ffpf_flow_populate(fl[i].f, spec);
		if (!err)
			err = ffpf_flow_instantiate(fl[i].f);
		if (err)
			goto out;
	}
	for (int i = 0; i < nf; i++) {
		err = ffpf_flow_activate(fl[i].f);
		if (err)
			goto out;
	}
	/* The consumers take no signal: SIGINT/SIGTERM come here. */
	{
		sigset_t all, old;
		int e = 0;

		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		for (int i = 0; i < nf && !e; i++) {
			if (!fl[i].batch)
				continue;
			e = pthread_create(&fl[i].thread, NULL, consumer, &fl[i]);
			fl[i].thread_ok = !e;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (e) {
			err = -e;
			goto out;
		}
	}
	printf("ready\n");
	fflush(stdout);

	if (seconds)
		deadline = now_ms() + seconds * 1000LL;
	while (!stop && (deadline < 0 || now_ms() < deadline))
		usleep(10000);
	/* Stop: the consumers go on reading what the kernel already handed over. */
	until = now_ms() + DRAIN_MS;
	for (;;) {
		err = drained(fl, nf, &done);
		if (err || done || now_ms() >= until)
			break;
		usleep(10000);
	}
out:
	atomic_store(&quit, true);
	for (int i = 0; i < nf; i++) {
		if (!fl[i].thread_ok)
			continue;
		pthread_join(fl[i].thread, NULL);
		if (!err && fl[i].err)
			err = fl[i].err;
	}
	if (!err)
		err = report(fl, nf, done);
	if (err)
		fprintf(stderr, "hold_client: %s\n", strerror(-err));
	for (int i = nf - 1; i >= 0; i--)
		ffpf_flow_close(fl[i].f);
	return err ? 1 : 0;
}
