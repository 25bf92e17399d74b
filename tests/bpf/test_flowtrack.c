// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_flowtrack.c - the flowtrack class's kernel side on real flows:
 * frames go through the root program (BPF_PROG_TEST_RUN) and the flow
 * table is read back with bpf_map_lookup_elem, so the tests see exactly
 * what the user-space sweeper will see.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <ffpf/flowtrack.h>
#include "harness.h"

#define TC_PASS		0xffffffffu	/* TC_ACT_UNSPEC (-1) */

#define ft_expect_u64(got, want, ...)					\
	cr_expect_eq((unsigned long long)(got), (unsigned long long)(want), __VA_ARGS__)

/* --- frames --------------------------------------------------------- */

static struct pkt udp6(const char *src, const char *dst, uint16_t sport,
		       uint16_t dport, size_t payload)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IPV6);
	pkt_ipv6(&p, &(struct ip6){ .src = src, .dst = dst, .next = PKT_P_UDP });
	pkt_udp(&p, sport, dport);
	pkt_payload(&p, payload, 0x5a);
	return p;
}

static struct pkt tcp6(const char *src, const char *dst, uint16_t sport,
		       uint16_t dport, uint8_t flags, size_t payload)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IPV6);
	pkt_ipv6(&p, &(struct ip6){ .src = src, .dst = dst, .next = PKT_P_TCP });
	pkt_tcp(&p, sport, dport, flags, 0);
	pkt_payload(&p, payload, 0x5a);
	return p;
}

static struct pkt icmp4(const char *src, const char *dst, uint8_t type,
			uint8_t code, uint16_t id)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .src = src, .dst = dst, .proto = PKT_P_ICMP });
	pkt_icmp(&p, type, code, id);
	pkt_payload(&p, 32, 0);
	return p;
}

static struct pkt icmp6(const char *src, const char *dst, uint8_t type, uint16_t id)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IPV6);
	pkt_ipv6(&p, &(struct ip6){ .src = src, .dst = dst, .next = PKT_P_ICMPV6 });
	pkt_icmp(&p, type, 0, id);
	pkt_payload(&p, 32, 0);
	return p;
}

/* IPv4 with a transport the tracker knows no ports of (GRE). */
static struct pkt gre4(const char *src, const char *dst, uint16_t frag_off, bool mf)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, PKT_ETH_IP);
	pkt_ipv4(&p, &(struct ip4){ .src = src, .dst = dst, .proto = 47,
				     .frag_off = frag_off, .mf = mf });
	pkt_payload(&p, 24, 0);
	return p;
}

/* --- the flow table and the MBuf --------------------------------------- */

static int table_fd(const struct ffpf_flow *f, int k)
{
	int fd = ffpf_stage_map_fd(&f->stages[k], "flowtrack_table");

	cr_assert_geq(fd, 0, "stage %d: no flowtrack_table: %d", k, fd);
	return fd;
}

static int table_len(int fd)
{
	struct ffpf_ft_key k, next;
	int n = 0;

	if (bpf_map_get_next_key(fd, NULL, &k))
		return 0;
	do {
		n++;
	} while (!bpf_map_get_next_key(fd, &k, &next) && (k = next, true));
	return n;
}

/* The table's only entry; asserts there is exactly one. */
static void only_flow(int fd, struct ffpf_ft_key *k, struct ffpf_ft_flow *v)
{
	cr_assert_eq(table_len(fd), 1, "want exactly one flow, table has %d", table_len(fd));
	cr_assert_eq(bpf_map_get_next_key(fd, NULL, k), 0);
	cr_assert_eq(bpf_map_lookup_elem(fd, k, v), 0, "lookup: %s", strerror(errno));
}

static struct ffpf_flowtrack_mbuf *ft_mbuf(struct ffpf_flow *f, int k)
{
	struct ffpf_flowtrack_mbuf *m = ffpf_flow_filter_mbuf(f, k, NULL);

	cr_assert_not_null(m, "flowtrack MBuf: %s", strerror(errno));
	return m;
}

/* Sum one per-CPU spare counter (ffpf_ft_created, ...) over the slots. */
#define FT_SUM(m, field) ({						\
	__u64 __s = 0;							\
	for (int __i = 0; __i < FFPF_MBUF_CPUS; __i++)			\
		__s += __atomic_load_n(&(m)->cpu[__i].field, __ATOMIC_RELAXED); \
	__s;								\
})

static void v4mapped(__u8 out[16], const char *s)
{
	memset(out, 0, 16);
	out[10] = out[11] = 0xff;
	cr_assert_eq(inet_pton(AF_INET, s, out + 12), 1);
}

static void v6(__u8 out[16], const char *s)
{
	cr_assert_eq(inet_pton(AF_INET6, s, out), 1);
}

