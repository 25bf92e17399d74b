/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* log.h (internal) - every human-readable message goes through here. */
#ifndef FFPF_LOG_H
#define FFPF_LOG_H

#include <ffpf/ffpf.h>

__attribute__((format(printf, 2, 3)))
void ffpf_pr(enum ffpf_print_level level, const char *fmt, ...);

#define pr_warn(fmt, ...)  ffpf_pr(FFPF_WARN, "ffpf: " fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)  ffpf_pr(FFPF_INFO, "ffpf: " fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) ffpf_pr(FFPF_DEBUG, "ffpf: " fmt, ##__VA_ARGS__)

/* Return -err after printing; for one-line error exits. */
#define ffpf_err(err, fmt, ...) ({ pr_warn(fmt, ##__VA_ARGS__); -(err); })

#endif /* FFPF_LOG_H */
