/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * test_policy.c - unit tests of the policy file parser (user/lib/policy.c)
 * and of the check of a flow's graph against it (policy_check.c). Flows
 * are created check-only and populated: nothing is loaded.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <ffpf/ffpf.h>
#include <ffpf/policy.h>

#include "policy.h"

#define ALICE_UID	50001
#define BOB_UID		50002

static struct ffpf_policy *pol_ok(const char *text)
{
	struct ffpf_spec_error err = { 0 };
	struct ffpf_policy *pol = NULL;
	int ret = ffpf_policy_parse_text(text, "test.conf", &pol, &err);

	cr_assert_eq(ret, 0, "%d:%d: %s", err.line, err.col, err.msg);
	return pol;
}

static void pol_err(const char *text, int line, int col, const char *sub)
{
	struct ffpf_spec_error err = { 0 };
	struct ffpf_policy *pol = NULL;
	int ret = ffpf_policy_parse_text(text, "test.conf", &pol, &err);

	cr_assert_eq(ret, -EINVAL, "\"%s\": want -EINVAL, got %d", text, ret);
	cr_assert_null(pol);
	cr_expect_eq(err.line, line, "\"%s\": line %d, want %d (%s)", text, err.line, line,
		     err.msg);
	cr_expect_eq(err.col, col, "\"%s\": col %d, want %d (%s)", text, err.col, col, err.msg);
	cr_expect_not_null(strstr(err.msg, sub), "\"%s\": message '%s' lacks '%s'", text,
			   err.msg, sub);
}

struct who {
	const char *user;
	uid_t uid;
	gid_t gids[4];
	int ngids;
	unsigned nflows;
	__u32 rx, snaplen;
	const char *ifname;
};

/* Check @spec for @w under @pol; the denial's text into @why. */
static int check(const struct ffpf_policy *pol, const struct who *w, const char *spec,
		 char *why, size_t len)
{
	FFPF_OPTS(ffpf_flow_opts, fo, .flags = FFPF_FLOW_CHECK_ONLY, .rx = w->rx,
		  .snaplen = w->snaplen);
	FFPF_OPTS(ffpf_policy_check_opts, po, .uid = w->uid, .user = w->user, .gids = w->gids,
		  .ngids = w->ngids, .nflows = w->nflows, .why = why, .why_len = len);
	struct ffpf_flow *f = ffpf_flow_create(w->ifname ? w->ifname : "eth0", &fo);
	int ret;

	cr_assert_not_null(f, "create: %s", strerror(errno));
	cr_assert_eq(ffpf_flow_populate(f, spec), 0, "populate %s", spec);
	ret = ffpf_policy_check(pol, f, &po);
	ffpf_flow_close(f);
	return ret;
}

static void allowed(const struct ffpf_policy *pol, const struct who *w, const char *spec)
{
	char why[512] = "";
	int ret = check(pol, w, spec, why, sizeof(why));

	cr_expect_eq(ret, 0, "%s: want allowed, got %d: %s", spec, ret, why);
}

/* Denied, and the message contains every one of @subs (NULL-terminated). */
static void denied(const struct ffpf_policy *pol, const struct who *w, const char *spec,
		   const char *sub1, const char *sub2)
{
	char why[512] = "";
	int ret = check(pol, w, spec, why, sizeof(why));

	cr_expect_eq(ret, -EPERM, "%s: want -EPERM, got %d", spec, ret);
	cr_expect_not_null(strstr(why, sub1), "%s: '%s' lacks '%s'", spec, why, sub1);
	if (sub2)
		cr_expect_not_null(strstr(why, sub2), "%s: '%s' lacks '%s'", spec, why, sub2);
}

