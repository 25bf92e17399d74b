/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * args.c - argument parsers of the built-in classes (match, sample,
 * count, flowtrack) and the overlap test between two match configurations.
 *
 * A match argument is one term of a few blank-separated words. Terms are
 * checked against each other as they are added, so a conflict is reported
 * at the argument that introduced it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <ffpf/flowtrack.h>

#include "spec.h"

#define MAX_WORDS	6
#define WORD_LEN	64

#define PORT_FIELDS	(FFPF_M_SPORT | FFPF_M_DPORT | FFPF_M_ANYPORT)
/* Constraints that only an IP packet with a given L4 protocol can meet. */
#define L4_FIELDS	(FFPF_M_PROTO | PORT_FIELDS | FFPF_M_TCPFLAGS | FFPF_M_ICMPTYPE)

struct word {
	char s[WORD_LEN];
	int line, col;
};

enum dir { D_ANY, D_SRC, D_DST };

struct mstate {
	struct ffpf_match_cfg *cfg;
	struct ffpf_spec_error *err;
	const char *ver_by;	/* term that set ip_ver, for messages */
	const char *icmp_name;	/* ICMPv4 type given by name, or NULL */
};

static const struct {
	const char *name;
	__u8 num;
} protos[] = {
	{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmp6", 58 },
	{ "sctp", 132 }, { "gre", 47 },
};

/* The v4-mapped prefix ::ffff:0:0/96. */
static const __u8 v4mapped[16] = { [10] = 0xff, [11] = 0xff };

static const char *const dir_word[] = { "", "src ", "dst " };

static int set_err(struct ffpf_spec_error *err, int line, int col,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int vset_err(struct ffpf_spec_error *err, int line, int col,
		    const char *fmt, va_list ap)
{
	if (err) {
		err->line = line;
		err->col = col;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	}
	return -EINVAL;
}

static int set_err(struct ffpf_spec_error *err, int line, int col,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_err(err, line, col, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

#define bad(st, w, ...)	set_err((st)->err, (w)->line, (w)->col, __VA_ARGS__)
/* Point @off characters into word @w (words never span lines). */
#define bad_at(st, w, off, ...) \
	set_err((st)->err, (w)->line, (w)->col + (int)(off), __VA_ARGS__)

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	       c == '\v' || c == '\f';
}

/* Split @a into blank-separated words with their positions. */
static int split_words(const struct ffpf_spec_arg *a, struct word *w,
		       struct ffpf_spec_error *err)
{
	int line = a->line, col = a->col, n = 0;
	const char *p = a->text;

	for (;;) {
		size_t len = 0;

		while (is_blank(*p)) {
			if (*p == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
			p++;
		}
		if (!*p)
			return n;
		if (n == MAX_WORDS)
			return set_err(err, line, col, "too many words in match term");
		while (p[len] && !is_blank(p[len]))
			len++;
		if (len >= WORD_LEN)
			return set_err(err, line, col, "'%.20s...' is too long", p);
		memcpy(w[n].s, p, len);
		w[n].s[len] = '\0';
		w[n].line = line;
		w[n].col = col;
		n++;
		p += len;
		col += len;
	}
}

/* Decimal digits only; 0, -1 if not a number, -2 if above @max. */
static int parse_num(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	int big = 0;

	if (!*s)
		return -1;
	for (const char *p = s; *p; p++) {
		unsigned d = *p - '0';

		if (*p < '0' || *p > '9')
			return -1;
		/* Keep scanning once too big: "99999x" is not a number. */
		if (v > max / 10 || d > max - v * 10)	/* v * 10 <= max here: no wrap */
			big = 1;
		if (!big)
			v = v * 10 + d;
	}
	if (big)
		return -2;
	*out = v;
	return 0;
}

/* Parse @s, @off characters into word @w, as a @what in 0..@max. */
static int num_word(struct mstate *st, const struct word *w, const char *s,
		    size_t off, const char *what, unsigned long max,
		    unsigned long *out)
{
	int ret = parse_num(s, max, out);

	if (ret == -1)
		return bad_at(st, w, off, "bad %s '%s', expected a number", what, s);
	if (ret == -2)
		return bad_at(st, w, off, "%s %s out of range (0..%lu)",
			      what, s, max);
	return 0;
}

static const char *proto_name(__u8 p, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].num == p)
			return protos[i].name;
	snprintf(buf, size, "proto %u", p);
	return buf;
}

static int proto_by_name(const char *s)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (!strcmp(s, protos[i].name))
			return protos[i].num;
	return -1;
}

static int is_icmp_proto(__u8 p)
{
	return p == 1 || p == 58;
}

/* The datapath reads ports of TCP, UDP and SCTP only (ffpf_has_ports). */
static int has_ports(__u8 p)
{
	return p == 6 || p == 17 || p == 132;
}

static void mask_prefix(__u8 addr[16], int plen)
{
	for (int i = 0; i < 16; i++) {
		int bits = plen - i * 8;

		if (bits <= 0)
			addr[i] = 0;
		else if (bits < 8)
			addr[i] &= (__u8)(0xff << (8 - bits));
	}
}

/* Do two prefixes differ within their common length? */
static int prefix_disjoint(const __u8 *a, int alen, const __u8 *b, int blen)
{
	int n = alen < blen ? alen : blen;
	int bytes = n / 8, bits = n % 8;

	if (memcmp(a, b, bytes))
		return 1;
	if (bits) {
		__u8 m = (__u8)(0xff << (8 - bits));

		return (a[bytes] & m) != (b[bytes] & m);
	}
	return 0;
}

/* 4 if the prefix holds only IPv4 (mapped), 6 if no IPv4, else 0. */
static int prefix_family(const __u8 *addr, int plen)
{
	if (plen >= 96 && !memcmp(addr, v4mapped, 12))
		return 4;
	if (prefix_disjoint(addr, plen, v4mapped, 96))
		return 6;
	return 0;
}

static const __u8 *addr_of(const struct ffpf_match_cfg *c, __u32 field,
			   int *plen)
{
	switch (field) {
	case FFPF_M_SRC:
		*plen = c->src_plen;
		return c->src;
	case FFPF_M_DST:
		*plen = c->dst_plen;
		return c->dst;
	default:
		*plen = c->any_plen;
		return c->any;
	}
}

/* Which IP versions the address constraints of @c require: bit v. */
static unsigned addr_versions(const struct ffpf_match_cfg *c)
{
	static const __u32 fields[] = { FFPF_M_SRC, FFPF_M_DST, FFPF_M_ANYADDR };
	unsigned vers = 0;

	for (int i = 0; i < 3; i++) {
		const __u8 *a;
		int plen;

		if (!(c->fields & fields[i]))
			continue;
		a = addr_of(c, fields[i], &plen);
		vers |= 1u << prefix_family(a, plen);
	}
	return vers & ~1u;	/* family 0 requires nothing */
}

/* A term labelled @what requires IP version @v: does anything disagree? */
static int check_ver(struct mstate *st, const struct word *w, int v,
		     const char *what)
{
	const struct ffpf_match_cfg *c = st->cfg;
	int other = v == 4 ? 6 : 4;

	if ((c->fields & FFPF_M_IPVER) && c->ip_ver != v)
		return bad(st, w, "%s conflicts with earlier %s", what, st->ver_by);
	if (addr_versions(c) & (1u << other))
		return bad(st, w, "%s conflicts with earlier IPv%d address",
			   what, other);
	if (v == 6 && st->icmp_name)
		return bad(st, w, "%s conflicts with earlier icmp-type %s (ICMPv4)",
			   what, st->icmp_name);
	return 0;
}

static int set_ipver(struct mstate *st, const struct word *w, int v,
		     const char *what)
{
	int ret = check_ver(st, w, v, what);

	if (ret)
		return ret;
	if (!(st->cfg->fields & FFPF_M_IPVER))
		st->ver_by = what;	/* a string literal: it outlives the term */
	st->cfg->fields |= FFPF_M_IPVER;
	st->cfg->ip_ver = v;
	return 0;
}

static int set_proto(struct mstate *st, const struct word *w, __u8 p,
		     const char *what)
{
	struct ffpf_match_cfg *c = st->cfg;
	char buf[16];

	if ((c->fields & FFPF_M_PROTO) && c->l4_proto != p)
		return bad(st, w, "%s conflicts with earlier %s", what,
			   proto_name(c->l4_proto, buf, sizeof(buf)));
	if (!has_ports(p) && (c->fields & PORT_FIELDS))
		return bad(st, w, "%s conflicts with earlier port constraint", what);
	if (!is_icmp_proto(p) && (c->fields & FFPF_M_ICMPTYPE))
		return bad(st, w, "%s conflicts with earlier icmp-type", what);
	if (is_icmp_proto(p)) {
		int ret = set_ipver(st, w, p == 1 ? 4 : 6, p == 1 ? "icmp" : "icmp6");

		if (ret)
			return ret;
	}
	c->fields |= FFPF_M_PROTO;
	c->l4_proto = p;
	return 0;
}

static __u32 dir_field(enum dir d, __u32 src, __u32 dst, __u32 any)
{
	return d == D_SRC ? src : d == D_DST ? dst : any;
}

/* [src|dst] host ADDR | [src|dst] net ADDR/LEN */
static int term_addr(struct mstate *st, enum dir d, const struct word *kw,
		     const struct word *w, int is_net)
{
	struct ffpf_match_cfg *c = st->cfg;
	__u32 field = dir_field(d, FFPF_M_SRC, FFPF_M_DST, FFPF_M_ANYADDR);
	char text[WORD_LEN];
	__u8 addr[16], *dst, *dst_plen;
	char *slash;
	int plen, fam, lit_fam, ret;

	if (!w)
		return bad(st, kw, "%s needs an address", kw->s);
	strcpy(text, w->s);
	slash = strchr(text, '/');
	if (slash && !is_net)
		return bad(st, w, "bad address '%s' (use 'net' for a prefix)", w->s);
	if (!slash && is_net)
		return bad(st, w, "expected ADDR/LEN after 'net', found '%s'", w->s);
	if (slash)
		*slash = '\0';

	if (inet_pton(AF_INET, text, addr + 12) == 1) {
		memcpy(addr, v4mapped, 12);
		fam = 4;
	} else if (inet_pton(AF_INET6, text, addr) == 1) {
		fam = 6;
	} else {
		return bad(st, w, "bad address '%s'", text);
	}
	lit_fam = fam;
	plen = 128;
	if (slash) {
		unsigned long len;
		char what[24];

		snprintf(what, sizeof(what), "IPv%d prefix length", fam);
		ret = num_word(st, w, slash + 1, slash + 1 - text, what,
			       fam == 4 ? 32 : 128, &len);
		if (ret)
			return ret;
		plen = fam == 4 ? 96 + (int)len : (int)len;
	}
	mask_prefix(addr, plen);
	/* ::ffff:a.b.c.d/96+ is how IPv4 is stored: it names IPv4 packets */
	if (fam == 6 && plen >= 96 && !memcmp(addr, v4mapped, 12))
		lit_fam = 4;

	if (c->fields & field)
		return bad(st, kw, "duplicate %saddress constraint", dir_word[d]);
	fam = prefix_family(addr, plen);
	if (fam) {
		ret = check_ver(st, w, fam, fam == 4 ? "IPv4 address" : "IPv6 address");
		if (ret)
			return ret;
	}

	switch (field) {
	case FFPF_M_SRC:
		dst = c->src;
		dst_plen = &c->src_plen;
		break;
	case FFPF_M_DST:
		dst = c->dst;
		dst_plen = &c->dst_plen;
		break;
	default:
		dst = c->any;
		dst_plen = &c->any_plen;
		break;
	}
	memcpy(dst, addr, 16);
	*dst_plen = plen;
	c->fields |= field;
	/*
	 * The literal's family decides the IP version: addresses are stored
	 * v4-mapped, so without this an IPv6 packet carrying ::ffff:a.b.c.d
	 * would match an IPv4 host, and `net ::/0` would match IPv4 too.
	 */
	return set_ipver(st, w, lit_fam, lit_fam == 4 ? "IPv4 address" : "IPv6 address");
}

/* [src|dst] port N[-M] | [src|dst] portrange N-M */
static int term_port(struct mstate *st, enum dir d, const struct word *kw,
		     const struct word *w, int is_range)
{
	struct ffpf_match_cfg *c = st->cfg;
	__u32 field = dir_field(d, FFPF_M_SPORT, FFPF_M_DPORT, FFPF_M_ANYPORT);
	char text[WORD_LEN], buf[16];
	unsigned long lo, hi;
	char *dash;
	int ret;

	if (!w)
		return bad(st, kw, "%s needs a %s", kw->s,
			   is_range ? "range N-M" : "number");
	strcpy(text, w->s);
	dash = strchr(text, '-');
	if (!dash && is_range)
		return bad(st, w, "expected N-M after 'portrange', found '%s'", w->s);
	if (dash)
		*dash = '\0';
	ret = num_word(st, w, text, 0, "port", 65535, &lo);
	if (ret)
		return ret;
	hi = lo;
	if (dash) {
		ret = num_word(st, w, dash + 1, dash + 1 - text, "port", 65535, &hi);
		if (ret)
			return ret;
		if (lo > hi)
			return bad(st, w, "bad port range '%s' (%lu is above %lu)",
				   w->s, lo, hi);
	}

	if (c->fields & field)
		return bad(st, kw, "duplicate %sport constraint", dir_word[d]);
	if ((c->fields & FFPF_M_PROTO) && !has_ports(c->l4_proto))
		return bad(st, kw, "port conflicts with earlier %s (no ports)",
			   proto_name(c->l4_proto, buf, sizeof(buf)));
	if (c->fields & FFPF_M_ICMPTYPE)
		return bad(st, kw, "port conflicts with earlier icmp-type");

	switch (field) {
	case FFPF_M_SPORT:
		c->sport_lo = lo;
		c->sport_hi = hi;
		break;
	case FFPF_M_DPORT:
		c->dport_lo = lo;
		c->dport_hi = hi;
		break;
	default:
		c->port_lo = lo;
		c->port_hi = hi;
		break;
	}
	c->fields |= field;
	return 0;
}

/* Letters F S R P A U E C, any case; NULL return on a bad letter. */
static const char *tcp_flag_bits(const char *s, __u8 *out)
{
	static const char letters[] = "FSRPAUEC";
	__u8 v = 0;

	if (!*s)
		return s;
	for (; *s; s++) {
		char u = *s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s;
		const char *l = u ? strchr(letters, u) : NULL;

		if (!l)
			return s;
		v |= 1u << (l - letters);
	}
	*out = v;
	return NULL;
}

/* flags VALUE[/MASK]; the mask defaults to the value. */
static int term_flags(struct mstate *st, const struct word *kw,
		      const struct word *w)
{
	struct ffpf_match_cfg *c = st->cfg;
	char text[WORD_LEN];
	const char *badp, *mask_s = NULL;
	__u8 value, mask;
	char *slash;
	int ret;

	if (!w)
		return bad(st, kw, "flags needs a value, e.g. 'S' or 'S/SA'");
	strcpy(text, w->s);
	slash = strchr(text, '/');
	if (slash) {
		*slash = '\0';
		mask_s = slash + 1;
	}
	badp = tcp_flag_bits(text, &value);
	if (badp)
		return bad_at(st, w, badp - text,
			      "bad tcp flags '%s' (letters F S R P A U E C)", text);
	mask = value;
	if (mask_s) {
		badp = tcp_flag_bits(mask_s, &mask);
		if (badp)
			return bad_at(st, w, badp - text,
				      "bad tcp flags mask '%s' (letters F S R P A U E C)",
				      mask_s);
		if (value & ~mask)
			return bad(st, w, "tcp flags value '%s' has bits outside mask '%s'",
				   text, mask_s);
	}

	if (c->fields & FFPF_M_TCPFLAGS)
		return bad(st, kw, "duplicate tcp flags constraint");
	ret = set_proto(st, kw, 6, "tcp flags");
	if (ret)
		return ret;
	c->tcp_value = value;
	c->tcp_mask = mask;
	c->fields |= FFPF_M_TCPFLAGS;
	return 0;
}

static int term_vlan(struct mstate *st, const struct word *kw,
		     const struct word *w)
{
	struct ffpf_match_cfg *c = st->cfg;
	unsigned long id;
	int ret;

	if (c->fields & (FFPF_M_VLAN | FFPF_M_ANYVLAN))
		return bad(st, kw, "duplicate vlan constraint");
	if (!w) {
		c->fields |= FFPF_M_ANYVLAN;
		return 0;
	}
	ret = num_word(st, w, w->s, 0, "vlan id", 4095, &id);
	if (ret)
		return ret;
	c->vlan_id = id;
	c->fields |= FFPF_M_VLAN;
	return 0;
}

static int term_icmp_type(struct mstate *st, const struct word *kw,
			  const struct word *w)
{
	struct ffpf_match_cfg *c = st->cfg;
	const char *name = NULL;
	unsigned long type;
	char buf[16];
	int ret;

	if (!w)
		return bad(st, kw, "icmp-type needs a number or echo-request/echo-reply");
	if (!strcmp(w->s, "echo-request")) {
		name = "echo-request";
		type = 8;
	} else if (!strcmp(w->s, "echo-reply")) {
		name = "echo-reply";
		type = 0;
	} else {
		ret = num_word(st, w, w->s, 0, "icmp type", 255, &type);
		if (ret)
			return ret;
	}

	if (c->fields & FFPF_M_ICMPTYPE)
		return bad(st, kw, "duplicate icmp-type constraint");
	if ((c->fields & FFPF_M_PROTO) && !is_icmp_proto(c->l4_proto))
		return bad(st, kw, "icmp-type conflicts with earlier %s",
			   proto_name(c->l4_proto, buf, sizeof(buf)));
	if (c->fields & PORT_FIELDS)
		return bad(st, kw, "icmp-type conflicts with earlier port constraint");
	if (name) {
		/* The names are ICMPv4 numbers: refuse them for IPv6. */
		ret = check_ver(st, w, 4, name);
		if (ret)
			return ret;
		st->icmp_name = name;
	}
	c->icmp_type = type;
	c->fields |= FFPF_M_ICMPTYPE;
	return 0;
}

/* proto N | proto NAME */
static int term_proto(struct mstate *st, const struct word *kw,
		      const struct word *w)
{
	char what[WORD_LEN + 8];
	unsigned long p;
	int ret, num;

	if (!w)
		return bad(st, kw, "proto needs a number or a name");
	snprintf(what, sizeof(what), "proto %s", w->s);
	num = proto_by_name(w->s);
	if (num >= 0)
		return set_proto(st, kw, num, what);
	if (w->s[0] < '0' || w->s[0] > '9')
		return bad(st, w, "unknown protocol '%s' (a number 0..255 or "
			   "tcp, udp, icmp, icmp6, sctp, gre)", w->s);
	ret = num_word(st, w, w->s, 0, "protocol", 255, &p);
	if (ret)
		return ret;
	return set_proto(st, kw, p, what);
}

static int parse_term(struct mstate *st, const struct ffpf_spec_arg *a)
{
	struct word w[MAX_WORDS];
	const struct word *kw, *next;
	enum dir d = D_ANY;
	int n, i = 0, used, ret, p;
	const char *k;

	n = split_words(a, w, st->err);
	if (n < 0)
		return n;
	if (n == 0)
		return set_err(st->err, a->line, a->col, "empty match term");

	if (!strcmp(w[0].s, "src") || !strcmp(w[0].s, "dst")) {
		d = w[0].s[0] == 's' ? D_SRC : D_DST;
		if (n < 2)
			return bad(st, &w[0], "expected host, net, port or portrange after '%s'",
				   w[0].s);
		i = 1;
	}
	kw = &w[i];
	k = kw->s;
	next = i + 1 < n ? &w[i + 1] : NULL;
	used = i + 1;

	if (!strcmp(k, "host") || !strcmp(k, "net")) {
		ret = term_addr(st, d, kw, next, k[0] == 'n');
		used++;
	} else if (!strcmp(k, "port") || !strcmp(k, "portrange")) {
		ret = term_port(st, d, kw, next, k[4] == 'r');
		used++;
	} else if (d != D_ANY) {
		return bad(st, kw, "expected host, net, port or portrange after '%s', found '%s'",
			   w[0].s, k);
	} else if (!strcmp(k, "ip") || !strcmp(k, "ip4")) {
		ret = set_ipver(st, kw, 4, !strcmp(k, "ip") ? "ip" : "ip4");
	} else if (!strcmp(k, "ip6")) {
		ret = set_ipver(st, kw, 6, "ip6");
	} else if (!strcmp(k, "tcp") && next && !strcmp(next->s, "flags")) {
		ret = term_flags(st, kw, i + 2 < n ? &w[i + 2] : NULL);
		used += 2;
	} else if (!strcmp(k, "flags") || !strcmp(k, "tcp-flags")) {
		ret = term_flags(st, kw, next);
		used++;
	} else if ((p = proto_by_name(k)) >= 0) {
		ret = set_proto(st, kw, p, k);
	} else if (!strcmp(k, "proto")) {
		ret = term_proto(st, kw, next);
		used++;
	} else if (!strcmp(k, "vlan")) {
		ret = term_vlan(st, kw, next);
		used++;
	} else if (!strcmp(k, "icmp-type")) {
		ret = term_icmp_type(st, kw, next);
		used++;
	} else {
		return bad(st, kw, "unknown match term '%s' (known: ip, ip6, tcp, udp, "
			   "icmp, icmp6, sctp, gre, proto, [src|dst] host/net/port/"
			   "portrange, flags, vlan, icmp-type)", k);
	}
	if (ret)
		return ret;
	if (used < n)
		return bad(st, &w[used], "unexpected '%s' after '%s'", w[used].s, k);
	return 0;
}

int ffpf_match_parse_args(const struct ffpf_spec_filter *f,
			  struct ffpf_match_cfg *cfg, struct ffpf_spec_error *err)
{
	struct mstate st = { .cfg = cfg, .err = err };
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	for (int i = 0; i < f->nargs; i++) {
		ret = parse_term(&st, &f->args[i]);
		if (ret)
			return ret;
	}
	return 0;
}

int ffpf_sample_parse_args(const struct ffpf_spec_filter *f, __u32 *every,
			   struct ffpf_spec_error *err)
{
	const struct ffpf_spec_arg *a = &f->args[0];
	unsigned long v;
	int ret;

	if (f->nargs == 0)
		return set_err(err, f->line, f->col,
			       "sample needs one argument: sample(N) passes 1 packet in N");
	if (f->nargs > 1)
		return set_err(err, f->args[1].line, f->args[1].col,
			       "sample takes one argument, found %d", f->nargs);
	ret = parse_num(a->text, 2147483647, &v);
	if (ret == -1)
		return set_err(err, a->line, a->col,
			       "bad sample rate '%s', expected a number", a->text);
	if (ret == -2 || v == 0)
		return set_err(err, a->line, a->col,
			       "sample rate %s out of range (1..2147483647)", a->text);
	*every = v;
	return 0;
}

int ffpf_count_parse_args(const struct ffpf_spec_filter *f,
			  struct ffpf_spec_error *err)
{
	if (f->nargs)
		return set_err(err, f->args[0].line, f->args[0].col,
			       "count takes no arguments, found '%s'",
			       f->args[0].text);
	return 0;
}

/* Line and column of byte @off of argument @a (its text may span lines). */
static void arg_pos(const struct ffpf_spec_arg *a, size_t off, int *line, int *col)
{
	*line = a->line;
	*col = a->col;
	for (size_t i = 0; i < off && a->text[i]; i++) {
		if (a->text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int arg_err(struct ffpf_spec_error *err, const struct ffpf_spec_arg *a,
		   size_t off, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int arg_err(struct ffpf_spec_error *err, const struct ffpf_spec_arg *a,
		   size_t off, const char *fmt, ...)
{
	va_list ap;
	int line = 0, col = 0;

	if (err)
		arg_pos(a, off, &line, &col);
	va_start(ap, fmt);
	vset_err(err, line, col, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int ffpf_flowtrack_parse_args(const struct ffpf_spec_filter *f,
			      struct ffpf_ft_cfg *cfg, struct ffpf_spec_error *err)
{
	static const struct {
		const char *name;
		const char *what;	/* the value, for "needs ..." */
		unsigned long lo, hi;
	} keys[] = {
		{ "size", "a number of table entries", 16, 16777216 },
		{ "idle", "a timeout in seconds", 1, 86400 },
		{ "active", "a timeout in seconds (0: none)", 0, 86400 },
		{ "index", "0 or 1", 0, 1 },
	};
	unsigned long v[4] = { FFPF_FT_SIZE_DEFAULT,
			       FFPF_FT_IDLE_DEFAULT_NS / 1000000000ULL, 0, 0 };
	unsigned given = 0;

	for (int i = 0; i < f->nargs; i++) {
		const struct ffpf_spec_arg *a = &f->args[i];
		const char *t = a->text, *eq = strchr(t, '='), *val;
		size_t nlen, k;
		int ret;

		if (!eq)
			return arg_err(err, a, 0, "expected size=N, idle=SECONDS, "
				       "active=SECONDS or index=0|1, found '%s'", t);
		nlen = eq - t;
		while (nlen && is_blank(t[nlen - 1]))
			nlen--;
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (strlen(keys[k].name) == nlen && !strncmp(t, keys[k].name, nlen))
				break;
		if (k == sizeof(keys) / sizeof(keys[0]))
			return arg_err(err, a, 0, "unknown flowtrack argument '%.*s' "
				       "(known: size, idle, active, index)", (int)nlen, t);
		if (given & (1u << k))
			return arg_err(err, a, 0, "duplicate flowtrack argument '%s'",
				       keys[k].name);
		given |= 1u << k;
		val = eq + 1;
		while (is_blank(*val))
			val++;
		if (!*val)
			return arg_err(err, a, eq + 1 - t, "%s= needs %s",
				       keys[k].name, keys[k].what);
		ret = parse_num(val, keys[k].hi, &v[k]);
		if (ret == -1)
			return arg_err(err, a, val - t, "bad %s '%s', expected a number",
				       keys[k].name, val);
		if (ret == -2 || v[k] < keys[k].lo)
			return arg_err(err, a, val - t, "flowtrack %s %s out of range (%lu..%lu)",
				       keys[k].name, val, keys[k].lo, keys[k].hi);
	}
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = v[0];
	cfg->idle_ns = v[1] * 1000000000ULL;
	cfg->active_ns = v[2] * 1000000000ULL;
	cfg->flags = v[3] ? FFPF_FT_F_INDEX : 0;
	return 0;
}

/* --- payload ------------------------------------------------------------- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The double-quoted pattern @a into @out: its length in bytes, or -EINVAL. */
static int payload_pattern(const struct ffpf_spec_arg *a, __u8 *out,
			   struct ffpf_spec_error *err)
{
	const char *t = a->text;
	size_t i = 1;
	int n = 0;

	while (t[i] && t[i] != '"') {
		size_t at = i;
		int c = (unsigned char)t[i++];

		if (c == '\\') {
			int hi, lo;

			switch (t[i]) {
			case 'x':
				hi = hex_digit(t[i + 1]);
				lo = hi < 0 ? -1 : hex_digit(t[i + 2]);
				if (lo < 0)
					return arg_err(err, a, at, "bad escape: \\x needs two "
						       "hex digits, as in \\x90");
				c = hi << 4 | lo;
				i += 3;
				break;
			case '\\': case '"':
				c = t[i++];
				break;
			case 'n': c = '\n'; i++; break;
			case 'r': c = '\r'; i++; break;
			case 't': c = '\t'; i++; break;
			case '0': c = 0; i++; break;
			default:
				return arg_err(err, a, at, "unknown escape '\\%c' in a pattern "
					       "(known: \\xHH \\\\ \\\" \\n \\r \\t \\0)", t[i]);
			}
		}
		if (n == FFPF_PL_MAX_PATLEN)
			return arg_err(err, a, at, "pattern longer than %d bytes",
				       FFPF_PL_MAX_PATLEN);
		out[n++] = c;
	}
	if (t[i] != '"')
		return arg_err(err, a, 0, "pattern without its closing '\"'");
	if (t[i + 1])
		return arg_err(err, a, i + 1, "unexpected '%s' after the pattern's "
			       "closing quote", t + i + 1);
	if (!n)
		return arg_err(err, a, 0, "empty pattern");
	return n;
}

int ffpf_payload_parse_args(const struct ffpf_spec_filter *f,
			    struct ffpf_payload_cfg *cfg, struct ffpf_spec_error *err)
{
	static const char *const keys[] = { "depth", "offset" };
	unsigned long v[2] = { FFPF_PL_DEPTH_DEFAULT, 0 }, lo[2] = { 1, 0 };
	unsigned given = 0;

	memset(cfg, 0, sizeof(*cfg));
	for (int i = 0; i < f->nargs; i++) {
		const struct ffpf_spec_arg *a = &f->args[i];
		const char *t = a->text, *eq = strchr(t, '='), *val;
		size_t nlen, k;
		int ret;

		if (t[0] == '"') {
			if (cfg->npat == FFPF_PL_MAX_PATTERNS)
				return arg_err(err, a, 0, "too many patterns (max %d)",
					       FFPF_PL_MAX_PATTERNS);
			ret = payload_pattern(a, cfg->pat[cfg->npat], err);
			if (ret < 0)
				return ret;
			cfg->len[cfg->npat++] = ret;
			continue;
		}
		if (!eq)
			return arg_err(err, a, 0, "expected a double-quoted pattern, "
				       "depth=N or offset=N, found '%s'", t);
		nlen = eq - t;
		while (nlen && is_blank(t[nlen - 1]))
			nlen--;
		for (k = 0; k < 2; k++)
			if (strlen(keys[k]) == nlen && !strncmp(t, keys[k], nlen))
				break;
		if (k == 2)
			return arg_err(err, a, 0, "unknown payload argument '%.*s' "
				       "(known: depth, offset)", (int)nlen, t);
		if (given & (1u << k))
			return arg_err(err, a, 0, "duplicate payload argument '%s'", keys[k]);
		given |= 1u << k;
		val = eq + 1;
		while (is_blank(*val))
			val++;
		if (!*val)
			return arg_err(err, a, eq + 1 - t, "%s= needs a number of bytes",
				       keys[k]);
		ret = parse_num(val, FFPF_PL_DEPTH_MAX, &v[k]);
		if (ret == -1)
			return arg_err(err, a, val - t, "bad %s '%s', expected a number",
				       keys[k], val);
		if (ret == -2 || v[k] < lo[k])
			return arg_err(err, a, val - t, "payload %s %s out of range (%lu..%d)",
				       keys[k], val, lo[k], FFPF_PL_DEPTH_MAX);
	}
	if (!cfg->npat)
		return set_err(err, f->line, f->col, "payload needs at least one "
			       "pattern, as in payload(\"GET /\", depth=256)");
	cfg->depth = v[0];
	cfg->offset = v[1];
	return 0;
}

static int ranges_disjoint(__u16 alo, __u16 ahi, __u16 blo, __u16 bhi)
{
	return ahi < blo || bhi < alo;
}

static int prefixes_disjoint(const struct ffpf_match_cfg *a, __u32 af,
			     const struct ffpf_match_cfg *b, __u32 bf)
{
	const __u8 *pa, *pb;
	int la, lb;

	pa = addr_of(a, af, &la);
	pb = addr_of(b, bf, &lb);
	return prefix_disjoint(pa, la, pb, lb);
}

/*
 * @a's "source or destination" port/address cannot match a packet whose
 * source and destination are both pinned by @b outside it.
 */
static int any_excluded(const struct ffpf_match_cfg *a,
			const struct ffpf_match_cfg *b)
{
	if ((a->fields & FFPF_M_ANYPORT) &&
	    (b->fields & FFPF_M_SPORT) && (b->fields & FFPF_M_DPORT) &&
	    ranges_disjoint(a->port_lo, a->port_hi, b->sport_lo, b->sport_hi) &&
	    ranges_disjoint(a->port_lo, a->port_hi, b->dport_lo, b->dport_hi))
		return 1;
	if ((a->fields & FFPF_M_ANYADDR) &&
	    (b->fields & FFPF_M_SRC) && (b->fields & FFPF_M_DST) &&
	    prefixes_disjoint(a, FFPF_M_ANYADDR, b, FFPF_M_SRC) &&
	    prefixes_disjoint(a, FFPF_M_ANYADDR, b, FFPF_M_DST))
		return 1;
	return 0;
}

/* Can @c accept a packet whose L4 protocol is @p (as match.h tests it)? */
static int accepts_proto(const struct ffpf_match_cfg *c, __u8 p)
{
	if ((c->fields & FFPF_M_PROTO) && c->l4_proto != p)
		return 0;
	if ((c->fields & PORT_FIELDS) && !has_ports(p))
		return 0;
	if ((c->fields & FFPF_M_TCPFLAGS) && p != 6)
		return 0;
	if ((c->fields & FFPF_M_ICMPTYPE) && !is_icmp_proto(p))
		return 0;
	return 1;
}

/* Both need an L4 protocol (so an IP packet): is there one they share? */
static int protos_disjoint(const struct ffpf_match_cfg *a,
			   const struct ffpf_match_cfg *b)
{
	if (!(a->fields & L4_FIELDS) || !(b->fields & L4_FIELDS))
		return 0;
	for (int p = 0; p < 256; p++)
		if (accepts_proto(a, p) && accepts_proto(b, p))
			return 0;
	return 1;
}

static unsigned versions(const struct ffpf_match_cfg *c)
{
	unsigned v = addr_versions(c);

	if ((c->fields & FFPF_M_IPVER) && (c->ip_ver == 4 || c->ip_ver == 6))
		v |= 1u << c->ip_ver;
	return v & ((1u << 4) | (1u << 6));
}

int ffpf_match_may_overlap(const struct ffpf_match_cfg *a,
			   const struct ffpf_match_cfg *b)
{
	__u32 both;
	unsigned va, vb;

	if (!a || !b)
		return 1;
	both = a->fields & b->fields;

	/*
	 * One IP version per packet. Taking a v4-mapped prefix to mean IPv4
	 * assumes no IPv6 header carries ::ffff:a.b.c.d (parse.h copies
	 * IPv6 addresses as they are).
	 */
	va = versions(a);
	vb = versions(b);
	if (((va & (1u << 4)) && (vb & (1u << 6))) ||
	    ((va & (1u << 6)) && (vb & (1u << 4))))
		return 0;
	if (protos_disjoint(a, b))
		return 0;
	if ((both & FFPF_M_SPORT) &&
	    ranges_disjoint(a->sport_lo, a->sport_hi, b->sport_lo, b->sport_hi))
		return 0;
	if ((both & FFPF_M_DPORT) &&
	    ranges_disjoint(a->dport_lo, a->dport_hi, b->dport_lo, b->dport_hi))
		return 0;
	if ((both & FFPF_M_SRC) && prefixes_disjoint(a, FFPF_M_SRC, b, FFPF_M_SRC))
		return 0;
	if ((both & FFPF_M_DST) && prefixes_disjoint(a, FFPF_M_DST, b, FFPF_M_DST))
		return 0;
	if (any_excluded(a, b) || any_excluded(b, a))
		return 0;
	if ((both & FFPF_M_TCPFLAGS) &&
	    ((a->tcp_value ^ b->tcp_value) & a->tcp_mask & b->tcp_mask))
		return 0;
	if ((both & FFPF_M_ICMPTYPE) && a->icmp_type != b->icmp_type)
		return 0;
	/*
	 * Different VLAN ids are not disjoint: FFPF_M_VLAN tests every tag,
	 * so a QinQ packet tagged with both ids matches both.
	 */
	return 1;
}

/* --- prefixset (issue 5) ------------------------------------------------ */

int ffpf_prefix_parse(const char *text, struct ffpf_prefixset_key *key,
		      char *why, size_t whylen, size_t *off)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long len;
	int fam, ret;

	*off = 0;
	memset(key, 0, sizeof(*key));
	if (!alen || alen >= INET6_ADDRSTRLEN) {
		snprintf(why, whylen, "bad prefix '%s', expected ADDR/LEN or ADDR", text);
		return -EINVAL;
	}
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, key->addr + 12) == 1) {
		memcpy(key->addr, v4mapped, 12);
		fam = 4;
	} else if (inet_pton(AF_INET6, buf, key->addr) == 1) {
		fam = 6;
	} else {
		snprintf(why, whylen, "bad address '%s' in prefix", buf);
		return -EINVAL;
	}
	len = fam == 4 ? 32 : 128;
	if (slash) {
		ret = parse_num(slash + 1, fam == 4 ? 32 : 128, &len);
		if (ret) {
			*off = slash + 1 - text;
			if (ret == -1)
				snprintf(why, whylen, "bad IPv%d prefix length '%s', expected "
					 "a number", fam, slash + 1);
			else
				snprintf(why, whylen, "IPv%d prefix length %s out of range "
					 "(0..%d)", fam, slash + 1, fam == 4 ? 32 : 128);
			return -EINVAL;
		}
	}
	key->prefixlen = fam == 4 ? 96 + len : len;
	mask_prefix(key->addr, key->prefixlen);
	return 0;
}

void ffpf_prefix_format(const struct ffpf_prefixset_key *key, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (key->prefixlen >= 96 && !memcmp(key->addr, v4mapped, 12)) {
		inet_ntop(AF_INET, key->addr + 12, a, sizeof(a));
		snprintf(buf, len, "%s/%u", a, key->prefixlen - 96);
	} else {
		inet_ntop(AF_INET6, key->addr, a, sizeof(a));
		snprintf(buf, len, "%s/%u", a, key->prefixlen);
	}
}

int ffpf_prefixset_parse_args(const struct ffpf_spec_filter *f,
			      struct ffpf_prefixset_args *out,
			      struct ffpf_spec_error *err)
{
	static const char *const dirs[] = { "src", "dst", "either" };
	int sized = 0;

	memset(out, 0, sizeof(*out));
	out->cfg.size = FFPF_PS_SIZE_DEFAULT;
	if (f->nargs < 1)
		return set_err(err, f->line, f->col, "prefixset needs a direction "
			       "(src, dst or either) and a mode (allow or deny)");
	for (int d = 0; d < 3; d++)
		if (!strcmp(f->args[0].text, dirs[d]))
			out->cfg.dir = d + 1;	/* FFPF_PS_SRC, _DST, _EITHER */
	if (!out->cfg.dir)
		return arg_err(err, &f->args[0], 0, "expected src, dst or either, found '%s'",
			       f->args[0].text);
	if (f->nargs < 2)
		return set_err(err, f->line, f->col, "prefixset needs a mode after the "
			       "direction: allow or deny");
	if (!strcmp(f->args[1].text, "allow"))
		out->cfg.mode = FFPF_PS_ALLOW;
	else if (!strcmp(f->args[1].text, "deny"))
		out->cfg.mode = FFPF_PS_DENY;
	else
		return arg_err(err, &f->args[1], 0, "expected allow or deny, found '%s'",
			       f->args[1].text);
	for (int i = 2; i < f->nargs; i++) {
		const struct ffpf_spec_arg *a = &f->args[i];
		char why[160];
		size_t off;

		if (!strncmp(a->text, "size", 4) && strchr(a->text, '=')) {
			const char *val = strchr(a->text, '=') + 1;
			unsigned long v;
			int ret;

			for (const char *q = a->text + 4; q < val - 1; q++)
				if (!is_blank(*q))
					return arg_err(err, a, 0, "unknown prefixset argument "
						       "'%.*s' (known: size)",
						       (int)(val - 1 - a->text), a->text);
			if (sized)
				return arg_err(err, a, 0, "duplicate prefixset argument 'size'");
			sized = 1;
			while (is_blank(*val))
				val++;
			ret = parse_num(val, FFPF_PS_SIZE_MAX, &v);
			if (ret == -1)
				return arg_err(err, a, val - a->text, "bad size '%s', expected "
					       "a number of prefixes", val);
			if (ret == -2 || v < 1)
				return arg_err(err, a, val - a->text, "prefixset size %s out "
					       "of range (1..%d)", val, FFPF_PS_SIZE_MAX);
			out->cfg.size = v;
			continue;
		}
		if (out->n == FFPF_PS_INIT_MAX)
			return arg_err(err, a, 0, "too many prefixes in the spec (at most %d): "
				       "add more with ffpf-bpf set", FFPF_PS_INIT_MAX);
		if (ffpf_prefix_parse(a->text, &out->init[out->n], why, sizeof(why), &off))
			return arg_err(err, a, off, "%s", why);
		out->n++;
	}
	return 0;
}

/* --- bpf ---------------------------------------------------------------- */
#include <stdlib.h>
#include "cbpf.h"
#include "cbpf_compile.h"

int ffpf_bpf_check_expr(const char *expr, char *why, size_t whylen)
{
	struct sock_filter *c = NULL;
	struct bpf_insn *e = NULL;
	char msg[200] = "";
	int n, ne, ret;

	n = ffpf_cbpf_compile_insns(expr, FFPF_BPF_SNAPLEN, &c, msg, sizeof(msg));
	if (n < 0) {
		snprintf(why, whylen, "bad pcap-filter expression: %s", msg);
		return n;
	}
	ret = ffpf_cbpf_to_ebpf(c, n, NULL, &e, &ne, msg, sizeof(msg));
	if (ret)
		snprintf(why, whylen, "expression not supported by the translator: %s", msg);
	free(c);
	free(e);
	return ret;
}

int ffpf_bpf_parse_args(const struct ffpf_spec_filter *f, struct ffpf_bpf_cfg *cfg,
			struct ffpf_spec_error *err)
{
	const struct ffpf_spec_arg *a = &f->args[0];
	const char *t;
	char why[256];
	size_t i = 1, n = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (f->nargs != 1)
		return set_err(err, f->nargs ? f->args[1].line : f->line,
			       f->nargs ? f->args[1].col : f->col,
			       "bpf takes one double-quoted pcap-filter expression, "
			       "as in bpf(\"tcp port 80\")");
	t = a->text;
	if (t[0] != '"')
		return arg_err(err, a, 0, "expected a double-quoted pcap-filter "
			       "expression, as in bpf(\"tcp port 80\"), found '%s'", t);
	while (t[i] && t[i] != '"') {
		if (t[i] == '\\' && (t[i + 1] == '"' || t[i + 1] == '\\'))
			i++;
		if (n == sizeof(cfg->expr) - 1)
			return arg_err(err, a, i, "expression longer than %d bytes",
				       FFPF_BPF_EXPR_MAX - 1);
		cfg->expr[n++] = t[i++];
	}
	if (t[i] != '"')
		return arg_err(err, a, 0, "expression without its closing '\"'");
	while (t[++i] && is_blank(t[i]))
		;
	if (t[i])
		return arg_err(err, a, i, "unexpected '%s' after the expression's "
			       "closing quote", t + i);
	/* Compiled now so that `check` reports libpcap's error at the argument. */
	if (ffpf_bpf_check_expr(cfg->expr, why, sizeof(why)))
		return arg_err(err, a, 1, "%s", why);
	return 0;
}

/* --- obj ---------------------------------------------------------------- */
#include "obj.h"

/* The double-quoted string at @a's @off into @out: 0, or -EINVAL (@err set). */
static int obj_quoted(const struct ffpf_spec_arg *a, size_t off, const char *what,
		      char *out, size_t size, struct ffpf_spec_error *err)
{
	const char *t = a->text;
	size_t i = off + 1, n = 0;

	if (t[off] != '"')
		return arg_err(err, a, off, "expected a double-quoted %s, found '%s'",
			       what, t + off);
	while (t[i] && t[i] != '"') {
		if (t[i] == '\\' && (t[i + 1] == '"' || t[i + 1] == '\\'))
			i++;
		if (n == size - 1)
			return arg_err(err, a, off, "%s longer than %zu bytes", what, size - 1);
		out[n++] = t[i++];
	}
	out[n] = 0;
	if (t[i] != '"')
		return arg_err(err, a, off, "%s without its closing '\"'", what);
	while (t[++i] && is_blank(t[i]))
		;
	if (t[i])
		return arg_err(err, a, i, "unexpected '%s' after the %s", t + i, what);
	if (!n)
		return arg_err(err, a, off, "empty %s", what);
	return 0;
}

int ffpf_obj_parse_args(const struct ffpf_spec_filter *f, struct ffpf_obj_cfg *cfg,
			struct ffpf_spec_error *err)
{
	char path[FFPF_OBJ_PATH_MAX], why[512];
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	if (f->nargs < 2 || f->nargs > 3)
		return set_err(err, f->nargs > 3 ? f->args[3].line : f->line,
			       f->nargs > 3 ? f->args[3].col : f->col,
			       "obj takes a double-quoted object file and program name, "
			       "and optionally mbuf=\"MAP\", as in "
			       "obj(\"stage.bpf.o\", \"my_stage\")");
	ret = obj_quoted(&f->args[0], 0, "object file name", path, sizeof(path), err);
	ret = ret ?: obj_quoted(&f->args[1], 0, "program name", cfg->prog,
				sizeof(cfg->prog), err);
	if (ret)
		return ret;
	if (f->nargs == 3) {
		if (strncmp(f->args[2].text, "mbuf=", 5))
			return arg_err(err, &f->args[2], 0, "expected mbuf=\"MAP\", found '%s'",
				       f->args[2].text);
		ret = obj_quoted(&f->args[2], 5, "MBuf map name", cfg->mbuf,
				 sizeof(cfg->mbuf), err);
		if (ret)
			return ret;
		cfg->mbuf_given = 1;
	} else if (snprintf(cfg->mbuf, sizeof(cfg->mbuf), "%s_mbuf", cfg->prog) >=
		   (int)sizeof(cfg->mbuf)) {
		return arg_err(err, &f->args[1], 0, "program name too long");
	}
	if (!realpath(path, cfg->path))
		return arg_err(err, &f->args[0], 1, "%s: %s", path, strerror(errno));
	/* Opened now so that `check` reports a bad object at the argument. */
	ret = ffpf_obj_check(cfg, why, sizeof(why));
	if (ret)
		return arg_err(err, &f->args[strstr(why, "has no program") ? 1 :
					     strstr(why, "has no map") ? 2 : 0], 1, "%s", why);
	return 0;
}
