/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * fuzz_pcap.c - libFuzzer target for ffpf-replay's capture side: the
 * pcap/pcapng reader (user/lib/replay_read.c, libpcap underneath), the
 * packet parser (replay_pkt.c) and the flow splitter with TCP
 * reassembly (replay_flows.c). Captures come from anyone: no crash, no
 * leak, no read out of bounds.
 *
 * Invariants (a broken one aborts):
 *   - the reader returns 0, -EINVAL, -EPROTONOSUPPORT or -ENOMEM; on
 *     failure no capture and a message that starts with the file name;
 *   - a replayable flow's turns tile its client data in order, their
 *     server bytes add up to the flow's, and the client is side 0 or 1;
 *   - the parser, run on the raw input for every link type it knows,
 *     reports a payload inside the input.
 */
#include <errno.h>
#include <netinet/in.h>
#include "replay_cap.h"
#include "fuzz.h"

static const int dlts[] = { 0, 1, 12, 108, 113, 228, 229, 276 };

static void check_flows(const struct rp_capture *c)
{
	for (size_t i = 0; i < c->nflows; i++) {
		const struct rp_flow *f = c->flows[i];
		uint64_t off = 0, s = 0;

		FUZZ_CHECK(f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP, "proto %u", f->proto);
		FUZZ_CHECK(f->first_rec >= 1 && f->first_rec <= c->records, "first record %llu",
			   (unsigned long long)f->first_rec);
		FUZZ_CHECK(memchr(f->skip, '\0', sizeof(f->skip)), "skip not terminated");
		if (f->skip[0])
			continue;
		FUZZ_CHECK(f->client == 0 || f->client == 1, "client %d", f->client);
		for (size_t t = 0; t < f->nturns; t++) {
			FUZZ_CHECK(f->turns[t].coff == off, "turn %zu at %llu, expected %llu", t,
				   (unsigned long long)f->turns[t].coff, (unsigned long long)off);
			off += f->turns[t].clen;
			s += f->turns[t].slen;
		}
		FUZZ_CHECK(off == f->clen, "turns cover %llu of %llu client bytes",
			   (unsigned long long)off, (unsigned long long)f->clen);
		FUZZ_CHECK(s == f->sbytes, "turns have %llu of %llu server bytes",
			   (unsigned long long)s, (unsigned long long)f->sbytes);
		/* touch every client byte (ASan checks the bounds) */
		volatile uint8_t x = 0;
		for (uint64_t b = 0; b < f->clen; b++)
			x ^= f->cdata[b];
		(void)x;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_capture *c = (void *)1;
	char err[512] = "";
	struct rp_pkt p;
	FILE *fp;
	int r;

	for (size_t i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
		if (rp_pkt_parse(dlts[i], data, (uint32_t)size, &p))
			continue;
		FUZZ_CHECK(p.payload >= data && p.payload + p.pl_cap <= data + size,
			   "payload outside the input (dlt %d)", dlts[i]);
		FUZZ_CHECK(p.pl_cap <= p.pl_len, "captured %u > %u", p.pl_cap, p.pl_len);
		FUZZ_CHECK(p.side == 0 || p.side == 1, "side %d", p.side);
	}
	if (!size)
		return 0;	/* fmemopen() refuses an empty buffer */
	fp = fmemopen((void *)data, size, "rb");
	if (!fp)
		return 0;
	r = rp_capture_read_fp(fp, "fuzz.pcap", &c, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -EPROTONOSUPPORT || r == -ENOMEM,
		   "returned %d (%s)", r, err);
	if (r) {
		FUZZ_CHECK(c == NULL, "capture left on error");
		FUZZ_CHECK(!strncmp(err, "fuzz.pcap: ", 11), "message without the file: '%s'", err);
		return 0;
	}
	check_flows(c);
	rp_capture_free(c);
	return 0;
}
