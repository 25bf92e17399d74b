// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * plugin_http.c - the `http` replay plug-in (HTTP/1.x). It counts the
 * requests in each client chunk and parses the server's responses as
 * they arrive; the next chunk goes the moment the last response ends
 * (Content-Length reached, last chunk of a chunked body, no body for
 * HEAD/1xx/204/304), without the default plug-in's quiet wait. A body
 * delimited by the close of the connection ends with it.
 * Anything that does not look like HTTP falls back to the default
 * behaviour (quiet timer) for the rest of the flow.
 * Arguments: quiet=MS,hung=MS (default: --quiet-ms, --hung-ms).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "engine.h"

#define LINE_MAX_LEN	8192

enum { P_STATUS, P_HEADER, P_BODY, P_CHUNK_SIZE, P_CHUNK_DATA, P_CHUNK_END,
       P_TRAILER, P_UNTIL_CLOSE };

struct http_flow {
	int fallback;		/* not HTTP: quiet-timer behaviour */
	int got;
	int pending;		/* responses still due for the current chunk */
	uint64_t head_mask;	/* bit i: i-th pending request is a HEAD */
	int ps;			/* parser state */
	int status, chunked;
	int64_t clen;
	uint64_t remain;
	char line[LINE_MAX_LEN];
	size_t ll;
};

static const char *memfind(const char *h, size_t hl, const char *n)
{
	size_t nl = strlen(n);

	for (size_t i = 0; i + nl <= hl; i++)
		if (!memcmp(h + i, n, nl))
			return h + i;
	return NULL;
}

/* The value of header @name in the header block [h, h+hl), or -1. */
static int64_t header_num(const char *h, size_t hl, const char *name)
{
	size_t nl = strlen(name);

	for (const char *p = h; p < h + hl;) {
		const char *eol = memchr(p, '\n', (size_t)(h + hl - p));
		size_t l = eol ? (size_t)(eol - p) : (size_t)(h + hl - p);

		if (l > nl && !strncasecmp(p, name, nl) && p[nl] == ':')
			return strtoll(p + nl + 1, NULL, 10);
		p += l + 1;
	}
	return -1;
}

/* Count the requests in a chunk; -1 when it is not HTTP requests. */
static int count_requests(const uint8_t *d, size_t len, uint64_t *head_mask)
{
	const char *p = (const char *)d, *end = p + len;
	int n = 0;

	*head_mask = 0;
	while (p < end) {
		const char *hdr_end = memfind(p, (size_t)(end - p), "\r\n\r\n");
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		int64_t cl;

		if (!hdr_end || !sp || sp > hdr_end || sp == p || !isupper((unsigned char)*p) ||
		    !memfind(p, (size_t)(hdr_end - p + 2), " HTTP/1."))
			return -1;
		if (sp - p == 4 && !memcmp(p, "HEAD", 4) && n < 64)
			*head_mask |= 1ULL << n;
		cl = header_num(p, (size_t)(hdr_end - p), "Content-Length");
		p = hdr_end + 4 + (cl > 0 ? cl : 0);
		n++;
	}
	return n;
}

static void arm_hung(struct ffpf_replay_ctx *c)
{
	struct rp_timeouts *g = c->global;

	c->ops->set_timer(c->flow, g->hung_ms);
}

/* Send the next chunk and learn what it asks for. */
static void send_turn(struct ffpf_replay_ctx *c)
{
	const struct ffpf_replay_ops *o = c->ops;
	struct http_flow *s = c->state;
	const uint8_t *d;
	size_t len;

	for (;;) {
		if (o->next_chunk(c->flow, &d, &len)) {
			o->end_flow(c->flow, FFPF_REPLAY_COMPLETE, NULL);
			return;
		}
		if (!s->fallback) {
			int n = count_requests(d, len, &s->head_mask);

			if (n <= 0)
				s->fallback = 1;
			s->pending = n;
		}
		if (o->send_next(c->flow))
			return;
		if (o->expected(c->flow) || (!s->fallback && s->pending))
			break;
		if (!o->chunks_left(c->flow)) {
			o->end_flow(c->flow, FFPF_REPLAY_COMPLETE, NULL);
			return;
		}
	}
	s->got = 0;
	arm_hung(c);
}

static void http_start(struct ffpf_replay_ctx *c)
{
	struct http_flow *s = c->state;

	s->ps = P_STATUS;
	if (!c->ops->is_stream(c->flow))
		s->fallback = 1;
	send_turn(c);
}

/* One response is complete: the next chunk when none is due. */
static void response_done(struct ffpf_replay_ctx *c)
{
	struct http_flow *s = c->state;

	s->ps = P_STATUS;
	s->head_mask >>= 1;
	if (--s->pending > 0)
		return;
	c->ops->cancel_timer(c->flow);
	if (!c->ops->chunks_left(c->flow))
		c->ops->end_flow(c->flow, FFPF_REPLAY_COMPLETE, NULL);
	else
		send_turn(c);
}

