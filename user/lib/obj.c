// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * obj.c - the obj("file.bpf.o", "prog", mbuf="map") class: load a stage
 * program the user compiled against ffpf/stage.h. The object is checked
 * at configure time (ffpf-bpf check) and again when it is opened to load:
 * an ELF BPF object with a license section, the named program, the
 * reserved maps (ffpf_progs, ffpf_pctx) and .rodata exactly as the header
 * declares them, and a usable MBuf if there is one.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <ffpf/mbuf.h>
#include "internal.h"
#include "log.h"
#include "obj.h"

/* An ELF BPF object with a license section? */
static int check_elf(const char *path, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), err = -ENOEXEC;
	bool license = false;
	Elf_Scn *scn = NULL;
	struct stat sb;
	GElf_Ehdr eh;
	size_t shstrndx;
	Elf *elf;

	if (fd < 0) {
		err = -errno;
		snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {	/* no FIFO, device, directory */
		snprintf(why, whylen, "%s is not a regular file", path);
		elf = NULL;
		goto out;
	}
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		snprintf(why, whylen, "%s is not an ELF object", path);
		goto out;
	}
	if (eh.e_machine != EM_BPF) {
		snprintf(why, whylen, "%s is not a BPF object (compile it with "
			 "clang -target bpf)", path);
		goto out;
	}
	if (elf_getshdrstrndx(elf, &shstrndx) == 0) {
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			const char *name;

			if (!gelf_getshdr(scn, &sh))
				continue;
			name = elf_strptr(elf, shstrndx, sh.sh_name);
			if (name && !strcmp(name, "license"))
				license = true;
		}
	}
	if (!license) {
		snprintf(why, whylen, "%s has no license section: add "
			 "char LICENSE[] SEC(\"license\") = \"Dual BSD/GPL\";", path);
		goto out;
	}
	err = 0;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

/* The opened object's program, reserved maps, .rodata and MBuf. */
static int check_obj(struct bpf_object *obj, const struct ffpf_obj_cfg *cfg,
		     char *why, size_t whylen)
{
	const size_t cpu_size = sizeof(struct ffpf_mbuf_cpu) * FFPF_MBUF_CPUS;
	struct bpf_program *prog;
	struct bpf_map *map;
	bool mbuf = false;

	if (!bpf_object__find_program_by_name(obj, cfg->prog)) {
		size_t len = snprintf(why, whylen, "%s has no program '%s'; it has:",
				      cfg->path, cfg->prog);
		int n = 0;

		bpf_object__for_each_program(prog, obj)
			if (len < whylen)
				len += snprintf(why + len, whylen - len, "%s %s",
						n++ ? "," : "", bpf_program__name(prog));
		if (!n && len < whylen)
			snprintf(why + len, whylen - len, " none");
		return -ENOENT;
	}
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		enum bpf_map_type t = bpf_map__type(map);

		if (!strcmp(name, "ffpf_progs") &&
		    (t != BPF_MAP_TYPE_PROG_ARRAY || bpf_map__key_size(map) != 4 ||
		     bpf_map__value_size(map) != 4 ||
		     bpf_map__max_entries(map) != FFPF_PROG_SLOTS))
			goto reserved;
		if (!strcmp(name, "ffpf_pctx") &&
		    (t != BPF_MAP_TYPE_PERCPU_ARRAY || bpf_map__key_size(map) != 4 ||
		     bpf_map__value_size(map) != sizeof(struct ffpf_pkt) ||
		     bpf_map__max_entries(map) != 1))
			goto reserved;
		/* ABI 3's ffpf_stage had no fail_slot: 8 bytes */
		if (ends_with(name, ".rodata") && bpf_map__value_size(map) == 8) {
			snprintf(why, whylen, "%s: built against an older ffpf/stage.h (its "
				 "ffpf_stage has no fail_slot): rebuild it with this one",
				 cfg->path);
			return -EINVAL;
		}
		if (ends_with(name, ".rodata") &&
		    bpf_map__value_size(map) != sizeof(struct ffpf_stage_rodata)) {
			snprintf(why, whylen, "%s: .rodata holds %u bytes, not only "
				 "ffpf_stage: keep your own constants (and bpf_printk formats) "
				 "in the MBuf or .data",
				 cfg->path, bpf_map__value_size(map));
			return -EINVAL;
		}
		if (!strcmp(name, cfg->mbuf)) {
			if (t != BPF_MAP_TYPE_ARRAY || bpf_map__max_entries(map) != 1 ||
			    !(bpf_map__map_flags(map) & BPF_F_MMAPABLE) ||
			    bpf_map__value_size(map) < cpu_size) {
				snprintf(why, whylen, "%s: map %s is not an MBuf: declare "
					 "it with FFPF_USER_MBUF (ffpf/stage.h)", cfg->path, name);
				return -EINVAL;
			}
			mbuf = true;
		}
		continue;
reserved:
		snprintf(why, whylen, "%s: map %s has the name of an ffpf map but not "
			 "its type: take it from ffpf/stage.h, do not declare it",
			 cfg->path, name);
		return -EINVAL;
	}
	if (cfg->mbuf_given && !mbuf) {
		snprintf(why, whylen, "%s has no map '%s'", cfg->path, cfg->mbuf);
		return -ENOENT;
	}
	return 0;
}

