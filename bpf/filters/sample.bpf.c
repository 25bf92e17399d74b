// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sample: pass 1 packet in `every`, deterministically (the 1st, the
 * (every+1)th, ...), so tests and users get exact, reproducible counts.
 * The packet number is the one shared atomic: per-CPU numbering would make
 * the rate depend on how packets spread over CPUs.
 */
#include "stage.h"

FFPF_MBUF(sample, struct ffpf_sample_mbuf)

static __always_inline int sample_body(struct ffpf_pkt *p)
{
	struct ffpf_sample_mbuf *m = sample_mbuf_get();
	struct ffpf_mbuf_cpu *c;
	__u32 every;
	__u64 n;

	if (!m)
		return FFPF_V_ERROR;
	c = ffpf_slot(m->cpu, p);
	ffpf_add(&c->seen, 1);
	n = __sync_fetch_and_add(&m->ticket, 1);
	every = m->every ? m->every : 1;
	if (n % every)
		return FFPF_V_REJECT;
	ffpf_passed(c, p);
	return FFPF_V_ACCEPT;
}

FFPF_STAGE(sample)
