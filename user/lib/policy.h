/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * policy.h (internal) - the parsed policy file (policy.c) and the check
 * of a flow against it (policy_check.c). Format: docs/policy.md.
 */
#ifndef FFPF_POLICY_INT_H
#define FFPF_POLICY_INT_H

#include <stdbool.h>
#include <ffpf/policy.h>
#include "spec.h"

#define FFPF_POL_MAX_WORDS	32	/* patterns or classes on one line */
#define FFPF_POL_MAX_CONDS	8	/* "or" alternatives of one require */
#define FFPF_POL_MAX_ORDERS	16	/* require lines in one section */
#define FFPF_POL_WORD_LEN	32
#define FFPF_POL_TEXT_LEN	160

/* One alternative of a precondition: a filter that restricts addresses. */
struct ffpf_pol_cond {
	bool match;			/* match(...) rather than prefixset(...) */
	__u8 dir;			/* enum ffpf_ps_dir, 0: any direction */
	struct ffpf_prefixset_key within;	/* every address it allows lies here */
};

/* "require CLASS after COND or COND ...". */
struct ffpf_pol_order {
	char cls[FFPF_POL_WORD_LEN];
	int line;
	char text[FFPF_POL_TEXT_LEN];	/* the line as written, for denials */
	int ncond;
	struct ffpf_pol_cond cond[FFPF_POL_MAX_CONDS];
};

/* A directive's place, so a denial can quote it; line 0: not given. */
struct ffpf_pol_where {
	int line, col;
	char text[FFPF_POL_TEXT_LEN];
};

enum ffpf_pol_kind { FFPF_POL_USER, FFPF_POL_GROUP, FFPF_POL_DEFAULT };

/* One section: "user NAME", "group NAME" or "user *" and its directives. */
struct ffpf_pol_rule {
	enum ffpf_pol_kind kind;
	char who[FFPF_POL_WORD_LEN];	/* name or numeric id; "*" for the default */
	int line, col;
	struct ffpf_pol_where ifaces_at, classes_at, rx_at, snaplen_at, flows_at;
	struct ffpf_pol_where groups_at, mbuf_at;
	int nifaces, nclasses, ngroups;
	char groups[FFPF_POL_MAX_WORDS][FFPF_POL_WORD_LEN];	/* flow groups, fnmatch globs */
	unsigned mbuf;			/* enum ffpf_policy_access; default none */
	char ifaces[FFPF_POL_MAX_WORDS][FFPF_POL_WORD_LEN];	/* fnmatch globs */
	char classes[FFPF_POL_MAX_WORDS][FFPF_POL_WORD_LEN];	/* or "*" */
	unsigned rx_mask;		/* bit enum ffpf_rx_mode; default: none only */
	__u32 snaplen;			/* 0: no cap */
	unsigned max_flows;		/* valid when flows_at.line */
	int norders;
	struct ffpf_pol_order orders[FFPF_POL_MAX_ORDERS];
};

struct ffpf_policy {
	char *name;			/* file path, or "policy" */
	int nrules;
	struct ffpf_pol_rule *rules;	/* in file order */
};

/*
 * Parse @text; on -EINVAL @err has the line, column and message (the
 * public ffpf_policy_parse() prints it).
 */
int ffpf_policy_parse_text(const char *text, const char *name, struct ffpf_policy **out,
			   struct ffpf_spec_error *err);

/*
 * ffpf_flow_instantiate()'s check: load the policy (@path, or the
 * default), and if one is in force check @flow for this process's real
 * uid and groups with @nflows flows already instantiated. 0: allowed or
 * no policy; -EPERM printed with the reason; a load error.
 */
struct ffpf_flow;
int ffpf_policy_enforce(struct ffpf_flow *flow, const char *path, unsigned nflows);

/*
 * After an allowed check: a flow that did not ask for a snaplen gets the
 * rule's cap (@cap from ffpf_policy_check_opts.snaplen_cap, 0: none).
 */
void ffpf_policy_trim(struct ffpf_flow *flow, __u32 cap);

#endif /* FFPF_POLICY_INT_H */
