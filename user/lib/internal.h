/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* internal.h - the library's private objects: classes, stages, interfaces, flows. */
#ifndef FFPF_INTERNAL_H
#define FFPF_INTERNAL_H

#include <net/if.h>
#include <bpf/libbpf.h>
#include <ffpf/ffpf.h>
#include "spec.h"

/* Largest class configuration (stage init area), bytes: payload's patterns
 * (1064), prefixset's initial prefixes after its MBuf part. */
#define FFPF_CFG_MAX	2048

struct ffpf_stage;
/* A filter class: a BPF object embedded in the library plus its argument parser. */
struct ffpf_class {
	const char *name;
	size_t mbuf_size;		/* whole MBuf */
	size_t cfg_size;		/* configuration at its start, set at instantiate */
	size_t cpu_off;			/* offset of its struct ffpf_mbuf_cpu cpu[] */
	const void *(*elf_bytes)(size_t *sz);		/* XDP build */
	const void *(*elf_bytes_tc)(size_t *sz);	/* TC build (egress) */
	/* Parse the filter's arguments into the MBuf's configuration. */
	int (*configure)(const struct ffpf_spec_filter *f, void *mbuf,
			 struct ffpf_spec_error *err);
	/*
	 * Optional: adjust the opened object from the configuration before
	 * it is loaded (e.g. size a map). NULL for most classes.
	 */
	int (*prepare)(struct bpf_object *obj, const void *cfg);
	/*
	 * Optional: run once the stage is loaded and its MBuf mapped, before
	 * any packet can reach it (e.g. fill a map from st->init).
	 */
	int (*loaded)(struct ffpf_stage *st);
	/*
	 * Optional: a state map that --pin also pins, as <k>_<pin_map> beside
	 * the MBuf, so another process can change it (e.g. "prefixset_set").
	 */
	const char *pin_map;
	/*
	 * Optional, for a class whose object is not embedded (obj): open
	 * st->obj for the hook (@egress), name its MBuf (default
	 * "<class>_mbuf"; with mbuf_optional the loader makes a private one
	 * when the object has none), explain a failed load.
	 */
	int (*open)(struct ffpf_stage *st, int egress);
	const char *(*mbuf_name)(const struct ffpf_stage *st);
	void (*load_failed)(struct ffpf_stage *st);
	bool mbuf_optional;
	/* Optional: why an instance may appear in one place only (its state has one owner). */
	const char *one_place;
};

const struct ffpf_class *ffpf_class_find(const char *name);
/* "match, count, sample": for error messages. */
const char *ffpf_class_names(void);

/* One filter instance of a flow. */
struct ffpf_stage {
	const struct ffpf_class *cls;
	char text[160];			/* "class(args)", for the flow's spec */
	__u8 init[FFPF_CFG_MAX] __attribute__((aligned(8)));	/* MBuf configuration at instantiate */
	struct bpf_object *obj;
	int prog_fd;
	int mbuf_fd;
	void *mbuf;			/* mmap of the MBuf */
	const struct ffpf_stage *share;	/* take this stage's state maps (ffpf_flow_opts.share) */
	struct ffpf_inst *inst;		/* a named instance (inst.h): its MBuf and state maps */
	bool state_reused;		/* loaded onto its named instance's existing state */
	int pass, fail;			/* the flow's graph: next stage index, or FFPF_SPEC_* */
	int line, col;			/* of its class name in the populated spec */
	size_t mbuf_len;
	bool mbuf_owned;		/* mbuf_fd made by the loader, not the object's */
	__u32 slot;
};

/* Load @st as a stage whose successors are @next_slot (accept) and @fail_slot (reject). */
struct ffpf_iface;
int ffpf_stage_load(struct ffpf_stage *st, struct ffpf_iface *ifc,
		    __u32 next_slot, __u32 fail_slot);
void ffpf_stage_unload(struct ffpf_stage *st);
/* fd of the map @name of loaded stage @st (e.g. "flowtrack_table"), or -ENOENT. */
int ffpf_stage_map_fd(const struct ffpf_stage *st, const char *name);
/* prefixset.c: add @n prefixes to loaded stage @st's trie (its initial set). */
int ffpf_prefixset_fill(struct ffpf_stage *st, const struct ffpf_prefixset_key *keys,
			unsigned n);

/*
 * Per-interface-and-hook datapath: root program, shared maps, this
 * process's flows. The ingress (XDP) and egress (TC) datapaths of one
 * device are separate: a PROG_ARRAY only holds programs of its owner's
 * type. Datapath name: "<dev>" for ingress, "<dev>:egress" for egress
 * (':' cannot occur in an interface name); it names the pin directory.
 */
#define FFPF_DP_NAME_LEN	(IF_NAMESIZE + 8)
struct ffpf_rx;
struct ffpf_iface {
	struct ffpf_iface *next;
	char ifname[FFPF_DP_NAME_LEN];	/* datapath name, for messages and pins */
	char dev[IF_NAMESIZE];
	enum ffpf_hook hook;
	int ifindex;
	int refcnt;
	struct ffpf_root *skel;		/* ingress root; NULL when adopted from pins */
	struct ffpf_root_tc *skel_tc;	/* egress root; NULL when adopted from pins */
	int root_fd;			/* the root program (-1 when adopted) */
	int link_fd;			/* fd-owned bpf_link (XDP or tcx) */
	int progs_fd, pctx_fd, ctl_fd, guards_fd, fstats_fd, rstats_fd, flows_fd;
	int xsks_fd;			/* tap mode XSKMAP (-1 when adopted from pins) */
	int copy_fd;			/* copy mode RINGBUF (-1 when adopted from pins) */
	struct ffpf_rx *rx;		/* receive engine (rx.c), NULL until a rx flow */
	struct ffpf_ctl *ctl;		/* mmap of ffpf_ctl */
	bool pinned;			/* datapath lives under FFPF_PIN_ROOT/<if> */
	__u64 local;			/* flows this process instantiated */
	const char *group_of[FFPF_MAX_FLOWS];	/* their groups (flow->group); NULL:
						 * no flow, or not ours ("") */
	__u64 local_pinned;
};

