/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * test_capwrite.c - unit tests of the capture writer (user/lib/capwrite.c):
 * pcap read back through libpcap with nanosecond precision, pcapng walked
 * block by block here and read back through libpcap too. libpcap is
 * dlopen()ed so the tests need no -lpcap at link time.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <criterion/criterion.h>

#include "capwrite.h"

#define NFRAMES		4
#define TS0		1700000000123456789ULL	/* 1700000000.123456789 s */
#define FRAME_MAX	200

struct frame {
	unsigned char data[FRAME_MAX];
	__u32 len;		/* on the wire */
	__u32 caplen;		/* handed to the writer */
	__u64 ts;
	const char *comment;
};

static struct frame frames[NFRAMES];
static char dir[64], path[128];

/* Ethernet / IPv4 / UDP 10.0.0.1:1000+i -> 10.0.0.2:53, payload pattern. */
static void build_frame(struct frame *f, int i, __u32 paylen)
{
	unsigned char *p = f->data;
	__u32 iplen = 20 + 8 + paylen, sum = 0;

	memset(f, 0, sizeof(*f));
	memcpy(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	p += 14;
	p[0] = 0x45; p[2] = iplen >> 8; p[3] = iplen; p[4] = 0x12; p[5] = i;
	p[8] = 64; p[9] = 17;
	memcpy(p + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	for (int k = 0; k < 20; k += 2)
		sum += p[k] << 8 | p[k + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	p[10] = ~sum >> 8; p[11] = ~sum;
	p += 20;
	p[0] = (1000 + i) >> 8; p[1] = (1000 + i) & 0xff; p[2] = 0; p[3] = 53;
	p[4] = (8 + paylen) >> 8; p[5] = 8 + paylen;
	p += 8;
	for (__u32 k = 0; k < paylen; k++)
		p[k] = (unsigned char)(i * 31 + k);
	f->len = f->caplen = 14 + iplen;
}

static void setup(void)
{
	static const __u32 paylen[NFRAMES] = { 18, 1, 120, 33 };
	static const char *comments[NFRAMES] = { "flows: web,dns", NULL, "flows: dns", "" };

	for (int i = 0; i < NFRAMES; i++) {
		build_frame(&frames[i], i, paylen[i]);
		frames[i].ts = TS0 + (__u64)i * 1000000001ULL;
		frames[i].comment = comments[i];
	}
	frames[2].caplen = 40;			/* a cut packet: caplen < wirelen */
	snprintf(dir, sizeof(dir), "/tmp/ffpf-capw-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	if (path[0])
		unlink(path);
	rmdir(dir);
}

static void write_file(const char *name, enum ffpf_capw_format fmt, __u32 snaplen)
{
	struct ffpf_capw_opts o = { .sz = sizeof(o), .format = fmt, .snaplen = snaplen,
				    .ifname = "veth-test" };
	struct ffpf_capw *w;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	w = ffpf_capw_open(path, &o);
	cr_assert_not_null(w, "open %s: %s", path, strerror(errno));
	for (int i = 0; i < NFRAMES; i++)
		cr_assert_eq(ffpf_capw_write(w, frames[i].data, frames[i].caplen, frames[i].len,
					     frames[i].ts, frames[i].comment), 0);
	cr_assert_eq(ffpf_capw_count(w), NFRAMES);
	cr_assert_eq(ffpf_capw_close(w), 0);
}

static unsigned char *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	unsigned char *buf;
	struct stat st;

	cr_assert_not_null(f);
	cr_assert_eq(fstat(fileno(f), &st), 0);
	buf = malloc(st.st_size + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, st.st_size, f), (size_t)st.st_size);
	fclose(f);
	*len = st.st_size;
	return buf;
}

/* --- libpcap, loaded at run time ---------------------------------------- */

struct lp_hdr {			/* struct pcap_pkthdr on Linux */
	struct { long tv_sec, tv_usec; } ts;
	__u32 caplen, len;
};

static struct {
	void *h;
	void *(*open_offline)(const char *, unsigned int, char *);
	int (*next_ex)(void *, struct lp_hdr **, const unsigned char **);
	int (*datalink)(void *);
	int (*snapshot)(void *);
	int (*get_tstamp_precision)(void *);
	void (*close)(void *);
} lp;

static void *libpcap(void)
{
	if (!lp.h) {
		lp.h = dlopen("libpcap.so.0.8", RTLD_NOW | RTLD_LOCAL);
		if (!lp.h)
			lp.h = dlopen("libpcap.so", RTLD_NOW | RTLD_LOCAL);
		if (!lp.h)
			cr_skip_test("libpcap not found: %s", dlerror());
		*(void **)&lp.open_offline = dlsym(lp.h, "pcap_open_offline_with_tstamp_precision");
		*(void **)&lp.next_ex = dlsym(lp.h, "pcap_next_ex");
		*(void **)&lp.datalink = dlsym(lp.h, "pcap_datalink");
		*(void **)&lp.snapshot = dlsym(lp.h, "pcap_snapshot");
		*(void **)&lp.get_tstamp_precision = dlsym(lp.h, "pcap_get_tstamp_precision");
		*(void **)&lp.close = dlsym(lp.h, "pcap_close");
		cr_assert(lp.open_offline && lp.next_ex && lp.datalink && lp.snapshot &&
			  lp.get_tstamp_precision && lp.close);
	}
	return lp.h;
}

/* Read @p back through libpcap (nanosecond precision) and compare. */
static void check_libpcap(const char *p, __u32 snaplen)
{
	char errbuf[256] = "";
	struct lp_hdr *h;
	const unsigned char *data;
	void *pc;
	int i, ret;

	libpcap();
	pc = lp.open_offline(p, 1 /* PCAP_TSTAMP_PRECISION_NANO */, errbuf);
	cr_assert_not_null(pc, "libpcap: %s", errbuf);
	cr_expect_eq(lp.datalink(pc), 1 /* DLT_EN10MB */);
	cr_expect_eq((__u32)lp.snapshot(pc), snaplen);
	cr_expect_eq(lp.get_tstamp_precision(pc), 1);
	for (i = 0; (ret = lp.next_ex(pc, &h, &data)) == 1; i++) {
		struct frame *f = &frames[i];
		__u32 want = f->caplen < snaplen ? f->caplen : snaplen;

		cr_assert_lt(i, NFRAMES);
		cr_expect_eq(h->caplen, want, "frame %d caplen %u want %u", i, h->caplen, want);
		cr_expect_eq(h->len, f->len, "frame %d len", i);
		cr_expect_eq((__u64)h->ts.tv_sec, f->ts / 1000000000ULL, "frame %d sec", i);
		cr_expect_eq((__u64)h->ts.tv_usec, f->ts % 1000000000ULL, "frame %d nsec", i);
		cr_expect_eq(memcmp(data, f->data, want), 0, "frame %d bytes", i);
	}
	cr_expect_eq(ret, -2 /* PCAP_ERROR_BREAK: end of file */);
	cr_expect_eq(i, NFRAMES);
	lp.close(pc);
}

/* --- pcap ------------------------------------------------------------------ */

Test(capwrite, pcap_header, .init = setup, .fini = teardown)
{
	size_t len, want = 24;
	unsigned char *buf;
	__u32 v;

	write_file("a.pcap", FFPF_CAPW_PCAP, 0);
	buf = slurp(path, &len);
	for (int i = 0; i < NFRAMES; i++)
		want += 16 + frames[i].caplen;
	cr_expect_eq(len, want);
	memcpy(&v, buf, 4);
	cr_expect_eq(v, 0xa1b23c4dU, "magic %#x: nanosecond pcap", v);
	memcpy(&v, buf + 16, 4);
	cr_expect_eq(v, FFPF_CAPW_SNAPLEN_DEFAULT);
	memcpy(&v, buf + 20, 4);
	cr_expect_eq(v, 1);
	free(buf);
}

Test(capwrite, pcap_libpcap, .init = setup, .fini = teardown)
{
	write_file("a.pcap", FFPF_CAPW_PCAP, 0);
	check_libpcap(path, FFPF_CAPW_SNAPLEN_DEFAULT);
}

Test(capwrite, pcap_snaplen, .init = setup, .fini = teardown)
{
	write_file("s.pcap", FFPF_CAPW_PCAP, 60);
	check_libpcap(path, 60);
}

/* --- pcapng ---------------------------------------------------------------- */

static __u32 rd32(const unsigned char *p)
{
	__u32 v;

	memcpy(&v, p, 4);
	return v;
}

static __u16 rd16(const unsigned char *p)
{
	__u16 v;

	memcpy(&v, p, 2);
	return v;
}

/* Find option @code in [p, end); its value into *val, length returned, -1 if absent. */
static int find_opt(const unsigned char *p, const unsigned char *end, __u16 code,
		    const unsigned char **val)
{
	while (p + 4 <= end) {
		__u16 c = rd16(p), l = rd16(p + 2);

		cr_assert_leq(p + 4 + ((l + 3u) & ~3u), end, "option %u overruns its block", c);
		if (c == 0) {
			cr_expect_eq(l, 0);
			cr_expect_eq(p + 4, end, "opt_endofopt is not last");
			return -1;
		}
		if (c == code) {
			*val = p + 4;
			return l;
		}
		p += 4 + ((l + 3u) & ~3u);
	}
	cr_expect_eq(p, end, "options do not end at the block's end");
	return -1;
}

static void check_pcapng(const unsigned char *buf, size_t len, __u32 snaplen)
{
	const unsigned char *p = buf, *val;
	int nblk = 0, npkt = 0, l;

	cr_assert_eq(len % 4, 0);
	while (p < buf + len) {
		__u32 type = rd32(p), total = rd32(p + 4);
		const unsigned char *body = p + 8, *end = p + total - 4;

		cr_assert_geq(total, 12);
		cr_assert_eq(total % 4, 0, "block %d: total length %u not 32-bit aligned", nblk, total);
		cr_assert_leq(p + total, buf + len, "block %d overruns the file", nblk);
		cr_assert_eq(rd32(p + total - 4), total, "block %d: trailing total length", nblk);
		switch (nblk) {
		case 0:
			cr_assert_eq(type, 0x0a0d0d0aU, "first block is not an SHB");
			cr_expect_eq(rd32(body), 0x1a2b3c4dU);
			cr_expect_eq(rd16(body + 4), 1);
			cr_expect_eq(rd16(body + 6), 0);
			find_opt(body + 16, end, 0xffff, &val);
			break;
		case 1:
			cr_assert_eq(type, 1, "second block is not an IDB");
			cr_expect_eq(rd16(body), 1, "linktype");
			cr_expect_eq(rd32(body + 4), snaplen);
			l = find_opt(body + 8, end, 9, &val);
			cr_expect_eq(l, 1);
			cr_expect_eq(l == 1 ? val[0] : 0, 9, "if_tsresol");
			l = find_opt(body + 8, end, 2, &val);
			cr_expect_eq(l, (int)strlen("veth-test"));
			cr_expect(l > 0 && !memcmp(val, "veth-test", l), "if_name");
			break;
		default: {
			struct frame *f = &frames[npkt];
			__u32 want = f->caplen < snaplen ? f->caplen : snaplen;
			__u32 caplen = rd32(body + 12);

			cr_assert_eq(type, 6, "block %d is not an EPB", nblk);
			cr_assert_lt(npkt, NFRAMES);
			cr_expect_eq(rd32(body), 0, "interface id");
			cr_expect_eq((__u64)rd32(body + 4) << 32 | rd32(body + 8), f->ts,
				     "frame %d timestamp", npkt);
			cr_expect_eq(caplen, want, "frame %d caplen", npkt);
			cr_expect_eq(rd32(body + 16), f->len, "frame %d wire length", npkt);
			cr_assert_leq(body + 20 + caplen, end);
			cr_expect_eq(memcmp(body + 20, f->data, want), 0, "frame %d bytes", npkt);
			l = find_opt(body + 20 + ((caplen + 3) & ~3u), end, 1, &val);
			if (f->comment && *f->comment) {
				cr_expect_eq(l, (int)strlen(f->comment), "frame %d comment", npkt);
				cr_expect(l > 0 && !memcmp(val, f->comment, l), "frame %d comment '%.*s'",
					  npkt, l > 0 ? l : 0, l > 0 ? (const char *)val : "");
			} else {
				cr_expect_eq(l, -1, "frame %d: unexpected comment", npkt);
				cr_expect_eq(body + 20 + ((caplen + 3) & ~3u), end,
					     "frame %d: options without a comment", npkt);
			}
			npkt++;
		}
		}
		p += total;
		nblk++;
	}
	cr_expect_eq(p, buf + len);
	cr_expect_eq(npkt, NFRAMES);
}

Test(capwrite, pcapng_blocks, .init = setup, .fini = teardown)
{
	size_t len;
	unsigned char *buf;

	write_file("a.pcapng", FFPF_CAPW_PCAPNG, 0);
	buf = slurp(path, &len);
	check_pcapng(buf, len, FFPF_CAPW_SNAPLEN_DEFAULT);
	free(buf);
}

Test(capwrite, pcapng_snaplen, .init = setup, .fini = teardown)
{
	size_t len;
	unsigned char *buf;

	write_file("s.pcapng", FFPF_CAPW_PCAPNG, 37);	/* odd: padding inside the EPB */
	buf = slurp(path, &len);
	check_pcapng(buf, len, 37);
	free(buf);
	check_libpcap(path, 37);
}

Test(capwrite, pcapng_libpcap, .init = setup, .fini = teardown)
{
	write_file("a.pcapng", FFPF_CAPW_PCAPNG, 0);
	check_libpcap(path, FFPF_CAPW_SNAPLEN_DEFAULT);
}

/* --- errors ---------------------------------------------------------------- */

Test(capwrite, errors, .init = setup, .fini = teardown)
{
	struct ffpf_capw_opts bad = { .sz = sizeof(bad), .format = 7 };
	struct ffpf_capw_opts tiny = { .sz = 1 };
	struct ffpf_capw *w;

	errno = 0;
	cr_expect_null(ffpf_capw_open(NULL, NULL));
	cr_expect_eq(errno, EINVAL);
	snprintf(path, sizeof(path), "%s/x.pcap", dir);
	errno = 0;
	cr_expect_null(ffpf_capw_open(path, &bad));
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	cr_expect_null(ffpf_capw_open(path, &tiny));
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	cr_expect_null(ffpf_capw_open("/nonexistent-dir/x.pcap", NULL));
	cr_expect_eq(errno, ENOENT);

	w = ffpf_capw_open(path, NULL);		/* NULL opts: pcap */
	cr_assert_not_null(w);
	cr_expect_eq(ffpf_capw_write(w, NULL, 10, 10, 0, NULL), -EINVAL);
	cr_expect_eq(ffpf_capw_write(NULL, "x", 1, 1, 0, NULL), -EINVAL);
	cr_expect_eq(ffpf_capw_count(w), 0);
	cr_expect_eq(ffpf_capw_write(w, frames[0].data, frames[0].len, 0, TS0, "ignored"), 0);
	cr_expect_eq(ffpf_capw_count(w), 1);
	cr_expect_eq(ffpf_capw_close(w), 0);
	cr_expect_eq(ffpf_capw_close(NULL), 0);
}

/* An old caller's opts without the ifname field: still pcapng, no if_name. */
Test(capwrite, sized_opts, .init = setup, .fini = teardown)
{
	struct ffpf_capw_opts o = { .sz = offsetof(struct ffpf_capw_opts, ifname),
				    .format = FFPF_CAPW_PCAPNG, .ifname = "ignored" };
	const unsigned char *val;
	unsigned char *buf;
	struct ffpf_capw *w;
	size_t len;
	__u32 shb;

	snprintf(path, sizeof(path), "%s/o.pcapng", dir);
	w = ffpf_capw_open(path, &o);
	cr_assert_not_null(w);
	cr_expect_eq(ffpf_capw_close(w), 0);
	buf = slurp(path, &len);
	shb = rd32(buf + 4);
	cr_assert_eq(rd32(buf + shb), 1);
	cr_expect_eq(find_opt(buf + shb + 16, buf + shb + rd32(buf + shb + 4) - 4, 2, &val), -1);
	free(buf);
}
