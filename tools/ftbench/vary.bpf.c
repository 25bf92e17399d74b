// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * vary.bpf.c - make BPF_PROG_TEST_RUN's one packet many flows: rewrite
 * the IPv4 source address and UDP/TCP source port from a per-CPU counter:
 * packet k is flow i = k * M modulo N (address base + i / 65536, port
 * i % 65536), then
 * tail-call the measured program (slot FTB_SLOT_TARGET of ftb_target:
 * the ffpf root program of the interface, or a bare program).
 *
 * M = 1 visits the flows in order (how a table is warmed). An odd M visits
 * each of them once per N packets too, but scattered: the measured run
 * does not walk the table in the order it was filled, so the entries are
 * not read in the order they were allocated, as with real traffic.
 *
 * Every row of the benchmark runs behind this program, its baselines
 * too, so its own cost cancels in the differences. Bench only.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "ftbench.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ftb_target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ftb_seq SEC(".maps");

/* Set by user space between runs (.bss, mmapped). */
volatile __u32 ftb_mask;	/* N - 1, N a power of two */
volatile __u32 ftb_mult;	/* M, odd */
volatile __u32 ftb_base;	/* source address of flows 0..65535, host order */
__u64 ftb_missed;		/* tail calls that failed: never silent */
__u64 ftb_not_ip;		/* packets too short or not IPv4 */

SEC("xdp")
int ftb_vary(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__be16 *ports = (void *)(ip + 1);
	__u32 zero = 0, i;
	__u64 *seq;

	seq = bpf_map_lookup_elem(&ftb_seq, &zero);
	if (!seq || (void *)(ports + 2) > end || ip->ihl != 5) {
		__sync_fetch_and_add(&ftb_not_ip, 1);
		return XDP_ABORTED;
	}
	i = (__u32)(*seq)++ * ftb_mult & ftb_mask;
	ip->saddr = bpf_htonl(ftb_base + (i >> 16));
	ports[0] = bpf_htons(i & 0xffff);
	bpf_tail_call(ctx, &ftb_target, FTB_SLOT_TARGET);
	__sync_fetch_and_add(&ftb_missed, 1);
	return XDP_ABORTED;
}

char _license[] SEC("license") = "Dual BSD/GPL";
