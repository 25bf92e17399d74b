// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * rx.c - the receive engine of one datapath (see rx.h) and the public
 * packet API on top of it: ffpf_flow_fd/peek/peek_batch/release,
 * ffpf_flows_run, ffpf_flow_rx_stats.
 *
 * One thread per engine is the PBuf's and the IBufs' producer. It loops:
 * wait (no lock) for the kernel to hand something over, at most
 * RX_WAIT_MS; then, under the engine's lock, one bounded step: read what
 * arrived and ffpf_pbuf_deliver() it to the member IBufs. Adding or
 * removing a flow takes the same lock, so the thread never holds a
 * pointer to an IBuf that is being freed, and waits at most one step.
 *
 * Copy mode: the root submits most ring buffer records without a wakeup
 * (ctl->wake_mask), so the wait must time out and the step must drain on
 * a timeout too; RX_WAIT_MS bounds the delay of such a record.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "pbuf.h"
#include "rx.h"
#include "tap.h"

#define RX_WAIT_MS		10	/* longest sleep without looking at the kernel */
#define RX_BUDGET		256	/* copy records per step under the lock */
#define RX_BUDGET_DONE		(-ECANCELED)	/* copy callback: step budget used */
#define RX_NFRAMES		4096
#define RX_MEM_MAX		(64UL << 20)	/* PBuf memory per engine, bytes */
#define RX_MIN_FRAME		2048
#define RX_XDP_HEADROOM		256	/* XDP_PACKET_HEADROOM: AF_XDP's packet offset */
#define RX_RESYNC_NS		1000000000LL	/* re-sample MONOTONIC -> REALTIME */
#define RX_RUN_BATCH		64	/* ffpf_flows_run: packets per flow per round */
#define RX_BACKOFF_US		100	/* a local IBuf is full: let its consumer run */
#define RX_LINGER_US		50	/* tap: after a busy step, look again this soon */
#define RX_STALL_NS		20000000LL	/* full this long: the consumer no longer holds us back */

/*
 * A flow group's PBuf in this engine. Flows of one group share one copy of
 * a packet; each group that wants a packet gets its own copy, and its
 * descriptors show only its own flows' bits in ffpf_meta.matched.
 */
struct rx_pool {
	char group[FFPF_GROUP_LEN];
	struct ffpf_pbuf *pb;	/* &pbuf (copy) or the tap's (UMEM) */
	struct ffpf_pbuf pbuf;
	bool pbuf_ok;
	void *mem;		/* copy: the frames, in memfd */
	size_t mem_len;
	int memfd;		/* copy: ours; tap: the tap's */
	__u64 mask;		/* member flows */
	__u64 visible;		/* bits its descriptors may show: its group's flows,
				 * receiving or not; never another group's */
	struct ffpf_ibuf *act[FFPF_MAX_FLOWS];	/* members, packed: deliver's list */
	int nact;
	__u64 no_frame;		/* copy: PBuf empty, record lost for the group */
	__s64 starved_since;	/* copy: monotonic ns the PBuf was first seen empty, 0 */
};

/*
 * A flow's membership: its IBuf and where its frames live. In the engine's
 * process (rx != NULL) the IBuf is the producer's; in a daemon's client
 * (rx == NULL, attached) it is the consumer's side of the daemon's IBuf
 * over the group's PBuf mapped read-only.
 */
struct rx_member {
	struct ffpf_ibuf ib;	/* first: flow->ibuf points here */
	struct ffpf_rx *rx;
	struct rx_pool *pool;
	struct ffpf_pbuf *pb;	/* where descriptors point */
	/* attached (client) side */
	bool attached;
	struct ffpf_pbuf rpb;	/* over the read-only mapping */
	void *rmem;
	size_t rmem_len;
	int conn_fd;		/* the daemon connection: hung up = flow gone */
	int poll_fd;		/* epoll of ib.efd and conn_fd: the flow's fd */
	__s64 full_since;	/* engine: monotonic ns its IBuf was first seen full, 0 */
};

struct ffpf_rx {
	struct ffpf_iface *ifc;
	enum ffpf_rx_mode mode;
	__u32 frame_size;
	__u32 room;		/* largest snaplen a frame holds */

	pthread_mutex_t lock;	/* members and act[]; the thread holds it per step */
	_Atomic int waiting;	/* add/remove/stats want the lock: the thread yields */
	pthread_t thread;
	bool thread_ok;
	atomic_bool stop;

	struct rx_member *member[FFPF_MAX_FLOWS];	/* by flow index */
	__u32 snaplen[FFPF_MAX_FLOWS];
	int nmembers;
	struct rx_pool *pool[FFPF_MAX_FLOWS];		/* packed, in creation order */
	int npools;
	__u64 remote;		/* members whose consumer is another process */

	/* tap: one pool, the UMEM */
	struct ffpf_tap *tap;
	__u64 user_high;	/* most frames held in user space, sampled per step */

	/* copy */
	struct ring_buffer *rb;
	bool discard;		/* reading what an earlier engine left in the ring */
	int budget;
	/* The ring's positions, mapped again: how full it is (libbpf 1.1 can't say). */
	const _Atomic unsigned long *rb_cons, *rb_prod;
	unsigned long rb_size;	/* the ring's data bytes */
	bool held;		/* the last step left records in the ring: IBufs full */
	bool force;		/* take what comes, hold nothing back (a flow leaves) */
	int got;		/* tap: packets the last step took */

	/* Written by whoever holds the lock (the thread, or remove's drain). */
	__u64 records;		/* copy: ring buffer records read */
	__u64 bad;		/* copy: malformed record or refused delivery */
	__u64 step_err;
	_Atomic __s64 ts_off;	/* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	__s64 resync_at;	/* monotonic ns of the next re-sample */
};

static __s64 ts_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__s64)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * bpf_ktime_get_ns() is CLOCK_MONOTONIC. The offset to CLOCK_REALTIME is
 * read between two MONOTONIC samples; the tightest of three brackets wins.
 */
