// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * engine.c - ffpf-replay's event loop: one epoll set for every flow in
 * flight, non-blocking connects, one timer per flow kept as a deadline
 * (the loop sleeps until the earliest), and the ops table the plug-ins
 * drive it through (include/ffpf/replay.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "engine.h"

#define RBUF_SZ	65536

uint64_t rp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void end_flow(struct ffpf_replay_flow *f, enum ffpf_replay_outcome o, const char *why)
{
	if (f->outcome != FFPF_REPLAY_PENDING)
		return;		/* the first reason wins */
	f->outcome = o;
	if (why)
		snprintf(f->why, sizeof(f->why), "%s", why);
}

/* --- the ops table -------------------------------------------------------- */

static int is_stream(struct ffpf_replay_flow *f)
{
	return f->cf->proto == IPPROTO_TCP;
}

static int next_chunk(struct ffpf_replay_flow *f, const uint8_t **data, size_t *len)
{
	if (f->next_turn >= f->cf->nturns) {
		*data = NULL;
		*len = 0;
		return -ENODATA;
	}
	if (f->has_repl) {
		*data = f->repl;
		*len = f->repl_len;
	} else {
		*data = f->cf->cdata + f->cf->turns[f->next_turn].coff;
		*len = f->cf->turns[f->next_turn].clen;
	}
	return 0;
}

static int replace_next(struct ffpf_replay_flow *f, const void *data, size_t len)
{
	uint8_t *p;

	if (f->next_turn >= f->cf->nturns)
		return -ENODATA;
	p = malloc(len ? len : 1);
	if (!p)
		return -ENOMEM;
	if (len)
		memcpy(p, data, len);
	free(f->repl);
	f->repl = p;
	f->repl_len = len;
	f->has_repl = 1;
	return 0;
}

static size_t chunks_left(struct ffpf_replay_flow *f)
{
	return f->cf->nturns - f->next_turn;
}

static uint64_t expected(struct ffpf_replay_flow *f)
{
	return f->cur_turn < 0 ? 0 : f->cf->turns[f->cur_turn].slen;
}

static uint64_t received(struct ffpf_replay_flow *f)
{
	return f->turn_recvd;
}

static int set_timer(struct ffpf_replay_flow *f, uint32_t ms)
{
	f->deadline_ms = rp_now_ms() + ms;
	if (!f->deadline_ms)
		f->deadline_ms = 1;
	return 0;
}

static void cancel_timer(struct ffpf_replay_flow *f)
{
	f->deadline_ms = 0;
}

static const struct ffpf_replay_config *config(struct ffpf_replay_flow *f)
{
	return &f->eng->o->cfg;
}

static void want_out(struct ffpf_replay_flow *f, int on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = f };

	epoll_ctl(f->eng->epfd, EPOLL_CTL_MOD, f->fd, &ev);
}

/* Write what is buffered; 0, or the outcome already set on error. */
static int flush_out(struct ffpf_replay_flow *f)
{
	while (f->ooff < f->olen) {
		ssize_t n = send(f->fd, f->obuf + f->ooff, f->olen - f->ooff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			want_out(f, 1);
			return 0;
		}
		if (n < 0) {
			char why[128];

			snprintf(why, sizeof(why), "send: %s", strerror(errno));
			end_flow(f, errno == ECONNRESET || errno == EPIPE ?
				 FFPF_REPLAY_RESET : FFPF_REPLAY_ERROR, why);
			return -errno;
		}
		f->ooff += (size_t)n;
		f->sent += (uint64_t)n;
	}
	f->ooff = f->olen = 0;
	want_out(f, 0);
	return 0;
}

