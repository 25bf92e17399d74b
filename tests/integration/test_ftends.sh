#!/usr/bin/env bash
# Integration test: how flows end in `ffpf-bpf flows`, on real traffic.
# Every flow must end in exactly one record, with the right reason.
#
# ffpf-bpf flows tracks the server end IF_S (XDP ingress + TC egress, one
# table). A watcher stamps every record with the wall-clock time it
# appeared in the output file, so the test can tell when a flow ended,
# and whether that was while the command ran. One tcpdump on IF_S (both
# directions) gives the packets per direction to compare records with.
# Four runs of the command, one per configuration:
#
# 1. default (idle 30 s):
#    - fin: three HTTP downloads with curl -> one record each, reason fin,
#      appearing no earlier than the 2 s linger after the last packet, with
#      the capture's packets per direction (the last ACK in the same flow).
#    - rst: a client that resets an established connection (SO_LINGER
#      {1, 0}), a server that does the same, and a SYN to a closed port (the
#      SYN creates the flow, the server's RST ends it) -> reason rst, the RST
#      on the right side, packets as captured.
#    - three crafted lone RSTs (raw socket) for unknown 5-tuples: they reach
#      IF_S (capture) but create no flow: no record, rst_no_flow == 3.
#    - closed: a TCP connection held open and a UDP flow, still live when
#      the command stops: no record before, one record "closed" after.
# 2. --idle 1: a UDP echo exchange ends "idle" while the command runs, not
#    before a second of silence; the same 5-tuple used again afterwards is
#    a new flow with a record of its own.
# 3. --active 1 --idle 2: a 4 s UDP echo stream is exported in pieces, at
#    least two of them with reason active, none before a second (the
#    sweeper runs every 0.5 s here, so a piece lasts 1 to ~1.5 s: 3 or 4
#    pieces; the last may end idle if the sweeper first looks at it 2 s
#    after the stream stopped, since idle is checked first); the pieces do
#    not overlap and their packets add up, per direction, to the capture's.
# 4. --size 16, only UDP to one port (--flow-spec): 200 flows x 3 rounds.
#    Flows refused by the full table never get a record; their packets are
#    counted in table_full. Asserted: evicted > 0, table_full > 0, every
#    eviction exported, the first 16 flows all have records, and per
#    direction packets in records + table_full == packets that reached IF_S.
#
# In every run: records == created == ended, records by reason == the
# summary's, no (5-tuple, first_ms) in two records, exit status 0.
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools tcpdump tshark curl
ffpf_setup

HTTP_PORT=8080 TCP_PORT=9001 ECHO_PORT=7007 SINK_PORT=7010
CLOSED_PORT=9 LONE_PORT=9002
# client ports below the ephemeral range, one per scenario
P_CRST=31001 P_SRST=31002 P_CLOSED=31003 P_HOLD=31004 P_UDPHOLD=31005
P_LONE=31011 P_IDLE=31101 P_ACTIVE=31201 P_FULL=32000
FULL_FLOWS=200 FULL_ROUNDS=3
ACTIVE_N=400	# datagrams, 10 ms apart

# --- servers (started before any tracking: their probes use lo) ---------

start_http_server "$HTTP_PORT"
start_udp_sink "$SINK_PORT"

# TCP server: answers "hello" with "ok" and reads until the peer is done;
# "reset-me" makes it close with SO_LINGER {1, 0}, i.e. with an RST.
ns_bg "$NS_S" "$FF_TMP/tcpd.log" "$FF_PYTHON" -c '
import socket, struct, sys, threading
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], int(sys.argv[2])))
ls.listen(16)
def handle(c):
    try:
        d = c.recv(64)
        if d == b"reset-me":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            c.sendall(b"ok")
            while c.recv(64):
                pass
    except OSError:
        pass
    c.close()
print("listening", flush=True)
while True:
    c, _ = ls.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
' "$IP_S" "$TCP_PORT"
# UDP echo server.
ns_bg "$NS_S" "$FF_TMP/echod.log" "$FF_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("listening", flush=True)
while True:
    d, a = s.recvfrom(2048)
    s.sendto(d, a)
