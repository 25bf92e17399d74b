// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pc_count: built by test_install.sh against the *installed* headers and
 * library via pkg-config. Counts ICMP echo requests on IF until SIGINT and
 * prints "echo_requests=N bytes=M" from both the flow stats and the MBuf.
 */
#define _DEFAULT_SOURCE	/* usleep; ffpf.h itself builds as strict C11 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <ffpf/ffpf.h>

static volatile sig_atomic_t stop;

static void on_int(int sig)
{
	stop = 1;
}

int main(int argc, char **argv)
{
	FFPF_OPTS(ffpf_flow_opts, opts, .name = "echo");
	struct ffpf_flow_stats st = { .sz = sizeof(st) };
	struct ffpf_count_mbuf *cnt;
	struct ffpf_mbuf_hdr sum;
	struct ffpf_flow *flow;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s IFNAME\n", argv[0]);
		return 2;
	}
	flow = ffpf_flow_create(argv[1], &opts);
	if (!flow) {
		perror("ffpf_flow_create");
		return 1;
	}
	err = ffpf_flow_populate(flow, "match(icmp, icmp-type 8) -> count");
	if (!err)
		err = ffpf_flow_instantiate(flow);
	if (!err)
		err = ffpf_flow_activate(flow);
	if (err) {
		fprintf(stderr, "pc_count: %s\n", strerror(-err));
		ffpf_flow_close(flow);
		return 1;
	}
	cnt = ffpf_flow_filter_mbuf(flow, 1, NULL);
	signal(SIGINT, on_int);
	signal(SIGTERM, on_int);
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		usleep(20000);
	ffpf_flow_stats(flow, &st);
	ffpf_mbuf_sum(cnt->cpu, &sum);	/* straight from the mapped MBuf */
	printf("echo_requests=%llu bytes=%llu mbuf_packets=%llu mbuf_bytes=%llu\n",
	       (unsigned long long)st.packets, (unsigned long long)st.bytes,
	       (unsigned long long)sum.passed, (unsigned long long)sum.bytes);
	ffpf_flow_close(flow);
	return 0;
}
