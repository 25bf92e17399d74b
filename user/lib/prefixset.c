// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * prefixset.c - add, delete and list the prefixes of a `prefixset`
 * filter's LPM trie: through this process's flow, or through the trie
 * pinned beside a pinned flow's MBuf.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <ffpf/prefixset.h>
#include "internal.h"
#include "log.h"

#define PS_MAP	"prefixset_set"

enum ps_op { PS_ADD, PS_DEL };

static int ps_parse(const char *prefix, struct ffpf_prefixset_key *k)
{
	char why[160];
	size_t off;

	if (!prefix)
		return -EINVAL;
	if (ffpf_prefix_parse(prefix, k, why, sizeof(why), &off))
		return ffpf_err(EINVAL, "prefixset: %s\n", why);
	return 0;
}

static int ps_update(int fd, const char *prefix, enum ps_op op)
{
	struct ffpf_prefixset_key k;
	char text[64];
	__u8 one = 1;
	int err = ps_parse(prefix, &k);

	if (err)
		return err;
	ffpf_prefix_format(&k, text, sizeof(text));
	if (op == PS_ADD) {
		if (!bpf_map_update_elem(fd, &k, &one, BPF_ANY))
			return 0;
		err = errno;
		if (err == E2BIG || err == ENOSPC)
			return ffpf_err(ENOSPC, "prefixset: cannot add %s: the set is full "
					"(prefixset(size=N) sets its size)\n", text);
		return ffpf_err(err, "prefixset: cannot add %s: %s\n", text, strerror(err));
	}
	if (!bpf_map_delete_elem(fd, &k))
		return 0;
	err = errno;
	return ffpf_err(err, "prefixset: cannot delete %s: %s\n", text,
			err == ENOENT ? "not in the set" : strerror(err));
}

