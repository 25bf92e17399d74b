/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * test_msg.c - unit tests of the daemon's wire protocol (user/lib/msg.c):
 * every message type through the builder and the parser, every way the
 * parser refuses a message, and send/recv with descriptors on a
 * SOCK_SEQPACKET socketpair.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <criterion/criterion.h>

#include <ffpf/flowtrack.h>
#include "msg.h"

/* Big: static, one per test process (Criterion forks each test). */
static struct ffpf_msg_buf B, R;
static struct ffpf_msg M;
static char why[256];

static int parse(const struct ffpf_msg_buf *b)
{
	return ffpf_msg_parse(b->data, b->len, &M, why, sizeof(why));
}

static void ok(const struct ffpf_msg_buf *b)
{
	int ret = parse(b);

	cr_assert_eq(ret, 0, "%s: %d: %s", ffpf_msg_type_name(b->hdr.type), ret, why);
}

static void bad(const struct ffpf_msg_buf *b, int err, const char *sub)
{
	int ret = parse(b);

	cr_assert_eq(ret, err, "%s: got %d (%s), want %d", ffpf_msg_type_name(b->hdr.type),
		     ret, why, err);
	cr_assert(why[0], "no reason given");
	cr_assert(strstr(why, sub), "reason \"%s\" lacks \"%s\"", why, sub);
	cr_assert(!strchr(why, '\n'), "reason spans lines: %s", why);
}

/* Append an attribute as is, no filler, @len as the header's length. */
static void raw(struct ffpf_msg_buf *b, __u16 type, __u16 len, const void *val, size_t vlen)
{
	struct ffpf_msg_attr a = { type, len };

	memcpy(b->data + b->len, &a, sizeof(a));
	memcpy(b->data + b->len + sizeof(a), val, vlen);
	b->len += sizeof(a) + vlen;
	b->hdr.len = b->len;
}

static void init_rq(__u16 type, __s32 flow)
{
	ffpf_msg_init(&B, type, 7, flow, 0);
}

static void fill_info(struct ffpf_msg_info *info)
{
	memset(info, 0, sizeof(*info));
	info->nfilters = 2;
	info->hook = 1;
	strcpy(info->name, "web");
	strcpy(info->classes[0], "match");
	strcpy(info->classes[1], "count");
	strcpy(info->names[1], "c1");
	strcpy(info->spec, "match(tcp) -> count");
}

TestSuite(msg);

/* --- round trips -------------------------------------------------------- */

Test(msg, hello)
{
	init_rq(FFPF_MSG_HELLO, 0);
	cr_assert_eq(ffpf_msg_put_u32(&B, FFPF_A_VERSION, FFPF_MSG_VERSION), 0);
	ok(&B);
	cr_assert_eq(M.hdr.seq, 7);
	cr_assert_eq(M.u32[FFPF_A_VERSION], FFPF_MSG_VERSION);
	cr_assert(FFPF_MSG_HAS(&M, FFPF_A_VERSION));
	cr_assert_eq(M.present, 1ULL << FFPF_A_VERSION);

	ffpf_msg_init(&B, FFPF_MSG_HELLO | FFPF_MSG_REPLY, 7, 0, 0);
	ffpf_msg_put_u32(&B, FFPF_A_VERSION, 1);
	ffpf_msg_put_u32(&B, FFPF_A_U_ID, 1000);
	ok(&B);
	cr_assert_eq(M.u32[FFPF_A_U_ID], 1000);
	cr_assert_eq(M.hdr.type, FFPF_MSG_HELLO | FFPF_MSG_REPLY);
}

Test(msg, create)
{
	init_rq(FFPF_MSG_CREATE, 0);
	ffpf_msg_put_str(&B, FFPF_A_IFNAME, "eth0");
	ffpf_msg_put_str(&B, FFPF_A_NAME, "web");
	ffpf_msg_put_u32(&B, FFPF_A_HOOK, 1);
	ffpf_msg_put_u32(&B, FFPF_A_RX, 2);
	ffpf_msg_put_u32(&B, FFPF_A_SNAPLEN, 128);
	ffpf_msg_put_u32(&B, FFPF_A_IBUF_SIZE, 4096);
	ffpf_msg_put_str(&B, FFPF_A_GROUP, "ops");
	ok(&B);
	cr_assert_str_eq(M.str[FFPF_A_IFNAME], "eth0");
	cr_assert_str_eq(M.str[FFPF_A_NAME], "web");
	cr_assert_str_eq(M.str[FFPF_A_GROUP], "ops");
	cr_assert_eq(M.u32[FFPF_A_HOOK], 1);
	cr_assert_eq(M.u32[FFPF_A_RX], 2);
	cr_assert_eq(M.u32[FFPF_A_SNAPLEN], 128);
	cr_assert_eq(M.u32[FFPF_A_IBUF_SIZE], 4096);
	/* Pointers into the buffer. */
	cr_assert(M.str[FFPF_A_IFNAME] > (char *)B.data &&
		  M.str[FFPF_A_IFNAME] < (char *)B.data + B.len);

	/* Only IFNAME is required; NAME and GROUP may be empty. */
	init_rq(FFPF_MSG_CREATE, 0);
	ffpf_msg_put_str(&B, FFPF_A_IFNAME, "lo");
	ffpf_msg_put_str(&B, FFPF_A_NAME, "");
	ffpf_msg_put_str(&B, FFPF_A_GROUP, "");
	ok(&B);
	cr_assert_str_eq(M.str[FFPF_A_NAME], "");

	ffpf_msg_init(&B, FFPF_MSG_CREATE | FFPF_MSG_REPLY, 7, 42, 0);
	ffpf_msg_put_str(&B, FFPF_A_NAME, "web");
	ok(&B);
	cr_assert_eq(M.hdr.flow, 42);
}

