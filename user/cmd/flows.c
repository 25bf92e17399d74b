// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * flows.c - `ffpf-bpf flows`: track the bidirectional flows of an
 * interface (a flowtrack filter on its ingress and, sharing the table, on
 * its egress) and write one record per ended flow, as JSON lines or CSV.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <ffpf/ipfix.h>
#include "cmd.h"
#include "flowtop.h"

#define FLOWS_TICK_MS 100


static const char *const reason_names[8] = {
	[0] = "unknown",
	[FFPF_FT_END_IDLE] = "idle",
	[FFPF_FT_END_ACTIVE] = "active",
	[FFPF_FT_END_FIN] = "fin",
	[FFPF_FT_END_RST] = "rst",
	[FFPF_FT_END_EVICTED] = "evicted",
	[FFPF_FT_END_FORCED] = "forced",
	[FFPF_FT_END_CLOSED] = "closed",
};

static const char *reason_name(unsigned r)
{
	return r < 8 && reason_names[r] ? reason_names[r] : "unknown";
}

struct flows_ctx {
	FILE *out;
	bool csv;
	struct ffpf_ipfix *ipfix;	/* --ipfix: the exporter, else NULL */
	__u64 ended[8];
	__u64 records;
};

static void on_end(struct ffpf_flow *flow, const struct ffpf_ft_record *rec, void *arg)
{
	struct flows_ctx *c = arg;
	const struct ffpf_ft_flow *f = &rec->flow;
	const struct ffpf_ft_side *o = ffpf_ft_dir(f, FFPF_FT_OUTBOUND);
	const struct ffpf_ft_side *in = ffpf_ft_dir(f, FFPF_FT_INBOUND);
	int s = f->initiator == FFPF_FT_INIT_SIDE1 ? 1 : 0;
	bool known = f->initiator != FFPF_FT_INIT_UNKNOWN;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	unsigned long long first_ms = rec->first_real_ns / 1000000;
	unsigned long long last_ms = rec->last_real_ns / 1000000;
	/* ICMP's port[] is not per side but type << 8 | code, echo id: as in
	 * NetFlow, type and code go in dst_port (and the id in src_port) */
	bool icmp = rec->key.proto == 1 || rec->key.proto == 58;
	unsigned sport = icmp ? rec->key.port[1] : rec->key.port[s];
	unsigned dport = icmp ? rec->key.port[0] : rec->key.port[!s];

	(void)flow;
	flowtop_addr(&rec->key, s, src, sizeof(src));
	flowtop_addr(&rec->key, !s, dst, sizeof(dst));
	if (c->csv)
		fprintf(c->out, "%u,%u,%s,%u,%s,%u,%s,%llu,%llu,%llu,%llu,%llu,%llu,%u,%u,%s\n",
			rec->key.proto, rec->key.ip_ver, src, sport, dst, dport, known ? "src" : "unknown",
			(unsigned long long)o->packets, (unsigned long long)o->bytes,
			(unsigned long long)in->packets, (unsigned long long)in->bytes,
			first_ms, last_ms, o->tcp_flags, in->tcp_flags, reason_name(rec->reason));
	else
		fprintf(c->out, "{\"proto\":%u,\"ip_ver\":%u,\"src_addr\":\"%s\",\"src_port\":%u,"
			"\"dst_addr\":\"%s\",\"dst_port\":%u,\"initiator\":\"%s\","
			"\"out_packets\":%llu,\"out_bytes\":%llu,\"in_packets\":%llu,"
			"\"in_bytes\":%llu,\"first_ms\":%llu,\"last_ms\":%llu,"
			"\"tcp_flags_out\":%u,\"tcp_flags_in\":%u,\"reason\":\"%s\"}\n",
			rec->key.proto, rec->key.ip_ver, src, sport, dst, dport, known ? "src" : "unknown",
			(unsigned long long)o->packets, (unsigned long long)o->bytes,
			(unsigned long long)in->packets, (unsigned long long)in->bytes,
			first_ms, last_ms, o->tcp_flags, in->tcp_flags, reason_name(rec->reason));
	fflush(c->out);
	if (c->ipfix)
		ffpf_ipfix_add(c->ipfix, rec);	/* failures: counted as lost */
	c->ended[rec->reason < 8 ? rec->reason : 0]++;
	c->records++;
}

