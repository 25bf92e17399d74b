/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ffpf/ffpf.h - libffpfbpf: FFPF flows on eBPF/XDP.
 *
 * A flow is a generalised socket: create it on an interface, populate it
 * with a chain of filters, instantiate it (the whole chain is checked,
 * then every filter is loaded as its own BPF program and chained by tail
 * calls), activate and pause it at will, and close it. Closing, or the
 * process dying, removes every trace of the flow unless it was pinned.
 *
 * Conventions (as in libbpf): int functions return 0 or a negative errno;
 * pointer functions return NULL and set errno. Human-readable detail goes
 * through the print callback set with ffpf_set_print().
 */
#ifndef FFPF_FFPF_H
#define FFPF_FFPF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>	/* memset in FFPF_OPTS */
#include <ffpf/abi.h>
#include <ffpf/mbuf.h>
#include <ffpf/flowtrack.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FFPF_API __attribute__((visibility("default")))

/*
 * Zero-initialised, sized options, as libbpf's LIBBPF_OPTS. C only (a GNU
 * statement expression and designated initialisers); C++ gets the same
 * from ffpf::opts<T>() in <ffpf/ffpf.hpp>, or { } plus .sz = sizeof.
 */
#define FFPF_OPTS(TYPE, NAME, ...)					\
	struct TYPE NAME = ({						\
		memset(&NAME, 0, sizeof(struct TYPE));			\
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ };	\
	})

enum ffpf_print_level {
	FFPF_WARN,
	FFPF_INFO,
	FFPF_DEBUG,
};

typedef int (*ffpf_print_fn_t)(enum ffpf_print_level level,
			       const char *fmt, va_list args);

/*
 * Set the print callback; returns the previous one. NULL silences the
 * library. The default prints warnings and info to stderr.
 */
FFPF_API ffpf_print_fn_t ffpf_set_print(ffpf_print_fn_t fn);

/* Library version, "MAJOR.MINOR.PATCH". */
FFPF_API const char *ffpf_version(void);

struct ffpf_flow;

enum ffpf_flow_flags {
	/* Keep the flow after the process exits, pinned under
	 * /sys/fs/bpf/ffpf/<ifname>/<name>/ (see ffpf-bpf(8) list/close). */
	FFPF_FLOW_PIN	= 1 << 0,
	/* Only to be checked against a policy (ffpf/policy.h), never
	 * instantiated: the interface need not exist here. */
	FFPF_FLOW_CHECK_ONLY = 1 << 1,
	/* Monitor mode, for mirror (SPAN) ports: on ingress, packets end in
	 * XDP_DROP after every flow had its look, while this flow is active
	 * (paused, it drops nothing). Every such packet is counted in
	 * ffpf_iface_stats.monitor_dropped. The whole interface's traffic is
	 * dropped, for every flow and user on it. -EINVAL with the egress
	 * hook; -EPERM through the daemon (in-process, as root, only). */
	FFPF_FLOW_MONITOR = 1 << 2,
};

/* Where on the interface the flow sees packets. */
enum ffpf_hook {
	FFPF_HOOK_INGRESS = 0,	/* XDP: packets arriving (the default) */
	FFPF_HOOK_EGRESS  = 1,	/* TC clsact egress (tcx link): packets leaving */
};

/* Whether, and how, the packets a flow accepts reach the application. */
enum ffpf_rx_mode {
	FFPF_RX_NONE = 0,	/* statistics only (the default): no packet is copied */
	FFPF_RX_COPY = 1,	/* packets continue up the stack; their first snaplen
				 * bytes are copied into the PBuf (BPF ring buffer) */
	FFPF_RX_TAP  = 2,	/* ingress only, for monitor ports: matched packets are
				 * taken off the stack into AF_XDP; the UMEM is the PBuf */
};

#define FFPF_SNAPLEN_DEFAULT	2048
#define FFPF_IBUF_DEFAULT	1024

