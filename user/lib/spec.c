/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * spec.c - the flow spec lexer and recursive-descent parser.
 *
 * The lexer produces tokens for the chain structure only. A filter's
 * argument list is not tokenized: it is scanned as raw text and split at
 * top-level commas, because each class parses its own arguments.
 *
 * The descent is spec -> chain -> element -> filter. Alternation ("|")
 * belongs between spec and chain, grouping ("( ... )") in element; both
 * are recognised and refused for now.
 */
#include <errno.h>
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
	case '(':
		t->type = T_LPAREN;
		break;
	case ')':
		t->type = T_RPAREN;
		break;
	case ',':
		t->type = T_COMMA;
		break;
	case '|':
		t->type = T_PIPE;
		break;
	default:
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

/* filter := [ NAME "::" ] CLASS [ "(" args ")" ] */
static int parse_filter(struct parser *ps)
{
	struct token first, cls;
	struct ffpf_spec_filter *f;
	int have_name = 0, ret;

	if (ps->tok.type != T_NAME)
		return fail_expected(ps, "filter class name");
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
	if (!f)
		return fail_nomem(ps);
	f->line = cls.line;
	f->col = cls.col;
	f->cls = strndup(cls.start, cls.len);
	if (!f->cls)
		return fail_nomem(ps);
	if (have_name) {
		f->name = strndup(first.start, first.len);
		if (!f->name)
			return fail_nomem(ps);
	}

	if (ps->tok.type == T_LPAREN) {
		ret = scan_args(ps, f, ps->tok.line, ps->tok.col);
		if (ret)
			return ret;
		lex(ps);
	}
	return 0;
}

/* element := filter; grouping of a sub-spec will be added here. */
static int parse_element(struct parser *ps)
{
	if (ps->tok.type == T_LPAREN)
		return fail_at(ps, ps->tok.line, ps->tok.col,
			       "grouping '( ... )' of filters is not supported yet");
	return parse_filter(ps);
}

/* chain := element ( "->" element )* */
static int parse_chain(struct parser *ps)
{
	int ret;

	for (;;) {
		ret = parse_element(ps);
		if (ret)
			return ret;
		if (ps->tok.type != T_ARROW)
			return 0;
		lex(ps);
	}
}

/* spec := chain; alternation of chains will be added here. */
static int parse_spec(struct parser *ps)
{
	int ret;

	if (ps->tok.type == T_EOF)
		return fail_at(ps, 1, 1, "empty spec");
	ret = parse_chain(ps);
	if (ret)
		return ret;
	if (ps->tok.type == T_PIPE)
		return fail_at(ps, ps->tok.line, ps->tok.col,
			       "alternation '|' is not supported yet");
	if (ps->tok.type != T_EOF)
		return fail_expected(ps, "'->' or end of spec");
	return 0;
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

	ps.spec = calloc(1, sizeof(*ps.spec));
	if (!ps.spec)
		return fail_nomem(&ps);
	lex(&ps);
	ret = parse_spec(&ps);
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
	free(spec);
}
