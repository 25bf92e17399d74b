// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * remote.c - the client of `ffpf-bpf daemon`: a flow created by a process
 * that may not load BPF itself lives in the daemon, and every call on it
 * is a request on the process's one connection (msg.h). Its packets do not
 * go through the socket: the daemon hands over the group's PBuf (mapped
 * read-only here) and the flow's IBuf ring (read-write), and rx.c reads
 * them as it reads its own (ffpf_rx_attach()).
 *
 * A daemon that stops or restarts closes the connection: every later call
 * on its flows returns -ECONNRESET with a message that says so, and the
 * flow's fd becomes readable so a waiting application notices.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <linux/capability.h>
#include <bpf/bpf.h>

#include "ftfeed.h"
#include "log.h"
#include "msg.h"
#include "remote.h"
#include "rx.h"

/* One connection per process, shared by its flows; replaced once it died. */
struct conn {
	int fd;
	int refs;
	bool dead;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	__u32 seq;
	pthread_mutex_t lock;	/* one request at a time; guards the buffers */
	struct ffpf_msg_buf req, rep;
};

struct ffpf_remote {
	struct conn *c;
	__s32 handle;
	struct ffpf_msg_info info;	/* after instantiate */
	bool have_info;
	void *mbuf[FFPF_MAX_STAGES];	/* mapped MBufs, or read-only snapshots */
	size_t mbuf_len[FFPF_MAX_STAGES];
	int mbuf_ro[FFPF_MAX_STAGES];	/* read access: the map fd the snapshot is read from */
};

static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *cur;

static bool has_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};
	__u64 eff;

	if (syscall(SYS_capget, &h, d))
		return false;
	eff = d[0].effective | (__u64)d[1].effective << 32;
	return (eff & (1ULL << CAP_NET_ADMIN)) &&
	       (eff & ((1ULL << CAP_BPF) | (1ULL << CAP_SYS_ADMIN)));
}

const char *ffpf_remote_path(const struct ffpf_flow_opts *opts)
{
	const char *d = OPTS_GET(opts, daemon, NULL);

	if (!d)
		d = getenv(FFPF_DAEMON_ENV);
	if (d && !strcmp(d, "off"))
		return NULL;
	if (d && *d)
		return d;
	if (geteuid() == 0 || has_caps())
		return NULL;
	return access(FFPF_DAEMON_PATH, F_OK) ? NULL : FFPF_DAEMON_PATH;
}

