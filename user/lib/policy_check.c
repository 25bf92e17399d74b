// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * policy_check.c - may this caller instantiate this flow? The whole graph
 * is checked before anything is loaded (FFPF's authorisation control).
 *
 * Which section applies: the caller's user section; else, for root,
 * nothing (root is bound only by a "user root" section: it could load BPF
 * without us, and a default meant for users must not lock the
 * administrator out); else the sections of the caller's groups (the flow
 * is allowed if any one of them allows it whole); else "user *"; else
 * nothing is allowed.
 */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "log.h"
#include "policy.h"

static const char *const rx_names[] = { "none", "copy", "tap" };

struct denial {
	char *buf;
	size_t len;
};

static int deny(struct denial *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int deny(struct denial *d, const char *fmt, ...)
{
	va_list ap;

	if (d->buf && d->len) {
		va_start(ap, fmt);
		vsnprintf(d->buf, d->len, fmt, ap);
		va_end(ap);
	}
	return -EPERM;
}

/* "FILE:LINE (user alice: TEXT)": the rule a denial names. */
static void rule_name(char *buf, size_t len, const struct ffpf_policy *pol,
		      const struct ffpf_pol_rule *r, int line, const char *text)
{
	snprintf(buf, len, "%s:%d (%s %s%s%s)", pol->name, line ? line : r->line,
		 r->kind == FFPF_POL_GROUP ? "group" : "user", r->who, text ? ": " : "",
		 text ? text : "");
}

static bool prefix_within(const struct ffpf_prefixset_key *k, const struct ffpf_prefixset_key *p)
{
	if (k->prefixlen < p->prefixlen)
		return false;
	for (__u32 bit = 0; bit < p->prefixlen; bit++) {
		__u8 m = 0x80 >> (bit % 8);

		if ((k->addr[bit / 8] & m) != (p->addr[bit / 8] & m))
			return false;
	}
	return true;
}

/* An allow-mode prefixset whose every prefix lies inside the condition's. */
static bool prefixset_restricts(const struct ffpf_stage *st, const struct ffpf_pol_cond *c)
{
	const struct ffpf_prefixset_args *a = (const void *)st->init;	/* see prefixset.c */

	if (strcmp(st->cls->name, "prefixset") || a->cfg.mode != FFPF_PS_ALLOW || !a->n)
		return false;
	if (c->dir && a->cfg.dir != c->dir)
		return false;
	for (__u32 i = 0; i < a->n && i < FFPF_PS_INIT_MAX; i++)
		if (!prefix_within(&a->init[i], &c->within))
			return false;
	return true;
}

/* A match with an address term (net or host) inside the condition's prefix. */
static bool match_restricts(const struct ffpf_stage *st, const struct ffpf_pol_cond *c)
{
	const struct ffpf_match_cfg *m = (const void *)st->init;	/* see classes.c */
	struct ffpf_prefixset_key k;
	static const __u32 fields[] = { FFPF_M_SRC, FFPF_M_DST, FFPF_M_ANYADDR };

	if (strcmp(st->cls->name, "match"))
		return false;
	for (int i = 0; i < 3; i++) {
		if (!(m->fields & fields[i]))
			continue;
		if ((c->dir == FFPF_PS_SRC && fields[i] != FFPF_M_SRC) ||
		    (c->dir == FFPF_PS_DST && fields[i] != FFPF_M_DST))
			continue;
		k.prefixlen = i == 0 ? m->src_plen : i == 1 ? m->dst_plen : m->any_plen;
		memcpy(k.addr, i == 0 ? m->src : i == 1 ? m->dst : m->any, 16);
		if (prefix_within(&k, &c->within))
			return true;
	}
	return false;
}

static bool satisfies(const struct ffpf_stage *st, const struct ffpf_pol_order *o)
{
	for (int i = 0; i < o->ncond; i++) {
		const struct ffpf_pol_cond *c = &o->cond[i];

		if (c->match ? match_restricts(st, c) : prefixset_restricts(st, c))
			return true;
	}
	return false;
}

/*
 * Forward dataflow over the DAG (edges only go forward, so index order is
 * a topological order): @passed[n] is true when every path from the entry
 * to stage n went through the pass edge of a stage satisfying @o. A fail
 * edge does not count: the packet was rejected by that filter there.
 * Returns the first stage of class o->cls without the guarantee, or -1.
 */
static int order_violation(const struct ffpf_flow *flow, const struct ffpf_pol_order *o)
{
	bool reached[FFPF_MAX_STAGES] = { true }, passed[FFPF_MAX_STAGES] = { false };

	for (int m = 0; m < flow->nstages; m++) {
		const struct ffpf_stage *st = &flow->stages[m];
		bool sat = satisfies(st, o);
		int to[2] = { st->pass, st->fail };

		if (!reached[m])
			continue;
		if (!passed[m] && !strcmp(st->cls->name, o->cls))
			return m;
		for (int e = 0; e < 2; e++) {
			bool v = passed[m] || (e == 0 && sat);

			if (to[e] <= m || to[e] >= flow->nstages)
				continue;	/* accept, reject (or a malformed edge) */
			passed[to[e]] = reached[to[e]] ? passed[to[e]] && v : v;
			reached[to[e]] = true;
		}
	}
	return -1;
}

static bool in_list(const char (*list)[FFPF_POL_WORD_LEN], int n, const char *s, bool glob)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(list[i], "*") || (glob ? !fnmatch(list[i], s, 0) : !strcmp(list[i], s)))
			return true;
	return false;
}

