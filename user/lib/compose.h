/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * compose.h (internal) - jump-table composition: where each stage lives in
 * the prog array and whether a set of flows fits the kernel's tail-call
 * limit. Pure functions, unit-tested without BPF.
 */
#ifndef FFPF_COMPOSE_H
#define FFPF_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <ffpf/mbuf.h>

struct ffpf_compose_flow {
	const char *name;		/* for messages; may be NULL */
	bool present;
	int nstages;
	bool guarded;			/* guard holds the flow's leading match */
	struct ffpf_match_cfg guard;
};

/* PROG_ARRAY slot of stage @stage (0-based) of flow @flow. */
__u32 ffpf_stage_slot(int flow, int stage);

/*
 * Upper bound of the tail calls one packet can cost with these flows:
 * for each flow f, its stages plus the stages of every flow whose guard
 * may pass the same packet (guards not provably disjoint). Sound, since any
 * set of flows that all accept one packet is within one f's neighbourhood.
 * *@worst (may be NULL) gets the flow that reaches the bound, or -1.
 */
int ffpf_compose_worst_path(const struct ffpf_compose_flow *flows, int n, int *worst);

/*
 * 0 if the flows fit FFPF_TAIL_CALL_LIMIT, else -E2BIG with a sentence in
 * @why naming the numbers and the flow at fault.
 */
int ffpf_compose_check(const struct ffpf_compose_flow *flows, int n,
		       char *why, size_t whylen);

#endif /* FFPF_COMPOSE_H */
