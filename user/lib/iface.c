// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * iface.c - one datapath per interface: the root program attached by an
 * fd-owned bpf_link (it goes away with the process unless pinned), the
 * maps every stage shares, and the pins that keep a datapath alive.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include "internal.h"
#include "compose.h"
#include "log.h"
#include "root.skel.h"
#include "root_tc.skel.h"

/* Not in bookworm's uapi headers (kernel 6.1); the kernel here has tcx (6.6+). */
#define FFPF_TCX_EGRESS	47

static struct ffpf_iface *ffpf_ifaces;

/* Names of the shared maps, as pinned under FFPF_PIN_ROOT/<if>/. */
#define FFPF_NSHARED 7
static const char *const shared_pin[FFPF_NSHARED] = {
	"progs", "pctx", "ctl", "guards", "fstats", "rstats", "flows",
};

static int *shared_fd(struct ffpf_iface *ifc, int i)
{
	int *fds[FFPF_NSHARED] = {
		&ifc->progs_fd, &ifc->pctx_fd, &ifc->ctl_fd, &ifc->guards_fd,
		&ifc->fstats_fd, &ifc->rstats_fd, &ifc->flows_fd,
	};
	return fds[i];
}

void ffpf_dp_name(char *buf, size_t len, const char *dev, enum ffpf_hook hook)
{
	snprintf(buf, len, "%s%s", dev, hook == FFPF_HOOK_EGRESS ? ":egress" : "");
}

int ffpf_dp_parse(const char *dpname, char *dev, size_t len, enum ffpf_hook *hook)
{
	const char *colon = strchr(dpname, ':');
	size_t n = colon ? (size_t)(colon - dpname) : strlen(dpname);

	if (!n || n >= len || n >= IF_NAMESIZE || (colon && strcmp(colon, ":egress")))
		return -EINVAL;
	memcpy(dev, dpname, n);
	dev[n] = 0;
	*hook = colon ? FFPF_HOOK_EGRESS : FFPF_HOOK_INGRESS;
	return 0;
}

void ffpf_pin_dir(char *buf, size_t len, const char *ifname, const char *flow)
{
	if (flow)
		snprintf(buf, len, "%s/%s/%s", FFPF_PIN_ROOT, ifname, flow);
	else
		snprintf(buf, len, "%s/%s", FFPF_PIN_ROOT, ifname);
}

void ffpf_stage_pin_path(char *buf, size_t len, const char *ifname, const char *flow,
			 int k, const char *cls, bool mbuf)
{
	char dir[256];

	ffpf_pin_dir(dir, sizeof(dir), ifname, flow);
	snprintf(buf, len, "%s/%d_%s%s", dir, k, cls, mbuf ? "_mbuf" : "");
}

static int check_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC)
		return ffpf_err(ENOTSUP, "/sys/fs/bpf is not a BPF filesystem in this mount "
				"namespace, so flows cannot be pinned: mount -t bpf bpf /sys/fs/bpf "
				"(note: 'ip netns exec' remounts /sys and hides it; "
				"use 'nsenter --net=/run/netns/NS' instead)\n");
	return 0;
}

static int map_ctl(struct ffpf_iface *ifc)
{
	ifc->ctl = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
			MAP_SHARED, ifc->ctl_fd, 0);
	if (ifc->ctl == MAP_FAILED) {
		ifc->ctl = NULL;
		return ffpf_err(errno, "%s: cannot map the control word: %s\n",
				ifc->ifname, strerror(errno));
	}
	return 0;
}

static void iface_free(struct ffpf_iface *ifc)
{
	if (ifc->ctl)
		munmap(ifc->ctl, sysconf(_SC_PAGESIZE));
	if (ifc->link_fd >= 0)
		close(ifc->link_fd);
	if (ifc->skel || ifc->skel_tc) {
		ffpf_root__destroy(ifc->skel);
		ffpf_root_tc__destroy(ifc->skel_tc);
	} else {
		for (int i = 0; i < FFPF_NSHARED; i++)
			if (*shared_fd(ifc, i) >= 0)
				close(*shared_fd(ifc, i));
	}
	free(ifc);
}