' "$IP_S" "$ECHO_PORT"
if ! wait_for "grep -q listening '$FF_TMP/tcpd.log' && grep -q listening '$FF_TMP/echod.log'" 10; then
	t_fail "test servers start" "$(cat "$FF_TMP/tcpd.log" "$FF_TMP/echod.log")"
	t_summary
	exit 1
fi

# --- clients ---------------------------------------------------------------

# tcp_client MODE LPORT: from IP_C:LPORT, in the client namespace.
#   client-rst  connect, hello/ok, then close with SO_LINGER {1, 0} (RST)
#   server-rst  connect, send reset-me, expect the server's RST
#   closed      connect to the closed port: refused (SYN, RST|ACK)
#   hold        connect, hello/ok, print "holding", keep it open
cat >"$FF_TMP/tcpc.py" <<'PY'
import socket, struct, sys, time
mode, ip_c, lport, ip_s, port, closed = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
s = socket.socket()
s.bind((ip_c, lport))
s.settimeout(5)
if mode == "closed":
    try:
        s.connect((ip_s, closed))
        print("connected?!")
    except ConnectionRefusedError:
        print("refused")
    sys.exit(0)
s.connect((ip_s, port))
if mode == "server-rst":
    s.sendall(b"reset-me")
    try:
        print("reset" if s.recv(64) == b"" else "data?!")
    except ConnectionResetError:
        print("reset")
    sys.exit(0)
s.sendall(b"hello")
if s.recv(64) != b"ok":
    sys.exit("no ok")
if mode == "client-rst":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("reset")
else:
    print("holding", flush=True)
    time.sleep(600)
PY
tcp_client() {
	ns_c "$FF_PYTHON" "$FF_TMP/tcpc.py" "$1" "$IP_C" "$2" "$IP_S" "$TCP_PORT" "$CLOSED_PORT"
}

# lone_rst SPORT DPORT: one crafted TCP RST IP_C:SPORT -> IP_S:DPORT
# (raw socket; the kernel adds the IP header), for no existing connection.
lone_rst() {
	ns_c "$FF_PYTHON" -c '
import socket, struct, sys
src, dst, sport, dport = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
tcp = struct.pack("!HHIIBBHHH", sport, dport, 0x12345678, 0, 5 << 4, 0x04, 0, 0, 0)
pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
s.sendto(tcp, (dst, 0))
' "$IP_C" "$IP_S" "$1" "$2"
}

# udp_echo LPORT N GAP_MS: send N datagrams from IP_C:LPORT to the echo
# server, GAP_MS apart, and print "SENT RECEIVED" (echoes read as they come
# and for 1 s after the last).
udp_echo() {
	ns_c "$FF_PYTHON" -c '
import socket, sys, time
ip_c, lport, ip_s, port, n, gap = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]) / 1000.0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((ip_c, lport))
s.setblocking(False)
sent = got = 0
def drain():
    global got
    while True:
        try:
            s.recv(2048)
            got += 1
        except BlockingIOError:
            return
t0 = time.monotonic()
for i in range(n):
    s.sendto(b"ffpf-echo-%d" % i, (ip_s, port))
    sent += 1
    drain()
    time.sleep(max(0.0, t0 + (i + 1) * gap - time.monotonic()))
end = time.monotonic() + 1.0
while got < sent and time.monotonic() < end:
    time.sleep(0.01)
    drain()
print(sent, got)
' "$IP_C" "$1" "$IP_S" "$ECHO_PORT" "$2" "$3"
}

# --- flows runs and their records ---------------------------------------------

