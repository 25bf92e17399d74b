// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * copybench.bpf.c - copy-mode transport candidates (issue 3), one XDP
 * program per transport. Every program builds the same record
 * (struct ffpf_meta + the first min(len, snaplen) packet bytes) and returns
 * XDP_PASS. Experiment only: not part of the datapath.
 *
 * For the benchmark, ffpf_meta.matched carries (cpu << 56 | per-CPU
 * sequence number) so the consumer can count gaps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <ffpf/abi.h>

#define RB_SIZE		(4 << 20)	/* bytes per ring (and per CPU for perf) */
#define MAX_SNAP	1536

/* Set by user space between measurements (.bss, mmapped). */
volatile __u32 snaplen;
volatile __u32 wake_mode;	/* 0 adaptive, 1 BPF_RB_NO_WAKEUP, 2 force every wake_every */
volatile __u32 wake_every;

struct rec {
	struct ffpf_meta meta;
	__u8 data[];
};

struct scratch {
	struct ffpf_meta meta;
	__u8 data[MAX_SNAP];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cb_seq SEC(".maps");

/* Records that could not be handed over (reserve/output failed). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cb_lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} cb_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RB_SIZE);
} cb_rb SEC(".maps");

struct rb_inner {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RB_SIZE);
};

/* One ring per CPU; user space sets max_entries and fills the slots. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct rb_inner);
} cb_rb_cpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} cb_perf SEC(".maps");

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *l = bpf_map_lookup_elem(&cb_lost, &zero);

	if (l)
		(*l)++;
}

/* Taken for every packet, before any hand-over can fail: a lost record is a gap. */
static __always_inline __u64 next_seq(void)
{
	__u32 zero = 0;
	__u64 cpu = bpf_get_smp_processor_id();
	__u64 *seq = bpf_map_lookup_elem(&cb_seq, &zero);

	return seq ? (cpu << 56) | (*seq)++ : 0;
}

/* Keeps the compiler from checking one copy of a value and using another. */
#define same_reg(x) asm volatile("" : "+r"(x))

/* Fills the meta; returns the capture length. */
static __always_inline __u64 fill_meta(struct xdp_md *ctx, struct ffpf_meta *m, __u64 seq)
{
	__u32 len = ctx->data_end - ctx->data;
	__u32 snap = snaplen;

	m->matched = seq;
	m->ts_ns = bpf_ktime_get_ns();
	m->wire_len = len;
	m->ifindex = ctx->ingress_ifindex;
	m->dir = FFPF_DIR_INGRESS;
	return len < snap ? len : snap;
}

static __always_inline __u64 wake_flags(__u64 seq)
{
	__u32 mode = wake_mode;

	if (mode == 1)
		return BPF_RB_NO_WAKEUP;
	if (mode == 2) {
		__u32 every = wake_every;

		if (every && (seq & 0xffffffffffffffULL) % every == every - 1)
			return BPF_RB_FORCE_WAKEUP;
		return BPF_RB_NO_WAKEUP;
	}
	return 0;
}

/*
 * bpf_ringbuf_reserve() needs a size known to the verifier: reserve the
 * smallest size class that holds the capture. The meta is filled in place.
 */
#define RB_CLASS(MAP, CLS)							\
	if (cap <= (CLS)) {							\
		struct rec *r = bpf_ringbuf_reserve(MAP,			\
				sizeof(struct ffpf_meta) + (CLS), 0);		\
		__u64 c;							\
		if (!r)								\
			goto fail;						\
		c = fill_meta(ctx, &r->meta, seq);				\
		same_reg(c);							\
		if (c < 1 || c > (CLS) ||					\
		    bpf_xdp_load_bytes(ctx, 0, r->data, c)) {			\
			bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);		\
			goto fail;						\
		}								\
		bpf_ringbuf_submit(r, wake_flags(seq));		\
		return XDP_PASS;						\
	}

static __always_inline int rb_one(struct xdp_md *ctx, void *map)
{
	__u32 len = ctx->data_end - ctx->data, snap = snaplen;
	__u32 cap = len < snap ? len : snap;
	__u64 seq = next_seq();

	if (cap < 1)
		return XDP_PASS;
	RB_CLASS(map, 64)
	RB_CLASS(map, 128)
	RB_CLASS(map, 256)
	RB_CLASS(map, 512)
	RB_CLASS(map, 1024)
	RB_CLASS(map, MAX_SNAP)
fail:
	count_lost();
	return XDP_PASS;
}

/* 5. baseline: the same record, copied into a per-CPU scratch buffer. */
SEC("xdp")
int cb_base(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 cap;
	struct scratch *s = bpf_map_lookup_elem(&cb_scratch, &zero);

	if (!s)
		return XDP_PASS;
	cap = fill_meta(ctx, &s->meta, next_seq());
	same_reg(cap);
	if (cap < 1 || cap > MAX_SNAP)
		return XDP_PASS;
	if (bpf_xdp_load_bytes(ctx, 0, s->data, cap))
		count_lost();
	return XDP_PASS;
}

/* 1/2. one shared ring, one record per packet. */
SEC("xdp")
int cb_rb_out(struct xdp_md *ctx)
{
	return rb_one(ctx, &cb_rb);
}

/* 3. one ring per CPU, chosen through an ARRAY_OF_MAPS by CPU id. */
SEC("xdp")
int cb_rb_cpu_out(struct xdp_md *ctx)
{
	__u32 cpu = bpf_get_smp_processor_id();
	void *ring = bpf_map_lookup_elem(&cb_rb_cpu, &cpu);

	if (!ring) {
		next_seq();
		count_lost();
		return XDP_PASS;
	}
	return rb_one(ctx, ring);
}

/* 4. perf event output: meta from the stack, packet bytes appended by the helper. */
SEC("xdp")
int cb_perf_out(struct xdp_md *ctx)
{
	struct ffpf_meta m = {};
	__u64 cap = fill_meta(ctx, &m, next_seq());

	if (cap < 1)
		return XDP_PASS;
	if (bpf_perf_event_output(ctx, &cb_perf, BPF_F_CURRENT_CPU | ((__u64)cap << 32),
				  &m, sizeof(m)))
		count_lost();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
