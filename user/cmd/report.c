// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* report.c - live line, tcpdump-style summary and JSON for running flows. */
#include <string.h>
#include "cmd.h"
#include "capture.h"

typedef unsigned long long ull;

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

const char *hook_name(enum ffpf_hook hook)
{
	return hook == FFPF_HOOK_EGRESS ? "egress" : "ingress";
}

/* " (egress)" after an interface name; nothing for the default hook. */
static const char *hook_suffix(const struct ffpf_flow *f)
{
	return ffpf_flow_hook(f) == FFPF_HOOK_EGRESS ? " (egress)" : "";
}

static void flow_stats(struct ffpf_flow *f, struct ffpf_flow_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->sz = sizeof(*st);
	ffpf_flow_stats(f, st);
}

static void rx_stats(struct ffpf_flow *f, struct ffpf_rx_stats *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->sz = sizeof(*rs);
	ffpf_flow_rx_stats(f, rs);
}

static const char *label(const struct report *r, int i)
{
	return r->labels && r->labels[i] ? r->labels[i] : ffpf_flow_name(r->flows[i]);
}

void report_line(FILE *out, const struct report *r, double elapsed)
{
	fprintf(out, "%7.1fs", elapsed);
	for (int i = 0; i < r->n; i++) {
		struct ffpf_flow_stats st;

		flow_stats(r->flows[i], &st);
		fprintf(out, "  %s: %llu pkts %llu B", label(r, i), (ull)st.packets, (ull)st.bytes);
		if (st.missed)
			fprintf(out, " (%llu missed)", (ull)st.missed);
		if (r->cap)
			fprintf(out, " %llu written", (ull)capture_flow_captured(r->cap, i));
	}
	fputc('\n', out);
	fflush(out);
}

/* Each datapath (interface and hook) once, in the order flows name them. */
static bool first_on_dp(struct ffpf_flow **flows, int i)
{
	for (int j = 0; j < i; j++)
		if (ffpf_flow_hook(flows[j]) == ffpf_flow_hook(flows[i]) &&
		    !strcmp(ffpf_flow_ifname(flows[j]), ffpf_flow_ifname(flows[i])))
			return false;
	return true;
}

void report_summary(FILE *out, const struct report *r)
{
	for (int i = 0; i < r->n; i++) {
		struct ffpf_flow *f = r->flows[i];
		struct ffpf_flow_stats st;

		flow_stats(f, &st);
		fprintf(out, "flow %s on %s%s: %s\n", ffpf_flow_name(f), ffpf_flow_ifname(f),
			hook_suffix(f), ffpf_flow_spec(f));
		fprintf(out, "  %llu packets matched (%llu bytes), %llu dispatched, %llu missed tail calls\n",
			(ull)st.packets, (ull)st.bytes, (ull)st.dispatched, (ull)st.missed);
		for (int k = 0; k < ffpf_flow_nfilters(f); k++) {
			struct ffpf_mbuf_hdr h = {0};

			ffpf_flow_filter_stats(f, k, &h);
			fprintf(out, "    %d %-8s seen %llu passed %llu (%llu bytes)%s%s\n", k,
				ffpf_flow_filter_class(f, k), (ull)h.seen, (ull)h.passed,
				(ull)h.bytes, ffpf_flow_filter_name(f, k) ? "  instance " : "",
				ffpf_flow_filter_name(f, k) ?: "");
		}
	}
	for (int i = 0; i < r->n; i++) {
		struct ffpf_iface_stats is = { .sz = sizeof(is) };

		if (!first_on_dp(r->flows, i) || ffpf_flow_iface_stats(r->flows[i], &is))
			continue;
		fprintf(out, "%s%s: %llu packets received by filter, %llu matched a flow, "
			"%llu truncated, %llu malformed, %llu too deep to parse, %llu non-IP, "
			"%llu missed tail calls",
			ffpf_flow_ifname(r->flows[i]), hook_suffix(r->flows[i]),
			(ull)is.rx_packets, (ull)is.matched, (ull)is.truncated,
			(ull)is.malformed, (ull)is.deep, (ull)is.non_ip, (ull)is.missed);
		/* also when another process's monitor flow dropped them */
		if (is.monitor_dropped || (r->monitor && ffpf_flow_hook(r->flows[i]) ==
					   FFPF_HOOK_INGRESS))
			fprintf(out, ", %llu dropped (monitor)", (ull)is.monitor_dropped);
		fputc('\n', out);
	}
}

