/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * pktutil.h - what the traffic generators in tools/ (ffpf-gen,
 * ffpf-synflood) share: big-endian stores, the Internet checksum, pacing
 * and option parsing. Header-only.
 */
#ifndef FFPF_TOOLS_PKTUTIL_H
#define FFPF_TOOLS_PKTUTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <linux/types.h>

static inline void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* One's complement sum of @len bytes as big-endian 16-bit words (an odd
 * last byte padded with zero). */
static inline __u32 csum_add(__u32 sum, const __u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	return sum;
}

static inline __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void sleep_until(double t)
{
	double d = t - now_s();
	struct timespec ts;

	if (d <= 0)
		return;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/* "aa:bb:cc:dd:ee:ff" into @mac; -1 if malformed. */
static inline int parse_mac(const char *s, __u8 *mac)
{
	unsigned b[6];
	char extra;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &extra) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -1;
		mac[i] = (__u8)b[i];
	}
	return 0;
}

/* A number in [@min, @max] (decimal, or 0x hex); -1 otherwise. */
static inline int parse_uint(const char *s, unsigned long long min, unsigned long long max,
			     unsigned long long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || *end || *out < min || *out > max ? -1 : 0;
}

/*
 * The ifindex of @ifname, which must be a veth: a generator floods, so it
 * never sends into the loopback or a NIC. @ifr is left naming the device
 * (for the caller's next ioctls on @fd, an AF_INET socket). -1 with a
 * message from @tool otherwise.
 */
static inline int veth_ifindex(int fd, const char *tool, const char *ifname, struct ifreq *ifr)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	int ifindex;

	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFINDEX, ifr)) {
		fprintf(stderr, "%s: %s: %s\n", tool, ifname, strerror(errno));
		return -1;
	}
	ifindex = ifr->ifr_ifindex;
	ifr->ifr_data = (void *)&di;
	if (ioctl(fd, SIOCETHTOOL, ifr) || strcmp(di.driver, "veth")) {
		fprintf(stderr, "%s: %s is not a veth (driver '%s'): refusing to flood it\n",
			tool, ifname, di.driver);
		return -1;
	}
	return ifindex;
}

#endif /* FFPF_TOOLS_PKTUTIL_H */
