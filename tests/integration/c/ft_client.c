// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ft_client.c - flow tracking as an application does it, for
 * test_daemon.sh: run it through `ffpf-bpf daemon` (FFPF_DAEMON) and
 * in-process (FFPF_DAEMON=off, as root) on the same traffic, and the two
 * must print the same records.
 *
 *   ft_client IF SPEC STOPFILE [--manual]
 *
 * Prints "ready" once the flow is active, then one line per ended flow:
 *   rec proto=P a=ADDR:PORT b=ADDR:PORT init=I reason=R pkts=N0/N1 bytes=B0/B1
 * (sides as in the kernel's key; records of the flows still live at close
 * come last, reason=closed), and before the close one line:
 *   live=N looked_up=N stats_records=N dropped=N
 * (live: ffpf_ft_foreach(); looked_up: those ffpf_ft_lookup() found too).
 * It runs until STOPFILE exists (checked every 100 ms), so applications
 * started at different times stop together.
 * --manual: no tracker thread; ffpf_ft_sweep() every 100 ms.
 * Exit status 0 when every call worked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ffpf/ffpf.h>

static const char *const reasons[8] = {
	"unknown", "idle", "active", "fin", "rst", "evicted", "forced", "closed",
};

static void addr(const struct ffpf_ft_key *k, int side, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (k->ip_ver == 4)
		inet_ntop(AF_INET, k->addr[side] + 12, a, sizeof(a));
	else
		inet_ntop(AF_INET6, k->addr[side], a, sizeof(a));
	snprintf(buf, len, "%s:%u", a, k->port[side]);
}

static void on_end(struct ffpf_flow *flow, const struct ffpf_ft_record *r, void *ctx)
{
	char a[64], b[64];

	addr(&r->key, 0, a, sizeof(a));
	addr(&r->key, 1, b, sizeof(b));
	printf("rec proto=%u a=%s b=%s init=%u reason=%s pkts=%llu/%llu bytes=%llu/%llu\n",
	       r->key.proto, a, b, r->flow.initiator, reasons[r->reason & 7],
	       (unsigned long long)r->flow.side[0].packets,
	       (unsigned long long)r->flow.side[1].packets,
	       (unsigned long long)r->flow.side[0].bytes,
	       (unsigned long long)r->flow.side[1].bytes);
	fflush(stdout);
}

struct walk {
	struct ffpf_flow *flow;
	int live, found;
};

static int on_live(const struct ffpf_ft_key *key, const struct ffpf_ft_flow *f, void *ctx)
{
	struct walk *w = ctx;
	struct ffpf_ft_flow now;

	w->live++;
	w->found += !ffpf_ft_lookup(w->flow, key, &now) && now.id == f->id;
	return 0;
}

int main(int argc, char **argv)
{
	FFPF_OPTS(ffpf_ft_opts, fo, .on_end = on_end);
	struct ffpf_ft_stats st = { .sz = sizeof(st) };
	struct walk w = {};
	struct ffpf_flow *flow;
	int err;

	if (argc < 4) {
		fprintf(stderr, "usage: ft_client IF SPEC STOPFILE [--manual]\n");
		return 2;
	}
	fo.manual = argc > 4 && !strcmp(argv[4], "--manual");
	flow = ffpf_flow_create(argv[1], NULL);
	if (!flow) {
		fprintf(stderr, "ft_client: create: %s\n", strerror(errno));
		return 1;
	}
	if ((err = ffpf_flow_populate(flow, argv[2])) || (err = ffpf_flow_instantiate(flow)) ||
	    (err = ffpf_ft_start(flow, &fo)) || (err = ffpf_flow_activate(flow))) {
		fprintf(stderr, "ft_client: %s\n", strerror(-err));
		ffpf_flow_close(flow);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (access(argv[3], F_OK)) {
		usleep(100 * 1000);
		if (fo.manual && (err = ffpf_ft_sweep(flow)) < 0) {
			fprintf(stderr, "ft_client: sweep: %s\n", strerror(-err));
			break;
		}
	}
	ffpf_flow_pause(flow);
	w.flow = flow;
	if ((err = ffpf_ft_foreach(flow, on_live, &w)) < 0 || (err = ffpf_ft_stats(flow, &st))) {
		fprintf(stderr, "ft_client: table: %s\n", strerror(-err));
		ffpf_flow_close(flow);
		return 1;
	}
	printf("live=%d looked_up=%d stats_records=%llu dropped=%llu\n", w.live, w.found,
	       (unsigned long long)st.records, (unsigned long long)st.records_dropped);
	fflush(stdout);
	ffpf_flow_close(flow);
	return 0;
}
