/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * test_rx.c - the public packet API (ffpf_flow_fd/peek/peek_batch/release,
 * ffpf_flows_run, ffpf_flow_rx_stats) and the receive engine's rules, on
 * real traffic: each test moves into a private network namespace (Criterion
 * runs every test in its own process), attaches to `lo` and sends UDP to
 * 127.0.0.1, so nothing leaves it and everything attached dies with it.
 * Needs root, like the BPF suite.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <criterion/criterion.h>

#include <ffpf/ffpf.h>
#include "../../tools/privnet.h"

#define PAYLOAD	200
#define WIRE	(14 + 20 + 8 + PAYLOAD)	/* lo's Ethernet header, IPv4, UDP */

static int lo_index;
static int sinks[4];
static int nsinks;

static void private_lo(void)
{
	cr_assert_eq(geteuid(), 0, "test_rx needs root (BPF, XDP, network namespaces)");
	cr_assert_eq(ffpf_private_netns(), 0, "a private network namespace with lo up: %s",
		     strerror(errno));
	ffpf_set_print(NULL);
	lo_index = if_nametoindex("lo");
	cr_assert_gt(lo_index, 0);
}

/* A bound socket per port: no ICMP port unreachable in the way. */
static void sink(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	sinks[nsinks++] = fd;
}

static void send_udp(int port, int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	unsigned char buf[PAYLOAD];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	cr_assert_geq(fd, 0);
	for (int i = 0; i < PAYLOAD; i++)
		buf[i] = i;
	for (int i = 0; i < n; i++)
		cr_assert_eq(sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&a, sizeof(a)),
			     PAYLOAD);
	close(fd);
}

static struct ffpf_flow *flow_open(const char *name, const char *spec, __u32 rx,
				   __u32 snaplen, __u32 ibuf, int *err)
{
	FFPF_OPTS(ffpf_flow_opts, o, .name = name, .rx = rx, .snaplen = snaplen,
		  .ibuf_size = ibuf);
	struct ffpf_flow *f = ffpf_flow_create("lo", &o);
	int e;

	cr_assert_not_null(f, "create %s: %s", name, strerror(errno));
	e = ffpf_flow_populate(f, spec);
	if (!e)
		e = ffpf_flow_instantiate(f);
	if (!e)
		e = ffpf_flow_activate(f);
	if (err) {
		*err = e;
	} else {
		cr_assert_eq(e, 0, "flow %s: %s", name, strerror(-e));
	}
	return f;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static struct ffpf_rx_stats rx_stats(struct ffpf_flow *f)
{
	FFPF_OPTS(ffpf_rx_stats, st);

	cr_assert_eq(ffpf_flow_rx_stats(f, &st), 0);
	return st;
}

/* Wait until @f's IBuf has seen @n descriptors (received + dropped). */
static void wait_arrived(struct ffpf_flow *f, __u64 n)
{
	for (int i = 0; i < 200; i++) {
		struct ffpf_rx_stats st = rx_stats(f);

		if (st.received + st.dropped >= n)
			return;
		usleep(10000);
	}
	cr_assert_fail("flow %s: %llu packets did not arrive in 2 s", ffpf_flow_name(f),
		       (unsigned long long)n);
}

static __s64 real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__s64)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

