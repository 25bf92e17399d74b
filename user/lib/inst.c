// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* inst.c - the registry of named filter instances (inst.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "inst.h"
#include "internal.h"

/* The process's named instances; the library's lifecycle is single-threaded. */
static struct ffpf_inst *registry;

static struct ffpf_inst *find_in(struct ffpf_inst *list, const char *name)
{
	for (; list; list = list->next)
		if (!strcmp(list->name, name))
			return list;
	return NULL;
}

struct ffpf_inst *ffpf_inst_find(struct ffpf_inst_scope *sc, const char *name)
{
	struct ffpf_inst *in = sc ? find_in(sc->pending, name) : NULL;

	return in ? in : find_in(registry, name);
}

struct ffpf_inst *ffpf_inst_new(struct ffpf_inst_scope *sc, const char *name,
				const struct ffpf_class *cls, const char *text,
				const void *init)
{
	struct ffpf_inst *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->name = strdup(name);
	in->init = malloc(FFPF_CFG_MAX);
	if (!in->name || !in->init) {
		free(in->name);
		free(in->init);
		free(in);
		return NULL;
	}
	memcpy(in->init, init, FFPF_CFG_MAX);
	in->cls = cls;
	snprintf(in->text, sizeof(in->text), "%s", text);
	in->refcnt = 1;		/* the scope's */
	in->next = sc->pending;
	sc->pending = in;
	return in;
}

static void unlink_from(struct ffpf_inst **pp, struct ffpf_inst *in)
{
	for (; *pp; pp = &(*pp)->next) {
		if (*pp == in) {
			*pp = in->next;
			return;
		}
	}
}

void ffpf_inst_put(struct ffpf_inst *in)
{
	if (!in || --in->refcnt > 0)
		return;
	if (in->registered)
		unlink_from(&registry, in);
	for (int i = 0; i < in->nmaps; i++)
		close(in->maps[i].fd);
	free(in->name);
	free(in->init);
	free(in);
}

void ffpf_inst_commit(struct ffpf_inst_scope *sc)
{
	while (sc->pending) {
		struct ffpf_inst *in = sc->pending;

		sc->pending = in->next;
		in->next = registry;
		registry = in;
		in->registered = true;
		ffpf_inst_put(in);	/* the scope's reference; stages keep theirs */
	}
}

void ffpf_inst_scope_drop(struct ffpf_inst_scope *sc)
{
	while (sc->pending) {
		struct ffpf_inst *in = sc->pending;

		sc->pending = in->next;
		in->next = NULL;
		ffpf_inst_put(in);
	}
}

int ffpf_inst_map_fd(const struct ffpf_inst *in, const char *name)
{
	for (int i = 0; in && i < in->nmaps; i++)
		if (!strcmp(in->maps[i].name, name))
			return in->maps[i].fd;
	return -1;
}

int ffpf_inst_adopt(struct ffpf_inst *in, struct bpf_object *obj,
		    bool (*skip)(const char *name))
{
	struct bpf_map *map;

	if (in->nmaps)
		return 0;
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		int fd;

		if (skip(name) || bpf_map__fd(map) < 0)
			continue;
		if (in->nmaps == FFPF_INST_MAPS)
			return -E2BIG;
		fd = dup(bpf_map__fd(map));
		if (fd < 0)
			return -errno;
		snprintf(in->maps[in->nmaps].name, sizeof(in->maps[0].name), "%s", name);
		in->maps[in->nmaps++].fd = fd;
	}
	return 0;
}
