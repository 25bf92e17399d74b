// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * root.bpf.c - the one program attached to an interface and hook: built
 * for XDP (ingress) and, with -DFFPF_HOOK_TC, for TC egress (see hook.h).
 *
 * 1. Parse the packet once into the per-CPU ffpf_pkt.
 * 2. Pick the candidate flows: active ones whose guard (a copy of their
 *    leading `match`) accepts the packet, so a flow that cannot match costs
 *    no tail call at all.
 * 3. Run each candidate's chain through its own dispatcher subprogram: a
 *    tail call from a subprogram returns to the caller when the chain ends,
 *    so the root sees every flow's verdict and the jump table needs no hop
 *    from one flow to the next. Each dispatcher's slot is a constant.
 * 4. Sink: account matched flows. If a flow that wants packets (ctl->rx)
 *    accepted it: tap mode redirects the packet to AF_XDP (ingress only),
 *    copy mode puts its first snaplen bytes into the ring buffer and lets
 *    it continue. Otherwise the packet continues, except on ingress while
 *    a monitor flow is active: then it is dropped (and counted).
 *
 * The kernel allows 33 tail calls per packet across all of this; user
 * space refuses any composition whose worst case would exceed that.
 */
#include "lib/parse.h"
#include "lib/match.h"
#include "lib/maps.h"
#include "lib/hook.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct ffpf_ctl);
} ffpf_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FFPF_MAX_FLOWS);
	__type(key, __u32);
	__type(value, struct ffpf_match_cfg);
} ffpf_guards SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FFPF_MAX_FLOWS);
	__type(key, __u32);
	__type(value, struct ffpf_flow_counters);
} ffpf_fstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ffpf_root_counters);
} ffpf_rstats SEC(".maps");

/* Tap mode: one AF_XDP socket per RX queue (the PBuf is their UMEM). */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} ffpf_xsks SEC(".maps");

/* Copy mode: one record (struct ffpf_copy_rec) per packet for user space. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FFPF_COPY_RING_DEFAULT);
} ffpf_copy SEC(".maps");

/* Written by user space only: the flow directory (see ffpf/abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FFPF_MAX_FLOWS);
	__type(key, __u32);
	__type(value, struct ffpf_flow_desc);
} ffpf_flows SEC(".maps");

struct ffpf_guard_ctx {
	const struct ffpf_pkt *p;
	__u64 cand;
	__u64 guarded;
};

/* bpf_loop callback: the match is verified once, not once per flow. */
static long ffpf_guard_one(__u32 i, void *data)
{
	struct ffpf_guard_ctx *gc = data;
	struct ffpf_match_cfg *g;
	__u64 bit;

	if (i >= FFPF_MAX_FLOWS || !gc->guarded)
		return 1;
	bit = 1ULL << i;
	if (!(gc->guarded & bit))
		return 0;
	gc->guarded &= ~bit;
	g = bpf_map_lookup_elem(&ffpf_guards, &i);
	if (!g || !ffpf_match_eval(g, gc->p))
		gc->cand &= ~bit;
	return 0;
}

/* Clear the bits of guarded flows whose guard rejects the packet. */
static __always_inline __u64 ffpf_guard(__u64 cand, __u64 guarded,
					const struct ffpf_pkt *p)
{
	struct ffpf_guard_ctx gc = { .p = p, .cand = cand, .guarded = guarded };

	bpf_loop(FFPF_MAX_FLOWS, ffpf_guard_one, &gc, 0);
	return gc.cand;
}

/*
 * What a dispatcher returns when its tail call fails. It must be opaque:
 * were it a literal, clang would propagate the constant into the caller
 * (and the verifier would track it) as if the chain's own verdict never
 * came back. A volatile global is read, so neither can assume its value.
 */
volatile int ffpf_missed_verdict = FFPF_V_ERROR;

/* One dispatcher per flow so each tail call has a constant index. */
#define FFPF_DISPATCHER(a, b)						\
	static __noinline int ffpf_run_##a##b(ffpf_ctx_t *ctx)		\
	{								\
		bpf_tail_call(ctx, &ffpf_progs, 8 * a + b);		\
		return ffpf_missed_verdict;				\
	}
#define FFPF_DISPATCHERS8(a)						\
	FFPF_DISPATCHER(a, 0) FFPF_DISPATCHER(a, 1) FFPF_DISPATCHER(a, 2) \
	FFPF_DISPATCHER(a, 3) FFPF_DISPATCHER(a, 4) FFPF_DISPATCHER(a, 5) \
	FFPF_DISPATCHER(a, 6) FFPF_DISPATCHER(a, 7)

