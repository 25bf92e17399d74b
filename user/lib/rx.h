/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * rx.h (internal) - the receive engine of one datapath (interface + hook)
 * in this process: one thread that moves packets from the kernel into the
 * PBuf and hands a descriptor to the IBuf of every rx flow that accepted
 * the packet (ffpf_pbuf_deliver()).
 *
 *   tap  (FFPF_RX_TAP, ingress only): AF_XDP sockets, UMEM = PBuf (tap.c).
 *   copy (FFPF_RX_COPY): the root's BPF ring buffer (ifc->copy_fd); each
 *        record is copied once into a PBuf frame of plain memory.
 *
 * The engine starts with the datapath's first rx flow (which fixes the
 * mode and the PBuf's frame size) and stops with its last. The public
 * packet API (ffpf_flow_fd/peek/release, ffpf_flows_run, ffpf_flow_rx_stats)
 * is implemented next to it in rx.c.
 */
#ifndef FFPF_RX_H
#define FFPF_RX_H

#include "internal.h"

/*
 * Join @flow (instantiated, flow->rx != FFPF_RX_NONE) to its datapath's
 * engine, starting the engine if needed: create the flow's IBuf, publish
 * it to the engine, then set the flow's bit in ctl->rx (and ctl->tap or
 * ctl->copy, ctl->snaplen). Errors: -EBUSY (the engine runs in another
 * mode, or a snaplen larger than its frames), -EOPNOTSUPP (tap on egress,
 * or a datapath adopted from pins), -EINVAL (first tap flow with a snaplen
 * no AF_XDP frame holds: more than a page minus 256), -ENOMEM, or the
 * engine's error. Call it from the thread that runs the flow lifecycle.
 */
int ffpf_rx_add(struct ffpf_flow *flow);

/*
 * Undo ffpf_rx_add(): clear the flow's ctl->rx bit, take its IBuf out of
 * the engine, release every frame it still holds and free it. The last
 * flow stops the engine (clears ctl->tap / ctl->copy first). Safe on a
 * flow that never joined.
 */
void ffpf_rx_remove(struct ffpf_flow *flow);

/*
 * A flow came or went on @ifc (ifc->group_of changed): which bits each
 * group's descriptors may show follows. A group sees its own flows' bits,
 * receiving or statistics only, never another group's.
 */
void ffpf_rx_flows_changed(struct ffpf_iface *ifc);

/* What a daemon hands a client so it can read a flow's packets itself. */
struct ffpf_rx_export {
	int pbuf_fd;		/* the group's PBuf (memfd sealed read-only) */
	__u64 pbuf_size;
	__u32 frame_size;
	int ring_fd;		/* the flow's IBuf ring (memfd, read-write) */
	__u64 ring_size;
	__u32 capacity;
	int efd;		/* the IBuf's eventfd */
};

/*
 * Daemon side: the fds and sizes of @flow's IBuf and PBuf (not dup'ed;
 * valid while the flow is open). The flow must have been instantiated
 * with flow->remote_consumer set. -EINVAL otherwise.
 */
int ffpf_rx_export(const struct ffpf_flow *flow, struct ffpf_rx_export *e);

/*
 * Client side: make @flow (a daemon's flow, flow->remote set, flow->idx
 * its slot) read packets from the daemon's IBuf: maps the PBuf read-only
 * and the ring read-write. Takes ownership of the three fds in @e, also
 * on failure. ffpf_rx_remove() undoes it. @conn_fd is the daemon
 * connection: when it hangs up, peek and ffpf_flows_run() say so.
 */
int ffpf_rx_attach(struct ffpf_flow *flow, const struct ffpf_rx_export *e, int conn_fd);

/* For a daemon's status: every flow group's PBuf on @flow's datapath. */
struct ffpf_pbuf_stats;
typedef void (*ffpf_rx_pool_fn)(const char *group, int nflows,
				const struct ffpf_pbuf_stats *ps, void *ctx);
int ffpf_rx_pools(const struct ffpf_flow *flow, ffpf_rx_pool_fn fn, void *ctx);

/* remote.c: the rx counters of a flow that lives in the daemon. */
int ffpf_remote_rx_stats(const struct ffpf_flow *flow, struct ffpf_rx_stats *st);

#endif /* FFPF_RX_H */
