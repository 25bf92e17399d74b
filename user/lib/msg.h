/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * msg.h (internal) - the wire protocol between libffpfbpf and
 * `ffpf-bpf daemon` (docs/daemon.md).
 *
 * Transport: an AF_UNIX SOCK_SEQPACKET socket, so one recvmsg() is one
 * message and framing is the kernel's. A message is a fixed header and a
 * list of attributes (type, length, value; values padded to 4 bytes, the
 * last one's padding included in the length). Type FFPF_A_UNSPEC with no
 * value is an alignment filler (it may repeat and is ignored): FFPF_A_RING
 * and FFPF_A_FT hold __u64s and are read in place, so their values must
 * start 8-byte aligned from the message's start, and ffpf_msg_put() puts
 * a filler before them when needed. A reply has the request's type with
 * FFPF_MSG_REPLY set, the request's seq, and err (0 or a negative errno);
 * on error it carries FFPF_A_MESSAGE, the library's explanation. Only
 * replies carry file descriptors (SCM_RIGHTS): what a client sends along
 * with a request is closed unread.
 *
 * Everything a peer sends is untrusted: ffpf_msg_parse() checks the
 * header, every attribute's bounds and type, which attributes the message
 * type allows and requires, that strings are NUL-terminated and short
 * enough, and that no attribute appears twice; only then does anyone
 * read a field.
 */
#ifndef FFPF_MSG_H
#define FFPF_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#define FFPF_MSG_MAGIC		0x44504646U	/* "FFPD" little-endian */
#define FFPF_MSG_VERSION	1
#define FFPF_MSG_MAX		(64 * 1024)	/* whole message, header included */
#define FFPF_MSG_MAX_FDS	4		/* descriptors in one reply */
#define FFPF_MSG_STR_MAX	4096		/* a string attribute, NUL included
						 * (FFPF_A_SPEC, FFPF_A_MESSAGE: FFPF_MSG_TEXT_MAX) */
#define FFPF_MSG_TEXT_MAX	(32 * 1024)

struct ffpf_msg_hdr {
	__u32 magic;		/* FFPF_MSG_MAGIC */
	__u16 version;		/* FFPF_MSG_VERSION */
	__u16 type;		/* enum ffpf_msg_type, | FFPF_MSG_REPLY in replies */
	__u32 len;		/* bytes of the whole message, this header included */
	__u32 seq;		/* chosen by the client, echoed in the reply */
	__s32 flow;		/* the daemon's handle of the flow; 0: none */
	__s32 err;		/* reply: 0 or -errno; request: 0 */
};

struct ffpf_msg_attr {
	__u16 type;		/* enum ffpf_msg_attr_type */
	__u16 len;		/* bytes of the value, this header excluded */
	/* value, then zero padding to a multiple of 4 */
};

#define FFPF_MSG_ALIGN(n)	(((n) + 3U) & ~3U)
#define FFPF_MSG_REPLY		0x8000

enum ffpf_msg_type {
	FFPF_MSG_HELLO = 1,	/* -> FFPF_A_VERSION; reply: FFPF_A_VERSION, FFPF_A_U_ID */
	FFPF_MSG_CREATE,	/* IFNAME, [NAME HOOK RX SNAPLEN IBUF_SIZE GROUP SHARE];
				 * reply: flow handle in hdr.flow, NAME */
	FFPF_MSG_POPULATE,	/* SPEC */
	FFPF_MSG_ADD_FILTER,	/* CLASS, [ARGS] */
	FFPF_MSG_INSTANTIATE,	/* reply: SLOT, SNAPLEN, INFO (a struct ffpf_msg_info:
				 * the flow as loaded); with rx: RING, and fds
				 * [PBuf memfd (read-only), IBuf memfd, eventfd] */
	FFPF_MSG_ACTIVATE,
	FFPF_MSG_PAUSE,
	FFPF_MSG_CLOSE,
	FFPF_MSG_STATS,		/* reply: BLOB = struct ffpf_flow_stats */
	FFPF_MSG_FILTER_STATS,	/* INDEX; reply: BLOB = struct ffpf_mbuf_hdr */
	FFPF_MSG_MBUF,		/* INDEX; reply: SIZE, ACCESS, fd [MBuf map] */
	FFPF_MSG_IFACE_STATS,	/* reply: BLOB = struct ffpf_iface_stats */
	FFPF_MSG_RX_STATS,	/* reply: BLOB = struct ffpf_rx_stats */
	FFPF_MSG_LIST,		/* reply: TEXT, one line per flow the caller may see */
	/* Flow tracking (ffpf_ft_*): the daemon sweeps, the client gets the records. */
	FFPF_MSG_FT_START,	/* FT (interval_ms, flags); reply: FT, and fds
				 * [record ring memfd, eventfd, flow table (read-only),
				 * id index (read-only)] */
	FFPF_MSG_FT_SWEEP,	/* reply: SIZE = flows ended */
	FFPF_MSG_FT_EXPIRE,	/* BLOB = struct ffpf_ft_key */
	FFPF_MSG_FT_STATS,	/* reply: BLOB = struct ffpf_ft_stats */
	FFPF_MSG_TYPE_MAX,
};

enum ffpf_msg_attr_type {
	FFPF_A_UNSPEC = 0,
	/* strings: NUL-terminated, at most FFPF_MSG_STR_MAX bytes */
	FFPF_A_IFNAME,		/* < IF_NAMESIZE */
	FFPF_A_NAME,		/* flow name, < FFPF_NAME_LEN */
	FFPF_A_GROUP,		/* flow group, < FFPF_GROUP_LEN */
	FFPF_A_CLASS,		/* filter class, < 32 */
	FFPF_A_ARGS,		/* filter arguments */
	FFPF_A_SPEC,		/* at most FFPF_MSG_TEXT_MAX */
	FFPF_A_MESSAGE,		/* error explanation, at most FFPF_MSG_TEXT_MAX */
	FFPF_A_TEXT,		/* LIST's listing, at most FFPF_MSG_TEXT_MAX */
	/* __u32 */
	FFPF_A_VERSION,
	FFPF_A_HOOK,		/* enum ffpf_hook */
	FFPF_A_RX,		/* enum ffpf_rx_mode */
	FFPF_A_SNAPLEN,
	FFPF_A_IBUF_SIZE,
	FFPF_A_INDEX,		/* filter index */
	FFPF_A_SLOT,
	FFPF_A_ACCESS,		/* enum ffpf_msg_access */
	FFPF_A_U_ID,		/* the uid the daemon sees (SO_PEERCRED) */
	/* __u64 */
	FFPF_A_SIZE,
	/* fixed structs */
	FFPF_A_RING,		/* struct ffpf_msg_ring */
	FFPF_A_INFO,		/* struct ffpf_msg_info */
	/* opaque, at most FFPF_MSG_BLOB_MAX bytes */
	FFPF_A_BLOB,
	FFPF_A_FT,		/* struct ffpf_msg_ft */
	FFPF_A_SHARE,		/* __u32: handle of the flow whose state to share
				 * (ffpf_flow_opts.share), on the same connection */
	FFPF_A_MAX,
};

#define FFPF_MSG_BLOB_MAX	1024
#ifndef FFPF_GROUP_LEN
#define FFPF_GROUP_LEN		64
#endif

enum ffpf_msg_access { FFPF_ACCESS_NONE = 0, FFPF_ACCESS_READ = 1, FFPF_ACCESS_WRITE = 2 };

/* How the client maps its IBuf and the PBuf (the fds of an INSTANTIATE reply). */
struct ffpf_msg_ring {
	__u64 pbuf_size;	/* bytes of the PBuf memfd to map read-only */
	__u64 ring_size;	/* bytes of the IBuf memfd to map read-write */
	__u32 capacity;		/* descriptors in the IBuf */
	__u32 frame_size;
	__u32 flow;		/* the flow's bit in ffpf_meta.matched */
	__u32 pad;
};

/* Flow tracking through the daemon (FT_START). */
#define FFPF_MSG_FT_MANUAL	1u	/* request: sweep only on FT_SWEEP */
#define FFPF_MSG_FT_INDEX	2u	/* reply: the table has an id index */

struct ffpf_msg_ft {
	__u64 ring_size;	/* reply: bytes of the record ring memfd */
	__u32 interval_ms;	/* request: sweep period, 0: automatic */
	__u32 flags;		/* FFPF_MSG_FT_* */
	__u32 capacity;		/* reply: records in the ring */
	__u32 table_size;	/* reply: entries of the flow table */
};

/* The flow as the daemon loaded it: what the client's getters answer. */
struct ffpf_msg_info {
	__u32 nfilters;
	__u32 hook;
	char name[32];			/* FFPF_NAME_LEN */
	char classes[16][32];		/* FFPF_MAX_STAGES class names */
	char names[16][32];		/* instance names, "" for unnamed */
	char spec[512];			/* FFPF_SPEC_LEN */
};

/* A parsed, checked message. Pointers point into the parsed buffer. */
struct ffpf_msg {
	struct ffpf_msg_hdr hdr;
	__u64 present;				/* bit (1 << attr type) */
	const char *str[FFPF_A_VERSION];	/* string attributes, by type */
	__u32 u32[FFPF_A_SIZE + 1];		/* __u32 attributes, by type */
	__u64 size;				/* FFPF_A_SIZE */
	const struct ffpf_msg_ring *ring;
	const struct ffpf_msg_info *info;
	const struct ffpf_msg_ft *ft;
	__u32 share;				/* FFPF_A_SHARE */
	const void *blob;
	__u32 blob_len;
};

#define FFPF_MSG_HAS(m, a)	(((m)->present >> (a)) & 1)

/*
 * Check @buf (@len bytes, as received) and fill @out. Requests and
 * replies are checked against the same per-type table of allowed and
 * required attributes (a reply may also carry FFPF_A_MESSAGE; an error
 * reply need carry nothing else). @buf must stay alive and unchanged
 * while @out is used, and be 8-byte aligned (struct ffpf_msg_buf is).
 * Strings are at most their attribute's limit, NUL included (IFNAME:
 * IF_NAMESIZE), with no NUL before the last byte; only NAME, GROUP and
 * ARGS may be empty. A request has err 0, and flow 0 (HELLO, CREATE,
 * LIST) or > 0 (the others); a reply has err 0..-4095.
 * Returns 0, or -EBADMSG (malformed: bad magic, length, attribute bounds,
 * padding, string without NUL or too long, wrong size of a fixed
 * attribute, misaligned RING, duplicate, err out of range), -EPROTO (a
 * version we do not speak), -EOPNOTSUPP (unknown message type), -EINVAL
 * (an attribute the type does not allow, a required one missing, a flow
 * handle the type does not take), with a one-line reason in @why (may be
 * NULL). On error *@out is partly written: do not use it. Prints nothing.
 */
int ffpf_msg_parse(const void *buf, size_t len, struct ffpf_msg *out,
		   char *why, size_t why_len);

/* Building a message into a caller's buffer of FFPF_MSG_MAX bytes. */
struct ffpf_msg_buf {
	union {
		struct ffpf_msg_hdr hdr;
		__u8 data[FFPF_MSG_MAX];
	} __attribute__((aligned(8)));
	size_t len;
	bool overflow;		/* an attribute did not fit: do not send */
};

/* Start a message: header filled, len = sizeof(hdr). */
void ffpf_msg_init(struct ffpf_msg_buf *b, __u16 type, __u32 seq, __s32 flow, __s32 err);
/*
 * Append an attribute (@len bytes of @val, padded; RING after a filler if
 * needed). -E2BIG sets overflow, and every later put fails too.
 */
int ffpf_msg_put(struct ffpf_msg_buf *b, __u16 type, const void *val, size_t len);
int ffpf_msg_put_str(struct ffpf_msg_buf *b, __u16 type, const char *s);	/* NUL included */
int ffpf_msg_put_u32(struct ffpf_msg_buf *b, __u16 type, __u32 v);
int ffpf_msg_put_u64(struct ffpf_msg_buf *b, __u16 type, __u64 v);

/* "CREATE", "INSTANTIATE reply", ... for messages; "?" if unknown. */
const char *ffpf_msg_type_name(__u16 type);

/*
 * Send @b on @fd with @nfds descriptors (SCM_RIGHTS), MSG_NOSIGNAL and,
 * if @nonblock, MSG_DONTWAIT (the daemon never waits on a client).
 * Returns 0 or -errno (-EMSGSIZE if the buffer overflowed).
 */
int ffpf_msg_send(int fd, const struct ffpf_msg_buf *b, const int *fds, int nfds,
		  bool nonblock);

/*
 * Receive one message into @b (FFPF_MSG_MAX bytes). Descriptors that came
 * with it go into @fds (up to @max_fds, *@nfds set); any beyond @max_fds,
 * and all of them when @fds is NULL, are closed. Returns the message's
 * length, 0 on orderly shutdown (peer closed), -EMSGSIZE if the message
 * was longer than FFPF_MSG_MAX or its control data did not fit (it is
 * discarded, its descriptors closed), -errno otherwise.
 * Received fds are O_CLOEXEC (MSG_CMSG_CLOEXEC).
 */
ssize_t ffpf_msg_recv(int fd, struct ffpf_msg_buf *b, int *fds, int max_fds, int *nfds);

#endif /* FFPF_MSG_H */
