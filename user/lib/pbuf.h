/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * pbuf.h (internal) - FFPF's PBuf/IBuf split in user space (issue 3).
 *
 * The PBuf is one pool of fixed-size frames over caller-provided memory
 * (later: the AF_XDP UMEM). Each flow has an IBuf: a ring of descriptors
 * pointing into the PBuf. A packet matched by several flows is stored once;
 * ffpf_pbuf_deliver() puts one descriptor into the IBuf of every matched
 * flow and takes one frame reference per descriptor. A frame goes back to
 * the pool when the last reference is released. A full IBuf drops for its
 * own flow only and counts the drop. See docs/pbuf.md.
 *
 * Threads: one producer thread calls ffpf_pbuf_alloc(), ffpf_pbuf_deliver()
 * and ffpf_ibuf_push(); each IBuf has one consumer thread (peek/release/
 * arm), which may differ from the producer and from other IBufs' consumers.
 * ffpf_pbuf_release() may be called from any thread. Pure user space, no
 * BPF; every int function returns 0 (or a count) or a negative errno.
 */
#ifndef FFPF_PBUF_H
#define FFPF_PBUF_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <ffpf/ffpf.h>	/* ffpf_meta; FFPF_OPTS for ffpf_pbuf_opts */

struct ffpf_ibuf;

/* Called, outside the pool lock, after frame @addr went back to the pool. */
typedef void (*ffpf_pbuf_free_fn)(__u64 addr, void *ctx);

struct ffpf_pbuf_opts {
	size_t sz;			/* sizeof(struct ffpf_pbuf_opts) */
	ffpf_pbuf_free_fn on_free;	/* may be NULL */
	void *ctx;			/* passed to on_free */
	size_t :0;
};

struct ffpf_pbuf_stats {
	__u64 nframes;
	__u64 in_use;		/* frames allocated and not yet back in the pool */
	__u64 high_water;	/* highest in_use seen */
	__u64 delivered;	/* packets handed to ffpf_pbuf_deliver() */
	__u64 stored;		/* of those, packets at least one IBuf took: frames used */
	__u64 unclaimed;	/* of those, packets no IBuf took: freed at once */
	__u64 descs;		/* descriptors placed into IBufs, all flows */
	__u64 alloc_fail;	/* ffpf_pbuf_alloc() found the pool empty */
};

struct ffpf_pbuf {
	unsigned char *base;
	__u64 frame_size;
	__u32 nframes;
	_Atomic __u32 *refs;	/* per frame; 0 = in the pool */
	ffpf_pbuf_free_fn on_free;
	void *ctx;

	pthread_mutex_t lock;	/* guards free[], nfree, high_water, alloc_fail */
	__u64 *free;		/* stack of free frame addresses */
	__u32 nfree;
	__u32 high_water;
	__u64 alloc_fail;

	/* Written by the producer only; relaxed atomics so stats can be read anywhere. */
	_Atomic __u64 delivered;
	_Atomic __u64 stored;
	_Atomic __u64 unclaimed;
	_Atomic __u64 descs;
};

/*
 * Set up @pb over @nframes frames of @frame_size bytes at @base (not owned,
 * not touched). An address ("addr") is a byte offset from @base, as in an
 * AF_XDP UMEM; any addr inside a frame names that frame, so a headroom
 * offset may be kept in it. All frames start free. @opts may be NULL.
 * -EINVAL: NULL base, frame_size or nframes 0, or base + size overflows;
 * -ENOMEM.
 */
int ffpf_pbuf_init(struct ffpf_pbuf *pb, void *base, __u32 frame_size,
		   __u32 nframes, const struct ffpf_pbuf_opts *opts);

/* Free what ffpf_pbuf_init() allocated (not the frame memory). Safe on a zeroed pb. */
void ffpf_pbuf_destroy(struct ffpf_pbuf *pb);

/*
 * Take a free frame: *@addr gets its start, its reference count is 1 (the
 * caller's). -ENOBUFS when the pool is empty (counted in alloc_fail).
 */
