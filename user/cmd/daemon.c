// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * daemon.c - `ffpf-bpf daemon`: the privileged owner of the interfaces'
 * root programs, serving flows to applications that may not load BPF
 * themselves (docs/daemon.md, ffpf-bpf-daemon(8)).
 *
 * One thread, one epoll loop over a SOCK_SEQPACKET unix socket. A client
 * is known by its peer credentials (SO_PEERCRED, SO_PEERGROUPS), never by
 * what it says. Every request is parsed and checked (msg.c) before it is
 * looked at; a malformed one gets an error reply and the connection is
 * dropped; a client that does not read its replies is dropped rather than
 * waited for. Each flow is the library's own, created in this process with
 * the client's group and instantiated only after the policy allowed the
 * whole graph for the client; a client that goes away has every flow
 * closed, which frees its programs, maps and frames.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <bpf/bpf.h>
#include <ffpf/policy.h>

#include "cmd.h"
#include "ftfeed.h"
#include "internal.h"
#include "msg.h"
#include "pbuf.h"
#include "policy.h"
#include "remote.h"
#include "rx.h"

#define D_MAX_CLIENTS	256
#define D_MAX_FLOWS	64	/* per client */
#define D_MAX_GIDS	64
#define D_FT_MIN_MS	20	/* a client's sweep period, at least */

struct dflow {
	struct dflow *next;
	struct ffpf_flow *flow;
	__s32 handle;
	char name[FFPF_NAME_LEN];	/* the client's name; the datapath's is NAME.HANDLE */
	struct ffpf_policy_grant grant;
	struct ffpf_ft_feed feed;	/* flow tracking: the client's records */
};

struct client {
	struct client *next;
	int fd;
	struct ucred cred;
	char user[64];
	gid_t gids[D_MAX_GIDS + 1];
	int ngids;
	struct dflow *flows;
	int nflows;
	__u64 requests, errors;
};

static struct {
	const char *sock_path;
	const char *policy_path;
	int lfd, ep;
	struct client *clients;
	int nclients;
	__s32 next_handle;
	/* What the library printed while serving the current request. */
	char cap[FFPF_MSG_TEXT_MAX];
	size_t cap_len;
	bool capturing;
	bool quiet;
	struct ffpf_msg_buf rep;
	struct ffpf_msg_buf in;
} d;

