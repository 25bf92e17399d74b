/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * privnet.h - what every in-kernel benchmark does first: move into a
 * private network namespace with `lo` up, so whatever it attaches dies with
 * it and no traffic can leave. Header-only, for the tools in tools/.
 */
#ifndef FFPF_TOOLS_PRIVNET_H
#define FFPF_TOOLS_PRIVNET_H

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static inline int ffpf_private_netns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, err = -1;

	if (unshare(CLONE_NEWNET)) {
		perror("unshare(CLONE_NEWNET) (run as root)");
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	if (!ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		err = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return err;
}

/* Run on @cpu only (measurements stay on one core). */
static inline void ffpf_run_on(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * A benchmark's start: [ROUNDS 1..32] [REPEAT] from the command line
 * (defaults 5 and 1000000), a private namespace, CPU 0. Returns 0, or
 * the exit status after a message.
 */
static inline int ffpf_bench_start(int argc, char **argv, int *rounds, int *repeat)
{
	*rounds = argc > 1 ? atoi(argv[1]) : 5;
	*repeat = argc > 2 ? atoi(argv[2]) : 1000000;
	if (*rounds < 1 || *rounds > 32 || *repeat < 1) {
		fprintf(stderr, "usage: %s [ROUNDS 1..32] [REPEAT]\n", argv[0]);
		return 2;
	}
	if (ffpf_private_netns())
		return 1;
	ffpf_run_on(0);
	return 0;
}

#endif /* FFPF_TOOLS_PRIVNET_H */