Test(msg, populate_add_filter)
{
	init_rq(FFPF_MSG_POPULATE, 3);
	ffpf_msg_put_str(&B, FFPF_A_SPEC, "match(tcp) -> count");
	ok(&B);
	cr_assert_str_eq(M.str[FFPF_A_SPEC], "match(tcp) -> count");
	cr_assert_eq(M.hdr.flow, 3);

	init_rq(FFPF_MSG_ADD_FILTER, 3);
	ffpf_msg_put_str(&B, FFPF_A_CLASS, "sample");
	ffpf_msg_put_str(&B, FFPF_A_ARGS, "10");
	ok(&B);
	cr_assert_str_eq(M.str[FFPF_A_CLASS], "sample");
	cr_assert_str_eq(M.str[FFPF_A_ARGS], "10");

	init_rq(FFPF_MSG_ADD_FILTER, 3);
	ffpf_msg_put_str(&B, FFPF_A_CLASS, "count");
	ffpf_msg_put_str(&B, FFPF_A_ARGS, "");
	ok(&B);

	for (__u16 t = FFPF_MSG_POPULATE; t <= FFPF_MSG_ADD_FILTER; t++) {
		ffpf_msg_init(&B, t | FFPF_MSG_REPLY, 1, 3, 0);
		ok(&B);
	}
}

Test(msg, no_attr_requests)
{
	static const __u16 types[] = { FFPF_MSG_INSTANTIATE, FFPF_MSG_ACTIVATE, FFPF_MSG_PAUSE,
				       FFPF_MSG_CLOSE, FFPF_MSG_STATS, FFPF_MSG_IFACE_STATS,
				       FFPF_MSG_RX_STATS };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		init_rq(types[i], 9);
		ok(&B);
		cr_assert_eq(M.present, 0);
		cr_assert_eq(M.hdr.type, types[i]);
		/* ... and nothing else. */
		ffpf_msg_put_u32(&B, FFPF_A_INDEX, 1);
		bad(&B, -EINVAL, "attribute INDEX not allowed");
	}
	init_rq(FFPF_MSG_LIST, 0);
	ok(&B);
}

Test(msg, index_requests)
{
	for (__u16 t = FFPF_MSG_FILTER_STATS; t <= FFPF_MSG_MBUF; t++) {
		init_rq(t, 2);
		ffpf_msg_put_u32(&B, FFPF_A_INDEX, 5);
		ok(&B);
		cr_assert_eq(M.u32[FFPF_A_INDEX], 5);
		init_rq(t, 2);
		bad(&B, -EINVAL, "attribute INDEX missing");
	}
}

Test(msg, instantiate_reply)
{
	struct ffpf_msg_info info;
	struct ffpf_msg_ring ring = { 1 << 20, 1 << 16, 1024, 2048, 3, 0 };

	fill_info(&info);
	ffpf_msg_init(&B, FFPF_MSG_INSTANTIATE | FFPF_MSG_REPLY, 7, 4, 0);
	ffpf_msg_put_u32(&B, FFPF_A_SLOT, 6);
	ffpf_msg_put_u32(&B, FFPF_A_SNAPLEN, 96);
	ffpf_msg_put(&B, FFPF_A_INFO, &info, sizeof(info));
	/* A u32 before it: RING needs (and gets) a filler. */
	ffpf_msg_put(&B, FFPF_A_RING, &ring, sizeof(ring));
	ok(&B);
	cr_assert_eq(M.u32[FFPF_A_SLOT], 6);
	cr_assert_eq(M.u32[FFPF_A_SNAPLEN], 96);
	cr_assert_not_null(M.ring);
	cr_assert_eq((uintptr_t)M.ring % 8, 0);
	cr_assert_eq(memcmp(M.ring, &ring, sizeof(ring)), 0);
	cr_assert_eq(memcmp(M.info, &info, sizeof(info)), 0);
	cr_assert_str_eq(M.info->classes[1], "count");
	cr_assert_eq(M.present, (1ULL << FFPF_A_SLOT) | (1ULL << FFPF_A_SNAPLEN) |
			       (1ULL << FFPF_A_INFO) | (1ULL << FFPF_A_RING));

	/* Already aligned: no filler. */
	ffpf_msg_init(&B, FFPF_MSG_INSTANTIATE | FFPF_MSG_REPLY, 7, 4, 0);
	ffpf_msg_put_u32(&B, FFPF_A_SLOT, 6);
	ffpf_msg_put(&B, FFPF_A_RING, &ring, sizeof(ring));
	cr_assert_eq(B.len, 24 + 8 + 4 + 4 + sizeof(ring));
	ok(&B);
	ffpf_msg_init(&B, FFPF_MSG_INSTANTIATE | FFPF_MSG_REPLY, 7, 4, 0);
	ffpf_msg_put(&B, FFPF_A_RING, &ring, sizeof(ring));
	cr_assert_eq(B.len, 24 + 4 + 4 + sizeof(ring));
	ok(&B);
}