struct ffpf_flow_opts {
	size_t sz;		/* sizeof(struct ffpf_flow_opts) */
	const char *name;	/* flow name; default "flowN" */
	__u32 flags;		/* enum ffpf_flow_flags */
	__u32 hook;		/* enum ffpf_hook */
	__u32 rx;		/* enum ffpf_rx_mode. All rx flows of one process on
				 * one interface and hook share one mode: the first
				 * one fixes it (-EBUSY for another). */
	__u32 snaplen;		/* bytes kept per packet (0: FFPF_SNAPLEN_DEFAULT) */
	__u32 ibuf_size;	/* descriptors in the flow's IBuf, a power of two
				 * (0: FFPF_IBUF_DEFAULT). Copy mode: a full IBuf
				 * holds the engine back (records wait in the
				 * kernel's ring) for up to 20 ms until it catches
				 * up; beyond, it drops for this flow only,
				 * counted in ffpf_rx_stats.dropped. */
	struct ffpf_flow *share;	/* an instantiated flow with the same chain of
				 * classes: every filter uses the state of the
				 * filter at its position there (e.g. one flowtrack
				 * table for a flow's ingress and egress halves).
				 * The MBuf (configuration, counters) stays its own. */
	const char *policy;	/* policy file checked at instantiate (ffpf/policy.h);
				 * NULL: $FFPF_POLICY, else FFPF_POLICY_PATH if it exists */
	const char *group;	/* flow group (through the daemon): flows of one group
				 * share one PBuf, groups share nothing. NULL: the
				 * caller's own group, "user:NAME". In-process, all
				 * of a process's flows are one group. */
	const char *daemon;	/* socket of `ffpf-bpf daemon` to run the flow through;
				 * NULL: $FFPF_DAEMON, else FFPF_DAEMON_PATH when the
				 * caller may not load BPF itself; "off": in-process */
	size_t :0;
};

#define FFPF_GROUP_LEN		64
#define FFPF_DAEMON_PATH	"/run/ffpf-bpf/ffpf.sock"
#define FFPF_DAEMON_ENV		"FFPF_DAEMON"

/*
 * Create an empty flow on interface @ifname (ingress XDP). The interface's
 * root program is attached when the first flow on it is instantiated.
 * Returns NULL with errno = ENODEV (no such interface), EINVAL (bad
 * options), ENOMEM.
 */
FFPF_API struct ffpf_flow *ffpf_flow_create(const char *ifname,
					    const struct ffpf_flow_opts *opts);

/*
 * Append the filters described by @spec, e.g.
 * "match(udp, dst port 53) -> sample(10) -> count". Can be called several
 * times; chains are concatenated. A spec error is printed as
 * "spec:LINE:COL: message" and returns -EINVAL. -EBUSY once instantiated.
 */
FFPF_API int ffpf_flow_populate(struct ffpf_flow *flow, const char *spec);

/*
 * Append one filter programmatically: @cls is a class name ("match",
 * "count", "sample"), @args its argument list as in a spec, without
 * parentheses (may be NULL). Same errors as ffpf_flow_populate().
 */
FFPF_API int ffpf_flow_add_filter(struct ffpf_flow *flow, const char *cls,
				  const char *args);

/*
 * Check the whole chain, load every filter and chain them; attach the
 * interface's root program if this is its first flow. The flow starts
 * paused. Errors: -E2BIG (too many stages, or the composition with the
 * interface's other flows would exceed the kernel's tail-call limit),
 * -ENOSPC (no free flow slot on the interface), -EEXIST (a flow of that
 * name exists on the interface), -EPERM (also: the policy in force, see
 * ffpf/policy.h, denies this caller the flow; checked before anything is
 * loaded), -ENOENT (an explicitly named policy file is missing), or the
 * loader's error.
 */
FFPF_API int ffpf_flow_instantiate(struct ffpf_flow *flow);

/* Start / stop delivering packets to the flow's chain: one word flipped. */
FFPF_API int ffpf_flow_activate(struct ffpf_flow *flow);
FFPF_API int ffpf_flow_pause(struct ffpf_flow *flow);

/*
 * Remove the flow's filters and free its maps (a pinned flow is unpinned
 * too). Detaches the root program when the interface has no flow left.
 * Safe on NULL.
 */
