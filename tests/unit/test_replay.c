/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * test_replay.c - unit tests of ffpf-replay's capture side (user/lib/
 * replay_pkt.c, replay_read.c, replay_flows.c) on pcaps written here:
 * flow keys, turns, TCP reassembly (retransmission, reordering, gaps),
 * snaplen cuts, handshake-less flows, UDP, link types, and malformed
 * files (bad magic, truncated header or record, unknown link type).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <criterion/criterion.h>

#include "replay_cap.h"

#define SYN 0x02
#define ACK 0x10
#define PSH 0x08
#define FIN 0x01

/* A pcap being written in memory. */
struct pc {
	uint8_t buf[65536];
	size_t len;
	uint32_t rec;
};

static void put(struct pc *p, const void *d, size_t n)
{
	cr_assert(p->len + n <= sizeof(p->buf));
	memcpy(p->buf + p->len, d, n);
	p->len += n;
}

static void pc_init(struct pc *p, uint32_t linktype, uint32_t snaplen)
{
	uint32_t h[6] = { 0xa1b2c3d4, 2 | 4u << 16, 0, 0, snaplen, linktype };

	memset(p, 0, sizeof(*p));
	put(p, h, sizeof(h));
}

/* One record; @caplen < @len cuts it. */
static void pc_rec(struct pc *p, const uint8_t *d, uint32_t len, uint32_t caplen)
{
	uint32_t h[4] = { 1000 + p->rec, p->rec * 1000, caplen, len };

	p->rec++;
	put(p, h, sizeof(h));
	put(p, d, caplen);
}

static void be16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static void be32(uint8_t *p, uint32_t v) { be16(p, v >> 16); be16(p + 2, (uint16_t)v); }

/* Ethernet/IPv4/TCP from 10.0.0.@s:@sp to 10.0.0.@d:@dp. Returns length. */
static uint32_t tcp4(uint8_t *f, int s, uint16_t sp, int d, uint16_t dp, uint32_t seq,
		     uint8_t flags, const char *pl)
{
	uint32_t n = pl ? (uint32_t)strlen(pl) : 0;

	memset(f, 0, 54);
	be16(f + 12, 0x0800);
	uint8_t *ip = f + 14, *t = ip + 20;
	ip[0] = 0x45;
	be16(ip + 2, (uint16_t)(40 + n));
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	ip[12] = 10; ip[15] = (uint8_t)s;
	ip[16] = 10; ip[19] = (uint8_t)d;
	be16(t, sp);
	be16(t + 2, dp);
	be32(t + 4, seq);
	t[12] = 5 << 4;
	t[13] = flags;
	if (n)
		memcpy(t + 20, pl, n);
	return 54 + n;
}

static uint32_t udp4(uint8_t *f, int s, uint16_t sp, int d, uint16_t dp, const char *pl)
{
	uint32_t n = (uint32_t)strlen(pl);

	memset(f, 0, 42);
	be16(f + 12, 0x0800);
	uint8_t *ip = f + 14, *u = ip + 20;
	ip[0] = 0x45;
	be16(ip + 2, (uint16_t)(28 + n));
	ip[9] = IPPROTO_UDP;
	ip[12] = 10; ip[15] = (uint8_t)s;
	ip[16] = 10; ip[19] = (uint8_t)d;
	be16(u, sp);
	be16(u + 2, dp);
	be16(u + 4, (uint16_t)(8 + n));
	memcpy(u + 8, pl, n);
	return 42 + n;
}

/* Add a TCP packet to @p. */
static void T(struct pc *p, int s, uint16_t sp, int d, uint16_t dp, uint32_t seq,
	      uint8_t flags, const char *pl)
{
	uint8_t f[2048];
	uint32_t n = tcp4(f, s, sp, d, dp, seq, flags, pl);

	pc_rec(p, f, n, n);
}

static int read_pc(struct pc *p, struct rp_capture **c, char *err, size_t len)
{
	FILE *fp = fmemopen(p->buf, p->len, "rb");

	cr_assert_not_null(fp);
	return rp_capture_read_fp(fp, "mem.pcap", c, err, len);
}