static const char good[] =
	"# test policy\n"
	"user alice                      # a user section\n"
	"  interfaces eth* lo\n"
	"  classes match count prefixset payload sample\n"
	"  require payload after prefixset(allow, 10.1.0.0/16) or match(net 10.1.0.0/16)\n"
	"  rx none copy\n"
	"  snaplen 256\n"
	"  flows 2\n"
	"\n"
	"group adm\n"
	"  interfaces veth0\n"
	"  classes *\n"
	"group daemon\n"
	"  interfaces veth1\n"
	"  classes count\n"
	"user *\n"
	"  interfaces lo\n"
	"  classes count\n";

static const struct who alice = { .user = "alice", .uid = ALICE_UID };

Test(policy, parse_good)
{
	struct ffpf_policy *pol = pol_ok(good);

	cr_assert_eq(pol->nrules, 4);
	cr_expect_eq(pol->rules[0].kind, FFPF_POL_USER);
	cr_expect_eq(pol->rules[0].line, 2);
	cr_expect_eq(pol->rules[0].nifaces, 2);
	cr_expect_eq(pol->rules[0].nclasses, 5);
	cr_expect_eq(pol->rules[0].norders, 1);
	cr_expect_eq(pol->rules[0].orders[0].ncond, 2);
	cr_expect_eq(pol->rules[0].orders[0].line, 5);
	cr_expect_eq(pol->rules[0].rx_mask, 3u);
	cr_expect_eq(pol->rules[0].snaplen, 256);
	cr_expect_eq(pol->rules[0].max_flows, 2);
	cr_expect_eq(pol->rules[1].kind, FFPF_POL_GROUP);
	cr_expect_eq(pol->rules[1].rx_mask, 1u, "rx defaults to none");
	cr_expect_eq(pol->rules[3].kind, FFPF_POL_DEFAULT);
	ffpf_policy_free(pol);
}

Test(policy, parse_empty_is_no_rule)
{
	struct ffpf_policy *pol = pol_ok("# nothing\n\n");

	cr_expect_eq(pol->nrules, 0);
	ffpf_policy_free(pol);
}

Test(policy, parse_errors)
{
	pol_err("classes count\n", 1, 1, "before any section");
	pol_err("user alice\n  colours red\n", 2, 3, "unknown directive 'colours'");
	pol_err("user alice\n  classes count bogus\n", 2, 17, "unknown filter class 'bogus'");
	pol_err("user alice\n  classes\n", 2, 10, "expected a filter class");
	pol_err("user alice\n  rx none packets\n", 2, 11, "expected none, copy or tap");
	pol_err("user alice\n  snaplen lots\n", 2, 11, "expected a number");
	pol_err("user alice\n  snaplen 0\n", 2, 11, "snaplen 0");
	pol_err("user alice\n  flows 3 4\n", 2, 11, "unexpected '4'");
	pol_err("user alice\n  flows 3\n  flows 4\n", 3, 3, "given twice");
	pol_err("user alice\nuser alice\n", 2, 1, "has a section already (at 1:1)");
	pol_err("user\n", 1, 5, "expected a user name");
	pol_err("group *\n", 1, 7, "'user *'");
	pol_err("user a b\n", 1, 8, "unexpected 'b'");
	pol_err("user a\n require payload before prefixset(allow, 10.0.0.0/8)\n", 2, 18,
		"expected after");
	pol_err("user a\n require payload after prefixset(deny, 10.0.0.0/8)\n", 2, 34,
		"deny-mode");
	pol_err("user a\n require payload after prefixset(allow 10.0.0.0/8)\n", 2, 40,
		"expected ,");
	pol_err("user a\n require payload after prefixset(allow, 10.0.0.0/33)\n", 2, 50,
		"prefix length 33");
	pol_err("user a\n require payload after prefixset(allow, 10.0.0.0/8\n", 2, 51,
		"expected ) at end of line");
	pol_err("user a\n require payload after count\n", 2, 24, "expected prefixset(...)");
	pol_err("user a\n require payload after match(host 10.0.0.1)\n", 2, 30, "expected net");
	pol_err("user a\n require payload after match(net 10.1.0.0/16) and\n", 2, 47,
		"expected 'or'");
	pol_err("user a\n require bogus after match(net 10.1.0.0/16)\n", 2, 10,
		"unknown filter class");
	pol_err("user a\n interfaces eth0\x01\n", 2, 17, "unexpected character");
}

