/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ftfeed.h (internal) - the termination records of a flow tracked by
 * `ffpf-bpf daemon`, on their way to the client that owns the flow.
 *
 * The daemon's sweeper ends flows (it alone may delete from the table) and
 * pushes each record into a ring in a memfd the client maps read-write;
 * an eventfd wakes the client, which calls its own termination callback.
 * One producer (the daemon's sweeps are serialised by the tracker's lock),
 * one consumer (the client's drains are serialised by its own).
 *
 * The client is not trusted: the daemon keeps its producer index private
 * and reads only `cons` from the shared page, and a `cons` that makes no
 * sense (behind the records or ahead of them) reads as a full ring. A full
 * ring drops the record and counts it (ffpf_ft_stats.records_dropped).
 */
#ifndef FFPF_FTFEED_H
#define FFPF_FTFEED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <ffpf/flowtrack.h>

#define FFPF_FT_FEED_MAX	65536U	/* records in one ring, at most */

struct ffpf_ft_feed_ring {
	_Alignas(64) _Atomic __u32 prod;	/* daemon: records published */
	_Alignas(64) _Atomic __u32 cons;	/* client: records taken */
	_Alignas(64) struct ffpf_ft_record rec[];
};

struct ffpf_ft_feed {
	struct ffpf_ft_feed_ring *r;
	size_t len;		/* bytes mapped */
	__u32 capacity;		/* power of two */
	__u32 prod;		/* daemon: its own copy of prod */
	__u64 dropped;		/* daemon: records that found the ring full */
	int memfd;		/* daemon: handed over, then kept until destroy */
	int efd;		/* eventfd: a push signals it */
};

/* An empty feed (no ring, fds -1): what destroy leaves, safe to destroy. */
void ffpf_ft_feed_init(struct ffpf_ft_feed *f);

/* Bytes of a ring of @capacity records. */
size_t ffpf_ft_feed_size(__u32 capacity);

/* The daemon's side: a ring for at least @want records (rounded up to a
 * power of two, at most FFPF_FT_FEED_MAX) and its eventfd. */
int ffpf_ft_feed_create(struct ffpf_ft_feed *f, __u32 want);

/* The client's side: map @memfd (@len bytes, @capacity records); takes
 * both fds (closed on error too). */
int ffpf_ft_feed_attach(struct ffpf_ft_feed *f, int memfd, size_t len, __u32 capacity,
			int efd);

/* Daemon: publish @rec and signal; false (and counted) if the ring is full. */
bool ffpf_ft_feed_push(struct ffpf_ft_feed *f, const struct ffpf_ft_record *rec);

/* Client: take the oldest record into @rec; false if there is none. */
bool ffpf_ft_feed_pop(struct ffpf_ft_feed *f, struct ffpf_ft_record *rec);

/* Unmap and close. Safe on a zeroed or destroyed feed. */
void ffpf_ft_feed_destroy(struct ffpf_ft_feed *f);

#endif /* FFPF_FTFEED_H */
