// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * main.c - ffpf-replay: replay the client side of captured TCP and UDP
 * flows against a live server (docs/replay.md, ffpf-replay(1)).
 * Exit status: 0 every flow complete, 1 some flow not, 2 bad usage/input.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ffpf/ffpf.h>
#include "engine.h"

#ifndef RP_PLUGIN_DIR
#define RP_PLUGIN_DIR "/usr/local/lib/ffpf-replay"
#endif

static void usage(FILE *o)
{
	fprintf(o,
"usage: ffpf-replay [OPTIONS] CAPTURE\n"
"Replay the client side of the TCP and UDP flows of CAPTURE (pcap or pcapng)\n"
"against live servers; report per flow.\n"
"  -s, --server ADDR[:PORT]   send every flow there (default: captured server)\n"
"  -m, --map-port CAP:LIVE    captured server port CAP -> LIVE (repeatable)\n"
"  -c, --concurrency N        flows in flight at once (default 64)\n"
"  -x, --speed X              keep the captured gaps between flow starts / X (default 1)\n"
"  -t, --topspeed             start flows as fast as the concurrency allows\n"
"  -p, --plugin NAME[:ARGS]   plug-in deciding when to send (default: default)\n"
"  -P, --plugin-path DIR      where NAME.so plug-ins are (default $FFPF_REPLAY_PLUGIN_PATH\n"
"                             or " RP_PLUGIN_DIR ")\n"
"      --list-plugins         list the built-in plug-ins\n"
"      --quiet-ms MS          server silent this long ends its turn (default 300)\n"
"      --hung-ms MS           no answer this long: server hung (default 5000)\n"
"      --connect-ms MS        connect timeout (default 3000)\n"
"      --flow-timeout-ms MS   bound on one flow's whole replay (default none)\n"
"  -j, --json FILE|-          the report as JSON too (- = stdout; the table goes to stderr)\n"
"  -n, --dry-run              show the flows and turns, send nothing\n"
"  -h, --help\n");
}

static int parse_u32(const char *s, const char *what, uint32_t *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 10);
	if (errno || end == s || *end || x > 0xffffffffUL || *s == '-') {
		fprintf(stderr, "ffpf-replay: %s: '%s' is not a number\n", what, s);
		return -EINVAL;
	}
	*v = (uint32_t)x;
	return 0;
}

static int parse_port(const char *s, const char *what, uint16_t *port)
{
	uint32_t v;

	if (parse_u32(s, what, &v))
		return -EINVAL;
	if (!v || v > 65535) {
		fprintf(stderr, "ffpf-replay: %s: port %s out of range\n", what, s);
		return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

/* ADDR, ADDR:PORT, [ADDR6]:PORT or a bare ADDR6. */
static int parse_server(const char *arg, struct rp_opts *o)
{
	char buf[128];
	char *addr = buf, *port = NULL;
	uint16_t p = 0;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
		goto bad;
	if (buf[0] == '[') {
		char *rb = strchr(buf, ']');

		if (!rb)
			goto bad;
		*rb = '\0';
		addr = buf + 1;
		if (rb[1] == ':')
			port = rb + 2;
		else if (rb[1])
			goto bad;
	} else if (strchr(buf, ':') == strrchr(buf, ':') && strchr(buf, ':')) {
		port = strchr(buf, ':');
		*port++ = '\0';
	}
	if (port && parse_port(port, "--server", &p))
		return -EINVAL;
	memset(&o->server_addr, 0, sizeof(o->server_addr));
	struct sockaddr_in *a4 = (struct sockaddr_in *)&o->server_addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&o->server_addr;
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1)
		a4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1)
		a6->sin6_family = AF_INET6;
	else
		goto bad;
	o->server = arg;
	o->server_port = p;
	return 0;
bad:
	fprintf(stderr, "ffpf-replay: --server '%s': expected ADDR, ADDR:PORT or [ADDR6]:PORT\n", arg);
	return -EINVAL;
}

