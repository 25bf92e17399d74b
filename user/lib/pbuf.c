/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * pbuf.c - the PBuf (one shared frame pool with per-frame reference
 * counts) and the IBuf (one SPSC descriptor ring per flow). Design and
 * ordering arguments: docs/pbuf.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "log.h"
#include "pbuf.h"

/* --- PBuf -------------------------------------------------------------- */

/* One producer writes the counter: a plain add, published for readers. */
static inline void add_relaxed(_Atomic __u64 *c, __u64 n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* Frame index of @addr, or -1 if it lies outside the pool. */
static long frame_of(const struct ffpf_pbuf *pb, __u64 addr)
{
	__u64 idx = addr / pb->frame_size;

	return idx < pb->nframes ? (long)idx : -1;
}

int ffpf_pbuf_init(struct ffpf_pbuf *pb, void *base, __u32 frame_size,
		   __u32 nframes, const struct ffpf_pbuf_opts *opts)
{
	__u64 total = (__u64)frame_size * nframes;
	int err;

	if (!pb)
		return -EINVAL;
	memset(pb, 0, sizeof(*pb));
	if (!base || !frame_size || !nframes ||
	    (uintptr_t)base + total < (uintptr_t)base ||
	    (opts && opts->sz < offsetof(struct ffpf_pbuf_opts, ctx) + sizeof(opts->ctx)))
		return ffpf_err(EINVAL, "pbuf: bad arguments (base %p, %u frames of %u bytes)\n",
				base, nframes, frame_size);

	pb->refs = calloc(nframes, sizeof(*pb->refs));
	pb->free = calloc(nframes, sizeof(*pb->free));
	if (!pb->refs || !pb->free) {
		free(pb->refs);
		free(pb->free);
		pb->refs = NULL;
		pb->free = NULL;
		return -ENOMEM;
	}
	err = pthread_mutex_init(&pb->lock, NULL);
	if (err) {
		free(pb->refs);
		free(pb->free);
		pb->refs = NULL;
		pb->free = NULL;
		return -err;
	}
	pb->base = base;
	pb->frame_size = frame_size;
	pb->nframes = nframes;
	if (opts) {
		pb->on_free = opts->on_free;
		pb->ctx = opts->ctx;
	}
	/* Stack top is the end: frame 0 is handed out first. */
	for (__u32 i = 0; i < nframes; i++) {
		atomic_init(&pb->refs[i], 0);
		pb->free[i] = (__u64)(nframes - 1 - i) * frame_size;
	}
	pb->nfree = nframes;
	return 0;
}

void ffpf_pbuf_destroy(struct ffpf_pbuf *pb)
{
	if (!pb || !pb->refs)
		return;
	pthread_mutex_destroy(&pb->lock);
	free(pb->refs);
	free(pb->free);
	memset(pb, 0, sizeof(*pb));
}

int ffpf_pbuf_alloc(struct ffpf_pbuf *pb, __u64 *addr)
{
	__u64 a;
	__u32 used;

	pthread_mutex_lock(&pb->lock);
	if (!pb->nfree) {
		pb->alloc_fail++;
		pthread_mutex_unlock(&pb->lock);
		return -ENOBUFS;
	}
	a = pb->free[--pb->nfree];
	used = pb->nframes - pb->nfree;
	if (used > pb->high_water)
		pb->high_water = used;
	/* Still under the lock: the frame is ours before anyone can see it. */
	atomic_store_explicit(&pb->refs[a / pb->frame_size], 1, memory_order_relaxed);
	pthread_mutex_unlock(&pb->lock);
	*addr = a;
	return 0;
}

void *ffpf_pbuf_data(const struct ffpf_pbuf *pb, __u64 addr)
{
	if (frame_of(pb, addr) < 0)
		return NULL;
	return pb->base + addr;
}

/* Drop @n references of frame @idx; the last one puts it back in the pool. */
static int pbuf_put(struct ffpf_pbuf *pb, long idx, __u32 n)
{
	__u32 old = atomic_load_explicit(&pb->refs[idx], memory_order_relaxed);
	__u64 start = (__u64)idx * pb->frame_size;

	do {
		if (old < n)
			return ffpf_err(EINVAL, "pbuf: release of free frame at %llu\n",
					(unsigned long long)start);
	} while (!atomic_compare_exchange_weak_explicit(&pb->refs[idx], &old, old - n,
							memory_order_acq_rel,
							memory_order_relaxed));
	if (old > n)
		return 0;

	/* Last holder: every reader of the frame is done (acq_rel above). */
	pthread_mutex_lock(&pb->lock);
	pb->free[pb->nfree++] = start;
	pthread_mutex_unlock(&pb->lock);
	if (pb->on_free)
		pb->on_free(start, pb->ctx);
	return 0;
}

int ffpf_pbuf_release(struct ffpf_pbuf *pb, __u64 addr)
{
	long idx = frame_of(pb, addr);

	if (idx < 0)
		return -EINVAL;
	return pbuf_put(pb, idx, 1);
}

int ffpf_pbuf_deliver(struct ffpf_pbuf *pb, __u64 addr, __u32 len,
		      const struct ffpf_meta *meta,
		      struct ffpf_ibuf **ibufs, int nibufs)
{
	long idx = frame_of(pb, addr);
	struct ffpf_ibuf_desc d;
	int took = 0, want = 0;
	__u32 refused = 0;

	if (idx < 0 || !meta || nibufs < 0 || (nibufs && !ibufs) ||
	    addr + len > (__u64)(idx + 1) * pb->frame_size ||
	    !atomic_load_explicit(&pb->refs[idx], memory_order_relaxed))
		return -EINVAL;

	d.addr = addr;
	d.pad = 0;
	d.meta = *meta;
	/* One producer: the number is the count of earlier deliveries. */
	d.seq = atomic_load_explicit(&pb->delivered, memory_order_relaxed);
	add_relaxed(&pb->delivered, 1);
	for (int i = 0; i < nibufs; i++)
		if (ibufs[i] && (meta->matched & (1ULL << ibufs[i]->flow)))
			want++;
	/*
	 * All references first, one atomic add: once pushed, a consumer may
	 * release at once. The caller's reference keeps the count above zero
	 * meanwhile, so relaxed is enough; each push's release store
	 * publishes the frame. Refused pushes give theirs back at the end.
	 */
	if (want)
		atomic_fetch_add_explicit(&pb->refs[idx], want, memory_order_relaxed);
	for (int i = 0; i < nibufs && want; i++) {
		struct ffpf_ibuf *ib = ibufs[i];

		if (!ib || !(meta->matched & (1ULL << ib->flow)))
			continue;
		want--;
		/* Each flow sees its own snaplen of the one stored copy. */
		d.len = ib->snaplen && len > ib->snaplen ? ib->snaplen : len;
		if (!ffpf_ibuf_push(ib, &d))
			took++;
		else
			refused++;
	}

	add_relaxed(took ? &pb->stored : &pb->unclaimed, 1);
	add_relaxed(&pb->descs, took);
	/* The caller's reference and the refused ones: freed here if nobody took it. */
	pbuf_put(pb, idx, 1 + refused);
	return took;
}

bool ffpf_pbuf_any_room(const struct ffpf_meta *meta, struct ffpf_ibuf **ibufs, int nibufs)
{
	for (int i = 0; i < nibufs; i++)
		if (ibufs[i] && (meta->matched & (1ULL << ibufs[i]->flow)) &&
		    ffpf_ibuf_space(ibufs[i]))
			return true;
	return false;
}

void ffpf_pbuf_refuse(struct ffpf_pbuf *pb, const struct ffpf_meta *meta,
		      struct ffpf_ibuf **ibufs, int nibufs)
{
	add_relaxed(&pb->delivered, 1);
	add_relaxed(&pb->unclaimed, 1);
	for (int i = 0; i < nibufs; i++)
		if (ibufs[i] && (meta->matched & (1ULL << ibufs[i]->flow)))
			add_relaxed(&ibufs[i]->dropped, 1);
}

__u32 ffpf_pbuf_nfree(struct ffpf_pbuf *pb)
{
	__u32 n;

	pthread_mutex_lock(&pb->lock);
	n = pb->nfree;
	pthread_mutex_unlock(&pb->lock);
	return n;
}

void ffpf_pbuf_get_stats(struct ffpf_pbuf *pb, struct ffpf_pbuf_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&pb->lock);
	st->nframes = pb->nframes;
	st->in_use = pb->nframes - pb->nfree;
	st->high_water = pb->high_water;
	st->alloc_fail = pb->alloc_fail;
	pthread_mutex_unlock(&pb->lock);
	st->delivered = atomic_load_explicit(&pb->delivered, memory_order_relaxed);
	st->stored = atomic_load_explicit(&pb->stored, memory_order_relaxed);
	st->unclaimed = atomic_load_explicit(&pb->unclaimed, memory_order_relaxed);
	st->descs = atomic_load_explicit(&pb->descs, memory_order_relaxed);
}

