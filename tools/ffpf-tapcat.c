// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ffpf-tapcat - packets to user space end to end, for tests, on the public
 * API only (<ffpf/ffpf.h>).
 *
 *   ffpf-tapcat IF NAME=SPEC [NAME=SPEC...] [--mode tap|copy]
 *               [--hook ingress|egress] [--snaplen N] [--ibuf [NAME=]N]
 *               [--stall NAME] [--duration S]
 *
 * Creates the flows on IF with .rx = FFPF_RX_TAP (default) or FFPF_RX_COPY,
 * activates them and reads every flow's packets with ffpf_flows_run()
 * until the duration is over or SIGINT/SIGTERM, then reads for another
 * 300 ms and prints one JSON object on stdout: per flow what it read and
 * its ffpf_rx_stats, the datapath's PBuf accounting, and checks made on
 * every packet (flow bit, metadata, timestamp, per-flow order, the same
 * seq and matched mask in every flow that got a packet). A --stall'ed
 * flow is never read: its IBuf fills up and drops, the others must not
 * notice. "tapcat: ready" goes to stderr once the flows are active.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>

#include <ffpf/ffpf.h>

struct cat_flow {
	const char *name;
	const char *spec;
	struct ffpf_flow *flow;
	__u32 ibuf;		/* 0: the default */
	bool stall;
	int slot;
	__u64 packets, bytes, captured;
	__u64 bad;		/* flow bit, lengths, metadata or headers wrong */
	__u64 ts_bad;		/* timestamp more than a minute away from now */
	__u64 order_bad;	/* seq not increasing within the flow */
	__u64 last_seq;
};

static struct cat_flow flows[FFPF_MAX_FLOWS];
static struct cat_flow *by_slot[FFPF_MAX_FLOWS];
static int nflows;

static struct {
	int ifindex;
	__u32 hook, snaplen;
} want;

static volatile sig_atomic_t stop;

/*
 * Per delivery number, the matched mask (+1) of its first reader: every
 * other flow that got the packet must see the same mask. The masks are
 * counted once per packet there too.
 */
#define SEQ_SPACE	(1U << 20)
static __u64 *seq_mask;
static __u64 seq_distinct, seq_mismatch, seq_unchecked;
#define NMASKS 64
static __u64 mask_val[NMASKS], mask_cnt[NMASKS];
static int nmasks;

static void note_mask(__u64 mask)
{
	int i;

	for (i = 0; i < nmasks && mask_val[i] != mask; i++)
		;
	if (i == nmasks && nmasks < NMASKS)
		mask_val[nmasks++] = mask;
	if (i < NMASKS)
		mask_cnt[i]++;
}

static void note_seq(__u64 seq, __u64 matched)
{
	if (seq >= SEQ_SPACE) {
		seq_unchecked++;
		return;
	}
	if (!seq_mask[seq]) {
		seq_mask[seq] = matched + 1;
		seq_distinct++;
		note_mask(matched);
	} else if (seq_mask[seq] != matched + 1) {
		seq_mismatch++;
	}
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

static __s64 now_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__s64)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Lengths and metadata agree with the options; IPv4/6 version byte right. */
static bool sane(const struct ffpf_packet *p)
{
	const unsigned char *pkt = p->data;
	__u32 cap = p->wire_len < want.snaplen ? p->wire_len : want.snaplen;
	__u16 et;

	if (!pkt || p->caplen != cap || p->caplen < 14 || (int)p->ifindex != want.ifindex ||
	    p->hook != want.hook ||
	    p->dir != (want.hook == FFPF_HOOK_EGRESS ? FFPF_DIR_EGRESS : FFPF_DIR_INGRESS))
		return false;
	et = (__u16)(pkt[12] << 8 | pkt[13]);
	if (et == 0x0800)
		return p->caplen >= 34 && (pkt[14] >> 4) == 4;
	if (et == 0x86dd)
		return p->caplen >= 54 && (pkt[14] >> 4) == 6;
	return true;
}

static int on_packet(struct ffpf_flow *f, const struct ffpf_packet *p, void *ctx)
{
	struct cat_flow *cf = by_slot[ffpf_flow_slot(f)];
	__s64 age = now_real_ns() - (__s64)p->ts_ns;

	(void)ctx;
	if (!(p->matched & (1ULL << cf->slot)) || !sane(p))
		cf->bad++;
	if (age < -60000000000LL || age > 60000000000LL)
		cf->ts_bad++;
	if (cf->packets && p->seq <= cf->last_seq)
		cf->order_bad++;
	cf->last_seq = p->seq;
	note_seq(p->seq, p->matched);
	cf->packets++;
	cf->bytes += p->wire_len;
	cf->captured += p->caplen;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: ffpf-tapcat IF NAME=SPEC [NAME=SPEC...] [--mode tap|copy]\n"
		"                   [--hook ingress|egress] [--snaplen N] [--ibuf [NAME=]N]\n"
		"                   [--stall NAME] [--duration S]\n");
	return 2;
}

