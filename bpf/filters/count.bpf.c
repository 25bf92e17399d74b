// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* count: count packets and bytes; always passes. */
#include "stage.h"

FFPF_MBUF(count, struct ffpf_count_mbuf)

static __always_inline int count_body(struct ffpf_pkt *p)
{
	struct ffpf_count_mbuf *m = count_mbuf_get();

	if (!m)
		return FFPF_V_ERROR;
	__sync_fetch_and_add(&m->hdr.seen, 1);
	__sync_fetch_and_add(&m->hdr.passed, 1);
	__sync_fetch_and_add(&m->bytes, p->len);
	return FFPF_V_ACCEPT;
}

FFPF_STAGE(count)
