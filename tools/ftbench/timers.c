// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * timers.c - what ending flows with a bpf_timer per flow would cost
 * (timer.bpf.c, ftt_timer_lazy), next to the sweeper (sweep.c).
 *
 * A batch: new flows with a 40 ms idle timeout; half way every flow gets
 * a packet, so each timer first fires on an active flow (the callback
 * starts it again for the rest: a re-arm), then on an idle one (record
 * into the ring, delete: an expiry). Two kinds of batch: 128 flows whose
 * timers fire together (one timer interrupt serves many: a burst of flows
 * ending), and one flow alone (one interrupt per callback: how expiries
 * spread over time arrive). This VM cannot arm many more than 128 timers
 * at once (docs/flowtrack.md).
 *
 * The callbacks time themselves; all told, with the machinery around them
 * (local timer interrupt, HRTIMER_SOFTIRQ, hrtimer queue), they are timed
 * on CPU 0, where the timers run, by tracepoints (irqtime.bpf.c). Other
 * work on the machine cannot inflate these figures: they count only time
 * spent inside those handlers, in runs that called a bpf_timer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench.h"
#include "timer.skel.h"
#include "irqtime.skel.h"

#define TOGETHER	128	/* flows of a batch whose timers fire together */
#define BATCHES		8	/* batches of each kind per round */
#define IDLE_NS		(40 * 1000000ULL)
#define RETRIES		16	/* a batch run again at most this often in a row */

/* Per callback, in one batch. */
struct timer_res {
	double rearm_in, expire_in;	/* ns measured inside the callback */
	double rearm_irq, expire_irq;	/* ns all told: timer interrupt + softirq run */
	double per_run;			/* callbacks per HRTIMER_SOFTIRQ run */
	double hard_ns;			/* the local timer interrupt, per run */
	double read_ns;			/* user space: ns per record read from the ring */
};

/* One ring for every batch, so that reading it costs no page faults. */
struct ring {
	int fd;
	struct ring_buffer *rb;
	__u64 records;
};

/* Batches run again: bpf_timer_init() found no memory, or packets were late. */
static int no_memory, late;

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Sleep-poll until *@count reaches @target or @max_ns pass. */
static void wait_for(const volatile __u64 *count, __u64 target, __u64 max_ns)
{
	__u64 t0 = now_ns();

	while (*count < target && now_ns() - t0 < max_ns)
		usleep(1000);
}

/* What @irq's counters gained since *@since; *@since = now. */
static struct ftb_irq_time irq_delta(const struct irqtime_bpf *irq, struct ftb_irq_time *since)
{
	struct ftb_irq_time now = irq->bss->irq_time, d = {
		.runs = now.runs - since->runs,
		.callbacks = now.callbacks - since->callbacks,
		.softirq_ns = now.softirq_ns - since->softirq_ns,
		.hardirq_ns = now.hardirq_ns - since->hardirq_ns,
	};

	*since = now;
	return d;
}

static int on_record(void *ctx, void *data, size_t len)
{
	(*(__u64 *)ctx)++;
	return 0;
}

/*
 * One batch of @n flows on a freshly loaded table, each timer fired twice.
 * A fresh load per batch: reusing one table, this VM soon had no memory
 * for timers. -ENOMEM if a timer could not be armed, -ETIME if the second
 * packets came after the first timer fired (the machine is busy): the
 * caller runs it again.
 */
