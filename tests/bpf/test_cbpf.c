// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_cbpf.c - the bpf("EXPR") translator (user/lib/cbpf*.c) against
 * libpcap itself: every expression of tests/corpus/cbpf-expressions.txt
 * is compiled by libpcap, translated, loaded as a standalone XDP program
 * and run (BPF_PROG_TEST_RUN) on every packet of the corpus: crafted
 * frames (valid, truncated at every length, malformed) and the traffic
 * captured in tests/corpus/cbpf-traffic.pcap. Its verdict must equal
 * bpf_filter()'s on the same bytes, for every pair.
 *
 * Frames shorter than an Ethernet header are not in the corpus: the kernel
 * refuses to test-run them, and no XDP program ever sees one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <bpf/bpf.h>
#include "cbpf.h"
#include "cbpf_compile.h"
#include "cbpf_ref.h"
#include "pkt.h"

#define EXPR_FILE	"tests/corpus/cbpf-expressions.txt"
#define PCAP_FILE	"tests/corpus/cbpf-traffic.pcap"
#define SNAPLEN		262144
#define MAX_PKTS	1024
#define XDP_MAX_FRAME	3000	/* what BPF_PROG_TEST_RUN takes for XDP, with room */

struct tpkt {
	uint8_t *b;
	size_t len;
	char desc[48];
};

static struct tpkt pkts[MAX_PKTS];
static int npkts, ncrafted;

static void add(const uint8_t *b, size_t len, const char *desc)
{
	if (npkts == MAX_PKTS || len < 14 || len > XDP_MAX_FRAME)
		return;
	pkts[npkts].b = malloc(len);
	cr_assert_not_null(pkts[npkts].b);
	memcpy(pkts[npkts].b, b, len);
	pkts[npkts].len = len;
	snprintf(pkts[npkts].desc, sizeof(pkts[npkts].desc), "%s", desc);
	npkts++;
}

static void addp(const struct pkt *p, const char *desc)
{
	add(p->b, p->len, desc);
}

/* Every prefix of @p from 14 bytes on: truncation at every layer. */
static void add_cuts(const struct pkt *p, const char *desc)
{
	char d[48];

	for (size_t n = 14; n < p->len; n++) {
		snprintf(d, sizeof(d), "%s cut %zu", desc, n);
		add(p->b, n, d);
	}
}

static void raw(struct pkt *p, const void *b, size_t n)
{
	memcpy(p->b + p->len, b, n);
	p->len += n;
}

static struct pkt v4(uint16_t eth, const char *src, const char *dst, uint8_t proto)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, eth);
	pkt_ipv4(&p, &(struct ip4){ .src = src, .dst = dst, .proto = proto });
	return p;
}

static struct pkt v6(const char *src, const char *dst, uint8_t next)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IPV6);
	pkt_ipv6(&p, &(struct ip6){ .src = src, .dst = dst, .next = next });
	return p;
}

