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
	parse_err("-> count", 1, 1, "expected filter class name or '(', found '->'");
}

Test(spec_err, trailing_arrow)
{
	parse_err("count ->", 1, 9, "expected filter class name or '(', found end of spec");
}

Test(spec_err, double_arrow)
{
	parse_err("count -> -> count", 1, 10, "expected filter class name or '(', found '->'");
}

Test(spec_err, junk_after_filter)
{
	parse_err("count x", 1, 7, "expected '->', '|' or end of spec, found 'x'");
}

Test(spec_err, stray_close_paren)
{
	parse_err("count)", 1, 6, "')' without a matching '('");
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
	parse_err("a :: b :: count", 1, 8, "expected '->', '|' or end of spec, found '::'");
}

Test(spec_err, bad_char)
{
	parse_err("count -> 9lives", 1, 10, "expected filter class name or '(', found '9'");
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

Test(spec_err, error_on_later_line)
{
	parse_err("match(udp)\n -> count\n -> count count", 3, 11,
		  "expected '->', '|' or end of spec, found 'count'");
}

/* --- graphs (issue 5): alternation, grouping, links, printing back --- */

#define A FFPF_SPEC_ACCEPT
#define R FFPF_SPEC_REJECT

/* Parse @text and check each filter's class and pass/fail successors. */
static void expect_graph(const char *text, int n, const char *const *cls,
			 const int *pass, const int *fail, const char *canon)
{
	struct ffpf_spec *s = parse_ok(text);
	char buf[512];

	cr_assert_eq(s->nfilters, n, "\"%s\": %d filters, want %d", text, s->nfilters, n);
	for (int i = 0; i < n; i++) {
		cr_expect_str_eq(s->filters[i].cls, cls[i], "\"%s\" filter %d", text, i);
		cr_expect_eq(s->filters[i].pass, pass[i], "\"%s\" filter %d (%s) pass %d, want %d",
			     text, i, cls[i], s->filters[i].pass, pass[i]);
		cr_expect_eq(s->filters[i].fail, fail[i], "\"%s\" filter %d (%s) fail %d, want %d",
			     text, i, cls[i], s->filters[i].fail, fail[i]);
	}
	ffpf_spec_format(s, buf, sizeof(buf));
	cr_expect_str_eq(buf, canon, "\"%s\" printed back as \"%s\"", text, buf);
	ffpf_spec_free(s);
}

Test(graph, chain_links_pass_forward_fail_rejects)
{
	expect_graph("a -> b -> c", 3, (const char *[]){ "a", "b", "c" },
		     (int[]){ 1, 2, A }, (int[]){ R, R, R }, "a -> b -> c");
}

Test(graph, alternation_fails_into_the_next_alternative)
{
	expect_graph("a | b | c", 3, (const char *[]){ "a", "b", "c" },
		     (int[]){ A, A, A }, (int[]){ 1, 2, R }, "a | b | c");
}

Test(graph, arrow_binds_tighter_than_pipe)
{
	/* (a -> b) | (c -> d): b's reject also tries c */
	expect_graph("a -> b | c -> d", 4, (const char *[]){ "a", "b", "c", "d" },
		     (int[]){ 1, A, 3, A }, (int[]){ 2, 2, R, R }, "a -> b | c -> d");
}

Test(graph, group_in_a_chain)
{
	expect_graph("a -> (b | c) -> d", 4, (const char *[]){ "a", "b", "c", "d" },
		     (int[]){ 1, 3, 3, A }, (int[]){ R, 2, R, R }, "a -> (b | c) -> d");
}

Test(graph, chain_inside_an_alternative)
{
	expect_graph("(a | b -> c) -> d", 4, (const char *[]){ "a", "b", "c", "d" },
		     (int[]){ 3, 2, 3, A }, (int[]){ 1, R, R, R }, "(a | b -> c) -> d");
}

Test(graph, nested_groups_and_redundant_parens)
{
	expect_graph("((a)) -> ((b | (c -> d)) | e)", 5,
		     (const char *[]){ "a", "b", "c", "d", "e" },
		     (int[]){ 1, A, 3, A, A }, (int[]){ R, 2, 4, 4, R },
		     "a -> ((b | c -> d) | e)");
}

Test(graph, two_groups_in_sequence)
{
	expect_graph("(a | b) -> (c | d)", 4, (const char *[]){ "a", "b", "c", "d" },
		     (int[]){ 2, 2, A, A }, (int[]){ 1, R, 3, R }, "(a | b) -> (c | d)");
}

Test(graph, names_and_arguments_print_back)
{
	expect_graph("dns :: match(udp,port 53)->(count()|s::sample( 3 ))", 3,
		     (const char *[]){ "match", "count", "sample" },
		     (int[]){ 1, A, A }, (int[]){ R, 2, R },
		     "dns :: match(udp, port 53) -> (count() | s :: sample(3))");
}

Test(graph, reference_is_a_bare_name_without_parens)
{
	struct ffpf_spec *s = parse_ok("dns -> dns()");

	cr_expect_not(s->filters[0].parens);
	cr_expect(s->filters[1].parens);
	cr_expect_null(s->filters[0].name);
	ffpf_spec_free(s);
}

Test(graph, name_position_is_kept)
{
	struct ffpf_spec *s = parse_ok("count ->\n  web :: match(tcp)");

	cr_expect_eq(s->filters[1].name_line, 2);
	cr_expect_eq(s->filters[1].name_col, 3);
	cr_expect_eq(s->filters[1].line, 2);
	cr_expect_eq(s->filters[1].col, 10);
	ffpf_spec_free(s);
}

Test(graph, multiline_group_with_comments)
{
	expect_graph("match(udp)   # only UDP\n-> (  # either\n   sample(2)\n | count  # or\n)\n",
		     3, (const char *[]){ "match", "sample", "count" },
		     (int[]){ 1, A, A }, (int[]){ R, 2, R }, "match(udp) -> (sample(2) | count)");
}

Test(graph, format_reports_the_length_it_needs)
{
	struct ffpf_spec *s = parse_ok("a -> (b | c)");
	char small[6];

	cr_expect_eq(ffpf_spec_format(s, small, sizeof(small)), strlen("a -> (b | c)"));
	cr_expect_str_eq(small, "a -> ");
	cr_expect_eq(ffpf_spec_format(s, NULL, 0), strlen("a -> (b | c)"));
	ffpf_spec_free(s);
}

Test(graph_err, empty_group)
{
	parse_err("count -> ( )", 1, 10, "empty group '()'");
}

Test(graph_err, unclosed_group_names_its_opening)
{
	parse_err("count -> (a | b\n -> c", 2, 6,
		  "expected '->', '|' or ')' closing the '(' at 1:10, found end of spec");
}

Test(graph_err, stray_close_after_group)
{
	parse_err("(a | b)) -> c", 1, 8, "')' without a matching '('");
}

Test(graph_err, pipe_without_right_side)
{
	parse_err("a | -> b", 1, 5, "expected filter class name or '(', found '->'");
	parse_err("a |", 1, 4, "expected filter class name or '(', found end of spec");
}

Test(graph_err, pipe_at_start)
{
	parse_err("| a", 1, 1, "expected filter class name or '(', found '|'");
}

Test(graph_err, group_right_after_a_filter_is_its_argument_list)
{
	/* "a (b)" is a's arguments followed by nothing: the spec is fine;
	 * "a() (b)" is junk after the filter */
	parse_err("a() (b | c)", 1, 5, "expected '->', '|' or end of spec, found '('");
}

Test(graph_err, nesting_is_bounded)
{
	char text[200];
	int n = 0;

	for (int i = 0; i <= FFPF_SPEC_MAX_DEPTH; i++)
		text[n++] = '(';
	n += snprintf(text + n, sizeof(text) - n, "a");
	for (int i = 0; i <= FFPF_SPEC_MAX_DEPTH; i++)
		text[n++] = ')';
	text[n] = 0;
	parse_err(text, 1, FFPF_SPEC_MAX_DEPTH + 1, "groups nested too deeply (at most 32 levels)");
	text[0] = ' ';	/* one level less parses */
	text[n - 1] = ' ';
	ffpf_spec_free(parse_ok(text));
}

Test(graph_err, filters_are_bounded)
{
	static char text[FFPF_SPEC_MAX_FILTERS * 8];
	int n = 0;

	for (int i = 0; i <= FFPF_SPEC_MAX_FILTERS; i++)
		n += snprintf(text + n, sizeof(text) - n, "%sa", i ? "|" : "");
	parse_err(text, 1, 2 * FFPF_SPEC_MAX_FILTERS + 1, "too many filters");
}

Test(graph_err, equals_and_semicolon_outside_flow_files)
{
	parse_err("a = count", 1, 3, "expected '->', '|' or end of spec, found '='");
	parse_err("count;", 1, 6, "expected '->', '|' or end of spec, found ';'");
}

/* --- flow files --- */

static int split(const char *text, struct ffpf_spec_flowdef **d, struct ffpf_spec_error *e)
{
	memset(e, 0, sizeof(*e));
	return ffpf_spec_split_flows(text, d, e);
}

Test(flowfile, flows_keep_file_positions)
{
	const char *text = "# two flows\nweb = w :: match(tcp, port 80)\n  -> count;\n"
			   "tls = (match(tcp, port 443) | w) -> sample(2)\nlast=count";
	struct ffpf_spec_flowdef *d;
	struct ffpf_spec_error e;
	struct ffpf_spec *s;
	int n = split(text, &d, &e);

	cr_assert_eq(n, 3, "%d:%d: %s", e.line, e.col, e.msg);
	cr_expect_str_eq(d[0].name, "web");
	cr_expect_eq(d[0].line, 2);
	cr_expect_eq(d[0].col, 1);
	cr_expect_str_eq(d[1].name, "tls");
	cr_expect_eq(d[1].line, 4);
	cr_expect_str_eq(d[2].name, "last");
	cr_expect_eq(d[2].col, 1);
	for (int i = 0; i < n; i++)
		cr_expect_eq(strlen(d[i].spec), strlen(text), "spec %d is the file, blanked", i);
	/* the second flow's spec parses with file positions */
	cr_assert_eq(ffpf_spec_parse(d[1].spec, &s, &e), 0, "%s", e.msg);
	cr_expect_eq(s->nfilters, 3);
	cr_expect_eq(s->filters[0].line, 4);
	cr_expect_eq(s->filters[0].col, 8);
	cr_expect_str_eq(s->filters[1].cls, "w");
	cr_expect_eq(s->filters[1].col, 31);
	ffpf_spec_free(s);
	/* and holds nothing of the others */
	cr_expect_null(strstr(d[1].spec, "port 80"));
	cr_expect_null(strstr(d[1].spec, "# two"));
	ffpf_spec_flowdefs_free(d, n);
}

Test(flowfile, empty_file_has_no_flows)
{
	struct ffpf_spec_flowdef *d = NULL;
	struct ffpf_spec_error e;

	cr_expect_eq(split("  # nothing\n", &d, &e), 0);
	ffpf_spec_flowdefs_free(d, 0);
}

Test(flowfile, detection)
{
	cr_expect(ffpf_spec_is_flow_file("# c\n a = count"));
	cr_expect_not(ffpf_spec_is_flow_file("a -> count"));
	cr_expect_not(ffpf_spec_is_flow_file("a :: count"));
	cr_expect_not(ffpf_spec_is_flow_file(""));
	cr_expect_not(ffpf_spec_is_flow_file(NULL));
}

static void split_err(const char *text, int line, int col, const char *sub)
{
	struct ffpf_spec_flowdef *d = (void *)1;
	struct ffpf_spec_error e;

	cr_assert_eq(split(text, &d, &e), -EINVAL, "\"%s\" split", text);
	cr_expect_null(d);
	cr_expect_eq(e.line, line, "\"%s\": line %d, want %d (%s)", text, e.line, line, e.msg);
	cr_expect_eq(e.col, col, "\"%s\": col %d, want %d (%s)", text, e.col, col, e.msg);
	cr_expect_not_null(strstr(e.msg, sub), "\"%s\": '%s' lacks '%s'", text, e.msg, sub);
}

Test(flowfile, errors)
{
	split_err("a = count\na = count", 2, 1, "flow 'a' is defined twice (first at 1:1)");
	split_err("a = count count", 1, 11,
		  "expected '->', '|', ';' or the next 'NAME =' after flow a, found 'count'");
	split_err("a = ;", 1, 5, "empty spec");
	split_err("a =", 1, 4, "empty spec");
	split_err("a count", 1, 3, "expected '=' after the flow name");
	split_err("= count", 1, 1, "expected a flow 'NAME = SPEC'");
	split_err("a = (count", 1, 11, "closing the '(' at 1:5");
	split_err("a = count;;", 1, 11, "expected a flow 'NAME = SPEC', found ';'");
}