static __s64 mono_to_real(void)
{
	__s64 best = 0, width = INT64_MAX;

	for (int i = 0; i < 3; i++) {
		__s64 m1 = ts_ns(CLOCK_MONOTONIC);
		__s64 r = ts_ns(CLOCK_REALTIME);
		__s64 m2 = ts_ns(CLOCK_MONOTONIC);

		if (m2 - m1 < width) {
			width = m2 - m1;
			best = r - (m1 + (m2 - m1) / 2);
		}
	}
	return best;
}

/* Re-sample now and then so a step of the wall clock shows up within a second. */
static void rx_resync(struct ffpf_rx *rx)
{
	__s64 now = ts_ns(CLOCK_MONOTONIC), off;

	if (now < rx->resync_at)
		return;
	rx->resync_at = now + RX_RESYNC_NS;
	off = mono_to_real();
	atomic_store_explicit(&rx->ts_off, off, memory_order_relaxed);
	if (rx->tap)
		ffpf_tap_set_ts_offset(rx->tap, off);
}

static void rx_lock(struct ffpf_rx *rx)
{
	atomic_fetch_add(&rx->waiting, 1);
	pthread_mutex_lock(&rx->lock);
	atomic_fetch_sub(&rx->waiting, 1);
}

static void rx_unlock(struct ffpf_rx *rx)
{
	pthread_mutex_unlock(&rx->lock);
}

static const char *mode_name(enum ffpf_rx_mode m)
{
	return m == FFPF_RX_TAP ? "tap" : m == FFPF_RX_COPY ? "copy" : "none";
}

/* --- copy mode --------------------------------------------------------- */

/* One group's copy of a record: a fresh frame of its PBuf, its flows' bits only. */
static void rx_copy_pool(struct ffpf_rx *rx, struct rx_pool *p,
			 const struct ffpf_copy_rec *rec)
{
	struct ffpf_meta meta;
	__u64 addr;

	meta = rec->meta;
	meta.matched &= p->visible;
	/* Every IBuf that wants it is full: no frame, no copy, the same counts. */
	if (!ffpf_pbuf_any_room(&meta, p->act, p->nact)) {
		ffpf_pbuf_refuse(p->pb, &meta, p->act, p->nact);
		return;
	}
	if (ffpf_pbuf_alloc(p->pb, &addr)) {
		if (!p->no_frame++)
			pr_warn("rx: %s: no free PBuf frame%s%s: packets are lost for its flows "
				"(counted in no_frame) until consumers release theirs\n",
				rx->ifc->ifname, p->group[0] ? " in group " : "", p->group);
		return;
	}
	memcpy(ffpf_pbuf_data(p->pb, addr), rec->data, rec->caplen);
	meta.ts_ns += atomic_load_explicit(&rx->ts_off, memory_order_relaxed);
	if (ffpf_pbuf_deliver(p->pb, addr, rec->caplen, &meta, p->act, p->nact) < 0) {
		ffpf_pbuf_release(p->pb, addr);
		if (!rx->bad++)
			pr_warn("rx: %s: copy record refused by the PBuf: dropped "
				"(counted in lost)\n", rx->ifc->ifname);
	}
}

/* ring_buffer callback: one record, copied once into each group that wants it. */
static int rx_copy_rec(void *ctx, void *data, size_t size)
{
	const struct ffpf_copy_rec *rec = data;
	struct ffpf_rx *rx = ctx;

	if (rx->discard)
		return 0;
	rx->records++;
	if (size < sizeof(*rec) || rec->caplen > size - sizeof(*rec) ||
	    rec->caplen > rx->frame_size) {
		if (!rx->bad++)
			pr_warn("rx: %s: malformed copy record (%zu bytes, caplen %u): "
				"dropped (counted in lost)\n", rx->ifc->ifname, size,
				size >= sizeof(*rec) ? rec->caplen : 0);
	} else {
		for (int i = 0; i < rx->npools; i++)
			if (rec->meta.matched & rx->pool[i]->mask)
				rx_copy_pool(rx, rx->pool[i], rec);
	}
	return --rx->budget > 0 ? 0 : RX_BUDGET_DONE;
}

/*
 * The ring's consumer and producer positions, for rx_budget(). Without
 * them (a mapping failed) the engine never holds records back.
 */
static void rx_map_positions(struct ffpf_rx *rx)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	void *c, *p;

	if (bpf_obj_get_info_by_fd(rx->ifc->copy_fd, &info, &len) || !info.max_entries)
		return;
	c = mmap(NULL, page, PROT_READ, MAP_SHARED, rx->ifc->copy_fd, 0);
	if (c == MAP_FAILED)
		return;
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, rx->ifc->copy_fd, page);
	if (p == MAP_FAILED) {
		munmap(c, page);
		return;
	}
	rx->rb_cons = c;
	rx->rb_prod = p;
	rx->rb_size = info.max_entries;
}

/* Bytes waiting in the kernel's ring. */
static unsigned long rx_ring_pending(const struct ffpf_rx *rx)
{
	return atomic_load_explicit(rx->rb_prod, memory_order_acquire) -
	       atomic_load_explicit(rx->rb_cons, memory_order_relaxed);
}

/* Frames of the smallest power of two >= snaplen (at least 2048). */
static int rx_open_copy(struct ffpf_rx *rx, __u32 snaplen)
{
	struct ffpf_iface *ifc = rx->ifc;
	__u32 fs = RX_MIN_FRAME;

	while (fs < snaplen)
		fs <<= 1;
	rx->frame_size = rx->room = fs;
	rx->rb = ring_buffer__new(ifc->copy_fd, rx_copy_rec, rx, NULL);
	if (!rx->rb)
		return ffpf_err(errno, "rx: %s: opening the copy ring buffer: %s\n",
				ifc->ifname, strerror(errno));
	rx_map_positions(rx);
	/*
	 * Records still in the ring belong to flows of an earlier engine on
	 * this datapath (now closed): a new flow may have the same index.
	 */
	rx->discard = true;
	ring_buffer__consume(rx->rb);
	rx->discard = false;
	return 0;
}

