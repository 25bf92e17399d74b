// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * flowtop.c - the live, top-like table of `ffpf-bpf flows --top`: every
 * refresh takes a snapshot of the live flows (ffpf_ft_foreach), works out
 * each flow's rate against the previous snapshot, and prints the top N by
 * the chosen key. On a terminal it redraws in place; otherwise each table
 * is a block ending in a blank line, so it can be logged and read back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cmd.h"
#include "flowtop.h"

struct top_ent {
	struct ffpf_ft_key key;
	__u64 pkts[2], bytes[2];	/* outbound, inbound */
	__u64 first_ns, last_ns;
	double rate;			/* bytes/s, both directions, since the last table */
	__u32 id;
	__u8 initiator, state;
	__u8 flags[2];			/* tcp flags out, in */
};

/* What a flow had at the previous table, to take its rate from. */
struct top_prev {
	__u32 id;
	__u64 first_ns;
	__u64 bytes;
};

struct flowtop {
	struct flowtop_opts o;
	struct top_ent *ents;
	size_t n, cap;
	struct top_prev *prev;
	size_t nprev;
	double prev_t;
	bool failed;			/* out of memory in the last snapshot */
};

void flowtop_addr(const struct ffpf_ft_key *k, int side, char *buf, size_t len)
{
	const __u8 *a = k->addr[side];

	if (k->ip_ver == 4) {
		if (!inet_ntop(AF_INET, a + 12, buf, len))
			snprintf(buf, len, "?");
	} else if (!inet_ntop(AF_INET6, a, buf, len)) {
		snprintf(buf, len, "?");
	}
}

const char *flowtop_proto(__u8 proto, char *buf, size_t len)
{
	switch (proto) {
	case 1:   return "icmp";
	case 6:   return "tcp";
	case 17:  return "udp";
	case 58:  return "icmp6";
	case 132: return "sctp";
	}
	snprintf(buf, len, "%u", proto);
	return buf;
}

int flowtop_parse_sort(const char *s, enum flowtop_sort *out)
{
	static const char *const names[] = {
		[FLOWTOP_BYTES] = "bytes", [FLOWTOP_PACKETS] = "packets",
		[FLOWTOP_RATE] = "rate", [FLOWTOP_AGE] = "age",
	};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	return -EINVAL;
}

struct flowtop *flowtop_new(const struct flowtop_opts *o)
{
	struct flowtop *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->o = *o;
	t->prev_t = cmd_now();	/* the first table's rates: since now */
	if (t->o.rows <= 0)
		t->o.rows = 20;
	return t;
}

void flowtop_free(struct flowtop *t)
{
	if (!t)
		return;
	free(t->ents);
	free(t->prev);
	free(t);
}

static int collect(const struct ffpf_ft_key *key, const struct ffpf_ft_flow *f, void *ctx)
{
	struct flowtop *t = ctx;
	const struct ffpf_ft_side *o = ffpf_ft_dir(f, FFPF_FT_OUTBOUND);
	const struct ffpf_ft_side *in = ffpf_ft_dir(f, FFPF_FT_INBOUND);
	struct top_ent *e;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		void *p = realloc(t->ents, cap * sizeof(*t->ents));

		if (!p) {
			t->failed = true;
			return 1;	/* stop: show what fits */
		}
		t->ents = p;
		t->cap = cap;
	}
	e = &t->ents[t->n++];
	e->key = *key;
	e->pkts[0] = o->packets;
	e->pkts[1] = in->packets;
	e->bytes[0] = o->bytes;
	e->bytes[1] = in->bytes;
	e->flags[0] = o->tcp_flags;
	e->flags[1] = in->tcp_flags;
	e->first_ns = f->first_ns;
	e->last_ns = f->last_ns;
	e->id = f->id;
	e->initiator = f->initiator;
	e->state = f->state;
	e->rate = 0;
	return 0;
}

