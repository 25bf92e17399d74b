// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * check.c - `ffpf-bpf check`: validate specs without loading anything.
 * Several specs (or a flow file's flows) are checked in order, as `run`
 * would populate them: a named instance is known after its definition.
 * With --as USER each one is also put to the policy (ffpf/policy.h) as
 * that user would instantiate it: allowed, or the denial naming the rule.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <ffpf/policy.h>
#include "cmd.h"

/* Exit status when the policy denies a flow (0 allowed, 2 bad spec/policy). */
#define EXIT_DENIED 3
#define MAX_GROUPS  256

static const char check_usage[] =
	"Usage: ffpf-bpf check [-f FILE | SPEC...]\n"
	"       ffpf-bpf check --as USER [--policy PATH] [-i IF] [--copy | --tap]\n"
	"                      [-s SNAPLEN] [--flows N] [-f FILE | SPEC...]\n"
	"  FILE holds one spec, or flows as \"NAME = SPEC\" entries (docs/spec.md)\n"
	"  --as USER      check each flow against the policy as USER would instantiate it\n"
	"                 on IF (default lo), with N flows already (docs/policy.md)\n"
	"  --policy PATH  the policy file (default $" FFPF_POLICY_ENV ", else "
	FFPF_POLICY_PATH ")\n"
	"  exit status: 0 valid (and allowed), 2 bad spec or policy, 3 denied\n";

/* What --as asks. */
struct as_opts {
	const char *user, *policy, *ifname;
	__u32 rx, snaplen;
	unsigned nflows;
};

static int check_specs(const char *const *specs, const char *const *names, int n)
{
	int counts[n ? n : 1], bad = 0, total = 0;

	if (ffpf_specs_check(specs, n, counts, &bad)) {
		if (names)
			fprintf(stderr, "ffpf-bpf check: in flow %s\n", names[bad]);
		else if (n > 1)
			fprintf(stderr, "ffpf-bpf check: in spec %d\n", bad + 1);
		return EXIT_USAGE;
	}
	for (int i = 0; i < n; i++)
		total += counts[i];
	if (n == 1 && !names) {
		printf("ok: %d filter%s\n", total, total == 1 ? "" : "s");
		return 0;
	}
	printf("ok: %d flow%s, %d filters\n", n, n == 1 ? "" : "s", total);
	for (int i = 0; names && i < n; i++)
		printf("  %s: %d filter%s\n", names[i], counts[i], counts[i] == 1 ? "" : "s");
	return 0;
}

/*
 * One flow put to the policy: 0 allowed, EXIT_DENIED, or EXIT_USAGE/1.
 * The flow is left in *@fp for the caller to close once every flow is
 * checked: its named instances stay known to the flows after it.
 */
static int check_one(const struct ffpf_policy *pol, const struct as_opts *as,
		     const struct ffpf_policy_check_opts *po, const char *spec, const char *name,
		     struct ffpf_flow **fp)
{
	FFPF_OPTS(ffpf_flow_opts, fo, .name = name, .flags = FFPF_FLOW_CHECK_ONLY,
		  .rx = as->rx, .snaplen = as->snaplen);
	struct ffpf_flow *f = ffpf_flow_create(as->ifname, &fo);
	const char *label;
	int err;

	*fp = f;
	if (!f) {
		fprintf(stderr, "ffpf-bpf check: %s\n", strerror(errno));
		return errno == EINVAL ? EXIT_USAGE : 1;
	}
	err = ffpf_flow_populate(f, spec);
	if (err)
		return err == -EINVAL ? EXIT_USAGE : 1;
	label = name ? name : ffpf_flow_spec(f);
	err = pol ? ffpf_policy_check(pol, f, po) : 0;
	if (!err)
		printf("allowed: %s%s\n", label, pol ? "" : " (no policy in force)");
	else if (err == -EPERM)
		printf("denied: %s: %s\n", label, po->why);
	else
		fprintf(stderr, "ffpf-bpf check: %s: %s\n", label, strerror(-err));
	return !err ? 0 : err == -EPERM ? EXIT_DENIED : 1;
}

static int check_as(const char *const *specs, const char *const *names, int n,
		    const struct as_opts *as)
{
	struct ffpf_policy *pol = NULL;
	struct ffpf_flow **flows;
	struct passwd *pw = getpwnam(as->user);
	gid_t gids[MAX_GROUPS];
	int ngids = MAX_GROUPS, ret = 0, err;
	char why[512];

	if (!pw) {
		fprintf(stderr, "ffpf-bpf check: --as %s: no such user\n", as->user);
		return EXIT_USAGE;
	}
	if (getgrouplist(pw->pw_name, pw->pw_gid, gids, &ngids) < 0) {
		fprintf(stderr, "ffpf-bpf check: %s is in more than %d groups\n", pw->pw_name,
			MAX_GROUPS);
		return 1;
	}
	/* Every spec before any answer: a bad one is a usage error, nothing else. */
	if (ffpf_specs_check(specs, n, NULL, NULL))
		return EXIT_USAGE;	/* the spec error is printed */
	err = ffpf_policy_load(as->policy, &pol);
	if (err == -ENOENT && (as->policy || getenv(FFPF_POLICY_ENV))) {
		fprintf(stderr, "ffpf-bpf check: policy file %s does not exist\n",
			as->policy ? as->policy : getenv(FFPF_POLICY_ENV));
		return EXIT_USAGE;
	}
	if (err && err != -ENOENT) {
		if (err != -EINVAL)
			fprintf(stderr, "ffpf-bpf check: policy: %s\n", strerror(-err));
		return EXIT_USAGE;
	}
	{
		FFPF_OPTS(ffpf_policy_check_opts, po, .uid = pw->pw_uid, .user = pw->pw_name,
			  .gids = gids, .ngids = ngids, .nflows = as->nflows, .why = why,
			  .why_len = sizeof(why));

		flows = calloc(n ? n : 1, sizeof(*flows));
		if (!flows) {
			ffpf_policy_free(pol);
			return 1;
		}
		for (int i = 0; i < n; i++) {
			int r = check_one(pol, as, &po, specs[i], names ? names[i] : NULL,
					  &flows[i]);

			/* a usage error outranks a denial, which outranks success */
			if (r == EXIT_USAGE || (r && ret != EXIT_USAGE && ret != 1))
				ret = r;
		}
		for (int i = 0; i < n; i++)
			ffpf_flow_close(flows[i]);
		free(flows);
	}
	ffpf_policy_free(pol);
	return ret;
}

static int check_list(const char *const *specs, const char *const *names, int n,
		      const struct as_opts *as)
{
	return as->user ? check_as(specs, names, n, as) : check_specs(specs, names, n);
}

static int check_file(const char *path, const struct as_opts *as)
{
	struct ffpf_flow_def *defs;
	char *text = read_file(path);
	const char **specs, **names;
	int n, ret;

	if (!text)
		return EXIT_USAGE;
	if (!ffpf_is_flow_file(text)) {
		ret = check_list((const char *const *)&text, NULL, 1, as);
		free(text);
		return ret;
	}
	n = ffpf_flow_file_parse(text, &defs);
	free(text);
	if (n < 0)
		return EXIT_USAGE;
	specs = calloc(n + 1, sizeof(*specs));
	names = calloc(n + 1, sizeof(*names));
	if (!specs || !names) {
		ret = 1;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		specs[i] = defs[i].spec;
		names[i] = defs[i].name;
	}
	ret = check_list(specs, names, n, as);
out:
	free(specs);
	free(names);
	ffpf_flow_file_free(defs, n);
	return ret;
}

enum { OPT_AS = 256, OPT_POLICY, OPT_COPY, OPT_TAP, OPT_FLOWS };

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "as",        required_argument, NULL, OPT_AS },
		{ "policy",    required_argument, NULL, OPT_POLICY },
		{ "interface", required_argument, NULL, 'i' },
		{ "snaplen",   required_argument, NULL, 's' },
		{ "copy",      no_argument,       NULL, OPT_COPY },
		{ "tap",       no_argument,       NULL, OPT_TAP },
		{ "flows",     required_argument, NULL, OPT_FLOWS },
		{ "help",      no_argument,       NULL, 'h' },
		{}
	};
	struct as_opts as = { .ifname = "lo" };
	const char *file = NULL;
	unsigned long long v;
	bool as_only = false;	/* an option that means nothing without --as */
	int c;

	while ((c = getopt_long(argc, argv, "f:i:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case OPT_AS:
			as.user = optarg;
			break;
		case OPT_POLICY:
			as.policy = optarg;
			as_only = true;
			break;
		case 'i':
			as.ifname = optarg;
			as_only = true;
			break;
		case 's':
			if (cmd_parse_u64(optarg, FFPF_SNAPLEN_MAX, &v) || !v) {
				fprintf(stderr, "ffpf-bpf check: --snaplen '%s': expected 1 to %u "
					"bytes\n", optarg, FFPF_SNAPLEN_MAX);
				return EXIT_USAGE;
			}
			as.snaplen = v;
			as_only = true;
			break;
		case OPT_COPY:
		case OPT_TAP:
			as.rx = c == OPT_COPY ? FFPF_RX_COPY : FFPF_RX_TAP;
			as_only = true;
			break;
		case OPT_FLOWS:
			if (cmd_parse_u64(optarg, 1u << 20, &v)) {
				fprintf(stderr, "ffpf-bpf check: --flows '%s': expected a count\n",
					optarg);
				return EXIT_USAGE;
			}
			as.nflows = v;
			as_only = true;
			break;
		case 'h':
			fputs(check_usage, stdout);
			return 0;
		default:
			fputs(check_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (as_only && !as.user) {
		fprintf(stderr, "ffpf-bpf check: --policy, -i, -s, --copy, --tap and --flows "
			"go with --as USER\n");
		return EXIT_USAGE;
	}
	if (file && optind == argc)
		return check_file(file, &as);
	if (file || optind == argc) {
		fputs(check_usage, stderr);
		return EXIT_USAGE;
	}
	return check_list((const char *const *)&argv[optind], NULL, argc - optind, &as);
}