/* A group's PBuf: frames in a memfd sealed read-only for everyone but us. */
static int rx_pool_open_copy(struct ffpf_rx *rx, struct rx_pool *p)
{
	__u32 fs = rx->frame_size;
	__u32 nframes = RX_MEM_MAX / fs < RX_NFRAMES ? RX_MEM_MAX / fs : RX_NFRAMES;
	int err;

	p->mem_len = (size_t)fs * nframes;
	p->mem = ffpf_shm_map("ffpf-pbuf", p->mem_len, &p->memfd);
	if (!p->mem)
		return ffpf_err(errno, "rx: %s: %zu bytes for the PBuf: %s\n", rx->ifc->ifname,
				p->mem_len, strerror(errno));
	err = ffpf_shm_seal_readonly(p->memfd);
	if (!err)
		err = ffpf_pbuf_init(&p->pbuf, p->mem, fs, nframes, NULL);
	if (err)
		return err;
	p->pbuf_ok = true;
	p->pb = &p->pbuf;
	return 0;
}

static void rx_pool_free(struct rx_pool *p)
{
	if (!p)
		return;
	if (p->pbuf_ok)
		ffpf_pbuf_destroy(&p->pbuf);
	if (p->mem)
		munmap(p->mem, p->mem_len);
	if (p->memfd >= 0 && p->pb == &p->pbuf)
		close(p->memfd);
	free(p);
}

/* --- tap mode ---------------------------------------------------------- */

/* The packet lands at frame + 256: frames of the smallest power of two that hold snaplen. */
static int rx_open_tap(struct ffpf_rx *rx, __u32 snaplen)
{
	struct ffpf_iface *ifc = rx->ifc;
	long page = sysconf(_SC_PAGESIZE);
	__u32 fs = RX_MIN_FRAME;
	int err;

	while (fs - RX_XDP_HEADROOM < snaplen && fs < page)
		fs <<= 1;
	if (fs - RX_XDP_HEADROOM < snaplen)
		return ffpf_err(EINVAL, "rx: %s: tap mode keeps at most %u bytes of a packet "
				"(an AF_XDP frame is at most a page, %u bytes of it headroom); "
				"snaplen %u needs copy mode\n", ifc->ifname,
				fs - RX_XDP_HEADROOM, RX_XDP_HEADROOM, snaplen);
	{
		FFPF_OPTS(ffpf_tap_opts, to, .frame_size = fs, .queue = -1,
			  .nframes = RX_MEM_MAX / fs < RX_NFRAMES ? RX_MEM_MAX / fs : RX_NFRAMES);

		err = ffpf_tap_open(ifc, &to, &rx->tap);
	}
	if (err)
		return err;
	rx->frame_size = fs;
	rx->room = fs - RX_XDP_HEADROOM;
	return 0;
}

/* Frames held in user space (IBufs, the engine), not those lent to the kernel. */
static __u64 rx_user_frames(struct ffpf_rx *rx, __u64 in_use)
{
	__u64 k = ffpf_tap_kernel_frames(rx->tap);

	return in_use > k ? in_use - k : 0;
}

/* --- the thread -------------------------------------------------------- */

/* Wait, without the lock, until the kernel has something or RX_WAIT_MS passed. */
static int rx_wait(struct ffpf_rx *rx)
{
	struct pollfd p = { .events = POLLIN };
	int r;

	if (rx->held) {
		/* The ring is readable but a consumer has no room: give it the CPU. */
		usleep(RX_BACKOFF_US);
		return 0;
	}
	/*
	 * While packets flow, a thread asleep in poll() costs the receiving
	 * CPU a wakeup (an IPI: microseconds on a paravirtualised CPU) per
	 * batch; a timed nap does not, and the RX ring (2048) holds 0.8 ms at
	 * 2.5 Mpps. Only a step that found nothing sleeps in poll().
	 */
	if (rx->tap && rx->got > 0) {
		if (rx->got < rx->budget)	/* drained: more will come soon */
			usleep(RX_LINGER_US);
		return 1;
	}
	if (rx->tap)
		return ffpf_tap_wait(rx->tap, RX_WAIT_MS);
	p.fd = ring_buffer__epoll_fd(rx->rb);
	r = poll(&p, 1, RX_WAIT_MS);
	return r < 0 ? -errno : r;
}

/* Is the kernel's ring more than three quarters full? */
static bool rx_crowded(const struct ffpf_rx *rx)
{
	if (rx->tap)
		return ffpf_tap_crowded(rx->tap);
	return rx_ring_pending(rx) > rx->rb_size / 4 * 3;
}

/* Nothing waits in the kernel's ring: every consumer has what came. */
static bool rx_idle(const struct ffpf_rx *rx)
{
	return rx->tap ? !ffpf_tap_queued(rx->tap) : !rx_ring_pending(rx);
}

struct rx_clock {
	__s64 now;	/* 0 until needed */
	int crowded;	/* -1 until needed */
};

/*
 * A holder (an IBuf, a pool) behind since *@since: may it still hold the
 * engine back? Not past RX_STALL_NS, nor while the ring is crowded.
 */
static bool rx_may_hold(struct ffpf_rx *rx, __s64 *since, struct rx_clock *c)
{
	if (!c->now)
		c->now = ts_ns(CLOCK_MONOTONIC);
	if (!*since)
		*since = c->now;
	if (c->crowded < 0)
		c->crowded = rx_crowded(rx);
	if (c->crowded)
		*since = c->now - RX_STALL_NS;	/* cut off until it catches up */
	return c->now - *since < RX_STALL_NS;
}

/*
 * How many records (copy) or descriptors (tap) this step may take so that
 * no local consumer loses one for want of room. The kernel's ring (the BPF
 * ring buffer, or the AF_XDP RX ring) holds the rest, as a tcpdump's socket
 * buffer does, until the consumers catch up. A slow or stuck application
 * must not hold every flow back for long: a consumer may be behind for
 * RX_STALL_NS at most, and not while the ring is more than three quarters
 * full; after that it holds nothing back until it has caught up (its IBuf
 * empty, or the ring drained), and meanwhile its flow drops, counted. The
 * same bound holds for an empty PBuf (then the group drops, counted in
 * no_frame). A daemon's client holds the engine back only when its flow
 * group is the engine's only one: other groups may be other users', who
 * must not wait for it.
 */
