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
int cmd_flows(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_daemon(int argc, char **argv);

/* Exit codes: 0 ok, 1 failure at run time, 2 bad usage or bad spec. */
#define EXIT_USAGE 2

/* What the reports of `run` cover. */
struct capture;
struct report {
	struct ffpf_flow **flows;
	const char **labels;	/* per flow: its name, NAME-in / NAME-out with --hook both */
	int n;
	struct capture *cap;	/* -w: the capture; NULL for statistics only */
	bool monitor;		/* --monitor: the summary always says what was dropped */
};

/* Human-readable and JSON reports of running flows (report.c). */
void report_line(FILE *out, const struct report *r, double elapsed);
void report_summary(FILE *out, const struct report *r);
void report_json(FILE *out, const struct report *r, double elapsed);
/* tcpdump-style capture summary: per flow, per datapath, per file. */
void report_capture(FILE *out, const struct report *r);
void json_string(FILE *out, const char *s);
const char *hook_name(enum ffpf_hook hook);

/* Shared by the long-running commands (util.c). */
#include <signal.h>
extern volatile sig_atomic_t cmd_stop;	/* set by SIGINT / SIGTERM */
void cmd_catch_signals(void);
double cmd_now(void);			/* CLOCK_MONOTONIC, seconds */
int cmd_parse_seconds(const char *s, double *out);
int cmd_parse_u64(const char *s, unsigned long long max, unsigned long long *out);

/* Read a whole file (for -f FILE); NULL with a message on failure. */
char *read_file(const char *path);

#endif /* FFPF_CMD_H */