static struct cat_flow *find_flow(const char *name)
{
	for (int i = 0; i < nflows; i++)
		if (!strcmp(flows[i].name, name))
			return &flows[i];
	fprintf(stderr, "tapcat: no flow named %s\n", name);
	return NULL;
}

#define U(x) ((unsigned long long)(x))

static void print_flow(const struct cat_flow *cf, bool last)
{
	FFPF_OPTS(ffpf_rx_stats, rs);
	FFPF_OPTS(ffpf_flow_stats, fs);

	ffpf_flow_rx_stats(cf->flow, &rs);
	ffpf_flow_stats(cf->flow, &fs);
	printf("    {\"name\": \"%s\", \"index\": %d, \"stalled\": %s, \"packets\": %llu, "
	       "\"bytes\": %llu, \"captured\": %llu, \"bad\": %llu, \"ts_bad\": %llu, "
	       "\"order_bad\": %llu, \"kernel_packets\": %llu, \"received\": %llu, "
	       "\"dropped\": %llu, \"released\": %llu, \"queued\": %u, \"capacity\": %u}%s\n",
	       cf->name, cf->slot, cf->stall ? "true" : "false", U(cf->packets), U(cf->bytes),
	       U(cf->captured), U(cf->bad), U(cf->ts_bad), U(cf->order_bad), U(fs.packets),
	       U(rs.received), U(rs.dropped), U(rs.released), rs.queued, rs.capacity,
	       last ? "" : ",");
}

static void print_json(const char *ifname, const char *mode)
{
	FFPF_OPTS(ffpf_rx_stats, rs);
	FFPF_OPTS(ffpf_iface_stats, is);

	ffpf_flow_rx_stats(flows[0].flow, &rs);
	ffpf_flow_iface_stats(flows[0].flow, &is);
	printf("{\n  \"ifname\": \"%s\",\n  \"mode\": \"%s\",\n  \"hook\": \"%s\",\n"
	       "  \"flows\": [\n", ifname, mode,
	       want.hook == FFPF_HOOK_EGRESS ? "egress" : "ingress");
	for (int i = 0; i < nflows; i++)
		print_flow(&flows[i], i + 1 == nflows);
	printf("  ],\n");
	printf("  \"rx\": {\"mode\": %u, \"snaplen\": %u, \"records\": %llu, \"lost\": %llu, "
	       "\"no_frame\": %llu, \"xsk_rx_dropped\": %llu, \"xsk_rx_ring_full\": %llu, "
	       "\"xsk_fill_ring_empty\": %llu, \"xsk_rx_invalid\": %llu},\n",
	       rs.mode, rs.snaplen, U(rs.records), U(rs.lost), U(rs.no_frame),
	       U(rs.xsk_rx_dropped), U(rs.xsk_rx_ring_full), U(rs.xsk_fill_ring_empty),
	       U(rs.xsk_rx_invalid));
	printf("  \"pbuf\": {\"nframes\": %llu, \"stored\": %llu, \"descs\": %llu, "
	       "\"in_use\": %llu, \"high_water\": %llu},\n",
	       U(rs.frames), U(rs.stored), U(rs.descs), U(rs.frames_in_use),
	       U(rs.frames_high_water));
	printf("  \"seq\": {\"distinct\": %llu, \"mismatch\": %llu, \"unchecked\": %llu},\n",
	       U(seq_distinct), U(seq_mismatch), U(seq_unchecked));
	printf("  \"masks\": {");
	for (int i = 0; i < nmasks; i++)
		printf("%s\"0x%llx\": %llu", i ? ", " : "", U(mask_val[i]), U(mask_cnt[i]));
	printf("},\n");
	printf("  \"root\": {\"rx_packets\": %llu, \"matched\": %llu, \"tap_redirected\": %llu, "
	       "\"tap_no_socket\": %llu, \"tap_meta_fail\": %llu, \"copied\": %llu, "
	       "\"copy_lost\": %llu}\n}\n",
	       U(is.rx_packets), U(is.matched), U(is.tap_redirected), U(is.tap_no_socket),
	       U(is.tap_meta_fail), U(is.copied), U(is.copy_lost));
	fflush(stdout);
}

