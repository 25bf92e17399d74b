// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * flowtrack: keep one bidirectional entry per flow in a hash table
 * (include/ffpf/flowtrack.h), tag the packet with its flow's id, and
 * always pass it: a statistics stage, it never drops.
 *
 * The kernel only creates and updates entries and marks how a flow ends
 * (FIN both ways, RST); it never deletes one. The user-space sweeper takes
 * entries out with lookup-and-delete, so the counters it exports are final.
 *
 * Two CPUs can hit one flow (each direction may arrive on its own RX
 * queue), so everything written after creation is an atomic add, an
 * atomic or, a compare-and-swap, or a plain store whose races only move a
 * timestamp by nanoseconds (last_ns). clang builds atomic or and
 * compare-and-swap for our BPF CPU version only on 64-bit words, hence
 * the word unions below.
 *
 * What has no 5-tuple is passed untracked and counted (ffpf_ft_not_ip):
 * non-IP, a malformed or cut header, and non-first fragments of
 * TCP/UDP/SCTP/ICMP, whose ports sit in the first fragment only: keying
 * them by addresses with ports 0 would make a second, bogus flow out of
 * one conversation. Protocols without ports (GRE, ESP, ...) are flows of
 * their address pair, ports 0, fragments included.
 */
#include "stage.h"
#include <bpf/bpf_endian.h>
#include <ffpf/flowtrack.h>

#define FT_ICMP		1
#define FT_TCP		6
#define FT_UDP		17
#define FT_ICMPV6	58
#define FT_SCTP		132

#define FT_FIN		0x01
#define FT_SYN		0x02
#define FT_RST		0x04
#define FT_ACK		0x10

#define FT_EEXIST	17	/* errno.h is not for BPF */

/* Flow ids come in blocks: one shared atomic add per FT_ID_BLOCK new flows. */
#define FT_ID_BLOCK	256
/*
 * The state word only changes monotonically (two fin bits, ACTIVE ->
 * CLOSING -> CLOSED), so a compare-and-swap can lose at most 4 times.
 */
#define FT_CAS_TRIES	5

FFPF_MBUF(flowtrack, struct ffpf_flowtrack_mbuf)

/* Sized before load from the MBuf configuration (cfg.size, loader.c). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FFPF_FT_SIZE_DEFAULT);
	__type(key, struct ffpf_ft_key);
	__type(value, struct ffpf_ft_flow);
} flowtrack_table SEC(".maps");

/*
 * Flow id -> key, so that user space can read a packet's flow from the id
 * the packet carries (ffpf_ft_lookup_id), with flowtrack(index=1) only.
 * Written once at creation, deleted by the sweeper right after the flow; a
 * quarter more entries than the table, for the flows created between those
 * two deletes (one entry without the index).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FFPF_FT_SIZE_DEFAULT + FFPF_FT_SIZE_DEFAULT / 4);
	__type(key, __u32);
	__type(value, struct ffpf_ft_key);
} flowtrack_byid SEC(".maps");

/*
 * This CPU's current block of flow ids: [next, end). The XDP and TC
 * halves of a shared table share this per-CPU word too; they cannot
 * interleave on one CPU, as both run with bottom halves disabled.
 */
struct ft_ids {
	__u32 next;
	__u32 end;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ft_ids);
} flowtrack_ids SEC(".maps");

/* Start of the next free block of ids, this instance's table only. */
__u64 flowtrack_id_base;

/* The 8-byte word holding id, initiator, state and fin: one CAS updates all. */
union ft_state_word {
	__u64 w;
	struct {
		__u32 id;
		__u8  initiator;
		__u8  state;
		__u8  fin;
		__u8  pad;
	};
};

/* The 8-byte word holding a side's tcp_flags. */
union ft_flags_word {
	__u64 w;
	struct {
		__u8 tcp_flags;
		__u8 pad[7];
	};
};

_Static_assert(__builtin_offsetof(struct ffpf_ft_flow, id) % 8 == 0 &&
	       __builtin_offsetof(struct ffpf_ft_flow, pad) ==
	       __builtin_offsetof(struct ffpf_ft_flow, id) + 7,
	       "id..pad must be one aligned 8-byte word");
_Static_assert(__builtin_offsetof(struct ffpf_ft_side, tcp_flags) % 8 == 0 &&
	       sizeof(struct ffpf_ft_side) % 8 == 0,
	       "tcp_flags must start an aligned 8-byte word");

_Static_assert(__builtin_offsetof(struct ffpf_pkt, saddr) % 4 == 0 &&
	       __builtin_offsetof(struct ffpf_pkt, daddr) % 4 == 0,
	       "ft_addr_cmp reads the addresses as 32-bit words");

