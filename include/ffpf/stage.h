/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ffpf/stage.h - write a filter class of your own (a "user stage", FFPF's
 * external functions) and use it in a spec as obj("file.bpf.o", "name").
 *
 * This is the BPF side's contract with the ffpf-bpf loader; the built-in
 * classes (bpf/lib/stage.h) are built from the same header. A stage is a
 * function of the packet context the root program parsed once
 * (struct ffpf_pkt, ffpf/abi.h) that returns FFPF_V_ACCEPT or
 * FFPF_V_REJECT; ffpf_next() then tail-calls the stage its flow's graph
 * puts next (on accept, or on reject inside an alternation).
 *
 *	#include <ffpf/stage.h>
 *
 *	struct my_cfg { __u32 ttl_max; };
 *	FFPF_USER_MBUF(my, struct my_cfg)	// optional: counters + config
 *
 *	static __always_inline int my_body(struct ffpf_pkt *p, struct my_cfg *cfg)
 *	{ ... }
 *	FFPF_USER_STAGE(my)			// the program "my"
 *	char LICENSE[] SEC("license") = "Dual BSD/GPL";
 *
 * Compile (installed headers; in the source tree use -Iinclude):
 *	clang -g -O2 -target bpf -I/usr/local/include -c my.bpf.c -o my.bpf.o
 * and run it:  ffpf-bpf run -i eth0 --flow 'f=match(udp) -> obj("my.bpf.o", "my")'
 *
 * What the loader relies on (docs/api.md, "Writing a filter class"):
 *  - ffpf_progs and ffpf_pctx are declared here and only here: the loader
 *    replaces them by the interface's maps. Do not declare maps of these
 *    names yourself.
 *  - .rodata holds only ffpf_stage below (the successors' slots, set
 *    before the verifier runs): keep your own constants in the MBuf or in
 *    .data, not in `const volatile` globals.
 *  - One object serves both hooks: a stage sees the parsed struct ffpf_pkt,
 *    not the packet, and the loader loads the program as XDP (ingress) or
 *    SCHED_CLS (egress) whatever its section says.
 *  - The object needs a GPL-compatible license section.
 *
 * Include either vmlinux.h or <linux/bpf.h> first (this header includes
 * <linux/bpf.h> itself when vmlinux.h was not), then this header.
 */
#ifndef FFPF_STAGE_MAPS_H
#define FFPF_STAGE_MAPS_H

#ifndef __VMLINUX_H__
#include <linux/bpf.h>
#endif
#include <bpf/bpf_helpers.h>
#include <ffpf/abi.h>
#include <ffpf/mbuf.h>

/* The interface's stage programs, by slot (layout: ffpf/abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, FFPF_PROG_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} ffpf_progs SEC(".maps");

/* The packet context the root parsed: one per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ffpf_pkt);
} ffpf_pctx SEC(".maps");

/* This CPU's packet context (NULL never happens; the verifier wants the check). */
static __always_inline struct ffpf_pkt *ffpf_pkt_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ffpf_pctx, &zero);
}

#endif /* FFPF_STAGE_MAPS_H */

/* The root program only wants the maps (bpf/lib/maps.h). */
#if !defined(FFPF_STAGE_MAPS_ONLY) && !defined(FFPF_STAGE_H)
#define FFPF_STAGE_H

/* The only thing in .rodata: the loader sets it whole before load. */
const volatile struct ffpf_stage_rodata ffpf_stage = {};

/*
 * End a stage: on FFPF_V_ACCEPT run the next stage of the flow, on
 * FFPF_V_REJECT the next alternative if the stage has one (a tail call;
 * does not return), else return @verdict to the root. A failed tail call
 * returns FFPF_V_ERROR, which the root counts as missed. Both slots are
 * load-time constants: the verifier drops the branches a stage never takes.
 */
static __always_inline int ffpf_next(void *ctx, int verdict)
{
	if (verdict == FFPF_V_ACCEPT && ffpf_stage.next_slot != FFPF_SLOT_NONE) {
		bpf_tail_call(ctx, &ffpf_progs, ffpf_stage.next_slot);
		return FFPF_V_ERROR;
	}
	if (verdict == FFPF_V_REJECT && ffpf_stage.fail_slot != FFPF_SLOT_NONE) {
		bpf_tail_call(ctx, &ffpf_progs, ffpf_stage.fail_slot);
		return FFPF_V_ERROR;
	}
	return verdict;
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

/*
 * A user stage's MBuf, map NAME_mbuf: the per-CPU counters first (what
 * `ffpf-bpf run` and ffpf_flow_filter_stats() show), then your CFGTYPE,
 * which starts zeroed and which user space may write through
 * ffpf_flow_filter_mbuf() (at offset sizeof(cpu)). NAME_mbuf_get()
 * returns it. FFPF_USER_STAGE counts seen/passed/bytes itself.
 */
#define FFPF_USER_MBUF(NAME, CFGTYPE)					\
	struct NAME##_mbuf_t {						\
		struct ffpf_mbuf_cpu cpu[FFPF_MBUF_CPUS];		\
		CFGTYPE cfg;						\
	};								\
	struct {							\
		__uint(type, BPF_MAP_TYPE_ARRAY);			\
		__uint(max_entries, 1);					\
		__uint(map_flags, BPF_F_MMAPABLE);			\
		__type(key, __u32);					\
		__type(value, struct NAME##_mbuf_t);			\
	} NAME##_mbuf SEC(".maps");					\
	static __always_inline struct NAME##_mbuf_t *NAME##_mbuf_get(void) \
	{								\
		__u32 zero = 0;						\
		return bpf_map_lookup_elem(&NAME##_mbuf, &zero);	\
	}

/*
 * The program NAME, for a stage with FFPF_USER_MBUF(NAME, CFGTYPE): runs
 *   static __always_inline int NAME_body(struct ffpf_pkt *p, CFGTYPE *cfg)
 * counts seen/passed/bytes and hands the verdict to ffpf_next(). A stage
 * without an MBuf uses FFPF_USER_STAGE_NOMBUF(NAME) and NAME_body(p); its
 * counters then show zeros.
 */
#define FFPF_USER_STAGE(NAME)						\
	SEC("xdp")							\
	int NAME(void *ctx)						\
	{								\
		struct ffpf_pkt *p = ffpf_pkt_get();			\
		struct NAME##_mbuf_t *m = NAME##_mbuf_get();		\
		struct ffpf_mbuf_cpu *c;				\
		int v;							\
									\
		if (!p || !m)						\
			return FFPF_V_ERROR;				\
		c = ffpf_slot(m->cpu, p);				\
		ffpf_add(&c->seen, 1);					\
		v = NAME##_body(p, &m->cfg);				\
		if (v == FFPF_V_ACCEPT)					\
			ffpf_passed(c, p);				\
		return ffpf_next(ctx, v);				\
	}

#define FFPF_USER_STAGE_NOMBUF(NAME)					\
	SEC("xdp")							\
	int NAME(void *ctx)						\
	{								\
		struct ffpf_pkt *p = ffpf_pkt_get();			\
									\
		if (!p)							\
			return FFPF_V_ERROR;				\
		return ffpf_next(ctx, NAME##_body(p));			\
	}

#endif /* FFPF_STAGE_H */
