// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* check.c - `ffpf-bpf check`: validate a spec without loading anything. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"

int cmd_check(int argc, char **argv)
{
	char *text = NULL;
	int c, n = 0, err;

	while ((c = getopt(argc, argv, "f:h")) != -1) {
		switch (c) {
		case 'f':
			free(text);
			text = read_file(optarg);
			if (!text)
				return EXIT_USAGE;
			break;
		case 'h':
			printf("Usage: ffpf-bpf check [-f FILE | SPEC]\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (!text) {
		if (optind != argc - 1) {
			fprintf(stderr, "Usage: ffpf-bpf check [-f FILE | SPEC]\n");
			return EXIT_USAGE;
		}
		text = strdup(argv[optind]);
	}
	err = ffpf_spec_check(text, &n);
	free(text);
	if (err)
		return EXIT_USAGE;
	printf("ok: %d filter%s\n", n, n == 1 ? "" : "s");
	return 0;
}