Test(msg, stats_replies)
{
	__u8 blob[FFPF_MSG_BLOB_MAX];

	memset(blob, 0xab, sizeof(blob));
	for (__u16 t = FFPF_MSG_STATS; t <= FFPF_MSG_RX_STATS; t++) {
		if (t == FFPF_MSG_MBUF)
			continue;
		ffpf_msg_init(&B, t | FFPF_MSG_REPLY, 7, 4, 0);
		ffpf_msg_put(&B, FFPF_A_BLOB, blob, t == FFPF_MSG_STATS ? sizeof(blob) : 13);
		ok(&B);
		cr_assert_eq(M.blob_len, t == FFPF_MSG_STATS ? sizeof(blob) : 13);
		cr_assert_eq(memcmp(M.blob, blob, M.blob_len), 0);
	}
	ffpf_msg_init(&B, FFPF_MSG_MBUF | FFPF_MSG_REPLY, 7, 4, 0);
	ffpf_msg_put_u64(&B, FFPF_A_SIZE, 0x123456789aULL);
	ffpf_msg_put_u32(&B, FFPF_A_ACCESS, FFPF_ACCESS_READ);
	ok(&B);
	cr_assert_eq(M.size, 0x123456789aULL);
	cr_assert_eq(M.u32[FFPF_A_ACCESS], FFPF_ACCESS_READ);

	ffpf_msg_init(&B, FFPF_MSG_LIST | FFPF_MSG_REPLY, 7, 0, 0);
	ffpf_msg_put_str(&B, FFPF_A_TEXT, "3 web eth0\n4 dns eth1\n");
	ok(&B);
	cr_assert_str_eq(M.str[FFPF_A_TEXT], "3 web eth0\n4 dns eth1\n");

	for (__u16 t = FFPF_MSG_ACTIVATE; t <= FFPF_MSG_CLOSE; t++) {
		ffpf_msg_init(&B, t | FFPF_MSG_REPLY, 7, 4, 0);
		ok(&B);
	}
}

Test(msg, error_reply)
{
	for (__u16 t = 1; t < FFPF_MSG_TYPE_MAX; t++) {
		ffpf_msg_init(&B, t | FFPF_MSG_REPLY, 7, 0, -EPERM);
		ffpf_msg_put_str(&B, FFPF_A_MESSAGE, "policy: denied");
		ok(&B);
		cr_assert_eq(M.hdr.err, -EPERM);
		cr_assert_str_eq(M.str[FFPF_A_MESSAGE], "policy: denied");
	}
	ffpf_msg_init(&B, FFPF_MSG_HELLO | FFPF_MSG_REPLY, 7, 0, -4095);
	ok(&B);
}

Test(msg, type_names)
{
	cr_assert_str_eq(ffpf_msg_type_name(FFPF_MSG_HELLO), "HELLO");
	cr_assert_str_eq(ffpf_msg_type_name(FFPF_MSG_LIST), "LIST");
	cr_assert_str_eq(ffpf_msg_type_name(FFPF_MSG_INSTANTIATE | FFPF_MSG_REPLY),
			 "INSTANTIATE reply");
	cr_assert_str_eq(ffpf_msg_type_name(0), "?");
	cr_assert_str_eq(ffpf_msg_type_name(FFPF_MSG_TYPE_MAX), "?");
	cr_assert_str_eq(ffpf_msg_type_name(999 | FFPF_MSG_REPLY), "?");
}

/* --- the header --------------------------------------------------------- */

Test(msg, short_buffer)
{
	init_rq(FFPF_MSG_LIST, 0);
	B.len = 10;
	bad(&B, -EBADMSG, "shorter than a header");
	cr_assert_eq(ffpf_msg_parse(B.data, 0, &M, why, sizeof(why)), -EBADMSG);
	/* @why may be NULL. */
	cr_assert_eq(ffpf_msg_parse(B.data, 10, &M, NULL, 0), -EBADMSG);
}

Test(msg, bad_magic)
{
	init_rq(FFPF_MSG_LIST, 0);
	B.hdr.magic = 0x44504647;
	bad(&B, -EBADMSG, "bad magic");
}

Test(msg, bad_version)
{
	init_rq(FFPF_MSG_LIST, 0);
	B.hdr.version = 2;
	bad(&B, -EPROTO, "version 2");
}

Test(msg, len_mismatch)
{
	init_rq(FFPF_MSG_HELLO, 0);
	ffpf_msg_put_u32(&B, FFPF_A_VERSION, 1);
	B.hdr.len = B.len + 4;
	bad(&B, -EBADMSG, "header says 36 bytes, message has 32");
	B.hdr.len = B.len - 4;
	bad(&B, -EBADMSG, "header says 28 bytes, message has 32");
}

Test(msg, unknown_type)
{
	init_rq(999, 0);
	bad(&B, -EOPNOTSUPP, "unknown message type 999");
	init_rq(0, 0);
	bad(&B, -EOPNOTSUPP, "unknown message type 0");
	init_rq(FFPF_MSG_TYPE_MAX | FFPF_MSG_REPLY, 0);
	bad(&B, -EOPNOTSUPP, "unknown message type");
}

/* --- attribute framing -------------------------------------------------- */

Test(msg, attr_past_end)
{
	struct ffpf_msg_attr a;

	init_rq(FFPF_MSG_HELLO, 0);
	ffpf_msg_put_u32(&B, FFPF_A_VERSION, 1);
	memcpy(&a, B.data + 24, sizeof(a));
	a.len = 9000;
	memcpy(B.data + 24, &a, sizeof(a));
	bad(&B, -EBADMSG, "attribute 9 at offset 24: length 9000 runs past the message (32 bytes)");
}

