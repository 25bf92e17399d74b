/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cmd.h - the ffpf-bpf command's subcommands. */
#ifndef FFPF_CMD_H
#define FFPF_CMD_H

#include <stdio.h>
#include <ffpf/ffpf.h>

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_activate(int argc, char **argv);
int cmd_close(int argc, char **argv);

/* Exit codes: 0 ok, 1 failure at run time, 2 bad usage or bad spec. */
#define EXIT_USAGE 2

/* Human-readable and JSON reports of running flows (report.c). */
void report_line(FILE *out, struct ffpf_flow **flows, int n, double elapsed);
void report_summary(FILE *out, struct ffpf_flow **flows, int n);
void report_json(FILE *out, struct ffpf_flow **flows, int n, double elapsed);
void json_string(FILE *out, const char *s);

/* Read a whole file (for -f FILE); NULL with a message on failure. */
char *read_file(const char *path);

#endif /* FFPF_CMD_H */