int ffpf_pbuf_alloc(struct ffpf_pbuf *pb, __u64 *addr);

/* Pointer to the byte at @addr; NULL if outside the pool. */
void *ffpf_pbuf_data(const struct ffpf_pbuf *pb, __u64 addr);

/*
 * Hand a received packet to the flows. The caller holds one reference on
 * the frame at @addr (from ffpf_pbuf_alloc()); deliver consumes it. For
 * each i < @nibufs whose flow bit is set in @meta->matched, one descriptor
 * {addr, min(len, snaplen of the IBuf), *meta, seq} goes into @ibufs[i]
 * and the frame gains a reference; a full IBuf counts a drop on itself and
 * is skipped. seq is the packet's delivery number (0, 1, ... in the order
 * of the deliver calls that passed the argument checks). If no IBuf took the
 * packet the frame is back in the pool when deliver returns.
 * Returns the number of IBufs that took it, or -EINVAL (addr outside the
 * pool or not held, len past the frame's end, NULL meta, nibufs < 0)
 * without touching the reference.
 */
int ffpf_pbuf_deliver(struct ffpf_pbuf *pb, __u64 addr, __u32 len,
		      const struct ffpf_meta *meta,
		      struct ffpf_ibuf **ibufs, int nibufs);

/*
 * Drop one reference on the frame at @addr; at zero the frame goes back
 * to the pool and on_free(frame start, ctx) is called. -EINVAL if addr is
 * outside the pool or the frame is already free.
 */
int ffpf_pbuf_release(struct ffpf_pbuf *pb, __u64 addr);

/* Snapshot of the counters (exact when no other thread is working). */
void ffpf_pbuf_get_stats(struct ffpf_pbuf *pb, struct ffpf_pbuf_stats *st);

/* Free frames right now. */
__u32 ffpf_pbuf_nfree(struct ffpf_pbuf *pb);

/* Producer: would any IBuf that @meta matches take a descriptor now? */
bool ffpf_pbuf_any_room(const struct ffpf_meta *meta, struct ffpf_ibuf **ibufs, int nibufs);

/*
 * Producer: count a packet that every matching IBuf would refuse as
 * ffpf_pbuf_deliver() would (delivered, unclaimed, each IBuf's dropped),
 * without a frame or a copy.
 */
void ffpf_pbuf_refuse(struct ffpf_pbuf *pb, const struct ffpf_meta *meta,
		      struct ffpf_ibuf **ibufs, int nibufs);

/*
 * Shared memory for a PBuf or an IBuf ring: a memfd of @len bytes (sealable,
 * close-on-exec) mapped read-write here; *@fdp gets the fd. NULL with
 * errno set on failure.
 */
void *ffpf_shm_map(const char *name, size_t len, int *fdp);

/*
 * Seal the memfd @fd so nobody, whoever gets the fd, can map it writable
 * or resize it; existing writable mappings (ours) stay. For a PBuf handed
 * to other processes read-only. 0 or -errno.
 */
int ffpf_shm_seal_readonly(int fd);

/* --- IBuf -------------------------------------------------------------- */

/* One slot of an IBuf: a packet in the PBuf, as one flow sees it. */
struct ffpf_ibuf_desc {
	__u64 addr;		/* offset of the packet in the PBuf */
	__u32 len;		/* bytes this flow sees: at most its IBuf's snaplen */
	__u32 pad;
	struct ffpf_meta meta;
	__u64 seq;		/* delivery number in the PBuf: the same in every
				 * IBuf that got this packet */
};

struct ffpf_ibuf_stats {
	__u64 pushed;		/* descriptors accepted */
	__u64 dropped;		/* descriptors refused: ring full */
	__u64 consumed;		/* descriptors released by the consumer */
	__u32 count;		/* in the ring now */
	__u32 capacity;
};

#define FFPF_IBUF_CACHELINE 64