static int send_next(struct ffpf_replay_flow *f)
{
	const uint8_t *data;
	size_t len;

	if (f->outcome != FFPF_REPLAY_PENDING)
		return -ESHUTDOWN;
	if (next_chunk(f, &data, &len))
		return -ENODATA;
	f->cur_turn = (long)f->next_turn++;
	f->turn_recvd = 0;
	if (is_stream(f)) {
		/* queued whole behind what the socket has not taken yet */
		if (f->olen + len > f->ocap) {
			size_t cap = f->olen + len;
			uint8_t *p = realloc(f->obuf, cap ? cap : 1);

			if (!p) {
				end_flow(f, FFPF_REPLAY_ERROR, "out of memory");
				return -ENOMEM;
			}
			f->obuf = p;
			f->ocap = cap;
		}
		memcpy(f->obuf + f->olen, data, len);
		f->olen += len;
		free(f->repl);
		f->repl = NULL;
		f->has_repl = 0;
		return flush_out(f);
	}
	ssize_t n = send(f->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	int e = errno;

	free(f->repl);
	f->repl = NULL;
	f->has_repl = 0;
	if (n < 0) {
		char why[128];

		snprintf(why, sizeof(why), "send: %s", strerror(e));
		end_flow(f, e == ECONNREFUSED ? FFPF_REPLAY_REFUSED : FFPF_REPLAY_ERROR, why);
		return -e;
	}
	f->sent += (uint64_t)n;
	return 0;
}

static const struct ffpf_replay_ops ops = {
	.sz = sizeof(struct ffpf_replay_ops),
	.send_next = send_next,
	.next_chunk = next_chunk,
	.replace_next = replace_next,
	.chunks_left = chunks_left,
	.expected = expected,
	.received = received,
	.set_timer = set_timer,
	.cancel_timer = cancel_timer,
	.end_flow = end_flow,
	.config = config,
	.is_stream = is_stream,
};

/* --- flows ------------------------------------------------------------------ */

static void live_addr(const struct rp_opts *o, const struct rp_flow *cf,
		      struct sockaddr_storage *ss, socklen_t *len)
{
	int s = !cf->client;
	uint16_t port = cf->key.port[s];

	for (int i = 0; i < o->nmaps; i++)
		if (o->map_from[i] == port) {
			port = o->map_to[i];
			break;
		}
	if (o->server) {
		*ss = o->server_addr;
		if (o->server_port)
			port = (uint16_t)o->server_port;
	} else {
		memset(ss, 0, sizeof(*ss));
		if (cf->key.ip_ver == 4) {
			struct sockaddr_in *a = (struct sockaddr_in *)ss;

			a->sin_family = AF_INET;
			memcpy(&a->sin_addr, cf->key.addr[s] + 12, 4);
		} else {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

			a->sin6_family = AF_INET6;
			memcpy(&a->sin6_addr, cf->key.addr[s], 16);
		}
	}
	if (ss->ss_family == AF_INET) {
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		*len = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		*len = sizeof(struct sockaddr_in6);
	}
}

static void call_start(struct ffpf_replay_flow *f)
{
	f->state = RP_L_RUN;
	if (!f->cf->nturns) {
		/* a handshake without data: connecting was all of it */
		end_flow(f, FFPF_REPLAY_COMPLETE, "no data in the capture: connected only");
		return;
	}
	if (f->eng->pl->p.flow_start)
		f->eng->pl->p.flow_start(&f->ctx);
}

static void flow_open(struct ffpf_replay_flow *f)
{
	struct rp_engine *e = f->eng;
	int stream = is_stream(f);
	struct epoll_event ev = { .data.ptr = f };
	int r;

	f->start_ms = rp_now_ms();
	if (e->o->flow_timeout_ms)
		f->limit_ms = f->start_ms + e->o->flow_timeout_ms;
	if (e->pl->p.flow_state_sz) {
		f->pstate = calloc(1, e->pl->p.flow_state_sz);
		if (!f->pstate) {
			end_flow(f, FFPF_REPLAY_ERROR, "out of memory");
			return;
		}
	}
	f->ctx = (struct ffpf_replay_ctx){ .sz = sizeof(f->ctx), .ops = &ops, .flow = f,
					   .global = e->pl->global, .state = f->pstate };
	f->fd = socket(f->dst.ss_family, (stream ? SOCK_STREAM : SOCK_DGRAM) |
		       SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->fd < 0) {
		char why[128];

		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		end_flow(f, FFPF_REPLAY_ERROR, why);
		return;
	}
	if (stream)	/* a chunk is one write: send it now */
		setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	r = connect(f->fd, (struct sockaddr *)&f->dst, f->dlen);
	if (r && errno != EINPROGRESS) {
		char why[128];

		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		end_flow(f, FFPF_REPLAY_REFUSED, why);
		return;
	}
	ev.events = EPOLLIN | (r ? EPOLLOUT : 0);
	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, f->fd, &ev)) {
		end_flow(f, FFPF_REPLAY_ERROR, "epoll_ctl failed");
		return;
	}
	if (r) {
		f->state = RP_L_CONNECTING;
		f->connect_deadline_ms = f->start_ms + e->o->connect_ms;
		return;
	}
	call_start(f);
}

