// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_payload.c - the payload class's pattern compiler (user/lib/payload.c):
 * the automaton, run as the datapath runs it, must find a pattern exactly
 * when a plain search does, on random patterns and texts over small
 * alphabets (where overlaps and failure links matter).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "payload.h"

/* As payload_search() in bpf/filters/payload.bpf.c; b[n] must be readable. */
static int run(const struct ffpf_payload_tables *tab, const __u8 *b, size_t n)
{
	unsigned s = 0;

	for (size_t i = 0; i < n; i++) {
		__u16 t;

		if (s == 0) {
			unsigned h = b[i] | b[i + 1] << 8;

			if (!(tab->first2[h >> 3] & (1 << (h & 7))))
				continue;
		}
		t = tab->dfa[s & (FFPF_PL_STATES - 1)][b[i]];

		if (t & FFPF_PL_ACCEPT)
			return 1;
		s = t;
	}
	return 0;
}

static int naive(const struct ffpf_payload_cfg *c, const __u8 *b, size_t n)
{
	for (int i = 0; i < c->npat; i++)
		for (size_t k = 0; k + c->len[i] <= n; k++)
			if (!memcmp(b + k, c->pat[i], c->len[i]))
				return 1;
	return 0;
}

Test(payload_compile, agrees_with_a_plain_search)
{
	struct ffpf_payload_tables *dfa = malloc(sizeof(*dfa));
	unsigned seed = 12345;
	int hits = 0;

	cr_assert_not_null(dfa);
	for (int round = 0; round < 400; round++) {
		struct ffpf_payload_cfg c = { .npat = 1 + rand_r(&seed) % FFPF_PL_MAX_PATTERNS };
		int alpha = 2 + rand_r(&seed) % 4, maxlen = 1 + rand_r(&seed) % 6;
		__u8 text[201];

		for (int i = 0; i < c.npat; i++) {
			c.len[i] = 1 + rand_r(&seed) % maxlen;
			for (int k = 0; k < c.len[i]; k++)
				c.pat[i][k] = 'a' + rand_r(&seed) % alpha;
		}
		cr_assert_gt(ffpf_payload_compile(&c, dfa), 0);
		for (int t = 0; t < 20; t++) {
			size_t n = rand_r(&seed) % sizeof(text);

			for (size_t k = 0; k <= n; k++)	/* text[n]: stale, as in the stage */
				text[k] = 'a' + rand_r(&seed) % (alpha + 1);
			cr_assert_eq(run(dfa, text, n), naive(&c, text, n),
				     "round %d text %d: automaton and search disagree", round, t);
			hits += naive(&c, text, n);
		}
	}
	cr_expect_gt(hits, 100);
	cr_expect_lt(hits, 400 * 20 - 100);
	free(dfa);
}

Test(payload_compile, worst_case_fits_and_bad_configs_are_refused)
{
	struct ffpf_payload_tables *dfa = malloc(sizeof(*dfa));
	struct ffpf_payload_cfg c = { .npat = FFPF_PL_MAX_PATTERNS };
	__u8 text[33];
	int rows;

	cr_assert_not_null(dfa);
	/* 32 patterns of 32 bytes sharing no prefix: the most trie nodes */
	for (int i = 0; i < c.npat; i++) {
		c.len[i] = FFPF_PL_MAX_PATLEN;
		for (int k = 0; k < FFPF_PL_MAX_PATLEN; k++)
			c.pat[i][k] = i * 7 + k * 3 + 1;
		c.pat[i][0] = 0x80 + i;
	}
	rows = ffpf_payload_compile(&c, dfa);
	cr_expect_eq(rows, FFPF_PL_MAX_PATTERNS * (FFPF_PL_MAX_PATLEN - 1) + 1);
	cr_expect_leq(rows, FFPF_PL_STATES);
	memcpy(text, c.pat[31], 32);
	text[32] = 0;
	cr_expect_eq(run(dfa, text, 32), 1);
	cr_expect_eq(run(dfa, text, 31), 0);
	c.npat = 0;
	cr_expect_eq(ffpf_payload_compile(&c, dfa), -EINVAL);
	c.npat = 1;
	c.len[0] = 0;
	cr_expect_eq(ffpf_payload_compile(&c, dfa), -EINVAL);
	c.len[0] = FFPF_PL_MAX_PATLEN + 1;
	cr_expect_eq(ffpf_payload_compile(&c, dfa), -EINVAL);
	free(dfa);
}
