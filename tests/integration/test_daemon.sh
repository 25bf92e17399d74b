#!/usr/bin/env bash
# Integration test: `ffpf-bpf daemon` and its unprivileged clients (issue 6).
#   - two real users created here (deleted on exit); the daemon runs in the
#     server namespace with a policy of this run
#   - alice's `ffpf-bpf run --copy -w` goes through the daemon: the packets
#     she writes equal tcpdump's on the same interface, cut to the policy's
#     snaplen (the cap trims the default); an explicit larger snaplen is
#     refused with the rule named
#   - a denied graph and the ordering constraint both ways, through the daemon;
#     monitor mode (it drops everyone's traffic) refused for a client
#   - isolation: bob cannot join alice's group (rule named), cannot map his
#     PBuf writable (mprotect, /proc/self/mem), cannot map MBufs (mbuf none)
#     while alice gets hers read-only only; bob cannot reach another client's
#     flow by its handle, nor the maps by id (bpftool as bob)
#   - flow groups: 4 applications in one group store each packet once, 4 in
#     4 groups store it 4 times (the daemon's PBuf counters)
#   - kill -9 of a client: its flows leave the daemon and the kernel, the
#     other client keeps receiving
#   - hostile messages (tools/ffpf-hostile): the daemon answers or drops
#     and keeps serving, and leaks no descriptor
#   - daemon restart: a waiting client is told (ECONNRESET)
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools tcpdump tshark useradd userdel runuser bpftool cc pkg-config
HOSTILE=$FF_ROOT/build/ffpf-hostile
[[ -x "$HOSTILE" ]] || { t_fail "prerequisites" "$HOSTILE not built: run 'make'"; t_summary; exit 1; }
ffpf_setup

# Users of this run, and a directory both may reach (the socket) and write (captures).
A=fa${FF_PREFIX} B=fb${FF_PREFIX}
for u in "$A" "$B"; do
	useradd -M -N -g nogroup -s /usr/sbin/nologin "$u"
	ns_on_cleanup "userdel '$u' >/dev/null 2>&1"
done
D=/tmp/ffpf-daemon-${FF_PREFIX}
mkdir -p "$D" && chmod 1777 "$D"
ns_on_cleanup "rm -rf '$D'"
SOCK=$D/ffpf.sock
SNAP=128

pol=$D/policy.conf
cat >"$pol" <<POLICY
# test_daemon.sh
user $A
  interfaces ${FF_PREFIX}*
  classes match count prefixset payload flowtrack
  require payload after prefixset(allow, 10.199.0.0/16)
  rx none copy
  snaplen $SNAP
  mbuf read
  groups team*

user $B
  interfaces ${FF_PREFIX}*
  classes match count
  rx copy
  flows 2
POLICY

CLIENT=$D/daemon_client FSC=$D/flowsock_client FTC=$D/ft_client
for prog in "$CLIENT" "$FSC" "$FTC"; do
	ff_build_c "$HERE/c/$(basename "$prog").c" "$prog" || { t_summary; exit 1; }
done

DPID=
daemon_start() {
	# nsenter execs the daemon: $! is its pid, signals reach it.
	nsenter --net="/run/netns/$NS_S" -- "$FFPF" daemon --socket "$SOCK" --policy "$pol" \
		>"$D/daemon.out" 2>>"$D/daemon.err" </dev/null &
	DPID=$!
	_FF_PIDS+=("$DPID")
	wait_for "grep -q ready '$D/daemon.out' || ! kill -0 $DPID 2>/dev/null" 10 &&
		grep -q ready "$D/daemon.out"
}
daemon_status() { "$FFPF" daemon --status --socket "$SOCK"; }
# as USER CMD...: run CMD as USER in the server namespace, through the daemon.
as() {
	local u=$1
	shift
	ff_ns "$NS_S" runuser -u "$u" -- env FFPF_DAEMON="$SOCK" "$@"
}
# as_bg USER TAG CMD...: the same in the background; output in $D/TAG.out; pid in BGPID.
as_bg() {
	local u=$1 tag=$2
	shift 2
	ff_ns "$NS_S" runuser -u "$u" -- env FFPF_DAEMON="$SOCK" "$@" >"$D/$tag.out" 2>"$D/$tag.err" </dev/null &
	BGPID=$!
	_FF_PIDS+=("$BGPID")
}
wait_ready() { wait_for "grep -q ready '$D/$1.out' || grep -q 'flows\\? active' '$D/$1.err'" 10; }
kv() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" "$D/$1.out" | tail -n1; }
# the daemon's BPF programs (not the machine's: other tests may load theirs)
n_progs() { ff_proc_bpf_ids "$DPID" | grep -c '^prog ' || true; }

