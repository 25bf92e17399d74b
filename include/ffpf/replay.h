/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ffpf/replay.h - plug-in API of ffpf-replay (docs/replay.md).
 *
 * ffpf-replay splits a capture into flows; each flow is a list of turns:
 * a client chunk (the bytes the client sent, reassembled) followed by the
 * number of bytes the server answered in the capture. The engine opens a
 * real socket to the live server per flow; a plug-in decides, on events
 * (flow start, data from the server, its timer), when the next client
 * chunk goes out, may rewrite it, and ends the flow with an outcome.
 *
 * A plug-in drives the engine only through the ops table it is handed,
 * so a shared object needs no symbol from the executable. It exports one
 * symbol, FFPF_REPLAY_PLUGIN_SYMBOL, a const struct ffpf_replay_plugin,
 * and is looked for as PLUGIN_PATH/ffpf_replay_NAME.so.
 *
 * Threading: everything runs in the engine's one event loop thread;
 * callbacks must not block.
 */
#ifndef FFPF_REPLAY_H
#define FFPF_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on an incompatible change of the structs below. */
#define FFPF_REPLAY_ABI_VERSION		1
#define FFPF_REPLAY_PLUGIN_SYMBOL	"ffpf_replay_plugin"

/* How a flow ended (the report's "outcome"). */
enum ffpf_replay_outcome {
	FFPF_REPLAY_PENDING = 0,	/* not ended yet */
	FFPF_REPLAY_COMPLETE,		/* every client chunk sent, server done */
	FFPF_REPLAY_HUNG,		/* server stopped answering (timeout) */
	FFPF_REPLAY_RESET,		/* connection reset by the server */
	FFPF_REPLAY_REFUSED,		/* connect refused / unreachable */
	FFPF_REPLAY_CLOSED,		/* server closed before the client was done */
	FFPF_REPLAY_SKIPPED,		/* not replayed (reason in the report) */
	FFPF_REPLAY_ERROR,		/* local error (socket, plug-in) */
};

/* Live settings every plug-in may use as its defaults (command line). */
struct ffpf_replay_config {
	size_t sz;
	uint32_t quiet_ms;	/* --quiet-ms: server silent this long = its turn is over */
	uint32_t hung_ms;	/* --hung-ms: no byte this long while waiting = hung */
	size_t :0;
};

/* One flow being replayed (opaque). */
struct ffpf_replay_flow;

/*
 * What a plug-in may ask of the engine. Every function takes the flow
 * the callback was called for. Functions returning int give 0 or a
 * negative errno.
 */
struct ffpf_replay_ops {
	size_t sz;
	/* Send the next client chunk (possibly empty) and make its turn the
	 * current one. -ENODATA when every chunk was sent. */
	int (*send_next)(struct ffpf_replay_flow *f);
	/* The next chunk, before it is sent (NULL data when none left). The
	 * engine owns the bytes; they stay valid until send_next/replace. */
	int (*next_chunk)(struct ffpf_replay_flow *f, const uint8_t **data, size_t *len);
	/* Replace the next chunk with a copy of @data (a plug-in's rewrite). */
	int (*replace_next)(struct ffpf_replay_flow *f, const void *data, size_t len);
	/* Chunks not sent yet. */
	size_t (*chunks_left)(struct ffpf_replay_flow *f);
	/* Server bytes the capture has after the current chunk / received
	 * live since it was sent. */
	uint64_t (*expected)(struct ffpf_replay_flow *f);
	uint64_t (*received)(struct ffpf_replay_flow *f);
	/* Arm the flow's one timer @ms from now (re-arming moves it);
	 * 0 ms fires at the next loop turn. */
	int (*set_timer)(struct ffpf_replay_flow *f, uint32_t ms);
	void (*cancel_timer)(struct ffpf_replay_flow *f);
	/* End the flow (closes its socket); @why may be NULL. flow_end is
	 * called once, from the engine, after the current callback. */
	void (*end_flow)(struct ffpf_replay_flow *f, enum ffpf_replay_outcome o,
			 const char *why);
	/* The command line's settings. */
	const struct ffpf_replay_config *(*config)(struct ffpf_replay_flow *f);
	/* 1 for TCP, 0 for UDP (a datagram per chunk). */
	int (*is_stream)(struct ffpf_replay_flow *f);
	size_t :0;
};

/* Handed to every per-flow callback. */
struct ffpf_replay_ctx {
	size_t sz;
	const struct ffpf_replay_ops *ops;
	struct ffpf_replay_flow *flow;
	void *global;		/* what init() set */
	void *state;		/* flow_state_sz zeroed bytes, owned by the engine */
	size_t :0;
};

/* The plug-in descriptor. Callbacks left NULL do nothing. */
struct ffpf_replay_plugin {
	size_t sz;			/* sizeof(struct ffpf_replay_plugin) */
	unsigned int abi_version;	/* FFPF_REPLAY_ABI_VERSION */
	const char *name;
	const char *description;	/* one line, for --list-plugins */
	size_t flow_state_sz;		/* per-flow state the engine allocates */
	/* Once, before any flow: @args is what followed "NAME:" (or ""),
	 * @cfg the command line's settings. Non-zero (negative errno)
	 * aborts the run; print why to stderr. */
	int  (*init)(const char *args, const struct ffpf_replay_config *cfg, void **global);
	void (*fini)(void *global);
	/* The connection to the server is up (TCP) or the socket is ready
	 * (UDP): nothing was sent yet. */
	void (*flow_start)(struct ffpf_replay_ctx *c);
	/* @len bytes arrived from the server (counted before the call). */
	void (*server_data)(struct ffpf_replay_ctx *c, const uint8_t *data, size_t len);
	/* The timer set with set_timer fired. */
	void (*timer)(struct ffpf_replay_ctx *c);
	/* The server closed its side (TCP FIN); the engine ends the flow
	 * after this call (complete when no chunk is left, else closed)
	 * unless the plug-in ended it. */
	void (*server_eof)(struct ffpf_replay_ctx *c);
	/* Last call for the flow: free what the state points to. */
	void (*flow_end)(struct ffpf_replay_ctx *c, enum ffpf_replay_outcome o);
	size_t :0;
};

#ifdef __cplusplus
}
#endif

#endif /* FFPF_REPLAY_H */
