/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * remote.h (internal) - flows that live in `ffpf-bpf daemon`: the same
 * public API, each call a request on the process's connection to the
 * daemon (docs/daemon.md). flow.c hands a call here when flow->remote.
 */
#ifndef FFPF_REMOTE_H
#define FFPF_REMOTE_H

#include "internal.h"

/*
 * The daemon socket a new flow goes through, or NULL: in-process.
 * opts->daemon, else $FFPF_DAEMON; "off" means in-process; otherwise
 * FFPF_DAEMON_PATH when it exists and the caller lacks CAP_BPF or
 * CAP_NET_ADMIN.
 */
const char *ffpf_remote_path(const struct ffpf_flow_opts *opts);

/* Ask the daemon at @path for @flow (filled by ffpf_flow_create()). */
int ffpf_remote_create(struct ffpf_flow *flow, const char *path);
int ffpf_remote_populate(struct ffpf_flow *flow, const char *spec);
int ffpf_remote_add_filter(struct ffpf_flow *flow, const char *cls, const char *args);
int ffpf_remote_instantiate(struct ffpf_flow *flow);
int ffpf_remote_set_active(struct ffpf_flow *flow, bool on);
/* Close the daemon's flow and free what the client holds (not @flow). */
void ffpf_remote_close(struct ffpf_flow *flow);
int ffpf_remote_stats(const struct ffpf_flow *flow, struct ffpf_flow_stats *st);
int ffpf_remote_filter_stats(const struct ffpf_flow *flow, int idx, struct ffpf_mbuf_hdr *hdr);
void *ffpf_remote_filter_mbuf(struct ffpf_flow *flow, int idx, size_t *size);
int ffpf_remote_iface_stats(const struct ffpf_flow *flow, struct ffpf_iface_stats *st);
int ffpf_remote_nfilters(const struct ffpf_flow *flow);
const char *ffpf_remote_filter_class(const struct ffpf_flow *flow, int idx);
const char *ffpf_remote_filter_name(const struct ffpf_flow *flow, int idx);
const char *ffpf_remote_spec(const struct ffpf_flow *flow);

/* Flow tracking through the daemon: it sweeps, the records come through @feed. */
struct ffpf_ft_feed;
struct ffpf_remote_ft {
	int table_fd;		/* the flow table, read-only */
	int byid_fd;		/* its id index, read-only */
	__u32 table_size;
	bool index;		/* flowtrack(index=1) */
};
/* FT_START: on success @feed is attached and @out's fds are the caller's. */
int ffpf_remote_ft_start(struct ffpf_flow *flow, __u32 interval_ms, bool manual,
			 struct ffpf_ft_feed *feed, struct ffpf_remote_ft *out);
/* FT_SWEEP: the flows the daemon ended (their records are in the feed). */
int ffpf_remote_ft_sweep(struct ffpf_flow *flow);
int ffpf_remote_ft_expire(struct ffpf_flow *flow, const struct ffpf_ft_key *key);
int ffpf_remote_ft_stats(const struct ffpf_flow *flow, struct ffpf_ft_stats *st);

/* The daemon's listing (LIST request) into @buf; for `ffpf-bpf daemon --status`. */
int ffpf_remote_list(const char *path, char *buf, size_t len);

#endif /* FFPF_REMOTE_H */