if daemon_start; then
	t_pass "daemon serves $SOCK (policy $pol)"
else
	t_fail "daemon start" "$(cat "$D/daemon.err")"
	t_summary
	exit 1
fi
t_check "socket is reachable by everyone (policy decides)" "srw-rw-rw-" "$(stat -c %A "$SOCK")"

start_udp_sink 5005

# --- 1. alice captures through the daemon; tcpdump on the same interface --------
pcap=$D/alice.pcap ref=$D/tcpdump.pcap
ff_tcpdump_in_start "$NS_S" "$IF_S" "$ref"
as_bg "$A" alice "$FFPF" run -i "$IF_S" --flow 'web=match(udp, dst port 5005) -> count' --copy \
	-w "$pcap" --duration 8
ALICE=$BGPID
if wait_ready alice; then
	t_pass "alice (uid $(id -u "$A")): run --copy through the daemon"
else
	t_fail "alice run" "$(cat "$D/alice.err")"
fi
ff_mark start
# 40 datagrams of 600 bytes to 5005 (cut at the snaplen), 10 to 6000 (not matched)
ns_c "$FF_PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(40):
    s.sendto(bytes([i % 251]) * 600, (sys.argv[1], 5005))
    time.sleep(0.002)
' "$IP_S"
ff_udp_ports 6000 10
ff_mark end
wait "$ALICE" && rc=0 || rc=$?
_ff_forget_pid "$ALICE"
tcpdump_stop "$ref"
t_check "alice's run exits 0" 0 "$rc"
grep -q "snaplen $SNAP (the policy's cap)" "$D/daemon.err" &&
	t_pass "the policy's snaplen cap trimmed the default (daemon log)" ||
	t_fail "snaplen trimmed" "$(tail -n5 "$D/daemon.err")"
ff_window_or_die "$ref" "$D/win.pcap"
want=$(ff_pcap_count "$D/win.pcap" 'udp dst port 5005')
t_check "tcpdump saw 40 datagrams to 5005" 40 "$want"
got=$(ff_pcap_count "$pcap")
t_check "alice wrote as many packets as tcpdump saw" "$want" "$got"
# Byte for byte, cut at the snaplen: tcpdump's copy of the same packets.
tcpdump -r "$D/win.pcap" -w - 'udp dst port 5005' 2>/dev/null | editcap -s "$SNAP" - "$D/ref.cut.pcap" >/dev/null 2>&1 || true
hex() { tshark -r "$1" -T fields -e frame.cap_len -e frame.len -e data.data -e ip.src -e udp.srcport 2>/dev/null; }
if [[ -s "$D/ref.cut.pcap" ]] && diff <(hex "$D/ref.cut.pcap") <(hex "$pcap") >"$D/diff.txt"; then
	t_pass "alice's packets are byte-identical to tcpdump's, cut at $SNAP bytes"
else
	t_fail "byte compare with tcpdump" "$(head -n 6 "$D/diff.txt")"
fi
t_check "largest captured length is the cap" "$SNAP" \
	"$(tshark -r "$pcap" -T fields -e frame.cap_len 2>/dev/null | sort -n | tail -n1)"