Test(msg, attr_header_past_end)
{
	init_rq(FFPF_MSG_HELLO, 0);
	ffpf_msg_put_u32(&B, FFPF_A_VERSION, 1);
	B.data[B.len++] = FFPF_A_INDEX;
	B.data[B.len++] = 0;
	B.hdr.len = B.len;
	bad(&B, -EBADMSG, "attribute header at offset 32 runs past");
}

Test(msg, nonzero_padding)
{
	init_rq(FFPF_MSG_CREATE, 0);
	ffpf_msg_put_str(&B, FFPF_A_IFNAME, "eth0");
	B.data[B.len - 1] = 1;
	bad(&B, -EBADMSG, "nonzero padding");
}

Test(msg, missing_final_padding)
{
	init_rq(FFPF_MSG_CREATE, 0);
	ffpf_msg_put_str(&B, FFPF_A_IFNAME, "eth0");
	B.len -= 3;
	B.hdr.len = B.len;
	bad(&B, -EBADMSG, "padding missing");
	B.len += 2;
	B.hdr.len = B.len;
	bad(&B, -EBADMSG, "padding missing");
}

Test(msg, unknown_attr)
{
	__u32 v = 1;

	init_rq(FFPF_MSG_LIST, 0);
	ffpf_msg_put(&B, FFPF_A_MAX, &v, sizeof(v));
	bad(&B, -EBADMSG, "at offset 24: unknown type");
	init_rq(FFPF_MSG_LIST, 0);
	ffpf_msg_put(&B, 0xffff, NULL, 0);
	bad(&B, -EBADMSG, "unknown type");
}

Test(msg, unspec_filler)
{
	__u32 v = 0;

	/* Fillers may repeat anywhere and are ignored... */
	init_rq(FFPF_MSG_HELLO, 0);
	ffpf_msg_put(&B, FFPF_A_UNSPEC, NULL, 0);
	ffpf_msg_put_u32(&B, FFPF_A_VERSION, 1);
	ffpf_msg_put(&B, FFPF_A_UNSPEC, NULL, 0);
	ffpf_msg_put(&B, FFPF_A_UNSPEC, NULL, 0);
	ok(&B);
	cr_assert_eq(M.present, 1ULL << FFPF_A_VERSION);
	/* ... but carry nothing. */
	init_rq(FFPF_MSG_HELLO, 0);
	ffpf_msg_put_u32(&B, FFPF_A_VERSION, 1);
	ffpf_msg_put(&B, FFPF_A_UNSPEC, &v, sizeof(v));
	bad(&B, -EBADMSG, "filler with 4 bytes");
}

Test(msg, duplicate)
{
	init_rq(FFPF_MSG_HELLO, 0);
	ffpf_msg_put_u32(&B, FFPF_A_VERSION, 1);
	ffpf_msg_put_u32(&B, FFPF_A_VERSION, 1);
	bad(&B, -EBADMSG, "VERSION: attribute at offset 32 repeated");
}

/* --- values ------------------------------------------------------------- */

Test(msg, string_without_nul)
{
	init_rq(FFPF_MSG_CREATE, 0);
	ffpf_msg_put(&B, FFPF_A_IFNAME, "eth0", 4);
	bad(&B, -EBADMSG, "IFNAME: not NUL-terminated");
	init_rq(FFPF_MSG_POPULATE, 1);
	ffpf_msg_put(&B, FFPF_A_SPEC, NULL, 0);
	bad(&B, -EBADMSG, "SPEC: not NUL-terminated");
}

Test(msg, string_embedded_nul)
{
	init_rq(FFPF_MSG_CREATE, 0);
	ffpf_msg_put(&B, FFPF_A_IFNAME, "et\0h0", 6);
	bad(&B, -EBADMSG, "IFNAME: NUL inside");
}

static void put_long(__u16 type, size_t n)
{
	char s[FFPF_MSG_TEXT_MAX + 2];

	memset(s, 'a', n);
	s[n] = '\0';
	cr_assert_eq(ffpf_msg_put_str(&B, type, s), 0);
}

Test(msg, string_limits)
{
	init_rq(FFPF_MSG_CREATE, 0);
	put_long(FFPF_A_IFNAME, 15);
	put_long(FFPF_A_NAME, 31);
	put_long(FFPF_A_GROUP, 63);
	ok(&B);

	init_rq(FFPF_MSG_CREATE, 0);
	put_long(FFPF_A_IFNAME, 16);
	bad(&B, -EBADMSG, "IFNAME: 17 bytes, at most 16");
	init_rq(FFPF_MSG_CREATE, 0);
	ffpf_msg_put_str(&B, FFPF_A_IFNAME, "eth0");
	put_long(FFPF_A_NAME, 32);
	bad(&B, -EBADMSG, "NAME: 33 bytes, at most 32");
	init_rq(FFPF_MSG_CREATE, 0);
	ffpf_msg_put_str(&B, FFPF_A_IFNAME, "eth0");
	put_long(FFPF_A_GROUP, 64);
	bad(&B, -EBADMSG, "GROUP: 65 bytes, at most 64");
	init_rq(FFPF_MSG_ADD_FILTER, 1);
	put_long(FFPF_A_CLASS, 32);
	bad(&B, -EBADMSG, "CLASS: 33 bytes");
	init_rq(FFPF_MSG_ADD_FILTER, 1);
	ffpf_msg_put_str(&B, FFPF_A_CLASS, "bpf");
	put_long(FFPF_A_ARGS, FFPF_MSG_STR_MAX);
	bad(&B, -EBADMSG, "ARGS: 4097 bytes");
	init_rq(FFPF_MSG_POPULATE, 1);
	put_long(FFPF_A_SPEC, FFPF_MSG_TEXT_MAX - 1);
	ok(&B);
	init_rq(FFPF_MSG_POPULATE, 1);
	put_long(FFPF_A_SPEC, FFPF_MSG_TEXT_MAX);
	bad(&B, -EBADMSG, "SPEC: 32769 bytes");
}