static void crafted(void)
{
	static const uint8_t flags[] = { TH_SYN, TH_SYN | TH_ACK, TH_ACK, TH_RST, TH_FIN | TH_ACK,
					 TH_PSH | TH_ACK, TH_ECE | TH_CWR | TH_SYN, TH_URG };
	struct pkt p, opt, chain, qinq;
	char d[48];

	for (size_t i = 0; i < sizeof(flags); i++) {
		p = v4(PKT_ETH_IP, NULL, NULL, PKT_P_TCP);
		pkt_tcp(&p, 1234, 80, flags[i], 0);
		snprintf(d, sizeof(d), "v4 tcp flags 0x%02x", flags[i]);
		addp(&p, d);
	}
	p = pkt_tcp4_ab("192.0.2.1", "198.51.100.7", 443, 50000, TH_ACK, 100);
	addp(&p, "v4 tcp 443 payload");
	p = v4(PKT_ETH_IP, "10.0.0.2", "10.0.0.1", PKT_P_TCP);
	pkt_tcp(&p, 8080, 40000, TH_PSH | TH_ACK, 8);
	raw(&p, "GET / HTTP/1.1\r\n", 16);
	addp(&p, "v4 tcp GET doff 8");
	p = v4(PKT_ETH_IP, "10.0.0.1", "10.0.0.2", PKT_P_TCP);
	pkt_tcp(&p, 22, 1023, TH_ACK, 5);
	raw(&p, "HTTP/1.0 200 OK\r\n", 17);
	addp(&p, "v4 tcp HTTP reply");
	p = pkt_udp4(1234, 53, 20);
	addp(&p, "v4 udp 53");
	p = pkt_udp4(53, 1234, 0);
	addp(&p, "v4 udp from 53");
	p = pkt_udp4(1500, 2000, 1472);
	addp(&p, "v4 udp 1514 bytes");
	p = pkt_udp4_ab("10.199.1.1", "10.199.1.2", 5000, 5000, 64);
	addp(&p, "v4 udp 10.199");
	p = pkt_udp4_ab("10.0.0.1", "224.0.0.1", 123, 123, 48);
	addp(&p, "v4 udp multicast");
	p = pkt_udp4(0, 65535, 4);
	addp(&p, "v4 udp ports 0/65535");
	for (int t = 0; t < 3; t++) {
		static const uint8_t type[] = { 8, 0, 3 };

		p = v4(PKT_ETH_IP, NULL, NULL, PKT_P_ICMP);
		pkt_icmp(&p, type[t], t == 2 ? 3 : 0, 7);
		snprintf(d, sizeof(d), "v4 icmp type %u", type[t]);
		addp(&p, d);
	}
	p = v4(PKT_ETH_IP, NULL, NULL, 2);	/* IGMP v2 report */
	raw(&p, "\x16\x00\x00\x00\xe0\x00\x00\x01", 8);
	addp(&p, "v4 igmp");
	p = v4(PKT_ETH_IP, NULL, NULL, PKT_P_SCTP);
	pkt_sctp(&p, 1234, 80);
	addp(&p, "v4 sctp");
	p = v4(PKT_ETH_IP, NULL, NULL, 51);
	pkt_payload(&p, 24, 0);
	addp(&p, "v4 proto 51");

	/* IPv4 options, bad header length, bad version, fragments */
	pkt_init(&opt);
	pkt_eth(&opt, PKT_ETH_IP);
	pkt_ipv4(&opt, &(struct ip4){ .proto = PKT_P_TCP, .optlen = 8 });
	pkt_tcp(&opt, 1234, 80, TH_SYN, 6);
	addp(&opt, "v4 options tcp");
	add_cuts(&opt, "v4 options tcp");
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_UDP, .optlen = 40 });
	pkt_udp(&p, 53, 53);
	addp(&p, "v4 40B options udp");
	for (int ihl = 0; ihl < 5; ihl += 3) {
		pkt_init(&p);
		pkt_eth(&p, PKT_ETH_IP);
		pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_TCP, .ihl = ihl });
		pkt_tcp(&p, 1234, 80, TH_SYN, 0);
		snprintf(d, sizeof(d), "v4 bad ihl %d", ihl);
		addp(&p, d);
	}
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_UDP, .version = 6 });
	pkt_udp(&p, 1234, 53);
	addp(&p, "v4 ethertype version 6");
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_UDP, .mf = true });
	pkt_udp(&p, 1234, 53);
	addp(&p, "v4 first fragment");
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_UDP, .frag_off = 185 });
	pkt_payload(&p, 40, 0x35);
	addp(&p, "v4 later fragment");
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_TCP, .df = true });
	pkt_tcp(&p, 80, 1234, TH_SYN | TH_ACK, 0);
	addp(&p, "v4 df");

	/* IPv6, extension headers, ICMPv6 */
	p = v6(NULL, NULL, PKT_P_TCP);
	pkt_tcp(&p, 1234, 80, TH_SYN, 0);
	addp(&p, "v6 tcp");
	p = v6("fd00:199:1::1", "fd00:199:1::2", PKT_P_UDP);
	pkt_udp(&p, 5000, 53);
	addp(&p, "v6 udp fd00");
	p = v6("::1", "ff02::1", PKT_P_UDP);
	pkt_udp(&p, 546, 547);
	addp(&p, "v6 udp multicast");
	for (int t = 0; t < 4; t++) {
		static const uint8_t type[] = { 128, 129, 135, 136 };

		p = v6(NULL, NULL, PKT_P_ICMPV6);
		pkt_icmp(&p, type[t], 0, 1);
		snprintf(d, sizeof(d), "v6 icmp6 type %u", type[t]);
		addp(&p, d);
	}
	p = v6(NULL, NULL, PKT_P_HOPOPTS);
	pkt_ip6_ext(&p, PKT_P_TCP, 0);
	pkt_tcp(&p, 1234, 80, TH_SYN, 0);
	addp(&p, "v6 hbh tcp");
	p = v6(NULL, NULL, PKT_P_ROUTING);
	pkt_ip6_ext(&p, PKT_P_UDP, 2);
	pkt_udp(&p, 1234, 53);
	addp(&p, "v6 routing udp");
	p = v6(NULL, NULL, PKT_P_FRAGMENT);
	pkt_ip6_frag(&p, PKT_P_UDP, 0, true);
	pkt_udp(&p, 1234, 53);
	addp(&p, "v6 frag udp");
	p = v6(NULL, NULL, PKT_P_FRAGMENT);
	pkt_ip6_frag(&p, PKT_P_UDP, 100, false);
	pkt_payload(&p, 16, 0);
	addp(&p, "v6 later frag");
	p = v6(NULL, NULL, PKT_P_DSTOPTS);
	pkt_ip6_ext(&p, PKT_P_ICMPV6, 0);
	pkt_icmp(&p, 128, 0, 2);
	addp(&p, "v6 dstopts icmp6");
	p = v6(NULL, NULL, PKT_P_AH);
	pkt_ip6_ah(&p, PKT_P_TCP, 4);
	pkt_tcp(&p, 443, 1234, TH_ACK, 0);
	addp(&p, "v6 ah tcp");
	p = v6(NULL, NULL, PKT_P_NONE);
	addp(&p, "v6 no next header");
	chain = v6(NULL, NULL, PKT_P_HOPOPTS);
	pkt_ip6_ext(&chain, PKT_P_DSTOPTS, 0);
	pkt_ip6_ext(&chain, PKT_P_FRAGMENT, 1);
	pkt_ip6_frag(&chain, PKT_P_TCP, 0, false);
	pkt_tcp(&chain, 1234, 8080, TH_SYN, 0);
	addp(&chain, "v6 hbh+dst+frag tcp");
	add_cuts(&chain, "v6 chain");
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IPV6);
	pkt_ipv6(&p, &(struct ip6){ .next = PKT_P_TCP, .version = 4 });
	pkt_tcp(&p, 1234, 80, TH_SYN, 0);
	addp(&p, "v6 ethertype version 4");

	/* ARP, VLAN, QinQ, MPLS, PPPoE, Geneve */
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_ARP);
	pkt_arp(&p);
	addp(&p, "arp");
	memset(p.b, 0xff, 6);
	addp(&p, "arp broadcast");
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_8021Q);
	pkt_vlan(&p, 100, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_TCP });
	pkt_tcp(&p, 1234, 80, TH_SYN, 0);
	addp(&p, "vlan 100 tcp 80");
	pkt_init(&qinq);
	pkt_eth(&qinq, PKT_ETH_8021AD);
	pkt_vlan(&qinq, 100, PKT_ETH_8021Q);
	pkt_vlan(&qinq, 200, PKT_ETH_IP);
	pkt_ipv4(&qinq, &(struct ip4){ .proto = PKT_P_UDP });
	pkt_udp(&qinq, 1234, 53);
	addp(&qinq, "qinq 100/200 udp 53");
	add_cuts(&qinq, "qinq");
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_8021Q);
	pkt_vlan(&p, 100, PKT_ETH_8021Q);
	pkt_vlan(&p, 200, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_UDP });
	pkt_udp(&p, 1234, 53);
	addp(&p, "8021q/8021q udp 53");
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_8021Q);
	pkt_vlan(&p, 0x2000 | 100, PKT_ETH_IPV6);
	pkt_ipv6(&p, &(struct ip6){ .next = PKT_P_TCP });
	pkt_tcp(&p, 1234, 80, TH_SYN, 0);
	addp(&p, "vlan 100 pcp v6 tcp");
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_8021Q);
	pkt_vlan(&p, 300, PKT_ETH_ARP);
	pkt_arp(&p);
	addp(&p, "vlan 300 arp");
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_8021Q);
	pkt_vlan(&p, 100, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_ICMP });
	pkt_icmp(&p, 8, 0, 1);
	addp(&p, "vlan 100 icmp");
	pkt_init(&p);
	pkt_eth(&p, 0x8847);
	raw(&p, "\x00\x06\x41\x40", 4);	/* label 100, bottom of stack */
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_UDP });
	pkt_udp(&p, 1234, 53);
	addp(&p, "mpls 100 udp");
	pkt_init(&p);
	pkt_eth(&p, 0x8864);
	raw(&p, "\x11\x00\x12\x34\x00\x20\x00\x21", 8);	/* session 0x1234, PPP IPv4 */
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_UDP });
	pkt_udp(&p, 1234, 53);
	addp(&p, "pppoes 0x1234 udp");
	p = v4(PKT_ETH_IP, NULL, NULL, PKT_P_UDP);
	pkt_udp(&p, 40000, 6081);
	raw(&p, "\x00\x00\x65\x58\x00\x00\x01\x00", 8);	/* Geneve, Ethernet inside */
	pkt_eth(&p, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_TCP });
	pkt_tcp(&p, 1234, 80, TH_SYN, 0);
	addp(&p, "geneve tcp");
	pkt_init(&p);
	pkt_eth(&p, 0x88cc);
	pkt_payload(&p, 46, 0);
	addp(&p, "lldp");
	pkt_init(&p);
	pkt_eth(&p, 0x0026);	/* 802.3 length, then LLC (STP) */
	raw(&p, "\x42\x42\x03\x00\x00\x00\x00", 7);
	pkt_payload(&p, 32, 0);
	p.b[0] = 0x01, p.b[1] = 0x80, p.b[2] = 0xc2;
	addp(&p, "stp llc");

	/* tiny and odd frames */
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IP);
	addp(&p, "eth only v4");
	pkt_payload(&p, 1, 0x45);
	addp(&p, "eth + 1");
	pkt_payload(&p, 5, 0);
	addp(&p, "eth + 6");
	pkt_init(&p);
	pkt_payload(&p, 64, 0);
	addp(&p, "64 zero bytes");
	pkt_init(&p);
	pkt_payload(&p, 64, 0xff);
	addp(&p, "64 0xff bytes");
	srand(5);
	for (int i = 0; i < 8; i++) {
		pkt_init(&p);
		pkt_eth(&p, i & 1 ? PKT_ETH_IP : PKT_ETH_IPV6);
		for (int j = 0; j < 20 + i * 17; j++)
			p.b[p.len++] = rand();
		snprintf(d, sizeof(d), "random %d", i);
		addp(&p, d);
	}
	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .proto = PKT_P_TCP });
	pkt_tcp(&p, 80, 1234, TH_ACK, 0);
	pkt_payload(&p, 1960, 0x47);
	addp(&p, "v4 tcp 2014 bytes");
	ncrafted = npkts;
}

