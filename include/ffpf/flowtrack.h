/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ffpf/flowtrack.h - Peafowl-style flow tracking in the kernel (issue 4):
 * what the `flowtrack` filter class keeps in its flow table, and the
 * record every flow ends in. Shared by the BPF class and user space.
 *
 * A flow is bidirectional, keyed by a normalised 5-tuple: the endpoint
 * that sorts lower (address, then port) is side 0, so both directions of
 * a conversation find the same entry. Counters are kept per side ("sent
 * by side 0 / side 1"); `initiator` says which side opened the flow, and
 * the API turns sides into Peafowl's outbound (initiator -> responder)
 * and inbound directions.
 *
 * Who ends a flow: the kernel only marks it (RST seen, FIN seen in both
 * directions); the user-space sweeper takes it out of the table with
 * BPF_MAP_LOOKUP_AND_DELETE_ELEM, so the counters it exports are final,
 * and emits exactly one record per flow, with the reason.
 */
#ifndef FFPF_FLOWTRACK_H
#define FFPF_FLOWTRACK_H

#include "abi.h"
#include "mbuf.h"

#define FFPF_FT_SIZE_DEFAULT	65536		/* flow table entries */
#define FFPF_FT_IDLE_DEFAULT_NS	(30ULL * 1000000000ULL)
#define FFPF_FT_LINGER_NS	(2ULL * 1000000000ULL)	/* after FIN both ways */

/* Normalised flow key (40 bytes). */
struct ffpf_ft_key {
	__u8  addr[2][16];	/* side 0, side 1; IPv4 v4-mapped */
	__u16 port[2];		/* host order. ICMP/ICMPv6: port[0] = type << 8 | code
				 * (echo request and reply both as the request),
				 * port[1] = echo id (0 for other messages) */
	__u8  proto;		/* IPPROTO_* */
	__u8  ip_ver;		/* 4 or 6 */
	__u16 pad;
};

/* What one side sent. */
struct ffpf_ft_side {
	__u64 packets;
	__u64 bytes;		/* wire bytes */
	__u8  tcp_flags;	/* OR of the flags this side sent */
	__u8  pad[7];
};

enum ffpf_ft_initiator {
	FFPF_FT_INIT_SIDE0   = 0,
	FFPF_FT_INIT_SIDE1   = 1,
	FFPF_FT_INIT_UNKNOWN = 2,	/* first packet not the opener: TCP
					 * without its SYN, an ICMP echo reply */
};

enum ffpf_ft_state {
	FFPF_FT_ACTIVE  = 0,
	FFPF_FT_CLOSING = 1,	/* FIN seen both ways: ends after FFPF_FT_LINGER_NS,
				 * so the last ACK still counts here */
	FFPF_FT_CLOSED  = 2,	/* RST seen: ends at the next sweep */
};

/* Why a flow ended: the record's reason (IPFIX flowEndReason in comments). */
enum ffpf_ft_reason {
	FFPF_FT_END_IDLE    = 1,	/* idle timeout (IPFIX 1) */
	FFPF_FT_END_ACTIVE  = 2,	/* active timeout: long flow exported (IPFIX 2) */
	FFPF_FT_END_FIN     = 3,	/* FIN both ways, or FIN then idle (IPFIX 3) */
	FFPF_FT_END_RST     = 4,	/* RST (IPFIX 3, end of flow detected) */
	FFPF_FT_END_EVICTED = 5,	/* table full: oldest evicted (IPFIX 5, lack of resources) */
	FFPF_FT_END_FORCED  = 6,	/* ffpf_ft_expire() from user space (IPFIX 4) */
	FFPF_FT_END_CLOSED  = 7,	/* the flow (or the process) closed (IPFIX 4) */
};

/* Flow table value (one entry per live flow). */
struct ffpf_ft_flow {
	struct ffpf_ft_side side[2];
	__u64 first_ns;		/* bpf_ktime_get_ns() of the first packet */
	__u64 last_ns;		/* ... of the latest packet */
	__u64 end_ns;		/* when CLOSING / CLOSED was set, else 0 */
	__u32 id;		/* flow id, unique among the table's live flows;
				 * travels with the packet (ffpf_pkt.flow_id, ffpf_meta) */
	__u8  initiator;	/* enum ffpf_ft_initiator */
	__u8  state;		/* enum ffpf_ft_state */
	__u8  fin;		/* bit s: side s sent a FIN */
	__u8  pad;
};

/*
 * Keep the flow id -> key index (flowtrack_byid) for ffpf_ft_lookup_id():
 * a second hash insert per new flow (about 200 ns with 64Ki flows), so only
 * on request: flowtrack(index=1).
 */
#define FFPF_FT_F_INDEX		1u

/* Configuration and counters of one flowtrack instance (its MBuf). */
struct ffpf_ft_cfg {
	__u32 size;		/* flow table entries (fixed at instantiate) */
	__u32 flags;		/* FFPF_FT_F_* (fixed at instantiate) */
	__u64 idle_ns;		/* idle timeout (writable live) */
	__u64 active_ns;	/* active timeout, 0: none (writable live) */
};

/*
 * Per-CPU counters of a flowtrack instance: the first three are the
 * usual seen/passed/bytes; the class uses the spare words as below.
 */
#define ffpf_ft_created		spare[0]	/* flows inserted */
#define ffpf_ft_table_full	spare[1]	/* packets of new flows not inserted: table full */
#define ffpf_ft_rst_no_flow	spare[2]	/* RST without a flow: not created */
#define ffpf_ft_not_ip		spare[3]	/* packets without an IP/L4 5-tuple: passed, untracked */
#define ffpf_ft_unindexed	spare[4]	/* flows created without an id -> key entry */

struct ffpf_flowtrack_mbuf {
	struct ffpf_ft_cfg cfg;
	struct ffpf_mbuf_cpu cpu[FFPF_MBUF_CPUS];
};

/* The record a flow ends in. */
struct ffpf_ft_record {
	struct ffpf_ft_key key;
	struct ffpf_ft_flow flow;	/* final counters */
	__u64 first_real_ns;		/* first_ns / last_ns as CLOCK_REALTIME */
	__u64 last_real_ns;
	__u8  reason;			/* enum ffpf_ft_reason */
	__u8  pad[7];
};

#endif /* FFPF_FLOWTRACK_H */