static void conn_free(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void conn_put(struct conn *c)
{
	bool last;

	pthread_mutex_lock(&conn_lock);
	last = !--c->refs;
	pthread_mutex_unlock(&conn_lock);
	if (last)
		conn_free(c);
}

static int conn_gone(struct conn *c, const char *what)
{
	c->dead = true;
	return ffpf_err(ECONNRESET, "%s: the ffpf-bpf daemon at %s closed the connection "
			"(stopped or restarted): its flows are gone; create them again\n",
			what, c->path);
}

/*
 * Send c->req and wait for its reply in c->rep (parsed into @m). A reply
 * with an error prints the daemon's explanation and returns its errno.
 * Called with c->lock held. Descriptors of the reply go to @fds.
 */
static int conn_call(struct conn *c, const char *what, struct ffpf_msg *m, int *fds,
		     int max_fds, int *nfds)
{
	char why[160];
	ssize_t n;
	int err;

	if (nfds)
		*nfds = 0;
	if (c->dead)
		return conn_gone(c, what);
	err = ffpf_msg_send(c->fd, &c->req, NULL, 0, false);
	if (err == -EMSGSIZE)
		return ffpf_err(EMSGSIZE, "%s: request too large for the daemon (%u bytes max)\n",
				what, FFPF_MSG_MAX);
	if (err)
		return conn_gone(c, what);
	for (;;) {
		n = ffpf_msg_recv(c->fd, &c->rep, fds, max_fds, nfds);
		if (n <= 0)
			return conn_gone(c, what);
		err = ffpf_msg_parse(c->rep.data, n, m, why, sizeof(why));
		if (err) {
			c->dead = true;
			return ffpf_err(EPROTO, "%s: malformed reply from the daemon: %s\n", what, why);
		}
		if (m->hdr.seq == c->req.hdr.seq &&
		    m->hdr.type == (c->req.hdr.type | FFPF_MSG_REPLY))
			break;
		/* A stale reply (a call interrupted earlier): skip it. */
		for (int i = 0; nfds && i < *nfds; i++)
			close(fds[i]);
	}
	if (m->hdr.err) {
		if (FFPF_MSG_HAS(m, FFPF_A_MESSAGE) && m->str[FFPF_A_MESSAGE][0])
			ffpf_pr(FFPF_WARN, "%s", m->str[FFPF_A_MESSAGE]);
		for (int i = 0; nfds && i < *nfds; i++)
			close(fds[i]);
		if (nfds)
			*nfds = 0;
		return m->hdr.err;
	}
	return 0;
}

static int conn_open(const char *path, struct conn **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ffpf_msg m;
	struct conn *c;
	int err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return ffpf_err(ENAMETOOLONG, "daemon socket path too long: %s\n", path);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	snprintf(c->path, sizeof(c->path), "%s", path);
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		pr_warn("cannot reach the ffpf-bpf daemon at %s: %s (is 'ffpf-bpf daemon' "
			"running? set FFPF_DAEMON=off to run flows in-process, as root)\n", path,
			strerror(errno));
		conn_free(c);
		return err;
	}
	c->refs = 1;
	ffpf_msg_init(&c->req, FFPF_MSG_HELLO, ++c->seq, 0, 0);
	ffpf_msg_put_u32(&c->req, FFPF_A_VERSION, FFPF_MSG_VERSION);
	err = conn_call(c, "hello", &m, NULL, 0, NULL);
	if (err) {
		conn_free(c);
		return err;
	}
	*out = c;
	return 0;
}

/* The live connection (cur holds a reference), opened on first use or after the daemon went away. */
static int conn_get(const char *path, struct conn **out)
{
	struct conn *old = NULL;
	int err = 0;

	pthread_mutex_lock(&conn_lock);
	if (cur && (cur->dead || strcmp(cur->path, path))) {
		old = cur;	/* its flows keep their own references */
		cur = NULL;
	}
	if (!cur)
		err = conn_open(path, &cur);
	if (!err) {
		cur->refs++;
		*out = cur;
	}
	pthread_mutex_unlock(&conn_lock);
	if (old)
		conn_put(old);
	return err;
}

/* Start a request about @flow on its connection; the caller holds c->lock. */
static struct conn *req_start(const struct ffpf_flow *flow, __u16 type)
{
	struct conn *c = flow->remote->c;

	pthread_mutex_lock(&c->lock);
	ffpf_msg_init(&c->req, type, ++c->seq, flow->remote->handle, 0);
	return c;
}

/* A request with no attributes and no answer but its status. */
static int simple_call(const struct ffpf_flow *flow, __u16 type, const char *what)
{
	struct conn *c = req_start(flow, type);
	struct ffpf_msg m;
	int err = conn_call(c, what, &m, NULL, 0, NULL);

	pthread_mutex_unlock(&c->lock);
	return err;
}