static int timer_batch(struct vary_bpf *v, const struct irqtime_bpf *irq, struct ring *ring,
		       __u32 n, struct timer_res *res)
{
	struct timer_bpf *t = timer_bpf__open();
	__u64 records = ring->records, created;
	struct ftb_irq_time mark, rearm, expire;
	struct ftb_counters bc;
	struct ftt_cb_stats *cb;
	int err = -1, fd, cnt;
	double c0;

	if (!t || bpf_map__set_max_entries(t->maps.ftt_timed, 2 * n) ||
	    bpf_map__set_max_entries(t->maps.ftt_plain, 1) ||
	    bpf_map__reuse_fd(t->maps.ftt_records, ring->fd) || timer_bpf__load(t)) {
		fprintf(stderr, "ftbench: cannot load the timer programs: %s\n", strerror(errno));
		goto out;
	}
	t->data->ftt_idle_ns = IDLE_NS;
	cb = &t->bss->ftt_cb;
	fd = bpf_program__fd(t->progs.ftt_timer_lazy);
	cnt = bpf_map__fd(t->maps.ftb_cnt);
	/* new flows, each arming its timer; half a timeout later a packet each */
	created = now_ns();
	if (vary_run(v, fd, n, FTB_BASE_WARM, n, VARY_IN_ORDER) < 0 ||
	    ftb_counters_sum(cnt, &bc))
		goto out;
	if (bc.timer_err) {
		err = -ENOMEM;
		goto out;
	}
	while (now_ns() - created < IDLE_NS / 2)
		usleep(100);
	if (vary_run(v, fd, n, FTB_BASE_WARM, n, VARY_IN_ORDER) < 0)
		goto out;
	if (cb->rearmed || cb->expired) {
		err = -ETIME;
		goto out;
	}
	mark = irq->bss->irq_time;
	wait_for(&cb->rearmed, n, 50 * IDLE_NS);
	rearm = irq_delta(irq, &mark);
	wait_for(&cb->expired, n, 50 * IDLE_NS);
	expire = irq_delta(irq, &mark);
	c0 = ftb_thread_cpu();
	ring_buffer__consume(ring->rb);
	res->read_ns = (ftb_thread_cpu() - c0) * 1e9 / n;
	records = ring->records - records;
	if (ftb_counters_sum(cnt, &bc) || bc.created != n || bc.hits != n || bc.timer_err ||
	    cb->rearmed != n || cb->expired != n || cb->lost || records != n ||
	    rearm.callbacks != n || expire.callbacks != n) {
		fprintf(stderr, "ftbench: timers: %llu created, %llu hits, %llu timer errors, "
			"%llu re-armed, %llu expired, %llu records (%llu lost), %llu and %llu "
			"callbacks traced, not %u each\n",
			(unsigned long long)bc.created, (unsigned long long)bc.hits,
			(unsigned long long)bc.timer_err, (unsigned long long)cb->rearmed,
			(unsigned long long)cb->expired, (unsigned long long)records,
			(unsigned long long)cb->lost, (unsigned long long)rearm.callbacks,
			(unsigned long long)expire.callbacks, n);
		goto out;
	}
	res->rearm_in = (double)cb->rearm_ns / n;
	res->expire_in = (double)cb->expire_ns / n;
	res->rearm_irq = (double)(rearm.softirq_ns + rearm.hardirq_ns) / n;
	res->expire_irq = (double)(expire.softirq_ns + expire.hardirq_ns) / n;
	res->per_run = 2.0 * n / (rearm.runs + expire.runs);
	res->hard_ns = (double)(rearm.hardirq_ns + expire.hardirq_ns) / (rearm.runs + expire.runs);
	err = 0;
out:
	timer_bpf__destroy(t);
	return err;
}

/* BATCHES batches of @n flows, one result each into @res. */
static int timer_round(struct vary_bpf *v, const struct irqtime_bpf *irq, struct ring *ring,
		       __u32 n, struct timer_res *res)
{
	int err, tries;

	for (int b = 0; b < BATCHES; b++) {
		for (tries = 0; tries <= RETRIES; tries++) {
			err = timer_batch(v, irq, ring, n, &res[b]);
			if (err == -ENOMEM)
				no_memory++;
			else if (err == -ETIME)
				late++;
			else
				break;
		}
		if (err) {
			if (err == -ENOMEM || err == -ETIME)
				fprintf(stderr, "ftbench: a timer batch failed %d times in a row "
					"(%s)\n", RETRIES + 1, strerror(-err));
			return -1;
		}
	}
	return 0;
}

