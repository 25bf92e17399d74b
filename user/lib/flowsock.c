// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * flowsock.c - per-flow sockets (ffpf/flowsock.h): the packets of an FFPF
 * flow demultiplexed by their tracker's flow id into one socketpair per
 * live flow, and the tracker's records turned into deletion notices.
 *
 * A flow's end and its last packets race: the tracker may take a flow out
 * of the table while packets it counted are still on their way up (the
 * copy ring, the IBuf). So an ended flow's notice waits linger_ms, its
 * packets still go to its socket meanwhile, and a packet with the id of a
 * flow whose notice is out is counted as late, never given a new socket
 * (ids are unique among live flows only; a packet of a new flow carries a
 * new id). Closing our end after the notice makes the application's end
 * read EOF once it has read the flow's last packet.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <ffpf/flowsock.h>

#include "internal.h"
#include "log.h"

#define FS_BUCKETS	4096		/* power of two */
#define FS_BATCH	64
#define FS_LINGER_MS	50
#define FS_SWEEP_MS	250
#define FS_DEAD_MS	5000		/* how long an ended id still catches late packets */
#define FS_HEADROOM_MAX	4096

enum fs_state { FS_LIVE, FS_ENDING, FS_DEAD };

struct fs_entry {
	struct ffpf_flowsock s;		/* first: the application sees this part */
	struct fs_entry *next;		/* bucket chain */
	int our_fd;			/* our end, -1 once the notice is out */
	enum fs_state state;
	__u64 due_ms;			/* ENDING: notice time; DEAD: forget time */
	struct ffpf_ft_record rec;	/* ENDING: the final record */
	bool have_rec;
};

struct ffpf_flowsocks {
	struct ffpf_flow *flow;
	struct ffpf_flowsock_opts o;
	struct fs_entry *bucket[FS_BUCKETS];
	__u64 next_sweep_ms;
	__u64 next_due_ms;		/* earliest due_ms of an ENDING or DEAD entry;
					 * ~0: none (fs_due need not look) */
	struct ffpf_flowsock_stats st;
	__u8 *buf;			/* one datagram */
	size_t buf_len;
};

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static struct fs_entry **slot(struct ffpf_flowsocks *fs, __u32 id)
{
	struct fs_entry **pp = &fs->bucket[(id * 2654435761u) & (FS_BUCKETS - 1)];

	while (*pp && (*pp)->s.id != id)
		pp = &(*pp)->next;
	return pp;
}

/* A new flow's socket; NULL if none could be made (counted as dropped). */
static struct fs_entry *fs_new(struct ffpf_flowsocks *fs, __u32 id)
{
	struct fs_entry *e = calloc(1, sizeof(*e));
	int sv[2];

	if (!e)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		pr_warn("flowsock: flow %u: socketpair: %s\n", id, strerror(errno));
		free(e);
		return NULL;
	}
	/* Ours only sends: what the application writes is not read here. */
	shutdown(sv[0], SHUT_RD);
	e->our_fd = sv[0];
	e->s.fd = sv[1];
	e->s.id = id;
	e->s.key_known = !ffpf_ft_lookup_id(fs->flow, id, &e->s.key, NULL);
	e->state = FS_LIVE;
	*slot(fs, id) = e;
	fs->st.live++;
	fs->st.opened++;
	if (fs->o.on_new)
		fs->o.on_new(fs, &e->s, NULL, fs->o.ctx);
	return e;
}

static void fs_unlink_free(struct ffpf_flowsocks *fs, struct fs_entry *e)
{
	struct fs_entry **pp = slot(fs, e->s.id);

	if (*pp == e)
		*pp = e->next;
	free(e);
}

/* The notice: the application hears of the end, then reads EOF. */
static void fs_notice(struct ffpf_flowsocks *fs, struct fs_entry *e, __u64 now)
{
	if (fs->o.on_delete)
		fs->o.on_delete(fs, &e->s, e->have_rec ? &e->rec : NULL, fs->o.ctx);
	close(e->our_fd);
	e->our_fd = -1;
	e->state = FS_DEAD;
	e->due_ms = now + FS_DEAD_MS;
	if (e->due_ms < fs->next_due_ms)
		fs->next_due_ms = e->due_ms;
	fs->st.live--;
	fs->st.ended++;
}