/* Run @p (verdict must be a pass) and return the flow id it carried. */
static __u32 run(const struct ffpf_flow *f, const struct pkt *p)
{
	__u32 want = ffpf_flow_hook(f) == FFPF_HOOK_EGRESS ? TC_PASS : XDP_PASS;
	struct ffpf_pkt c;

	cr_assert_eq(tf_run(f, p), want, "flowtrack must pass every packet: %s", tf_hex(p));
	tf_pctx(f, &c);
	return c.flow_id;
}

/* --- tests ------------------------------------------------------------ */

TestSuite(flowtrack_bpf, .init = tf_setup, .timeout = 120);

Test(flowtrack_bpf, table_is_sized_from_the_configuration)
{
	struct ffpf_flow *a = tf_flow("flowtrack", true);
	struct ffpf_flow *b = tf_flow("flowtrack(size=1000, idle=5, active=60)", true);
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct ffpf_flowtrack_mbuf *m = ft_mbuf(b, 0);

	memset(&info, 0, sizeof(info));
	cr_assert_eq(bpf_obj_get_info_by_fd(table_fd(a, 0), &info, &len), 0);
	cr_expect_eq(info.max_entries, FFPF_FT_SIZE_DEFAULT);
	cr_expect_eq(info.key_size, sizeof(struct ffpf_ft_key));
	cr_expect_eq(info.value_size, sizeof(struct ffpf_ft_flow));
	cr_expect_neq(info.btf_id, 0, "the table carries BTF");
	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	cr_assert_eq(bpf_obj_get_info_by_fd(table_fd(b, 0), &info, &len), 0);
	cr_expect_eq(info.max_entries, 1000);
	cr_expect_eq(m->cfg.size, 1000);
	ft_expect_u64(m->cfg.idle_ns, 5000000000ULL, "idle_ns");
	ft_expect_u64(m->cfg.active_ns, 60000000000ULL, "active_ns");
	cr_expect_eq(ffpf_stage_map_fd(&b->stages[0], "no_such_map"), -ENOENT);
	ffpf_flow_close(b);
	ffpf_flow_close(a);
}

Test(flowtrack_bpf, a_table_of_1Mi_flows_loads_and_tracks)
{
	struct ffpf_flow *f = tf_flow("flowtrack(size=1048576)", true);
	struct pkt p = pkt_udp4_ab("10.0.0.1", "10.0.0.2", 1, 2, 0);
	struct ffpf_ft_key k;
	struct ffpf_ft_flow v;
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	cr_assert_eq(bpf_obj_get_info_by_fd(table_fd(f, 0), &info, &len), 0);
	cr_expect_eq(info.max_entries, 1048576);
	cr_assert_neq(run(f, &p), 0, "a flow id");
	only_flow(table_fd(f, 0), &k, &v);
	cr_expect_eq(v.side[0].packets, 1);
	ffpf_flow_close(f);
}

Test(flowtrack_bpf, udp_both_directions_are_one_flow)
{
	struct ffpf_flow *f = tf_flow("flowtrack", true);
	struct ffpf_flowtrack_mbuf *m = ft_mbuf(f, 0);
	/* the client has the higher address: it is side 1 */
	struct pkt q = pkt_udp4_ab("10.0.0.9", "10.0.0.2", 40000, 53, 30);
	struct pkt r = pkt_udp4_ab("10.0.0.2", "10.0.0.9", 53, 40000, 200);
	struct ffpf_ft_key k;
	struct ffpf_ft_flow v;
	__u8 a[16];
	__u32 ids[5];
	int fd = table_fd(f, 0);

	ids[0] = run(f, &q);
	ids[1] = run(f, &r);
	ids[2] = run(f, &q);
	ids[3] = run(f, &r);
	ids[4] = run(f, &q);
	only_flow(fd, &k, &v);

	v4mapped(a, "10.0.0.2");
	cr_expect_eq(memcmp(k.addr[0], a, 16), 0, "side 0 is the lower address");
	v4mapped(a, "10.0.0.9");
	cr_expect_eq(memcmp(k.addr[1], a, 16), 0);
	cr_expect_eq(k.port[0], 53);
	cr_expect_eq(k.port[1], 40000);
	cr_expect_eq(k.proto, PKT_P_UDP);
	cr_expect_eq(k.ip_ver, 4);
	cr_expect_eq(k.pad, 0);

	ft_expect_u64(v.side[1].packets, 3, "client packets");
	ft_expect_u64(v.side[1].bytes, 3 * q.len, "client bytes");
	ft_expect_u64(v.side[0].packets, 2, "server packets");
	ft_expect_u64(v.side[0].bytes, 2 * r.len, "server bytes");
	cr_expect_eq(v.side[0].tcp_flags | v.side[1].tcp_flags, 0);
	cr_expect_eq(v.initiator, FFPF_FT_INIT_SIDE1, "initiator %u", v.initiator);
	cr_expect_eq(v.state, FFPF_FT_ACTIVE);
	cr_expect_eq(v.fin, 0);
	cr_expect_eq(v.end_ns, 0);
	cr_expect_neq(v.first_ns, 0);
	cr_expect_geq(v.last_ns, v.first_ns);

	cr_expect_neq(v.id, 0, "flow ids are never 0");
	for (int i = 0; i < 5; i++)
		cr_expect_eq(ids[i], v.id, "packet %d carried flow id %u, table says %u",
			     i, ids[i], v.id);

	ft_expect_u64(FT_SUM(m, ffpf_ft_created), 1, "created");
	ft_expect_u64(FT_SUM(m, ffpf_ft_not_ip), 0, "not_ip");
	ft_expect_u64(FT_SUM(m, ffpf_ft_table_full), 0, "table_full");
	ft_expect_u64(tf_fstats(f, 0).seen, 5, "seen");
	ft_expect_u64(tf_fstats(f, 0).passed, 5, "passed");
	ft_expect_u64(tf_fstats(f, 0).bytes, 3 * q.len + 2 * r.len, "bytes");
	ft_expect_u64(tf_stats(f).packets, 5, "the flow accepted every packet");
	ffpf_flow_close(f);
}

