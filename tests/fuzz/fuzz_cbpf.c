/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * fuzz_cbpf.c - libFuzzer target for the classic-to-eBPF translator
 * (user/lib/cbpf.c) and, through libpcap, the bpf class's expression
 * check (user/lib/args.c). Pure user space: nothing is loaded.
 *
 * The first input byte selects the mode:
 *   even: the rest is an array of classic instructions (struct
 *         sock_filter, 8 bytes each, host order, trailing bytes
 *         ignored; libFuzzer's input limit is the longest seed, 4096
 *         instructions) given to ffpf_cbpf_to_ebpf(); bits 1-6 of the
 *         byte pick opts.scratch_off = -64 - 8 * bits (past -512: refused);
 *   odd:  the rest, as a C string, is a pcap-filter expression compiled by
 *         ffpf_cbpf_compile_insns() and translated the same way, and given
 *         to ffpf_bpf_check_expr(), which must agree.
 * Invariants checked on the translator (a broken one aborts):
 *   - it returns 0, -EINVAL, -E2BIG or -ENOMEM;
 *   - on error: a non-empty message, *out untouched; a refused
 *     instruction ("instruction I (code 0xCC): ...") has I < n and the
 *     code of c[I]; only a bad n or scratch_off is refused otherwise;
 *   - on success, the body keeps cbpf.h's contract: it is non-empty; no
 *     exit, call or 64-bit immediate load (it ends by falling through to
 *     the caller's epilogue); every jump goes forward and lands inside the
 *     body or just past it (the epilogue); only r0-r6 are written
 *     (r7-r9 are the caller's, r10 the frame pointer: it is only the base
 *     of stores); stack accesses stay in M[]'s 64 bytes at scratch_off;
 *     every packet load is `r1 += K; if r1 > r8 goto out; dst = *(r1 - sz)`
 *     with K >= sz and no jump landing inside that sequence.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ffpf/ffpf.h>
#include <ffpf/mbuf.h>

#include "cbpf.h"
#include "cbpf_compile.h"
#include "spec.h"
#include "fuzz.h"

/* Longest expression tried: libpcap's optimiser is slow on long ones. */
#define EXPR_MAX	512

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_no_network();
	return 0;
}

static int ldx_size(__u8 code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B:
		return 1;
	case BPF_H:
		return 2;
	case BPF_W:
		return 4;
	default:
		return 8;
	}
}

/* Is [off, off + sz) inside M[] (64 bytes at @scratch from r10)? */
static bool in_scratch(int off, int sz, int scratch)
{
	return off >= scratch && off + sz <= scratch + 64;
}

/* cbpf.h's contract on a translated body @e of @ne instructions. */
static void check_body(const struct bpf_insn *e, int ne, int scratch)
{
	bool *target = calloc(ne + 1, sizeof(*target));

	if (!target)
		abort();
	FUZZ_CHECK(ne > 0, "empty body");
	for (int i = 0; i < ne; i++) {
		__u8 cls = BPF_CLASS(e[i].code), op = BPF_OP(e[i].code);

		FUZZ_CHECK(e[i].dst_reg <= BPF_REG_10 && e[i].src_reg <= BPF_REG_10,
			   "insn %d: register r%u/r%u", i, e[i].dst_reg, e[i].src_reg);
		if (cls == BPF_JMP || cls == BPF_JMP32) {
			int t = i + 1 + e[i].off;

			FUZZ_CHECK(op != BPF_EXIT && op != BPF_CALL,
				   "insn %d: exit or call (code 0x%02x) in a body", i, e[i].code);
			FUZZ_CHECK(t > i && t <= ne, "insn %d: jump to %d, body has %d insns",
				   i, t, ne);
			target[t] = true;
		}
	}
	for (int i = 0; i < ne; i++) {
		__u8 cls = BPF_CLASS(e[i].code);
		int sz = ldx_size(e[i].code);

		switch (cls) {
		case BPF_LD:
			FUZZ_CHECK(0, "insn %d: BPF_LD (code 0x%02x) in a body", i, e[i].code);
			break;
		case BPF_ALU:
		case BPF_ALU64:
			FUZZ_CHECK(e[i].dst_reg <= BPF_REG_6, "insn %d: writes r%u", i, e[i].dst_reg);
			break;
		case BPF_ST:
		case BPF_STX:
			FUZZ_CHECK(e[i].dst_reg == BPF_REG_10 && in_scratch(e[i].off, sz, scratch),
				   "insn %d: store to r%u%+d, M[] is r10%+d", i, e[i].dst_reg,
				   e[i].off, scratch);
			break;
		case BPF_LDX:
			FUZZ_CHECK(e[i].dst_reg <= BPF_REG_6, "insn %d: writes r%u", i, e[i].dst_reg);
			if (e[i].src_reg == BPF_REG_10) {
				FUZZ_CHECK(in_scratch(e[i].off, sz, scratch),
					   "insn %d: load from r10%+d, M[] is r10%+d", i, e[i].off,
					   scratch);
				break;
			}
			/* A packet load: r1 += K; if r1 > r8 goto ...; dst = *(r1 - sz) */
			FUZZ_CHECK(i >= 2 && e[i].src_reg == BPF_REG_1 && e[i].off == -sz,
				   "insn %d: load from r%u%+d", i, e[i].src_reg, e[i].off);
			FUZZ_CHECK(e[i - 1].code == (BPF_JMP | BPF_JGT | BPF_X) &&
				   e[i - 1].dst_reg == BPF_REG_1 &&
				   e[i - 1].src_reg == FFPF_CBPF_R_END,
				   "insn %d: packet load without a bounds check before it", i);
			FUZZ_CHECK(e[i - 2].code == (BPF_ALU64 | BPF_ADD | BPF_K) &&
				   e[i - 2].dst_reg == BPF_REG_1 && e[i - 2].imm >= sz,
				   "insn %d: packet load not after r1 += K (K >= %d)", i, sz);
			FUZZ_CHECK(!target[i] && !target[i - 1],
				   "insn %d: a jump skips the bounds check of a packet load", i);
			break;
		default:
			break;
		}
	}
	free(target);
}