FFPF_API void ffpf_flow_close(struct ffpf_flow *flow);

/*
 * Keep an instantiated flow after the process exits (as FFPF_FLOW_PIN).
 * -EBUSY if this process has unpinned flows on the same interface: a
 * datapath is either pinned with all its flows or owned by one process.
 */
FFPF_API int ffpf_flow_pin(struct ffpf_flow *flow);

/*
 * Make the next ffpf_flow_close() free only this handle, leaving the
 * pinned flow running in the kernel (as bpf_link__disconnect()).
 * -EINVAL if the flow is not pinned.
 */
FFPF_API int ffpf_flow_disconnect(struct ffpf_flow *flow);

FFPF_API const char *ffpf_flow_name(const struct ffpf_flow *flow);
FFPF_API const char *ffpf_flow_ifname(const struct ffpf_flow *flow);
FFPF_API int ffpf_flow_nfilters(const struct ffpf_flow *flow);
/* Class name of filter @idx (0-based), or NULL. */
FFPF_API const char *ffpf_flow_filter_class(const struct ffpf_flow *flow, int idx);
/* Instance name of filter @idx ("dns" of "dns :: match(...)", or where it
 * is referred to), or NULL for an unnamed filter. */
FFPF_API const char *ffpf_flow_filter_name(const struct ffpf_flow *flow, int idx);
/* The flow's filters as one spec text ("match(udp) -> (count | sample(2))"). */
FFPF_API const char *ffpf_flow_spec(const struct ffpf_flow *flow);
FFPF_API bool ffpf_flow_is_active(const struct ffpf_flow *flow);

struct ffpf_flow_stats {
	size_t sz;
	__u64 packets;		/* accepted by the whole chain */
	__u64 bytes;
	__u64 dispatched;	/* handed to the chain */
	__u64 missed;		/* failed tail calls on this flow's chain */
	size_t :0;
};

/* Sum the flow's per-CPU counters into @st (st->sz must be set). */
FFPF_API int ffpf_flow_stats(const struct ffpf_flow *flow,
			     struct ffpf_flow_stats *st);

/* Filter @idx's counters (seen, passed, bytes), summed over CPUs. */
FFPF_API int ffpf_flow_filter_stats(const struct ffpf_flow *flow, int idx,
				    struct ffpf_mbuf_hdr *hdr);

/*
 * Filter @idx's MBuf, memory-mapped: the layout is the class's struct in
 * ffpf/mbuf.h. Valid until ffpf_flow_close(). Writes go live (e.g.
 * ffpf_sample_mbuf.every). Returns NULL with errno set; *@size gets the
 * mapped length if @size is not NULL.
 */
FFPF_API void *ffpf_flow_filter_mbuf(struct ffpf_flow *flow, int idx,
				     size_t *size);

struct ffpf_iface_stats {
	size_t sz;
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 matched;
	__u64 truncated;
	__u64 malformed;
	__u64 non_ip;
	__u64 missed;
	__u64 deep;		/* headers past the parser's reach (FFPF_PF_DEEP) */
	__u64 tap_redirected;	/* tap mode: to the queue's AF_XDP socket */
	__u64 tap_no_socket;	/* tap mode: no socket on the queue, passed on */
	__u64 tap_meta_fail;	/* tap mode: no room for metadata, passed on */
	__u64 copied;		/* copy mode: records put into the ring buffer */
	__u64 copy_lost;	/* copy mode: ring buffer full, record lost (counted) */
	__u64 monitor_dropped;	/* ingress: dropped because a FFPF_FLOW_MONITOR flow
				 * was active */
	size_t :0;
};

/* Root-program counters of the interface the flow lives on. */
FFPF_API int ffpf_flow_iface_stats(const struct ffpf_flow *flow,
				   struct ffpf_iface_stats *st);