/* Use the datapath another process pinned. */
static int adopt_pinned(struct ffpf_iface *ifc)
{
	char dir[256], path[320];

	ffpf_pin_dir(dir, sizeof(dir), ifc->ifname, NULL);
	for (int i = 0; i < FFPF_NSHARED; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, shared_pin[i]);
		*shared_fd(ifc, i) = bpf_obj_get(path);
		if (*shared_fd(ifc, i) < 0)
			return ffpf_err(errno, "%s: pinned datapath is incomplete (%s): %s\n",
					ifc->ifname, path, strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/link", dir);
	ifc->link_fd = bpf_obj_get(path);
	if (ifc->link_fd < 0)
		return ffpf_err(errno, "%s: cannot open pinned link %s: %s\n",
				ifc->ifname, path, strerror(errno));
	ifc->pinned = true;
	if (map_ctl(ifc))
		return -errno;
	if (ifc->ctl->abi_version != FFPF_ABI_VERSION)
		return ffpf_err(EPROTO, "%s: pinned datapath has ABI %u, this library %u: "
				"close its flows with the ffpf-bpf that made them\n",
				ifc->ifname, ifc->ctl->abi_version, FFPF_ABI_VERSION);
	return 0;
}

/* Both skeletons have the same maps and program: take their fds alike. */
#define ROOT_FDS(ifc, skel) do {					\
	(ifc)->root_fd = bpf_program__fd((skel)->progs.ffpf_root);	\
	(ifc)->progs_fd = bpf_map__fd((skel)->maps.ffpf_progs);		\
	(ifc)->pctx_fd = bpf_map__fd((skel)->maps.ffpf_pctx);		\
	(ifc)->ctl_fd = bpf_map__fd((skel)->maps.ffpf_ctl);		\
	(ifc)->guards_fd = bpf_map__fd((skel)->maps.ffpf_guards);	\
	(ifc)->fstats_fd = bpf_map__fd((skel)->maps.ffpf_fstats);	\
	(ifc)->rstats_fd = bpf_map__fd((skel)->maps.ffpf_rstats);	\
	(ifc)->flows_fd = bpf_map__fd((skel)->maps.ffpf_flows);		\
	(ifc)->xsks_fd = bpf_map__fd((skel)->maps.ffpf_xsks);		\
	(ifc)->copy_fd = bpf_map__fd((skel)->maps.ffpf_copy);		\
} while (0)

/*
 * Ingress: XDP link. Egress: tcx link (BPF_TCX_EGRESS), which coexists
 * with other tcx and clsact programs. Both are fd-owned bpf_links: they
 * go away with the process unless pinned.
 */
static int attach_link(struct ffpf_iface *ifc)
{
	__u32 prog_id = 0;
	int err;

	if (ifc->hook == FFPF_HOOK_EGRESS)
		ifc->link_fd = bpf_link_create(ifc->root_fd, ifc->ifindex, FFPF_TCX_EGRESS, NULL);
	else
		ifc->link_fd = bpf_link_create(ifc->root_fd, ifc->ifindex, BPF_XDP, NULL);
	if (ifc->link_fd >= 0)
		return 0;
	err = -errno;
	if (ifc->hook == FFPF_HOOK_INGRESS &&
	    !bpf_xdp_query_id(ifc->ifindex, 0, &prog_id) && prog_id)
		return ffpf_err(EBUSY, "%s: another XDP program (id %u) is attached; "
				"ffpf-bpf needs the interface's XDP hook to itself\n",
				ifc->ifname, prog_id);
	return ffpf_err(-err, "%s: cannot attach the root program%s: %s\n", ifc->ifname,
			ifc->hook == FFPF_HOOK_EGRESS ? " (tcx egress, kernel 6.6+)" : "",
			strerror(-err));
}

