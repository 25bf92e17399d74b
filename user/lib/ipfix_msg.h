/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ipfix_msg.h (internal) - the IPFIX message builder behind ffpf/ipfix.h:
 * no socket, no clock, no lock, so the unit tests can check its bytes.
 *
 * A message is built in two steps: ffpf_ipfix_msg_add() puts records into
 * a data set per template (IPv4, IPv6) until the next one would not fit,
 * ffpf_ipfix_msg_finish() writes header, template set (when due) and data
 * sets into a buffer and starts the next message. The caller passes the
 * time: @now_ms (any monotonic millisecond clock) decides when templates
 * are due, @export_s goes into the header.
 *
 * The header's sequence number is the count of data records in all the
 * messages finished before (RFC 7011 3.1), modulo 2^32: a message the
 * caller then fails to send still counts, so the collector sees the gap.
 */
#ifndef FFPF_IPFIX_MSG_H
#define FFPF_IPFIX_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <ffpf/ipfix.h>

#define FFPF_IPFIX_HDR_LEN	16
#define FFPF_IPFIX_SET_HDR_LEN	4
#define FFPF_IPFIX_REC_V4_LEN	85	/* data record of template 256 */
#define FFPF_IPFIX_REC_V6_LEN	109	/* ... of template 257 */
#define FFPF_IPFIX_TSET_LEN	188	/* the template set: both templates */

struct ffpf_ipfix_msg {
	/* configuration */
	__u32 domain_id;
	__u32 max_msg;
	__u32 tmpl_interval_ms;
	__u32 tmpl_every;
	/* templates */
	bool tmpl_sent;		/* false: due in the next message */
	__u64 tmpl_last_ms;	/* now_ms of the last message that carried them */
	__u32 since_tmpl;	/* messages finished since then */
	/* the message being built */
	bool started;		/* with_tmpl decided (first record, or finish) */
	bool with_tmpl;
	__u32 n[2];		/* data records per set: [0] IPv4, [1] IPv6 */
	__u32 len[2];		/* their bytes */
	__u8 *set[2];		/* their bytes, max_msg each */
	/* sequence */
	__u32 seq;		/* data records of the messages finished so far */
};

/* What one finished message carries. */
struct ffpf_ipfix_msg_info {
	__u32 len;		/* bytes */
	__u32 records;		/* data records */
	__u32 templates;	/* template records (0 or 2) */
	__u32 seq;		/* its sequence number */
};

/*
 * Set up @m (zeroed by the caller or not). @max_msg 0 and
 * @tmpl_interval_ms 0 mean the defaults of ffpf/ipfix.h. -EINVAL for a
 * max_msg below FFPF_IPFIX_MAX_MSG_MIN, -ENOMEM.
 */
int ffpf_ipfix_msg_init(struct ffpf_ipfix_msg *m, __u32 domain_id, __u32 max_msg,
			__u32 tmpl_interval_ms, __u32 tmpl_every);
void ffpf_ipfix_msg_free(struct ffpf_ipfix_msg *m);

/*
 * Append @rec. 0; -ENOSPC when it does not fit: finish the message and
 * add it again; -EINVAL when rec->key.ip_ver is neither 4 nor 6.
 */
int ffpf_ipfix_msg_add(struct ffpf_ipfix_msg *m, const struct ffpf_ft_record *rec,
		       __u64 now_ms);

/* Data records in the message being built. */
__u32 ffpf_ipfix_msg_pending(const struct ffpf_ipfix_msg *m);

/*
 * Write the message into @buf (at least max_msg bytes) and start the next
 * one. Returns its length, 0 when there is nothing to send (no record and
 * templates not due), -EINVAL when @len is too small. @info (may be NULL)
 * says what went into it.
 */
int ffpf_ipfix_msg_finish(struct ffpf_ipfix_msg *m, __u64 now_ms, __u32 export_s,
			  void *buf, size_t len, struct ffpf_ipfix_msg_info *info);

/* The message that carried the templates was not sent: carry them again. */
void ffpf_ipfix_msg_templates_lost(struct ffpf_ipfix_msg *m);

/* IPFIX flowEndReason (RFC 7011 registry, IE 136) of an enum ffpf_ft_reason. */
__u8 ffpf_ipfix_end_reason(__u8 reason);

#endif /* FFPF_IPFIX_MSG_H */
