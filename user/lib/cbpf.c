// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cbpf.c - classic BPF to an eBPF body, with libpcap's bpf_filter()
 * semantics: A and X are 32 bits and start at 0, M[] starts zeroed; a
 * packet load past the end and a division by X == 0 return 0; a shift by
 * X >= 32 leaves 0. Registers: A = w0, X = w6, r1 a scratch pointer; the
 * packet pointers and length come in r7, r8, w9 (cbpf.h).
 *
 * Jumps go forward (a backward one, libpcap's protochain loop, is
 * refused), so one pass emits every reachable instruction in order,
 * recording where each one starts, and a second pass patches the jump
 * offsets. Two labels follow the body: `reject` (w0 = 0) and `end`, the
 * caller's epilogue.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cbpf.h"

#define R_A		BPF_REG_0
#define R_X		BPF_REG_6
#define R_PTR		BPF_REG_1
#define R_FP		BPF_REG_10

#define MEMWORDS	16
/* The verifier tracks packet offsets up to 0xffff (MAX_PACKET_OFF). */
#define MAX_PKT_OFF	0xffff
/* Classic "ancillary" offsets (SKF_AD_OFF, SKF_NET_OFF, SKF_LL_OFF) start here. */
#define SKF_OFFS	((__u32)SKF_LL_OFF)

struct fixup {
	int at;		/* eBPF jump instruction */
	int target;	/* classic index, or n (reject) / n + 1 (end) */
};

struct emit {
	const struct sock_filter *c;
	int n;
	struct bpf_insn *insn;
	int len, cap;
	struct fixup *fix;
	int nfix, fixcap;
	int *start;		/* [n + 2]: first eBPF insn of each classic one */
	bool need_reject;
	int scratch;
	char *err;
	size_t errlen;
};

static int refuse(struct emit *e, int i, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (e->err && e->errlen)
		snprintf(e->err, e->errlen, "instruction %d (code 0x%02x): %s", i,
			 e->c[i].code, why);
	return -EINVAL;
}

