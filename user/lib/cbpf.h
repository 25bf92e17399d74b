/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cbpf.h (internal) - the bpf("EXPR") filter class: a pcap-filter
 * expression compiled by libpcap to classic BPF (cbpf_compile.c), then
 * translated to an eBPF body (cbpf.c) that a stage wraps with its own
 * prologue and epilogue (cbpf_xdp.c: a standalone XDP program).
 *
 * Classic instructions are named by the kernel's struct sock_filter
 * (<linux/filter.h>): same layout as libpcap's struct bpf_insn, whose name
 * clashes with linux/bpf.h's. The libpcap side is cbpf_compile.h.
 *
 * The body's register contract (see docs/cbpf.md):
 *	in:  r7 = first packet byte, r8 = packet end (PTR_TO_PACKET_END),
 *	     w9 = wire length (classic `len`)
 *	out: w0 = verdict (0 reject, else the classic return value), then
 *	     execution falls through to the instruction after the body: the
 *	     caller's epilogue. r1-r6 are clobbered; the stack slots
 *	     [scratch_off, scratch_off + 64) hold M[0..15].
 */
#ifndef FFPF_CBPF_H
#define FFPF_CBPF_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/filter.h>

#define FFPF_CBPF_R_DATA	BPF_REG_7
#define FFPF_CBPF_R_END		BPF_REG_8
#define FFPF_CBPF_R_LEN		BPF_REG_9
#define FFPF_CBPF_R_VERDICT	BPF_REG_0

/* Classic programs are at most this long (libpcap's and the kernel's limit). */
#define FFPF_CBPF_MAX_INSNS	4096

struct ffpf_cbpf_opts {
	size_t sz;
	/* Stack offset (from r10, negative, 8-aligned) of M[0..15]; 0: -64. */
	int scratch_off;
	size_t :0;
};

/*
 * Translate @n classic instructions @c into an eBPF body (see the
 * contract above): *@out is malloc'ed (free() it), *@nout its length.
 * Returns 0, or -EINVAL (an instruction the translator refuses: @err
 * says which and why), -E2BIG (too long), -ENOMEM.
 */
int ffpf_cbpf_to_ebpf(const struct sock_filter *c, int n, const struct ffpf_cbpf_opts *o,
		      struct bpf_insn **out, int *nout, char *err, size_t errlen);

/*
 * A standalone XDP program around the body of @c: XDP_PASS when the
 * classic program accepts, XDP_DROP when it rejects; `len` is the frame
 * length. Returns the program fd or -errno; the verifier's complaint, if
 * any, goes to @err.
 */
int ffpf_cbpf_xdp_load(const struct sock_filter *c, int n, const char *name,
		       char *err, size_t errlen);

/*
 * The bpf class's .loaded hook (cbpf_stage.c): compile and translate the
 * expression in @st's configuration, load the stage program around it
 * and make it st->prog_fd (closed by ffpf_stage_unload()). 0 or -errno.
 */
struct ffpf_stage;
int ffpf_cbpf_stage_loaded(struct ffpf_stage *st);

#endif /* FFPF_CBPF_H */