Test(policy, load_missing_and_errors)
{
	struct ffpf_policy *pol = (void *)1;
	char path[] = "/tmp/ffpf_policy_XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "user x\n bad\n", 12), 12);
	close(fd);
	cr_expect_eq(ffpf_policy_load("/nonexistent/policy.conf", &pol), -ENOENT);
	cr_expect_null(pol);
	cr_expect_eq(ffpf_policy_load(path, &pol), -EINVAL);
	unlink(path);
}

Test(policy, precedence_user_over_group_over_default)
{
	struct ffpf_policy *pol = pol_ok(good);
	struct who in_adm = { .user = "alice", .uid = ALICE_UID, .gids = { 4 }, .ngids = 1,
			      .ifname = "veth0" };
	struct who bob_adm = { .user = "bob", .uid = BOB_UID, .gids = { 4 }, .ngids = 1,
			       .ifname = "veth0" };
	struct who bob = { .user = "bob", .uid = BOB_UID, .ifname = "lo" };
	struct who bob_lo_adm = bob_adm;

	/* alice's own section applies, though her group allows veth0 */
	denied(pol, &in_adm, "count", "test.conf:3 (user alice: interfaces eth* lo)",
	       "interface veth0");
	/* bob: his group */
	allowed(pol, &bob_adm, "match(udp) -> count");
	/* bob without groups: the default */
	allowed(pol, &bob, "count");
	denied(pol, &bob, "match(udp) -> count", "test.conf:18 (user *: classes count)",
	       "filter 0 (match, spec:1:1): class match");
	/* groups do not fall back to the default: lo is not veth0 */
	bob_lo_adm.ifname = "lo";
	denied(pol, &bob_lo_adm, "count", "group adm", "interface lo");
	ffpf_policy_free(pol);
}

Test(policy, several_groups_any_one_allows)
{
	struct ffpf_policy *pol = pol_ok(good);
	struct who w = { .user = "bob", .uid = BOB_UID, .gids = { 4, 1 }, .ngids = 2,
			 .ifname = "veth1" };

	allowed(pol, &w, "count");		/* group daemon allows it */
	w.ifname = "veth0";
	allowed(pol, &w, "match(tcp) -> sample(2)");	/* group adm */
	w.ifname = "veth2";
	denied(pol, &w, "count", "group adm", "interface veth2");	/* the first group */
	ffpf_policy_free(pol);
}

Test(policy, root_without_rule_allowed_others_not)
{
	struct ffpf_policy *pol = pol_ok("user alice\n interfaces lo\n classes count\n");
	struct who root = { .user = "root", .uid = 0, .ifname = "lo", .gids = { 0 }, .ngids = 1 };
	struct who bob = { .user = "bob", .uid = BOB_UID };
	struct who bob_lo = { .user = "bob", .uid = BOB_UID, .ifname = "lo" };

	allowed(pol, &root, "match(udp) -> payload(\"x\")");
	denied(pol, &bob, "count", "no rule for user bob", NULL);
	ffpf_policy_free(pol);
	/* a default or a root group's section does not bind root */
	pol = pol_ok("user *\n interfaces lo\n classes count\ngroup root\n interfaces lo\n"
		     " classes count\n");
	allowed(pol, &root, "match(udp) -> payload(\"x\")");
	denied(pol, &bob_lo, "match(udp)", "user *", "class match");
	ffpf_policy_free(pol);
	/* but a root section binds root */
	pol = pol_ok("user root\n interfaces lo\n classes count\n");
	denied(pol, &root, "match(udp) -> count", "user root", "class match");
	ffpf_policy_free(pol);
}