# --- 2. what the policy refuses, through the daemon -------------------------------
refused() {
	local name=$1 line=$2 what=$3 rc=0
	shift 3
	OUT=$(as "$@" 2>&1) || rc=$?
	if ((rc != 0)) && [[ "$OUT" == *"refused by policy"* && "$OUT" == *"$pol:$line ("* &&
		"$OUT" == *"$what"* ]]; then
		t_pass "refused: $name: $(grep -m1 -o 'refused by policy: .*' <<<"$OUT")"
	else
		t_fail "refused: $name" "want $pol:$line and '$what'; exit $rc: $OUT"
	fi
}
refused "bob: class sample" 13 "class sample is not allowed" \
	"$B" "$FFPF" run -i "$IF_S" --flow 'x=match(udp) -> sample(2)' --copy -w "$D/x-$RANDOM.pcap" --duration 1
refused "bob: statistics only is not his rx" 14 "receive mode none" \
	"$B" "$FFPF" run -i "$IF_S" --flow 'x=count' --duration 1
refused "alice: payload without the prefixset" 5 "payload" \
	"$A" "$FFPF" run -i "$IF_S" --flow 'x=payload("GET")' --duration 1
refused "alice: payload after a wider prefixset" 5 "payload" \
	"$A" "$FFPF" run -i "$IF_S" --flow 'x=prefixset(src, allow, 10.0.0.0/8) -> payload("GET")' --duration 1
refused "alice: explicit snaplen above the cap" 7 "snaplen 1500 is above $SNAP" \
	"$A" "$FFPF" run -i "$IF_S" --flow 'x=match(udp)' --copy -s 1500 -w "$D/x-$RANDOM.pcap" --duration 1
refused "bob: joining alice's group" 11 "flow group 'user:$A' is not allowed" \
	"$B" "$FFPF" run -i "$IF_S" --flow 'x=match(udp)' --copy -w "$D/x-$RANDOM.pcap" --group "user:$A" --duration 1
# monitor mode would drop the interface's traffic for everyone: never for a client
rc=0
OUT=$(as "$A" "$FFPF" run -i "$IF_S" --monitor --flow 'x=match(udp) -> count' --duration 1 2>&1) || rc=$?
if ((rc != 0)) && [[ "$OUT" == *"monitor mode drops the interface's traffic for every user"* &&
	"$OUT" == *"Operation not permitted"* ]]; then
	t_pass "refused: alice: run --monitor through the daemon (EPERM)"
else
	t_fail "refused: alice: run --monitor through the daemon" "exit $rc: $OUT"
fi
rc=0
OUT=$(as "$A" "$FFPF" run -i "$IF_S" --flow 'ok=prefixset(src, allow, 10.199.0.0/16) -> payload("GET") -> count' \
	--duration 1 2>&1) || rc=$?
t_check "alice: payload after prefixset inside 10.199.0.0/16 is allowed (exit 0)" 0 "$rc"

# --- 3. isolation: bob's attempts -----------------------------------------------
# alice's statistics-only flow matches bob's packets too: its bit must not show
as_bg "$A" astats "$FFPF" run -i "$IF_S" --flow 'st=match(udp, dst port 5005) -> count' \
	--duration 8 -q
ASTATS=$BGPID
wait_ready astats || t_fail "alice's statistics flow" "$(cat "$D/astats.err")"
as_bg "$B" bob "$CLIENT" "$IF_S" 'match(udp, dst port 5005)' --count 5 --mbuf
BOB=$BGPID
wait_ready bob || t_fail "bob's client" "$(cat "$D/bob.err")"
as_bg "$A" alice2 "$CLIENT" "$IF_S" 'match(udp, dst port 5005) -> count' --count 5 --mbuf
ALICE2=$BGPID
wait_ready alice2 || t_fail "alice's client" "$(cat "$D/alice2.err")"
ff_udp_ports 5005 5
wait "$BOB" || true
wait "$ALICE2" || true
_ff_forget_pid "$BOB"
_ff_forget_pid "$ALICE2"
echo "    bob:   $(tr '\n' ' ' <"$D/bob.out")"
echo "    alice: $(tr '\n' ' ' <"$D/alice2.out")"
t_check "bob receives his 5 packets from the shared memory" 5 "$(kv bob packets)"
wait "$ASTATS" || true
_ff_forget_pid "$ASTATS"
t_check "bob's packets show no other flow's bit (other group; alice's receiving and statistics flows)" \
	0x0 "$(kv bob other_bits)"