static void on_captured(const uint8_t *b, size_t len, void *arg)
{
	char d[48];

	snprintf(d, sizeof(d), "captured #%d", (*(int *)arg)++);
	add(b, len, d);
}

/* Returns XDP_PASS (accept) or XDP_DROP (reject). */
static __u32 run(int fd, const struct tpkt *t)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = t->b, .data_size_in = t->len, .repeat = 1);
	int err = bpf_prog_test_run_opts(fd, &o);

	cr_assert_eq(err, 0, "test run on %s (%zu bytes): %s", t->desc, t->len, strerror(errno));
	cr_assert(o.retval == XDP_PASS || o.retval == XDP_DROP, "retval %u", o.retval);
	return o.retval;
}

static const char *hex(const struct tpkt *t)
{
	static char s[256];
	size_t n = 0;

	for (size_t i = 0; i < t->len && n + 3 < sizeof(s); i++)
		n += snprintf(s + n, sizeof(s) - n, "%02x", t->b[i]);
	return s;
}

/* Load @c, compare with bpf_filter() on packets @set; returns the mismatches. */
static long diff_set(const char *what, const struct sock_filter *c, int n,
		     const struct tpkt *set, int nset, int *ebpf_fd)
{
	char err[512];
	long bad = 0;
	int fd;

	fd = ffpf_cbpf_xdp_load(c, n, NULL, err, sizeof(err));
	cr_assert_geq(fd, 0, "'%s' (%d classic insns): %s", what, n, err);
	for (int i = 0; i < nset; i++) {
		bool want = ref_filter(c, n, set[i].b, set[i].len) != 0;
		bool got = run(fd, &set[i]) == XDP_PASS;

		if (want != got && bad++ < 3)
			cr_log_error("MISMATCH '%s' on %s: libpcap %s, eBPF %s: %s", what,
				     set[i].desc, want ? "accepts" : "rejects",
				     got ? "accepts" : "rejects", hex(&set[i]));
	}
	if (ebpf_fd)
		*ebpf_fd = fd;
	else
		close(fd);
	return bad;
}

