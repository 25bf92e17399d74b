/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * maps.h - the maps shared by the root program and every stage of one
 * interface. Each BPF object declares them; the loader creates them once
 * (with the root) and hands the same fds to every stage
 * (bpf_map__reuse_fd), so this header owns the prog array and the slot
 * layout lives in ffpf/abi.h.
 */
#ifndef FFPF_BPF_MAPS_H
#define FFPF_BPF_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <ffpf/abi.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, FFPF_PROG_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} ffpf_progs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ffpf_pkt);
} ffpf_pctx SEC(".maps");

static __always_inline struct ffpf_pkt *ffpf_pkt_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ffpf_pctx, &zero);
}

#endif /* FFPF_BPF_MAPS_H */