Test(rx, copy_mode_peek_release_and_fd)
{
	struct ffpf_packet pa[16], pb[16];
	struct ffpf_flow *a, *b, *n;
	struct ffpf_rx_stats st;
	__s64 now;

	private_lo();
	sink(9000);
	sink(9001);
	a = flow_open("a", "match(udp, dst port 9000) -> count", FFPF_RX_COPY, 0, 0, NULL);
	b = flow_open("b", "match(udp)", FFPF_RX_COPY, 100, 0, NULL);
	n = flow_open("n", "count", FFPF_RX_NONE, 0, 0, NULL);

	/* Statistics-only flows have no packet API. */
	cr_expect_eq(ffpf_flow_fd(n), -EINVAL);
	cr_expect_eq(ffpf_flow_peek(n, pa), -EINVAL);
	cr_expect_eq(ffpf_flow_peek_batch(n, pa, 1), -EINVAL);
	cr_expect_eq(ffpf_flow_release(n, 0), -EINVAL);
	FFPF_OPTS(ffpf_rx_stats, nst);
	cr_expect_eq(ffpf_flow_rx_stats(n, &nst), -EINVAL);

	cr_assert_geq(ffpf_flow_fd(a), 0);
	cr_expect_not(readable(ffpf_flow_fd(a), 0), "nothing received yet");
	cr_expect_eq(ffpf_flow_peek(a, pa), -EAGAIN);

	send_udp(9000, 5);
	send_udp(9001, 3);
	/* Records go up without a wakeup; the engine's 10 ms poll bounds the wait. */
	cr_assert(readable(ffpf_flow_fd(a), 2000), "fd readable once a packet waits");
	wait_arrived(a, 5);
	wait_arrived(b, 8);

	/* Level-triggered: readable as long as packets wait... */
	cr_assert_eq(ffpf_flow_peek(a, pa), 0);
	cr_assert_eq(ffpf_flow_release(a, 1), 1);
	cr_expect(readable(ffpf_flow_fd(a), 0), "4 left: still readable");

	now = real_ns();
	cr_assert_eq(ffpf_flow_peek_batch(a, pa, 16), 4);
	cr_assert_eq(ffpf_flow_peek_batch(b, pb, 16), 8);
	for (int i = 0; i < 8; i++) {
		cr_expect_eq(pb[i].caplen, 100, "b's snaplen");
		cr_expect_eq(pb[i].wire_len, WIRE);
		cr_expect_eq(pb[i].ifindex, (__u32)lo_index);
		cr_expect_eq(pb[i].dir, FFPF_DIR_INGRESS);
		cr_expect_eq(pb[i].hook, FFPF_HOOK_INGRESS);
		cr_expect(pb[i].matched & (1ULL << ffpf_flow_slot(b)));
		cr_expect_lt(now - (__s64)pb[i].ts_ns, 5000000000LL, "ts is CLOCK_REALTIME");
		cr_expect_gt(now - (__s64)pb[i].ts_ns, 0);
		if (i)
			cr_expect_gt(pb[i].seq, pb[i - 1].seq, "in delivery order");
	}
	/* Packets 2..5 to 9000 are b's 2..5: same packet, same seq, same bytes. */
	for (int i = 0; i < 4; i++) {
		const unsigned char *d = pa[i].data;

		cr_expect_eq(pa[i].caplen, WIRE);
		cr_expect_eq(pa[i].seq, pb[i + 1].seq);
		cr_expect_eq(pa[i].matched, pb[i + 1].matched);
		/* Every flow that accepted it, with or without rx. */
		cr_expect_eq(pa[i].matched, (1ULL << ffpf_flow_slot(a)) |
			     (1ULL << ffpf_flow_slot(b)) | (1ULL << ffpf_flow_slot(n)));
		cr_expect_eq(pa[i].data, pb[i + 1].data, "one copy in the PBuf, zero-copy reads");
		cr_expect_eq(d[12] << 8 | d[13], 0x0800);
		cr_expect_eq(d[WIRE - 1], PAYLOAD - 1);
	}
	st = rx_stats(a);
	cr_expect_eq(st.mode, FFPF_RX_COPY);
	cr_expect_eq(st.received, 5);
	cr_expect_eq(st.released, 1);
	cr_expect_eq(st.queued, 4);
	cr_expect_eq(st.capacity, FFPF_IBUF_DEFAULT);
	cr_expect_eq(st.records, 8);
	cr_expect_eq(st.stored, 8, "one frame per packet");
	cr_expect_eq(st.descs, 13);
	cr_expect_eq(st.frames_in_use, 8);
	cr_expect_eq(st.snaplen, FFPF_SNAPLEN_DEFAULT, "the largest snaplen of the flows");
	cr_expect_eq(st.lost + st.no_frame + st.dropped, 0);

	cr_expect_eq(ffpf_flow_release(a, 5), -EINVAL, "only 4 queued");
	cr_expect_eq(ffpf_flow_release(a, 4), 4);
	/* ...and no longer once a peek found the IBuf empty. */
	cr_expect(readable(ffpf_flow_fd(a), 0), "not yet: no peek found it empty");
	cr_expect_eq(ffpf_flow_peek(a, pa), -EAGAIN);
	cr_expect_not(readable(ffpf_flow_fd(a), 0));
	cr_expect_eq(rx_stats(b).frames_in_use, 8, "b still holds every frame");
	cr_expect_eq(ffpf_flow_release(b, 8), 8);
	cr_expect_eq(rx_stats(b).frames_in_use, 0);

	ffpf_flow_close(n);
	ffpf_flow_close(b);
	ffpf_flow_close(a);
}

