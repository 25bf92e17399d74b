/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * fuzz_msg.c - libFuzzer target for the daemon's wire protocol parser
 * (user/lib/msg.c). The daemon runs it on every datagram a client sends,
 * and the library on every reply: it must never crash, read outside the
 * message or accept something a reader could trip on.
 *
 * Invariants (a broken one aborts):
 *   - the parser returns 0, -EBADMSG, -EPROTO, -EOPNOTSUPP or -EINVAL,
 *     and an error has a one-line reason;
 *   - an accepted message's strings lie inside the input, NUL included,
 *     and are shorter than their limit; RING, INFO and BLOB lie inside
 *     it, RING 8-byte aligned; absent attributes leave their fields empty;
 *   - the accepted message, built again with the put functions (same
 *     header, attributes in type order), parses to the same fields.
 */
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include "msg.h"
#include "fuzz.h"

/* Parsed in an 8-aligned copy, as received into a struct ffpf_msg_buf. */
static __u8 in[FFPF_MSG_MAX + 64] __attribute__((aligned(8)));
static struct ffpf_msg_buf re;

/* A string attribute's limit, NUL included (msg.h). */
static const size_t str_max[FFPF_A_VERSION] = {
	[FFPF_A_IFNAME] = IF_NAMESIZE,
	[FFPF_A_NAME] = 32,
	[FFPF_A_GROUP] = FFPF_GROUP_LEN,
	[FFPF_A_CLASS] = 32,
	[FFPF_A_ARGS] = FFPF_MSG_STR_MAX,
	[FFPF_A_SPEC] = FFPF_MSG_TEXT_MAX,
	[FFPF_A_MESSAGE] = FFPF_MSG_TEXT_MAX,
	[FFPF_A_TEXT] = FFPF_MSG_TEXT_MAX,
};

static bool inside(const void *p, size_t n, size_t size)
{
	const __u8 *b = p;

	return b >= in && b <= in + size && n <= (size_t)(in + size - b);
}

static void check_fields(const struct ffpf_msg *m, size_t size)
{
	for (int a = FFPF_A_IFNAME; a < FFPF_A_VERSION; a++) {
		const char *s = m->str[a];

		FUZZ_CHECK(!!s == FFPF_MSG_HAS(m, a), "string %d: pointer vs present", a);
		if (!s)
			continue;
		FUZZ_CHECK(inside(s, 1, size), "string %d outside the input", a);
		FUZZ_CHECK(memchr(s, '\0', in + size - (const __u8 *)s), "string %d: no NUL", a);
		FUZZ_CHECK(strlen(s) < str_max[a], "string %d: %zu bytes", a, strlen(s));
	}
	for (int a = FFPF_A_VERSION; a < FFPF_A_SIZE; a++)
		FUZZ_CHECK(FFPF_MSG_HAS(m, a) || !m->u32[a], "u32 %d set but absent", a);
	FUZZ_CHECK(FFPF_MSG_HAS(m, FFPF_A_SIZE) || !m->size, "size set but absent");
	FUZZ_CHECK(!!m->ring == FFPF_MSG_HAS(m, FFPF_A_RING), "ring vs present");
	FUZZ_CHECK(!m->ring || (inside(m->ring, sizeof(*m->ring), size) &&
				(uintptr_t)m->ring % 8 == 0), "ring outside or misaligned");
	FUZZ_CHECK(!!m->info == FFPF_MSG_HAS(m, FFPF_A_INFO), "info vs present");
	FUZZ_CHECK(!m->info || inside(m->info, sizeof(*m->info), size), "info outside");
	FUZZ_CHECK(!!m->ft == FFPF_MSG_HAS(m, FFPF_A_FT), "ft vs present");
	FUZZ_CHECK(!m->ft || (inside(m->ft, sizeof(*m->ft), size) &&
			      (uintptr_t)m->ft % 8 == 0), "ft outside or misaligned");
	FUZZ_CHECK(FFPF_MSG_HAS(m, FFPF_A_SHARE) || !m->share, "share set but absent");
	FUZZ_CHECK(!!m->blob == FFPF_MSG_HAS(m, FFPF_A_BLOB), "blob vs present");
	FUZZ_CHECK(!m->blob || (m->blob_len >= 1 && m->blob_len <= FFPF_MSG_BLOB_MAX &&
				inside(m->blob, m->blob_len, size)), "blob outside");
	FUZZ_CHECK(!(m->present & 1) && m->present < (1ULL << FFPF_A_MAX),
		   "present 0x%llx", (unsigned long long)m->present);
}

