/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * spec.h (internal) - the flow spec parser and the built-in classes'
 * argument parsers. Pure user-space code: no BPF, unit-tested by Criterion.
 *
 * Grammar (docs/spec.md):
 *   spec    := chain
 *   chain   := filter ( "->" filter )*
 *   filter  := [ NAME "::" ] CLASS [ "(" [ arg ( "," arg )* ] ")" ]
 *   arg     := any text up to a top-level "," or ")"  (parens may nest)
 * Whitespace and newlines separate tokens; "#" starts a comment to end of line.
 * Inside an argument, "..." quotes hide commas, parens and "#" (a backslash
 * escapes a quote); a comment there becomes blanks in the argument's text.
 */
#ifndef FFPF_SPEC_H
#define FFPF_SPEC_H

#include <ffpf/mbuf.h>

#define FFPF_SPEC_MAX_ARGS	40	/* payload: 32 patterns + depth + offset */

/* Where and what went wrong; line and col are 1-based, in the spec text. */
struct ffpf_spec_error {
	int line;
	int col;
	char msg[256];
};

struct ffpf_spec_arg {
	char *text;		/* trimmed, NUL-terminated copy */
	int line, col;		/* position of the first non-blank character */
};

struct ffpf_spec_filter {
	char *name;		/* instance name before "::", or NULL */
	char *cls;		/* class name */
	int line, col;		/* position of the class name */
	int nargs;
	struct ffpf_spec_arg args[FFPF_SPEC_MAX_ARGS];
};

struct ffpf_spec {
	int nfilters;
	struct ffpf_spec_filter *filters;	/* in chain order */
};

/*
 * Parse @text into *@out. Returns 0, or -EINVAL with @err filled (line,
 * column and a message naming what was expected), or -ENOMEM.
 * An empty spec (only blanks/comments) is an error.
 */
int ffpf_spec_parse(const char *text, struct ffpf_spec **out,
		    struct ffpf_spec_error *err);
void ffpf_spec_free(struct ffpf_spec *spec);

/*
 * Class argument parsers: turn a parsed filter's args into the class's
 * configuration. Return 0 or -EINVAL with @err naming the offending
 * argument's line and column. They do not check f->cls.
 *
 * match terms (one per argument; all must hold):
 *   ip | ip4 | ip6 | tcp | udp | icmp | icmp6 | sctp | proto N|NAME
 *   [src|dst] host ADDR     [src|dst] net ADDR/LEN     (IPv4 or IPv6)
 *   [src|dst] port N[-M]    portrange N-M
 *   flags VALUE[/MASK]      letters F S R P A U E C (tcpdump style); implies tcp
 *   vlan [ID]               icmp-type N
 */
int ffpf_match_parse_args(const struct ffpf_spec_filter *f,
			  struct ffpf_match_cfg *cfg, struct ffpf_spec_error *err);
/* sample(N): pass 1 packet in N, N in 1..2^31-1. */
int ffpf_sample_parse_args(const struct ffpf_spec_filter *f, __u32 *every,
			   struct ffpf_spec_error *err);
/* count: no arguments. */
int ffpf_count_parse_args(const struct ffpf_spec_filter *f,
			  struct ffpf_spec_error *err);
/*
 * flowtrack(size=N, idle=SECONDS, active=SECONDS): each optional, at most
 * once, in any order. size 16..16777216 table entries (default 65536),
 * idle 1..86400 s (default 30), active 0..86400 s (default 0: none).
 */
struct ffpf_ft_cfg;
int ffpf_flowtrack_parse_args(const struct ffpf_spec_filter *f,
			      struct ffpf_ft_cfg *cfg, struct ffpf_spec_error *err);

/*
 * payload("PATTERN", ..., depth=N, offset=N): 1..32 double-quoted patterns
 * of 1..32 bytes (escapes \xHH \\ \" \n \r \t \0), in any order with
 * the optional depth (1..1500, default 256) and offset (0..1500, default 0).
 */
struct ffpf_payload_cfg;
int ffpf_payload_parse_args(const struct ffpf_spec_filter *f,
			    struct ffpf_payload_cfg *cfg, struct ffpf_spec_error *err);

/*
 * Can two match configurations accept the same packet? Conservative:
 * returns false only when they are provably disjoint (different IP
 * version or protocol, disjoint port ranges or prefixes in the same
 * direction). NULL means "matches everything".
 */
int ffpf_match_may_overlap(const struct ffpf_match_cfg *a,
			   const struct ffpf_match_cfg *b);

#endif /* FFPF_SPEC_H */
