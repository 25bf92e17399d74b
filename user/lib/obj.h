/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * obj.h - the obj("file.bpf.o", "prog", mbuf="map") class: a filter class
 * the user compiled against ffpf/stage.h (docs/api.md).
 */
#ifndef FFPF_OBJ_H
#define FFPF_OBJ_H

#include <stddef.h>
#include <bpf/libbpf.h>

#define FFPF_OBJ_PATH_MAX	256
#define FFPF_OBJ_NAME_MAX	64

/* The stage's configuration (st->init); nothing of it goes to the MBuf. */
struct ffpf_obj_cfg {
	char path[FFPF_OBJ_PATH_MAX];	/* absolute (realpath at configure) */
	char prog[FFPF_OBJ_NAME_MAX];	/* the program to load */
	char mbuf[FFPF_OBJ_NAME_MAX];	/* its MBuf map; default "<prog>_mbuf" */
	int mbuf_given;			/* mbuf= was in the spec: it must exist */
};

/*
 * Check that @cfg names a loadable user stage without loading it: an ELF
 * BPF object with a license, the program, reserved maps of the right
 * types, and the MBuf if one was named. 0, or -errno with @why set.
 */
int ffpf_obj_check(const struct ffpf_obj_cfg *cfg, char *why, size_t whylen);

struct ffpf_stage;
/* Class hooks (classes.c): open st's object for @egress, name its MBuf. */
int ffpf_obj_open(struct ffpf_stage *st, int egress);
const char *ffpf_obj_mbuf_name(const struct ffpf_stage *st);
/* After a failed load: print the verifier log's tail. */
void ffpf_obj_load_failed(struct ffpf_stage *st);

#endif /* FFPF_OBJ_H */