static struct rp_capture *must_read(struct pc *p)
{
	struct rp_capture *c = NULL;
	char err[512] = "";
	int r = read_pc(p, &c, err, sizeof(err));

	cr_assert_eq(r, 0, "read: %d %s", r, err);
	return c;
}

static void client_is(const struct rp_flow *f, const char *data)
{
	cr_assert_eq(f->clen, strlen(data), "client %llu bytes", (unsigned long long)f->clen);
	cr_assert(!memcmp(f->cdata, data, f->clen));
}

/* Handshake, two request/response turns, FIN: client 10.0.0.9:40000 sorts
 * above the server 10.0.0.1:80, so the client is side 1. */
Test(replay, turns_and_key)
{
	struct pc p;

	pc_init(&p, 1, 65535);
	T(&p, 9, 40000, 1, 80, 100, SYN, NULL);
	T(&p, 1, 80, 9, 40000, 500, SYN | ACK, NULL);
	T(&p, 9, 40000, 1, 80, 101, ACK, NULL);
	T(&p, 9, 40000, 1, 80, 101, ACK | PSH, "GET /a\r\n");
	T(&p, 1, 80, 9, 40000, 501, ACK | PSH, "0123456789");
	T(&p, 1, 80, 9, 40000, 511, ACK | PSH, "abc");
	T(&p, 9, 40000, 1, 80, 109, ACK | PSH, "GET /b\r\n");
	T(&p, 1, 80, 9, 40000, 514, ACK | PSH, "xy");
	T(&p, 9, 40000, 1, 80, 117, ACK | FIN, NULL);
	struct rp_capture *c = must_read(&p);

	cr_assert_eq(c->nflows, 1);
	struct rp_flow *f = c->flows[0];
	cr_assert_str_empty(f->skip, "%s", f->skip);
	cr_assert_eq(f->client, 1);
	cr_assert_eq(f->key.port[0], 80);
	cr_assert_eq(f->key.port[1], 40000);
	cr_assert_eq(f->key.addr[0][15], 1);
	cr_assert_eq(f->key.addr[0][10], 0xff, "IPv4 is v4-mapped");
	cr_assert_eq(f->key.ip_ver, 4);
	cr_assert_eq(f->nturns, 2);
	cr_assert_eq(f->turns[0].clen, 8);
	cr_assert_eq(f->turns[0].slen, 13);
	cr_assert_eq(f->turns[1].coff, 8);
	cr_assert_eq(f->turns[1].slen, 2);
	cr_assert_eq(f->sbytes, 15);
	client_is(f, "GET /a\r\nGET /b\r\n");
	cr_assert_eq(c->records, 9);
	rp_capture_free(c);
}

/* Out of order, duplicated and overlapping client segments. */
Test(replay, reassembly)
{
	struct pc p;

	pc_init(&p, 1, 65535);
	T(&p, 1, 40000, 2, 7, 0, SYN, NULL);
	T(&p, 2, 7, 1, 40000, 900, SYN | ACK, NULL);
	T(&p, 1, 40000, 2, 7, 6, ACK, "world\n");	/* before its predecessor */
	T(&p, 1, 40000, 2, 7, 1, ACK, "hello");
	T(&p, 1, 40000, 2, 7, 1, ACK, "hello");		/* retransmission */
	T(&p, 1, 40000, 2, 7, 4, ACK, "lowor");	/* overlaps both */
	T(&p, 2, 7, 1, 40000, 901, ACK, "hello world\n");
	T(&p, 1, 40000, 2, 7, 12, ACK, "again\n");
	T(&p, 2, 7, 1, 40000, 913, ACK, "again\n");
	struct rp_capture *c = must_read(&p);
	struct rp_flow *f = c->flows[0];

	cr_assert_str_empty(f->skip, "%s", f->skip);
	cr_assert_eq(f->client, 0);
	client_is(f, "helloworld\nagain\n");
	cr_assert_eq(f->nturns, 2);
	cr_assert_eq(f->turns[0].clen, 11);
	cr_assert_eq(f->turns[0].slen, 12);
	cr_assert_eq(f->turns[1].clen, 6);
	cr_assert_eq(f->turns[1].slen, 6);
	rp_capture_free(c);
}