/*
 * tcpdump's closing lines, per flow and per datapath: what went into the
 * files, what the chain accepted, and where the difference went.
 */
void report_capture(FILE *out, const struct report *r)
{
	if (!r->cap)
		return;
	for (int i = 0; i < r->n; i++) {
		struct ffpf_flow *f = r->flows[i];
		struct ffpf_flow_stats st;
		struct ffpf_rx_stats rs;

		flow_stats(f, &st);
		rx_stats(f, &rs);
		fprintf(out, "flow %s on %s%s: %llu packets captured, %llu packets received by "
			"filter, %llu packets dropped (IBuf full)\n", label(r, i),
			ffpf_flow_ifname(f), hook_suffix(f),
			(ull)capture_flow_captured(r->cap, i), (ull)st.packets, (ull)rs.dropped);
	}
	for (int i = 0; i < r->n; i++) {
		struct ffpf_flow *f = r->flows[i];
		struct ffpf_iface_stats is = { .sz = sizeof(is) };
		struct ffpf_rx_stats rs;

		if (!first_on_dp(r->flows, i))
			continue;
		rx_stats(f, &rs);
		ffpf_flow_iface_stats(f, &is);
		fprintf(out, "%s %s (%s mode, snaplen %u): ", ffpf_flow_ifname(f),
			hook_name(ffpf_flow_hook(f)), rs.mode == FFPF_RX_TAP ? "tap" : "copy",
			rs.snaplen);
		if (rs.mode == FFPF_RX_TAP)
			fprintf(out, "%llu packets to user space, %llu lost (no free PBuf frame); "
				"AF_XDP: %llu dropped, %llu RX ring full, %llu fill ring empty, "
				"%llu invalid; passed to the stack uncaptured: %llu (no socket on "
				"the queue), %llu (no room for metadata)",
				(ull)rs.records, (ull)rs.no_frame, (ull)rs.xsk_rx_dropped,
				(ull)rs.xsk_rx_ring_full, (ull)rs.xsk_fill_ring_empty,
				(ull)rs.xsk_rx_invalid, (ull)is.tap_no_socket, (ull)is.tap_meta_fail);
		else
			fprintf(out, "%llu packets copied by the kernel, %llu lost (ring buffer "
				"full), %llu to user space, %llu lost (no free PBuf frame)",
				(ull)is.copied, (ull)rs.lost, (ull)rs.records, (ull)rs.no_frame);
		fprintf(out, "; PBuf %llu frames, at most %llu in use\n", (ull)rs.frames,
			(ull)rs.frames_high_water);
	}
	for (int k = 0; k < capture_nfiles(r->cap); k++)
		fprintf(out, "%s: %llu packets written\n", capture_file_path(r->cap, k),
			(ull)capture_file_packets(r->cap, k));
	fflush(out);
}