static int rx_budget(struct ffpf_rx *rx)
{
	struct rx_clock c = { .crowded = -1 };
	__u32 budget = RX_BUDGET;
	bool idle;

	if (rx->force || (!rx->tap && !rx->rb_cons))
		return budget;
	idle = rx_idle(rx);
	for (int k = 0; k < rx->npools; k++) {
		struct rx_pool *p = rx->pool[k];
		bool local = false;

		for (int j = 0; j < p->nact; j++) {
			struct rx_member *m = (struct rx_member *)p->act[j];
			__u32 room;

			if ((rx->remote & (1ULL << m->ib.flow)) && rx->npools > 1)
				continue;
			local = true;
			room = ffpf_ibuf_space(&m->ib);
			if (idle || room == m->ib.capacity)
				m->full_since = 0;	/* caught up */
			if (!room || m->full_since) {
				if (!rx_may_hold(rx, &m->full_since, &c))
					continue;
			}
			if (room < budget)
				budget = room;
		}
		/* tap: the pool's free frames are the fill ring's business */
		if (local && !rx->tap) {
			__u32 nfree = ffpf_pbuf_nfree(p->pb);

			if (idle || nfree >= p->pb->nframes / 2)
				p->starved_since = 0;
			if ((!nfree || p->starved_since) &&
			    !rx_may_hold(rx, &p->starved_since, &c))
				continue;
			if (nfree < budget)
				budget = nfree;
		}
	}
	return budget;
}

/* One bounded step under the lock: read what arrived, deliver it. */
static void rx_step(struct ffpf_rx *rx)
{
	int r = 0;

	rx->budget = rx_budget(rx);
	rx->held = !rx->budget;
	if (rx->tap) {
		struct ffpf_pbuf_stats ps;
		__u64 user;

		/* held or not: the fill ring is refilled */
		r = ffpf_tap_poll(rx->tap, rx->pool[0]->act, rx->pool[0]->nact, rx->budget);
		rx->got = r;
		ffpf_pbuf_get_stats(rx->pool[0]->pb, &ps);
		user = rx_user_frames(rx, ps.in_use);
		if (user > rx->user_high)
			rx->user_high = user;
	} else if (!rx->held) {
		r = ring_buffer__consume(rx->rb);
		if (r == RX_BUDGET_DONE)
			r = 0;
	}
	if (r < 0 && !rx->step_err++)
		pr_warn("rx: %s: receiving in %s mode: %s\n", rx->ifc->ifname,
			mode_name(rx->mode), strerror(-r));
	/*
	 * Wake a sleeping consumer once its IBuf is a quarter full, or once
	 * the kernel has nothing more for now: under load every wake-up (a
	 * context switch) then brings a batch, and an idle link still gets
	 * its packets at once. Not a fence per descriptor either.
	 */
	{
		bool idle = rx->force || rx->held || rx_idle(rx);

		for (int k = 0; k < rx->npools; k++)
			for (int j = 0; j < rx->pool[k]->nact; j++) {
				struct ffpf_ibuf *ib = rx->pool[k]->act[j];

				if (idle || ffpf_ibuf_count(ib) >= ib->capacity / 4)
					ffpf_ibuf_wake(ib);
			}
	}
	/* Frames a client process handed back, even when no packet comes. */
	for (__u64 m = rx->remote; m; m &= m - 1)
		ffpf_ibuf_reclaim(&rx->member[__builtin_ctzll(m)]->ib);
}

/*
 * Under the lock, as a flow leaves: take in everything the kernel sent up
 * until now, holding nothing back (a full IBuf drops, counted), so that no
 * record of the leaving flow waits for a later flow that takes its index.
 */
static void rx_flush(struct ffpf_rx *rx)
{
	rx->force = true;
	if (rx->tap) {
		/* 64 steps of at most 64 descriptors: a 2048-entry RX ring twice over */
		for (int i = 0; i < 64 && ffpf_tap_queued(rx->tap); i++)
			rx_step(rx);
	} else if (rx->rb_cons) {
		unsigned long end = atomic_load_explicit(rx->rb_prod, memory_order_acquire);

		for (int i = 0; i < 1 << 20 &&
		     (long)(atomic_load_explicit(rx->rb_cons, memory_order_relaxed) - end) < 0; i++)
			rx_step(rx);
	} else {
		rx_step(rx);
	}
	rx->force = false;
	rx->held = false;
}

static void *rx_thread(void *arg)
{
	struct ffpf_rx *rx = arg;
	bool warned = false;

	while (!atomic_load(&rx->stop)) {
		int r = rx_wait(rx);

		if (r < 0 && r != -EINTR) {
			if (!warned)
				pr_warn("rx: %s: waiting for packets: %s\n", rx->ifc->ifname,
					strerror(-r));
			warned = true;
			usleep(RX_WAIT_MS * 1000);
		}
		/*
		 * Let a waiting add/remove/stats in before taking the lock again
		 * (a mutex is not fair); bounded, so a caller that asks for stats
		 * in a loop cannot starve the receive path.
		 */
		for (int i = 0; i < 64 && atomic_load(&rx->waiting); i++)
			sched_yield();
		rx_lock(rx);
		rx_step(rx);
		rx_unlock(rx);
		rx_resync(rx);
	}
	return NULL;
}

/* --- engine life cycle ------------------------------------------------- */

static void rx_free(struct ffpf_rx *rx)
{
	struct ffpf_ctl *ctl = rx->ifc->ctl;

	if (rx->mode == FFPF_RX_COPY)
		__atomic_store_n(&ctl->copy, 0, __ATOMIC_SEQ_CST);
	else
		__atomic_store_n(&ctl->tap, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&ctl->snaplen, 0, __ATOMIC_SEQ_CST);
	if (rx->thread_ok) {
		atomic_store(&rx->stop, true);
		pthread_join(rx->thread, NULL);
	}
	for (int i = 0; i < rx->npools; i++) {
		struct ffpf_pbuf_stats ps;

		ffpf_pbuf_get_stats(rx->pool[i]->pb, &ps);
		if (rx_user_frames(rx, ps.in_use))
			pr_warn("rx: %s: %llu PBuf frames still held when the engine stops\n",
				rx->ifc->ifname,
				(unsigned long long)rx_user_frames(rx, ps.in_use));
		rx_pool_free(rx->pool[i]);
	}
	ffpf_tap_close(rx->tap);
	ring_buffer__free(rx->rb);
	if (rx->rb_cons) {
		munmap((void *)rx->rb_cons, sysconf(_SC_PAGESIZE));
		munmap((void *)rx->rb_prod, sysconf(_SC_PAGESIZE));
	}
	pthread_mutex_destroy(&rx->lock);
	free(rx);
}

