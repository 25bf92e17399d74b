/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * spec.c - the flow spec lexer and recursive-descent parser.
 *
 * The lexer produces tokens for the chain structure only. A filter's
 * argument list is not tokenized: it is scanned as raw text and split at
 * top-level commas, because each class parses its own arguments.
 *
 * The descent is spec -> alt -> chain -> element -> filter, an element
 * being a filter or a group "( alt )". The tree is then linked into a
 * graph: each filter learns where an accept and a reject lead.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

enum tok_type {
	T_EOF,
	T_NAME,
	T_ARROW,	/* -> */
	T_DCOLON,	/* :: */
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_PIPE,
	T_EQUALS,	/* = (flow files) */
	T_SEMI,		/* ; (flow files) */
	T_BAD,		/* a character that starts no token */
};

struct token {
	enum tok_type type;
	const char *start;
	size_t len;
	int line, col;
};

struct parser {
	const char *p;		/* next unread character */
	int line, col;		/* position of *p */
	struct token tok;	/* one token of lookahead */
	struct ffpf_spec *spec;
	int cap;		/* allocated entries in spec->filters */
	int ncap;		/* ... and in spec->nodes */
	struct ffpf_spec_error *err;
};

static int fail_at(struct parser *ps, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_at(struct parser *ps, int line, int col, const char *fmt, ...)
{
	va_list ap;

	if (ps->err) {
		ps->err->line = line;
		ps->err->col = col;
		va_start(ap, fmt);
		vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int fail_nomem(struct parser *ps)
{
	fail_at(ps, ps->line, ps->col, "out of memory");
	return -ENOMEM;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	       c == '\v' || c == '\f';
}

static int is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '-';
}

static void advance(struct parser *ps)
{
	if (*ps->p == '\n') {
		ps->line++;
		ps->col = 1;
	} else {
		ps->col++;
	}
	ps->p++;
}

static void skip_comment(struct parser *ps)
{
	while (*ps->p && *ps->p != '\n')
		advance(ps);
}

static void skip_blanks(struct parser *ps)
{
	for (;;) {
		if (*ps->p == '#')
			skip_comment(ps);
		else if (is_blank(*ps->p))
			advance(ps);
		else
			return;
	}
}

/* The one-character tokens, and what each is. */
static const char single_chars[] = "(),|=;";
static const enum tok_type single_types[] = {
	T_LPAREN, T_RPAREN, T_COMMA, T_PIPE, T_EQUALS, T_SEMI,
};

/* Read the next token into ps->tok. */
static void lex(struct parser *ps)
{
	struct token *t = &ps->tok;
	const char *s;

	skip_blanks(ps);
	s = ps->p;
	t->start = s;
	t->line = ps->line;
	t->col = ps->col;
	t->len = 1;

	switch (*s) {
	case '\0':
		t->type = T_EOF;
		t->len = 0;
		return;
	case '-':
		t->type = s[1] == '>' ? T_ARROW : T_BAD;
		break;
	case ':':
		t->type = s[1] == ':' ? T_DCOLON : T_BAD;
		break;
	default:
		if (*s && strchr(single_chars, *s)) {
			t->type = single_types[strchr(single_chars, *s) - single_chars];
			break;
		}
		if (!is_name_start(*s)) {
			t->type = T_BAD;
			break;
		}
		/* A '-' belongs to the name unless it starts "->". */
		t->len = 1;
		while (is_name_char(s[t->len]) &&
		       !(s[t->len] == '-' && s[t->len + 1] == '>'))
			t->len++;
		t->type = T_NAME;
		break;
	}
	if (t->type == T_ARROW || t->type == T_DCOLON)
		t->len = 2;
	for (size_t i = 0; i < t->len; i++)
		advance(ps);
}

/* Describe the current token for "found ..." in a message. */
static const char *describe(const struct token *t, char *buf, size_t size)
{
	unsigned char c = (unsigned char)*t->start;

	if (t->type == T_EOF)
		return "end of spec";
	if (t->type == T_BAD && (c < 0x20 || c >= 0x7f))
		snprintf(buf, size, "'\\x%02x'", c);
	else if (t->len > 40)
		snprintf(buf, size, "'%.40s...'", t->start);
	else
		snprintf(buf, size, "'%.*s'", (int)t->len, t->start);
	return buf;
}

static int fail_expected(struct parser *ps, const char *what)
{
	char buf[64];

	return fail_at(ps, ps->tok.line, ps->tok.col, "expected %s, found %s",
		       what, describe(&ps->tok, buf, sizeof(buf)));
}

static struct ffpf_spec_filter *new_filter(struct ffpf_spec *spec, int *cap)
{
	struct ffpf_spec_filter *f;

	if (spec->nfilters == *cap) {
		int ncap = *cap ? *cap * 2 : 4;

		f = realloc(spec->filters, ncap * sizeof(*f));
		if (!f)
			return NULL;
		spec->filters = f;
		*cap = ncap;
	}
	f = &spec->filters[spec->nfilters++];
	memset(f, 0, sizeof(*f));
	return f;
}

/* Step over a "..." string; backslash escapes the next character. */
static int skip_quoted(struct parser *ps)
{
	int line = ps->line, col = ps->col;

	advance(ps);
	while (*ps->p != '"') {
		if (!*ps->p)
			return fail_at(ps, ps->line, ps->col,
				       "unterminated '\"' opened at %d:%d",
				       line, col);
		if (*ps->p == '\\' && ps->p[1])
			advance(ps);
		advance(ps);
	}
	advance(ps);
	return 0;
}

/*
 * Copy an argument's text. Comments inside it become blanks, so offsets
 * in the copy still map to spec positions for the class's own messages.
 */
static char *copy_arg(const char *start, const char *end)
{
	size_t len = end - start;
	char *s = malloc(len + 1);
	int quoted = 0;

	if (!s)
		return NULL;
	memcpy(s, start, len);
	s[len] = '\0';
	for (char *q = s; *q; q++) {
		if (quoted && *q == '\\' && q[1]) {
			q++;
		} else if (*q == '"') {
			quoted = !quoted;
		} else if (!quoted && *q == '#') {
			while (*q && *q != '\n')
				*q++ = ' ';
			if (!*q)
				break;
		}
	}
	return s;
}

/*
 * Scan "arg, arg, ...)" right after a filter's "(" opened at
 * @oline:@ocol, up to and including the matching ")".
 */
static int scan_args(struct parser *ps, struct ffpf_spec_filter *f,
		     int oline, int ocol)
{
	int after_comma = 0;

	for (;;) {
		const char *first = NULL, *last = NULL;
		int fline = 0, fcol = 0, depth = 0, ret;
		struct ffpf_spec_arg *a;
		char c;

		for (;;) {
			c = *ps->p;
			if (!c)
				return fail_at(ps, ps->line, ps->col,
					       "unterminated '(' opened at %d:%d",
					       oline, ocol);
			if (c == '#') {
				skip_comment(ps);
				continue;
			}
			if (is_blank(c)) {
				advance(ps);
				continue;
			}
			if (depth == 0 && (c == ',' || c == ')'))
				break;
			if (!first) {
				first = ps->p;
				fline = ps->line;
				fcol = ps->col;
			}
			if (c == '"') {
				ret = skip_quoted(ps);
				if (ret)
					return ret;
			} else {
				if (c == '(')
					depth++;
				else if (c == ')')
					depth--;
				advance(ps);
			}
			last = ps->p;
		}

		if (!first) {
			/* Only "()" may be blank: an empty list. */
			if (c == ')' && !after_comma && f->nargs == 0) {
				advance(ps);
				return 0;
			}
			return fail_at(ps, ps->line, ps->col, "empty argument");
		}
		if (f->nargs == FFPF_SPEC_MAX_ARGS)
			return fail_at(ps, fline, fcol,
				       "too many arguments (max %d)",
				       FFPF_SPEC_MAX_ARGS);
		a = &f->args[f->nargs];
		a->text = copy_arg(first, last);
		if (!a->text)
			return fail_nomem(ps);
		a->line = fline;
		a->col = fcol;
		f->nargs++;

		advance(ps);	/* the ',' or ')' */
		if (c == ')')
			return 0;
		after_comma = 1;
	}
}

static int new_node(struct parser *ps, enum ffpf_spec_kind kind)
{
	struct ffpf_spec *spec = ps->spec;
	struct ffpf_spec_node *n;

	if (spec->nnodes == ps->ncap) {
		int ncap = ps->ncap ? ps->ncap * 2 : 8;

		n = realloc(spec->nodes, ncap * sizeof(*n));
		if (!n)
			return -1;
		spec->nodes = n;
		ps->ncap = ncap;
	}
	n = &spec->nodes[spec->nnodes];
	*n = (struct ffpf_spec_node){ .kind = kind, .filter = -1, .first = -1, .next = -1 };
	return spec->nnodes++;
}

/* filter := [ NAME "::" ] CLASS [ "(" args ")" ]; *node gets its tree node. */
static int parse_filter(struct parser *ps, int *node)
{
	struct token first, cls;
	struct ffpf_spec_filter *f;
	int have_name = 0, ret;

	if (ps->tok.type != T_NAME)
		return fail_expected(ps, "filter class name or '('");
	if (ps->spec->nfilters == FFPF_SPEC_MAX_FILTERS)
		return fail_at(ps, ps->tok.line, ps->tok.col,
			       "too many filters (a flow has at most %d)", FFPF_MAX_STAGES);
	first = ps->tok;
	lex(ps);
	if (ps->tok.type == T_DCOLON) {
		lex(ps);
		if (ps->tok.type != T_NAME)
			return fail_expected(ps, "filter class name after '::'");
		have_name = 1;
		cls = ps->tok;
		lex(ps);
	} else {
		cls = first;
	}

	f = new_filter(ps->spec, &ps->cap);
	*node = new_node(ps, FFPF_SPEC_FILTER);
	if (!f || *node < 0)
		return fail_nomem(ps);
	ps->spec->nodes[*node].filter = ps->spec->nfilters - 1;
	f->line = cls.line;
	f->col = cls.col;
	f->cls = strndup(cls.start, cls.len);
	if (!f->cls)
		return fail_nomem(ps);
	if (have_name) {
		f->name_line = first.line;
		f->name_col = first.col;
		f->name = strndup(first.start, first.len);
		if (!f->name)
			return fail_nomem(ps);
	}

	if (ps->tok.type == T_LPAREN) {
		f->parens = true;
		ret = scan_args(ps, f, ps->tok.line, ps->tok.col);
		if (ret)
			return ret;
		lex(ps);
	}
	return 0;
}

static int parse_alt(struct parser *ps, int depth, int *node);

/* element := filter | "(" alt ")" */
static int parse_element(struct parser *ps, int depth, int *node)
{
	struct token open = ps->tok;
	int ret;

	if (ps->tok.type != T_LPAREN)
		return parse_filter(ps, node);
	if (depth == FFPF_SPEC_MAX_DEPTH)
		return fail_at(ps, open.line, open.col,
			       "groups nested too deeply (at most %d levels)",
			       FFPF_SPEC_MAX_DEPTH);
	lex(ps);
	if (ps->tok.type == T_RPAREN)
		return fail_at(ps, open.line, open.col, "empty group '()'");
	ret = parse_alt(ps, depth + 1, node);
	if (ret)
		return ret;
	if (ps->tok.type != T_RPAREN) {
		char buf[64];

		return fail_at(ps, ps->tok.line, ps->tok.col,
			       "expected '->', '|' or ')' closing the '(' at %d:%d, found %s",
			       open.line, open.col, describe(&ps->tok, buf, sizeof(buf)));
	}
	lex(ps);
	return 0;
}

/*
 * One level of the tree: items separated by @sep, each parsed by @item.
 * A single item is returned as itself, several under a new @kind node.
 */
static int parse_list(struct parser *ps, int depth, int *node, enum tok_type sep,
		      enum ffpf_spec_kind kind,
		      int (*item)(struct parser *, int, int *))
{
	int ret, child, last, parent = -1;

	ret = item(ps, depth, &child);
	if (ret)
		return ret;
	*node = child;
	while (ps->tok.type == sep) {
		lex(ps);
		if (parent < 0) {
			parent = new_node(ps, kind);
			if (parent < 0)
				return fail_nomem(ps);
			ps->spec->nodes[parent].first = child;
			last = child;
			*node = parent;
		}
		ret = item(ps, depth, &child);
		if (ret)
			return ret;
		ps->spec->nodes[last].next = child;
		last = child;
	}
	return 0;
}

/* chain := element ( "->" element )* */
static int parse_chain(struct parser *ps, int depth, int *node)
{
	return parse_list(ps, depth, node, T_ARROW, FFPF_SPEC_SEQ, parse_element);
}

/* alt := chain ( "|" chain )* */
static int parse_alt(struct parser *ps, int depth, int *node)
{
	return parse_list(ps, depth, node, T_PIPE, FFPF_SPEC_ALT, parse_chain);
}

/*
 * Give every filter its pass and fail successors: a filter accepts into
 * @pass and rejects into @fail. In a sequence each element passes into
 * the next one; in an alternation each alternative fails into the next
 * one. Returns the node's entry filter.
 */
static int link_node(struct ffpf_spec *spec, int node, int pass, int fail);

/* The children from @k on, of a sequence or an alternation (@seq false). */
static int link_list(struct ffpf_spec *spec, bool seq, int k, int pass, int fail)
{
	int rest;

	if (spec->nodes[k].next < 0)
		return link_node(spec, k, pass, fail);
	rest = link_list(spec, seq, spec->nodes[k].next, pass, fail);
	return seq ? link_node(spec, k, rest, fail) : link_node(spec, k, pass, rest);
}

/*
 * Give every filter its pass and fail successors: a filter accepts into
 * @pass and rejects into @fail. In a sequence each element passes into
 * the next one; in an alternation each alternative fails into the next
 * one. Returns the node's entry filter.
 */
static int link_node(struct ffpf_spec *spec, int node, int pass, int fail)
{
	const struct ffpf_spec_node *n = &spec->nodes[node];

	if (n->kind == FFPF_SPEC_FILTER) {
		spec->filters[n->filter].pass = pass;
		spec->filters[n->filter].fail = fail;
		return n->filter;
	}
	return link_list(spec, n->kind == FFPF_SPEC_SEQ, n->first, pass, fail);
}

/* spec := alt, up to the end (or, in a flow file, the end of this flow) */
static int parse_spec(struct parser *ps, bool flow_file)
{
	int ret;

	if (flow_file && (ps->tok.type == T_EOF || ps->tok.type == T_SEMI))
		return fail_at(ps, ps->tok.line, ps->tok.col, "empty spec");
	if (ps->tok.type == T_EOF)
		return fail_at(ps, 1, 1, "empty spec");
	ret = parse_alt(ps, 0, &ps->spec->root);
	if (ret)
		return ret;
	if (ps->tok.type == T_RPAREN)
		return fail_at(ps, ps->tok.line, ps->tok.col, "')' without a matching '('");
	if (flow_file && (ps->tok.type == T_SEMI || ps->tok.type == T_NAME ||
			  ps->tok.type == T_EOF))
		return 0;
	if (ps->tok.type != T_EOF)
		return fail_expected(ps, flow_file ? "'->', '|', ';' or the next 'NAME ='"
						   : "'->', '|' or end of spec");
	return 0;
}

static int parse_text(struct parser *ps, bool flow_file)
{
	int ret;

	ps->spec = calloc(1, sizeof(*ps->spec));
	if (!ps->spec)
		return fail_nomem(ps);
	ret = parse_spec(ps, flow_file);
	if (!ret)
		link_node(ps->spec, ps->spec->root, FFPF_SPEC_ACCEPT, FFPF_SPEC_REJECT);
	return ret;
}

int ffpf_spec_parse(const char *text, struct ffpf_spec **out,
		    struct ffpf_spec_error *err)
{
	struct parser ps = { .p = text, .line = 1, .col = 1, .err = err };
	int ret;

	if (out)
		*out = NULL;
	if (!text || !out)
		return fail_at(&ps, 1, 1, "no spec given");
	lex(&ps);
	ret = parse_text(&ps, false);
	if (ret) {
		ffpf_spec_free(ps.spec);
		return ret;
	}
	*out = ps.spec;
	return 0;
}

void ffpf_spec_free(struct ffpf_spec *spec)
{
	if (!spec)
		return;
	for (int i = 0; i < spec->nfilters; i++) {
		struct ffpf_spec_filter *f = &spec->filters[i];

		free(f->name);
		free(f->cls);
		for (int j = 0; j < f->nargs; j++)
			free(f->args[j].text);
	}
	free(spec->filters);
	free(spec->nodes);
	free(spec);
}

/* snprintf into buf + *n, keeping *n the length wanted. */
static void put(char *buf, size_t len, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(*n < len ? buf + *n : NULL, *n < len ? len - *n : 0, fmt, ap);
	va_end(ap);
	if (w > 0)
		*n += w;
}

size_t ffpf_spec_filter_format(const struct ffpf_spec_filter *f, char *buf, size_t len)
{
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	put(buf, len, &n, "%s", f->cls);
	for (int a = 0; a < f->nargs; a++)
		put(buf, len, &n, "%s%s", a ? ", " : "(", f->args[a].text);
	if (f->nargs)
		put(buf, len, &n, ")");
	else if (f->parens)
		put(buf, len, &n, "()");
	return n;
}

static void format_node(const struct ffpf_spec *spec, int node, char *buf, size_t len,
			size_t *n)
{
	const struct ffpf_spec_node *nd = &spec->nodes[node];

	if (nd->kind == FFPF_SPEC_FILTER) {
		const struct ffpf_spec_filter *f = &spec->filters[nd->filter];

		if (f->name)
			put(buf, len, n, "%s :: ", f->name);
		*n += ffpf_spec_filter_format(f, *n < len ? buf + *n : NULL,
					      *n < len ? len - *n : 0);
		return;
	}
	for (int k = nd->first; k >= 0; k = spec->nodes[k].next) {
		/* "->" binds tighter: only an alternation inside needs parens */
		bool group = spec->nodes[k].kind == FFPF_SPEC_ALT;

		if (k != nd->first)
			put(buf, len, n, nd->kind == FFPF_SPEC_SEQ ? " -> " : " | ");
		if (group)
			put(buf, len, n, "(");
		format_node(spec, k, buf, len, n);
		if (group)
			put(buf, len, n, ")");
	}
}

size_t ffpf_spec_format(const struct ffpf_spec *spec, char *buf, size_t len)
{
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	if (spec && spec->nnodes)
		format_node(spec, spec->root, buf, len, &n);
	return n;
}

/* A copy of @text with only [from, to) kept, the rest blanked but newlines. */
static char *blank_outside(const char *text, size_t from, size_t to)
{
	size_t len = strlen(text);
	char *s = malloc(len + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < len; i++)
		s[i] = (i >= from && i < to) || text[i] == '\n' ? text[i] : ' ';
	s[len] = '\0';
	return s;
}

void ffpf_spec_flowdefs_free(struct ffpf_spec_flowdef *defs, int n)
{
	for (int i = 0; defs && i < n; i++) {
		free(defs[i].name);
		free(defs[i].spec);
	}
	free(defs);
}

bool ffpf_spec_is_flow_file(const char *text)
{
	struct parser ps = { .p = text, .line = 1, .col = 1 };

	if (!text)
		return false;
	lex(&ps);
	if (ps.tok.type != T_NAME)
		return false;
	lex(&ps);
	return ps.tok.type == T_EQUALS;
}

int ffpf_spec_split_flows(const char *text, struct ffpf_spec_flowdef **out,
			  struct ffpf_spec_error *err)
{
	struct parser ps = { .p = text, .line = 1, .col = 1, .err = err };
	struct ffpf_spec_flowdef *defs = NULL;
	int n = 0, ret = 0;
	bool open = false;	/* the last spec ended at a name, not at ';' */

	*out = NULL;
	if (!text)
		return fail_at(&ps, 1, 1, "no flow file given");
	lex(&ps);
	while (ps.tok.type != T_EOF) {
		struct token name = ps.tok;
		struct ffpf_spec_flowdef *d;
		size_t from;

		if (ps.tok.type != T_NAME) {
			ret = fail_expected(&ps, "a flow 'NAME = SPEC'");
			break;
		}
		lex(&ps);
		if (ps.tok.type != T_EQUALS) {
			char buf[64];

			if (open)	/* "a -> b c": the name was meant as a filter */
				ret = fail_at(&ps, name.line, name.col,
					      "expected '->', '|', ';' or the next 'NAME =' after "
					      "flow %s, found %s", defs[n - 1].name,
					      describe(&name, buf, sizeof(buf)));
			else
				ret = fail_expected(&ps, "'=' after the flow name");
			break;
		}
		for (int i = 0; i < n; i++) {
			if (strlen(defs[i].name) == name.len &&
			    !strncmp(defs[i].name, name.start, name.len)) {
				ret = fail_at(&ps, name.line, name.col,
					      "flow '%s' is defined twice (first at %d:%d)",
					      defs[i].name, defs[i].line, defs[i].col);
				goto out;
			}
		}
		lex(&ps);
		from = ps.tok.start - text;
		ret = parse_text(&ps, true);
		ffpf_spec_free(ps.spec);
		ps.spec = NULL;
		ps.cap = ps.ncap = 0;
		if (ret)
			break;
		d = realloc(defs, (n + 1) * sizeof(*d));
		if (!d) {
			ret = fail_nomem(&ps);
			break;
		}
		defs = d;
		d = &defs[n++];
		d->line = name.line;
		d->col = name.col;
		d->name = strndup(name.start, name.len);
		d->spec = blank_outside(text, from, ps.tok.start - text);
		if (!d->name || !d->spec) {
			ret = fail_nomem(&ps);
			break;
		}
		open = ps.tok.type != T_SEMI;
		if (!open)
			lex(&ps);
	}
out:
	if (ret) {
		ffpf_spec_flowdefs_free(defs, n);
		return ret;
	}
	*out = defs;
	return n;
}