int ffpf_remote_create(struct ffpf_flow *flow, const char *path)
{
	struct ffpf_remote *r;
	struct ffpf_msg m;
	struct conn *c;
	int err;

	if (flow->flags & FFPF_FLOW_PIN)
		return ffpf_err(EOPNOTSUPP, "flow %s: pinning through the ffpf-bpf daemon is not "
				"supported: a pinned flow outlives its process, a daemon's "
				"flow does not\n", flow->name[0] ? flow->name : "(unnamed)");
	/* A remote client's flow must not take the host's traffic from
	 * everyone else on the interface; the policy has no word for it. */
	if (flow->flags & FFPF_FLOW_MONITOR)
		return ffpf_err(EPERM, "flow %s: monitor mode drops the interface's traffic "
				"for every user: in-process (root) only, not through the "
				"ffpf-bpf daemon\n", flow->name[0] ? flow->name : "(unnamed)");
	if (flow->share && (!flow->share->remote || flow->share->remote->c->dead))
		return ffpf_err(EINVAL, "flow %s: the flow to share state with must be a flow "
				"of the same daemon\n", flow->name[0] ? flow->name : "(unnamed)");
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	err = conn_get(path, &c);
	if (err) {
		free(r);
		return err;
	}
	pthread_mutex_lock(&c->lock);
	ffpf_msg_init(&c->req, FFPF_MSG_CREATE, ++c->seq, 0, 0);
	ffpf_msg_put_str(&c->req, FFPF_A_IFNAME, flow->ifname);
	if (flow->name[0])
		ffpf_msg_put_str(&c->req, FFPF_A_NAME, flow->name);
	if (flow->group[0])
		ffpf_msg_put_str(&c->req, FFPF_A_GROUP, flow->group);
	ffpf_msg_put_u32(&c->req, FFPF_A_HOOK, flow->hook);
	ffpf_msg_put_u32(&c->req, FFPF_A_RX, flow->rx);
	if (flow->snaplen_set)
		ffpf_msg_put_u32(&c->req, FFPF_A_SNAPLEN, flow->snaplen);
	ffpf_msg_put_u32(&c->req, FFPF_A_IBUF_SIZE, flow->ibuf_size);
	if (flow->share)
		ffpf_msg_put_u32(&c->req, FFPF_A_SHARE, flow->share->remote->handle);
	err = conn_call(c, flow->ifname, &m, NULL, 0, NULL);
	if (!err && m.hdr.flow <= 0)
		err = ffpf_err(EPROTO, "%s: the daemon gave no flow handle\n", flow->ifname);
	if (!err) {
		r->handle = m.hdr.flow;
		if (FFPF_MSG_HAS(&m, FFPF_A_NAME))
			snprintf(flow->name, sizeof(flow->name), "%s", m.str[FFPF_A_NAME]);
	}
	pthread_mutex_unlock(&c->lock);
	if (err) {
		conn_put(c);
		free(r);
		return err;
	}
	r->c = c;
	flow->remote = r;
	flow->share = NULL;	/* the daemon's flows share; this one would dangle */
	return 0;
}

int ffpf_remote_populate(struct ffpf_flow *flow, const char *spec)
{
	struct conn *c = req_start(flow, FFPF_MSG_POPULATE);
	struct ffpf_msg m;
	int err;

	ffpf_msg_put_str(&c->req, FFPF_A_SPEC, spec);
	err = conn_call(c, flow->name[0] ? flow->name : "populate", &m, NULL, 0, NULL);
	pthread_mutex_unlock(&c->lock);
	return err;
}

int ffpf_remote_add_filter(struct ffpf_flow *flow, const char *cls, const char *args)
{
	struct conn *c = req_start(flow, FFPF_MSG_ADD_FILTER);
	struct ffpf_msg m;
	int err;

	ffpf_msg_put_str(&c->req, FFPF_A_CLASS, cls);
	if (args)
		ffpf_msg_put_str(&c->req, FFPF_A_ARGS, args);
	err = conn_call(c, flow->name[0] ? flow->name : "add_filter", &m, NULL, 0, NULL);
	pthread_mutex_unlock(&c->lock);
	return err;
}

