// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ipfix.c - the IPFIX exporter of ffpf/ipfix.h: a connected UDP socket,
 * the message builder (ipfix_msg.c), the clocks and the counters, behind
 * one lock.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include "internal.h"
#include "ipfix_msg.h"
#include "log.h"

#define UDP4_MAX_PAYLOAD	65507
#define UDP6_MAX_PAYLOAD	65527

struct ffpf_ipfix {
	pthread_mutex_t lock;
	int fd;
	char peer[128];			/* as given, for messages */
	struct ffpf_ipfix_msg msg;
	__u8 *buf;			/* the datagram, msg.max_msg bytes */
	struct ffpf_ipfix_stats st;
	int last_err;			/* errno of the last send, 0: it worked */
};

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int gai_errno(int rc)
{
	switch (rc) {
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY:
#endif
		return ENOENT;
	case EAI_AGAIN:
		return EAGAIN;
	case EAI_MEMORY:
		return ENOMEM;
	case EAI_SYSTEM:
		return errno ? errno : EIO;
	default:
		return EINVAL;
	}
}

/*
 * Split "HOST:PORT" / "[IPV6]:PORT" into @host (a copy, brackets removed)
 * and @port. 0 or -EINVAL (printed).
 */
static int split_hostport(const char *hp, char *host, size_t hlen, char *port, bool *v6)
{
	const char *colon, *h = hp;
	size_t n;
	char *end;
	unsigned long p;

	*v6 = false;
	if (!hp || !*hp)
		return ffpf_err(EINVAL, "ipfix: no collector: expected HOST:PORT or [IPV6]:PORT\n");
	if (*hp == '[') {
		const char *close = strchr(hp, ']');

		if (!close || close[1] != ':')
			return ffpf_err(EINVAL, "ipfix: '%s': expected [IPV6]:PORT\n", hp);
		h = hp + 1;
		n = close - h;
		colon = close + 1;
		*v6 = true;
	} else {
		colon = strrchr(hp, ':');
		if (!colon)
			return ffpf_err(EINVAL, "ipfix: '%s': no port: expected HOST:PORT\n", hp);
		if (memchr(hp, ':', colon - hp))
			return ffpf_err(EINVAL, "ipfix: '%s': an IPv6 address goes in "
					"brackets: [IPV6]:PORT\n", hp);
		n = colon - hp;
	}
	if (!n || n >= hlen)
		return ffpf_err(EINVAL, "ipfix: '%s': %s host\n", hp, n ? "too long a" : "no");
	memcpy(host, h, n);
	host[n] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || errno || !p || p > 65535)
		return ffpf_err(EINVAL, "ipfix: '%s': port '%s': expected 1 to 65535\n", hp,
				colon + 1);
	snprintf(port, 8, "%lu", p);
	return 0;
}

/* A UDP socket connected to @hostport; -errno (printed). */
static int connect_collector(const char *hostport, __u32 max_msg)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_protocol = IPPROTO_UDP,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char host[256], port[8];
	bool v6;
	int fd = -1, rc, err;

	err = split_hostport(hostport, host, sizeof(host), port, &v6);
	if (err)
		return err;
	if (v6) {
		hints.ai_family = AF_INET6;
		hints.ai_flags |= AI_NUMERICHOST;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc && v6)
		return ffpf_err(EINVAL, "ipfix: '%s': '%s' is not an IPv6 address\n",
				hostport, host);
	if (rc) {
		err = gai_errno(rc);
		pr_warn("ipfix: collector '%s': %s\n", hostport,
			rc == EAI_SYSTEM ? strerror(err) : gai_strerror(rc));
		return -err;
	}
	err = ENOENT;
	for (ai = res; ai; ai = ai->ai_next) {
		__u32 limit = ai->ai_family == AF_INET6 ? UDP6_MAX_PAYLOAD : UDP4_MAX_PAYLOAD;

		if (max_msg > limit) {
			err = EINVAL;
			pr_warn("ipfix: max_msg %u: a UDP datagram over %s holds %u bytes\n",
				max_msg, ai->ai_family == AF_INET6 ? "IPv6" : "IPv4", limit);
			continue;
		}
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (err != EINVAL)
			pr_warn("ipfix: collector '%s': %s\n", hostport, strerror(err));
		return -err;
	}
	return fd;
}

struct ffpf_ipfix *ffpf_ipfix_open(const char *hostport, const struct ffpf_ipfix_opts *opts)
{
	struct ffpf_ipfix *x;
	int err;

