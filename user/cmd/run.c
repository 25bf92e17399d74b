// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * run.c - `ffpf-bpf run`: instantiate flows, show counters, optionally
 * write the packets they accept to capture files, summarise on exit.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cmd.h"
#include "capture.h"

#define MAX_RUN_FLOWS (4 * FFPF_MAX_FLOWS)

/* Longest wait in the loop: Ctrl-C, --duration and --interval stay prompt. */
#define RUN_TICK_MS 100


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
	out->name = strdup(arg);
	out->spec = eq[1] == '@' ? read_file(eq + 2) : strdup(eq + 1);
	if (out->name && out->spec)
		return 0;
	free(out->name);
	free(out->spec);
	return -EINVAL;
}

/* -f FILE: every "NAME = SPEC" of a flow file becomes a flow on @ifname. */
static int add_flow_file(const char *ifname, const char *path, struct run_flow_arg *args,
			 int *nargs)
{
	struct ffpf_flow_def *defs;
	char *text;
	int n, i;

	if (!ifname) {
		fprintf(stderr, "ffpf-bpf run: -f %s: give the interface first (-i IF)\n", path);
		return -EINVAL;
	}
	text = read_file(path);
	if (!text)
		return -EINVAL;
	if (!ffpf_is_flow_file(text)) {
		fprintf(stderr, "ffpf-bpf run: %s: not a flow file (NAME = SPEC entries); "
			"for one spec use --flow NAME=@%s\n", path, path);
		free(text);
		return -EINVAL;
	}
	n = ffpf_flow_file_parse(text, &defs);
	free(text);
	if (n < 0) {
		fprintf(stderr, "ffpf-bpf run: in flow file %s\n", path);
		return n;
	}
	if (*nargs + n > MAX_RUN_FLOWS) {
		fprintf(stderr, "ffpf-bpf run: at most %d flows\n", MAX_RUN_FLOWS);
		ffpf_flow_file_free(defs, n);
		return -E2BIG;
	}
	for (i = 0; i < n; i++) {
		struct run_flow_arg *a = &args[(*nargs)++];

		a->ifname = ifname;
		a->name = strdup(defs[i].name);
		a->spec = defs[i].spec;
		defs[i].spec = NULL;
		if (!a->name)
			break;
	}
	ffpf_flow_file_free(defs, n);
	return i == n ? 0 : -ENOMEM;
}

static const char run_usage[] =
"Usage: ffpf-bpf run -i IF --flow NAME=SPEC [--flow NAME=@FILE] [-f FLOWFILE]...\n"
"                    [-i IF2 ...]\n"
"                    [--hook ingress|egress|both] [--duration SEC] [--interval SEC]\n"
"                    [--json] [--pin] [--monitor] [-q]\n"
"                    [-w FILE [--copy | --tap] [--pcapng] [-s SNAPLEN] [-c COUNT]\n"
"                     [-B DESCS]]\n"
"\n"
"  -i, --interface IF   interface of the --flow options that follow\n"
"  -F, --flow NAME=SPEC add a flow (NAME=@FILE reads the spec from FILE)\n"
"  -f, --flow-file FILE add the flows of FILE (\"NAME = SPEC\" entries, see\n"
"                       docs/spec.md); named instances are shared by name\n"
"      --hook H         where the flows see packets: ingress (XDP, default),\n"
"                       egress (TC), or both (every flow twice: NAME-in, NAME-out)\n"
"  -d, --duration SEC   stop after SEC seconds (default: until Ctrl-C)\n"
"  -I, --interval SEC   seconds between live counter lines (default 1)\n"
"  -j, --json           final summary as JSON on stdout\n"
"  -p, --pin            keep the flows after exit (statistics only)\n"
"      --monitor        mirror (SPAN) port, ingress only: every packet is dropped\n"
"                       after the flows saw it, instead of going up the stack;\n"
"                       counted as \"dropped (monitor)\" in the summary\n"
"  -q, --quiet          no live counter lines\n"
"  -w FILE              write the packets the flows accept to FILE (pcap); %f in\n"
"                       FILE: one file per flow (its name), %i: per interface.\n"
"                       A packet several flows accept is written once per file\n"
"      --copy           packets continue up the stack, a copy is written (default)\n"
"      --tap            monitor port, ingress only: matched packets are taken off\n"
"                       the stack (AF_XDP) and only written\n"
"      --pcapng         write pcapng; each packet's comment names its flows\n"
"  -s, --snaplen N      bytes kept per packet (1-65535, default 2048)\n"
"  -c, --count N        stop after N packets written\n"
"  -B, --ibuf-size N    descriptors queued per flow (power of two, default 1024)\n";