/* The same on every packet of the corpus. */
static long diff_one(const char *what, const struct sock_filter *c, int n, int *ebpf_fd)
{
	return diff_set(what, c, n, pkts, npkts, ebpf_fd);
}

static void load_packets(void)
{
	char err[256];
	int seq = 0, n;

	crafted();
	n = ref_read_pcap(PCAP_FILE, on_captured, &seq, err, sizeof(err));
	cr_assert_gt(n, 0, "%s: %s", PCAP_FILE, n < 0 ? err : "no packets");
}

Test(cbpf, differential, .timeout = 600)
{
	char line[4096], err[512];
	long pairs = 0, bad = 0, accepted = 0;
	int nexpr = 0, biggest = 0;
	FILE *f;

	load_packets();
	f = fopen(EXPR_FILE, "r");
	cr_assert_not_null(f, "%s: %s", EXPR_FILE, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		struct sock_filter *c;
		int n;

		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		n = ffpf_cbpf_compile_insns(line, SNAPLEN, &c, err, sizeof(err));
		cr_assert_gt(n, 0, "'%s': %s", line, err);
		if (n > biggest)
			biggest = n;
		bad += diff_one(line, c, n, NULL);
		for (int i = 0; i < npkts; i++)
			accepted += ref_filter(c, n, pkts[i].b, pkts[i].len) != 0;
		pairs += npkts;
		nexpr++;
		free(c);
	}
	fclose(f);
	fprintf(stderr, "cbpf differential: %d expressions x %d packets (%d crafted, %d captured) = %ld pairs, %ld accepted by libpcap, %ld mismatches; largest program %d classic insns\n",
		    nexpr, npkts, ncrafted, npkts - ncrafted, pairs, accepted, bad, biggest);
	cr_expect_geq(nexpr, 300, "corpus has %d expressions", nexpr);
	cr_expect_eq(bad, 0, "%ld of %ld pairs differ from libpcap", bad, pairs);
}

