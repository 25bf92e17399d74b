// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* setup.c - the shared harness of the BPF tests (see harness.h). */
#include <errno.h>
#include <stdarg.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "harness.h"

int tf_cpu = -1;

static void lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", TF_IFNAME);
	cr_assert_eq(ioctl(fd, SIOCGIFFLAGS, &ifr), 0, "SIOCGIFFLAGS lo: %s",
		     strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	cr_assert_eq(ioctl(fd, SIOCSIFFLAGS, &ifr), 0, "SIOCSIFFLAGS lo: %s",
		     strerror(errno));
	close(fd);
}

static void pin_cpu(void)
{
	cpu_set_t set;

	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0,
		     "sched_getaffinity: %s", strerror(errno));
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, &set)) {
			tf_cpu = c;
			break;
		}
	}
	cr_assert_geq(tf_cpu, 0, "no usable CPU");
	CPU_ZERO(&set);
	CPU_SET(tf_cpu, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0,
		     "sched_setaffinity(%d): %s", tf_cpu, strerror(errno));
}

void tf_setup(void)
{
	char dir[256];

	/* The library adopts a datapath pinned for the interface's name; a
	 * pinned "lo" left by someone else would not be ours. */
	ffpf_pin_dir(dir, sizeof(dir), TF_IFNAME, NULL);
	cr_assert_neq(access(dir, F_OK), 0,
		      "%s exists: a pinned ffpf datapath for '%s' would be adopted "
		      "instead of a private one; remove it first", dir, TF_IFNAME);
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare(CLONE_NEWNET): %s",
		     strerror(errno));
	lo_up();
	pin_cpu();
}

int tf_try_flow(const char *spec, const char *name, struct ffpf_flow **out)
{
	return tf_try_flow_on(spec, name, FFPF_HOOK_INGRESS, out);
}

int tf_try_flow_on(const char *spec, const char *name, enum ffpf_hook hook,
		   struct ffpf_flow **out)
{
	FFPF_OPTS(ffpf_flow_opts, opts, .name = name, .hook = hook);
	struct ffpf_flow *f;
	int err;

	*out = NULL;
	f = ffpf_flow_create(TF_IFNAME, &opts);
	cr_assert_not_null(f, "ffpf_flow_create(%s): %s", TF_IFNAME, strerror(errno));
	err = ffpf_flow_populate(f, spec);
	cr_assert_eq(err, 0, "populate \"%s\": %d (%s)", spec, err, strerror(-err));
	err = ffpf_flow_instantiate(f);
	if (err) {
		ffpf_flow_close(f);
		return err;
	}
	*out = f;
	return 0;
}

struct ffpf_flow *tf_flow(const char *spec, bool activate)
{
	return tf_flow_on(spec, FFPF_HOOK_INGRESS, activate);
}

struct ffpf_flow *tf_flow_on(const char *spec, enum ffpf_hook hook, bool activate)
{
	struct ffpf_flow *f;
	int err = tf_try_flow_on(spec, NULL, hook, &f);

	cr_assert_eq(err, 0, "instantiate \"%s\": %d (%s)", spec, err, strerror(-err));
	if (activate) {
		err = ffpf_flow_activate(f);
		cr_assert_eq(err, 0, "activate \"%s\": %d", spec, err);
	}
	return f;
}

int tf_try_run(const struct ffpf_flow *any, const struct pkt *p, __u32 *retval)
{
	int fd = ffpf_flow_root_prog_fd(any);
	LIBBPF_OPTS(bpf_test_run_opts, o, .repeat = 1, .data_in = p->b,
		    .data_size_in = p->len);

	cr_assert_geq(fd, 0, "no root program fd");
	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	*retval = o.retval;
	return 0;
}

__u32 tf_run(const struct ffpf_flow *any, const struct pkt *p)
{
	__u32 ret = ~0u;
	int err = tf_try_run(any, p, &ret);

	cr_assert_eq(err, 0, "BPF_PROG_TEST_RUN of a %zu-byte frame: %s", p->len,
		     strerror(-err));
	return ret;
}

