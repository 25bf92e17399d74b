// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * flowtrack.c - the user-space half of flow tracking (issue 4): the
 * sweeper that ends flows and the termination callback.
 *
 * The kernel (bpf/filters/flowtrack.bpf.c) inserts and updates flows and
 * only marks their end (RST: CLOSED, FIN both ways: CLOSING). Every end
 * happens here: a sweep reads the table in batches, picks the flows that
 * are due (closed, lingered, idle, active too long, or the oldest when the
 * table is nearly full) and takes each out with
 * BPF_MAP_LOOKUP_AND_DELETE_ELEM, so the counters it hands on are final
 * and a flow can be taken out only once: exactly one record per flow.
 *
 * Why a sweeper and not bpf_timer: see docs/flowtrack.md.
 *
 * A flow of `ffpf-bpf daemon` (flow->remote) is swept by the daemon, which
 * alone may delete from the table: here its records arrive through a ring
 * (ftfeed.h) and the thread only waits for them and calls on_end; the
 * table is read (foreach, lookups) through read-only map fds.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "ftfeed.h"
#include "internal.h"
#include "log.h"
#include "remote.h"

#define FT_BATCH	4096
#define FT_HIGH(size)	((size) - (size) / 8)	/* above: evict the oldest ... */
#define FT_LOW(size)	((size) - (size) / 4)	/* ... down to this */
#define FT_WAKE_MIN_MS	100	/* a refused flow wakes the sweeper, not sooner */

struct ft_entry {
	struct ffpf_ft_key key;
	struct ffpf_ft_flow val;
};

struct ffpf_ft {
	struct ffpf_flow *flow;
	struct ffpf_stage *st;
	int table_fd;
	int byid_fd;			/* flow id -> key */
	struct ffpf_flowtrack_mbuf *mbuf;	/* NULL: a daemon's flow */
	bool index;			/* flowtrack(index=1): byid is kept */
	struct ffpf_ft_feed feed;	/* a daemon's flow: its records */
	ffpf_ft_end_fn on_end;
	void *ctx;
	__u32 interval_ms;
	bool auto_interval;		/* interval_ms not given: adapt it */

	pthread_mutex_t lock;		/* one sweep at a time; guards the counters */
	pthread_t thread;
	bool threaded;
	atomic_bool stop;

	struct ft_entry *ents;		/* snapshot of the table, FT size */
	struct ffpf_ft_key *bkeys;	/* one batch of bpf_map_lookup_batch() */
	struct ffpf_ft_flow *bvals;
	__u32 cap;
	__u64 live;
	__u64 ended[8];
	__u64 records;
	__u64 last_table_full;
};

static __u64 clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static struct ffpf_stage *ft_stage(struct ffpf_flow *flow)
{
	for (int i = 0; i < flow->nstages; i++)
		if (!strcmp(flow->stages[i].cls->name, "flowtrack"))
			return &flow->stages[i];
	return NULL;
}

static __u64 mbuf_word(const struct ffpf_flowtrack_mbuf *mb, int word)
{
	__u64 sum = 0;

	for (int c = 0; c < FFPF_MBUF_CPUS; c++)
		sum += __atomic_load_n(&mb->cpu[c].spare[word], __ATOMIC_RELAXED);
	return sum;
}

/*
 * A flowtrack counter of the whole table: flows sharing it (e.g. the
 * egress half of the flow, ffpf_flow_opts.share) each count into their
 * own MBuf, so sum the filter at the same position in all of them.
 */
static __u64 ft_counter(const struct ffpf_ft *ft, int word)
{
	const struct ffpf_flow *root = ft->flow->share ? ft->flow->share : ft->flow;
	long k = ft->st - ft->flow->stages;
	__u64 sum = mbuf_word(root->stages[k].mbuf, word);

	for (const struct ffpf_flow *s = root->sharers; s; s = s->next_sharer)
		sum += mbuf_word(s->stages[k].mbuf, word);
	return sum;
}

/* Read the whole table into ft->ents (batched); returns the count. */
static int ft_snapshot(struct ffpf_ft *ft)
{
	struct ffpf_ft_key *keys = ft->bkeys;
	struct ffpf_ft_flow *vals = ft->bvals;
	__u32 n = 0, batch = 0;
	bool first = true;
	int err;

	for (;;) {
		__u32 count = FT_BATCH;

		err = bpf_map_lookup_batch(ft->table_fd, first ? NULL : &batch, &batch,
					   keys, vals, &count, NULL);
		if (err && errno != ENOENT)
			return -errno;
		for (__u32 i = 0; i < count && n < ft->cap; i++, n++) {
			ft->ents[n].key = keys[i];
			ft->ents[n].val = vals[i];
		}
		if (err)	/* ENOENT: that was the last batch */
			break;
		first = false;
	}
	return n;
}