void report_json(FILE *out, const struct report *r, double elapsed)
{
	fprintf(out, "{\"elapsed\": %.3f, \"flows\": [", elapsed);
	for (int i = 0; i < r->n; i++) {
		struct ffpf_flow *f = r->flows[i];
		struct ffpf_flow_stats st;

		flow_stats(f, &st);
		fprintf(out, "%s\n  {\"name\": ", i ? "," : "");
		json_string(out, ffpf_flow_name(f));
		fprintf(out, ", \"label\": ");
		json_string(out, label(r, i));
		fprintf(out, ", \"ifname\": ");
		json_string(out, ffpf_flow_ifname(f));
		fprintf(out, ", \"spec\": ");
		json_string(out, ffpf_flow_spec(f));
		fprintf(out, ", \"hook\": \"%s\", \"packets\": %llu, \"bytes\": %llu, "
			"\"dispatched\": %llu, \"missed\": %llu, ", hook_name(ffpf_flow_hook(f)),
			(ull)st.packets, (ull)st.bytes, (ull)st.dispatched, (ull)st.missed);
		if (r->cap) {
			struct ffpf_rx_stats rs;

			rx_stats(f, &rs);
			fprintf(out, "\"captured\": %llu, \"received_by_filter\": %llu, "
				"\"dropped\": %llu, \"ibuf_received\": %llu, ",
				(ull)capture_flow_captured(r->cap, i), (ull)st.packets,
				(ull)rs.dropped, (ull)rs.received);
		}
		fprintf(out, "\"filters\": [");
		for (int k = 0; k < ffpf_flow_nfilters(f); k++) {
			struct ffpf_mbuf_hdr h = {0};

			ffpf_flow_filter_stats(f, k, &h);
			fprintf(out, "%s{\"class\": \"%s\", ", k ? ", " : "",
				ffpf_flow_filter_class(f, k));
			if (ffpf_flow_filter_name(f, k)) {
				fprintf(out, "\"name\": ");
				json_string(out, ffpf_flow_filter_name(f, k));
				fprintf(out, ", ");
			}
			fprintf(out, "\"seen\": %llu, \"passed\": %llu, \"bytes\": %llu}",
				(ull)h.seen, (ull)h.passed, (ull)h.bytes);
		}
		fprintf(out, "]}");
	}
	fprintf(out, "\n], \"interfaces\": [");
	for (int i = 0, first = 1; i < r->n; i++) {
		struct ffpf_flow *f = r->flows[i];
		struct ffpf_iface_stats is = { .sz = sizeof(is) };

		if (!first_on_dp(r->flows, i) || ffpf_flow_iface_stats(f, &is))
			continue;
		fprintf(out, "%s\n  {\"ifname\": ", first ? "" : ",");
		json_string(out, ffpf_flow_ifname(f));
		fprintf(out, ", \"hook\": \"%s\", \"rx_packets\": %llu, \"rx_bytes\": %llu, "
			"\"matched\": %llu, \"truncated\": %llu, \"malformed\": %llu, "
			"\"deep\": %llu, \"non_ip\": %llu, \"missed\": %llu, "
			"\"monitor_dropped\": %llu",
			hook_name(ffpf_flow_hook(f)), (ull)is.rx_packets, (ull)is.rx_bytes,
			(ull)is.matched, (ull)is.truncated, (ull)is.malformed, (ull)is.deep,
			(ull)is.non_ip, (ull)is.missed, (ull)is.monitor_dropped);
		if (r->cap) {
			struct ffpf_rx_stats rs;

			rx_stats(f, &rs);
			fprintf(out, ", \"rx\": {\"mode\": \"%s\", \"snaplen\": %u, "
				"\"records\": %llu, \"lost\": %llu, \"no_frame\": %llu, "
				"\"frames\": %llu, \"frames_high_water\": %llu, \"stored\": %llu, "
				"\"descs\": %llu, \"copied\": %llu, \"copy_lost\": %llu, "
				"\"tap_redirected\": %llu, \"tap_no_socket\": %llu, "
				"\"tap_meta_fail\": %llu, \"xsk_rx_dropped\": %llu, "
				"\"xsk_rx_ring_full\": %llu, \"xsk_fill_ring_empty\": %llu, "
				"\"xsk_rx_invalid\": %llu}",
				rs.mode == FFPF_RX_TAP ? "tap" : rs.mode == FFPF_RX_COPY ? "copy" : "none",
				rs.snaplen, (ull)rs.records, (ull)rs.lost, (ull)rs.no_frame,
				(ull)rs.frames, (ull)rs.frames_high_water, (ull)rs.stored,
				(ull)rs.descs, (ull)is.copied, (ull)is.copy_lost,
				(ull)is.tap_redirected, (ull)is.tap_no_socket, (ull)is.tap_meta_fail,
				(ull)rs.xsk_rx_dropped, (ull)rs.xsk_rx_ring_full,
				(ull)rs.xsk_fill_ring_empty, (ull)rs.xsk_rx_invalid);
		}
		fputc('}', out);
		first = 0;
	}
	fprintf(out, "\n]");
	if (r->cap) {
		fprintf(out, ", \"capture\": {\"written\": %llu, \"files\": [",
			(ull)capture_written(r->cap));
		for (int k = 0; k < capture_nfiles(r->cap); k++) {
			fprintf(out, "%s{\"path\": ", k ? ", " : "");
			json_string(out, capture_file_path(r->cap, k));
			fprintf(out, ", \"packets\": %llu}", (ull)capture_file_packets(r->cap, k));
		}
		fprintf(out, "]}");
	}
	fprintf(out, "}\n");
}
