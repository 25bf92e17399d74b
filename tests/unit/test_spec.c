/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * test_spec.c - unit tests of the flow spec parser (user/lib/spec.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>

#include "spec.h"

static struct ffpf_spec *parse_ok(const char *text)
{
	struct ffpf_spec_error err = { 0 };
	struct ffpf_spec *spec = NULL;
	int ret = ffpf_spec_parse(text, &spec, &err);

	cr_assert_eq(ret, 0, "parse of \"%s\" failed: %d:%d: %s",
		     text, err.line, err.col, err.msg);
	cr_assert_not_null(spec);
	return spec;
}

static void parse_err(const char *text, int line, int col, const char *sub)
{
	struct ffpf_spec_error err = { 0 };
	struct ffpf_spec *spec = (struct ffpf_spec *)&err;	/* must be reset */
	int ret = ffpf_spec_parse(text, &spec, &err);

	cr_assert_eq(ret, -EINVAL, "\"%s\": want -EINVAL, got %d", text, ret);
	cr_assert_null(spec);
	cr_expect_eq(err.line, line, "\"%s\": line %d, want %d (%s)",
		     text, err.line, line, err.msg);
	cr_expect_eq(err.col, col, "\"%s\": col %d, want %d (%s)",
		     text, err.col, col, err.msg);
	cr_expect_not_null(strstr(err.msg, sub), "\"%s\": message '%s' lacks '%s'",
			   text, err.msg, sub);
}

static void expect_arg(const struct ffpf_spec_filter *f, int i,
		       const char *text, int line, int col)
{
	cr_assert_lt(i, f->nargs);
	cr_expect_str_eq(f->args[i].text, text);
	cr_expect_eq(f->args[i].line, line, "arg %d line %d, want %d",
		     i, f->args[i].line, line);
	cr_expect_eq(f->args[i].col, col, "arg %d col %d, want %d",
		     i, f->args[i].col, col);
}

Test(spec, single_bare)
{
	struct ffpf_spec *s = parse_ok("count");

	cr_assert_eq(s->nfilters, 1);
	cr_expect_str_eq(s->filters[0].cls, "count");
	cr_expect_null(s->filters[0].name);
	cr_expect_eq(s->filters[0].nargs, 0);
	cr_expect_eq(s->filters[0].line, 1);
	cr_expect_eq(s->filters[0].col, 1);
	ffpf_spec_free(s);
}

Test(spec, empty_parens)
{
	struct ffpf_spec *s = parse_ok("count()");

	cr_assert_eq(s->nfilters, 1);
	cr_expect_eq(s->filters[0].nargs, 0);
	ffpf_spec_free(s);
}

Test(spec, blank_parens_with_comment)
{
	struct ffpf_spec *s = parse_ok("count(  # nothing\n )");

	cr_expect_eq(s->filters[0].nargs, 0);
	ffpf_spec_free(s);
}

Test(spec, chain_of_three)
{
	struct ffpf_spec *s = parse_ok("match(udp, dst port 53) -> sample(10) -> count");
	const struct ffpf_spec_filter *f = s->filters;

	cr_assert_eq(s->nfilters, 3);
	cr_expect_str_eq(f[0].cls, "match");
	cr_expect_eq(f[0].nargs, 2);
	expect_arg(&f[0], 0, "udp", 1, 7);
	expect_arg(&f[0], 1, "dst port 53", 1, 12);
	cr_expect_str_eq(f[1].cls, "sample");
	cr_expect_eq(f[1].col, 28);
	expect_arg(&f[1], 0, "10", 1, 35);
	cr_expect_str_eq(f[2].cls, "count");
	cr_expect_eq(f[2].col, 42);
	ffpf_spec_free(s);
}

Test(spec, no_blanks)
{
	struct ffpf_spec *s = parse_ok("match(tcp)->count->sample(2)");

	cr_assert_eq(s->nfilters, 3);
	cr_expect_str_eq(s->filters[1].cls, "count");
	cr_expect_str_eq(s->filters[2].cls, "sample");
	ffpf_spec_free(s);
}

Test(spec, dash_in_name)
{
	/* '-' is part of a name unless it starts "->". */
	struct ffpf_spec *s = parse_ok("my-filter_2->x-y");

	cr_assert_eq(s->nfilters, 2);
	cr_expect_str_eq(s->filters[0].cls, "my-filter_2");
	cr_expect_str_eq(s->filters[1].cls, "x-y");
	ffpf_spec_free(s);
}

Test(spec, named_instance)
{
	struct ffpf_spec *s = parse_ok("a :: match(udp) -> b::count");

	cr_assert_eq(s->nfilters, 2);
	cr_expect_str_eq(s->filters[0].name, "a");
	cr_expect_str_eq(s->filters[0].cls, "match");
	cr_expect_eq(s->filters[0].col, 6);
	cr_expect_str_eq(s->filters[1].name, "b");
	cr_expect_str_eq(s->filters[1].cls, "count");
	ffpf_spec_free(s);
}

Test(spec, multiline_with_comments)
{
	const char *text =
		"# DNS queries, sampled\n"
		"match(udp,          # only UDP\n"
		"      dst port 53)  # to a server\n"
		"  -> sample(100)\n"
		"  -> count          # the end\n";
	struct ffpf_spec *s = parse_ok(text);
	const struct ffpf_spec_filter *f = s->filters;

	cr_assert_eq(s->nfilters, 3);
	cr_expect_eq(f[0].line, 2);
	cr_expect_eq(f[0].col, 1);
	expect_arg(&f[0], 0, "udp", 2, 7);
	expect_arg(&f[0], 1, "dst port 53", 3, 7);
	cr_expect_eq(f[1].line, 4);
	cr_expect_eq(f[1].col, 6);
	expect_arg(&f[1], 0, "100", 4, 13);
	cr_expect_eq(f[2].line, 5);
	cr_expect_eq(f[2].col, 6);
	ffpf_spec_free(s);
}

Test(spec, comment_inside_arg_is_blanked)
{
	struct ffpf_spec *s = parse_ok("match(dst # why not\nport 53)");
	const struct ffpf_spec_filter *f = s->filters;

	cr_assert_eq(f[0].nargs, 1);
	cr_expect_eq(f[0].args[0].col, 7);
	cr_expect_str_eq(f[0].args[0].text, "dst          \nport 53");
	ffpf_spec_free(s);
}

Test(spec, nested_parens_in_args)
{
	struct ffpf_spec *s = parse_ok("f(a(b, c), (d), e)");
	const struct ffpf_spec_filter *f = s->filters;

	cr_assert_eq(f[0].nargs, 3);
	expect_arg(&f[0], 0, "a(b, c)", 1, 3);
	expect_arg(&f[0], 1, "(d)", 1, 12);
	expect_arg(&f[0], 2, "e", 1, 17);
	ffpf_spec_free(s);
}

Test(spec, quotes_hide_commas_and_parens)
{
	struct ffpf_spec *s = parse_ok("f(\"a, (b\", \"x\\\"y)\" z )");
	const struct ffpf_spec_filter *f = s->filters;

	/* Quotes are kept in the text; a backslash escapes a quote. */
	cr_assert_eq(f[0].nargs, 2);
	expect_arg(&f[0], 0, "\"a, (b\"", 1, 3);
	expect_arg(&f[0], 1, "\"x\\\"y)\" z", 1, 12);
	ffpf_spec_free(s);
}

Test(spec, hash_inside_quotes)
{
	struct ffpf_spec *s = parse_ok("f(\"a#b\") -> count");

	cr_assert_eq(s->nfilters, 2);
	cr_expect_str_eq(s->filters[0].args[0].text, "\"a#b\"");
	ffpf_spec_free(s);
}

Test(spec, max_args)
{
	char text[256], last[8];
	size_t n = snprintf(text, sizeof(text), "f(");
	struct ffpf_spec *s;

	for (int i = 1; i <= FFPF_SPEC_MAX_ARGS; i++)
		n += snprintf(text + n, sizeof(text) - n, "%s%d", i > 1 ? "," : "", i);
	snprintf(text + n, sizeof(text) - n, ")");
	s = parse_ok(text);
	snprintf(last, sizeof(last), "%d", FFPF_SPEC_MAX_ARGS);
	cr_expect_eq(s->filters[0].nargs, FFPF_SPEC_MAX_ARGS);
	cr_expect_eq(FFPF_SPEC_MAX_ARGS, 40, "payload needs 32 patterns + depth + offset");
	cr_expect_str_eq(s->filters[0].args[FFPF_SPEC_MAX_ARGS - 1].text, last);
	ffpf_spec_free(s);
}

Test(spec, trimmed_args_keep_inner_blanks)
{
	struct ffpf_spec *s = parse_ok("f(   a   b  ,\tc\t)");

	expect_arg(&s->filters[0], 0, "a   b", 1, 6);
	expect_arg(&s->filters[0], 1, "c", 1, 15);
	ffpf_spec_free(s);
}

Test(spec, long_chain)
{
	char text[1024] = "count";
	struct ffpf_spec *s;

	for (int i = 0; i < 40; i++)
		strcat(text, " -> count");
	s = parse_ok(text);
	cr_expect_eq(s->nfilters, 41);
	ffpf_spec_free(s);
}

Test(spec, free_null)
{
	ffpf_spec_free(NULL);
}

/* Errors: exact position and a piece of the message. */

Test(spec_err, empty)
{
	parse_err("", 1, 1, "empty spec");
}

Test(spec_err, only_comments)
{
	parse_err("  # nothing here\n\n", 1, 1, "empty spec");
}

Test(spec_err, null_text)
{
	struct ffpf_spec_error err;
	struct ffpf_spec *s;

	cr_expect_eq(ffpf_spec_parse(NULL, &s, &err), -EINVAL);
	cr_expect_null(s);
}

Test(spec_err, starts_with_arrow)
{
	parse_err("-> count", 1, 1, "expected filter class name, found '->'");
}

Test(spec_err, trailing_arrow)
{
	parse_err("count ->", 1, 9, "expected filter class name, found end of spec");
}

Test(spec_err, double_arrow)
{
	parse_err("count -> -> count", 1, 10, "expected filter class name, found '->'");
}

Test(spec_err, junk_after_filter)
{
	parse_err("count x", 1, 7, "expected '->' or end of spec, found 'x'");
}

Test(spec_err, stray_close_paren)
{
	parse_err("count)", 1, 6, "expected '->' or end of spec, found ')'");
}

Test(spec_err, single_colon)
{
	parse_err("a : count", 1, 3, "found ':'");
}

Test(spec_err, no_class_after_dcolon)
{
	parse_err("a ::\n -> count", 2, 2, "expected filter class name after '::', found '->'");
}

Test(spec_err, double_dcolon)
{
	parse_err("a :: b :: count", 1, 8, "expected '->' or end of spec, found '::'");
}

Test(spec_err, bad_char)
{
	parse_err("count -> 9lives", 1, 10, "expected filter class name, found '9'");
}

Test(spec_err, nonprintable_char)
{
	parse_err("count\x01", 1, 6, "found '\\x01'");
}

Test(spec_err, unterminated_paren)
{
	parse_err("match(udp, dst port 53", 1, 23, "unterminated '(' opened at 1:6");
}

Test(spec_err, unterminated_nested_paren)
{
	parse_err("count -> f(a(b)\n", 2, 1, "unterminated '(' opened at 1:11");
}

Test(spec_err, unterminated_quote)
{
	parse_err("f(\"abc)", 1, 8, "unterminated '\"' opened at 1:3");
}

Test(spec_err, empty_arg_middle)
{
	parse_err("match(udp,, tcp)", 1, 11, "empty argument");
}

Test(spec_err, empty_arg_trailing)
{
	parse_err("match(udp,\n   )", 2, 4, "empty argument");
}

Test(spec_err, empty_arg_leading)
{
	parse_err("match( , udp)", 1, 8, "empty argument");
}

Test(spec_err, too_many_args)
{
	char text[256];
	size_t n = snprintf(text, sizeof(text), "f(");
	int col;

	for (int i = 1; i <= FFPF_SPEC_MAX_ARGS; i++)
		n += snprintf(text + n, sizeof(text) - n, "%s%d", i > 1 ? "," : "", i);
	col = n + 3;	/* ", " then the extra argument */
	snprintf(text + n, sizeof(text) - n, ", 99)");
	parse_err(text, 1, col, "too many arguments (max 40)");
}

Test(spec_err, alternation)
{
	parse_err("match(udp) | match(tcp) -> count", 1, 12,
		  "alternation '|' is not supported yet");
}

Test(spec_err, grouping)
{
	parse_err("count -> (match(udp))", 1, 10, "grouping");
}

Test(spec_err, error_on_later_line)
{
	parse_err("match(udp)\n -> count\n -> count count", 3, 11,
		  "expected '->' or end of spec, found 'count'");
}
