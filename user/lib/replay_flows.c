// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * replay_flows.c - split parsed packets into flows and flows into turns
 * (replay_cap.h, docs/replay.md).
 *
 * TCP: each direction is reassembled by sequence number, so a
 * retransmission, a duplicate or a reordering inside the capture gives
 * the stream the endpoint received. A byte is delivered when everything
 * before it was seen; turns follow the order in which the two directions
 * delivered bytes. A hole in the client stream (lost in the capture, or
 * cut by the snaplen) makes the flow unreplayable: we never send a
 * partial or guessed stream.
 * UDP: every client datagram is a turn; the server's datagrams count to
 * the turn before them.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "replay_cap.h"

#define TH_FIN	0x01
#define TH_SYN	0x02
#define TH_RST	0x04
#define TH_ACK	0x10

struct rp_seg {
	uint64_t rel;		/* offset in the direction's stream */
	uint32_t len;		/* captured bytes */
	uint32_t order;		/* packet index in the flow */
	uint64_t rec;
	uint8_t *data;
	int seen;		/* delivery pass */
};

struct rp_hole {		/* bytes cut by the snaplen */
	uint64_t rel;
	uint64_t rec;
};

struct rp_dir {
	int has_base;
	uint32_t base;
	struct rp_seg *segs;
	size_t nsegs, cap;
	struct rp_hole *holes;
	size_t nholes, hcap;
	uint64_t pkts;
};

struct rp_dgram {
	int side;
	uint32_t len;
	int cut;
	uint64_t rec;
	uint8_t *data;
};

struct rp_fstate {
	struct rp_dir dir[2];
	int syn_side;		/* sent a SYN without ACK, -1 if none */
	int synack_side;
	uint32_t isn;
	int first_pl_side;	/* first to send payload, -1 */
	int ended;		/* FIN or RST seen: a new SYN starts a new flow */
	uint32_t npkts;
	struct rp_dgram *dg;
	size_t ndg, dgcap;
};

struct rp_split {
	struct rp_flow **flows;
	size_t nflows, cap;
	uint32_t *slots;	/* flow index + 1, open addressing */
	size_t nslots;
	uint64_t ignored, fragments, bad;
};

static int grow(void **arr, size_t *cap, size_t need, size_t elsz)
{
	size_t n = *cap ? *cap : 8;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*arr, n * elsz);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

static uint32_t key_hash(const struct ffpf_ft_key *k)
{
	const uint8_t *b = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

struct rp_split *rp_split_new(void)
{
	struct rp_split *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->nslots = 1024;
	s->slots = calloc(s->nslots, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return NULL;
	}
	return s;
}

static size_t slot_find(const struct rp_split *s, const struct ffpf_ft_key *k)
{
	size_t i = key_hash(k) & (s->nslots - 1);

	while (s->slots[i] &&
	       memcmp(&s->flows[s->slots[i] - 1]->key, k, sizeof(*k)))
		i = (i + 1) & (s->nslots - 1);
	return i;
}

static int rehash(struct rp_split *s)
{
	size_t n = s->nslots * 2;
	uint32_t *old = s->slots;
	size_t oldn = s->nslots;

	s->slots = calloc(n, sizeof(*s->slots));
	if (!s->slots) {
		s->slots = old;
		return -ENOMEM;
	}
	s->nslots = n;
	/* only the newest flow of a key is reachable */
	for (size_t i = 0; i < oldn; i++)
		if (old[i])
			s->slots[slot_find(s, &s->flows[old[i] - 1]->key)] = old[i];
	free(old);
	return 0;
}

static struct rp_flow *flow_new(struct rp_split *s, const struct rp_pkt *p,
				uint64_t ts, uint64_t rec, size_t slot)
{
	struct rp_flow *f;

	if ((s->nflows + 1) * 2 > s->nslots) {
		if (rehash(s))
			return NULL;
		slot = slot_find(s, &p->key);
	}
	if (grow((void **)&s->flows, &s->cap, s->nflows + 1, sizeof(*s->flows)))
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->st = calloc(1, sizeof(*f->st)))) {
		free(f);
		return NULL;
	}
	f->key = p->key;
	f->proto = p->proto;
	f->first_ns = ts;
	f->first_rec = rec;
	f->client = -1;
	f->st->syn_side = f->st->synack_side = f->st->first_pl_side = -1;
	s->flows[s->nflows++] = f;
	s->slots[slot] = (uint32_t)s->nflows;
	return f;
}

