// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* run.c - `ffpf-bpf run`: instantiate flows, show counters, summarise on exit. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cmd.h"

#define MAX_RUN_FLOWS (4 * FFPF_MAX_FLOWS)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end ? -EINVAL : 0;
}

struct run_flow_arg {
	const char *ifname;
	char *name;
	char *spec;
};

static int parse_flow_arg(const char *ifname, char *arg, struct run_flow_arg *out)
{
	char *eq = strchr(arg, '=');

	if (!ifname) {
		fprintf(stderr, "ffpf-bpf run: --flow %s: give the interface first (-i IF)\n", arg);
		return -EINVAL;
	}
	if (!eq || eq == arg) {
		fprintf(stderr, "ffpf-bpf run: --flow '%s': expected NAME=SPEC\n", arg);
		return -EINVAL;
	}
	*eq = 0;
	out->ifname = ifname;
	out->name = arg;
	out->spec = eq[1] == '@' ? read_file(eq + 2) : strdup(eq + 1);
	return out->spec ? 0 : -EINVAL;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "flow",      required_argument, NULL, 'F' },
		{ "duration",  required_argument, NULL, 'd' },
		{ "interval",  required_argument, NULL, 'I' },
		{ "json",      no_argument,       NULL, 'j' },
		{ "pin",       no_argument,       NULL, 'p' },
		{ "quiet",     no_argument,       NULL, 'q' },
		{ "help",      no_argument,       NULL, 'h' },
		{}
	};
	struct run_flow_arg args[MAX_RUN_FLOWS];
	struct ffpf_flow *flows[MAX_RUN_FLOWS] = {0};
	const char *ifname = NULL;
	double duration = 0, interval = 1, start, next;
	bool json = false, pin = false, quiet = false;
	int nargs = 0, n = 0, c, ret = 1;

	while ((c = getopt_long(argc, argv, "i:F:d:I:jpqh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'F':
			if (nargs == MAX_RUN_FLOWS) {
				fprintf(stderr, "ffpf-bpf run: at most %d flows\n", MAX_RUN_FLOWS);
				return EXIT_USAGE;
			}
			if (parse_flow_arg(ifname, optarg, &args[nargs]))
				return EXIT_USAGE;
			nargs++;
			break;
		case 'd':
			if (parse_seconds(optarg, &duration) || duration <= 0) {
				fprintf(stderr, "ffpf-bpf run: --duration '%s': expected seconds > 0\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'I':
			if (parse_seconds(optarg, &interval) || interval <= 0) {
				fprintf(stderr, "ffpf-bpf run: --interval '%s': expected seconds > 0\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'p':
			pin = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			printf("Usage: ffpf-bpf run -i IF --flow NAME=SPEC [--flow NAME=@FILE]... "
			       "[-i IF2 ...] [--duration SEC] [--interval SEC] [--json] [--pin] [-q]\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ffpf-bpf run: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!nargs) {
		fprintf(stderr, "ffpf-bpf run: no flow given: -i IF --flow NAME=SPEC\n");
		return EXIT_USAGE;
	}

	/* Check every spec before touching any interface. */
	for (int i = 0; i < nargs; i++) {
		if (ffpf_spec_check(args[i].spec, NULL)) {
			fprintf(stderr, "ffpf-bpf run: in flow %s\n", args[i].name);
			ret = EXIT_USAGE;
			goto out;
		}
	}
	for (int i = 0; i < nargs; i++) {
		FFPF_OPTS(ffpf_flow_opts, fo, .name = args[i].name,
			  .flags = pin ? FFPF_FLOW_PIN : 0);
		int err;

		flows[n] = ffpf_flow_create(args[i].ifname, &fo);
		if (!flows[n]) {
			fprintf(stderr, "ffpf-bpf run: flow %s on %s: %s\n", args[i].name,
				args[i].ifname, strerror(errno));
			goto out;
		}
		n++;
		err = ffpf_flow_populate(flows[n - 1], args[i].spec);
		if (!err)
			err = ffpf_flow_instantiate(flows[n - 1]);
		if (err) {
			fprintf(stderr, "ffpf-bpf run: flow %s on %s: %s\n", args[i].name,
				args[i].ifname, strerror(-err));
			goto out;
		}
	}
	for (int i = 0; i < n; i++)
		ffpf_flow_activate(flows[i]);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "ffpf-bpf: %d flow%s active%s\n", n, n == 1 ? "" : "s",
		pin ? " (pinned)" : "");
	start = now();
	next = start + interval;
	while (!stop) {
		double t = now();

		if (duration > 0 && t - start >= duration)
			break;
		if (t >= next) {
			if (!quiet)
				report_line(stderr, flows, n, t - start);
			next += interval;
		}
		usleep(50 * 1000);
	}
	if (json)
		report_json(stdout, flows, n, now() - start);
	else
		report_summary(stdout, flows, n);
	ret = 0;
	if (pin) {
		for (int i = 0; i < n; i++) {
			ffpf_flow_disconnect(flows[i]);
			fprintf(stderr, "ffpf-bpf: flow %s stays pinned under %s/%s/%s\n",
				ffpf_flow_name(flows[i]), FFPF_PIN_ROOT,
				ffpf_flow_ifname(flows[i]), ffpf_flow_name(flows[i]));
		}
	}
out:
	for (int i = 0; i < n; i++)
		ffpf_flow_close(flows[i]);
	for (int i = 0; i < nargs; i++)
		free(args[i].spec);
	return ret;
}