# start_flows NAME ARGS...: `ffpf-bpf flows -i IF_S -q --flows-out NAME.jsonl
# ARGS` in the server namespace, plus a watcher that copies every record
# to NAME.arr prefixed with the wall-clock ms it appeared. Returns 1 if
# the command does not report tracking in time.
start_flows() {
	local name=$1
	shift
	local recs=$FF_TMP/$name.jsonl
	rm -f "$recs" "$FF_TMP/$name.arr"
	# the watcher (root namespace: it only reads a file)
	"$FF_PYTHON" -c '
import os, sys, time
path, out = sys.argv[1], sys.argv[2]
while not os.path.exists(path):
    time.sleep(0.01)
f, o, buf = open(path), open(out, "w"), ""
while True:
    chunk = f.read()
    if not chunk:
        time.sleep(0.02)
        continue
    now = time.time() * 1000
    buf += chunk
    while "\n" in buf:
        line, buf = buf.split("\n", 1)
        o.write("%.0f\t%s\n" % (now, line))
    o.flush()
' "$recs" "$FF_TMP/$name.arr" </dev/null &
	_FF_PIDS+=("$!")
	WATCH_PID[$name]=$!
	if ! ff_flows_start "$name" -q --flows-out "$recs" "$@"; then
		t_fail "flows $name starts" "$(cat "$FF_TMP/$name.err")"
		return 1
	fi
	t_pass "flows $name starts (${*:-default options})"
}

# watch_caught_up NAME: wait until the watcher stamped every record so far.
watch_caught_up() {
	local n
	n=$(wc -l <"$FF_TMP/$1.jsonl")
	wait_for "(( \$(wc -l <'$FF_TMP/$1.arr') >= $n ))" 10 || true
}

# stop_flows NAME: SIGINT, exit status 0, the watcher caught up; prints
# the summary line into NAME.summary. Leaves the stop time (ms) in STOP_MS:
# records stamped before it appeared while the command ran.
stop_flows() {
	local name=$1
	watch_caught_up "$name"
	STOP_MS=$(date +%s%3N)
	ffpf_stop "$name" INT 15 || true
	t_check "flows $name exits 0" 0 "$FFPF_RC"
	grep 'flows: created' "$FF_TMP/$name.err" >"$FF_TMP/$name.summary" || true
	echo "    $(cat "$FF_TMP/$name.summary")"
	watch_caught_up "$name"
	ns_kill "${WATCH_PID[$name]}" || true
}

declare -A WATCH_PID=()

# has_rec NAME PYEXPR: true if a record r of run NAME satisfies PYEXPR.
has_rec() {
	"$FF_PYTHON" - "$FF_TMP/$1.jsonl" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if eval(sys.argv[2]):
        sys.exit(0)
sys.exit(1)
PY
}

# rec_packets NAME PORT: packets (both directions) in the records of run
# NAME with PORT on either side.
rec_packets() {
	"$FF_PYTHON" - "$FF_TMP/$1.jsonl" "$2" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if int(sys.argv[2]) in (r["src_port"], r["dst_port"]):
        n += r["out_packets"] + r["in_packets"]
print(n)
PY
}

# Shared by the checks of every run: records with their arrival time, the
# capture's packets per direction, the summary and the invariants.
cat >"$FF_TMP/ftcheck.py" <<'PY'
import collections, json, re, sys

out = []
def check(name, ok, detail=""):
    out.append(("PASS" if ok else "FAIL") + "  " + name +
               (": " + str(detail) if detail != "" and not ok else ""))

def load(path):
    recs = []
    for line in open(path):
        arr, _, js = line.rstrip("\n").partition("\t")
        try:
            r = json.loads(js)
        except ValueError:
            check("valid JSON record", False, js[:200])
            continue
        r["_arr"] = float(arr)
        recs.append(r)
    return recs

def summary(path):
    s = open(path).read()
    m = re.search(r"created (\d+), ended (\d+) \(idle (\d+), active (\d+), fin (\d+), rst (\d+), "
                  r"evicted (\d+), forced (\d+), closed (\d+)\), table_full (\d+), rst_no_flow (\d+)", s)
    if not m:
        return None
    v = [int(x) for x in m.groups()]
    return {"created": v[0], "ended": v[1], "table_full": v[9], "rst_no_flow": v[10],
            "reasons": dict(zip(["idle", "active", "fin", "rst", "evicted", "forced", "closed"],
                                v[2:9]))}