/* --- shared memory ---------------------------------------------------- */

void *ffpf_shm_map(const char *name, size_t len, int *fdp)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	void *p;

	if (fd < 0)
		return NULL;
	if (ftruncate(fd, len) ||
	    (p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		int e = errno;

		close(fd);
		errno = e;
		return NULL;
	}
	*fdp = fd;
	return p;
}

int ffpf_shm_seal_readonly(int fd)
{
	/* Our mapping stays writable; nobody can make a new writable one. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE |
		  F_SEAL_SEAL))
		return -errno;
	return 0;
}

/* --- IBuf -------------------------------------------------------------- */

size_t ffpf_ibuf_ring_size(__u32 capacity)
{
	return sizeof(struct ffpf_ibuf_ring) + (size_t)capacity * sizeof(struct ffpf_ibuf_desc);
}

static bool good_capacity(__u32 capacity)
{
	return capacity && capacity <= (1U << 30) && !(capacity & (capacity - 1));
}

static void ibuf_zero(struct ffpf_ibuf *ib)
{
	memset(ib, 0, sizeof(*ib));
	ib->efd = -1;
	ib->memfd = -1;
}

int ffpf_ibuf_init(struct ffpf_ibuf *ib, __u32 capacity, int flow)
{
	if (!ib)
		return -EINVAL;
	ibuf_zero(ib);
	if (!good_capacity(capacity) || flow < 0 || flow >= FFPF_MAX_FLOWS)
		return ffpf_err(EINVAL, "ibuf: bad capacity %u or flow %d\n", capacity, flow);

	ib->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ib->efd < 0) {
		int err = -errno;

		pr_warn("ibuf: eventfd: %s\n", strerror(errno));
		ib->efd = -1;
		return err;
	}
	ib->ring_len = ffpf_ibuf_ring_size(capacity);
	ib->r = ffpf_shm_map("ffpf-ibuf", ib->ring_len, &ib->memfd);
	if (!ib->r) {
		int err = -errno;

		pr_warn("ibuf: %zu bytes of shared memory: %s\n", ib->ring_len, strerror(errno));
		ffpf_ibuf_destroy(ib);
		return err;
	}
	ib->ring = ib->r->desc;
	ib->capacity = capacity;
	ib->mask = capacity - 1;
	ib->flow = flow;
	/* A fresh consumer waits for the first packet. (The memfd is zeroed.) */
	atomic_store_explicit(&ib->r->armed, 1, memory_order_relaxed);
	return 0;
}

