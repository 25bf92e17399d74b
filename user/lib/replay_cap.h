/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * replay_cap.h (internal) - what ffpf-replay reads from a capture: the
 * packet parser (replay_pkt.c), the pcap/pcapng reader (replay_read.c)
 * and the flow splitter with TCP reassembly (replay_flows.c).
 *
 * Not exported from the shared library; the tool, the unit tests and the
 * fuzzer link the static one.
 */
#ifndef FFPF_REPLAY_CAP_H
#define FFPF_REPLAY_CAP_H

#include <stdint.h>
#include <stdio.h>
#include <ffpf/flowtrack.h>

/* One parsed packet. */
struct rp_pkt {
	struct ffpf_ft_key key;	/* normalised, as the kernel's flow tracker */
	int side;		/* which side of key sent it */
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t tcp_flags;
	uint32_t seq;
	const uint8_t *payload;
	uint32_t pl_len;	/* payload length the IP header announces */
	uint32_t pl_cap;	/* of which captured (<= pl_len) */
};

/* rp_pkt_parse: 0, -EPROTONOSUPPORT (not TCP/UDP over IP: ignored),
 * -EBADMSG (headers cut or malformed), -ENOTSUP (IP fragment). */
int rp_pkt_parse(int dlt, const uint8_t *data, uint32_t caplen, struct rp_pkt *p);
/* Link types the parser knows: 1 or 0. */
int rp_dlt_supported(int dlt);

/* A turn: client chunk (cdata[coff..coff+clen)), then the server bytes
 * the capture has before the client's next chunk. UDP: one datagram. */
struct rp_turn {
	uint64_t coff;
	uint32_t clen;
	uint64_t slen;
};

struct rp_flow {
	struct ffpf_ft_key key;
	int client;		/* side of key that is the client */
	uint8_t proto;
	uint64_t first_ns;	/* capture time of the first packet */
	uint64_t first_rec;	/* its record number (1-based) */
	uint8_t *cdata;		/* client stream (TCP) / datagrams (UDP) */
	uint64_t clen;
	struct rp_turn *turns;
	size_t nturns;
	uint64_t sbytes;	/* server bytes in the capture */
	char skip[160];		/* why it cannot be replayed, "" if it can */
	char warn[160];		/* replayable, but worth a note */
	struct rp_fstate *st;	/* reassembly state, freed by the splitter */
};

struct rp_capture {
	struct rp_flow **flows;	/* in order of first packet */
	size_t nflows;
	uint64_t records;
	uint64_t ignored;	/* not TCP/UDP over IP */
	uint64_t fragments;
	uint64_t bad;		/* headers cut or malformed */
	int dlt;
};

/* Read @path (pcap or pcapng) into flows. 0 or negative errno; on error
 * @err says what and where (file, record number, byte offset). */
int rp_capture_read(const char *path, struct rp_capture **out, char *err, size_t errlen);
/* The same from an open stream (closed by the call); @name for messages. */
int rp_capture_read_fp(FILE *fp, const char *name, struct rp_capture **out,
		       char *err, size_t errlen);
void rp_capture_free(struct rp_capture *c);

/* The splitter, used by the reader (and by tests with crafted packets). */
struct rp_split;
struct rp_split *rp_split_new(void);
/* @rec: record number; @cut: the record was cut by the snaplen. */
int rp_split_add(struct rp_split *s, const struct rp_pkt *p, uint64_t ts_ns,
		 uint64_t rec, int cut);
/* Finish every flow into @c (flows, counts); frees @s. */
int rp_split_finish(struct rp_split *s, struct rp_capture *c);
void rp_split_free(struct rp_split *s);

/* "10.0.0.1:80" / "[fd00::1]:80" for side @side of @k. */
void rp_key_endpoint(const struct ffpf_ft_key *k, int side, char *buf, size_t len);

#endif /* FFPF_REPLAY_CAP_H */
