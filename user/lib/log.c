// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* log.c - the print callback, as libbpf_set_print(). */
#include <stdio.h>
#include "log.h"

static int ffpf_default_print(enum ffpf_print_level level, const char *fmt,
			      va_list args)
{
	if (level == FFPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static ffpf_print_fn_t ffpf_print = ffpf_default_print;

ffpf_print_fn_t ffpf_set_print(ffpf_print_fn_t fn)
{
	ffpf_print_fn_t old = ffpf_print;

	ffpf_print = fn;
	return old;
}

void ffpf_pr(enum ffpf_print_level level, const char *fmt, ...)
{
	va_list args;

	if (!ffpf_print)
		return;
	va_start(args, fmt);
	ffpf_print(level, fmt, args);
	va_end(args);
}

const char *ffpf_version(void)
{
	return FFPF_VERSION;
}
