// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * payload.c - compile the payload class's patterns into the automaton its
 * stage runs (bpf/filters/payload.bpf.c).
 *
 * A trie of the patterns gets failure links breadth-first (Aho-Corasick),
 * then every missing edge is filled from the failure state's row, so the
 * datapath needs no failure links: one table load per byte. A node is
 * accepting if a pattern ends there or at a node its failure chain
 * reaches; edges into accepting nodes become FFPF_PL_ACCEPT and only the
 * other nodes get a row. The pairs of first bytes let the stage skip, in
 * the start state, a byte that cannot begin a match. With 32 patterns of 32 bytes the trie has at
 * most 32 * 32 + 1 nodes, at least one of them accepting, so the rows fit
 * in FFPF_PL_STATES.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "payload.h"

#define NODES_MAX	(FFPF_PL_MAX_PATTERNS * FFPF_PL_MAX_PATLEN + 1)

int ffpf_payload_compile(const struct ffpf_payload_cfg *cfg, struct ffpf_payload_tables *tab)
{
	int (*next)[256] = NULL;	/* trie edges, then the full transition function */
	int *fail = NULL, *queue = NULL, *row = NULL;
	unsigned char *acc = NULL;
	int nodes = 1, rows = 0, head = 0, tail = 0, ret = -ENOMEM;

	if (!cfg->npat || cfg->npat > FFPF_PL_MAX_PATTERNS)
		return -EINVAL;
	for (int i = 0; i < cfg->npat; i++)
		if (!cfg->len[i] || cfg->len[i] > FFPF_PL_MAX_PATLEN)
			return -EINVAL;
	next = malloc(sizeof(*next) * NODES_MAX);
	fail = calloc(NODES_MAX, sizeof(*fail));
	queue = malloc(sizeof(*queue) * NODES_MAX);
	row = malloc(sizeof(*row) * NODES_MAX);
	acc = calloc(NODES_MAX, 1);
	if (!next || !fail || !queue || !row || !acc)
		goto out;
	memset(next, 0xff, sizeof(*next) * NODES_MAX);	/* -1: no edge */

	for (int i = 0; i < cfg->npat; i++) {
		int s = 0;

		for (int k = 0; k < cfg->len[i]; k++) {
			int *e = &next[s][cfg->pat[i][k]];

			if (*e < 0)
				*e = nodes++;
			s = *e;
		}
		acc[s] = 1;
	}

	/* Breadth-first: a node's failure state is shallower, so done first. */
	for (int b = 0; b < 256; b++) {
		if (next[0][b] < 0) {
			next[0][b] = 0;
		} else {
			fail[next[0][b]] = 0;
			queue[tail++] = next[0][b];
		}
	}
	while (head < tail) {
		int s = queue[head++];

		acc[s] |= acc[fail[s]];
		for (int b = 0; b < 256; b++) {
			int t = next[s][b];

			if (t < 0) {
				next[s][b] = next[fail[s]][b];
			} else {
				fail[t] = next[fail[s]][b];
				queue[tail++] = t;
			}
		}
	}

	/* Rows for the non-accepting nodes, the root first. */
	for (int s = 0; s < nodes; s++)
		row[s] = acc[s] ? -1 : rows++;
	if (rows > FFPF_PL_STATES) {	/* cannot happen within the limits above */
		ret = -E2BIG;
		goto out;
	}
	memset(tab, 0, sizeof(*tab));
	for (int s = 0; s < nodes; s++) {
		if (row[s] < 0)
			continue;
		for (int b = 0; b < 256; b++) {
			int t = next[s][b];

			tab->dfa[row[s]][b] = row[t] < 0 ? FFPF_PL_ACCEPT : row[t];
		}
	}
	for (int i = 0; i < cfg->npat; i++) {
		for (int b1 = 0; b1 < 256; b1++) {
			unsigned h = cfg->pat[i][0] | (cfg->len[i] > 1 ? cfg->pat[i][1] : b1) << 8;

			tab->first2[h >> 3] |= 1 << (h & 7);
			if (cfg->len[i] > 1)
				break;
		}
	}
	ret = rows;
out:
	free(next);
	free(fail);
	free(queue);
	free(row);
	free(acc);
	return ret;
}
