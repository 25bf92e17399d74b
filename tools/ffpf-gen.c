// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ffpf-gen - traffic generator for the tests and benchmarks: COUNT frames
 * of SIZE bytes, Ethernet + IPv4 + UDP or TCP (flag patterns, a mix), over
 * FLOWS distinct 5-tuples, out of a veth into its peer.
 *
 *   ffpf-gen -i IF -n COUNT [-s SIZE] [--flows N] [--proto udp|tcp|mix]
 *            [--tcp-flags LIST] [--src-mac MAC] [--dst-mac MAC]
 *            [--src-ip IPV4] [--dst-ip IPV4] [--sport P] [--dport P]
 *            [--mode live|packet] [--rate PPS] [--exact] [--json]
 *
 * live (default): BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES runs
 * gen.bpf.c on IF: it rewrites the frame into the next packet and returns
 * XDP_TX, so the kernel sends it out of IF into the peer's XDP ring, tens
 * of millions of frames a second without a syscall per packet. The peer
 * must take XDP frames: an XDP program attached, or GRO on.
 * packet: sendmmsg() on an AF_PACKET socket with PACKET_QDISC_BYPASS.
 *
 * Both modes build the same sequence (tools/gen/gen.h). The count printed
 * is what IF handed to its peer: in live mode the veth's own counters say
 * how many frames the peer's ring refused (it was full), and --exact sends
 * that many again until COUNT went through.
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
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "gen.h"
#include "pktutil.h"
#include "gen.skel.h"

#define PKT_BATCH	64
#define LIVE_CHUNK	(1u << 20)	/* repeat per test run call, unpaced */
#define LIVE_MAX_SIZE	3520		/* a page minus head- and tailroom */
#define MAX_SIZE	9014

enum gen_mode { MODE_LIVE, MODE_PACKET };
enum gen_proto { P_UDP, P_TCP, P_MIX };

struct gen_opts {
	const char *ifname;
	unsigned long long count;
	unsigned size;
	unsigned flows;
	enum gen_proto proto;
	__u8 tcp_flags[GEN_TMPL_MAX];
	unsigned nflags;
	__u8 src_mac[6], dst_mac[6];
	bool have_src_mac;
	struct in_addr src_ip, dst_ip;
	bool have_src_ip;
	unsigned sport, dport;
	enum gen_mode mode;
	double rate;
	bool exact, json;
};

static const char usage[] =
"Usage: ffpf-gen -i IF -n COUNT [options]\n"
"Send COUNT frames out of IF (a veth) into its peer.\n"
"  -i, --interface IF    the sending veth\n"
"  -n, --count N         frames to send\n"
"  -s, --size BYTES      frame length without FCS, as tcpdump shows it (60..9014, default 60)\n"
"      --flows N         distinct 5-tuples, cycled (default 1): source port, then source address\n"
"      --proto P         udp (default), tcp, or mix (UDP and each TCP pattern in turn)\n"
"      --tcp-flags LIST  TCP flag patterns cycled, comma separated: syn, synack, ack, fin,\n"
"                        finack, rst, pshack, or letters FSRPAUEC (e.g. S,SA,A; default syn)\n"
"      --src-mac MAC     default: IF's address\n"
"      --dst-mac MAC     default: ff:ff:ff:ff:ff:ff\n"
"      --src-ip IPV4     flow 0's source address (default: IF's, or 198.18.0.1)\n"
"      --dst-ip IPV4     default 198.19.0.1\n"
"      --src MAC|IPV4, --dst MAC|IPV4   the same, by the form of the address\n"
"      --sport P         flow 0's source port (default 1024; flows count up to 65535)\n"
"      --dport P         destination port (default 9)\n"
"  -m, --mode M          live (default: XDP live frames, the peer needs GRO on or an\n"
"                        XDP program) or packet (AF_PACKET sendmmsg)\n"
"      --rate PPS        pace to PPS frames a second (default: as fast as possible)\n"
"      --exact           live mode: send again what the peer's full ring refused\n"
"  -j, --json            print the result as JSON\n";

