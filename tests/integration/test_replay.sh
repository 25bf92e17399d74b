#!/usr/bin/env bash
# Integration test: ffpf-replay (docs/replay.md) against real servers.
#
# Real sessions are recorded with tcpdump on the server's veth: curl
# against an HTTP/1.1 keep-alive server (IPv4 and IPv6), an SMTP dialogue
# (Python smtplib against aiosmtpd), a line echo service and UDP echo
# request/response. Each capture is replayed from the client namespace
# against a FRESH server instance: the server's log must show the same
# requests, the report must say complete, and the server bytes received
# must equal the captured ones (the servers answer deterministically).
# A capture written by ffpf-bpf itself (pcapng) is replayed too. Then:
# port remap, a pcapng copy, the example plug-in loaded as a .so,
# a server stopped mid-way (server hung within the timeout), no server
# (refused), bad input (one clear message each, exit 2, nothing sent),
# snaplen-cut and handshake-less captures, and the http plug-in against
# default on a 50-request keep-alive session (timed, http must win).
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

RP=$FF_ROOT/build/ffpf-replay
SRV=$HERE/replay/servers.py
if [[ ! -x "$RP" ]]; then
	t_fail "prerequisites" "$RP not built: run 'make'"
	t_summary
	exit 1
fi
ff_need_root_and_tools tcpdump curl editcap
if ! "$FF_PYTHON" -c 'import aiosmtpd' 2>/dev/null; then
	t_fail "prerequisites" "python3-aiosmtpd missing (run 'make deps')"
	t_summary
	exit 1
fi
ffpf_setup

HTTP=8080 HTTP2=8081 SMTP=2525 ECHO=7007 UDPE=5006

# srv_start MODE PORT NAME [IP]: a servers.py instance in the server
# namespace logging to $FF_TMP/NAME.log (emptied); pid in SRV_PID.
srv_start() {
	local mode=$1 port=$2 name=$3 ip=${4:-$IP_S} i
	: >"$FF_TMP/$name.log"
	ns_bg "$NS_S" "$FF_TMP/$name.out" "$FF_PYTHON" "$SRV" "$mode" "$ip" "$port" "$FF_TMP/$name.log"
	SRV_PID=$FF_LAST_PID
	for ((i = 0; i < 100; i++)); do
		if ns_s "$FF_PYTHON" -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=0.5).close()' \
			"$ip" "$port" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "server $mode on $ip:$port did not start: $(tail -n 5 "$FF_TMP/$name.out")" >&2
	return 1
}

# srv_stop: stop the last server (its exit status is of no interest).
srv_stop() { ns_kill "$SRV_PID" || true; }

# rp_json FILE EXPR: evaluate a Python expression over the JSON report
# (j = the whole report, f = list of flows).
rp_json() {
	"$FF_PYTHON" -c '
import json, sys
j = json.load(open(sys.argv[1])); f = j["flows"]
print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null || echo "(no report)"
}

# replay NAME ARGS...: run ffpf-replay in the client namespace, report
# to $FF_TMP/NAME.json, table to NAME.txt, messages to NAME.err; status in RC.
replay() {
	local name=$1
	shift
	RC=0
	ns_c "$RP" --json "$FF_TMP/$name.json" "$@" >"$FF_TMP/$name.txt" 2>"$FF_TMP/$name.err" || RC=$?
}

# check_complete NAME LABEL CAPLOG LIVELOG: replay NAME exited 0, every
# flow complete, the server saw the same requests, received == expected
# server bytes.
check_complete() {
	local json=$FF_TMP/$1.json name=$2 a=$3 b=$4
	t_check "$name: exit 0" 0 "$RC"
	t_check "$name: every flow complete" True "$(rp_json "$json" 'all(x["outcome"] == "complete" for x in f) and len(f) > 0')"
	# flows run concurrently: the order between flows may differ
	if cmp -s <(sort "$a") <(sort "$b") && [[ -s "$a" ]]; then
		t_pass "$name: server saw the same $(wc -l <"$a") requests"
	else
		t_fail "$name: server saw the same requests" "$(diff "$a" "$b" | head -n 5)"
	fi
	t_check "$name: received == expected server bytes" True \
		"$(rp_json "$json" 'all(x["bytes_received"] == x["server_bytes_expected"] for x in f)')"
}