Test(replay, gap_skips)
{
	struct pc p;

	pc_init(&p, 1, 65535);
	T(&p, 1, 40000, 2, 80, 0, SYN, NULL);
	T(&p, 2, 80, 1, 40000, 0, SYN | ACK, NULL);
	T(&p, 1, 40000, 2, 80, 1, ACK, "abc");
	T(&p, 1, 40000, 2, 80, 10, ACK, "xyz");		/* bytes 4..9 lost */
	T(&p, 2, 80, 1, 40000, 1, ACK, "ok");
	struct rp_capture *c = must_read(&p);

	cr_assert(strstr(c->flows[0]->skip, "missing"), "%s", c->flows[0]->skip);
	rp_capture_free(c);
}

Test(replay, snaplen_cut_skips)
{
	struct pc p;
	uint8_t f[256];
	uint32_t n;

	pc_init(&p, 1, 60);
	T(&p, 1, 40000, 2, 80, 0, SYN, NULL);
	T(&p, 2, 80, 1, 40000, 0, SYN | ACK, NULL);
	n = tcp4(f, 1, 40000, 2, 80, 1, ACK, "a request longer than the snaplen");
	pc_rec(&p, f, n, 60);
	T(&p, 2, 80, 1, 40000, 1, ACK, "ok");
	struct rp_capture *c = must_read(&p);

	cr_assert_str_eq(c->flows[0]->skip, "client data cut by snaplen at packet 3");
	rp_capture_free(c);
}

/* A server's cut data is counted from the IP length: still replayable. */
Test(replay, snaplen_cut_server_counts)
{
	struct pc p;
	uint8_t f[256];
	uint32_t n;

	pc_init(&p, 1, 60);
	T(&p, 1, 40000, 2, 80, 0, SYN, NULL);
	T(&p, 2, 80, 1, 40000, 0, SYN | ACK, NULL);
	T(&p, 1, 40000, 2, 80, 1, ACK, "q");
	n = tcp4(f, 2, 80, 1, 40000, 1, ACK, "an answer longer than the snaplen");
	pc_rec(&p, f, n, 60);
	struct rp_capture *c = must_read(&p);

	cr_assert_str_empty(c->flows[0]->skip, "%s", c->flows[0]->skip);
	cr_assert_eq(c->flows[0]->sbytes, 6, "captured server bytes only (the rest is a hole)");
	cr_assert(strstr(c->flows[0]->warn, "server data missing"), "%s", c->flows[0]->warn);
	rp_capture_free(c);
}

Test(replay, server_speaks_first)
{
	struct pc p;

	pc_init(&p, 1, 65535);
	T(&p, 1, 40000, 2, 25, 0, SYN, NULL);
	T(&p, 2, 25, 1, 40000, 0, SYN | ACK, NULL);
	T(&p, 2, 25, 1, 40000, 1, ACK, "220 hi\r\n");
	T(&p, 1, 40000, 2, 25, 1, ACK, "QUIT\r\n");
	T(&p, 2, 25, 1, 40000, 9, ACK, "221 bye\r\n");
	struct rp_capture *c = must_read(&p);
	struct rp_flow *f = c->flows[0];

	cr_assert_eq(f->nturns, 2);
	cr_assert_eq(f->turns[0].clen, 0);
	cr_assert_eq(f->turns[0].slen, 8);
	cr_assert_eq(f->turns[1].clen, 6);
	cr_assert_eq(f->turns[1].slen, 9);
	rp_capture_free(c);
}

Test(replay, no_handshake)
{
	struct pc p;

	pc_init(&p, 1, 65535);
	/* data to the lower port: client inferred */
	T(&p, 1, 40000, 2, 80, 7000, ACK, "GET\n");
	T(&p, 2, 80, 1, 40000, 100, ACK, "200\n");
	/* data to the higher port first: unknown */
	T(&p, 3, 80, 4, 40000, 5, ACK, "hello\n");
	T(&p, 4, 40000, 3, 80, 9, ACK, "hi\n");
	struct rp_capture *c = must_read(&p);

	cr_assert_eq(c->nflows, 2);
	cr_assert_str_empty(c->flows[0]->skip);
	cr_assert(strstr(c->flows[0]->warn, "no handshake"));
	client_is(c->flows[0], "GET\n");
	cr_assert_str_eq(c->flows[1]->skip, "no handshake (client unknown)");
	rp_capture_free(c);
}