int ffpf_ibuf_init_remote(struct ffpf_ibuf *ib, __u32 capacity, int flow,
			  struct ffpf_pbuf *pb)
{
	int err;

	if (!pb)
		return -EINVAL;
	err = ffpf_ibuf_init(ib, capacity, flow);
	if (err)
		return err;
	ib->shadow = calloc(capacity, sizeof(*ib->shadow));
	if (!ib->shadow) {
		ffpf_ibuf_destroy(ib);
		return -ENOMEM;
	}
	ib->pb = pb;
	return 0;
}

int ffpf_ibuf_attach(struct ffpf_ibuf *ib, int ring_fd, size_t ring_len, __u32 capacity,
		     int flow, int efd)
{
	void *p;

	ibuf_zero(ib);
	ib->efd = efd;
	if (!good_capacity(capacity) || ring_len < ffpf_ibuf_ring_size(capacity) ||
	    flow < 0 || flow >= FFPF_MAX_FLOWS) {
		close(ring_fd);
		return -EINVAL;
	}
	p = mmap(NULL, ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, ring_fd, 0);
	close(ring_fd);
	if (p == MAP_FAILED)
		return -errno;
	ib->r = p;
	ib->ring_len = ring_len;
	ib->ring = ib->r->desc;
	ib->capacity = capacity;
	ib->mask = capacity - 1;
	ib->flow = flow;
	return 0;
}