static int cmp_prev(const void *a, const void *b)
{
	const struct top_prev *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static enum flowtop_sort sort_key;

static double key_of(const struct top_ent *e)
{
	switch (sort_key) {
	case FLOWTOP_PACKETS:
		return (double)e->pkts[0] + e->pkts[1];
	case FLOWTOP_RATE:
		return e->rate;
	case FLOWTOP_AGE:
		return -(double)e->first_ns;	/* oldest first */
	case FLOWTOP_BYTES:
	default:
		return (double)e->bytes[0] + e->bytes[1];
	}
}

/* Descending by key; ties by id, so the table does not jitter. */
static int cmp_ent(const void *a, const void *b)
{
	const struct top_ent *x = a, *y = b;
	double kx = key_of(x), ky = key_of(y);

	if (kx != ky)
		return kx > ky ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Rates against the previous table; then remember this one. */
static void rates(struct flowtop *t, double now, __u64 mono)
{
	double dt = now - t->prev_t;
	struct top_prev *np;

	for (size_t i = 0; i < t->n && dt > 0; i++) {
		struct top_ent *e = &t->ents[i];
		struct top_prev k = { .id = e->id }, *p;
		__u64 b = e->bytes[0] + e->bytes[1];

		p = bsearch(&k, t->prev, t->nprev, sizeof(k), cmp_prev);
		double age = mono > e->first_ns ? (mono - e->first_ns) / 1e9 : dt;

		/* a flow new since the last table: its rate is over its age */
		if (p && p->first_ns == e->first_ns)
			e->rate = (b - p->bytes) / dt;
		else
			e->rate = b / (age > 0.01 && age < dt ? age : dt);
	}
	np = realloc(t->prev, (t->n ? t->n : 1) * sizeof(*np));
	if (!np) {
		t->nprev = 0;
		return;
	}
	t->prev = np;
	for (size_t i = 0; i < t->n; i++)
		np[i] = (struct top_prev){ t->ents[i].id, t->ents[i].first_ns,
					   t->ents[i].bytes[0] + t->ents[i].bytes[1] };
	t->nprev = t->n;
	qsort(np, t->nprev, sizeof(*np), cmp_prev);
	t->prev_t = now;
}

/* 1234 -> "1234", 12345 -> "12.1K", ...: fits 6 columns. */
static const char *human(double v, char *buf, size_t len)
{
	static const char units[] = " KMGTP";
	int u = 0;

	while (v >= 10000 && u < 5) {
		v /= 1024;
		u++;
	}
	if (!u)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.1f%c", v, units[u]);
	return buf;
}

static const char *state_name(const struct top_ent *e)
{
	static const char *const names[] = { "active", "closing", "closed" };

	return e->state < 3 ? names[e->state] : "?";
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void endpoint(const struct top_ent *e, int dir, char *buf, size_t len)
{
	int s = e->initiator == FFPF_FT_INIT_SIDE1 ? 1 : 0;
	int side = dir ? !s : s;
	char a[INET6_ADDRSTRLEN];
	bool ports = e->key.proto == 6 || e->key.proto == 17 || e->key.proto == 132;

	flowtop_addr(&e->key, side, a, sizeof(a));
	if (!ports)
		snprintf(buf, len, "%s", a);
	else if (e->key.ip_ver == 6)
		snprintf(buf, len, "[%s]:%u", a, e->key.port[side]);
	else
		snprintf(buf, len, "%s:%u", a, e->key.port[side]);
}

int flowtop_draw(struct flowtop *t, FILE *out, struct ffpf_flow *flow, const char *title,
		 const struct ffpf_ft_stats *st, bool final)
{
	double now = cmd_now();
	__u64 mono = mono_ns();
	char b1[16], b2[16], b3[16], b4[16], b5[16], pb[8];
	char src[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8];
	size_t rows;
	int err;

	t->n = 0;
	t->failed = false;
	err = ffpf_ft_foreach(flow, collect, t);
	if (err < 0)
		return err;
	rates(t, now, mono);
	sort_key = t->o.sort;
	qsort(t->ents, t->n, sizeof(*t->ents), cmp_ent);
	rows = final || t->n < (size_t)t->o.rows ? t->n : (size_t)t->o.rows;

	if (t->o.ansi && !final)
		fputs("\033[H\033[2J", out);	/* home, clear */
	/* live: this snapshot, not the last sweep's count, so it matches the rows */
	fprintf(out, "%s%s: live %llu  created %llu  ended %llu  table_full %llu  "
		"rst_no_flow %llu%s\n", final ? "final: " : "", title,
		(unsigned long long)t->n, (unsigned long long)st->created,
		(unsigned long long)st->records, (unsigned long long)st->table_full,
		(unsigned long long)st->rst_no_flow, t->failed ? "  (out of memory: partial)" : "");
	fprintf(out, "%-5s %-24s %-24s %7s %7s %7s %7s %8s %7s %7s %s\n", "PROTO", "SOURCE",
		"DESTINATION", "PKTS>", "BYTES>", "PKTS<", "BYTES<", "RATE/s", "AGE", "IDLE",
		"STATE");
	for (size_t i = 0; i < rows; i++) {
		const struct top_ent *e = &t->ents[i];
		double age = mono > e->first_ns ? (mono - e->first_ns) / 1e9 : 0;
		double idle = mono > e->last_ns ? (mono - e->last_ns) / 1e9 : 0;

		endpoint(e, 0, src, sizeof(src));
		endpoint(e, 1, dst, sizeof(dst));
		/* '?' marks a flow whose initiator is unknown: SOURCE is a guess */
		fprintf(out, "%-5s %-24s %-24s %7s %7s %7s %7s %8s %6.1fs %6.1fs %s%s\n",
			flowtop_proto(e->key.proto, pb, sizeof(pb)), src, dst,
			human(e->pkts[0], b1, sizeof(b1)), human(e->bytes[0], b2, sizeof(b2)),
			human(e->pkts[1], b3, sizeof(b3)), human(e->bytes[1], b4, sizeof(b4)),
			human(e->rate, b5, sizeof(b5)), age, idle, state_name(e),
			e->initiator == FFPF_FT_INIT_UNKNOWN ? "?" : "");
	}
	if (rows < t->n)
		fprintf(out, "... %zu more\n", t->n - rows);
	if (!t->o.ansi || final)
		fputc('\n', out);
	fflush(out);
	return (int)t->n;
}
