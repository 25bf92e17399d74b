/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ffpf/mbuf.h - the MBuf layout of each built-in filter class.
 *
 * A filter instance's MBuf is a one-entry BPF_F_MMAPABLE array that holds
 * its configuration and its persistent state. The application maps it
 * (ffpf_flow_filter_mbuf()) and reads counters directly; the datapath
 * updates counters with atomic adds. Every MBuf starts with the same
 * header so generic tools can show seen/passed for any filter.
 */
#ifndef FFPF_MBUF_H
#define FFPF_MBUF_H

#include "abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Counters: one slot per CPU, each alone on its cache line, so the
 * datapath adds without atomic instructions (three `lock xadd`s on one
 * shared line cost ~19 ns per stage here; plain adds ~5 ns in all).
 * CPU c uses slot c % FFPF_MBUF_CPUS; on machines with more CPUs than
 * slots the loader switches the stages to atomic adds. Sum the slots
 * with ffpf_mbuf_sum(), or let ffpf_flow_filter_stats() do it.
 */
#define FFPF_MBUF_CPUS		64

struct ffpf_mbuf_cpu {
	__u64 seen;		/* packets that reached this stage */
	__u64 passed;		/* packets this stage passed on */
	__u64 bytes;		/* wire bytes of the packets passed */
	__u64 spare[5];
} __attribute__((aligned(64)));

/* A filter's counters summed over CPUs. */
struct ffpf_mbuf_hdr {
	__u64 seen;
	__u64 passed;
	__u64 bytes;
};

static inline void ffpf_mbuf_sum(const struct ffpf_mbuf_cpu *cpu,
				 struct ffpf_mbuf_hdr *out)
{
	out->seen = out->passed = out->bytes = 0;
	for (int i = 0; i < FFPF_MBUF_CPUS; i++) {
		out->seen += __atomic_load_n(&cpu[i].seen, __ATOMIC_RELAXED);
		out->passed += __atomic_load_n(&cpu[i].passed, __ATOMIC_RELAXED);
		out->bytes += __atomic_load_n(&cpu[i].bytes, __ATOMIC_RELAXED);
	}
}

/* ffpf_match_cfg.fields: which constraints apply (all of them must hold). */
enum ffpf_match_field {
	FFPF_M_IPVER	= 1 << 0,	/* ip_ver */
	FFPF_M_PROTO	= 1 << 1,	/* l4_proto */
	FFPF_M_SRC	= 1 << 2,	/* src / src_plen */
	FFPF_M_DST	= 1 << 3,	/* dst / dst_plen */
	FFPF_M_ANYADDR	= 1 << 4,	/* any / any_plen: source or destination */
	FFPF_M_SPORT	= 1 << 5,	/* sport_lo..sport_hi */
	FFPF_M_DPORT	= 1 << 6,	/* dport_lo..dport_hi */
	FFPF_M_ANYPORT	= 1 << 7,	/* port_lo..port_hi: source or destination */
	FFPF_M_TCPFLAGS	= 1 << 8,	/* (tcp_flags & tcp_mask) == tcp_value */
	FFPF_M_VLAN	= 1 << 9,	/* any VLAN tag equals vlan_id */
	FFPF_M_ANYVLAN	= 1 << 10,	/* packet carries at least one VLAN tag */
	FFPF_M_ICMPTYPE	= 1 << 11,	/* icmp_type (ICMP or ICMPv6) */
};

/*
 * Configuration of one `match`. Addresses are 16 bytes, IPv4 v4-mapped,
 * stored already masked to their prefix length (0..128).
 */
struct ffpf_match_cfg {
	__u32 fields;		/* enum ffpf_match_field */
	__u8  ip_ver;
	__u8  l4_proto;
	__u8  tcp_mask;
	__u8  tcp_value;
	__u16 sport_lo, sport_hi;
	__u16 dport_lo, dport_hi;
	__u16 port_lo, port_hi;
	__u16 vlan_id;
	__u8  icmp_type;
	__u8  src_plen;
	__u8  dst_plen;
	__u8  any_plen;
	__u8  pad[2];
	__u8  src[16];
	__u8  dst[16];
	__u8  any[16];
};

/* Each class's MBuf: configuration first, then the per-CPU counters. */
struct ffpf_match_mbuf {
	struct ffpf_match_cfg cfg;	/* fixed at instantiate (mirrored in the root's guard) */
	struct ffpf_mbuf_cpu cpu[FFPF_MBUF_CPUS];
};

struct ffpf_count_mbuf {
	struct ffpf_mbuf_cpu cpu[FFPF_MBUF_CPUS];	/* passed = packets counted */
};

struct ffpf_sample_mbuf {
	__u32 every;		/* pass 1 packet in `every` (>= 1); writable live */
	__u32 pad;
	__u64 ticket;		/* shared packet number: keeps 1-in-N exact across CPUs */
	struct ffpf_mbuf_cpu cpu[FFPF_MBUF_CPUS];
};