static void fs_packet(struct ffpf_flowsocks *fs, const struct ffpf_packet *p)
{
	struct fs_entry *e;
	struct ffpf_flowsock_hdr *h = (void *)fs->buf;
	__u32 cap = p->caplen;
	size_t len;

	if (!p->flow_id) {
		fs->st.untracked++;
		return;
	}
	e = *slot(fs, p->flow_id);
	if (e && e->state == FS_DEAD) {
		fs->st.late++;
		return;
	}
	if (!e && !(e = fs_new(fs, p->flow_id))) {
		fs->st.full++;
		return;
	}
	if (fs->o.snaplen && cap > fs->o.snaplen)
		cap = fs->o.snaplen;
	*h = (struct ffpf_flowsock_hdr){ .ts_ns = p->ts_ns, .wire_len = p->wire_len,
					 .caplen = cap, .headroom = fs->o.headroom,
					 .dir = p->dir };
	len = sizeof(*h) + fs->o.headroom;
	memset(fs->buf + sizeof(*h), 0, fs->o.headroom);
	memcpy(fs->buf + len, p->data, cap);
	len += cap;
	/* Never block on a slow reader: its packet is lost, and counted. */
	if (send(e->our_fd, fs->buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		e->s.dropped++;
		fs->st.full++;
		return;
	}
	e->s.packets++;
	fs->st.packets++;
	fs->st.bytes += p->wire_len;
}

/* The tracker's record (from a sweep in dispatch, or the stop in close). */
static void fs_on_end(struct ffpf_flow *flow, const struct ffpf_ft_record *rec, void *ctx)
{
	struct ffpf_flowsocks *fs = ctx;
	struct fs_entry *e = *slot(fs, rec->flow.id);

	/* A flow whose packets never reached us has no socket: nothing to tell. */
	if (!e || e->state != FS_LIVE)
		return;
	e->rec = *rec;
	e->have_rec = true;
	if (!e->s.key_known) {
		e->s.key = rec->key;
		e->s.key_known = true;
	}
	e->state = FS_ENDING;
	e->due_ms = now_ms() + fs->o.linger_ms;
	if (e->due_ms < fs->next_due_ms)
		fs->next_due_ms = e->due_ms;
}

/*
 * Notices whose linger passed; ids forgotten after FS_DEAD_MS (all:
 * @force). Called by every dispatch: it walks the table only when
 * something is due.
 */
static void fs_due(struct ffpf_flowsocks *fs, bool force)
{
	__u64 now = now_ms(), next = ~0ULL;

	if (!force && now < fs->next_due_ms)
		return;
	for (int b = 0; b < FS_BUCKETS; b++) {
		struct fs_entry *e = fs->bucket[b], *nx;

		for (; e; e = nx) {
			nx = e->next;
			if (e->state == FS_LIVE && force) {
				fs_notice(fs, e, now);
			} else if (e->state == FS_ENDING && (force || now >= e->due_ms)) {
				fs_notice(fs, e, now);
			}
			if (e->state == FS_DEAD && (force || now >= e->due_ms))
				fs_unlink_free(fs, e);
			else if (e->state != FS_LIVE && e->due_ms < next)
				next = e->due_ms;
		}
	}
	fs->next_due_ms = next;
}

struct ffpf_flowsocks *ffpf_flowsocks_open(struct ffpf_flow *flow,
					   const struct ffpf_flowsock_opts *opts)
{
	FFPF_OPTS(ffpf_ft_opts, fo, .on_end = fs_on_end, .manual = true);
	struct ffpf_flowsocks *fs;
	int err;

	if (!flow || (opts && opts->sz < offsetof(struct ffpf_flowsock_opts, headroom))) {
		errno = EINVAL;
		return NULL;
	}
	if (ffpf_flow_fd(flow) < 0) {
		pr_warn("flow %s: per-flow sockets need a flow that receives packets (rx copy "
			"or tap)\n", ffpf_flow_name(flow));
		errno = EINVAL;
		return NULL;
	}
	if (OPTS_GET(opts, headroom, 0) > FS_HEADROOM_MAX) {
		pr_warn("flow %s: per-flow sockets: headroom %u above %u\n", ffpf_flow_name(flow),
			opts->headroom, FS_HEADROOM_MAX);
		errno = EINVAL;
		return NULL;
	}
	fs = calloc(1, sizeof(*fs));
	if (!fs) {
		errno = ENOMEM;
		return NULL;
	}
	fs->flow = flow;
	fs->o.snaplen = OPTS_GET(opts, snaplen, 0);
	fs->o.headroom = OPTS_GET(opts, headroom, 0);
	fs->o.on_new = OPTS_GET(opts, on_new, NULL);
	fs->o.on_delete = OPTS_GET(opts, on_delete, NULL);
	fs->o.ctx = OPTS_GET(opts, ctx, NULL);
	fs->o.linger_ms = OPTS_GET(opts, linger_ms, 0) ?: FS_LINGER_MS;
	fs->o.sweep_ms = OPTS_GET(opts, sweep_ms, 0) ?: FS_SWEEP_MS;
	fs->st.sz = sizeof(fs->st);
	fs->buf_len = sizeof(struct ffpf_flowsock_hdr) + fs->o.headroom + 65536;
	fs->buf = malloc(fs->buf_len);
	fo.ctx = fs;
	err = fs->buf ? ffpf_ft_start(flow, &fo) : -ENOMEM;
	/* the id -> key index: what names a flow by its first packet */
	if (!err && ffpf_ft_lookup_id(flow, 1, NULL, NULL) == -EOPNOTSUPP) {
		pr_warn("flow %s: per-flow sockets need flowtrack(index=1) in its chain\n",
			ffpf_flow_name(flow));
		ffpf_ft_stop(flow);
		err = -EOPNOTSUPP;
	}
	if (err) {
		if (err == -ENOENT)
			err = -EINVAL;	/* no flowtrack stage: said so already */
		free(fs->buf);
		free(fs);
		errno = -err;
		return NULL;
	}
	fs->next_sweep_ms = now_ms() + fs->o.sweep_ms;
	fs->next_due_ms = ~0ULL;
	return fs;
}

int ffpf_flowsocks_dispatch(struct ffpf_flowsocks *fs, int timeout_ms)
{
	struct ffpf_packet pkts[FS_BATCH];
	struct pollfd p;
	__u64 now;
	int n, total = 0, wait;

	if (!fs)
		return -EINVAL;
	now = now_ms();
	/* wake for the next sweep and for notices, whatever the caller's timeout */
	wait = fs->next_sweep_ms > now ? (int)(fs->next_sweep_ms - now) : 0;
	if (wait > (int)fs->o.linger_ms)
		wait = fs->o.linger_ms;
	if (timeout_ms >= 0 && timeout_ms < wait)
		wait = timeout_ms;
	p = (struct pollfd){ .fd = ffpf_flow_fd(fs->flow), .events = POLLIN };
	if (poll(&p, 1, wait) < 0 && errno == EINTR)
		return -EINTR;
	while ((n = ffpf_flow_peek_batch(fs->flow, pkts, FS_BATCH)) > 0) {
		for (int i = 0; i < n; i++)
			fs_packet(fs, &pkts[i]);
		ffpf_flow_release(fs->flow, n);
		total += n;
	}
	if (n < 0 && n != -EAGAIN)
		return n;
	now = now_ms();
	if (now >= fs->next_sweep_ms) {
		n = ffpf_ft_sweep(fs->flow);
		if (n < 0)
			return n;
		fs->next_sweep_ms = now + fs->o.sweep_ms;
	}
	fs_due(fs, false);
	return total;
}

int ffpf_flowsocks_fd(const struct ffpf_flowsocks *fs)
{
	return fs ? ffpf_flow_fd(fs->flow) : -EINVAL;
}

int ffpf_flowsocks_stats(const struct ffpf_flowsocks *fs, struct ffpf_flowsock_stats *st)
{
	if (!fs || !st)
		return -EINVAL;
	return ffpf_copy_sized(st, &fs->st, sizeof(fs->st));
}

void ffpf_flowsocks_close(struct ffpf_flowsocks *fs)
{
	struct ffpf_packet pkts[FS_BATCH];
	int n;

	if (!fs)
		return;
	/* What already arrived first, then every live flow ends (CLOSED). */
	while ((n = ffpf_flow_peek_batch(fs->flow, pkts, FS_BATCH)) > 0) {
		for (int i = 0; i < n; i++)
			fs_packet(fs, &pkts[i]);
		ffpf_flow_release(fs->flow, n);
	}
	ffpf_ft_stop(fs->flow);
	fs_due(fs, true);
	free(fs->buf);
	free(fs);
}
