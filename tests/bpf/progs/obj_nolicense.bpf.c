// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_obj: no license section. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int nolicense(void *ctx)
{
	return 2;
}
