// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * flowsock_client.c - an application of per-flow sockets (ffpf/flowsock.h)
 * for test_flowsock.sh: one epoll loop over the dispatcher's fd and every
 * flow's socket, reading each flow's packets from its own fd.
 *
 *   flowsock_client IF SPEC STOPFILE [SNAPLEN HEADROOM [DUMPDIR]]
 *
 * Prints "ready", then
 *   new id=ID fd=FD key=ADDR:PORT-ADDR:PORT proto=P
 *   end id=ID reason=R pkts=N0/N1 sent=S dropped=D   (the deletion notice;
 *                                           S packets on its socket, D lost:
 *                                           its buffer was full)
 *   eof id=ID read=N bad=B                 (its fd read EOF after N packets;
 *                                           B: datagrams whose header, headroom
 *                                           or length was wrong)
 * and at the end "stats live=.. opened=.. ended=.. packets=.. full=.. late=..
 * untracked=.. ibuf_dropped=.. ring_lost=..". Runs until STOPFILE exists. With DUMPDIR, the packet
 * bytes of flow ID's datagrams go to DUMPDIR/ID.bin, one after the other.
 * With FS_NOREAD=1 in the environment it never reads the flows' fds (a
 * stuck application: their buffers fill).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <ffpf/flowsock.h>

static const char *const reasons[8] = {
	"unknown", "idle", "active", "fin", "rst", "evicted", "forced", "closed",
};

struct app {
	int ep;
	unsigned snaplen, headroom;
	const char *dump;
};

/* What the application keeps per flow (ffpf_flowsock.user). */
struct conv {
	int fd;
	__u32 id;
	unsigned long long read, bad;
	FILE *dump;
};

static void addr(const struct ffpf_ft_key *k, int side, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(k->ip_ver == 4 ? AF_INET : AF_INET6,
		  k->ip_ver == 4 ? k->addr[side] + 12 : k->addr[side], a, sizeof(a));
	snprintf(buf, len, "%s:%u", a, k->port[side]);
}

static void on_new(struct ffpf_flowsocks *fs, struct ffpf_flowsock *s,
		   const struct ffpf_ft_record *rec, void *ctx)
{
	struct app *app = ctx;
	struct conv *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN };
	char a[64] = "?", b[64] = "?";

	c->fd = s->fd;
	c->id = s->id;
	if (app->dump) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%u.bin", app->dump, s->id);
		c->dump = fopen(path, "w");
	}
	ev.data.ptr = c;
	if (!getenv("FS_NOREAD"))
		epoll_ctl(app->ep, EPOLL_CTL_ADD, s->fd, &ev);
	if (s->key_known) {
		addr(&s->key, 0, a, sizeof(a));
		addr(&s->key, 1, b, sizeof(b));
	}
	printf("new id=%u fd=%d key=%s-%s proto=%u\n", s->id, s->fd, a, b, s->key.proto);
	fflush(stdout);
}

static void on_delete(struct ffpf_flowsocks *fs, struct ffpf_flowsock *s,
		      const struct ffpf_ft_record *rec, void *ctx)
{
	printf("end id=%u reason=%s pkts=%llu/%llu sent=%llu dropped=%llu\n", s->id,
	       rec ? reasons[rec->reason & 7] : "none",
	       rec ? (unsigned long long)rec->flow.side[0].packets : 0ULL,
	       rec ? (unsigned long long)rec->flow.side[1].packets : 0ULL,
	       (unsigned long long)s->packets, (unsigned long long)s->dropped);
	fflush(stdout);
}