static const char flows_usage[] =
"Usage: ffpf-bpf flows -i IF [--flow-spec SPEC] [--idle SEC] [--size N] [--active SEC]\n"
"                      [--flows-out FILE] [--format csv|json] [--ipfix HOST:PORT]\n"
"                      [--duration SEC] [-q] [--top | --no-top] [--rows N]\n"
"                      [--sort bytes|packets|rate|age] [--interval SEC] [--monitor]\n"
"\n"
"Track the bidirectional flows of IF (ingress and egress, one table) and\n"
"write one record per ended flow.\n"
"\n"
"  -i, --interface IF   interface to watch\n"
"      --flow-spec SPEC filters in front of the tracker, e.g. 'match(tcp)'\n"
"      --idle SEC       idle timeout (default 30)\n"
"      --size N         flow table entries (default 65536)\n"
"      --active SEC     active timeout, 0: none (default)\n"
"  -o, --flows-out FILE records go to FILE (default: stdout)\n"
"      --format F       json (JSON lines, default) or csv (with a header)\n"
"      --ipfix HOST:PORT also export every ended flow to an IPFIX collector\n"
"                       over UDP ([IPV6]:PORT for an IPv6 address)\n"
"  -d, --duration SEC   stop after SEC seconds (default: until Ctrl-C)\n"
"  -q, --quiet          no status line every interval\n"
"      --top            live table of the flows on stdout, and a final one at the\n"
"                       end (default when stdout is a terminal and records go to\n"
"                       a file); redrawn in place on a terminal, else blocks\n"
"      --no-top         no live table\n"
"      --rows N         flows in the live table (default 20; the final one has all)\n"
"      --sort KEY       bytes (default), packets, rate or age\n"
"      --interval SEC   table and status period (default 1)\n"
"      --monitor        mirror (SPAN) port: received packets are dropped once\n"
"                       tracked, instead of going up the stack (ingress only;\n"
"                       the host's own egress packets still leave)\n";

enum {
	OPT_SPEC = 256,
	OPT_IDLE,
	OPT_SIZE,
	OPT_ACTIVE,
	OPT_FORMAT,
	OPT_TOP,
	OPT_NO_TOP,
	OPT_ROWS,
	OPT_SORT,
	OPT_INTERVAL,
	OPT_IPFIX,
	OPT_MONITOR,
};

