/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* payload.h (internal) - the payload class's pattern compiler. */
#ifndef FFPF_PAYLOAD_H
#define FFPF_PAYLOAD_H

#include <ffpf/mbuf.h>

/* Bytes of the automaton the stage's payload_dfa holds. */
#define FFPF_PL_DFA_SIZE	(FFPF_PL_STATES * 256 * sizeof(__u16))

/*
 * Compile @cfg's patterns into @dfa (FFPF_PL_DFA_SIZE bytes): an
 * Aho-Corasick automaton as a full transition table. Row s, column b is
 * the state after byte b in state s, or FFPF_PL_ACCEPT when a pattern
 * ends there (the search stops at the first match, so accepting states
 * need no row). State 0 is the start. Returns the number of rows used, or
 * -EINVAL (no pattern, a length out of range) or -ENOMEM.
 */
int ffpf_payload_compile(const struct ffpf_payload_cfg *cfg, __u16 *dfa);

#endif /* FFPF_PAYLOAD_H */