/* The thread must not take signals meant for the application's poll(). */
static int rx_start_thread(struct ffpf_rx *rx)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&rx->thread, NULL, rx_thread, rx);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return ffpf_err(err, "rx: %s: starting the receive thread: %s\n",
				rx->ifc->ifname, strerror(err));
	rx->thread_ok = true;
	return 0;
}

static int rx_start(struct ffpf_iface *ifc, const struct ffpf_flow *flow,
		    struct ffpf_rx **out)
{
	struct ffpf_rx *rx = calloc(1, sizeof(*rx));
	int err;

	if (!rx)
		return -ENOMEM;
	rx->ifc = ifc;
	rx->mode = flow->rx;
	pthread_mutex_init(&rx->lock, NULL);
	atomic_init(&rx->ts_off, mono_to_real());
	rx->resync_at = ts_ns(CLOCK_MONOTONIC) + RX_RESYNC_NS;

	/* ctl->tap is set by ffpf_tap_open(); ctl->copy below, once the reader is up. */
	if (rx->mode == FFPF_RX_TAP)
		err = rx_open_tap(rx, flow->snaplen);
	else
		err = rx_open_copy(rx, flow->snaplen);
	if (!err && rx->tap)
		ffpf_tap_set_ts_offset(rx->tap, atomic_load(&rx->ts_off));
	if (!err)
		err = rx_start_thread(rx);
	if (err) {
		rx_free(rx);
		return err;
	}
	if (rx->mode == FFPF_RX_COPY)
		__atomic_store_n(&ifc->ctl->copy, 1, __ATOMIC_SEQ_CST);
	pr_debug("rx: %s: %s mode, frames of %u bytes\n", ifc->ifname,
		 mode_name(rx->mode), rx->frame_size);
	*out = rx;
	return 0;
}

/* Under the lock: the pools' packed lists and ctl->snaplen follow the members. */
static void rx_members_changed(struct ffpf_rx *rx)
{
	__u32 snap = 0;

	for (int k = 0; k < rx->npools; k++) {
		rx->pool[k]->nact = 0;
		rx->pool[k]->mask = 0;
	}
	for (int i = 0; i < FFPF_MAX_FLOWS; i++) {
		struct rx_member *m = rx->member[i];

		if (!m)
			continue;
		m->pool->act[m->pool->nact++] = &m->ib;
		m->pool->mask |= 1ULL << i;
		if (rx->snaplen[i] > snap)
			snap = rx->snaplen[i];
	}
	/* A flow of no group of ours (another process's) counts as group "". */
	for (int k = 0; k < rx->npools; k++) {
		struct rx_pool *p = rx->pool[k];

		p->visible = p->mask;
		for (int i = 0; i < FFPF_MAX_FLOWS; i++) {
			const char *g = rx->ifc->group_of[i];

			if (!strcmp(g ? g : "", p->group))
				p->visible |= 1ULL << i;
		}
	}
	if (rx->tap && rx->npools)
		ffpf_tap_set_mask(rx->tap, rx->pool[0]->visible);
	if (snap)
		__atomic_store_n(&rx->ifc->ctl->snaplen, snap, __ATOMIC_SEQ_CST);
}

void ffpf_rx_flows_changed(struct ffpf_iface *ifc)
{
	struct ffpf_rx *rx = ifc->rx;

	if (!rx)
		return;
	rx_lock(rx);
	rx_members_changed(rx);
	rx_unlock(rx);
}

static int rx_check_join(const struct ffpf_rx *rx, const struct ffpf_flow *flow)
{
	const char *ifn = rx->ifc->ifname;

	if (rx->mode != flow->rx)
		return ffpf_err(EBUSY, "flow %s: %s receives in %s mode, fixed by its first rx "
				"flow (still open); all rx flows of a process on one interface "
				"and hook share one mode, %s was asked\n", flow->name, ifn,
				mode_name(rx->mode), mode_name(flow->rx));
	if (flow->snaplen > rx->room)
		return ffpf_err(EBUSY, "flow %s: snaplen %u does not fit the PBuf frames of %s "
				"(%u bytes per packet, sized by its first rx flow); use a "
				"snaplen <= %u, or create the flow with the largest snaplen "
				"first\n", flow->name, flow->snaplen, ifn, rx->room, rx->room);
	if (rx->tap && rx->npools && strcmp(rx->pool[0]->group, flow->group))
		return ffpf_err(EBUSY, "flow %s: %s is tapped for flow group '%s': the UMEM "
				"is that group's PBuf, and groups share nothing; use copy "
				"mode for group '%s'\n", flow->name, ifn, rx->pool[0]->group,
				flow->group);
	return 0;
}

/* The flow's group's pool, made if it is the group's first flow here. */
static int rx_pool_get(struct ffpf_rx *rx, const char *group, struct rx_pool **out)
{
	struct rx_pool *p;
	int err;

	for (int i = 0; i < rx->npools; i++)
		if (!strcmp(rx->pool[i]->group, group)) {
			*out = rx->pool[i];
			return 0;
		}
	if (rx->npools == FFPF_MAX_FLOWS || (rx->tap && rx->npools))
		return -EBUSY;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->memfd = -1;
	snprintf(p->group, sizeof(p->group), "%s", group);
	if (rx->tap) {
		p->pb = ffpf_tap_pbuf(rx->tap);
		p->memfd = ffpf_tap_memfd(rx->tap);
	} else {
		err = rx_pool_open_copy(rx, p);
		if (err) {
			rx_pool_free(p);
			return err;
		}
	}
	rx_lock(rx);
	rx->pool[rx->npools++] = p;
	rx_unlock(rx);
	*out = p;
	return 0;
}