Test(cbpf, bad_expression_text)
{
	static const struct { const char *expr, *text; } rows[] = {
		{ "tcp and and udp", "syntax error" },
		{ "port 99999", "illegal port number 99999 > 65535" },
		{ "ip[6:3] = 1", "data size must be 1, 2, or 4" },
		{ "ip broadcast", "netmask not known" },
		{ "arp and tcp", "expression rejects all packets" },
	};
	struct sock_filter *c;
	char err[512];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		cr_expect_eq(ffpf_cbpf_compile_insns(rows[i].expr, SNAPLEN, &c, err, sizeof(err)),
			     -EINVAL, "'%s' compiled", rows[i].expr);
		cr_expect(strstr(err, rows[i].text), "'%s': got '%s', want '%s'", rows[i].expr,
			  err, rows[i].text);
	}
}

#define STMT(code, k)		{ (code), 0, 0, (k) }
#define JUMP(code, k, t, f)	{ (code), (t), (f), (k) }

Test(cbpf, refuses_unsupported)
{
	static const struct {
		struct sock_filter c[4];
		int n;
		const char *why;
	} rows[] = {
		{ { STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
		    STMT(BPF_RET | BPF_A, 0) }, 2, "instruction 0 (code 0x20): ancillary" },
		{ { STMT(BPF_LDX | BPF_IMM, 1), STMT(BPF_LD | BPF_B | BPF_IND, SKF_NET_OFF),
		    STMT(BPF_RET | BPF_A, 0) }, 3, "instruction 1 (code 0x50): ancillary" },
		{ { STMT(BPF_LD | BPF_IMM, 1), STMT(BPF_MISC | 0x10, 0),
		    STMT(BPF_RET | BPF_A, 0) }, 3, "instruction 1 (code 0x17): not a MISC instruction" },
		{ { STMT(BPF_LD | BPF_IMM, 1), STMT(BPF_ALU | BPF_DIV | BPF_K, 0),
		    STMT(BPF_RET | BPF_A, 0) }, 3, "instruction 1 (code 0x34): division by constant zero" },
		{ { STMT(BPF_LD | BPF_IMM, 1), STMT(BPF_ALU | BPF_LSH | BPF_K, 32),
		    STMT(BPF_RET | BPF_A, 0) }, 3, "instruction 1 (code 0x64): shift" },
		{ { STMT(BPF_LD | BPF_MEM, 16), STMT(BPF_RET | BPF_A, 0) }, 2,
		  "instruction 0 (code 0x60): scratch memory index 16" },
		{ { STMT(BPF_LD | BPF_IMM, 1), STMT(BPF_RET | BPF_X, 0) }, 2,
		  "instruction 1 (code 0x0e): not a RET instruction" },
		{ { STMT(BPF_LD | BPF_IMM, 1), JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 5),
		    STMT(BPF_RET | BPF_A, 0) }, 3, "instruction 1 (code 0x15): jump past the end" },
		{ { STMT(BPF_LD | BPF_IMM, 1), STMT(BPF_LD | BPF_IMM, 2) }, 2,
		  "instruction 1 (code 0x00): runs off the end" },
		{ { STMT(BPF_LD | BPF_IMM, 1), STMT(BPF_JMP | 0xe0, 0),
		    STMT(BPF_RET | BPF_A, 0) }, 3, "instruction 1 (code 0xe5): not a JMP instruction" },
		{ { STMT(BPF_LDX | BPF_B | BPF_ABS, 1), STMT(BPF_RET | BPF_A, 0) }, 2,
		  "instruction 0 (code 0x31): not a LDX instruction" },
	};
	/*
	 * The top 2 MB of offsets name Linux's ancillary data (SKF_AD_OFF...);
	 * libpcap reads them as packet offsets. Two meanings: refused.
	 */
	static const char *skf = "ether[4294967290] = 1";
	static const char *loops[] = { "ip protochain 6", "ip6 protochain 17",
				       "tcp or ip6 protochain 58" };
	struct sock_filter *c;
	struct bpf_insn *out;
	char err[256];
	int nout, n;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		cr_expect_eq(ffpf_cbpf_to_ebpf(rows[i].c, rows[i].n, NULL, &out, &nout, err,
					       sizeof(err)), -EINVAL, "row %zu translated", i);
		cr_expect(!strncasecmp(err, rows[i].why, strlen(rows[i].why)),
			  "row %zu: got '%s', want '%s...'", i, err, rows[i].why);
	}
	n = ffpf_cbpf_compile_insns(skf, SNAPLEN, &c, err, sizeof(err));
	cr_assert_gt(n, 0, "%s: %s", skf, err);
	cr_expect_eq(ffpf_cbpf_to_ebpf(c, n, NULL, &out, &nout, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "instruction 0 (code 0x30): ancillary load at offset -6"), "'%s'", err);
	free(c);
	/* protochain loops: refused, and the message names the jump back. */
	for (size_t i = 0; i < sizeof(loops) / sizeof(loops[0]); i++) {
		n = ffpf_cbpf_compile_insns(loops[i], SNAPLEN, &c, err, sizeof(err));
		cr_assert_gt(n, 0, "%s: %s", loops[i], err);
		cr_expect_eq(ffpf_cbpf_to_ebpf(c, n, NULL, &out, &nout, err, sizeof(err)), -EINVAL);
		cr_expect(strstr(err, "(code 0x05): backward jump to instruction"), "%s: '%s'",
			  loops[i], err);
		free(c);
	}
}

