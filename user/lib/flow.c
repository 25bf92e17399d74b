// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * flow.c - the FFPF flow lifecycle:
 *   create -> populate -> instantiate -> activate <-> pause -> close.
 * Instantiate checks the whole composition before loading anything, then
 * builds the chain back to front and publishes the entry slot last, so a
 * packet never sees a half-built flow.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "internal.h"
#include "compose.h"
#include "inst.h"
#include "log.h"
#include "policy.h"
#include "remote.h"
#include "rx.h"
#include "root.skel.h"

/*
 * A flow name becomes a directory under the interface's pins: keep it to a
 * safe alphabet and away from ".", ".." and the datapath's own pin names.
 */
static bool ffpf_name_ok(const char *name)
{
	static const char *const reserved[] = {
		"link", "progs", "pctx", "ctl", "guards", "fstats", "rstats", "flows",
	};
	size_t len = strlen(name);

	if (!len || len >= FFPF_NAME_LEN || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return false;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (!strcmp(name, reserved[i]))
			return false;
	return true;
}

static int flow_opts_check(const struct ffpf_flow *flow)
{
	if (flow->hook > FFPF_HOOK_EGRESS) {
		pr_warn("flow %s: hook %u: expected ingress (0) or egress (1)\n",
			flow->name, flow->hook);
		return -EINVAL;
	}
	if (flow->rx > FFPF_RX_TAP) {
		pr_warn("flow %s: rx mode %u: expected none, copy or tap\n", flow->name, flow->rx);
		return -EINVAL;
	}
	if (flow->rx == FFPF_RX_TAP && flow->hook == FFPF_HOOK_EGRESS) {
		pr_warn("flow %s: tap mode (AF_XDP) exists on ingress only; use copy mode "
			"on egress\n", flow->name);
		return -EINVAL;
	}
	if ((flow->flags & FFPF_FLOW_MONITOR) && flow->hook == FFPF_HOOK_EGRESS) {
		pr_warn("flow %s: monitor mode drops received packets (XDP, ingress); "
			"it cannot be used on the egress hook\n",
			flow->name[0] ? flow->name : "(unnamed)");
		return -EINVAL;
	}
	if (flow->rx && (flow->flags & FFPF_FLOW_PIN)) {
		pr_warn("flow %s: a pinned flow outlives its process, its packets would "
			"have no reader: pin statistics-only flows\n", flow->name);
		return -EINVAL;
	}
	if (flow->snaplen > FFPF_SNAPLEN_MAX) {
		pr_warn("flow %s: snaplen %u: at most %u\n", flow->name, flow->snaplen,
			FFPF_SNAPLEN_MAX);
		return -EINVAL;
	}
	if (flow->ibuf_size & (flow->ibuf_size - 1) || flow->ibuf_size > (1U << 24)) {
		pr_warn("flow %s: IBuf size %u: a power of two up to 2^24\n", flow->name,
			flow->ibuf_size);
		return -EINVAL;
	}
	return 0;
}

/* A fresh flow from @opts (checked by the caller); NULL with errno set. */
static struct ffpf_flow *flow_alloc(const char *ifname, const struct ffpf_flow_opts *opts)
{
	struct ffpf_flow *flow = calloc(1, sizeof(*flow));

	if (!flow) {
		errno = ENOMEM;
		return NULL;
	}
	snprintf(flow->ifname, sizeof(flow->ifname), "%s", ifname);
	if (opts && opts->name)
		snprintf(flow->name, sizeof(flow->name), "%s", opts->name);
	flow->flags = opts ? opts->flags : 0;
	flow->hook = OPTS_GET(opts, hook, FFPF_HOOK_INGRESS);
	flow->rx = OPTS_GET(opts, rx, FFPF_RX_NONE);
	flow->snaplen_set = OPTS_GET(opts, snaplen, 0) != 0;
	flow->snaplen = OPTS_GET(opts, snaplen, 0) ?: FFPF_SNAPLEN_DEFAULT;
	if (OPTS_GET(opts, group, NULL))
		snprintf(flow->group, sizeof(flow->group), "%s", opts->group);
	flow->ibuf_size = OPTS_GET(opts, ibuf_size, 0) ?: FFPF_IBUF_DEFAULT;
	flow->share = OPTS_GET(opts, share, NULL);
	if (OPTS_GET(opts, policy, NULL))
		flow->policy = strdup(opts->policy);
	if (flow_opts_check(flow) || (OPTS_GET(opts, policy, NULL) && !flow->policy)) {
		free(flow->policy);
		free(flow);
		errno = EINVAL;
		return NULL;
	}
	flow->idx = -1;
	for (int i = 0; i < FFPF_MAX_STAGES; i++)
		flow->stages[i].prog_fd = flow->stages[i].mbuf_fd = -1;
	return flow;
}

/* A flow that lives in the daemon (remote.c): the interface is the daemon's to check. */
static struct ffpf_flow *create_remote(const char *ifname, const struct ffpf_flow_opts *opts,
					const char *path)
{
	struct ffpf_flow *flow = flow_alloc(ifname, opts);
	int err;

	if (!flow)
		return NULL;
	err = ffpf_remote_create(flow, path);
	if (err) {
		free(flow->policy);
		free(flow);
		errno = -err;
		return NULL;
	}
	return flow;
}

struct ffpf_flow *ffpf_flow_create(const char *ifname,
				   const struct ffpf_flow_opts *opts)
{
	size_t sz = opts ? opts->sz : 0;
	const char *daemon;

	if (!ifname || strlen(ifname) >= IF_NAMESIZE ||
	    (opts && sz < offsetof(struct ffpf_flow_opts, flags) + sizeof(opts->flags))) {
		errno = EINVAL;
		return NULL;
	}
	if (opts && opts->name && !ffpf_name_ok(opts->name)) {
		pr_warn("flow name '%s': 1 to %d of [A-Za-z0-9_.-], not starting with '.', "
			"not one of the datapath's own pin names\n", opts->name, FFPF_NAME_LEN - 1);
		errno = EINVAL;
		return NULL;
	}
	if (OPTS_GET(opts, group, NULL) && strlen(opts->group) >= FFPF_GROUP_LEN) {
		pr_warn("flow group '%.40s...': at most %d characters\n", opts->group,
			FFPF_GROUP_LEN - 1);
		errno = EINVAL;
		return NULL;
	}
	/* capget() and a stat of the socket: once per create. */
	daemon = opts && (opts->flags & FFPF_FLOW_CHECK_ONLY) ? NULL : ffpf_remote_path(opts);
	if (daemon)
		return create_remote(ifname, opts, daemon);
	if (!(opts && (opts->flags & FFPF_FLOW_CHECK_ONLY)) && !if_nametoindex(ifname)) {
		pr_warn("%s: no such interface\n", ifname);
		errno = ENODEV;
		return NULL;
	}
	return flow_alloc(ifname, opts);
}

/* The one error format for specs, without the library's prefix: editors
 * and tests look for "spec:LINE:COL: message". */
static void print_spec_error(const struct ffpf_spec_error *e)
{
	ffpf_pr(FFPF_WARN, "spec:%d:%d: %s\n", e->line, e->col, e->msg);
}

static int spec_fail(struct ffpf_spec_error *e, const struct ffpf_spec_filter *f,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int spec_fail(struct ffpf_spec_error *e, const struct ffpf_spec_filter *f,
		     const char *fmt, ...)
{
	va_list ap;

	e->line = f->line;
	e->col = f->col;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* As spec_fail(), at the filter's instance name rather than its class. */
#define spec_fail_name(e, f, ...)					\
	(spec_fail(e, f, __VA_ARGS__), (e)->line = (f)->name_line,	\
	 (e)->col = (f)->name_col, -EINVAL)

/* Some classes' state has one owner (ffpf_class.one_place): no second place. */
static int inst_reuse_ok(const struct ffpf_inst *in, const struct ffpf_spec_filter *f,
			 struct ffpf_spec_error *e)
{
	if (!in->cls->one_place)
		return 0;
	return spec_fail(e, f, "%s instance '%s' is used a second time: %s, so give each "
			 "flow its own %s", in->cls->name, in->name, in->cls->one_place,
			 in->cls->name);
}

/*
 * Spec filter @f into stage @st: a class with its arguments (maybe defining
 * a named instance), or a bare name referring to an instance in @sc.
 */
static int make_stage(const struct ffpf_spec_filter *f, struct ffpf_stage *st,
		      struct ffpf_inst_scope *sc, struct ffpf_spec_error *e)
{
	struct ffpf_inst *in = NULL;
	char text[sizeof(st->text)];
	int err;

	memset(st, 0, sizeof(*st));
	st->prog_fd = st->mbuf_fd = -1;
	st->pass = f->pass;
	st->fail = f->fail;
	st->line = f->line;
	st->col = f->col;
	st->cls = ffpf_class_find(f->cls);
	if (!st->cls && !f->name)
		in = ffpf_inst_find(sc, f->cls);
	if (in) {	/* a reference: the instance's class and configuration */
		if (f->parens)
			return spec_fail(e, f, "'%s' is a filter instance (defined as %s): "
					 "name it alone, without arguments", in->name, in->text);
		err = inst_reuse_ok(in, f, e);
		if (err)
			return err;
		st->cls = in->cls;
		memcpy(st->init, in->init, sizeof(st->init));
		snprintf(st->text, sizeof(st->text), "%s", in->name);
		st->inst = ffpf_inst_get(in);
		return 0;
	}
	if (!st->cls)
		return spec_fail(e, f, "unknown filter class %s'%s' (known: %s)",
				 f->name || f->parens ? "" : "or instance ", f->cls,
				 ffpf_class_names());
	err = st->cls->configure(f, st->init, e);
	if (err)
		return err;
	ffpf_spec_filter_format(f, text, sizeof(text));
	snprintf(st->text, sizeof(st->text), "%s", text);
	if (!f->name)
		return 0;
	if (ffpf_class_find(f->name))
		return spec_fail_name(e, f, "instance name '%s' is a filter class: choose another",
				      f->name);
	in = ffpf_inst_find(sc, f->name);
	if (in) {	/* the same definition again (e.g. one spec on two hooks) */
		if (in->cls != st->cls || strcmp(in->text, text))
			return spec_fail_name(e, f, "instance '%s' is defined already, as %s",
					      in->name, in->text);
		err = inst_reuse_ok(in, f, e);
		if (err)
			return err;
	} else {
		in = ffpf_inst_new(sc, f->name, st->cls, text, st->init);
		if (!in)
			return -ENOMEM;
	}
	st->inst = ffpf_inst_get(in);
	if (snprintf(st->text, sizeof(st->text), "%s :: %s", f->name, text) >=
	    (int)sizeof(st->text))
		pr_debug("filter %s: text cut for display\n", f->name);
	return 0;
}

static void drop_insts(struct ffpf_stage *st, int n)
{
	for (int i = 0; i < n; i++) {
		ffpf_inst_put(st[i].inst);
		st[i].inst = NULL;
	}
}

/*
 * Parse @text into @room stages at @out (not attached to any flow yet;
 * their pass/fail indices are relative to @out). Names it defines go
 * into @sc. *@alt: the spec is an alternation at its top; @canon gets
 * the spec back as text.
 */
static int build_stages(const char *text, struct ffpf_stage *out, int room, int *n,
			struct ffpf_inst_scope *sc, bool *alt, char *canon, size_t clen)
{
	struct ffpf_spec_error e = {0};
	struct ffpf_spec *spec;
	int err = 0, i;

	err = ffpf_spec_parse(text, &spec, &e);
	if (err) {
		if (err == -EINVAL)
			print_spec_error(&e);
		return err;
	}
	if (spec->nfilters > room) {
		struct ffpf_spec_filter *f = &spec->filters[room];

		pr_warn("spec:%d:%d: too many filters: a flow has at most %d stages\n",
			f->line, f->col, FFPF_MAX_STAGES);
		ffpf_spec_free(spec);
		return -E2BIG;
	}
	for (i = 0; i < spec->nfilters && !err; i++)
		err = make_stage(&spec->filters[i], &out[i], sc, &e);
	if (err) {
		if (err == -EINVAL)
			print_spec_error(&e);
		drop_insts(out, i);
		ffpf_spec_free(spec);
		return err;
	}
	*n = spec->nfilters;
	if (alt)
		*alt = spec->nodes[spec->root].kind == FFPF_SPEC_ALT;
	if (canon)
		ffpf_spec_format(spec, canon, clen);
	ffpf_spec_free(spec);
	return 0;
}

int ffpf_flow_populate(struct ffpf_flow *flow, const char *spec)
{
	struct ffpf_inst_scope sc = {0};
	char canon[FFPF_SPEC_LEN], prev[sizeof(flow->spec)];
	int n = 0, base, err;
	bool alt;

	if (flow && spec && flow->remote)
		return flow->instantiated ? -EBUSY : ffpf_remote_populate(flow, spec);

	if (!flow || !spec)
		return -EINVAL;
	if (flow->instantiated)
		return ffpf_err(EBUSY, "flow %s: already instantiated, cannot add filters\n",
				flow->name);
	base = flow->nstages;
	err = build_stages(spec, &flow->stages[base], FFPF_MAX_STAGES - base, &n, &sc,
			   &alt, canon, sizeof(canon));
	if (err) {
		ffpf_inst_scope_drop(&sc);
		return err;
	}
	ffpf_inst_commit(&sc);
	/* Appending is a sequence: what accepted before goes on to the new part. */
	for (int i = 0; i < base; i++)
		if (flow->stages[i].pass == FFPF_SPEC_ACCEPT)
			flow->stages[i].pass = base;
	for (int i = base; i < base + n; i++) {
		if (flow->stages[i].pass >= 0)
			flow->stages[i].pass += base;
		if (flow->stages[i].fail >= 0)
			flow->stages[i].fail += base;
	}
	/* The text, too: an alternation on either side of the new "->" is grouped. */
	memcpy(prev, flow->spec, sizeof(prev));
	if (!base)
		snprintf(flow->spec, sizeof(flow->spec), "%s", canon);
	else if (snprintf(flow->spec, sizeof(flow->spec), "%s%s%s -> %s%s%s",
			  flow->spec_alt ? "(" : "", prev, flow->spec_alt ? ")" : "",
			  alt ? "(" : "", canon, alt ? ")" : "") >= (int)sizeof(flow->spec))
		pr_debug("flow %s: spec text cut for display\n", flow->name);
	flow->spec_alt = !base && alt;
	flow->nstages += n;
	return 0;
}

int ffpf_flow_add_filter(struct ffpf_flow *flow, const char *cls, const char *args)
{
	char buf[FFPF_SPEC_LEN];

	if (!flow || !cls)
		return -EINVAL;
	if (flow->remote)
		return flow->instantiated ? -EBUSY : ffpf_remote_add_filter(flow, cls, args);
	if (snprintf(buf, sizeof(buf), "%s(%s)", cls, args ? args : "") >= (int)sizeof(buf))
		return -E2BIG;
	return ffpf_flow_populate(flow, buf);
}

int ffpf_specs_check(const char *const *specs, int n, int *nfilters, int *bad)
{
	struct ffpf_stage *st = calloc(FFPF_MAX_STAGES, sizeof(*st));
	struct ffpf_inst_scope sc = {0};
	int k = 0, err = 0, i;

	if (!st)
		return -ENOMEM;
	for (i = 0; i < n && !err; i++) {
		err = specs && specs[i] ? build_stages(specs[i], st, FFPF_MAX_STAGES, &k, &sc,
						       NULL, NULL, 0) : -EINVAL;
		if (!err) {
			drop_insts(st, k);
			if (nfilters)
				nfilters[i] = k;
		}
	}
	ffpf_inst_scope_drop(&sc);
	free(st);
	if (err && bad)
		*bad = i - 1;
	return err;
}

int ffpf_spec_check(const char *spec, int *nfilters)
{
	return ffpf_specs_check(&spec, 1, nfilters, NULL);
}

bool ffpf_is_flow_file(const char *text)
{
	return ffpf_spec_is_flow_file(text);
}

void ffpf_flow_file_free(struct ffpf_flow_def *defs, int n)
{
	for (int i = 0; defs && i < n; i++)
		free(defs[i].spec);
	free(defs);
}

int ffpf_flow_file_parse(const char *text, struct ffpf_flow_def **out)
{
	struct ffpf_spec_error e = {0};
	struct ffpf_spec_flowdef *sd;
	struct ffpf_flow_def *defs;
	int n = ffpf_spec_split_flows(text, &sd, &e), i;

	*out = NULL;
	if (n < 0) {
		if (n == -EINVAL)
			print_spec_error(&e);
		return n;
	}
	if (!n)
		return 0;	/* only blanks and comments: no flows, *out NULL */
	defs = calloc(n, sizeof(*defs));
	if (!defs) {
		ffpf_spec_flowdefs_free(sd, n);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (strlen(sd[i].name) >= FFPF_NAME_LEN) {
			pr_warn("spec:%d:%d: flow name '%s' is longer than %d characters\n",
				sd[i].line, sd[i].col, sd[i].name, FFPF_NAME_LEN - 1);
			ffpf_flow_file_free(defs, i);
			ffpf_spec_flowdefs_free(sd, n);
			return -E2BIG;
		}
		snprintf(defs[i].name, sizeof(defs[i].name), "%s", sd[i].name);
		defs[i].spec = sd[i].spec;
		sd[i].spec = NULL;
		defs[i].line = sd[i].line;
		defs[i].col = sd[i].col;
	}
	ffpf_spec_flowdefs_free(sd, n);
	*out = defs;
	return n;
}

/*
 * The flow's guard: its leading match's configuration, or NULL. Only a
 * match every accepted packet passes: one whose reject ends the flow
 * (not "match(a) | ...").
 */
static const struct ffpf_match_cfg *flow_guard(const struct ffpf_flow *flow)
{
	if (strcmp(flow->stages[0].cls->name, "match") ||
	    flow->stages[0].fail != FFPF_SPEC_REJECT)
		return NULL;
	return (const struct ffpf_match_cfg *)flow->stages[0].init;	/* see classes.c */
}

/* The composition as it would be with @flow added at @idx. */
static int check_budget(struct ffpf_iface *ifc, struct ffpf_flow *flow, int idx)
{
	struct ffpf_compose_flow cf[FFPF_MAX_FLOWS] = {0};
	char names[FFPF_MAX_FLOWS][FFPF_NAME_LEN];
	__u64 present = __atomic_load_n(&ifc->ctl->present, __ATOMIC_ACQUIRE);
	char why[320];
	int err;

	for (int i = 0; i < FFPF_MAX_FLOWS; i++) {
		struct ffpf_flow_desc d;
		__u32 key = i;

		if (!(present & (1ULL << i)) || ffpf_iface_read_desc(ifc, i, &d))
			continue;
		memcpy(names[i], d.name, FFPF_NAME_LEN);
		names[i][FFPF_NAME_LEN - 1] = 0;
		cf[i].name = names[i];
		cf[i].present = true;
		cf[i].nstages = d.nstages;
		cf[i].guarded = ifc->ctl->guarded & (1ULL << i);
		if (cf[i].guarded)
			bpf_map_lookup_elem(ifc->guards_fd, &key, &cf[i].guard);
	}
	cf[idx].name = flow->name;
	cf[idx].present = true;
	cf[idx].nstages = flow->nstages;
	cf[idx].guarded = flow_guard(flow) != NULL;
	if (cf[idx].guarded)
		cf[idx].guard = *flow_guard(flow);
	if (getenv("FFPF_UNSAFE_NO_BUDGET"))	/* tests of the kernel's own limit */
		return 0;
	err = ffpf_compose_check(cf, FFPF_MAX_FLOWS, why, sizeof(why));
	if (err)
		pr_warn("flow %s on %s refused: %s\n", flow->name, ifc->ifname, why);
	return err;
}

/* The slot a graph edge leads to: a stage of the flow, or FFPF_SLOT_NONE. */
static __u32 stage_target(const struct ffpf_flow *flow, int to)
{
	return to >= 0 ? ffpf_stage_slot(flow->idx, to) : FFPF_SLOT_NONE;
}

static void fill_desc(struct ffpf_flow *flow, struct ffpf_flow_desc *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", flow->name);
	d->in_use = 1;
	d->pinned = !!(flow->flags & FFPF_FLOW_PIN);
	d->owner_pid = getpid();
	d->nstages = flow->nstages;
	snprintf(d->spec, sizeof(d->spec), "%s", flow->spec);
	for (int i = 0; i < flow->nstages; i++) {
		struct ffpf_stage *st = &flow->stages[i];
		struct bpf_prog_info pi = {0};
		struct bpf_map_info mi = {0};
		__u32 plen = sizeof(pi), mlen = sizeof(mi);

		snprintf(d->stages[i].cls, sizeof(d->stages[i].cls), "%s", st->cls->name);
		d->stages[i].slot = st->slot;
		d->stages[i].next_slot = stage_target(flow, st->pass);
		d->stages[i].fail_slot = stage_target(flow, st->fail);
		if (!bpf_obj_get_info_by_fd(st->prog_fd, &pi, &plen))
			d->stages[i].prog_id = pi.id;
		if (!bpf_obj_get_info_by_fd(st->mbuf_fd, &mi, &mlen))
			d->stages[i].mbuf_id = mi.id;
	}
}

/* ffpf_flow_opts.share: the same classes in the same order, already loaded. */
static int set_share(struct ffpf_flow *flow)
{
	struct ffpf_flow *sh = flow->share;

	if (!sh)
		return 0;
	if (!sh->instantiated || sh->nstages != flow->nstages)
		return ffpf_err(EINVAL, "flow %s: the flow to share state with must be "
				"instantiated and have the same chain of classes\n", flow->name);
	for (int i = 0; i < flow->nstages; i++) {
		if (sh->stages[i].pass != flow->stages[i].pass ||
		    sh->stages[i].fail != flow->stages[i].fail)
			return ffpf_err(EINVAL, "flow %s: the flow to share state with (%s) "
					"has another graph\n", flow->name, sh->name);
		if (sh->stages[i].cls != flow->stages[i].cls || !sh->stages[i].obj)
			return ffpf_err(EINVAL, "flow %s: filter %d is %s, in %s it is %s: "
					"shared state needs the same classes\n", flow->name, i,
					flow->stages[i].cls->name, sh->name,
					sh->stages[i].cls->name);
		flow->stages[i].share = &sh->stages[i];
	}
	/* The shared flow knows its sharers: state summed over all of them. */
	flow->next_sharer = sh->sharers;
	sh->sharers = flow;
	return 0;
}

/* Undo set_share() in both directions when @flow closes. */
static void unlink_share(struct ffpf_flow *flow)
{
	struct ffpf_flow **pp;

	if (flow->share) {
		for (pp = &flow->share->sharers; *pp; pp = &(*pp)->next_sharer) {
			if (*pp == flow) {
				*pp = flow->next_sharer;
				break;
			}
		}
	}
	for (struct ffpf_flow *s = flow->sharers; s; s = s->next_sharer)
		s->share = NULL;
	flow->share = NULL;
	flow->sharers = NULL;
}

static int alloc_index(struct ffpf_iface *ifc)
{
	__u64 present = __atomic_load_n(&ifc->ctl->present, __ATOMIC_ACQUIRE);

	for (int i = 0; i < FFPF_MAX_FLOWS; i++)
		if (!(present & (1ULL << i)))
			return i;
	return -ENOSPC;
}

/* Flows this process instantiated and has not closed: the policy's "flows". */
static unsigned live_flows;

static void unload_stages(struct ffpf_flow *flow)
{
	for (int i = 0; i < flow->nstages; i++)
		ffpf_stage_unload(&flow->stages[i]);
}

int ffpf_flow_instantiate(struct ffpf_flow *flow)
{
	struct ffpf_iface *ifc;
	struct ffpf_flow_desc d;
	bool pin = flow && (flow->flags & FFPF_FLOW_PIN);
	char dpname[FFPF_DP_NAME_LEN];
	__u32 key;
	int idx, err, i;

	if (!flow)
		return -EINVAL;
	if (flow->instantiated)
		return -EALREADY;
	if (flow->remote)
		return ffpf_remote_instantiate(flow);
	if (!flow->nstages)
		return ffpf_err(EINVAL, "flow %s: no filters: populate it first\n", flow->name);
	if (flow->flags & FFPF_FLOW_CHECK_ONLY)
		return ffpf_err(EINVAL, "flow %s: created to be checked only\n", flow->name);
	/* Authorisation of the whole graph comes before anything is loaded. */
	if (!flow->policy_done) {
		err = ffpf_policy_enforce(flow, flow->policy,
					  __atomic_load_n(&live_flows, __ATOMIC_RELAXED));
		if (err)
			return err;
	}
	ffpf_dp_name(dpname, sizeof(dpname), flow->ifname, flow->hook);
	err = ffpf_iface_get(dpname, true, &ifc);
	if (err)
		return err;
	if (ifc->pinned && !pin) {
		err = ffpf_err(EBUSY, "%s: the datapath is pinned; only pinned flows can join it "
			       "(use --pin, or close the pinned flows)\n", ifc->ifname);
		goto put;
	}
	if (pin && !ifc->pinned && (ifc->local & ~ifc->local_pinned)) {
		err = ffpf_err(EBUSY, "%s: this process has unpinned flows on the interface; "
			       "pin all of them or none\n", ifc->ifname);
		goto put;
	}
	idx = alloc_index(ifc);
	if (idx < 0) {
		err = ffpf_err(ENOSPC, "%s: all %d flow slots are in use\n", ifc->ifname,
			       FFPF_MAX_FLOWS);
		goto put;
	}
	if (!flow->name[0])
		snprintf(flow->name, sizeof(flow->name), "flow%d", idx);
	if (ffpf_iface_find_flow(ifc, flow->name) >= 0) {
		err = ffpf_err(EEXIST, "%s: a flow named %s exists already\n", ifc->ifname,
			       flow->name);
		goto put;
	}
	err = check_budget(ifc, flow, idx);
	if (err)
		goto put;
	err = set_share(flow);
	if (err)
		goto put;

	/* Each stage's successor slots are fixed before it loads (edges go forward). */
	flow->idx = idx;
	for (i = flow->nstages - 1; i >= 0; i--) {
		struct ffpf_stage *st = &flow->stages[i];

		st->slot = ffpf_stage_slot(idx, i);
		err = ffpf_stage_load(st, ifc, stage_target(flow, st->pass),
				      stage_target(flow, st->fail));
		if (err)
			goto unload;
	}
	/* Later stages first, the entry slot last: the chain is complete
	 * before the dispatcher can reach it. */
	for (i = flow->nstages - 1; i >= 0; i--) {
		key = flow->stages[i].slot;
		if (bpf_map_update_elem(ifc->progs_fd, &key, &flow->stages[i].prog_fd, BPF_ANY)) {
			err = ffpf_err(errno, "%s: cannot fill slot %u: %s\n", ifc->ifname,
				       key, strerror(errno));
			goto clear;
		}
	}
	key = idx;
	fill_desc(flow, &d);
	if (bpf_map_update_elem(ifc->flows_fd, &key, &d, BPF_ANY) ||
	    ffpf_percpu_zero(ifc->fstats_fd, key, sizeof(struct ffpf_flow_counters))) {
		err = ffpf_err(errno, "%s: cannot record flow %s: %s\n", ifc->ifname,
			       flow->name, strerror(errno));
		goto clear;
	}
	if (flow_guard(flow)) {
		bpf_map_update_elem(ifc->guards_fd, &key, flow_guard(flow), BPF_ANY);
		__atomic_fetch_or(&ifc->ctl->guarded, 1ULL << idx, __ATOMIC_SEQ_CST);
	}
	/* The root drops only while a monitor flow is also active: pause and
	 * activate need not touch this bit; close clears it with present. */
	if (flow->flags & FFPF_FLOW_MONITOR)
		__atomic_fetch_or(&ifc->ctl->monitor, 1ULL << idx, __ATOMIC_SEQ_CST);
	__atomic_fetch_or(&ifc->ctl->present, 1ULL << idx, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&ifc->ctl->generation, 1, __ATOMIC_SEQ_CST);
	ifc->local |= 1ULL << idx;
	ifc->group_of[idx] = flow->group;
	flow->iface = ifc;
	flow->idx = idx;
	flow->instantiated = true;
	pr_debug("flow %s: %d stages at index %d on %s\n", flow->name, flow->nstages,
		 idx, ifc->ifname);
	if (pin)
		err = ffpf_flow_pin(flow);
	else if (flow->rx)
		err = ffpf_rx_add(flow);
	if (!err && !flow->rx)
		ffpf_rx_flows_changed(ifc);	/* (ffpf_rx_add() did it for a receiver) */
	if (err) {
		ffpf_iface_remove_flow(ifc, idx);
		ifc->local &= ~(1ULL << idx);
		flow->instantiated = false;
		flow->iface = NULL;
		flow->idx = -1;
		goto unload;
	}
	__atomic_fetch_add(&live_flows, 1, __ATOMIC_RELAXED);
	return 0;
clear:
	for (i = 0; i < flow->nstages; i++) {
		key = flow->stages[i].slot;
		bpf_map_delete_elem(ifc->progs_fd, &key);
	}
unload:
	unload_stages(flow);
	flow->idx = -1;
put:
	ffpf_iface_put(ifc);
	return err;
}

static int set_active(struct ffpf_flow *flow, bool on)
{
	__u64 bit;

	if (!flow)
		return -EINVAL;
	if (!flow->instantiated)
		return ffpf_err(EINVAL, "flow %s: instantiate it first\n", flow->name);
	bit = 1ULL << flow->idx;
	if (on)
		__atomic_fetch_or(&flow->iface->ctl->active, bit, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(&flow->iface->ctl->active, ~bit, __ATOMIC_SEQ_CST);
	flow->active = on;
	return 0;
}

int ffpf_flow_activate(struct ffpf_flow *flow)
{
	if (flow && flow->remote)
		return flow->instantiated ? ffpf_remote_set_active(flow, true) : -EINVAL;
	return set_active(flow, true);
}

int ffpf_flow_pause(struct ffpf_flow *flow)
{
	if (flow && flow->remote)
		return flow->instantiated ? ffpf_remote_set_active(flow, false) : -EINVAL;
	return set_active(flow, false);
}

static void flow_pin_path(const struct ffpf_flow *flow, int i, bool mbuf,
			  char *buf, size_t len)
{
	ffpf_stage_pin_path(buf, len, flow->iface->ifname, flow->name, i,
			    flow->stages[i].cls->name, mbuf);
}

static void flow_unpin(struct ffpf_flow *flow)
{
	char dir[256], path[320];

	for (int i = 0; i < flow->nstages; i++) {
		flow_pin_path(flow, i, false, path, sizeof(path));
		unlink(path);
		flow_pin_path(flow, i, true, path, sizeof(path));
		unlink(path);
		if (flow->stages[i].cls->pin_map) {
			ffpf_stage_pin_path(path, sizeof(path), flow->iface->ifname, flow->name,
					    i, flow->stages[i].cls->pin_map, false);
			unlink(path);
		}
	}
	ffpf_pin_dir(dir, sizeof(dir), flow->iface->ifname, flow->name);
	rmdir(dir);
	flow->pinned = false;
}

int ffpf_flow_pin(struct ffpf_flow *flow)
{
	struct ffpf_iface *ifc;
	char dir[256], path[320];
	struct ffpf_flow_desc d;
	__u32 key;
	int err;

	if (!flow || !flow->instantiated)
		return -EINVAL;
	if (flow->remote)
		return ffpf_err(EOPNOTSUPP, "flow %s: a flow of the ffpf-bpf daemon cannot be "
				"pinned: it ends with its client\n", flow->name);
	if (flow->pinned)
		return 0;
	ifc = flow->iface;
	if (!ifc->pinned && (ifc->local & ~ifc->local_pinned & ~(1ULL << flow->idx)))
		return ffpf_err(EBUSY, "%s: this process has unpinned flows on the interface; "
				"pin all of them or none\n", ifc->ifname);
	err = ffpf_iface_pin(ifc);
	if (err)
		return err;
	ffpf_pin_dir(dir, sizeof(dir), ifc->ifname, flow->name);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return ffpf_err(errno, "cannot create %s: %s\n", dir, strerror(errno));
	for (int i = 0; i < flow->nstages; i++) {
		flow_pin_path(flow, i, false, path, sizeof(path));
		if (bpf_obj_pin(flow->stages[i].prog_fd, path))
			goto fail;
		flow_pin_path(flow, i, true, path, sizeof(path));
		if (bpf_obj_pin(flow->stages[i].mbuf_fd, path))
			goto fail;
		if (flow->stages[i].cls->pin_map) {
			const char *m = flow->stages[i].cls->pin_map;

			ffpf_stage_pin_path(path, sizeof(path), ifc->ifname, flow->name, i,
					    m, false);
			if (bpf_obj_pin(ffpf_stage_map_fd(&flow->stages[i], m), path))
				goto fail;
		}
	}
	flow->pinned = true;
	flow->flags |= FFPF_FLOW_PIN;
	ifc->local_pinned |= 1ULL << flow->idx;
	key = flow->idx;
	if (!ffpf_iface_read_desc(ifc, flow->idx, &d)) {
		d.pinned = 1;
		bpf_map_update_elem(ifc->flows_fd, &key, &d, BPF_ANY);
	}
	return 0;
fail:
	err = ffpf_err(errno, "cannot pin %s: %s\n", path, strerror(errno));
	flow_unpin(flow);
	return err;
}

int ffpf_flow_disconnect(struct ffpf_flow *flow)
{
	if (!flow || !flow->pinned)
		return -EINVAL;
	flow->disconnected = true;
	return 0;
}

void ffpf_flow_close(struct ffpf_flow *flow)
{
	if (!flow)
		return;
	if (flow->remote) {
		ffpf_remote_close(flow);
		free(flow->policy);
		free(flow);
		return;
	}
	if (flow->instantiated) {
		ffpf_ft_stop(flow);
		unlink_share(flow);
		ffpf_rx_remove(flow);
		if (!flow->disconnected) {
			ffpf_iface_remove_flow(flow->iface, flow->idx);
			if (flow->pinned)
				flow_unpin(flow);
		} else {
			/* it stays in the kernel; its group (our memory) goes */
			flow->iface->group_of[flow->idx] = NULL;
		}
		ffpf_rx_flows_changed(flow->iface);
		unload_stages(flow);
		ffpf_iface_put(flow->iface);
	}
	if (flow->instantiated)
		__atomic_fetch_sub(&live_flows, 1, __ATOMIC_RELAXED);
	drop_insts(flow->stages, flow->nstages);
	free(flow->policy);
	free(flow);
}

const char *ffpf_flow_name(const struct ffpf_flow *flow)
{
	return flow ? flow->name : NULL;
}

const char *ffpf_flow_ifname(const struct ffpf_flow *flow)
{
	return flow ? flow->ifname : NULL;
}

int ffpf_flow_nfilters(const struct ffpf_flow *flow)
{
	if (flow && flow->remote)
		return ffpf_remote_nfilters(flow);
	return flow ? flow->nstages : -EINVAL;
}

const char *ffpf_flow_filter_class(const struct ffpf_flow *flow, int idx)
{
	if (flow && flow->remote)
		return ffpf_remote_filter_class(flow, idx);
	if (!flow || idx < 0 || idx >= flow->nstages)
		return NULL;
	return flow->stages[idx].cls->name;
}

const char *ffpf_flow_filter_name(const struct ffpf_flow *flow, int idx)
{
	if (flow && flow->remote)
		return ffpf_remote_filter_name(flow, idx);
	if (!flow || idx < 0 || idx >= flow->nstages || !flow->stages[idx].inst)
		return NULL;
	return flow->stages[idx].inst->name;
}

const char *ffpf_flow_spec(const struct ffpf_flow *flow)
{
	if (flow && flow->remote)
		return ffpf_remote_spec(flow);
	return flow ? flow->spec : NULL;
}

bool ffpf_flow_is_active(const struct ffpf_flow *flow)
{
	if (flow && flow->remote)
		return flow->instantiated && flow->active;
	return flow && flow->instantiated &&
	       (__atomic_load_n(&flow->iface->ctl->active, __ATOMIC_ACQUIRE) &
		(1ULL << flow->idx));
}

/*
 * Copy the fields of @full the caller's struct has room for: an older
 * caller's smaller struct (its sz) gets the fields it knows, no more.
 */
int ffpf_copy_sized(void *dst, const void *full, size_t full_sz)
{
	size_t sz = *(const size_t *)dst;

	if (sz < sizeof(size_t) + sizeof(__u64))
		return -EINVAL;
	memcpy((char *)dst + sizeof(size_t), (const char *)full + sizeof(size_t),
	       (sz < full_sz ? sz : full_sz) - sizeof(size_t));
	return 0;
}

int ffpf_flow_stats(const struct ffpf_flow *flow, struct ffpf_flow_stats *st)
{
	struct ffpf_flow_counters c;
	struct ffpf_flow_stats full = { .sz = sizeof(full) };
	int err;

	if (!flow || !st || !flow->instantiated)
		return -EINVAL;
	if (flow->remote)
		return ffpf_remote_stats(flow, st);
	err = ffpf_percpu_sum(flow->iface->fstats_fd, flow->idx, &c, sizeof(c));
	if (err)
		return err;
	full.packets = c.packets;
	full.bytes = c.bytes;
	full.dispatched = c.dispatched;
	full.missed = c.missed;
	return ffpf_copy_sized(st, &full, sizeof(full));
}

int ffpf_flow_filter_stats(const struct ffpf_flow *flow, int idx,
			   struct ffpf_mbuf_hdr *hdr)
{
	const struct ffpf_stage *st;

	if (flow && flow->remote && hdr && flow->instantiated)
		return ffpf_remote_filter_stats(flow, idx, hdr);
	if (!flow || !hdr || !flow->instantiated || idx < 0 || idx >= flow->nstages)
		return -EINVAL;
	st = &flow->stages[idx];
	ffpf_mbuf_sum((const void *)((const char *)st->mbuf + st->cls->cpu_off), hdr);
	return 0;
}

void *ffpf_flow_filter_mbuf(struct ffpf_flow *flow, int idx, size_t *size)
{
	if (flow && flow->remote && flow->instantiated && idx >= 0 && idx < flow->nstages)
		return ffpf_remote_filter_mbuf(flow, idx, size);
	if (!flow || !flow->instantiated || idx < 0 || idx >= flow->nstages) {
		errno = EINVAL;
		return NULL;
	}
	if (size)
		*size = flow->stages[idx].mbuf_len;
	return flow->stages[idx].mbuf;
}

int ffpf_flow_iface_stats(const struct ffpf_flow *flow, struct ffpf_iface_stats *st)
{
	struct ffpf_root_counters c;
	struct ffpf_iface_stats full = { .sz = sizeof(full) };
	int err;

	if (!flow || !st || !flow->instantiated)
		return -EINVAL;
	if (flow->remote)
		return ffpf_remote_iface_stats(flow, st);
	err = ffpf_percpu_sum(flow->iface->rstats_fd, 0, &c, sizeof(c));
	if (err)
		return err;
	full.rx_packets = c.rx_packets;
	full.rx_bytes = c.rx_bytes;
	full.matched = c.matched;
	full.truncated = c.truncated;
	full.malformed = c.malformed;
	full.non_ip = c.non_ip;
	full.missed = c.missed;
	full.deep = c.deep;
	full.tap_redirected = c.tap_redirected;
	full.tap_no_socket = c.tap_no_socket;
	full.tap_meta_fail = c.tap_meta_fail;
	full.copied = c.copied;
	full.copy_lost = c.copy_lost;
	full.monitor_dropped = c.monitor_dropped;
	return ffpf_copy_sized(st, &full, sizeof(full));
}

int ffpf_flow_root_prog_fd(const struct ffpf_flow *flow)
{
	if (!flow || !flow->instantiated || flow->iface->root_fd < 0)
		return -EINVAL;
	return flow->iface->root_fd;
}

int ffpf_flow_pctx_fd(const struct ffpf_flow *flow)
{
	return flow && flow->instantiated ? flow->iface->pctx_fd : -EINVAL;
}

int ffpf_flow_slot(const struct ffpf_flow *flow)
{
	return flow && flow->instantiated ? flow->idx : -1;
}

enum ffpf_hook ffpf_flow_hook(const struct ffpf_flow *flow)
{
	return flow ? flow->hook : FFPF_HOOK_INGRESS;
}

int ffpf_flow_index(const struct ffpf_flow *flow)
{
	return flow && flow->instantiated ? flow->idx : -EINVAL;
}