static void dlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void dlog(const char *fmt, ...)
{
	va_list ap;

	if (d.quiet)
		return;
	va_start(ap, fmt);
	fputs("ffpf-bpf daemon: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* The library's messages: into the reply while serving, to stderr always. */
static int d_print(enum ffpf_print_level level, const char *fmt, va_list ap)
{
	va_list ap2;

	if (level == FFPF_DEBUG)
		return 0;
	va_copy(ap2, ap);
	if (d.capturing && level == FFPF_WARN && d.cap_len < sizeof(d.cap) - 1) {
		int n = vsnprintf(d.cap + d.cap_len, sizeof(d.cap) - d.cap_len, fmt, ap2);

		if (n > 0)
			d.cap_len += (size_t)n < sizeof(d.cap) - d.cap_len ? (size_t)n
									 : sizeof(d.cap) - d.cap_len - 1;
	}
	va_end(ap2);
	if (!d.quiet)
		vfprintf(stderr, fmt, ap);
	return 0;
}

/* --- clients ------------------------------------------------------------ */

static int client_uid_flows(uid_t uid)
{
	int n = 0;

	for (struct client *c = d.clients; c; c = c->next)
		if (c->cred.uid == uid)
			for (struct dflow *f = c->flows; f; f = f->next)
				n += f->flow->instantiated;
	return n;
}

static struct dflow *find_flow(struct client *c, __s32 handle)
{
	for (struct dflow *f = c->flows; f; f = f->next)
		if (f->handle == handle)
			return f;
	return NULL;
}

static void flow_drop(struct client *c, struct dflow *f)
{
	for (struct dflow **pp = &c->flows; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	ffpf_flow_close(f->flow);	/* its last records go into the feed */
	ffpf_ft_feed_destroy(&f->feed);
	free(f);
	c->nflows--;
}

static void client_drop(struct client *c, const char *why)
{
	int n = c->nflows;

	while (c->flows)
		flow_drop(c, c->flows);
	epoll_ctl(d.ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	for (struct client **pp = &d.clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	d.nclients--;
	dlog("client pid %d uid %u (%s): %s; %d flow%s closed\n", c->cred.pid, c->cred.uid,
	     c->user, why, n, n == 1 ? "" : "s");
	free(c);
}

static void client_accept(void)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	socklen_t len = sizeof(struct ucred);
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	struct client *c;
	int fd = accept4(d.lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (d.nclients >= D_MAX_CLIENTS) {
		dlog("refusing a client: %d clients already\n", d.nclients);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len)) {
		free(c);
		close(fd);
		return;
	}
	/* The groups the kernel knew at connect(): what the policy's group rules see. */
	len = sizeof(gid_t) * D_MAX_GIDS;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, c->gids, &len))
		len = 0;
	c->ngids = len / sizeof(gid_t);
	c->gids[c->ngids++] = c->cred.gid;
	if (!getpwuid_r(c->cred.uid, &pw, buf, sizeof(buf), &pwp) && pwp)
		snprintf(c->user, sizeof(c->user), "%s", pwp->pw_name);
	else
		snprintf(c->user, sizeof(c->user), "%u", c->cred.uid);
	c->fd = fd;
	ev.data.ptr = c;
	if (epoll_ctl(d.ep, EPOLL_CTL_ADD, fd, &ev)) {
		close(fd);
		free(c);
		return;
	}
	c->next = d.clients;
	d.clients = c;
	d.nclients++;
	dlog("client pid %d uid %u (%s) connected\n", c->cred.pid, c->cred.uid, c->user);
}

/* --- replies ------------------------------------------------------------ */

static void reply_start(const struct ffpf_msg_hdr *req, __s32 flow, int err)
{
	ffpf_msg_init(&d.rep, req->type | FFPF_MSG_REPLY, req->seq, flow, err);
}

/* Send d.rep; false if the client must go (it does not read, or it left). */
static bool reply_send(struct client *c, const int *fds, int nfds)
{
	int err = ffpf_msg_send(c->fd, &d.rep, fds, nfds, true);

	if (err == -EMSGSIZE) {
		/* Too much to say: say less. */
		__u16 type = d.rep.hdr.type;
		__u32 seq = d.rep.hdr.seq;

		ffpf_msg_init(&d.rep, type, seq, 0, -EMSGSIZE);
		err = ffpf_msg_send(c->fd, &d.rep, NULL, 0, true);
	}
	return !err;
}

/* An error reply carrying what the library printed (or @fmt). */
static bool reply_err(struct client *c, const struct ffpf_msg_hdr *req, int err,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static bool reply_err(struct client *c, const struct ffpf_msg_hdr *req, int err,
		      const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	c->errors++;
	reply_start(req, 0, err < 0 ? err : -EIO);
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
		ffpf_msg_put_str(&d.rep, FFPF_A_MESSAGE, text);
	} else if (d.cap_len) {
		ffpf_msg_put_str(&d.rep, FFPF_A_MESSAGE, d.cap);
	}
	return reply_send(c, NULL, 0);
}

/* --- requests ----------------------------------------------------------- */

static bool do_create(struct client *c, const struct ffpf_msg *m)
{
	FFPF_OPTS(ffpf_flow_opts, o, .daemon = "off");
	char group[FFPF_GROUP_LEN], dpname[FFPF_NAME_LEN];
	struct dflow *f;
	__s32 handle;

	if (c->nflows >= D_MAX_FLOWS)
		return reply_err(c, &m->hdr, -ENOSPC, "ffpf-bpf daemon: %d flows on one "
				 "connection at most\n", D_MAX_FLOWS);
	if (FFPF_MSG_HAS(m, FFPF_A_GROUP) && m->str[FFPF_A_GROUP][0])
		snprintf(group, sizeof(group), "%s", m->str[FFPF_A_GROUP]);
	else
		snprintf(group, sizeof(group), "user:%.58s", c->user);
	/*
	 * Flow names are per datapath, and the datapath is everyone's here:
	 * the handle keeps one client's "web" from colliding with another's.
	 */
	handle = d.next_handle + 1 > 0 ? d.next_handle + 1 : 1;
	snprintf(dpname, sizeof(dpname), "%.20s.%d", FFPF_MSG_HAS(m, FFPF_A_NAME) &&
		 m->str[FFPF_A_NAME][0] ? m->str[FFPF_A_NAME] : "flow", handle);
	o.name = dpname;
	o.hook = m->u32[FFPF_A_HOOK];
	o.rx = m->u32[FFPF_A_RX];
	o.snaplen = m->u32[FFPF_A_SNAPLEN];
	o.ibuf_size = m->u32[FFPF_A_IBUF_SIZE];
	o.group = group;
	if (FFPF_MSG_HAS(m, FFPF_A_SHARE)) {
		/* only a flow of this connection: a handle is no capability */
		struct dflow *sf = find_flow(c, (__s32)m->share);

		if (!sf)
			return reply_err(c, &m->hdr, -ENOENT, "ffpf-bpf daemon: no flow %d on this "
					 "connection to share state with\n", (__s32)m->share);
		o.share = sf->flow;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return reply_err(c, &m->hdr, -ENOMEM, NULL);
	ffpf_ft_feed_init(&f->feed);
	f->flow = ffpf_flow_create(m->str[FFPF_A_IFNAME], &o);
	if (!f->flow) {
		int err = -errno;

		free(f);
		return reply_err(c, &m->hdr, err, NULL);
	}
	/* Its packets go to another process: the IBuf keeps its own books. */
	f->flow->remote_consumer = f->flow->rx != FFPF_RX_NONE;
	f->handle = d.next_handle = handle;
	if (FFPF_MSG_HAS(m, FFPF_A_NAME) && m->str[FFPF_A_NAME][0])
		snprintf(f->name, sizeof(f->name), "%s", m->str[FFPF_A_NAME]);
	else
		snprintf(f->name, sizeof(f->name), "flow%d", handle);
	f->next = c->flows;
	c->flows = f;
	c->nflows++;
	reply_start(&m->hdr, f->handle, 0);
	ffpf_msg_put_str(&d.rep, FFPF_A_NAME, f->name);
	return reply_send(c, NULL, 0);
}

static void fill_info(const struct dflow *f, struct ffpf_msg_info *info)
{
	const struct ffpf_flow *flow = f->flow;

	memset(info, 0, sizeof(*info));
	info->nfilters = ffpf_flow_nfilters(flow);
	info->hook = ffpf_flow_hook(flow);
	snprintf(info->name, sizeof(info->name), "%s", f->name);
	snprintf(info->spec, sizeof(info->spec), "%s", ffpf_flow_spec(flow));
	for (__u32 i = 0; i < info->nfilters && i < FFPF_MAX_STAGES; i++) {
		const char *n = ffpf_flow_filter_name(flow, i);

		snprintf(info->classes[i], sizeof(info->classes[i]), "%s",
			 ffpf_flow_filter_class(flow, i));
		snprintf(info->names[i], sizeof(info->names[i]), "%s", n ? n : "");
	}
}

static bool do_instantiate(struct client *c, const struct ffpf_msg *m, struct dflow *f)
{
	struct ffpf_flow *flow = f->flow;
	struct ffpf_policy *pol = NULL;
	struct ffpf_msg_info info;
	char why[512];
	int err;

	if (flow->instantiated)
		return reply_err(c, &m->hdr, -EALREADY, NULL);
	if (!flow->nstages)
		return reply_err(c, &m->hdr, -EINVAL, "flow %s: no filters: populate it first\n",
				 flow->name[0] ? flow->name : "(unnamed)");
	err = ffpf_policy_load(d.policy_path, &pol);
	if (err == -ENOENT && c->cred.uid != 0)
		return reply_err(c, &m->hdr, -EPERM, "ffpf-bpf daemon: no policy file at %s: "
				 "only root is served (see ffpf-bpf-policy(5))\n", d.policy_path);
	if (err && err != -ENOENT)
		return reply_err(c, &m->hdr, err, NULL);
	if (pol) {
		FFPF_OPTS(ffpf_policy_check_opts, o, .uid = c->cred.uid, .user = c->user,
			  .gids = c->gids, .ngids = c->ngids,
			  .nflows = client_uid_flows(c->cred.uid), .why = why,
			  .why_len = sizeof(why), .group = flow->group, .grant = &f->grant);

		err = ffpf_policy_check(pol, flow, &o);
		ffpf_policy_free(pol);
		if (err == -EPERM) {
			dlog("client pid %d uid %u (%s): flow %s refused: %s\n", c->cred.pid,
			     c->cred.uid, c->user, flow->name[0] ? flow->name : "(unnamed)", why);
			return reply_err(c, &m->hdr, -EPERM, "flow %s refused by policy: %s\n",
					 flow->name[0] ? flow->name : "(unnamed)", why);
		}
		if (err)
			return reply_err(c, &m->hdr, err, NULL);
		ffpf_policy_trim(flow, f->grant.snaplen_cap);
	} else {
		f->grant.mbuf_access = FFPF_POLICY_MBUF_WRITE;	/* root, no policy */
	}
	flow->policy_done = true;
	err = ffpf_flow_instantiate(flow);
	if (err)
		return reply_err(c, &m->hdr, err, NULL);
	dlog("client pid %d uid %u (%s): flow %s on %s (group %s): %s\n", c->cred.pid,
	     c->cred.uid, c->user, flow->name, flow->ifname, flow->group, ffpf_flow_spec(flow));

	reply_start(&m->hdr, f->handle, 0);
	ffpf_msg_put_u32(&d.rep, FFPF_A_SLOT, ffpf_flow_slot(flow));
	ffpf_msg_put_u32(&d.rep, FFPF_A_SNAPLEN, flow->snaplen);
	fill_info(f, &info);
	ffpf_msg_put(&d.rep, FFPF_A_INFO, &info, sizeof(info));
	if (flow->rx != FFPF_RX_NONE) {
		struct ffpf_rx_export e;
		struct ffpf_msg_ring ring = {};
		int fds[3];

		err = ffpf_rx_export(flow, &e);
		if (err)
			return reply_err(c, &m->hdr, err, "flow %s: no IBuf to hand over\n",
					 flow->name);
		ring.pbuf_size = e.pbuf_size;
		ring.ring_size = e.ring_size;
		ring.capacity = e.capacity;
		ring.frame_size = e.frame_size;
		ring.flow = ffpf_flow_slot(flow);
		ffpf_msg_put(&d.rep, FFPF_A_RING, &ring, sizeof(ring));
		fds[0] = e.pbuf_fd;
		fds[1] = e.ring_fd;
		fds[2] = e.efd;
		return reply_send(c, fds, 3);
	}
	return reply_send(c, NULL, 0);
}

/* A new fd of map @fd that can only read it (-1 and errno on failure). */
static int rdonly_fd(int fd)
{
	LIBBPF_OPTS(bpf_get_fd_by_id_opts, fo, .open_flags = BPF_F_RDONLY);
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);

	return bpf_obj_get_info_by_fd(fd, &mi, &len) ? -1 : bpf_map_get_fd_by_id_opts(mi.id, &fo);
}

/* The filter's MBuf map as the policy allows: read-only unless it grants write. */
static bool do_mbuf(struct client *c, const struct ffpf_msg *m, struct dflow *f)
{
	__u32 idx = m->u32[FFPF_A_INDEX];
	const struct ffpf_stage *st;
	bool ok;
	int fd;

	if (!f->flow->instantiated || idx >= (__u32)f->flow->nstages)
		return reply_err(c, &m->hdr, -EINVAL, "flow %s: no filter %u\n", f->flow->name,
				 idx);
	if (f->grant.mbuf_access == FFPF_POLICY_MBUF_NONE)
		return reply_err(c, &m->hdr, -EPERM, "flow %s: the policy does not let user %s "
				 "map MBufs (no 'mbuf read' or 'mbuf write' line); read the "
				 "counters with ffpf_flow_filter_stats()\n", f->flow->name, c->user);
	st = &f->flow->stages[idx];
	fd = f->grant.mbuf_access == FFPF_POLICY_MBUF_WRITE ? dup(st->mbuf_fd)
							     : rdonly_fd(st->mbuf_fd);
	if (fd < 0)
		return reply_err(c, &m->hdr, -errno, "flow %s: filter %u's MBuf: %s\n",
				 f->flow->name, idx, strerror(errno));
	reply_start(&m->hdr, f->handle, 0);
	ffpf_msg_put_u64(&d.rep, FFPF_A_SIZE, st->mbuf_len);
	ffpf_msg_put_u32(&d.rep, FFPF_A_ACCESS, f->grant.mbuf_access == FFPF_POLICY_MBUF_WRITE ?
			 FFPF_ACCESS_WRITE : FFPF_ACCESS_READ);
	ok = reply_send(c, &fd, 1);
	close(fd);
	return ok;
}

static bool reply_blob(struct client *c, const struct ffpf_msg *m, struct dflow *f,
		       int err, const void *blob, size_t len)
{
	if (err)
		return reply_err(c, &m->hdr, err, NULL);
	reply_start(&m->hdr, f->handle, 0);
	ffpf_msg_put(&d.rep, FFPF_A_BLOB, blob, len);
	return reply_send(c, NULL, 0);
}

/* Flow tracking: the sweeper runs here, its records go to the client's ring. */
static void ft_to_feed(struct ffpf_flow *flow, const struct ffpf_ft_record *rec, void *ctx)
{
	ffpf_ft_feed_push(ctx, rec);
}

static bool do_ft_start(struct client *c, const struct ffpf_msg *m, struct dflow *f)
{
	const struct ffpf_msg_ft *q = m->ft;
	struct ffpf_msg_ft ft = {};
	int fds[4] = { -1, -1, -1, -1 }, table_fd, byid_fd, err;
	bool index, ok;
	FFPF_OPTS(ffpf_ft_opts, o, .on_end = ft_to_feed, .ctx = &f->feed,
		  .interval_ms = q->interval_ms && q->interval_ms < D_FT_MIN_MS ? D_FT_MIN_MS
										: q->interval_ms,
		  .manual = q->flags & FFPF_MSG_FT_MANUAL);

	if (!f->flow->instantiated)
		return reply_err(c, &m->hdr, -EINVAL, "flow %s: instantiate it before tracking\n",
				 f->flow->name);
	if (f->feed.r)
		return reply_err(c, &m->hdr, -EALREADY, NULL);
	/* The ring first: the tracker may end flows as soon as it starts. */
	err = ffpf_ft_feed_create(&f->feed, FFPF_FT_SIZE_DEFAULT);
	if (err)
		return reply_err(c, &m->hdr, err, "flow %s: record ring: %s\n", f->flow->name,
				 strerror(-err));
	err = ffpf_ft_start(f->flow, &o);
	if (!err)
		err = ffpf_ft_maps(f->flow, &table_fd, &byid_fd, &ft.table_size, &index);
	if (err) {
		ffpf_ft_feed_destroy(&f->feed);
		return reply_err(c, &m->hdr, err, NULL);
	}
	/* The client reads the table; only the sweeper here may change it. */
	fds[0] = f->feed.memfd;
	fds[1] = f->feed.efd;
	fds[2] = rdonly_fd(table_fd);
	fds[3] = rdonly_fd(byid_fd);
	if (fds[2] < 0 || fds[3] < 0) {
		err = -errno;
		for (int i = 2; i < 4; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		ffpf_ft_stop(f->flow);	/* so that a retry starts afresh */
		ffpf_ft_feed_destroy(&f->feed);
		return reply_err(c, &m->hdr, err, "flow %s: flow table: %s\n", f->flow->name,
				 strerror(-err));
	}
	ft.ring_size = f->feed.len;
	ft.capacity = f->feed.capacity;
	ft.flags = index ? FFPF_MSG_FT_INDEX : 0;
	reply_start(&m->hdr, f->handle, 0);
	ffpf_msg_put(&d.rep, FFPF_A_FT, &ft, sizeof(ft));
	ok = reply_send(c, fds, 4);
	close(fds[2]);
	close(fds[3]);
	return ok;
}

static bool do_ft(struct client *c, const struct ffpf_msg *m, struct dflow *f)
{
	int n;

	if (!f->feed.r)
		return reply_err(c, &m->hdr, -EINVAL, "flow %s: not tracking: FT_START first\n",
				 f->flow->name);
	switch (m->hdr.type) {
	case FFPF_MSG_FT_SWEEP:
		n = ffpf_ft_sweep(f->flow);
		if (n < 0)
			return reply_err(c, &m->hdr, n, NULL);
		reply_start(&m->hdr, f->handle, 0);
		ffpf_msg_put_u64(&d.rep, FFPF_A_SIZE, n);
		return reply_send(c, NULL, 0);
	case FFPF_MSG_FT_EXPIRE: {
		struct ffpf_ft_key key;

		if (m->blob_len != sizeof(key))
			return reply_err(c, &m->hdr, -EINVAL, "ffpf-bpf daemon: FT_EXPIRE: a key "
					 "is %zu bytes, not %u\n", sizeof(key), m->blob_len);
		memcpy(&key, m->blob, sizeof(key));
		n = ffpf_ft_expire(f->flow, &key);
		if (n)
			return reply_err(c, &m->hdr, n, NULL);
		reply_start(&m->hdr, f->handle, 0);
		return reply_send(c, NULL, 0);
	}
	default: {	/* FFPF_MSG_FT_STATS */
		struct ffpf_ft_stats st = { .sz = sizeof(st) };

		n = ffpf_ft_stats(f->flow, &st);
		st.records_dropped = __atomic_load_n(&f->feed.dropped, __ATOMIC_RELAXED);
		return reply_blob(c, m, f, n, &st, sizeof(st));
	}
	}
}

struct list_ctx {
	char *buf;
	size_t len, off;
	const char *ifname;
};

static void list_pool(const char *group, int nflows, const struct ffpf_pbuf_stats *ps,
		      void *ctx)
{
	struct list_ctx *l = ctx;

	if (l->off < l->len)
		l->off += snprintf(l->buf + l->off, l->len - l->off,
				   "pbuf %s group %s flows %d frames %llu in_use %llu stored %llu "
				   "descs %llu\n", l->ifname, group, nflows,
				   (unsigned long long)ps->nframes,
				   (unsigned long long)ps->in_use,
				   (unsigned long long)ps->stored, (unsigned long long)ps->descs);
}

/* One line per flow the caller may see (root: all), then every group's PBuf. */
static bool do_list(struct client *c, const struct ffpf_msg *m)
{
	static char text[FFPF_MSG_TEXT_MAX - 64];
	struct list_ctx l = { text, sizeof(text), 0, NULL };
	const char *seen[FFPF_MAX_FLOWS];
	int nseen = 0;

	text[0] = 0;
	for (struct client *o = d.clients; o; o = o->next) {
		if (c->cred.uid && o->cred.uid != c->cred.uid)
			continue;
		for (struct dflow *f = o->flows; f && l.off < l.len; f = f->next)
			l.off += snprintf(text + l.off, l.len - l.off,
					  "flow %d pid %d user %s if %s name %s group %s %s rx %d "
					  "spec %s\n", f->handle, o->cred.pid, o->user,
					  f->flow->ifname, f->flow->name, f->flow->group,
					  !f->flow->instantiated ? "created" :
					  ffpf_flow_is_active(f->flow) ? "active" : "paused",
					  f->flow->rx, ffpf_flow_spec(f->flow));
	}
	/* The PBufs of the datapaths (root only: groups are not each other's business). */
	for (struct client *o = d.clients; o && !c->cred.uid; o = o->next)
		for (struct dflow *f = o->flows; f; f = f->next) {
			bool dup = false;

			if (!f->flow->instantiated || !f->flow->rx)
				continue;
			for (int i = 0; i < nseen; i++)
				dup |= !strcmp(seen[i], f->flow->iface->ifname);
			if (dup || nseen == FFPF_MAX_FLOWS)
				continue;
			seen[nseen++] = f->flow->iface->ifname;
			l.ifname = f->flow->iface->ifname;
			ffpf_rx_pools(f->flow, list_pool, &l);
		}
	reply_start(&m->hdr, 0, 0);
	if (text[0])
		ffpf_msg_put_str(&d.rep, FFPF_A_TEXT, text);
	return reply_send(c, NULL, 0);
}

static bool handle(struct client *c, const struct ffpf_msg *m)
{
	__u16 type = m->hdr.type;
	struct dflow *f = NULL;
	int err = 0;

	if (type & FFPF_MSG_REPLY)
		return reply_err(c, &m->hdr, -EINVAL, "ffpf-bpf daemon: a reply is no request\n");
	if (type == FFPF_MSG_HELLO) {
		reply_start(&m->hdr, 0, 0);
		ffpf_msg_put_u32(&d.rep, FFPF_A_VERSION, FFPF_MSG_VERSION);
		ffpf_msg_put_u32(&d.rep, FFPF_A_U_ID, c->cred.uid);
		return reply_send(c, NULL, 0);
	}
	if (type == FFPF_MSG_CREATE)
		return do_create(c, m);
	if (type == FFPF_MSG_LIST)
		return do_list(c, m);
	/* Only this connection's flows: a handle is no capability across clients. */
	f = find_flow(c, m->hdr.flow);
	if (!f)
		return reply_err(c, &m->hdr, -ENOENT, "ffpf-bpf daemon: no flow %d on this "
				 "connection\n", m->hdr.flow);
	switch (type) {
	case FFPF_MSG_POPULATE:
		err = f->flow->instantiated ? -EBUSY : ffpf_flow_populate(f->flow, m->str[FFPF_A_SPEC]);
		break;
	case FFPF_MSG_ADD_FILTER:
		err = f->flow->instantiated ? -EBUSY :
		      ffpf_flow_add_filter(f->flow, m->str[FFPF_A_CLASS],
					   FFPF_MSG_HAS(m, FFPF_A_ARGS) ? m->str[FFPF_A_ARGS] : NULL);
		break;
	case FFPF_MSG_INSTANTIATE:
		return do_instantiate(c, m, f);
	case FFPF_MSG_ACTIVATE:
		err = ffpf_flow_activate(f->flow);
		break;
	case FFPF_MSG_PAUSE:
		err = ffpf_flow_pause(f->flow);
		break;
	case FFPF_MSG_CLOSE:
		flow_drop(c, f);
		f = NULL;
		break;
	case FFPF_MSG_STATS: {
		struct ffpf_flow_stats st = { .sz = sizeof(st) };

		return reply_blob(c, m, f, ffpf_flow_stats(f->flow, &st), &st, sizeof(st));
	}
	case FFPF_MSG_FILTER_STATS: {
		struct ffpf_mbuf_hdr h = {};

		return reply_blob(c, m, f, ffpf_flow_filter_stats(f->flow, m->u32[FFPF_A_INDEX],
								  &h), &h, sizeof(h));
	}
	case FFPF_MSG_IFACE_STATS: {
		struct ffpf_iface_stats st = { .sz = sizeof(st) };

		return reply_blob(c, m, f, ffpf_flow_iface_stats(f->flow, &st), &st, sizeof(st));
	}
	case FFPF_MSG_RX_STATS: {
		struct ffpf_rx_stats st = { .sz = sizeof(st) };

		return reply_blob(c, m, f, ffpf_flow_rx_stats(f->flow, &st), &st, sizeof(st));
	}
	case FFPF_MSG_MBUF:
		return do_mbuf(c, m, f);
	case FFPF_MSG_FT_START:
		return do_ft_start(c, m, f);
	case FFPF_MSG_FT_SWEEP:
	case FFPF_MSG_FT_EXPIRE:
	case FFPF_MSG_FT_STATS:
		return do_ft(c, m, f);
	default:
		return reply_err(c, &m->hdr, -EOPNOTSUPP, "ffpf-bpf daemon: %s is not served\n",
				 ffpf_msg_type_name(type));
	}
	if (err)
		return reply_err(c, &m->hdr, err, NULL);
	reply_start(&m->hdr, f ? f->handle : 0, 0);
	return reply_send(c, NULL, 0);
}

/* One message from @c: 1 served, 0 none waiting, -1 the client was dropped. */
static int client_read(struct client *c)
{
	struct ffpf_msg m;
	char why[256];
	ssize_t n;
	bool keep;
	int err;

	/* A client's descriptors are never ours to use: recv closes them all. */
	n = ffpf_msg_recv(c->fd, &d.in, NULL, 0, NULL);
	if (n == -EAGAIN || n == -EINTR)
		return 0;
	if (n == 0) {
		client_drop(c, "disconnected");
		return -1;
	}
	c->requests++;
	if (n < 0) {
		struct ffpf_msg_hdr h = { .type = 0 };

		if (n == -EMSGSIZE)
			reply_err(c, &h, -EMSGSIZE, "ffpf-bpf daemon: message longer than %u "
				  "bytes\n", FFPF_MSG_MAX);
		client_drop(c, n == -EMSGSIZE ? "oversized message" : strerror(-n));
		return -1;
	}
	err = ffpf_msg_parse(d.in.data, n, &m, why, sizeof(why));
	if (err) {
		struct ffpf_msg_hdr h = { .type = 0 };

		/* Echo what can be trusted of the header: the client may match its seq. */
		if ((size_t)n >= sizeof(h)) {
			memcpy(&h, d.in.data, sizeof(h));
			h.type &= ~FFPF_MSG_REPLY;
			if (h.type >= FFPF_MSG_TYPE_MAX)
				h.type = 0;
		}
		keep = reply_err(c, &h, err, "ffpf-bpf daemon: bad message: %s\n", why);
		/* Malformed framing: we cannot trust the rest of what it says. */
		if (!keep || err == -EBADMSG || err == -EPROTO) {
			client_drop(c, why);
			return -1;
		}
		return 1;
	}
	d.cap_len = 0;
	d.cap[0] = 0;
	d.capturing = true;
	keep = handle(c, &m);
	d.capturing = false;
	if (!keep) {
		client_drop(c, "not reading its replies");
		return -1;
	}
	return 1;
}

/* --- setup ------------------------------------------------------------- */

static int listen_on(const char *path, mode_t mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;
	int fd, probe;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ffpf-bpf daemon: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0755) && errno != EEXIST) {
			fprintf(stderr, "ffpf-bpf daemon: %s: %s\n", dir, strerror(errno));
			return -1;
		}
	}
	/* A live daemon answers; a stale socket file is removed. */
	probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe >= 0 && !connect(probe, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "ffpf-bpf daemon: another daemon serves %s already\n", path);
		close(probe);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, mode) ||
	    listen(fd, 64)) {
		fprintf(stderr, "ffpf-bpf daemon: listening on %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static const char daemon_usage[] =
"Usage: ffpf-bpf daemon [--socket PATH] [--policy PATH] [--mode OCTAL] [-q]\n"
"       ffpf-bpf daemon --status [--socket PATH]\n"
"Serve flows to applications that may not load BPF: they link libffpfbpf\n"
"and reach the daemon at --socket (default " FFPF_DAEMON_PATH ", or $FFPF_DAEMON).\n"
"Every flow is checked against --policy (default $FFPF_POLICY, else\n"
FFPF_POLICY_PATH "); without a policy file only root is served.\n"
"--status prints the flows the caller may see (root: all, and every PBuf).\n";

static int status(const char *path)
{
	static char text[FFPF_MSG_TEXT_MAX];
	int err = ffpf_remote_list(path, text, sizeof(text));

	if (err)
		return 1;
	fputs(text, stdout);
	return 0;
}

int cmd_daemon(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "policy", required_argument, NULL, 'P' },
		{ "mode", required_argument, NULL, 'm' },
		{ "status", no_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	unsigned long mode = 0666;
	bool want_status = false;
	struct epoll_event ev;
	int opt;

	d.sock_path = getenv(FFPF_DAEMON_ENV);
	if (!d.sock_path || !*d.sock_path || !strcmp(d.sock_path, "off"))
		d.sock_path = FFPF_DAEMON_PATH;
	d.policy_path = getenv(FFPF_POLICY_ENV) ?: FFPF_POLICY_PATH;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "qh", lo, NULL)) != -1) {
		switch (opt) {
		case 'S': d.sock_path = optarg; break;
		case 'P': d.policy_path = optarg; break;
		case 'm': {
			char *end;

			mode = strtoul(optarg, &end, 8);
			if (*end || mode > 0777) {
				fprintf(stderr, "ffpf-bpf daemon: --mode %s: an octal mode\n", optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case 's': want_status = true; break;
		case 'q': d.quiet = true; break;
		case 'h': fputs(daemon_usage, stdout); return 0;
		default: fputs(daemon_usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fputs(daemon_usage, stderr);
		return EXIT_USAGE;
	}
	if (want_status)
		return status(d.sock_path);
	if (geteuid() != 0)
		fprintf(stderr, "ffpf-bpf daemon: not root: loading BPF will fail\n");

	signal(SIGPIPE, SIG_IGN);
	cmd_catch_signals();
	ffpf_set_print(d_print);
	d.lfd = listen_on(d.sock_path, mode);
	if (d.lfd < 0)
		return 1;
	d.ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (d.ep < 0 || epoll_ctl(d.ep, EPOLL_CTL_ADD, d.lfd, &ev)) {
		fprintf(stderr, "ffpf-bpf daemon: epoll: %s\n", strerror(errno));
		return 1;
	}
	dlog("serving %s (policy %s%s)\n", d.sock_path, d.policy_path,
	     access(d.policy_path, R_OK) ? ", missing: root only" : "");
	printf("ready\n");
	fflush(stdout);

	while (!cmd_stop) {
		struct epoll_event evs[32];
		int n = epoll_wait(d.ep, evs, 32, 500);

		for (int i = 0; i < n; i++) {
			struct client *c = evs[i].data.ptr;

			if (!c) {
				client_accept();
				continue;
			}
			if (evs[i].events & EPOLLIN) {
				/* A bounded batch per client per round: nobody starves. */
				int r = 1;

				for (int k = 0; k < 16 && r == 1; k++)
					r = client_read(c);
				if (r < 0)
					continue;
				if (r == 1)
					continue;	/* more waiting: level-triggered, next round */
			}
			if (evs[i].events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR))
				client_drop(c, "hung up");
		}
	}
	dlog("stopping: closing %d client%s\n", d.nclients, d.nclients == 1 ? "" : "s");
	while (d.clients)
		client_drop(d.clients, "daemon stopping");
	close(d.lfd);
	unlink(d.sock_path);
	return 0;
}
