// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sample: pass 1 packet in `every`, deterministically (the 1st, the
 * (every+1)th, ...), so tests and users get exact, reproducible counts.
 */
#include "stage.h"

FFPF_MBUF(sample, struct ffpf_sample_mbuf)

static __always_inline int sample_body(struct ffpf_pkt *p)
{
	struct ffpf_sample_mbuf *m = sample_mbuf_get();
	__u32 every;
	__u64 n;

	if (!m)
		return FFPF_V_ERROR;
	n = __sync_fetch_and_add(&m->hdr.seen, 1);
	every = m->every ? m->every : 1;
	if (n % every)
		return FFPF_V_REJECT;
	__sync_fetch_and_add(&m->hdr.passed, 1);
	return FFPF_V_ACCEPT;
}

FFPF_STAGE(sample)