int cmd_flows(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "flow-spec", required_argument, NULL, OPT_SPEC },
		{ "idle",      required_argument, NULL, OPT_IDLE },
		{ "size",      required_argument, NULL, OPT_SIZE },
		{ "active",    required_argument, NULL, OPT_ACTIVE },
		{ "flows-out", required_argument, NULL, 'o' },
		{ "format",    required_argument, NULL, OPT_FORMAT },
		{ "ipfix",     required_argument, NULL, OPT_IPFIX },
		{ "duration",  required_argument, NULL, 'd' },
		{ "quiet",     no_argument,       NULL, 'q' },
		{ "top",       no_argument,       NULL, OPT_TOP },
		{ "no-top",    no_argument,       NULL, OPT_NO_TOP },
		{ "rows",      required_argument, NULL, OPT_ROWS },
		{ "sort",      required_argument, NULL, OPT_SORT },
		{ "interval",  required_argument, NULL, OPT_INTERVAL },
		{ "monitor",   no_argument,       NULL, OPT_MONITOR },
		{ "help",      no_argument,       NULL, 'h' },
		{}
	};
	const char *ifname = NULL, *pre = NULL, *out_path = NULL, *ipfix = NULL;
	long long idle = -1, size = -1, active = -1;
	struct flows_ctx ctx = {0};
	struct ffpf_flow *in = NULL, *eg = NULL;
	struct ffpf_ft_stats st = { .sz = sizeof(st) };
	struct ffpf_ipfix_stats ist = { .sz = sizeof(ist) };
	char args[128] = "", spec[FFPF_SPEC_LEN + 64];
	double duration = 0, interval = 1, start, next;
	bool quiet = false, have_stats = false, to_stdout, monitor = false, have_is = false;
	struct ffpf_iface_stats is = { .sz = sizeof(is) };
	struct flowtop_opts to = { .rows = 20, .sort = FLOWTOP_BYTES };
	struct flowtop *top = NULL;
	int want_top = -1;	/* -1: when stdout is a terminal and records are not */
	unsigned long long v;
	int c, err, ret = 1;

	while ((c = getopt_long(argc, argv, "i:o:d:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case OPT_SPEC:
			pre = optarg;
			break;
		case OPT_IDLE:
			if (cmd_parse_u64(optarg, 86400, &v) || !v) {
				fprintf(stderr, "ffpf-bpf flows: --idle '%s': expected 1 to 86400 "
					"seconds\n", optarg);
				goto usage;
			}
			idle = v;
			break;
		case OPT_ACTIVE:
			if (cmd_parse_u64(optarg, 86400, &v)) {
				fprintf(stderr, "ffpf-bpf flows: --active '%s': expected 0 to 86400 "
					"seconds\n", optarg);
				goto usage;
			}
			active = v;
			break;
		case OPT_SIZE:
			if (cmd_parse_u64(optarg, 16777216, &v) || v < 16) {
				fprintf(stderr, "ffpf-bpf flows: --size '%s': expected 16 to 16777216 "
					"entries\n", optarg);
				goto usage;
			}
			size = v;
			break;
		case 'o':
			out_path = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "csv")) {
				ctx.csv = true;
			} else if (!strcmp(optarg, "json")) {
				ctx.csv = false;
			} else {
				fprintf(stderr, "ffpf-bpf flows: --format '%s': expected csv or json\n",
					optarg);
				goto usage;
			}
			break;
		case OPT_IPFIX:
			ipfix = optarg;
			break;
		case 'd':
			if (cmd_parse_seconds(optarg, &duration) || duration <= 0) {
				fprintf(stderr, "ffpf-bpf flows: --duration '%s': expected seconds > 0\n",
					optarg);
				goto usage;
			}
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_TOP:
		case OPT_NO_TOP:
			want_top = c == OPT_TOP;
			break;
		case OPT_ROWS:
			if (cmd_parse_u64(optarg, 100000, &v) || !v) {
				fprintf(stderr, "ffpf-bpf flows: --rows '%s': expected 1 to 100000\n",
					optarg);
				goto usage;
			}
			to.rows = v;
			break;
		case OPT_SORT:
			if (flowtop_parse_sort(optarg, &to.sort)) {
				fprintf(stderr, "ffpf-bpf flows: --sort '%s': expected bytes, packets, "
					"rate or age\n", optarg);
				goto usage;
			}
			break;
		case OPT_INTERVAL:
			if (cmd_parse_seconds(optarg, &interval) || interval < 0.1 ||
			    interval > 3600) {
				fprintf(stderr, "ffpf-bpf flows: --interval '%s': expected 0.1 to 3600 "
					"seconds\n", optarg);
				goto usage;
			}
			break;
		case OPT_MONITOR:
			monitor = true;
			break;
		case 'h':
			fputs(flows_usage, stdout);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ffpf-bpf flows: unexpected argument '%s'\n", argv[optind]);
		goto usage;
	}
	if (!ifname) {
		fprintf(stderr, "ffpf-bpf flows: no interface given: -i IF\n");
		goto usage;
	}

	to_stdout = !out_path || !strcmp(out_path, "-");
	if (want_top == 1 && to_stdout) {
		fprintf(stderr, "ffpf-bpf flows: --top draws on stdout, where the records go: "
			"give them a file with --flows-out FILE\n");
		goto usage;
	}
	if (want_top == -1)
		want_top = !to_stdout && isatty(STDOUT_FILENO);
	to.ansi = want_top && isatty(STDOUT_FILENO);

	if (size >= 0)
		snprintf(args + strlen(args), sizeof(args) - strlen(args), "%ssize=%lld",
			 *args ? ", " : "", size);
	if (idle >= 0)
		snprintf(args + strlen(args), sizeof(args) - strlen(args), "%sidle=%lld",
			 *args ? ", " : "", idle);
	if (active >= 0)
		snprintf(args + strlen(args), sizeof(args) - strlen(args), "%sactive=%lld",
			 *args ? ", " : "", active);
	if ((size_t)snprintf(spec, sizeof(spec), "%s%sflowtrack(%s)", pre ? pre : "",
			     pre ? " -> " : "", args) >= sizeof(spec)) {
		fprintf(stderr, "ffpf-bpf flows: --flow-spec too long\n");
		goto usage;
	}
	if (ffpf_spec_check(spec, NULL)) {
		fprintf(stderr, "ffpf-bpf flows: in spec '%s'\n", spec);
		return EXIT_USAGE;
	}

	if (ipfix) {
		ctx.ipfix = ffpf_ipfix_open(ipfix, NULL);	/* prints why not */
		if (!ctx.ipfix && errno == EINVAL)
			goto usage;
		if (!ctx.ipfix) {
			fprintf(stderr, "ffpf-bpf flows: --ipfix '%s': %s\n", ipfix,
				strerror(errno));
			return 1;
		}
	}
	if (!to_stdout) {
		ctx.out = fopen(out_path, "w");
		if (!ctx.out) {
			fprintf(stderr, "ffpf-bpf flows: %s: %s\n", out_path, strerror(errno));
			ffpf_ipfix_close(ctx.ipfix);
			return 1;
		}
	} else {
		ctx.out = stdout;
	}
	if (ctx.csv) {
		fputs("proto,ip_ver,src_addr,src_port,dst_addr,dst_port,initiator,out_packets,"
		      "out_bytes,in_packets,in_bytes,first_ms,last_ms,tcp_flags_out,"
		      "tcp_flags_in,reason\n", ctx.out);
		fflush(ctx.out);
	}

	{
		/* only the ingress half drops; the egress half shares its table */
		FFPF_OPTS(ffpf_flow_opts, io, .name = "flows-in", .hook = FFPF_HOOK_INGRESS,
			  .flags = monitor ? FFPF_FLOW_MONITOR : 0);

		in = ffpf_flow_create(ifname, &io);
		if (!in) {
			fprintf(stderr, "ffpf-bpf flows: ingress flow on %s: %s\n", ifname,
				strerror(errno));
			goto out;
		}
		err = ffpf_flow_populate(in, spec);
		if (!err)
			err = ffpf_flow_instantiate(in);
		if (err) {
			fprintf(stderr, "ffpf-bpf flows: ingress flow on %s: %s\n", ifname,
				strerror(-err));
			goto out;
		}
	}
	{
		FFPF_OPTS(ffpf_flow_opts, eo, .name = "flows-out", .hook = FFPF_HOOK_EGRESS,
			  .share = in);

		eg = ffpf_flow_create(ifname, &eo);
		if (!eg) {
			fprintf(stderr, "ffpf-bpf flows: egress flow on %s: %s\n", ifname,
				strerror(errno));
			goto out;
		}
		err = ffpf_flow_populate(eg, spec);
		if (!err)
			err = ffpf_flow_instantiate(eg);
		if (err) {
			fprintf(stderr, "ffpf-bpf flows: egress flow on %s: %s\n", ifname,
				strerror(-err));
			goto out;
		}
	}
	{
		FFPF_OPTS(ffpf_ft_opts, fo, .on_end = on_end, .ctx = &ctx);

		err = ffpf_ft_start(in, &fo);
		if (err) {
			fprintf(stderr, "ffpf-bpf flows: flow tracker on %s: %s\n", ifname,
				strerror(-err));
			goto out;
		}
	}
	cmd_catch_signals();
	if ((err = ffpf_flow_activate(in)) || (err = ffpf_flow_activate(eg))) {
		fprintf(stderr, "ffpf-bpf flows: activate on %s: %s\n", ifname, strerror(-err));
		goto out;
	}
	fprintf(stderr, "ffpf-bpf: flows: tracking on %s%s\n", ifname,
		monitor ? " (monitor mode: received packets are dropped)" : "");
	if (want_top && !(top = flowtop_new(&to))) {
		fprintf(stderr, "ffpf-bpf flows: live table: %s\n", strerror(ENOMEM));
		goto out;
	}

	ret = 0;
	start = cmd_now();
	next = start + interval;
	while (!cmd_stop) {
		double t = cmd_now();

		if (duration > 0 && t - start >= duration)
			break;
		if (t >= next) {
			if (!ffpf_ft_stats(in, &st)) {
				if (top)
					flowtop_draw(top, stdout, in, ifname, &st, false);
				else if (!quiet)
					fprintf(stderr, "ffpf-bpf: flows: %.0fs live %llu ended %llu "
						"table_full %llu\n", t - start,
						(unsigned long long)st.live,
						(unsigned long long)st.records,
						(unsigned long long)st.table_full);
			}
			if (ctx.ipfix)
				ffpf_ipfix_flush(ctx.ipfix);
			next += interval;
			if (next < t)
				next = t + interval;
		}
		usleep(FLOWS_TICK_MS * 1000);
	}
	/* No new packets from here on; what the kernel counted ends as "closed". */
	ffpf_flow_pause(eg);
	ffpf_flow_pause(in);
	have_stats = !ffpf_ft_stats(in, &st);
	/* what monitor mode dropped: said, never silent */
	have_is = monitor && !ffpf_flow_iface_stats(in, &is);
	/* the final table: every flow still live, before close ends them */
	if (top && have_stats)
		flowtop_draw(top, stdout, in, ifname, &st, true);

