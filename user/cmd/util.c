// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* util.c - what `run` and `flows` share: signals, the clock, option numbers. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include "cmd.h"

volatile sig_atomic_t cmd_stop;

static void on_signal(int sig)
{
	(void)sig;
	cmd_stop = 1;
}

void cmd_catch_signals(void)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
}

double cmd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int cmd_parse_seconds(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end ? -EINVAL : 0;
}

int cmd_parse_u64(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (*s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end || *out > max ? -EINVAL : 0;
}