/* Why @v is due at @now, or 0. */
static int ft_due(const struct ffpf_ft *ft, const struct ffpf_ft_flow *v, __u64 now)
{
	__u64 idle = __atomic_load_n(&ft->mbuf->cfg.idle_ns, __ATOMIC_RELAXED);
	__u64 active = __atomic_load_n(&ft->mbuf->cfg.active_ns, __ATOMIC_RELAXED);

	if (v->state == FFPF_FT_CLOSED)
		return FFPF_FT_END_RST;
	/* end_ns may be newer than now (FIN after this sweep read its clock) */
	if (v->state == FFPF_FT_CLOSING && now > v->end_ns &&
	    now - v->end_ns >= FFPF_FT_LINGER_NS)
		return FFPF_FT_END_FIN;
	if (idle && now > v->last_ns && now - v->last_ns >= idle)
		return v->fin ? FFPF_FT_END_FIN : FFPF_FT_END_IDLE;
	if (active && now > v->first_ns && now - v->first_ns >= active)
		return FFPF_FT_END_ACTIVE;
	return 0;
}

/* Take @key out of the table and hand its final counters on. */
static int ft_end(struct ffpf_ft *ft, const struct ffpf_ft_key *key, int reason)
{
	struct ffpf_ft_record rec = { .key = *key, .reason = reason };
	__u64 off;

	if (bpf_map_lookup_and_delete_elem(ft->table_fd, key, &rec.flow))
		return -errno;
	/* after the flow: a lookup by id in between finds no flow, not a stale one */
	if (rec.flow.id && (ft->mbuf->cfg.flags & FFPF_FT_F_INDEX))
		bpf_map_delete_elem(ft->byid_fd, &rec.flow.id);
	off = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	rec.first_real_ns = rec.flow.first_ns + off;
	rec.last_real_ns = rec.flow.last_ns + off;
	ft->ended[reason & 7]++;
	ft->records++;
	if (ft->on_end)
		ft->on_end(ft->flow, &rec, ft->ctx);
	return 0;
}

static int cmp_last(const void *a, const void *b)
{
	const struct ft_entry *x = a, *y = b;

	return x->val.last_ns < y->val.last_ns ? -1 : x->val.last_ns > y->val.last_ns;
}

static int ft_sweep_locked(struct ffpf_ft *ft)
{
	__u64 now = clock_ns(CLOCK_MONOTONIC), full = ft_counter(ft, 1);
	int n = ft_snapshot(ft), ended = 0, left = 0;
	__u32 size = ft->mbuf->cfg.size;

	if (n < 0)
		return n;
	/* Due flows first; keep the rest at the front for eviction. */
	for (int i = 0; i < n; i++) {
		int why = ft_due(ft, &ft->ents[i].val, now);

		if (why && !ft_end(ft, &ft->ents[i].key, why))
			ended++;
		else if (!why)
			ft->ents[left++] = ft->ents[i];
	}
	/* Table (nearly) full, or it refused flows since the last sweep: the
	 * least recently seen flows make room, each with a record. */
	if ((__u32)left > FT_HIGH(size) || full != ft->last_table_full) {
		__u32 target = FT_LOW(size);

		qsort(ft->ents, left, sizeof(ft->ents[0]), cmp_last);
		for (int i = 0; (__u32)(left - i) > target && i < left; i++)
			if (!ft_end(ft, &ft->ents[i].key, FFPF_FT_END_EVICTED))
				ended++;
		left = left > (int)target ? (int)target : left;
	}
	ft->last_table_full = full;
	ft->live = left;
	return ended;
}

/*
 * The wait after a sweep. A sweep costs about 230 ns of CPU per live flow
 * (docs/flowtrack.md): with the default interval, one more second per 64Ki
 * live flows, up to a quarter of the idle timeout, keeps a big table near
 * 1.5% of a CPU instead of 32% at 1Mi flows; flows then end up to that much
 * later than due, which only delays their record.
 */
