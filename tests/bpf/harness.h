/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * harness.h - what every BPF_PROG_TEST_RUN test shares (setup.c).
 *
 * Each Criterion test runs in its own forked worker; the suites' .init
 * (tf_setup) moves that worker into a private network namespace with `lo`
 * up and pins it to one CPU, so every test owns the XDP hook of its own
 * loopback device and reads the per-CPU packet context of that CPU. The
 * namespace, the flows and the root program all die with the worker.
 * Nothing is pinned in /sys/fs/bpf.
 */
#ifndef FFPF_TEST_HARNESS_H
#define FFPF_TEST_HARNESS_H

#include <criterion/criterion.h>
#include <ffpf/ffpf.h>
#include "internal.h"
#include "pkt.h"

#define TF_IFNAME	"lo"

/* Suite .init: private netns, lo up, pinned to tf_cpu. */
void tf_setup(void);
/* The CPU the test runs on (the first one it may use, normally 0). */
extern int tf_cpu;

/* Create + populate + instantiate (+ activate) a flow on lo; asserts. */
struct ffpf_flow *tf_flow(const char *spec, bool activate);
/* As tf_flow() but returns instantiate's error (flow closed on error). */
int tf_try_flow(const char *spec, const char *name, struct ffpf_flow **out);
/* The same on @hook: egress flows run in lo's TC egress datapath. */
struct ffpf_flow *tf_flow_on(const char *spec, enum ffpf_hook hook, bool activate);
int tf_try_flow_on(const char *spec, const char *name, enum ffpf_hook hook,
		   struct ffpf_flow **out);

/*
 * Run the flow's root program (XDP, or TC for an egress flow) once on @p
 * (BPF_PROG_TEST_RUN, repeat 1) and return its verdict; asserts the run itself worked.
 * The kernel refuses frames shorter than an Ethernet header (XDP never
 * sees one): tf_try_run() returns that error (-errno) instead.
 */
__u32 tf_run(const struct ffpf_flow *any, const struct pkt *p);
int tf_try_run(const struct ffpf_flow *any, const struct pkt *p, __u32 *retval);

/* The packet context the parser left on tf_cpu. */
void tf_pctx(const struct ffpf_flow *any, struct ffpf_pkt *out);

struct ffpf_flow_stats tf_stats(const struct ffpf_flow *f);
struct ffpf_iface_stats tf_iface(const struct ffpf_flow *any);
struct ffpf_mbuf_hdr tf_fstats(const struct ffpf_flow *f, int idx);

/* Format a frame as hex for failure messages (static buffer). */
const char *tf_hex(const struct pkt *p);

/* Collect what the library prints: tf_log_start() clears and captures,
 * tf_log() is the text so far, tf_log_stop() restores the printer. */
void tf_log_start(void);
const char *tf_log(void);
void tf_log_stop(void);

/* A spec that must be refused, and a piece of the message it must give. */
struct tf_bad_spec {
	const char *spec, *msg;
};
/* Each: -EINVAL with @msg from ffpf_spec_check() and from populate (which
 * then holds no filter). */
void tf_expect_bad_specs(const struct tf_bad_spec *rows, size_t n);

#endif /* FFPF_TEST_HARNESS_H */