int ffpf_obj_check(const struct ffpf_obj_cfg *cfg, char *why, size_t whylen)
{
	struct bpf_object *obj;
	int err = check_elf(cfg->path, why, whylen);

	if (err)
		return err;
	obj = bpf_object__open_file(cfg->path, NULL);
	if (!obj) {
		err = -errno;
		snprintf(why, whylen, "libbpf cannot open %s: %s", cfg->path, strerror(errno));
		return err;
	}
	err = check_obj(obj, cfg, why, whylen);
	bpf_object__close(obj);
	return err;
}

const char *ffpf_obj_mbuf_name(const struct ffpf_stage *st)
{
	return ((const struct ffpf_obj_cfg *)(const void *)st->init)->mbuf;
}

/* The verifier's log of the last failed load (libbpf fills it on failure). */
static __thread char obj_log[32768];

int ffpf_obj_open(struct ffpf_stage *st, int egress)
{
	const struct ffpf_obj_cfg *cfg = (const void *)st->init;
	struct bpf_program *prog;
	char why[512];
	int err = check_elf(cfg->path, why, sizeof(why));

	if (err)
		return ffpf_err(-err, "obj: %s\n", why);
	st->obj = bpf_object__open_file(cfg->path, NULL);
	if (!st->obj)
		return ffpf_err(errno, "obj: libbpf cannot open %s: %s\n", cfg->path,
				strerror(errno));
	err = check_obj(st->obj, cfg, why, sizeof(why));
	if (err)
		return ffpf_err(-err, "obj: %s\n", why);
	obj_log[0] = 0;
	bpf_object__for_each_program(prog, st->obj) {
		bool mine = !strcmp(bpf_program__name(prog), cfg->prog);

		err = bpf_program__set_autoload(prog, mine);
		if (!err && mine) {
			/* one object serves both hooks: the type follows the hook */
			err = bpf_program__set_type(prog, egress ? BPF_PROG_TYPE_SCHED_CLS
								 : BPF_PROG_TYPE_XDP);
			err = err ?: bpf_program__set_expected_attach_type(prog,
					egress ? 0 : BPF_XDP);
			err = err ?: bpf_program__set_log_buf(prog, obj_log, sizeof(obj_log));
		}
		if (err)
			return ffpf_err(-err, "obj: cannot prepare program %s: %s\n",
					bpf_program__name(prog), strerror(-err));
	}
	return 0;
}

void ffpf_obj_load_failed(struct ffpf_stage *st)
{
	const struct ffpf_obj_cfg *cfg = (const void *)st->init;
	size_t len = strnlen(obj_log, sizeof(obj_log));
	const char *tail = obj_log;

	if (!len)
		return;
	if (len > 1200) {	/* the tail, from a line start: where it failed */
		tail = strchr(obj_log + len - 1200, '\n');
		tail = tail ? tail + 1 : obj_log + len - 1200;
	}
	pr_warn("obj: the verifier refused %s in %s; the end of its log:\n%s%s",
		cfg->prog, cfg->path, tail, obj_log[len - 1] == '\n' ? "" : "\n");
}
