/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * capwrite.h (internal) - capture files for `ffpf-bpf run ... -w FILE`
 * (issue 3): classic pcap with nanosecond timestamps, or pcapng
 * (--pcapng) with the names of the flows that matched each packet in the
 * Enhanced Packet Block's opt_comment.
 *
 * pcap: written through libpcap (pcap_open_dead_with_tstamp_precision +
 * pcap_dump), nanosecond magic 0xa1b23c4d. Comments are dropped: pcap has
 * no place for them.
 *
 * pcapng: our own writer (libpcap cannot write pcapng): one Section Header
 * Block, one Interface Description Block (linktype 1, snaplen, if_name,
 * if_tsresol = 9), then one Enhanced Packet Block per packet; host byte
 * order (the SHB's byte-order magic says which), every block and option
 * padded to 32 bits, block total length at both ends.
 *
 * Not thread-safe: one writer per thread. Errors are negative errno.
 */
#ifndef FFPF_CAPWRITE_H
#define FFPF_CAPWRITE_H

#include <stddef.h>
#include <linux/types.h>

enum ffpf_capw_format {
	FFPF_CAPW_PCAP = 0,
	FFPF_CAPW_PCAPNG = 1,
};

#define FFPF_CAPW_SNAPLEN_DEFAULT	262144

struct ffpf_capw_opts {
	size_t sz;			/* sizeof(struct ffpf_capw_opts) */
	enum ffpf_capw_format format;	/* default FFPF_CAPW_PCAP */
	__u32 snaplen;			/* 0: FFPF_CAPW_SNAPLEN_DEFAULT */
	const char *ifname;		/* pcapng if_name option; NULL: none */
	size_t :0;
};

struct ffpf_capw;

/*
 * Create (truncate) @path and write the file header(s). @opts may be NULL
 * (pcap, default snaplen). Returns NULL with errno set on failure.
 */
struct ffpf_capw *ffpf_capw_open(const char *path, const struct ffpf_capw_opts *opts);

/*
 * Append one packet: @caplen bytes at @data (cut to the snaplen) of a
 * packet @wirelen bytes long on the wire (raised to caplen if smaller),
 * received at @ts_ns (ns since the epoch). @comment (pcapng only; may be
 * NULL or "") goes into opt_comment, e.g. "flows: web,dns".
 */
int ffpf_capw_write(struct ffpf_capw *w, const void *data, __u32 caplen,
		    __u32 wirelen, __u64 ts_ns, const char *comment);

/* Packets written so far. */
__u64 ffpf_capw_count(const struct ffpf_capw *w);

/* Flush and close; frees @w (NULL: no-op). 0 or the first write/close error. */
int ffpf_capw_close(struct ffpf_capw *w);

#endif /* FFPF_CAPWRITE_H */
