// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* compose.c - slot layout and the tail-call budget of a composition. */
#include <errno.h>
#include <stdio.h>
#include "compose.h"
#include "spec.h"

__u32 ffpf_stage_slot(int flow, int stage)
{
	if (stage == 0)
		return flow;	/* the jump table: the dispatcher's constant */
	return FFPF_SLOT_STAGE0 + flow * (FFPF_MAX_STAGES - 1) + (stage - 1);
}

static bool may_share_packet(const struct ffpf_compose_flow *a,
			     const struct ffpf_compose_flow *b)
{
	if (!a->guarded || !b->guarded)
		return true;
	return ffpf_match_may_overlap(&a->guard, &b->guard);
}

int ffpf_compose_worst_path(const struct ffpf_compose_flow *flows, int n, int *worst)
{
	int best = 0, best_flow = -1;

	for (int f = 0; f < n; f++) {
		int sum;

		if (!flows[f].present)
			continue;
		sum = flows[f].nstages;
		for (int g = 0; g < n; g++)
			if (g != f && flows[g].present &&
			    may_share_packet(&flows[f], &flows[g]))
				sum += flows[g].nstages;
		if (sum > best) {
			best = sum;
			best_flow = f;
		}
	}
	if (worst)
		*worst = best_flow;
	return best;
}

/* "flow dns (index 3)" or "flow 3" */
static const char *flow_label(const struct ffpf_compose_flow *flows, int f,
			      char *buf, size_t len)
{
	if (flows[f].name)
		snprintf(buf, len, "flow %s (index %d)", flows[f].name, f);
	else
		snprintf(buf, len, "flow %d", f);
	return buf;
}

int ffpf_compose_check(const struct ffpf_compose_flow *flows, int n,
		       char *why, size_t whylen)
{
	int worst, cost = ffpf_compose_worst_path(flows, n, &worst);
	char label[64];

	for (int f = 0; f < n; f++) {
		if (flows[f].present && flows[f].nstages > FFPF_MAX_STAGES) {
			snprintf(why, whylen, "%s has %d stages, at most %d",
				 flow_label(flows, f, label, sizeof(label)),
				 flows[f].nstages, FFPF_MAX_STAGES);
			return -E2BIG;
		}
	}
	if (cost <= FFPF_TAIL_CALL_LIMIT)
		return 0;
	snprintf(why, whylen,
		 "a packet that passes the guard of %s could need %d tail calls (its stages "
		 "plus those of every flow that may take the same packet); the kernel allows "
		 "%d. Give flows a leading match() that tells them apart, or use fewer stages",
		 flow_label(flows, worst, label, sizeof(label)), cost, FFPF_TAIL_CALL_LIMIT);
	return -E2BIG;
}
