// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * plugin_default.c - the `default` replay plug-in: protocol-blind.
 * After sending a chunk it waits for the server's turn; the first byte
 * starts a "no more data" (quiet) timer, every byte restarts it, and
 * when it fires the next chunk goes. No byte within the hung timeout
 * ends the flow as server hung. Turns the capture has without server
 * bytes go at once.
 * Arguments: quiet=MS,hung=MS (default: --quiet-ms, --hung-ms).
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include "engine.h"

struct dflt_flow {
	int got;		/* a byte arrived since the last send */
};

/* Send chunks until one expects an answer; then wait for it. */
static void send_turn(struct ffpf_replay_ctx *c)
{
	const struct ffpf_replay_ops *o = c->ops;
	struct rp_timeouts *g = c->global;
	struct dflt_flow *s = c->state;

	for (;;) {
		if (o->send_next(c->flow))
			return;		/* the engine ended the flow */
		if (o->expected(c->flow))
			break;
		if (!o->chunks_left(c->flow)) {
			o->end_flow(c->flow, FFPF_REPLAY_COMPLETE, NULL);
			return;
		}
	}
	s->got = 0;
	o->set_timer(c->flow, g->hung_ms);
}

static void dflt_start(struct ffpf_replay_ctx *c)
{
	send_turn(c);
}

static void dflt_data(struct ffpf_replay_ctx *c, const uint8_t *data, size_t len)
{
	struct rp_timeouts *g = c->global;
	struct dflt_flow *s = c->state;

	s->got = 1;
	c->ops->set_timer(c->flow, g->quiet_ms);
}

static void dflt_timer(struct ffpf_replay_ctx *c)
{
	struct rp_timeouts *g = c->global;
	struct dflt_flow *s = c->state;
	char why[96];

	if (!s->got) {
		snprintf(why, sizeof(why), "no answer within %u ms", g->hung_ms);
		c->ops->end_flow(c->flow, FFPF_REPLAY_HUNG, why);
		return;
	}
	if (!c->ops->chunks_left(c->flow)) {
		c->ops->end_flow(c->flow, FFPF_REPLAY_COMPLETE, NULL);
		return;
	}
	send_turn(c);
}

const struct ffpf_replay_plugin rp_plugin_default = {
	.sz = sizeof(struct ffpf_replay_plugin),
	.abi_version = FFPF_REPLAY_ABI_VERSION,
	.name = "default",
	.description = "any protocol: next chunk when the server was quiet for quiet=MS; hung=MS",
	.flow_state_sz = sizeof(struct dflt_flow),
	.init = rp_timeouts_init,
	.fini = rp_timeouts_fini,
	.flow_start = dflt_start,
	.server_data = dflt_data,
	.timer = dflt_timer,
};