int ffpf_remote_instantiate(struct ffpf_flow *flow)
{
	struct ffpf_remote *r = flow->remote;
	struct conn *c = req_start(flow, FFPF_MSG_INSTANTIATE);
	int fds[3], nfds, err;
	struct ffpf_msg m;

	err = conn_call(c, flow->name[0] ? flow->name : "instantiate", &m, fds, 3, &nfds);
	if (!err && (!FFPF_MSG_HAS(&m, FFPF_A_INFO) || !FFPF_MSG_HAS(&m, FFPF_A_SLOT) ||
		     m.u32[FFPF_A_SLOT] >= FFPF_MAX_FLOWS ||
		     (flow->rx && (!FFPF_MSG_HAS(&m, FFPF_A_RING) || nfds != 3))))
		err = ffpf_err(EPROTO, "%s: incomplete INSTANTIATE reply from the daemon\n",
			       flow->name);
	if (err) {
		pthread_mutex_unlock(&c->lock);
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		return err;
	}
	r->info = *m.info;
	r->have_info = true;
	if (r->info.nfilters > FFPF_MAX_STAGES)
		r->info.nfilters = FFPF_MAX_STAGES;
	flow->nstages = r->info.nfilters;
	snprintf(flow->name, sizeof(flow->name), "%s", r->info.name);
	snprintf(flow->spec, sizeof(flow->spec), "%s", r->info.spec);
	flow->idx = m.u32[FFPF_A_SLOT];
	if (FFPF_MSG_HAS(&m, FFPF_A_SNAPLEN))
		flow->snaplen = m.u32[FFPF_A_SNAPLEN];
	flow->instantiated = true;
	if (flow->rx) {
		struct ffpf_rx_export e = {
			.pbuf_fd = fds[0], .pbuf_size = m.ring->pbuf_size,
			.frame_size = m.ring->frame_size, .ring_fd = fds[1],
			.ring_size = m.ring->ring_size, .capacity = m.ring->capacity,
			.efd = fds[2],
		};

		err = ffpf_rx_attach(flow, &e, c->fd);
		if (err)
			pr_warn("flow %s: mapping the daemon's PBuf and IBuf: %s\n", flow->name,
				strerror(-err));
	}
	pthread_mutex_unlock(&c->lock);
	return err;
}

int ffpf_remote_set_active(struct ffpf_flow *flow, bool on)
{
	int err = simple_call(flow, on ? FFPF_MSG_ACTIVATE : FFPF_MSG_PAUSE, flow->name);

	if (!err)
		flow->active = on;
	return err;
}

void ffpf_remote_close(struct ffpf_flow *flow)
{
	struct ffpf_remote *r = flow->remote;

	ffpf_rx_remove(flow);
	/* The tracker's thread stops first; the records of the flows that end
	 * with the daemon's flow are handed on after CLOSE (ffpf_ft_stop()). */
	ffpf_ft_quiesce(flow);
	for (int i = 0; i < FFPF_MAX_STAGES; i++) {
		if (r->mbuf_ro[i] > 0) {
			close(r->mbuf_ro[i]);
			free(r->mbuf[i]);
		} else if (r->mbuf[i]) {
			munmap(r->mbuf[i], r->mbuf_len[i]);
		}
	}
	/* A dead daemon closed it already: nothing to say about that here. */
	if (!r->c->dead) {
		ffpf_print_fn_t old = ffpf_set_print(NULL);

		simple_call(flow, FFPF_MSG_CLOSE, flow->name);
		ffpf_set_print(old);
	}
	ffpf_ft_stop(flow);
	conn_put(r->c);
	free(r);
	flow->remote = NULL;
}

/* A request whose reply is one struct (BLOB) copied into @out, sized as in ffpf.h. */
static int blob_call(const struct ffpf_flow *flow, __u16 type, int idx, void *out,
		     size_t full_sz, bool sized)
{
	struct conn *c = req_start(flow, type);
	__u8 full[FFPF_MSG_BLOB_MAX] __attribute__((aligned(8))) = {};
	struct ffpf_msg m;
	int err;

	if (idx >= 0)
		ffpf_msg_put_u32(&c->req, FFPF_A_INDEX, idx);
	err = conn_call(c, flow->name, &m, NULL, 0, NULL);
	if (!err && (!FFPF_MSG_HAS(&m, FFPF_A_BLOB) || m.blob_len > sizeof(full)))
		err = ffpf_err(EPROTO, "%s: reply without its statistics\n", flow->name);
	if (!err)
		memcpy(full, m.blob, m.blob_len);
	pthread_mutex_unlock(&c->lock);
	if (err)
		return err;
	/* Sized structs start with their size: the daemon's, replaced by ours. */
	if (sized) {
		*(size_t *)full = full_sz;
		return ffpf_copy_sized(out, full, full_sz);
	}
	memcpy(out, full, full_sz);
	return 0;
}

