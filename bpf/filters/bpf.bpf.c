// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bpf: a pcap-filter expression as a stage. This object only carries what
 * libbpf must create with BTF: the MBuf (the expression text and the
 * counters) and the shared maps. Its program is a stub that rejects and
 * is never loaded (it gives the program type, attach type and flags);
 * once the maps exist, user/lib/cbpf_stage.c loads the real stage,
 * generated from the expression, and the flow uses that one.
 */
#include "stage.h"

FFPF_MBUF(bpf, struct ffpf_bpf_mbuf)

static __always_inline int bpf_body(struct ffpf_pkt *p)
{
	/* Reference the MBuf so the program owns it; the stub never passes. */
	return bpf_mbuf_get() ? FFPF_V_REJECT : FFPF_V_ERROR;
}

FFPF_STAGE(bpf)