static void filter_name(char *buf, size_t len, const struct ffpf_flow *flow, int i)
{
	const struct ffpf_stage *st = &flow->stages[i];

	if (st->line)
		snprintf(buf, len, "filter %d (%s, spec:%d:%d)", i, st->cls->name, st->line,
			 st->col);
	else
		snprintf(buf, len, "filter %d (%s)", i, st->cls->name);
}

/* The whole flow against one section. */
/* Who asks: what check_rule() needs beyond the rule and the flow. */
struct asker {
	const char *user;
	unsigned nflows;
	const char *group;		/* NULL: the user's own */
	struct ffpf_policy_grant *grant;
};

static bool own_group(const struct asker *a)
{
	return !a->group || !a->group[0] ||
	       (!strncmp(a->group, "user:", 5) && a->user && !strcmp(a->group + 5, a->user));
}

static int check_rule(const struct ffpf_policy *pol, const struct ffpf_pol_rule *r,
		      const struct ffpf_flow *flow, const struct asker *a, struct denial *d)
{
	char rule[FFPF_POL_TEXT_LEN + 128], what[96];
	unsigned nflows = a->nflows;

	if (!in_list(r->ifaces, r->nifaces, flow->ifname, true)) {
		rule_name(rule, sizeof(rule), pol, r, r->ifaces_at.line,
			  r->ifaces_at.line ? r->ifaces_at.text : NULL);
		return deny(d, "%s: interface %s is not allowed%s", rule, flow->ifname,
			    r->ifaces_at.line ? "" : " (no 'interfaces' line)");
	}
	if (!(r->rx_mask & (1u << flow->rx))) {
		rule_name(rule, sizeof(rule), pol, r, r->rx_at.line,
			  r->rx_at.line ? r->rx_at.text : "rx none (the default)");
		return deny(d, "%s: receive mode %s is not allowed%s", rule,
			    flow->rx <= FFPF_RX_TAP ? rx_names[flow->rx] : "?",
			    r->rx_mask == 1u << FFPF_RX_NONE ? ": statistics only" : "");
	}
	/* An explicit snaplen above the cap is refused; the default is trimmed to it. */
	if (flow->rx != FFPF_RX_NONE && r->snaplen && flow->snaplen > r->snaplen &&
	    flow->snaplen_set) {
		rule_name(rule, sizeof(rule), pol, r, r->snaplen_at.line, r->snaplen_at.text);
		return deny(d, "%s: snaplen %u is above %u", rule, flow->snaplen, r->snaplen);
	}
	if (!own_group(a) && !in_list(r->groups, r->ngroups, a->group, true)) {
		rule_name(rule, sizeof(rule), pol, r, r->groups_at.line,
			  r->groups_at.line ? r->groups_at.text : NULL);
		return deny(d, "%s: flow group '%s' is not allowed%s", rule, a->group,
			    r->groups_at.line ? "" : " (no 'groups' line: only the user's own)");
	}
	if (r->flows_at.line && nflows + 1 > r->max_flows) {
		rule_name(rule, sizeof(rule), pol, r, r->flows_at.line, r->flows_at.text);
		return deny(d, "%s: %u flow%s already, at most %u", rule, nflows,
			    nflows == 1 ? "" : "s", r->max_flows);
	}
	for (int i = 0; i < flow->nstages; i++) {
		if (in_list(r->classes, r->nclasses, flow->stages[i].cls->name, false))
			continue;
		rule_name(rule, sizeof(rule), pol, r, r->classes_at.line,
			  r->classes_at.line ? r->classes_at.text : NULL);
		filter_name(what, sizeof(what), flow, i);
		return deny(d, "%s: %s: class %s is not allowed%s", rule, what,
			    flow->stages[i].cls->name,
			    r->classes_at.line ? "" : " (no 'classes' line)");
	}
	for (int k = 0; k < r->norders; k++) {
		const struct ffpf_pol_order *o = &r->orders[k];
		int bad = order_violation(flow, o);

		if (bad < 0)
			continue;
		rule_name(rule, sizeof(rule), pol, r, o->line, o->text);
		filter_name(what, sizeof(what), flow, bad);
		return deny(d, "%s: %s is reachable on a path that did not pass such a filter",
			    rule, what);
	}
	if (a->grant) {
		a->grant->snaplen_cap = r->snaplen;
		a->grant->mbuf_access = r->mbuf;
	}
	return 0;
}

