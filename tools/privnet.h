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

#endif /* FFPF_TOOLS_PRIVNET_H */