Test(flowtrack_bpf, tcp_conversation_is_one_flow)
{
	struct ffpf_flow *f = tf_flow("flowtrack", true);
	const char *c = "10.0.0.1", *s = "10.0.0.2";
	struct pkt syn = pkt_tcp4_ab(c, s, 40000, 80, TH_SYN, 0);
	struct pkt synack = pkt_tcp4_ab(s, c, 80, 40000, TH_SYN | TH_ACK, 0);
	struct pkt ack = pkt_tcp4_ab(c, s, 40000, 80, TH_ACK, 0);
	struct pkt req = pkt_tcp4_ab(c, s, 40000, 80, TH_ACK | TH_PSH, 100);
	struct pkt resp = pkt_tcp4_ab(s, c, 80, 40000, TH_ACK | TH_PSH, 1000);
	struct ffpf_ft_key k;
	struct ffpf_ft_flow v;
	__u32 id;
	int fd = table_fd(f, 0);

	id = run(f, &syn);
	cr_expect_eq(run(f, &synack), id);
	cr_expect_eq(run(f, &ack), id);
	cr_expect_eq(run(f, &req), id);
	cr_expect_eq(run(f, &resp), id);
	only_flow(fd, &k, &v);
	cr_expect_eq(v.id, id);
	cr_expect_eq(k.port[0], 40000);
	cr_expect_eq(k.port[1], 80);
	cr_expect_eq(k.proto, PKT_P_TCP);
	cr_expect_eq(v.initiator, FFPF_FT_INIT_SIDE0);
	ft_expect_u64(v.side[0].packets, 3, "client packets");
	ft_expect_u64(v.side[0].bytes, syn.len + ack.len + req.len, "client bytes");
	ft_expect_u64(v.side[1].packets, 2, "server packets");
	ft_expect_u64(v.side[1].bytes, synack.len + resp.len, "server bytes");
	cr_expect_eq(v.side[0].tcp_flags, TH_SYN | TH_ACK | TH_PSH, "client flags 0x%x",
		     v.side[0].tcp_flags);
	cr_expect_eq(v.side[1].tcp_flags, TH_SYN | TH_ACK | TH_PSH, "server flags 0x%x",
		     v.side[1].tcp_flags);
	cr_expect_eq(v.state, FFPF_FT_ACTIVE);
	ffpf_flow_close(f);
}

Test(flowtrack_bpf, same_address_sides_are_ordered_by_port)
{
	struct ffpf_flow *f = tf_flow("flowtrack", true);
	struct pkt syn = pkt_tcp4_ab("10.0.0.1", "10.0.0.1", 50000, 80, TH_SYN, 0);
	struct pkt synack = pkt_tcp4_ab("10.0.0.1", "10.0.0.1", 80, 50000, TH_SYN | TH_ACK, 0);
	struct ffpf_ft_key k;
	struct ffpf_ft_flow v;

	cr_expect_eq(run(f, &syn), run(f, &synack));
	only_flow(table_fd(f, 0), &k, &v);
	cr_expect_eq(k.port[0], 80, "side 0 is the lower port");
	cr_expect_eq(k.port[1], 50000);
	cr_expect_eq(v.initiator, FFPF_FT_INIT_SIDE1, "the SYN came from port 50000");
	ft_expect_u64(v.side[0].packets, 1, "side 0");
	ft_expect_u64(v.side[1].packets, 1, "side 1");
	ffpf_flow_close(f);
}