/* --- frames -------------------------------------------------------------- */

/*
 * The whole frame of flow 0 for one template: @l4 is IPPROTO_UDP or
 * IPPROTO_TCP (with @flags). Payload byte i of the frame is i & 0xff.
 */
static void build_frame(__u8 *f, const struct gen_opts *o, int l4, __u8 flags)
{
	unsigned len = o->size, iplen = len - 14, l4len = iplen - 20;
	__u8 *ip = f + 14, *th = ip + 20;
	__u32 sum;

	for (unsigned i = 0; i < len; i++)
		f[i] = i & 0xff;
	memcpy(f, o->dst_mac, 6);
	memcpy(f + 6, o->src_mac, 6);
	put16(f + 12, ETHERTYPE_IP);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, iplen);
	put16(ip + 6, 0x4000);		/* DF */
	ip[8] = 64;
	ip[9] = l4;
	memcpy(ip + 12, &o->src_ip, 4);
	memcpy(ip + 16, &o->dst_ip, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));

	if (l4 == IPPROTO_UDP) {
		memset(th, 0, 8);
		put16(th, o->sport);
		put16(th + 2, o->dport);
		put16(th + 4, l4len);
	} else {
		memset(th, 0, 20);
		put16(th, o->sport);
		put16(th + 2, o->dport);
		put32(th + 4, 0x10000000);		/* sequence */
		if (flags & 0x10)
			put32(th + 8, 0x20000000);	/* acknowledgment */
		th[12] = 5 << 4;
		th[13] = flags;
		put16(th + 14, 64240);
	}
	/* pseudo header, then the segment */
	sum = csum_add(0, ip + 12, 8) + l4 + l4len;
	sum = csum_fold(csum_add(sum, th, l4len));
	if (l4 == IPPROTO_UDP && !sum)
		sum = 0xffff;
	put16(th + (l4 == IPPROTO_UDP ? 6 : 16), sum);
}

static void add_tmpl(struct gen_cfg *c, const struct gen_opts *o, __u8 *scratch, int l4,
		     __u8 flags)
{
	struct gen_tmpl *t = &c->tmpl[c->ntmpl++];

	build_frame(scratch, o, l4, flags);
	memcpy(t->hdr, scratch, GEN_HDR);
	t->csum_off = l4 == IPPROTO_UDP ? 6 : 16;
	t->udp = l4 == IPPROTO_UDP;
}

/* Templates and flows; @first gets template 0's whole frame (the payload
 * every packet shares). */
static void build_cfg(struct gen_cfg *c, const struct gen_opts *o, __u8 *first)
{
	static __u8 scratch[MAX_SIZE];

	memset(c, 0, sizeof(*c));
	if (o->proto != P_TCP)
		add_tmpl(c, o, scratch, IPPROTO_UDP, 0);
	if (o->proto != P_UDP)
		for (unsigned i = 0; i < o->nflags; i++)
			add_tmpl(c, o, scratch, IPPROTO_TCP, o->tcp_flags[i]);
	build_frame(first, o, o->proto == P_TCP ? IPPROTO_TCP : IPPROTO_UDP,
		    o->proto == P_TCP ? o->tcp_flags[0] : 0);
	c->nflows = o->flows;
	c->sport_base = o->sport;
	c->nsport = 65536 - o->sport;
	c->saddr = ntohl(o->src_ip.s_addr);
}

/* --- options ------------------------------------------------------------- */

/* One TCP flag pattern: a name or letters. */
static int parse_flags(const char *s, __u8 *out)
{
	static const struct { const char *name; __u8 v; } names[] = {
		{ "syn", 0x02 }, { "synack", 0x12 }, { "ack", 0x10 }, { "fin", 0x01 },
		{ "finack", 0x11 }, { "rst", 0x04 }, { "pshack", 0x18 },
	};
	static const char letters[] = "FSRPAUEC";
	__u8 v = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i].name)) {
			*out = names[i].v;
			return 0;
		}
	if (!*s)
		return -1;
	for (; *s; s++) {
		const char *p = strchr(letters, *s);

		if (!p || !*s)
			return -1;
		v |= 1u << (p - letters);
	}
	*out = v;
	return 0;
}

