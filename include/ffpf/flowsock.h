/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ffpf/flowsock.h - per-flow sockets, as Click's IPFlowRawSockets with
 * AggregateIPFlows as its notifier: one pollable fd per live tracked flow
 * of an FFPF flow, carrying that flow's packets, and a notice when the
 * flow ends so the application frees its state early.
 *
 * The FFPF flow must receive packets (copy or tap) and track flows with a
 * flowtrack(index=1) stage in its chain, e.g.
 *
 *     match(tcp) -> flowtrack(idle=30, index=1)
 *
 * The per-flow sockets take over its packets and its tracker: call
 * ffpf_flowsocks_dispatch() in a loop; it reads the flow's IBuf, hands each
 * packet to the socket of its flow (ffpf_packet.flow_id), runs the
 * tracker's sweeps and delivers the ends. How this relates to the flow's
 * own fd (ffpf_flow_fd(), docs/flowsock.md): that one is one fd per FFPF
 * flow, descriptors into the shared PBuf and no copy; these are one fd per
 * 5-tuple flow, one copy per packet (cut at snaplen), for an application
 * that wants a conversation as a socket.
 *
 * Every call on one set of sockets must come from one thread.
 */
#ifndef FFPF_FLOWSOCK_H
#define FFPF_FLOWSOCK_H

#include <ffpf/ffpf.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ffpf_flowsocks;

/* One live flow's socket. */
struct ffpf_flowsock {
	int fd;			/* the application's end: AF_UNIX SOCK_SEQPACKET, one
				 * packet per recv(); EOF after the flow ended and its
				 * last packet was read. The application closes it. */
	__u32 id;		/* the tracker's flow id */
	bool key_known;		/* key below is valid (the flow was still in the
				 * table when its first packet was handed on) */
	struct ffpf_ft_key key;
	__u64 packets;		/* handed to the socket */
	__u64 dropped;		/* lost: its buffer was full (the application reads
				 * too slowly); counted in the stats' full too */
	void *user;		/* the application's */
};

/* What each datagram starts with; the packet follows after headroom bytes. */
struct ffpf_flowsock_hdr {
	__u64 ts_ns;		/* arrival, CLOCK_REALTIME */
	__u32 wire_len;		/* length on the wire */
	__u32 caplen;		/* packet bytes in this datagram */
	__u32 headroom;		/* zero bytes between this header and the packet */
	__u8  dir;		/* enum ffpf_dir */
	__u8  pad[3];
};

/*
 * @rec: NULL when the socket is new (on_new), the flow's final record when
 * it ended (on_delete; NULL there too when ffpf_flowsocks_close() ends it).
 * After on_delete returns the struct is freed; the fd stays the
 * application's.
 */
typedef void (*ffpf_flowsock_fn)(struct ffpf_flowsocks *fs, struct ffpf_flowsock *s,
				 const struct ffpf_ft_record *rec, void *ctx);

struct ffpf_flowsock_opts {
	size_t sz;			/* sizeof(struct ffpf_flowsock_opts) */
	__u32 snaplen;			/* packet bytes per datagram; 0: as captured */
	__u32 headroom;			/* zero bytes reserved before the packet (Click's
					 * HEADROOM), at most 4096 */
	ffpf_flowsock_fn on_new;	/* a flow's first packet: its socket is there */
	ffpf_flowsock_fn on_delete;	/* the flow ended (FIN, RST, idle, ...) */
	void *ctx;
	__u32 linger_ms;		/* packets still in flight when a flow ends go to
					 * its socket this long before the notice; 0: 50 */
	__u32 sweep_ms;			/* tracker sweep period; 0: a quarter of the idle
					 * timeout, 50..1000 */
	size_t :0;
};

/*
 * Per-flow sockets over @flow (instantiated, rx copy or tap, a
 * flowtrack(index=1) stage, its tracker not started). Starts the tracker
 * (manual sweeps, run by dispatch). NULL with errno: EINVAL (no rx, no
 * flowtrack stage, options out of range), EOPNOTSUPP (no index=1),
 * EALREADY (the tracker runs already), ENOMEM.
 */
FFPF_API struct ffpf_flowsocks *ffpf_flowsocks_open(struct ffpf_flow *flow,
						    const struct ffpf_flowsock_opts *opts);

/*
 * Wait up to @timeout_ms for packets (-1: until something happens), hand
 * them to their flows' sockets, sweep the tracker when due and deliver
 * the ends whose linger passed. Returns the packets handed on (0 on a
 * timeout), -EINTR, or another negative errno.
 */
FFPF_API int ffpf_flowsocks_dispatch(struct ffpf_flowsocks *fs, int timeout_ms);

/* Readable when dispatch has packets to hand on (the flow's fd). */
FFPF_API int ffpf_flowsocks_fd(const struct ffpf_flowsocks *fs);

struct ffpf_flowsock_stats {
	size_t sz;
	__u64 live;		/* sockets open now */
	__u64 opened;		/* sockets created */
	__u64 ended;		/* deletion notices delivered */
	__u64 packets;		/* packets handed to a socket */
	__u64 bytes;		/* their wire bytes */
	__u64 full;		/* dropped: a socket's buffer was full */
	__u64 late;		/* dropped: a packet of a flow whose notice was out */
	__u64 untracked;	/* dropped: no flow id (not IP, or the table was full) */
	size_t :0;
};

FFPF_API int ffpf_flowsocks_stats(const struct ffpf_flowsocks *fs,
				  struct ffpf_flowsock_stats *st);

/*
 * End every live socket (on_delete with the tracker's CLOSED records),
 * stop the tracker and free @fs. The FFPF flow stays the caller's.
 */
FFPF_API void ffpf_flowsocks_close(struct ffpf_flowsocks *fs);

#ifdef __cplusplus
}
#endif

#endif /* FFPF_FLOWSOCK_H */
