// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ffpf-hostile - a hostile client of `ffpf-bpf daemon`, for the
 * integration tests: malformed, oversized, out-of-order and abusive
 * messages on the daemon's socket (docs/daemon.md, user/lib/msg.h).
 *
 *   ffpf-hostile --socket PATH [--pid DAEMON_PID]
 *
 * Every scenario runs on a fresh connection. It passes if the daemon
 * answers with an error reply (err < 0) or closes the connection within
 * 2 s (a valid request may also succeed where noted), and if afterwards,
 * on a new connection, a proper HELLO still gets a reply with err 0: the
 * daemon keeps serving. With --pid, descriptors sent along with a request
 * must not pile up in the daemon (/proc/PID/fd is counted).
 * Prints "ok   NAME: ..." or "FAIL NAME: ..." per scenario, then
 * "N passed, N failed"; exits 0 iff nothing failed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "msg.h"

#define TIMEOUT_MS	2000
#define NFDS		200

static const char *sock_path;
static pid_t daemon_pid;
static struct ffpf_msg_buf sb, rb;
static char res[512];		/* the scenario's outcome, for its line */

__attribute__((format(printf, 1, 2)))
static int say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res, sizeof(res), fmt, ap);
	va_end(ap);
	return -1;
}

static int conn(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, sz = 256 * 1024;

	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, sock_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Room for the 100000-byte datagram. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool is_closed(int err)
{
	return err == -EPIPE || err == -ECONNRESET;
}

/*
 * The daemon's answer on @fd: 0 if it closed the connection or sent an
 * error reply (or, if @success_ok, any reply), -1 otherwise; res says
 * which.
 */
static int answer(int fd, bool success_ok)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct ffpf_msg m;
	char why[256];
	ssize_t n;
	int ret;

	ret = poll(&p, 1, TIMEOUT_MS);
	if (ret < 0)
		return say("poll: %s", strerror(errno));
	if (ret == 0)
		return say("no reply and not closed within %d s", TIMEOUT_MS / 1000);
	n = ffpf_msg_recv(fd, &rb, NULL, 0, NULL);
	if (n == 0 || is_closed(n)) {
		say("closed");
		return 0;
	}
	if (n < 0)
		return say("recv: %s", strerror(-n));
	ret = ffpf_msg_parse(rb.data, n, &m, why, sizeof(why));
	if (ret == -EOPNOTSUPP && n >= (ssize_t)sizeof(m.hdr)) {
		/*
		 * The reply to an unknown type may echo it: read it as a HELLO
		 * reply (which any error reply also is) to get its MESSAGE.
		 */
		struct ffpf_msg_hdr h;

		memcpy(&h, rb.data, sizeof(h));
		h.type = FFPF_MSG_HELLO | (h.type & FFPF_MSG_REPLY);
		memcpy(rb.data, &h, sizeof(h));
		ret = ffpf_msg_parse(rb.data, n, &m, why, sizeof(why));
	}
	if (ret)
		return say("malformed reply (%s): %s", strerror(-ret), why);
	if (!(m.hdr.type & FFPF_MSG_REPLY))
		return say("a %s instead of a reply", ffpf_msg_type_name(m.hdr.type));
	if (m.hdr.err < 0) {
		say("reply err=%d \"%s\"", m.hdr.err,
		    m.str[FFPF_A_MESSAGE] ? m.str[FFPF_A_MESSAGE] : "");
		return 0;
	}
	say("%s err=0", ffpf_msg_type_name(m.hdr.type));
	return success_ok ? 0 : -1;
}

static void hello(struct ffpf_msg_buf *b, __u32 seq)
{
	ffpf_msg_init(b, FFPF_MSG_HELLO, seq, 0, 0);
	ffpf_msg_put_u32(b, FFPF_A_VERSION, FFPF_MSG_VERSION);
}