# --- record the sessions -----------------------------------------------------
srv_start http "$HTTP" http_rec "$IP6_S"
SRV6_PID=$SRV_PID
srv_start http "$HTTP" http_rec
tcpdump_start "$NS_S" "$IF_S" "tcp port $HTTP" "$FF_TMP/http.pcap"
ns_c curl -s -o /dev/null -o /dev/null -o /dev/null \
	"http://$IP_S:$HTTP/page/3" "http://$IP_S:$HTTP/chunked/40" "http://$IP_S:$HTTP/page/100"
ns_c curl -s -g -o /dev/null "http://[$IP6_S]:$HTTP/page/2"
tcpdump_stop "$FF_TMP/http.pcap"
srv_stop
SRV_PID=$SRV6_PID srv_stop

srv_start http "$HTTP" http50_rec
tcpdump_start "$NS_S" "$IF_S" "tcp port $HTTP" "$FF_TMP/http50.pcap"
ns_c curl -s "http://$IP_S:$HTTP/page/[1-50]" >/dev/null
tcpdump_stop "$FF_TMP/http50.pcap"
srv_stop

# twelve connections, one request each
srv_start http "$HTTP" many_rec
tcpdump_start "$NS_S" "$IF_S" "tcp port $HTTP" "$FF_TMP/many.pcap"
for i in $(seq 1 12); do
	ns_c curl -s -o /dev/null "http://$IP_S:$HTTP/page/$i"
done
tcpdump_stop "$FF_TMP/many.pcap"
srv_stop

srv_start smtp "$SMTP" smtp_rec
tcpdump_start "$NS_S" "$IF_S" "tcp port $SMTP" "$FF_TMP/smtp.pcap"
ns_c "$FF_PYTHON" - "$IP_S" "$SMTP" <<'PY'
import smtplib, sys
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), local_hostname="client.test", timeout=5)
s.ehlo("client.test")
s.sendmail("alice@client.test", ["bob@replay.test"],
           "Subject: replay\r\n\r\nHello Bob,\r\nthis message is replayed.\r\n")
s.quit()
PY
tcpdump_stop "$FF_TMP/smtp.pcap"
srv_stop

# echo_client: five lines, each after the previous one's echo
echo_client() {
	ns_c "$FF_PYTHON" - "$IP_S" "$ECHO" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
f = s.makefile("rb")
for i in range(5):
    s.sendall(b"line %d of the echo session\n" % i)
    f.readline()
s.close()
PY
}
srv_start echo "$ECHO" echo_rec
tcpdump_start "$NS_S" "$IF_S" "tcp port $ECHO" "$FF_TMP/echo.pcap"
echo_client
tcpdump_stop "$FF_TMP/echo.pcap"
srv_stop

# the same session captured by ffpf-bpf itself (pcapng, XDP in + TC out)
srv_start echo "$ECHO" ours_rec
OURS=0
if ffpf_start "$NS_S" ours -i "$IF_S" --hook both --flow "e=match(tcp, port $ECHO)" \
	-w "$FF_TMP/ours.pcapng" --pcapng -q; then
	echo_client
	ffpf_stop ours INT 15 || true
	OURS=1
else
	t_fail "ffpf-bpf run -w ours.pcapng starts" "$(tail -n 3 "$FF_TMP/ours.err")"
fi
srv_stop

start_udp_echo "$UDPE"
tcpdump_start "$NS_S" "$IF_S" "udp port $UDPE" "$FF_TMP/udp.pcap"
t_check "UDP echo session recorded" 4 "$(udp_request 4 "$UDPE" 200)"
tcpdump_stop "$FF_TMP/udp.pcap"