Test(msg, empty_strings)
{
	init_rq(FFPF_MSG_CREATE, 0);
	ffpf_msg_put_str(&B, FFPF_A_IFNAME, "");
	bad(&B, -EBADMSG, "IFNAME: empty");
	init_rq(FFPF_MSG_ADD_FILTER, 1);
	ffpf_msg_put_str(&B, FFPF_A_CLASS, "");
	bad(&B, -EBADMSG, "CLASS: empty");
	ffpf_msg_init(&B, FFPF_MSG_HELLO | FFPF_MSG_REPLY, 1, 0, -EINVAL);
	ffpf_msg_put_str(&B, FFPF_A_MESSAGE, "");
	bad(&B, -EBADMSG, "MESSAGE: empty");
}

Test(msg, fixed_sizes)
{
	__u64 v = 1;
	struct ffpf_msg_info info;
	struct ffpf_msg_ring ring = { 0 };

	init_rq(FFPF_MSG_HELLO, 0);
	ffpf_msg_put(&B, FFPF_A_VERSION, &v, 8);
	bad(&B, -EBADMSG, "VERSION: 8 bytes, must be 4");
	init_rq(FFPF_MSG_HELLO, 0);
	ffpf_msg_put(&B, FFPF_A_VERSION, &v, 2);
	bad(&B, -EBADMSG, "VERSION: 2 bytes, must be 4");
	ffpf_msg_init(&B, FFPF_MSG_MBUF | FFPF_MSG_REPLY, 1, 1, 0);
	ffpf_msg_put(&B, FFPF_A_SIZE, &v, 4);
	bad(&B, -EBADMSG, "SIZE: 4 bytes, must be 8");
	ffpf_msg_init(&B, FFPF_MSG_INSTANTIATE | FFPF_MSG_REPLY, 1, 1, 0);
	ffpf_msg_put(&B, FFPF_A_RING, &ring, sizeof(ring) - 8);
	bad(&B, -EBADMSG, "RING: 24 bytes, must be 32");
	fill_info(&info);
	ffpf_msg_init(&B, FFPF_MSG_INSTANTIATE | FFPF_MSG_REPLY, 1, 1, 0);
	ffpf_msg_put(&B, FFPF_A_INFO, &info, sizeof(info) - 4);
	bad(&B, -EBADMSG, "INFO: ");
	cr_assert(strstr(why, "must be"), "%s", why);
}

Test(msg, info_unterminated)
{
	struct ffpf_msg_info info;

	fill_info(&info);
	memset(info.name, 'x', sizeof(info.name));
	ffpf_msg_init(&B, FFPF_MSG_INSTANTIATE | FFPF_MSG_REPLY, 1, 1, 0);
	ffpf_msg_put(&B, FFPF_A_INFO, &info, sizeof(info));
	bad(&B, -EBADMSG, "INFO: name not NUL-terminated");

	fill_info(&info);
	memset(info.names[15], 'x', sizeof(info.names[15]));
	ffpf_msg_init(&B, FFPF_MSG_INSTANTIATE | FFPF_MSG_REPLY, 1, 1, 0);
	ffpf_msg_put(&B, FFPF_A_INFO, &info, sizeof(info));
	bad(&B, -EBADMSG, "INFO: names[15]");

	fill_info(&info);
	memset(info.spec, 'x', sizeof(info.spec));
	ffpf_msg_init(&B, FFPF_MSG_INSTANTIATE | FFPF_MSG_REPLY, 1, 1, 0);
	ffpf_msg_put(&B, FFPF_A_INFO, &info, sizeof(info));
	bad(&B, -EBADMSG, "INFO: spec");
}

Test(msg, misaligned_ring)
{
	struct ffpf_msg_ring ring = { 0 };
	__u32 slot = 1;

	ffpf_msg_init(&B, FFPF_MSG_INSTANTIATE | FFPF_MSG_REPLY, 1, 1, 0);
	raw(&B, FFPF_A_SLOT, 4, &slot, 4);
	raw(&B, FFPF_A_RING, sizeof(ring), &ring, sizeof(ring));
	bad(&B, -EBADMSG, "RING: value at offset 36, not 8-byte aligned");
}

Test(msg, blob_sizes)
{
	__u8 blob[FFPF_MSG_BLOB_MAX + 1] = { 0 };

	ffpf_msg_init(&B, FFPF_MSG_STATS | FFPF_MSG_REPLY, 1, 1, 0);
	ffpf_msg_put(&B, FFPF_A_BLOB, NULL, 0);
	bad(&B, -EBADMSG, "BLOB: 0 bytes, must be 1..1024");
	ffpf_msg_init(&B, FFPF_MSG_STATS | FFPF_MSG_REPLY, 1, 1, 0);
	ffpf_msg_put(&B, FFPF_A_BLOB, blob, sizeof(blob));
	bad(&B, -EBADMSG, "BLOB: 1025 bytes");
	ffpf_msg_init(&B, FFPF_MSG_STATS | FFPF_MSG_REPLY, 1, 1, 0);
	ffpf_msg_put(&B, FFPF_A_BLOB, blob, 1);
	ok(&B);
}

/* --- the schema --------------------------------------------------------- */

