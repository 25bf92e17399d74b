// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * prefixset: pass or drop packets by whether their source and/or
 * destination address lies in a set of IPv4/IPv6 prefixes. The set is an
 * LPM trie that user space changes while packets flow (ffpf/prefixset.h);
 * an LPM lookup of the full address finds any prefix that covers it, so
 * membership is one lookup per address.
 *
 * Packets without a valid IP header (non-IP, or an IP header cut short)
 * are in no set: allow rejects them, deny passes them; both count them
 * in spare[FFPF_PS_NON_IP].
 */
#include "stage.h"

FFPF_MBUF(prefixset, struct ffpf_prefixset_mbuf)

/* Sized by user space before load (prefixset(size=N)). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FFPF_PS_SIZE_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ffpf_prefixset_key);
	__type(value, __u8);
} prefixset_set SEC(".maps");

static __always_inline bool ps_has(struct ffpf_prefixset_key *k, const __u8 *addr)
{
	__builtin_memcpy(k->addr, addr, 16);
	return bpf_map_lookup_elem(&prefixset_set, k) != NULL;
}

static __always_inline int prefixset_body(struct ffpf_pkt *p)
{
	struct ffpf_prefixset_mbuf *m = prefixset_mbuf_get();
	struct ffpf_prefixset_key k;	/* no initializer: it would land in .rodata */
	struct ffpf_mbuf_cpu *c;
	bool hit = false;
	__u8 dir;

	if (!m)
		return FFPF_V_ERROR;
	c = ffpf_slot(m->cpu, p);
	ffpf_add(&c->seen, 1);
	k.prefixlen = 128;
	if (!(p->flags & FFPF_PF_L3)) {
		ffpf_add(&c->spare[FFPF_PS_NON_IP], 1);
	} else {
		dir = m->cfg.dir;
		if (dir & FFPF_PS_SRC)
			hit = ps_has(&k, p->saddr);
		if (!hit && (dir & FFPF_PS_DST))
			hit = ps_has(&k, p->daddr);
		if (hit)
			ffpf_add(&c->spare[FFPF_PS_HITS], 1);
	}
	if (hit == (m->cfg.mode == FFPF_PS_DENY))
		return FFPF_V_REJECT;
	ffpf_passed(c, p);
	return FFPF_V_ACCEPT;
}

FFPF_STAGE(prefixset)
