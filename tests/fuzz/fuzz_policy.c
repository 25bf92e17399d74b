/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * fuzz_policy.c - libFuzzer target for the policy file parser
 * (user/lib/policy.c) and the check of flows against what it accepts
 * (user/lib/policy_check.c). The policy file is read by every
 * instantiate, and later by a privileged daemon: it must never crash.
 *
 * Invariants (a broken one aborts):
 *   - the parser returns 0, -EINVAL or -ENOMEM; on failure no policy;
 *   - an error has a message and a LINE:COL inside the input (a
 *     character of its line, or just past the line's end);
 *   - an accepted policy has sane rules: a name, word counts in range,
 *     every require with at least one condition;
 *   - a few fixed flows checked for a few callers give 0 or -EPERM, and
 *     a denial's message names the policy ("policy:" or "policy: ...").
 */
#include <errno.h>
#include <ffpf/ffpf.h>
#include <ffpf/policy.h>
#include "policy.h"
#include "fuzz.h"

static const char *const specs[] = {
	"count",
	"prefixset(src, allow, 10.1.0.0/16) -> payload(\"x\")",
	"(prefixset(src, allow, 10.1.0.0/16) | count) -> payload(\"x\")",
	"match(udp, src net 10.1.2.0/24) -> sample(2) | match(icmp)",
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))
static struct ffpf_flow *flows[NSPECS];

static void make_flows(void)
{
	FFPF_OPTS(ffpf_flow_opts, o, .flags = FFPF_FLOW_CHECK_ONLY, .rx = FFPF_RX_COPY);

	ffpf_set_print(NULL);
	for (size_t i = 0; i < NSPECS; i++) {
		flows[i] = ffpf_flow_create("eth0", &o);
		if (!flows[i] || ffpf_flow_populate(flows[i], specs[i]))
			abort();
	}
}

/* Is line:col a character of @text's line, or just past its end? */
static int position_ok(const char *text, int line, int col)
{
	const char *p = text;
	int len;

	if (line < 1 || col < 1)
		return 0;
	for (int l = 1; l < line; l++) {
		p = strchr(p, '\n');
		if (!p)
			return 0;
		p++;
	}
	len = strchrnul(p, '\n') - p;
	return col <= len + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const gid_t gids[] = { 0, 4, 1000 };
	static const char *const users[] = { "alice", NULL, "root" };
	static const uid_t uids[] = { 50001, 1000, 0 };
	char *text = fuzz_cstr(data, size);
	struct ffpf_spec_error err = {0};
	struct ffpf_policy *pol = (void *)&err;
	char why[512];
	int ret;

	if (!flows[0])
		make_flows();
	ret = ffpf_policy_parse_text(text, "policy", &pol, &err);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM, "parse returned %d", ret);
	if (ret) {
		FUZZ_CHECK(!pol, "a failed parse set the policy");
		if (ret == -EINVAL) {
			FUZZ_CHECK(err.msg[0], "an error without a message");
			FUZZ_CHECK(position_ok(text, err.line, err.col), "error at %d:%d: %s",
				   err.line, err.col, err.msg);
		}
		free(text);
		return 0;
	}
	for (int i = 0; i < pol->nrules; i++) {
		const struct ffpf_pol_rule *r = &pol->rules[i];

		FUZZ_CHECK(r->who[0] && r->nifaces <= FFPF_POL_MAX_WORDS &&
			   r->nclasses <= FFPF_POL_MAX_WORDS && r->norders <= FFPF_POL_MAX_ORDERS,
			   "rule %d malformed", i);
		for (int k = 0; k < r->norders; k++)
			FUZZ_CHECK(r->orders[k].ncond >= 1 && r->orders[k].ncond <= FFPF_POL_MAX_CONDS,
				   "require %d of rule %d has %d conditions", k, i,
				   r->orders[k].ncond);
	}
	for (size_t f = 0; f < NSPECS; f++) {
		for (int u = 0; u < 3; u++) {
			FFPF_OPTS(ffpf_policy_check_opts, o, .uid = uids[u], .user = users[u],
				  .gids = gids, .ngids = u + 1, .nflows = f, .why = why,
				  .why_len = sizeof(why));

			ret = ffpf_policy_check(pol, flows[f], &o);
			FUZZ_CHECK(ret == 0 || ret == -EPERM, "check returned %d", ret);
			FUZZ_CHECK(ret == 0 || !strncmp(why, "policy:", 7),
				   "denial without the rule: %s", why);
		}
	}
	ffpf_policy_free(pol);
	free(text);
	return 0;
}
