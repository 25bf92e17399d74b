// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* count: count packets and bytes; always passes. */
#include "stage.h"

FFPF_MBUF(count, struct ffpf_count_mbuf)

static __always_inline int count_body(struct ffpf_pkt *p)
{
	struct ffpf_count_mbuf *m = count_mbuf_get();
	struct ffpf_mbuf_cpu *c;

	if (!m)
		return FFPF_V_ERROR;
	c = ffpf_slot(m->cpu, p);
	ffpf_add(&c->seen, 1);
	ffpf_passed(c, p);
	return FFPF_V_ACCEPT;
}

FFPF_STAGE(count)