t_check "bob cannot make his PBuf mapping writable (sealed memfd)" EACCES "$(kv bob pbuf_mprotect_write)"
t_check "bob cannot write his PBuf through /proc/self/mem" EFAULT "$(kv bob pbuf_write_via_mem | sed 's/EIO/EFAULT/')"
t_check "bob gets no MBuf (policy: mbuf none)" EPERM "$(kv bob mbuf)"
n=$(kv bob filter0_seen)
[[ "$n" =~ ^[0-9]+$ ]] && ((n >= 5)) && t_pass "bob still reads his counters (filter_stats: seen $n)" ||
	t_fail "bob's filter_stats" "seen '$n'"
t_check "alice reads her MBuf (mbuf read: a copy from a read-only map fd)" mapped "$(kv alice2 mbuf)"
rc=0
as "$B" bpftool map show >"$D/bpftool.out" 2>&1 || rc=$?
((rc != 0)) && t_pass "bob cannot list or open BPF maps by id (bpftool exits $rc)" ||
	t_fail "bpftool as bob" "$(head -n3 "$D/bpftool.out")"

# --- 4. flow groups: frames per packet, 4 applications ---------------------------
pbuf_line() { daemon_status | grep "^pbuf $IF_S group $1 "; }
field() { sed -n "s/.* $1 \\([0-9]*\\).*/\\1/p" <<<"$2"; }
apps() {
	local tag=$1 i
	shift
	PIDS=()
	for i in 1 2 3 4; do
		as_bg "$A" "$tag$i" "$CLIENT" "$IF_S" 'match(udp, dst port 5005)' --count 100 --timeout 15000 \
			--linger 3000 --group "${@:i:1}"
		PIDS+=("$BGPID")
	done
	for i in 1 2 3 4; do wait_ready "$tag$i" || t_fail "$tag app $i" "$(cat "$D/$tag$i.err")"; done
}
apps_done() {
	local p
	for p in "${PIDS[@]}"; do
		wait "$p" || true
		_ff_forget_pid "$p"
	done
}
apps one team1 team1 team1 team1
ff_udp_ports 5005 100
sleep 0.5
L=$(pbuf_line team1)
echo "    one group:   $L"
stored=$(field stored "$L") descs=$(field descs "$L")
apps_done
t_check "one group, 4 applications: 100 packets stored once (frames)" 100 "$stored"
t_check "one group, 4 applications: 400 descriptors into their IBufs" 400 "$descs"
tot_got=0
for i in 1 2 3 4; do tot_got=$((tot_got + $(kv "one$i" packets))); done
t_check "one group: every application received all 100" 400 "$tot_got"
apps four team1 team2 team3 team4
ff_udp_ports 5005 100
sleep 0.5
frames=0
for g in team1 team2 team3 team4; do
	L=$(pbuf_line "$g")
	echo "    four groups: $L"
	frames=$((frames + $(field stored "$L")))
done
apps_done
t_check "four groups, 4 applications: 400 frames for 100 packets (a copy per group)" 400 "$frames"
echo "    frames per packet: 1 app per packet in one group = $((stored * 100 / 100 / 100)) (4 apps), 4 groups = $((frames / 100))"

# --- 4b. flow tracking through the daemon ------------------------------------------
# Two applications of alice track the same traffic (one with the tracker's
# thread, one sweeping by hand); the daemon ends the flows, the records come
# through its ring. Both must print the same records, and each record's
# client-side packets and bytes must be tcpdump's on the same interface.
start_http_server 8080
ftref=$D/ft.pcap
ff_tcpdump_in_start "$NS_S" "$IF_S" "$ftref" "ip and (tcp port 8080 or udp)"
FTSPEC='match(ip) -> flowtrack(idle=2, index=1)'
FTSTOP=$D/ft.stop
# and `ffpf-bpf flows`: ingress and egress flows sharing one table (.share)
as_bg "$A" ftflows "$FFPF" flows -i "$IF_S" --idle 2 --format csv -o "$D/flows.csv" -q \
	--no-top --duration 9
