// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* main.c - ffpf-bpf: run, check and manage FFPF flows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"

static const char usage[] =
"Usage: ffpf-bpf COMMAND [OPTIONS]\n"
"\n"
"Commands:\n"
"  run -i IF --flow NAME=SPEC [--flow ...] [-i IF2 --flow ...]\n"
"      [--hook ingress|egress|both] [--duration SEC] [--interval SEC]\n"
"      [-w FILE [--pcapng] [--copy|--tap] [-s SNAPLEN] [-c COUNT] [-B IBUF]]\n"
"      [--json] [--pin] [-q] [--group NAME]\n"
"                    load flows, show live counters, print a summary on exit;\n"
"                    with -w, write the packets they accept (pcap or pcapng)\n"
"  check [--as USER [--policy PATH] [-i IF]] [-f FILE | SPEC]\n"
"                    validate a spec without loading anything\n"
"  list [-i IF] [--json]\n"
"                    show pinned flows\n"
"  pause -i IF FLOW | activate -i IF FLOW | close -i IF FLOW\n"
"                    control a pinned flow\n"
"  set -i IF FLOW FILTER add|del PREFIX... | set -i IF FLOW FILTER list\n"
"                    change a prefixset filter's set on a pinned flow, live\n"
"  flows -i IF [--flow-spec SPEC] [--idle SEC] [--size N] [--active SEC]\n"
"      [--flows-out FILE] [--format csv|json] [--duration SEC] [-q]\n"
"                    track the interface's flows both ways, one record per\n"
"                    ended flow (JSON lines or CSV)\n"
"  daemon [--socket PATH] [--policy PATH] | daemon --status\n"
"                    serve flows to users who may not load BPF (ffpf-bpf-daemon(8))\n"
"  version           print the version\n"
"\n"
"A SPEC is a chain of filters, e.g.\n"
"  'match(udp, dst port 53) -> sample(10) -> count'\n"
"Classes: match(TERMS...), count, sample(N), flowtrack(...),\n"
"  prefixset(src|dst|either, allow|deny, PREFIX...). See ffpf-bpf(8), docs/spec.md.\n";

static void print_usage(FILE *out)
{
	fputs(usage, out);
}

char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		fprintf(stderr, "ffpf-bpf: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	do {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 4096 + 1);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	buf[len] = 0;
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "run", cmd_run }, { "check", cmd_check }, { "list", cmd_list },
		{ "pause", cmd_pause }, { "activate", cmd_activate }, { "close", cmd_close },
		{ "flows", cmd_flows }, { "set", cmd_set }, { "daemon", cmd_daemon },
	};

	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		print_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("ffpf-bpf %s\n", ffpf_version());
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "ffpf-bpf: unknown command '%s'\n\n", argv[1]);
	print_usage(stderr);
	return EXIT_USAGE;
}
