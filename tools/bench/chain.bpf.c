// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * chain.bpf.c - the same work as an ffpf-bpf chain of count stages,
 * without the framework (ffpf-nsbench's "bare" rows): an entry program
 * parses Ethernet/IPv4/UDP into a per-CPU context and tail-calls slot 0;
 * stage i counts packets and bytes in its own slot of a per-CPU array and
 * tail-calls slot i + 1, a load-time constant (the index the verifier sees
 * as a constant: the cheap tail call). User space puts stages 0..N-1 into
 * slots 0..N-1; the empty slot N ends the chain with XDP_PASS.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define CHAIN_MAX 16
#define ETH_P_IP 0x0800

struct chain_ctx {
	__u32 saddr, daddr;
	__u16 sport, dport;
	__u8 proto;
	__u8 pad[3];
	__u32 len;
};

struct chain_count {
	__u64 packets, bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, CHAIN_MAX + 1);
	__type(key, __u32);
	__type(value, __u32);
} chain_progs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct chain_ctx);
} chain_pctx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CHAIN_MAX);
	__type(key, __u32);
	__type(value, struct chain_count);
} chain_counts SEC(".maps");

SEC("xdp")
int chain_entry(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp;
	struct chain_ctx *c;
	__u32 k = 0;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > end)
		return XDP_PASS;
	c = bpf_map_lookup_elem(&chain_pctx, &k);
	if (!c)
		return XDP_PASS;
	c->saddr = ip->saddr;
	c->daddr = ip->daddr;
	c->proto = ip->protocol;
	c->sport = udp->source;
	c->dport = udp->dest;
	c->len = end - data;
	bpf_tail_call(ctx, &chain_progs, 0);
	return XDP_PASS;
}

/* Count, then the next slot. @next must be a literal: a key the compiler
 * reloads from a stack slot (as it does after &i was taken) is no constant
 * to the verifier, and the tail call becomes an indirect one. */
static __always_inline int stage(struct xdp_md *ctx, __u32 i)
{
	struct chain_count *n;
	struct chain_ctx *c;
	__u32 k = 0, slot = i;

	c = bpf_map_lookup_elem(&chain_pctx, &k);
	n = bpf_map_lookup_elem(&chain_counts, &slot);
	if (!c || !n)
		return XDP_PASS;
	n->packets++;
	n->bytes += c->len;
	return XDP_PASS + 1;	/* go on */
}

#define STAGE(i)							\
	SEC("xdp") int chain_stage##i(struct xdp_md *ctx)		\
	{								\
		if (stage(ctx, i) == XDP_PASS)				\
			return XDP_PASS;				\
		bpf_tail_call(ctx, &chain_progs, (i) + 1);		\
		return XDP_PASS;					\
	}
STAGE(0) STAGE(1) STAGE(2) STAGE(3) STAGE(4) STAGE(5) STAGE(6) STAGE(7)
STAGE(8) STAGE(9) STAGE(10) STAGE(11) STAGE(12) STAGE(13) STAGE(14) STAGE(15)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