/* A proper HELLO on a new connection must get err 0: still serving. */
static int still_serving(char *out, size_t len)
{
	struct pollfd p;
	struct ffpf_msg m;
	char why[256];
	ssize_t n;
	int fd, ret;

	fd = conn();
	if (fd < 0)
		return snprintf(out, len, "connect: %s", strerror(-fd)), -1;
	hello(&sb, 1);
	ret = ffpf_msg_send(fd, &sb, NULL, 0, false);
	if (ret) {
		snprintf(out, len, "HELLO: send: %s", strerror(-ret));
		goto fail;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, TIMEOUT_MS) != 1) {
		snprintf(out, len, "HELLO: no reply within %d s", TIMEOUT_MS / 1000);
		goto fail;
	}
	n = ffpf_msg_recv(fd, &rb, NULL, 0, NULL);
	if (n <= 0) {
		snprintf(out, len, "HELLO: %s", n ? strerror(-n) : "connection closed");
		goto fail;
	}
	ret = ffpf_msg_parse(rb.data, n, &m, why, sizeof(why));
	if (ret || m.hdr.type != (FFPF_MSG_HELLO | FFPF_MSG_REPLY) || m.hdr.err) {
		snprintf(out, len, "HELLO: bad reply: %.200s", ret ? why : m.str[FFPF_A_MESSAGE] ?
			 m.str[FFPF_A_MESSAGE] : ffpf_msg_type_name(m.hdr.type));
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

/* Send @len bytes as one datagram and judge the answer. */
static int send_judge(int fd, const void *buf, size_t len, bool success_ok)
{
	ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

	if (n < 0 && is_closed(-errno)) {
		say("closed");
		return 0;
	}
	if (n < 0)
		return say("send: %s", strerror(errno));
	return answer(fd, success_ok);
}

static int send_buf_judge(int fd, const struct ffpf_msg_buf *b, bool success_ok)
{
	return send_judge(fd, b->data, b->len, success_ok);
}

/* HELLO first, as a well-behaved client would; its reply must be fine. */
static int greet(int fd)
{
	hello(&sb, 1);
	if (send_buf_judge(fd, &sb, true))
		return -1;
	if (strcmp(res, "HELLO reply err=0"))
		return say("the opening HELLO got: %s", res);
	return 0;
}

/* Overwrite the header's length after the attributes are in. */
static void set_len(struct ffpf_msg_buf *b, size_t len)
{
	b->hdr.len = len;
}

/* --- scenarios: 0 ok, -1 failed (res says what happened) ------------------ */

static int s_truncated(int fd)
{
	hello(&sb, 1);
	return send_judge(fd, sb.data, 10, false);
}

static int s_bad_magic(int fd)
{
	hello(&sb, 1);
	sb.hdr.magic = 0xdeadbeef;
	return send_buf_judge(fd, &sb, false);
}

static int s_bad_version(int fd)
{
	hello(&sb, 1);
	sb.hdr.version = 77;
	return send_buf_judge(fd, &sb, false);
}

static int s_len_larger(int fd)
{
	hello(&sb, 1);
	set_len(&sb, sb.len + 64);
	return send_buf_judge(fd, &sb, false);
}

static int s_len_smaller(int fd)
{
	hello(&sb, 1);
	set_len(&sb, sb.len - 8);
	return send_buf_judge(fd, &sb, false);
}

static int s_unknown_type(int fd)
{
	ffpf_msg_init(&sb, 999, 1, 0, 0);
	return send_buf_judge(fd, &sb, false);
}

static int s_attr_past_end(int fd)
{
	struct ffpf_msg_attr a = { FFPF_A_IFNAME, 9000 };

	ffpf_msg_init(&sb, FFPF_MSG_CREATE, 1, 0, 0);
	ffpf_msg_put_str(&sb, FFPF_A_IFNAME, "eth0");
	memcpy(sb.data + sizeof(sb.hdr), &a, sizeof(a));
	return send_buf_judge(fd, &sb, false);
}

static int s_string_no_nul(int fd)
{
	ffpf_msg_init(&sb, FFPF_MSG_CREATE, 1, 0, 0);
	ffpf_msg_put(&sb, FFPF_A_IFNAME, "eth0", 4);
	return send_buf_judge(fd, &sb, false);
}

static int s_long_ifname(int fd)
{
	char name[200];

	memset(name, 'e', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ffpf_msg_init(&sb, FFPF_MSG_CREATE, 1, 0, 0);
	ffpf_msg_put_str(&sb, FFPF_A_IFNAME, name);
	return send_buf_judge(fd, &sb, false);
}

static int s_oversized(int fd)
{
	static __u8 big[100000];

	hello(&sb, 1);
	memcpy(big, sb.data, sb.len);
	memset(big + sb.len, 0xa5, sizeof(big) - sb.len);
	return send_judge(fd, big, sizeof(big), false);
}

static int s_reply_as_request(int fd)
{
	ffpf_msg_init(&sb, FFPF_MSG_HELLO | FFPF_MSG_REPLY, 1, 0, 0);
	ffpf_msg_put_u32(&sb, FFPF_A_VERSION, FFPF_MSG_VERSION);
	return send_buf_judge(fd, &sb, false);
}

static int s_request_with_err(int fd)
{
	hello(&sb, 1);
	sb.hdr.err = -EIO;
	return send_buf_judge(fd, &sb, false);
}

/* A valid request for a flow never created: an error reply, not a drop. */
static int s_unknown_flow(int fd)
{
	if (greet(fd))
		return -1;
	ffpf_msg_init(&sb, FFPF_MSG_POPULATE, 2, 12345, 0);
	ffpf_msg_put_str(&sb, FFPF_A_SPEC, "count");
	if (send_buf_judge(fd, &sb, false))
		return -1;
	if (!strcmp(res, "closed"))
		return say("closed instead of an error reply");
	return 0;
}

static int s_close_minus_one(int fd)
{
	if (greet(fd))
		return -1;
	ffpf_msg_init(&sb, FFPF_MSG_CLOSE, 2, -1, 0);
	return send_buf_judge(fd, &sb, false);
}

static int s_create_dups(int fd)
{
	ffpf_msg_init(&sb, FFPF_MSG_CREATE, 1, 0, 0);
	for (int i = 0; i < 2; i++) {
		ffpf_msg_put_str(&sb, FFPF_A_IFNAME, "lo");
		ffpf_msg_put_str(&sb, FFPF_A_NAME, "hostile");
		ffpf_msg_put_u32(&sb, FFPF_A_HOOK, 0);
		ffpf_msg_put_u32(&sb, FFPF_A_RX, 0);
		ffpf_msg_put_u32(&sb, FFPF_A_SNAPLEN, 64);
		ffpf_msg_put_u32(&sb, FFPF_A_IBUF_SIZE, 256);
		ffpf_msg_put_str(&sb, FFPF_A_GROUP, "g");
	}
	return send_buf_judge(fd, &sb, false);
}

/*
 * Flow tracking out of order, on a flow of ours that is not even
 * instantiated: every request gets an error reply, none a success.
 */
static int s_ft_out_of_order(int fd)
{
	struct ffpf_msg_ft ft = { .interval_ms = 1 };
	__u8 key3[3] = { 1, 2, 3 };
	__s32 h;

	if (greet(fd))
		return -1;
	ffpf_msg_init(&sb, FFPF_MSG_CREATE, 2, 0, 0);
	ffpf_msg_put_str(&sb, FFPF_A_IFNAME, "lo");
	if (send_buf_judge(fd, &sb, true) || strcmp(res, "CREATE reply err=0"))
		return say("CREATE on lo: %s", res);
	h = rb.hdr.flow;
	ffpf_msg_init(&sb, FFPF_MSG_FT_START, 3, h, 0);
	ffpf_msg_put(&sb, FFPF_A_FT, &ft, sizeof(ft));
	if (send_buf_judge(fd, &sb, false) || !strstr(res, "err=-"))
		return say("FT_START before instantiate: %s", res);
	ffpf_msg_init(&sb, FFPF_MSG_FT_SWEEP, 4, h, 0);
	if (send_buf_judge(fd, &sb, false) || !strstr(res, "err=-"))
		return say("FT_SWEEP without FT_START: %s", res);
	ffpf_msg_init(&sb, FFPF_MSG_FT_EXPIRE, 5, h, 0);
	ffpf_msg_put(&sb, FFPF_A_BLOB, key3, sizeof(key3));
	if (send_buf_judge(fd, &sb, false) || !strstr(res, "err=-"))
		return say("FT_EXPIRE with a 3-byte key: %s", res);
	say("FT_START, FT_SWEEP, FT_EXPIRE out of order: error replies, connection kept");
	return 0;
}

/*
 * 1000 HELLOs, replies never read. While this connection stays open,
 * another client must still be served: the daemon must not block on us.
 */
static int s_flood(int fd)
{
	char why[256];
	int i, ret = 0;

	hello(&sb, 1);
	for (i = 0; i < 1000; i++) {
		ret = ffpf_msg_send(fd, &sb, NULL, 0, true);
		if (ret == -EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			/* The daemon stopped reading us: fine, unless it is stuck. */
			if (poll(&p, 1, 200) == 1) {
				i--;
				continue;
			}
			break;
		}
		if (ret)
			break;
	}
	if (ret && ret != -EAGAIN && !is_closed(ret))
		return say("send %d: %s", i, strerror(-ret));
	if (still_serving(why, sizeof(why)))
		return say("%d sent, then another client not served: %s", i, why);
	say("%d sent%s, another client served meanwhile", i,
	    is_closed(ret) ? " (dropped)" : ret ? " (stalled)" : "");
	return 0;
}

static int count_daemon_fds(void)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)daemon_pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A HELLO with 200 descriptors: the daemon must close them. */
static int s_fds(int fd)
{
	union {
		char buf[CMSG_SPACE(NFDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int fds[NFDS], before = -1, after, ret;
	char verdict[sizeof(res)];
	long end;

	if (daemon_pid)
		before = count_daemon_fds();
	for (int i = 0; i < NFDS; i++) {
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			ret = say("open /dev/null: %s", strerror(errno));
			while (i--)
				close(fds[i]);
			return ret;
		}
	}
	hello(&sb, 1);
	iov = (struct iovec){ sb.data, sb.len };
	memset(&ctl, 0, sizeof(ctl));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 && !is_closed(-errno))
		ret = say("sendmsg: %s", strerror(errno));
	else
		ret = answer(fd, true);
	for (int i = 0; i < NFDS; i++)
		close(fds[i]);
	if (ret || !daemon_pid)
		return ret;
	if (before < 0)
		return say("%s; cannot count the daemon's fds: %s", res, strerror(-before));
	/* The connection's own descriptor may take a moment to go. */
	snprintf(verdict, sizeof(verdict), "%s", res);
	shutdown(fd, SHUT_RDWR);
	end = now_ms() + TIMEOUT_MS;
	do {
		after = count_daemon_fds();
		if (after >= 0 && after <= before + 1)
			break;
		usleep(50 * 1000);
	} while (now_ms() < end);
	/* +1: this connection, still open on our side until the caller closes it. */
	if (after < 0 || after > before + 1)
		return say("%s, but the daemon holds %d fds, %d before", verdict, after, before);
	say("%s; daemon fds %d before, %d after", verdict, before, after);
	return 0;
}

/* A HELLO claiming uid 0 in SCM_CREDENTIALS: the daemon uses SO_PEERCRED. */
static int s_fake_creds(int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
	struct ucred cred = { .pid = getpid(), .uid = 0, .gid = 0 };
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	const char *note = "";
	int ret;

	hello(&sb, 1);
	iov = (struct iovec){ sb.data, sb.len };
	memset(&ctl, 0, sizeof(ctl));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(cred));
	memcpy(CMSG_DATA(c), &cred, sizeof(cred));
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0) {
		if (errno != EPERM)
			return is_closed(-errno) ? (say("closed"), 0) :
			       say("sendmsg: %s", strerror(errno));
		/* Not root: the kernel refuses the lie; send the HELLO anyway. */
		note = " (kernel refused uid 0: sent plain)";
		if (send(fd, sb.data, sb.len, MSG_NOSIGNAL) < 0)
			return is_closed(-errno) ? (say("closed"), 0) :
			       say("send: %s", strerror(errno));
	}
	ret = answer(fd, true);
	if (*note)
		strncat(res, note, sizeof(res) - strlen(res) - 1);
	return ret;
}