static int parse_flag_list(const char *arg, struct gen_opts *o)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", arg);
	o->nflags = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->nflags >= GEN_TMPL_MAX - 1) {
			fprintf(stderr, "ffpf-gen: at most %d TCP flag patterns\n", GEN_TMPL_MAX - 1);
			return -1;
		}
		if (parse_flags(tok, &o->tcp_flags[o->nflags])) {
			fprintf(stderr, "ffpf-gen: bad TCP flag pattern '%s'\n", tok);
			return -1;
		}
		o->nflags++;
	}
	return o->nflags ? 0 : -1;
}

/* --src/--dst: a MAC has colons, an IPv4 address dots. */
static int parse_addr(const char *s, __u8 *mac, bool *have_mac, struct in_addr *ip,
		      bool *have_ip)
{
	if (strchr(s, ':')) {
		if (parse_mac(s, mac))
			return -1;
		if (have_mac)
			*have_mac = true;
		return 0;
	}
	if (inet_pton(AF_INET, s, ip) != 1)
		return -1;
	if (have_ip)
		*have_ip = true;
	return 0;
}

static int parse_args(int argc, char **argv, struct gen_opts *o)
{
	enum { O_FLOWS = 256, O_PROTO, O_FLAGS, O_SMAC, O_DMAC, O_SIP, O_DIP, O_SRC, O_DST,
	       O_SPORT, O_DPORT, O_RATE, O_EXACT };
	static const struct option lopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "count",     required_argument, NULL, 'n' },
		{ "size",      required_argument, NULL, 's' },
		{ "flows",     required_argument, NULL, O_FLOWS },
		{ "proto",     required_argument, NULL, O_PROTO },
		{ "tcp-flags", required_argument, NULL, O_FLAGS },
		{ "src-mac",   required_argument, NULL, O_SMAC },
		{ "dst-mac",   required_argument, NULL, O_DMAC },
		{ "src-ip",    required_argument, NULL, O_SIP },
		{ "dst-ip",    required_argument, NULL, O_DIP },
		{ "src",       required_argument, NULL, O_SRC },
		{ "dst",       required_argument, NULL, O_DST },
		{ "sport",     required_argument, NULL, O_SPORT },
		{ "dport",     required_argument, NULL, O_DPORT },
		{ "mode",      required_argument, NULL, 'm' },
		{ "rate",      required_argument, NULL, O_RATE },
		{ "exact",     no_argument,       NULL, O_EXACT },
		{ "json",      no_argument,       NULL, 'j' },
		{ "help",      no_argument,       NULL, 'h' },
		{}
	};
	unsigned long long v;
	char *end;
	int c;

	*o = (struct gen_opts){ .size = 60, .flows = 1, .proto = P_UDP, .sport = 1024,
				.dport = 9, .tcp_flags = { 0x02 }, .nflags = 1 };
	memset(o->dst_mac, 0xff, 6);
	inet_pton(AF_INET, "198.19.0.1", &o->dst_ip);
	while ((c = getopt_long(argc, argv, "i:n:s:m:jh", lopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'n':
			if (parse_uint(optarg, 1, 1ULL << 48, &o->count))
				goto bad;
			break;
		case 's':
			if (parse_uint(optarg, 60, MAX_SIZE, &v))
				goto bad;
			o->size = v;
			break;
		case O_FLOWS:
			if (parse_uint(optarg, 1, 1U << 24, &v))
				goto bad;
			o->flows = v;
			break;
		case O_PROTO:
			if (!strcmp(optarg, "udp"))
				o->proto = P_UDP;
			else if (!strcmp(optarg, "tcp"))
				o->proto = P_TCP;
			else if (!strcmp(optarg, "mix"))
				o->proto = P_MIX;
			else
				goto bad;
			break;
		case O_FLAGS:
			if (parse_flag_list(optarg, o))
				return -1;
			break;
		case O_SMAC:
			if (parse_mac(optarg, o->src_mac))
				goto bad;
			o->have_src_mac = true;
			break;
		case O_DMAC:
			if (parse_mac(optarg, o->dst_mac))
				goto bad;
			break;
		case O_SIP:
			if (inet_pton(AF_INET, optarg, &o->src_ip) != 1)
				goto bad;
			o->have_src_ip = true;
			break;
		case O_DIP:
			if (inet_pton(AF_INET, optarg, &o->dst_ip) != 1)
				goto bad;
			break;
		case O_SRC:
			if (parse_addr(optarg, o->src_mac, &o->have_src_mac, &o->src_ip,
				       &o->have_src_ip))
				goto bad;
			break;
		case O_DST:
			if (parse_addr(optarg, o->dst_mac, NULL, &o->dst_ip, NULL))
				goto bad;
			break;
		case O_SPORT:
			if (parse_uint(optarg, 1, 65535, &v))
				goto bad;
			o->sport = v;
			break;
		case O_DPORT:
			if (parse_uint(optarg, 1, 65535, &v))
				goto bad;
			o->dport = v;
			break;
		case 'm':
			if (!strcmp(optarg, "live"))
				o->mode = MODE_LIVE;
			else if (!strcmp(optarg, "packet"))
				o->mode = MODE_PACKET;
			else
				goto bad;
			break;
		case O_RATE:
			errno = 0;
			o->rate = strtod(optarg, &end);
			if (errno || *end || end == optarg || o->rate <= 0)
				goto bad;
			break;
		case O_EXACT:
			o->exact = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	if (optind < argc || !o->ifname || !o->count) {
		fprintf(stderr, "ffpf-gen: -i and -n are required\n");
		fputs(usage, stderr);
		return -1;
	}
	if (o->size < (o->proto == P_UDP ? 42u : 54u) || o->size < GEN_HDR) {
		fprintf(stderr, "ffpf-gen: a frame of %u bytes cannot hold the headers\n", o->size);
		return -1;
	}
	if (o->mode == MODE_LIVE && o->size > LIVE_MAX_SIZE) {
		fprintf(stderr, "ffpf-gen: live mode sends frames of at most %d bytes (one page); "
			"use --mode packet for %u\n", LIVE_MAX_SIZE, o->size);
		return -1;
	}
	if (o->flows > (65536ULL - o->sport) * 65536) {
		fprintf(stderr, "ffpf-gen: %u flows do not fit\n", o->flows);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "ffpf-gen: bad value '%s'\n", optarg);
	fputs(usage, stderr);
	return -1;
}

/* --- the interface --------------------------------------------------------- */

struct iface {
	int ifindex;
	unsigned mtu;
	int stats_fd;		/* for SIOCETHTOOL */
	unsigned nstats;
	int *xmit_idx, *err_idx;	/* tx_queue_N_xdp_xmit(_errors) */
	unsigned nq;
};

static int iface_open(struct gen_opts *o, struct iface *ifc)
{
	struct ifreq ifr;
	int fd;

	memset(ifc, 0, sizeof(*ifc));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("ffpf-gen: socket");
		return -1;
	}
	ifc->stats_fd = fd;
	ifc->ifindex = veth_ifindex(fd, "ffpf-gen", o->ifname, &ifr);
	if (ifc->ifindex < 0)
		return -1;
	if (!ioctl(fd, SIOCGIFMTU, &ifr))
		ifc->mtu = ifr.ifr_mtu;
	if (ifc->mtu && o->size > ifc->mtu + 14) {
		fprintf(stderr, "ffpf-gen: a frame of %u bytes is larger than %s's MTU %u + 14: "
			"the veth would drop it\n", o->size, o->ifname, ifc->mtu);
		return -1;
	}
	if (!o->have_src_mac) {
		if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
			fprintf(stderr, "ffpf-gen: %s: no MAC address: %s\n", o->ifname,
				strerror(errno));
			return -1;
		}
		memcpy(o->src_mac, ifr.ifr_hwaddr.sa_data, 6);
	}
	if (!o->have_src_ip) {
		if (!ioctl(fd, SIOCGIFADDR, &ifr))
			o->src_ip = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
		else
			inet_pton(AF_INET, "198.18.0.1", &o->src_ip);
	}
	return 0;
}

