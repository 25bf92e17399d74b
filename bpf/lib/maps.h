/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * maps.h - the maps shared by the root program and every stage of one
 * interface. Each BPF object declares them; the loader creates them once
 * (with the root) and hands the same fds to every stage
 * (bpf_map__reuse_fd). They are declared in the public ffpf/stage.h, so
 * that user stages (obj class) declare exactly the same; the slot layout
 * lives in ffpf/abi.h.
 */
#ifndef FFPF_BPF_MAPS_H
#define FFPF_BPF_MAPS_H

#include "vmlinux.h"
#define FFPF_STAGE_MAPS_ONLY
#include <ffpf/stage.h>
#undef FFPF_STAGE_MAPS_ONLY

#endif /* FFPF_BPF_MAPS_H */