void tf_pctx(const struct ffpf_flow *any, struct ffpf_pkt *out)
{
	int fd = ffpf_flow_pctx_fd(any), ncpu = libbpf_num_possible_cpus();
	size_t stride = (sizeof(*out) + 7) & ~(size_t)7;
	__u32 key = 0;
	__u8 *vals;

	cr_assert_geq(fd, 0, "no packet context map");
	cr_assert_gt(ncpu, tf_cpu);
	vals = calloc(ncpu, stride);
	cr_assert_not_null(vals);
	cr_assert_eq(bpf_map_lookup_elem(fd, &key, vals), 0, "pctx lookup: %s",
		     strerror(errno));
	memcpy(out, vals + (size_t)tf_cpu * stride, sizeof(*out));
	free(vals);
}

struct ffpf_flow_stats tf_stats(const struct ffpf_flow *f)
{
	struct ffpf_flow_stats st = { .sz = sizeof(st) };
	int err = ffpf_flow_stats(f, &st);

	cr_assert_eq(err, 0, "ffpf_flow_stats: %d", err);
	return st;
}

struct ffpf_iface_stats tf_iface(const struct ffpf_flow *any)
{
	struct ffpf_iface_stats st = { .sz = sizeof(st) };
	int err = ffpf_flow_iface_stats(any, &st);

	cr_assert_eq(err, 0, "ffpf_flow_iface_stats: %d", err);
	return st;
}

struct ffpf_mbuf_hdr tf_fstats(const struct ffpf_flow *f, int idx)
{
	struct ffpf_mbuf_hdr h = { 0 };
	int err = ffpf_flow_filter_stats(f, idx, &h);

	cr_assert_eq(err, 0, "ffpf_flow_filter_stats(%d): %d", idx, err);
	return h;
}

const char *tf_hex(const struct pkt *p)
{
	static char out[3 * 96 + 8];
	size_t n = p->len < 96 ? p->len : 96, o = 0;

	for (size_t i = 0; i < n; i++)
		o += snprintf(out + o, sizeof(out) - o, "%02x%s", p->b[i],
			      i + 1 < n ? " " : "");
	if (n < p->len)
		snprintf(out + o, sizeof(out) - o, " ...");
	return out;
}

static char tf_logbuf[8192];
static ffpf_print_fn_t tf_old_print;

static int tf_capture(enum ffpf_print_level level, const char *fmt, va_list ap)
{
	size_t n = strlen(tf_logbuf);

	vsnprintf(tf_logbuf + n, sizeof(tf_logbuf) - n, fmt, ap);
	return 0;
}

void tf_log_start(void)
{
	tf_logbuf[0] = 0;
	tf_old_print = ffpf_set_print(tf_capture);
}

const char *tf_log(void)
{
	return tf_logbuf;
}

void tf_log_stop(void)
{
	ffpf_set_print(tf_old_print);
}

void tf_expect_bad_specs(const struct tf_bad_spec *rows, size_t n)
{
	struct ffpf_flow *f = ffpf_flow_create(TF_IFNAME, NULL);

	cr_assert_not_null(f);
	tf_log_start();
	for (size_t i = 0; i < n; i++) {
		tf_logbuf[0] = 0;
		cr_expect_eq(ffpf_spec_check(rows[i].spec, NULL), -EINVAL, "%s", rows[i].spec);
		cr_expect_not_null(strstr(tf_logbuf, rows[i].msg), "%s: said '%s', want '%s'",
				   rows[i].spec, tf_logbuf, rows[i].msg);
		tf_logbuf[0] = 0;
		cr_expect_eq(ffpf_flow_populate(f, rows[i].spec), -EINVAL, "%s", rows[i].spec);
		cr_expect_not_null(strstr(tf_logbuf, rows[i].msg), "%s: populate said '%s'",
				   rows[i].spec, tf_logbuf);
	}
	tf_log_stop();
	cr_expect_eq(ffpf_flow_nfilters(f), 0);
	ffpf_flow_close(f);
}