/* Find the veth's tx_queue_N_xdp_xmit and _errors counters (the peer's
 * receive ring, as the sender sees it). */
static int iface_stats_init(const struct gen_opts *o, struct iface *ifc)
{
	struct {
		struct ethtool_sset_info hdr;
		__u32 len;
	} si = { .hdr = { .cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_STATS } };
	struct ethtool_gstrings *gs;
	struct ifreq ifr;
	unsigned n;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->ifname);
	ifr.ifr_data = (void *)&si;
	if (ioctl(ifc->stats_fd, SIOCETHTOOL, &ifr) || !si.hdr.sset_mask)
		return -1;
	n = si.len;
	gs = calloc(1, sizeof(*gs) + (size_t)n * ETH_GSTRING_LEN);
	ifc->xmit_idx = calloc(n, sizeof(int));
	ifc->err_idx = calloc(n, sizeof(int));
	if (!gs || !ifc->xmit_idx || !ifc->err_idx)
		return -1;
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_STATS;
	gs->len = n;
	ifr.ifr_data = (void *)gs;
	if (ioctl(ifc->stats_fd, SIOCETHTOOL, &ifr)) {
		free(gs);
		return -1;
	}
	ifc->nstats = n;
	for (unsigned i = 0; i < n; i++) {
		char name[ETH_GSTRING_LEN + 1], *s = name;
		unsigned q;
		int len = 0;

		memcpy(name, gs->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		name[ETH_GSTRING_LEN] = 0;
		if (sscanf(s, "tx_queue_%u_xdp_xmit%n", &q, &len) != 1 || !len)
			continue;
		if (!s[len])
			ifc->xmit_idx[ifc->nq] = i, ifc->err_idx[ifc->nq] = -1, ifc->nq++;
		else if (!strcmp(s + len, "_errors") && ifc->nq)
			ifc->err_idx[ifc->nq - 1] = i;
	}
	free(gs);
	return ifc->nq ? 0 : -1;
}