static int parse_map(const char *arg, struct rp_opts *o)
{
	char buf[32];
	char *colon;

	if (o->nmaps >= RP_MAX_PORTMAP) {
		fprintf(stderr, "ffpf-replay: at most %d --map-port\n", RP_MAX_PORTMAP);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	colon = strchr(buf, ':');
	if (!colon) {
		fprintf(stderr, "ffpf-replay: --map-port '%s': expected CAPPORT:LIVEPORT\n", arg);
		return -EINVAL;
	}
	*colon = '\0';
	if (parse_port(buf, "--map-port", &o->map_from[o->nmaps]) ||
	    parse_port(colon + 1, "--map-port", &o->map_to[o->nmaps]))
		return -EINVAL;
	o->nmaps++;
	return 0;
}

static void dry_run(const struct rp_capture *c)
{
	for (size_t i = 0; i < c->nflows; i++) {
		const struct rp_flow *f = c->flows[i];
		char cli[64], srv[64];
		int cs = f->client < 0 ? 0 : f->client;

		rp_key_endpoint(&f->key, cs, cli, sizeof(cli));
		rp_key_endpoint(&f->key, !cs, srv, sizeof(srv));
		printf("flow %zu %s %s -> %s: %zu turns, client %llu bytes, server %llu bytes%s%s\n",
		       i + 1, f->proto == IPPROTO_TCP ? "tcp" : "udp", cli, srv, f->nturns,
		       (unsigned long long)f->clen, (unsigned long long)f->sbytes,
		       f->skip[0] ? ", skipped: " : "", f->skip);
		if (f->warn[0])
			printf("  note: %s\n", f->warn);
		for (size_t t = 0; t < f->nturns; t++)
			printf("  turn %zu: client %u, server %llu\n", t + 1, f->turns[t].clen,
			       (unsigned long long)f->turns[t].slen);
	}
	printf("%llu records, %zu flows, %llu not TCP/UDP, %llu fragments, %llu malformed\n",
	       (unsigned long long)c->records, c->nflows, (unsigned long long)c->ignored,
	       (unsigned long long)c->fragments, (unsigned long long)c->bad);
}

enum { OPT_LIST = 256, OPT_QUIET, OPT_HUNG, OPT_CONNECT, OPT_FLOWTMO };

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "map-port", required_argument, NULL, 'm' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "speed", required_argument, NULL, 'x' },
		{ "topspeed", no_argument, NULL, 't' },
		{ "plugin", required_argument, NULL, 'p' },
		{ "plugin-path", required_argument, NULL, 'P' },
		{ "list-plugins", no_argument, NULL, OPT_LIST },
		{ "quiet-ms", required_argument, NULL, OPT_QUIET },
		{ "hung-ms", required_argument, NULL, OPT_HUNG },
		{ "connect-ms", required_argument, NULL, OPT_CONNECT },
		{ "flow-timeout-ms", required_argument, NULL, OPT_FLOWTMO },
		{ "json", required_argument, NULL, 'j' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rp_opts o = {
		.sz = sizeof(o), .concurrency = 64, .speed = 1.0, .connect_ms = 3000,
		.cfg = { .sz = sizeof(o.cfg), .quiet_ms = 300, .hung_ms = 5000 },
	};
	const char *plugin = "default", *json = NULL;
	const char *ppath = getenv("FFPF_REPLAY_PLUGIN_PATH");
	struct rp_capture *cap = NULL;
	struct rp_plugin_inst pi;
	struct ffpf_replay_flow *flows;
	char err[512];
	int opt, dry = 0, rc;
	uint32_t v;
	uint64_t wall = 0;

	if (!ppath || !*ppath)
		ppath = RP_PLUGIN_DIR;
	while ((opt = getopt_long(argc, argv, "s:m:c:x:tp:P:j:nh", lopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (parse_server(optarg, &o))
				return 2;
			break;
		case 'm':
			if (parse_map(optarg, &o))
				return 2;
			break;
		case 'c':
			if (parse_u32(optarg, "--concurrency", &v))
				return 2;
			if (!v || v > 100000) {
				fprintf(stderr, "ffpf-replay: --concurrency: 1 to 100000\n");
				return 2;
			}
			o.concurrency = (int)v;
			break;
		case 'x': {
			char *end;

			o.speed = strtod(optarg, &end);
			if (end == optarg || *end || !(o.speed > 0)) {
				fprintf(stderr, "ffpf-replay: --speed: '%s' is not a positive number\n", optarg);
				return 2;
			}
			break;
		}
		case 't':
			o.speed = 0;
			break;
		case 'p':
			plugin = optarg;
			break;
		case 'P':
			ppath = optarg;
			break;
		case OPT_LIST:
			rp_plugin_list(stdout);
			return 0;
		case OPT_QUIET:
			if (parse_u32(optarg, "--quiet-ms", &o.cfg.quiet_ms))
				return 2;
			break;
		case OPT_HUNG:
			if (parse_u32(optarg, "--hung-ms", &o.cfg.hung_ms))
				return 2;
			break;
		case OPT_CONNECT:
			if (parse_u32(optarg, "--connect-ms", &o.connect_ms))
				return 2;
			break;
		case OPT_FLOWTMO:
			if (parse_u32(optarg, "--flow-timeout-ms", &v))
				return 2;
			o.flow_timeout_ms = v;
			break;
		case 'j':
			json = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "ffpf-replay: one capture file expected\n");
		usage(stderr);
		return 2;
	}
	if (rp_capture_read(argv[optind], &cap, err, sizeof(err))) {
		fprintf(stderr, "ffpf-replay: %s\n", err);
		return 2;
	}
	if (dry) {
		dry_run(cap);
		rp_capture_free(cap);
		return 0;
	}
	if (!cap->nflows) {
		fprintf(stderr, "ffpf-replay: %s: no TCP or UDP flow in %llu records\n",
			argv[optind], (unsigned long long)cap->records);
		rp_capture_free(cap);
		return 2;
	}
	if (rp_plugin_load(plugin, ppath, &o.cfg, &pi)) {
		rp_capture_free(cap);
		return 2;
	}
	flows = calloc(cap->nflows, sizeof(*flows));
	if (!flows || (rc = rp_engine_run(cap, &o, &pi, flows, &wall))) {
		fprintf(stderr, "ffpf-replay: %s\n", strerror(flows ? -rc : ENOMEM));
		rp_plugin_unload(&pi);
		rp_capture_free(cap);
		free(flows);
		return 2;
	}
	rp_report_text(json && !strcmp(json, "-") ? stderr : stdout, cap, flows, pi.p.name, wall);
	rc = 0;
	for (size_t i = 0; i < cap->nflows; i++)
		if (flows[i].outcome != FFPF_REPLAY_COMPLETE)
			rc = 1;
	if (json && rp_report_json(json, argv[optind], cap, flows, pi.p.name, wall))
		rc = 2;
	rp_plugin_unload(&pi);
	rp_capture_free(cap);
	free(flows);
	return rc;
}
