/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * msg.c - the daemon's wire protocol (msg.h): the parser that checks
 * everything a peer sends before anyone reads a field, the builder, and
 * sendmsg/recvmsg with descriptors.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "msg.h"

#define ATTR_HDR	sizeof(struct ffpf_msg_attr)
#define BIT(a)		(1ULL << (a))
#define MAX_ERRNO	4095
/* What the kernel puts in one message at most (include/net/scm.h). */
#define SCM_MAX_FD	253

/* Every message must fit in a __u16-length world and in FFPF_MSG_MAX. */
_Static_assert(sizeof(struct ffpf_msg_hdr) == 24, "header layout");
_Static_assert(sizeof(struct ffpf_msg_hdr) % 8 == 0, "attributes start 8-aligned");
_Static_assert(FFPF_A_MAX <= 64, "present is a __u64");

static const char *const type_names[FFPF_MSG_TYPE_MAX] = {
	[FFPF_MSG_HELLO] = "HELLO",
	[FFPF_MSG_CREATE] = "CREATE",
	[FFPF_MSG_POPULATE] = "POPULATE",
	[FFPF_MSG_ADD_FILTER] = "ADD_FILTER",
	[FFPF_MSG_INSTANTIATE] = "INSTANTIATE",
	[FFPF_MSG_ACTIVATE] = "ACTIVATE",
	[FFPF_MSG_PAUSE] = "PAUSE",
	[FFPF_MSG_CLOSE] = "CLOSE",
	[FFPF_MSG_STATS] = "STATS",
	[FFPF_MSG_FILTER_STATS] = "FILTER_STATS",
	[FFPF_MSG_MBUF] = "MBUF",
	[FFPF_MSG_IFACE_STATS] = "IFACE_STATS",
	[FFPF_MSG_RX_STATS] = "RX_STATS",
	[FFPF_MSG_LIST] = "LIST",
	[FFPF_MSG_FT_START] = "FT_START",
	[FFPF_MSG_FT_SWEEP] = "FT_SWEEP",
	[FFPF_MSG_FT_EXPIRE] = "FT_EXPIRE",
	[FFPF_MSG_FT_STATS] = "FT_STATS",
};

static const char *const reply_names[FFPF_MSG_TYPE_MAX] = {
	[FFPF_MSG_HELLO] = "HELLO reply",
	[FFPF_MSG_CREATE] = "CREATE reply",
	[FFPF_MSG_POPULATE] = "POPULATE reply",
	[FFPF_MSG_ADD_FILTER] = "ADD_FILTER reply",
	[FFPF_MSG_INSTANTIATE] = "INSTANTIATE reply",
	[FFPF_MSG_ACTIVATE] = "ACTIVATE reply",
	[FFPF_MSG_PAUSE] = "PAUSE reply",
	[FFPF_MSG_CLOSE] = "CLOSE reply",
	[FFPF_MSG_STATS] = "STATS reply",
	[FFPF_MSG_FILTER_STATS] = "FILTER_STATS reply",
	[FFPF_MSG_MBUF] = "MBUF reply",
	[FFPF_MSG_IFACE_STATS] = "IFACE_STATS reply",
	[FFPF_MSG_RX_STATS] = "RX_STATS reply",
	[FFPF_MSG_LIST] = "LIST reply",
	[FFPF_MSG_FT_START] = "FT_START reply",
	[FFPF_MSG_FT_SWEEP] = "FT_SWEEP reply",
	[FFPF_MSG_FT_EXPIRE] = "FT_EXPIRE reply",
	[FFPF_MSG_FT_STATS] = "FT_STATS reply",
};

