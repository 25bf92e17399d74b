// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * rewrite.c - an example ffpf-replay plug-in built as a shared object
 * (build/replay/ffpf_replay_rewrite.so; docs/replay.md walks through it).
 *
 *   ffpf-replay --plugin-path build/replay --plugin rewrite:FROM=TO ...
 *
 * Replaces every FROM in the client's chunks with TO (same or another
 * length) before they are sent, e.g. a Host header for the live server,
 * and moves on when the server has sent at least the captured number of
 * bytes, or was quiet for --quiet-ms after some. Uses nothing but
 * ffpf/replay.h: the executable's symbols are not needed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ffpf/replay.h>

struct rw_global {
	char *from, *to;
	size_t fl, tl;
	uint32_t quiet_ms, hung_ms;
	unsigned long rewrites;
};

struct rw_flow {
	int got;
};

static int rw_init(const char *args, const struct ffpf_replay_config *cfg, void **global)
{
	struct rw_global *g;
	const char *eq = strchr(args, '=');

	if (!eq || eq == args) {
		fprintf(stderr, "rewrite: argument FROM=TO expected (--plugin rewrite:FROM=TO)\n");
		return -EINVAL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->from = strndup(args, (size_t)(eq - args));
	g->to = strdup(eq + 1);
	if (!g->from || !g->to) {
		free(g->from);
		free(g->to);
		free(g);
		return -ENOMEM;
	}
	g->fl = strlen(g->from);
	g->tl = strlen(g->to);
	g->quiet_ms = cfg->quiet_ms;
	g->hung_ms = cfg->hung_ms;
	*global = g;
	return 0;
}

static void rw_fini(void *global)
{
	struct rw_global *g = global;

	fprintf(stderr, "rewrite: %lu replacement(s)\n", g->rewrites);
	free(g->from);
	free(g->to);
	free(g);
}

/* Rewrite the next chunk in place (through replace_next). */
static void rewrite_next(struct ffpf_replay_ctx *c)
{
	struct rw_global *g = c->global;
	const uint8_t *d;
	size_t len, n = 0, o = 0;
	char *out;

	if (c->ops->next_chunk(c->flow, &d, &len) || !len)
		return;
	for (size_t i = 0; i + g->fl <= len; i++)
		if (!memcmp(d + i, g->from, g->fl))
			n++, i += g->fl - 1;
	if (!n)
		return;
	out = malloc(len + n * g->tl);
	if (!out)
		return;
	for (size_t i = 0; i < len;) {
		if (i + g->fl <= len && !memcmp(d + i, g->from, g->fl)) {
			memcpy(out + o, g->to, g->tl);
			o += g->tl;
			i += g->fl;
		} else {
			out[o++] = (char)d[i++];
		}
	}
	if (!c->ops->replace_next(c->flow, out, o))
		g->rewrites += n;
	free(out);
}

static void next_turn(struct ffpf_replay_ctx *c)
{
	struct rw_global *g = c->global;
	struct rw_flow *s = c->state;

	for (;;) {
		if (!c->ops->chunks_left(c->flow)) {
			c->ops->end_flow(c->flow, FFPF_REPLAY_COMPLETE, NULL);
			return;
		}
		rewrite_next(c);
		if (c->ops->send_next(c->flow))
			return;
		if (c->ops->expected(c->flow))
			break;
	}
	s->got = 0;
	c->ops->set_timer(c->flow, g->hung_ms);
}

static void rw_start(struct ffpf_replay_ctx *c)
{
	next_turn(c);
}

static void rw_data(struct ffpf_replay_ctx *c, const uint8_t *data, size_t len)
{
	struct rw_global *g = c->global;
	struct rw_flow *s = c->state;

	s->got = 1;
	/* the whole captured answer is here: no need to wait */
	if (c->ops->received(c->flow) >= c->ops->expected(c->flow))
		c->ops->set_timer(c->flow, 0);
	else
		c->ops->set_timer(c->flow, g->quiet_ms);
}

static void rw_timer(struct ffpf_replay_ctx *c)
{
	struct rw_flow *s = c->state;

	if (!s->got) {
		c->ops->end_flow(c->flow, FFPF_REPLAY_HUNG, "no answer (rewrite plug-in)");
		return;
	}
	next_turn(c);
}

const struct ffpf_replay_plugin ffpf_replay_plugin = {
	.sz = sizeof(struct ffpf_replay_plugin),
	.abi_version = FFPF_REPLAY_ABI_VERSION,
	.name = "rewrite",
	.description = "example: rewrite FROM=TO in client chunks",
	.flow_state_sz = sizeof(struct rw_flow),
	.init = rw_init,
	.fini = rw_fini,
	.flow_start = rw_start,
	.server_data = rw_data,
	.timer = rw_timer,
};
