#!/usr/bin/env bash
# Integration test: per-flow sockets (ffpf/flowsock.h, issue 7).
#   - three concurrent TCP connections and a UDP flow arrive each on their
#     own fd; every fd carries exactly the packets tcpdump saw of its
#     5-tuple on the same interface, each datagram cut at the snaplen with
#     its headroom, byte-identical to tcpdump's packets cut the same
#   - a flow's end delivers its deletion notice (FIN for the TCP flows,
#     idle for the UDP one), then its fd reads EOF
#   - an application that never reads: its flow's packets beyond the socket
#     buffer are dropped and counted (queued + dropped = the 1500 sent, as
#     the tracker counted them)
#   - bad use: a flow without flowtrack(index=1), a flow without rx
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools tcpdump tshark cc pkg-config
ffpf_setup

D=$FF_TMP
CLIENT=$D/flowsock_client
ff_build_c "$HERE/c/flowsock_client.c" "$CLIENT" || { t_summary; exit 1; }

SNAP=64 HEAD=16
# a TCP server that reads until EOF, on 7000
ns_bg "$NS_S" "$D/tcpsrv.log" "$FF_PYTHON" -c '
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 7000)); s.listen(8)
def serve(c):
    while c.recv(65536):
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' "$IP_S"
wait_for "ns_s $FF_PYTHON -c 'import socket,sys; socket.create_connection((sys.argv[1], 7000), timeout=0.5).close()' $IP_S" 10 ||
	{ t_fail "tcp server" "$(cat "$D/tcpsrv.log")"; t_summary; exit 1; }
start_udp_sink 5005

ref=$D/ref.pcap
ff_tcpdump_in_start "$NS_S" "$IF_S" "$ref" "ip and (tcp port 7000 or udp port 5005)"
STOP=$D/stop
nsenter --net="/run/netns/$NS_S" -- "$CLIENT" "$IF_S" 'match(ip) -> flowtrack(idle=1, index=1)' \
	"$STOP" "$SNAP" "$HEAD" "$D" >"$D/fs.out" 2>"$D/fs.err" </dev/null &
FS=$!
_FF_PIDS+=("$FS")
if wait_for "grep -q ready '$D/fs.out' || ! kill -0 $FS 2>/dev/null" 10 && grep -q ready "$D/fs.out"; then
	t_pass "per-flow sockets over a copy-mode flow with flowtrack(index=1)"
else
	t_fail "flowsock_client" "$(cat "$D/fs.err")"
	t_summary
	exit 1
fi

# three connections at once, interleaved writes of 200 bytes, then FIN;
# four datagrams of one UDP flow (ends idle)
ns_c "$FF_PYTHON" -c '
import socket, sys, time
cs = [socket.create_connection((sys.argv[1], 7000)) for _ in range(3)]
for i in range(8):
    for k, c in enumerate(cs):
        if i <= 2 * k + 3:
            c.sendall(bytes([65 + k]) * 200)
        time.sleep(0.005)
for c in cs:
    c.close()
' "$IP_S"
ns_c "$FF_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(4):
    s.sendto(b"x" * 300, (sys.argv[1], 5005))
' "$IP_S"
wait_for "[[ \$(grep -c '^eof ' '$D/fs.out') -ge 4 ]]" 15 || true
touch "$STOP"
wait "$FS" || t_fail "flowsock_client exit" "$(cat "$D/fs.err")"
_ff_forget_pid "$FS"
tcpdump_stop "$ref"
sed 's/^/    /' "$D/fs.out"

