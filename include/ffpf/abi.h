/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ffpf/abi.h - every struct and constant that crosses between the BPF
 * datapath and user space. Both sides include this one file; nothing here
 * is kept in sync by hand anywhere else.
 *
 * ABI version: bump FFPF_ABI_VERSION whenever a layout below changes, so a
 * pinned datapath left by an older build is refused instead of misread.
 */
#ifndef FFPF_ABI_H
#define FFPF_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define FFPF_ABI_VERSION	5

/* Flows per interface and hook: one bit each in a __u64 mask. */
#define FFPF_MAX_FLOWS		64
/* Stages (filter instances) per flow. */
#define FFPF_MAX_STAGES		16
/* The kernel's MAX_TAIL_CALL_CNT: tail calls allowed on one packet's path. */
#define FFPF_TAIL_CALL_LIMIT	33

/*
 * Slot layout of the per-interface PROG_ARRAY ("ffpf_progs"):
 *   [0, FFPF_MAX_FLOWS)            entry stage of flow i (the jump table)
 *   [FFPF_SLOT_STAGE0, SLOTS)      later stages, allocated by user space
 * A stage learns its successors' slots as load-time constants. Edges of
 * a flow's graph only go forward, so no stage's successor is its flow's
 * entry, and slot 0 can mean "none".
 */
#define FFPF_SLOT_STAGE0	FFPF_MAX_FLOWS
#define FFPF_PROG_SLOTS		(FFPF_MAX_FLOWS * FFPF_MAX_STAGES)
#define FFPF_SLOT_NONE		0	/* "no successor": never a later stage */

/*
 * A stage's load-time constants: its whole .rodata, set by the loader
 * before the verifier runs so the successor's tail call is a direct jump.
 * A chain uses next_slot only; an alternation (a | b) gives a stage a
 * fail_slot too: where a reject goes instead of ending the flow.
 */
struct ffpf_stage_rodata {
	__u32 next_slot;	/* on accept; FFPF_SLOT_NONE: the flow accepts */
	__u32 atomic;		/* more CPUs than MBuf slots: counters need atomics */
	__u32 fail_slot;	/* on reject; FFPF_SLOT_NONE: the flow rejects */
};

/*
 * Verdict a stage chain returns to the root's per-flow dispatcher. Values
 * are valid XDP actions so a stage run on its own is still a legal program.
 */
enum ffpf_verdict {
	FFPF_V_ERROR	= 0,	/* missed tail call or internal error */
	FFPF_V_REJECT	= 1,
	FFPF_V_ACCEPT	= 2,
};

/* ffpf_pkt.flags: what the parser found. */
enum ffpf_pkt_flags {
	FFPF_PF_L3		= 1 << 0,	/* IPv4 or IPv6 header valid */
	FFPF_PF_L4		= 1 << 1,	/* TCP/UDP/ICMP header valid: ports/flags usable */
	FFPF_PF_FRAG		= 1 << 2,	/* part of a fragmented datagram */
	FFPF_PF_FRAG_LATER	= 1 << 3,	/* not the first fragment: no L4 header */
	FFPF_PF_TRUNC		= 1 << 4,	/* a header ran past the end of the packet */
	FFPF_PF_BAD		= 1 << 5,	/* malformed (bad IHL, version mismatch, ...) */
	FFPF_PF_IPOPTS		= 1 << 6,	/* IPv4 options present */
	FFPF_PF_EXTHDR		= 1 << 7,	/* IPv6 extension headers present */
	FFPF_PF_DEEP		= 1 << 8,	/* header chain longer than the parser follows
						 * (> 6 IPv6 extension headers, or a transport
						 * header past byte 512): L4 fields not read */
};

/*
 * The per-packet context: written once by the root's parser into a
 * per-CPU array, read by every stage instead of parsing again. XDP runs a
 * packet to completion on one CPU, so one slot per CPU is enough.
 * Addresses are 16 bytes in network order; IPv4 is stored v4-mapped
 * (::ffff:a.b.c.d) so one prefix matcher serves both families.
 */
struct ffpf_pkt {
	__u32 len;		/* wire length seen by the hook */
	__u16 flags;		/* enum ffpf_pkt_flags */
	__u16 eth_proto;	/* innermost ethertype, host order */
	__u16 vlan_id[2];	/* outer, inner; host order, 12 bits */
	__u8  vlan_cnt;
	__u8  ip_ver;		/* 0, 4 or 6 */
	__u8  l4_proto;		/* IPPROTO_*, after IPv6 extension headers */
	__u8  tcp_flags;	/* FIN=0x01 ... CWR=0x80 */
	__u16 l3_off;
	__u16 l4_off;
	__u16 payload_off;
	__u16 sport;		/* host order; ICMP: type << 8 | code */
	__u16 dport;		/* host order; ICMP: echo id */
	__u8  icmp_type;
	__u8  icmp_code;
	__u8  saddr[16];
	__u8  daddr[16];
	__u64 seq;		/* per-CPU packet sequence, for sampling and debugging */
	__u64 matched;		/* bit i: flow i accepted the packet (set by the root) */
	__u32 cpu;		/* CPU running the packet: picks the MBuf counter slot */
	__u32 flow_id;		/* set by a flowtrack stage: the packet's flow (0: none) */
};