int ffpf_remote_stats(const struct ffpf_flow *flow, struct ffpf_flow_stats *st)
{
	return blob_call(flow, FFPF_MSG_STATS, -1, st, sizeof(struct ffpf_flow_stats), true);
}

int ffpf_remote_filter_stats(const struct ffpf_flow *flow, int idx, struct ffpf_mbuf_hdr *hdr)
{
	return blob_call(flow, FFPF_MSG_FILTER_STATS, idx, hdr, sizeof(*hdr), false);
}

int ffpf_remote_iface_stats(const struct ffpf_flow *flow, struct ffpf_iface_stats *st)
{
	return blob_call(flow, FFPF_MSG_IFACE_STATS, -1, st, sizeof(struct ffpf_iface_stats),
			 true);
}

int ffpf_remote_rx_stats(const struct ffpf_flow *flow, struct ffpf_rx_stats *st)
{
	return blob_call(flow, FFPF_MSG_RX_STATS, -1, st, sizeof(struct ffpf_rx_stats), true);
}

void *ffpf_remote_filter_mbuf(struct ffpf_flow *flow, int idx, size_t *size)
{
	struct ffpf_remote *r = flow->remote;
	struct conn *c;
	struct ffpf_msg m;
	int fd = -1, nfds, err;
	void *p;

	if (r->mbuf[idx] && r->mbuf_ro[idx] > 0)
		goto snapshot;
	if (r->mbuf[idx])
		goto out;
	c = req_start(flow, FFPF_MSG_MBUF);
	ffpf_msg_put_u32(&c->req, FFPF_A_INDEX, idx);
	err = conn_call(c, flow->name, &m, &fd, 1, &nfds);
	if (!err && (nfds != 1 || !FFPF_MSG_HAS(&m, FFPF_A_SIZE) ||
		     !FFPF_MSG_HAS(&m, FFPF_A_ACCESS) || !m.size || m.size > (1ULL << 30)))
		err = ffpf_err(EPROTO, "%s: incomplete MBUF reply from the daemon\n", flow->name);
	pthread_mutex_unlock(&c->lock);
	if (err) {
		if (nfds == 1)
			close(fd);
		errno = -err;
		return NULL;
	}
	/*
	 * Read access: the fd is read-only, and the kernel maps a BPF map only
	 * shared and so only from a writable fd; the MBuf is read with a
	 * lookup instead, into a copy refreshed by every call.
	 */
	if (m.u32[FFPF_A_ACCESS] != FFPF_ACCESS_WRITE) {
		r->mbuf[idx] = calloc(1, m.size);
		if (!r->mbuf[idx]) {
			close(fd);
			errno = ENOMEM;
			return NULL;
		}
		r->mbuf_len[idx] = m.size;
		r->mbuf_ro[idx] = fd;
		goto snapshot;
	}
	p = mmap(NULL, m.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = errno;
	close(fd);
	if (p == MAP_FAILED) {
		pr_warn("flow %s: mapping filter %d's MBuf: %s\n", flow->name, idx, strerror(err));
		errno = err;
		return NULL;
	}
	r->mbuf[idx] = p;
	r->mbuf_len[idx] = m.size;
	goto out;
snapshot:
	{
		__u32 key = 0;

		if (bpf_map_lookup_elem(r->mbuf_ro[idx], &key, r->mbuf[idx])) {
			pr_warn("flow %s: reading filter %d's MBuf: %s\n", flow->name, idx,
				strerror(errno));
			return NULL;
		}
	}
out:
	if (size)
		*size = r->mbuf_len[idx];
	return r->mbuf[idx];
}

int ffpf_remote_ft_start(struct ffpf_flow *flow, __u32 interval_ms, bool manual,
			 struct ffpf_ft_feed *feed, struct ffpf_remote_ft *out)
{
	struct ffpf_msg_ft req = { .interval_ms = interval_ms,
				   .flags = manual ? FFPF_MSG_FT_MANUAL : 0 };
	struct conn *c = req_start(flow, FFPF_MSG_FT_START);
	struct ffpf_msg_ft ft = {};
	int fds[4], nfds, err;
	struct ffpf_msg m;

	ffpf_msg_put(&c->req, FFPF_A_FT, &req, sizeof(req));
	err = conn_call(c, flow->name, &m, fds, 4, &nfds);
	if (!err && (!FFPF_MSG_HAS(&m, FFPF_A_FT) || nfds != 4))
		err = ffpf_err(EPROTO, "%s: incomplete FT_START reply from the daemon\n",
			       flow->name);
	if (!err)
		ft = *m.ft;
	pthread_mutex_unlock(&c->lock);
	if (err) {
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		return err;
	}
	err = ffpf_ft_feed_attach(feed, fds[0], ft.ring_size, ft.capacity, fds[1]);
	if (err) {
		close(fds[2]);
		close(fds[3]);
		return ffpf_err(-err, "flow %s: mapping the daemon's record ring: %s\n",
				flow->name, strerror(-err));
	}
	out->table_fd = fds[2];
	out->byid_fd = fds[3];
	out->table_size = ft.table_size;
	out->index = ft.flags & FFPF_MSG_FT_INDEX;
	return 0;
}

int ffpf_remote_ft_sweep(struct ffpf_flow *flow)
{
	struct conn *c = req_start(flow, FFPF_MSG_FT_SWEEP);
	struct ffpf_msg m;
	int err = conn_call(c, flow->name, &m, NULL, 0, NULL);

	if (!err)
		err = FFPF_MSG_HAS(&m, FFPF_A_SIZE) && m.size <= INT32_MAX ? (int)m.size : -EPROTO;
	pthread_mutex_unlock(&c->lock);
	return err;
}

int ffpf_remote_ft_expire(struct ffpf_flow *flow, const struct ffpf_ft_key *key)
{
	struct conn *c = req_start(flow, FFPF_MSG_FT_EXPIRE);
	struct ffpf_msg m;
	int err;

	ffpf_msg_put(&c->req, FFPF_A_BLOB, key, sizeof(*key));
	err = conn_call(c, flow->name, &m, NULL, 0, NULL);
	pthread_mutex_unlock(&c->lock);
	return err;
}

int ffpf_remote_ft_stats(const struct ffpf_flow *flow, struct ffpf_ft_stats *st)
{
	return blob_call(flow, FFPF_MSG_FT_STATS, -1, st, sizeof(struct ffpf_ft_stats), true);
}

int ffpf_remote_nfilters(const struct ffpf_flow *flow)
{
	return flow->remote->have_info ? (int)flow->remote->info.nfilters : -EAGAIN;
}

const char *ffpf_remote_filter_class(const struct ffpf_flow *flow, int idx)
{
	const struct ffpf_remote *r = flow->remote;

	return r->have_info && idx >= 0 && idx < (int)r->info.nfilters ? r->info.classes[idx]
								       : NULL;
}

const char *ffpf_remote_filter_name(const struct ffpf_flow *flow, int idx)
{
	const struct ffpf_remote *r = flow->remote;

	if (!r->have_info || idx < 0 || idx >= (int)r->info.nfilters || !r->info.names[idx][0])
		return NULL;
	return r->info.names[idx];
}

const char *ffpf_remote_spec(const struct ffpf_flow *flow)
{
	return flow->remote->have_info ? flow->remote->info.spec : "";
}

int ffpf_remote_list(const char *path, char *buf, size_t len)
{
	struct ffpf_msg m;
	struct conn *c;
	int err;

	err = conn_open(path, &c);
	if (err)
		return err;
	ffpf_msg_init(&c->req, FFPF_MSG_LIST, ++c->seq, 0, 0);
	err = conn_call(c, "list", &m, NULL, 0, NULL);
	if (!err)
		snprintf(buf, len, "%s", FFPF_MSG_HAS(&m, FFPF_A_TEXT) ? m.str[FFPF_A_TEXT] : "");
	conn_free(c);
	return err;
}
