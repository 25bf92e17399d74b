/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cbpf_ref.h - libpcap's side of the bpf("EXPR") differential test
 * (cbpf_ref.c): the reference verdict and the captured packets. Apart
 * from the test because <pcap.h> and <linux/bpf.h> cannot meet.
 */
#ifndef FFPF_TEST_CBPF_REF_H
#define FFPF_TEST_CBPF_REF_H

#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>

/* libpcap's bpf_filter() on @len bytes (wire length = captured length). */
unsigned int ref_filter(const struct sock_filter *c, int n, const uint8_t *pkt, size_t len);

/*
 * Call @fn for every packet of pcap file @path (its captured bytes).
 * Returns the number of packets, or -1 with libpcap's message in @err.
 */
int ref_read_pcap(const char *path, void (*fn)(const uint8_t *b, size_t len, void *arg),
		  void *arg, char *err, size_t errlen);

#endif /* FFPF_TEST_CBPF_REF_H */