Test(flowtrack_bpf, ipv6_both_directions_are_one_flow)
{
	struct ffpf_flow *f = tf_flow("flowtrack", true);
	const char *c = "2001:db8::20", *s = "2001:db8::10";
	struct pkt syn = tcp6(c, s, 33333, 443, TH_SYN, 0);
	struct pkt synack = tcp6(s, c, 443, 33333, TH_SYN | TH_ACK, 0);
	struct pkt data = tcp6(c, s, 33333, 443, TH_ACK, 500);
	struct pkt u = udp6(c, s, 5000, 5001, 10);
	struct ffpf_ft_key k, kn;
	struct ffpf_ft_flow v;
	__u8 a[16];
	int fd = table_fd(f, 0), n = 0;

	run(f, &syn);
	run(f, &synack);
	run(f, &data);
	run(f, &u);
	cr_expect_eq(table_len(fd), 2, "one TCP and one UDP flow");
	/* find the TCP one */
	cr_assert_eq(bpf_map_get_next_key(fd, NULL, &k), 0);
	if (k.proto != PKT_P_TCP) {
		cr_assert_eq(bpf_map_get_next_key(fd, &k, &kn), 0);
		k = kn;
	}
	cr_assert_eq(k.proto, PKT_P_TCP);
	cr_assert_eq(bpf_map_lookup_elem(fd, &k, &v), 0);
	cr_expect_eq(k.ip_ver, 6);
	v6(a, s);
	cr_expect_eq(memcmp(k.addr[0], a, 16), 0, "side 0 is 2001:db8::10");
	v6(a, c);
	cr_expect_eq(memcmp(k.addr[1], a, 16), 0);
	cr_expect_eq(k.port[0], 443);
	cr_expect_eq(k.port[1], 33333);
	cr_expect_eq(v.initiator, FFPF_FT_INIT_SIDE1);
	ft_expect_u64(v.side[1].packets, 2, "client");
	ft_expect_u64(v.side[1].bytes, syn.len + data.len, "client bytes");
	ft_expect_u64(v.side[0].packets, 1, "server");
	ft_expect_u64(v.side[0].bytes, synack.len, "server bytes");
	(void)n;
	ffpf_flow_close(f);
}

Test(flowtrack_bpf, icmp_echo_request_and_reply_are_one_flow)
{
	struct ffpf_flow *f = tf_flow("flowtrack", true);
	struct pkt req = icmp4("10.0.0.1", "10.0.0.2", 8, 0, 77);
	struct pkt rep = icmp4("10.0.0.2", "10.0.0.1", 0, 0, 77);
	struct pkt other = icmp4("10.0.0.1", "10.0.0.2", 8, 0, 78);
	struct pkt unreach = icmp4("10.0.0.2", "10.0.0.1", 3, 1, 0);
	struct ffpf_ft_key k = { 0 };
	struct ffpf_ft_flow v;
	__u32 id;
	int fd = table_fd(f, 0);

	id = run(f, &req);
	cr_expect_eq(run(f, &rep), id, "the reply joins the request's flow");
	cr_expect_eq(run(f, &req), id);
	cr_expect_neq(run(f, &other), id, "another echo id is another flow");
	cr_expect_neq(run(f, &unreach), id);
	cr_expect_eq(table_len(fd), 3);

	v4mapped(k.addr[0], "10.0.0.1");
	v4mapped(k.addr[1], "10.0.0.2");
	k.port[0] = 8 << 8;
	k.port[1] = 77;
	k.proto = PKT_P_ICMP;
	k.ip_ver = 4;
	cr_assert_eq(bpf_map_lookup_elem(fd, &k, &v), 0, "echo flow keyed as the request");
	cr_expect_eq(v.id, id);
	ft_expect_u64(v.side[0].packets, 2, "requests");
	ft_expect_u64(v.side[1].packets, 1, "replies");
	cr_expect_eq(v.initiator, FFPF_FT_INIT_SIDE0);

	/* other messages keep type and code, id 0; sides by address only */
	k.port[0] = 3 << 8 | 1;
	k.port[1] = 0;
	cr_assert_eq(bpf_map_lookup_elem(fd, &k, &v), 0, "unreachable keyed by type/code");
	ft_expect_u64(v.side[1].packets, 1, "sent by 10.0.0.2");
	cr_expect_eq(v.initiator, FFPF_FT_INIT_SIDE1);

	/* a reply without its request: the requester is not known to be seen */
	{
		struct pkt lone = icmp4("10.0.0.2", "10.0.0.1", 0, 0, 99);

		cr_expect_neq(run(f, &lone), 0);
		k.port[0] = 8 << 8;
		k.port[1] = 99;
		cr_assert_eq(bpf_map_lookup_elem(fd, &k, &v), 0, "reply keyed as the request");
		cr_expect_eq(v.initiator, FFPF_FT_INIT_UNKNOWN, "initiator %u", v.initiator);
	}
	ffpf_flow_close(f);
}

