// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cbpf_stage.c - the bpf("EXPR") class's stage program. The class object
 * (bpf/filters/bpf.bpf.c) is loaded by the normal path, so its MBuf and
 * the interface's shared maps exist; this hook then compiles the MBuf's
 * expression (libpcap), translates it (cbpf.c) and loads
 *
 *	prologue  ctx saved; p = ffpf_pctx[0]; c = &mbuf->cpu[p->cpu & 63];
 *	          c->seen++; r7/r8 = packet start/end from ctx; w9 = p->len
 *	body      the translated classic program: w0 = verdict
 *	epilogue  reject: tail call ffpf_progs[fail_slot], or FFPF_V_REJECT
 *	          when there is none; accept: c->passed++, c->bytes +=
 *	          p->len, then tail call ffpf_progs[next_slot] (FFPF_V_ERROR
 *	          if a tail call fails), or FFPF_V_ACCEPT when there is none
 *
 * with the stub's type, attach type and flags, so the prog array takes
 * it. The stub itself is never loaded (the class's .prepare turns its
 * autoload off): the object contributes its maps only. The program is
 * st->prog_fd: what the flow puts in its slot and pins;
 * ffpf_stage_unload() closes it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "internal.h"
#include "log.h"
#include "spec.h"
#include "cbpf.h"
#include "cbpf_compile.h"

#define LOG_SZ		(1 << 20)
/* Stack: M[] at [-64, 0) (the body's default), then our own slots. */
#define FP_CTX		(-72)
#define FP_SLOT		(-80)	/* this CPU's struct ffpf_mbuf_cpu */
#define FP_KEY		(-88)	/* __u32 0: the key of both lookups */

_Static_assert(sizeof(struct ffpf_mbuf_cpu) == 64, "cpu[] index is shifted by 6");

struct gen {
	struct bpf_insn *insn;
	int len, cap;
};

static void put(struct gen *g, __u8 code, __u8 dst, __u8 src, __s16 off, __s32 imm)
{
	if (g->len < g->cap)
		g->insn[g->len] = (struct bpf_insn){ .code = code, .dst_reg = dst,
			.src_reg = src, .off = off, .imm = imm };
	g->len++;
}

static void put_map(struct gen *g, __u8 dst, int fd)
{
	put(g, BPF_LD | BPF_IMM | BPF_DW, dst, BPF_PSEUDO_MAP_FD, 0, fd);
	put(g, 0, 0, 0, 0, 0);
}

/* *(u64 *)(r1 + off) += src: atomic where CPUs share counter slots. */
static void put_add(struct gen *g, bool atomic, int off, __u8 src)
{
	if (atomic) {
		put(g, BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_1, src, off, BPF_ADD);
		return;
	}
	put(g, BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_2, BPF_REG_1, off, 0);
	put(g, BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_2, src, 0, 0);
	put(g, BPF_STX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_2, off, 0);
}

