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
		if (err < 0) {
			fprintf(stderr, "ffpf-bpf set: %s on %s: %s\n", flow, ifname,
				strerror(-err));
			return 1;
		}
		return 0;
	}
	if ((strcmp(op, "add") && strcmp(op, "del")) || optind == argc)
		return fputs(set_usage, stderr), EXIT_USAGE;
	/* Every prefix is tried; the library has printed why one failed. */
	for (; optind < argc; optind++) {
		err = !strcmp(op, "add")
		      ? ffpf_pinned_prefixset_add(ifname, flow, filter, argv[optind])
		      : ffpf_pinned_prefixset_del(ifname, flow, filter, argv[optind]);
		if (err) {
			fprintf(stderr, "ffpf-bpf set: %s %s: %s\n", op, argv[optind],
				strerror(-err));
			failed = err == -EINVAL ? EXIT_USAGE : 1;
		}
	}
	return failed;
}