FTF=$BGPID
wait_for "grep -q 'tracking on' '$D/ftflows.err' || ! kill -0 $FTF 2>/dev/null" 10 || true
as_bg "$A" ftt "$FTC" "$IF_S" "$FTSPEC" "$FTSTOP"
FTT=$BGPID
as_bg "$A" ftm "$FTC" "$IF_S" "$FTSPEC" "$FTSTOP" --manual
FTM=$BGPID
if wait_ready ftt && wait_ready ftm; then
	t_pass "alice tracks flows through the daemon (thread and manual sweeps)"
else
	t_fail "ft_client through the daemon" "$(cat "$D/ftt.err" "$D/ftm.err")"
fi
# fin: an HTTP/1.0 exchange; rst: a connection reset by the client;
# idle: 5 datagrams; closed: a flow still live when the applications close
ns_c curl -s -o /dev/null "$FF_HTTP_URL/1k.bin"
ns_c "$FF_PYTHON" -c '
import socket, struct, sys
s = socket.create_connection((sys.argv[1], 8080))
s.sendall(b"GET /1k.bin HTTP/1.0\r\n")
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
' "$IP_S"
ff_udp_ports 5006 5
sleep 4.5
ff_udp_ports 5007 3
touch "$FTSTOP"
for p in "$FTT" "$FTM"; do wait "$p" || t_fail "ft_client exit" "$(cat "$D/ftt.err" "$D/ftm.err")"; _ff_forget_pid "$p"; done
wait "$FTF" || t_fail "ffpf-bpf flows exit" "$(cat "$D/ftflows.err")"
_ff_forget_pid "$FTF"
tcpdump_stop "$ftref"
grep '^rec ' "$D/ftt.out" | sort >"$D/ftt.recs" || true
grep '^rec ' "$D/ftm.out" | sort >"$D/ftm.recs" || true
sed 's/^/    /' "$D/ftt.recs"
for r in fin rst idle closed; do
	grep -q "reason=$r " "$D/ftt.recs" && t_pass "through the daemon: a flow ended '$r'" ||
		t_fail "reason $r" "$(cat "$D/ftt.out")"
done
if [[ -s "$D/ftt.recs" ]] && cmp -s "$D/ftt.recs" "$D/ftm.recs"; then
	t_pass "thread and manual sweeps: the same $(wc -l <"$D/ftt.recs") records"
else
	t_fail "thread vs manual records" "$(diff "$D/ftt.recs" "$D/ftm.recs" | head)"
fi
# every record against tcpdump: what side IP_C sent (ingress of IF_S)
bad=0 n=0
while read -r line; do
	a=$(sed -n 's/.* a=\([^ ]*\) b=.*/\1/p' <<<"$line") b=$(sed -n 's/.* b=\([^ ]*\) init=.*/\1/p' <<<"$line")
	pk=$(sed -n 's/.* pkts=\([0-9]*\)\/\([0-9]*\) .*/\1 \2/p' <<<"$line")
	by=$(sed -n 's/.* bytes=\([0-9]*\)\/\([0-9]*\)$/\1 \2/p' <<<"$line")
	if [[ "${a%:*}" == "$IP_C" ]]; then side=0 c=$a s=$b; else side=1 c=$b s=$a; fi
	read -r -a P <<<"$pk"
	read -r -a Y <<<"$by"
	proto=tcp; grep -q 'proto=17' <<<"$line" && proto=udp
	f="ip.src==${c%:*} && $proto.srcport==${c##*:} && ip.dst==${s%:*} && $proto.dstport==${s##*:}"
	want_p=$(tshark -r "$ftref" -Y "$f" -T fields -e frame.len 2>/dev/null | wc -l)
	want_b=$(tshark -r "$ftref" -Y "$f" -T fields -e frame.len 2>/dev/null | awk '{s+=$1} END {print s+0}')
	n=$((n + 1))
	if [[ "${P[$side]}" != "$want_p" || "${Y[$side]}" != "$want_b" ]]; then
		bad=$((bad + 1))
		echo "    mismatch: $line: tcpdump $want_p packets $want_b bytes"
	fi