static int parse_args(int argc, char **argv, const char **ifname, const char **mode,
		      double *duration)
{
	const char *stall[FFPF_MAX_FLOWS], *ibuf[FFPF_MAX_FLOWS];
	int nstall = 0, nibuf = 0;
	__u32 ibuf_all = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strncmp(a, "--", 2) && !v)
			return usage();
		if (!strcmp(a, "--duration")) {
			*duration = atof(v);
		} else if (!strcmp(a, "--mode")) {
			*mode = v;
		} else if (!strcmp(a, "--hook")) {
			if (!strcmp(v, "ingress"))
				want.hook = FFPF_HOOK_INGRESS;
			else if (!strcmp(v, "egress"))
				want.hook = FFPF_HOOK_EGRESS;
			else
				return usage();
		} else if (!strcmp(a, "--snaplen")) {
			want.snaplen = strtoul(v, NULL, 0);
		} else if (!strcmp(a, "--ibuf")) {
			if (strchr(v, '=') && nibuf < FFPF_MAX_FLOWS)
				ibuf[nibuf++] = v;
			else
				ibuf_all = strtoul(v, NULL, 0);
		} else if (!strcmp(a, "--stall")) {
			if (nstall < FFPF_MAX_FLOWS)
				stall[nstall++] = v;
		} else if (!strncmp(a, "--", 2)) {
			return usage();
		} else if (!*ifname) {
			*ifname = a;
			continue;
		} else {
			char *eq = strchr(argv[i], '=');

			if (!eq || eq == argv[i] || nflows >= FFPF_MAX_FLOWS)
				return usage();
			*eq = '\0';
			flows[nflows].name = argv[i];
			flows[nflows].spec = eq + 1;
			flows[nflows].ibuf = ibuf_all;
			nflows++;
			continue;
		}
		i++;
	}
	if (!*ifname || !nflows || (strcmp(*mode, "tap") && strcmp(*mode, "copy")))
		return usage();
	for (int i = 0; i < nflows; i++)
		if (!flows[i].ibuf)
			flows[i].ibuf = ibuf_all;
	for (int i = 0; i < nibuf; i++) {
		char name[FFPF_NAME_LEN];
		const char *eq = strchr(ibuf[i], '=');
		struct cat_flow *cf;

		snprintf(name, sizeof(name), "%.*s", (int)(eq - ibuf[i]), ibuf[i]);
		cf = find_flow(name);
		if (!cf)
			return 2;
		cf->ibuf = strtoul(eq + 1, NULL, 0);
	}
	for (int i = 0; i < nstall; i++) {
		struct cat_flow *cf = find_flow(stall[i]);

		if (!cf)
			return 2;
		cf->stall = true;
	}
	return 0;
}

static int open_flow(struct cat_flow *cf, const char *ifname, __u32 rx)
{
	FFPF_OPTS(ffpf_flow_opts, fo, .name = cf->name, .hook = want.hook, .rx = rx,
		  .snaplen = want.snaplen, .ibuf_size = cf->ibuf);
	int err;

	cf->flow = ffpf_flow_create(ifname, &fo);
	if (!cf->flow) {
		fprintf(stderr, "tapcat: flow %s on %s: %s\n", cf->name, ifname, strerror(errno));
		return -errno;
	}
	err = ffpf_flow_populate(cf->flow, cf->spec);
	if (!err)
		err = ffpf_flow_instantiate(cf->flow);
	if (!err)
		err = ffpf_flow_activate(cf->flow);
	if (err) {
		fprintf(stderr, "tapcat: flow %s (%s): %s\n", cf->name, cf->spec, strerror(-err));
		return err;
	}
	cf->slot = ffpf_flow_slot(cf->flow);
	by_slot[cf->slot] = cf;
	return 0;
}

int main(int argc, char **argv)
{
	struct ffpf_flow *readers[FFPF_MAX_FLOWS];
	const char *ifname = NULL, *mode = "tap";
	struct sigaction sa = { .sa_handler = on_sig };
	double duration = 10, end;
	int nreaders = 0, err, ret = 1;

	err = parse_args(argc, argv, &ifname, &mode, &duration);
	if (err)
		return err;
	want.ifindex = if_nametoindex(ifname);
	if (!want.snaplen)
		want.snaplen = FFPF_SNAPLEN_DEFAULT;
	seq_mask = calloc(SEQ_SPACE, sizeof(*seq_mask));
	if (!seq_mask)
		return 1;
	/* No SA_RESTART: the signal must cut ffpf_flows_run()'s poll() short. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	for (int i = 0; i < nflows; i++) {
		if (open_flow(&flows[i], ifname,
			      strcmp(mode, "copy") ? FFPF_RX_TAP : FFPF_RX_COPY))
			goto out;
		if (!flows[i].stall)
			readers[nreaders++] = flows[i].flow;
	}
	fprintf(stderr, "tapcat: ready\n");

	end = now_s() + duration;
	while (!stop && now_s() < end) {
		if (!nreaders) {
			struct timespec t = { 0, 100000000 };

			nanosleep(&t, NULL);
			continue;
		}
		err = ffpf_flows_run(readers, nreaders, on_packet, NULL, 100);
		if (err && err != -EINTR) {
			fprintf(stderr, "tapcat: reading: %s\n", strerror(-err));
			goto out;
		}
	}
	/* What is still on its way up (copy mode: records sent without a wakeup). */
	if (nreaders) {
		err = ffpf_flows_run(readers, nreaders, on_packet, NULL, 300);
		if (err && err != -EINTR) {
			fprintf(stderr, "tapcat: reading: %s\n", strerror(-err));
			goto out;
		}
	}
	print_json(ifname, mode);
	ret = 0;
out:
	for (int i = 0; i < nflows; i++)
		ffpf_flow_close(flows[i].flow);
	free(seq_mask);
	return ret;
}
