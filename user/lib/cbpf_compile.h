/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cbpf_compile.h (internal) - pcap-filter expressions to classic BPF,
 * by libpcap. Kept apart from cbpf.h: this side may include <pcap.h>,
 * whose struct bpf_insn clashes with linux/bpf.h's.
 */
#ifndef FFPF_CBPF_COMPILE_H
#define FFPF_CBPF_COMPILE_H

#include <stddef.h>
#include <linux/filter.h>	/* struct sock_filter: libpcap's layout */

struct bpf_program;	/* <pcap/bpf.h> */

/*
 * Compile pcap-filter @expr for Ethernet frames (optimised, netmask
 * unknown, @snaplen the accept value) into @out; free it with
 * pcap_freecode(). On error returns -EINVAL and leaves libpcap's own
 * message in @err.
 */
int ffpf_cbpf_compile(const char *expr, int snaplen, struct bpf_program *out,
		      char *err, size_t errlen);

/*
 * The same, handing back a malloc'ed copy of the instructions (free()
 * it), for callers that cannot include <pcap.h>. Returns the number of
 * instructions or -errno (message in @err).
 */
int ffpf_cbpf_compile_insns(const char *expr, int snaplen, struct sock_filter **out,
			    char *err, size_t errlen);

#endif /* FFPF_CBPF_COMPILE_H */