#define MAXB	(32 * BATCHES)

/* Median of each field over @n batches. */
static void medians(const struct timer_res *tr, int n, struct timer_res *m)
{
	double a[MAXB];

#define MEDIAN(field)						\
	do {							\
		for (int i = 0; i < n; i++)			\
			a[i] = tr[i].field;			\
		m->field = ftb_median(a, n);			\
	} while (0)
	MEDIAN(rearm_in);
	MEDIAN(expire_in);
	MEDIAN(rearm_irq);
	MEDIAN(expire_irq);
	MEDIAN(per_run);
	MEDIAN(hard_ns);
	MEDIAN(read_ns);
#undef MEDIAN
}

int timer_bench(struct vary_bpf *v, int rounds)
{
	struct irqtime_bpf *irq = irqtime_bpf__open();
	static struct timer_res tg[MAXB], al[MAXB];
	struct timer_res g, a;
	struct ring ring = { .fd = -1 };
	int err = -1;

	if (!irq || irqtime_bpf__load(irq) || irqtime_bpf__attach(irq)) {
		fprintf(stderr, "ftbench: cannot trace the timer interrupts: %s\n", strerror(errno));
		goto out;
	}
	irq->bss->irq_cpu = 0;		/* main() runs everything on CPU 0 */
	ring.fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "ftt_records", 0, 0, FTT_RING_SIZE, NULL);
	ring.rb = ring.fd < 0 ? NULL : ring_buffer__new(ring.fd, on_record, &ring.records, NULL);
	if (!ring.rb) {
		fprintf(stderr, "ftbench: cannot make the record ring: %s\n", strerror(errno));
		goto out;
	}
	for (int r = 0; r < rounds; r++)
		if (timer_round(v, irq, &ring, TOGETHER, &tg[r * BATCHES]) ||
		    timer_round(v, irq, &ring, 1, &al[r * BATCHES]))
			goto out;
	medians(tg, rounds * BATCHES, &g);
	medians(al, rounds * BATCHES, &a);
	printf("| bpf_timer callback, lazy design (median of %d x %d batches) | "
	       "inside the callback, ns | all told (interrupt, softirq), %d timers firing "
	       "together, ns | all told, one timer alone, ns |\n|---|---:|---:|---:|\n",
	       rounds, BATCHES, TOGETHER);
	printf("| fires on an active flow: started again for the rest | %.1f | %.1f | %.1f |\n",
	       g.rearm_in, g.rearm_irq, a.rearm_irq);
	printf("| fires on an idle flow: record into the ring, delete | %.1f | %.1f | %.1f |\n",
	       g.expire_in, g.expire_irq, a.expire_irq);
	printf("| user space reads the record from the ring | - | %.1f | - |\n", g.read_ns);
	printf("\nCallbacks per HRTIMER_SOFTIRQ run: %.1f together, %.1f alone; the local timer "
	       "interrupt before a run: %.0f ns together, %.0f ns alone. Batches run again: %d "
	       "because bpf_timer_init() found no memory, %d because the second packets came "
	       "late.\n", g.per_run, a.per_run, g.hard_ns, a.hard_ns, no_memory, late);
	printf("bpf_timer, every flow active, %.0f s idle timeout: one re-arm per flow per "
	       "timeout; if each fires alone, %.2f%% of one CPU with %d live flows, %.2f%% with "
	       "%d (from the per-callback cost).\n", FFPF_FT_IDLE_DEFAULT_NS / 1e9,
	       100 * a.rearm_irq * FTB_64KI / FFPF_FT_IDLE_DEFAULT_NS, FTB_64KI,
	       100 * a.rearm_irq * FTB_1MI / FFPF_FT_IDLE_DEFAULT_NS, FTB_1MI);
	err = 0;
out:
	ring_buffer__free(ring.rb);
	if (ring.fd >= 0)
		close(ring.fd);
	irqtime_bpf__destroy(irq);
	return err;
}
