/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * spec.h (internal) - the flow spec parser and the built-in classes'
 * argument parsers. Pure user-space code: no BPF, unit-tested by Criterion.
 *
 * Grammar (docs/spec.md):
 *   spec    := alt
 *   alt     := chain ( "|" chain )*
 *   chain   := element ( "->" element )*
 *   element := filter | "(" alt ")"
 *   filter  := [ NAME "::" ] CLASS [ "(" [ arg ( "," arg )* ] ")" ]
 *   arg     := any text up to a top-level "," or ")"  (parens may nest)
 * "->" binds tighter than "|". A flow file (ffpf_spec_split_flows) is
 *   file    := ( NAME "=" spec [ ";" ] )*
 * Whitespace and newlines separate tokens; "#" starts a comment to end of line.
 * Inside an argument, "..." quotes hide commas, parens and "#" (a backslash
 * escapes a quote); a comment there becomes blanks in the argument's text.
 */
#ifndef FFPF_SPEC_H
#define FFPF_SPEC_H

#include <stdbool.h>
#include <stddef.h>
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

/* Where a filter's verdict leads besides another filter (pass, fail). */
#define FFPF_SPEC_ACCEPT	(-1)	/* the flow accepts the packet */
#define FFPF_SPEC_REJECT	(-2)	/* the flow rejects it */
#define FFPF_SPEC_MAX_DEPTH	32	/* groups nested in groups */
#define FFPF_SPEC_MAX_FILTERS	1024	/* a parse bound; flows take 16 */

struct ffpf_spec_filter {
	char *name;		/* instance name before "::", or NULL */
	char *cls;		/* class name, or an instance's name (a reference) */
	int line, col;		/* position of the class name */
	int name_line, name_col;	/* position of the instance name */
	bool parens;		/* an argument list was written, "()" included */
	/*
	 * The graph: the filter to run next when this one accepts (pass) or
	 * rejects (fail) the packet, an index into ffpf_spec.filters, or
	 * FFPF_SPEC_ACCEPT / FFPF_SPEC_REJECT. Edges only go forward.
	 */
	int pass, fail;
	int nargs;
	struct ffpf_spec_arg args[FFPF_SPEC_MAX_ARGS];
};

/* The syntax tree, kept to print the spec back (ffpf_spec_format). */
enum ffpf_spec_kind { FFPF_SPEC_FILTER, FFPF_SPEC_SEQ, FFPF_SPEC_ALT };
struct ffpf_spec_node {
	enum ffpf_spec_kind kind;
	int filter;		/* FILTER: index into filters */
	int first;		/* SEQ, ALT: first child node */
	int next;		/* next sibling, or -1 */
};

struct ffpf_spec {
	int nfilters;
	struct ffpf_spec_filter *filters;	/* in text order; filters[0] runs first */
	int nnodes;
	struct ffpf_spec_node *nodes;
	int root;				/* node index */
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
 * The spec back as text, canonical: "name :: class(arg, arg) -> (a | b)",
 * without comments. Returns the length it needed (as snprintf); @buf is
 * cut at @len - 1 characters.
 */
size_t ffpf_spec_format(const struct ffpf_spec *spec, char *buf, size_t len);
/* One filter as "class(arg, arg)" (no name), cut as snprintf. */
size_t ffpf_spec_filter_format(const struct ffpf_spec_filter *f, char *buf, size_t len);

/*
 * A flow file: "NAME = SPEC" entries, each SPEC ending at ";", at the
 * next "NAME =" or at the end. Each def's spec is a copy of @text with
 * everything outside that spec blanked (newlines kept), so positions in
 * a spec error are positions in the file. Returns the number of flows
 * (0: none) or -EINVAL with @err filled, or -ENOMEM.
 */
struct ffpf_spec_flowdef {
	char *name;
	char *spec;
	int line, col;		/* of the name */
};
int ffpf_spec_split_flows(const char *text, struct ffpf_spec_flowdef **out,
			  struct ffpf_spec_error *err);
void ffpf_spec_flowdefs_free(struct ffpf_spec_flowdef *defs, int n);
/* Does @text start with "NAME =" (a flow file rather than one spec)? */
bool ffpf_spec_is_flow_file(const char *text);

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

/* --- prefixset (issue 5) --- */
#include <stddef.h>
/* Initial prefixes a spec can carry: the arguments left after dir, mode. */
#define FFPF_PS_INIT_MAX	(FFPF_SPEC_MAX_ARGS - 2)

/*
 * What prefixset's configure writes into the stage's init area: the MBuf
 * configuration (only that reaches the MBuf) and, past the MBuf's
 * configuration bytes, the initial prefixes the loader adds to the trie.
 */
struct ffpf_prefixset_args {
	union {
		struct ffpf_prefixset_cfg cfg;
		__u8 head[offsetof(struct ffpf_prefixset_mbuf, cpu)];
	};
	__u32 n;
	struct ffpf_prefixset_key init[FFPF_PS_INIT_MAX];
};

/*
 * Parse "ADDR/LEN" or "ADDR" (a host: /32 or /128), IPv4 or IPv6, into an
 * LPM key: IPv4 v4-mapped with prefixlen 96 + LEN, the address masked to
 * the prefix. Returns 0, or -EINVAL with @why (a message) and *@off (the
 * byte of @text it points at) filled.
 */
int ffpf_prefix_parse(const char *text, struct ffpf_prefixset_key *key,
		      char *why, size_t whylen, size_t *off);
/* Format @key as "10.0.0.0/8" or "2001:db8::/32" into @buf (>= 64 bytes). */
void ffpf_prefix_format(const struct ffpf_prefixset_key *key, char *buf, size_t len);
/*
 * prefixset(src|dst|either, allow|deny, [size=N,] PREFIX, ...): direction
 * and mode first, then at most one size=N (1..FFPF_PS_SIZE_MAX trie
 * entries, default FFPF_PS_SIZE_DEFAULT) and up to FFPF_PS_INIT_MAX
 * prefixes in any order.
 */
int ffpf_prefixset_parse_args(const struct ffpf_spec_filter *f,
			      struct ffpf_prefixset_args *out,
			      struct ffpf_spec_error *err);

/* --- bpf (issue 5) --- */
/* libpcap's accept value when it compiles a bpf() expression (nonzero). */
#define FFPF_BPF_SNAPLEN	262144
/*
 * Can @expr become a stage? Compiles it with libpcap and translates the
 * result (no kernel involved). Returns 0, or -EINVAL with @why saying
 * libpcap's error or the instruction the translator refuses.
 */
int ffpf_bpf_check_expr(const char *expr, char *why, size_t whylen);
/*
 * bpf("EXPR"): exactly one double-quoted pcap-filter expression (\" and
 * \\ escape a quote and a backslash), compiled and translated here so a
 * bad one is refused at the argument's position.
 */
struct ffpf_bpf_cfg;
int ffpf_bpf_parse_args(const struct ffpf_spec_filter *f, struct ffpf_bpf_cfg *cfg,
			struct ffpf_spec_error *err);

/*
 * obj("FILE", "PROG", mbuf="MAP"): a user stage (ffpf/stage.h). FILE is
 * made absolute and checked here (an ELF BPF object with a license, the
 * program PROG, reserved maps as declared by the header); MAP defaults to
 * "PROG_mbuf" and, when given, must exist. cfg is a struct ffpf_obj_cfg.
 */
struct ffpf_obj_cfg;
int ffpf_obj_parse_args(const struct ffpf_spec_filter *f, struct ffpf_obj_cfg *cfg,
			struct ffpf_spec_error *err);

#endif /* FFPF_SPEC_H */
