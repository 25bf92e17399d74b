/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* payload.h (internal) - the payload class's pattern compiler. */
#ifndef FFPF_PAYLOAD_H
#define FFPF_PAYLOAD_H

#include <ffpf/mbuf.h>

/*
 * Compile @cfg's patterns into @t: t->dfa is an Aho-Corasick automaton as
 * a full transition table (row s, column b: the state after byte b in
 * state s, or FFPF_PL_ACCEPT when a pattern ends there; the search stops
 * at the first match, so accepting states need no row; state 0 is the
 * start), t->first2 the pairs of first bytes. Returns the number of rows
 * used, or -EINVAL (no pattern, a length out of range) or -ENOMEM.
 */
int ffpf_payload_compile(const struct ffpf_payload_cfg *cfg, struct ffpf_payload_tables *t);

#endif /* FFPF_PAYLOAD_H */
