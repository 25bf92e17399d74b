// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * user_stage.bpf.c - an example user filter class (docs/api.md, "Writing
 * a filter class"): accept TCP and UDP packets whose destination port is
 * even, or odd once user space sets the MBuf's cfg.odd to 1.
 *
 *	bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h
 *	clang -g -O2 -target bpf -I. -I/usr/local/include -c user_stage.bpf.c \
 *		-o user_stage.bpf.o
 *	ffpf-bpf run -i eth0 --flow 'even=match(udp) -> obj("user_stage.bpf.o", "even_port")'
 *
 * The tests build it (make tests: build/examples/user_stage.bpf.o) and
 * run it in tests/bpf/test_obj.c and tests/integration/test_obj.sh.
 */
#include "vmlinux.h"
#include <ffpf/stage.h>

struct even_port_cfg {
	__u32 odd;		/* 0: pass even destination ports, 1: odd ones */
};

FFPF_USER_MBUF(even_port, struct even_port_cfg)

static __always_inline int even_port_body(struct ffpf_pkt *p, struct even_port_cfg *cfg)
{
	if (!(p->flags & FFPF_PF_L4) ||
	    (p->l4_proto != 6 /* TCP */ && p->l4_proto != 17 /* UDP */))
		return FFPF_V_REJECT;
	return (p->dport & 1) == (cfg->odd & 1) ? FFPF_V_ACCEPT : FFPF_V_REJECT;
}

FFPF_USER_STAGE(even_port)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
