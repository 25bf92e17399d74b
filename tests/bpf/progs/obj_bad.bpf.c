// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_obj: a stage the verifier refuses (reads past the packet context). */
#include "vmlinux.h"
#include <ffpf/stage.h>

SEC("xdp")
int oob(void *ctx)
{
	struct ffpf_pkt *p = ffpf_pkt_get();

	if (!p)
		return FFPF_V_ERROR;
	return ffpf_next(ctx, ((volatile __u8 *)p)[sizeof(*p) + 64]);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
