// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pinned.c - list, pause, activate and close flows that outlived the
 * process that made them, through the datapath pinned under FFPF_PIN_ROOT.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "log.h"

static int foreach_in_iface(const char *ifname, ffpf_pinned_cb cb, void *ctx)
{
	struct ffpf_iface *ifc;
	struct ffpf_pinned_flow pf;
	struct ffpf_flow_desc d;
	__u64 present, active, monitor;
	int err, ret = 0;

	err = ffpf_iface_get(ifname, false, &ifc);
	if (err)
		return err;
	present = __atomic_load_n(&ifc->ctl->present, __ATOMIC_ACQUIRE);
	active = __atomic_load_n(&ifc->ctl->active, __ATOMIC_ACQUIRE);
	monitor = __atomic_load_n(&ifc->ctl->monitor, __ATOMIC_ACQUIRE);
	for (int i = 0; i < FFPF_MAX_FLOWS && !ret; i++) {
		if (!(present & (1ULL << i)) || ffpf_iface_read_desc(ifc, i, &d) || !d.in_use)
			continue;
		memset(&pf, 0, sizeof(pf));
		snprintf(pf.ifname, sizeof(pf.ifname), "%s", ifname);
		memcpy(pf.name, d.name, sizeof(pf.name));
		memcpy(pf.spec, d.spec, sizeof(pf.spec));
		pf.name[sizeof(pf.name) - 1] = pf.spec[sizeof(pf.spec) - 1] = 0;
		pf.index = i;
		pf.active = active & (1ULL << i);
		pf.monitor = monitor & (1ULL << i);
		pf.owner_pid = d.owner_pid;
		pf.nstages = d.nstages;
		ffpf_percpu_sum(ifc->fstats_fd, i, &pf.counters, sizeof(pf.counters));
		ret = cb(&pf, ctx);
	}
	ffpf_iface_put(ifc);
	return ret;
}

int ffpf_pinned_foreach(const char *ifname, ffpf_pinned_cb cb, void *ctx)
{
	struct dirent *de;
	DIR *dir;
	int ret = -ENOENT;

	if (!cb)
		return -EINVAL;
	if (ifname)
		return foreach_in_iface(ifname, cb, ctx);
	dir = opendir(FFPF_PIN_ROOT);
	if (!dir)
		return -ENOENT;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		ret = foreach_in_iface(de->d_name, cb, ctx);
		if (ret && ret != -ENOENT)
			break;
		ret = 0;
	}
	closedir(dir);
	return ret;
}

/* Run @op on pinned flow @name of @ifname. */
static int with_pinned(const char *ifname, const char *name,
		       int (*op)(struct ffpf_iface *ifc, int idx))
{
	struct ffpf_iface *ifc;
	int idx, err;

	if (!ifname || !name)
		return -EINVAL;
	err = ffpf_iface_get(ifname, false, &ifc);
	if (err)
		return err;
	/* This process's own unpinned datapath is not for the pinned API. */
	idx = ifc->pinned ? ffpf_iface_find_flow(ifc, name) : -ENOENT;
	if (idx < 0)
		err = ffpf_err(ENOENT, "%s: no pinned flow named %s\n", ifname, name);
	else
		err = op(ifc, idx);
	ffpf_iface_put(ifc);
	return err;
}

static int op_activate(struct ffpf_iface *ifc, int idx)
{
	__atomic_fetch_or(&ifc->ctl->active, 1ULL << idx, __ATOMIC_SEQ_CST);
	return 0;
}

static int op_pause(struct ffpf_iface *ifc, int idx)
{
	__atomic_fetch_and(&ifc->ctl->active, ~(1ULL << idx), __ATOMIC_SEQ_CST);
	return 0;
}

static int op_close(struct ffpf_iface *ifc, int idx)
{
	struct ffpf_flow_desc d;
	const struct ffpf_class *cls;
	char dir[256], path[320];
	int err = ffpf_iface_read_desc(ifc, idx, &d);

	if (err)
		return err;
	d.name[sizeof(d.name) - 1] = 0;
	ffpf_pin_dir(dir, sizeof(dir), ifc->ifname, d.name);
	for (__u32 i = 0; i < d.nstages && i < FFPF_MAX_STAGES; i++) {
		d.stages[i].cls[sizeof(d.stages[i].cls) - 1] = 0;
		ffpf_stage_pin_path(path, sizeof(path), ifc->ifname, d.name, i,
				    d.stages[i].cls, false);
		unlink(path);
		ffpf_stage_pin_path(path, sizeof(path), ifc->ifname, d.name, i,
				    d.stages[i].cls, true);
		unlink(path);
		cls = ffpf_class_find(d.stages[i].cls);
		if (cls && cls->pin_map) {
			ffpf_stage_pin_path(path, sizeof(path), ifc->ifname, d.name, i,
					    cls->pin_map, false);
			unlink(path);
		}
	}
	rmdir(dir);
	return ffpf_iface_remove_flow(ifc, idx);
}

int ffpf_pinned_activate(const char *ifname, const char *name)
{
	return with_pinned(ifname, name, op_activate);
}

int ffpf_pinned_pause(const char *ifname, const char *name)
{
	return with_pinned(ifname, name, op_pause);
}

int ffpf_pinned_close(const char *ifname, const char *name)
{
	return with_pinned(ifname, name, op_close);
}
