// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * count_flow.c - count the packets of one FFPF flow on an interface.
 *
 *   count_flow IFNAME [SPEC]
 *
 * SPEC defaults to "match(udp, dst port 53) -> count"; it must end in
 * `count`. Prints the flow's counters once a second and exits on Ctrl-C,
 * removing the flow (and the interface's root program) again.
 * Run it as root.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <ffpf/ffpf.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Every message of the library comes through here; drop debug output. */
static int print_fn(enum ffpf_print_level level, const char *fmt, va_list args)
{
	if (level == FFPF_DEBUG)
		return 0;
	fprintf(stderr, "count_flow: ");
	return vfprintf(stderr, fmt, args);
}

int main(int argc, char **argv)
{
	const char *spec = argc > 2 ? argv[2] : "match(udp, dst port 53) -> count";
	FFPF_OPTS(ffpf_flow_opts, opts, .name = "count_flow");
	struct ffpf_count_mbuf *cnt;
	struct ffpf_flow *flow;
	int err, last;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s IFNAME [SPEC]\n", argv[0]);
		return 2;
	}
	ffpf_set_print(print_fn);

	flow = ffpf_flow_create(argv[1], &opts);
	if (!flow) {
		fprintf(stderr, "count_flow: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* A spec error has already been printed as "spec:LINE:COL: ...". */
	err = ffpf_flow_populate(flow, spec);
	if (err)
		goto out;

	last = ffpf_flow_nfilters(flow) - 1;
	if (strcmp(ffpf_flow_filter_class(flow, last), "count")) {
		fprintf(stderr, "count_flow: the spec must end in count\n");
		err = -EINVAL;
		goto out;
	}

	/* Load and chain every filter; attaches the root program if needed. */
	err = ffpf_flow_instantiate(flow);
	if (err)
		goto out;

	/* The count filter's MBuf, mapped into this process. */
	cnt = ffpf_flow_filter_mbuf(flow, last, NULL);
	if (!cnt) {
		err = -errno;
		goto out;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	/* The flow starts paused: nothing is dispatched to it until now. */
	err = ffpf_flow_activate(flow);
	if (err)
		goto out;
	printf("flow %s on %s: %s\n", ffpf_flow_name(flow), ffpf_flow_ifname(flow), spec);

	while (!stop) {
		struct ffpf_flow_stats st = { .sz = sizeof(st) };
		struct ffpf_mbuf_hdr sum;

		sleep(1);
		ffpf_mbuf_sum(cnt->cpu, &sum);	/* the MBuf's per-CPU slots */
		err = ffpf_flow_stats(flow, &st);
		if (err)
			break;
		printf("accepted %llu pkts %llu B, dispatched %llu, missed %llu | "
		       "count MBuf: %llu pkts %llu B\n",
		       (unsigned long long)st.packets, (unsigned long long)st.bytes,
		       (unsigned long long)st.dispatched, (unsigned long long)st.missed,
		       (unsigned long long)sum.passed, (unsigned long long)sum.bytes);
		fflush(stdout);
	}
out:
	if (err)
		fprintf(stderr, "count_flow: %s\n", strerror(-err));
	/* Removes the flow from the datapath and frees its programs and maps. */
	ffpf_flow_close(flow);
	return err ? 1 : 0;
}
