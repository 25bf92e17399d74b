// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cbpf_compile.c - pcap-filter expressions to classic BPF (libpcap). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include "cbpf_compile.h"

_Static_assert(sizeof(struct sock_filter) == sizeof(struct bpf_insn),
	       "libpcap's classic instruction is the kernel's sock_filter");

int ffpf_cbpf_compile(const char *expr, int snaplen, struct bpf_program *out,
		      char *err, size_t errlen)
{
	pcap_t *p;
	int ret = 0;

	if (!expr || !out || snaplen <= 0)
		return -EINVAL;
	/* A dead handle: no device, no capture, just the compiler. */
	p = pcap_open_dead(DLT_EN10MB, snaplen);
	if (!p) {
		snprintf(err, errlen, "pcap_open_dead failed");
		return -ENOMEM;
	}
	if (pcap_compile(p, out, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
		ret = -EINVAL;
	}
	pcap_close(p);
	return ret;
}

int ffpf_cbpf_compile_insns(const char *expr, int snaplen, struct sock_filter **out,
			    char *err, size_t errlen)
{
	struct bpf_program prog;
	int ret;

	ret = ffpf_cbpf_compile(expr, snaplen, &prog, err, errlen);
	if (ret)
		return ret;
	*out = malloc(prog.bf_len * sizeof(**out) ?: 1);
	if (!*out) {
		pcap_freecode(&prog);
		return -ENOMEM;
	}
	memcpy(*out, prog.bf_insns, prog.bf_len * sizeof(**out));
	ret = prog.bf_len;
	pcap_freecode(&prog);
	return ret;
}
