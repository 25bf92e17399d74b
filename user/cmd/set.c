// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * set.c - `ffpf-bpf set -i IF FLOW FILTER add|del|list [PREFIX...]`:
 * change a prefixset filter's set on a pinned flow, live. Unpinned flows
 * belong to the `ffpf-bpf run` that made them: only --pin flows are
 * reachable from here.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <ffpf/prefixset.h>
#include "cmd.h"

static const char set_usage[] =
	"Usage: ffpf-bpf set -i IF FLOW FILTER add|del PREFIX...\n"
	"       ffpf-bpf set -i IF FLOW FILTER list\n"
	"  FILTER: the prefixset's index in the flow (0-based) or its pin name (1_prefixset)\n"
	"  PREFIX: 10.0.0.0/8, 2001:db8::/32, or a host address\n";

/* Say why, and what an ENOENT most likely means; exit status for @err. */
static int fail(const char *what, const char *flow, const char *ifname, int err,
		bool hint)
{
	fprintf(stderr, "ffpf-bpf set: %s %s on %s: %s\n", what, flow, ifname, strerror(-err));
	if (hint && err == -ENOENT)
		fprintf(stderr, "ffpf-bpf set: only flows started with --pin can be changed "
			"from another process\n");
	return err == -EINVAL ? EXIT_USAGE : 1;
}

static int print_prefix(const char *prefix, void *ctx)
{
	printf("%s\n", prefix);
	return 0;
}

int cmd_set(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{}
	};
	const char *ifname = NULL, *flow, *filter, *op;
	int c, err, failed = 0;

	while ((c = getopt_long(argc, argv, "+i:", opts, NULL)) != -1) {
		if (c == 'i')
			ifname = optarg;
		else
			return fputs(set_usage, stderr), EXIT_USAGE;
	}
	if (!ifname || argc - optind < 3)
		return fputs(set_usage, stderr), EXIT_USAGE;
	flow = argv[optind];
	filter = argv[optind + 1];
	op = argv[optind + 2];
	optind += 3;
	if (!strcmp(op, "list")) {
		if (optind != argc)
			return fputs(set_usage, stderr), EXIT_USAGE;
		err = ffpf_pinned_prefixset_list(ifname, flow, filter, print_prefix, NULL);
		return err < 0 ? fail("list", flow, ifname, err, true) : 0;
	}
	if ((strcmp(op, "add") && strcmp(op, "del")) || optind == argc)
		return fputs(set_usage, stderr), EXIT_USAGE;
	/* The flow and filter first: a missing flow is one message, not one a prefix. */
	err = ffpf_pinned_prefixset_list(ifname, flow, filter, NULL, NULL);
	if (err < 0)
		return fail(op, flow, ifname, err, true);
	/* Every prefix is tried; the library has printed why one failed. */
	for (; optind < argc; optind++) {
		err = !strcmp(op, "add")
		      ? ffpf_pinned_prefixset_add(ifname, flow, filter, argv[optind])
		      : ffpf_pinned_prefixset_del(ifname, flow, filter, argv[optind]);
		if (err) {
			c = fail(op, argv[optind], ifname, err, false);
			failed = failed == EXIT_USAGE ? failed : c;
		}
	}
	return failed;
}