/* memcmp(a, b, 16) as a sign, in four unrolled big-endian word compares. */
static __always_inline int ft_addr_cmp(const __u8 *a, const __u8 *b)
{
	const __u32 *wa = __builtin_assume_aligned(a, 4);
	const __u32 *wb = __builtin_assume_aligned(b, 4);
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) {
		__u32 x = bpf_ntohl(wa[i]), y = bpf_ntohl(wb[i]);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

/*
 * Build the normalised key of @p and the packet's side (0: its source is
 * side 0). Returns -1 if the packet has no 5-tuple to track.
 */
static __always_inline int ft_key(const struct ffpf_pkt *p,
				  struct ffpf_ft_key *k, __u32 *side)
{
	__u16 sport = p->sport, dport = p->dport;
	bool ports = true;	/* sides ordered by address, then port */
	int cmp;

	if (!(p->flags & FFPF_PF_L3))
		return -1;
	switch (p->l4_proto) {
	case FT_TCP:
	case FT_UDP:
	case FT_SCTP:
		if (!(p->flags & FFPF_PF_L4))
			return -1;
		break;
	case FT_ICMP:
	case FT_ICMPV6:
		if (!(p->flags & FFPF_PF_L4))
			return -1;
		ports = false;
		/* echo request and reply are one flow: the request, with its id */
		if (p->icmp_type == (p->l4_proto == FT_ICMP ? 8 : 128) ||
		    p->icmp_type == (p->l4_proto == FT_ICMP ? 0 : 129)) {
			if (p->flags & FFPF_PF_TRUNC)
				return -1;	/* cut before the echo id */
			sport = (__u16)(p->l4_proto == FT_ICMP ? 8 : 128) << 8;
		} else {
			dport = 0;
		}
		break;
	default:
		/* no ports: the address pair is the flow, if the parser got there */
		if (p->flags & (FFPF_PF_TRUNC | FFPF_PF_BAD | FFPF_PF_DEEP))
			return -1;
		ports = false;
		sport = dport = 0;
		break;
	}

	__builtin_memset(k, 0, sizeof(*k));
	cmp = ft_addr_cmp(p->saddr, p->daddr);
	if (!cmp && ports)
		cmp = sport < dport ? -1 : sport > dport;
	*side = cmp > 0;
	if (cmp > 0) {
		__builtin_memcpy(k->addr[0], p->daddr, 16);
		__builtin_memcpy(k->addr[1], p->saddr, 16);
	} else {
		__builtin_memcpy(k->addr[0], p->saddr, 16);
		__builtin_memcpy(k->addr[1], p->daddr, 16);
	}
	if (ports && cmp > 0) {
		k->port[0] = dport;
		k->port[1] = sport;
	} else {
		/* ICMP and portless keys do not swap: port[] is not per side */
		k->port[0] = sport;
		k->port[1] = dport;
	}
	k->proto = p->l4_proto;
	k->ip_ver = p->ip_ver;
	return 0;
}

/* A new non-zero flow id, unique until 2^32 flows of this table. */
static __always_inline __u32 ft_new_id(void)
{
	struct ft_ids *ids;
	__u32 zero = 0, id;

	ids = bpf_map_lookup_elem(&flowtrack_ids, &zero);
	if (!ids)
		return 0;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (ids->next == ids->end) {
			__u32 b = __sync_fetch_and_add(&flowtrack_id_base, FT_ID_BLOCK);

			ids->next = b;
			ids->end = b + FT_ID_BLOCK;
		}
		id = ids->next++;
		if (id)		/* 0 means "no flow": skip it once per wrap */
			return id;
	}
	return 0;
}

/* FIN and RST: set the side's fin bit and move the state forward. */
static __always_inline void ft_mark(struct ffpf_ft_flow *f, __u32 s, __u8 tcpf,
				    __u64 now)
{
	__u64 *wp = (__u64 *)&f->id;
	union ft_state_word old, new;

	for (int i = 0; i < FT_CAS_TRIES; i++) {
		old.w = *(volatile __u64 *)wp;
		new.w = old.w;
		if (tcpf & FT_FIN)
			new.fin |= 1 << s;
		if (tcpf & FT_RST) {
			new.state = FFPF_FT_CLOSED;
		} else if (new.fin == 3 && new.state == FFPF_FT_ACTIVE) {
			new.state = FFPF_FT_CLOSING;
		}
		if (new.w == old.w)
			return;
		/* before the state: whoever sees CLOSING/CLOSED sees end_ns */
		if (new.state != old.state)
			f->end_ns = now;
		if (__sync_val_compare_and_swap(wp, old.w, new.w) == old.w)
			return;
	}
	/* only if the entry was deleted and reused under us: nothing to mark */
}

