/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * hook.h - what differs between the XDP (ingress) and TC (egress) builds
 * of the same source. The Makefile compiles every object twice, the
 * second time with -DFFPF_HOOK_TC; nothing else in bpf/ needs to know.
 */
#ifndef FFPF_BPF_HOOK_H
#define FFPF_BPF_HOOK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <ffpf/abi.h>

#ifdef FFPF_HOOK_TC
#define FFPF_SEC	"tc"
#define FFPF_PASS	(-1)	/* TC_ACT_UNSPEC = TCX_NEXT: leave the packet to the rest */
#define FFPF_DIR	FFPF_DIR_EGRESS
#define ffpf_ctx_t struct __sk_buff	/* a macro: CO-RE cannot relocate through a typedef */

/*
 * A context field, read by one load at a constant offset. __sk_buff is
 * stable uapi and the verifier rewrites its loads, so it needs no CO-RE;
 * with vmlinux.h's preserve_access_index clang may keep a field offset in
 * a register and add it to ctx, which the verifier refuses
 * ("dereference of modified ctx ptr").
 */
#define FFPF_SKB(ctx, field) ({						\
	__u64 __v;							\
	asm volatile("%0 = *(u32 *)(%1 + %2)" : "=r"(__v)		\
		     : "r"(ctx), "i"(__builtin_offsetof(struct __sk_buff, field))); \
	__v;								\
})

static __always_inline void *ffpf_data(ffpf_ctx_t *ctx)
{
	return (void *)(long)FFPF_SKB(ctx, data);
}

static __always_inline void *ffpf_data_end(ffpf_ctx_t *ctx)
{
	return (void *)(long)FFPF_SKB(ctx, data_end);
}

/* Wire length: the skb may be longer than its linear part. */
static __always_inline __u32 ffpf_wire_len(ffpf_ctx_t *ctx)
{
	return FFPF_SKB(ctx, len);
}

static __always_inline __u32 ffpf_ifindex(ffpf_ctx_t *ctx)
{
	return FFPF_SKB(ctx, ifindex);
}

static __always_inline long ffpf_load_bytes(ffpf_ctx_t *ctx, __u32 off, void *to, __u32 len)
{
	return bpf_skb_load_bytes(ctx, off, to, len);
}

/*
 * Make the headers the parser reads (up to 512 bytes) linear, so direct
 * packet access sees them. A no-op for the usual egress skb, whose
 * headers the stack built in the linear head.
 */
static __always_inline void ffpf_linearize(ffpf_ctx_t *ctx)
{
	__u32 len = ffpf_wire_len(ctx), want = len < 512 ? len : 512;
	__u32 lin = (long)ffpf_data_end(ctx) - (long)ffpf_data(ctx);

	if (lin < want)
		bpf_skb_pull_data(ctx, want);
}
#else
#define FFPF_SEC	"xdp"
#define FFPF_PASS	XDP_PASS
#define FFPF_DIR	FFPF_DIR_INGRESS
#define ffpf_ctx_t struct xdp_md

static __always_inline void *ffpf_data(ffpf_ctx_t *ctx)
{
	return (void *)(long)ctx->data;
}

static __always_inline void *ffpf_data_end(ffpf_ctx_t *ctx)
{
	return (void *)(long)ctx->data_end;
}

static __always_inline __u32 ffpf_wire_len(ffpf_ctx_t *ctx)
{
	return ctx->data_end - ctx->data;
}

static __always_inline __u32 ffpf_ifindex(ffpf_ctx_t *ctx)
{
	return ctx->ingress_ifindex;
}

static __always_inline long ffpf_load_bytes(ffpf_ctx_t *ctx, __u32 off, void *to, __u32 len)
{
	return bpf_xdp_load_bytes(ctx, off, to, len);
}

static __always_inline void ffpf_linearize(ffpf_ctx_t *ctx)
{
}
#endif

#endif /* FFPF_BPF_HOOK_H */