/* Under the lock: a pool without members goes (copy mode; tap keeps its UMEM's). */
static void rx_pool_put(struct ffpf_rx *rx, struct rx_pool *p)
{
	int i;

	if (p->nact || rx->tap)
		return;
	for (i = 0; i < rx->npools && rx->pool[i] != p; i++)
		;
	if (i == rx->npools)
		return;
	memmove(&rx->pool[i], &rx->pool[i + 1], (rx->npools - i - 1) * sizeof(rx->pool[0]));
	rx->npools--;
	rx_pool_free(p);
}

/* A zeroed member; struct ffpf_ibuf has cache-line aligned members: calloc would not do. */
static struct rx_member *member_new(void)
{
	struct rx_member *m = aligned_alloc(FFPF_IBUF_CACHELINE,
					    (sizeof(*m) + FFPF_IBUF_CACHELINE - 1) &
					    ~(size_t)(FFPF_IBUF_CACHELINE - 1));

	if (m) {
		memset(m, 0, sizeof(*m));
		m->conn_fd = m->poll_fd = -1;
	}
	return m;
}

int ffpf_rx_add(struct ffpf_flow *flow)
{
	struct ffpf_iface *ifc;
	struct rx_member *m;
	struct rx_pool *pool;
	struct ffpf_rx *rx;
	bool fresh = false;
	int err;

	if (!flow || !flow->instantiated || flow->rx == FFPF_RX_NONE || flow->idx < 0 ||
	    flow->idx >= FFPF_MAX_FLOWS)
		return -EINVAL;
	if (flow->ibuf)
		return -EALREADY;
	ifc = flow->iface;
	if (flow->rx == FFPF_RX_TAP && ifc->hook != FFPF_HOOK_INGRESS)
		return ffpf_err(EOPNOTSUPP, "flow %s: tap mode (AF_XDP) exists on ingress only\n",
				flow->name);
	if (ifc->copy_fd < 0 || ifc->xsks_fd < 0 || !ifc->ctl)
		return ffpf_err(EOPNOTSUPP, "flow %s: %s was adopted from pins: this process "
				"cannot receive its packets\n", flow->name, ifc->ifname);

	rx = ifc->rx;
	if (rx) {
		err = rx_check_join(rx, flow);
		if (err)
			return err;
	} else {
		err = rx_start(ifc, flow, &rx);
		if (err)
			return err;
		ifc->rx = rx;
		fresh = true;
	}
	err = rx_pool_get(rx, flow->group, &pool);
	if (err)
		goto fail;

	m = member_new();
	if (!m) {
		err = -ENOMEM;
		goto fail_pool;
	}
	err = flow->remote_consumer ?
	      ffpf_ibuf_init_remote(&m->ib, flow->ibuf_size, flow->idx, pool->pb) :
	      ffpf_ibuf_init(&m->ib, flow->ibuf_size, flow->idx);
	if (err) {
		free(m);
		goto fail_pool;
	}
	m->ib.snaplen = flow->snaplen;
	m->ib.defer_wake = true;	/* rx_step() wakes once per step */
	m->rx = rx;
	m->pool = pool;
	m->pb = pool->pb;

	rx_lock(rx);
	rx->member[flow->idx] = m;
	rx->snaplen[flow->idx] = flow->snaplen;
	rx->nmembers++;
	if (flow->remote_consumer)
		rx->remote |= 1ULL << flow->idx;
	rx_members_changed(rx);
	rx_unlock(rx);
	flow->ibuf = &m->ib;
	/* Published: from now on the root may send the flow's packets up. */
	__atomic_fetch_or(&ifc->ctl->rx, 1ULL << flow->idx, __ATOMIC_SEQ_CST);
	return 0;

fail_pool:
	rx_lock(rx);
	rx_pool_put(rx, pool);
	rx_unlock(rx);
fail:
	if (fresh) {
		ifc->rx = NULL;
		rx_free(rx);
	}
	return err;
}

static void rx_detach(struct ffpf_flow *flow);

void ffpf_rx_remove(struct ffpf_flow *flow)
{
	struct ffpf_iface *ifc;
	struct rx_member *m;
	struct ffpf_rx *rx;

	if (!flow || !flow->ibuf)
		return;
	m = (struct rx_member *)flow->ibuf;
	if (m->attached) {
		rx_detach(flow);
		return;
	}
	rx = m->rx;
	ifc = rx->ifc;

	/* No new packet for the flow, then out of the engine's list. */
	__atomic_fetch_and(&ifc->ctl->rx, ~(1ULL << flow->idx), __ATOMIC_SEQ_CST);
	rx_lock(rx);
	rx->member[flow->idx] = NULL;
	rx->snaplen[flow->idx] = 0;
	rx->nmembers--;
	rx->remote &= ~(1ULL << flow->idx);
	rx_members_changed(rx);
	/*
	 * Hand on what the kernel already sent up, before a later flow can
	 * take this index: a packet of ours still in the ring would reach it.
	 */
	if (rx->nmembers)
		rx_flush(rx);
	/* The thread cannot reach the IBuf any more: give its frames back. */
	ffpf_ibuf_drain(&m->ib, m->pb);
	rx_pool_put(rx, m->pool);
	rx_unlock(rx);

	ffpf_ibuf_destroy(&m->ib);
	free(m);
	flow->ibuf = NULL;

	if (!rx->nmembers) {
		ifc->rx = NULL;
		rx_free(rx);
	}
}

int ffpf_rx_export(const struct ffpf_flow *flow, struct ffpf_rx_export *e)
{
	struct rx_member *m = flow && flow->ibuf ? (struct rx_member *)flow->ibuf : NULL;

	if (!m || m->attached || !m->ib.shadow)
		return -EINVAL;
	e->pbuf_fd = m->pool->memfd;
	e->pbuf_size = (__u64)m->pb->nframes * m->pb->frame_size;
	e->frame_size = m->pb->frame_size;
	e->ring_fd = m->ib.memfd;
	e->ring_size = m->ib.ring_len;
	e->capacity = m->ib.capacity;
	e->efd = m->ib.efd;
	return 0;
}