t_check "four flows, four sockets" 4 "$(grep -c '^new ' "$D/fs.out" || true)"
t_check "four distinct fds" 4 "$(sed -n 's/^new .* fd=\([0-9]*\) .*/\1/p' "$D/fs.out" | sort -u | wc -l)"
# each flow: its fd's packets equal tcpdump's for its 5-tuple
while read -r id key proto; do
	a=${key%-*} b=${key#*-}
	p=tcp; [[ $proto == 17 ]] && p=udp
	f="(ip.src==${a%:*} && $p.srcport==${a##*:} && ip.dst==${b%:*} && $p.dstport==${b##*:}) ||"
	f+=" (ip.src==${b%:*} && $p.srcport==${b##*:} && ip.dst==${a%:*} && $p.dstport==${a##*:})"
	want=$(tshark -r "$ref" -Y "$f" -T fields -e frame.number 2>/dev/null | wc -l)
	got=$(sed -n "s/^eof id=$id read=\\([0-9]*\\) .*/\\1/p" "$D/fs.out")
	bad=$(sed -n "s/^eof id=$id .* bad=\\([0-9]*\\)/\\1/p" "$D/fs.out")
	why=$(sed -n "s/^end id=$id reason=\\([a-z]*\\) .*/\\1/p" "$D/fs.out")
	t_check "flow $id ($p $key): its fd read tcpdump's $want packets, then EOF" "$want" "${got:-no EOF}"
	t_check "flow $id: every datagram has its header, $HEAD bytes of headroom, <= $SNAP bytes" 0 "${bad:-x}"
	# the bytes: tcpdump's frames of the 5-tuple, each cut at SNAP, in order
	tshark -r "$ref" -Y "$f" -F pcap -w "$D/sub$id.pcap" 2>/dev/null || true
	"$FF_PYTHON" - "$D/sub$id.pcap" "$SNAP" "$D/want$id.bin" <<'PY'
import struct, sys
data, snap = open(sys.argv[1], "rb").read(), int(sys.argv[2])
order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
out, off = bytearray(), 24
while off + 16 <= len(data):
    incl = struct.unpack(order + "I", data[off + 8:off + 12])[0]
    out += data[off + 16:off + 16 + min(incl, snap)]
    off += 16 + incl
open(sys.argv[3], "wb").write(out)
PY
	if [[ -s "$D/want$id.bin" ]] && cmp -s "$D/want$id.bin" "$D/$id.bin"; then
		t_pass "flow $id: its datagrams are tcpdump's packets cut at $SNAP ($(stat -c %s "$D/$id.bin") bytes)"
	else
		t_fail "flow $id: bytes" "$(cmp "$D/want$id.bin" "$D/$id.bin" 2>&1 | head -n1)"
	fi
	want_why=fin; [[ $p == udp ]] && want_why=idle
	t_check "flow $id: deletion notice, reason $want_why" "$want_why" "${why:-none}"
done < <(sed -n 's/^new id=\([0-9]*\) fd=[0-9]* key=\([^ ]*\) proto=\([0-9]*\)/\1 \2 \3/p' "$D/fs.out")
# the notice comes before the EOF it causes
for id in $(sed -n 's/^new id=\([0-9]*\) .*/\1/p' "$D/fs.out"); do
	e=$(grep -n "^end id=$id " "$D/fs.out" | cut -d: -f1) o=$(grep -n "^eof id=$id " "$D/fs.out" | cut -d: -f1)
	[[ -n "$e" && -n "$o" && "$e" -lt "$o" ]] || { t_fail "flow $id: notice before EOF" "end line ${e:-none}, eof line ${o:-none}"; continue; }
done
S=$(grep '^stats ' "$D/fs.out" || true)
t_check "nothing dropped (full, late, untracked)" "full=0 late=0 untracked=0" \
	"$(grep -o 'full=[0-9]* late=[0-9]* untracked=[0-9]*' <<<"$S")"

# --- a stuck application -----------------------------------------------------------
rm -f "$STOP"
FS_NOREAD=1 nsenter --net="/run/netns/$NS_S" -- "$CLIENT" "$IF_S" \
	'match(udp, dst port 5006) -> flowtrack(idle=1, index=1)' "$STOP" 1500 0 \
	>"$D/stuck.out" 2>"$D/stuck.err" </dev/null &
FS=$!
_FF_PIDS+=("$FS")
wait_for "grep -q ready '$D/stuck.out' || ! kill -0 $FS 2>/dev/null" 10 || true
ns_c "$FF_PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(1500):
    s.sendto(b"y" * 1000, (sys.argv[1], 5006))
    if i % 50 == 0:
        time.sleep(0.002)
' "$IP_S"
wait_for "grep -q '^end ' '$D/stuck.out'" 10 || true
touch "$STOP"
wait "$FS" || true
_ff_forget_pid "$FS"
E=$(grep '^end ' "$D/stuck.out" | head -n1)
echo "    $E"
echo "    $(grep '^stats ' "$D/stuck.out")"
sent=$(sed -n 's/.* sent=\([0-9]*\).*/\1/p' <<<"$E") dropped=$(sed -n 's/.* dropped=\([0-9]*\).*/\1/p' <<<"$E")
S=$(grep '^stats ' "$D/stuck.out" || true)
full=$(sed -n 's/.* full=\([0-9]*\).*/\1/p' <<<"$S")
lost=$(($(sed -n 's/.* ibuf_dropped=\([0-9]*\).*/\1/p' <<<"$S") + $(sed -n 's/.* ring_lost=\([0-9]*\).*/\1/p' <<<"$S")))
counted=$(sed -n 's/.* pkts=\([0-9]*\)\/.*/\1/p' <<<"$E")
# every packet the tracker counted is queued or counted as lost somewhere
# (under load the copy ring or the IBuf may drop some too: counted there)
if [[ -n "$sent" && "${dropped:-0}" -gt 0 && $((sent + dropped + lost)) -eq "${counted:-x}" &&
	"$counted" -gt 1000 && "$full" == "$dropped" ]]; then
	t_pass "stuck application: $sent packets queued, $dropped dropped and counted (full), $lost lost before, of $counted tracked (1500 sent)"
else
	t_fail "stuck application" "queued '$sent' dropped '$dropped' full '$full' lost before '$lost', tracked '$counted' (1500 sent)"
fi

# --- bad use ----------------------------------------------------------------------
rc=0
ff_ns "$NS_S" "$CLIENT" "$IF_S" 'match(ip) -> flowtrack(idle=1)' "$STOP" >"$D/noidx.out" 2>"$D/noidx.err" || rc=$?
((rc != 0)) && grep -q 'need flowtrack(index=1)' "$D/noidx.err" &&
	t_pass "without index=1: refused ($(grep -o 'per-flow sockets need.*' "$D/noidx.err" | head -n1))" ||
	t_fail "without index=1" "rc $rc: $(cat "$D/noidx.err")"
rc=0
ff_ns "$NS_S" "$CLIENT" "$IF_S" 'match(ip) -> count' "$STOP" >"$D/noft.out" 2>"$D/noft.err" || rc=$?
((rc != 0)) && grep -q 'flowtrack' "$D/noft.err" &&
	t_pass "without a flowtrack stage: refused ($(grep -o 'no flowtrack.*' "$D/noft.err" | head -n1))" ||
	t_fail "without flowtrack" "rc $rc: $(cat "$D/noft.err")"

t_summary