Test(msg, not_allowed)
{
	init_rq(FFPF_MSG_CREATE, 0);
	ffpf_msg_put_str(&B, FFPF_A_IFNAME, "eth0");
	ffpf_msg_put_str(&B, FFPF_A_SPEC, "count");
	bad(&B, -EINVAL, "CREATE: attribute SPEC not allowed");
	/* MESSAGE is for replies. */
	init_rq(FFPF_MSG_LIST, 0);
	ffpf_msg_put_str(&B, FFPF_A_MESSAGE, "hi");
	bad(&B, -EINVAL, "LIST: attribute MESSAGE not allowed");
	/* A reply's schema is its own. */
	ffpf_msg_init(&B, FFPF_MSG_CREATE | FFPF_MSG_REPLY, 1, 1, 0);
	ffpf_msg_put_str(&B, FFPF_A_IFNAME, "eth0");
	bad(&B, -EINVAL, "CREATE reply: attribute IFNAME not allowed");
	ffpf_msg_init(&B, FFPF_MSG_HELLO | FFPF_MSG_REPLY, 1, 0, 0);
	ffpf_msg_put_u32(&B, FFPF_A_INDEX, 1);
	bad(&B, -EINVAL, "HELLO reply: attribute INDEX not allowed");
}

Test(msg, required_missing)
{
	init_rq(FFPF_MSG_CREATE, 0);
	ffpf_msg_put_str(&B, FFPF_A_NAME, "web");
	bad(&B, -EINVAL, "CREATE: attribute IFNAME missing");
	init_rq(FFPF_MSG_HELLO, 0);
	bad(&B, -EINVAL, "HELLO: attribute VERSION missing");
	init_rq(FFPF_MSG_POPULATE, 1);
	bad(&B, -EINVAL, "POPULATE: attribute SPEC missing");
	init_rq(FFPF_MSG_ADD_FILTER, 1);
	ffpf_msg_put_str(&B, FFPF_A_ARGS, "1");
	bad(&B, -EINVAL, "ADD_FILTER: attribute CLASS missing");
	/* A reply requires nothing. */
	ffpf_msg_init(&B, FFPF_MSG_HELLO | FFPF_MSG_REPLY, 1, 0, 0);
	ok(&B);
}

Test(msg, request_with_err)
{
	ffpf_msg_init(&B, FFPF_MSG_LIST, 1, 0, -EPERM);
	bad(&B, -EBADMSG, "LIST: a request with err -1");
}

Test(msg, flow_handles)
{
	init_rq(FFPF_MSG_HELLO, 1);
	ffpf_msg_put_u32(&B, FFPF_A_VERSION, 1);
	bad(&B, -EINVAL, "HELLO: flow handle 1, must be 0");
	init_rq(FFPF_MSG_CREATE, -1);
	ffpf_msg_put_str(&B, FFPF_A_IFNAME, "eth0");
	bad(&B, -EINVAL, "CREATE: flow handle -1, must be 0");
	init_rq(FFPF_MSG_LIST, 5);
	bad(&B, -EINVAL, "LIST: flow handle 5");
	for (__u16 t = FFPF_MSG_INSTANTIATE; t <= FFPF_MSG_RX_STATS; t++) {
		if (t == FFPF_MSG_FILTER_STATS || t == FFPF_MSG_MBUF)
			continue;
		init_rq(t, 0);
		bad(&B, -EINVAL, "flow handle 0, must be > 0");
		init_rq(t, -1);
		bad(&B, -EINVAL, "flow handle -1, must be > 0");
	}
	init_rq(FFPF_MSG_MBUF, 0);
	ffpf_msg_put_u32(&B, FFPF_A_INDEX, 0);
	bad(&B, -EINVAL, "MBUF: flow handle 0");
	/* Replies: any handle (CREATE's reply brings it). */
	ffpf_msg_init(&B, FFPF_MSG_LIST | FFPF_MSG_REPLY, 1, 77, 0);
	ok(&B);
}

Test(msg, reply_err_range)
{
	ffpf_msg_init(&B, FFPF_MSG_CLOSE | FFPF_MSG_REPLY, 1, 1, 1);
	bad(&B, -EBADMSG, "CLOSE reply: err 1");
	ffpf_msg_init(&B, FFPF_MSG_CLOSE | FFPF_MSG_REPLY, 1, 1, -4096);
	bad(&B, -EBADMSG, "err -4096");
	ffpf_msg_init(&B, FFPF_MSG_CLOSE | FFPF_MSG_REPLY, 1, 1, -ENOENT);
	ok(&B);
}

/* --- the builder -------------------------------------------------------- */

Test(msg, builder_overflow)
{
	static char big[70000];

	init_rq(FFPF_MSG_POPULATE, 1);
	cr_assert_eq(ffpf_msg_put(&B, FFPF_A_SPEC, big, sizeof(big)), -E2BIG);
	cr_assert(B.overflow);
	cr_assert_eq(B.len, sizeof(struct ffpf_msg_hdr));
	/* Sticky: a later small put fails too. */
	cr_assert_eq(ffpf_msg_put_u32(&B, FFPF_A_INDEX, 1), -E2BIG);
	cr_assert_eq(ffpf_msg_send(-1, &B, NULL, 0, false), -EMSGSIZE);

	/* Under the u16 limit but past FFPF_MSG_MAX. */
	init_rq(FFPF_MSG_POPULATE, 1);
	cr_assert_eq(ffpf_msg_put(&B, FFPF_A_SPEC, big, FFPF_MSG_MAX - 24 - 3), -E2BIG);
	cr_assert(B.overflow);
	init_rq(FFPF_MSG_POPULATE, 1);
	cr_assert_not(B.overflow);
	cr_assert_eq(ffpf_msg_put(&B, FFPF_A_SPEC, NULL, 3), -EINVAL);
}

