/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ftbench.h - what the flow-table benchmark's BPF objects
 * (tools/ftbench/NAME.bpf.c) and its user side share. Bench only: nothing
 * here is part of the datapath or the library.
 */
#ifndef FFPF_FTBENCH_H
#define FFPF_FTBENCH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include <ffpf/flowtrack.h>

/* ftb_target, the vary program's PROG_ARRAY: the one slot it jumps to. */
#define FTB_SLOT_TARGET		0

/* Ring of the bpf_timer variant's flow records: a batch of 128 fits many times. */
#define FTT_RING_SIZE		(256 << 10)

/* Per-CPU counters of a bare program (lru.bpf.c, timer.bpf.c). */
struct ftb_counters {
	__u64 packets;		/* packets with a 5-tuple */
	__u64 hits;		/* the flow was in the table */
	__u64 created;		/* inserted */
	__u64 failed;		/* not inserted (table full) */
	__u64 timer_err;	/* bpf_timer_init/set_callback/start refused */
};

/* What the bpf_timer callback did: global, updated with atomic adds. */
struct ftt_cb_stats {
	__u64 rearmed;		/* flow still active: timer started for the rest */
	__u64 rearm_ns;		/* time inside those callbacks */
	__u64 expired;		/* flow idle: record out, entry deleted */
	__u64 expire_ns;	/* time inside those callbacks */
	__u64 lost;		/* ring full: record lost (entry deleted anyway) */
};

/*
 * What bpf_timer callbacks cost one CPU all told (irqtime.bpf.c): only the
 * HRTIMER_SOFTIRQ runs that ran a bpf_timer, and the local timer
 * interrupt that raised each of them.
 */
struct ftb_irq_time {
	__u64 runs;		/* HRTIMER_SOFTIRQ runs with a bpf_timer callback */
	__u64 callbacks;	/* bpf_timer callbacks in them */
	__u64 softirq_ns;	/* those runs, whole */
	__u64 hardirq_ns;	/* the local timer interrupt before each of them */
};

#endif /* FFPF_FTBENCH_H */