/* Frames the peer's ring took (@ok) and refused (@err) so far. */
static int iface_xmit(struct iface *ifc, const char *ifname, __u64 *ok, __u64 *err)
{
	struct ethtool_stats *st;
	struct ifreq ifr;

	st = calloc(1, sizeof(*st) + ifc->nstats * sizeof(__u64));
	if (!st)
		return -1;
	st->cmd = ETHTOOL_GSTATS;
	st->n_stats = ifc->nstats;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)st;
	if (ioctl(ifc->stats_fd, SIOCETHTOOL, &ifr)) {
		free(st);
		return -1;
	}
	*ok = *err = 0;
	for (unsigned q = 0; q < ifc->nq; q++) {
		*ok += st->data[ifc->xmit_idx[q]];
		if (ifc->err_idx[q] >= 0)
			*err += st->data[ifc->err_idx[q]];
	}
	free(st);
	return 0;
}

/* --- sending ----------------------------------------------------------- */

struct result {
	__u64 sent;		/* taken by the peer */
	__u64 refused;		/* refused by the peer's full ring */
	__u64 lost;		/* live: neither (the peer took no XDP frames) */
	__u64 retries;		/* packet: ENOBUFS retries */
	double seconds;
};

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int send_live(const struct gen_opts *o, struct iface *ifc, const struct gen_cfg *cfg,
		     __u8 *frame, struct result *r)
{
	/* the kernel wants data_end == the frame's length */
	struct xdp_md ctx = { .data_end = o->size, .ingress_ifindex = ifc->ifindex };
	__u64 ok0, err0, ok, err, run = 0;
	struct gen_bpf *skel;
	double start;
	unsigned chunk = LIVE_CHUNK;
	int fd, ret = -1;

	if (iface_stats_init(o, ifc) || iface_xmit(ifc, o->ifname, &ok0, &err0)) {
		fprintf(stderr, "ffpf-gen: %s: cannot read the veth's XDP counters (ethtool -S)\n",
			o->ifname);
		return -1;
	}
	libbpf_set_print(libbpf_quiet);
	skel = gen_bpf__open();
	if (!skel) {
		fprintf(stderr, "ffpf-gen: opening the sender program: %s\n", strerror(errno));
		return -1;
	}
	skel->bss->cfg = *cfg;
	if (gen_bpf__load(skel)) {
		fprintf(stderr, "ffpf-gen: loading the sender program: %s (root needed)\n",
			strerror(errno));
		goto out;
	}
	fd = bpf_program__fd(skel->progs.gen_tx);
	start = now_s();
	ok = ok0;
	err = err0;
	/* without --exact: COUNT frames run; with it: until COUNT went through */
	while (o->exact ? ok - ok0 < o->count : run < o->count) {
		__u64 left = o->exact ? o->count - (ok - ok0) : o->count - run;
		unsigned n;

		if (o->rate > 0) {
			/* what is due by now: a call costs more than a frame's time
			 * at high rates, so catch up in the next call */
			double due;

			sleep_until(start + run / o->rate);
			due = (now_s() - start) * o->rate - run;
			chunk = due < 1 ? 1 : due > LIVE_CHUNK ? LIVE_CHUNK : (unsigned)due;
		}
		n = left < chunk ? (unsigned)left : chunk;
		LIBBPF_OPTS(bpf_test_run_opts, topts,
			.data_in = frame,
			.data_size_in = o->size,
			.ctx_in = &ctx,
			.ctx_size_in = sizeof(ctx),
			.repeat = n,
			.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		);
		__u64 ok1 = ok, err1 = err;

		if (bpf_prog_test_run_opts(fd, &topts)) {
			fprintf(stderr, "ffpf-gen: BPF_PROG_TEST_RUN (live frames) on %s: %s\n",
				o->ifname, strerror(errno));
			goto out;
		}
		run += n;
		if (iface_xmit(ifc, o->ifname, &ok, &err)) {
			fprintf(stderr, "ffpf-gen: reading %s's counters: %s\n", o->ifname,
				strerror(errno));
			goto out;
		}
		if (ok == ok1 && err == err1) {
			fprintf(stderr, "ffpf-gen: %s's peer took none of %u frames: it needs an XDP "
				"program attached or GRO on (ethtool -K PEER gro on), or use "
				"--mode packet\n", o->ifname, n);
			goto out;
		}
	}
	r->seconds = now_s() - start;
	r->sent = ok - ok0;
	r->refused = err - err0;
	r->lost = run - r->sent - r->refused;
	ret = 0;
out:
	gen_bpf__destroy(skel);
	return ret;
}