static __always_inline void ft_update(struct ffpf_ft_flow *f, __u32 s, __u8 tcpf,
				      __u32 len, __u64 now)
{
	struct ffpf_ft_side *sd = &f->side[s & 1];

	__sync_fetch_and_add(&sd->packets, 1);
	__sync_fetch_and_add(&sd->bytes, len);
	if (tcpf & ~sd->tcp_flags) {
		union ft_flags_word add = { .w = 0 };

		add.tcp_flags = tcpf;
		__sync_fetch_and_or((__u64 *)&sd->tcp_flags, add.w);
	}
	f->last_ns = now;
	if (tcpf & (FT_FIN | FT_RST))
		ft_mark(f, s & 1, tcpf, now);
}

/*
 * Insert the flow of @k with this first packet already counted.
 * 0 and the id in *id, or the map's error (-EEXIST: another CPU won).
 */
static __always_inline int ft_create(const struct ffpf_ft_key *k,
				     const struct ffpf_pkt *p, __u32 s, __u8 tcpf,
				     __u64 now, __u32 *id)
{
	struct ffpf_ft_flow nf;
	__u32 len = p->len;
	__u8 init = s;
	long err;

	/* first packet is not the opener (TCP without its SYN, an echo reply) */
	if (k->proto == FT_TCP && (tcpf & (FT_SYN | FT_ACK)) != FT_SYN)
		init = FFPF_FT_INIT_UNKNOWN;
	if ((k->proto == FT_ICMP && p->icmp_type == 0) ||
	    (k->proto == FT_ICMPV6 && p->icmp_type == 129))
		init = FFPF_FT_INIT_UNKNOWN;
	__builtin_memset(&nf, 0, sizeof(nf));
	/* constant offsets only: both sides written, one of them zero */
	nf.side[0].packets = !s;
	nf.side[0].bytes = s ? 0 : len;
	nf.side[0].tcp_flags = s ? 0 : tcpf;
	nf.side[1].packets = s;
	nf.side[1].bytes = s ? len : 0;
	nf.side[1].tcp_flags = s ? tcpf : 0;
	nf.first_ns = nf.last_ns = now;
	nf.initiator = init;
	nf.state = FFPF_FT_ACTIVE;
	nf.fin = tcpf & FT_FIN ? 1 << s : 0;
	nf.id = ft_new_id();
	err = bpf_map_update_elem(&flowtrack_table, k, &nf, BPF_NOEXIST);
	if (err)
		return err;
	*id = nf.id;
	return 0;
}

static __always_inline int flowtrack_body(struct ffpf_pkt *p)
{
	struct ffpf_flowtrack_mbuf *m = flowtrack_mbuf_get();
	struct ffpf_mbuf_cpu *c;
	struct ffpf_ft_key key;
	struct ffpf_ft_flow *f;
	__u32 s, id = 0;
	__u64 now;
	__u8 tcpf;
	int err;

	if (!m)
		return FFPF_V_ERROR;
	c = ffpf_slot(m->cpu, p);
	ffpf_add(&c->seen, 1);
	ffpf_passed(c, p);
	p->flow_id = 0;

	if (ft_key(p, &key, &s)) {
		ffpf_add(&c->ffpf_ft_not_ip, 1);
		return FFPF_V_ACCEPT;
	}
	tcpf = key.proto == FT_TCP ? p->tcp_flags : 0;
	now = bpf_ktime_get_ns();

	f = bpf_map_lookup_elem(&flowtrack_table, &key);
	if (!f) {
		/* an RST ends a flow; it does not start one */
		if (tcpf & FT_RST) {
			ffpf_add(&c->ffpf_ft_rst_no_flow, 1);
			return FFPF_V_ACCEPT;
		}
		err = ft_create(&key, p, s, tcpf, now, &id);
		if (!err) {
			ffpf_add(&c->ffpf_ft_created, 1);
			if ((m->cfg.flags & FFPF_FT_F_INDEX) &&
			    (!id || bpf_map_update_elem(&flowtrack_byid, &id, &key, BPF_ANY)))
				ffpf_add(&c->ffpf_ft_unindexed, 1);
			p->flow_id = id;
			return FFPF_V_ACCEPT;
		}
		/* -EEXIST: another CPU inserted it first; count into theirs */
		if (err == -FT_EEXIST)
			f = bpf_map_lookup_elem(&flowtrack_table, &key);
		/* anything else (or the sweeper removed it meanwhile): not inserted */
		if (!f) {
			ffpf_add(&c->ffpf_ft_table_full, 1);
			return FFPF_V_ACCEPT;
		}
	}
	ft_update(f, s, tcpf, p->len, now);
	p->flow_id = f->id;
	return FFPF_V_ACCEPT;
}

FFPF_STAGE(flowtrack)
