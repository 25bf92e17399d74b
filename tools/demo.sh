#!/usr/bin/env bash
# tools/demo.sh - ffpf-bpf on real traffic, in two throw-away network
# namespaces (`make demo` runs this after installing deps and building).
#
# A client and a server namespace are joined by a veth pair. On the
# server's end, ffpf-bpf runs three flows while the client pings, sends
# UDP datagrams and downloads files over HTTP for about 10 seconds; then
# ffpf-bpf is stopped with SIGINT and prints its summary. Nothing leaves
# the two namespaces, and everything is removed at the end (also on
# Ctrl-C). Works without a terminal. Needs root.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FFPF=$ROOT/build/ffpf-bpf
DURATION=10

if [[ $(id -u) -ne 0 ]]; then
	echo "demo: needs root (it loads BPF programs, attaches XDP and creates network" >&2
	echo "namespaces): sudo make demo" >&2
	exit 1
fi
if [[ ! -x "$FFPF" ]]; then
	echo "demo: $FFPF is not built: run 'make' (or 'sudo make demo')" >&2
	exit 1
fi

# shellcheck source=SCRIPTDIR/../tests/lib/netns.sh
source "$ROOT/tests/lib/netns.sh"

# Bold headings on a terminal, plain text otherwise.
if [[ -t 1 ]]; then B=$'\e[1m' N=$'\e[0m'; else B='' N=''; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }

say "Setting up: two network namespaces joined by a veth pair"
ns_setup
echo "client: namespace $NS_C, interface $IF_C, $IP_C"
echo "server: namespace $NS_S, interface $IF_S, $IP_S"
start_http_server 8080
start_udp_sink 5353
echo "server runs an HTTP server on port 8080 and a UDP sink on port 5353"

FLOWS=(
	--flow 'web=match(tcp, port 8080) -> count'
	--flow 'dns_like=match(udp, dst port 5353) -> sample(2) -> count'
	--flow 'ping=match(icmp) -> count'
)
say "Starting ffpf-bpf on $IF_S (the server's end of the veth pair)"
echo "  ffpf-bpf run -i $IF_S \\"
echo "      --flow 'web=match(tcp, port 8080) -> count' \\"
echo "      --flow 'dns_like=match(udp, dst port 5353) -> sample(2) -> count' \\"
echo "      --flow 'ping=match(icmp) -> count' --interval 1"
echo
# nsenter --net rather than ip netns exec: the latter remounts /sys, which
# hides /sys/fs/bpf (not needed here, but it is what --pin would need).
# stderr (the live line) and stdout (the summary) go to the terminal and,
# through tee, to files the explanation below reads.
nsenter --net="/run/netns/$NS_S" -- "$FFPF" run -i "$IF_S" "${FLOWS[@]}" --interval 1 \
	> >(tee "$FF_TMP/summary.txt") 2> >(tee "$FF_TMP/live.txt" >&2) </dev/null &
FFPF_PID=$!
ns_on_cleanup "kill -TERM $FFPF_PID 2>/dev/null || true"
if ! wait_for "grep -qs 'flows\\? active' '$FF_TMP/live.txt'" 15; then
	echo "demo: ffpf-bpf did not start:" >&2
	cat "$FF_TMP/live.txt" >&2
	exit 1
fi

say "Client traffic for ${DURATION}s: ping, UDP to port 5353, HTTP downloads"
PINGS=$((DURATION * 5))
UDPS=$((DURATION * 15))
ns_bg "$NS_C" "$FF_TMP/ping.log" ping -c "$PINGS" -i 0.2 -W 2 -q "$IP_S"
ping_pid=$FF_LAST_PID
ns_bg "$NS_C" "$FF_TMP/udp.log" "$FF_PYTHON" -c '
import socket, sys, time
dst, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    s.sendto(b"query %d" % i, (dst, 5353))
    time.sleep(secs / n)
' "$IP_S" "$UDPS" "$((DURATION - 1))"
udp_pid=$FF_LAST_PID
# shellcheck disable=SC2016 # $1 is expanded by the inner bash
ns_bg "$NS_C" "$FF_TMP/curl.log" bash -c '
for i in 1 2 3 4; do
	for f in 1m.bin 100k.bin 1k.bin; do
		curl -sS --max-time 10 -o /dev/null -w "%{size_download}\n" "$1/$f" || echo fail
	done
	sleep 2
done' curl-loop "$FF_HTTP_URL"
curl_pid=$FF_LAST_PID
for p in "$ping_pid" "$udp_pid" "$curl_pid"; do
	wait "$p" 2>/dev/null || true
done
udp_wait_count 5353 "$UDPS" 3 || true
sleep 1 # one more live line with the final counts

say "Stopping ffpf-bpf with SIGINT: its summary"
kill -INT "$FFPF_PID"
wait "$FFPF_PID" 2>/dev/null || true
sleep 0.2 # let tee print the last lines

# packets N of flow NAME, from the summary
flow_packets() {
	awk -v f="flow $1 on" 'index($0, f) == 1 { getline; print $1; exit }' "$FF_TMP/summary.txt"
}
sent_ping=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$FF_TMP/ping.log")
got_udp=$(udp_sink_count 5353)
downloads=$(grep -c '^[0-9]' "$FF_TMP/curl.log" || true)
bytes=$(awk '/^[0-9]+$/ { s += $1 } END { print s + 0 }' "$FF_TMP/curl.log")