/* --- prefixset (issue 5) ------------------------------------------------ */
/*
 * The set is an LPM trie ("prefixset_set", BPF_F_NO_PREALLOC) keyed by
 * struct ffpf_prefixset_key: IPv4 stored v4-mapped with prefixlen 96 + LEN,
 * so one trie serves both families. User space changes it live
 * (ffpf/prefixset.h); the MBuf only holds the configuration and counters.
 */
#define FFPF_PS_SIZE_DEFAULT	65536	/* trie entries */
#define FFPF_PS_SIZE_MAX	16777216

struct ffpf_prefixset_key {
	__u32 prefixlen;	/* 0..128 (IPv4: 96..128) */
	__u8  addr[16];		/* network order, masked to prefixlen */
};

enum ffpf_ps_dir {
	FFPF_PS_SRC	= 1,	/* the source address is looked up */
	FFPF_PS_DST	= 2,	/* the destination address */
	FFPF_PS_EITHER	= 3,	/* either one: a hit if one of them is in the set */
};

enum ffpf_ps_mode {
	FFPF_PS_ALLOW	= 0,	/* pass packets with an address in the set */
	FFPF_PS_DENY	= 1,	/* pass packets with no address in the set */
};

/* Spare counters of struct ffpf_mbuf_cpu, by index into spare[]. */
#define FFPF_PS_HITS	0	/* packets with an address in the set */
#define FFPF_PS_NON_IP	1	/* packets without a valid IP header (no lookup) */

struct ffpf_prefixset_cfg {
	__u8  dir;		/* enum ffpf_ps_dir; read per packet */
	__u8  mode;		/* enum ffpf_ps_mode; read per packet */
	__u8  pad[2];
	__u32 size;		/* trie max entries, fixed at instantiate */
};

struct ffpf_prefixset_mbuf {
	struct ffpf_prefixset_cfg cfg;
	struct ffpf_mbuf_cpu cpu[FFPF_MBUF_CPUS];
};

/*
 * payload (issue 5): accept a packet whose transport payload contains any
 * of up to FFPF_PL_MAX_PATTERNS byte patterns within `depth` bytes after
 * `offset`. The patterns are the configuration; the loader compiles them
 * into an Aho-Corasick automaton (user/lib/payload.c) that the stage runs
 * one byte at a time: the cost per byte does not grow with the patterns.
 */
#define FFPF_PL_MAX_PATTERNS	32
#define FFPF_PL_MAX_PATLEN	32
#define FFPF_PL_DEPTH_DEFAULT	256
#define FFPF_PL_DEPTH_MAX	1500	/* a full Ethernet MTU of payload */
/* Automaton: FFPF_PL_STATES rows of 256 __u16 (next state, or ACCEPT). */
#define FFPF_PL_STATES		1024	/* >= 32 * 32 bytes - 32 ends + root */
#define FFPF_PL_ACCEPT		0x8000

/*
 * What the loader compiles from the patterns into the stage object's
 * .bss (user/lib/payload.c). first2: bit (b0 | b1 << 8) is set when some
 * pattern starts with bytes b0 b1, or is the single byte b0; in the start
 * state the stage skips a byte whose pair is not set without touching the
 * automaton.
 */
struct ffpf_payload_tables {
	__u8  first2[65536 / 8];
	__u16 dfa[FFPF_PL_STATES][256];
};

struct ffpf_payload_cfg {
	__u16 depth;		/* bytes of payload searched, 1..FFPF_PL_DEPTH_MAX */
	__u16 offset;		/* payload bytes skipped first, 0..FFPF_PL_DEPTH_MAX */
	__u8  npat;
	__u8  pad[3];
	__u8  len[FFPF_PL_MAX_PATTERNS];
	__u8  pat[FFPF_PL_MAX_PATTERNS][FFPF_PL_MAX_PATLEN];
};

/* payload's use of ffpf_mbuf_cpu.spare[] */
enum ffpf_payload_counter {
	FFPF_PL_SCANNED	= 0,	/* payload bytes searched */
	FFPF_PL_EMPTY	= 1,	/* no payload byte in the window: rejected */
	FFPF_PL_NOL4	= 2,	/* no transport payload found (later fragment,
				 * truncated, malformed, other protocol): rejected */
};

struct ffpf_payload_mbuf {
	struct ffpf_payload_cfg cfg;	/* fixed at instantiate */
	struct ffpf_mbuf_cpu cpu[FFPF_MBUF_CPUS];
};

/*
 * bpf (issue 5): accept what a pcap-filter expression accepts. The
 * configuration is the expression's text; the loader compiles it with
 * libpcap to classic BPF and translates that to the stage program
 * (user/lib/cbpf*.c, docs/cbpf.md). Counters: seen, passed, bytes.
 */
#define FFPF_BPF_EXPR_MAX	1024	/* bytes of expression text, NUL included */

struct ffpf_bpf_cfg {
	char expr[FFPF_BPF_EXPR_MAX];	/* NUL-terminated, unquoted */
};

struct ffpf_bpf_mbuf {
	struct ffpf_bpf_cfg cfg;	/* fixed at instantiate */
	struct ffpf_mbuf_cpu cpu[FFPF_MBUF_CPUS];
};

#ifdef __cplusplus
}
#endif

#endif /* FFPF_MBUF_H */
