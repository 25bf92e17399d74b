/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * fuzz_spec.c - libFuzzer target for the flow spec parser (user/lib/spec.c)
 * and the built-in classes' argument parsers (user/lib/args.c): match,
 * sample, count, flowtrack, prefixset, payload and bpf.
 *
 * Each input, as a C string, goes through
 *   1. ffpf_spec_check(), the public entry: parse, then every filter's
 *      class configure step (nothing is loaded);
 *   2. ffpf_spec_parse() directly, then every class's argument parser on
 *      every filter (the parsers do not look at the class name, so match
 *      also sees sample's arguments and so on), and ffpf_match_may_overlap()
 *      on each pair of neighbouring match configurations.
 * bpf's parser compiles its expression with libpcap, which resolves host,
 * network and Ethernet names: fuzz.h replaces the resolvers (every name is
 * unknown, nothing is sent) and the target runs in a network namespace of
 * its own when it can (fuzz_no_network()).
 * Invariants checked (a broken one aborts: libFuzzer reports a crash):
 *   - results are 0 or a negative errno the API documents;
 *   - an error has a non-empty message and a LINE:COL inside the input
 *     (a character of it, or the end of a line);
 *   - the public entry agrees with the parts: same result, and its one
 *     printed line is "spec:LINE:COL: ..." at the same position;
 *   - a parsed spec has sane filters: class names, trimmed arguments,
 *     positions inside the input, at most FFPF_SPEC_MAX_ARGS arguments;
 *   - the graph: pass/fail edges only go forward, every filter is reachable;
 *   - the spec printed back (ffpf_spec_format), as a flow's directory
 *     entry records it ("name :: class(arg, arg) -> (a | b)"), parses to
 *     the same filters and links, and every class parser agrees on them;
 *   - a flow file ("NAME = SPEC ...") splits into specs that keep the
 *     input's positions and parse; the public entry agrees;
 *   - ffpf_match_may_overlap() is symmetric;
 *   - accepted configurations are in range: prefixset's initial prefixes
 *     at most FFPF_PS_INIT_MAX, its size 1..FFPF_PS_SIZE_MAX; payload's
 *     1..32 patterns of 1..32 bytes, depth 1..1500, offset 0..1500; bpf's
 *     expression NUL-terminated and accepted by ffpf_bpf_check_expr().
 * Sanitizers (address, undefined, leaks) catch the rest.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ffpf/ffpf.h>
#include <ffpf/flowtrack.h>
#include <ffpf/mbuf.h>

#include "internal.h"
#include "spec.h"
#include "fuzz.h"

enum { C_MATCH, C_SAMPLE, C_COUNT, C_FLOWTRACK, C_PREFIXSET, C_PAYLOAD, C_BPF, C_NUM };
static const char *const class_names[C_NUM] = {
	"match", "sample", "count", "flowtrack", "prefixset", "payload", "bpf",
};

/* One class parser's outcome on one filter. */
struct outcome {
	int ret;
	struct ffpf_spec_error err;
	union {
		struct ffpf_match_cfg match;
		__u32 every;
		struct ffpf_ft_cfg ft;
		struct ffpf_prefixset_args ps;
		struct ffpf_payload_cfg pl;
		struct ffpf_bpf_cfg bpf;
	} cfg;
};

/* What the library printed during ffpf_spec_check(). */
static char printed[2048];
static size_t printed_len;
static int printed_lines;

static int capture(enum ffpf_print_level level, const char *fmt, va_list args)
{
	int n;

	if (level == FFPF_DEBUG)
		return 0;
	n = vsnprintf(printed + printed_len, sizeof(printed) - printed_len, fmt, args);
	if (n > 0)
		printed_len += (size_t)n < sizeof(printed) - printed_len ?
			       (size_t)n : sizeof(printed) - printed_len - 1;
	printed_lines++;
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	ffpf_set_print(capture);
	fuzz_no_network();
	return 0;
}

/* Is @line:@col a character of @text or the end of one of its lines? */
static bool pos_ok(const char *text, int line, int col)
{
	const char *p = text;

	if (line < 1 || col < 1)
		return false;
	for (int l = 1; l < line; l++) {
		p = strchr(p, '\n');
		if (!p)
			return false;
		p++;
	}
	return (size_t)col <= strcspn(p, "\n") + 1;
}

static void check_err(const char *text, const struct ffpf_spec_error *e,
		      const char *what)
{
	FUZZ_CHECK(e->msg[0], "%s: empty error message", what);
	FUZZ_CHECK(memchr(e->msg, '\0', sizeof(e->msg)), "%s: message not terminated", what);
	FUZZ_CHECK(pos_ok(text, e->line, e->col), "%s: error at %d:%d outside the input (%s)",
		   what, e->line, e->col, e->msg);
}

static bool is_blank(char c)
{
	return c && strchr(" \t\n\r\v\f", c);
}

static void check_filters(const char *text, const struct ffpf_spec *s)
{
	FUZZ_CHECK(s->nfilters >= 1, "%d filters", s->nfilters);
	for (int i = 0; i < s->nfilters; i++) {
		const struct ffpf_spec_filter *f = &s->filters[i];

		FUZZ_CHECK(f->cls && f->cls[0], "filter %d: no class", i);
		FUZZ_CHECK(!f->name || f->name[0], "filter %d: empty name", i);
		FUZZ_CHECK(pos_ok(text, f->line, f->col), "filter %d at %d:%d",
			   i, f->line, f->col);
		FUZZ_CHECK(f->nargs >= 0 && f->nargs <= FFPF_SPEC_MAX_ARGS,
			   "filter %d: %d args", i, f->nargs);
		for (int j = 0; j < f->nargs; j++) {
			const struct ffpf_spec_arg *a = &f->args[j];
			size_t len = strlen(a->text);

			FUZZ_CHECK(len && !is_blank(a->text[0]) && !is_blank(a->text[len - 1]),
				   "filter %d arg %d: '%s' empty or not trimmed", i, j, a->text);
			FUZZ_CHECK(pos_ok(text, a->line, a->col), "filter %d arg %d at %d:%d",
				   i, j, a->line, a->col);
		}
	}
}

/* Run class @c's argument parser on @f. */
static void run_class(int c, const struct ffpf_spec_filter *f, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	switch (c) {
	case C_MATCH:
		o->ret = ffpf_match_parse_args(f, &o->cfg.match, &o->err);
		break;
	case C_SAMPLE:
		o->ret = ffpf_sample_parse_args(f, &o->cfg.every, &o->err);
		break;
	case C_COUNT:
		o->ret = ffpf_count_parse_args(f, &o->err);
		break;
	case C_FLOWTRACK:
		o->ret = ffpf_flowtrack_parse_args(f, &o->cfg.ft, &o->err);
		break;
	case C_PREFIXSET:
		o->ret = ffpf_prefixset_parse_args(f, &o->cfg.ps, &o->err);
		break;
	case C_PAYLOAD:
		o->ret = ffpf_payload_parse_args(f, &o->cfg.pl, &o->err);
		break;
	default:
		o->ret = ffpf_bpf_parse_args(f, &o->cfg.bpf, &o->err);
		break;
	}
}

/* An accepted configuration of class @c is in its documented range. */
static void check_cfg(int c, int i, const struct outcome *o)
{
	char why[512];

	switch (c) {
	case C_PREFIXSET:
		FUZZ_CHECK(o->cfg.ps.n <= FFPF_PS_INIT_MAX, "prefixset on filter %d: %u prefixes",
			   i, o->cfg.ps.n);
		FUZZ_CHECK(o->cfg.ps.cfg.size >= 1 && o->cfg.ps.cfg.size <= FFPF_PS_SIZE_MAX,
			   "prefixset on filter %d: size %u", i, o->cfg.ps.cfg.size);
		break;
	case C_PAYLOAD:
		FUZZ_CHECK(o->cfg.pl.npat >= 1 && o->cfg.pl.npat <= FFPF_PL_MAX_PATTERNS,
			   "payload on filter %d: %u patterns", i, o->cfg.pl.npat);
		for (int p = 0; p < o->cfg.pl.npat; p++)
			FUZZ_CHECK(o->cfg.pl.len[p] >= 1 && o->cfg.pl.len[p] <= FFPF_PL_MAX_PATLEN,
				   "payload on filter %d: pattern %d of %u bytes", i, p,
				   o->cfg.pl.len[p]);
		FUZZ_CHECK(o->cfg.pl.depth >= 1 && o->cfg.pl.depth <= FFPF_PL_DEPTH_MAX &&
			   o->cfg.pl.offset <= FFPF_PL_DEPTH_MAX,
			   "payload on filter %d: depth %u offset %u", i, o->cfg.pl.depth,
			   o->cfg.pl.offset);
		break;
	case C_BPF:
		FUZZ_CHECK(memchr(o->cfg.bpf.expr, '\0', sizeof(o->cfg.bpf.expr)),
			   "bpf on filter %d: expression not terminated", i);
		FUZZ_CHECK(ffpf_bpf_check_expr(o->cfg.bpf.expr, why, sizeof(why)) == 0,
			   "bpf on filter %d: accepted '%s', check says %s", i,
			   o->cfg.bpf.expr, why);
		break;
	default:
		break;
	}
}

static int class_of(const char *cls)
{
	for (int c = 0; c < C_NUM; c++)
		if (!strcmp(cls, class_names[c]))
			return c;
	return -1;
}

/* The spec printed back (ffpf_spec_format), as a flow's directory entry records it. */
static char *rebuild(const struct ffpf_spec *s)
{
	size_t size = ffpf_spec_format(s, NULL, 0) + 1;
	char *out = malloc(size);

	if (!out)
		abort();
	FUZZ_CHECK(ffpf_spec_format(s, out, size) == size - 1, "format: two lengths");
	return out;
}

/*
 * The graph: edges only go forward (so no cycle, and filter 0 is the
 * entry), a reject never means accept, and every filter can be reached.
 */
static void check_graph(const struct ffpf_spec *s)
{
	bool *seen = calloc(s->nfilters, sizeof(*seen));

	if (!seen)
		abort();
	seen[0] = true;
	for (int i = 0; i < s->nfilters; i++) {
		const struct ffpf_spec_filter *f = &s->filters[i];

		FUZZ_CHECK(f->pass == FFPF_SPEC_ACCEPT || (f->pass > i && f->pass < s->nfilters),
			   "filter %d: pass %d", i, f->pass);
		FUZZ_CHECK(f->fail == FFPF_SPEC_REJECT || (f->fail > i && f->fail < s->nfilters),
			   "filter %d: fail %d", i, f->fail);
		FUZZ_CHECK(seen[i], "filter %d cannot be reached", i);
		if (f->pass >= 0)
			seen[f->pass] = true;
		if (f->fail >= 0)
			seen[f->fail] = true;
	}
	free(seen);
}

static void same_outcome(const struct outcome *a, const struct outcome *b, int c,
			 int i, const char *again)
{
	FUZZ_CHECK(a->ret == b->ret, "%s on filter %d: %d, on the rebuilt spec %d (%s)",
		   class_names[c], i, a->ret, b->ret, again);
	if (a->ret) {
		FUZZ_CHECK(!strcmp(a->err.msg, b->err.msg),
			   "%s on filter %d: '%s', on the rebuilt spec '%s' (%s)",
			   class_names[c], i, a->err.msg, b->err.msg, again);
		return;
	}
	FUZZ_CHECK(!memcmp(&a->cfg, &b->cfg, sizeof(a->cfg)),
		   "%s on filter %d: configuration differs on the rebuilt spec (%s)",
		   class_names[c], i, again);
}

/* Parse the rebuilt text: same filters, same class parser outcomes. */
static void check_rebuilt(const struct ffpf_spec *s, struct outcome (*res)[C_NUM])
{
	struct ffpf_spec_error err = {0};
	struct ffpf_spec *t = NULL;
	char *again = rebuild(s);
	int ret = ffpf_spec_parse(again, &t, &err);

	FUZZ_CHECK(ret == 0, "rebuilt spec \"%s\" fails: %d:%d: %s", again,
		   err.line, err.col, err.msg);
	FUZZ_CHECK(t->nfilters == s->nfilters, "rebuilt spec \"%s\": %d filters, not %d",
		   again, t->nfilters, s->nfilters);
	for (int i = 0; i < s->nfilters; i++) {
		const struct ffpf_spec_filter *f = &s->filters[i], *g = &t->filters[i];

		FUZZ_CHECK(!strcmp(f->cls, g->cls), "rebuilt \"%s\": class %d", again, i);
		FUZZ_CHECK(!f->name == !g->name && (!f->name || !strcmp(f->name, g->name)),
			   "rebuilt \"%s\": name %d", again, i);
		FUZZ_CHECK(f->pass == g->pass && f->fail == g->fail && f->parens == g->parens,
			   "rebuilt \"%s\": filter %d links %d/%d, not %d/%d", again, i,
			   g->pass, g->fail, f->pass, f->fail);
		FUZZ_CHECK(f->nargs == g->nargs, "rebuilt \"%s\": filter %d has %d args, not %d",
			   again, i, g->nargs, f->nargs);
		for (int j = 0; j < f->nargs; j++)
			FUZZ_CHECK(!strcmp(f->args[j].text, g->args[j].text),
				   "rebuilt \"%s\": filter %d arg %d '%s', not '%s'",
				   again, i, j, g->args[j].text, f->args[j].text);
		for (int c = 0; c < C_NUM; c++) {
			struct outcome o;

			run_class(c, g, &o);
			same_outcome(&res[i][c], &o, c, i, again);
		}
	}
	ffpf_spec_free(t);
	free(again);
}

/* Check ffpf_spec_check()'s result against the parts' results. */
static void check_public(const char *text, int pub, int npub, int ret,
			 const struct ffpf_spec_error *perr, const struct ffpf_spec *s,
			 struct outcome (*res)[C_NUM])
{
	const struct ffpf_spec_error *want = perr;
	struct ffpf_spec_error unknown = {0};
	int want_ret = ret, line, col, off = 0;
	const char *at;

	if (pub == -ENOMEM || ret == -ENOMEM)
		return;		/* malloc can fail in either run, not both */
	if (!ret && s->nfilters > FFPF_MAX_STAGES) {
		want_ret = -E2BIG;
		unknown.line = s->filters[FFPF_MAX_STAGES].line;
		unknown.col = s->filters[FFPF_MAX_STAGES].col;
		want = &unknown;
	}
	for (int i = 0; !ret && want_ret != -E2BIG && i < s->nfilters; i++) {
		int c = class_of(s->filters[i].cls);

		/* names: definitions and references are resolved by the library
		 * alone; no prediction past the first one */
		if (s->filters[i].name || (c < 0 && !ffpf_class_find(s->filters[i].cls) &&
					   !s->filters[i].parens))
			return;

		if (c < 0) {
			/* a library class this target does not run itself: no prediction */
			if (ffpf_class_find(s->filters[i].cls))
				return;
			unknown.line = s->filters[i].line;
			unknown.col = s->filters[i].col;
			want = &unknown;
			want_ret = -EINVAL;
			break;
		}
		if (res[i][c].ret) {
			want = &res[i][c].err;
			want_ret = res[i][c].ret;
			break;
		}
	}

	FUZZ_CHECK(pub == want_ret, "ffpf_spec_check() %d, its parts say %d", pub, want_ret);
	if (!pub) {
		FUZZ_CHECK(npub == s->nfilters, "ffpf_spec_check(): %d filters, parsed %d",
			   npub, s->nfilters);
		FUZZ_CHECK(printed_lines == 0, "ffpf_spec_check() succeeded but printed '%s'",
			   printed);
		return;
	}
	FUZZ_CHECK(printed_lines == 1, "ffpf_spec_check() %d printed %d lines: '%s'",
		   pub, printed_lines, printed);
	at = strstr(printed, "spec:");
	FUZZ_CHECK(at && sscanf(at, "spec:%d:%d: %n", &line, &col, &off) == 2 && off &&
		   at[off] && at[off] != '\n', "printed '%s'", printed);
	FUZZ_CHECK(pos_ok(text, line, col), "printed '%s': outside the input", printed);
	FUZZ_CHECK(line == want->line && col == want->col,
		   "printed '%s', the parts say %d:%d: %s", printed, want->line, want->col,
		   want->msg);
}

/*
 * A flow file: every flow's spec is the input blanked outside it (same
 * length, positions kept) and parses; the public entry agrees on the count.
 */
static void check_flow_file(const char *text)
{
	struct ffpf_spec_flowdef *d = NULL;
	struct ffpf_flow_def *pd = NULL;
	struct ffpf_spec_error err = {0};
	int n = ffpf_spec_split_flows(text, &d, &err), pn;

	FUZZ_CHECK(n >= 0 || n == -EINVAL || n == -ENOMEM, "split_flows() returned %d", n);
	if (n == -EINVAL)
		check_err(text, &err, "ffpf_spec_split_flows()");
	for (int i = 0; i < n; i++) {
		struct ffpf_spec *s = NULL;

		FUZZ_CHECK(strlen(d[i].spec) == strlen(text), "flow %d: spec length", i);
		FUZZ_CHECK(pos_ok(text, d[i].line, d[i].col), "flow %d at %d:%d", i,
			   d[i].line, d[i].col);
		FUZZ_CHECK(ffpf_spec_parse(d[i].spec, &s, &err) == 0 || err.msg[0],
			   "flow %d: its spec does not parse", i);
		if (s)
			check_filters(text, s);
		ffpf_spec_free(s);
	}
	pn = ffpf_flow_file_parse(text, &pd);
	if (n >= 0 && pn >= 0)
		FUZZ_CHECK(pn == n, "ffpf_flow_file_parse() %d flows, split %d", pn, n);
	if (pn >= 0)
		ffpf_flow_file_free(pd, pn);
	ffpf_spec_flowdefs_free(d, n > 0 ? n : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct ffpf_spec_error err = {0};
	struct outcome (*res)[C_NUM] = NULL;
	struct ffpf_spec *s = (struct ffpf_spec *)&err;
	int pub, npub = -1, ret;

	printed_len = 0;
	printed[0] = '\0';
	printed_lines = 0;
	pub = ffpf_spec_check(text, &npub);
	FUZZ_CHECK(pub == 0 || pub == -EINVAL || pub == -E2BIG || pub == -ENOMEM,
		   "ffpf_spec_check() returned %d", pub);

	ret = ffpf_spec_parse(text, &s, &err);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM,
		   "ffpf_spec_parse() returned %d", ret);
	if (ret) {
		FUZZ_CHECK(s == NULL, "ffpf_spec_parse() failed but set the spec");
		if (ret == -EINVAL)
			check_err(text, &err, "ffpf_spec_parse()");
	} else {
		check_filters(text, s);
		res = calloc(s->nfilters, sizeof(*res));
		if (!res)
			abort();
		for (int i = 0; i < s->nfilters; i++) {
			for (int c = 0; c < C_NUM; c++) {
				struct outcome *o = &res[i][c];

				run_class(c, &s->filters[i], o);
				FUZZ_CHECK(o->ret == 0 || o->ret == -EINVAL,
					   "%s parser on filter %d returned %d",
					   class_names[c], i, o->ret);
				if (o->ret)
					check_err(text, &o->err, class_names[c]);
				else
					check_cfg(c, i, o);
			}
			if (i && !res[i - 1][C_MATCH].ret && !res[i][C_MATCH].ret) {
				const struct ffpf_match_cfg *a = &res[i - 1][C_MATCH].cfg.match;
				const struct ffpf_match_cfg *b = &res[i][C_MATCH].cfg.match;

				FUZZ_CHECK(ffpf_match_may_overlap(a, b) ==
					   ffpf_match_may_overlap(b, a),
					   "match overlap of filters %d and %d not symmetric",
					   i - 1, i);
			}
		}
		check_graph(s);
		check_rebuilt(s, res);
	}
	check_public(text, pub, npub, ret, &err, s, res);
	check_flow_file(text);

	free(res);
	ffpf_spec_free(s);
	free(text);
	return 0;
}