static int put(struct emit *e, __u8 code, __u8 dst, __u8 src, __s16 off, __s32 imm)
{
	if (e->len == e->cap) {
		int cap = e->cap * 2;
		struct bpf_insn *p = realloc(e->insn, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		e->insn = p;
		e->cap = cap;
	}
	e->insn[e->len++] = (struct bpf_insn){ .code = code, .dst_reg = dst,
		.src_reg = src, .off = off, .imm = imm };
	return 0;
}

/* A jump to classic instruction @target (or a label), patched later. */
static int put_jump(struct emit *e, __u8 code, __u8 dst, __u8 src, __s32 imm, int target)
{
	if (e->nfix == e->fixcap) {
		int cap = e->fixcap ? e->fixcap * 2 : 64;
		struct fixup *p = realloc(e->fix, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		e->fix = p;
		e->fixcap = cap;
	}
	if (target == e->n)
		e->need_reject = true;
	e->fix[e->nfix++] = (struct fixup){ .at = e->len, .target = target };
	return put(e, code, dst, src, 0, imm);
}

#define LBL_REJECT(e)	((e)->n)
#define LBL_END(e)	((e)->n + 1)

static int size_bytes(__u16 code)
{
	switch (BPF_SIZE(code)) {
	case BPF_W: return 4;
	case BPF_H: return 2;
	case BPF_B: return 1;
	}
	return 0;
}

/*
 * A packet load that can never be in bounds (k + size beyond what a
 * frame here can hold): bpf_filter() rejects, and so do we, statically.
 */
static bool load_always_fails(const struct sock_filter *f)
{
	__u16 cls = BPF_CLASS(f->code), mode = BPF_MODE(f->code);
	int sz = size_bytes(f->code);

	if (cls == BPF_LDX && mode == BPF_MSH)
		sz = 1;
	else if (cls != BPF_LD || (mode != BPF_ABS && mode != BPF_IND))
		return false;
	return f->k < SKF_OFFS && (__u64)f->k + sz > MAX_PKT_OFF;
}

/*
 * dst = big-endian @sz bytes at packet offset k (+ X for IND), or jump
 * to reject. The verifier sees a packet pointer with a constant offset
 * (and, for IND, a variable one bounded first) compared with data_end.
 */
static int emit_load(struct emit *e, int i, __u8 dst, int sz, bool ind)
{
	__u32 k = e->c[i].k;
	int err = 0;

	if (k >= SKF_OFFS)
		return refuse(e, i, "ancillary load at offset %d (SKF_AD/NET/LL) is not supported",
			      (int)k);
	if (load_always_fails(&e->c[i]))
		return put_jump(e, BPF_JMP | BPF_JA, 0, 0, 0, LBL_REJECT(e));
	if (ind)
		/* X + k + sz > MAX_PKT_OFF is past any frame: reject, as bpf_filter. */
		err = put_jump(e, BPF_JMP | BPF_JGT | BPF_K, R_X, 0,
			       MAX_PKT_OFF - k - sz, LBL_REJECT(e));
	err = err ?: put(e, BPF_ALU64 | BPF_MOV | BPF_X, R_PTR, FFPF_CBPF_R_DATA, 0, 0);
	if (ind)
		err = err ?: put(e, BPF_ALU64 | BPF_ADD | BPF_X, R_PTR, R_X, 0, 0);
	err = err ?: put(e, BPF_ALU64 | BPF_ADD | BPF_K, R_PTR, 0, 0, k + sz);
	err = err ?: put_jump(e, BPF_JMP | BPF_JGT | BPF_X, R_PTR, FFPF_CBPF_R_END, 0,
			      LBL_REJECT(e));
	err = err ?: put(e, BPF_LDX | BPF_MEM | BPF_SIZE(e->c[i].code), dst, R_PTR, -sz, 0);
	if (sz > 1)
		err = err ?: put(e, BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, sz * 8);
	return err;
}

/* Stack offset of M[k] in *@off, or -EINVAL. */
static int mem_off(struct emit *e, int i, int *off)
{
	if (e->c[i].k >= MEMWORDS)
		return refuse(e, i, "scratch memory index %u is not below %d", e->c[i].k,
			      MEMWORDS);
	*off = e->scratch + 4 * (int)e->c[i].k;
	return 0;
}

static int emit_ld(struct emit *e, int i, __u8 dst)
{
	const struct sock_filter *f = &e->c[i];
	bool ldx = BPF_CLASS(f->code) == BPF_LDX;
	int off = 0, err;

	__u16 mode = BPF_MODE(f->code);

	if ((mode == BPF_IMM || mode == BPF_MEM || mode == BPF_LEN) && BPF_SIZE(f->code) != BPF_W)
		return refuse(e, i, "load of this size is not defined for this mode");
	switch (BPF_MODE(f->code)) {
	case BPF_IMM:
		return put(e, BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, f->k);
	case BPF_MEM:
		err = mem_off(e, i, &off);
		return err ?: put(e, BPF_LDX | BPF_MEM | BPF_W, dst, R_FP, off, 0);
	case BPF_LEN:
		return put(e, BPF_ALU | BPF_MOV | BPF_X, dst, FFPF_CBPF_R_LEN, 0, 0);
	case BPF_ABS:
	case BPF_IND:
		if (ldx || !size_bytes(f->code))
			break;
		return emit_load(e, i, dst, size_bytes(f->code), BPF_MODE(f->code) == BPF_IND);
	case BPF_MSH:
		if (!ldx || BPF_SIZE(f->code) != BPF_B)
			break;
		/* X = (P[k] & 0xf) << 2: the IPv4 header length. */
		err = emit_load(e, i, R_X, 1, false);
		if (err || load_always_fails(f))
			return err;
		err = put(e, BPF_ALU | BPF_AND | BPF_K, R_X, 0, 0, 0xf);
		return err ?: put(e, BPF_ALU | BPF_LSH | BPF_K, R_X, 0, 0, 2);
	}
	return refuse(e, i, "unknown load mode");
}

static int emit_alu(struct emit *e, int i)
{
	const struct sock_filter *f = &e->c[i];
	__u8 op = BPF_OP(f->code);
	bool x = BPF_SRC(f->code) == BPF_X;
	int err;

	switch (op) {
	case BPF_ADD: case BPF_SUB: case BPF_MUL: case BPF_AND:
	case BPF_OR: case BPF_XOR:
		break;
	case BPF_NEG:
		return put(e, BPF_ALU | BPF_NEG, R_A, 0, 0, 0);
	case BPF_DIV: case BPF_MOD:
		if (!x && f->k == 0)
			return refuse(e, i, "division by constant zero");
		if (x) {
			/* bpf_filter returns 0; eBPF would carry on with 0. */
			err = put_jump(e, BPF_JMP32 | BPF_JEQ | BPF_K, R_X, 0, 0, LBL_REJECT(e));
			if (err)
				return err;
		}
		break;
	case BPF_LSH: case BPF_RSH:
		if (!x) {
			if (f->k >= 32)
				return refuse(e, i, "shift by constant %u is undefined", f->k);
			break;
		}
		/* bpf_filter: a shift by X >= 32 leaves A = 0. */
		err = put(e, BPF_JMP32 | BPF_JLT | BPF_K, R_X, 0, 2, 32);
		err = err ?: put(e, BPF_ALU | BPF_MOV | BPF_K, R_A, 0, 0, 0);
		err = err ?: put(e, BPF_JMP | BPF_JA, 0, 0, 1, 0);
		if (err)
			return err;
		break;
	default:
		return refuse(e, i, "unknown ALU operation");
	}
	if (x)
		return put(e, BPF_ALU | op | BPF_X, R_A, R_X, 0, 0);
	return put(e, BPF_ALU | op | BPF_K, R_A, 0, 0, f->k);
}

static int emit_jmp(struct emit *e, int i)
{
	const struct sock_filter *f = &e->c[i];
	__u8 op = BPF_OP(f->code), neg;
	__u8 src = BPF_SRC(f->code) == BPF_X ? BPF_X : BPF_K;
	int t = i + 1 + f->jt, fl = i + 1 + f->jf, next = i + 1;
	__u8 code, sreg;
	__u32 k;
	int err;

	if (op == BPF_JA) {
		t = i + 1 + (int)f->k;
		return t == next ? 0 : put_jump(e, BPF_JMP | BPF_JA, 0, 0, 0, t);
	}
	switch (op) {
	case BPF_JEQ: neg = BPF_JNE; break;
	case BPF_JGT: neg = BPF_JLE; break;
	case BPF_JGE: neg = BPF_JLT; break;
	case BPF_JSET: neg = 0; break;
	default:
		return refuse(e, i, "unknown jump");
	}
	/* 32-bit compares: a 64-bit one would sign-extend k >= 2^31. */
	code = BPF_JMP32 | op | src;
	sreg = src == BPF_X ? R_X : 0;
	k = src == BPF_X ? 0 : f->k;	/* imm must be 0 with a register */
	if (t == fl)
		return t == next ? 0 : put_jump(e, BPF_JMP | BPF_JA, 0, 0, 0, t);
	if (fl == next)
		return put_jump(e, code, R_A, sreg, k, t);
	if (t == next && neg)
		return put_jump(e, BPF_JMP32 | neg | src, R_A, sreg, k, fl);
	err = put_jump(e, code, R_A, sreg, k, t);
	return err ?: put_jump(e, BPF_JMP | BPF_JA, 0, 0, 0, fl);
}

/* Exactly the codes bpf_filter() has a case for: any other bit set is unknown. */
static bool known_code(__u16 code)
{
	switch (BPF_CLASS(code)) {
	case BPF_LD:
		return code == (BPF_LD | BPF_IMM) || code == (BPF_LD | BPF_MEM) ||
		       code == (BPF_LD | BPF_W | BPF_LEN) ||
		       ((BPF_MODE(code) == BPF_ABS || BPF_MODE(code) == BPF_IND) &&
			BPF_SIZE(code) != BPF_DW);
	case BPF_LDX:
		return code == (BPF_LDX | BPF_IMM) || code == (BPF_LDX | BPF_MEM) ||
		       code == (BPF_LDX | BPF_W | BPF_LEN) || code == (BPF_LDX | BPF_B | BPF_MSH);
	case BPF_ST:
	case BPF_STX:
		return code == BPF_CLASS(code);
	case BPF_ALU:
		if (BPF_OP(code) == BPF_NEG)
			return code == (BPF_ALU | BPF_NEG);
		return BPF_OP(code) <= BPF_XOR && BPF_OP(code) != BPF_NEG;
	case BPF_JMP:
		if (BPF_OP(code) == BPF_JA)
			return code == (BPF_JMP | BPF_JA);
		return BPF_OP(code) <= BPF_JSET;
	case BPF_RET:
		return code == (BPF_RET | BPF_K) || code == (BPF_RET | BPF_A);
	case BPF_MISC:
		return code == (BPF_MISC | BPF_TAX) || code == (BPF_MISC | BPF_TXA);
	}
	return false;
}

static int emit_one(struct emit *e, int i)
{
	static const char *const cls[] = { "LD", "LDX", "ST", "STX", "ALU", "JMP", "RET", "MISC" };
	const struct sock_filter *f = &e->c[i];
	int off = 0, err;

	if (!known_code(f->code))
		return refuse(e, i, "not a %s instruction bpf_filter() knows", cls[BPF_CLASS(f->code)]);

	switch (BPF_CLASS(f->code)) {
	case BPF_LD:
		return emit_ld(e, i, R_A);
	case BPF_LDX:
		return emit_ld(e, i, R_X);
	case BPF_ST:
	case BPF_STX:
		err = mem_off(e, i, &off);
		return err ?: put(e, BPF_STX | BPF_MEM | BPF_W, R_FP,
			   BPF_CLASS(f->code) == BPF_ST ? R_A : R_X, off, 0);
	case BPF_ALU:
		return emit_alu(e, i);
	case BPF_JMP:
		return emit_jmp(e, i);
	case BPF_RET:
		if (BPF_RVAL(f->code) == BPF_K)
			err = put(e, BPF_ALU | BPF_MOV | BPF_K, R_A, 0, 0, f->k);
		else if (BPF_RVAL(f->code) == BPF_A)
			err = 0;	/* the verdict register is A */
		else
			return refuse(e, i, "return of X (bpf_filter only returns k or A)");
		return err ?: put_jump(e, BPF_JMP | BPF_JA, 0, 0, 0, LBL_END(e));
	case BPF_MISC:
		if (BPF_MISCOP(f->code) == BPF_TAX)
			return put(e, BPF_ALU | BPF_MOV | BPF_X, R_X, R_A, 0, 0);
		if (BPF_MISCOP(f->code) == BPF_TXA)
			return put(e, BPF_ALU | BPF_MOV | BPF_X, R_A, R_X, 0, 0);
		return refuse(e, i, "misc operation other than TAX/TXA");
	}
	return refuse(e, i, "unknown instruction class");
}

/* Does control go on to i + 1 after @f? (Jumps and returns decide themselves.) */
static bool falls_through(const struct sock_filter *f)
{
	__u16 cls = BPF_CLASS(f->code);

	return cls != BPF_RET && cls != BPF_JMP && !load_always_fails(f);
}

/*
 * Mark what can run: the verifier refuses unreachable code, and libpcap
 * may leave some, as may a load that always fails. Also checks that
 * every jump lands inside the program and nothing runs off its end.
 */
static int mark_reachable(struct emit *e, bool *live)
{
	const struct sock_filter *c = e->c;

	live[0] = true;
	for (int i = 0; i < e->n; i++) {
		int t[2], nt = 0;

		if (!live[i])
			continue;
		if (BPF_CLASS(c[i].code) == BPF_JMP) {
			if (BPF_OP(c[i].code) == BPF_JA) {
				/*
				 * bpf_filter() wraps k, so a huge one jumps back: libpcap's
				 * protochain loops so, without a bound (a header that
				 * points to itself hangs it). Nothing exact terminates.
				 */
				if ((__s32)c[i].k < 0)
					return refuse(e, i, "backward jump to instruction %d: a loop "
						      "(libpcap's protochain) is not supported",
						      i + 1 + (__s32)c[i].k);
				if (c[i].k >= (__u32)(e->n - i - 1))
					return refuse(e, i, "jump past the end");
				t[nt++] = i + 1 + c[i].k;
			} else {
				t[nt++] = i + 1 + c[i].jt;
				t[nt++] = i + 1 + c[i].jf;
			}
		} else if (falls_through(&c[i])) {
			t[nt++] = i + 1;
		}
		for (int j = 0; j < nt; j++) {
			if (t[j] >= e->n)
				return refuse(e, i, t[j] == i + 1 ? "runs off the end of the program"
								  : "jump past the end");
			live[t[j]] = true;
		}
	}
	return 0;
}

static bool uses_mem(const struct sock_filter *c, int n)
{
	for (int i = 0; i < n; i++) {
		__u16 cls = BPF_CLASS(c[i].code);

		if (cls == BPF_ST || cls == BPF_STX ||
		    ((cls == BPF_LD || cls == BPF_LDX) && BPF_MODE(c[i].code) == BPF_MEM))
			return true;
	}
	return false;
}

static int translate(struct emit *e, bool *live)
{
	int err;

	err = mark_reachable(e, live);
	/* A = X = 0, and M[] zeroed: the verifier wants every read initialised. */
	err = err ?: put(e, BPF_ALU | BPF_MOV | BPF_K, R_A, 0, 0, 0);
	err = err ?: put(e, BPF_ALU | BPF_MOV | BPF_K, R_X, 0, 0, 0);
	if (uses_mem(e->c, e->n))
		for (int j = 0; j < MEMWORDS * 4 / 8 && !err; j++)
			err = put(e, BPF_ST | BPF_MEM | BPF_DW, R_FP, 0, e->scratch + 8 * j, 0);
	for (int i = 0; i < e->n && !err; i++) {
		e->start[i] = e->len;
		if (live[i])
			err = emit_one(e, i);
	}
	if (err)
		return err;
	e->start[LBL_REJECT(e)] = e->len;
	if (e->need_reject)
		err = put(e, BPF_ALU | BPF_MOV | BPF_K, R_A, 0, 0, 0);
	e->start[LBL_END(e)] = e->len;
	for (int j = 0; j < e->nfix && !err; j++) {
		int off = e->start[e->fix[j].target] - e->fix[j].at - 1;

		if (off > 0x7fff) {
			snprintf(e->err, e->errlen, "eBPF jump of %d instructions is too long", off);
			return -E2BIG;
		}
		e->insn[e->fix[j].at].off = off;
	}
	return err;
}

int ffpf_cbpf_to_ebpf(const struct sock_filter *c, int n, const struct ffpf_cbpf_opts *o,
		      struct bpf_insn **out, int *nout, char *err, size_t errlen)
{
	struct emit e = { .c = c, .n = n, .err = err, .errlen = errlen };
	bool *live;
	int ret;

	if (!err)
		errlen = 0;	/* snprintf(NULL, 0, ...) is fine */
	e.errlen = errlen;
	if (errlen)
		err[0] = '\0';
	if (!c || !out || !nout || n <= 0 || n > FFPF_CBPF_MAX_INSNS) {
		snprintf(err, errlen, "a classic program has 1 to %d instructions", FFPF_CBPF_MAX_INSNS);
		return -EINVAL;
	}
	e.scratch = o && o->sz >= offsetof(struct ffpf_cbpf_opts, scratch_off) + sizeof(int) &&
		    o->scratch_off ? o->scratch_off : -MEMWORDS * 4;
	if (e.scratch > -MEMWORDS * 4 || e.scratch < -512 || e.scratch % 8) {
		snprintf(err, errlen, "scratch_off %d: not an 8-aligned stack slot of 64 bytes",
			 e.scratch);
		return -EINVAL;
	}
	e.cap = 16 + 8 * n;
	e.insn = malloc(e.cap * sizeof(*e.insn));
	e.start = calloc(n + 2, sizeof(*e.start));
	live = calloc(n, sizeof(*live));
	if (!e.insn || !e.start || !live) {
		ret = -ENOMEM;
		goto out;
	}
	ret = translate(&e, live);
	if (!ret) {
		*out = e.insn;
		*nout = e.len;
		e.insn = NULL;
	}
out:
	free(e.insn);
	free(e.start);
	free(e.fix);
	free(live);
	return ret;
}
