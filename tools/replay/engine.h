/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * engine.h - ffpf-replay's pieces: the event loop (engine.c), plug-in
 * loading (plugin.c), the built-in plug-ins (plugin_*.c) and the report
 * (report.c). See docs/replay.md.
 */
#ifndef FFPF_REPLAY_ENGINE_H
#define FFPF_REPLAY_ENGINE_H

#include <stdint.h>
#include <sys/socket.h>
#include <ffpf/replay.h>
#include "replay_cap.h"

#define RP_MAX_PORTMAP	64

struct rp_opts {
	size_t sz;
	const char *server;		/* --server ADDR[:PORT], NULL = captured */
	struct sockaddr_storage server_addr;
	int server_port;		/* 0 = captured (or mapped) */
	uint16_t map_from[RP_MAX_PORTMAP], map_to[RP_MAX_PORTMAP];
	int nmaps;
	int concurrency;
	double speed;			/* 0 = --topspeed */
	uint32_t connect_ms;
	uint64_t flow_timeout_ms;	/* whole-flow bound, 0 = none */
	struct ffpf_replay_config cfg;
	int verbose;
	size_t :0;
};

/* One flow's replay: the plug-ins' struct ffpf_replay_flow. */
struct ffpf_replay_flow {
	const struct rp_flow *cf;
	size_t idx;			/* 1-based, capture order */
	struct sockaddr_storage dst;
	socklen_t dlen;
	int fd;
	int state;			/* RP_L_* */
	size_t next_turn;		/* next chunk to send */
	long cur_turn;			/* -1 before the first send */
	uint8_t *repl;			/* replace_next()'s copy */
	size_t repl_len;
	int has_repl;
	uint8_t *obuf;			/* TCP bytes the socket did not take yet */
	size_t olen, ooff, ocap;
	uint64_t sent, recvd, turn_recvd;
	uint64_t deadline_ms, connect_deadline_ms, limit_ms;
	uint64_t start_ms, end_ms;
	enum ffpf_replay_outcome outcome;
	char why[200];
	void *pstate;
	struct ffpf_replay_ctx ctx;
	struct rp_engine *eng;
};

enum { RP_L_WAIT, RP_L_CONNECTING, RP_L_RUN, RP_L_DONE };

struct rp_plugin_inst {
	struct ffpf_replay_plugin p;	/* copied, zero-extended */
	void *global;
	void *dl;			/* dlopen handle, NULL for built-ins */
	const char *args;
};

struct rp_engine {
	const struct rp_opts *o;
	struct rp_plugin_inst *pl;
	struct ffpf_replay_flow *flows;
	size_t nflows;
	int epfd;
	uint64_t t0_ms;
	uint64_t wall_ms;
};

/* Run every flow of @c; @flows (c->nflows entries) gets the results. */
int rp_engine_run(const struct rp_capture *c, const struct rp_opts *o,
		  struct rp_plugin_inst *pl, struct ffpf_replay_flow *flows,
		  uint64_t *wall_ms);

/* Load NAME[:ARGS] (built-in or PATH/ffpf_replay_NAME.so); message on error. */
int rp_plugin_load(const char *spec, const char *path, const struct ffpf_replay_config *cfg,
		   struct rp_plugin_inst *out);
void rp_plugin_unload(struct rp_plugin_inst *pi);
void rp_plugin_list(FILE *out);

extern const struct ffpf_replay_plugin rp_plugin_default;
extern const struct ffpf_replay_plugin rp_plugin_http;

/* "quiet=200,hung=5000" style arguments: 0, or -EINVAL with a message. */
int rp_args_u32(const char *args, const char *key, uint32_t *val);

/* The built-in plug-ins' global state: the two timeouts, from the run's
 * configuration unless ARGS set quiet= or hung=. Their init and fini. */
struct rp_timeouts {
	uint32_t quiet_ms, hung_ms;
};
int rp_timeouts_init(const char *args, const struct ffpf_replay_config *cfg, void **global);
void rp_timeouts_fini(void *global);

const char *rp_outcome_name(enum ffpf_replay_outcome o);
void rp_report_text(FILE *out, const struct rp_capture *c, const struct ffpf_replay_flow *fl,
		    const char *plugin, uint64_t wall_ms);
int rp_report_json(const char *path, const char *capfile, const struct rp_capture *c,
		   const struct ffpf_replay_flow *fl, const char *plugin, uint64_t wall_ms);

uint64_t rp_now_ms(void);

#endif /* FFPF_REPLAY_ENGINE_H */