void ffpf_ibuf_destroy(struct ffpf_ibuf *ib)
{
	if (!ib)
		return;
	if (ib->efd >= 0)
		close(ib->efd);
	if (ib->memfd >= 0)
		close(ib->memfd);
	if (ib->r)
		munmap(ib->r, ib->ring_len);
	free(ib->shadow);
	ibuf_zero(ib);
}

int ffpf_ibuf_fd(const struct ffpf_ibuf *ib)
{
	return ib->efd;
}

int ffpf_ibuf_reclaim(struct ffpf_ibuf *ib)
{
	__u32 c, n;

	if (!ib->shadow)
		return 0;
	c = atomic_load_explicit(&ib->r->cons, memory_order_acquire);
	n = c - ib->reclaimed;
	if (!n)
		return 0;
	if (n > ib->prod - ib->reclaimed) {
		/* Backwards or past what we pushed: the consumer's bug, ignored. */
		atomic_fetch_add_explicit(&ib->bad_cons, 1, memory_order_relaxed);
		return 0;
	}
	for (__u32 i = 0; i < n; i++)
		ffpf_pbuf_release(ib->pb, ib->shadow[(ib->reclaimed + i) & ib->mask]);
	ib->reclaimed = c;
	atomic_fetch_add_explicit(&ib->consumed, n, memory_order_relaxed);
	return n;
}

void ffpf_ibuf_drain(struct ffpf_ibuf *ib, struct ffpf_pbuf *pb)
{
	if (ib->shadow) {
		/* Whatever the consumer did with cons, every pushed frame is ours. */
		for (__u32 i = ib->reclaimed; i != ib->prod; i++)
			ffpf_pbuf_release(ib->pb, ib->shadow[i & ib->mask]);
		ib->reclaimed = ib->prod;
		return;
	}
	ffpf_ibuf_release_batch(ib, pb, ffpf_ibuf_count(ib));
}

/* Producer: the consumer's index it may trust. */
static __u32 ibuf_cons(struct ffpf_ibuf *ib)
{
	if (ib->shadow) {
		ffpf_ibuf_reclaim(ib);
		return ib->reclaimed;
	}
	return atomic_load_explicit(&ib->r->cons, memory_order_acquire);
}

__u32 ffpf_ibuf_space(struct ffpf_ibuf *ib)
{
	return ib->capacity - (ib->prod - ibuf_cons(ib));
}

__u32 ffpf_ibuf_count(struct ffpf_ibuf *ib)
{
	__u32 c = atomic_load_explicit(&ib->r->cons, memory_order_relaxed);
	__u32 p = atomic_load_explicit(&ib->r->prod, memory_order_acquire);

	return p - c;
}

static void ibuf_signal(struct ffpf_ibuf *ib)
{
	__u64 one = 1;

	/* Only fails if the counter is near 2^64: then it is readable anyway. */
	if (write(ib->efd, &one, sizeof(one)) != sizeof(one))
		return;
}