FFPF_DISPATCHERS8(0) FFPF_DISPATCHERS8(1) FFPF_DISPATCHERS8(2)
FFPF_DISPATCHERS8(3) FFPF_DISPATCHERS8(4) FFPF_DISPATCHERS8(5)
FFPF_DISPATCHERS8(6) FFPF_DISPATCHERS8(7)

/*
 * The matched mask lives in the packet context, not on the stack: a stack
 * constant would make the verifier explore every subset of 64 verdicts.
 */
static __always_inline void ffpf_account(__u32 flow, int verdict, __u32 len,
					 struct ffpf_pkt *p, struct ffpf_root_counters *rc)
{
	struct ffpf_flow_counters *fc = bpf_map_lookup_elem(&ffpf_fstats, &flow);

	if (!fc)
		return;
	fc->dispatched++;
	if (verdict == FFPF_V_ACCEPT) {
		fc->packets++;
		fc->bytes += len;
		p->matched |= 1ULL << flow;
	} else if (verdict != FFPF_V_REJECT) {
		fc->missed++;
		rc->missed++;
	}
}

/* Flow index 8*a + b runs through dispatcher ffpf_run_ab. */
#define FFPF_RUN(a, b)							\
	if (cand & (1ULL << (8 * a + b)))				\
		ffpf_account(8 * a + b, ffpf_run_##a##b(ctx), len, p, rc);
#define FFPF_RUN8(a)							\
	FFPF_RUN(a, 0) FFPF_RUN(a, 1) FFPF_RUN(a, 2) FFPF_RUN(a, 3)	\
	FFPF_RUN(a, 4) FFPF_RUN(a, 5) FFPF_RUN(a, 6) FFPF_RUN(a, 7)

static __always_inline void ffpf_meta_fill(struct ffpf_meta *m, ffpf_ctx_t *ctx,
					   const struct ffpf_pkt *p)
{
	m->matched = p->matched;
	m->ts_ns = bpf_ktime_get_ns();
	m->wire_len = p->len;
	m->ifindex = ffpf_ifindex(ctx);
	m->dir = FFPF_DIR;
	__builtin_memset(m->pad, 0, sizeof(m->pad));
	m->flow_id = p->flow_id;
}

/* Keeps clang from merging the bound checks below across size classes. */
#define ffpf_opaque(x) asm volatile("" : "+r"(x))

/*
 * Copy mode, one size class: bpf_ringbuf_reserve() needs a size the
 * verifier knows, so each class is its own call site with a constant.
 */
#define FFPF_COPY_CLASS(CLS, SHIFT)					\
	if (cap <= (CLS)) {						\
		__u32 m = ctl->wake_mask >> (SHIFT);			\
		__u64 wake = (rc->copied & m) == m ?			\
			BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;		\
		struct ffpf_copy_rec *r;				\
		__u64 c = cap;						\
									\
		r = bpf_ringbuf_reserve(&ffpf_copy, sizeof(*r) + (CLS), 0); \
		if (!r)							\
			goto lost;					\
		ffpf_meta_fill(&r->meta, ctx, p);			\
		r->caplen = cap;					\
		r->pad = 0;						\
		ffpf_opaque(c);						\
		if (c < 1 || c > (CLS) ||				\
		    ffpf_load_bytes(ctx, 0, r->data, c)) {		\
			bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);	\
			goto lost;					\
		}							\
		bpf_ringbuf_submit(r, wake);				\
		rc->copied++;						\
		return;							\
	}

/*
 * Copy mode sink: the record goes out without a wakeup except every
 * (wake_mask + 1)th record per CPU, or sooner for large records (one
 * wakeup per 128 records of 2 KiB class: about every 256 KiB), since on a
 * paravirtualised CPU a wakeup (irq_work, an IPI) costs microseconds; the
 * consumer's poll timeout bounds the delay of the rest
 * (docs/copy-mode.md). A full ring is counted, never silent.
 */
static __always_inline void ffpf_copy_out(ffpf_ctx_t *ctx, const struct ffpf_pkt *p,
					  const struct ffpf_ctl *ctl,
					  struct ffpf_root_counters *rc)
{
	__u32 snap = ctl->snaplen, cap = p->len;

