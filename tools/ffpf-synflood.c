// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ffpf-synflood - send COUNT TCP SYNs, each of its own 5-tuple, out of an
 * interface, for the flow-tracking tests (tests/integration/test_synflood.sh).
 *
 *   ffpf-synflood -i IF -n COUNT --dst-mac MAC --dst-ip IPV4
 *                 [--src-ip IPV4] [--src-count N] [--sport-base P]
 *                 [--dport-base P] [--rate PPS] [--batch N]
 *
 * Frames are Ethernet + IPv4 + TCP (SYN, MSS option), checksums computed,
 * written with sendmmsg() on an AF_PACKET socket with PACKET_QDISC_BYPASS:
 * straight to the driver, no qdisc. Packet i has source port
 * sport-base + i % (65536 - sport-base), then the next source address (of
 * src-count consecutive ones from src-ip), then the next destination
 * port: COUNT distinct 5-tuples, or an error if there are not that many.
 *
 * A frame the driver refuses (ENOBUFS: e.g. a veth whose peer ring is
 * full) never left; it is sent again after a short pause, so the count
 * printed is exact: "sent N" on stdout; time, rate and retries on stderr.
 * It floods, so it refuses any interface but a veth (such as the pair the
 * tests create between two namespaces): never the loopback or a NIC.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pktutil.h"

#define SF_FRAME	58	/* 14 Ethernet + 20 IPv4 + 24 TCP (MSS option) */
#define SF_BATCH_MAX	1024

struct sf_opts {
	const char *ifname;
	unsigned long long count;
	uint8_t dst_mac[6];
	struct in_addr dst_ip, src_ip;
	bool have_mac, have_dst, have_src;
	unsigned src_count;
	unsigned sport_base, dport_base;
	double rate;
	unsigned batch;
};

static const char usage[] =
"Usage: ffpf-synflood -i IF -n COUNT --dst-mac MAC --dst-ip IPV4 [--src-ip IPV4]\n"
"                     [--src-count N] [--sport-base P] [--dport-base P]\n"
"                     [--rate PPS] [--batch N]\n"
"Send COUNT TCP SYNs with distinct 5-tuples out of IF, a veth (AF_PACKET, qdisc bypass).\n"
"  --src-ip      first source address (default: IF's IPv4 address)\n"
"  --src-count   consecutive source addresses to use (default 1)\n"
"  --sport-base  lowest source port (default 1024; ports run up to 65535)\n"
"  --dport-base  first destination port (default 1)\n"
"  --rate        packets per second (default: as fast as the driver takes them)\n"
"  --batch       frames per sendmmsg() (default 64, at most 1024)\n";

/* The fields every frame shares. */
static void frame_template(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src_mac,
			   struct in_addr dst)
{
	uint8_t *ip = f + 14, *tcp = ip + 20;

	memset(f, 0, SF_FRAME);
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	put16(f + 12, ETHERTYPE_IP);
	ip[0] = 0x45;
	put16(ip + 2, 20 + 24);
	put16(ip + 6, 0x4000);		/* DF */
	ip[8] = 64;			/* TTL */
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 16, &dst, 4);
	tcp[12] = 6 << 4;		/* data offset: 24 bytes */
	tcp[13] = 0x02;			/* SYN */
	put16(tcp + 14, 64240);		/* window */
	tcp[20] = 2;			/* MSS option, 4 bytes, 1460 */
	tcp[21] = 4;
	put16(tcp + 22, 1460);
}

/* Fill in packet @i's 5-tuple, sequence number and both checksums. */
static void frame_fill(uint8_t *f, const struct sf_opts *o, unsigned long long i)
{
	unsigned nsport = 65536 - o->sport_base;
	uint8_t *ip = f + 14, *tcp = ip + 20;
	uint32_t src = ntohl(o->src_ip.s_addr), sum;

	src += (uint32_t)(i / nsport % o->src_count);
	put16(ip + 4, (uint16_t)i);	/* IP id */
	put16(ip + 10, 0);
	put32(ip + 12, src);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));

	put16(tcp, (uint16_t)(o->sport_base + i % nsport));
	put16(tcp + 2, (uint16_t)(o->dport_base + i / nsport / o->src_count));
	put32(tcp + 4, (uint32_t)(i * 2654435761u));	/* spread the ISNs */
	put16(tcp + 16, 0);
	/* pseudo header: addresses, protocol, TCP length */
	sum = csum_add(0, ip + 12, 8) + IPPROTO_TCP + 24;
	put16(tcp + 16, csum_fold(csum_add(sum, tcp, 24)));
}

