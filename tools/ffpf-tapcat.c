// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ffpf-tapcat - tap mode end to end, for tests.
 *
 *   ffpf-tapcat IF NAME=SPEC [NAME=SPEC...] [--duration S] [--ibuf N]
 *
 * Creates and activates the flows on IF, opens tap mode (AF_XDP, the UMEM
 * is the PBuf), gives each flow an IBuf, polls until the duration is over
 * or SIGINT/SIGTERM, consumes every IBuf (peek, check the packet, release)
 * and prints one JSON object on stdout. "tapcat: ready" goes to stderr once
 * packets can be received.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <ffpf/ffpf.h>
#include "internal.h"
#include "pbuf.h"
#include "tap.h"

struct cat_flow {
	const char *name;
	const char *spec;
	struct ffpf_flow *flow;
	struct ffpf_ibuf ib;
	int idx;
	__u64 packets, bytes, bad;
};

static volatile sig_atomic_t stop;

/* Each packet once (by the flow of its lowest matched bit): its mask, its offset. */
#define NMASKS 64
static __u64 mask_val[NMASKS], mask_cnt[NMASKS];
static int nmasks;
static __u64 off_min = ~0ULL, off_max;

static void note_packet(__u64 mask, __u64 off)
{
	int i;

	for (i = 0; i < nmasks && mask_val[i] != mask; i++)
		;
	if (i == nmasks && nmasks < NMASKS)
		mask_val[nmasks++] = mask;
	if (i < NMASKS)
		mask_cnt[i]++;
	if (off < off_min)
		off_min = off;
	if (off > off_max)
		off_max = off;
}