static const char *const attr_names[FFPF_A_MAX] = {
	[FFPF_A_UNSPEC] = "UNSPEC",
	[FFPF_A_IFNAME] = "IFNAME",
	[FFPF_A_NAME] = "NAME",
	[FFPF_A_GROUP] = "GROUP",
	[FFPF_A_CLASS] = "CLASS",
	[FFPF_A_ARGS] = "ARGS",
	[FFPF_A_SPEC] = "SPEC",
	[FFPF_A_MESSAGE] = "MESSAGE",
	[FFPF_A_TEXT] = "TEXT",
	[FFPF_A_VERSION] = "VERSION",
	[FFPF_A_HOOK] = "HOOK",
	[FFPF_A_RX] = "RX",
	[FFPF_A_SNAPLEN] = "SNAPLEN",
	[FFPF_A_IBUF_SIZE] = "IBUF_SIZE",
	[FFPF_A_INDEX] = "INDEX",
	[FFPF_A_SLOT] = "SLOT",
	[FFPF_A_ACCESS] = "ACCESS",
	[FFPF_A_U_ID] = "U_ID",
	[FFPF_A_SIZE] = "SIZE",
	[FFPF_A_RING] = "RING",
	[FFPF_A_INFO] = "INFO",
	[FFPF_A_BLOB] = "BLOB",
	[FFPF_A_FT] = "FT",
	[FFPF_A_SHARE] = "SHARE",
};

/* A string attribute's size limit, NUL included, and whether "" is valid. */
static const struct {
	__u32 max;
	bool empty_ok;
} str_limits[FFPF_A_VERSION] = {
	[FFPF_A_IFNAME] = { IF_NAMESIZE, false },
	[FFPF_A_NAME] = { 32, true },		/* FFPF_NAME_LEN */
	[FFPF_A_GROUP] = { FFPF_GROUP_LEN, true },
	[FFPF_A_CLASS] = { 32, false },
	[FFPF_A_ARGS] = { FFPF_MSG_STR_MAX, true },
	[FFPF_A_SPEC] = { FFPF_MSG_TEXT_MAX, false },
	[FFPF_A_MESSAGE] = { FFPF_MSG_TEXT_MAX, false },
	[FFPF_A_TEXT] = { FFPF_MSG_TEXT_MAX, false },
};

/* The schema: which attributes a type allows and requires. */
#define REQ_HELLO	BIT(FFPF_A_VERSION)
#define REQ_CREATE	(BIT(FFPF_A_IFNAME) | BIT(FFPF_A_NAME) | BIT(FFPF_A_HOOK) | \
			 BIT(FFPF_A_RX) | BIT(FFPF_A_SNAPLEN) | BIT(FFPF_A_IBUF_SIZE) | \
			 BIT(FFPF_A_GROUP) | BIT(FFPF_A_SHARE))

static const struct {
	__u64 allowed, required;	/* request */
	__u64 reply;			/* reply, beyond MESSAGE */
	bool no_flow;			/* request: hdr.flow 0 (else > 0) */
} schema[FFPF_MSG_TYPE_MAX] = {
	[FFPF_MSG_HELLO] = { REQ_HELLO, REQ_HELLO,
			     BIT(FFPF_A_VERSION) | BIT(FFPF_A_U_ID), true },
	[FFPF_MSG_CREATE] = { REQ_CREATE, BIT(FFPF_A_IFNAME), BIT(FFPF_A_NAME), true },
	[FFPF_MSG_POPULATE] = { BIT(FFPF_A_SPEC), BIT(FFPF_A_SPEC), 0, false },
	[FFPF_MSG_ADD_FILTER] = { BIT(FFPF_A_CLASS) | BIT(FFPF_A_ARGS), BIT(FFPF_A_CLASS),
				  0, false },
	[FFPF_MSG_INSTANTIATE] = { 0, 0, BIT(FFPF_A_SLOT) | BIT(FFPF_A_SNAPLEN) |
				   BIT(FFPF_A_INFO) | BIT(FFPF_A_RING), false },
	[FFPF_MSG_ACTIVATE] = { 0, 0, 0, false },
	[FFPF_MSG_PAUSE] = { 0, 0, 0, false },
	[FFPF_MSG_CLOSE] = { 0, 0, 0, false },
	[FFPF_MSG_STATS] = { 0, 0, BIT(FFPF_A_BLOB), false },
	[FFPF_MSG_FILTER_STATS] = { BIT(FFPF_A_INDEX), BIT(FFPF_A_INDEX), BIT(FFPF_A_BLOB),
				    false },
	[FFPF_MSG_MBUF] = { BIT(FFPF_A_INDEX), BIT(FFPF_A_INDEX),
			    BIT(FFPF_A_SIZE) | BIT(FFPF_A_ACCESS), false },
	[FFPF_MSG_IFACE_STATS] = { 0, 0, BIT(FFPF_A_BLOB), false },
	[FFPF_MSG_RX_STATS] = { 0, 0, BIT(FFPF_A_BLOB), false },
	[FFPF_MSG_LIST] = { 0, 0, BIT(FFPF_A_TEXT), true },
	[FFPF_MSG_FT_START] = { BIT(FFPF_A_FT), BIT(FFPF_A_FT), BIT(FFPF_A_FT), false },
	[FFPF_MSG_FT_SWEEP] = { 0, 0, BIT(FFPF_A_SIZE), false },
	[FFPF_MSG_FT_EXPIRE] = { BIT(FFPF_A_BLOB), BIT(FFPF_A_BLOB), 0, false },
	[FFPF_MSG_FT_STATS] = { 0, 0, BIT(FFPF_A_BLOB), false },
};