static void on_connected(struct ffpf_replay_flow *f)
{
	int err = 0;
	socklen_t l = sizeof(err);

	getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &l);
	if (err) {
		char why[128];

		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		end_flow(f, FFPF_REPLAY_REFUSED, why);
		return;
	}
	f->connect_deadline_ms = 0;
	want_out(f, 0);
	call_start(f);
}

static void on_eof(struct ffpf_replay_flow *f)
{
	const struct ffpf_replay_plugin *p = &f->eng->pl->p;

	if (p->server_eof)
		p->server_eof(&f->ctx);
	if (f->outcome != FFPF_REPLAY_PENDING)
		return;
	if (!chunks_left(f) && f->olen == f->ooff) {
		end_flow(f, FFPF_REPLAY_COMPLETE, "server closed after the last chunk");
	} else {
		char why[128];

		snprintf(why, sizeof(why), "server closed with %zu client chunk(s) left",
			 chunks_left(f));
		end_flow(f, FFPF_REPLAY_CLOSED, why);
	}
}

static void on_readable(struct ffpf_replay_flow *f, uint8_t *buf)
{
	const struct ffpf_replay_plugin *p = &f->eng->pl->p;

	while (f->outcome == FFPF_REPLAY_PENDING) {
		ssize_t n = recv(f->fd, buf, RBUF_SZ, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			int e = errno;
			char why[128];

			snprintf(why, sizeof(why), "recv: %s", strerror(e));
			if (e == ECONNREFUSED)
				end_flow(f, FFPF_REPLAY_REFUSED, why);
			else if (e == ECONNRESET && !chunks_left(f) &&
				 f->turn_recvd >= expected(f))
				end_flow(f, FFPF_REPLAY_COMPLETE, "server reset after its last answer");
			else
				end_flow(f, e == ECONNRESET ? FFPF_REPLAY_RESET : FFPF_REPLAY_ERROR, why);
			return;
		}
		if (n == 0) {
			if (is_stream(f))
				on_eof(f);
			return;
		}
		/* ACK at once: a server that writes its header and body
		 * separately waits for it (Nagle) while delayed ACKs stall */
		if (is_stream(f))
			setsockopt(f->fd, IPPROTO_TCP, TCP_QUICKACK, &(int){ 1 }, sizeof(int));
		f->recvd += (uint64_t)n;
		f->turn_recvd += (uint64_t)n;
		if (p->server_data)
			p->server_data(&f->ctx, buf, (size_t)n);
		if (!is_stream(f))
			return;		/* one datagram per event keeps turns fair */
	}
}

static void flow_close(struct ffpf_replay_flow *f)
{
	const struct ffpf_replay_plugin *p = &f->eng->pl->p;

	if (f->state == RP_L_RUN && p->flow_end)
		p->flow_end(&f->ctx, f->outcome);
	if (f->fd >= 0) {
		epoll_ctl(f->eng->epfd, EPOLL_CTL_DEL, f->fd, NULL);
		close(f->fd);
		f->fd = -1;
	}
	f->state = RP_L_DONE;
	f->end_ms = rp_now_ms();
	free(f->pstate);
	f->pstate = NULL;
	free(f->obuf);
	f->obuf = NULL;
	free(f->repl);
	f->repl = NULL;
}

static uint64_t flow_due_ms(const struct rp_engine *e, const struct ffpf_replay_flow *f)
{
	if (e->o->speed <= 0)
		return e->t0_ms;
	return e->t0_ms + (uint64_t)((double)(f->cf->first_ns - e->flows[0].cf->first_ns) /
				     1e6 / e->o->speed);
}