/* --- Packets: the flow's IBuf, descriptors into the shared PBuf ---------
 *
 * A flow created with .rx = FFPF_RX_COPY or FFPF_RX_TAP receives the
 * packets its chain accepts once it is instantiated and active. A packet
 * accepted by several flows is stored once in the PBuf; each flow's IBuf
 * holds a descriptor of it, and the frame is reused when the last flow
 * released it. The library's receive thread (one per interface and hook)
 * fills the IBufs; each flow has one consumer thread. */

struct ffpf_packet {
	const void *data;	/* captured bytes in the PBuf, valid until released */
	__u32 caplen;		/* bytes at data */
	__u32 wire_len;		/* length of the packet on the wire */
	__u64 ts_ns;		/* arrival, ns since the epoch (CLOCK_REALTIME) */
	__u64 matched;		/* bit ffpf_flow_slot(f) set: flow f accepted it */
	__u64 seq;		/* delivery number on the interface and hook: the
				 * same in every flow that received this packet */
	__u32 ifindex;
	__u8  dir;		/* enum ffpf_dir */
	__u8  hook;		/* enum ffpf_hook */
	__u16 pad;
	__u32 flow_id;		/* a flowtrack stage's flow id of the packet, 0: none */
};

/* The flow's bit in ffpf_packet.matched, or -1 before instantiate. */
FFPF_API int ffpf_flow_slot(const struct ffpf_flow *flow);

/*
 * Pollable fd (POLLIN/EPOLLIN) that becomes readable when packets wait in
 * the flow's IBuf. Level-triggered use is fine: it stays readable until
 * ffpf_flow_peek() found the IBuf empty. -EINVAL for a flow without rx.
 */
FFPF_API int ffpf_flow_fd(const struct ffpf_flow *flow);

/*
 * Zero-copy read of the oldest packet, without removing it: pkt->data
 * points into the PBuf until ffpf_flow_release(). -EAGAIN when the IBuf
 * is empty, -EINVAL for a flow without rx.
 */
FFPF_API int ffpf_flow_peek(struct ffpf_flow *flow, struct ffpf_packet *pkt);

/* Up to @max oldest packets, oldest first; returns how many (0: empty). */
FFPF_API int ffpf_flow_peek_batch(struct ffpf_flow *flow, struct ffpf_packet *pkts,
				  int max);

/* Remove the @n oldest packets and give their frames back. Returns @n or -EINVAL. */
FFPF_API int ffpf_flow_release(struct ffpf_flow *flow, int n);

/* Return non-zero to stop ffpf_flows_run(), which then returns that value. */
typedef int (*ffpf_packet_fn)(struct ffpf_flow *flow, const struct ffpf_packet *pkt,
			      void *ctx);

/*
 * Run loop: wait on the @n flows' fds and call @fn for every packet, in
 * each flow's order, releasing it when @fn returns. Returns @fn's non-zero
 * value, 0 after @timeout_ms without a stop (-1: wait forever), -EINTR
 * when a signal interrupted the wait, or another negative errno.
 */
FFPF_API int ffpf_flows_run(struct ffpf_flow **flows, int n, ffpf_packet_fn fn,
			    void *ctx, int timeout_ms);

struct ffpf_rx_stats {
	size_t sz;
	/* This flow */
	__u64 received;		/* descriptors put into its IBuf */
	__u64 dropped;		/* IBuf full: lost for this flow only */
	__u64 released;
	__u32 queued;		/* in the IBuf now */
	__u32 capacity;
	/* The interface and hook, shared by this process's rx flows on it */
	__u32 mode;		/* enum ffpf_rx_mode */
	__u32 snaplen;
	__u64 records;		/* packets that reached user space */
	__u64 lost;		/* copy: ring buffer full in the kernel */
	__u64 no_frame;		/* PBuf had no free frame: lost for every flow */
	__u64 frames;		/* PBuf frames */
	__u64 frames_in_use;
	__u64 frames_high_water;
	__u64 stored;		/* packets stored in the PBuf: one frame each */
	__u64 descs;		/* descriptors handed to IBufs, all flows */
	/* tap: the AF_XDP sockets' XDP_STATISTICS, summed */
	__u64 xsk_rx_dropped;
	__u64 xsk_rx_ring_full;
	__u64 xsk_fill_ring_empty;
	__u64 xsk_rx_invalid;
	size_t :0;
};