static void ibuf_wake_if_armed(struct ffpf_ibuf *ib)
{
	/*
	 * Wake the consumer only if it said it is going to sleep (as AF_XDP's
	 * need_wakeup): one write per sleep, not one per packet while it keeps
	 * up. Store prod, full fence, load armed; ffpf_ibuf_arm() does the
	 * mirror image (store armed, fence, load prod), so either we see it
	 * armed and signal, or it sees our descriptor and does not sleep.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&ib->r->armed, memory_order_relaxed) &&
	    atomic_exchange_explicit(&ib->r->armed, 0, memory_order_relaxed))
		ibuf_signal(ib);
}

int ffpf_ibuf_push(struct ffpf_ibuf *ib, const struct ffpf_ibuf_desc *desc)
{
	__u32 p = ib->prod;
	__u32 c = ibuf_cons(ib);

	if (p - c >= ib->capacity) {
		add_relaxed(&ib->dropped, 1);
		return -ENOBUFS;
	}
	ib->ring[p & ib->mask] = *desc;
	if (ib->shadow)
		ib->shadow[p & ib->mask] = desc->addr;
	ib->prod = p + 1;
	atomic_store_explicit(&ib->r->prod, p + 1, memory_order_release);
	add_relaxed(&ib->pushed, 1);
	if (ib->defer_wake)
		ib->wake_due = true;
	else
		ibuf_wake_if_armed(ib);
	return 0;
}

void ffpf_ibuf_wake(struct ffpf_ibuf *ib)
{
	if (!ib->wake_due)
		return;
	ib->wake_due = false;
	ibuf_wake_if_armed(ib);
}

int ffpf_ibuf_peek_from(struct ffpf_ibuf *ib, __u32 skip, struct ffpf_ibuf_desc *descs,
			int max)
{
	__u32 c = atomic_load_explicit(&ib->r->cons, memory_order_relaxed);
	__u32 p = atomic_load_explicit(&ib->r->prod, memory_order_acquire);
	__u32 n = p - c;

	if (max < 0 || (max && !descs))
		return -EINVAL;
	if (skip >= n)
		return 0;
	n -= skip;
	c += skip;
	if (n > (__u32)max)
		n = max;
	for (__u32 i = 0; i < n; i++)
		descs[i] = ib->ring[(c + i) & ib->mask];
	return n;
}

int ffpf_ibuf_peek_batch(struct ffpf_ibuf *ib, struct ffpf_ibuf_desc *descs, int max)
{
	return ffpf_ibuf_peek_from(ib, 0, descs, max);
}

int ffpf_ibuf_peek(struct ffpf_ibuf *ib, struct ffpf_ibuf_desc *desc)
{
	int n = ffpf_ibuf_peek_batch(ib, desc, 1);

	return n < 0 ? n : n ? 0 : -EAGAIN;
}

int ffpf_ibuf_release_batch(struct ffpf_ibuf *ib, struct ffpf_pbuf *pb, int n)
{
	__u32 c = atomic_load_explicit(&ib->r->cons, memory_order_relaxed);
	__u32 p = atomic_load_explicit(&ib->r->prod, memory_order_acquire);
	int err = 0;

	if (n < 0 || (__u32)n > p - c)
		return -EINVAL;
	/*
	 * Release the frames while the slots are still ours (the producer
	 * cannot reuse them before cons moves), then hand the slots back.
	 */
	for (int i = 0; pb && i < n; i++) {
		int e = ffpf_pbuf_release(pb, ib->ring[(c + i) & ib->mask].addr);

		if (e && !err)
			err = e;
	}
	atomic_store_explicit(&ib->r->cons, c + n, memory_order_release);
	atomic_fetch_add_explicit(&ib->consumed, n, memory_order_relaxed);
	return err ? err : n;
}

int ffpf_ibuf_release(struct ffpf_ibuf *ib, struct ffpf_pbuf *pb)
{
	int n;

	if (!ffpf_ibuf_count(ib))
		return -EAGAIN;
	n = ffpf_ibuf_release_batch(ib, pb, 1);
	return n < 0 ? n : 0;
}

int ffpf_ibuf_arm(struct ffpf_ibuf *ib)
{
	__u64 v;
	__u32 c, p;

	/* Clear: EAGAIN (nothing pending) is the usual answer. */
	if (read(ib->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	atomic_store_explicit(&ib->r->armed, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	c = atomic_load_explicit(&ib->r->cons, memory_order_relaxed);
	p = atomic_load_explicit(&ib->r->prod, memory_order_acquire);
	return p != c;
}

void ffpf_ibuf_kick(struct ffpf_ibuf *ib)
{
	ibuf_signal(ib);
}

void ffpf_ibuf_get_stats(struct ffpf_ibuf *ib, struct ffpf_ibuf_stats *st)
{
	__u32 c = ib->shadow ? ib->reclaimed : atomic_load_explicit(&ib->r->cons,
								      memory_order_acquire);
	__u32 p = ib->shadow ? ib->prod : atomic_load_explicit(&ib->r->prod, memory_order_acquire);

	st->pushed = atomic_load_explicit(&ib->pushed, memory_order_relaxed);
	st->dropped = atomic_load_explicit(&ib->dropped, memory_order_relaxed);
	st->consumed = atomic_load_explicit(&ib->consumed, memory_order_relaxed);
	st->count = p - c;
	st->capacity = ib->capacity;
}