static void on_sig(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sane: Ethernet header, metadata agrees with the descriptor, IPv4/6 version ok. */
static bool sane(const unsigned char *pkt, const struct ffpf_ibuf_desc *d, int ifindex)
{
	__u16 et;

	if (!pkt || d->len < 14 || d->meta.wire_len != d->len ||
	    (int)d->meta.ifindex != ifindex || d->meta.dir != FFPF_DIR_INGRESS ||
	    !d->meta.ts_ns)
		return false;
	et = (__u16)(pkt[12] << 8 | pkt[13]);
	if (et == 0x0800)
		return d->len >= 34 && (pkt[14] >> 4) == 4;
	if (et == 0x86dd)
		return d->len >= 54 && (pkt[14] >> 4) == 6;
	return true;
}

static void drain(struct cat_flow *cf, struct ffpf_pbuf *pb, int ifindex)
{
	struct ffpf_ibuf_desc d;

	while (!ffpf_ibuf_peek(&cf->ib, &d)) {
		const unsigned char *pkt = ffpf_pbuf_data(pb, d.addr);

		if (!(d.meta.matched & (1ULL << cf->idx)) || !sane(pkt, &d, ifindex))
			cf->bad++;
		if (__builtin_ctzll(d.meta.matched | (1ULL << 63)) == cf->idx)
			note_packet(d.meta.matched, d.addr % pb->frame_size);
		cf->packets++;
		cf->bytes += d.len;
		ffpf_ibuf_release(&cf->ib, pb);
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: ffpf-tapcat IF NAME=SPEC [NAME=SPEC...] [--duration S] [--ibuf N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct cat_flow flows[FFPF_MAX_FLOWS] = {};
	struct ffpf_ibuf *ibufs[FFPF_MAX_FLOWS];
	struct ffpf_tap *tap = NULL;
	const char *ifname = NULL;
	double duration = 10, end;
	__u32 ibuf_cap = 4096;
	int nflows = 0, err, ret = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--duration") && i + 1 < argc) {
			duration = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--ibuf") && i + 1 < argc) {
			ibuf_cap = strtoul(argv[++i], NULL, 0);
		} else if (!ifname) {
			ifname = argv[i];
		} else {
			char *eq = strchr(argv[i], '=');

			if (!eq || eq == argv[i] || nflows >= FFPF_MAX_FLOWS)
				return usage();
			*eq = '\0';
			flows[nflows].name = argv[i];
			flows[nflows].spec = eq + 1;
			nflows++;
		}
	}
	if (!ifname || !nflows)
		return usage();

	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);

	for (int i = 0; i < nflows; i++) {
		struct cat_flow *cf = &flows[i];
		FFPF_OPTS(ffpf_flow_opts, fo, .name = cf->name);

		cf->flow = ffpf_flow_create(ifname, &fo);
		if (!cf->flow) {
			fprintf(stderr, "tapcat: flow %s on %s: %s\n", cf->name, ifname, strerror(errno));
			goto out;
		}
		err = ffpf_flow_populate(cf->flow, cf->spec);
		if (!err)
			err = ffpf_flow_instantiate(cf->flow);
		if (!err)
			err = ffpf_flow_activate(cf->flow);
		if (err) {
			fprintf(stderr, "tapcat: flow %s (%s): %s\n", cf->name, cf->spec, strerror(-err));
			goto out;
		}
		cf->idx = ffpf_flow_index(cf->flow);
		err = ffpf_ibuf_init(&cf->ib, ibuf_cap, cf->idx);
		if (err) {
			fprintf(stderr, "tapcat: IBuf for %s: %s\n", cf->name, strerror(-err));
			goto out;
		}
		ibufs[i] = &cf->ib;
	}

	err = ffpf_tap_open(flows[0].flow->iface, NULL, &tap);
	if (err) {
		fprintf(stderr, "tapcat: tap mode on %s: %s\n", ifname, strerror(-err));
		goto out;
	}
	fprintf(stderr, "tapcat: ready\n");

	int ifindex = flows[0].flow->iface->ifindex;
	struct ffpf_pbuf *pb = ffpf_tap_pbuf(tap);

	end = now_s() + duration;
	while (!stop && now_s() < end) {
		int r = ffpf_tap_poll(tap, 100, ibufs, nflows);

		if (r < 0 && r != -EINTR) {
			fprintf(stderr, "tapcat: poll: %s\n", strerror(-r));
			goto out;
		}
		for (int i = 0; i < nflows; i++)
			drain(&flows[i], pb, ifindex);
	}
	/* Whatever is still in the rings. */
	while (ffpf_tap_poll(tap, 0, ibufs, nflows) > 0)
		for (int i = 0; i < nflows; i++)
			drain(&flows[i], pb, ifindex);

	struct ffpf_tap_stats ts;
	struct ffpf_pbuf_stats ps;
	FFPF_OPTS(ffpf_iface_stats, is);

	ffpf_tap_stats(tap, &ts);
	ffpf_pbuf_get_stats(pb, &ps);
	ffpf_flow_iface_stats(flows[0].flow, &is);

	printf("{\n  \"ifname\": \"%s\",\n  \"flows\": [\n", ifname);
	for (int i = 0; i < nflows; i++) {
		struct cat_flow *cf = &flows[i];
		struct ffpf_ibuf_stats ibs;
		FFPF_OPTS(ffpf_flow_stats, fs);

		ffpf_ibuf_get_stats(&cf->ib, &ibs);
		ffpf_flow_stats(cf->flow, &fs);
		printf("    {\"name\": \"%s\", \"index\": %d, \"packets\": %llu, \"bytes\": %llu, "
		       "\"bad\": %llu, \"ibuf_pushed\": %llu, \"ibuf_dropped\": %llu, "
		       "\"kernel_packets\": %llu}%s\n",
		       cf->name, cf->idx, (unsigned long long)cf->packets,
		       (unsigned long long)cf->bytes, (unsigned long long)cf->bad,
		       (unsigned long long)ibs.pushed, (unsigned long long)ibs.dropped,
		       (unsigned long long)fs.packets, i + 1 < nflows ? "," : "");
	}
	printf("  ],\n");
	printf("  \"pbuf\": {\"nframes\": %llu, \"delivered\": %llu, \"stored\": %llu, "
	       "\"unclaimed\": %llu, \"descs\": %llu, \"alloc_fail\": %llu, \"high_water\": %llu},\n",
	       (unsigned long long)ps.nframes, (unsigned long long)ps.delivered,
	       (unsigned long long)ps.stored, (unsigned long long)ps.unclaimed,
	       (unsigned long long)ps.descs, (unsigned long long)ps.alloc_fail,
	       (unsigned long long)ps.high_water);
	printf("  \"masks\": {");
	for (int i = 0; i < nmasks; i++)
		printf("%s\"0x%llx\": %llu", i ? ", " : "", (unsigned long long)mask_val[i],
		       (unsigned long long)mask_cnt[i]);
	printf("},\n  \"addr_offset\": {\"min\": %llu, \"max\": %llu},\n",
	       nmasks ? (unsigned long long)off_min : 0ULL, (unsigned long long)off_max);
	printf("  \"tap\": {\"sockets\": %u, \"rx_packets\": %llu, \"rx_bytes\": %llu, "
	       "\"meta_bad\": %llu, \"deliver_err\": %llu, \"fill_frames\": %llu, \"on_free\": %llu},\n",
	       ts.nsockets, (unsigned long long)ts.rx_packets, (unsigned long long)ts.rx_bytes,
	       (unsigned long long)ts.meta_bad, (unsigned long long)ts.deliver_err,
	       (unsigned long long)ts.fill_frames, (unsigned long long)ts.on_free);
	printf("  \"xdp_statistics\": {\"rx_dropped\": %llu, \"rx_invalid_descs\": %llu, "
	       "\"tx_invalid_descs\": %llu, \"rx_ring_full\": %llu, "
	       "\"rx_fill_ring_empty_descs\": %llu, \"tx_ring_empty_descs\": %llu},\n",
	       (unsigned long long)ts.rx_dropped, (unsigned long long)ts.rx_invalid_descs,
	       (unsigned long long)ts.tx_invalid_descs, (unsigned long long)ts.rx_ring_full,
	       (unsigned long long)ts.rx_fill_ring_empty_descs,
	       (unsigned long long)ts.tx_ring_empty_descs);
	printf("  \"root\": {\"rx_packets\": %llu, \"matched\": %llu, \"tap_redirected\": %llu, "
	       "\"tap_no_socket\": %llu, \"tap_meta_fail\": %llu}\n}\n",
	       (unsigned long long)is.rx_packets, (unsigned long long)is.matched,
	       (unsigned long long)is.tap_redirected, (unsigned long long)is.tap_no_socket,
	       (unsigned long long)is.tap_meta_fail);
	fflush(stdout);
	ret = 0;
out:
	ffpf_tap_close(tap);
	for (int i = 0; i < nflows; i++) {
		ffpf_flow_close(flows[i].flow);
		ffpf_ibuf_destroy(&flows[i].ib);
	}
	return ret;
}
