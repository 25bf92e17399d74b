// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * capture.c - `ffpf-bpf run -w FILE`: read the flows' IBufs and write
 * capture files (see capture.h for the file and merge rules).
 *
 * Merging one datapath's flows into one file. Every IBuf of a datapath is
 * in seq order (one producer delivers packet S to all its flows before
 * S + 1), so a k-way merge by seq gives the delivery order, and a packet
 * held by several flows is at the head of each of them at the same time.
 * Two races are handled:
 *
 *  - Peeking flow A, then flow B is not atomic. Having seen seq S in A, a
 *    second look at B sees every packet < S the producer gave B (it gave
 *    it before S, and peek acquires the producer's index). So flows found
 *    empty are peeked once more, and only packets up to the smallest
 *    "last peeked seq" of the non-empty flows are written in a round: no
 *    flow can still receive a smaller seq.
 *  - The producer may be between two flows of packet S: A has it, B does
 *    not yet. S is written from A; when S shows up in B later, it is at or
 *    below the last seq written for the datapath and is only released.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "capwrite.h"
#include "capture.h"

#define CAP_BATCH	64		/* descriptors peeked at once per flow */
#define CAP_WORK	16384		/* packets per capture_run(): timers stay live */
#define CAP_COMMENT	(FFPF_MAX_FLOWS * (FFPF_NAME_LEN + 8) + 16)
/*
 * A file fed by several datapaths interleaves them by timestamp. Each
 * datapath has its own receive thread, so a packet may reach its IBuf
 * later than a younger packet of another datapath reached its own. A
 * packet is written once every datapath of the file has a packet to
 * compare it with, or once it is this old: longer than the engines'
 * hand-over latency (copy mode: up to its 10 ms poll), short enough for
 * the default IBuf to absorb the traffic meanwhile.
 */
#define CAP_REORDER_NS	(25 * 1000000LL)

struct cap_dp {				/* one datapath: interface + hook */
	const char *ifname;
	enum ffpf_hook hook;
	struct ffpf_flow *any;		/* one of our flows on it, for its rx stats */
	const char *label[FFPF_MAX_FLOWS];	/* our flow in each slot, for comments */
	int order[FFPF_MAX_FLOWS];	/* our slots in command-line order */
	int nslots;
};

struct cap_flow {
	const char *label;
	struct ffpf_flow *flow;
	int dp, file, fd;
	__u64 captured;			/* packets of this flow that are in its file */
	int n, pos;			/* pk[0..n) peeked, pk[0..pos) consumed */
	struct ffpf_packet pk[CAP_BATCH];
};

struct cap_file {
	char *path;
	struct ffpf_capw *w;
	__u64 count;			/* records, once closed */
	int *flows, nflows;		/* indexes into capture.flows */
	__u64 *next;			/* per datapath: last seq written + 1 (0: none) */
	__u64 *bound;			/* per datapath, this round: highest seq safe to write */
	int *best;			/* per datapath, scratch: flow with the smallest seq */
	bool *has_dp;			/* per datapath: some flow of the file is on it */
	int ndps;			/* datapaths feeding the file */
	bool held;			/* last round waited for the reorder window */
};

struct capture {
	struct capture_opts o;
	bool done;			/* -c count reached */
	bool flush;			/* finishing: no reorder window */
	int err;			/* first write error: nothing more is written */
	__u64 hold_ns;			/* earliest end of a reorder wait (REALTIME ns) */
	__u64 written;
	int nflows, ndps, nfiles;
	struct cap_flow *flows;
	struct cap_dp *dps;
	struct cap_file *files;
	struct pollfd *pfd;
	char comment[CAP_COMMENT];
};

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static __u64 realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Wait for younger packets of the file's other datapaths before @p? */
static bool must_hold(struct capture *c, struct cap_file *f, const struct ffpf_packet *p)
{
	__u64 now, until;

	if (f->ndps < 2 || c->flush)
		return false;
	for (int d = 0; d < c->ndps; d++)
		if (f->has_dp[d] && f->best[d] < 0)
			goto wait;
	return false;	/* every datapath has a candidate: p is the oldest */
wait:
	now = realtime_ns();
	until = p->ts_ns + CAP_REORDER_NS;
	/* a timestamp far ahead of the clock would hold forever: do not trust it */
	if (until <= now || p->ts_ns > now + 1000000000ULL)
		return false;
	if (!c->hold_ns || until < c->hold_ns)
		c->hold_ns = until;
	f->held = true;
	return true;
}

/* PATH with %f -> label, %i -> interface, %% -> %; NULL with a message. */
static char *expand_path(const char *path, const struct capture_flow_info *fi)
{
	size_t len = 0;
	char *out = NULL;
	FILE *m = open_memstream(&out, &len);

	if (!m)
		return NULL;
	for (const char *p = path; *p; p++) {
		if (*p != '%') {
			fputc(*p, m);
			continue;
		}
		switch (p[1]) {
		case 'f':
			fputs(fi->label, m);
			break;
		case 'i':
			fputs(fi->ifname, m);
			break;
		case '%':
			fputc('%', m);
			break;
		default:
			fclose(m);
			free(out);
			fprintf(stderr, "ffpf-bpf run: -w %s: unknown '%%%.1s': use %%f for the "
				"flow, %%i for the interface, %%%% for '%%'\n", path, p + 1);
			return NULL;
		}
		p++;
	}
	if (fclose(m)) {
		free(out);
		return NULL;
	}
	return out;
}

static void free_files(struct capture *c, bool unlink_them)
{
	for (int k = 0; k < c->nfiles; k++) {
		struct cap_file *f = &c->files[k];

		if (f->w) {
			ffpf_capw_close(f->w);
			if (unlink_them)
				unlink(f->path);
		}
		free(f->path);
		free(f->flows);
		free(f->next);
		free(f->bound);
		free(f->best);
		free(f->has_dp);
	}
	free(c->files);
}

struct capture *capture_open(const struct capture_opts *opts,
			     const struct capture_flow_info *fi, int n)
{
	struct capture *c = calloc(1, sizeof(*c));
	char **paths = calloc(n, sizeof(*paths));
	int err = EIO;

	if (!c || !paths)
		goto nomem;
	c->o = *opts;
	c->nflows = n;
	c->flows = calloc(n, sizeof(*c->flows));
	c->dps = calloc(n, sizeof(*c->dps));
	c->files = calloc(n, sizeof(*c->files));
	c->pfd = calloc(n, sizeof(*c->pfd));
	if (!c->flows || !c->dps || !c->files || !c->pfd)
		goto nomem;

	for (int i = 0; i < n; i++) {
		struct cap_flow *cf = &c->flows[i];
		int d, k;

		cf->label = fi[i].label;
		cf->fd = -1;
		c->pfd[i].fd = -1;
		for (d = 0; d < c->ndps; d++)
			if (c->dps[d].hook == fi[i].hook && !strcmp(c->dps[d].ifname, fi[i].ifname))
				break;
		if (d == c->ndps) {
			c->dps[d].ifname = fi[i].ifname;
			c->dps[d].hook = fi[i].hook;
			c->ndps++;
		}
		cf->dp = d;

		paths[i] = expand_path(opts->path, &fi[i]);
		if (!paths[i]) {
			err = EINVAL;
			goto fail;
		}
		for (k = 0; k < c->nfiles; k++)
			if (!strcmp(c->files[k].path, paths[i]))
				break;
		if (k == c->nfiles) {
			c->files[k].path = strdup(paths[i]);
			c->files[k].flows = calloc(n, sizeof(int));
			c->nfiles++;
			if (!c->files[k].path || !c->files[k].flows)
				goto nomem;
		}
		cf->file = k;
		c->files[k].flows[c->files[k].nflows++] = i;
	}

	for (int k = 0; k < c->nfiles; k++) {
		struct cap_file *f = &c->files[k];
		const char *ifname = fi[f->flows[0]].ifname;
		FFPF_OPTS(ffpf_capw_opts, wo,
			  .format = opts->pcapng ? FFPF_CAPW_PCAPNG : FFPF_CAPW_PCAP,
			  .snaplen = opts->snaplen);

		f->next = calloc(c->ndps, sizeof(*f->next));
		f->bound = calloc(c->ndps, sizeof(*f->bound));
		f->best = calloc(c->ndps, sizeof(*f->best));
		f->has_dp = calloc(c->ndps, sizeof(*f->has_dp));
		if (!f->next || !f->bound || !f->best || !f->has_dp)
			goto nomem;
		for (int j = 0; j < f->nflows; j++) {
			int d = c->flows[f->flows[j]].dp;

			f->ndps += !f->has_dp[d];
			f->has_dp[d] = true;
		}
		/* pcapng names the interface when the file holds only one */
		for (int j = 1; j < f->nflows; j++)
			if (strcmp(fi[f->flows[j]].ifname, ifname))
				ifname = NULL;
		wo.ifname = ifname;
		f->w = ffpf_capw_open(f->path, &wo);
		if (!f->w) {
			err = errno == EINVAL ? EIO : errno;	/* EINVAL: a bad pattern */
			fprintf(stderr, "ffpf-bpf run: -w %s: cannot create: %s\n", f->path,
				strerror(errno));
			goto fail;
		}
	}
	for (int i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return c;

nomem:
	fprintf(stderr, "ffpf-bpf run: -w: %s\n", strerror(ENOMEM));
	err = ENOMEM;
fail:
	if (paths)
		for (int i = 0; i < n; i++)
			free(paths[i]);
	free(paths);
	if (c) {
		if (c->files)
			free_files(c, true);
		c->nfiles = 0;
		c->files = NULL;
		capture_free(c);
	}
	errno = err;
	return NULL;
}

int capture_bind(struct capture *c, int i, struct ffpf_flow *flow)
{
	struct cap_flow *cf = &c->flows[i];
	struct cap_dp *dp = &c->dps[cf->dp];
	int slot = ffpf_flow_slot(flow);
	int fd = ffpf_flow_fd(flow);

	if (fd < 0 || slot < 0 || slot >= FFPF_MAX_FLOWS) {
		fprintf(stderr, "ffpf-bpf run: flow %s on %s: no packet queue (fd %d, slot %d)\n",
			cf->label, dp->ifname, fd, slot);
		return fd < 0 ? fd : -EINVAL;
	}
	cf->flow = flow;
	cf->fd = fd;
	if (!dp->label[slot] && dp->nslots < FFPF_MAX_FLOWS)
		dp->order[dp->nslots++] = slot;
	dp->label[slot] = cf->label;
	if (!dp->any)
		dp->any = flow;
	c->pfd[i].fd = fd;
	c->pfd[i].events = POLLIN;
	return 0;
}

/* "flows: a,b": our flows on the packet's datapath that accepted it, in command-line order. */
static const char *comment_of(struct capture *c, const struct cap_dp *dp,
			      const struct ffpf_packet *p)
{
	size_t len = snprintf(c->comment, sizeof(c->comment), "flows: ");
	bool first = true;

	for (int k = 0; k < dp->nslots && len < sizeof(c->comment); k++) {
		int slot = dp->order[k];

		if (!(p->matched & (1ULL << slot)))
			continue;
		len += snprintf(c->comment + len, sizeof(c->comment) - len, "%s%s",
				first ? "" : ",", dp->label[slot]);
		first = false;
	}
	return c->comment;
}

/* Give back what was consumed and keep the rest of the batch in front. */
static int flow_release(struct cap_flow *cf)
{
	int err;

	if (!cf->pos)
		return 0;
	err = ffpf_flow_release(cf->flow, cf->pos);
	if (err < 0) {
		fprintf(stderr, "ffpf-bpf run: flow %s: release: %s\n", cf->label, strerror(-err));
		return err;
	}
	memmove(cf->pk, cf->pk + cf->pos, (cf->n - cf->pos) * sizeof(cf->pk[0]));
	cf->n -= cf->pos;
	cf->pos = 0;
	return 0;
}

/* An exhausted batch: release it and peek the next one. */
static int flow_refill(struct cap_flow *cf)
{
	int err, got;

	if (cf->pos < cf->n)
		return 0;
	err = flow_release(cf);
	if (err)
		return err;
	got = ffpf_flow_peek_batch(cf->flow, cf->pk, CAP_BATCH);
	if (got < 0 && got != -EAGAIN) {
		fprintf(stderr, "ffpf-bpf run: flow %s: peek: %s\n", cf->label, strerror(-got));
		return got;
	}
	cf->n = got > 0 ? got : 0;
	return 0;
}

static int file_write(struct capture *c, struct cap_file *f, const struct cap_dp *dp,
		      const struct ffpf_packet *p)
{
	int err = ffpf_capw_write(f->w, p->data, p->caplen, p->wire_len, p->ts_ns,
				  c->o.pcapng ? comment_of(c, dp, p) : NULL);

	if (err) {
		fprintf(stderr, "ffpf-bpf run: writing %s: %s\n", f->path, strerror(-err));
		c->err = err;
		return err;
	}
	c->written++;
	if (c->o.count && c->written >= c->o.count)
		c->done = true;
	return 0;
}

/*
 * One merge round over the file's flows: refill, then write every packet
 * up to each datapath's bound, oldest first. Returns the packets taken
 * out of the IBufs (0: all empty) or a negative errno.
 */
static int file_round(struct capture *c, struct cap_file *f, int budget)
{
	bool any = false;
	int err, done = 0;

	for (int j = 0; j < f->nflows; j++) {
		struct cap_flow *cf = &c->flows[f->flows[j]];

		err = flow_refill(cf);
		if (err)
			return err;
		any |= cf->pos < cf->n;
	}
	if (!any)
		return 0;
	/* Second look at the empty ones, now that later seqs were seen. */
	for (int d = 0; d < c->ndps; d++)
		f->bound[d] = ~0ULL;
	for (int j = 0; j < f->nflows; j++) {
		struct cap_flow *cf = &c->flows[f->flows[j]];

		err = flow_refill(cf);
		if (err)
			return err;
		if (cf->pos < cf->n && cf->pk[cf->n - 1].seq < f->bound[cf->dp])
			f->bound[cf->dp] = cf->pk[cf->n - 1].seq;
	}

	while (done < budget && !c->done) {
		const struct ffpf_packet *p, *best = NULL;
		int bd = -1;

		/* per datapath the smallest seq, then the oldest of those */
		for (int d = 0; d < c->ndps; d++)
			f->best[d] = -1;
		for (int j = 0; j < f->nflows; j++) {
			struct cap_flow *cf = &c->flows[f->flows[j]];
			int *b = &f->best[cf->dp];

			if (cf->pos == cf->n || cf->pk[cf->pos].seq > f->bound[cf->dp])
				continue;
			if (*b < 0 || cf->pk[cf->pos].seq <
			    c->flows[*b].pk[c->flows[*b].pos].seq)
				*b = f->flows[j];
		}
		for (int d = 0; d < c->ndps; d++) {
			struct cap_flow *cf;

			if (f->best[d] < 0)
				continue;
			cf = &c->flows[f->best[d]];
			p = &cf->pk[cf->pos];
			if (!best || p->ts_ns < best->ts_ns) {
				best = p;
				bd = d;
			}
		}
		if (!best || must_hold(c, f, best))
			break;

		__u64 seq = best->seq;

		if (seq >= f->next[bd]) {
			err = file_write(c, f, &c->dps[bd], best);
			if (err)
				return err;
			f->next[bd] = seq + 1;
		}
		/* taken out of every flow of the datapath that holds it */
		for (int j = 0; j < f->nflows; j++) {
			struct cap_flow *cf = &c->flows[f->flows[j]];

			if (cf->dp == bd && cf->pos < cf->n && cf->pk[cf->pos].seq == seq) {
				cf->pos++;
				cf->captured++;
				done++;
			}
		}
	}
	return done;
}

/* Rounds until the file's flows are empty or @budget packets were taken. */
static int file_pump(struct capture *c, struct cap_file *f, int budget)
{
	int got, total = 0, err;

	f->held = false;
	while (total < budget && !c->done && !f->held) {
		got = file_round(c, f, budget - total);
		if (got < 0)
			return got;
		if (!got)
			break;
		total += got;
	}
	for (int j = 0; j < f->nflows; j++) {
		err = flow_release(&c->flows[f->flows[j]]);
		if (err)
			return err;
	}
	return total;
}

static int pump_all(struct capture *c, int budget, bool only_ready)
{
	int total = 0, got;

	for (int k = 0; k < c->nfiles && !c->done; k++) {
		struct cap_file *f = &c->files[k];
		bool ready = !only_ready;

		for (int j = 0; j < f->nflows && !ready; j++) {
			const struct cap_flow *cf = &c->flows[f->flows[j]];

			ready = c->pfd[f->flows[j]].revents || cf->pos < cf->n;
		}
		if (!ready)
			continue;
		got = file_pump(c, f, budget);
		if (got < 0)
			return got;
		total += got;
	}
	return total;
}

int capture_run(struct capture *c, int timeout_ms)
{
	int r;

	if (c->err)
		return c->err;
	if (c->done)
		return 1;
	for (int i = 0; i < c->nflows; i++) {
		struct cap_flow *cf = &c->flows[i];
		bool held = c->files[cf->file].held;

		/*
		 * A held file's fds stay out of the poll: they are readable, and
		 * nothing of theirs can be written before the hold ends.
		 */
		c->pfd[i].fd = held ? -1 : cf->fd;
		c->pfd[i].revents = 0;
		if (cf->pos < cf->n && !held)
			timeout_ms = 0;	/* a batch is still cached */
	}
	if (c->hold_ns) {
		__u64 now = realtime_ns();
		long long ms = c->hold_ns > now ? (c->hold_ns - now) / 1000000 + 1 : 0;

		if (ms < timeout_ms)
			timeout_ms = ms;
		c->hold_ns = 0;
	}
	r = poll(c->pfd, c->nflows, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	r = pump_all(c, CAP_WORK, true);
	if (r < 0)
		return r;
	return c->done ? 1 : 0;
}

/* Has the engine of datapath @dp taken in what its kernel side handed over? */
static bool dp_settled(const struct cap_dp *dp, __u64 *last_records, double *since, double t)
{
	struct ffpf_rx_stats rs = { .sz = sizeof(rs) };
	struct ffpf_iface_stats is = { .sz = sizeof(is) };

	if (!dp->any || ffpf_flow_rx_stats(dp->any, &rs) || ffpf_flow_iface_stats(dp->any, &is))
		return true;
	if (rs.records != *last_records) {
		*last_records = rs.records;
		*since = t;
	}
	/* copy mode says exactly how many records the kernel put into the ring */
	if (rs.mode == FFPF_RX_COPY)
		return rs.records >= is.copied;
	/* tap: quiet for 100 ms */
	return t - *since >= 0.1;
}

int capture_finish(struct capture *c)
{
	double start = mono(), t;
	__u64 *recs = calloc(c->ndps, sizeof(*recs));
	double *since = calloc(c->ndps, sizeof(*since));
	bool settled = false;
	int err = 0;

	if (c->err) {
		free(recs);
		free(since);
		return c->err;
	}
	if (!recs || !since) {
		free(recs);
		free(since);
		return -ENOMEM;
	}
	for (int d = 0; d < c->ndps; d++) {
		recs[d] = ~0ULL;
		since[d] = start;
	}
	while (!c->done) {
		err = pump_all(c, CAP_WORK, false);
		if (err < 0)
			break;
		err = 0;
		if (settled)
			break;	/* one last pump after everything arrived */
		t = mono();
		settled = true;
		for (int d = 0; d < c->ndps; d++)
			settled &= dp_settled(&c->dps[d], &recs[d], &since[d], t);
		if (!settled && t - start > 2.0) {
			fprintf(stderr, "ffpf-bpf run: the receive engine still had packets to "
				"deliver after 2 s; they are not in the capture\n");
			settled = true;
		}
		if (!settled)
			usleep(10 * 1000);
		c->flush = settled;	/* nothing younger can come: no reorder wait */
	}
	/* until every IBuf is empty */
	while (!err && !c->done && (err = pump_all(c, CAP_WORK, false)) > 0)
		;
	free(recs);
	free(since);
	return err < 0 ? err : 0;
}

int capture_close(struct capture *c)
{
	int ret = 0;

	if (!c)
		return 0;
	for (int k = 0; k < c->nfiles; k++) {
		struct cap_file *f = &c->files[k];
		int err;

		if (!f->w)
			continue;
		f->count = ffpf_capw_count(f->w);
		err = ffpf_capw_close(f->w);
		f->w = NULL;
		if (err) {
			fprintf(stderr, "ffpf-bpf run: closing %s: %s\n", f->path, strerror(-err));
			if (!ret)
				ret = err;
		}
	}
	return ret;
}

void capture_free(struct capture *c)
{
	if (!c)
		return;
	capture_close(c);
	free_files(c, false);
	free(c->flows);
	free(c->dps);
	free(c->pfd);
	free(c);
}

__u64 capture_flow_captured(const struct capture *c, int i)
{
	return c->flows[i].captured;
}

__u64 capture_written(const struct capture *c)
{
	return c->written;
}

int capture_nfiles(const struct capture *c)
{
	return c->nfiles;
}

const char *capture_file_path(const struct capture *c, int k)
{
	return c->files[k].path;
}

__u64 capture_file_packets(const struct capture *c, int k)
{
	return c->files[k].w ? ffpf_capw_count(c->files[k].w) : c->files[k].count;
}
