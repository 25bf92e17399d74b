// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* capwrite.c - pcap (ns) and pcapng capture files; see capwrite.h. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include "capwrite.h"

#define NSEC_PER_SEC	1000000000ULL

#define LINKTYPE_EN10MB	1

/* pcapng (draft-ietf-opsawg-pcapng) */
#define PCAPNG_SHB	0x0a0d0d0aU
#define PCAPNG_IDB	0x00000001U
#define PCAPNG_EPB	0x00000006U
#define PCAPNG_BOM	0x1a2b3c4dU
#define OPT_ENDOFOPT	0
#define OPT_COMMENT	1
#define SHB_USERAPPL	4
#define IF_NAME		2
#define IF_TSRESOL	9
#define OPT_MAXLEN	0xfffcU		/* longest value we write, keeps padding in u16 */

struct ffpf_capw {
	enum ffpf_capw_format format;
	__u32 snaplen;
	__u64 count;
	int err;			/* first error, sticky */
	FILE *f;			/* pcapng writer */
	pcap_t *dead;
	pcap_dumper_t *dumper;
	char *iobuf;			/* the stream's buffer: CAPW_IOBUF bytes */
	/* pcapng block under construction */
	unsigned char *buf;
	size_t len, cap;
};

/*
 * stdio's default buffer is a page: a write() every 2 packets of 1500
 * bytes. A larger one makes it one write() per CAPW_IOBUF bytes.
 */
#define CAPW_IOBUF	(256 * 1024)

/* @path opened for writing, unlocked (one thread writes a capture), big buffer. */
static FILE *capw_fopen(struct ffpf_capw *w, const char *path)
{
	FILE *f = fopen(path, "wbe");

	if (!f)
		return NULL;
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	w->iobuf = malloc(CAPW_IOBUF);
	if (w->iobuf)
		setvbuf(f, w->iobuf, _IOFBF, CAPW_IOBUF);
	return f;
}

static inline size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Make room for @n more bytes of the block under construction. */
static int buf_reserve(struct ffpf_capw *w, size_t n)
{
	size_t cap = w->cap ? w->cap : 256;
	unsigned char *p;

	if (w->len + n <= w->cap)
		return 0;
	while (cap < w->len + n)
		cap *= 2;
	p = realloc(w->buf, cap);
	if (!p)
		return -ENOMEM;
	w->buf = p;
	w->cap = cap;
	return 0;
}

/* Append @n bytes, zero-padded to 32 bits. */
static int put(struct ffpf_capw *w, const void *data, size_t n)
{
	size_t padded = pad4(n);
	int err = buf_reserve(w, padded);

	if (err)
		return err;
	if (n)
		memcpy(w->buf + w->len, data, n);
	memset(w->buf + w->len + n, 0, padded - n);
	w->len += padded;
	return 0;
}

static int put32(struct ffpf_capw *w, __u32 v)
{
	return put(w, &v, sizeof(v));
}

static int put_opt(struct ffpf_capw *w, __u16 code, const void *val, size_t n)
{
	__u16 hdr[2] = { code, (__u16)(n > OPT_MAXLEN ? OPT_MAXLEN : n) };
	int err = put(w, hdr, sizeof(hdr));

	return err ? err : put(w, val, hdr[1]);
}

static int put_opt_str(struct ffpf_capw *w, __u16 code, const char *s)
{
	return s && *s ? put_opt(w, code, s, strlen(s)) : 0;
}

/* Begin a block: type and a placeholder for the leading total length. */
static int block_begin(struct ffpf_capw *w, __u32 type)
{
	__u32 hdr[2] = { type, 0 };

	w->len = 0;
	return put(w, hdr, sizeof(hdr));
}

/* End a block: closing total length, patch the leading one, write it out. */
static int block_end(struct ffpf_capw *w)
{
	__u32 total;
	int err = buf_reserve(w, 4);

	if (err)
		return err;
	total = (__u32)(w->len + 4);
	memcpy(w->buf + 4, &total, 4);
	memcpy(w->buf + w->len, &total, 4);
	w->len += 4;
	if (fwrite(w->buf, 1, w->len, w->f) != w->len)
		return errno ? -errno : -EIO;
	return 0;
}

static int pcapng_header(struct ffpf_capw *w, const char *ifname)
{
	const __u16 version[2] = { 1, 0 };
	const __s64 section_len = -1;	/* not specified */
	const __u8 tsresol = 9;		/* 10^-9 s */
	const __u16 lt[2] = { LINKTYPE_EN10MB, 0 };
	int err;

	/* Section Header Block */
	if ((err = block_begin(w, PCAPNG_SHB)) || (err = put32(w, PCAPNG_BOM)) ||
	    (err = put(w, version, sizeof(version))) ||
	    (err = put(w, &section_len, sizeof(section_len))) ||
	    (err = put_opt_str(w, SHB_USERAPPL, "ffpf-bpf")) ||
	    (err = put_opt(w, OPT_ENDOFOPT, NULL, 0)) || (err = block_end(w)))
		return err;
	/* Interface Description Block: interface 0 */
	if ((err = block_begin(w, PCAPNG_IDB)) || (err = put(w, lt, sizeof(lt))) ||
	    (err = put32(w, w->snaplen)) || (err = put_opt_str(w, IF_NAME, ifname)) ||
	    (err = put_opt(w, IF_TSRESOL, &tsresol, 1)) ||
	    (err = put_opt(w, OPT_ENDOFOPT, NULL, 0)) || (err = block_end(w)))
		return err;
	return 0;
}