static int send_packet(const struct gen_opts *o, struct iface *ifc, const struct gen_cfg *cfg,
		       const __u8 *frame, struct result *r)
{
	static struct mmsghdr msgs[PKT_BATCH];
	static struct iovec iovs[PKT_BATCH];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = ifc->ifindex,
				   .sll_protocol = htons(ETH_P_IP) };
	struct gen_state st = {};
	__u8 *frames;
	double start;
	int fd, one = 1;

	frames = malloc((size_t)PKT_BATCH * o->size);
	if (!frames)
		return -1;
	/* protocol 0: this socket sends only */
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("ffpf-gen: socket(AF_PACKET) (root needed)");
		free(frames);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&(struct sockaddr_ll){ .sll_family = AF_PACKET,
							      .sll_ifindex = ifc->ifindex },
		 sizeof(struct sockaddr_ll))) {
		perror("ffpf-gen: bind");
		goto fail;
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		perror("ffpf-gen: PACKET_QDISC_BYPASS (going through the qdisc)");
	for (unsigned k = 0; k < PKT_BATCH; k++) {
		memcpy(frames + (size_t)k * o->size, frame, o->size);
		iovs[k] = (struct iovec){ .iov_base = frames + (size_t)k * o->size,
					  .iov_len = o->size };
		msgs[k].msg_hdr = (struct msghdr){ .msg_name = &sll, .msg_namelen = sizeof(sll),
						   .msg_iov = &iovs[k], .msg_iovlen = 1 };
	}
	start = now_s();
	while (r->sent < o->count) {
		unsigned n = o->count - r->sent < PKT_BATCH ? (unsigned)(o->count - r->sent)
							     : PKT_BATCH;
		unsigned done = 0;

		for (unsigned k = 0; k < n; k++)
			gen_fill(frames + (size_t)k * o->size, cfg, &st);
		if (o->rate > 0)
			sleep_until(start + r->sent / o->rate);
		while (done < n) {
			int ret = sendmmsg(fd, msgs + done, n - done, 0);

			if (ret > 0) {
				done += ret;
				continue;
			}
			if (ret < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "ffpf-gen: sendmmsg on %s: %s (after %llu sent)\n",
					o->ifname, strerror(errno),
					(unsigned long long)(r->sent + done));
				goto fail;
			}
			/* the driver refused the frame: it never left; again shortly */
			r->retries++;
			usleep(50);
		}
		r->sent += n;
	}
	r->seconds = now_s() - start;
	close(fd);
	free(frames);
	return 0;