/* Translate @n classic instructions and check the result. */
static int translate(const struct sock_filter *c, int n, int scratch)
{
	struct ffpf_cbpf_opts o = { .sz = sizeof(o), .scratch_off = scratch };
	bool bad_args = n <= 0 || n > FFPF_CBPF_MAX_INSNS || scratch < -512;
	struct bpf_insn *e = NULL;
	char err[256];
	int ne = -1, ret, at = -1, code = -1, len = 0;

	memset(err, 'x', sizeof(err));
	ret = ffpf_cbpf_to_ebpf(c, n, &o, &e, &ne, err, sizeof(err));
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -E2BIG || ret == -ENOMEM,
		   "ffpf_cbpf_to_ebpf() returned %d", ret);
	if (ret) {
		FUZZ_CHECK(!e && ne == -1, "failed (%d) but set the output", ret);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0],
			   "error %d without a message", ret);
		if (bad_args) {
			FUZZ_CHECK(ret == -EINVAL, "n %d, scratch %d: %d (%s)", n, scratch, ret, err);
			return ret;
		}
		if (ret == -EINVAL) {
			FUZZ_CHECK(sscanf(err, "instruction %d (code 0x%x): %n", &at, &code, &len) == 2 &&
				   len && err[len], "refusal without an instruction: '%s'", err);
			FUZZ_CHECK(at >= 0 && at < n && code == c[at].code,
				   "refusal names instruction %d code 0x%x, n %d: '%s'", at, code, n,
				   err);
		}
		return ret;
	}
	FUZZ_CHECK(!bad_args, "n %d, scratch %d accepted", n, scratch);
	FUZZ_CHECK(e != NULL, "success without a body");
	check_body(e, ne, scratch);
	free(e);
	return 0;
}

static void run_insns(const uint8_t *data, size_t size)
{
	int scratch = -64 - 8 * ((data[0] >> 1) & 63);
	size_t n = (size - 1) / sizeof(struct sock_filter);
	struct sock_filter *c;

	if (n > FFPF_CBPF_MAX_INSNS + 1)
		n = FFPF_CBPF_MAX_INSNS + 1;
	/* A copy: the input is not aligned, and ASan then sees the exact size. */
	c = malloc(n ? n * sizeof(*c) : 1);
	if (!c)
		abort();
	memcpy(c, data + 1, n * sizeof(*c));
	fuzz_input = "(classic instructions)";
	translate(c, (int)n, scratch);
	free(c);
}

static void run_expr(const uint8_t *data, size_t size)
{
	char *expr = fuzz_cstr(data + 1, size - 1 > EXPR_MAX ? EXPR_MAX : size - 1);
	struct sock_filter *c = NULL;
	char err[256] = "", why[512] = "";
	int n, ret, chk;

	n = ffpf_cbpf_compile_insns(expr, FFPF_BPF_SNAPLEN, &c, err, sizeof(err));
	FUZZ_CHECK(n > 0 || n == -EINVAL || n == -ENOMEM, "compile returned %d", n);
	if (n < 0) {
		FUZZ_CHECK(err[0] && !c, "compile failed (%d) without a message or with code", n);
		ret = n;
	} else {
		FUZZ_CHECK(c != NULL, "compile gave %d instructions, no array", n);
		ret = translate(c, n, -64);
	}
	chk = ffpf_bpf_check_expr(expr, why, sizeof(why));
	if (ret != -ENOMEM && chk != -ENOMEM) {
		FUZZ_CHECK(chk == ret, "ffpf_bpf_check_expr() %d, compile + translate %d (%s)",
			   chk, ret, why);
		FUZZ_CHECK(!chk || why[0], "ffpf_bpf_check_expr() %d without a message", chk);
	}
	free(c);
	free(expr);
	fuzz_input = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		run_expr(data, size);
	else
		run_insns(data, size);
	return 0;
}
