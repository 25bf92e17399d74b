// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * check.c - `ffpf-bpf check`: validate specs without loading anything.
 * Several specs (or a flow file's flows) are checked in order, as `run`
 * would populate them: a named instance is known after its definition.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"

static const char check_usage[] =
	"Usage: ffpf-bpf check [-f FILE | SPEC...]\n"
	"  FILE holds one spec, or flows as \"NAME = SPEC\" entries (docs/spec.md)\n";

static int check_specs(const char *const *specs, const char *const *names, int n)
{
	int counts[n ? n : 1], bad = 0, total = 0;

	if (ffpf_specs_check(specs, n, counts, &bad)) {
		if (names)
			fprintf(stderr, "ffpf-bpf check: in flow %s\n", names[bad]);
		else if (n > 1)
			fprintf(stderr, "ffpf-bpf check: in spec %d\n", bad + 1);
		return EXIT_USAGE;
	}
	for (int i = 0; i < n; i++)
		total += counts[i];
	if (n == 1 && !names) {
		printf("ok: %d filter%s\n", total, total == 1 ? "" : "s");
		return 0;
	}
	printf("ok: %d flow%s, %d filters\n", n, n == 1 ? "" : "s", total);
	for (int i = 0; names && i < n; i++)
		printf("  %s: %d filter%s\n", names[i], counts[i], counts[i] == 1 ? "" : "s");
	return 0;
}

static int check_file(const char *path)
{
	struct ffpf_flow_def *defs;
	char *text = read_file(path);
	const char **specs, **names;
	int n, ret;

	if (!text)
		return EXIT_USAGE;
	if (!ffpf_is_flow_file(text)) {
		ret = check_specs((const char *const *)&text, NULL, 1);
		free(text);
		return ret;
	}
	n = ffpf_flow_file_parse(text, &defs);
	free(text);
	if (n < 0)
		return EXIT_USAGE;
	specs = calloc(n + 1, sizeof(*specs));
	names = calloc(n + 1, sizeof(*names));
	if (!specs || !names) {
		ret = 1;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		specs[i] = defs[i].spec;
		names[i] = defs[i].name;
	}
	ret = check_specs(specs, names, n);
out:
	free(specs);
	free(names);
	ffpf_flow_file_free(defs, n);
	return ret;
}

int cmd_check(int argc, char **argv)
{
	const char *file = NULL;
	int c;

	while ((c = getopt(argc, argv, "f:h")) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 'h':
			fputs(check_usage, stdout);
			return 0;
		default:
			fputs(check_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (file && optind == argc)
		return check_file(file);
	if (file || optind == argc) {
		fputs(check_usage, stderr);
		return EXIT_USAGE;
	}
	return check_specs((const char *const *)&argv[optind], NULL, argc - optind);
}
