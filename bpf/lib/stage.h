/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * stage.h - what every filter class is built from. A class supplies
 *   static __always_inline int NAME_body(struct ffpf_pkt *p)
 * returning FFPF_V_ACCEPT or FFPF_V_REJECT, and FFPF_STAGE(NAME) emits
 * the program: it fetches the parsed packet, runs the body and, on accept,
 * tail-calls the next stage of the same flow.
 *
 * The successor slot is a load-time constant (rodata frozen before the
 * verifier runs), so the tail call is a direct jump (~2 ns) instead of a
 * retpoline through a run-time index (~20 ns). A failed tail call returns
 * FFPF_V_ERROR to the root, which counts it per flow: never silent.
 */
#ifndef FFPF_BPF_STAGE_H
#define FFPF_BPF_STAGE_H

#include "maps.h"
#include "hook.h"
#include <ffpf/mbuf.h>

/* The only thing in .rodata: user space sets it whole before load. */
const volatile struct ffpf_stage_rodata ffpf_stage = {};

static __always_inline int ffpf_next(void *ctx, int verdict)
{
	if (verdict != FFPF_V_ACCEPT || ffpf_stage.next_slot == FFPF_SLOT_NONE)
		return verdict;
	bpf_tail_call(ctx, &ffpf_progs, ffpf_stage.next_slot);
	return FFPF_V_ERROR;
}

/* This CPU's counter slot in an MBuf's cpu[] array. */
static __always_inline struct ffpf_mbuf_cpu *
ffpf_slot(struct ffpf_mbuf_cpu *cpu, const struct ffpf_pkt *p)
{
	return &cpu[p->cpu & (FFPF_MBUF_CPUS - 1)];
}

/* Plain add into a per-CPU slot, atomic only where slots are shared. */
static __always_inline void ffpf_add(__u64 *counter, __u64 v)
{
	if (ffpf_stage.atomic)
		__sync_fetch_and_add(counter, v);
	else
		*counter += v;
}

/* The stage passes the packet: count it and its wire bytes. */
static __always_inline void ffpf_passed(struct ffpf_mbuf_cpu *c, const struct ffpf_pkt *p)
{
	ffpf_add(&c->passed, 1);
	ffpf_add(&c->bytes, p->len);
}

/* The class's MBuf: one mmapable entry of TYPE. */
#define FFPF_MBUF(NAME, TYPE)						\
	struct {							\
		__uint(type, BPF_MAP_TYPE_ARRAY);			\
		__uint(max_entries, 1);					\
		__uint(map_flags, BPF_F_MMAPABLE);			\
		__type(key, __u32);					\
		__type(value, TYPE);					\
	} NAME##_mbuf SEC(".maps");					\
	static __always_inline TYPE *NAME##_mbuf_get(void)		\
	{								\
		__u32 zero = 0;						\
		return bpf_map_lookup_elem(&NAME##_mbuf, &zero);	\
	}

#define FFPF_STAGE(NAME)						\
	SEC(FFPF_SEC)							\
	int ffpf_##NAME(ffpf_ctx_t *ctx)				\
	{								\
		struct ffpf_pkt *p = ffpf_pkt_get();			\
									\
		if (!p)							\
			return FFPF_V_ERROR;				\
		return ffpf_next(ctx, NAME##_body(p));			\
	}								\
	char _license[] SEC("license") = "Dual BSD/GPL";

/* As FFPF_STAGE, for a body that also reads the packet: NAME_body(ctx, p). */
#define FFPF_STAGE_CTX(NAME)						\
	SEC(FFPF_SEC)							\
	int ffpf_##NAME(ffpf_ctx_t *ctx)				\
	{								\
		struct ffpf_pkt *p = ffpf_pkt_get();			\
									\
		if (!p)							\
			return FFPF_V_ERROR;				\
		return ffpf_next(ctx, NAME##_body(ctx, p));		\
	}								\
	char _license[] SEC("license") = "Dual BSD/GPL";

#endif /* FFPF_BPF_STAGE_H */
