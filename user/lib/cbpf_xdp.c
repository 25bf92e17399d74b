// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cbpf_xdp.c - a classic BPF program as a standalone XDP program: the
 * translated body (cbpf.c) between a prologue that loads the packet
 * pointers and an epilogue that turns the verdict into XDP_PASS or
 * XDP_DROP. Used by the tests; a stage embeds the body the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cbpf.h"

#define LOG_SZ	(1 << 20)
#define ARRAY_LEN(a)	(int)(sizeof(a) / sizeof((a)[0]))

static struct bpf_insn insn(__u8 code, __u8 dst, __u8 src, __s16 off, __s32 imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src,
				  .off = off, .imm = imm };
}

/* The tail of the verifier's log: its last lines say what it refused. */
static void log_tail(const char *log, char *err, size_t errlen)
{
	size_t n = strlen(log);
	const char *p = n > 400 ? log + n - 400 : log;

	snprintf(err, errlen, "verifier: %s", p);
}

int ffpf_cbpf_xdp_load(const struct sock_filter *c, int n, const char *name,
		       char *err, size_t errlen)
{
	struct bpf_insn pro[] = {
		insn(BPF_LDX | BPF_MEM | BPF_W, FFPF_CBPF_R_DATA, BPF_REG_1,
		     offsetof(struct xdp_md, data), 0),
		insn(BPF_LDX | BPF_MEM | BPF_W, FFPF_CBPF_R_END, BPF_REG_1,
		     offsetof(struct xdp_md, data_end), 0),
		/* `len`: XDP sees the whole (linear) frame, so end - start. */
		insn(BPF_ALU64 | BPF_MOV | BPF_X, FFPF_CBPF_R_LEN, FFPF_CBPF_R_END, 0, 0),
		insn(BPF_ALU64 | BPF_SUB | BPF_X, FFPF_CBPF_R_LEN, FFPF_CBPF_R_DATA, 0, 0),
	};
	struct bpf_insn epi[] = {
		insn(BPF_JMP32 | BPF_JEQ | BPF_K, FFPF_CBPF_R_VERDICT, 0, 2, 0),
		insn(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_PASS),
		insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		insn(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_DROP),
		insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	struct bpf_insn *body = NULL, *all;
	int nbody, nall, fd;
	char *log;
	int again;

	fd = ffpf_cbpf_to_ebpf(c, n, NULL, &body, &nbody, err, errlen);
	if (fd)
		return fd;
	nall = ARRAY_LEN(pro) + nbody + ARRAY_LEN(epi);
	all = malloc(nall * sizeof(*all));
	if (!all) {
		free(body);
		return -ENOMEM;
	}
	memcpy(all, pro, sizeof(pro));
	memcpy(all + ARRAY_LEN(pro), body, nbody * sizeof(*body));
	memcpy(all + ARRAY_LEN(pro) + nbody, epi, sizeof(epi));
	free(body);

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name ?: "ffpf_cbpf", "Dual BSD/GPL", all, nall, NULL);
	if (fd < 0) {
		fd = -errno;
		/* Again with the log, only now that it is wanted. */
		log = calloc(1, LOG_SZ);
		if (log) {
			LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log, .log_size = LOG_SZ,
				    .log_level = 1);
			again = bpf_prog_load(BPF_PROG_TYPE_XDP, name ?: "ffpf_cbpf",
					      "Dual BSD/GPL", all, nall, &o);
			if (again >= 0) {
				close(again);
				snprintf(err, errlen, "load failed (%s), then passed with a log",
					 strerror(-fd));
			} else {
				log_tail(log, err, errlen);
			}
			free(log);
		}
	}
	free(all);
	return fd;
}