fail:
	close(fd);
	free(frames);
	return -1;
}

static const char *proto_name(enum gen_proto p)
{
	return p == P_UDP ? "udp" : p == P_TCP ? "tcp" : "mix";
}

int main(int argc, char **argv)
{
	static __u8 frame[MAX_SIZE];
	static struct gen_cfg cfg;
	struct result r = {};
	struct gen_opts o;
	struct iface ifc;
	double pps;
	int err;

	if (parse_args(argc, argv, &o))
		return 2;
	if (iface_open(&o, &ifc))
		return 1;
	build_cfg(&cfg, &o, frame);
	err = o.mode == MODE_LIVE ? send_live(&o, &ifc, &cfg, frame, &r)
				  : send_packet(&o, &ifc, &cfg, frame, &r);
	if (err)
		return 1;
	pps = r.seconds > 0 ? r.sent / r.seconds : 0;
	if (o.json) {
		printf("{\"tool\":\"ffpf-gen\",\"mode\":\"%s\",\"interface\":\"%s\","
		       "\"size\":%u,\"flows\":%u,\"proto\":\"%s\",\"requested\":%llu,"
		       "\"sent\":%llu,\"refused\":%llu,\"lost\":%llu,\"retries\":%llu,"
		       "\"seconds\":%.6f,\"pps\":%.0f}\n",
		       o.mode == MODE_LIVE ? "live" : "packet", o.ifname, o.size, o.flows,
		       proto_name(o.proto), o.count, (unsigned long long)r.sent,
		       (unsigned long long)r.refused, (unsigned long long)r.lost,
		       (unsigned long long)r.retries, r.seconds, pps);
	} else {
		printf("sent %llu\n", (unsigned long long)r.sent);
		fprintf(stderr, "ffpf-gen: %llu frames of %u bytes (%s, %u flows) on %s in %.3f s: "
			"%.0f pps", (unsigned long long)r.sent, o.size, proto_name(o.proto), o.flows,
			o.ifname, r.seconds, pps);
		if (o.mode == MODE_LIVE)
			fprintf(stderr, "; %llu refused by the peer's full ring%s",
				(unsigned long long)r.refused, o.exact ? " (sent again)" : "");
		if (r.lost)
			fprintf(stderr, "; %llu lost", (unsigned long long)r.lost);
		if (r.retries)
			fprintf(stderr, "; %llu retries", (unsigned long long)r.retries);
		fputc('\n', stderr);
	}
	return 0;
}