static int attach_root(struct ffpf_iface *ifc)
{
	int err;

	if (ifc->hook == FFPF_HOOK_EGRESS) {
		ifc->skel_tc = ffpf_root_tc__open_and_load();
		if (ifc->skel_tc)
			ROOT_FDS(ifc, ifc->skel_tc);
	} else {
		ifc->skel = ffpf_root__open_and_load();
		if (ifc->skel)
			ROOT_FDS(ifc, ifc->skel);
	}
	if (!ifc->skel && !ifc->skel_tc)
		return ffpf_err(errno, "%s: cannot load the root program: %s\n",
				ifc->ifname, strerror(errno));
	err = map_ctl(ifc);
	if (err)
		return err;
	ifc->ctl->abi_version = FFPF_ABI_VERSION;
	ifc->ctl->wake_mask = FFPF_COPY_WAKE_DEFAULT;
	return attach_link(ifc);
}

int ffpf_iface_get(const char *ifname, bool attach, struct ffpf_iface **out)
{
	struct ffpf_iface *ifc;
	char dir[256], dev[IF_NAMESIZE];
	enum ffpf_hook hook;
	int err;

	if (ffpf_dp_parse(ifname, dev, sizeof(dev), &hook))
		return ffpf_err(EINVAL, "%s: not an interface name (IF or IF:egress)\n", ifname);
	for (ifc = ffpf_ifaces; ifc; ifc = ifc->next) {
		if (!strcmp(ifc->ifname, ifname)) {
			ifc->refcnt++;
			*out = ifc;
			return 0;
		}
	}
	ifc = calloc(1, sizeof(*ifc));
	if (!ifc)
		return -ENOMEM;
	for (int i = 0; i < FFPF_NSHARED; i++)
		*shared_fd(ifc, i) = -1;
	ifc->xsks_fd = ifc->copy_fd = ifc->root_fd = ifc->link_fd = -1;
	snprintf(ifc->ifname, sizeof(ifc->ifname), "%s", ifname);
	snprintf(ifc->dev, sizeof(ifc->dev), "%s", dev);
	ifc->hook = hook;
	ifc->ifindex = if_nametoindex(dev);
	ifc->refcnt = 1;

	ffpf_pin_dir(dir, sizeof(dir), ifname, NULL);
	strcat(dir, "/ctl");
	if (!access(dir, F_OK))
		err = adopt_pinned(ifc);
	else if (!attach)
		err = ffpf_err(ENOENT, "%s: no pinned ffpf datapath\n", ifname);
	else if (!ifc->ifindex)
		err = ffpf_err(ENODEV, "%s: no such interface\n", ifname);
	else
		err = attach_root(ifc);
	if (err) {
		iface_free(ifc);
		return err;
	}
	ifc->next = ffpf_ifaces;
	ffpf_ifaces = ifc;
	*out = ifc;
	return 0;
}

static void unpin_datapath(struct ffpf_iface *ifc)
{
	char dir[256], path[320];

	ffpf_pin_dir(dir, sizeof(dir), ifc->ifname, NULL);
	snprintf(path, sizeof(path), "%s/link", dir);
	unlink(path);
	for (int i = 0; i < FFPF_NSHARED; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, shared_pin[i]);
		unlink(path);
	}
	rmdir(dir);
	rmdir(FFPF_PIN_ROOT);	/* fails harmlessly if other interfaces remain */
	ifc->pinned = false;
}

void ffpf_iface_put(struct ffpf_iface *ifc)
{
	struct ffpf_iface **pp;

	if (!ifc || --ifc->refcnt > 0)
		return;
	/* A pinned datapath with no flow left has no reason to stay. */
	if (ifc->pinned && ifc->ctl && !__atomic_load_n(&ifc->ctl->present, __ATOMIC_ACQUIRE))
		unpin_datapath(ifc);
	for (pp = &ffpf_ifaces; *pp; pp = &(*pp)->next) {
		if (*pp == ifc) {
			*pp = ifc->next;
			break;
		}
	}
	iface_free(ifc);
}

int ffpf_iface_pin(struct ffpf_iface *ifc)
{
	char dir[256], path[320];
	int err;

	if (ifc->pinned)
		return 0;
	err = check_bpffs();
	if (err)
		return err;
	ffpf_pin_dir(dir, sizeof(dir), ifc->ifname, NULL);
	mkdir(FFPF_PIN_ROOT, 0700);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return ffpf_err(errno, "cannot create %s: %s\n", dir, strerror(errno));
	for (int i = 0; i < FFPF_NSHARED; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, shared_pin[i]);
		if (bpf_obj_pin(*shared_fd(ifc, i), path)) {
			err = ffpf_err(errno, "cannot pin %s: %s\n", path, strerror(errno));
			goto fail;
		}
	}
	snprintf(path, sizeof(path), "%s/link", dir);
	if (bpf_obj_pin(ifc->link_fd, path)) {
		err = ffpf_err(errno, "cannot pin %s: %s\n", path, strerror(errno));
		goto fail;
	}
	ifc->pinned = true;
	return 0;
