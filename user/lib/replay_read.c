// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * replay_read.c - read a pcap or pcapng file (libpcap) into flows for
 * ffpf-replay (replay_cap.h). Every error names the file and, past the
 * header, the record number and the byte offset where it was found.
 * A bad file is rejected whole: the run must not replay half of it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include "replay_cap.h"

static int open_err(const char *name, const char *perr, char *err, size_t len)
{
	/* libpcap's pcapng reader refuses a second interface whose link
	 * type differs from the first one's */
	if (strstr(perr, "different from the type of the first interface") ||
	    strstr(perr, "different link-layer type"))
		snprintf(err, len, "%s: several interfaces with different link types in one pcapng file "
			 "(not supported: extract one interface, e.g. with tshark -Y frame.interface_id==0): %s",
			 name, perr);
	else if (strstr(perr, "unknown file format") || strstr(perr, "bad dump file format"))
		snprintf(err, len, "%s: not a pcap or pcapng file (%s)", name, perr);
	else if (strstr(perr, "truncated"))
		snprintf(err, len, "%s: truncated file header (%s)", name, perr);
	else
		snprintf(err, len, "%s: %s", name, perr);
	return -EINVAL;
}

static int read_pcap(pcap_t *pc, const char *name, struct rp_capture *c,
		     char *err, size_t len)
{
	struct rp_split *s = rp_split_new();
	struct pcap_pkthdr *h;
	const u_char *data;
	int dlt = pcap_datalink(pc), r;
	int nano = pcap_get_tstamp_precision(pc) == PCAP_TSTAMP_PRECISION_NANO;

	if (!s)
		return -ENOMEM;
	c->dlt = dlt;
	if (!rp_dlt_supported(dlt)) {
		const char *n = pcap_datalink_val_to_name(dlt);

		snprintf(err, len, "%s: link type %d (%s) is not supported "
			 "(Ethernet, Linux cooked v1/v2, raw IP and BSD loopback are)",
			 name, dlt, n ? n : "unknown");
		rp_split_free(s);
		return -EPROTONOSUPPORT;
	}
	for (;;) {
		long off = pcap_file(pc) ? ftell(pcap_file(pc)) : -1;
		struct rp_pkt p;

		r = pcap_next_ex(pc, &h, &data);
		if (r == PCAP_ERROR_BREAK)
			break;
		if (r != 1) {
			const char *pe = pcap_geterr(pc);

			if (strstr(pe, "different from the type of the first interface") ||
			    strstr(pe, "different link-layer type"))
				snprintf(err, len, "%s: record %llu (offset %ld): several interfaces with "
					 "different link types in one pcapng file (not supported: extract "
					 "one interface first): %s", name,
					 (unsigned long long)c->records + 1, off, pe);
			else
				snprintf(err, len, "%s: record %llu (offset %ld): %s%s", name,
					 (unsigned long long)c->records + 1, off,
					 strstr(pe, "truncated") ? "truncated record: " : "bad record: ", pe);
			rp_split_free(s);
			return -EINVAL;
		}
		c->records++;
		if (h->caplen > h->len) {
			snprintf(err, len, "%s: record %llu (offset %ld): captured length %u exceeds "
				 "the packet length %u", name, (unsigned long long)c->records, off,
				 h->caplen, h->len);
			rp_split_free(s);
			return -EINVAL;
		}
		r = rp_pkt_parse(dlt, data, h->caplen, &p);
		if (r == -EPROTONOSUPPORT) {
			c->ignored++;
			continue;
		}
		if (r == -ENOTSUP) {
			c->fragments++;
			continue;
		}
		if (r) {
			c->bad++;
			continue;
		}
		r = rp_split_add(s, &p, (uint64_t)h->ts.tv_sec * 1000000000ULL +
				 (uint64_t)h->ts.tv_usec * (nano ? 1 : 1000),
				 c->records, h->caplen < h->len);
		if (r) {
			snprintf(err, len, "%s: record %llu: %s", name,
				 (unsigned long long)c->records, strerror(-r));
			rp_split_free(s);
			return r;
		}
	}
	r = rp_split_finish(s, c);
	if (r)
		snprintf(err, len, "%s: %s", name, strerror(-r));
	return r;
}

static int read_common(pcap_t *pc, const char *name, struct rp_capture **out,
		       char *err, size_t len)
{
	struct rp_capture *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		pcap_close(pc);
		return -ENOMEM;
	}
	r = read_pcap(pc, name, c, err, len);
	pcap_close(pc);
	if (r) {
		rp_capture_free(c);
		return r;
	}
	*out = c;
	return 0;
}

int rp_capture_read_fp(FILE *fp, const char *name, struct rp_capture **out,
		       char *err, size_t len)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	pcap_t *pc;

	*out = NULL;
	pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!pc) {
		fclose(fp);
		return open_err(name, perr[0] ? perr : "empty file", err, len);
	}
	return read_common(pc, name, out, err, len);
}

int rp_capture_read(const char *path, struct rp_capture **out, char *err, size_t len)
{
	FILE *fp = fopen(path, "rb");

	if (!fp) {
		int e = errno;

		snprintf(err, len, "%s: %s", path, strerror(e));
		*out = NULL;
		return -e;
	}
	return rp_capture_read_fp(fp, path, out, err, len);
}