Test(flowtrack_bpf, icmpv6_echo_request_and_reply_are_one_flow)
{
	struct ffpf_flow *f = tf_flow("flowtrack", true);
	struct pkt req = icmp6("2001:db8::2", "2001:db8::1", 128, 9);
	struct pkt rep = icmp6("2001:db8::1", "2001:db8::2", 129, 9);
	struct ffpf_ft_key k;
	struct ffpf_ft_flow v;
	__u32 id;

	id = run(f, &req);
	cr_expect_eq(run(f, &rep), id);
	only_flow(table_fd(f, 0), &k, &v);
	cr_expect_eq(k.port[0], 128 << 8);
	cr_expect_eq(k.port[1], 9);
	cr_expect_eq(k.proto, PKT_P_ICMPV6);
	cr_expect_eq(k.ip_ver, 6);
	cr_expect_eq(v.initiator, FFPF_FT_INIT_SIDE1, "the request came from ::2");
	ft_expect_u64(v.side[0].packets, 1, "side 0");
	ft_expect_u64(v.side[1].packets, 1, "side 1");
	ffpf_flow_close(f);
}

Test(flowtrack_bpf, tcp_without_syn_has_unknown_initiator)
{
	struct ffpf_flow *f = tf_flow("flowtrack", true);
	struct pkt ack = pkt_tcp4_ab("10.0.0.1", "10.0.0.2", 40000, 80, TH_ACK, 10);
	struct pkt synack = pkt_tcp4_ab("10.0.0.2", "10.0.0.3", 80, 40001, TH_SYN | TH_ACK, 0);
	struct ffpf_ft_key k = { 0 };
	struct ffpf_ft_flow v;
	int fd = table_fd(f, 0);

	run(f, &ack);
	run(f, &synack);
	cr_expect_eq(table_len(fd), 2);
	v4mapped(k.addr[0], "10.0.0.1");
	v4mapped(k.addr[1], "10.0.0.2");
	k.port[0] = 40000;
	k.port[1] = 80;
	k.proto = PKT_P_TCP;
	k.ip_ver = 4;
	cr_assert_eq(bpf_map_lookup_elem(fd, &k, &v), 0);
	cr_expect_eq(v.initiator, FFPF_FT_INIT_UNKNOWN, "mid-stream ACK: %u", v.initiator);
	v4mapped(k.addr[0], "10.0.0.2");
	v4mapped(k.addr[1], "10.0.0.3");
	k.port[0] = 80;
	k.port[1] = 40001;
	cr_assert_eq(bpf_map_lookup_elem(fd, &k, &v), 0);
	cr_expect_eq(v.initiator, FFPF_FT_INIT_UNKNOWN, "SYN-ACK first: %u", v.initiator);
	ffpf_flow_close(f);
}

Test(flowtrack_bpf, rst_without_flow_creates_nothing)
{
	struct ffpf_flow *f = tf_flow("flowtrack -> count", true);
	struct ffpf_flowtrack_mbuf *m = ft_mbuf(f, 0);
	struct pkt rst = pkt_tcp4_ab("10.0.0.1", "10.0.0.2", 40000, 80, TH_RST | TH_ACK, 0);

	cr_expect_eq(run(f, &rst), 0, "no flow, no id");
	cr_expect_eq(run(f, &rst), 0);
	cr_expect_eq(table_len(table_fd(f, 0)), 0);
	ft_expect_u64(FT_SUM(m, ffpf_ft_rst_no_flow), 2, "rst_no_flow");
	ft_expect_u64(FT_SUM(m, ffpf_ft_created), 0, "created");
	ft_expect_u64(tf_fstats(f, 1).seen, 2, "passed on to count");
	ffpf_flow_close(f);
}

Test(flowtrack_bpf, rst_closes_the_flow)
{
	struct ffpf_flow *f = tf_flow("flowtrack", true);
	struct pkt syn = pkt_tcp4_ab("10.0.0.1", "10.0.0.2", 40000, 80, TH_SYN, 0);
	struct pkt rst = pkt_tcp4_ab("10.0.0.2", "10.0.0.1", 80, 40000, TH_RST | TH_ACK, 0);
	struct ffpf_ft_key k;
	struct ffpf_ft_flow v, v2;
	__u32 id;
	int fd = table_fd(f, 0);

	id = run(f, &syn);
	cr_expect_eq(run(f, &rst), id, "the RST belongs to the flow");
	only_flow(fd, &k, &v);
	cr_expect_eq(v.state, FFPF_FT_CLOSED, "state %u", v.state);
	cr_expect_neq(v.end_ns, 0);
	cr_expect_geq(v.end_ns, v.first_ns);
	ft_expect_u64(v.side[1].packets, 1, "the RST is counted");
	cr_expect_eq(v.side[1].tcp_flags, TH_RST | TH_ACK);
	/* a second RST leaves end_ns alone */
	cr_expect_eq(run(f, &rst), id);
	cr_assert_eq(bpf_map_lookup_elem(fd, &k, &v2), 0);
	cr_expect_eq(v2.state, FFPF_FT_CLOSED);
	ft_expect_u64(v2.end_ns, v.end_ns, "end_ns moved");
	ft_expect_u64(v2.side[1].packets, 2, "still counted");
	ffpf_flow_close(f);
}