fail:
	unpin_datapath(ifc);
	return err;
}

int ffpf_percpu_sum(int fd, __u32 key, void *out, size_t vsz)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t stride = (vsz + 7) & ~(size_t)7;
	__u64 *sum = out;
	__u8 *buf;

	if (ncpu < 0)
		return ncpu;
	buf = calloc(ncpu, stride);
	if (!buf)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, buf)) {
		free(buf);
		return -errno;
	}
	memset(out, 0, vsz);
	for (int c = 0; c < ncpu; c++)
		for (size_t w = 0; w < vsz / 8; w++)
			sum[w] += ((__u64 *)(buf + c * stride))[w];
	free(buf);
	return 0;
}

int ffpf_percpu_zero(int fd, __u32 key, size_t vsz)
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	size_t stride = (vsz + 7) & ~(size_t)7;
	void *buf;

	if (ncpu < 0)
		return ncpu;
	buf = calloc(ncpu, stride);
	if (!buf)
		return -ENOMEM;
	if (bpf_map_update_elem(fd, &key, buf, BPF_ANY))
		err = -errno;
	free(buf);
	return err;
}

int ffpf_iface_read_desc(struct ffpf_iface *ifc, int idx, struct ffpf_flow_desc *d)
{
	__u32 key = idx;

	if (bpf_map_lookup_elem(ifc->flows_fd, &key, d))
		return -errno;
	return 0;
}

int ffpf_iface_find_flow(struct ffpf_iface *ifc, const char *name)
{
	struct ffpf_flow_desc d;
	__u64 present = __atomic_load_n(&ifc->ctl->present, __ATOMIC_ACQUIRE);

	for (int i = 0; i < FFPF_MAX_FLOWS; i++) {
		if (!(present & (1ULL << i)) || ffpf_iface_read_desc(ifc, i, &d))
			continue;
		if (d.in_use && !strncmp(d.name, name, sizeof(d.name)))
			return i;
	}
	return -ENOENT;
}

int ffpf_iface_remove_flow(struct ffpf_iface *ifc, int idx)
{
	static const struct ffpf_match_cfg no_guard;
	static const struct ffpf_flow_desc no_desc;
	struct ffpf_flow_desc d;
	__u64 bit = 1ULL << idx;
	__u32 key = idx;
	int err = ffpf_iface_read_desc(ifc, idx, &d);

	if (err)
		return err;
	/* Stop dispatching first, then empty the slots: no packet can reach a
	 * half-removed chain. */
	__atomic_fetch_and(&ifc->ctl->active, ~bit, __ATOMIC_SEQ_CST);
	__atomic_fetch_and(&ifc->ctl->present, ~bit, __ATOMIC_SEQ_CST);
	__atomic_fetch_and(&ifc->ctl->guarded, ~bit, __ATOMIC_SEQ_CST);
	__atomic_fetch_and(&ifc->ctl->monitor, ~bit, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&ifc->ctl->generation, 1, __ATOMIC_SEQ_CST);
	for (__u32 s = 0; s < d.nstages && s < FFPF_MAX_STAGES; s++) {
		__u32 slot = ffpf_stage_slot(idx, s);

		bpf_map_delete_elem(ifc->progs_fd, &slot);
	}
	bpf_map_update_elem(ifc->guards_fd, &key, &no_guard, BPF_ANY);
	bpf_map_update_elem(ifc->flows_fd, &key, &no_desc, BPF_ANY);
	ffpf_percpu_zero(ifc->fstats_fd, key, sizeof(struct ffpf_flow_counters));
	ifc->local &= ~bit;
	ifc->group_of[idx] = NULL;
	ifc->local_pinned &= ~bit;
	return 0;
}
