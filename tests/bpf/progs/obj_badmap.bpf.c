// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_obj: declares ffpf_pctx itself, with the wrong type. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ffpf_pctx SEC(".maps");

SEC("xdp")
int badmap(void *ctx)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ffpf_pctx, &zero) ? 2 : 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