/* A SYN after the FIN on the same 5-tuple is a new flow. */
Test(replay, tuple_reuse)
{
	struct pc p;

	pc_init(&p, 1, 65535);
	for (int i = 0; i < 2; i++) {
		T(&p, 1, 40000, 2, 80, 1000u * i, SYN, NULL);
		T(&p, 2, 80, 1, 40000, 0, SYN | ACK, NULL);
		T(&p, 1, 40000, 2, 80, 1000u * i + 1, ACK, i ? "two" : "one");
		T(&p, 2, 80, 1, 40000, 1, ACK | FIN, "k");
	}
	struct rp_capture *c = must_read(&p);

	cr_assert_eq(c->nflows, 2);
	client_is(c->flows[0], "one");
	client_is(c->flows[1], "two");
	rp_capture_free(c);
}

Test(replay, udp_turns)
{
	struct pc p;
	uint8_t f[256];

	pc_init(&p, 1, 65535);
	pc_rec(&p, f, udp4(f, 5, 5353, 2, 53, "q1"), udp4(f, 5, 5353, 2, 53, "q1"));
	pc_rec(&p, f, udp4(f, 2, 53, 5, 5353, "answer1"), udp4(f, 2, 53, 5, 5353, "answer1"));
	pc_rec(&p, f, udp4(f, 5, 5353, 2, 53, "q2"), udp4(f, 5, 5353, 2, 53, "q2"));
	pc_rec(&p, f, udp4(f, 5, 5353, 2, 53, "q3"), udp4(f, 5, 5353, 2, 53, "q3"));
	pc_rec(&p, f, udp4(f, 2, 53, 5, 5353, "a3"), udp4(f, 2, 53, 5, 5353, "a3"));
	struct rp_capture *c = must_read(&p);
	struct rp_flow *fl = c->flows[0];

	cr_assert_eq(fl->proto, IPPROTO_UDP);
	cr_assert_eq(fl->client, 1, "10.0.0.5 sorts above 10.0.0.2");
	cr_assert_eq(fl->nturns, 3);
	cr_assert_eq(fl->turns[0].slen, 7);
	cr_assert_eq(fl->turns[1].slen, 0);
	cr_assert_eq(fl->turns[2].slen, 2);
	client_is(fl, "q1q2q3");
	rp_capture_free(c);
}

/* The same IPv6 TCP SYN on Linux cooked v2, raw IP and loopback. */
Test(replay, link_types)
{
	uint8_t ip6[60] = { 0x60 }, fr[100];
	struct rp_pkt pk;

	be16(ip6 + 4, 20);
	ip6[6] = IPPROTO_TCP;
	ip6[8] = 0xfd; ip6[23] = 1;
	ip6[24] = 0xfd; ip6[39] = 2;
	be16(ip6 + 40, 50000);
	be16(ip6 + 42, 443);
	ip6[52] = 5 << 4;
	ip6[53] = SYN;
	cr_assert_eq(rp_pkt_parse(12 /* DLT_RAW */, ip6, 60, &pk), 0);
	cr_assert_eq(pk.key.ip_ver, 6);
	cr_assert_eq(pk.side, 0);
	cr_assert_eq(pk.key.port[1], 443);
	memset(fr, 0, sizeof(fr));
	be16(fr, 0x86dd);
	memcpy(fr + 20, ip6, 60);
	cr_assert_eq(rp_pkt_parse(276 /* DLT_LINUX_SLL2 */, fr, 80, &pk), 0);
	cr_assert_eq(pk.tcp_flags, SYN);
	memset(fr, 0, 4);
	fr[0] = 30;
	memcpy(fr + 4, ip6, 60);
	cr_assert_eq(rp_pkt_parse(0 /* DLT_NULL */, fr, 64, &pk), 0);
	cr_assert_eq(rp_pkt_parse(0, fr, 30, &pk), -EBADMSG, "headers cut");
	cr_assert_eq(rp_pkt_parse(1 /* Ethernet, ARP */, (uint8_t[14]){ [12] = 8, [13] = 6 }, 14, &pk),
		     -EPROTONOSUPPORT);
	cr_assert(!rp_dlt_supported(147));
}