Test(policy, classes_and_interface_globs)
{
	struct ffpf_policy *pol = pol_ok(good);
	struct who w = alice;

	allowed(pol, &w, "match(udp) -> count");
	w.ifname = "eth12";
	allowed(pol, &w, "count");
	w.ifname = "wlan0";
	denied(pol, &w, "count", "interface wlan0", NULL);
	w.ifname = "lo";
	denied(pol, &w, "match(udp) -> flowtrack", "filter 1 (flowtrack, spec:1:15)",
	       "classes match count");
	ffpf_policy_free(pol);
	pol = pol_ok("user alice\n interfaces lo\n");
	denied(pol, &w, "count", "no 'classes' line", NULL);
	ffpf_policy_free(pol);
	pol = pol_ok("user alice\n classes count\n");
	denied(pol, &w, "count", "no 'interfaces' line", NULL);
	ffpf_policy_free(pol);
}

Test(policy, rx_snaplen_and_stats_only)
{
	struct ffpf_policy *pol = pol_ok(good);
	struct who w = alice;

	w.rx = FFPF_RX_COPY;
	w.snaplen = 256;
	allowed(pol, &w, "count");
	w.snaplen = 257;
	denied(pol, &w, "count", "test.conf:7 (user alice: snaplen 256)", "snaplen 257");
	w.rx = FFPF_RX_TAP;
	w.snaplen = 128;
	denied(pol, &w, "count", "rx none copy", "receive mode tap");
	ffpf_policy_free(pol);
	/* no rx line: statistics only */
	pol = pol_ok("user alice\n interfaces *\n classes *\n");
	w.rx = FFPF_RX_NONE;
	allowed(pol, &w, "count");
	w.rx = FFPF_RX_COPY;
	denied(pol, &w, "count", "rx none (the default)", "statistics only");
	ffpf_policy_free(pol);
}

Test(policy, max_flows)
{
	struct ffpf_policy *pol = pol_ok(good);
	struct who w = alice;

	w.nflows = 1;
	allowed(pol, &w, "count");
	w.nflows = 2;
	denied(pol, &w, "count", "test.conf:8 (user alice: flows 2)", "2 flows already");
	ffpf_policy_free(pol);
}

static const char order_pol[] =
	"user alice\n"
	" interfaces *\n"
	" classes *\n"
	" require payload after prefixset(allow, 10.1.0.0/16)\n";

Test(policy, order_allowed)
{
	struct ffpf_policy *pol = pol_ok(order_pol);

	allowed(pol, &alice, "prefixset(src, allow, 10.1.0.0/16) -> payload(\"x\")");
	allowed(pol, &alice, "prefixset(src, allow, 10.1.2.0/24, 10.1.3.0/24) -> payload(\"x\")");
	allowed(pol, &alice, "prefixset(dst, allow, 10.1.2.3) -> count -> payload(\"x\")");
	allowed(pol, &alice, "(prefixset(src, allow, 10.1.0.0/16) -> count | "
		"prefixset(dst, allow, 10.1.5.0/24)) -> payload(\"x\")");
	allowed(pol, &alice, "match(udp) -> count");	/* no payload: nothing to require */
	/* a second populate appends in sequence: still every path */
	ffpf_policy_free(pol);
}

