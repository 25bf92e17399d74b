// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* report.c - live line, tcpdump-style summary and JSON for running flows. */
#include <string.h>
#include "cmd.h"

void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void flow_stats(struct ffpf_flow *f, struct ffpf_flow_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->sz = sizeof(*st);
	ffpf_flow_stats(f, st);
}

void report_line(FILE *out, struct ffpf_flow **flows, int n, double elapsed)
{
	fprintf(out, "%7.1fs", elapsed);
	for (int i = 0; i < n; i++) {
		struct ffpf_flow_stats st;

		flow_stats(flows[i], &st);
		fprintf(out, "  %s: %llu pkts %llu B", ffpf_flow_name(flows[i]),
			(unsigned long long)st.packets, (unsigned long long)st.bytes);
		if (st.missed)
			fprintf(out, " (%llu missed)", (unsigned long long)st.missed);
	}
	fputc('\n', out);
	fflush(out);
}

/* Each interface once, in the order flows name them. */
static bool first_on_iface(struct ffpf_flow **flows, int i)
{
	for (int j = 0; j < i; j++)
		if (!strcmp(ffpf_flow_ifname(flows[j]), ffpf_flow_ifname(flows[i])))
			return false;
	return true;
}

void report_summary(FILE *out, struct ffpf_flow **flows, int n)
{
	for (int i = 0; i < n; i++) {
		struct ffpf_flow_stats st;

		flow_stats(flows[i], &st);
		fprintf(out, "flow %s on %s:\n", ffpf_flow_name(flows[i]),
			ffpf_flow_ifname(flows[i]));
		fprintf(out, "  %llu packets matched (%llu bytes), %llu dispatched, %llu missed tail calls\n",
			(unsigned long long)st.packets, (unsigned long long)st.bytes,
			(unsigned long long)st.dispatched, (unsigned long long)st.missed);
		for (int k = 0; k < ffpf_flow_nfilters(flows[i]); k++) {
			struct ffpf_mbuf_hdr h = {0};

			ffpf_flow_filter_stats(flows[i], k, &h);
			fprintf(out, "    %d %-8s seen %llu passed %llu (%llu bytes)\n", k,
				ffpf_flow_filter_class(flows[i], k),
				(unsigned long long)h.seen, (unsigned long long)h.passed,
				(unsigned long long)h.bytes);
		}
	}
	for (int i = 0; i < n; i++) {
		struct ffpf_iface_stats is = { .sz = sizeof(is) };

		if (!first_on_iface(flows, i) || ffpf_flow_iface_stats(flows[i], &is))
			continue;
		fprintf(out, "%s: %llu packets received by filter, %llu matched a flow, "
			"%llu truncated, %llu malformed, %llu too deep to parse, %llu non-IP, "
			"%llu missed tail calls\n",
			ffpf_flow_ifname(flows[i]), (unsigned long long)is.rx_packets,
			(unsigned long long)is.matched, (unsigned long long)is.truncated,
			(unsigned long long)is.malformed, (unsigned long long)is.deep,
			(unsigned long long)is.non_ip, (unsigned long long)is.missed);
	}
}

void report_json(FILE *out, struct ffpf_flow **flows, int n, double elapsed)
{
	fprintf(out, "{\"elapsed\": %.3f, \"flows\": [", elapsed);
	for (int i = 0; i < n; i++) {
		struct ffpf_flow_stats st;

		flow_stats(flows[i], &st);
		fprintf(out, "%s\n  {\"name\": ", i ? "," : "");
		json_string(out, ffpf_flow_name(flows[i]));
		fprintf(out, ", \"ifname\": ");
		json_string(out, ffpf_flow_ifname(flows[i]));
		fprintf(out, ", \"packets\": %llu, \"bytes\": %llu, \"dispatched\": %llu, "
			"\"missed\": %llu, \"filters\": [",
			(unsigned long long)st.packets, (unsigned long long)st.bytes,
			(unsigned long long)st.dispatched, (unsigned long long)st.missed);
		for (int k = 0; k < ffpf_flow_nfilters(flows[i]); k++) {
			struct ffpf_mbuf_hdr h = {0};

			ffpf_flow_filter_stats(flows[i], k, &h);
			fprintf(out, "%s{\"class\": \"%s\", \"seen\": %llu, \"passed\": %llu, "
				"\"bytes\": %llu}", k ? ", " : "", ffpf_flow_filter_class(flows[i], k),
				(unsigned long long)h.seen, (unsigned long long)h.passed,
				(unsigned long long)h.bytes);
		}
		fprintf(out, "]}");
	}
	fprintf(out, "\n], \"interfaces\": [");
	for (int i = 0, first = 1; i < n; i++) {
		struct ffpf_iface_stats is = { .sz = sizeof(is) };

		if (!first_on_iface(flows, i) || ffpf_flow_iface_stats(flows[i], &is))
			continue;
		fprintf(out, "%s\n  {\"ifname\": ", first ? "" : ",");
		json_string(out, ffpf_flow_ifname(flows[i]));
		fprintf(out, ", \"rx_packets\": %llu, \"rx_bytes\": %llu, \"matched\": %llu, "
			"\"truncated\": %llu, \"malformed\": %llu, \"deep\": %llu, \"non_ip\": %llu, "
			"\"missed\": %llu}",
			(unsigned long long)is.rx_packets, (unsigned long long)is.rx_bytes,
			(unsigned long long)is.matched, (unsigned long long)is.truncated,
			(unsigned long long)is.malformed, (unsigned long long)is.deep,
			(unsigned long long)is.non_ip, (unsigned long long)is.missed);
		first = 0;
	}
	fprintf(out, "\n]}\n");
}