/* --- malformed files ------------------------------------------------------ */

static void bad(struct pc *p, int want, const char *msg)
{
	struct rp_capture *c = (void *)1;
	char err[512] = "";
	int r = read_pc(p, &c, err, sizeof(err));

	cr_assert_eq(r, want, "got %d (%s)", r, err);
	cr_assert_null(c);
	cr_assert(strstr(err, msg), "message '%s' lacks '%s'", err, msg);
	cr_assert(!strncmp(err, "mem.pcap: ", 10), "names the file: %s", err);
}

Test(replay_bad, bad_magic)
{
	struct pc p;

	memset(&p, 0, sizeof(p));
	put(&p, "GIF89a this is not a capture....", 32);
	bad(&p, -EINVAL, "not a pcap or pcapng file");
}

Test(replay_bad, zero_length)
{
	struct rp_capture *c = (void *)1;
	char err[512] = "";
	FILE *fp = tmpfile();	/* fmemopen() may refuse a zero size */

	cr_assert_not_null(fp);
	cr_assert_eq(rp_capture_read_fp(fp, "mem.pcap", &c, err, sizeof(err)), -EINVAL);
	cr_assert_null(c);
	cr_assert(strstr(err, "mem.pcap: truncated file header"), "%s", err);
}

Test(replay_bad, truncated_header)
{
	struct pc p;

	pc_init(&p, 1, 65535);
	p.len = 13;
	bad(&p, -EINVAL, "truncated");
}

Test(replay_bad, truncated_record)
{
	struct pc p;

	pc_init(&p, 1, 65535);
	T(&p, 1, 40000, 2, 80, 0, SYN, NULL);
	T(&p, 2, 80, 1, 40000, 0, SYN | ACK, NULL);
	p.len -= 5;
	bad(&p, -EINVAL, "record 2 (offset 94): truncated record");
}

Test(replay_bad, truncated_record_header)
{
	struct pc p;

	pc_init(&p, 1, 65535);
	T(&p, 1, 40000, 2, 80, 0, SYN, NULL);
	put(&p, "\1\2\3", 3);
	bad(&p, -EINVAL, "record 2");
}

Test(replay_bad, unknown_linktype)
{
	struct pc p;
	uint8_t f[100];

	pc_init(&p, 147, 65535);
	pc_rec(&p, f, tcp4(f, 1, 1, 2, 2, 0, SYN, NULL), 54);
	bad(&p, -EPROTONOSUPPORT, "link type 147");
}

/* caplen above the snaplen: libpcap refuses huge ones, takes others;
 * either way no crash, and caplen > len is ours to refuse. */
Test(replay_bad, caplen_over_snaplen)
{
	struct pc p;
	uint8_t f[100];
	struct rp_capture *c = NULL;
	char err[512] = "";
	uint32_t n = tcp4(f, 1, 1, 2, 2, 0, SYN, NULL);
	int r;

	pc_init(&p, 1, 40);
	pc_rec(&p, f, n, n);
	r = read_pc(&p, &c, err, sizeof(err));
	cr_assert(r == 0 || r == -EINVAL, "%d %s", r, err);
	rp_capture_free(c);

	pc_init(&p, 1, 65535);
	uint32_t h[4] = { 1, 0, 54, 20 };	/* caplen 54 > len 20 */
	put(&p, h, sizeof(h));
	put(&p, f, 54);
	bad(&p, -EINVAL, "exceeds the packet length");

	pc_init(&p, 1, 65535);
	uint32_t h2[4] = { 1, 0, 0x7fffffff, 0x7fffffff };
	put(&p, h2, sizeof(h2));
	bad(&p, -EINVAL, "record 1");
}