/* r0 = lookup(map, key 0); on NULL jump to the error exit (patched). */
static int put_lookup(struct gen *g, int map_fd)
{
	put_map(g, BPF_REG_1, map_fd);
	put(g, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
	put(g, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, FP_KEY);
	put(g, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	put(g, BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, 0);
	return g->len - 1;
}

/* Go on at @slot (a tail call; FFPF_V_ERROR if it fails), or return @v. */
static void put_tail(struct gen *g, __u32 slot, int v, int progs_fd)
{
	if (slot != FFPF_SLOT_NONE) {
		put(g, BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_10, FP_CTX, 0);
		put_map(g, BPF_REG_2, progs_fd);
		put(g, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, slot);
		put(g, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_tail_call);
		v = FFPF_V_ERROR;
	}
	put(g, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, v);
	put(g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/*
 * The whole program into @g (two passes: the first, with cap 0, only
 * counts). @body: the translated expression.
 */
static void generate(struct gen *g, const struct bpf_insn *body, int nbody, bool tc,
		     const struct ffpf_stage_rodata *ro, int pctx_fd, int mbuf_fd,
		     int progs_fd, size_t cpu_off)
{
	int null1, null2, verdict, err_at;

	put(g, BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_1, FP_CTX, 0);
	put(g, BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, FP_KEY, 0);
	null1 = put_lookup(g, pctx_fd);
	put(g, BPF_LDX | BPF_MEM | BPF_W, FFPF_CBPF_R_LEN, BPF_REG_0,
	    offsetof(struct ffpf_pkt, len), 0);
	put(g, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_7, BPF_REG_0,
	    offsetof(struct ffpf_pkt, cpu), 0);
	put(g, BPF_ALU | BPF_AND | BPF_K, BPF_REG_7, 0, 0, FFPF_MBUF_CPUS - 1);
	put(g, BPF_ALU64 | BPF_LSH | BPF_K, BPF_REG_7, 0, 0, 6);
	null2 = put_lookup(g, mbuf_fd);
	put(g, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_0, 0, 0, cpu_off);
	put(g, BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_0, BPF_REG_7, 0, 0);
	put(g, BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_0, FP_SLOT, 0);
	put(g, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_0, 0, 0);
	put(g, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 1);
	put_add(g, ro->atomic, offsetof(struct ffpf_mbuf_cpu, seen), BPF_REG_3);
	/* The packet, as the hook's context gives it. */
	put(g, BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_10, FP_CTX, 0);
	put(g, BPF_LDX | BPF_MEM | BPF_W, FFPF_CBPF_R_DATA, BPF_REG_1,
	    tc ? offsetof(struct __sk_buff, data) : offsetof(struct xdp_md, data), 0);
	put(g, BPF_LDX | BPF_MEM | BPF_W, FFPF_CBPF_R_END, BPF_REG_1,
	    tc ? offsetof(struct __sk_buff, data_end) : offsetof(struct xdp_md, data_end), 0);
	for (int i = 0; i < nbody; i++)
		put(g, body[i].code, body[i].dst_reg, body[i].src_reg, body[i].off, body[i].imm);
	/* Epilogue: w0 is the verdict. */
	verdict = g->len;
	put(g, BPF_JMP32 | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, 0);	/* -> reject */
	put(g, BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_10, FP_SLOT, 0);
	put(g, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 1);
	put_add(g, ro->atomic, offsetof(struct ffpf_mbuf_cpu, passed), BPF_REG_3);
	put_add(g, ro->atomic, offsetof(struct ffpf_mbuf_cpu, bytes), FFPF_CBPF_R_LEN);
	put_tail(g, ro->next_slot, FFPF_V_ACCEPT, progs_fd);
	if (g->cap)
		g->insn[verdict].off = g->len - verdict - 1;
	put_tail(g, ro->fail_slot, FFPF_V_REJECT, progs_fd);
	err_at = g->len;
	put(g, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, FFPF_V_ERROR);
	put(g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	if (g->cap) {
		g->insn[null1].off = err_at - null1 - 1;
		g->insn[null2].off = err_at - null2 - 1;
	}
}

/* The verifier's last lines: what it refused. */
static void log_tail(const char *log, char *err, size_t errlen)
{
	size_t n = strlen(log);

	const char *p = n > 600 ? log + n - 600 : log;
	size_t m = strlen(p) < errlen ? strlen(p) : errlen - 1;

	memcpy(err, p, m);
	err[m] = 0;
}

int ffpf_cbpf_stage_loaded(struct ffpf_stage *st)
{
	const struct ffpf_bpf_cfg *cfg = (const void *)st->init;
	const struct ffpf_stage_rodata *ro = NULL;
	struct bpf_program *stub = bpf_object__next_program(st->obj, NULL);
	struct sock_filter *c = NULL;
	struct bpf_insn *body = NULL;
	struct gen g = { 0 };
	struct bpf_map *map;
	char msg[700] = "", *log;
	int n, nbody, fd, err;
	bool tc;

	bpf_object__for_each_map(map, st->obj) {
		size_t len = strlen(bpf_map__name(map)), sz;

		if (len >= 7 && !strcmp(bpf_map__name(map) + len - 7, ".rodata"))
			ro = bpf_map__initial_value(map, &sz);
	}
	if (!stub || !ro)
		return ffpf_err(ENOENT, "bpf: class object without its program or .rodata\n");
	tc = bpf_program__type(stub) == BPF_PROG_TYPE_SCHED_CLS;
	n = ffpf_cbpf_compile_insns(cfg->expr, FFPF_BPF_SNAPLEN, &c, msg, sizeof(msg));
	if (n < 0)
		return ffpf_err(-n, "bpf(\"%s\"): %s\n", cfg->expr, msg);
	err = ffpf_cbpf_to_ebpf(c, n, NULL, &body, &nbody, msg, sizeof(msg));
	free(c);
	if (err)
		return ffpf_err(-err, "bpf(\"%s\"): not supported: %s\n", cfg->expr, msg);
	generate(&g, body, nbody, tc, ro, ffpf_stage_map_fd(st, "ffpf_pctx"),
		 st->mbuf_fd, ffpf_stage_map_fd(st, "ffpf_progs"), st->cls->cpu_off);
	g.insn = calloc(g.len, sizeof(*g.insn));
	if (!g.insn) {
		free(body);
		return -ENOMEM;
	}
	g.cap = g.len;
	g.len = 0;
	generate(&g, body, nbody, tc, ro, ffpf_stage_map_fd(st, "ffpf_pctx"),
		 st->mbuf_fd, ffpf_stage_map_fd(st, "ffpf_progs"), st->cls->cpu_off);
	free(body);

	LIBBPF_OPTS(bpf_prog_load_opts, o,
		    .expected_attach_type = bpf_program__expected_attach_type(stub),
		    .prog_flags = bpf_program__flags(stub));
	fd = bpf_prog_load(bpf_program__type(stub), bpf_program__name(stub), "Dual BSD/GPL",
			   g.insn, g.len, &o);
	if (fd < 0) {
		err = -errno;
		/* Again with the log, now that it is wanted. */
		log = calloc(1, LOG_SZ);
		if (log) {
			o.log_buf = log;
			o.log_size = LOG_SZ;
			o.log_level = 1;
			fd = bpf_prog_load(bpf_program__type(stub), bpf_program__name(stub),
					   "Dual BSD/GPL", g.insn, g.len, &o);
			if (fd >= 0)
				close(fd);
			log_tail(log, msg, sizeof(msg));
			free(log);
		}
		free(g.insn);
		return ffpf_err(-err, "bpf(\"%s\"): the verifier refused the stage (%s): %s\n",
				cfg->expr, strerror(-err), msg);
	}
	free(g.insn);
	st->prog_fd = fd;
	return 0;
}