def invariants(recs, s):
    if s is None:
        check("summary line", False, "missing")
        return
    check("records == created == ended", len(recs) == s["created"] == s["ended"],
          "%d records, created %d, ended %d" % (len(recs), s["created"], s["ended"]))
    rc = collections.Counter(r["reason"] for r in recs)
    check("records by reason == summary", all(rc.get(k, 0) == v for k, v in s["reasons"].items())
          and sum(rc.values()) == len(recs), "records %s, summary %s" % (dict(rc), s["reasons"]))
    ends = collections.Counter(ends_key(r) for r in recs)
    dup = [k for k, n in ends.items() if n > 1]
    check("no (5-tuple, first_ms) in two records", not dup, dup[:3])

def tup(r):
    """the conversation: protocol and the two endpoints, unordered"""
    return (r["proto"],) + tuple(sorted([(r["src_addr"], r["src_port"]),
                                         (r["dst_addr"], r["dst_port"])]))

def ends_key(r):
    return tup(r) + (r["first_ms"],)

def of(recs, proto, a, pa, b, pb):
    k = (proto,) + tuple(sorted([(a, pa), (b, pb)]))
    return sorted([r for r in recs if tup(r) == k], key=lambda r: r["first_ms"])

def sent_by(r, addr, port):
    """(packets, bytes) the endpoint addr:port sent in record r"""
    if (r["src_addr"], r["src_port"]) == (addr, port):
        return r["out_packets"], r["out_bytes"]
    return r["in_packets"], r["in_bytes"]

# capture: (proto, src, sport, dst, dport) -> [epoch seconds, ...]
def capture(path):
    cap = collections.defaultdict(list)
    for line in open(path):
        p = line.strip().split(",")
        if len(p) < 8 or not p[1]:
            continue
        proto = int(p[3])
        if proto == 6:
            sp, dp = p[4], p[5]
        elif proto == 17:
            sp, dp = p[6], p[7]
        else:
            continue
        cap[(proto, p[1], int(sp), p[2], int(dp))].append(float(p[0]))
    return cap

def cap_count(cap, proto, a, pa, b, pb, before=None):
    return len([t for t in cap.get((proto, a, pa, b, pb), []) if before is None or t < before])

def done():
    for l in out:
        print(l)
PY

# py_checks SCRIPT_ARGS...: run the Python on stdin (with ftcheck) and turn
# its PASS/FAIL lines into t_pass/t_fail.
py_checks() {
	local results line
	results=$(PYTHONPATH=$FF_TMP "$FF_PYTHON" - "$@" 2>&1) || true
	ff_results "record checks" "$results"
}

# One capture of IF_S, both directions, for the whole test.
pcap=$FF_TMP/ftends.pcap
ff_tcpdump_dir_start "$NS_S" "$IF_S" inout "$pcap" "tcp or udp"

# =====================================================================
# 1. fin, rst, lone RST, closed (default timeouts)
# =====================================================================
if start_flows ends; then
	curl_ports=()
	for f in 1k.bin 100k.bin 1m.bin; do
		r=$(ns_c curl -s -o /dev/null -w '%{local_port} %{size_download}' "$FF_HTTP_URL/$f" ||
			echo "0 fail")
		t_check "curl $f" "$(stat -c %s "$FF_WWW/$f")" "${r#* }"
		curl_ports+=("${r%% *}")
	done
	t_check "client resets its connection (SO_LINGER 0)" reset "$(tcp_client client-rst $P_CRST)"
	t_check "server resets the connection" reset "$(tcp_client server-rst $P_SRST)"
	t_check "SYN to a closed port is refused" refused "$(tcp_client closed $P_CLOSED)"
	for i in 0 1 2; do
		lone_rst $((P_LONE + i)) "$LONE_PORT"
	done
	# live at the end: a TCP connection held open, a UDP flow (echoed)
	ns_bg "$NS_C" "$FF_TMP/hold.log" "$FF_PYTHON" "$FF_TMP/tcpc.py" hold "$IP_C" "$P_HOLD" \
		"$IP_S" "$TCP_PORT" "$CLOSED_PORT"
	HOLD_PID=$FF_LAST_PID
	wait_for "grep -q holding '$FF_TMP/hold.log'" 10 || t_fail "hold connection" "$(cat "$FF_TMP/hold.log")"
	t_check "UDP flow to keep live: 3 sent, 3 echoed" "3 3" "$(udp_echo $P_UDPHOLD 3 10)"

	# fin after the 2 s linger, rst at the next sweep: all while running
	want="r['reason'] == 'fin' and r['src_port'] == %s and r['dst_port'] == $HTTP_PORT"
	for p in "${curl_ports[@]}"; do
		wait_for has_rec ends "${want//%s/$p}" 20 || true
	done
	for p in $P_CRST $P_SRST $P_CLOSED; do
		wait_for has_rec ends "r['reason'] == 'rst' and r['src_port'] == $p" 20 || true
	done
	# one sweep at least has seen the live flows (the fin records took 2 s)
	if has_rec ends "r['src_port'] in ($P_HOLD, $P_UDPHOLD) or r['dst_port'] in ($P_HOLD, $P_UDPHOLD)"; then
		t_fail "live flows have no record before the stop" "$(grep -E "$P_HOLD|$P_UDPHOLD" "$FF_TMP/ends.jsonl")"
	else
		t_pass "live flows have no record before the stop"
	fi
	stop_flows ends
	ENDS_STOP_MS=$STOP_MS
	KILL_S=$(date +%s.%N)
	ns_kill "$HOLD_PID" || true