Test(policy, order_denied)
{
	struct ffpf_policy *pol = pol_ok(order_pol);
	const char *rule = "test.conf:4 (user alice: require payload after "
			   "prefixset(allow, 10.1.0.0/16))";

	denied(pol, &alice, "payload(\"x\")", rule, "filter 0 (payload, spec:1:1)");
	denied(pol, &alice, "prefixset(src, allow, 10.0.0.0/8) -> payload(\"x\")", rule,
	       "filter 1 (payload, spec:1:38)");
	denied(pol, &alice, "prefixset(src, deny, 10.1.0.0/16) -> payload(\"x\")", rule,
	       "filter 1 (payload");
	denied(pol, &alice, "prefixset(src, allow, 10.1.0.0/16, 10.2.0.0/16) -> payload(\"x\")",
	       rule, "filter 1 (payload");
	/* reached when the prefixset rejected */
	denied(pol, &alice, "prefixset(src, allow, 10.1.0.0/16) | payload(\"x\")", rule,
	       "filter 1 (payload, spec:1:38)");
	denied(pol, &alice, "(prefixset(src, allow, 10.1.0.0/16) | count) -> payload(\"x\")",
	       rule, "filter 2 (payload");
	denied(pol, &alice, "prefixset(src, allow, 10.1.0.0/16) -> payload(\"x\") | payload(\"y\")",
	       rule, "filter 2 (payload");
	ffpf_policy_free(pol);
}

Test(policy, order_direction_and_match)
{
	struct ffpf_policy *pol = pol_ok(
		"user alice\n interfaces *\n classes *\n"
		" require payload after prefixset(dst, allow, 10.1.0.0/16) or "
		"match(src net 10.1.0.0/16)\n");

	allowed(pol, &alice, "prefixset(dst, allow, 10.1.0.0/16) -> payload(\"x\")");
	denied(pol, &alice, "prefixset(src, allow, 10.1.0.0/16) -> payload(\"x\")", "require",
	       NULL);
	allowed(pol, &alice, "match(udp, src net 10.1.4.0/24) -> payload(\"x\")");
	allowed(pol, &alice, "match(src host 10.1.4.4) -> payload(\"x\")");
	denied(pol, &alice, "match(udp, dst net 10.1.4.0/24) -> payload(\"x\")", "require",
	       NULL);
	denied(pol, &alice, "match(udp, src net 10.0.0.0/8) -> payload(\"x\")", "require",
	       NULL);
	denied(pol, &alice, "match(udp, src net 10.1.0.0/16) | payload(\"x\")", "require", NULL);
	/* a named instance carries its configuration */
	allowed(pol, &alice, "m :: match(src net 10.1.0.0/16) -> count -> payload(\"x\")");
	ffpf_policy_free(pol);
}

Test(policy, check_only_flow_cannot_instantiate)
{
	FFPF_OPTS(ffpf_flow_opts, fo, .flags = FFPF_FLOW_CHECK_ONLY);
	struct ffpf_flow *f = ffpf_flow_create("no-such-if0", &fo);

	cr_assert_not_null(f);
	cr_assert_eq(ffpf_flow_populate(f, "count"), 0);
	cr_expect_eq(ffpf_flow_instantiate(f), -EINVAL);
	ffpf_flow_close(f);
}

Test(policy, instantiate_named_policy_must_exist)
{
	FFPF_OPTS(ffpf_flow_opts, fo, .policy = "/nonexistent/ffpf-policy.conf");
	struct ffpf_flow *f;

	ffpf_set_print(NULL);
	f = ffpf_flow_create("lo", &fo);
	cr_assert_not_null(f);
	cr_assert_eq(ffpf_flow_populate(f, "count"), 0);
	cr_expect_eq(ffpf_flow_instantiate(f), -ENOENT);
	ffpf_flow_close(f);
}

Test(policy, instantiate_refused_before_loading)
{
	char path[] = "/tmp/ffpf_policy_XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "user root\n interfaces lo\n classes count\n";
	FFPF_OPTS(ffpf_flow_opts, fo, .policy = path);
	struct ffpf_flow *f;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	ffpf_set_print(NULL);
	f = ffpf_flow_create("lo", &fo);
	cr_assert_not_null(f);
	cr_assert_eq(ffpf_flow_populate(f, "match(udp) -> count"), 0);
	cr_expect_eq(ffpf_flow_instantiate(f), -EPERM);
	cr_expect_eq(ffpf_flow_slot(f), -1);
	ffpf_flow_close(f);
	unlink(path);
}
