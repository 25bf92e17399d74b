/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tap.h (internal) - tap mode (issue 3): the root redirects every packet
 * that matched at least one flow, with its struct ffpf_meta in the XDP
 * metadata area, to an AF_XDP socket on the packet's RX queue. The UMEM of
 * those sockets is the PBuf's memory: a packet lands in a UMEM frame once
 * and ffpf_tap_poll() hands it to the IBuf of every flow that matched it.
 *
 * Frame life cycle: pool (free in the PBuf) -> fill ring (allocated, the
 * tap holds the one reference) -> RX ring -> ffpf_pbuf_deliver() (one
 * reference per IBuf that took it) -> released by the consumers -> pool
 * (on_free) -> fill ring again, refilled in batches by ffpf_tap_poll().
 *
 * Where the metadata lands: the kernel puts the packet at
 * frame + frame_headroom + XDP_PACKET_HEADROOM (256) and the RX descriptor
 * address points there; the 32 metadata bytes are copied to addr - 32,
 * i.e. inside the 256-byte XDP headroom of the same frame. frame_headroom
 * can therefore stay 0 and the largest packet is frame_size - 256.
 *
 * Threads: ffpf_tap_poll() is the PBuf's producer (one thread); each IBuf's
 * consumer releases through ffpf_tap_pbuf().
 */
#ifndef FFPF_TAP_H
#define FFPF_TAP_H

#include <ffpf/ffpf.h>
#include "internal.h"
#include "pbuf.h"

struct ffpf_tap;

struct ffpf_tap_opts {
	size_t sz;		/* sizeof(struct ffpf_tap_opts) */
	__u32 nframes;		/* UMEM frames; default 4096 (power of two) */
	__u32 frame_size;	/* default 2048 (XSK_UMEM__DEFAULT_FRAME_SIZE) */
	__u32 ring_size;	/* RX / fill ring entries per socket; default 2048 */
	int queue;		/* only this RX queue; -1 (or opts NULL): all queues */
	bool zerocopy;		/* XDP_ZEROCOPY instead of XDP_COPY (not for veth) */
	size_t :0;
};

struct ffpf_tap_stats {
	__u32 nsockets;
	__u64 rx_packets;	/* RX descriptors read, all sockets */
	__u64 rx_bytes;
	__u64 meta_bad;		/* descriptor too close to its frame start for metadata */
	__u64 deliver_err;	/* ffpf_pbuf_deliver() refused the descriptor */
	__u64 fill_frames;	/* frames put into the fill rings, in total */
	__u64 kernel_frames;	/* lent to the kernel now (fill ring, socket, RX ring):
				 * fill_frames - rx_packets */
	__u64 on_free;		/* frames the PBuf gave back (on_free calls) */
	/* XDP_STATISTICS, summed over the sockets */
	__u64 rx_dropped;
	__u64 rx_invalid_descs;
	__u64 tx_invalid_descs;
	__u64 rx_ring_full;
	__u64 rx_fill_ring_empty_descs;
	__u64 tx_ring_empty_descs;
};

/*
 * Create the UMEM (the PBuf's memory), one AF_XDP socket per RX queue of
 * the interface (created with XSK_LIBBPF_FLAGS__INHIBIT_PROG_LOAD and put
 * into the root's XSKMAP at its queue id), fill the fill rings, then set
 * ctl->tap. -EOPNOTSUPP for a datapath adopted from pins (no XSKMAP fd),
 * -EBUSY if tap mode is already on, -ENOMEM, or the socket's error.
 */
int ffpf_tap_open(struct ffpf_iface *ifc, const struct ffpf_tap_opts *opts,
		  struct ffpf_tap **out);

/*
 * Producer step, without waiting: refill the fill rings from the PBuf pool
 * and deliver at most @max received packets (0: none, only the refill) to
 * @ibufs (array of @n IBufs, NULL entries allowed; an IBuf takes the
 * packets whose meta.matched has its flow bit); the rest stays queued in
 * the kernel. Returns the number of packets taken, or -EINVAL.
 */
int ffpf_tap_poll(struct ffpf_tap *tap, struct ffpf_ibuf **ibufs, int n, __u32 max);

/* Is any socket's RX ring more than three quarters full? */
bool ffpf_tap_crowded(const struct ffpf_tap *tap);

/* Descriptors waiting in the RX rings, all sockets. */
__u32 ffpf_tap_queued(const struct ffpf_tap *tap);

/*
 * Wait up to @timeout_ms for a packet on any socket without touching the
 * rings or the PBuf, so the caller can wait without holding its lock and
 * call ffpf_tap_poll() afterwards. >0: readable, 0: timeout.
 */
int ffpf_tap_wait(struct ffpf_tap *tap, int timeout_ms);

/*
 * Add @off ns to every packet's meta.ts_ns before delivery (the engine's
 * CLOCK_MONOTONIC -> CLOCK_REALTIME offset). Any thread.
 */
void ffpf_tap_set_ts_offset(struct ffpf_tap *tap, __s64 off);

/*
 * Frames lent to the kernel now (fill rings, sockets, RX rings): every
 * frame put into a fill ring comes back through an RX descriptor. The
 * producer's thread, or under its lock.
 */
__u64 ffpf_tap_kernel_frames(const struct ffpf_tap *tap);

/* The PBuf over the UMEM: consumers read and release through it. */
struct ffpf_pbuf *ffpf_tap_pbuf(struct ffpf_tap *tap);
/* The UMEM's memfd (sealed read-only for everyone but us once the sockets are up). */
int ffpf_tap_memfd(const struct ffpf_tap *tap);
/* Only these flows' bits reach the IBufs in ffpf_meta.matched (default: all). */
void ffpf_tap_set_mask(struct ffpf_tap *tap, __u64 mask);

int ffpf_tap_stats(struct ffpf_tap *tap, struct ffpf_tap_stats *st);

/*
 * Clear ctl->tap first (packets go back to the stack), remove the sockets
 * from the XSKMAP, then destroy the sockets and the UMEM. Descriptors still
 * in IBufs point into freed memory afterwards: drain them first. Safe on NULL.
 */
void ffpf_tap_close(struct ffpf_tap *tap);

#endif /* FFPF_TAP_H */