/*
 * The part of an IBuf its consumer writes: the indexes and the slots, in a
 * memfd of their own so a consumer in another process (a client of
 * `ffpf-bpf daemon`) can map it. Such a consumer is not trusted: the
 * producer keeps its own prod and the frame address of every slot
 * (ffpf_ibuf.shadow), so what the consumer writes here can only hurt the
 * consumer.
 */
struct ffpf_ibuf_ring {
	_Alignas(FFPF_IBUF_CACHELINE) _Atomic __u32 prod;	/* producer: published slots */
	_Alignas(FFPF_IBUF_CACHELINE) _Atomic __u32 cons;	/* consumer: slots handed back */
	_Atomic __u32 armed;	/* consumer may sleep: the next push signals efd */
	_Alignas(FFPF_IBUF_CACHELINE) struct ffpf_ibuf_desc desc[];
};

/* Bytes of the ring's memfd for @capacity descriptors. */
size_t ffpf_ibuf_ring_size(__u32 capacity);

struct ffpf_ibuf {
	struct ffpf_ibuf_ring *r;	/* mmap of memfd */
	struct ffpf_ibuf_desc *ring;	/* r->desc */
	__u32 capacity;
	__u32 mask;
	int flow;		/* bit of ffpf_meta.matched this IBuf takes */
	int efd;		/* eventfd: readable after a push that found the consumer armed */
	int memfd;		/* the ring's memory (-1 for an attached consumer) */
	size_t ring_len;
	__u32 snaplen;		/* the flow's bytes per packet; 0: all (set before
				 * the IBuf is handed to the producer) */

	/*
	 * Producer side. Indexes run freely; slot = index & mask. With a
	 * remote consumer (shadow != NULL) the producer releases the frames
	 * itself, from shadow[], when it sees cons move (ffpf_ibuf_reclaim()).
	 */
	_Alignas(FFPF_IBUF_CACHELINE) __u32 prod;
	__u32 reclaimed;	/* remote: cons up to which frames are released */
	__u64 *shadow;		/* remote: frame address of each slot */
	struct ffpf_pbuf *pb;	/* remote: the PBuf the frames belong to */
	_Atomic __u64 pushed;
	_Atomic __u64 dropped;
	_Atomic __u64 bad_cons;	/* remote: cons moved impossibly (ignored) */
	bool defer_wake;	/* push leaves the wake-up to ffpf_ibuf_wake() */
	bool wake_due;		/* pushed since the last ffpf_ibuf_wake() */

	/* Consumer side (its own process for a remote consumer). */
	_Alignas(FFPF_IBUF_CACHELINE) _Atomic __u64 consumed;
};

/*
 * Set up @ib for flow index @flow (0..FFPF_MAX_FLOWS-1) with room for
 * @capacity descriptors (a power of two, 1 .. 2^30). -EINVAL, -ENOMEM, or
 * the eventfd()/memfd_create() error.
 */
int ffpf_ibuf_init(struct ffpf_ibuf *ib, __u32 capacity, int flow);

/*
 * As ffpf_ibuf_init(), for a consumer in another process that maps the
 * ring (ib->memfd) and waits on ib->efd: the producer keeps each slot's
 * frame and releases it into @pb itself once the consumer's cons passed
 * it, checked against what was really pushed.
 */
int ffpf_ibuf_init_remote(struct ffpf_ibuf *ib, __u32 capacity, int flow,
			  struct ffpf_pbuf *pb);

/*
 * The consumer's side of a remote IBuf: map @ring_fd (@ring_len bytes,
 * read-write) and take @efd (both owned by @ib from now on, closed by
 * destroy, also on failure). -EINVAL if @ring_len is too small for
 * @capacity (a power of two), or the mmap() error.
 */
int ffpf_ibuf_attach(struct ffpf_ibuf *ib, int ring_fd, size_t ring_len, __u32 capacity,
		     int flow, int efd);

/*
 * Producer of a remote IBuf: release the frames of the slots the consumer
 * handed back since the last call. Returns how many; a cons that moved
 * backwards or past prod is ignored and counted in bad_cons. 0 for a
 * local IBuf (its consumer releases frames itself).
 */