Test(flowtrack_bpf, fin_both_ways_is_closing_and_the_last_ack_counts)
{
	struct ffpf_flow *f = tf_flow("flowtrack", true);
	const char *c = "10.0.0.1", *s = "10.0.0.2";
	struct pkt syn = pkt_tcp4_ab(c, s, 40000, 80, TH_SYN, 0);
	struct pkt fin_c = pkt_tcp4_ab(c, s, 40000, 80, TH_FIN | TH_ACK, 0);
	struct pkt fin_s = pkt_tcp4_ab(s, c, 80, 40000, TH_FIN | TH_ACK, 0);
	struct pkt ack = pkt_tcp4_ab(c, s, 40000, 80, TH_ACK, 0);
	struct ffpf_ft_key k;
	struct ffpf_ft_flow v;
	__u64 end;
	__u32 id;
	int fd = table_fd(f, 0);

	id = run(f, &syn);
	run(f, &fin_c);
	only_flow(fd, &k, &v);
	cr_expect_eq(v.fin, 1, "FIN from side 0 only: fin 0x%x", v.fin);
	cr_expect_eq(v.state, FFPF_FT_ACTIVE, "one FIN is not the end");
	cr_expect_eq(v.end_ns, 0);
	run(f, &fin_c);		/* a retransmitted FIN changes nothing */
	run(f, &fin_s);
	only_flow(fd, &k, &v);
	cr_expect_eq(v.fin, 3, "fin 0x%x", v.fin);
	cr_expect_eq(v.state, FFPF_FT_CLOSING, "state %u", v.state);
	cr_expect_neq(v.end_ns, 0);
	end = v.end_ns;
	cr_expect_eq(run(f, &ack), id, "the last ACK keeps the flow's id");
	only_flow(fd, &k, &v);
	cr_expect_eq(v.state, FFPF_FT_CLOSING);
	ft_expect_u64(v.end_ns, end, "end_ns is when CLOSING was set");
	ft_expect_u64(v.side[0].packets, 4, "SYN, FIN, FIN, last ACK");
	ft_expect_u64(v.side[1].packets, 1, "server FIN");
	cr_expect_eq(v.id, id);
	ffpf_flow_close(f);
}

Test(flowtrack_bpf, full_table_passes_and_counts)
{
	struct ffpf_flow *f = tf_flow("flowtrack(size=16) -> count", true);
	struct ffpf_flowtrack_mbuf *m = ft_mbuf(f, 0);
	int fd = table_fd(f, 0), zero_ids = 0;
	__u32 ids[20];

	for (int i = 0; i < 20; i++) {
		struct pkt p = pkt_udp4_ab("10.0.0.1", "10.0.0.2", 1000 + i, 53, 10);

		ids[i] = run(f, &p);
		if (!ids[i])
			zero_ids++;
	}
	cr_expect_eq(table_len(fd), 16);
	ft_expect_u64(FT_SUM(m, ffpf_ft_created), 16, "created");
	ft_expect_u64(FT_SUM(m, ffpf_ft_table_full), 4, "table_full");
	cr_expect_eq(zero_ids, 4, "packets not tracked carry flow id 0");
	for (int i = 0; i < 16; i++) {
		cr_expect_neq(ids[i], 0);
		for (int j = 0; j < i; j++)
			cr_expect_neq(ids[i], ids[j], "flows %d and %d share id %u", i, j, ids[i]);
	}
	/* a tracked flow still counts when the table is full */
	{
		struct pkt p = pkt_udp4_ab("10.0.0.2", "10.0.0.1", 53, 1000, 10);

		cr_expect_eq(run(f, &p), ids[0]);
	}
	ft_expect_u64(tf_fstats(f, 1).seen, 21, "every packet reached count");
	ft_expect_u64(tf_stats(f).packets, 21, "the flow accepted every packet");
	ffpf_flow_close(f);
}