const char *ffpf_msg_type_name(__u16 type)
{
	__u16 t = type & ~FFPF_MSG_REPLY;

	if (t == 0 || t >= FFPF_MSG_TYPE_MAX)
		return "?";
	return (type & FFPF_MSG_REPLY) ? reply_names[t] : type_names[t];
}

/* --- parser: prints nothing, says why in @why ------------------------- */

struct why {
	char *buf;
	size_t len;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct why *w, int err, const char *fmt, ...)
{
	va_list ap;

	if (w->buf && w->len) {
		va_start(ap, fmt);
		vsnprintf(w->buf, w->len, fmt, ap);
		va_end(ap);
	}
	return err;
}

static bool has_nul(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

static int check_info(const struct ffpf_msg_info *info, struct why *w)
{
	if (!has_nul(info->name, sizeof(info->name)))
		return fail(w, -EBADMSG, "INFO: name not NUL-terminated");
	for (int i = 0; i < 16; i++) {
		if (!has_nul(info->classes[i], sizeof(info->classes[i])))
			return fail(w, -EBADMSG, "INFO: classes[%d] not NUL-terminated", i);
		if (!has_nul(info->names[i], sizeof(info->names[i])))
			return fail(w, -EBADMSG, "INFO: names[%d] not NUL-terminated", i);
	}
	if (!has_nul(info->spec, sizeof(info->spec)))
		return fail(w, -EBADMSG, "INFO: spec not NUL-terminated");
	return 0;
}

static int check_str(__u16 type, const char *s, __u16 len, struct ffpf_msg *out,
		     struct why *w)
{
	const char *name = attr_names[type];

	if (len == 0 || s[len - 1] != '\0')
		return fail(w, -EBADMSG, "%s: not NUL-terminated", name);
	if (strlen(s) != (size_t)len - 1)
		return fail(w, -EBADMSG, "%s: NUL inside the string", name);
	if (len > str_limits[type].max)
		return fail(w, -EBADMSG, "%s: %u bytes, at most %u allowed", name, len,
			    str_limits[type].max);
	if (len == 1 && !str_limits[type].empty_ok)
		return fail(w, -EBADMSG, "%s: empty", name);
	out->str[type] = s;
	return 0;
}

static int check_fixed(__u16 type, __u16 len, size_t want, struct why *w)
{
	if (len != want)
		return fail(w, -EBADMSG, "%s: %u bytes, must be %zu", attr_names[type], len,
			    want);
	return 0;
}

/* One attribute's value (@off: its offset in the message), by type. */
static int check_value(__u16 type, const __u8 *val, __u16 len, size_t off,
		       struct ffpf_msg *out, struct why *w)
{
	int ret;

	if (type < FFPF_A_VERSION)
		return check_str(type, (const char *)val, len, out, w);
	if (type < FFPF_A_SIZE) {
		ret = check_fixed(type, len, sizeof(__u32), w);
		if (!ret)
			memcpy(&out->u32[type], val, sizeof(__u32));
		return ret;
	}
	switch (type) {
	case FFPF_A_SIZE:
		ret = check_fixed(type, len, sizeof(__u64), w);
		if (!ret)
			memcpy(&out->size, val, sizeof(__u64));
		return ret;
	case FFPF_A_RING:
		ret = check_fixed(type, len, sizeof(struct ffpf_msg_ring), w);
		if (ret)
			return ret;
		/* Its __u64 members are read in place (msg.h: the filler). */
		if (off % 8)
			return fail(w, -EBADMSG, "RING: value at offset %zu, not 8-byte aligned",
				    off);
		out->ring = (const struct ffpf_msg_ring *)val;
		return 0;
	case FFPF_A_INFO:
		ret = check_fixed(type, len, sizeof(struct ffpf_msg_info), w);
		if (ret)
			return ret;
		ret = check_info((const struct ffpf_msg_info *)val, w);
		if (!ret)
			out->info = (const struct ffpf_msg_info *)val;
		return ret;
	case FFPF_A_SHARE:	/* a __u32 added after the others */
		ret = check_fixed(type, len, sizeof(__u32), w);
		if (!ret)
			memcpy(&out->share, val, sizeof(__u32));
		return ret;
	case FFPF_A_FT:
		ret = check_fixed(type, len, sizeof(struct ffpf_msg_ft), w);
		if (ret)
			return ret;
		/* ring_size is read in place, as RING's members are */
		if (off % 8)
			return fail(w, -EBADMSG, "FT: value at offset %zu, not 8-byte aligned",
				    off);
		out->ft = (const struct ffpf_msg_ft *)val;
		return 0;
	default: /* FFPF_A_BLOB */
		if (len == 0 || len > FFPF_MSG_BLOB_MAX)
			return fail(w, -EBADMSG, "BLOB: %u bytes, must be 1..%d", len,
				    FFPF_MSG_BLOB_MAX);
		out->blob = val;
		out->blob_len = len;
		return 0;
	}
}

/* Walk the attributes after the header: bounds, padding, type, value. */
static int parse_attrs(const __u8 *p, size_t len, struct ffpf_msg *out, struct why *w)
{
	size_t off = sizeof(struct ffpf_msg_hdr);

	while (off < len) {
		struct ffpf_msg_attr a;
		size_t pad;
		int ret;

		if (len - off < ATTR_HDR)
			return fail(w, -EBADMSG,
				    "attribute header at offset %zu runs past the message (%zu bytes)",
				    off, len);
		memcpy(&a, p + off, ATTR_HDR);
		if (a.len > len - off - ATTR_HDR)
			return fail(w, -EBADMSG,
				    "attribute %u at offset %zu: length %u runs past the message (%zu bytes)",
				    a.type, off, a.len, len);
		pad = FFPF_MSG_ALIGN(a.len) - a.len;
		if (a.len + pad > len - off - ATTR_HDR)
			return fail(w, -EBADMSG,
				    "attribute %u at offset %zu: padding missing at the end",
				    a.type, off);
		for (size_t i = 0; i < pad; i++)
			if (p[off + ATTR_HDR + a.len + i])
				return fail(w, -EBADMSG,
					    "attribute %u at offset %zu: nonzero padding",
					    a.type, off);
		if (a.type == FFPF_A_UNSPEC) {
			/* An alignment filler: no value, ignored. */
			if (a.len)
				return fail(w, -EBADMSG,
					    "attribute 0 at offset %zu: a filler with %u bytes of value",
					    off, a.len);
			off += ATTR_HDR;
			continue;
		}
		if (a.type >= FFPF_A_MAX)
			return fail(w, -EBADMSG, "attribute %u at offset %zu: unknown type",
				    a.type, off);
		if (out->present & BIT(a.type))
			return fail(w, -EBADMSG, "%s: attribute at offset %zu repeated",
				    attr_names[a.type], off);
		ret = check_value(a.type, p + off + ATTR_HDR, a.len, off + ATTR_HDR, out, w);
		if (ret)
			return ret;
		out->present |= BIT(a.type);
		off += ATTR_HDR + a.len + pad;
	}
	return 0;
}

/* The first attribute in @mask, for a message; there is one. */
static const char *first_attr(__u64 mask)
{
	return attr_names[__builtin_ctzll(mask)];
}

static int check_schema(const struct ffpf_msg *m, struct why *w)
{
	__u16 t = m->hdr.type & ~FFPF_MSG_REPLY;
	const char *tn = ffpf_msg_type_name(m->hdr.type);
	__u64 allowed, required, bad;

	if (m->hdr.type & FFPF_MSG_REPLY) {
		if (m->hdr.err > 0 || m->hdr.err < -MAX_ERRNO)
			return fail(w, -EBADMSG, "%s: err %d is not 0 or a -errno", tn,
				    m->hdr.err);
		allowed = schema[t].reply | BIT(FFPF_A_MESSAGE);
		required = 0;
	} else {
		if (m->hdr.err)
			return fail(w, -EBADMSG, "%s: a request with err %d", tn, m->hdr.err);
		if (schema[t].no_flow && m->hdr.flow != 0)
			return fail(w, -EINVAL, "%s: flow handle %d, must be 0", tn,
				    m->hdr.flow);
		if (!schema[t].no_flow && m->hdr.flow <= 0)
			return fail(w, -EINVAL, "%s: flow handle %d, must be > 0", tn,
				    m->hdr.flow);
		allowed = schema[t].allowed;
		required = schema[t].required;
	}
	bad = m->present & ~allowed;
	if (bad)
		return fail(w, -EINVAL, "%s: attribute %s not allowed", tn, first_attr(bad));
	bad = required & ~m->present;
	if (bad)
		return fail(w, -EINVAL, "%s: attribute %s missing", tn, first_attr(bad));
	return 0;
}

int ffpf_msg_parse(const void *buf, size_t len, struct ffpf_msg *out,
		   char *why, size_t why_len)
{
	struct why w = { why, why_len };
	struct ffpf_msg_hdr *h = &out->hdr;
	__u16 t;
	int ret;

	if (why && why_len)
		why[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (len < sizeof(*h))
		return fail(&w, -EBADMSG, "%zu bytes, shorter than a header (%zu)", len,
			    sizeof(*h));
	memcpy(h, buf, sizeof(*h));
	if (h->magic != FFPF_MSG_MAGIC)
		return fail(&w, -EBADMSG, "bad magic 0x%08x", h->magic);
	if (h->version != FFPF_MSG_VERSION)
		return fail(&w, -EPROTO, "protocol version %u, we speak %d", h->version,
			    FFPF_MSG_VERSION);
	if (h->len != len)
		return fail(&w, -EBADMSG, "header says %u bytes, message has %zu", h->len,
			    len);
	if (len > FFPF_MSG_MAX)
		return fail(&w, -EBADMSG, "%zu bytes, longer than %d", len, FFPF_MSG_MAX);
	t = h->type & ~FFPF_MSG_REPLY;
	if (t == 0 || t >= FFPF_MSG_TYPE_MAX)
		return fail(&w, -EOPNOTSUPP, "unknown message type %u", t);
	ret = parse_attrs(buf, len, out, &w);
	if (ret)
		return ret;
	return check_schema(out, &w);
}

/* --- builder ------------------------------------------------------------ */

void ffpf_msg_init(struct ffpf_msg_buf *b, __u16 type, __u32 seq, __s32 flow, __s32 err)
{
	memset(&b->hdr, 0, sizeof(b->hdr));
	b->hdr.magic = FFPF_MSG_MAGIC;
	b->hdr.version = FFPF_MSG_VERSION;
	b->hdr.type = type;
	b->hdr.len = sizeof(b->hdr);
	b->hdr.seq = seq;
	b->hdr.flow = flow;
	b->hdr.err = err;
	b->len = sizeof(b->hdr);
	b->overflow = false;
}

/* Append one attribute header and its padded value; the room is checked. */
static void put_raw(struct ffpf_msg_buf *b, __u16 type, const void *val, size_t len)
{
	struct ffpf_msg_attr a = { .type = type, .len = (__u16)len };
	size_t pad = FFPF_MSG_ALIGN(len) - len;

	memcpy(b->data + b->len, &a, sizeof(a));
	b->len += sizeof(a);
	if (len)
		memcpy(b->data + b->len, val, len);
	memset(b->data + b->len + len, 0, pad);
	b->len += len + pad;
	b->hdr.len = b->len;
}

int ffpf_msg_put(struct ffpf_msg_buf *b, __u16 type, const void *val, size_t len)
{
	/* RING and FT are read in place: their values must start 8-aligned. */
	size_t filler = ((type == FFPF_A_RING || type == FFPF_A_FT) &&
			 (b->len + ATTR_HDR) % 8) ? ATTR_HDR : 0;

	if (len && !val)
		return -EINVAL;
	if (b->overflow || len > UINT16_MAX ||
	    b->len + filler + ATTR_HDR + FFPF_MSG_ALIGN(len) > FFPF_MSG_MAX) {
		b->overflow = true;
		return -E2BIG;
	}
	if (filler)
		put_raw(b, FFPF_A_UNSPEC, NULL, 0);
	put_raw(b, type, val, len);
	return 0;
}

int ffpf_msg_put_str(struct ffpf_msg_buf *b, __u16 type, const char *s)
{
	return ffpf_msg_put(b, type, s, strlen(s) + 1);
}

int ffpf_msg_put_u32(struct ffpf_msg_buf *b, __u16 type, __u32 v)
{
	return ffpf_msg_put(b, type, &v, sizeof(v));
}

int ffpf_msg_put_u64(struct ffpf_msg_buf *b, __u16 type, __u64 v)
{
	return ffpf_msg_put(b, type, &v, sizeof(v));
}

/* --- transport ---------------------------------------------------------- */

int ffpf_msg_send(int fd, const struct ffpf_msg_buf *b, const int *fds, int nfds,
		  bool nonblock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FFPF_MSG_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)b->data, .iov_len = b->len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (b->overflow || b->len > FFPF_MSG_MAX)
		return -EMSGSIZE;
	if (nfds < 0 || nfds > FFPF_MSG_MAX_FDS || (nfds && !fds))
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | (nonblock ? MSG_DONTWAIT : 0));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* SOCK_SEQPACKET sends a record whole or not at all. */
	return (size_t)n == b->len ? 0 : -EIO;
}