	if (cap > snap)
		cap = snap;
	if (cap < 1) {
		rc->copy_lost++;
		return;
	}
	FFPF_COPY_CLASS(64, 0)
	FFPF_COPY_CLASS(128, 0)
	FFPF_COPY_CLASS(256, 0)
	FFPF_COPY_CLASS(512, 1)
	FFPF_COPY_CLASS(1024, 2)
	FFPF_COPY_CLASS(2048, 3)
	FFPF_COPY_CLASS(4096, 4)
	FFPF_COPY_CLASS(8192, 5)
	FFPF_COPY_CLASS(16384, 6)
	FFPF_COPY_CLASS(32768, 7)
	FFPF_COPY_CLASS(FFPF_SNAPLEN_MAX, 8)
lost:
	rc->copy_lost++;
}

#ifndef FFPF_HOOK_TC
/*
 * Tap mode sink: the packet's metadata goes right before it (what AF_XDP
 * delivers into the UMEM frame) and the packet to the RX queue's socket.
 * No socket on the queue: bpf_redirect_map's fallback passes the packet on,
 * never a black hole, and the root counts it.
 */
static __always_inline int ffpf_tap(struct xdp_md *ctx, const struct ffpf_pkt *p,
				    struct ffpf_root_counters *rc)
{
	struct ffpf_meta *meta;
	void *data;
	int ret;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta))) {
		rc->tap_meta_fail++;
		return XDP_PASS;
	}
	meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if ((void *)(meta + 1) > data) {
		rc->tap_meta_fail++;
		return XDP_PASS;
	}
	ffpf_meta_fill(meta, ctx, p);
	ret = bpf_redirect_map(&ffpf_xsks, ctx->rx_queue_index, XDP_PASS);
	if (ret == XDP_REDIRECT)
		rc->tap_redirected++;
	else
		rc->tap_no_socket++;
	return ret;
}
#endif

/*
 * Where a packet no flow took off the stack goes. On a mirror port the
 * traffic is not for this host and the stack's skb costs more than all the
 * flows, so while a monitor flow is active the packet ends here, counted.
 * Egress never drops for this: those packets are the host's own.
 */
static __always_inline int ffpf_end(const struct ffpf_ctl *ctl,
				    struct ffpf_root_counters *rc)
{
#ifndef FFPF_HOOK_TC
	if (ctl->monitor & ctl->active) {
		rc->monitor_dropped++;
		return XDP_DROP;
	}
#else
	(void)ctl;
	(void)rc;
#endif
	return FFPF_PASS;
}

SEC(FFPF_SEC)
int ffpf_root(ffpf_ctx_t *ctx)
{
	struct ffpf_root_counters *rc;
	struct ffpf_ctl *ctl;
	struct ffpf_pkt *p;
	__u64 cand;
	__u32 zero = 0, len;

	p = ffpf_pkt_get();
	rc = bpf_map_lookup_elem(&ffpf_rstats, &zero);
	ctl = bpf_map_lookup_elem(&ffpf_ctl, &zero);
	if (!p || !rc || !ctl)
		return FFPF_PASS;

	ffpf_linearize(ctx);
	ffpf_parse(ffpf_data(ctx), ffpf_data_end(ctx), p);
	p->len = len = ffpf_wire_len(ctx);
	rc->rx_packets++;
	rc->rx_bytes += len;
	if (p->flags & FFPF_PF_TRUNC)
		rc->truncated++;
	if (p->flags & FFPF_PF_BAD)
		rc->malformed++;
	if (!(p->flags & FFPF_PF_L3))
		rc->non_ip++;
	if (p->flags & FFPF_PF_DEEP)
		rc->deep++;

	cand = ctl->active & ctl->present;
	if (cand & ctl->guarded)
		cand = ffpf_guard(cand, cand & ctl->guarded, p);
	if (!cand)
		return ffpf_end(ctl, rc);

	FFPF_RUN8(0) FFPF_RUN8(1) FFPF_RUN8(2) FFPF_RUN8(3)
	FFPF_RUN8(4) FFPF_RUN8(5) FFPF_RUN8(6) FFPF_RUN8(7)

	if (!p->matched)
		return ffpf_end(ctl, rc);
	rc->matched++;
	if (!(p->matched & ctl->rx))
		return ffpf_end(ctl, rc);
#ifndef FFPF_HOOK_TC
	if (ctl->tap) {
		int ret = ffpf_tap(ctx, p, rc);

		/* not redirected (no socket, no room for metadata): as any other */
		return ret == XDP_PASS ? ffpf_end(ctl, rc) : ret;
	}
#endif
	if (ctl->copy)
		ffpf_copy_out(ctx, p, ctl, rc);
	return ffpf_end(ctl, rc);
}

char _license[] SEC("license") = "Dual BSD/GPL";
