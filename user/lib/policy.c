// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * policy.c - the policy file parser (docs/policy.md).
 *
 * Line based: a line is a section header ("user NAME", "group NAME",
 * "user *") or a directive of the section above it. Each line is cut into
 * words and the one-character tokens "(", ")" and ","; "#" starts a
 * comment. Every error names the line and column of the word at fault.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "log.h"
#include "policy.h"

#define MAX_TOKS	96

struct ptok {
	const char *s;
	int len;
	int col;
};

struct pline {
	int line;
	int n;
	struct ptok t[MAX_TOKS];
	const char *start, *end;	/* the line without its comment */
	struct ffpf_spec_error *err;
};

static int fail(struct pline *pl, int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct pline *pl, int col, const char *fmt, ...)
{
	va_list ap;

	pl->err->line = pl->line;
	pl->err->col = col;
	va_start(ap, fmt);
	vsnprintf(pl->err->msg, sizeof(pl->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Column just past the line's last token, for "expected X at end of line". */
static int end_col(const struct pline *pl)
{
	const struct ptok *t = &pl->t[pl->n - 1];

	return t->col + t->len;
}

static bool tok_is(const struct ptok *t, const char *w)
{
	return t->len == (int)strlen(w) && !strncmp(t->s, w, t->len);
}

/* Cut one line (up to '\n' or the end) into tokens. */
static int tokenize(struct pline *pl, const char *p, const char **next)
{
	const char *line = p;

	pl->n = 0;
	pl->start = p;
	while (*p && *p != '\n' && *p != '#') {
		struct ptok *t;

		if (*p == ' ' || *p == '\t' || *p == '\r') {
			p++;
			continue;
		}
		if (pl->n == MAX_TOKS)
			return fail(pl, p - line + 1, "line too long (at most %d words)", MAX_TOKS);
		t = &pl->t[pl->n++];
		t->s = p;
		t->col = p - line + 1;
		if (strchr("(),", *p)) {
			t->len = 1;
			p++;
			continue;
		}
		for (; *p && !strchr(" \t\r\n#(),", *p); p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				return fail(pl, p - line + 1, "unexpected character '\\x%02x'",
					    (unsigned char)*p);
		t->len = p - t->s;
	}
	pl->end = p;
	while (*p && *p != '\n')
		p++;
	*next = *p ? p + 1 : p;
	return 0;
}

static int expected(struct pline *pl, int i, const char *what)
{
	if (i >= pl->n)
		return fail(pl, pl->n ? end_col(pl) : 1, "expected %s at end of line", what);
	return fail(pl, pl->t[i].col, "expected %s, found '%.*s'", what,
		    pl->t[i].len > 40 ? 40 : pl->t[i].len, pl->t[i].s);
}

/* Copy token @i into @buf (FFPF_POL_WORD_LEN). */
static int word(struct pline *pl, int i, char *buf, const char *what)
{
	const struct ptok *t = &pl->t[i];

	if (i >= pl->n || strchr("(),", *t->s))
		return expected(pl, i, what);
	if (t->len >= FFPF_POL_WORD_LEN)
		return fail(pl, t->col, "%s '%.*s' is longer than %d characters", what,
			    t->len, t->s, FFPF_POL_WORD_LEN - 1);
	memcpy(buf, t->s, t->len);
	buf[t->len] = '\0';
	return 0;
}

static int number(struct pline *pl, int i, unsigned long max, unsigned long *out)
{
	char buf[FFPF_POL_WORD_LEN], *end;
	int err = word(pl, i, buf, "a number");

	if (err)
		return err;
	errno = 0;
	*out = strtoul(buf, &end, 10);
	if (*end || buf[0] < '0' || buf[0] > '9' || errno || *out > max)
		return fail(pl, pl->t[i].col, "'%s': expected a number 0..%lu", buf, max);
	return 0;
}

static int no_more(struct pline *pl, int i)
{
	if (i < pl->n)
		return fail(pl, pl->t[i].col, "unexpected '%.*s' at the end of the line",
			    pl->t[i].len > 40 ? 40 : pl->t[i].len, pl->t[i].s);
	return 0;
}

/* A directive may appear once per section: remember where it was. */
static int once(struct pline *pl, struct ffpf_pol_where *w)
{
	int len = pl->end - pl->start;

	if (w->line)
		return fail(pl, pl->t[0].col, "'%.*s' is given twice in this section "
			    "(first at %d:%d)", pl->t[0].len, pl->t[0].s, w->line, w->col);
	while (len && strchr(" \t\r", pl->start[len - 1]))
		len--;
	w->line = pl->line;
	w->col = pl->t[0].col;
	snprintf(w->text, sizeof(w->text), "%.*s", len - (int)(pl->t[0].s - pl->start),
		 pl->t[0].s);
	return 0;
}

/* "interfaces GLOB..." or "classes CLASS... | *": @n words into @out. */
static int word_list(struct pline *pl, bool classes, char (*out)[FFPF_POL_WORD_LEN], int *n,
		     const char *what)
{
	int err;

	if (pl->n < 2)
		return expected(pl, 1, what);
	if (pl->n - 1 > FFPF_POL_MAX_WORDS)
		return fail(pl, pl->t[FFPF_POL_MAX_WORDS + 1].col, "too many words (at most %d)",
			    FFPF_POL_MAX_WORDS);
	for (int i = 1; i < pl->n; i++) {
		err = word(pl, i, out[i - 1], what);
		if (err)
			return err;
		if (classes && strcmp(out[i - 1], "*") && !ffpf_class_find(out[i - 1]))
			return fail(pl, pl->t[i].col, "unknown filter class '%s' (known: %s)",
				    out[i - 1], ffpf_class_names());
	}
	*n = pl->n - 1;
	return 0;
}

static int rx_list(struct pline *pl, unsigned *mask)
{
	static const char *const modes[] = { "none", "copy", "tap" };

	if (pl->n < 2)
		return expected(pl, 1, "none, copy or tap");
	*mask = 0;
	for (int i = 1; i < pl->n; i++) {
		int m;

		for (m = 0; m < 3 && !tok_is(&pl->t[i], modes[m]); m++)
			;
		if (m == 3)
			return expected(pl, i, "none, copy or tap");
		*mask |= 1u << m;
	}
	return 0;
}

static int prefix(struct pline *pl, int i, struct ffpf_prefixset_key *key)
{
	char buf[64], why[128];
	size_t off = 0;

	if (i >= pl->n || pl->t[i].len >= (int)sizeof(buf) || strchr("(),", *pl->t[i].s))
		return expected(pl, i, "a prefix ADDR/LEN");
	snprintf(buf, sizeof(buf), "%.*s", pl->t[i].len, pl->t[i].s);
	if (ffpf_prefix_parse(buf, key, why, sizeof(why), &off))
		return fail(pl, pl->t[i].col + (int)off, "%s", why);
	return 0;
}

/* An optional direction word at @i; *@i moves past it. */
static void direction(struct pline *pl, int *i, bool either, __u8 *dir)
{
	*dir = 0;
	if (*i >= pl->n)
		return;
	if (tok_is(&pl->t[*i], "src"))
		*dir = FFPF_PS_SRC;
	else if (tok_is(&pl->t[*i], "dst"))
		*dir = FFPF_PS_DST;
	else if (either && tok_is(&pl->t[*i], "either"))
		*dir = FFPF_PS_EITHER;
	if (*dir)
		(*i)++;
}

static int punct(struct pline *pl, int i, const char *p)
{
	return i < pl->n && tok_is(&pl->t[i], p) ? 0 : expected(pl, i, p);
}

/*
 * cond := "prefixset" "(" [src|dst|either ","] "allow" "," PREFIX ")"
 *       | "match" "(" [src|dst] "net" PREFIX ")"
 */
static int condition(struct pline *pl, int *ip, struct ffpf_pol_cond *c)
{
	int i = *ip, err;

	if (i < pl->n && tok_is(&pl->t[i], "prefixset")) {
		if ((err = punct(pl, ++i, "(")))
			return err;
		i++;
		direction(pl, &i, true, &c->dir);
		if (c->dir && (err = punct(pl, i++, ",")))
			return err;
		if (i < pl->n && tok_is(&pl->t[i], "deny"))
			return fail(pl, pl->t[i].col, "a deny-mode prefixset restricts nothing: "
				    "a precondition is an allow-mode prefixset");
		if ((err = punct(pl, i, "allow")) || (err = punct(pl, i + 1, ",")))
			return err;
		i += 2;
	} else if (i < pl->n && tok_is(&pl->t[i], "match")) {
		c->match = true;
		if ((err = punct(pl, ++i, "(")))
			return err;
		i++;
		direction(pl, &i, false, &c->dir);
		if ((err = punct(pl, i++, "net")))
			return err;
	} else {
		return expected(pl, i, "prefixset(...) or match(...)");
	}
	if ((err = prefix(pl, i++, &c->within)) || (err = punct(pl, i++, ")")))
		return err;
	*ip = i;
	return 0;
}

/* "require CLASS after COND [or COND]..." */
static int require(struct pline *pl, struct ffpf_pol_rule *r)
{
	struct ffpf_pol_order *o;
	struct ffpf_pol_where w = {0};
	int i = 3, err;

	if (r->norders == FFPF_POL_MAX_ORDERS)
		return fail(pl, pl->t[0].col, "too many require lines in one section (at most %d)",
			    FFPF_POL_MAX_ORDERS);
	o = &r->orders[r->norders];
	memset(o, 0, sizeof(*o));
	if ((err = word(pl, 1, o->cls, "a filter class")))
		return err;
	if (!ffpf_class_find(o->cls))
		return fail(pl, pl->t[1].col, "unknown filter class '%s' (known: %s)", o->cls,
			    ffpf_class_names());
	if ((err = punct(pl, 2, "after")))
		return err;
	for (;;) {
		if (o->ncond == FFPF_POL_MAX_CONDS)
			return fail(pl, pl->t[i].col, "too many alternatives (at most %d)",
				    FFPF_POL_MAX_CONDS);
		if ((err = condition(pl, &i, &o->cond[o->ncond++])))
			return err;
		if (i >= pl->n)
			break;
		if (!tok_is(&pl->t[i], "or"))
			return expected(pl, i, "'or' or the end of the line");
		i++;
	}
	once(pl, &w);
	o->line = w.line;
	memcpy(o->text, w.text, sizeof(o->text));
	r->norders++;
	return 0;
}

static int directive(struct pline *pl, struct ffpf_pol_rule *r)
{
	unsigned long v = 0;
	int err;

	if (!r)
		return fail(pl, pl->t[0].col, "'%.*s' before any section: start one with "
			    "'user NAME', 'group NAME' or 'user *'", pl->t[0].len, pl->t[0].s);
	if (tok_is(&pl->t[0], "interfaces")) {
		if (!(err = once(pl, &r->ifaces_at)))
			err = word_list(pl, false, r->ifaces, &r->nifaces,
					"an interface name or glob");
	} else if (tok_is(&pl->t[0], "classes")) {
		if (!(err = once(pl, &r->classes_at)))
			err = word_list(pl, true, r->classes, &r->nclasses,
					"a filter class or '*'");
	} else if (tok_is(&pl->t[0], "groups")) {
		if (!(err = once(pl, &r->groups_at)))
			err = word_list(pl, false, r->groups, &r->ngroups,
					"a flow group name or glob");
	} else if (tok_is(&pl->t[0], "mbuf")) {
		static const char *const acc[] = { "none", "read", "write" };

		if (!(err = once(pl, &r->mbuf_at))) {
			if (pl->n < 2)
				err = expected(pl, 1, "none, read or write");
			for (v = 0; !err && v < 3 && !tok_is(&pl->t[1], acc[v]); v++)
				;
			if (!err && v == 3)
				err = expected(pl, 1, "none, read or write");
			if (!err)
				err = no_more(pl, 2);
		}
		r->mbuf = v;
	} else if (tok_is(&pl->t[0], "rx")) {
		if (!(err = once(pl, &r->rx_at)))
			err = rx_list(pl, &r->rx_mask);
	} else if (tok_is(&pl->t[0], "snaplen")) {
		if (!(err = once(pl, &r->snaplen_at)) && !(err = number(pl, 1, FFPF_SNAPLEN_MAX, &v)))
			err = no_more(pl, 2);
		if (!err && !v)
			err = fail(pl, pl->t[1].col, "snaplen 0: expected 1..%u", FFPF_SNAPLEN_MAX);
		r->snaplen = v;
	} else if (tok_is(&pl->t[0], "flows")) {
		if (!(err = once(pl, &r->flows_at)) && !(err = number(pl, 1, 1u << 20, &v)))
			err = no_more(pl, 2);
		r->max_flows = v;
	} else if (tok_is(&pl->t[0], "require")) {
		err = require(pl, r);
	} else {
		err = fail(pl, pl->t[0].col, "unknown directive '%.*s' (expected user, group, "
			   "interfaces, classes, rx, snaplen, flows, groups, mbuf or require)",
			   pl->t[0].len > 40 ? 40 : pl->t[0].len, pl->t[0].s);
	}
	return err;
}

/* "user NAME" | "group NAME" | "user *": a new rule at the end of @pol. */
static int section(struct pline *pl, struct ffpf_policy *pol, struct ffpf_pol_rule **cur)
{
	bool group = tok_is(&pl->t[0], "group");
	struct ffpf_pol_rule *r;
	char who[FFPF_POL_WORD_LEN];
	int err = word(pl, 1, who, group ? "a group name" : "a user name or '*'");

	if (err || (err = no_more(pl, 2)))
		return err;
	if (group && !strcmp(who, "*"))
		return fail(pl, pl->t[1].col, "the default section is 'user *'");
	for (int i = 0; i < pol->nrules; i++) {
		r = &pol->rules[i];
		if ((r->kind == FFPF_POL_GROUP) == group && !strcmp(r->who, who))
			return fail(pl, pl->t[0].col, "%s %s has a section already (at %d:%d)",
				    group ? "group" : "user", who, r->line, r->col);
	}
	r = realloc(pol->rules, (pol->nrules + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	pol->rules = r;
	r = &pol->rules[pol->nrules++];
	memset(r, 0, sizeof(*r));
	r->kind = group ? FFPF_POL_GROUP : strcmp(who, "*") ? FFPF_POL_USER : FFPF_POL_DEFAULT;
	memcpy(r->who, who, sizeof(r->who));
	r->line = pl->line;
	r->col = pl->t[0].col;
	r->rx_mask = 1u << FFPF_RX_NONE;
	*cur = r;
	return 0;
}

int ffpf_policy_parse_text(const char *text, const char *name, struct ffpf_policy **out,
			   struct ffpf_spec_error *err)
{
	struct pline pl = { .err = err };
	struct ffpf_pol_rule *cur = NULL;
	struct ffpf_policy *pol;
	const char *p = text;
	int ret = 0;

	*out = NULL;
	pol = calloc(1, sizeof(*pol));
	if (!pol || !(pol->name = strdup(name ? name : "policy"))) {
		free(pol);
		return -ENOMEM;
	}
	for (pl.line = 1; *p && !ret; pl.line++) {
		ret = tokenize(&pl, p, &p);
		if (ret || !pl.n)
			continue;
		if (tok_is(&pl.t[0], "user") || tok_is(&pl.t[0], "group")) {
			ret = section(&pl, pol, &cur);
		} else {
			ret = directive(&pl, cur);
		}
	}
	if (ret) {
		ffpf_policy_free(pol);
		return ret;
	}
	*out = pol;
	return 0;
}

void ffpf_policy_free(struct ffpf_policy *pol)
{
	if (!pol)
		return;
	free(pol->rules);
	free(pol->name);
	free(pol);
}

int ffpf_policy_parse(const char *text, const char *name, struct ffpf_policy **out)
{
	struct ffpf_spec_error e = {0};
	int err;

	if (!out)
		return -EINVAL;
	err = ffpf_policy_parse_text(text ? text : "", name, out, &e);
	if (err == -EINVAL)
		ffpf_pr(FFPF_WARN, "%s:%d:%d: %s\n", name ? name : "policy", e.line, e.col, e.msg);
	return err;
}

int ffpf_policy_load(const char *path, struct ffpf_policy **out)
{
	FILE *f;
	char *text = NULL;
	size_t len = 0, n;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!path)
		path = getenv(FFPF_POLICY_ENV) ?: FFPF_POLICY_PATH;
	f = fopen(path, "r");
	if (!f)
		return -errno;
	do {	/* a policy is small: grow by 4 KiB */
		char *t = realloc(text, len + 4097);

		if (!t) {
			free(text);
			fclose(f);
			return -ENOMEM;
		}
		text = t;
		n = fread(text + len, 1, 4096, f);
		len += n;
	} while (n == 4096);
	err = ferror(f) ? -EIO : 0;
	fclose(f);
	text[len] = '\0';
	if (!err && strlen(text) != len)
		err = ffpf_err(EINVAL, "%s: a NUL byte in a policy file\n", path);
	if (!err)
		err = ffpf_policy_parse(text, path, out);
	free(text);
	return err;
}
