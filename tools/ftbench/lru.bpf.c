// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * lru.bpf.c - the bare flow table flowtrack is measured against, and its
 * baseline. Bench only.
 *
 *   ftb_parse:     the minimal 5-tuple parse (bare.h) and a per-CPU count.
 *   ftb_lru_track: the same, then ftb_track() (bare.h): lookup-or-insert in
 *                  a BPF_MAP_TYPE_LRU_HASH (one common LRU, shared by the
 *                  CPUs like flowtrack's table; it evicts when full). Same
 *                  key and value as flowtrack, updated the same way (atomic
 *                  adds, a store of last_ns); no normalisation, no flow id,
 *                  no TCP state.
 *
 * What ftb_lru_track costs more than ftb_parse is the table.
 */
#include "bare.h"

/* Sized by user space before load. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FFPF_FT_SIZE_DEFAULT);
	__type(key, struct ffpf_ft_key);
	__type(value, struct ffpf_ft_flow);
} ftb_lru SEC(".maps");

SEC("xdp")
int ftb_parse(struct xdp_md *ctx)
{
	struct ftb_counters *c = ftb_counters();
	struct ffpf_ft_key k;
	__u32 len;

	if (!c || ftb_key(ctx, &k, &len))
		return XDP_PASS;
	/* the key is built for real: as if a table were going to read it */
	asm volatile("" : : "r"(&k) : "memory");
	c->packets++;
	return XDP_PASS;
}

SEC("xdp")
int ftb_lru_track(struct xdp_md *ctx)
{
	return ftb_track(ctx, &ftb_lru);
}

char _license[] SEC("license") = "Dual BSD/GPL";