	if (opts && opts->sz < sizeof(size_t)) {
		pr_warn("ipfix: opts->sz %zu: too small\n", opts->sz);
		errno = EINVAL;
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		errno = ENOMEM;
		return NULL;
	}
	x->fd = -1;
	err = ffpf_ipfix_msg_init(&x->msg, OPTS_GET(opts, domain_id, 0),
				  OPTS_GET(opts, max_msg, 0),
				  OPTS_GET(opts, template_interval_ms, 0),
				  OPTS_GET(opts, template_every, 0));
	if (err) {
		if (err == -EINVAL)
			pr_warn("ipfix: max_msg %u: expected %u to 65535 bytes\n",
				OPTS_GET(opts, max_msg, 0), FFPF_IPFIX_MAX_MSG_MIN);
		goto fail;
	}
	x->buf = malloc(x->msg.max_msg);
	if (!x->buf) {
		err = -ENOMEM;
		goto fail;
	}
	err = connect_collector(hostport, x->msg.max_msg);
	if (err < 0)
		goto fail;
	x->fd = err;
	snprintf(x->peer, sizeof(x->peer), "%s", hostport);
	pthread_mutex_init(&x->lock, NULL);
	return x;
fail:
	ffpf_ipfix_msg_free(&x->msg);
	free(x->buf);
	free(x);
	errno = -err;
	return NULL;
}

/* Finish the message being built and send it. Called with the lock held. */
static int send_msg(struct ffpf_ipfix *x)
{
	struct ffpf_ipfix_msg_info info;
	struct timespec now;
	ssize_t n;
	int len, err;

	clock_gettime(CLOCK_REALTIME, &now);
	len = ffpf_ipfix_msg_finish(&x->msg, mono_ms(), (__u32)now.tv_sec, x->buf,
				    x->msg.max_msg, &info);
	if (len <= 0)
		return len;
	do {
		n = send(x->fd, x->buf, len, 0);
	} while (n < 0 && errno == EINTR);
	x->st.pending -= info.records;
	if (n == len) {
		if (x->last_err)
			pr_info("ipfix: %s: sending again\n", x->peer);
		x->last_err = 0;
		x->st.messages++;
		x->st.bytes += len;
		x->st.records += info.records;
		x->st.templates += info.templates;
		return 0;
	}
	/* a datagram is sent whole or not at all */
	err = n < 0 ? errno : EMSGSIZE;

	/* one message per run of failures, the counters tell the rest */
	if (err != x->last_err)
		pr_warn("ipfix: %s: send: %s (records of failed messages are counted "
			"as lost)\n", x->peer, strerror(err));
	x->last_err = err;
	x->st.send_errors++;
	x->st.lost += info.records;
	if (info.templates)
		ffpf_ipfix_msg_templates_lost(&x->msg);
	return -err;
}

int ffpf_ipfix_add(struct ffpf_ipfix *x, const struct ffpf_ft_record *rec)
{
	int err, ret = 0;

	if (!x || !rec)
		return -EINVAL;
	pthread_mutex_lock(&x->lock);
	err = ffpf_ipfix_msg_add(&x->msg, rec, mono_ms());
	if (err == -ENOSPC) {
		ret = send_msg(x);
		err = ffpf_ipfix_msg_add(&x->msg, rec, mono_ms());
	}
	if (!err)
		x->st.pending++;
	pthread_mutex_unlock(&x->lock);
	return err ? err : ret;
}

int ffpf_ipfix_flush(struct ffpf_ipfix *x)
{
	int err;

	if (!x)
		return -EINVAL;
	pthread_mutex_lock(&x->lock);
	err = send_msg(x);
	pthread_mutex_unlock(&x->lock);
	return err;
}

void ffpf_ipfix_close(struct ffpf_ipfix *x)
{
	if (!x)
		return;
	pthread_mutex_lock(&x->lock);
	/* only what is buffered: no template-only message on the way out */
	if (ffpf_ipfix_msg_pending(&x->msg))
		send_msg(x);
	pthread_mutex_unlock(&x->lock);
	pthread_mutex_destroy(&x->lock);
	close(x->fd);
	ffpf_ipfix_msg_free(&x->msg);
	free(x->buf);
	free(x);
}

int ffpf_ipfix_stats(struct ffpf_ipfix *x, struct ffpf_ipfix_stats *st)
{
	struct ffpf_ipfix_stats full;

	if (!x || !st)
		return -EINVAL;
	pthread_mutex_lock(&x->lock);
	full = x->st;
	pthread_mutex_unlock(&x->lock);
	full.sz = sizeof(full);
	return ffpf_copy_sized(st, &full, sizeof(full));
}
