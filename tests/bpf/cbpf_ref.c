// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cbpf_ref.c - libpcap as the reference for test_cbpf.c (see cbpf_ref.h). */
#include <stdio.h>
#include <pcap/pcap.h>
#include "cbpf_ref.h"

unsigned int ref_filter(const struct sock_filter *c, int n, const uint8_t *pkt, size_t len)
{
	(void)n;
	return bpf_filter((const struct bpf_insn *)c, pkt, len, len);
}

int ref_read_pcap(const char *path, void (*fn)(const uint8_t *b, size_t len, void *arg),
		  void *arg, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *b;
	pcap_t *p;
	int n = 0, r;

	p = pcap_open_offline(path, ebuf);
	if (!p) {
		snprintf(err, errlen, "%s", ebuf);
		return -1;
	}
	while ((r = pcap_next_ex(p, &h, &b)) == 1) {
		fn(b, h->caplen, arg);
		n++;
	}
	if (r == -1) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
		n = -1;
	}
	pcap_close(p);
	return n;
}