static uint64_t min_nz(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

int rp_engine_run(const struct rp_capture *c, const struct rp_opts *o,
		  struct rp_plugin_inst *pl, struct ffpf_replay_flow *flows,
		  uint64_t *wall_ms)
{
	struct rp_engine e = { .o = o, .pl = pl, .flows = flows, .nflows = c->nflows };
	struct epoll_event evs[64];
	size_t next = 0, active = 0, done = 0;
	uint8_t *buf = malloc(RBUF_SZ);

	if (!buf)
		return -ENOMEM;
	e.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e.epfd < 0) {
		free(buf);
		return -errno;
	}
	for (size_t i = 0; i < c->nflows; i++) {
		struct ffpf_replay_flow *f = &flows[i];

		memset(f, 0, sizeof(*f));
		f->cf = c->flows[i];
		f->idx = i + 1;
		f->fd = -1;
		f->cur_turn = -1;
		f->eng = &e;
		if (f->cf->skip[0]) {
			f->outcome = FFPF_REPLAY_SKIPPED;
			snprintf(f->why, sizeof(f->why), "%s", f->cf->skip);
			f->state = RP_L_DONE;
		} else {
			live_addr(o, f->cf, &f->dst, &f->dlen);
		}
	}
	e.t0_ms = rp_now_ms();
	for (;;) {
		uint64_t now = rp_now_ms(), wake = 0;
		int n, tmo;

		/* start what is due, in capture order */
		while (next < c->nflows && (flows[next].state == RP_L_DONE ||
		       (active < (size_t)o->concurrency && flow_due_ms(&e, &flows[next]) <= now))) {
			struct ffpf_replay_flow *f = &flows[next++];

			if (f->state == RP_L_DONE) {
				done++;
				continue;
			}
			active++;
			flow_open(f);
		}
		/* timers and ended flows */
		for (size_t i = 0; i < next; i++) {
			struct ffpf_replay_flow *f = &flows[i];

			if (f->state == RP_L_DONE || f->state == RP_L_WAIT)
				continue;
			now = rp_now_ms();
			if (f->outcome == FFPF_REPLAY_PENDING && f->connect_deadline_ms &&
			    now >= f->connect_deadline_ms) {
				char why[96];

				snprintf(why, sizeof(why), "connect: no answer in %u ms", o->connect_ms);
				end_flow(f, FFPF_REPLAY_REFUSED, why);
			}
			if (f->outcome == FFPF_REPLAY_PENDING && f->limit_ms && now >= f->limit_ms)
				end_flow(f, FFPF_REPLAY_HUNG, "flow timeout (--flow-timeout-ms)");
			if (f->outcome == FFPF_REPLAY_PENDING && f->state == RP_L_RUN &&
			    f->deadline_ms && now >= f->deadline_ms) {
				f->deadline_ms = 0;
				if (pl->p.timer)
					pl->p.timer(&f->ctx);
			}
			if (f->outcome != FFPF_REPLAY_PENDING) {
				flow_close(f);
				active--;
				done++;
				continue;
			}
			wake = min_nz(wake, min_nz(f->deadline_ms,
					min_nz(f->connect_deadline_ms, f->limit_ms)));
		}
		if (done == c->nflows)
			break;
		if (next < c->nflows && active < (size_t)o->concurrency)
			wake = min_nz(wake, flow_due_ms(&e, &flows[next]));
		now = rp_now_ms();
		tmo = !wake ? -1 : wake <= now ? 0 : (int)(wake - now > 60000 ? 60000 : wake - now);
		if (!active && tmo < 0)
			tmo = 0;
		n = epoll_wait(e.epfd, evs, 64, tmo);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			struct ffpf_replay_flow *f = evs[i].data.ptr;

			if (f->state == RP_L_DONE || f->outcome != FFPF_REPLAY_PENDING)
				continue;
			if (f->state == RP_L_CONNECTING) {
				if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
					on_connected(f);
				continue;
			}
			if (evs[i].events & EPOLLOUT)
				flush_out(f);
			if (f->outcome == FFPF_REPLAY_PENDING &&
			    (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
				on_readable(f, buf);
		}
	}
	*wall_ms = rp_now_ms() - e.t0_ms;
	close(e.epfd);
	free(buf);
	return 0;
}