static __u32 ft_wait_ms(const struct ffpf_ft *ft)
{
	__u64 idle_ms = __atomic_load_n(&ft->mbuf->cfg.idle_ns, __ATOMIC_RELAXED) / 1000000;
	__u64 w = ft->interval_ms, cap = idle_ms / 4;

	if (!ft->auto_interval)
		return ft->interval_ms;
	w += ft->live / 65536 * 1000;
	if (cap < ft->interval_ms)
		cap = ft->interval_ms;
	return w < cap ? w : cap;
}

static void *ft_thread(void *arg)
{
	struct ffpf_ft *ft = arg;

	while (!atomic_load(&ft->stop)) {
		__u32 wait;

		pthread_mutex_lock(&ft->lock);
		ft_sweep_locked(ft);
		wait = ft_wait_ms(ft);
		pthread_mutex_unlock(&ft->lock);
		for (__u32 t = 0; t < wait && !atomic_load(&ft->stop); t += 10) {
			/* the table refused a flow: make room now, not a long wait later */
			if (t >= FT_WAKE_MIN_MS && ft_counter(ft, 1) != ft->last_table_full)
				break;
			usleep(10 * 1000);
		}
	}
	return NULL;
}

/* A daemon's flow: hand on every record that arrived. Under ft->lock. */
static int ft_drain_locked(struct ffpf_ft *ft)
{
	struct ffpf_ft_record rec;
	int n = 0;

	while (ffpf_ft_feed_pop(&ft->feed, &rec)) {
		n++;
		if (ft->on_end)
			ft->on_end(ft->flow, &rec, ft->ctx);
	}
	return n;
}

static void *ft_remote_thread(void *arg)
{
	struct ffpf_ft *ft = arg;

	while (!atomic_load(&ft->stop)) {
		struct pollfd p = { .fd = ft->feed.efd, .events = POLLIN };
		__u64 v;

		/* the timeout only bounds how long a stop waits */
		if (poll(&p, 1, 100) > 0) {
			ssize_t n = read(ft->feed.efd, &v, sizeof(v));	/* resets it */

			(void)n;
		}
		pthread_mutex_lock(&ft->lock);
		ft_drain_locked(ft);
		pthread_mutex_unlock(&ft->lock);
	}
	return NULL;
}

static void ft_free(struct ffpf_ft *ft)
{
	if (ft->flow->remote) {	/* the fds and the ring are ours, not a stage's */
		ffpf_ft_feed_destroy(&ft->feed);
		if (ft->table_fd >= 0)
			close(ft->table_fd);
		if (ft->byid_fd >= 0)
			close(ft->byid_fd);
	}
	free(ft->bkeys);
	free(ft->bvals);
	free(ft->ents);
	free(ft);
}

/* The tracker's buffers for a table of @cap entries (fds not yet set). */
static struct ffpf_ft *ft_alloc(struct ffpf_flow *flow, __u32 cap, const struct ffpf_ft_opts *opts)
{
	struct ffpf_ft *ft = calloc(1, sizeof(*ft));

	if (!ft)
		return NULL;
	ft->flow = flow;
	ft->table_fd = ft->byid_fd = -1;
	ffpf_ft_feed_init(&ft->feed);
	ft->cap = cap ? cap : FFPF_FT_SIZE_DEFAULT;
	ft->ents = calloc(ft->cap, sizeof(*ft->ents));
	ft->bkeys = calloc(FT_BATCH, sizeof(*ft->bkeys));
	ft->bvals = calloc(FT_BATCH, sizeof(*ft->bvals));
	if (!ft->ents || !ft->bkeys || !ft->bvals) {
		ft_free(ft);
		return NULL;
	}
	if (opts && opts->sz >= offsetof(struct ffpf_ft_opts, interval_ms)) {
		ft->on_end = opts->on_end;
		ft->ctx = opts->ctx;
	}
	pthread_mutex_init(&ft->lock, NULL);
	return ft;
}

static bool opts_manual(const struct ffpf_ft_opts *opts)
{
	return opts && opts->sz >= offsetof(struct ffpf_ft_opts, manual) + sizeof(bool) &&
	       opts->manual;
}

/* Hand @ft to its flow and start its thread unless manual. */
static int ft_run(struct ffpf_ft *ft, const struct ffpf_ft_opts *opts, void *(*fn)(void *))
{
	ft->flow->ft = ft;
	if (opts_manual(opts))
		return 0;
	if (pthread_create(&ft->thread, NULL, fn, ft)) {
		ft->flow->ft = NULL;
		return -EAGAIN;
	}
	ft->threaded = true;
	return 0;
}

