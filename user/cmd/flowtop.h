/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* flowtop.h - the live flow table of `ffpf-bpf flows --top` (flowtop.c). */
#ifndef FFPF_CMD_FLOWTOP_H
#define FFPF_CMD_FLOWTOP_H

#include <stdbool.h>
#include <stdio.h>
#include <ffpf/ffpf.h>

enum flowtop_sort { FLOWTOP_BYTES, FLOWTOP_PACKETS, FLOWTOP_RATE, FLOWTOP_AGE };

struct flowtop_opts {
	int rows;			/* flows shown; the final table shows all */
	enum flowtop_sort sort;
	bool ansi;			/* redraw in place (a terminal) */
};

struct flowtop;
struct flowtop *flowtop_new(const struct flowtop_opts *o);
void flowtop_free(struct flowtop *t);
/* One table of @flow's live flows; returns how many are live, or -errno. */
int flowtop_draw(struct flowtop *t, FILE *out, struct ffpf_flow *flow, const char *title,
		 const struct ffpf_ft_stats *st, bool final);
int flowtop_parse_sort(const char *s, enum flowtop_sort *out);

/* A side's address as text (IPv4 unmapped). */
void flowtop_addr(const struct ffpf_ft_key *k, int side, char *buf, size_t len);
/* "tcp", "udp", ... or the number. */
const char *flowtop_proto(__u8 proto, char *buf, size_t len);

#endif