static int tcp_add(struct rp_flow *f, const struct rp_pkt *p, uint64_t rec)
{
	struct rp_fstate *st = f->st;
	struct rp_dir *d = &st->dir[p->side];
	uint32_t seq = p->seq;
	uint64_t rel;

	d->pkts++;
	if (p->tcp_flags & TH_SYN) {
		if (!(p->tcp_flags & TH_ACK) && st->syn_side < 0) {
			st->syn_side = p->side;
			st->isn = p->seq;
		} else if (p->tcp_flags & TH_ACK) {
			st->synack_side = p->side;
		}
		d->has_base = 1;
		d->base = p->seq + 1;
		seq++;		/* data on a SYN (TFO) follows the SYN's number */
	}
	if (p->tcp_flags & (TH_FIN | TH_RST))
		st->ended = 1;
	if (!p->pl_len)
		return 0;
	if (st->first_pl_side < 0)
		st->first_pl_side = p->side;
	if (!d->has_base) {
		d->has_base = 1;
		d->base = seq;
	}
	/* before the start (an old retransmission): nothing new */
	if ((uint32_t)(seq - d->base) >= 0x80000000u)
		return 0;
	rel = (uint32_t)(seq - d->base);
	if (grow((void **)&d->segs, &d->cap, d->nsegs + 1, sizeof(*d->segs)))
		return -ENOMEM;
	struct rp_seg *g = &d->segs[d->nsegs];
	memset(g, 0, sizeof(*g));
	g->rel = rel;
	g->len = p->pl_cap;
	g->order = st->npkts;
	g->rec = rec;
	if (p->pl_cap) {
		g->data = malloc(p->pl_cap);
		if (!g->data)
			return -ENOMEM;
		memcpy(g->data, p->payload, p->pl_cap);
	}
	d->nsegs++;
	if (p->pl_cap < p->pl_len) {
		if (grow((void **)&d->holes, &d->hcap, d->nholes + 1, sizeof(*d->holes)))
			return -ENOMEM;
		d->holes[d->nholes++] = (struct rp_hole){ rel + p->pl_cap, rec };
	}
	return 0;
}

static int udp_add(struct rp_flow *f, const struct rp_pkt *p, uint64_t rec)
{
	struct rp_fstate *st = f->st;
	struct rp_dgram *g;

	st->dir[p->side].pkts++;
	if (grow((void **)&st->dg, &st->dgcap, st->ndg + 1, sizeof(*st->dg)))
		return -ENOMEM;
	g = &st->dg[st->ndg];
	memset(g, 0, sizeof(*g));
	g->side = p->side;
	g->len = p->pl_len;
	g->cut = p->pl_cap < p->pl_len;
	g->rec = rec;
	if (p->pl_cap) {
		g->data = malloc(p->pl_cap);
		if (!g->data)
			return -ENOMEM;
		memcpy(g->data, p->payload, p->pl_cap);
	}
	st->ndg++;
	if (st->first_pl_side < 0)
		st->first_pl_side = p->side;
	return 0;
}