/* A daemon's flow: the daemon tracks and sweeps, this process reads. */
static int ft_start_remote(struct ffpf_flow *flow, const struct ffpf_ft_opts *opts)
{
	struct ffpf_remote_ft rft;
	struct ffpf_ft_feed feed;
	struct ffpf_ft *ft;
	int err;

	err = ffpf_remote_ft_start(flow, opts && opts->sz > offsetof(struct ffpf_ft_opts,
								     interval_ms) ?
				   opts->interval_ms : 0, opts_manual(opts), &feed, &rft);
	if (err)
		return err;
	ft = ft_alloc(flow, rft.table_size, opts);
	if (!ft) {
		ffpf_ft_feed_destroy(&feed);
		close(rft.table_fd);
		close(rft.byid_fd);
		return -ENOMEM;
	}
	ft->feed = feed;
	ft->table_fd = rft.table_fd;
	ft->byid_fd = rft.byid_fd;
	ft->index = rft.index;
	err = ft_run(ft, opts, ft_remote_thread);
	if (err) {
		pthread_mutex_destroy(&ft->lock);
		ft_free(ft);
	}
	return err;
}

int ffpf_ft_start(struct ffpf_flow *flow, const struct ffpf_ft_opts *opts)
{
	struct ffpf_ft *ft;
	struct ffpf_stage *st;
	__u64 idle;
	int err;

	if (!flow || (opts && opts->sz < offsetof(struct ffpf_ft_opts, interval_ms)))
		return -EINVAL;
	if (!flow->instantiated)
		return ffpf_err(EINVAL, "flow %s: instantiate it before tracking\n", flow->name);
	if (flow->ft)
		return -EALREADY;
	if (flow->remote)
		return ft_start_remote(flow, opts);
	st = ft_stage(flow);
	if (!st)
		return ffpf_err(ENOENT, "flow %s: no flowtrack() filter in its chain\n",
				flow->name);
	ft = ft_alloc(flow, ((struct ffpf_flowtrack_mbuf *)st->mbuf)->cfg.size, opts);
	if (!ft)
		return -ENOMEM;
	ft->st = st;
	ft->mbuf = st->mbuf;
	ft->index = ft->mbuf->cfg.flags & FFPF_FT_F_INDEX;
	ft->table_fd = ffpf_stage_map_fd(st, "flowtrack_table");
	ft->byid_fd = ffpf_stage_map_fd(st, "flowtrack_byid");
	if (ft->table_fd < 0 || ft->byid_fd < 0) {
		err = ft->table_fd < 0 ? ft->table_fd : ft->byid_fd;
		goto fail;
	}
	idle = ft->mbuf->cfg.idle_ns;
	ft->auto_interval = !(opts && opts->interval_ms);
	ft->interval_ms = !ft->auto_interval ? opts->interval_ms :
			  idle / 4000000 < 50 ? 50 : idle / 4000000 > 1000 ? 1000 : idle / 4000000;
	ft->last_table_full = ft_counter(ft, 1);
	err = ft_run(ft, opts, ft_thread);
	if (!err)
		return 0;
fail:
	pthread_mutex_destroy(&ft->lock);
	ft_free(ft);
	return err;
}

int ffpf_flow_set_termination_cb(struct ffpf_flow *flow, ffpf_ft_end_fn fn, void *ctx)
{
	FFPF_OPTS(ffpf_ft_opts, o, .on_end = fn, .ctx = ctx);

	return ffpf_ft_start(flow, &o);
}

int ffpf_ft_sweep(struct ffpf_flow *flow)
{
	int n;

	if (!flow || !flow->ft)
		return -EINVAL;
	n = flow->remote ? ffpf_remote_ft_sweep(flow) : 0;
	if (n < 0)
		return n;
	pthread_mutex_lock(&flow->ft->lock);
	if (flow->remote)
		ft_drain_locked(flow->ft);
	else
		n = ft_sweep_locked(flow->ft);
	pthread_mutex_unlock(&flow->ft->lock);
	return n;
}

int ffpf_ft_foreach(struct ffpf_flow *flow, ffpf_ft_flow_fn fn, void *ctx)
{
	struct ffpf_ft *ft = flow ? flow->ft : NULL;
	int n, ret = 0;

	if (!ft || !fn)
		return -EINVAL;
	pthread_mutex_lock(&ft->lock);
	n = ft_snapshot(ft);
	for (int i = 0; i < n && !ret; i++)
		ret = fn(&ft->ents[i].key, &ft->ents[i].val, ctx);
	pthread_mutex_unlock(&ft->lock);
	return n < 0 ? n : ret;
}

