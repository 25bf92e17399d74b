// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_obj: a user stage without an MBuf (UDP only), and a second program. */
#include "vmlinux.h"
#include <ffpf/stage.h>

static __always_inline int udp_only_body(struct ffpf_pkt *p)
{
	return p->l4_proto == 17 ? FFPF_V_ACCEPT : FFPF_V_REJECT;
}

FFPF_USER_STAGE_NOMBUF(udp_only)

static __always_inline int reject_all_body(struct ffpf_pkt *p)
{
	return FFPF_V_REJECT;
}

FFPF_USER_STAGE_NOMBUF(reject_all)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
