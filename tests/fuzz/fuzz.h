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

/*
 * No traffic, ever: libpcap resolves names in pcap-filter expressions
 * ("host example.com", "net NAME", "ether host NAME"), and the spec and
 * cbpf targets reach libpcap. These definitions in the target binary take
 * the place of libc's resolvers for the whole process (libpcap's calls
 * included): every name is unknown, at once. fuzz_no_network() also moves
 * the process into a network namespace of its own when it may (root), so
 * any path missed here finds no network either.
 */
#include <errno.h>
#include <netdb.h>
#include <sched.h>
#include <netinet/ether.h>

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	*res = NULL;
	return EAI_NONAME;
}

struct hostent *gethostbyname(const char *name)
{
	h_errno = HOST_NOT_FOUND;
	return NULL;
}

int getnetbyname_r(const char *name, struct netent *ret, char *buf, size_t len,
		   struct netent **result, int *h_errnop)
{
	*result = NULL;
	*h_errnop = HOST_NOT_FOUND;
	return ENOENT;
}

int ether_hostton(const char *hostname, struct ether_addr *addr)
{
	return -1;
}

static inline void fuzz_no_network(void)
{
	(void)unshare(CLONE_NEWNET);	/* not root: the stubs above still hold */
}

/* Abort with a message unless @cond holds. */
#define FUZZ_CHECK(cond, ...)						\
	do {								\
		if (!(cond))						\
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)

#endif /* FFPF_FUZZ_H */
