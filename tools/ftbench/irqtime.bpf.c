// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * irqtime.bpf.c - what bpf_timer callbacks cost one CPU all told: the
 * hrtimer machinery around a callback, which the callback cannot time
 * itself. bpf_timers are soft hrtimers: the local timer interrupt finds
 * them expired and raises HRTIMER_SOFTIRQ, whose run calls bpf_timer_cb()
 * for each. Counted here: every HRTIMER_SOFTIRQ run on the watched CPU
 * that called bpf_timer_cb(), whole, and the local timer interrupt just
 * before it. Nothing else that runs on the machine adds to these sums.
 * Raw BTF tracepoints; only the watched CPU writes, so no atomics. Bench
 * only.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "ftbench.h"

extern const void bpf_timer_cb __ksym;

__u32 irq_cpu;			/* set before attach */
struct ftb_irq_time irq_time;

/* State of the watched CPU. */
__u64 hard_t0, hard_last, soft_t0;
__u32 soft_cbs;			/* bpf_timer callbacks in the current run */

static __always_inline bool watched(void)
{
	return bpf_get_smp_processor_id() == irq_cpu;
}

SEC("tp_btf/local_timer_entry")
int BPF_PROG(ftb_timer_entry, int vector)
{
	if (watched())
		hard_t0 = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/local_timer_exit")
int BPF_PROG(ftb_timer_exit, int vector)
{
	if (watched() && hard_t0) {
		hard_last = bpf_ktime_get_ns() - hard_t0;
		hard_t0 = 0;
	}
	return 0;
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(ftb_softirq_entry, unsigned int vec)
{
	if (vec == HRTIMER_SOFTIRQ && watched()) {
		soft_t0 = bpf_ktime_get_ns();
		soft_cbs = 0;
	}
	return 0;
}

SEC("tp_btf/hrtimer_expire_entry")
int BPF_PROG(ftb_hrtimer_entry, struct hrtimer *t, ktime_t *now)
{
	if (watched() && soft_t0 && t->function == (void *)&bpf_timer_cb)
		soft_cbs++;
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(ftb_softirq_exit, unsigned int vec)
{
	if (vec != HRTIMER_SOFTIRQ || !watched() || !soft_t0)
		return 0;
	if (soft_cbs) {
		irq_time.softirq_ns += bpf_ktime_get_ns() - soft_t0;
		irq_time.hardirq_ns += hard_last;
		irq_time.callbacks += soft_cbs;
		irq_time.runs++;
	}
	soft_t0 = 0;
	return 0;
}

char _license[] SEC("license") = "Dual BSD/GPL";