/*
 * Get (attach or adopt) the datapath @dpname ("dev" or "dev:egress", see
 * ffpf_dp_name()); @attach false only adopts pins.
 */
int ffpf_iface_get(const char *dpname, bool attach, struct ffpf_iface **out);
/* "dev" or "dev:egress" into @buf. */
void ffpf_dp_name(char *buf, size_t len, const char *dev, enum ffpf_hook hook);
/* Split a datapath name; -EINVAL if malformed. */
int ffpf_dp_parse(const char *dpname, char *dev, size_t len, enum ffpf_hook *hook);
void ffpf_iface_put(struct ffpf_iface *ifc);
int ffpf_iface_pin(struct ffpf_iface *ifc);
/* Directory of pins: FFPF_PIN_ROOT/<ifname>[/<flow>] */
void ffpf_pin_dir(char *buf, size_t len, const char *ifname, const char *flow);
/* Pin of stage @k (class @cls) of @flow: <dir>/<k>_<cls>, or <k>_<cls>_mbuf. */
void ffpf_stage_pin_path(char *buf, size_t len, const char *ifname, const char *flow,
			 int k, const char *cls, bool mbuf);
/* Remove flow @idx from the datapath: bits, jump table, guard, counters, directory. */
int ffpf_iface_remove_flow(struct ffpf_iface *ifc, int idx);
int ffpf_iface_find_flow(struct ffpf_iface *ifc, const char *name);
int ffpf_iface_read_desc(struct ffpf_iface *ifc, int idx, struct ffpf_flow_desc *d);
/* Sum per-CPU values of @fd[@key] (value of @vsz bytes, __u64 fields) into @out. */
int ffpf_percpu_sum(int fd, __u32 key, void *out, size_t vsz);
int ffpf_percpu_zero(int fd, __u32 key, size_t vsz);

struct ffpf_ibuf;
struct ffpf_ft;
/* Stop the flow's tracker: export every live flow (reason CLOSED) first. */
void ffpf_ft_stop(struct ffpf_flow *flow);
/* Stop only its thread (a daemon's flow: before CLOSE, whose records
 * ffpf_ft_stop() hands on after it). */
void ffpf_ft_quiesce(struct ffpf_flow *flow);
/* A started tracker's table and id index (borrowed fds), for the daemon. */
int ffpf_ft_maps(const struct ffpf_flow *flow, int *table_fd, int *byid_fd, __u32 *size,
		 bool *index);
struct ffpf_flow {
	char name[FFPF_NAME_LEN];
	char ifname[IF_NAMESIZE];	/* the device */
	__u32 flags;
	enum ffpf_hook hook;
	enum ffpf_rx_mode rx;
	__u32 snaplen;
	__u32 ibuf_size;
	struct ffpf_ibuf *ibuf;		/* rx flows: set by ffpf_rx_add() */
	struct ffpf_ft *ft;		/* flow tracker (flowtrack.c), NULL until started */
	struct ffpf_flow *share;	/* ffpf_flow_opts.share, NULL once it closed */
	struct ffpf_flow *sharers;	/* flows whose .share is this one ... */
	struct ffpf_flow *next_sharer;	/* ... linked through this */
	int nstages;
	struct ffpf_stage stages[FFPF_MAX_STAGES];	/* stages[0] is the entry */
	char spec[FFPF_SPEC_LEN];	/* the populated specs, as text */
	bool spec_alt;			/* spec is one alternation at its top */
	struct ffpf_iface *iface;
	int idx;
	bool instantiated;
	bool active;
	bool pinned;
	bool disconnected;
	char *policy;			/* ffpf_flow_opts.policy, or NULL */
	char group[FFPF_GROUP_LEN];	/* flow group: which PBuf (rx.c); "" in-process */
	bool snaplen_set;		/* asked for explicitly (a policy cap trims the default) */
	/* Daemon side: the consumer is a client process (rx.c shadows its IBuf). */
	bool remote_consumer;
	/* Daemon side: the daemon checked the policy for its client already. */
	bool policy_done;
	struct ffpf_remote *remote;	/* client side: the flow lives in the daemon (remote.c) */
};

/*
 * For tests that drive the datapath with BPF_PROG_TEST_RUN: the root
 * program's fd and the per-CPU packet context map of the flow's interface.
 */
int ffpf_flow_root_prog_fd(const struct ffpf_flow *flow);
int ffpf_flow_pctx_fd(const struct ffpf_flow *flow);
int ffpf_flow_index(const struct ffpf_flow *flow);

/* A field of a sized opts struct, or @def if the caller's struct is older. */
#define OPTS_GET(opts, field, def)					\
	((opts) && (opts)->sz >= offsetof(typeof(*(opts)), field) + sizeof((opts)->field) \
	 ? (opts)->field : (def))

/* Sized output structs: copy what the caller's st->sz has room for, no more. */
int ffpf_copy_sized(void *dst, const void *full, size_t full_sz);

#endif /* FFPF_INTERNAL_H */
