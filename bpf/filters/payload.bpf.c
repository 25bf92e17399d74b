// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * payload: accept a packet whose transport payload (after the TCP, UDP,
 * SCTP or ICMP header the parser found) contains any configured byte
 * pattern within the window [offset, offset + depth) of that payload.
 *
 * The window is copied into a per-CPU scratch buffer with the hook's
 * load-bytes helper (so a TC skb's paged data is searched too), then run
 * through an Aho-Corasick automaton that user space compiled from the
 * patterns into payload_tab before load (user/lib/payload.c): at most one
 * table load per byte, whatever the number of patterns. An entry is the
 * next state, or FFPF_PL_ACCEPT once some pattern has ended; the loop is
 * bounded by FFPF_PL_DEPTH_MAX, which the verifier walks once. Costs:
 * docs/architecture.md section 8 (build/ffpf-plbench).
 *
 * No transport payload (a later fragment, a truncated or malformed header,
 * another protocol): rejected and counted in spare[FFPF_PL_NOL4]. A
 * pattern split over two fragments or two TCP segments is not seen.
 */
#include "stage.h"

FFPF_MBUF(payload, struct ffpf_payload_mbuf)

/* Filled by user space through the object's .bss before load. */
struct ffpf_payload_tables payload_tab;

struct payload_buf {
	__u8 b[FFPF_PL_DEPTH_MAX + 1];	/* + 1: the pair test at the last byte */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct payload_buf);
} payload_scratch SEC(".maps");

/*
 * 1 if the automaton reaches an accepting edge within b[0, n). In the
 * start state a byte whose pair (b[i], b[i + 1]) begins no pattern is
 * skipped: the automaton would be back in the start state after b[i + 1]
 * anyway, and that test has no dependency from one byte to the next,
 * where an automaton step waits for the previous one. b[n] may be stale:
 * it only makes the last pair a candidate or not, and a one-byte pattern
 * sets all pairs starting with its byte.
 */
static __always_inline int payload_search(const __u8 *b, __u32 n)
{
	__u32 s = 0;

	for (__u32 i = 0; i < FFPF_PL_DEPTH_MAX && i < n; i++) {
		__u16 t;

#ifndef PAYLOAD_NO_PAIRS
		if (s == 0) {
			__u32 h = b[i] | (__u32)b[i + 1] << 8;

			if (!(payload_tab.first2[h >> 3] & (1 << (h & 7))))
				continue;
		}
#endif
		t = payload_tab.dfa[s & (FFPF_PL_STATES - 1)][b[i]];
		if (t & FFPF_PL_ACCEPT)
			return 1;
		s = t;
	}
	return 0;
}

static __always_inline int payload_body(ffpf_ctx_t *ctx, struct ffpf_pkt *p)
{
	struct ffpf_payload_mbuf *m = payload_mbuf_get();
	struct payload_buf *buf;
	struct ffpf_mbuf_cpu *c;
	__u32 zero = 0, start, n;

	if (!m)
		return FFPF_V_ERROR;
	c = ffpf_slot(m->cpu, p);
	ffpf_add(&c->seen, 1);
	if (!p->payload_off || (p->flags & (FFPF_PF_FRAG_LATER | FFPF_PF_TRUNC |
					    FFPF_PF_BAD | FFPF_PF_DEEP))) {
		ffpf_add(&c->spare[FFPF_PL_NOL4], 1);
		return FFPF_V_REJECT;
	}
	start = (__u32)p->payload_off + m->cfg.offset;
	n = p->len > start ? p->len - start : 0;
	if (n > m->cfg.depth)
		n = m->cfg.depth;
	if (n > FFPF_PL_DEPTH_MAX)
		n = FFPF_PL_DEPTH_MAX;
	if (n == 0) {
		ffpf_add(&c->spare[FFPF_PL_EMPTY], 1);
		return FFPF_V_REJECT;
	}
	buf = bpf_map_lookup_elem(&payload_scratch, &zero);
	if (!buf)
		return FFPF_V_ERROR;
	/* n in 1..FFPF_PL_DEPTH_MAX, proven to the verifier again after the asm */
	asm volatile("" : "+r"(n));
	if (n < 1 || n > FFPF_PL_DEPTH_MAX)
		return FFPF_V_ERROR;
	if (ffpf_load_bytes(ctx, start, buf->b, n))
		return FFPF_V_ERROR;
	ffpf_add(&c->spare[FFPF_PL_SCANNED], n);
	if (!payload_search(buf->b, n))
		return FFPF_V_REJECT;
	ffpf_passed(c, p);
	return FFPF_V_ACCEPT;
}

FFPF_STAGE_CTX(payload)