int ffpf_ft_lookup(struct ffpf_flow *flow, const struct ffpf_ft_key *key,
		   struct ffpf_ft_flow *out)
{
	if (!flow || !flow->ft || !key || !out)
		return -EINVAL;
	return bpf_map_lookup_elem(flow->ft->table_fd, key, out) ? -errno : 0;
}

int ffpf_ft_lookup_id(struct ffpf_flow *flow, __u32 id, struct ffpf_ft_key *key,
		      struct ffpf_ft_flow *out)
{
	struct ffpf_ft_key k;

	if (!flow || !flow->ft || !id)
		return -EINVAL;
	if (!flow->ft->index)
		return ffpf_err(EOPNOTSUPP, "flow %s: lookup by id needs flowtrack(index=1)\n",
				flow->name);
	if (bpf_map_lookup_elem(flow->ft->byid_fd, &id, &k))
		return -errno;
	if (out && bpf_map_lookup_elem(flow->ft->table_fd, &k, out))
		return -errno;
	/* the key's entry may hold a newer flow only after a wrap of 2^32 ids */
	if (out && out->id != id)
		return -ENOENT;
	if (key)
		*key = k;
	return 0;
}

int ffpf_ft_expire(struct ffpf_flow *flow, const struct ffpf_ft_key *key)
{
	int err;

	if (!flow || !flow->ft || !key)
		return -EINVAL;
	/* through the daemon: its record is in the ring when the reply is here */
	err = flow->remote ? ffpf_remote_ft_expire(flow, key) : 0;
	if (err)
		return err;
	pthread_mutex_lock(&flow->ft->lock);
	if (flow->remote)
		ft_drain_locked(flow->ft);
	else
		err = ft_end(flow->ft, key, FFPF_FT_END_FORCED);
	pthread_mutex_unlock(&flow->ft->lock);
	return err;
}

int ffpf_ft_stats(struct ffpf_flow *flow, struct ffpf_ft_stats *st)
{
	struct ffpf_ft_stats full = { .sz = sizeof(full) };
	struct ffpf_ft *ft = flow ? flow->ft : NULL;

	if (!ft || !st)
		return -EINVAL;
	if (flow->remote)
		return ffpf_remote_ft_stats(flow, st);
	pthread_mutex_lock(&ft->lock);
	full.live = ft->live;
	memcpy(full.ended, ft->ended, sizeof(full.ended));
	full.records = ft->records;
	pthread_mutex_unlock(&ft->lock);
	full.created = ft_counter(ft, 0);
	full.table_full = ft_counter(ft, 1);
	full.rst_no_flow = ft_counter(ft, 2);
	full.not_ip = ft_counter(ft, 3);
	full.unindexed = ft_counter(ft, 4);
	return ffpf_copy_sized(st, &full, sizeof(full));
}

int ffpf_ft_maps(const struct ffpf_flow *flow, int *table_fd, int *byid_fd, __u32 *size,
		 bool *index)
{
	const struct ffpf_ft *ft = flow ? flow->ft : NULL;

	if (!ft)
		return -EINVAL;
	*table_fd = ft->table_fd;
	*byid_fd = ft->byid_fd;
	*size = ft->cap;
	*index = ft->index;
	return 0;
}

void ffpf_ft_quiesce(struct ffpf_flow *flow)
{
	struct ffpf_ft *ft = flow ? flow->ft : NULL;

	if (ft && ft->threaded) {
		atomic_store(&ft->stop, true);
		pthread_join(ft->thread, NULL);
		ft->threaded = false;
	}
}

void ffpf_ft_stop(struct ffpf_flow *flow)
{
	struct ffpf_ft *ft = flow ? flow->ft : NULL;
	int n;

	if (!ft)
		return;
	ffpf_ft_quiesce(flow);
	/* The table goes with the flow: every live flow ends here, once (a
	 * daemon's flow: the daemon ended them at CLOSE, the records are in
	 * the ring). A disconnected pinned flow keeps its table running. */
	pthread_mutex_lock(&ft->lock);
	if (flow->remote) {
		ft_drain_locked(ft);
	} else {
		n = flow->disconnected ? 0 : ft_snapshot(ft);
		for (int i = 0; i < n; i++)
			ft_end(ft, &ft->ents[i].key, FFPF_FT_END_CLOSED);
	}
	pthread_mutex_unlock(&ft->lock);
	pthread_mutex_destroy(&ft->lock);
	ft_free(ft);
	flow->ft = NULL;
}