Test(msg, builder_exact_fill)
{
	size_t text = FFPF_MSG_TEXT_MAX;
	size_t msg = FFPF_MSG_MAX - 24 - 4 - text - 4;

	ffpf_msg_init(&B, FFPF_MSG_LIST | FFPF_MSG_REPLY, 1, 0, 0);
	put_long(FFPF_A_TEXT, text - 1);
	put_long(FFPF_A_MESSAGE, msg - 1);
	cr_assert_not(B.overflow);
	cr_assert_eq(B.len, FFPF_MSG_MAX);
	cr_assert_eq(B.hdr.len, FFPF_MSG_MAX);
	ok(&B);
	cr_assert_eq(strlen(M.str[FFPF_A_MESSAGE]), msg - 1);
	/* Not one byte more. */
	cr_assert_eq(ffpf_msg_put(&B, FFPF_A_UNSPEC, NULL, 0), -E2BIG);
}

/* --- send and receive --------------------------------------------------- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void pair(int sv[2])
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static void hello(struct ffpf_msg_buf *b)
{
	ffpf_msg_init(b, FFPF_MSG_HELLO, 11, 0, 0);
	ffpf_msg_put_u32(b, FFPF_A_VERSION, FFPF_MSG_VERSION);
}

Test(msg, send_recv_fds)
{
	int sv[2], out[3], in[FFPF_MSG_MAX_FDS], n = -1;
	ssize_t len;

	pair(sv);
	for (int i = 0; i < 3; i++)
		cr_assert_geq(out[i] = open("/dev/null", O_RDONLY), 0);
	hello(&B);
	cr_assert_eq(ffpf_msg_send(sv[0], &B, out, 3, false), 0);
	len = ffpf_msg_recv(sv[1], &R, in, FFPF_MSG_MAX_FDS, &n);
	cr_assert_eq(len, (ssize_t)B.len);
	cr_assert_eq(R.len, B.len);
	cr_assert_eq(n, 3);
	for (int i = 0; i < 3; i++) {
		struct stat a, b;
		int fl = fcntl(in[i], F_GETFD);

		cr_assert_geq(fl, 0, "fd %d not open", in[i]);
		cr_assert(fl & FD_CLOEXEC, "fd %d without O_CLOEXEC", in[i]);
		cr_assert_eq(fstat(in[i], &a), 0);
		cr_assert_eq(fstat(out[i], &b), 0);
		cr_assert_eq(a.st_rdev, b.st_rdev);
		cr_assert_neq(in[i], out[i]);
		close(in[i]);
	}
	cr_assert_eq(ffpf_msg_parse(R.data, R.len, &M, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(M.u32[FFPF_A_VERSION], FFPF_MSG_VERSION);
	cr_assert_eq(M.hdr.seq, 11);

	/* Too many to send, or none given. */
	cr_assert_eq(ffpf_msg_send(sv[0], &B, out, FFPF_MSG_MAX_FDS + 1, false), -EINVAL);
	cr_assert_eq(ffpf_msg_send(sv[0], &B, NULL, 1, false), -EINVAL);
	cr_assert_eq(ffpf_msg_send(sv[0], &B, out, -1, false), -EINVAL);
	/* No fds: *nfds 0. */
	cr_assert_eq(ffpf_msg_send(sv[0], &B, NULL, 0, true), 0);
	n = -1;
	cr_assert_eq(ffpf_msg_recv(sv[1], &R, in, FFPF_MSG_MAX_FDS, &n), (ssize_t)B.len);
	cr_assert_eq(n, 0);
}

Test(msg, recv_closes_unwanted)
{
	int sv[2], out[3], before, n = -1;

	pair(sv);
	for (int i = 0; i < 3; i++)
		cr_assert_geq(out[i] = open("/dev/null", O_RDONLY), 0);
	hello(&B);
	cr_assert_eq(ffpf_msg_send(sv[0], &B, out, 3, false), 0);
	before = count_fds();
	cr_assert_eq(ffpf_msg_recv(sv[1], &R, NULL, 0, &n), (ssize_t)B.len);
	cr_assert_eq(n, 0);
	cr_assert_eq(count_fds(), before, "received descriptors leaked");

	/* max_fds 1: one handed out, two closed. */
	cr_assert_eq(ffpf_msg_send(sv[0], &B, out, 3, false), 0);
	before = count_fds();
	cr_assert_eq(ffpf_msg_recv(sv[1], &R, out, 1, &n), (ssize_t)B.len);
	cr_assert_eq(n, 1);
	cr_assert_eq(count_fds(), before + 1);
}