Test(rx, mode_and_frame_size_fixed_by_first_flow)
{
	struct ffpf_flow *a, *t, *big, *ok;
	int err;

	private_lo();
	a = flow_open("a", "match(udp)", FFPF_RX_COPY, 0, 0, NULL);
	t = flow_open("t", "match(udp)", FFPF_RX_TAP, 0, 0, &err);
	cr_expect_eq(err, -EBUSY, "tap next to a copy flow: %d", err);
	cr_expect_eq(ffpf_flow_fd(t), -EINVAL);
	big = flow_open("big", "match(udp)", FFPF_RX_COPY, 4096, 0, &err);
	cr_expect_eq(err, -EBUSY, "snaplen 4096 in 2048-byte frames: %d", err);
	ok = flow_open("ok", "match(udp)", FFPF_RX_COPY, 1500, 0, NULL);
	cr_expect_geq(ffpf_flow_fd(ok), 0);
	ffpf_flow_close(big);
	ffpf_flow_close(t);
	ffpf_flow_close(ok);
	ffpf_flow_close(a);

	/* The engine went with its last flow: the next one may pick anything. */
	big = flow_open("big", "match(udp)", FFPF_RX_COPY, 9000, 0, NULL);
	cr_expect_eq(rx_stats(big).snaplen, 9000);
	cr_expect_eq(rx_stats(big).frames, 4096, "16 KiB frames: 64 MiB");
	ffpf_flow_close(big);
	big = flow_open("big", "match(udp)", FFPF_RX_COPY, 65535, 0, NULL);
	cr_expect_eq(rx_stats(big).frames, 1024, "64 KiB frames, memory capped at 64 MiB");
	ffpf_flow_close(big);
}

struct run_ctx {
	int calls, stop_at;
	__u64 last_seq;
	bool order_bad;
};

static int count_cb(struct ffpf_flow *f, const struct ffpf_packet *p, void *ctx)
{
	struct run_ctx *c = ctx;

	(void)f;
	if (c->calls && p->seq <= c->last_seq)
		c->order_bad = true;
	c->last_seq = p->seq;
	return ++c->calls == c->stop_at ? 7 : 0;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void *send_signal(void *arg)
{
	usleep(100000);
	pthread_kill(*(pthread_t *)arg, SIGUSR1);
	return NULL;
}

Test(rx, flows_run)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct run_ctx c = { .stop_at = 3 };
	struct ffpf_flow *a, *fl[1];
	struct timespec t0, t1;
	pthread_t self = pthread_self(), th;
	long ms;

	private_lo();
	sink(9000);
	a = flow_open("a", "match(udp)", FFPF_RX_COPY, 0, 0, NULL);
	fl[0] = a;
	cr_expect_eq(ffpf_flows_run(fl, 0, count_cb, &c, 0), -EINVAL);
	cr_expect_eq(ffpf_flows_run(fl, 1, NULL, &c, 0), -EINVAL);

	/* Nothing comes: 0 after the timeout. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_expect_eq(ffpf_flows_run(fl, 1, count_cb, &c, 100), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	cr_expect_geq(ms, 99);
	cr_expect_lt(ms, 1000);
	cr_expect_eq(c.calls, 0);

	/* The callback's non-zero value stops the run; that packet is released too. */
	send_udp(9000, 10);
	wait_arrived(a, 10);
	cr_expect_eq(ffpf_flows_run(fl, 1, count_cb, &c, -1), 7);
	cr_expect_eq(c.calls, 3);
	cr_expect_eq(rx_stats(a).queued, 7);
	c.stop_at = 0;
	cr_expect_eq(ffpf_flows_run(fl, 1, count_cb, &c, 50), 0);
	cr_expect_eq(c.calls, 10);
	cr_expect_not(c.order_bad);
	cr_expect_eq(rx_stats(a).released, 10);

	/* A signal cuts an endless wait short. */
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	cr_assert_eq(pthread_create(&th, NULL, send_signal, &self), 0);
	cr_expect_eq(ffpf_flows_run(fl, 1, count_cb, &c, -1), -EINTR);
	pthread_join(th, NULL);
	ffpf_flow_close(a);
}

