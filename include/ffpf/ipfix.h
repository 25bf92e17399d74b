/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ffpf/ipfix.h - export ended flows (struct ffpf_ft_record) to an IPFIX
 * collector: RFC 7011 messages over UDP, one biflow record (RFC 5103) per
 * flow.
 *
 * The source of a record is the flow's initiator (Peafowl's outbound
 * direction, side 0 when the initiator is unknown); the RFC 5103 reverse
 * elements (PEN 29305) carry the inbound direction. Two templates, one for
 * IPv4 and one for IPv6 flows, go out in the first message and again every
 * template_interval_ms (and every template_every messages, if set). The
 * information elements and the policies are in docs/ipfix.md.
 *
 * Every function may be called from any thread (e.g. ffpf_ipfix_add()
 * from the flow tracker's on_end callback and ffpf_ipfix_flush() from a
 * timer): calls on one exporter are serialised by its lock.
 */
#ifndef FFPF_IPFIX_H
#define FFPF_IPFIX_H

#include <ffpf/ffpf.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FFPF_IPFIX_TEMPLATE_V4		256	/* template id of IPv4 flows */
#define FFPF_IPFIX_TEMPLATE_V6		257	/* ... of IPv6 flows */
#define FFPF_IPFIX_PEN_REVERSE		29305	/* RFC 5103 reverse information elements */
#define FFPF_IPFIX_MAX_MSG_DEFAULT	1400	/* bytes: fits an Ethernet MTU unfragmented */
#define FFPF_IPFIX_MAX_MSG_MIN		317	/* header, both templates, one IPv6 record */
#define FFPF_IPFIX_TEMPLATE_INTERVAL_DEFAULT 10000	/* ms */

struct ffpf_ipfix_opts {
	size_t sz;			/* sizeof(struct ffpf_ipfix_opts) */
	__u32 domain_id;		/* observation domain id of every message (default 0) */
	__u32 template_interval_ms;	/* send the templates again after this long
					 * (0: FFPF_IPFIX_TEMPLATE_INTERVAL_DEFAULT): a
					 * collector that restarts decodes again after it */
	__u32 template_every;		/* ... and in every Nth message (0: only by time) */
	__u16 max_msg;			/* message size limit in bytes, header included
					 * (0: FFPF_IPFIX_MAX_MSG_DEFAULT); at least
					 * FFPF_IPFIX_MAX_MSG_MIN, at most what one UDP
					 * datagram holds (65507 over IPv4) */
	size_t :0;
};

struct ffpf_ipfix;

/*
 * Open an exporter to the collector at @hostport: "HOST:PORT" or
 * "[IPV6]:PORT" (HOST a name or an address). The socket is a connected
 * UDP socket; nothing is sent until the first ffpf_ipfix_add() /
 * ffpf_ipfix_flush(). @opts may be NULL. Returns NULL with errno = EINVAL
 * (malformed @hostport or options), ENOENT (the name does not resolve),
 * EAGAIN (resolver temporarily failing), ENOMEM, or connect()'s error;
 * the detail goes through the print callback.
 */
FFPF_API struct ffpf_ipfix *ffpf_ipfix_open(const char *hostport,
					    const struct ffpf_ipfix_opts *opts);

/*
 * Put one ended flow into the message being built. When it does not fit,
 * the message is sent first and @rec starts the next one. Returns 0,
 * -EINVAL (NULL argument, or ip_ver neither 4 nor 6: nothing buffered), or
 * the negative errno of that send: then @rec is buffered all the same, and
 * the records of the message that failed are counted in
 * ffpf_ipfix_stats.lost.
 */
FFPF_API int ffpf_ipfix_add(struct ffpf_ipfix *x, const struct ffpf_ft_record *rec);

/*
 * Send the buffered records now (with the templates when they are due; a
 * message of templates alone when they are due and nothing is buffered).
 * Call it periodically so records do not wait for a full message.
 * Returns 0, -EINVAL, or the send's negative errno (records counted lost).
 */
FFPF_API int ffpf_ipfix_flush(struct ffpf_ipfix *x);

/* Flush, close the socket and free @x. Safe on NULL. */
FFPF_API void ffpf_ipfix_close(struct ffpf_ipfix *x);

struct ffpf_ipfix_stats {
	size_t sz;
	__u64 messages;		/* messages sent */
	__u64 bytes;		/* their length (UDP payload) */
	__u64 records;		/* data records in them */
	__u64 templates;	/* template records in them (2 per template set) */
	__u64 send_errors;	/* messages the kernel refused */
	__u64 lost;		/* data records in refused messages */
	__u64 pending;		/* data records buffered, not sent yet */
	size_t :0;
};

/*
 * The exporter's counters (st->sz must be set). Every record added is in
 * exactly one of records, lost and pending. UDP has no acknowledgement: a
 * datagram lost after the kernel took it shows at the collector as a gap
 * in the sequence numbers, not here.
 */
FFPF_API int ffpf_ipfix_stats(struct ffpf_ipfix *x, struct ffpf_ipfix_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* FFPF_IPFIX_H */
