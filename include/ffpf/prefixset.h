/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ffpf/prefixset.h - change a `prefixset` filter's set while packets flow
 * (issue 5). The set is the filter's LPM trie: adding or deleting a prefix
 * takes effect on the next packet, with no reload and no pause.
 *
 * A PREFIX is text: "10.0.0.0/8", "2001:db8::/32", or a host address
 * ("192.0.2.7" = /32, "2001:db8::1" = /128). Bits past the prefix length
 * are cleared ("10.1.2.3/8" is 10.0.0.0/8). IPv4 and IPv6 share one set.
 *
 * Errors: a negative errno, with a message through ffpf_set_print():
 *   -EINVAL  bad prefix text, or the filter is not a prefixset
 *   -ENOSPC  the set is full (prefixset(size=N) entries)
 *   -ENOENT  del of a prefix not in the set; no such (pinned) flow/filter
 * Adding a prefix already in the set succeeds and changes nothing.
 */
#ifndef FFPF_PREFIXSET_H
#define FFPF_PREFIXSET_H

#include "ffpf.h"
#include "mbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Add @prefix to the set of filter @filter_idx (0-based) of instantiated @flow. */
FFPF_API int ffpf_prefixset_add(struct ffpf_flow *flow, int filter_idx, const char *prefix);
/* Remove @prefix (exactly that prefix and length) from the set. */
FFPF_API int ffpf_prefixset_del(struct ffpf_flow *flow, int filter_idx, const char *prefix);

/* Called once per prefix in the set, as text ("10.0.0.0/8"); non-zero stops. */
typedef int (*ffpf_prefixset_cb)(const char *prefix, void *ctx);
/*
 * Call @cb for every prefix in the set, IPv4 before IPv6, each in address
 * then length order. Returns the number of prefixes, or @cb's non-zero
 * value, or a negative errno.
 */
FFPF_API int ffpf_prefixset_list(struct ffpf_flow *flow, int filter_idx,
				 ffpf_prefixset_cb cb, void *ctx);

/*
 * The same on a pinned flow, from any process: @ifname is the datapath
 * name ("eth0", or "eth0:egress"), @flow the flow's name, @filter the
 * filter's 0-based index ("1") or its pin name ("1_prefixset"). The trie
 * is pinned as FFPF_PIN_ROOT/<if>/<flow>/<k>_prefixset_set.
 */
FFPF_API int ffpf_pinned_prefixset_add(const char *ifname, const char *flow,
				       const char *filter, const char *prefix);
FFPF_API int ffpf_pinned_prefixset_del(const char *ifname, const char *flow,
				       const char *filter, const char *prefix);
FFPF_API int ffpf_pinned_prefixset_list(const char *ifname, const char *flow,
					const char *filter, ffpf_prefixset_cb cb,
					void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* FFPF_PREFIXSET_H */