Test(flowtrack_bpf, untrackable_packets_pass_and_count_not_ip)
{
	struct ffpf_flow *f = tf_flow("flowtrack -> count", true);
	struct ffpf_flowtrack_mbuf *m = ft_mbuf(f, 0);
	struct pkt p[6];
	size_t l4;
	int n = 0;

	/* ARP */
	pkt_init(&p[n]);
	pkt_eth(&p[n], PKT_ETH_ARP);
	pkt_arp(&p[n]);
	n++;
	/* TCP header cut 4 bytes in */
	p[n] = pkt_tcp4_ab("10.0.0.1", "10.0.0.2", 1, 2, TH_ACK, 0);
	pkt_cut(&p[n], 14 + 20 + 4);
	n++;
	/* IPv4 IHL 4 */
	pkt_init(&p[n]);
	pkt_eth(&p[n], PKT_ETH_IP);
	pkt_ipv4(&p[n], &(struct ip4){ .proto = PKT_P_UDP, .ihl = 4 });
	pkt_udp(&p[n], 1, 2);
	n++;
	/* non-first fragment of UDP: no ports */
	pkt_init(&p[n]);
	pkt_eth(&p[n], PKT_ETH_IP);
	pkt_ipv4(&p[n], &(struct ip4){ .proto = PKT_P_UDP, .frag_off = 64, .mf = true });
	pkt_payload(&p[n], 40, 0);
	n++;
	/* ICMP echo cut before its id */
	p[n] = icmp4("10.0.0.1", "10.0.0.2", 8, 0, 5);
	pkt_cut(&p[n], 14 + 20 + 4);
	n++;
	/* IPv6 cut inside an extension header */
	pkt_init(&p[n]);
	pkt_eth(&p[n], PKT_ETH_IPV6);
	pkt_ipv6(&p[n], &(struct ip6){ .next = PKT_P_HOPOPTS });
	l4 = p[n].len;
	pkt_ip6_ext(&p[n], PKT_P_UDP, 0);
	pkt_cut(&p[n], l4 + 4);
	n++;

	for (int i = 0; i < n; i++)
		cr_expect_eq(run(f, &p[i]), 0, "frame %d carried a flow id", i);
	cr_expect_eq(table_len(table_fd(f, 0)), 0, "nothing tracked");
	ft_expect_u64(FT_SUM(m, ffpf_ft_not_ip), n, "not_ip");
	ft_expect_u64(FT_SUM(m, ffpf_ft_created), 0, "created");
	ft_expect_u64(tf_fstats(f, 0).passed, n, "passed");
	ft_expect_u64(tf_fstats(f, 1).seen, n, "all reached count");
	ffpf_flow_close(f);
}

Test(flowtrack_bpf, portless_protocols_are_address_pair_flows)
{
	struct ffpf_flow *f = tf_flow("flowtrack", true);
	struct ffpf_flowtrack_mbuf *m = ft_mbuf(f, 0);
	struct pkt a = gre4("10.0.0.2", "10.0.0.1", 0, false);
	struct pkt b = gre4("10.0.0.1", "10.0.0.2", 0, false);
	struct pkt frag = gre4("10.0.0.2", "10.0.0.1", 64, false);
	struct ffpf_ft_key k;
	struct ffpf_ft_flow v;
	__u32 id;

	id = run(f, &a);
	cr_expect_eq(run(f, &b), id);
	cr_expect_eq(run(f, &frag), id, "a later fragment needs no ports here");
	only_flow(table_fd(f, 0), &k, &v);
	cr_expect_eq(k.proto, 47);
	cr_expect_eq(k.port[0], 0);
	cr_expect_eq(k.port[1], 0);
	cr_expect_eq(v.initiator, FFPF_FT_INIT_SIDE1);
	ft_expect_u64(v.side[1].packets, 2, "from 10.0.0.2");
	ft_expect_u64(v.side[0].packets, 1, "from 10.0.0.1");
	ft_expect_u64(FT_SUM(m, ffpf_ft_not_ip), 0, "not_ip");
	ffpf_flow_close(f);
}

Test(flowtrack_bpf, first_fragment_is_tracked)
{
	struct ffpf_flow *f = tf_flow("flowtrack", true);
	struct pkt first, whole = pkt_udp4_ab("10.0.0.1", "10.0.0.2", 7000, 7001, 8);
	struct ffpf_ft_key k;
	struct ffpf_ft_flow v;
	__u32 id;

	pkt_init(&first);
	pkt_eth(&first, PKT_ETH_IP);
	pkt_ipv4(&first, &(struct ip4){ .proto = PKT_P_UDP, .mf = true });
	pkt_udp(&first, 7000, 7001);
	pkt_payload(&first, 64, 0);
	id = run(f, &first);
	cr_expect_neq(id, 0);
	cr_expect_eq(run(f, &whole), id);
	only_flow(table_fd(f, 0), &k, &v);
	ft_expect_u64(v.side[0].packets, 2, "both in one flow");
	ffpf_flow_close(f);
}