fi

# =====================================================================
# 2. idle (--idle 1)
# =====================================================================
if start_flows idle --idle 1; then
	t_check "UDP exchange: 5 sent, 5 echoed" "5 5" "$(udp_echo $P_IDLE 5 10)"
	if wait_for has_rec idle "r['reason'] == 'idle' and r['src_port'] == $P_IDLE" 10 &&
		kill -0 "${_FFPF_PID[idle]}" 2>/dev/null; then
		t_pass "idle record appears while flows runs"
	else
		t_fail "idle record appears while flows runs" "$(cat "$FF_TMP/idle.jsonl")"
	fi
	t_check "same 5-tuple again: 3 sent, 3 echoed" "3 3" "$(udp_echo $P_IDLE 3 10)"
	wait_for has_rec idle "r['reason'] == 'idle' and r['src_port'] == $P_IDLE and r['out_packets'] == 3" 10 || true
	stop_flows idle
	IDLE_STOP_MS=$STOP_MS
fi

# =====================================================================
# 3. active (--active 1 --idle 2)
# =====================================================================
if start_flows active --active 1 --idle 2; then
	r=$(udp_echo $P_ACTIVE $ACTIVE_N 10)
	t_check "UDP stream: $ACTIVE_N sent, $ACTIVE_N echoed" "$ACTIVE_N $ACTIVE_N" "$r"
	# the last piece ends by itself (active or idle) while the command runs
	if wait_for "(( \$(rec_packets active $P_ACTIVE) == 2 * $ACTIVE_N ))" 10; then
		t_pass "the stream's records add up while flows runs"
	else
		t_fail "the stream's records add up while flows runs" "$(grep -c . "$FF_TMP/active.jsonl") records"
	fi
	stop_flows active
	ACTIVE_STOP_MS=$STOP_MS
fi

# =====================================================================
# 4. table full (--size 16, UDP to SINK_PORT only)
# =====================================================================
if start_flows full --size 16 --flow-spec "match(udp, port $SINK_PORT)"; then
	ns_c "$FF_PYTHON" -c '
import socket, sys, time
ip_c, base, n, rounds, ip_s, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip_c, base + i))
    socks.append(s)
for r in range(rounds):
    if r:
        time.sleep(1.3)	# a sweep (1 s apart) between rounds
    for s in socks:
        s.sendto(b"ffpf-full", (ip_s, port))
        time.sleep(0.001)
' "$IP_C" "$P_FULL" "$FULL_FLOWS" "$FULL_ROUNDS" "$IP_S" "$SINK_PORT"
	udp_wait_count "$SINK_PORT" $((FULL_FLOWS * FULL_ROUNDS)) 10 || true
	t_check "sink got every datagram" $((FULL_FLOWS * FULL_ROUNDS)) "$(udp_sink_count "$SINK_PORT")"
	stop_flows full
fi

tcpdump_stop "$pcap"
t_check "tcpdump dropped no packet" 0 "$(ff_tcpdump_dropped "$pcap")"
fields=$FF_TMP/fields.csv
tshark -r "$pcap" -T fields -E separator=, -e frame.time_epoch -e ip.src -e ip.dst -e ip.proto \
	-e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport \
	-Y 'ip && (tcp || udp)' 2>/dev/null >"$fields" || true

