/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * fuzz.h - helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * A target is one file, tests/fuzz/fuzz_NAME.c, defining
 * LLVMFuzzerTestOneInput(); `make fuzz` builds it as build/fuzz/fuzz_NAME
 * against the library compiled with the sanitizers, and tests/fuzz/run.sh
 * runs it on tests/fuzz/corpus/NAME/ with tests/fuzz/NAME.dict (both
 * optional). See docs/fuzzing.md.
 *
 * A broken invariant is reported with FUZZ_CHECK(): it prints what failed
 * and the input, then aborts, which libFuzzer records as a crash.
 */
#ifndef FFPF_FUZZ_H
#define FFPF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The current input as a C string, for messages (set by fuzz_cstr()). */
static const char *fuzz_input;

/*
 * A NUL-terminated copy of @data: what a C API taking a string sees.
 * Bytes after an embedded NUL are unreachable through such an API, which
 * is part of what is being tested. Free with free().
 */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_input = s;
	return s;
}

__attribute__((noreturn, format(printf, 4, 5)))
static void fuzz_fail(const char *file, int line, const char *cond,
		      const char *fmt, ...);

#include <stdarg.h>

static void fuzz_fail(const char *file, int line, const char *cond,
		      const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: invariant broken: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ninput: \"");
	for (const char *p = fuzz_input ? fuzz_input : ""; *p; p++) {
		unsigned char c = *p;

		if (c == '\\' || c == '"')
			fprintf(stderr, "\\%c", c);
		else if (c == '\n')
			fprintf(stderr, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			fprintf(stderr, "\\x%02x", c);
		else
			fputc(c, stderr);
	}
	fprintf(stderr, "\"\n");
	abort();
}

/* Abort with a message unless @cond holds. */
#define FUZZ_CHECK(cond, ...)						\
	do {								\
		if (!(cond))						\
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)

#endif /* FFPF_FUZZ_H */