/* Receive counters of the flow and of its interface and hook. */
FFPF_API int ffpf_flow_rx_stats(const struct ffpf_flow *flow, struct ffpf_rx_stats *st);

FFPF_API enum ffpf_hook ffpf_flow_hook(const struct ffpf_flow *flow);

/* --- Flow tracking: a flow whose chain has a flowtrack() filter -----------
 *
 * The flowtrack filter keeps a table of bidirectional flows (ffpf/flowtrack.h)
 * in the kernel; an application that only wants flow statistics never
 * receives a packet. The tracker in user space ends flows (RST, FIN both
 * ways, idle or active timeout, table full, forced, close) and hands every
 * ended flow to the termination callback exactly once. */

typedef void (*ffpf_ft_end_fn)(struct ffpf_flow *flow, const struct ffpf_ft_record *rec,
			       void *ctx);

struct ffpf_ft_opts {
	size_t sz;		/* sizeof(struct ffpf_ft_opts) */
	ffpf_ft_end_fn on_end;	/* termination callback; may be NULL */
	void *ctx;
	__u32 interval_ms;	/* sweep period; 0: a quarter of the idle timeout, 50..1000 ms,
				 * + 1 s per 64Ki live flows (up to idle / 4), and
				 * sooner (100 ms) when the full table refuses a flow */
	bool manual;		/* no thread: the application calls ffpf_ft_sweep() */
	size_t :0;
};

/*
 * Start tracking on the flow's (first) flowtrack filter, after instantiate.
 * Without .manual a thread sweeps the table and calls on_end from that
 * thread. -ENOENT: no flowtrack filter; -EALREADY.
 */
FFPF_API int ffpf_ft_start(struct ffpf_flow *flow, const struct ffpf_ft_opts *opts);

/* Peafowl's termination callback: ffpf_ft_start() with default options. */
FFPF_API int ffpf_flow_set_termination_cb(struct ffpf_flow *flow, ffpf_ft_end_fn fn,
					  void *ctx);

/* Sweep now: end what is due and call on_end. Returns the flows ended. */
FFPF_API int ffpf_ft_sweep(struct ffpf_flow *flow);

/* Call @fn for every live flow (a snapshot per batch); @fn's non-zero stops. */
typedef int (*ffpf_ft_flow_fn)(const struct ffpf_ft_key *key, const struct ffpf_ft_flow *f,
			       void *ctx);
FFPF_API int ffpf_ft_foreach(struct ffpf_flow *flow, ffpf_ft_flow_fn fn, void *ctx);

/* Current counters of one live flow; -ENOENT if it is not (or no longer) there. */
FFPF_API int ffpf_ft_lookup(struct ffpf_flow *flow, const struct ffpf_ft_key *key,
			    struct ffpf_ft_flow *out);

/*
 * The flow of a packet, from its flow id (ffpf_packet.flow_id): its key
 * and current counters (either may be NULL). -ENOENT once the flow ended,
 * -EOPNOTSUPP without flowtrack(index=1) (the id -> key index costs every
 * new flow a second insert in the kernel).
 * Two lookups in the kernel's maps (~1 us): for every packet of a busy
 * flow, keep what you read.
 */
FFPF_API int ffpf_ft_lookup_id(struct ffpf_flow *flow, __u32 id, struct ffpf_ft_key *key,
			       struct ffpf_ft_flow *out);

/* End one flow now (reason FFPF_FT_END_FORCED); -ENOENT if not live. */
FFPF_API int ffpf_ft_expire(struct ffpf_flow *flow, const struct ffpf_ft_key *key);