int rp_split_add(struct rp_split *s, const struct rp_pkt *p, uint64_t ts_ns,
		 uint64_t rec, int cut)
{
	size_t slot = slot_find(s, &p->key);
	struct rp_flow *f = s->slots[slot] ? s->flows[s->slots[slot] - 1] : NULL;
	int r;

	(void)cut;	/* the payload lengths say what was cut */
	/* a fresh SYN on a finished connection: the 5-tuple was reused */
	if (f && p->proto == IPPROTO_TCP && (p->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN &&
	    (f->st->ended || (f->st->syn_side >= 0 && f->st->isn != p->seq)))
		f = NULL;
	if (!f && !(f = flow_new(s, p, ts_ns, rec, slot)))
		return -ENOMEM;
	r = p->proto == IPPROTO_TCP ? tcp_add(f, p, rec) : udp_add(f, p, rec);
	f->st->npkts++;
	return r;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct rp_seg *x = a, *y = b;

	if (x->rel != y->rel)
		return x->rel < y->rel ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int add_turn(struct rp_flow *f, size_t *cap, uint64_t coff, uint32_t clen)
{
	if (grow((void **)&f->turns, cap, f->nturns + 1, sizeof(*f->turns)))
		return -ENOMEM;
	f->turns[f->nturns++] = (struct rp_turn){ coff, clen, 0 };
	return 0;
}

/* Append [from, to) of the stream to the client data. */
static int client_copy(struct rp_flow *f, size_t *cap, const struct rp_seg *g,
		       uint64_t from, uint64_t to)
{
	uint64_t n = to - from;

	if (grow((void **)&f->cdata, cap, f->clen + n, 1))
		return -ENOMEM;
	memcpy(f->cdata + f->clen, g->data + (from - g->rel), n);
	f->clen += n;
	return 0;
}

/*
 * Reassemble direction @side: its stream length (contiguous from 0), the
 * client bytes when @client; a hole sets @f->skip for the client.
 */
static int dir_stream(struct rp_flow *f, int side, int client, uint64_t *len)
{
	struct rp_dir *d = &f->st->dir[side];
	size_t ccap = 0;
	uint64_t next = 0;
	int r;

	if (d->nsegs > 1)
		qsort(d->segs, d->nsegs, sizeof(*d->segs), seg_cmp);
	for (size_t i = 0; i < d->nsegs; i++) {
		struct rp_seg *g = &d->segs[i];
		uint64_t end = g->rel + g->len;

		if (g->rel > next)
			break;
		if (end <= next)
			continue;
		if (client && (r = client_copy(f, &ccap, g, next, end)))
			return r;
		next = end;
	}
	/* anything after @next that was captured is unreachable */
	if (client) {
		uint64_t maxend = 0;

		for (size_t i = 0; i < d->nsegs; i++)
			if (d->segs[i].rel + d->segs[i].len > maxend)
				maxend = d->segs[i].rel + d->segs[i].len;
		for (size_t i = 0; i < d->nholes; i++)
			if (d->holes[i].rel == next) {
				snprintf(f->skip, sizeof(f->skip),
					 "client data cut by snaplen at packet %llu",
					 (unsigned long long)d->holes[i].rec);
				break;
			}
		if (!f->skip[0] && maxend > next) {
			uint64_t rec = 0;

			for (size_t i = 0; i < d->nsegs; i++)
				if (d->segs[i].rel > next) {
					rec = d->segs[i].rec;
					break;
				}
			snprintf(f->skip, sizeof(f->skip),
				 "client data missing from the capture (gap at stream byte %llu, before packet %llu)",
				 (unsigned long long)next, (unsigned long long)rec);
		}
	} else if (d->nholes || (d->nsegs && d->segs[d->nsegs - 1].rel + d->segs[d->nsegs - 1].len > next)) {
		snprintf(f->warn, sizeof(f->warn),
			 "server data missing from the capture after byte %llu: expected bytes are a lower bound",
			 (unsigned long long)next);
	}
	*len = next;
	return 0;
}

/* Bytes of direction @d delivered in order once packet @order was seen. */
struct rp_deliv {
	struct rp_dir *d;
	size_t j;		/* first sorted segment not yet absorbed */
	uint64_t hwm, limit;
};

static uint64_t deliver(struct rp_deliv *v, size_t seg)
{
	uint64_t before = v->hwm;
	int adv = 1;

	v->d->segs[seg].seen = 1;
	while (adv) {
		adv = 0;
		for (size_t k = v->j; k < v->d->nsegs && v->d->segs[k].rel <= v->hwm; k++) {
			struct rp_seg *g = &v->d->segs[k];

			if (g->seen && g->rel + g->len > v->hwm) {
				v->hwm = g->rel + g->len;
				adv = 1;
			}
		}
		/* covered segments, seen or not, can never move it again */
		while (v->j < v->d->nsegs &&
		       v->d->segs[v->j].rel + v->d->segs[v->j].len <= v->hwm)
			v->j++;
	}
	if (v->hwm > v->limit)
		v->hwm = v->limit;
	return v->hwm - before;
}

static int tcp_finish(struct rp_flow *f)
{
	struct rp_fstate *st = f->st;
	uint64_t slen = 0, clen = 0, coff = 0;
	size_t tcap = 0;
	int64_t *at;
	struct rp_deliv v[2];
	int c, r = 0;

	if (st->syn_side >= 0) {
		c = st->syn_side;
	} else if (st->synack_side >= 0) {
		c = !st->synack_side;
	} else if (st->first_pl_side >= 0 &&
		   f->key.port[!st->first_pl_side] < f->key.port[st->first_pl_side]) {
		c = st->first_pl_side;
		snprintf(f->warn, sizeof(f->warn),
			 "no handshake in the capture: client inferred (first data sent to the lower port)");
	} else {
		snprintf(f->skip, sizeof(f->skip), "no handshake (client unknown)");
		return 0;
	}
	f->client = c;
	if (!st->dir[!c].pkts) {
		snprintf(f->skip, sizeof(f->skip), "the server never answered in the capture");
		return 0;
	}
	if (st->syn_side >= 0 && st->synack_side < 0 && !st->dir[c].nsegs &&
	    !st->dir[!c].nsegs) {
		snprintf(f->skip, sizeof(f->skip),
			 "the server did not accept the connection in the capture");
		return 0;
	}
	if ((r = dir_stream(f, c, 1, &clen)) || (r = dir_stream(f, !c, 0, &slen)))
		return r;
	if (f->skip[0])
		return 0;
	f->sbytes = slen;
	v[0] = (struct rp_deliv){ &st->dir[0], 0, 0, c == 0 ? clen : slen };
	v[1] = (struct rp_deliv){ &st->dir[1], 0, 0, c == 1 ? clen : slen };
	/* packet index -> its segment (side << 62 | sorted index), so the
	 * flow's packets are walked in capture order */
	at = malloc((st->npkts + 1) * sizeof(*at));
	if (!at)
		return -ENOMEM;
	for (uint32_t o = 0; o < st->npkts; o++)
		at[o] = -1;
	for (int side = 0; side < 2; side++)
		for (size_t k = 0; k < st->dir[side].nsegs; k++)
			at[st->dir[side].segs[k].order] = (int64_t)side << 62 | (int64_t)k;
	for (uint32_t o = 0; o < st->npkts && !r; o++) {
		if (at[o] < 0)
			continue;
		int side = (int)(at[o] >> 62);
		uint64_t n = deliver(&v[side], (size_t)(at[o] & ((1LL << 62) - 1)));

		if (!n)
			continue;
		if (side == c) {
			if (!f->nturns || f->turns[f->nturns - 1].slen)
				r = add_turn(f, &tcap, coff, (uint32_t)n);
			else
				f->turns[f->nturns - 1].clen += (uint32_t)n;
			coff += n;
		} else {
			if (!f->nturns)
				r = add_turn(f, &tcap, 0, 0);
			if (!r)
				f->turns[f->nturns - 1].slen += n;
		}
	}
	free(at);
	return r;
}

static int udp_finish(struct rp_flow *f)
{
	struct rp_fstate *st = f->st;
	size_t tcap = 0, ccap = 0;
	int r;

	f->client = st->first_pl_side < 0 ? 0 : st->first_pl_side;
	for (size_t i = 0; i < st->ndg; i++) {
		struct rp_dgram *g = &st->dg[i];

		if (g->side != f->client) {
			f->sbytes += g->len;
			if (f->nturns)
				f->turns[f->nturns - 1].slen += g->len;
			continue;
		}
		if (g->cut) {
			snprintf(f->skip, sizeof(f->skip),
				 "client data cut by snaplen at packet %llu",
				 (unsigned long long)g->rec);
			return 0;
		}
		if (grow((void **)&f->cdata, &ccap, f->clen + g->len + 1, 1))
			return -ENOMEM;
		if (g->len)
			memcpy(f->cdata + f->clen, g->data, g->len);
		if ((r = add_turn(f, &tcap, f->clen, g->len)))
			return r;
		f->clen += g->len;
	}
	return 0;
}

static void fstate_free(struct rp_fstate *st)
{
	if (!st)
		return;
	for (int s = 0; s < 2; s++) {
		for (size_t i = 0; i < st->dir[s].nsegs; i++)
			free(st->dir[s].segs[i].data);
		free(st->dir[s].segs);
		free(st->dir[s].holes);
	}
	for (size_t i = 0; i < st->ndg; i++)
		free(st->dg[i].data);
	free(st->dg);
	free(st);
}

static void flow_free(struct rp_flow *f)
{
	if (!f)
		return;
	fstate_free(f->st);
	free(f->cdata);
	free(f->turns);
	free(f);
}

void rp_split_free(struct rp_split *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nflows; i++)
		flow_free(s->flows[i]);
	free(s->flows);
	free(s->slots);
	free(s);
}

int rp_split_finish(struct rp_split *s, struct rp_capture *c)
{
	int r = 0;

	for (size_t i = 0; i < s->nflows && !r; i++) {
		struct rp_flow *f = s->flows[i];

		r = f->proto == IPPROTO_TCP ? tcp_finish(f) : udp_finish(f);
		fstate_free(f->st);
		f->st = NULL;
	}
	if (r) {
		rp_split_free(s);
		return r;
	}
	c->flows = s->flows;
	c->nflows = s->nflows;
	c->ignored += s->ignored;
	free(s->slots);
	free(s);
	return 0;
}

void rp_capture_free(struct rp_capture *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nflows; i++)
		flow_free(c->flows[i]);
	free(c->flows);
	free(c);
}