/* 200 descriptors in two SCM_RIGHTS messages, as a hostile peer may. */
Test(msg, recv_many_fds_no_leak)
{
	union {
		char buf[2 * CMSG_SPACE(100 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	int sv[2], fds[100], in[4], n = -1, before;

	pair(sv);
	for (int i = 0; i < 100; i++)
		cr_assert_geq(fds[i] = open("/dev/null", O_RDONLY), 0);
	hello(&B);
	iov.iov_base = B.data;
	iov.iov_len = B.len;
	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&mh);
	for (int k = 0; k < 2; k++, c = CMSG_NXTHDR(&mh, c)) {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(c), fds, sizeof(fds));
	}
	cr_assert_eq(sendmsg(sv[0], &mh, 0), (ssize_t)B.len, "%s", strerror(errno));
	before = count_fds();
	cr_assert_eq(ffpf_msg_recv(sv[1], &R, in, 4, &n), (ssize_t)B.len);
	cr_assert_eq(n, 4);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(close(in[i]), 0);
	cr_assert_eq(count_fds(), before, "descriptors beyond max_fds leaked");
}

Test(msg, recv_oversized)
{
	static char big[70000];
	int sv[2], out, n = -1, before;

	pair(sv);
	cr_assert_geq(out = open("/dev/null", O_RDONLY), 0);
	memcpy(big, &B.hdr, sizeof(B.hdr));
	cr_assert_eq(send(sv[0], big, sizeof(big), 0), (ssize_t)sizeof(big), "%s",
		     strerror(errno));
	hello(&B);
	cr_assert_eq(ffpf_msg_send(sv[0], &B, &out, 1, false), 0);
	cr_assert_eq(ffpf_msg_recv(sv[1], &R, NULL, 0, &n), -EMSGSIZE);
	before = count_fds();
	cr_assert_eq(ffpf_msg_recv(sv[1], &R, NULL, 0, &n), (ssize_t)B.len);
	cr_assert_eq(count_fds(), before);
	cr_assert_eq(ffpf_msg_parse(R.data, R.len, &M, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(M.hdr.seq, 11);
}

Test(msg, recv_eof)
{
	int sv[2], in[1], n = -1;

	pair(sv);
	close(sv[0]);
	cr_assert_eq(ffpf_msg_recv(sv[1], &R, in, 1, &n), 0);
	cr_assert_eq(n, 0);
	/* And a send to a closed peer is an error, not SIGPIPE. */
	hello(&B);
	cr_assert_eq(ffpf_msg_send(sv[1], &B, NULL, 0, false), -EPIPE);
}

/* --- flow tracking through the daemon --------------------------------------- */

Test(msg, ft_messages)
{
	struct ffpf_msg_ft ft = { .ring_size = 1 << 20, .interval_ms = 250,
				  .flags = FFPF_MSG_FT_MANUAL, .capacity = 4096,
				  .table_size = 65536 };
	struct ffpf_ft_key key = { .proto = 6, .ip_ver = 4 };

	init_rq(FFPF_MSG_FT_START, 3);
	ffpf_msg_put(&B, FFPF_A_FT, &ft, sizeof(ft));
	/* right after the header the value would sit at 28: a filler puts it at 32 */
	cr_assert_eq(B.len, 24 + 4 + 4 + sizeof(ft));
	ok(&B);
	cr_assert_eq((uintptr_t)M.ft % 8, 0);
	cr_assert_eq(memcmp(M.ft, &ft, sizeof(ft)), 0);
	ffpf_msg_init(&B, FFPF_MSG_FT_START | FFPF_MSG_REPLY, 7, 3, 0);
	ffpf_msg_put(&B, FFPF_A_FT, &ft, sizeof(ft));
	ok(&B);
	cr_assert_eq(M.ft->table_size, 65536);

	init_rq(FFPF_MSG_FT_START, 3);
	bad(&B, -EINVAL, "FT_START: attribute FT missing");
	init_rq(FFPF_MSG_FT_START, 0);
	ffpf_msg_put(&B, FFPF_A_FT, &ft, sizeof(ft));
	bad(&B, -EINVAL, "FT_START: flow handle 0");

	init_rq(FFPF_MSG_FT_SWEEP, 3);
	ok(&B);
	ffpf_msg_init(&B, FFPF_MSG_FT_SWEEP | FFPF_MSG_REPLY, 7, 3, 0);
	ffpf_msg_put_u64(&B, FFPF_A_SIZE, 12);
	ok(&B);
	cr_assert_eq(M.size, 12);

	init_rq(FFPF_MSG_FT_EXPIRE, 3);
	ffpf_msg_put(&B, FFPF_A_BLOB, &key, sizeof(key));
	ok(&B);
	cr_assert_eq(M.blob_len, sizeof(key));
	init_rq(FFPF_MSG_FT_EXPIRE, 3);
	bad(&B, -EINVAL, "FT_EXPIRE: attribute BLOB missing");

	init_rq(FFPF_MSG_FT_STATS, 3);
	ok(&B);
	init_rq(FFPF_MSG_FT_STATS, 3);
	ffpf_msg_put(&B, FFPF_A_FT, &ft, sizeof(ft));
	bad(&B, -EINVAL, "FT_STATS: attribute FT not allowed");
	cr_assert_str_eq(ffpf_msg_type_name(FFPF_MSG_FT_EXPIRE | FFPF_MSG_REPLY),
			 "FT_EXPIRE reply");
}

Test(msg, ft_wrong_size_and_alignment)
{
	struct ffpf_msg_ft ft = { 0 };
	__u32 slot = 1;

	init_rq(FFPF_MSG_FT_START, 3);
	ffpf_msg_put(&B, FFPF_A_FT, &ft, sizeof(ft) - 4);
	bad(&B, -EBADMSG, "FT: 20 bytes, must be 24");
	init_rq(FFPF_MSG_FT_START, 3);
	raw(&B, FFPF_A_INDEX, 4, &slot, 4);	/* not allowed, but alignment is checked first */
	raw(&B, FFPF_A_FT, sizeof(ft), &ft, sizeof(ft));
	bad(&B, -EBADMSG, "FT: value at offset 36, not 8-byte aligned");
}
