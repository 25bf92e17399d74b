// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * classes.c - the built-in filter classes. Each is a BPF object embedded
 * by its skeleton; adding a class is one row here plus its .bpf.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <ffpf/flowtrack.h>
#include "internal.h"
#include "match.skel.h"
#include "count.skel.h"
#include "sample.skel.h"
#include "flowtrack.skel.h"
#include "match_tc.skel.h"
#include "count_tc.skel.h"
#include "sample_tc.skel.h"
#include "flowtrack_tc.skel.h"
#include "prefixset.skel.h"
#include "prefixset_tc.skel.h"
#include "payload.skel.h"
#include "payload_tc.skel.h"
#include "payload.h"
#include <stdlib.h>

/*
 * @mbuf is a stage's init[]: the configuration at the MBuf's start, not a
 * whole MBuf, nor aligned like one (64 bytes, for the per-CPU counters).
 * It is reached through the configuration's own type (offset 0, asserted
 * below); a cast to the MBuf's type is undefined behaviour (found by
 * tests/fuzz/fuzz_spec.c under UBSan).
 */
static int match_configure(const struct ffpf_spec_filter *f, void *mbuf,
			   struct ffpf_spec_error *err)
{
	return ffpf_match_parse_args(f, mbuf, err);
}

static int count_configure(const struct ffpf_spec_filter *f, void *mbuf,
			   struct ffpf_spec_error *err)
{
	return ffpf_count_parse_args(f, err);
}

static int sample_configure(const struct ffpf_spec_filter *f, void *mbuf,
			    struct ffpf_spec_error *err)
{
	return ffpf_sample_parse_args(f, mbuf, err);
}

static int flowtrack_configure(const struct ffpf_spec_filter *f, void *mbuf,
			       struct ffpf_spec_error *err)
{
	return ffpf_flowtrack_parse_args(f, mbuf, err);
}

/* The flow table's size is fixed at load: take it from the configuration. */
static int flowtrack_prepare(struct bpf_object *obj, const void *cfg)
{
	const struct ffpf_ft_cfg *c = cfg;
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "flowtrack_table");
	struct bpf_map *byid = bpf_object__find_map_by_name(obj, "flowtrack_byid");
	__u32 size = c->size ? c->size : FFPF_FT_SIZE_DEFAULT;
	int err;

	if (!map || !byid)
		return -ENOENT;
	if (bpf_map__fd(map) >= 0)	/* shared with another flow's table: its size */
		return 0;
	err = bpf_map__set_max_entries(map, size);
	return err ?: bpf_map__set_max_entries(byid, c->flags & FFPF_FT_F_INDEX ?
						     size + size / 4 : 1);
}

/* prefixset (issue 5): the trie is sized at load, filled once loaded. */
static int prefixset_configure(const struct ffpf_spec_filter *f, void *init,
			       struct ffpf_spec_error *err)
{
	return ffpf_prefixset_parse_args(f, init, err);
}

static int prefixset_prepare(struct bpf_object *obj, const void *init)
{
	const struct ffpf_prefixset_args *a = init;
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "prefixset_set");

	if (!map)
		return -ENOENT;
	if (bpf_map__fd(map) >= 0)	/* shared with another flow's set: its size */
		return 0;
	return bpf_map__set_max_entries(map, a->cfg.size);
}

static int prefixset_loaded(struct ffpf_stage *st)
{
	const struct ffpf_prefixset_args *a = (const void *)st->init;

	/* A named instance's set was filled by its first stage and may have
	 * changed live since; a .share flow adds its own initial prefixes. */
	if (st->state_reused)
		return 0;
	return ffpf_prefixset_fill(st, a->init, a->n);
}

/* init[] is only 8-byte aligned: hand on the configuration, not the MBuf */
_Static_assert(offsetof(struct ffpf_payload_mbuf, cfg) == 0, "payload cfg first");

static int payload_configure(const struct ffpf_spec_filter *f, void *cfg,
			     struct ffpf_spec_error *err)
{
	return ffpf_payload_parse_args(f, cfg, err);
}

/* The patterns' tables go into the object's .bss (payload_tab). */
static int payload_prepare(struct bpf_object *obj, const void *cfg)
{
	struct bpf_map *map, *bss = NULL;
	struct ffpf_payload_tables *tab;
	int err;

	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t len = strlen(name);

		if (len >= 4 && !strcmp(name + len - 4, ".bss"))
			bss = map;
	}
	if (!bss || bpf_map__value_size(bss) != sizeof(*tab))
		return -ENOENT;
	if (bpf_map__fd(bss) >= 0)	/* shared with another flow's stage: its tables */
		return 0;
	tab = malloc(sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	err = ffpf_payload_compile(cfg, tab);
	if (err >= 0)
		err = bpf_map__set_initial_value(bss, tab, sizeof(*tab));
	free(tab);
	return err;
}