# --- checks: run 1 ---------------------------------------------------------
if [[ -s "$FF_TMP/ends.summary" ]]; then
	echo "--- run 1: fin, rst, lone RST, closed"
	py_checks "$FF_TMP" "$IP_C" "$IP_S" "$HTTP_PORT" "$TCP_PORT" "$CLOSED_PORT" "$LONE_PORT" \
		"$P_CRST $P_SRST $P_CLOSED $P_HOLD $P_UDPHOLD $P_LONE $ECHO_PORT" \
		"${curl_ports[*]}" "$ENDS_STOP_MS" "$KILL_S" <<'PY'
from ftcheck import *
tmp, ip_c, ip_s, http, tcpp, closedp, lonep = sys.argv[1:8]
http, tcpp, closedp, lonep = int(http), int(tcpp), int(closedp), int(lonep)
crst, srst, closed, hold, udphold, lone, echo = map(int, sys.argv[8].split())
curl = [int(p) for p in sys.argv[9].split()]
stop_ms, kill_s = float(sys.argv[10]), float(sys.argv[11])
recs = load(tmp + "/ends.arr")
s = summary(tmp + "/ends.summary")
cap = capture(tmp + "/fields.csv")
invariants(recs, s)
SYN, FIN, RST, ACK = 0x02, 0x01, 0x04, 0x10

def one(name, proto, cport, sport, reason):
    rs = of(recs, proto, ip_c, cport, ip_s, sport)
    check("%s: exactly one record" % name, len(rs) == 1, "%d: %s" % (len(rs), rs))
    if len(rs) != 1:
        return None
    r = rs[0]
    check("%s: reason %s" % (name, reason), r["reason"] == reason, r["reason"])
    check("%s: client is the initiator" % name,
          (r["src_addr"], r["src_port"], r["initiator"]) == (ip_c, cport, "src"),
          "%s:%s (%s)" % (r["src_addr"], r["src_port"], r["initiator"]))
    before = kill_s if reason == "closed" else None
    want = (cap_count(cap, proto, ip_c, cport, ip_s, sport, before),
            cap_count(cap, proto, ip_s, sport, ip_c, cport, before))
    got = (sent_by(r, ip_c, cport)[0], sent_by(r, ip_s, sport)[0])
    check("%s: packets per direction == capture %s" % (name, want), got == want, got)
    return r

for p in curl:
    r = one("curl :%d" % p, 6, p, http, "fin")
    if r:
        check("curl :%d: SYN, FIN, ACK both ways, no RST" % p,
              r["tcp_flags_out"] & (SYN | FIN | ACK | RST) == SYN | FIN | ACK and
              r["tcp_flags_in"] & (SYN | FIN | ACK | RST) == SYN | FIN | ACK,
              "out 0x%x in 0x%x" % (r["tcp_flags_out"], r["tcp_flags_in"]))
        check("curl :%d: ended after the 2 s linger (%.0f ms after its last packet)"
              % (p, r["_arr"] - r["last_ms"]), r["_arr"] - r["last_ms"] >= 1900,
              "%.0f ms" % (r["_arr"] - r["last_ms"]))
        check("curl :%d: record appeared while flows ran" % p, r["_arr"] < stop_ms,
              "%.0f >= stop %.0f" % (r["_arr"], stop_ms))
r = one("client RST", 6, crst, tcpp, "rst")
if r:
    check("client RST: the RST is the client's", r["tcp_flags_out"] & RST and
          not r["tcp_flags_in"] & RST, "out 0x%x in 0x%x" % (r["tcp_flags_out"], r["tcp_flags_in"]))
r = one("server RST", 6, srst, tcpp, "rst")
if r:
    check("server RST: the RST is the server's", r["tcp_flags_in"] & RST and
          not r["tcp_flags_out"] & RST, "out 0x%x in 0x%x" % (r["tcp_flags_out"], r["tcp_flags_in"]))
