// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pinned.c - `ffpf-bpf list|pause|activate|close` for pinned flows. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include "cmd.h"

struct list_ctx {
	bool json;
	int count;
};

static int print_flow(const struct ffpf_pinned_flow *pf, void *data)
{
	struct list_ctx *lc = data;
	bool alive = pf->owner_pid && !kill(pf->owner_pid, 0);

	if (lc->json) {
		printf("%s\n  {\"ifname\": ", lc->count ? "," : "");
		json_string(stdout, pf->ifname);
		printf(", \"name\": ");
		json_string(stdout, pf->name);
		printf(", \"index\": %d, \"active\": %s, \"monitor\": %s, \"packets\": %llu, "
		       "\"bytes\": %llu, \"missed\": %llu, \"owner_pid\": %u, \"spec\": ",
		       pf->index, pf->active ? "true" : "false", pf->monitor ? "true" : "false",
		       (unsigned long long)pf->counters.packets,
		       (unsigned long long)pf->counters.bytes,
		       (unsigned long long)pf->counters.missed, pf->owner_pid);
		json_string(stdout, pf->spec);
		printf("}");
	} else {
		if (!lc->count)
			printf("%-12s %-16s %3s %-7s %12s %14s %8s  %s\n", "IFACE", "FLOW", "IDX",
			       "STATE", "PACKETS", "BYTES", "OWNER", "SPEC");
		printf("%-12s %-16s %3d %-7s %12llu %14llu %8s  %s%s\n", pf->ifname, pf->name,
		       pf->index, pf->active ? "active" : "paused",
		       (unsigned long long)pf->counters.packets,
		       (unsigned long long)pf->counters.bytes, alive ? "running" : "-", pf->spec,
		       pf->monitor ? "  [monitor: drops received packets while active]" : "");
	}
	lc->count++;
	return 0;
}

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{}
	};
	struct list_ctx lc = {0};
	const char *ifname = NULL;
	int c, err;

	while ((c = getopt_long(argc, argv, "i:j", opts, NULL)) != -1) {
		if (c == 'i')
			ifname = optarg;
		else if (c == 'j')
			lc.json = true;
		else
			return EXIT_USAGE;
	}
	if (lc.json)
		printf("[");
	err = ffpf_pinned_foreach(ifname, print_flow, &lc);
	if (lc.json)
		printf("\n]\n");
	else if (!lc.count)
		printf("no pinned flows\n");
	return err && err != -ENOENT ? 1 : 0;
}

static int pinned_op(int argc, char **argv, int (*op)(const char *, const char *))
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{}
	};
	const char *ifname = NULL;
	int c, err;

	while ((c = getopt_long(argc, argv, "i:", opts, NULL)) != -1) {
		if (c == 'i')
			ifname = optarg;
		else
			return EXIT_USAGE;
	}
	if (!ifname || optind != argc - 1) {
		fprintf(stderr, "Usage: ffpf-bpf %s -i IF FLOW\n", argv[0]);
		return EXIT_USAGE;
	}
	err = op(ifname, argv[optind]);
	if (err) {
		fprintf(stderr, "ffpf-bpf %s: %s on %s: %s\n", argv[0], argv[optind], ifname,
			strerror(-err));
		return 1;
	}
	return 0;
}

int cmd_pause(int argc, char **argv)
{
	return pinned_op(argc, argv, ffpf_pinned_pause);
}

int cmd_activate(int argc, char **argv)
{
	return pinned_op(argc, argv, ffpf_pinned_activate);
}

int cmd_close(int argc, char **argv)
{
	return pinned_op(argc, argv, ffpf_pinned_close);
}