int ffpf_ibuf_reclaim(struct ffpf_ibuf *ib);

/*
 * Give back every frame @ib still holds (in @pb, the PBuf of a local
 * IBuf), once no producer or consumer uses it any more.
 */
void ffpf_ibuf_drain(struct ffpf_ibuf *ib, struct ffpf_pbuf *pb);

/* Close the eventfd and free the ring. Safe after a failed init and twice. */
void ffpf_ibuf_destroy(struct ffpf_ibuf *ib);

/*
 * The flow's pollable fd: POLLIN once a descriptor arrived after
 * ffpf_ibuf_arm() (and after init): signals cost one write per sleep of
 * the consumer, not one per packet.
 */
int ffpf_ibuf_fd(const struct ffpf_ibuf *ib);

/*
 * Producer: append @desc. Takes no frame reference (ffpf_pbuf_deliver()
 * does that). -ENOBUFS when full (counted as a drop).
 */
int ffpf_ibuf_push(struct ffpf_ibuf *ib, const struct ffpf_ibuf_desc *desc);

/*
 * Producer that pushes in batches (ib->defer_wake set): wake the consumer
 * if it armed, once per batch instead of one fence per push. Call it after
 * the batch's last push, before the producer sleeps.
 */
void ffpf_ibuf_wake(struct ffpf_ibuf *ib);

/* Producer: free slots now (the consumer may only add to it). */
__u32 ffpf_ibuf_space(struct ffpf_ibuf *ib);

/* Consumer: descriptors ready now (the producer may only add to it). */
__u32 ffpf_ibuf_count(struct ffpf_ibuf *ib);

/*
 * Consumer: copy the oldest descriptor into *@desc without removing it.
 * The packet is at ffpf_pbuf_data(pb, desc->addr), valid until released.
 * -EAGAIN when empty.
 */
int ffpf_ibuf_peek(struct ffpf_ibuf *ib, struct ffpf_ibuf_desc *desc);

/* Consumer: copy up to @max oldest descriptors, oldest first; returns how many. */
int ffpf_ibuf_peek_batch(struct ffpf_ibuf *ib, struct ffpf_ibuf_desc *descs, int max);

/*
 * Consumer: as ffpf_ibuf_peek_batch(), skipping the @skip oldest
 * descriptors (for reading a long batch in pieces). 0 if fewer are queued.
 */
int ffpf_ibuf_peek_from(struct ffpf_ibuf *ib, __u32 skip, struct ffpf_ibuf_desc *descs,
			int max);

/*
 * Consumer: remove the oldest descriptor and release its frame reference
 * (@pb NULL: the slot only). -EAGAIN if empty; a failed frame release
 * (-EINVAL) still removes the descriptor.
 */
int ffpf_ibuf_release(struct ffpf_ibuf *ib, struct ffpf_pbuf *pb);

/*
 * Consumer: remove the @n oldest descriptors and release their frames.
 * Returns @n, or -EINVAL if fewer than @n are in the ring (nothing removed)
 * or if a frame release failed (the descriptors are removed all the same).
 */
int ffpf_ibuf_release_batch(struct ffpf_ibuf *ib, struct ffpf_pbuf *pb, int n);

/*
 * Consumer, before sleeping in poll(): clear the eventfd, then look at the
 * ring again. Returns 1 if descriptors are waiting (do not sleep), 0 if
 * the ring is empty: then any later push makes the fd readable, so
 * poll() cannot miss it.
 */
int ffpf_ibuf_arm(struct ffpf_ibuf *ib);

/*
 * Consumer: make the fd readable again. For a consumer that armed, was
 * told descriptors are waiting (arm returned 1) and will not drain them
 * all now: the push that woke nobody would otherwise leave them unseen.
 */
void ffpf_ibuf_kick(struct ffpf_ibuf *ib);

void ffpf_ibuf_get_stats(struct ffpf_ibuf *ib, struct ffpf_ibuf_stats *st);

#endif /* FFPF_PBUF_H */
