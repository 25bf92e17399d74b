/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * capture.h - `ffpf-bpf run -w FILE`: the flows' packets into capture files.
 *
 * FILE is expanded per flow: "%f" becomes the flow's label (its name, or
 * NAME-in / NAME-out with --hook both), "%i" its interface. Flows whose
 * expansions are equal share one file. In a shared file every packet
 * appears once: the IBufs of one datapath (interface + hook) are filled by
 * one producer in the same order and a packet carries the same seq in
 * every flow that got it, so the flows' IBufs are merged by seq per
 * datapath, each seq is written once and released from every flow that
 * holds it. Datapaths sharing a file are interleaved by timestamp.
 */
#ifndef FFPF_CMD_CAPTURE_H
#define FFPF_CMD_CAPTURE_H

#include <stdbool.h>
#include <ffpf/ffpf.h>

struct capture_opts {
	const char *path;	/* -w FILE, with %f / %i */
	bool pcapng;
	__u32 snaplen;		/* file header snaplen; records are cut to it */
	__u64 count;		/* -c: stop after this many records written (0: no limit) */
};

/* What the capture needs to know of a flow before it exists. */
struct capture_flow_info {
	const char *label;	/* name in files, comments and reports */
	const char *ifname;
	enum ffpf_hook hook;
};

struct capture;

/*
 * Expand the path for each of the @n flows and create every file, before
 * any flow touches an interface. NULL with the reason printed (the path
 * that could not be created, a bad %-sequence) and errno set: EINVAL for
 * a bad pattern (a usage error), else why a file could not be created.
 */
struct capture *capture_open(const struct capture_opts *opts,
			     const struct capture_flow_info *fi, int n);

/* Flow @i has been instantiated as @flow (with rx): learn its fd and slot. */
int capture_bind(struct capture *c, int i, struct ffpf_flow *flow);

/*
 * Wait up to @timeout_ms for packets and write what is queued (bounded
 * work per call, so the caller's timers keep running). Returns 1 once the
 * -c count is reached, 0, or a negative errno with the reason printed
 * (write error). -EINTR is not an error: it returns 0.
 */
int capture_run(struct capture *c, int timeout_ms);

/*
 * After the flows were paused: wait (2 s at most) until the receive
 * engines have moved what the kernel handed over into the IBufs, and
 * write everything queued (up to the -c count; the rest is released).
 * 0 or a negative errno (write error).
 */
int capture_finish(struct capture *c);

/* Flush and close every file; 0 or the first error (printed). Counters stay. */
int capture_close(struct capture *c);

/* Close what is still open and free @c (NULL: no-op). */
void capture_free(struct capture *c);

/* Counters for the reports. */
__u64 capture_flow_captured(const struct capture *c, int i);	/* in its file */
__u64 capture_written(const struct capture *c);		/* records, all files */
int capture_nfiles(const struct capture *c);
const char *capture_file_path(const struct capture *c, int k);
__u64 capture_file_packets(const struct capture *c, int k);

#endif /* FFPF_CMD_CAPTURE_H */