enum {
	OPT_COPY = 256,
	OPT_TAP,
	OPT_HOOK,
	OPT_PCAPNG,
	OPT_GROUP,
	OPT_MONITOR,
};

/* --hook: bit 0 ingress, bit 1 egress */
#define HOOK_IN		(1 << FFPF_HOOK_INGRESS)
#define HOOK_OUT	(1 << FFPF_HOOK_EGRESS)

static int parse_hook(const char *s, unsigned *hooks)
{
	if (!strcmp(s, "ingress") || !strcmp(s, "in"))
		*hooks = HOOK_IN;
	else if (!strcmp(s, "egress") || !strcmp(s, "out"))
		*hooks = HOOK_OUT;
	else if (!strcmp(s, "both"))
		*hooks = HOOK_IN | HOOK_OUT;
	else
		return -EINVAL;
	return 0;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "flow",      required_argument, NULL, 'F' },
		{ "flow-file", required_argument, NULL, 'f' },
		{ "duration",  required_argument, NULL, 'd' },
		{ "interval",  required_argument, NULL, 'I' },
		{ "json",      no_argument,       NULL, 'j' },
		{ "pin",       no_argument,       NULL, 'p' },
		{ "quiet",     no_argument,       NULL, 'q' },
		{ "help",      no_argument,       NULL, 'h' },
		{ "write",     required_argument, NULL, 'w' },
		{ "snaplen",   required_argument, NULL, 's' },
		{ "count",     required_argument, NULL, 'c' },
		{ "ibuf-size", required_argument, NULL, 'B' },
		{ "copy",      no_argument,       NULL, OPT_COPY },
		{ "tap",       no_argument,       NULL, OPT_TAP },
		{ "hook",      required_argument, NULL, OPT_HOOK },
		{ "pcapng",    no_argument,       NULL, OPT_PCAPNG },
		{ "group",     required_argument, NULL, OPT_GROUP },
		{ "monitor",   no_argument,       NULL, OPT_MONITOR },
		{}
	};
	struct run_flow_arg args[MAX_RUN_FLOWS];
	struct ffpf_flow *flows[2 * MAX_RUN_FLOWS] = {0};
	struct capture_flow_info fi[2 * MAX_RUN_FLOWS];
	const char *labels[2 * MAX_RUN_FLOWS] = {0};
	struct capture_opts co = {0};
	struct capture *cap = NULL;
	struct report rep;
	const char *ifname = NULL, *need_w = NULL, *group = NULL;
	double duration = 0, interval = 1, start, next;
	bool json = false, pin = false, quiet = false, monitor = false, both;
	unsigned hooks = HOOK_IN;
	unsigned long long v;
	__u32 rx = FFPF_RX_NONE, snaplen = 0, ibuf = 0;
	int nargs = 0, nflows = 0, n = 0, c, ret = 1, err;

	while ((c = getopt_long(argc, argv, "i:F:f:d:I:jpqhw:s:c:B:", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'F':
			if (nargs == MAX_RUN_FLOWS) {
				fprintf(stderr, "ffpf-bpf run: at most %d flows\n", MAX_RUN_FLOWS);
				goto usage;
			}
			if (parse_flow_arg(ifname, optarg, &args[nargs]))
				goto usage;
			nargs++;
			break;
		case 'f':
			if (add_flow_file(ifname, optarg, args, &nargs))
				goto usage;
			break;
		case 'd':
			if (cmd_parse_seconds(optarg, &duration) || duration <= 0) {
				fprintf(stderr, "ffpf-bpf run: --duration '%s': expected seconds > 0\n",
					optarg);
				goto usage;
			}
			break;
		case 'I':
			if (cmd_parse_seconds(optarg, &interval) || interval <= 0) {
				fprintf(stderr, "ffpf-bpf run: --interval '%s': expected seconds > 0\n",
					optarg);
				goto usage;
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
		case OPT_GROUP:
			group = optarg;
			break;
		case OPT_MONITOR:
			monitor = true;
			break;
		case 'w':
			if (!*optarg) {
				fprintf(stderr, "ffpf-bpf run: -w: empty file name\n");
				goto usage;
			}
			co.path = optarg;
			break;
		case 's':
			if (cmd_parse_u64(optarg, FFPF_SNAPLEN_MAX, &v) || !v) {
				fprintf(stderr, "ffpf-bpf run: --snaplen '%s': expected 1 to %u bytes\n",
					optarg, FFPF_SNAPLEN_MAX);
				goto usage;
			}
			snaplen = v;
			need_w = "--snaplen";
			break;
		case 'c':
			if (cmd_parse_u64(optarg, ULLONG_MAX, &v) || !v) {
				fprintf(stderr, "ffpf-bpf run: --count '%s': expected a number of "
					"packets > 0\n", optarg);
				goto usage;
			}
			co.count = v;
			need_w = "--count";
			break;
		case 'B':
			if (cmd_parse_u64(optarg, 1U << 24, &v) || !v || (v & (v - 1))) {
				fprintf(stderr, "ffpf-bpf run: --ibuf-size '%s': expected a power of "
					"two up to %u\n", optarg, 1U << 24);
				goto usage;
			}
			ibuf = v;
			need_w = "--ibuf-size";
			break;
		case OPT_COPY:
		case OPT_TAP:
			if (rx && rx != (c == OPT_COPY ? FFPF_RX_COPY : FFPF_RX_TAP)) {
				fprintf(stderr, "ffpf-bpf run: --copy and --tap exclude each other\n");
				goto usage;
			}
			rx = c == OPT_COPY ? FFPF_RX_COPY : FFPF_RX_TAP;
			need_w = c == OPT_COPY ? "--copy" : "--tap";
			break;
		case OPT_HOOK:
			if (parse_hook(optarg, &hooks)) {
				fprintf(stderr, "ffpf-bpf run: --hook '%s': expected ingress, egress "
					"or both\n", optarg);
				goto usage;
			}
			break;
		case OPT_PCAPNG:
			co.pcapng = true;
			need_w = "--pcapng";
			break;
		case 'h':
			fputs(run_usage, stdout);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ffpf-bpf run: unexpected argument '%s'\n", argv[optind]);
		goto usage;
	}
	if (!nargs) {
		fprintf(stderr, "ffpf-bpf run: no flow given: -i IF --flow NAME=SPEC\n");
		goto usage;
	}
	if (need_w && !co.path) {
		fprintf(stderr, "ffpf-bpf run: %s needs -w FILE (without it run only counts)\n",
			need_w);
		goto usage;
	}
	if (rx == FFPF_RX_TAP && (hooks & HOOK_OUT)) {
		fprintf(stderr, "ffpf-bpf run: --tap takes packets off the stack on ingress only "
			"(AF_XDP); use --copy with --hook %s\n",
			hooks & HOOK_IN ? "both" : "egress");
		goto usage;
	}
	if (monitor && (hooks & HOOK_OUT)) {
		fprintf(stderr, "ffpf-bpf run: --monitor cannot be used with --hook %s: it drops "
			"received packets (XDP, ingress only), egress packets are this "
			"host's own\n", hooks & HOOK_IN ? "both" : "egress");
		goto usage;
	}
	if (co.path && pin) {
		fprintf(stderr, "ffpf-bpf run: -w and --pin: a pinned flow outlives the command, "
			"its packets would have no reader\n");
		goto usage;
	}
	if (co.path && !rx)
		rx = FFPF_RX_COPY;
	both = hooks == (HOOK_IN | HOOK_OUT);

	/* Check every spec before touching any interface, in order: a named
	 * instance is known to the flows after the one that defines it. */
	{
		const char *specs[MAX_RUN_FLOWS];
		int bad = 0;

		for (int i = 0; i < nargs; i++)
			specs[i] = args[i].spec;
		if (ffpf_specs_check(specs, nargs, NULL, &bad)) {
			fprintf(stderr, "ffpf-bpf run: in flow %s\n", args[bad].name);
			ret = EXIT_USAGE;
			goto out;
		}
	}
	/* Every flow once per hook; with both hooks the labels tell them apart. */
	for (int i = 0; i < nargs; i++) {
		for (int h = FFPF_HOOK_INGRESS; h <= FFPF_HOOK_EGRESS; h++) {
			if (!(hooks & (1U << h)))
				continue;
			fi[nflows].ifname = args[i].ifname;
			fi[nflows].hook = h;
			if (both) {
				char *l;

				if (asprintf(&l, "%s-%s", args[i].name,
					     h == FFPF_HOOK_INGRESS ? "in" : "out") < 0) {
					fprintf(stderr, "ffpf-bpf run: %s\n", strerror(ENOMEM));
					goto out;
				}
				labels[nflows] = l;
			} else {
				labels[nflows] = strdup(args[i].name);
				if (!labels[nflows]) {
					fprintf(stderr, "ffpf-bpf run: %s\n", strerror(ENOMEM));
					goto out;
				}
			}
			fi[nflows].label = labels[nflows];
			nflows++;
		}
	}
	/* The files exist before any interface is touched: a bad path costs nothing. */
	if (co.path) {
		co.snaplen = snaplen ?: FFPF_SNAPLEN_DEFAULT;
		cap = capture_open(&co, fi, nflows);
		if (!cap) {
			if (errno == EINVAL)
				ret = EXIT_USAGE;
			goto out;
		}
	}

	for (int i = 0; i < nflows; i++) {
		const struct run_flow_arg *a = &args[both ? i / 2 : i];
		FFPF_OPTS(ffpf_flow_opts, fo, .name = a->name,
			  .flags = (pin ? FFPF_FLOW_PIN : 0) | (monitor ? FFPF_FLOW_MONITOR : 0),
			  .hook = fi[i].hook, .rx = rx,
			  .snaplen = snaplen, .ibuf_size = ibuf, .group = group);
		const char *where = fi[i].hook == FFPF_HOOK_EGRESS ? " (egress)" : "";

		flows[n] = ffpf_flow_create(a->ifname, &fo);
		if (!flows[n]) {
			fprintf(stderr, "ffpf-bpf run: flow %s on %s%s: %s\n", a->name,
				a->ifname, where, strerror(errno));
			goto out;
		}
		n++;
		err = ffpf_flow_populate(flows[n - 1], a->spec);
		if (!err)
			err = ffpf_flow_instantiate(flows[n - 1]);
		if (!err && cap)
			err = capture_bind(cap, i, flows[n - 1]);
		if (err) {
			fprintf(stderr, "ffpf-bpf run: flow %s on %s%s: %s\n", a->name,
				a->ifname, where, strerror(-err));
			goto out;
		}
	}
	for (int i = 0; i < n; i++)
		ffpf_flow_activate(flows[i]);

	cmd_catch_signals();
	fprintf(stderr, "ffpf-bpf: %d flow%s active%s%s", n, n == 1 ? "" : "s",
		pin ? " (pinned)" : "", monitor ? ", monitor mode: received packets are dropped" : "");
	if (cap) {
		fprintf(stderr, ", %s mode, writing %s", rx == FFPF_RX_TAP ? "tap" : "copy",
			co.path);
		if (capture_nfiles(cap) > 1)
			fprintf(stderr, " (%d files)", capture_nfiles(cap));
		if (co.count)
			fprintf(stderr, " (stop after %llu packets)", (unsigned long long)co.count);
	}
	fputc('\n', stderr);

	rep = (struct report){ .flows = flows, .labels = labels, .n = n, .cap = cap,
			       .monitor = monitor };
	ret = 0;
	start = cmd_now();
	next = start + interval;
	while (!cmd_stop) {
		double t = cmd_now(), wait;

		if (duration > 0 && t - start >= duration)
			break;
		if (t >= next) {
			if (!quiet)
				report_line(stderr, &rep, t - start);
			next += interval;
			if (next < t)
				next = t + interval;
		}
		wait = next - t;
		if (duration > 0 && start + duration - t < wait)
			wait = start + duration - t;
		wait = wait < 0 ? 0 : wait * 1000 + 1;
		if (wait > RUN_TICK_MS)
			wait = RUN_TICK_MS;
		if (!cap) {
			usleep(wait * 1000);
			continue;
		}
		err = capture_run(cap, (int)wait);
		if (err < 0) {
			ret = 1;
			break;
		}
		if (err > 0)
			break;	/* -c count reached */
	}
	if (cap) {
		/* Nothing new from here on: what was accepted gets written. */
		for (int i = 0; i < n; i++)
			ffpf_flow_pause(flows[i]);
		if (capture_finish(cap))
			ret = 1;
		if (capture_close(cap))
			ret = 1;
		report_capture(stderr, &rep);
	}
	/* One snapshot: counters shared by several flows (named instances) add
	 * up only if no packet arrives while the summary reads them. Pinned
	 * flows go on counting after the command. */
	for (int i = 0; i < n && !pin; i++)
		ffpf_flow_pause(flows[i]);
	if (json)
		report_json(stdout, &rep, cmd_now() - start);
	else
		report_summary(stdout, &rep);
	if (pin) {
		for (int i = 0; i < n; i++) {
			ffpf_flow_disconnect(flows[i]);
			fprintf(stderr, "ffpf-bpf: flow %s stays pinned under %s/%s%s/%s\n",
				ffpf_flow_name(flows[i]), FFPF_PIN_ROOT,
				ffpf_flow_ifname(flows[i]),
				ffpf_flow_hook(flows[i]) == FFPF_HOOK_EGRESS ? ":egress" : "",
				ffpf_flow_name(flows[i]));
		}
	}
out:
	for (int i = 0; i < n; i++)
		ffpf_flow_close(flows[i]);
	capture_free(cap);
	for (int i = 0; i < nargs; i++) {
		free(args[i].name);
		free(args[i].spec);
	}
	for (int i = 0; i < nflows; i++)
		free((char *)labels[i]);
	return ret;
usage:
	for (int i = 0; i < nargs; i++) {
		free(args[i].name);
		free(args[i].spec);
	}
	fprintf(stderr, "Try 'ffpf-bpf run --help'.\n");
	return EXIT_USAGE;
}