/* Build @m again, attributes in type order. */
static void encode(const struct ffpf_msg *m)
{
	int ret = 0;

	ffpf_msg_init(&re, m->hdr.type, m->hdr.seq, m->hdr.flow, m->hdr.err);
	for (int a = 1; a < FFPF_A_MAX && !ret; a++) {
		if (!FFPF_MSG_HAS(m, a))
			continue;
		if (a < FFPF_A_VERSION)
			ret = ffpf_msg_put_str(&re, a, m->str[a]);
		else if (a < FFPF_A_SIZE)
			ret = ffpf_msg_put_u32(&re, a, m->u32[a]);
		else if (a == FFPF_A_SIZE)
			ret = ffpf_msg_put_u64(&re, a, m->size);
		else if (a == FFPF_A_RING)
			ret = ffpf_msg_put(&re, a, m->ring, sizeof(*m->ring));
		else if (a == FFPF_A_INFO)
			ret = ffpf_msg_put(&re, a, m->info, sizeof(*m->info));
		else if (a == FFPF_A_FT)
			ret = ffpf_msg_put(&re, a, m->ft, sizeof(*m->ft));
		else if (a == FFPF_A_SHARE)
			ret = ffpf_msg_put_u32(&re, a, m->share);
		else
			ret = ffpf_msg_put(&re, a, m->blob, m->blob_len);
	}
	FUZZ_CHECK(!ret && !re.overflow, "re-encoding failed: %d", ret);
}

static void check_same(const struct ffpf_msg *a, const struct ffpf_msg *b)
{
	FUZZ_CHECK(a->hdr.type == b->hdr.type && a->hdr.seq == b->hdr.seq &&
		   a->hdr.flow == b->hdr.flow && a->hdr.err == b->hdr.err, "header differs");
	FUZZ_CHECK(a->present == b->present, "present 0x%llx vs 0x%llx",
		   (unsigned long long)a->present, (unsigned long long)b->present);
	for (int t = FFPF_A_IFNAME; t < FFPF_A_VERSION; t++)
		FUZZ_CHECK(!a->str[t] || !strcmp(a->str[t], b->str[t]), "string %d differs", t);
	FUZZ_CHECK(!memcmp(a->u32, b->u32, sizeof(a->u32)) && a->size == b->size,
		   "numbers differ");
	FUZZ_CHECK(!a->ring || !memcmp(a->ring, b->ring, sizeof(*a->ring)), "ring differs");
	FUZZ_CHECK(!a->info || !memcmp(a->info, b->info, sizeof(*a->info)), "info differs");
	FUZZ_CHECK(!a->ft || !memcmp(a->ft, b->ft, sizeof(*a->ft)), "ft differs");
	FUZZ_CHECK(a->share == b->share, "share differs");
	FUZZ_CHECK(a->blob_len == b->blob_len &&
		   (!a->blob || !memcmp(a->blob, b->blob, a->blob_len)), "blob differs");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ffpf_msg m, m2;
	char why[256];
	int ret;

	if (size > sizeof(in))
		size = sizeof(in);
	memcpy(in, data, size);
	why[0] = 'x';
	ret = ffpf_msg_parse(in, size, &m, why, sizeof(why));
	FUZZ_CHECK(ret == 0 || ret == -EBADMSG || ret == -EPROTO || ret == -EOPNOTSUPP ||
		   ret == -EINVAL, "parse returned %d", ret);
	if (ret) {
		FUZZ_CHECK(why[0] && !strchr(why, '\n'), "error %d with reason \"%s\"", ret, why);
		return 0;
	}
	FUZZ_CHECK(!why[0], "success with a reason: %s", why);
	FUZZ_CHECK(m.hdr.len == size && size <= FFPF_MSG_MAX, "len %u of %zu", m.hdr.len, size);
	check_fields(&m, size);
	encode(&m);
	ret = ffpf_msg_parse(re.data, re.len, &m2, why, sizeof(why));
	FUZZ_CHECK(ret == 0, "re-encoded message refused: %d %s", ret, why);
	check_same(&m, &m2);
	return 0;
}