r = one("SYN to closed port", 6, closed, closedp, "rst")
if r:
    check("SYN to closed port: SYN out, RST|ACK in",
          (r["out_packets"], r["tcp_flags_out"], r["in_packets"], r["tcp_flags_in"]) ==
          (1, SYN, 1, RST | ACK), json.dumps(r))
for name, p in (("client RST", crst), ("server RST", srst), ("SYN to closed port", closed)):
    rs = of(recs, 6, ip_c, p, ip_s, closedp if p == closed else tcpp)
    if rs:
        check("%s: record appeared while flows ran" % name, rs[0]["_arr"] < stop_ms,
              "%.0f >= stop %.0f" % (rs[0]["_arr"], stop_ms))
lone_cap = sum(cap_count(cap, 6, ip_c, lone + i, ip_s, lonep) for i in range(3))
check("3 lone RSTs reached IF_S", lone_cap == 3, lone_cap)
lone_recs = [r for r in recs if r["proto"] == 6 and
             {r["src_port"], r["dst_port"]} & {lone, lone + 1, lone + 2}]
check("lone RSTs created no flow", not lone_recs, lone_recs)
if s:
    check("rst_no_flow == 3", s["rst_no_flow"] == 3, s["rst_no_flow"])
    check("table_full == 0", s["table_full"] == 0, s["table_full"])
for name, proto, p, sp in (("held TCP connection", 6, hold, tcpp), ("live UDP flow", 17, udphold, echo)):
    r = one(name, proto, p, sp, "closed")
    if r:
        check("%s: record only after the stop" % name, r["_arr"] >= stop_ms,
              "%.0f < stop %.0f" % (r["_arr"], stop_ms))
done()
PY
fi

# --- checks: run 2 ---------------------------------------------------------
if [[ -s "$FF_TMP/idle.summary" ]]; then
	echo "--- run 2: idle"
	py_checks "$FF_TMP" "$IP_C" "$IP_S" "$P_IDLE" "$ECHO_PORT" "$IDLE_STOP_MS" <<'PY'
from ftcheck import *
tmp, ip_c, ip_s, port, echo, stop_ms = sys.argv[1:7]
port, echo, stop_ms = int(port), int(echo), float(stop_ms)
recs = load(tmp + "/idle.arr")
invariants(recs, summary(tmp + "/idle.summary"))
rs = of(recs, 17, ip_c, port, ip_s, echo)
check("two exchanges, two records", len(rs) == 2, rs)
for r, n in zip(rs, (5, 3)):
    name = "exchange of %d" % n
    check(name + ": reason idle", r["reason"] == "idle", r["reason"])
    check(name + ": %d out, %d in" % (n, n),
          (sent_by(r, ip_c, port)[0], sent_by(r, ip_s, echo)[0]) == (n, n), json.dumps(r))
    check(name + ": ended after 1 s idle (%.0f ms)" % (r["_arr"] - r["last_ms"]),
          r["_arr"] - r["last_ms"] >= 950, "%.0f ms" % (r["_arr"] - r["last_ms"]))
    check(name + ": ended while flows ran", r["_arr"] < stop_ms, "%.0f" % (r["_arr"] - stop_ms))
if len(rs) == 2:
    check("the second flow starts after the first ended", rs[1]["first_ms"] >= rs[0]["last_ms"] and
          rs[1]["first_ms"] != rs[0]["first_ms"], "%s %s" % (rs[0]["last_ms"], rs[1]["first_ms"]))
done()
PY
fi

# --- checks: run 3 ---------------------------------------------------------
if [[ -s "$FF_TMP/active.summary" ]]; then
	echo "--- run 3: active"
	py_checks "$FF_TMP" "$IP_C" "$IP_S" "$P_ACTIVE" "$ECHO_PORT" "$ACTIVE_STOP_MS" <<'PY'
from ftcheck import *
tmp, ip_c, ip_s, port, echo, stop_ms = sys.argv[1:7]
port, echo, stop_ms = int(port), int(echo), float(stop_ms)
recs = load(tmp + "/active.arr")
cap = capture(tmp + "/fields.csv")
invariants(recs, summary(tmp + "/active.summary"))
rs = of(recs, 17, ip_c, port, ip_s, echo)
print("pieces: " + ", ".join("%s %d ms %d+%d" % (r["reason"], r["last_ms"] - r["first_ms"],
                                                  sent_by(r, ip_c, port)[0], sent_by(r, ip_s, echo)[0])
                             for r in rs))
