/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * bare.h - what the bare programs of the benchmark (lru.bpf.c,
 * timer.bpf.c) share: the minimal 5-tuple parse and their per-CPU
 * counters, and the plain lookup-or-insert. BPF side only.
 *
 * The parse is the least a flow table needs: Ethernet, IPv4 without
 * options, TCP or UDP ports. The key is flowtrack's (struct ffpf_ft_key,
 * 40 bytes, v4-mapped addresses) so that hashing and comparing cost the
 * same, but it is not normalised: each direction is its own entry.
 */
#ifndef FFPF_FTBENCH_BARE_H
#define FFPF_FTBENCH_BARE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "ftbench.h"

#define FTB_ETH_P_IP	0x0800
#define FTB_TCP		6
#define FTB_UDP		17

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ftb_counters);
} ftb_cnt SEC(".maps");

static __always_inline struct ftb_counters *ftb_counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ftb_cnt, &zero);
}

/* Fill @k and the wire length; -1 if the packet is not IPv4 TCP/UDP. */
static __always_inline int ftb_key(struct xdp_md *ctx, struct ffpf_ft_key *k, __u32 *len)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__be16 *ports = (void *)(ip + 1);

	if ((void *)(ports + 2) > end || eth->h_proto != bpf_htons(FTB_ETH_P_IP) ||
	    ip->ihl != 5 || (ip->protocol != FTB_TCP && ip->protocol != FTB_UDP))
		return -1;
	__builtin_memset(k, 0, sizeof(*k));
	k->addr[0][10] = k->addr[0][11] = 0xff;
	k->addr[1][10] = k->addr[1][11] = 0xff;
	__builtin_memcpy(&k->addr[0][12], &ip->saddr, 4);
	__builtin_memcpy(&k->addr[1][12], &ip->daddr, 4);
	k->port[0] = bpf_ntohs(ports[0]);
	k->port[1] = bpf_ntohs(ports[1]);
	k->proto = ip->protocol;
	k->ip_ver = 4;
	*len = end - data;
	return 0;
}

/* A new flow's value, its first packet counted (as flowtrack does it). */
static __always_inline void ftb_flow_init(struct ffpf_ft_flow *f, __u32 len, __u64 now)
{
	__builtin_memset(f, 0, sizeof(*f));
	f->side[0].packets = 1;
	f->side[0].bytes = len;
	f->first_ns = f->last_ns = now;
}

/* A packet of a known flow: atomic adds and a plain store, as flowtrack. */
static __always_inline void ftb_flow_update(struct ffpf_ft_flow *f, __u32 len, __u64 now)
{
	__sync_fetch_and_add(&f->side[0].packets, 1);
	__sync_fetch_and_add(&f->side[0].bytes, len);
	f->last_ns = now;
}

/*
 * Plain lookup-or-insert of the packet's flow in @table, a hash or LRU
 * hash of struct ffpf_ft_flow: a hit adds packets and bytes with atomics
 * and stores last_ns, a miss inserts the flow with its first packet
 * counted (BPF_NOEXIST).
 */
static __always_inline int ftb_track(struct xdp_md *ctx, void *table)
{
	struct ftb_counters *c = ftb_counters();
	struct ffpf_ft_flow *f, nf;
	struct ffpf_ft_key k;
	__u64 now;
	__u32 len;

	if (!c || ftb_key(ctx, &k, &len))
		return XDP_PASS;
	c->packets++;
	now = bpf_ktime_get_ns();
	f = bpf_map_lookup_elem(table, &k);
	if (f) {
		ftb_flow_update(f, len, now);
		c->hits++;
		return XDP_PASS;
	}
	ftb_flow_init(&nf, len, now);
	if (bpf_map_update_elem(table, &k, &nf, BPF_NOEXIST))
		c->failed++;
	else
		c->created++;
	return XDP_PASS;
}

#endif /* FFPF_FTBENCH_BARE_H */
