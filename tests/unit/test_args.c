/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * test_args.c - unit tests of the built-in classes' argument parsers and
 * of ffpf_match_may_overlap() (user/lib/args.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <ffpf/flowtrack.h>

#include "spec.h"

/* Parse a one-filter spec text; the caller frees. */
static struct ffpf_spec *one_filter(const char *text)
{
	struct ffpf_spec_error err = { 0 };
	struct ffpf_spec *spec = NULL;
	int ret = ffpf_spec_parse(text, &spec, &err);

	cr_assert_eq(ret, 0, "\"%s\": %d:%d: %s", text, err.line, err.col, err.msg);
	return spec;
}

static struct ffpf_match_cfg match_ok(const char *text)
{
	struct ffpf_spec *spec = one_filter(text);
	struct ffpf_spec_error err = { 0 };
	struct ffpf_match_cfg cfg;
	int ret = ffpf_match_parse_args(&spec->filters[0], &cfg, &err);

	ffpf_spec_free(spec);
	cr_assert_eq(ret, 0, "\"%s\": %d:%d: %s", text, err.line, err.col, err.msg);
	return cfg;
}

static void check_err(const char *text, int ret, const struct ffpf_spec_error *err,
		      int line, int col, const char *sub)
{
	cr_assert_eq(ret, -EINVAL, "\"%s\": want -EINVAL, got %d", text, ret);
	cr_expect_eq(err->line, line, "\"%s\": line %d, want %d (%s)",
		     text, err->line, line, err->msg);
	cr_expect_eq(err->col, col, "\"%s\": col %d, want %d (%s)",
		     text, err->col, col, err->msg);
	cr_expect_not_null(strstr(err->msg, sub), "\"%s\": message '%s' lacks '%s'",
			   text, err->msg, sub);
}

static void match_err(const char *text, int line, int col, const char *sub)
{
	struct ffpf_spec *spec = one_filter(text);
	struct ffpf_spec_error err = { 0 };
	struct ffpf_match_cfg cfg;
	int ret = ffpf_match_parse_args(&spec->filters[0], &cfg, &err);

	ffpf_spec_free(spec);
	check_err(text, ret, &err, line, col, sub);
}

static void sample_err(const char *text, int line, int col, const char *sub)
{
	struct ffpf_spec *spec = one_filter(text);
	struct ffpf_spec_error err = { 0 };
	__u32 every = 0;
	int ret = ffpf_sample_parse_args(&spec->filters[0], &every, &err);

	ffpf_spec_free(spec);
	check_err(text, ret, &err, line, col, sub);
}

static void expect_v4(const __u8 *a, __u8 b0, __u8 b1, __u8 b2, __u8 b3)
{
	static const __u8 pre[12] = { [10] = 0xff, [11] = 0xff };

	cr_expect_eq(memcmp(a, pre, 12), 0, "not v4-mapped");
	cr_expect(a[12] == b0 && a[13] == b1 && a[14] == b2 && a[15] == b3,
		  "got %u.%u.%u.%u", a[12], a[13], a[14], a[15]);
}

/* match: valid terms */

Test(match, no_terms_match_everything)
{
	struct ffpf_match_cfg c = match_ok("match()");

	cr_expect_eq(c.fields, 0);
}

Test(match, protocols)
{
	struct ffpf_match_cfg c = match_ok("match(udp)");

	cr_expect_eq(c.fields, FFPF_M_PROTO);
	cr_expect_eq(c.l4_proto, 17);
	c = match_ok("match(tcp)");
	cr_expect_eq(c.l4_proto, 6);
	c = match_ok("match(sctp)");
	cr_expect_eq(c.l4_proto, 132);
	c = match_ok("match(gre)");
	cr_expect_eq(c.l4_proto, 47);
	c = match_ok("match(proto 89)");
	cr_expect_eq(c.fields, FFPF_M_PROTO);
	cr_expect_eq(c.l4_proto, 89);
	c = match_ok("match(proto udp, udp)");
	cr_expect_eq(c.l4_proto, 17);
}

Test(match, icmp_sets_version)
{
	struct ffpf_match_cfg c = match_ok("match(icmp)");

	cr_expect_eq(c.fields, FFPF_M_PROTO | FFPF_M_IPVER);
	cr_expect_eq(c.l4_proto, 1);
	cr_expect_eq(c.ip_ver, 4);
	c = match_ok("match(ip6, icmp6)");
	cr_expect_eq(c.l4_proto, 58);
	cr_expect_eq(c.ip_ver, 6);
	c = match_ok("match(proto icmp)");
	cr_expect_eq(c.ip_ver, 4);
}

Test(match, ip_versions)
{
	struct ffpf_match_cfg c = match_ok("match(ip)");

	cr_expect_eq(c.fields, FFPF_M_IPVER);
	cr_expect_eq(c.ip_ver, 4);
	c = match_ok("match(ip4)");
	cr_expect_eq(c.ip_ver, 4);
	c = match_ok("match(ip6)");
	cr_expect_eq(c.ip_ver, 6);
}

Test(match, ipv4_hosts_and_nets)
{
	struct ffpf_match_cfg c = match_ok("match(src host 10.1.2.3, dst net 192.168.77.9/20)");

	/* the literal's family sets the IP version: no IPv6 packet with a
	 * v4-mapped address can match an IPv4 host */
	cr_expect_eq(c.fields, FFPF_M_SRC | FFPF_M_DST | FFPF_M_IPVER);
	cr_expect_eq(c.ip_ver, 4);
	expect_v4(c.src, 10, 1, 2, 3);
	cr_expect_eq(c.src_plen, 128);
	expect_v4(c.dst, 192, 168, 64, 0);	/* host bits masked */
	cr_expect_eq(c.dst_plen, 116);
}

Test(match, ipv6_net_any_direction)
{
	static const __u8 want[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x10 };
	struct ffpf_match_cfg c = match_ok("match(net 2001:db8:1234::1/36)");

	cr_expect_eq(c.fields, FFPF_M_ANYADDR | FFPF_M_IPVER);
	cr_expect_eq(c.ip_ver, 6);
	cr_expect_eq(c.any_plen, 36);
	cr_expect_eq(memcmp(c.any, want, 16), 0);
}

Test(match, ipv6_host_and_zero_prefix)
{
	struct ffpf_match_cfg c = match_ok("match(dst host ::1, ip6)");

	cr_expect_eq(c.dst_plen, 128);
	cr_expect_eq(c.dst[15], 1);
	/* ::/0 means any IPv6 address: it conflicts with ip4 */
	c = match_ok("match(ip6, net ::/0)");
	cr_expect_eq(c.any_plen, 0);
	cr_expect_eq(c.ip_ver, 6);
	c = match_ok("match(net 0.0.0.0/0)");
	cr_expect_eq(c.any_plen, 96);
	cr_expect_eq(c.ip_ver, 4);
	/* IPv4 written v4-mapped is IPv4 */
	c = match_ok("match(host ::ffff:10.0.0.1)");
	cr_expect_eq(c.ip_ver, 4);
	expect_v4(c.any, 10, 0, 0, 1);
}

Test(match, ports)
{
	struct ffpf_match_cfg c = match_ok("match(port 53)");

	cr_expect_eq(c.fields, FFPF_M_ANYPORT);
	cr_expect(c.port_lo == 53 && c.port_hi == 53);
	c = match_ok("match(src port 1024-65535, dst portrange 0-80)");
	cr_expect_eq(c.fields, FFPF_M_SPORT | FFPF_M_DPORT);
	cr_expect(c.sport_lo == 1024 && c.sport_hi == 65535);
	cr_expect(c.dport_lo == 0 && c.dport_hi == 80);
	c = match_ok("match(portrange 7-7, udp)");
	cr_expect(c.port_lo == 7 && c.port_hi == 7);
}

Test(match, tcp_flags)
{
	struct ffpf_match_cfg c = match_ok("match(flags S)");

	cr_expect_eq(c.fields, FFPF_M_TCPFLAGS | FFPF_M_PROTO);
	cr_expect_eq(c.l4_proto, 6);
	cr_expect(c.tcp_value == 0x02 && c.tcp_mask == 0x02);
	c = match_ok("match(tcp flags S/SA)");
	cr_expect(c.tcp_value == 0x02 && c.tcp_mask == 0x12);
	c = match_ok("match(tcp, tcp-flags fsrpauec)");
	cr_expect(c.tcp_value == 0xff && c.tcp_mask == 0xff);
}

Test(match, vlan_and_icmp_type)
{
	struct ffpf_match_cfg c = match_ok("match(vlan)");

	cr_expect_eq(c.fields, FFPF_M_ANYVLAN);
	c = match_ok("match(vlan 4095)");
	cr_expect_eq(c.fields, FFPF_M_VLAN);
	cr_expect_eq(c.vlan_id, 4095);
	c = match_ok("match(icmp-type 3)");
	cr_expect_eq(c.fields, FFPF_M_ICMPTYPE);
	cr_expect_eq(c.icmp_type, 3);
	c = match_ok("match(icmp, icmp-type echo-request)");
	cr_expect_eq(c.icmp_type, 8);
	c = match_ok("match(icmp-type echo-reply)");
	cr_expect_eq(c.icmp_type, 0);
	c = match_ok("match(icmp6, icmp-type 128)");
	cr_expect_eq(c.icmp_type, 128);
}

Test(match, multiline_terms)
{
	struct ffpf_match_cfg c = match_ok("match(udp,\n      dst\n  port 53)");

	cr_expect(c.dport_lo == 53 && c.dport_hi == 53);
}

/* match: errors at the offending word */

Test(match_err, port_out_of_range_line2)
{
	match_err("match(udp,\n  dst port 99999) -> count", 2, 12,
		  "port 99999 out of range (0..65535)");
}

Test(match_err, port_range_high_end)
{
	match_err("match(port 10-70000)", 1, 15, "port 70000 out of range");
}

Test(match_err, port_range_reversed)
{
	match_err("match(port 100-50)", 1, 12, "bad port range '100-50'");
}

Test(match_err, port_not_a_number)
{
	match_err("match(src port http)", 1, 16, "bad port 'http'");
}

Test(match_err, port_missing)
{
	match_err("match(udp, port)", 1, 12, "port needs a number");
}

Test(match_err, portrange_needs_range)
{
	match_err("match(portrange 80)", 1, 17, "expected N-M");
}

Test(match_err, duplicate_port)
{
	match_err("match(port 53, port 54)", 1, 16, "duplicate port constraint");
	match_err("match(dst port 53, dst portrange 1-9)", 1, 24,
		  "duplicate dst port constraint");
}

Test(match_err, bad_ipv4_address)
{
	match_err("match(host 10.0.0.300)", 1, 12, "bad address '10.0.0.300'");
}

Test(match_err, bad_ipv6_address)
{
	match_err("match(dst net 2001:db8:::1/64)", 1, 15, "bad address '2001:db8:::1'");
}

Test(match_err, prefix_too_long)
{
	match_err("match(net 10.0.0.0/33)", 1, 20, "IPv4 prefix length 33 out of range (0..32)");
	match_err("match(net ::/129)", 1, 14, "IPv6 prefix length 129 out of range (0..128)");
}

Test(match_err, net_without_length)
{
	match_err("match(net 10.0.0.0)", 1, 11, "expected ADDR/LEN");
}

Test(match_err, host_with_length)
{
	match_err("match(host 10.0.0.0/8)", 1, 12, "use 'net'");
}

Test(match_err, duplicate_address)
{
	match_err("match(src host 1.2.3.4, src net 1.0.0.0/8)", 1, 29,
		  "duplicate src address constraint");
}

Test(match_err, conflicting_protocols)
{
	match_err("match(tcp, udp)", 1, 12, "udp conflicts with earlier tcp");
	match_err("match(sctp,\n proto 17)", 2, 2, "proto 17 conflicts with earlier sctp");
}

Test(match_err, flags_conflict_with_udp)
{
	match_err("match(udp, flags S)", 1, 12, "tcp flags conflicts with earlier udp");
	match_err("match(flags S, udp)", 1, 16, "udp conflicts with earlier tcp");
}

Test(match_err, bad_flag_letter)
{
	match_err("match(flags SX)", 1, 14, "bad tcp flags 'SX'");
	match_err("match(flags S/SQ)", 1, 16, "bad tcp flags mask 'SQ'");
}

Test(match_err, flags_outside_mask)
{
	match_err("match(flags SA/S)", 1, 13, "bits outside mask");
}

Test(match_err, ip6_with_ipv4_address)
{
	match_err("match(ip6, host 10.0.0.1)", 1, 17, "IPv4 address conflicts with earlier ip6");
	match_err("match(ip4, net ::/0)", 1, 16, "IPv6 address conflicts with earlier ip4");
	match_err("match(host 10.0.0.1, ip6)", 1, 22, "ip6 conflicts with earlier IPv4 address");
	match_err("match(ip4, net 2001:db8::/32)", 1, 16, "IPv6 address conflicts with earlier ip4");
}

Test(match_err, mixed_address_families)
{
	match_err("match(src host 10.0.0.1, dst host ::1)", 1, 35,
		  "IPv6 address conflicts with earlier IPv4 address");
}

Test(match_err, ip6_with_icmp)
{
	match_err("match(ip6, icmp)", 1, 12, "icmp conflicts with earlier ip6");
	match_err("match(icmp, ip6)", 1, 13, "ip6 conflicts with earlier icmp");
}

Test(match_err, port_with_icmp)
{
	match_err("match(icmp, dst port 7)", 1, 17, "port conflicts with earlier icmp");
	match_err("match(port 7, icmp6)", 1, 15, "icmp6 conflicts with earlier port");
	/* The datapath reads ports of TCP, UDP and SCTP only. */
	match_err("match(gre, port 7)", 1, 12, "port conflicts with earlier gre (no ports)");
	match_err("match(src port 7, proto 89)", 1, 19, "proto 89 conflicts with earlier port");
}

Test(match_err, icmp_type_errors)
{
	match_err("match(icmp-type 256)", 1, 17, "icmp type 256 out of range (0..255)");
	match_err("match(tcp, icmp-type 3)", 1, 12, "icmp-type conflicts with earlier tcp");
	match_err("match(icmp6, icmp-type echo-request)", 1, 24,
		  "echo-request conflicts with earlier icmp6");
	match_err("match(icmp-type echo-reply, ip6)", 1, 29, "ICMPv4");
	match_err("match(icmp-type 8, icmp-type 0)", 1, 20, "duplicate icmp-type");
	match_err("match(dst port 7, icmp-type 3)", 1, 19, "icmp-type conflicts with earlier port");
	match_err("match(icmp-type 3, port 7)", 1, 20, "port conflicts with earlier icmp-type");
}

Test(match_err, vlan_errors)
{
	match_err("match(vlan 4096)", 1, 12, "vlan id 4096 out of range (0..4095)");
	match_err("match(vlan, vlan 3)", 1, 13, "duplicate vlan constraint");
	match_err("match(vlan -1)", 1, 12, "bad vlan id '-1'");
}

Test(match_err, proto_errors)
{
	match_err("match(proto 256)", 1, 13, "protocol 256 out of range");
	match_err("match(proto ospf)", 1, 13, "unknown protocol 'ospf'");
	match_err("match(proto)", 1, 7, "proto needs");
}

Test(match_err, unknown_term)
{
	match_err("match(udp,\n   frobnicate 3)", 2, 4, "unknown match term 'frobnicate'");
}

Test(match_err, direction_without_object)
{
	match_err("match(src)", 1, 7, "expected host, net, port or portrange after 'src'");
	match_err("match(dst tcp)", 1, 11, "found 'tcp'");
}

Test(match_err, trailing_word)
{
	match_err("match(udp 53)", 1, 11, "unexpected '53' after 'udp'");
	match_err("match(dst port 53 80)", 1, 19, "unexpected '80'");
}

/* sample and count */

Test(sample, valid)
{
	struct ffpf_spec *spec = one_filter("sample( 2147483647 )");
	struct ffpf_spec_error err;
	__u32 every = 0;

	cr_expect_eq(ffpf_sample_parse_args(&spec->filters[0], &every, &err), 0);
	cr_expect_eq(every, 2147483647u);
	ffpf_spec_free(spec);
	spec = one_filter("sample(1)");
	cr_expect_eq(ffpf_sample_parse_args(&spec->filters[0], &every, &err), 0);
	cr_expect_eq(every, 1);
	ffpf_spec_free(spec);
}

Test(sample, errors)
{
	sample_err("  sample", 1, 3, "sample needs one argument");
	sample_err("sample()", 1, 1, "sample needs one argument");
	sample_err("sample(10, 20)", 1, 12, "sample takes one argument, found 2");
	sample_err("sample(0)", 1, 8, "out of range (1..2147483647)");
	sample_err("sample(2147483648)", 1, 8, "out of range");
	sample_err("sample(\n  ten)", 2, 3, "bad sample rate 'ten'");
	sample_err("sample(-5)", 1, 8, "bad sample rate");
}

Test(count, args)
{
	struct ffpf_spec *spec = one_filter("count() -> count(x)");
	struct ffpf_spec_error err = { 0 };

	cr_expect_eq(ffpf_count_parse_args(&spec->filters[0], &err), 0);
	check_err("count(x)", ffpf_count_parse_args(&spec->filters[1], &err),
		  &err, 1, 18, "count takes no arguments");
	ffpf_spec_free(spec);
}

/* flowtrack */

static struct ffpf_ft_cfg ft_ok(const char *text)
{
	struct ffpf_spec *spec = one_filter(text);
	struct ffpf_spec_error err = { 0 };
	struct ffpf_ft_cfg cfg;
	int ret;

	memset(&cfg, 0xa5, sizeof(cfg));
	ret = ffpf_flowtrack_parse_args(&spec->filters[0], &cfg, &err);
	ffpf_spec_free(spec);
	cr_assert_eq(ret, 0, "\"%s\": %d:%d: %s", text, err.line, err.col, err.msg);
	return cfg;
}

static void ft_err(const char *text, int line, int col, const char *sub)
{
	struct ffpf_spec *spec = one_filter(text);
	struct ffpf_spec_error err = { 0 };
	struct ffpf_ft_cfg cfg;
	int ret = ffpf_flowtrack_parse_args(&spec->filters[0], &cfg, &err);

	ffpf_spec_free(spec);
	check_err(text, ret, &err, line, col, sub);
}

#define S_NS	1000000000ULL

Test(flowtrack_args, defaults)
{
	static const char *const texts[] = { "flowtrack", "flowtrack()" };

	for (int i = 0; i < 2; i++) {
		struct ffpf_ft_cfg c = ft_ok(texts[i]);

		cr_expect_eq(c.size, FFPF_FT_SIZE_DEFAULT, "%s", texts[i]);
		cr_expect_eq(c.idle_ns, FFPF_FT_IDLE_DEFAULT_NS, "%s", texts[i]);
		cr_expect_eq(c.idle_ns, 30 * S_NS, "%s: idle defaults to 30 s", texts[i]);
		cr_expect_eq(c.active_ns, 0, "%s", texts[i]);
		cr_expect_eq(c.flags, 0, "%s: no id index by default", texts[i]);
	}
}

Test(flowtrack_args, arguments_in_any_order)
{
	struct ffpf_ft_cfg c = ft_ok("flowtrack(size=1000, idle=5, active=60)");

	cr_expect_eq(c.size, 1000);
	cr_expect_eq(c.idle_ns, 5 * S_NS);
	cr_expect_eq(c.active_ns, 60 * S_NS);
	c = ft_ok("flowtrack(active = 0, size =16)");
	cr_expect_eq(c.size, 16, "size is any N in range, not only powers of two");
	cr_expect_eq(c.idle_ns, 30 * S_NS);
	cr_expect_eq(c.active_ns, 0);
	c = ft_ok("flowtrack(\n  idle=86400,\n  size=16777216)");
	cr_expect_eq(c.size, 16777216);
	cr_expect_eq(c.idle_ns, 86400 * S_NS);
	c = ft_ok("flowtrack(size=12345)");
	cr_expect_eq(c.size, 12345);
	c = ft_ok("flowtrack(active=86400)");
	cr_expect_eq(c.active_ns, 86400 * S_NS);
	cr_expect_eq(c.flags, 0, "no id index unless asked");
	c = ft_ok("flowtrack(index=1)");
	cr_expect_eq(c.flags, FFPF_FT_F_INDEX);
	c = ft_ok("flowtrack(index=0)");
	cr_expect_eq(c.flags, 0);
}

Test(flowtrack_args, errors)
{
	ft_err("flowtrack(100)", 1, 11, "expected size=N, idle=SECONDS, active=SECONDS or index=0|1");
	ft_err("flowtrack(sizes=10)", 1, 11, "unknown flowtrack argument 'sizes' "
	       "(known: size, idle, active, index)");
	ft_err("flowtrack(=10)", 1, 11, "unknown flowtrack argument ''");
	ft_err("flowtrack(size=32, idle=2, size=64)", 1, 28,
	       "duplicate flowtrack argument 'size'");
	ft_err("flowtrack(size=15)", 1, 16, "flowtrack size 15 out of range (16..16777216)");
	ft_err("flowtrack(size=16777217)", 1, 16, "out of range (16..16777216)");
	ft_err("flowtrack(size=99999999999999999999999)", 1, 16, "out of range");
	ft_err("flowtrack(size=1k)", 1, 16, "bad size '1k', expected a number");
	ft_err("flowtrack(size=-1)", 1, 16, "bad size '-1'");
	ft_err("flowtrack(idle=0)", 1, 16, "flowtrack idle 0 out of range (1..86400)");
	ft_err("flowtrack(index=2)", 1, 17, "flowtrack index 2 out of range (0..1)");
	ft_err("flowtrack(idle=86401)", 1, 16, "out of range (1..86400)");
	ft_err("flowtrack(idle=1.5)", 1, 16, "bad idle '1.5', expected a number");
	ft_err("flowtrack(active=86401)", 1, 18, "flowtrack active 86401 out of range (0..86400)");
	ft_err("flowtrack(idle=)", 1, 16, "idle= needs a timeout in seconds");
	ft_err("flowtrack(size = x)", 1, 18, "bad size 'x'");
	ft_err("flowtrack(size=64,\n   idle = ten)", 2, 11, "bad idle 'ten'");
	ft_err("flowtrack(size=64,\n   idle =\n  ten)", 3, 3, "bad idle 'ten'");
}

/* overlap */

static int overlap(const char *a, const char *b)
{
	struct ffpf_match_cfg ca = match_ok(a), cb = match_ok(b);
	int r = ffpf_match_may_overlap(&ca, &cb);

	cr_expect_eq(r, ffpf_match_may_overlap(&cb, &ca), "not symmetric: %s / %s", a, b);
	return r;
}

Test(overlap, null_is_everything)
{
	struct ffpf_match_cfg c = match_ok("match(udp)");

	cr_expect_eq(ffpf_match_may_overlap(NULL, &c), 1);
	cr_expect_eq(ffpf_match_may_overlap(&c, NULL), 1);
	cr_expect_eq(ffpf_match_may_overlap(NULL, NULL), 1);
}

Test(overlap, protocols)
{
	cr_expect_eq(overlap("match(udp)", "match(tcp)"), 0);
	cr_expect_eq(overlap("match(udp)", "match(proto 17)"), 1);
	cr_expect_eq(overlap("match(udp)", "match(dst port 53)"), 1);
	cr_expect_eq(overlap("match(sctp)", "match(port 1-65535)"), 1);
	/* Ports exist for TCP, UDP and SCTP only; icmp-type for ICMP only. */
	cr_expect_eq(overlap("match(gre)", "match(dst port 53)"), 0);
	cr_expect_eq(overlap("match(icmp-type 8)", "match(src port 1)"), 0);
	cr_expect_eq(overlap("match(icmp-type 8)", "match(udp)"), 0);
	cr_expect_eq(overlap("match(flags S)", "match(icmp6)"), 0);
	/* No L4 constraint: accepts non-IP packets too. */
	cr_expect_eq(overlap("match(vlan 5)", "match(tcp)"), 1);
}

Test(overlap, ip_versions)
{
	cr_expect_eq(overlap("match(ip4)", "match(ip6)"), 0);
	cr_expect_eq(overlap("match(icmp)", "match(ip6)"), 0);
	cr_expect_eq(overlap("match(src host 10.0.0.1)", "match(ip6)"), 0);
	cr_expect_eq(overlap("match(net 2001:db8::/32)", "match(ip4)"), 0);
	cr_expect_eq(overlap("match(src net 10.0.0.0/8)", "match(dst host ::1)"), 0);
	/* ::/0 is "any IPv6 address", not "any address" */
	cr_expect_eq(overlap("match(net ::/0)", "match(ip4)"), 0);
	cr_expect_eq(overlap("match(net ::/0)", "match(ip6)"), 1);
	cr_expect_eq(overlap("match(src host 10.0.0.1)", "match(ip4)"), 1);
}

Test(overlap, ports)
{
	cr_expect_eq(overlap("match(dst port 53)", "match(dst port 80)"), 0);
	cr_expect_eq(overlap("match(src port 1-100)", "match(src portrange 101-200)"), 0);
	cr_expect_eq(overlap("match(dst port 1-100)", "match(dst portrange 100-200)"), 1);
	cr_expect_eq(overlap("match(src port 53)", "match(dst port 80)"), 1);
	cr_expect_eq(overlap("match(port 53)", "match(port 80)"), 1);
	cr_expect_eq(overlap("match(port 53)", "match(src port 80, dst port 81)"), 0);
	cr_expect_eq(overlap("match(port 53)", "match(src port 80, dst port 53)"), 1);
}

Test(overlap, prefixes)
{
	cr_expect_eq(overlap("match(src net 10.0.0.0/8)", "match(src net 11.0.0.0/8)"), 0);
	cr_expect_eq(overlap("match(src net 10.0.0.0/8)", "match(src net 10.1.0.0/16)"), 1);
	cr_expect_eq(overlap("match(dst net 10.0.0.0/9)", "match(dst host 10.200.0.1)"), 0);
	cr_expect_eq(overlap("match(dst net 2001:db8::/32)", "match(dst net 2001:db9::/32)"), 0);
	cr_expect_eq(overlap("match(dst net 2001:db8::/31)", "match(dst net 2001:db9::/32)"), 1);
	cr_expect_eq(overlap("match(src host 1.1.1.1)", "match(dst host 2.2.2.2)"), 1);
	cr_expect_eq(overlap("match(host 1.1.1.1)",
			     "match(src host 2.2.2.2, dst host 3.3.3.3)"), 0);
}

Test(overlap, flags_vlan_icmp)
{
	cr_expect_eq(overlap("match(flags S/SA)", "match(flags SA)"), 0);
	cr_expect_eq(overlap("match(flags S)", "match(flags A)"), 1);
	cr_expect_eq(overlap("match(icmp-type 8)", "match(icmp-type 0)"), 0);
	cr_expect_eq(overlap("match(icmp-type 8)", "match(icmp)"), 1);
	/* Two tags on one packet: different ids are not disjoint. */
	cr_expect_eq(overlap("match(vlan 10)", "match(vlan 20)"), 1);
	cr_expect_eq(overlap("match(vlan 10)", "match(vlan)"), 1);
}

Test(overlap, combined)
{
	cr_expect_eq(overlap("match(udp, dst port 53)", "match(udp, dst port 53, src net 10.0.0.0/8)"), 1);
	cr_expect_eq(overlap("match(udp, dst port 53)", "match(tcp, dst port 53)"), 0);
	cr_expect_eq(overlap("match()", "match(tcp, flags S)"), 1);
}

/* prefixset (issue 5) */

static struct ffpf_prefixset_args ps_ok(const char *text)
{
	static struct ffpf_prefixset_args a;
	struct ffpf_spec *spec = one_filter(text);
	struct ffpf_spec_error err = { 0 };
	int ret;

	memset(&a, 0xa5, sizeof(a));
	ret = ffpf_prefixset_parse_args(&spec->filters[0], &a, &err);
	ffpf_spec_free(spec);
	cr_assert_eq(ret, 0, "\"%s\": %d:%d: %s", text, err.line, err.col, err.msg);
	return a;
}

static void ps_err(const char *text, int line, int col, const char *sub)
{
	struct ffpf_spec *spec = one_filter(text);
	struct ffpf_spec_error err = { 0 };
	struct ffpf_prefixset_args a;
	int ret = ffpf_prefixset_parse_args(&spec->filters[0], &a, &err);

	ffpf_spec_free(spec);
	check_err(text, ret, &err, line, col, sub);
}

/* Key @k as text, through the same formatter `set list` uses. */
static const char *ps_text(const struct ffpf_prefixset_key *k)
{
	static char buf[64];

	ffpf_prefix_format(k, buf, sizeof(buf));
	return buf;
}

Test(prefixset_args, direction_mode_and_defaults)
{
	struct ffpf_prefixset_args a = ps_ok("prefixset(src, allow)");

	cr_expect_eq(a.cfg.dir, FFPF_PS_SRC);
	cr_expect_eq(a.cfg.mode, FFPF_PS_ALLOW);
	cr_expect_eq(a.cfg.size, FFPF_PS_SIZE_DEFAULT);
	cr_expect_eq(a.n, 0);
	a = ps_ok("prefixset(dst, deny)");
	cr_expect_eq(a.cfg.dir, FFPF_PS_DST);
	cr_expect_eq(a.cfg.mode, FFPF_PS_DENY);
	a = ps_ok("prefixset( either ,\n deny )");
	cr_expect_eq(a.cfg.dir, FFPF_PS_EITHER);
	cr_expect_eq(a.cfg.mode, FFPF_PS_DENY);
	/* the MBuf's configuration is only its head: the prefixes come after */
	cr_expect_geq(offsetof(struct ffpf_prefixset_args, n),
		      offsetof(struct ffpf_prefixset_mbuf, cpu));
}

Test(prefixset_args, prefixes)
{
	struct ffpf_prefixset_args a = ps_ok("prefixset(src, allow, 10.0.0.0/8, 192.0.2.7, "
					     "2001:db8::/32, fd00::1, 0.0.0.0/0, ::/0, "
					     "10.1.2.3/16, 2001:db8:1:2:3:4:5:6/64)");

	cr_assert_eq(a.n, 8);
	cr_expect_eq(a.init[0].prefixlen, 96 + 8);
	cr_expect_str_eq(ps_text(&a.init[0]), "10.0.0.0/8");
	cr_expect_eq(a.init[1].prefixlen, 128, "a v4 host is /32 (96 + 32)");
	cr_expect_str_eq(ps_text(&a.init[1]), "192.0.2.7/32");
	cr_expect_eq(a.init[2].prefixlen, 32);
	cr_expect_str_eq(ps_text(&a.init[2]), "2001:db8::/32");
	cr_expect_eq(a.init[3].prefixlen, 128, "a v6 host is /128");
	cr_expect_str_eq(ps_text(&a.init[3]), "fd00::1/128");
	cr_expect_eq(a.init[4].prefixlen, 96, "0.0.0.0/0 is ::ffff:0:0/96");
	cr_expect_str_eq(ps_text(&a.init[4]), "0.0.0.0/0");
	cr_expect_eq(a.init[5].prefixlen, 0);
	cr_expect_str_eq(ps_text(&a.init[5]), "::/0");
	cr_expect_str_eq(ps_text(&a.init[6]), "10.1.0.0/16", "host bits are cleared");
	cr_expect_str_eq(ps_text(&a.init[7]), "2001:db8:1:2::/64");
	/* v4-mapped: the address bytes after the prefix are zero */
	cr_expect_eq(a.init[0].addr[10], 0xff);
	cr_expect_eq(a.init[0].addr[12], 10);
	cr_expect_eq(a.init[0].addr[13], 0);
}

Test(prefixset_args, size)
{
	struct ffpf_prefixset_args a = ps_ok("prefixset(dst, allow, size=16, 10.0.0.0/8)");

	cr_expect_eq(a.cfg.size, 16);
	cr_expect_eq(a.n, 1);
	a = ps_ok("prefixset(dst, allow, 10.0.0.0/8, size = 16777216)");
	cr_expect_eq(a.cfg.size, FFPF_PS_SIZE_MAX);
	a = ps_ok("prefixset(dst, allow, size=1)");
	cr_expect_eq(a.cfg.size, 1);
}

Test(prefixset_args, most_prefixes_a_spec_holds)
{
	char text[512];
	size_t len = snprintf(text, sizeof(text), "prefixset(src, deny");
	struct ffpf_prefixset_args a;

	for (int i = 0; i < FFPF_PS_INIT_MAX; i++)
		len += snprintf(text + len, sizeof(text) - len, ",a%d::/16", i);	/* fits 512 */
	snprintf(text + len, sizeof(text) - len, ")");
	a = ps_ok(text);
	cr_expect_eq(a.n, FFPF_PS_INIT_MAX);
	cr_expect_str_eq(ps_text(&a.init[FFPF_PS_INIT_MAX - 1]), "a37::/16");
}

Test(prefixset_args, errors)
{
	ps_err("prefixset", 1, 1, "needs a direction (src, dst or either)");
	ps_err("prefixset()", 1, 1, "needs a direction");
	ps_err("prefixset(src)", 1, 1, "needs a mode after the direction: allow or deny");
	ps_err("prefixset(source, allow)", 1, 11, "expected src, dst or either, found 'source'");
	ps_err("prefixset(allow, src)", 1, 11, "expected src, dst or either, found 'allow'");
	ps_err("prefixset(src, permit)", 1, 16, "expected allow or deny, found 'permit'");
	ps_err("prefixset(src, allow, 10.0.0.0/33)", 1, 32,
	       "IPv4 prefix length 33 out of range (0..32)");
	ps_err("prefixset(src, allow, 2001:db8::/129)", 1, 34,
	       "IPv6 prefix length 129 out of range (0..128)");
	ps_err("prefixset(src, allow, 10.0.0.0/x)", 1, 32,
	       "bad IPv4 prefix length 'x', expected a number");
	ps_err("prefixset(src, allow, 10.0.0.0/)", 1, 32, "bad IPv4 prefix length ''");
	ps_err("prefixset(src, allow, 10.0.0.256/8)", 1, 23, "bad address '10.0.0.256' in prefix");
	ps_err("prefixset(src, allow, 10.0.0.0/8, banana)", 1, 35, "bad address 'banana'");
	ps_err("prefixset(src, allow, /8)", 1, 23, "bad prefix '/8', expected ADDR/LEN or ADDR");
	ps_err("prefixset(src, allow,\n  10.0.0.0/8,\n  fe80::1%eth0)", 3, 3,
	       "bad address 'fe80::1%eth0'");
	ps_err("prefixset(src, allow, size=0)", 1, 28, "prefixset size 0 out of range (1..16777216)");
	ps_err("prefixset(src, allow, size=16777217)", 1, 28, "out of range");
	ps_err("prefixset(src, allow, size=many)", 1, 28, "bad size 'many', expected a number");
	ps_err("prefixset(src, allow, size=8, size=9)", 1, 31, "duplicate prefixset argument 'size'");
	ps_err("prefixset(src, allow, sizes=9)", 1, 23, "unknown prefixset argument 'sizes'");
	ps_err("prefixset(src, allow, 10.0.0.0/8, size=)", 1, 40, "bad size ''");
}

Test(prefixset_args, prefix_parser)
{
	struct ffpf_prefixset_key k;
	char why[160];
	size_t off;

	cr_expect_eq(ffpf_prefix_parse("203.0.113.77/24", &k, why, sizeof(why), &off), 0);
	cr_expect_str_eq(ps_text(&k), "203.0.113.0/24");
	cr_expect_eq(ffpf_prefix_parse("::ffff:10.0.0.0/104", &k, why, sizeof(why), &off), 0);
	cr_expect_str_eq(ps_text(&k), "10.0.0.0/8", "v4-mapped IPv6 text is IPv4");
	cr_expect_eq(ffpf_prefix_parse("2001:db8::/-1", &k, why, sizeof(why), &off), -EINVAL);
	cr_expect_eq(off, 11);
	cr_expect_eq(ffpf_prefix_parse("10.0.0.0/8/8", &k, why, sizeof(why), &off), -EINVAL);
	cr_expect_eq(ffpf_prefix_parse("10.0.0.0 /8", &k, why, sizeof(why), &off), -EINVAL);
}

/* payload (issue 5) */

static struct ffpf_payload_cfg pl_ok(const char *text)
{
	struct ffpf_spec *spec = one_filter(text);
	struct ffpf_spec_error err = { 0 };
	struct ffpf_payload_cfg cfg;
	int ret = ffpf_payload_parse_args(&spec->filters[0], &cfg, &err);

	ffpf_spec_free(spec);
	cr_assert_eq(ret, 0, "\"%s\": %d:%d: %s", text, err.line, err.col, err.msg);
	return cfg;
}

static void pl_err(const char *text, int line, int col, const char *sub)
{
	struct ffpf_spec *spec = one_filter(text);
	struct ffpf_spec_error err = { 0 };
	struct ffpf_payload_cfg cfg;
	int ret = ffpf_payload_parse_args(&spec->filters[0], &cfg, &err);

	ffpf_spec_free(spec);
	check_err(text, ret, &err, line, col, sub);
}

static void expect_pat(const struct ffpf_payload_cfg *c, int i, const void *b, int len)
{
	cr_expect_eq(c->len[i], len, "pattern %d: %d bytes, want %d", i, c->len[i], len);
	cr_expect_eq(memcmp(c->pat[i], b, len), 0, "pattern %d bytes differ", i);
}

Test(payload_args, defaults_and_one_pattern)
{
	struct ffpf_payload_cfg c = pl_ok("payload(\"GET /\")");

	cr_expect_eq(c.npat, 1);
	expect_pat(&c, 0, "GET /", 5);
	cr_expect_eq(c.depth, FFPF_PL_DEPTH_DEFAULT);
	cr_expect_eq(c.depth, 256);
	cr_expect_eq(c.offset, 0);
}

Test(payload_args, escapes_commas_and_order)
{
	struct ffpf_payload_cfg c =
		pl_ok("payload(depth = 512, \"\\x90\\x90X\", \"a,b) #c\", offset=3)");

	cr_expect_eq(c.npat, 2);
	expect_pat(&c, 0, "\x90\x90X", 3);
	expect_pat(&c, 1, "a,b) #c", 7);
	cr_expect_eq(c.depth, 512);
	cr_expect_eq(c.offset, 3);
	c = pl_ok("payload(\"\\\\\\\"\\n\\r\\t\\0\\xfF\")");
	expect_pat(&c, 0, "\\\"\n\r\t\0\xff", 7);
}

Test(payload_args, limits)
{
	char text[2048];
	size_t n;
	struct ffpf_payload_cfg c;

	c = pl_ok("payload(\"0123456789abcdef0123456789abcdef\", depth=1500, offset=1500)");
	cr_expect_eq(c.len[0], FFPF_PL_MAX_PATLEN);
	cr_expect_eq(c.depth, FFPF_PL_DEPTH_MAX);
	cr_expect_eq(c.offset, FFPF_PL_DEPTH_MAX);
	c = pl_ok("payload(\"x\", depth=1)");
	cr_expect_eq(c.depth, 1);
	n = snprintf(text, sizeof(text), "payload(");
	for (int i = 0; i < FFPF_PL_MAX_PATTERNS; i++)
		n += snprintf(text + n, sizeof(text) - n, "\"p%02d\", ", i);
	snprintf(text + n, sizeof(text) - n, "depth=64, offset=1)");
	c = pl_ok(text);
	cr_expect_eq(c.npat, FFPF_PL_MAX_PATTERNS);
	expect_pat(&c, 31, "p31", 3);
	/* one more pattern: the 33rd is refused where it starts */
	n = snprintf(text, sizeof(text), "payload(");
	for (int i = 0; i <= FFPF_PL_MAX_PATTERNS; i++)
		n += snprintf(text + n, sizeof(text) - n, "%s\"p%02d\"", i ? "," : "", i);
	snprintf(text + n, sizeof(text) - n, ")");
	pl_err(text, 1, 9 + 6 * FFPF_PL_MAX_PATTERNS, "too many patterns (max 32)");
}

Test(payload_args, errors)
{
	pl_err("payload", 1, 1, "payload needs at least one pattern");
	pl_err("payload(depth=64)", 1, 1, "payload needs at least one pattern");
	pl_err("payload(GET)", 1, 9, "expected a double-quoted pattern, depth=N or offset=N, "
	       "found 'GET'");
	pl_err("payload(\"a\", size=3)", 1, 14, "unknown payload argument 'size' "
	       "(known: depth, offset)");
	pl_err("payload(\"a\", depth=3, depth=4)", 1, 23, "duplicate payload argument 'depth'");
	pl_err("payload(\"a\", depth=)", 1, 20, "depth= needs a number of bytes");
	pl_err("payload(\"a\", depth=x1)", 1, 20, "bad depth 'x1', expected a number");
	pl_err("payload(\"a\", depth=0)", 1, 20, "payload depth 0 out of range (1..1500)");
	pl_err("payload(\"a\", depth=1501)", 1, 20, "payload depth 1501 out of range (1..1500)");
	pl_err("payload(\"a\", offset=99999)", 1, 21, "payload offset 99999 out of range (0..1500)");
	pl_err("payload(\"\")", 1, 9, "empty pattern");
	pl_err("payload(\"ab\\q\")", 1, 12, "unknown escape '\\q'");
	pl_err("payload(\"ab\\x9\")", 1, 12, "\\x needs two hex digits");
	pl_err("payload(\"ab\\xg0\")", 1, 12, "\\x needs two hex digits");
	pl_err("payload(\"ab\" x)", 1, 13, "unexpected ' x' after the pattern's closing quote");
	pl_err("payload(\"0123456789abcdef0123456789abcdef!\")", 1, 42,
	       "pattern longer than 32 bytes");
	pl_err("payload(\"\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\x09\\x0a"
	       "\\x0b\\x0c\\x0d\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18"
	       "\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f\\x20\")", 1, 9 + 1 + 32 * 4,
	       "pattern longer than 32 bytes");
	pl_err("payload(\"a\",\n  \"b\\z\")", 2, 5, "unknown escape '\\z'");
}

/* --- bpf("EXPR") (issue 5) ------------------------------------------------ */

static struct ffpf_bpf_cfg bpf_ok(const char *text)
{
	struct ffpf_spec *spec = one_filter(text);
	struct ffpf_spec_error err = { 0 };
	struct ffpf_bpf_cfg cfg;
	int ret = ffpf_bpf_parse_args(&spec->filters[0], &cfg, &err);

	ffpf_spec_free(spec);
	cr_assert_eq(ret, 0, "\"%s\": %d:%d: %s", text, err.line, err.col, err.msg);
	return cfg;
}

static void bpf_err(const char *text, int line, int col, const char *sub)
{
	struct ffpf_spec *spec = one_filter(text);
	struct ffpf_spec_error err = { 0 };
	struct ffpf_bpf_cfg cfg;
	int ret = ffpf_bpf_parse_args(&spec->filters[0], &cfg, &err);

	ffpf_spec_free(spec);
	check_err(text, ret, &err, line, col, sub);
}

Test(bpf_args, expression_unquoted_into_the_config)
{
	cr_expect_str_eq(bpf_ok("bpf(\"tcp port 80 and not src net 10.0.0.0/8\")").expr,
			 "tcp port 80 and not src net 10.0.0.0/8");
	/* commas, parens and '#' inside the quotes belong to the expression */
	cr_expect_str_eq(bpf_ok("bpf( \"(udp) and (port 53 or port 5353)\" )").expr,
			 "(udp) and (port 53 or port 5353)");
	cr_expect_str_eq(bpf_ok("bpf(\"\")").expr, "");	/* libpcap: everything */
	/* a backslash escapes a quote or a backslash; else it stays, for libpcap */
	cr_expect_str_eq(bpf_ok("bpf(\"ip proto \\udp\")").expr, "ip proto \\udp");
	cr_expect_str_eq(bpf_ok("bpf(\"ip proto \\\\udp\")").expr, "ip proto \\udp");
}

Test(bpf_args, longest_expression)
{
	static char text[FFPF_BPF_EXPR_MAX + 64], expr[FFPF_BPF_EXPR_MAX + 8];
	size_t n = 0;

	n = sprintf(expr, "tcp");
	while (n + 7 < FFPF_BPF_EXPR_MAX - 1)
		n += sprintf(expr + n, " or tcp");
	while (n < FFPF_BPF_EXPR_MAX - 1)
		expr[n++] = ' ';
	expr[n] = 0;
	snprintf(text, sizeof(text), "bpf(\"%s\")", expr);
	cr_expect_str_eq(bpf_ok(text).expr, expr);
	snprintf(text, sizeof(text), "bpf(\"%s \")", expr);
	bpf_err(text, 1, 6 + FFPF_BPF_EXPR_MAX - 1, "longer than 1023 bytes");
}

Test(bpf_args, errors)
{
	bpf_err("bpf", 1, 1, "one double-quoted pcap-filter expression");
	bpf_err("bpf(\"tcp\", \"udp\")", 1, 12, "one double-quoted");
	bpf_err("bpf(tcp port 80)", 1, 5, "expected a double-quoted pcap-filter expression");
	bpf_err("bpf(\"tcp\" x)", 1, 11, "unexpected 'x' after");
	/* libpcap's own words, at the expression's first character */
	bpf_err("bpf(\n  \"tcp prt 80\")", 2, 4, "bad pcap-filter expression: "
		"can't parse filter expression: syntax error");
	bpf_err("bpf(\"tcp port 99999\")", 1, 6, "illegal port number 99999 > 65535");
	/* the translator says which classic instruction it cannot take */
	bpf_err("bpf(\"ip protochain 6\")", 1, 6, "not supported by the translator: "
		"instruction 19 (code 0x05): backward jump");
}