static int s_connect_close(int fd)
{
	for (int i = 0; i < 100; i++) {
		int c = conn();

		if (c < 0)
			return say("connect %d: %s", i, strerror(-c));
		close(c);
	}
	say("100 connections opened and closed");
	return 0;
}

static const struct {
	const char *name;
	int (*run)(int fd);
} scenarios[] = {
	{ "truncated header", s_truncated },
	{ "bad magic", s_bad_magic },
	{ "bad version", s_bad_version },
	{ "hdr.len larger than sent", s_len_larger },
	{ "hdr.len smaller than sent", s_len_smaller },
	{ "unknown type 999", s_unknown_type },
	{ "attribute past the end", s_attr_past_end },
	{ "string without NUL", s_string_no_nul },
	{ "IFNAME of 200 bytes", s_long_ifname },
	{ "oversized datagram", s_oversized },
	{ "reply sent as a request", s_reply_as_request },
	{ "request with err set", s_request_with_err },
	{ "POPULATE of an unknown flow", s_unknown_flow },
	{ "CLOSE of flow -1", s_close_minus_one },
	{ "CREATE with every attribute twice", s_create_dups },
	{ "flow tracking out of order", s_ft_out_of_order },
	{ "1000 HELLOs unread", s_flood },
	{ "HELLO with 200 fds", s_fds },
	{ "HELLO with fake credentials", s_fake_creds },
	{ "connect and close 100 times", s_connect_close },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ffpf-hostile --socket PATH [--pid DAEMON_PID]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "pid", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c, passed = 0, failed = 0;

	while ((c = getopt_long(argc, argv, "s:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock_path = optarg;
			break;
		case 'p':
			daemon_pid = atoi(optarg);
			if (daemon_pid <= 0) {
				fprintf(stderr, "ffpf-hostile: bad pid %s\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!sock_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		char serving[256];
		int fd = conn(), ret;

		if (fd < 0) {
			ret = say("connect: %s", strerror(-fd));
		} else {
			res[0] = '\0';
			ret = scenarios[i].run(fd);
			close(fd);
		}
		if (!ret && still_serving(serving, sizeof(serving))) {
			strncat(res, "; then not serving: ", sizeof(res) - strlen(res) - 1);
			strncat(res, serving, sizeof(res) - strlen(res) - 1);
			ret = -1;
		}
		printf("%s %s: %s\n", ret ? "FAIL" : "ok  ", scenarios[i].name, res);
		if (ret)
			failed++;
		else
			passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
