// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ffpf-capdemo - drive the capture writer (user/lib/capwrite.c), for tests.
 *
 *   ffpf-capdemo -w FILE [--pcapng] [-n N] [-s SNAPLEN] [-i IFNAME]
 *                [-x HEXFILE] [-c COMMENTFILE]
 *
 * Writes N (default 10) synthetic Ethernet/IPv4/UDP frames of varying
 * length, 1700000000.123456789 s + i * 1.000001 ms apart, as pcap (ns) or
 * pcapng. Frame i carries the comment "flows: web,dns" (i % 3 == 0),
 * "flows: dns" (i % 3 == 1) or none. HEXFILE gets the bytes each record
 * should hold (cut to SNAPLEN), one frame a line in lowercase hex;
 * COMMENTFILE gets each frame's comment, one a line (empty: none).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capwrite.h"

#define TS0	1700000000123456789ULL

static __u32 build_frame(unsigned char *p, int i)
{
	__u32 paylen = (__u32)(i * 37 % 200), iplen = 20 + 8 + paylen, sum = 0;
	unsigned char *ip = p + 14, *udp = ip + 20;

	memcpy(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	memset(ip, 0, 20);
	ip[0] = 0x45; ip[2] = iplen >> 8; ip[3] = iplen & 0xff;
	ip[4] = i >> 8; ip[5] = i & 0xff; ip[8] = 64; ip[9] = 17;
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	for (int k = 0; k < 20; k += 2)
		sum += ip[k] << 8 | ip[k + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (~sum >> 8) & 0xff; ip[11] = ~sum & 0xff;
	udp[0] = (40000 + i) >> 8; udp[1] = (40000 + i) & 0xff;
	udp[2] = 0; udp[3] = i % 2 ? 53 : 80;
	udp[4] = (8 + paylen) >> 8; udp[5] = (8 + paylen) & 0xff;
	udp[6] = udp[7] = 0;		/* no UDP checksum */
	for (__u32 k = 0; k < paylen; k++)
		udp[8 + k] = (unsigned char)(i * 7 + k);
	return 14 + iplen;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ffpf-capdemo -w FILE [--pcapng] [-n N] [-s SNAPLEN] [-i IFNAME]\n"
		   "                    [-x HEXFILE] [-c COMMENTFILE]\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "pcapng", no_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ffpf_capw_opts o = { .sz = sizeof(o), .format = FFPF_CAPW_PCAP };
	const char *out = NULL, *hexpath = NULL, *compath = NULL;
	FILE *hexf = NULL, *comf = NULL;
	unsigned char frame[256];
	struct ffpf_capw *w;
	long n = 10;
	int c, err;

	while ((c = getopt_long(argc, argv, "w:n:s:i:x:c:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'w': out = optarg; break;
		case 'g': o.format = FFPF_CAPW_PCAPNG; break;
		case 'n': n = strtol(optarg, NULL, 0); break;
		case 's': o.snaplen = (__u32)strtoul(optarg, NULL, 0); break;
		case 'i': o.ifname = optarg; break;
		case 'x': hexpath = optarg; break;
		case 'c': compath = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!out || n < 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	if ((hexpath && !(hexf = fopen(hexpath, "w"))) ||
	    (compath && !(comf = fopen(compath, "w")))) {
		perror("capdemo");
		return 1;
	}
	w = ffpf_capw_open(out, &o);
	if (!w) {
		fprintf(stderr, "capdemo: %s: %s\n", out, strerror(errno));
		return 1;
	}
	for (long i = 0; i < n; i++) {
		static const char *const comments[] = { "flows: web,dns", "flows: dns", NULL };
		const char *comment = comments[i % 3];
		__u32 len = build_frame(frame, (int)i);
		__u32 snap = o.snaplen ? o.snaplen : FFPF_CAPW_SNAPLEN_DEFAULT;

		err = ffpf_capw_write(w, frame, len, len, TS0 + (__u64)i * 1000001ULL, comment);
		if (err) {
			fprintf(stderr, "capdemo: write: %s\n", strerror(-err));
			ffpf_capw_close(w);
			return 1;
		}
		if (hexf) {
			for (__u32 k = 0; k < len && k < snap; k++)
				fprintf(hexf, "%02x", frame[k]);
			fputc('\n', hexf);
		}
		if (comf)
			fprintf(comf, "%s\n", comment ? comment : "");
	}
	printf("capdemo: %llu packets written to %s\n",
	       (unsigned long long)ffpf_capw_count(w), out);
	err = ffpf_capw_close(w);
	if (err) {
		fprintf(stderr, "capdemo: close: %s\n", strerror(-err));
		return 1;
	}
	if ((hexf && fclose(hexf)) || (comf && fclose(comf))) {
		perror("capdemo");
		return 1;
	}
	return 0;
}
