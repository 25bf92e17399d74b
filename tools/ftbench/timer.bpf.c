// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * timer.bpf.c - what expiry in the kernel would cost: the same plain
 * hash table of flows with and without a struct bpf_timer in the value.
 * Bench only; the datapath's flowtrack keeps its user-space sweeper
 * (docs/flowtrack.md says why, with the figures).
 *
 *   ftt_plain_track: ftb_track() (bare.h) on a BPF_MAP_TYPE_HASH,
 *                    flowtrack's table type: no timer.
 *   ftt_timer_lazy:  the same on a table whose value embeds a bpf_timer.
 *                    A new flow arms it (init, set_callback, start with the
 *                    idle timeout); a packet of a known flow touches no
 *                    timer. The callback checks last_ns: still active, it
 *                    starts the timer again for the rest of the timeout;
 *                    idle, it puts a record (struct ffpf_ft_record) in a
 *                    ring, without a wakeup (the reader polls, as the
 *                    sweeper runs on its interval), and deletes the entry.
 *   ftt_timer_rearm: the same, but every packet re-arms the timer
 *                    (bpf_timer_start), so it fires only on an idle flow.
 *
 * The callback measures itself (bpf_ktime_get_ns at entry and exit) into
 * ftt_cb; irqtime.bpf.c measures the interrupt and softirq around it.
 */
#include "bare.h"

#define FTT_CLOCK_MONOTONIC	1	/* time.h is not for BPF */

struct ftt_flow {
	struct ffpf_ft_flow f;
	struct bpf_timer t;
};

/* Both sized by user space before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FFPF_FT_SIZE_DEFAULT);
	__type(key, struct ffpf_ft_key);
	__type(value, struct ffpf_ft_flow);
} ftt_plain SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FFPF_FT_SIZE_DEFAULT);
	__type(key, struct ffpf_ft_key);
	__type(value, struct ftt_flow);
} ftt_timed SEC(".maps");

/* Ended flows, for user space: what the sweeper's callback would get. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FTT_RING_SIZE);
} ftt_records SEC(".maps");

volatile __u64 ftt_idle_ns = FFPF_FT_IDLE_DEFAULT_NS;	/* set before a run */
struct ftt_cb_stats ftt_cb;

static int ftt_expire(void *map, struct ffpf_ft_key *key, struct ftt_flow *v)
{
	__u64 t0 = bpf_ktime_get_ns(), idle = ftt_idle_ns, last = v->f.last_ns;
	struct ffpf_ft_record *r;

	/* a packet on another CPU may have stored a later last_ns than t0 */
	if (last > t0 || t0 - last < idle) {
		bpf_timer_start(&v->t, last > t0 ? idle : idle - (t0 - last), 0);
		__sync_fetch_and_add(&ftt_cb.rearmed, 1);
		__sync_fetch_and_add(&ftt_cb.rearm_ns, bpf_ktime_get_ns() - t0);
		return 0;
	}
	/*
	 * Copy, then delete: a packet counted in between is lost with the
	 * entry. BPF has no lookup-and-delete for a hash map; the sweeper's
	 * syscall has, which is why its counters are final.
	 */
	r = bpf_ringbuf_reserve(&ftt_records, sizeof(*r), 0);
	if (r) {
		__builtin_memset(r, 0, sizeof(*r));
		r->key = *key;
		r->flow = v->f;
		r->reason = FFPF_FT_END_IDLE;
		bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	} else {
		__sync_fetch_and_add(&ftt_cb.lost, 1);
	}
	bpf_map_delete_elem(map, key);
	__sync_fetch_and_add(&ftt_cb.expired, 1);
	__sync_fetch_and_add(&ftt_cb.expire_ns, bpf_ktime_get_ns() - t0);
	return 0;
}

static __always_inline int ftt_timed_track(struct xdp_md *ctx, bool rearm)
{
	struct ftb_counters *c = ftb_counters();
	struct ftt_flow *v, nv;
	struct ffpf_ft_key k;
	__u64 now;
	__u32 len;

	if (!c || ftb_key(ctx, &k, &len))
		return XDP_PASS;
	c->packets++;
	now = bpf_ktime_get_ns();
	v = bpf_map_lookup_elem(&ftt_timed, &k);
	if (v) {
		ftb_flow_update(&v->f, len, now);
		if (rearm && bpf_timer_start(&v->t, ftt_idle_ns, 0))
			c->timer_err++;
		c->hits++;
		return XDP_PASS;
	}
	ftb_flow_init(&nv.f, len, now);
	__builtin_memset(&nv.t, 0, sizeof(nv.t));
	if (bpf_map_update_elem(&ftt_timed, &k, &nv, BPF_NOEXIST)) {
		c->failed++;
		return XDP_PASS;
	}
	c->created++;
	/* the timer must be armed in place: look the new entry up again */
	v = bpf_map_lookup_elem(&ftt_timed, &k);
	if (!v || bpf_timer_init(&v->t, &ftt_timed, FTT_CLOCK_MONOTONIC) ||
	    bpf_timer_set_callback(&v->t, ftt_expire) ||
	    bpf_timer_start(&v->t, ftt_idle_ns, 0))
		c->timer_err++;
	return XDP_PASS;
}

SEC("xdp")
int ftt_plain_track(struct xdp_md *ctx)
{
	return ftb_track(ctx, &ftt_plain);
}

SEC("xdp")
int ftt_timer_lazy(struct xdp_md *ctx)
{
	return ftt_timed_track(ctx, false);
}

SEC("xdp")
int ftt_timer_rearm(struct xdp_md *ctx)
{
	return ftt_timed_track(ctx, true);
}

char _license[] SEC("license") = "Dual BSD/GPL";
