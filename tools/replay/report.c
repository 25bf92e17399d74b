// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* report.c - ffpf-replay's report: a table per flow and a summary, or
 * the same as JSON (docs/replay.md, "Report"). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include "engine.h"

static const char *const names[] = {
	[FFPF_REPLAY_PENDING]  = "pending",
	[FFPF_REPLAY_COMPLETE] = "complete",
	[FFPF_REPLAY_HUNG]     = "server hung",
	[FFPF_REPLAY_RESET]    = "reset",
	[FFPF_REPLAY_REFUSED]  = "refused",
	[FFPF_REPLAY_CLOSED]   = "closed early",
	[FFPF_REPLAY_SKIPPED]  = "skipped",
	[FFPF_REPLAY_ERROR]    = "error",
};

const char *rp_outcome_name(enum ffpf_replay_outcome o)
{
	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}

static void live_ep(const struct ffpf_replay_flow *f, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "-";

	if (f->outcome == FFPF_REPLAY_SKIPPED && !f->dlen) {
		snprintf(buf, len, "-");
	} else if (f->dst.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&f->dst;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const void *)&f->dst;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s->sin6_port));
	}
}

static void cap_eps(const struct rp_flow *cf, char *cli, char *srv, size_t len)
{
	int c = cf->client < 0 ? 0 : cf->client;

	rp_key_endpoint(&cf->key, c, cli, len);
	rp_key_endpoint(&cf->key, !c, srv, len);
}

static uint64_t turns_done(const struct ffpf_replay_flow *f)
{
	return f->next_turn;
}

void rp_report_text(FILE *out, const struct rp_capture *c, const struct ffpf_replay_flow *fl,
		    const char *plugin, uint64_t wall_ms)
{
	size_t count[FFPF_REPLAY_ERROR + 1] = { 0 };

	fprintf(out, "%4s %-5s %-24s %-24s %9s %9s %9s %9s %7s %7s  %s\n", "flow", "proto",
		"client (captured)", "server (live)", "sent", "cap.sent", "received", "expected",
		"turns", "ms", "outcome");
	for (size_t i = 0; i < c->nflows; i++) {
		const struct ffpf_replay_flow *f = &fl[i];
		char cli[64], srv[64], live[64], turns[24];

		cap_eps(f->cf, cli, srv, sizeof(cli));
		live_ep(f, live, sizeof(live));
		snprintf(turns, sizeof(turns), "%llu/%zu", (unsigned long long)turns_done(f),
			 f->cf->nturns);
		count[f->outcome]++;
		fprintf(out, "%4zu %-5s %-24s %-24s %9llu %9llu %9llu %9llu %7s %7llu  %s%s%s\n",
			f->idx, f->cf->proto == IPPROTO_TCP ? "tcp" : "udp", cli,
			f->outcome == FFPF_REPLAY_SKIPPED ? srv : live,
			(unsigned long long)f->sent, (unsigned long long)f->cf->clen,
			(unsigned long long)f->recvd, (unsigned long long)f->cf->sbytes, turns,
			(unsigned long long)(f->end_ms > f->start_ms && f->start_ms ? f->end_ms - f->start_ms : 0),
			rp_outcome_name(f->outcome), f->why[0] ? ": " : "", f->why);
		if (f->cf->warn[0])
			fprintf(out, "     note: %s\n", f->cf->warn);
	}
	fprintf(out, "summary: %zu flows (plug-in %s, %llu ms):", c->nflows, plugin,
		(unsigned long long)wall_ms);
	for (int o = FFPF_REPLAY_COMPLETE; o <= FFPF_REPLAY_ERROR; o++)
		if (count[o])
			fprintf(out, " %zu %s,", count[o], rp_outcome_name(o));
	fprintf(out, " %llu records, %llu not TCP/UDP, %llu fragments, %llu malformed\n",
		(unsigned long long)c->records, (unsigned long long)c->ignored,
		(unsigned long long)c->fragments, (unsigned long long)c->bad);
}

static void json_str(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(o, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(o, "\\u%04x", ch);
		else
			fputc(ch, o);
	}
	fputc('"', o);
}

int rp_report_json(const char *path, const char *capfile, const struct rp_capture *c,
		   const struct ffpf_replay_flow *fl, const char *plugin, uint64_t wall_ms)
{
	FILE *o = strcmp(path, "-") ? fopen(path, "w") : stdout;
	size_t count[FFPF_REPLAY_ERROR + 1] = { 0 };

	if (!o) {
		int e = errno;

		fprintf(stderr, "ffpf-replay: %s: %s\n", path, strerror(e));
		return -e;
	}
	fprintf(o, "{\"capture\": ");
	json_str(o, capfile);
	fprintf(o, ", \"plugin\": ");
	json_str(o, plugin);
	fprintf(o, ", \"wall_ms\": %llu, \"flows\": [", (unsigned long long)wall_ms);
	for (size_t i = 0; i < c->nflows; i++) {
		const struct ffpf_replay_flow *f = &fl[i];
		char cli[64], srv[64], live[64];

		cap_eps(f->cf, cli, srv, sizeof(cli));
		live_ep(f, live, sizeof(live));
		count[f->outcome]++;
		fprintf(o, "%s\n  {\"flow\": %zu, \"proto\": \"%s\", \"client\": \"%s\", \"server\": \"%s\", "
			"\"live_server\": \"%s\", \"first_record\": %llu, \"outcome\": \"%s\", \"reason\": ",
			i ? "," : "", f->idx, f->cf->proto == IPPROTO_TCP ? "tcp" : "udp", cli, srv,
			live, (unsigned long long)f->cf->first_rec, rp_outcome_name(f->outcome));
		json_str(o, f->why);
		fprintf(o, ", \"note\": ");
		json_str(o, f->cf->warn);
		fprintf(o, ", \"bytes_sent\": %llu, \"client_bytes_captured\": %llu, "
			"\"bytes_received\": %llu, \"server_bytes_expected\": %llu, "
			"\"turns_sent\": %llu, \"turns\": %zu, \"duration_ms\": %llu}",
			(unsigned long long)f->sent, (unsigned long long)f->cf->clen,
			(unsigned long long)f->recvd, (unsigned long long)f->cf->sbytes,
			(unsigned long long)turns_done(f), f->cf->nturns,
			(unsigned long long)(f->end_ms > f->start_ms && f->start_ms ? f->end_ms - f->start_ms : 0));
	}
	fprintf(o, "\n], \"summary\": {\"flows\": %zu", c->nflows);
	for (int k = FFPF_REPLAY_COMPLETE; k <= FFPF_REPLAY_ERROR; k++) {
		char key[32];

		snprintf(key, sizeof(key), "%s", rp_outcome_name(k));
		for (char *p = key; *p; p++)
			if (*p == ' ')
				*p = '_';
		fprintf(o, ", \"%s\": %zu", key, count[k]);
	}
	fprintf(o, ", \"records\": %llu, \"ignored\": %llu, \"fragments\": %llu, \"malformed\": %llu}}\n",
		(unsigned long long)c->records, (unsigned long long)c->ignored,
		(unsigned long long)c->fragments, (unsigned long long)c->bad);
	if (o != stdout)
		fclose(o);
	else
		fflush(o);
	return 0;
}
