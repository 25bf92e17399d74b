/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * stage.h - what every filter class is built from. A class supplies
 *   static __always_inline int NAME_body(struct ffpf_pkt *p)
 * returning FFPF_V_ACCEPT or FFPF_V_REJECT, and FFPF_STAGE(NAME) emits
 * the program: it fetches the parsed packet, runs the body and, on accept,
 * tail-calls the next stage of the same flow.
 *
 * The stage helpers are the public ffpf/stage.h's (user stages use the
 * same). The successor slot is a load-time constant (rodata frozen before the
 * verifier runs), so the tail call is a direct jump (~2 ns) instead of a
 * retpoline through a run-time index (~20 ns). A failed tail call returns
 * FFPF_V_ERROR to the root, which counts it per flow: never silent.
 */
#ifndef FFPF_BPF_STAGE_H
#define FFPF_BPF_STAGE_H

#include "maps.h"
#include "hook.h"
#include <ffpf/mbuf.h>

/* ffpf_stage (.rodata), ffpf_next, ffpf_slot, ffpf_add, ffpf_passed. */
#include <ffpf/stage.h>

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