Test(rx, stalled_flow_drops_alone_and_close_frees)
{
	struct ffpf_flow *slow, *fast;
	struct ffpf_packet p[64];
	struct ffpf_rx_stats st;
	int n, got = 0;

	private_lo();
	sink(9000);
	slow = flow_open("slow", "match(udp)", FFPF_RX_COPY, 0, 16, NULL);
	fast = flow_open("fast", "match(udp)", FFPF_RX_COPY, 0, 64, NULL);
	for (int round = 0; round < 4; round++) {
		send_udp(9000, 10);
		wait_arrived(fast, (round + 1) * 10);
		while ((n = ffpf_flow_peek_batch(fast, p, 64)) > 0) {
			got += n;
			cr_assert_eq(ffpf_flow_release(fast, n), n);
		}
	}
	wait_arrived(slow, 40);
	cr_expect_eq(got, 40);
	st = rx_stats(fast);
	cr_expect_eq(st.dropped, 0);
	st = rx_stats(slow);
	cr_expect_eq(st.received, 16);
	cr_expect_eq(st.dropped, 24, "a full IBuf drops for its own flow, counted");
	cr_expect_eq(st.queued, 16);
	cr_expect_eq(st.frames_in_use, 16, "the stalled flow holds only its own");
	cr_expect_eq(st.stored, 40);
	cr_expect_eq(st.no_frame, 0);

	/* Closing the stalled flow gives its frames back. */
	ffpf_flow_close(slow);
	cr_expect_eq(rx_stats(fast).frames_in_use, 0);
	/* A new flow in the freed slot gets only what arrives after it. */
	slow = flow_open("slow2", "match(udp)", FFPF_RX_COPY, 0, 16, NULL);
	usleep(50000);
	cr_expect_eq(rx_stats(slow).received, 0);
	send_udp(9000, 2);
	wait_arrived(slow, 2);
	cr_expect_eq(rx_stats(slow).received, 2);
	ffpf_flow_close(slow);
	ffpf_flow_close(fast);
}

Test(rx, rx_stats_sized)
{
	struct ffpf_flow *a;
	struct {
		struct ffpf_rx_stats st;
		unsigned char guard[64];
	} big;
	const size_t old_sz = offsetof(struct ffpf_rx_stats, released) + sizeof(__u64);

	private_lo();
	a = flow_open("a", "match(udp)", FFPF_RX_COPY, 0, 0, NULL);

	/* An older caller's smaller struct: only the fields it knows are written. */
	memset(&big, 0xab, sizeof(big));
	big.st.sz = old_sz;
	cr_expect_eq(ffpf_flow_rx_stats(a, &big.st), 0);
	cr_expect_eq(big.st.received, 0);
	cr_expect_eq(big.st.released, 0);
	cr_expect_eq(big.st.queued, 0xabababab, "past the caller's sz: untouched");
	/* A newer caller's larger struct: the tail is left alone too. */
	memset(&big, 0xab, sizeof(big));
	big.st.sz = sizeof(big);
	cr_expect_eq(ffpf_flow_rx_stats(a, &big.st), 0);
	cr_expect_eq(big.st.capacity, FFPF_IBUF_DEFAULT);
	cr_expect_eq(big.guard[0], 0xab);
	big.st.sz = sizeof(size_t);
	cr_expect_eq(ffpf_flow_rx_stats(a, &big.st), -EINVAL);
	cr_expect_eq(ffpf_flow_rx_stats(a, NULL), -EINVAL);
	ffpf_flow_close(a);
}