Test(flowtrack_bpf, egress_build_tracks_too)
{
	struct ffpf_flow *f = tf_flow_on("flowtrack(size=64)", FFPF_HOOK_EGRESS, true);
	struct pkt q = pkt_udp4_ab("10.0.0.1", "10.0.0.2", 1234, 53, 20);
	struct pkt r = pkt_udp4_ab("10.0.0.2", "10.0.0.1", 53, 1234, 80);
	struct ffpf_ft_key k;
	struct ffpf_ft_flow v;
	struct bpf_map_info info;
	__u32 id, len = sizeof(info);

	cr_assert_eq(ffpf_flow_hook(f), FFPF_HOOK_EGRESS);
	id = run(f, &q);
	cr_expect_neq(id, 0);
	cr_expect_eq(run(f, &r), id);
	only_flow(table_fd(f, 0), &k, &v);
	cr_expect_eq(v.id, id);
	ft_expect_u64(v.side[0].bytes, q.len, "side 0 bytes");
	ft_expect_u64(v.side[1].bytes, r.len, "side 1 bytes");
	memset(&info, 0, sizeof(info));
	cr_assert_eq(bpf_obj_get_info_by_fd(table_fd(f, 0), &info, &len), 0);
	cr_expect_eq(info.max_entries, 64);
	ffpf_flow_close(f);
}

Test(flowtrack_bpf, two_instances_keep_separate_tables)
{
	struct ffpf_flow *a = tf_flow("match(udp) -> flowtrack", true);
	struct ffpf_flow *b = tf_flow("flowtrack", true);
	struct pkt u = pkt_udp4_ab("10.0.0.1", "10.0.0.2", 1, 2, 0);
	struct pkt t = pkt_tcp4_ab("10.0.0.1", "10.0.0.2", 1, 2, TH_SYN, 0);

	run(a, &u);
	run(a, &t);
	cr_expect_eq(table_len(table_fd(a, 1)), 1, "behind match(udp): UDP only");
	cr_expect_eq(table_len(table_fd(b, 0)), 2);
	ffpf_flow_close(b);
	ffpf_flow_close(a);
}

/* --- two CPUs on one flow ---------------------------------------------- */

struct racer {
	const struct ffpf_flow *f;
	const struct pkt *p;
	pthread_barrier_t *go;
	int cpu;
	int err;
};

#define RACE_N	20000

static void *race(void *arg)
{
	struct racer *r = arg;
	LIBBPF_OPTS(bpf_test_run_opts, o, .repeat = RACE_N, .data_in = r->p->b,
		    .data_size_in = r->p->len);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	r->err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	pthread_barrier_wait(r->go);
	if (!r->err && bpf_prog_test_run_opts(ffpf_flow_root_prog_fd(r->f), &o))
		r->err = errno;
	return NULL;
}

/* Run @a on one CPU and @b on another, RACE_N times each, at once. */
static void race2(const struct ffpf_flow *f, const struct pkt *a, const struct pkt *b)
{
	pthread_barrier_t go;
	struct racer r[2] = {
		{ .f = f, .p = a, .go = &go, .cpu = 0 },
		{ .f = f, .p = b, .go = &go, .cpu = 1 },
	};
	pthread_t t[2];

	pthread_barrier_init(&go, NULL, 2);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(r[i].err, 0, "racer on CPU %d: %s", r[i].cpu, strerror(r[i].err));
}

Test(flowtrack_bpf, two_cpus_on_one_flow_lose_no_packet)
{
	struct ffpf_flow *f;
	struct ffpf_flowtrack_mbuf *m;
	struct pkt q = pkt_udp4_ab("10.0.0.1", "10.0.0.2", 4000, 4001, 10);
	struct pkt r = pkt_udp4_ab("10.0.0.2", "10.0.0.1", 4001, 4000, 50);
	struct ffpf_ft_key k;
	struct ffpf_ft_flow v;

	if (libbpf_num_possible_cpus() < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("needs two CPUs");
	f = tf_flow("flowtrack", true);
	m = ft_mbuf(f, 0);
	/* both directions at once: the first packets race to create the flow */
	race2(f, &q, &r);
	only_flow(table_fd(f, 0), &k, &v);
	ft_expect_u64(FT_SUM(m, ffpf_ft_created), 1, "created");
	ft_expect_u64(FT_SUM(m, ffpf_ft_table_full), 0, "table_full");
	ft_expect_u64(v.side[0].packets, RACE_N, "side 0 packets");
	ft_expect_u64(v.side[0].bytes, (__u64)RACE_N * q.len, "side 0 bytes");
	ft_expect_u64(v.side[1].packets, RACE_N, "side 1 packets");
	ft_expect_u64(v.side[1].bytes, (__u64)RACE_N * r.len, "side 1 bytes");
	/* one direction from both CPUs: the same counters from two CPUs */
	race2(f, &q, &q);
	only_flow(table_fd(f, 0), &k, &v);
	ft_expect_u64(v.side[0].packets, 3 * RACE_N, "side 0 packets");
	ft_expect_u64(v.side[0].bytes, (__u64)3 * RACE_N * q.len, "side 0 bytes");
	ft_expect_u64(tf_fstats(f, 0).seen, 4 * RACE_N, "seen");
	ffpf_flow_close(f);
}