/*
 * Hand-written classic programs for what libpcap rarely emits: scratch
 * memory, X-indexed loads past the end, division by X == 0, shifts by
 * X >= 32, RET A, JSET, NEG, unreachable code.
 */
Test(cbpf, semantics_programs, .timeout = 120)
{
	static const struct {
		const char *name;
		struct sock_filter c[14];
		int n;
	} rows[] = {
		{ "div by X (X = byte 15, may be 0)", {
			STMT(BPF_LDX | BPF_B | BPF_MSH, 14), STMT(BPF_LD | BPF_B | BPF_ABS, 15),
			STMT(BPF_MISC | BPF_TAX, 0), STMT(BPF_LD | BPF_H | BPF_ABS, 12),
			STMT(BPF_ALU | BPF_DIV | BPF_X, 0), STMT(BPF_ALU | BPF_ADD | BPF_K, 1),
			STMT(BPF_RET | BPF_A, 0) }, 7 },
		{ "mod by X", {
			STMT(BPF_LDX | BPF_B | BPF_MSH, 23),
			STMT(BPF_LD | BPF_W | BPF_ABS, 26), STMT(BPF_ALU | BPF_MOD | BPF_X, 0),
			STMT(BPF_RET | BPF_A, 0) }, 4 },
		{ "lsh by X = byte 15 (>= 32 leaves 0)", {
			STMT(BPF_LD | BPF_B | BPF_ABS, 15), STMT(BPF_MISC | BPF_TAX, 0),
			STMT(BPF_LD | BPF_IMM, 0x80000001), STMT(BPF_ALU | BPF_LSH | BPF_X, 0),
			STMT(BPF_RET | BPF_A, 0) }, 5 },
		{ "rsh by X = byte 23", {
			STMT(BPF_LD | BPF_B | BPF_ABS, 23), STMT(BPF_MISC | BPF_TAX, 0),
			STMT(BPF_LD | BPF_IMM, 0xffffffff), STMT(BPF_ALU | BPF_RSH | BPF_X, 0),
			STMT(BPF_RET | BPF_A, 0) }, 5 },
		{ "scratch memory and STX", {
			STMT(BPF_LD | BPF_H | BPF_ABS, 12), STMT(BPF_ST, 3),
			STMT(BPF_LDX | BPF_W | BPF_LEN, 0), STMT(BPF_STX, 15),
			STMT(BPF_LD | BPF_MEM, 15), STMT(BPF_ALU | BPF_SUB | BPF_K, 60),
			STMT(BPF_LDX | BPF_MEM, 3), STMT(BPF_ALU | BPF_ADD | BPF_X, 0),
			STMT(BPF_LD | BPF_MEM, 7), STMT(BPF_ALU | BPF_ADD | BPF_X, 0),
			JUMP(BPF_JMP | BPF_JGT | BPF_K, 0x8000, 1, 0), STMT(BPF_RET | BPF_A, 0),
			STMT(BPF_RET | BPF_K, 0) }, 13 },
		{ "IND load at k past 64K, then dead code", {
			STMT(BPF_LDX | BPF_W | BPF_LEN, 0), STMT(BPF_LD | BPF_W | BPF_IND, 0x7ffffff0),
			STMT(BPF_RET | BPF_A, 0) }, 3 },
		{ "IND word at X = len - 4", {
			STMT(BPF_LD | BPF_W | BPF_LEN, 0), STMT(BPF_ALU | BPF_SUB | BPF_K, 4),
			STMT(BPF_MISC | BPF_TAX, 0), STMT(BPF_LD | BPF_W | BPF_IND, 0),
			STMT(BPF_ALU | BPF_OR | BPF_K, 1), STMT(BPF_RET | BPF_A, 0) }, 6 },
		{ "IND half at X = len - 1 (one byte short)", {
			STMT(BPF_LD | BPF_W | BPF_LEN, 0), STMT(BPF_ALU | BPF_SUB | BPF_K, 1),
			STMT(BPF_MISC | BPF_TAX, 0), STMT(BPF_LD | BPF_H | BPF_IND, 0),
			STMT(BPF_ALU | BPF_OR | BPF_K, 1), STMT(BPF_RET | BPF_A, 0) }, 6 },
		{ "IND with huge X", {
			STMT(BPF_LDX | BPF_IMM, 0xfffffff0), STMT(BPF_LD | BPF_B | BPF_IND, 0x20),
			STMT(BPF_RET | BPF_K, 1) }, 3 },
		{ "JSET, NEG, JGE X, RET A of 0", {
			STMT(BPF_LD | BPF_B | BPF_ABS, 14), JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x40, 0, 3),
			STMT(BPF_ALU | BPF_NEG, 0), STMT(BPF_LDX | BPF_IMM, 0xffffffb0),
			JUMP(BPF_JMP | BPF_JGE | BPF_X, 0, 1, 2), STMT(BPF_RET | BPF_K, 0),
			STMT(BPF_RET | BPF_A, 0), STMT(BPF_RET | BPF_K, 7) }, 8 },
		{ "JEQ X, JGT with k >= 2^31, JA, dead code", {
			STMT(BPF_LD | BPF_W | BPF_ABS, 0), STMT(BPF_LDX | BPF_IMM, 0x02000000),
			JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 3, 0), JUMP(BPF_JMP | BPF_JGT | BPF_K, 0x80000000, 0, 1),
			STMT(BPF_JMP | BPF_JA, 1), STMT(BPF_RET | BPF_K, 0), STMT(BPF_RET | BPF_K, 9),
			STMT(BPF_RET | BPF_K, 0) }, 8 },
		{ "load past 64K, then dead code", {
			STMT(BPF_LD | BPF_B | BPF_ABS, 0x10000), STMT(BPF_RET | BPF_K, 1) }, 2 },
		{ "MSH past the end", {
			STMT(BPF_LDX | BPF_B | BPF_MSH, 2999), STMT(BPF_MISC | BPF_TXA, 0),
			STMT(BPF_ALU | BPF_ADD | BPF_K, 1), STMT(BPF_RET | BPF_A, 0) }, 4 },
		{ "len and MUL/XOR/AND", {
			STMT(BPF_LD | BPF_W | BPF_LEN, 0), STMT(BPF_ALU | BPF_MUL | BPF_K, 0x9e3779b9),
			STMT(BPF_ALU | BPF_XOR | BPF_K, 0x5a5a5a5a), STMT(BPF_ALU | BPF_AND | BPF_K, 0x100),
			STMT(BPF_RET | BPF_A, 0) }, 5 },
	};
	long bad = 0;

	load_packets();
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		bad += diff_one(rows[i].name, rows[i].c, rows[i].n, NULL);
	cr_expect_eq(bad, 0, "%ld mismatches", bad);
}

