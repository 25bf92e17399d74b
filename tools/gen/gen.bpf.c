// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gen.bpf.c - ffpf-gen's sender: run by BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES on the sending veth, it turns the frame the
 * kernel hands it into the next packet of the sequence (gen.h) and
 * transmits it (XDP_TX: out of that veth, into its peer).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "gen.h"

/* Set by user space before the first run; never changed while sending. */
struct gen_cfg cfg;
/* One sender thread at a time: no atomics needed. */
struct gen_state st;

SEC("xdp")
int gen_tx(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *data_end = (void *)(long)ctx->data_end;

	if (data + GEN_HDR > data_end)
		return XDP_ABORTED;
	gen_fill(data, &cfg, &st);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