struct ffpf_ft_stats {
	size_t sz;
	/* Counters of the table: summed over the flows that share it (.share) */
	__u64 live;		/* flows in the table at the last sweep */
	__u64 created;		/* flows the kernel inserted */
	__u64 table_full;	/* packets of new flows the full table refused */
	__u64 rst_no_flow;	/* RSTs without a flow (none created) */
	__u64 not_ip;		/* packets without a 5-tuple (passed, untracked) */
	__u64 ended[8];		/* records by enum ffpf_ft_reason */
	__u64 records;		/* records handed to on_end, all reasons */
	__u64 unindexed;	/* flows ffpf_ft_lookup_id() cannot find (id map full) */
	__u64 records_dropped;	/* through the daemon: records its ring had no room for */
	size_t :0;
};

FFPF_API int ffpf_ft_stats(struct ffpf_flow *flow, struct ffpf_ft_stats *st);

/* Peafowl's directions: outbound = sent by the initiator (side 0 if unknown). */
enum ffpf_ft_direction { FFPF_FT_OUTBOUND = 0, FFPF_FT_INBOUND = 1 };

static inline const struct ffpf_ft_side *ffpf_ft_dir(const struct ffpf_ft_flow *f, int dir)
{
	int out = f->initiator == FFPF_FT_INIT_SIDE1 ? 1 : 0;

	return &f->side[dir == FFPF_FT_OUTBOUND ? out : !out];
}

/*
 * Check a spec without loading anything: parse it and every filter's
 * arguments. Returns 0, or -EINVAL with the error printed as
 * "spec:LINE:COL: message". If @nfilters is not NULL it gets the length.
 */
FFPF_API int ffpf_spec_check(const char *spec, int *nfilters);
/*
 * Check @n specs as if populated in this order (e.g. the flows of one
 * command line): a named instance defined in one is known to the later
 * ones. @nfilters (may be NULL) gets each spec's filter count; on error
 * *@bad (may be NULL) is the index of the spec at fault.
 */
FFPF_API int ffpf_specs_check(const char *const *specs, int n, int *nfilters, int *bad);

/*
 * A flow file: "NAME = SPEC" entries, a SPEC ending at ";" or at the next
 * "NAME =" (docs/spec.md, "Flow files"). Each entry's spec keeps the
 * file's line and column numbers, so a spec error points into the file.
 */
struct ffpf_flow_def {
	char name[FFPF_NAME_LEN];
	char *spec;
	int line, col;		/* of the name in the file */
};
/*
 * Split @text into *@defs. Returns the number of flows, or -EINVAL with
 * "spec:LINE:COL: message" printed, -E2BIG for a name too long, -ENOMEM.
 */
FFPF_API int ffpf_flow_file_parse(const char *text, struct ffpf_flow_def **defs);
FFPF_API void ffpf_flow_file_free(struct ffpf_flow_def *defs, int n);
/* Does @text look like a flow file (it starts with "NAME =") rather than one spec? */
FFPF_API bool ffpf_is_flow_file(const char *text);

/* --- Pinned flows, for a process other than the one that created them --- */

#define FFPF_PIN_ROOT "/sys/fs/bpf/ffpf"

struct ffpf_pinned_flow {
	char ifname[32];
	char name[FFPF_NAME_LEN];
	char spec[FFPF_SPEC_LEN];
	int index;		/* flow slot on the interface */
	bool active;
	__u32 owner_pid;
	__u32 nstages;
	struct ffpf_flow_counters counters;	/* summed over CPUs */
	bool monitor;		/* FFPF_FLOW_MONITOR: drops received packets while active */
};

typedef int (*ffpf_pinned_cb)(const struct ffpf_pinned_flow *pf, void *ctx);

/*
 * Call @cb for every flow in the datapaths pinned under FFPF_PIN_ROOT
 * (@ifname NULL for all interfaces). Stops and returns @cb's value when
 * it is non-zero. -ENOENT if nothing is pinned.
 */
FFPF_API int ffpf_pinned_foreach(const char *ifname, ffpf_pinned_cb cb, void *ctx);
FFPF_API int ffpf_pinned_activate(const char *ifname, const char *name);
FFPF_API int ffpf_pinned_pause(const char *ifname, const char *name);
/* Remove a pinned flow; the interface's datapath goes with its last flow. */
FFPF_API int ffpf_pinned_close(const char *ifname, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* FFPF_FFPF_H */