static int parse_args(int argc, char **argv, struct sf_opts *o)
{
	enum { O_DMAC = 256, O_DIP, O_SIP, O_SCOUNT, O_SPORT, O_DPORT, O_RATE, O_BATCH };
	static const struct option lopts[] = {
		{ "interface",  required_argument, NULL, 'i' },
		{ "count",      required_argument, NULL, 'n' },
		{ "dst-mac",    required_argument, NULL, O_DMAC },
		{ "dst-ip",     required_argument, NULL, O_DIP },
		{ "src-ip",     required_argument, NULL, O_SIP },
		{ "src-count",  required_argument, NULL, O_SCOUNT },
		{ "sport-base", required_argument, NULL, O_SPORT },
		{ "dport-base", required_argument, NULL, O_DPORT },
		{ "rate",       required_argument, NULL, O_RATE },
		{ "batch",      required_argument, NULL, O_BATCH },
		{ "help",       no_argument,       NULL, 'h' },
		{}
	};
	unsigned long long v;
	char *end;
	int c;

	*o = (struct sf_opts){ .src_count = 1, .sport_base = 1024, .dport_base = 1,
			       .batch = 64 };
	while ((c = getopt_long(argc, argv, "i:n:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'n':
			if (parse_uint(optarg, 1, 1ULL << 40, &o->count))
				goto bad;
			break;
		case O_DMAC:
			if (parse_mac(optarg, o->dst_mac))
				goto bad;
			o->have_mac = true;
			break;
		case O_DIP:
			if (inet_pton(AF_INET, optarg, &o->dst_ip) != 1)
				goto bad;
			o->have_dst = true;
			break;
		case O_SIP:
			if (inet_pton(AF_INET, optarg, &o->src_ip) != 1)
				goto bad;
			o->have_src = true;
			break;
		case O_SCOUNT:
			if (parse_uint(optarg, 1, 1U << 24, &v))
				goto bad;
			o->src_count = v;
			break;
		case O_SPORT:
			if (parse_uint(optarg, 1, 65535, &v))
				goto bad;
			o->sport_base = v;
			break;
		case O_DPORT:
			if (parse_uint(optarg, 1, 65535, &v))
				goto bad;
			o->dport_base = v;
			break;
		case O_RATE:
			errno = 0;
			o->rate = strtod(optarg, &end);
			if (errno || *end || end == optarg || o->rate < 0)
				goto bad;
			break;
		case O_BATCH:
			if (parse_uint(optarg, 1, SF_BATCH_MAX, &v))
				goto bad;
			o->batch = v;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	if (optind < argc || !o->ifname || !o->count || !o->have_mac || !o->have_dst) {
		fprintf(stderr, "ffpf-synflood: -i, -n, --dst-mac and --dst-ip are required\n");
		fputs(usage, stderr);
		return -1;
	}
	/* distinct 5-tuples: the last packet's destination port must exist */
	v = (o->count - 1) / (65536ULL - o->sport_base) / o->src_count;
	if (o->dport_base + v > 65535) {
		fprintf(stderr, "ffpf-synflood: %llu distinct 5-tuples do not fit: raise "
			"--src-count or lower --sport-base/--dport-base\n", o->count);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "ffpf-synflood: bad value '%s'\n", optarg);
	fputs(usage, stderr);
	return -1;
}

/* Interface index, MAC and (if not given) IPv4 address of o->ifname. */
static int iface_info(int fd, struct sf_opts *o, int *ifindex, uint8_t *mac)
{
	struct ifreq ifr;

	*ifindex = veth_ifindex(fd, "ffpf-synflood", o->ifname, &ifr);
	if (*ifindex < 0)
		return -1;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		fprintf(stderr, "ffpf-synflood: %s: no MAC address: %s\n", o->ifname,
			strerror(errno));
		return -1;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (o->have_src)
		return 0;
	if (ioctl(fd, SIOCGIFADDR, &ifr)) {
		fprintf(stderr, "ffpf-synflood: %s: no IPv4 address, give --src-ip: %s\n",
			o->ifname, strerror(errno));
		return -1;
	}
	o->src_ip = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t frames[SF_BATCH_MAX][SF_FRAME];
	static struct mmsghdr msgs[SF_BATCH_MAX];
	static struct iovec iovs[SF_BATCH_MAX];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	unsigned long long sent = 0, retries = 0;
	uint8_t tmpl[SF_FRAME], src_mac[6];
	int fd, ifindex, one = 1;
	struct sf_opts o;
	double start, t;

	if (parse_args(argc, argv, &o))
		return 2;
	/* protocol 0: this socket sends only, it receives nothing */
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("ffpf-synflood: socket(AF_PACKET) (root needed)");
		return 1;
	}
	if (iface_info(fd, &o, &ifindex, src_mac))
		return 1;
	sll.sll_ifindex = ifindex;
	sll.sll_protocol = htons(ETH_P_IP);
	if (bind(fd, (struct sockaddr *)&(struct sockaddr_ll){ .sll_family = AF_PACKET,
							      .sll_ifindex = ifindex },
		 sizeof(struct sockaddr_ll))) {
		perror("ffpf-synflood: bind");
		return 1;
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		perror("ffpf-synflood: PACKET_QDISC_BYPASS (going through the qdisc)");

	frame_template(tmpl, o.dst_mac, src_mac, o.dst_ip);
	for (unsigned k = 0; k < o.batch; k++) {
		memcpy(frames[k], tmpl, SF_FRAME);
		iovs[k] = (struct iovec){ .iov_base = frames[k], .iov_len = SF_FRAME };
		msgs[k].msg_hdr = (struct msghdr){ .msg_name = &sll, .msg_namelen = sizeof(sll),
						   .msg_iov = &iovs[k], .msg_iovlen = 1 };
	}

	start = now_s();
	while (sent < o.count) {
		unsigned n = o.count - sent < o.batch ? (unsigned)(o.count - sent) : o.batch;
		unsigned done = 0;

		for (unsigned k = 0; k < n; k++)
			frame_fill(frames[k], &o, sent + k);
		if (o.rate > 0)
			sleep_until(start + sent / o.rate);
		while (done < n) {
			int r = sendmmsg(fd, msgs + done, n - done, 0);

			if (r > 0) {
				done += r;
				continue;
			}
			if (r < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "ffpf-synflood: sendmmsg: %s (after %llu sent)\n",
					strerror(errno), sent + done);
				printf("sent %llu\n", sent + done);
				return 1;
			}
			/* the driver refused this frame: it never left; again shortly */
			retries++;
			usleep(50);
		}
		sent += n;
	}
	t = now_s() - start;
	printf("sent %llu\n", sent);
	fprintf(stderr, "ffpf-synflood: %llu SYNs on %s in %.2f s (%.0f/s), %llu retries\n",
		sent, o.ifname, t, t > 0 ? sent / t : 0.0, retries);
	close(fd);
	return 0;
}
