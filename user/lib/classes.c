// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * classes.c - the built-in filter classes. Each is a BPF object embedded
 * by its skeleton; adding a class is one row here plus its .bpf.c.
 */
#include <string.h>
#include "internal.h"
#include "match.skel.h"
#include "count.skel.h"
#include "sample.skel.h"

static int match_configure(const struct ffpf_spec_filter *f, void *mbuf,
			   struct ffpf_spec_error *err)
{
	struct ffpf_match_mbuf *m = mbuf;

	return ffpf_match_parse_args(f, &m->cfg, err);
}

static int count_configure(const struct ffpf_spec_filter *f, void *mbuf,
			   struct ffpf_spec_error *err)
{
	return ffpf_count_parse_args(f, err);
}

static int sample_configure(const struct ffpf_spec_filter *f, void *mbuf,
			    struct ffpf_spec_error *err)
{
	struct ffpf_sample_mbuf *m = mbuf;

	return ffpf_sample_parse_args(f, &m->every, err);
}

static const struct ffpf_class ffpf_classes[] = {
	{ "match",  sizeof(struct ffpf_match_mbuf),  ffpf_match__elf_bytes,  match_configure },
	{ "count",  sizeof(struct ffpf_count_mbuf),  ffpf_count__elf_bytes,  count_configure },
	{ "sample", sizeof(struct ffpf_sample_mbuf), ffpf_sample__elf_bytes, sample_configure },
};

_Static_assert(sizeof(struct ffpf_match_mbuf) <= FFPF_MBUF_MAX, "MBuf too large");

const struct ffpf_class *ffpf_class_find(const char *name)
{
	for (size_t i = 0; i < sizeof(ffpf_classes) / sizeof(ffpf_classes[0]); i++)
		if (!strcmp(ffpf_classes[i].name, name))
			return &ffpf_classes[i];
	return NULL;
}

const char *ffpf_class_names(void)
{
	return "match, count, sample";
}