int ffpf_rx_pools(const struct ffpf_flow *flow, ffpf_rx_pool_fn fn, void *ctx)
{
	struct ffpf_rx *rx = flow && flow->iface ? flow->iface->rx : NULL;

	if (!rx)
		return 0;
	rx_lock(rx);
	for (int i = 0; i < rx->npools; i++) {
		struct rx_pool *p = rx->pool[i];
		struct ffpf_pbuf_stats ps;

		ffpf_pbuf_get_stats(p->pb, &ps);
		fn(p->group, __builtin_popcountll(p->mask), &ps, ctx);
	}
	rx_unlock(rx);
	return rx->npools;
}

/* --- the client's side of a daemon's flow ----------------------------------- */

int ffpf_rx_attach(struct ffpf_flow *flow, const struct ffpf_rx_export *e, int conn_fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct rx_member *m;
	__u32 nframes;
	int err;

	if (flow->ibuf || !e->frame_size || e->pbuf_size % e->frame_size ||
	    e->pbuf_size / e->frame_size == 0 || e->pbuf_size / e->frame_size > (1U << 24)) {
		err = -EINVAL;
		goto fail_fds;
	}
	nframes = e->pbuf_size / e->frame_size;
	m = member_new();
	if (!m) {
		err = -ENOMEM;
		goto fail_fds;
	}
	m->attached = true;
	m->conn_fd = conn_fd;
	/* Read-only: the PBuf is shared with the group, the daemon writes it. */
	m->rmem = mmap(NULL, e->pbuf_size, PROT_READ, MAP_SHARED, e->pbuf_fd, 0);
	close(e->pbuf_fd);
	if (m->rmem == MAP_FAILED) {
		err = -errno;
		m->rmem = NULL;
		close(e->ring_fd);
		close(e->efd);
		free(m);
		return err;
	}
	m->rmem_len = e->pbuf_size;
	err = ffpf_ibuf_attach(&m->ib, e->ring_fd, e->ring_size, e->capacity, flow->idx, e->efd);
	if (!err)
		err = ffpf_pbuf_init(&m->rpb, m->rmem, e->frame_size, nframes, NULL);
	if (!err) {
		m->pb = &m->rpb;
		m->poll_fd = epoll_create1(EPOLL_CLOEXEC);
		if (m->poll_fd < 0)
			err = -errno;
	}
	/* The flow's fd: readable on a packet, and when the daemon goes away. */
	ev.data.fd = m->ib.efd;
	if (!err && epoll_ctl(m->poll_fd, EPOLL_CTL_ADD, m->ib.efd, &ev))
		err = -errno;
	ev.events = EPOLLRDHUP;
	ev.data.fd = conn_fd;
	if (!err && epoll_ctl(m->poll_fd, EPOLL_CTL_ADD, conn_fd, &ev))
		err = -errno;
	flow->ibuf = &m->ib;
	if (err)
		rx_detach(flow);
	return err;

fail_fds:
	close(e->pbuf_fd);
	close(e->ring_fd);
	close(e->efd);
	return err;
}

static void rx_detach(struct ffpf_flow *flow)
{
	struct rx_member *m = (struct rx_member *)flow->ibuf;

	if (m->poll_fd >= 0)
		close(m->poll_fd);
	ffpf_ibuf_destroy(&m->ib);
	ffpf_pbuf_destroy(&m->rpb);
	if (m->rmem)
		munmap(m->rmem, m->rmem_len);
	free(m);
	flow->ibuf = NULL;
}