static int pcapng_packet(struct ffpf_capw *w, const void *data, __u32 caplen,
			 __u32 wirelen, __u64 ts_ns, const char *comment)
{
	__u32 hdr[5] = { 0 /* interface */, (__u32)(ts_ns >> 32), (__u32)ts_ns,
			 caplen, wirelen };
	int err;

	if ((err = block_begin(w, PCAPNG_EPB)) || (err = put(w, hdr, sizeof(hdr))) ||
	    (err = put(w, data, caplen)))
		return err;
	if (comment && *comment &&
	    ((err = put_opt_str(w, OPT_COMMENT, comment)) ||
	     (err = put_opt(w, OPT_ENDOFOPT, NULL, 0))))
		return err;
	return block_end(w);
}


static int pcap_packet(struct ffpf_capw *w, const void *data, __u32 caplen,
		       __u32 wirelen, __u64 ts_ns)
{
	struct pcap_pkthdr h = { .caplen = caplen, .len = wirelen };

	/* Nanosecond precision: tv_usec carries nanoseconds. */
	h.ts.tv_sec = (time_t)(ts_ns / NSEC_PER_SEC);
	h.ts.tv_usec = (suseconds_t)(ts_ns % NSEC_PER_SEC);
	errno = 0;
	pcap_dump((u_char *)w->dumper, &h, data);
	/* pcap_dump() returns nothing: the stream's error flag and errno tell.
	 * Unlocked: one thread writes a file, and in a multi-threaded process
	 * ferror()'s lock cost 14% of the writer's time at 16 flows (make bench). */
	if (ferror_unlocked(pcap_dump_file(w->dumper)))
		return errno ? -errno : -EIO;
	return 0;
}

struct ffpf_capw *ffpf_capw_open(const char *path, const struct ffpf_capw_opts *opts)
{
	struct ffpf_capw_opts o = { 0 };
	struct ffpf_capw *w;
	int err;

	if (!path || !*path || (opts && opts->sz < sizeof(size_t))) {
		errno = EINVAL;
		return NULL;
	}
	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (o.format != FFPF_CAPW_PCAP && o.format != FFPF_CAPW_PCAPNG) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	w->format = o.format;
	w->snaplen = o.snaplen ? o.snaplen : FFPF_CAPW_SNAPLEN_DEFAULT;

	if (w->format == FFPF_CAPW_PCAP) {
		w->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, (int)w->snaplen,
							       PCAP_TSTAMP_PRECISION_NANO);
		if (!w->dead) {
			free(w);
			errno = ENOMEM;
			return NULL;
		}
		errno = 0;
		if (!strcmp(path, "-")) {
			w->dumper = pcap_dump_open(w->dead, path);	/* stdout, as libpcap does */
		} else {
			FILE *f = capw_fopen(w, path);

			w->dumper = f ? pcap_dump_fopen(w->dead, f) : NULL;
			if (f && !w->dumper) {
				err = errno;
				fclose(f);
				errno = err;
			}
		}
		if (!w->dumper) {
			err = errno ? errno : EIO;
			pcap_close(w->dead);
			free(w->iobuf);
			free(w);
			errno = err;
			return NULL;
		}
		return w;
	}
	w->f = capw_fopen(w, path);
	if (!w->f) {
		err = errno;
		free(w->iobuf);
		free(w);
		errno = err;
		return NULL;
	}
	err = pcapng_header(w, o.ifname);
	if (err) {
		fclose(w->f);
		free(w->buf);
		free(w->iobuf);
		free(w);
		errno = -err;
		return NULL;
	}
	return w;
}

int ffpf_capw_write(struct ffpf_capw *w, const void *data, __u32 caplen,
		    __u32 wirelen, __u64 ts_ns, const char *comment)
{
	int err;

	if (!w || (!data && caplen))
		return -EINVAL;
	if (w->err)
		return w->err;
	if (wirelen < caplen)
		wirelen = caplen;
	if (caplen > w->snaplen)
		caplen = w->snaplen;
	errno = 0;
	if (w->format == FFPF_CAPW_PCAPNG)
		err = pcapng_packet(w, data, caplen, wirelen, ts_ns, comment);
	else
		err = pcap_packet(w, data, caplen, wirelen, ts_ns);
	if (err) {
		w->err = err;
		return err;
	}
	w->count++;
	return 0;
}

__u64 ffpf_capw_count(const struct ffpf_capw *w)
{
	return w ? w->count : 0;
}

int ffpf_capw_close(struct ffpf_capw *w)
{
	int err;

	if (!w)
		return 0;
	err = w->err;
	errno = 0;
	if (w->dumper) {
		if (pcap_dump_flush(w->dumper) && !err)
			err = errno ? -errno : -EIO;
		pcap_dump_close(w->dumper);
		pcap_close(w->dead);
	}
	if (w->f && fclose(w->f) && !err)
		err = errno ? -errno : -EIO;
	free(w->buf);
	free(w->iobuf);	/* after the stream that used it is closed */
	free(w);
	return err;
}
