/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * inst.h (internal) - named filter instances: "dns :: match(udp, port 53)"
 * in one spec, "dns" in another. An instance is one MBuf and one set of
 * state maps; every place it appears is its own program (each place has
 * its own successors) running on those maps. The names are the process's:
 * a registry that lives as long as some flow uses the instance.
 */
#ifndef FFPF_INST_H
#define FFPF_INST_H

#include <stdbool.h>
#include <bpf/libbpf.h>

struct ffpf_class;

#define FFPF_INST_MAPS	16

struct ffpf_inst {
	struct ffpf_inst *next;		/* in the registry, or in a scope's pending list */
	char *name;
	const struct ffpf_class *cls;
	char text[160];			/* "class(args)": a definition must repeat it exactly */
	int refcnt;			/* stages (and scopes) holding it */
	bool registered;		/* in the process's registry */
	void *init;			/* the class configuration (FFPF_CFG_MAX bytes) */
	int nmaps;			/* the maps of its first loaded stage */
	struct {
		char name[BPF_OBJ_NAME_LEN];
		int fd;
	} maps[FFPF_INST_MAPS];
};

/*
 * Names being defined by specs not yet committed (a populate in progress,
 * or a check): looked up before the registry, committed or dropped whole.
 */
struct ffpf_inst_scope {
	struct ffpf_inst *pending;
};

/* The instance @name visible from @sc (pending first, then the registry). */
struct ffpf_inst *ffpf_inst_find(struct ffpf_inst_scope *sc, const char *name);
/* A new pending instance in @sc, holding one reference; NULL on ENOMEM. */
struct ffpf_inst *ffpf_inst_new(struct ffpf_inst_scope *sc, const char *name,
				const struct ffpf_class *cls, const char *text,
				const void *init);
static inline struct ffpf_inst *ffpf_inst_get(struct ffpf_inst *in)
{
	if (in)
		in->refcnt++;
	return in;
}
/* Drop a reference; the last one unregisters the instance and closes its maps. */
void ffpf_inst_put(struct ffpf_inst *in);
/* Register @sc's pending instances (a populate succeeded). */
void ffpf_inst_commit(struct ffpf_inst_scope *sc);
/* Drop @sc's own references to its pending instances. */
void ffpf_inst_scope_drop(struct ffpf_inst_scope *sc);

/* The instance's map @name, once a stage of it loaded; -1 otherwise. */
int ffpf_inst_map_fd(const struct ffpf_inst *in, const char *name);
/* Keep the maps of @obj (the first loaded stage of @in), but @skip ones. */
int ffpf_inst_adopt(struct ffpf_inst *in, struct bpf_object *obj,
		    bool (*skip)(const char *name));

#endif /* FFPF_INST_H */