/* Everything waiting on @c's fd; 1 at EOF. */
static int read_conv(struct app *app, struct conv *c)
{
	unsigned char buf[65536 + 8192];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct ffpf_flowsock_hdr h;
		bool ok;

		if (n == 0)
			return 1;
		if (n < 0)
			return 0;
		c->read++;
		memcpy(&h, buf, sizeof(h));
		ok = (size_t)n == sizeof(h) + h.headroom + h.caplen && h.headroom == app->headroom &&
		     h.caplen <= h.wire_len && (!app->snaplen || h.caplen <= app->snaplen);
		for (unsigned i = 0; ok && i < h.headroom; i++)
			ok = !buf[sizeof(h) + i];
		c->bad += !ok;
		if (ok && c->dump)
			fwrite(buf + sizeof(h) + h.headroom, 1, h.caplen, c->dump);
	}
}

int main(int argc, char **argv)
{
	FFPF_OPTS(ffpf_flow_opts, o, .rx = FFPF_RX_COPY);
	FFPF_OPTS(ffpf_flowsock_opts, so, .on_new = on_new, .on_delete = on_delete);
	struct ffpf_flowsock_stats st = { .sz = sizeof(st) };
	struct ffpf_rx_stats rs = { .sz = sizeof(rs) };
	struct epoll_event ev = { .events = EPOLLIN }, evs[32];
	struct app app = { .ep = epoll_create1(EPOLL_CLOEXEC) };
	struct ffpf_flowsocks *fs;
	struct ffpf_flow *flow;
	int err;

	if (argc < 4) {
		fprintf(stderr, "usage: flowsock_client IF SPEC STOPFILE [SNAPLEN HEADROOM]\n");
		return 2;
	}
	app.snaplen = argc > 4 ? atoi(argv[4]) : 0;
	app.headroom = argc > 5 ? atoi(argv[5]) : 0;
	app.dump = argc > 6 ? argv[6] : NULL;
	so.snaplen = app.snaplen;
	so.headroom = app.headroom;
	so.ctx = &app;
	flow = ffpf_flow_create(argv[1], &o);
	if (!flow || (err = ffpf_flow_populate(flow, argv[2])) ||
	    (err = ffpf_flow_instantiate(flow))) {
		fprintf(stderr, "flowsock_client: flow: %s\n", strerror(flow ? -err : errno));
		return 1;
	}
	fs = ffpf_flowsocks_open(flow, &so);
	if (!fs || (err = ffpf_flow_activate(flow))) {
		fprintf(stderr, "flowsock_client: per-flow sockets: %s\n",
			strerror(fs ? -err : errno));
		ffpf_flow_close(flow);
		return 1;
	}
	ev.data.ptr = NULL;	/* the dispatcher */
	epoll_ctl(app.ep, EPOLL_CTL_ADD, ffpf_flowsocks_fd(fs), &ev);
	printf("ready\n");
	fflush(stdout);
	while (access(argv[3], F_OK)) {
		int n = epoll_wait(app.ep, evs, 32, 20);

		for (int i = 0; i < n; i++) {
			struct conv *c = evs[i].data.ptr;

			if (c && read_conv(&app, c)) {
				printf("eof id=%u read=%llu bad=%llu\n", c->id, c->read, c->bad);
				fflush(stdout);
				epoll_ctl(app.ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				if (c->dump)
					fclose(c->dump);
				free(c);
			}
		}
		/* packets to their sockets, sweeps, notices: never waits here */
		if (ffpf_flowsocks_dispatch(fs, 0) < 0)
			break;
	}
	ffpf_flowsocks_stats(fs, &st);
	ffpf_flow_rx_stats(flow, &rs);
	printf("stats live=%llu opened=%llu ended=%llu packets=%llu full=%llu late=%llu "
	       "untracked=%llu ibuf_dropped=%llu ring_lost=%llu\n", (unsigned long long)st.live,
	       (unsigned long long)st.opened, (unsigned long long)st.ended,
	       (unsigned long long)st.packets, (unsigned long long)st.full,
	       (unsigned long long)st.late, (unsigned long long)st.untracked,
	       (unsigned long long)rs.dropped, (unsigned long long)rs.lost);
	ffpf_flowsocks_close(fs);
	ffpf_flow_close(flow);
	return 0;
}