done <"$D/ftt.recs"
((n > 0 && bad == 0)) && t_pass "all $n records: packets and bytes equal tcpdump's on $IF_S" ||
	t_fail "records vs tcpdump" "$bad of $n differ"
L=$(grep '^live=' "$D/ftt.out" || true)
echo "    $L"
lv=$(sed -n 's/^live=\([0-9]*\).*/\1/p' <<<"$L") lk=$(sed -n 's/.*looked_up=\([0-9]*\).*/\1/p' <<<"$L")
[[ -n "$lv" && "$lv" -ge 1 && "$lv" == "$lk" ]] &&
	t_pass "foreach and lookup read the table through read-only fds ($lv live, $lk found)" ||
	t_fail "foreach/lookup" "$L"
dr=$(sed -n 's/.*dropped=\([0-9]*\).*/\1/p' <<<"$L")
t_check "no record dropped by the daemon's ring" 0 "${dr:-x}"
# flows' HTTP record: out = what ft_client counted on ingress, in (egress) > 0
hrec=$(grep ',8080,.*,fin$' "$D/flows.csv" | head -n1 || true)
hcli=$(grep 'b=[0-9.]*:8080 .*reason=fin' "$D/ftt.recs" | sed -n 's/.* pkts=\([0-9]*\)\/.*/\1/p' | head -n1)
echo "    flows: $hrec"
IFS=, read -r -a H <<<"$hrec"
if [[ -n "$hrec" && "${H[7]}" == "$hcli" && "${H[9]:-0}" -gt 0 ]]; then
	t_pass "ffpf-bpf flows through the daemon: egress shares the table (HTTP flow out ${H[7]} = ft_client's, in ${H[9]})"
else
	t_fail "ffpf-bpf flows through the daemon" "record '$hrec', ft_client $hcli; $(tail -n3 "$D/ftflows.err")"
fi

# --- 4c. per-flow sockets through the daemon ---------------------------------------
FSSTOP=$D/fs.stop
as_bg "$A" fsock "$FSC" "$IF_S" 'match(udp, dst port 5008) -> flowtrack(idle=1, index=1)' "$FSSTOP" 64 0
FSP=$BGPID
wait_ready fsock || t_fail "alice's per-flow sockets" "$(cat "$D/fsock.err")"
ff_udp_ports 5008 3
wait_for "grep -q '^eof ' '$D/fsock.out'" 10 || true
touch "$FSSTOP"
wait "$FSP" || true
_ff_forget_pid "$FSP"
sed 's/^/    /' "$D/fsock.out"
if grep -q '^end id=[0-9]* reason=idle pkts=3/0' "$D/fsock.out" && grep -q '^eof id=[0-9]* read=3 bad=0' "$D/fsock.out"; then
	t_pass "per-flow sockets through the daemon: the UDP flow's 3 packets on its fd, idle notice, EOF"
else
	t_fail "per-flow sockets through the daemon" "$(cat "$D/fsock.out" "$D/fsock.err")"
fi

