/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ffpf/policy.h - authorisation control: who may instantiate which flow.
 *
 * A policy file (docs/policy.md, ffpf-bpf-policy(5)) says per user, per
 * group and by default which interfaces, filter classes, receive modes,
 * snaplen and number of flows are allowed, and which classes must be
 * preceded in the flow's graph by a restricting filter (e.g. payload only
 * after a prefixset that allows nothing outside 10.1.0.0/16). A flow is
 * checked whole, before anything is loaded.
 */
#ifndef FFPF_POLICY_H
#define FFPF_POLICY_H

#include <sys/types.h>
#include <ffpf/ffpf.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FFPF_POLICY_PATH	"/etc/ffpf-bpf/policy.conf"
/* Environment variable that overrides FFPF_POLICY_PATH. */
#define FFPF_POLICY_ENV		"FFPF_POLICY"

struct ffpf_policy;

/*
 * Load the policy file @path; NULL means $FFPF_POLICY, else
 * FFPF_POLICY_PATH. Returns 0 with *@out set, -ENOENT if the file does
 * not exist (no policy in force), -EINVAL for a syntax error (printed as
 * "FILE:LINE:COL: message"), -EACCES, -ENOMEM.
 */
FFPF_API int ffpf_policy_load(const char *path, struct ffpf_policy **out);

/*
 * Parse policy text; @name stands for the file in messages and in the
 * rules a denial names (NULL: "policy"). Errors as ffpf_policy_load().
 */
FFPF_API int ffpf_policy_parse(const char *text, const char *name,
			       struct ffpf_policy **out);

/* Safe on NULL. */
FFPF_API void ffpf_policy_free(struct ffpf_policy *pol);

enum ffpf_policy_access {
	FFPF_POLICY_MBUF_NONE = 0,
	FFPF_POLICY_MBUF_READ = 1,
	FFPF_POLICY_MBUF_WRITE = 2,
};

/* What the rule that allowed a flow grants beyond the yes. */
struct ffpf_policy_grant {
	__u32 snaplen_cap;	/* the rule's snaplen cap (0: none): a flow that did
				 * not ask for a snaplen gets it (one that asked for
				 * more is denied) */
	__u32 mbuf_access;	/* enum ffpf_policy_access: may a client of the
				 * daemon map its filters' MBufs, and how */
};

/* Who asks, and what they have already. */
struct ffpf_policy_check_opts {
	size_t sz;		/* sizeof(struct ffpf_policy_check_opts) */
	uid_t uid;
	const char *user;	/* user name; NULL: looked up from uid */
	const gid_t *gids;	/* every group of the user, primary included */
	int ngids;
	unsigned nflows;	/* flows the user has instantiated already */
	char *why;		/* a denial's message goes here (may be NULL) */
	size_t why_len;
	const char *group;	/* flow group asked (NULL or "": the user's own,
				 * "user:NAME", always allowed) */
	struct ffpf_policy_grant *grant;	/* filled when allowed (may be NULL) */
	size_t :0;
};

/*
 * Would @pol allow @flow (created and populated, not yet instantiated) to
 * be instantiated by the caller in @opts? Returns 0 (allowed), -EPERM
 * with opts->why naming the rule ("FILE:LINE") and the filter that broke
 * it, or -EINVAL. Prints nothing; loads nothing.
 */
FFPF_API int ffpf_policy_check(const struct ffpf_policy *pol, const struct ffpf_flow *flow,
			       const struct ffpf_policy_check_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* FFPF_POLICY_H */