/* A client's flow whose daemon hung up: nothing more will come. */
static bool rx_gone(const struct rx_member *m)
{
	struct pollfd p = { .fd = m->conn_fd, .events = POLLRDHUP };

	return m->attached && poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* --- public API ---------------------------------------------------------- */

static struct rx_member *flow_member(const struct ffpf_flow *flow)
{
	return flow && flow->ibuf ? (struct rx_member *)flow->ibuf : NULL;
}

static void to_packet(const struct ffpf_flow *flow, struct ffpf_pbuf *pb,
		      const struct ffpf_ibuf_desc *d, struct ffpf_packet *p)
{
	__u64 room = pb->frame_size - d->addr % pb->frame_size;

	/* A descriptor never points outside the PBuf, even from a daemon. */
	p->data = ffpf_pbuf_data(pb, d->addr);
	p->caplen = !p->data ? 0 : d->len < room ? d->len : room;
	p->wire_len = d->meta.wire_len;
	p->ts_ns = d->meta.ts_ns;
	p->matched = d->meta.matched;
	p->seq = d->seq;
	p->ifindex = d->meta.ifindex;
	p->dir = d->meta.dir;
	p->hook = flow->hook;
	p->pad = 0;
	p->flow_id = d->meta.flow_id;
}

/*
 * The IBuf was found empty: clear the fd (ffpf.h: it stays readable until
 * a peek finds the IBuf empty). True if it really is empty; false if a
 * packet slipped in meanwhile, in which case the fd is made readable again
 * since its push may have been the wake-up the clear just swallowed.
 */
static bool rx_found_empty(struct ffpf_ibuf *ib)
{
	int r = ffpf_ibuf_arm(ib);

	if (r <= 0)
		return true;
	ffpf_ibuf_kick(ib);
	return false;
}

int ffpf_flow_fd(const struct ffpf_flow *flow)
{
	struct rx_member *m = flow_member(flow);

	if (!m)
		return -EINVAL;
	return m->attached ? m->poll_fd : ffpf_ibuf_fd(&m->ib);
}

/* The frames' PBuf for a release: none for a client (the daemon reclaims them). */
static struct ffpf_pbuf *release_pb(const struct rx_member *m)
{
	return m->attached ? NULL : m->pb;
}

int ffpf_flow_peek_batch(struct ffpf_flow *flow, struct ffpf_packet *pkts, int max)
{
	struct rx_member *m = flow_member(flow);
	struct ffpf_ibuf_desc d[32];
	int got = 0, n;

	if (!m || max < 0 || (max && !pkts))
		return -EINVAL;
	if (!max)
		return 0;
again:
	while (got < max) {
		int want = max - got < 32 ? max - got : 32;

		n = ffpf_ibuf_peek_from(&m->ib, got, d, want);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			to_packet(flow, m->pb, &d[i], &pkts[got + i]);
		got += n;
		if (n < want)
			break;
	}
	if (!got && !rx_found_empty(&m->ib))
		goto again;
	if (!got && rx_gone(m))
		return ffpf_err(ECONNRESET, "flow %s: the ffpf-bpf daemon closed the connection "
				"(stopped or restarted): the flow is gone\n", flow->name);
	return got;
}

int ffpf_flow_peek(struct ffpf_flow *flow, struct ffpf_packet *pkt)
{
	int n;

	if (!pkt)
		return -EINVAL;
	n = ffpf_flow_peek_batch(flow, pkt, 1);
	return n < 0 ? n : n ? 0 : -EAGAIN;
}

int ffpf_flow_release(struct ffpf_flow *flow, int n)
{
	struct rx_member *m = flow_member(flow);

	if (!m || n < 0)
		return -EINVAL;
	return ffpf_ibuf_release_batch(&m->ib, release_pb(m), n);
}

/* Up to RX_RUN_BATCH packets of one flow through @fn; each released after its call. */
static int run_batch(struct ffpf_flow *flow, ffpf_packet_fn fn, void *ctx, int *busy)
{
	struct rx_member *m = flow_member(flow);
	struct ffpf_ibuf_desc d[RX_RUN_BATCH];
	struct ffpf_packet pkt;
	int n, ret;

	n = ffpf_ibuf_peek_batch(&m->ib, d, RX_RUN_BATCH);
	for (int i = 0; i < n; i++) {
		to_packet(flow, m->pb, &d[i], &pkt);
		ret = fn(flow, &pkt, ctx);
		ffpf_ibuf_release(&m->ib, release_pb(m));
		(*busy)++;
		if (ret)
			return ret;
	}
	return 0;
}

static __s64 now_ms(void)
{
	return ts_ns(CLOCK_MONOTONIC) / 1000000;
}

int ffpf_flows_run(struct ffpf_flow **flows, int n, ffpf_packet_fn fn,
		   void *ctx, int timeout_ms)
{
	__s64 deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
	struct pollfd *pfd;
	int ret = 0;

	if (!flows || n <= 0 || !fn || timeout_ms < -1)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		if (!flow_member(flows[i]))
			return -EINVAL;
	pfd = calloc(n, sizeof(*pfd));
	if (!pfd)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		pfd[i].fd = ffpf_flow_fd(flows[i]);
		pfd[i].events = POLLIN;
	}

	for (;;) {
		int busy = 0, wait;

		/* Round robin, a batch per flow: a busy flow cannot starve the others. */
		for (int i = 0; i < n && !ret; i++)
			ret = run_batch(flows[i], fn, ctx, &busy);
		if (ret)
			break;
		if (deadline >= 0 && now_ms() >= deadline)
			break;
		if (busy)
			continue;
		for (int i = 0; i < n; i++)
			if (!rx_found_empty(&flow_member(flows[i])->ib))
				busy++;
		if (busy)
			continue;
		for (int i = 0; i < n && !ret; i++)
			if (rx_gone(flow_member(flows[i])))
				ret = ffpf_err(ECONNRESET, "flow %s: the ffpf-bpf daemon closed the "
					       "connection (stopped or restarted): the flow is "
					       "gone\n", flows[i]->name);
		if (ret)
			break;
		wait = deadline < 0 ? -1 : (int)(deadline - now_ms());
		if (wait < -1)
			wait = 0;
		if (poll(pfd, n, wait) < 0) {
			ret = -errno;
			break;
		}
	}
	free(pfd);
	return ret;
}

int ffpf_flow_rx_stats(const struct ffpf_flow *flow, struct ffpf_rx_stats *st)
{
	struct ffpf_rx_stats full = { .sz = sizeof(full) };
	struct rx_member *m = flow_member(flow);
	struct ffpf_root_counters rc;
	struct ffpf_ibuf_stats is;
	struct ffpf_pbuf_stats ps;
	struct ffpf_tap_stats ts = {};
	struct ffpf_rx *rx;
	int err;

	if (flow && flow->remote)
		return ffpf_remote_rx_stats(flow, st);
	if (!m || !st)
		return -EINVAL;
	rx = m->rx;
	err = ffpf_percpu_sum(rx->ifc->rstats_fd, 0, &rc, sizeof(rc));
	if (err)
		return err;
	rx_lock(rx);	/* a remote IBuf's producer counters are the thread's */
	ffpf_ibuf_get_stats(&m->ib, &is);
	rx_unlock(rx);
	full.received = is.pushed;
	full.dropped = is.dropped;
	full.released = is.consumed;
	full.queued = is.count;
	full.capacity = is.capacity;
	full.mode = rx->mode;

	rx_lock(rx);
	full.snaplen = __atomic_load_n(&rx->ifc->ctl->snaplen, __ATOMIC_ACQUIRE);
	ffpf_pbuf_get_stats(m->pb, &ps);
	if (rx->tap)
		err = ffpf_tap_stats(rx->tap, &ts);
	full.frames = ps.nframes;
	full.stored = ps.stored;
	full.descs = ps.descs;
	if (rx->tap) {
		full.records = ts.rx_packets;
		full.lost = rc.copy_lost + ts.meta_bad + ts.deliver_err;
		full.frames_in_use = rx_user_frames(rx, ps.in_use);
		full.frames_high_water = rx->user_high > full.frames_in_use ?
					 rx->user_high : full.frames_in_use;
	} else {
		full.records = rx->records;
		full.lost = rc.copy_lost + rx->bad;
		full.no_frame = m->pool->no_frame;
		full.frames_in_use = ps.in_use;
		full.frames_high_water = ps.high_water;
	}
	rx_unlock(rx);
	if (err)
		return err;
	full.xsk_rx_dropped = ts.rx_dropped;
	full.xsk_rx_ring_full = ts.rx_ring_full;
	full.xsk_fill_ring_empty = ts.rx_fill_ring_empty_descs;
	full.xsk_rx_invalid = ts.rx_invalid_descs;
	return ffpf_copy_sized(st, &full, sizeof(full));
}