say "Capturing: ping requests and replies, both hooks, into one pcapng"
CAP=$FF_TMP/ping.pcapng
echo "  ffpf-bpf run -i $IF_S --hook both -w ping.pcapng --pcapng --flow 'ping=match(icmp)' --duration 4"
nsenter --net="/run/netns/$NS_S" -- "$FFPF" run -i "$IF_S" --hook both -w "$CAP" --pcapng \
	--flow 'ping=match(icmp)' --duration 4 -q >/dev/null 2>"$FF_TMP/cap.txt" </dev/null &
cap_pid=$!
if wait_for "grep -qs 'flows\\? active' '$FF_TMP/cap.txt'" 15; then
	ns_c ping -c 5 -i 0.2 -q "$IP_S" >/dev/null || true
fi
wait "$cap_pid" 2>/dev/null || true
grep -E 'captured|lost|written' "$FF_TMP/cap.txt" || cat "$FF_TMP/cap.txt"
echo
echo "  tshark -r ping.pcapng (the comment names the flow that matched each packet):"
tshark -r "$CAP" -T fields -e frame.number -e ip.src -e ip.dst -e icmp.type -e frame.comment \
	2>/dev/null | head -n 10 | sed 's/^/    /'
cap_n=$(tshark -r "$CAP" 2>/dev/null | wc -l)

say "Tracking flows: both directions of each conversation, one record per flow"
RECS=$FF_TMP/flows.jsonl
echo "  ffpf-bpf flows -i $IF_S --flows-out flows.jsonl --top --rows 8 --duration 4"
nsenter --net="/run/netns/$NS_S" -- "$FFPF" flows -i "$IF_S" --flows-out "$RECS" --top \
	--rows 8 --duration 4 >"$FF_TMP/top.txt" 2>"$FF_TMP/flows.txt" </dev/null &
flows_pid=$!
if wait_for "grep -qs 'flows: tracking on' '$FF_TMP/flows.txt'" 15; then
	for f in 100k.bin 1m.bin; do
		ns_c curl -s -o /dev/null "$FF_HTTP_URL/$f" || true
	done
	udp_send 5 5353 100 || true
	ns_c ping -c 3 -i 0.2 -q "$IP_S" >/dev/null || true
fi
wait "$flows_pid" 2>/dev/null || true
echo "  the final table (what was live when it stopped):"
awk '/^final: /{p=1} p' "$FF_TMP/top.txt" | sed 's/^/    /'
echo "  the records (flows.jsonl), one per flow, with why it ended:"
"$FF_PYTHON" - "$RECS" <<'PY' | sed 's/^/    /'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["proto"] not in (1, 6, 17):
        continue
    if r["proto"] == 1:   # dst_port: type << 8 | code, src_port: echo id
        ends = "%s -> %s (echo id %d)" % (r["src_addr"], r["dst_addr"], r["src_port"])
    else:
        ends = "%s:%s -> %s:%s" % (r["src_addr"], r["src_port"], r["dst_addr"], r["dst_port"])
    print("%-4s %s  out %d pkts %d B, in %d pkts %d B, %s" % (
        {1: "icmp", 6: "tcp", 17: "udp"}[r["proto"]], ends, r["out_packets"], r["out_bytes"],
        r["in_packets"], r["in_bytes"], r["reason"]))
PY
tail -n 1 "$FF_TMP/flows.txt" | sed 's/^/  /'
nrecs=$(grep -c . "$RECS" || true)

say "What you saw"
cat <<EOF
ffpf-bpf attached one XDP program to $IF_S. Every packet arriving on
$IF_S was parsed once, handed to the flows whose leading match() could
accept it, and then passed on to the kernel as usual (ffpf-bpf observes,
it never drops). The line printed every second is the live view of the
counters; the summary above is what each flow and each of its filters saw.

  ping      ${sent_ping:-?} echo requests were sent; the flow counted $(flow_packets ping).
            XDP sees what arrives on $IF_S: the requests, not the replies,
            which leave through it.
  dns_like  the server received $got_udp datagrams on port 5353; match passed
            all of them, sample(2) kept every 2nd (the 1st, 3rd, ...), so
            count ended at $(flow_packets dns_like) = ceil($got_udp / 2).
  web       $downloads downloads ($((bytes / 1024)) KiB) over port 8080; the flow counted
            $(flow_packets web) packets: what the client sent (requests and ACKs).
            The downloaded data flows the other way, out of $IF_S.

The capture ran the ping flow on both hooks of $IF_S: ingress (XDP) saw the
echo requests, egress (TC) the replies; $cap_n packets went into one pcapng,
copied to user space while the packets went on as usual.

The flow tracker ran on both hooks of $IF_S with one shared table, so each
conversation is one flow with both directions counted; $nrecs flows ended,
each in exactly one record (fin: both sides closed; closed: still live when
the command stopped). --ipfix HOST:PORT would export them to a collector.

The last line of the summary is the interface as a whole: every packet received, those
at least one flow accepted (the datagrams sample(2) skipped and the IPv6
neighbour discovery packets are not among them), "non-IP" (ARP), and
"missed tail calls", which would say if a chain could not run to its end.
Everything (namespaces, programs, maps) is removed now.
EOF
ns_cleanup
trap - EXIT