# --- replays against fresh servers -------------------------------------------
# two server processes (IPv4, IPv6) appending to one log
srv_start http "$HTTP" http_a "$IP6_S"
SRV6_PID=$SRV_PID
srv_start http "$HTTP" http_a
replay http_default --topspeed --quiet-ms 200 "$FF_TMP/http.pcap"
check_complete http_default "HTTP, default" "$FF_TMP/http_rec.log" "$FF_TMP/http_a.log"
t_check "http_default: two flows (IPv4 and IPv6)" "tcp tcp" "$(rp_json "$FF_TMP/http_default.json" '" ".join(x["proto"] for x in f)')"
t_check "http_default: IPv6 flow replayed to the IPv6 server" True \
	"$(rp_json "$FF_TMP/http_default.json" 'f[1]["live_server"].startswith("[fd00:")')"
echo "--- report (HTTP, default plug-in):"
sed 's/^/    /' "$FF_TMP/http_default.txt"

: >"$FF_TMP/http_a.log"
replay http_http --topspeed --plugin http "$FF_TMP/http.pcap"
check_complete http_http "HTTP, http plug-in" "$FF_TMP/http_rec.log" "$FF_TMP/http_a.log"
srv_stop
SRV_PID=$SRV6_PID srv_stop

# pcapng (what tshark and our capwrite write), remapped to another port
editcap -F pcapng "$FF_TMP/http.pcap" "$FF_TMP/http.pcapng"
srv_start http "$HTTP2" http_b "$IP6_S"
SRV6_PID=$SRV_PID
srv_start http "$HTTP2" http_b
replay http_ng --topspeed --plugin http --map-port "$HTTP:$HTTP2" "$FF_TMP/http.pcapng"
check_complete http_ng "pcapng, --map-port $HTTP:$HTTP2" "$FF_TMP/http_rec.log" "$FF_TMP/http_b.log"
: >"$FF_TMP/http_b.log"
replay http_srv --topspeed --plugin http --server "$IP_S:$HTTP2" "$FF_TMP/http.pcap"
check_complete http_srv "--server $IP_S:$HTTP2 (IPv6 flow too)" "$FF_TMP/http_rec.log" "$FF_TMP/http_b.log"

# the example plug-in, a shared object: rewrites the first request
: >"$FF_TMP/http_b.log"
replay http_so --topspeed --plugin-path "$FF_ROOT/build/replay" --plugin rewrite:/page/3=/page/4 \
	--map-port "$HTTP:$HTTP2" "$FF_TMP/http.pcap"
t_check "rewrite.so: exit 0" 0 "$RC"
t_check "rewrite.so: the server got the rewritten request" "1 0" \
	"$(grep -c '^GET /page/4$' "$FF_TMP/http_b.log") $(grep -c '^GET /page/3$' "$FF_TMP/http_b.log")"
t_check "rewrite.so: every flow complete" True "$(rp_json "$FF_TMP/http_so.json" 'all(x["outcome"] == "complete" for x in f)')"
replay http_noso --plugin-path "$FF_TMP" --plugin nosuch "$FF_TMP/http.pcap"
t_check "missing plug-in: exit 2" 2 "$RC"
if grep -q "nosuch.*cannot be loaded" "$FF_TMP/http_noso.err"; then
	t_pass "missing plug-in: says which file it looked for"
else
	t_fail "missing plug-in: message" "$(cat "$FF_TMP/http_noso.err")"
fi
srv_stop
SRV_PID=$SRV6_PID srv_stop

srv_start http "$HTTP" many_a
replay many --topspeed --concurrency 4 --plugin http "$FF_TMP/many.pcap"
check_complete many "12 flows, --concurrency 4" "$FF_TMP/many_rec.log" "$FF_TMP/many_a.log"
t_check "12 flows, --concurrency 4: 12 flows in the report" 12 "$(rp_json "$FF_TMP/many.json" 'len(f)')"
# --speed 1 keeps the captured gaps between flow starts (first to last SYN)
span=$(tcpdump -r "$FF_TMP/many.pcap" -nn -tt 'tcp[tcpflags] == tcp-syn' 2>/dev/null |
	awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%d", (b - a) * 1000 }')
: >"$FF_TMP/many_a.log"
replay many1 --speed 1 --plugin http "$FF_TMP/many.pcap"
w1=$(rp_json "$FF_TMP/many1.json" 'j["wall_ms"]')
w0=$(rp_json "$FF_TMP/many.json" 'j["wall_ms"]')
if [[ "$w1" =~ ^[0-9]+$ && "$span" =~ ^[0-9]+$ ]] && ((RC == 0 && w1 + 5 >= span && w0 < w1)); then
	t_pass "--speed 1 takes the captured span of flow starts (${w1} ms >= ${span} ms; --topspeed ${w0} ms)"
else
	t_fail "--speed 1 keeps the captured gaps" "rc $RC, ${w1} ms vs span ${span} ms, topspeed ${w0} ms"
fi
srv_stop

srv_start smtp "$SMTP" smtp_a
replay smtp --topspeed "$FF_TMP/smtp.pcap"
check_complete smtp "SMTP (aiosmtpd)" "$FF_TMP/smtp_rec.log" "$FF_TMP/smtp_a.log"
echo "--- report (SMTP, default plug-in):"
sed 's/^/    /' "$FF_TMP/smtp.txt"
srv_stop

if ((OURS)); then
	srv_start echo "$ECHO" ours_a
	replay ours --topspeed "$FF_TMP/ours.pcapng"
	check_complete ours "ffpf-bpf's own pcapng" "$FF_TMP/ours_rec.log" "$FF_TMP/ours_a.log"
	srv_stop
fi

srv_start echo "$ECHO" echo_a
replay echo --topspeed "$FF_TMP/echo.pcap"
check_complete echo "line echo" "$FF_TMP/echo_rec.log" "$FF_TMP/echo_a.log"
srv_stop

replay udp --topspeed "$FF_TMP/udp.pcap"
t_check "UDP request/response: exit 0" 0 "$RC"
t_check "UDP request/response: complete, 4 turns, 800 bytes back" "complete 4 800 800" \
	"$(rp_json "$FF_TMP/udp.json" '"%s %d %d %d" % (f[0]["outcome"], f[0]["turns_sent"], f[0]["bytes_received"], f[0]["server_bytes_expected"])')"

# --- a server stopped mid-way: server hung within the timeout ----------------
HUNG_MS=1500
srv_start echo "$ECHO" echo_h
t0=$(date +%s%N)
ns_c "$RP" --topspeed --hung-ms "$HUNG_MS" --json "$FF_TMP/hung.json" "$FF_TMP/echo.pcap" \
	>"$FF_TMP/hung.txt" 2>&1 &
rp_pid=$!
if wait_for "[[ -s '$FF_TMP/echo_h.log' ]]" 5; then
	kill -STOP "$SRV_PID"
fi
RC=0
wait "$rp_pid" || RC=$?
ms=$((($(date +%s%N) - t0) / 1000000))
kill -CONT "$SRV_PID" 2>/dev/null || true
srv_stop
echo "--- report (line echo, server SIGSTOPped after its first answer):"
sed 's/^/    /' "$FF_TMP/hung.txt"
t_check "server stopped mid-way: exit 1" 1 "$RC"
t_check "server stopped mid-way: outcome server hung" "server hung" "$(rp_json "$FF_TMP/hung.json" 'f[0]["outcome"]')"
t_check "server stopped mid-way: some turns done first" True "$(rp_json "$FF_TMP/hung.json" '1 < f[0]["turns_sent"] < f[0]["turns"]')"
# first answer + quiet (300 ms) + hung timeout, with slack for the VM
if ((ms < HUNG_MS + 300 + 2500)); then
	t_pass "server hung reported within the timeout (${ms} ms, --hung-ms $HUNG_MS)"
else
	t_fail "server hung reported within the timeout" "${ms} ms"
fi

# --- no server: refused --------------------------------------------------------
replay refused --topspeed --server "$IP_S:9" "$FF_TMP/echo.pcap"
t_check "no server: exit 1" 1 "$RC"
t_check "no server: outcome refused" refused "$(rp_json "$FF_TMP/refused.json" 'f[0]["outcome"]')"

# --- bad input ---------------------------------------------------------------
srv_start echo "$ECHO" echo_bad
# bad_input NAME FILE PATTERN: exit 2, PATTERN in the message, nothing sent
bad_input() {
	local name=$1 file=$2 pat=$3
	replay "bad_$name" --topspeed "$file"
	t_check "bad input ($name): exit 2" 2 "$RC"
	if grep -Eq "$pat" "$FF_TMP/bad_$name.err"; then
		t_pass "bad input ($name): $(head -c 160 "$FF_TMP/bad_$name.err")"
	else
		t_fail "bad input ($name): message /$pat/" "$(cat "$FF_TMP/bad_$name.err")"
	fi
}
printf 'this is not a capture file at all\n' >"$FF_TMP/magic.pcap"
bad_input "bad magic" "$FF_TMP/magic.pcap" "not a pcap or pcapng file"
: >"$FF_TMP/empty.pcap"
bad_input "empty file" "$FF_TMP/empty.pcap" "truncated file header"
sz=$(stat -c %s "$FF_TMP/echo.pcap")
head -c $((sz - 7)) "$FF_TMP/echo.pcap" >"$FF_TMP/trunc.pcap"
bad_input "truncated record" "$FF_TMP/trunc.pcap" "record [0-9]+ \(offset [0-9]+\): truncated"
"$FF_PYTHON" - "$FF_TMP" <<'PY'
import struct, sys
d = sys.argv[1]
# a pcap of link type 147 (USER0)
with open(d + "/user0.pcap", "wb") as fh:
    fh.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 147))
    fh.write(struct.pack("<IIII", 1, 0, 4, 4) + b"abcd")