check("a 4 s stream is cut at least twice by the active timeout",
      len([r for r in rs if r["reason"] == "active"]) >= 2, [r["reason"] for r in rs])
check("every piece but the last ends active, the last active or idle",
      all(r["reason"] == "active" for r in rs[:-1]) and rs and rs[-1]["reason"] in ("active", "idle"),
      [r["reason"] for r in rs])
early = [r for r in rs if r["reason"] == "active" and r["_arr"] - r["first_ms"] < 950]
check("no piece ends before the 1 s active timeout", not early,
      ["%.0f ms" % (r["_arr"] - r["first_ms"]) for r in early])
check("pieces do not overlap", all(b["first_ms"] >= a["last_ms"] for a, b in zip(rs, rs[1:])),
      [(r["first_ms"], r["last_ms"]) for r in rs])
check("every piece ended while flows ran", all(r["_arr"] < stop_ms for r in rs), "")
want = (cap_count(cap, 17, ip_c, port, ip_s, echo), cap_count(cap, 17, ip_s, echo, ip_c, port))
got = (sum(sent_by(r, ip_c, port)[0] for r in rs), sum(sent_by(r, ip_s, echo)[0] for r in rs))
check("packets over the pieces == capture per direction %s" % (want,), got == want, got)
done()
PY
fi

# --- checks: run 4 ---------------------------------------------------------
if [[ -s "$FF_TMP/full.summary" ]]; then
	echo "--- run 4: table full"
	py_checks "$FF_TMP" "$IP_C" "$IP_S" "$P_FULL" "$FULL_FLOWS" "$FULL_ROUNDS" "$SINK_PORT" <<'PY'
from ftcheck import *
tmp, ip_c, ip_s, base, n, rounds, sink = sys.argv[1:8]
base, n, rounds, sink = int(base), int(n), int(rounds), int(sink)
recs = load(tmp + "/full.arr")
s = summary(tmp + "/full.summary")
cap = capture(tmp + "/fields.csv")
invariants(recs, s)
if s:
    print("created %d, evicted %d, closed %d, table_full %d" %
          (s["created"], s["reasons"]["evicted"], s["reasons"]["closed"], s["table_full"]))
    check("evicted > 0", s["reasons"]["evicted"] > 0, s["reasons"])
    check("table_full > 0", s["table_full"] > 0, s["table_full"])
    check("only evicted and closed", all(v == 0 for k, v in s["reasons"].items()
                                         if k not in ("evicted", "closed")), s["reasons"])
ports = set(range(base, base + n))
stray = [r for r in recs if not (r["proto"] == 17 and r["src_addr"] == ip_c and r["dst_addr"] == ip_s
                                 and r["src_port"] in ports and r["dst_port"] == sink)]
check("every record is a flow we sent", not stray, stray[:3])
seen = {r["src_port"] for r in recs}
check("the first 16 flows (table empty) all have records", set(range(base, base + 16)) <= seen,
      sorted(set(range(base, base + 16)) - seen))
over = [r for r in recs if r["out_packets"] > rounds]
check("no record has more than %d packets" % rounds, not over, over[:3])
inn = sum(cap_count(cap, 17, ip_c, p, ip_s, sink) for p in ports)
outn = sum(cap_count(cap, 17, ip_s, sink, ip_c, p) for p in ports)
check("capture: %d datagrams reached IF_S, none left it" % (n * rounds), (inn, outn) == (n * rounds, 0),
      (inn, outn))
if s:
    rin = sum(r["out_packets"] for r in recs)
    rout = sum(r["in_packets"] for r in recs)
    check("ingress: packets in records + table_full == reached IF_S (%d + %d)" % (rin, s["table_full"]),
          rin + s["table_full"] == inn, "%d + %d != %d" % (rin, s["table_full"], inn))
    check("egress: packets in records == left IF_S (0)", rout == outn, rout)
done()
PY
fi

t_summary
