// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* match: accept packets whose header fields satisfy every constraint. */
#include "stage.h"
#include "match.h"

FFPF_MBUF(match, struct ffpf_match_mbuf)

static __always_inline int match_body(struct ffpf_pkt *p)
{
	struct ffpf_match_mbuf *m = match_mbuf_get();
	struct ffpf_mbuf_cpu *c;

	if (!m)
		return FFPF_V_ERROR;
	c = ffpf_slot(m->cpu, p);
	ffpf_add(&c->seen, 1);
	if (!ffpf_match_eval(&m->cfg, p))
		return FFPF_V_REJECT;
	ffpf_passed(c, p);
	return FFPF_V_ACCEPT;
}

FFPF_STAGE(match)