out:
	ffpf_flow_close(eg);
	ffpf_flow_close(in);	/* ends every live flow through on_end */
	flowtop_free(top);
	if (ctx.out) {
		if (fflush(ctx.out) || ferror(ctx.out)) {
			fprintf(stderr, "ffpf-bpf flows: writing records: %s\n", strerror(errno));
			ret = 1;
		}
		if (ctx.out != stdout)
			fclose(ctx.out);
	}
	if (ctx.ipfix) {
		/* after the close above: the flows it ended are in */
		ffpf_ipfix_flush(ctx.ipfix);
		ffpf_ipfix_stats(ctx.ipfix, &ist);
		ffpf_ipfix_close(ctx.ipfix);
		if (ist.lost)
			ret = 1;
	}
	if (have_stats) {
		fprintf(stderr, "ffpf-bpf: flows: created %llu, ended %llu (",
			(unsigned long long)st.created, (unsigned long long)ctx.records);
		for (int r = 1, first = 1; r < 8; r++) {
			fprintf(stderr, "%s%s %llu", first ? "" : ", ", reason_name(r),
				(unsigned long long)ctx.ended[r]);
			first = 0;
		}
		fprintf(stderr, "), table_full %llu, rst_no_flow %llu",
			(unsigned long long)st.table_full, (unsigned long long)st.rst_no_flow);
		if (st.unindexed)	/* only if the id index overflowed */
			fprintf(stderr, ", unindexed %llu", (unsigned long long)st.unindexed);
		fputc('\n', stderr);
	}
	if (have_is)
		fprintf(stderr, "ffpf-bpf: flows: %s: %llu packets received, %llu dropped "
			"(monitor)\n", ifname, (unsigned long long)is.rx_packets,
			(unsigned long long)is.monitor_dropped);
	if (ipfix && (have_stats || ist.lost))	/* ipfix set: the exporter was open */
		fprintf(stderr, "ffpf-bpf: flows: ipfix to %s: messages %llu, records %llu, "
			"templates %llu, lost %llu (send errors %llu)\n", ipfix,
			(unsigned long long)ist.messages, (unsigned long long)ist.records,
			(unsigned long long)ist.templates, (unsigned long long)ist.lost,
			(unsigned long long)ist.send_errors);
	return ret;
usage:
	fprintf(stderr, "Try 'ffpf-bpf flows --help'.\n");
	return EXIT_USAGE;
}