/* The _r lookups: instantiate may run in any thread of the application. */
static bool has_gid(const struct ffpf_policy_check_opts *o, const char *who)
{
	struct group gr, *g = NULL;
	char buf[4096], *end;
	unsigned long id = strtoul(who, &end, 10);
	gid_t gid;

	if (!getgrnam_r(who, &gr, buf, sizeof(buf), &g) && g)
		gid = g->gr_gid;
	else if (*who && !*end)
		gid = id;
	else
		return false;	/* a group this system does not have */
	for (int i = 0; i < OPTS_GET(o, ngids, 0); i++)
		if (o->gids[i] == gid)
			return true;
	return false;
}

static bool is_user(const struct ffpf_pol_rule *r, const char *user, uid_t uid)
{
	char *end;
	unsigned long id = strtoul(r->who, &end, 10);

	return (user && !strcmp(r->who, user)) || (!*end && id == uid);
}

int ffpf_policy_check(const struct ffpf_policy *pol, const struct ffpf_flow *flow,
		      const struct ffpf_policy_check_opts *opts)
{
	struct denial d = { OPTS_GET(opts, why, NULL), OPTS_GET(opts, why_len, 0) };
	uid_t uid = OPTS_GET(opts, uid, getuid());
	unsigned nflows = OPTS_GET(opts, nflows, 0);
	const char *user = OPTS_GET(opts, user, NULL);
	struct passwd pwd, *pw = NULL;
	struct ffpf_policy_grant *grant = OPTS_GET(opts, grant, NULL);
	struct asker a;
	char pwbuf[4096];
	int first = 0, err;

	if (!pol || !flow || !flow->nstages)
		return -EINVAL;
	if (d.buf && d.len)
		d.buf[0] = '\0';
	if (!user && !getpwuid_r(uid, &pwd, pwbuf, sizeof(pwbuf), &pw) && pw)
		user = pw->pw_name;
	a = (struct asker){ user, nflows, OPTS_GET(opts, group, NULL), grant };
	if (grant)
		*grant = (struct ffpf_policy_grant){ 0, FFPF_POLICY_MBUF_NONE };
	for (int i = 0; i < pol->nrules; i++)
		if (pol->rules[i].kind == FFPF_POL_USER && is_user(&pol->rules[i], user, uid))
			return check_rule(pol, &pol->rules[i], flow, &a, &d);
	/* Root without a rule of its own: anything, MBufs writable. */
	if (uid == 0) {
		if (grant)
			grant->mbuf_access = FFPF_POLICY_MBUF_WRITE;
		return 0;
	}
	/* Groups: allowed if one allows it; the first group's denial is reported. */
	for (int i = 0; i < pol->nrules; i++) {
		const struct ffpf_pol_rule *r = &pol->rules[i];
		struct denial none = {0};

		if (r->kind != FFPF_POL_GROUP || !has_gid(opts, r->who))
			continue;
		err = check_rule(pol, r, flow, &a, first++ ? &none : &d);
		if (!err)
			return 0;
	}
	if (first)
		return -EPERM;
	for (int i = 0; i < pol->nrules; i++)
		if (pol->rules[i].kind == FFPF_POL_DEFAULT)
			return check_rule(pol, &pol->rules[i], flow, &a, &d);
	return deny(&d, "%s: no rule for user %s (uid %u): no user, group or 'user *' section "
		    "applies", pol->name, user ? user : "?", (unsigned)uid);
}

void ffpf_policy_trim(struct ffpf_flow *flow, __u32 cap)
{
	if (cap && !flow->snaplen_set && flow->rx != FFPF_RX_NONE && flow->snaplen > cap) {
		pr_info("flow %s: snaplen %u (the policy's cap)\n", flow->name[0] ? flow->name :
			"(unnamed)", cap);
		flow->snaplen = cap;
	}
}

int ffpf_policy_enforce(struct ffpf_flow *flow, const char *path, unsigned nflows)
{
	struct ffpf_policy_grant grant;
	struct ffpf_policy *pol;
	gid_t gids[NGROUPS_MAX + 1];
	char why[512];
	int n, err;

	err = ffpf_policy_load(path, &pol);
	/* No file at the default place: no policy in force, as before policies. */
	if (err == -ENOENT && !path && !getenv(FFPF_POLICY_ENV))
		return 0;
	if (err == -ENOENT)
		return ffpf_err(ENOENT, "flow %s: policy file %s does not exist\n", flow->name,
				path ? path : getenv(FFPF_POLICY_ENV));
	if (err)
		return err;	/* a broken policy refuses everything */
	n = getgroups(NGROUPS_MAX, gids);
	gids[n < 0 ? 0 : n] = getgid();
	{
		FFPF_OPTS(ffpf_policy_check_opts, o, .uid = getuid(), .gids = gids,
			  .ngids = (n < 0 ? 0 : n) + 1, .nflows = nflows, .why = why,
			  .why_len = sizeof(why), .group = flow->group, .grant = &grant);

		err = ffpf_policy_check(pol, flow, &o);
	}
	ffpf_policy_free(pol);
	if (!err)
		ffpf_policy_trim(flow, grant.snaplen_cap);
	if (err == -EPERM)
		pr_warn("flow %s refused by policy: %s\n", flow->name[0] ? flow->name : "(unnamed)",
			why);
	return err;
}