static void end_headers(struct ffpf_replay_ctx *c)
{
	struct http_flow *s = c->state;

	if (s->status >= 100 && s->status < 200 && s->status != 101) {
		s->ps = P_STATUS;	/* interim: the real response follows */
	} else if ((s->head_mask & 1) || s->status == 204 || s->status == 304) {
		response_done(c);
	} else if (s->chunked) {
		s->ps = P_CHUNK_SIZE;
	} else if (s->clen >= 0) {
		s->remain = (uint64_t)s->clen;
		s->ps = P_BODY;
		if (!s->remain)
			response_done(c);
	} else {
		s->ps = P_UNTIL_CLOSE;
	}
}

/* A complete line (CRLF stripped) in a line-based state. */
static void on_line(struct ffpf_replay_ctx *c, char *l)
{
	struct http_flow *s = c->state;

	switch (s->ps) {
	case P_STATUS:
		if (strncmp(l, "HTTP/1.", 7) || strlen(l) < 12) {
			s->fallback = 1;
			return;
		}
		s->status = atoi(l + 9);
		s->chunked = 0;
		s->clen = -1;
		s->ps = P_HEADER;
		break;
	case P_HEADER:
		if (!*l) {
			end_headers(c);
		} else if (!strncasecmp(l, "Content-Length:", 15)) {
			s->clen = strtoll(l + 15, NULL, 10);
		} else if (!strncasecmp(l, "Transfer-Encoding:", 18)) {
			for (char *p = l; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			s->chunked = strstr(l, "chunked") != NULL;
		}
		break;
	case P_CHUNK_SIZE:
		s->remain = strtoull(l, NULL, 16);
		s->ps = s->remain ? P_CHUNK_DATA : P_TRAILER;
		break;
	case P_CHUNK_END:
		s->ps = P_CHUNK_SIZE;
		break;
	case P_TRAILER:
		if (!*l)
			response_done(c);
		break;
	}
}

static void http_data(struct ffpf_replay_ctx *c, const uint8_t *data, size_t len)
{
	struct http_flow *s = c->state;
	struct rp_timeouts *g = c->global;

	s->got = 1;
	for (size_t i = 0; i < len && !s->fallback; ) {
		if (s->ps == P_UNTIL_CLOSE)
			return;		/* the engine completes the flow at EOF */
		if (s->ps == P_BODY || s->ps == P_CHUNK_DATA) {
			size_t n = len - i < s->remain ? len - i : (size_t)s->remain;

			s->remain -= n;
			i += n;
			if (!s->remain) {
				if (s->ps == P_BODY)
					response_done(c);
				else
					s->ps = P_CHUNK_END;
			}
			continue;
		}
		if (s->pending <= 0) {
			s->fallback = 1;	/* bytes nobody asked for */
			break;
		}
		char ch = (char)data[i++];

		if (ch == '\n') {
			if (s->ll && s->line[s->ll - 1] == '\r')
				s->ll--;
			s->line[s->ll] = '\0';
			s->ll = 0;
			on_line(c, s->line);
		} else if (s->ll < LINE_MAX_LEN - 1) {
			s->line[s->ll++] = ch;
		}
	}
	if (s->fallback)
		c->ops->set_timer(c->flow, g->quiet_ms);
	else if (s->pending > 0)
		arm_hung(c);	/* a slow body is not a hung server */
}

static void http_timer(struct ffpf_replay_ctx *c)
{
	struct http_flow *s = c->state;
	struct rp_timeouts *g = c->global;
	char why[96];

	if (!s->fallback || !s->got) {
		snprintf(why, sizeof(why), s->got ? "answer stopped for %u ms" :
			 "no answer within %u ms", g->hung_ms);
		c->ops->end_flow(c->flow, FFPF_REPLAY_HUNG, why);
		return;
	}
	if (!c->ops->chunks_left(c->flow))
		c->ops->end_flow(c->flow, FFPF_REPLAY_COMPLETE, NULL);
	else
		send_turn(c);
}

const struct ffpf_replay_plugin rp_plugin_http = {
	.sz = sizeof(struct ffpf_replay_plugin),
	.abi_version = FFPF_REPLAY_ABI_VERSION,
	.name = "http",
	.description = "HTTP/1.x: next request as soon as the response ends (length, chunked); hung=MS",
	.flow_state_sz = sizeof(struct http_flow),
	.init = rp_timeouts_init,
	.fini = rp_timeouts_fini,
	.flow_start = http_start,
	.server_data = http_data,
	.timer = http_timer,
};