# a pcapng with two interfaces of different link types
def blk(t, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", t, n) + body + struct.pack("<I", n)
shb = blk(0x0a0d0d0a, struct.pack("<IHHq", 0x1a2b3c4d, 1, 0, -1))
idb = lambda lt: blk(1, struct.pack("<HHI", lt, 0, 65535))
pkt = bytes(60)
epb = lambda i: blk(6, struct.pack("<IIIII", i, 0, 0, len(pkt), len(pkt)) + pkt)
with open(d + "/multi.pcapng", "wb") as fh:
    fh.write(shb + idb(1) + idb(113) + epb(0) + epb(1))
PY
bad_input "unknown link type" "$FF_TMP/user0.pcap" "link type 147 .*is not supported"
bad_input "two link types in one pcapng" "$FF_TMP/multi.pcapng" "several interfaces with different link types"
t_check "bad input: the server got nothing" 0 "$(wc -l <"$FF_TMP/echo_bad.log")"

# snaplen-cut records: the client's data is incomplete, the flow is skipped
editcap -s 70 "$FF_TMP/echo.pcap" "$FF_TMP/cut.pcap" >/dev/null
replay cut --topspeed "$FF_TMP/cut.pcap"
t_check "snaplen-cut capture: exit 1" 1 "$RC"
t_check "snaplen-cut capture: skipped, cut by snaplen" True \
	"$(rp_json "$FF_TMP/cut.json" 'f[0]["outcome"] == "skipped" and "cut by snaplen at packet" in f[0]["reason"]')"
t_check "snaplen-cut capture: the server got nothing" 0 "$(wc -l <"$FF_TMP/echo_bad.log")"

# no handshake in the capture: the client is inferred (data to the lower port)
tcpdump -r "$FF_TMP/echo.pcap" -w "$FF_TMP/nosyn.pcap" 'tcp[tcpflags] & tcp-syn == 0' 2>/dev/null
replay nosyn --topspeed "$FF_TMP/nosyn.pcap"
t_check "no handshake: exit 0 (client inferred)" 0 "$RC"
t_check "no handshake: complete with a note" True \
	"$(rp_json "$FF_TMP/nosyn.json" 'f[0]["outcome"] == "complete" and "no handshake" in f[0]["note"]')"
srv_stop

# --- http plug-in vs default on 50 keep-alive requests -------------------------
QUIET=100
srv_start http "$HTTP" http50_d
replay t_default --topspeed --quiet-ms "$QUIET" "$FF_TMP/http50.pcap"
check_complete t_default "50 requests, default (quiet ${QUIET} ms)" "$FF_TMP/http50_rec.log" "$FF_TMP/http50_d.log"
: >"$FF_TMP/http50_d.log"
replay t_http --topspeed --quiet-ms "$QUIET" --plugin http "$FF_TMP/http50.pcap"
check_complete t_http "50 requests, http" "$FF_TMP/http50_rec.log" "$FF_TMP/http50_d.log"
srv_stop
td=$(rp_json "$FF_TMP/t_default.json" 'j["wall_ms"]')
th=$(rp_json "$FF_TMP/t_http.json" 'j["wall_ms"]')
echo "--- 50-request keep-alive replay: default ${td} ms, http ${th} ms"
if [[ "$td" =~ ^[0-9]+$ && "$th" =~ ^[0-9]+$ ]] && ((th < td)); then
	t_pass "http plug-in faster than default (${th} ms < ${td} ms)"
else
	t_fail "http plug-in faster than default" "http ${th} ms, default ${td} ms"
fi

t_summary