# --- 5. kill -9 of a client ------------------------------------------------------
as_bg "$B" victim "$CLIENT" "$IF_S" 'match(udp, dst port 5005) -> count' --count 1000000 --timeout 60000
VICTIM=$BGPID
as_bg "$A" other "$CLIENT" "$IF_S" 'match(udp, dst port 5005)' --count 20 --timeout 20000
OTHER=$BGPID
wait_ready victim && wait_ready other || t_fail "clients for kill -9" "$(cat "$D/victim.err" "$D/other.err")"
before_flows=$(daemon_status | grep -c "^flow ")
before_progs=$(n_progs)
vpid=$(kv victim pid)
kill -9 "$vpid" 2>/dev/null || true
wait "$VICTIM" 2>/dev/null || true
_ff_forget_pid "$VICTIM"
wait_for "[[ \$(daemon_status | grep -c '^flow ') -lt $before_flows ]]" 10 || true
after_flows=$(daemon_status | grep -c "^flow " || true)
after_progs=$(n_progs)
t_check "kill -9: the daemon closed the victim's flow ($before_flows -> $after_flows)" \
	"$((before_flows - 1))" "$after_flows"
((after_progs < before_progs)) && t_pass "kill -9: its programs left the kernel ($before_progs -> $after_progs BPF programs of the daemon)" ||
	t_fail "kill -9: programs" "$before_progs -> $after_progs"
ff_udp_ports 5005 20
wait "$OTHER" || true
_ff_forget_pid "$OTHER"
t_check "the other client, unaffected, received its 20 packets" 20 "$(kv other packets)"
grep -q "uid $(id -u "$B") ($B): hung up\\|uid $(id -u "$B") ($B): disconnected" "$D/daemon.err" &&
	t_pass "daemon log: the victim's connection and flow closed" || t_fail "daemon log" "$(tail -n5 "$D/daemon.err")"

# --- 6. hostile messages ----------------------------------------------------------
# As root: the descriptor count of the daemon (/proc/PID/fd) is root's to read.
if ff_ns "$NS_S" "$HOSTILE" --socket "$SOCK" --pid "$DPID" >"$D/hostile.out" 2>&1; then
	t_pass "hostile messages: $(tail -n1 "$D/hostile.out"); the daemon keeps serving"
else
	t_fail "hostile messages" "$(grep -v '^ok' "$D/hostile.out" | head -n 8)"
fi
grep -v '^"\?$' "$D/hostile.out" | sed 's/^/    /' | head -n 25
kill -0 "$DPID" && t_pass "daemon alive after the hostile client" || t_fail "daemon alive" "$(tail "$D/daemon.err")"

# --- 7. daemon restart ------------------------------------------------------------
as_bg "$A" waiter "$CLIENT" "$IF_S" 'match(udp, dst port 5005)' --count 3 --expect-gone --timeout 20000
WAITER=$BGPID
wait_ready waiter || t_fail "waiting client" "$(cat "$D/waiter.err")"
ff_udp_ports 5005 3
wait_for "grep -q waiting '$D/waiter.out'" 10 || true
kill -TERM "$DPID"
wait "$DPID" && rc=0 || rc=$?
_ff_forget_pid "$DPID"
t_check "daemon exits 0 on SIGTERM" 0 "$rc"
wait_for "grep -q gone= '$D/waiter.out'" 10 || true
t_check "a waiting client is told the daemon went away" ECONNRESET "$(kv waiter gone)"
grep -q "closed the connection (stopped or restarted)" "$D/waiter.err" &&
	t_pass "its message: $(grep -m1 -o 'the ffpf-bpf daemon.*' "$D/waiter.err")" ||
	t_fail "client message" "$(cat "$D/waiter.err")"
wait "$WAITER" || true
_ff_forget_pid "$WAITER"
t_check "no XDP program left on $IF_S after the daemon stopped" "" "$(ff_xdp_prog "$NS_S" "$IF_S")"
if daemon_start; then
	rc=0
	as "$A" "$FFPF" run -i "$IF_S" --flow 'again=match(udp) -> count' --duration 1 >/dev/null 2>&1 || rc=$?
	t_check "after a restart, a new client is served again" 0 "$rc"
	kill -TERM "$DPID"
	wait "$DPID" || true
	_ff_forget_pid "$DPID"
else
	t_fail "daemon restart" "$(tail -n3 "$D/daemon.err")"
fi

echo "--- daemon log (last lines):"
tail -n 12 "$D/daemon.err" | sed 's/^/    /'
t_summary