/* The verifier takes the largest programs: long or-chains, protochain, VLAN. */
Test(cbpf, largest_programs, .timeout = 120)
{
	char expr[16384], err[512];
	size_t n = 0;
	int fd, nc, ne;
	struct sock_filter *c;
	struct bpf_insn *e;

	n += snprintf(expr + n, sizeof(expr) - n, "(vlan and vlan and ip6 and tcp[tcpflags] & tcp-syn != 0) or (");
	for (int i = 0; i < 120; i++)
		n += snprintf(expr + n, sizeof(expr) - n, "%shost 10.%d.%d.1 or port %d",
			      i ? " or " : "", i / 8, i % 8, 1000 + i);
	snprintf(expr + n, sizeof(expr) - n, ")");
	nc = ffpf_cbpf_compile_insns(expr, SNAPLEN, &c, err, sizeof(err));
	cr_assert_gt(nc, 1000, "%d classic insns: %s", nc, err);
	cr_assert_eq(ffpf_cbpf_to_ebpf(c, nc, NULL, &e, &ne, err, sizeof(err)), 0, "%s", err);
	free(e);
	load_packets();
	cr_expect_eq(diff_one("largest", c, nc, &fd), 0);
	close(fd);
	fprintf(stderr, "cbpf largest program: %d classic insns -> %d eBPF insns, verifier accepts\n", nc, ne);
	free(c);
}