/*
 * Hand out the descriptors of every SCM_RIGHTS message in @mh, up to
 * @max (none if @fds is NULL); close the rest: a peer may send several
 * SCM_RIGHTS messages, and what we do not keep must not leak.
 */
static int take_fds(struct msghdr *mh, int *fds, int max)
{
	int n = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t cnt;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < cnt; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(f));
			if (fds && n < max)
				fds[n++] = f;
			else
				close(f);
		}
	}
	return n;
}

ssize_t ffpf_msg_recv(int fd, struct ffpf_msg_buf *b, int *fds, int max_fds, int *nfds)
{
	/* Room for the most a peer can attach, and its credentials. */
	union {
		char buf[CMSG_SPACE(sizeof(int) * SCM_MAX_FD) + CMSG_SPACE(sizeof(struct ucred)) +
			 CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = b->data, .iov_len = sizeof(b->data) };
	struct msghdr mh;
	ssize_t n;
	int got;

	if (nfds)
		*nfds = 0;
	b->len = 0;
	b->overflow = false;
	do {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		/*
		 * Longer than any message, or more control data than a peer
		 * can legitimately send: close what arrived, discard it all
		 * (the kernel drops the rest of a SOCK_SEQPACKET record).
		 */
		take_fds(&mh, NULL, 0);
		return -EMSGSIZE;
	}
	got = take_fds(&mh, nfds ? fds : NULL, max_fds < 0 ? 0 : max_fds);
	if (nfds)
		*nfds = got;
	b->len = n;
	return n;
}