/* bpf (issue 5): the stage program is generated at load (cbpf_stage.c). */
#include "bpf.skel.h"
#include "bpf_tc.skel.h"
#include "cbpf.h"

/* init[] is only 8-byte aligned: hand on the configuration, not the MBuf */
_Static_assert(offsetof(struct ffpf_bpf_mbuf, cfg) == 0, "bpf cfg first");

static int bpf_configure(const struct ffpf_spec_filter *f, void *cfg,
			 struct ffpf_spec_error *err)
{
	return ffpf_bpf_parse_args(f, cfg, err);
}

/* The object's stub program is never loaded: only its maps are wanted. */
static int bpf_prepare(struct bpf_object *obj, const void *cfg)
{
	struct bpf_program *stub = bpf_object__next_program(obj, NULL);

	return stub ? bpf_program__set_autoload(stub, false) : -ENOENT;
}

_Static_assert(offsetof(struct ffpf_bpf_mbuf, cpu) <= FFPF_CFG_MAX, "config too large");

/* obj (issue 5): a user's stage object, opened from its file (obj.c). */
#include "obj.h"

static int obj_configure(const struct ffpf_spec_filter *f, void *init,
			 struct ffpf_spec_error *err)
{
	return ffpf_obj_parse_args(f, init, err);
}

_Static_assert(sizeof(struct ffpf_obj_cfg) <= FFPF_CFG_MAX, "config too large");

/* Extra members (e.g. .prepare) after TYPE. */
#define CLASS(NAME, TYPE, ...)						\
	{ .name = #NAME, .mbuf_size = sizeof(TYPE),			\
	  .cfg_size = offsetof(TYPE, cpu), .cpu_off = offsetof(TYPE, cpu),	\
	  .elf_bytes = ffpf_##NAME##__elf_bytes,				\
	  .elf_bytes_tc = ffpf_##NAME##_tc__elf_bytes,			\
	  .configure = NAME##_configure, __VA_ARGS__ }

static const struct ffpf_class ffpf_classes[] = {
	CLASS(match, struct ffpf_match_mbuf),
	CLASS(count, struct ffpf_count_mbuf),
	CLASS(sample, struct ffpf_sample_mbuf),
	CLASS(flowtrack, struct ffpf_flowtrack_mbuf, .prepare = flowtrack_prepare,
	      .one_place = "a flow table has one sweeper"),
	CLASS(prefixset, struct ffpf_prefixset_mbuf, .prepare = prefixset_prepare,
	      .loaded = prefixset_loaded, .pin_map = "prefixset_set"),
	CLASS(payload, struct ffpf_payload_mbuf, .prepare = payload_prepare),
	CLASS(bpf, struct ffpf_bpf_mbuf, .prepare = bpf_prepare,
	      .loaded = ffpf_cbpf_stage_loaded),
	/* MBuf: FFPF_USER_MBUF's, counters first; nothing copied into it */
	{ .name = "obj", .mbuf_size = sizeof(struct ffpf_mbuf_cpu) * FFPF_MBUF_CPUS,
	  .configure = obj_configure, .open = ffpf_obj_open,
	  .mbuf_name = ffpf_obj_mbuf_name, .load_failed = ffpf_obj_load_failed,
	  .mbuf_optional = true },
};

_Static_assert(offsetof(struct ffpf_match_mbuf, cfg) == 0 &&
	       offsetof(struct ffpf_sample_mbuf, every) == 0 &&
	       offsetof(struct ffpf_flowtrack_mbuf, cfg) == 0, "configuration not first");
_Static_assert(offsetof(struct ffpf_match_mbuf, cpu) <= FFPF_CFG_MAX, "config too large");
_Static_assert(offsetof(struct ffpf_flowtrack_mbuf, cpu) <= FFPF_CFG_MAX, "config too large");
_Static_assert(sizeof(struct ffpf_prefixset_args) <= FFPF_CFG_MAX, "config too large");
_Static_assert(offsetof(struct ffpf_payload_mbuf, cpu) <= FFPF_CFG_MAX, "config too large");

const struct ffpf_class *ffpf_class_find(const char *name)
{
	for (size_t i = 0; i < sizeof(ffpf_classes) / sizeof(ffpf_classes[0]); i++)
		if (!strcmp(ffpf_classes[i].name, name))
			return &ffpf_classes[i];
	return NULL;
}

const char *ffpf_class_names(void)
{
	static char names[128];

	if (!names[0]) {
		for (size_t i = 0, len = 0; i < sizeof(ffpf_classes) / sizeof(ffpf_classes[0]); i++)
			len += snprintf(names + len, sizeof(names) - len, "%s%s",
					i ? ", " : "", ffpf_classes[i].name);
	}
	return names;
}