/* IPv4 (v4-mapped) sorts before IPv6 this way too: ::ffff:0:0/96 is below 2000::/3. */
static int key_cmp(const void *a, const void *b)
{
	const struct ffpf_prefixset_key *x = a, *y = b;
	bool x4 = x->prefixlen >= 96 && !memcmp(x->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
	bool y4 = y->prefixlen >= 96 && !memcmp(y->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
	int c;

	if (x4 != y4)
		return x4 ? -1 : 1;
	c = memcmp(x->addr, y->addr, 16);
	if (c)
		return c;
	return (x->prefixlen > y->prefixlen) - (x->prefixlen < y->prefixlen);
}

static int ps_list(int fd, ffpf_prefixset_cb cb, void *ctx)
{
	struct ffpf_prefixset_key *keys = NULL, k, *prev = NULL;
	size_t n = 0, cap = 0;
	char text[64];
	int ret = 0;

	/* Collect first: the trie's own order is neither stable nor readable. */
	while (!bpf_map_get_next_key(fd, prev, &k)) {
		if (n == cap) {
			struct ffpf_prefixset_key *nk = realloc(keys, (cap = cap * 2 + 64) *
								  sizeof(*keys));
			if (!nk) {
				free(keys);
				return -ENOMEM;
			}
			keys = nk;
		}
		keys[n] = k;
		prev = &keys[n++];
	}
	if (errno != ENOENT) {
		ret = ffpf_err(errno, "prefixset: cannot list the set: %s\n", strerror(errno));
		free(keys);
		return ret;
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (size_t i = 0; i < n && !ret; i++) {
		ffpf_prefix_format(&keys[i], text, sizeof(text));
		ret = cb ? cb(text, ctx) : 0;
	}
	free(keys);
	return ret ? ret : (int)n;
}

int ffpf_prefixset_fill(struct ffpf_stage *st, const struct ffpf_prefixset_key *keys,
			unsigned n)
{
	int fd = ffpf_stage_map_fd(st, PS_MAP);
	__u8 one = 1;

	if (fd < 0)
		return fd;
	for (unsigned i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, &keys[i], &one, BPF_ANY)) {
			char text[64];
			int err = errno == E2BIG ? ENOSPC : errno;

			ffpf_prefix_format(&keys[i], text, sizeof(text));
			return ffpf_err(err, "prefixset: cannot add %s: %s\n", text,
					strerror(err));
		}
	}
	return 0;
}

/* The trie of filter @idx of @flow, or a negative errno. */
static int flow_set_fd(struct ffpf_flow *flow, int idx)
{
	if (!flow || !flow->instantiated || idx < 0 || idx >= flow->nstages)
		return -EINVAL;
	if (strcmp(flow->stages[idx].cls->name, "prefixset"))
		return ffpf_err(EINVAL, "flow %s: filter %d is a %s, not a prefixset\n",
				flow->name, idx, flow->stages[idx].cls->name);
	return ffpf_stage_map_fd(&flow->stages[idx], PS_MAP);
}

int ffpf_prefixset_add(struct ffpf_flow *flow, int filter_idx, const char *prefix)
{
	int fd = flow_set_fd(flow, filter_idx);

	return fd < 0 ? fd : ps_update(fd, prefix, PS_ADD);
}

int ffpf_prefixset_del(struct ffpf_flow *flow, int filter_idx, const char *prefix)
{
	int fd = flow_set_fd(flow, filter_idx);

	return fd < 0 ? fd : ps_update(fd, prefix, PS_DEL);
}

int ffpf_prefixset_list(struct ffpf_flow *flow, int filter_idx,
			ffpf_prefixset_cb cb, void *ctx)
{
	int fd = flow_set_fd(flow, filter_idx);

	return fd < 0 ? fd : ps_list(fd, cb, ctx);
}

/* "1" or "1_prefixset": the filter's index, or -1. */
static int filter_index(const char *s)
{
	char *end;
	long k;

	if (!s || *s < '0' || *s > '9')
		return -1;
	k = strtol(s, &end, 10);
	if (k >= FFPF_MAX_STAGES || (*end && strcmp(end, "_prefixset")))
		return -1;
	return (int)k;
}

/* Open the pinned trie of @filter of pinned flow @name: an fd, or a negative errno. */
static int pinned_set_fd(const char *ifname, const char *name, const char *filter)
{
	struct ffpf_flow_desc d;
	struct ffpf_iface *ifc;
	char path[320];
	int idx, k, fd, err;

	if (!ifname || !name || !filter)
		return -EINVAL;
	k = filter_index(filter);
	if (k < 0)
		return ffpf_err(EINVAL, "bad filter '%s': expected its index (1) or pin "
				"name (1_prefixset)\n", filter);
	err = ffpf_iface_get(ifname, false, &ifc);
	if (err)
		return err;
	idx = ifc->pinned ? ffpf_iface_find_flow(ifc, name) : -ENOENT;
	if (idx < 0 || ffpf_iface_read_desc(ifc, idx, &d)) {
		err = ffpf_err(ENOENT, "%s: no pinned flow named %s\n", ifname, name);
		goto out;
	}
	if ((__u32)k >= d.nstages) {
		err = ffpf_err(ENOENT, "%s: flow %s has no filter %d\n", ifname, name, k);
		goto out;
	}
	d.stages[k].cls[sizeof(d.stages[k].cls) - 1] = 0;
	if (strcmp(d.stages[k].cls, "prefixset")) {
		err = ffpf_err(EINVAL, "%s: filter %d of flow %s is a %s, not a prefixset\n",
			       ifname, k, name, d.stages[k].cls);
		goto out;
	}
	ffpf_stage_pin_path(path, sizeof(path), ifc->ifname, name, k, PS_MAP, false);
	fd = bpf_obj_get(path);
	err = fd >= 0 ? fd : ffpf_err(errno, "cannot open %s: %s\n", path, strerror(errno));
out:
	ffpf_iface_put(ifc);
	return err;
}

static int pinned_update(const char *ifname, const char *name, const char *filter,
			 const char *prefix, enum ps_op op)
{
	int fd = pinned_set_fd(ifname, name, filter), err;

	if (fd < 0)
		return fd;
	err = ps_update(fd, prefix, op);
	close(fd);
	return err;
}

int ffpf_pinned_prefixset_add(const char *ifname, const char *flow,
			      const char *filter, const char *prefix)
{
	return pinned_update(ifname, flow, filter, prefix, PS_ADD);
}

int ffpf_pinned_prefixset_del(const char *ifname, const char *flow,
			      const char *filter, const char *prefix)
{
	return pinned_update(ifname, flow, filter, prefix, PS_DEL);
}

int ffpf_pinned_prefixset_list(const char *ifname, const char *flow,
			       const char *filter, ffpf_prefixset_cb cb, void *ctx)
{
	int fd = pinned_set_fd(ifname, flow, filter), ret;

	if (fd < 0)
		return fd;
	ret = ps_list(fd, cb, ctx);
	close(fd);
	return ret;
}