/* --- random classic programs -------------------------------------------- */

static __u32 rnd(__u32 n)
{
	return (__u32)random() % n;
}

/* Offsets near the interesting edges: headers, frame ends, 64 KiB, 2^32. */
static __u32 rnd_k(void)
{
	switch (rnd(6)) {
	case 0: return rnd(16);
	case 1: return rnd(80);
	case 2: return 0xffff - rnd(8);
	case 3: return (__u32)random();
	case 4: return rnd(2000);
	default: return 14 + rnd(60);
	}
}

/*
 * One random program of @n instructions the way bpf_filter() defines
 * them: forward jumps, no ancillary offsets, no constant division by 0
 * or shift by >= 32, and every M[] word written first (libpcap leaves M[]
 * uninitialised; its compiler never reads a word before writing it).
 */
static void rnd_prog(struct sock_filter *c, int n)
{
	static const __u16 sz[] = { BPF_B, BPF_H, BPF_W };
	static const __u16 alu[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND,
				     BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH };
	static const __u16 jmp[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET };
	int i = 0;

	c[i++] = (struct sock_filter)STMT(BPF_LD | BPF_IMM, (__u32)random());
	for (int m = 0; m < 16; m++)
		c[i++] = (struct sock_filter)STMT(BPF_ST, m);
	for (; i < n - 1; i++) {
		int left = n - i - 2;
		__u32 k = rnd_k();
		__u16 code, op;

		c[i].jt = c[i].jf = 0;
		switch (rnd(12)) {
		case 0:
		case 1:
			code = BPF_LD | sz[rnd(3)] | (rnd(2) ? BPF_ABS : BPF_IND);
			break;
		case 2:
			code = BPF_LDX | BPF_B | BPF_MSH;
			break;
		case 3:
			code = (rnd(2) ? BPF_LD : BPF_LDX) | BPF_IMM;
			k = rnd(2) ? rnd(64) : (__u32)random();
			break;
		case 4:
			code = (rnd(2) ? BPF_LD : BPF_LDX) | BPF_W | BPF_LEN;
			break;
		case 5:
			code = (rnd(2) ? BPF_LD : BPF_LDX) | BPF_MEM;
			k = rnd(16);
			break;
		case 6:
			code = rnd(2) ? BPF_ST : BPF_STX;
			k = rnd(16);
			break;
		case 7:
		case 8:
			op = alu[rnd(10)];
			code = BPF_ALU | op | (rnd(2) ? BPF_X : BPF_K);
			if ((op == BPF_DIV || op == BPF_MOD) && !k)
				k = 3;
			if (op == BPF_LSH || op == BPF_RSH)
				k &= 31;
			if (!rnd(10))
				code = BPF_ALU | BPF_NEG;
			break;
		case 9:
			code = BPF_MISC | (rnd(2) ? BPF_TAX : BPF_TXA);
			break;
		case 10:
			if (left > 0) {
				code = BPF_JMP | jmp[rnd(4)] | (rnd(2) ? BPF_X : BPF_K);
				c[i].jt = rnd(left + 1);
				c[i].jf = rnd(left + 1);
				break;
			}
			/* fall through */
		default:
			if (left > 0 && rnd(2)) {
				code = BPF_JMP | BPF_JA;
				k = rnd(left + 1);
			} else {
				code = BPF_RET | (rnd(2) ? BPF_A : BPF_K);
				k = rnd(3);
			}
			break;
		}
		c[i].code = code;
		c[i].k = k;
	}
	c[n - 1] = (struct sock_filter)STMT(BPF_RET | BPF_A, 0);
}

/* A seed for the fuzzing to come: fixed seed, so a failure reproduces. */
Test(cbpf, random_programs, .timeout = 300)
{
	static struct tpkt sub[MAX_PKTS / 4 + 1];
	struct sock_filter c[64];
	int nsub = 0, progs = 2000;
	long bad = 0;

	load_packets();
	/* every 4th packet of the corpus keeps 2000 programs within seconds */
	for (int i = 0; i < npkts; i += 4)
		sub[nsub++] = pkts[i];
	srandom(5);
	for (int p = 0; p < progs; p++) {
		char name[32];
		int n = 20 + rnd(40);

		rnd_prog(c, n);
		snprintf(name, sizeof(name), "random program %d", p);
		bad += diff_set(name, c, n, sub, nsub, NULL);
	}
	fprintf(stderr, "cbpf random programs: %d programs x %d packets, %ld mismatches\n", progs,
		nsub, bad);
	cr_expect_eq(bad, 0, "%ld mismatches", bad);
}
