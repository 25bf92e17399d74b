// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * loader.c - turn one filter instance into a loaded program: open the
 * class's embedded object, hand it the interface's shared maps, set its
 * successor slot as a load-time constant, load, and map its MBuf.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include "internal.h"
#include "log.h"
#include "inst.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

static int share_map(struct bpf_map *map, const struct ffpf_stage *from)
{
	struct bpf_map *src = bpf_object__find_map_by_name(from->obj, bpf_map__name(map));

	if (!src || bpf_map__fd(src) < 0)
		return -ENOENT;
	return bpf_map__reuse_fd(map, bpf_map__fd(src));
}

/* The interface's maps and the load-time constants: never a stage's state. */
static bool not_state(const char *name)
{
	return !strcmp(name, "ffpf_progs") || !strcmp(name, "ffpf_pctx") ||
	       ends_with(name, ".rodata");
}

int ffpf_stage_load(struct ffpf_stage *st, struct ffpf_iface *ifc,
		    __u32 next_slot, __u32 fail_slot)
{
	struct ffpf_stage_rodata ro = {
		.next_slot = next_slot,
		.atomic = libbpf_num_possible_cpus() > FFPF_MBUF_CPUS,
		.fail_slot = fail_slot,
	};
	char objname[32], mbufname[32];
	const void *bytes;
	struct bpf_program *prog;
	struct bpf_map *map, *mbuf = NULL;
	size_t sz, pagesz = sysconf(_SC_PAGESIZE);
	int err;

	snprintf(objname, sizeof(objname), "ffpf_%s", st->cls->name);
	snprintf(mbufname, sizeof(mbufname), "%s_mbuf", st->cls->name);
	if (st->cls->mbuf_name)
		snprintf(mbufname, sizeof(mbufname), "%s", st->cls->mbuf_name(st));
	if (st->cls->open) {	/* not embedded: the class opens it (obj) */
		err = st->cls->open(st, ifc->hook == FFPF_HOOK_EGRESS);
		if (err)
			goto fail;
	} else {
		bytes = ifc->hook == FFPF_HOOK_EGRESS ? st->cls->elf_bytes_tc(&sz)
						      : st->cls->elf_bytes(&sz);
		LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = objname);
		st->obj = bpf_object__open_mem(bytes, sz, &oo);
		if (!st->obj)
			return ffpf_err(errno, "%s: cannot open the class object: %s\n",
					st->cls->name, strerror(errno));
	}

	bpf_object__for_each_map(map, st->obj) {
		const char *name = bpf_map__name(map);

		if (!strcmp(name, "ffpf_progs"))
			err = bpf_map__reuse_fd(map, ifc->progs_fd);
		else if (!strcmp(name, "ffpf_pctx"))
			err = bpf_map__reuse_fd(map, ifc->pctx_fd);
		else if (ends_with(name, ".rodata"))
			err = bpf_map__set_initial_value(map, &ro, sizeof(ro));
		else {
			int fd = ffpf_inst_map_fd(st->inst, name);

			if (!strcmp(name, mbufname))
				mbuf = map;
			err = 0;
			if (fd >= 0) {	/* a named instance: its MBuf and state, as first loaded */
				err = bpf_map__reuse_fd(map, fd);
				st->state_reused = true;
			} else if (st->share && map != mbuf) {	/* the same state as st->share */
				err = share_map(map, st->share);
			}
		}
		if (err) {
			pr_warn("%s: cannot prepare map %s: %s\n", st->cls->name,
				name, strerror(-err));
			goto fail;
		}
	}
	if (!mbuf && !st->cls->mbuf_optional) {
		err = ffpf_err(ENOENT, "%s: class object has no map %s\n",
			       st->cls->name, mbufname);
		goto fail;
	}
	if (st->cls->prepare) {
		err = st->cls->prepare(st->obj, st->init);
		if (err) {
			pr_warn("%s: cannot prepare the stage: %s\n", st->cls->name,
				strerror(-err));
			goto fail;
		}
	}
	err = bpf_object__load(st->obj);
	if (err) {
		pr_warn("%s: the verifier or loader refused the stage: %s\n",
			st->cls->name, strerror(-err));
		if (st->cls->load_failed)
			st->cls->load_failed(st);
		goto fail;
	}
	/* The stage's program: the first one loaded (none: .loaded makes it). */
	bpf_object__for_each_program(prog, st->obj)
		if (bpf_program__autoload(prog))
			break;
	st->prog_fd = prog ? bpf_program__fd(prog) : -1;
	if (mbuf) {
		st->mbuf_fd = bpf_map__fd(mbuf);
		sz = bpf_map__value_size(mbuf);
	} else {	/* an object without an MBuf: private zero counters */
		LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE);
		sz = st->cls->mbuf_size;
		st->mbuf_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ffpf_mbuf", 4, sz, 1, &mo);
		if (st->mbuf_fd < 0) {
			err = ffpf_err(errno, "%s: cannot create an MBuf: %s\n",
				       st->cls->name, strerror(errno));
			goto fail;
		}
		st->mbuf_owned = true;
	}
	st->mbuf_len = (sz + pagesz - 1) / pagesz * pagesz;
	st->mbuf = mmap(NULL, st->mbuf_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			st->mbuf_fd, 0);
	if (st->mbuf == MAP_FAILED) {
		st->mbuf = NULL;
		err = ffpf_err(errno, "%s: cannot map the MBuf: %s\n",
			       st->cls->name, strerror(errno));
		goto fail;
	}
	/* A named instance's configuration is set once: it may have changed live. */
	if (!st->state_reused)
		memcpy(st->mbuf, st->init, st->cls->cfg_size);
	if (st->inst) {
		err = ffpf_inst_adopt(st->inst, st->obj, not_state);
		if (err) {
			pr_warn("%s: cannot keep the maps of instance %s: %s\n",
				st->cls->name, st->inst->name, strerror(-err));
			goto fail;
		}
	}
	if (st->cls->loaded) {
		err = st->cls->loaded(st);
		if (err)
			goto fail;
	}
	return 0;
fail:
	ffpf_stage_unload(st);
	return err;
}

int ffpf_stage_map_fd(const struct ffpf_stage *st, const char *name)
{
	struct bpf_map *map;
	int fd;

	if (!st || !st->obj || !name)
		return -ENOENT;
	map = bpf_object__find_map_by_name(st->obj, name);
	fd = map ? bpf_map__fd(map) : -1;
	return fd >= 0 ? fd : -ENOENT;
}

void ffpf_stage_unload(struct ffpf_stage *st)
{
	struct bpf_program *prog = NULL;

	/* A program a class built itself (.loaded) in place of the object's. */
	if (st->obj && st->prog_fd >= 0) {
		bpf_object__for_each_program(prog, st->obj)
			if (bpf_program__fd(prog) == st->prog_fd)
				break;
		if (!prog)
			close(st->prog_fd);
	}
	if (st->mbuf)
		munmap(st->mbuf, st->mbuf_len);
	st->mbuf = NULL;
	if (st->mbuf_owned && st->mbuf_fd >= 0)
		close(st->mbuf_fd);
	st->mbuf_owned = false;
	st->state_reused = false;
	bpf_object__close(st->obj);
	st->obj = NULL;
	st->prog_fd = st->mbuf_fd = -1;
}