/*
 * What travels with a packet to user space (issue 3): in tap mode as XDP
 * metadata right before the frame in the UMEM (data - sizeof), in copy
 * mode as the head of the copied record. Kept within 32 bytes because
 * real NIC drivers often allow no more metadata than that.
 */
struct ffpf_meta {
	__u64 matched;		/* bit i: flow i accepted the packet */
	__u64 ts_ns;		/* bpf_ktime_get_ns() at the root */
	__u32 wire_len;		/* length on the wire */
	__u32 ifindex;
	__u8  dir;		/* enum ffpf_dir */
	__u8  pad[3];
	__u32 flow_id;		/* flowtrack's flow id of the packet, 0 if none (issue 4) */
};

enum ffpf_dir {
	FFPF_DIR_INGRESS = 0,
	FFPF_DIR_EGRESS  = 1,
};

/* Per-interface control word ("ffpf_ctl", one entry, mmapable). */
struct ffpf_ctl {
	__u64 present;		/* flow instantiated: its entry slot is filled */
	__u64 active;		/* flow active: the root dispatches it */
	__u64 guarded;		/* flow's first stage is a match, mirrored in ffpf_guards */
	__u32 abi_version;	/* FFPF_ABI_VERSION of whoever created the maps */
	__u32 generation;	/* bumped on every recomposition */
	__u32 tap;		/* tap mode: matched packets go to the XSKMAP (issue 3) */
	__u32 copy;		/* copy mode: matched packets are copied to ffpf_copy */
	__u64 rx;		/* flows whose packets go to user space (tap or copy) */
	__u32 snaplen;		/* copy mode: bytes per record, <= FFPF_SNAPLEN_MAX */
	__u32 wake_mask;	/* copy mode: wake the consumer every (mask+1)th record */
	__u64 monitor;		/* flows in monitor mode: while one of them is active,
				 * ingress packets end in XDP_DROP (a mirror port's
				 * traffic is not for this host's stack) */
};

/*
 * Copy mode: one BPF ring buffer record per packet a rx flow accepted.
 * The data area is reserved by size class (the verifier needs a constant
 * size): the smallest of 64 << k bytes that holds caplen.
 */
struct ffpf_copy_rec {
	struct ffpf_meta meta;
	__u32 caplen;		/* bytes of the packet in data[] */
	__u32 pad;
	/* (__extension__: C++ has no flexible array members; g++ and clang
	 * accept this one quietly, so the header builds as C++ too) */
	__extension__ __u8 data[];
};

#define FFPF_SNAPLEN_MAX	65535		/* largest copy-mode capture, bytes */
#define FFPF_COPY_RING_DEFAULT	(8U << 20)	/* bytes */
#define FFPF_COPY_WAKE_DEFAULT	1023		/* wake every 1024th small record */

/* Per-flow counters kept by the root (per-CPU array, FFPF_MAX_FLOWS entries). */
struct ffpf_flow_counters {
	__u64 packets;		/* packets the flow's chain accepted */
	__u64 bytes;
	__u64 dispatched;	/* packets handed to the flow's chain */
	__u64 missed;		/* chain ended in a failed tail call */
};

/* Root counters (per-CPU array, one entry). */
struct ffpf_root_counters {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 matched;		/* packets accepted by at least one flow */
	__u64 truncated;	/* parser hit the end of the packet */
	__u64 malformed;
	__u64 non_ip;
	__u64 missed;		/* failed tail calls, all flows */
	__u64 deep;		/* FFPF_PF_DEEP: headers beyond the parser's reach */
	__u64 tap_redirected;	/* tap mode: redirected to the queue's AF_XDP socket */
	__u64 tap_no_socket;	/* tap mode: no socket on the queue, passed instead */
	__u64 tap_meta_fail;	/* tap mode: no room for metadata, passed instead */
	__u64 copied;		/* copy mode: records submitted to ffpf_copy */
	__u64 copy_lost;	/* copy mode: ring full, record lost */
	__u64 monitor_dropped;	/* ingress: dropped after the flows ran, because a
				 * monitor flow was active (ctl.monitor) */
};

/*
 * Flow directory ("ffpf_flows", FFPF_MAX_FLOWS entries): what a second
 * process needs to list, pause or close a pinned flow. Readable with
 * `bpftool map dump pinned /sys/fs/bpf/ffpf/<if>/flows`.
 */
#define FFPF_NAME_LEN		32
#define FFPF_SPEC_LEN		512
#define FFPF_CLASS_LEN		16

struct ffpf_stage_desc {
	char  cls[FFPF_CLASS_LEN];
	__u32 slot;		/* PROG_ARRAY slot */
	__u32 prog_id;
	__u32 mbuf_id;		/* map id of the stage's MBuf */
	__u16 next_slot;	/* the graph: where accept and reject go */
	__u16 fail_slot;	/* (FFPF_SLOT_NONE: the flow's verdict) */
};

struct ffpf_flow_desc {
	char  name[FFPF_NAME_LEN];
	char  spec[FFPF_SPEC_LEN];
	__u32 in_use;
	__u32 pinned;
	__u32 owner_pid;
	__u32 nstages;
	struct ffpf_stage_desc stages[FFPF_MAX_STAGES];
};

#ifndef __cplusplus
_Static_assert(sizeof(struct ffpf_meta) == 32, "ffpf_meta must stay 32 bytes");
#endif

#endif /* FFPF_ABI_H */