Test(rx, tap_mode_on_lo)
{
	struct ffpf_flow *t, *big;
	struct ffpf_packet p[8];
	struct ffpf_rx_stats st;
	int err, n;

	private_lo();
	sink(9000);
	big = flow_open("big", "match(udp)", FFPF_RX_TAP, 8192, 0, &err);
	cr_expect_eq(err, -EINVAL, "an AF_XDP frame holds at most a page: %d", err);
	ffpf_flow_close(big);

	t = flow_open("t", "match(udp, dst port 9000)", FFPF_RX_TAP, 64, 0, NULL);
	send_udp(9000, 3);
	wait_arrived(t, 3);
	n = ffpf_flow_peek_batch(t, p, 8);
	cr_assert_eq(n, 3);
	for (int i = 0; i < n; i++) {
		cr_expect_eq(p[i].caplen, 64, "tap honours the flow's snaplen");
		cr_expect_eq(p[i].wire_len, WIRE);
		cr_expect_eq(p[i].ifindex, (__u32)lo_index);
	}
	st = rx_stats(t);
	cr_expect_eq(st.mode, FFPF_RX_TAP);
	cr_expect_eq(st.records, 3);
	cr_expect_eq(st.frames_in_use, 3, "frames lent to the kernel do not count");
	cr_expect_eq(st.xsk_rx_dropped + st.xsk_fill_ring_empty + st.lost, 0);
	cr_expect_eq(ffpf_flow_release(t, 3), 3);
	cr_expect_eq(rx_stats(t).frames_in_use, 0);
	ffpf_flow_close(t);
}

struct blaster {
	atomic_bool stop;
	__u64 sent;
};

static void *blast(void *arg)
{
	struct blaster *b = arg;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9000),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	unsigned char buf[PAYLOAD] = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	while (fd >= 0 && !atomic_load(&b->stop)) {
		if (sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&a, sizeof(a)) == PAYLOAD)
			b->sent++;
		if (!(b->sent % 64))
			usleep(1000);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int nop_cb(struct ffpf_flow *f, const struct ffpf_packet *p, void *ctx)
{
	__u64 *n = ctx;

	(void)f;
	if (p->caplen != WIRE)
		return -1;
	(*n)++;
	return 0;
}

/* Flows join and leave while the engine delivers: no crash, no leak, nothing uncounted. */
Test(rx, join_and_leave_under_traffic, .timeout = 120)
{
	struct blaster b = { 0 };
	struct ffpf_flow *keep, *fl[2];
	struct ffpf_rx_stats st;
	__u64 got = 0;
	pthread_t th;

	private_lo();
	sink(9000);
	keep = flow_open("keep", "match(udp)", FFPF_RX_COPY, 0, 4096, NULL);
	cr_assert_eq(pthread_create(&th, NULL, blast, &b), 0);
	for (int i = 0; i < 40; i++) {
		/* Alternately stalled (closed with a full IBuf) and read. */
		struct ffpf_flow *x = flow_open("x", "match(udp, dst port 9000)", FFPF_RX_COPY,
						0, 32, NULL);

		fl[0] = keep;
		fl[1] = x;
		cr_assert_geq(ffpf_flows_run(fl, i % 2 ? 2 : 1, nop_cb, &got, 20), 0);
		ffpf_flow_close(x);
	}
	atomic_store(&b.stop, true);
	pthread_join(th, NULL);
	fl[0] = keep;
	cr_assert_eq(ffpf_flows_run(fl, 1, nop_cb, &got, 200), 0);
	st = rx_stats(keep);
	cr_expect_gt(b.sent, 0);
	cr_expect_eq(st.queued, 0);
	cr_expect_eq(st.frames_in_use, 0, "every frame back after 40 flows came and went");
	cr_expect_eq(st.no_frame + st.lost, 0);
	cr_expect_eq(st.received + st.dropped, b.sent, "keep saw every packet: %llu + %llu of %llu",
		     (unsigned long long)st.received, (unsigned long long)st.dropped,
		     (unsigned long long)b.sent);
	ffpf_flow_close(keep);
}
