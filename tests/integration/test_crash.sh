#!/usr/bin/env bash
# Integration test: ffpf-bpf killed with SIGKILL in the middle of traffic.
#   - without --pin everything it loaded belongs to its file descriptors:
#     once it is dead no XDP program is left on the interface, none of its
#     programs, maps or links survives (the kernel frees them
#     asynchronously, so this polls for a few seconds), no pin is left,
#     traffic still flows and a new run attaches fine
#   - with --pin the flows survive the kill: they are listed, XDP stays
#     attached and keeps counting, and `close` then removes everything
#
# BPF objects are identified two ways: the ids the killed process held
# (its /proc/PID/fdinfo, plus the maps of its programs), which must all
# disappear; and the ffpf-named objects that exist now but did not before
# the test, which must all be gone or be held by some other live process
# or pin (other ffpf users on the machine are not ours to judge).
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools ping bpftool
ffpf_setup

FLOWS=(--flow 'echo=match(icmp, icmp-type 8) -> count'
	--flow 'udp=match(udp, dst port 5000-5010) -> sample(2) -> count'
	--flow 'any=count')

before=$FF_TMP/bpf.before
ff_bpf_objects >"$before"
echo "    $(wc -l <"$before") ffpf-named BPF objects exist before the test"

# ids_alive FILE: print the objects listed in FILE ("KIND ID ...") that
# still exist.
ids_alive() {
	local kind id rest
	while read -r kind id rest; do
		[[ -n "$id" ]] || continue
		ff_bpf_alive "$kind" "$id"
	done <"$1"
}

# new_unheld: ffpf-named objects that did not exist before the test and
# that no live process and no pin holds: leaked.
new_unheld() {
	local now held
	now=$(ff_bpf_objects)
	held=$(ff_bpf_held_ids)
	awk 'FNR == 1 { f++ }
	     f == 1 { before[$1 " " $2] = 1; next }
	     f == 2 { held[$1 " " $2] = 1; next }
	     !(($1 " " $2) in before) && !(($1 " " $2) in held) { print }' \
		"$before" <(printf '%s\n' "$held") <(printf '%s\n' "$now")
}

# start_traffic: ping every 10 ms and UDP to port 5005 every 5 ms, in the
# background, from the client namespace.
start_traffic() {
	ns_bg "$NS_C" "$FF_TMP/flood_ping.log" ping -i 0.01 -W 1 "$IP_S"
	PING_PID=$FF_LAST_PID
	ns_bg "$NS_C" "$FF_TMP/flood_udp.log" "$FF_PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    s.sendto(b"x" * 32, (sys.argv[1], 5005))
    time.sleep(0.005)
' "$IP_S"
	UDP_PID=$FF_LAST_PID
}
# (|| true: ns_kill's final `kill -KILL` fails when TERM already worked,
# which would end a `set -e` script)
stop_traffic() {
	ns_kill "$PING_PID" || true
	ns_kill "$UDP_PID" || true
}

# wait_counting NAME: wait (5 s max) until run NAME's live line shows the
# echo flow counting.
wait_counting() {
	wait_for "grep -Eq 'echo: [1-9][0-9]* pkts' '$FF_TMP/$1.err'" 5
}

# kill9 NAME: SIGKILL run NAME and reap it.
kill9() {
	ffpf_stop "$1" KILL 5 || true
	t_check "ffpf-bpf run $1 died of SIGKILL" 137 "$(ffpf_rc "$1")"
}

# ===========================================================================
echo "--- SIGKILL without --pin"
if ! ffpf_start "$NS_S" crash -i "$IF_S" "${FLOWS[@]}" --interval 0.2; then
	t_fail "run: 3 flows active"
	t_summary
	exit 1
fi
t_pass "run: 3 flows active"
ours=$FF_TMP/crash.ids
ff_proc_bpf_ids "$FFPF_PID" >"$ours"
xdp_id=$(ff_xdp_prog "$NS_S" "$IF_S")
echo "    run holds $(grep -c '^prog' "$ours") programs, $(grep -c '^map' "$ours") maps," \
	"$(grep -c '^link' "$ours") links; XDP program id ${xdp_id:-none}"
if [[ -n "$xdp_id" ]] && grep -qx "prog $xdp_id" "$ours" && grep -q '^link' "$ours"; then
	t_pass "the run holds the attached XDP program and its link"
else
	t_fail "the run holds the attached XDP program and its link" "xdp id '$xdp_id', held: $(tr '\n' ' ' <"$ours")"
fi
# 1 root + 2 + 3 + 1 stages
t_check "the run holds 7 programs (root + 6 stages)" 7 "$(grep -c '^prog' "$ours")"

t_check "all of them exist while it runs" "$(wc -l <"$ours")" "$(ids_alive "$ours" | wc -l)"

start_traffic
if wait_counting crash; then
	t_pass "flows count the background traffic"
else
	t_fail "flows count the background traffic" "$(tail -n 2 "$FF_TMP/crash.err")"
fi
kill9 crash

if wait_for "! ff_has_xdp '$NS_S' '$IF_S'" 5; then
	t_pass "no XDP program on $IF_S after the kill"
else
	t_fail "no XDP program on $IF_S after the kill" "$(ip -n "$NS_S" -d link show "$IF_S" | grep -E 'xdp' || true)"
fi
if wait_for "[[ -z \$(ids_alive '$ours') ]]" 5; then
	t_pass "every program, map and link of the killed run is freed"
else
	t_fail "every program, map and link of the killed run is freed" "still there: $(ids_alive "$ours" | tr '\n' ' ')"
fi
if wait_for "[[ -z \$(new_unheld) ]]" 5; then
	t_pass "no new ffpf BPF object left behind (bpftool prog/map/link list)"
else
	t_fail "no new ffpf BPF object left behind" "$(new_unheld | tr '\n' ' ')"
fi
t_check "no pin under $FF_PIN_ROOT/$IF_S" no "$([[ -e "$FF_PIN_ROOT/$IF_S" ]] && echo yes || echo no)"
if ns_c ping -c 3 -i 0.1 -W 2 -q "$IP_S" >/dev/null; then
	t_pass "traffic still flows (ping)"
else
	t_fail "traffic still flows (ping)"
fi
stop_traffic

if ffpf_start "$NS_S" again -i "$IF_S" --flow 'echo=match(icmp, icmp-type 8) -> count' --json -q; then
	t_pass "a new run attaches after the crash"
	ns_c ping -c 5 -i 0.05 -W 2 -q "$IP_S" >/dev/null || true
	ffpf_stop again INT 10 || true
	t_check "the new run counts (5 echo requests) and exits 0" "5 0" \
		"$(ff_json "$FF_TMP/again.out" "flow('echo')['packets']") $(ffpf_rc again)"
else
	t_fail "a new run attaches after the crash" "$(tail -n 3 "$FF_TMP/again.err")"
fi
t_check "no XDP program after the new run" "" "$(ff_xdp_prog "$NS_S" "$IF_S")"

# ===========================================================================
echo "--- SIGKILL with --pin"
if ! ffpf_start "$NS_S" pcrash -i "$IF_S" "${FLOWS[@]}" --pin --interval 0.2; then
	t_fail "run --pin: 3 flows active"
	t_summary
	exit 1
fi
t_pass "run --pin: 3 flows active"
pours=$FF_TMP/pcrash.ids
ff_proc_bpf_ids "$FFPF_PID" >"$pours"
start_traffic
wait_counting pcrash || true
kill9 pcrash
stop_traffic

lj=$FF_TMP/list.json
ffpf_list_json "$NS_S" "$IF_S" >"$lj" 2>&1 || true
t_check "list shows the 3 flows after the kill" "echo udp any" \
	"$(ff_json "$lj" "' '.join(f['name'] for f in j)")"
t_check "they are still active" "true" "$(ff_json "$lj" "all(f['active'] for f in j)")"
t_check "their pins are there" "any echo udp" \
	"$(cd "$FF_PIN_ROOT/$IF_S" 2>/dev/null && for d in */; do printf '%s ' "${d%/}"; done | sed 's/ $//')"
if ff_has_xdp "$NS_S" "$IF_S"; then
	t_pass "XDP stays attached"
else
	t_fail "XDP stays attached"
fi
e0=$(ffpf_pinned_packets "$NS_S" "$IF_S" echo)
ns_c ping -c 5 -i 0.05 -W 2 -q "$IP_S" >/dev/null || true
t_check "the orphaned echo flow keeps counting (+5)" 5 $(($(ffpf_pinned_packets "$NS_S" "$IF_S" echo) - e0))

for f in echo udp any; do
	out=$(ffpf "$NS_S" close -i "$IF_S" "$f" 2>&1) && rc=0 || rc=$?
	t_check "close -i $IF_S $f" 0 "$rc${out:+ $out}"
done
t_check "close removed $FF_PIN_ROOT/$IF_S" no "$([[ -e "$FF_PIN_ROOT/$IF_S" ]] && echo yes || echo no)"
if wait_for "! ff_has_xdp '$NS_S' '$IF_S'" 5; then
	t_pass "close detached XDP"
else
	t_fail "close detached XDP" "$(ip -n "$NS_S" -d link show "$IF_S" | grep xdp || true)"
fi
if wait_for "[[ -z \$(ids_alive '$pours') ]]" 5; then
	t_pass "every object of the pinned run is freed after close"
else
	t_fail "every object of the pinned run is freed after close" "still there: $(ids_alive "$pours" | tr '\n' ' ')"
fi
if wait_for "[[ -z \$(new_unheld) ]]" 5; then
	t_pass "no new ffpf BPF object left at the end"
else
	t_fail "no new ffpf BPF object left at the end" "$(new_unheld | tr '\n' ' ')"
fi

# ===========================================================================
echo "--- SIGKILL with --pin while the flows are still being loaded"
# 64 flows take a while to load and pin; kill the run once some are pinned.
# Whatever it leaves must be listed, and closing what is listed must
# remove it all (no pin, no XDP, no program or map).
args=(-i "$IF_S")
for ((i = 0; i < 64; i++)); do
	args+=(--flow "p$i=match(udp, dst port $((6000 + i))) -> sample(2) -> count")
done
nsenter --net="/run/netns/$NS_S" -- "$FFPF" run "${args[@]}" --pin -q \
	>"$FF_TMP/midload.out" 2>"$FF_TMP/midload.err" </dev/null &
mpid=$!
_FF_PIDS+=("$mpid")
ffpf_note_pins "$IF_S"
# the datapath's 8 pins and a few flow directories
wait_for "(( \$(ls '$FF_PIN_ROOT/$IF_S' 2>/dev/null | wc -l) >= 12 ))" 10 || true
{
	kill -KILL "$mpid" || true
	wait "$mpid" || true
} 2>/dev/null
_ff_forget_pid "$mpid"
if grep -q 'flows active' "$FF_TMP/midload.err"; then
	echo "    (the run had finished loading before the kill: not a mid-load kill)"
fi
listed=$(ffpf_list_json "$NS_S" "$IF_S" 2>/dev/null | ff_json - "' '.join(f['name'] for f in j)" || true)
npins=$(find "$FF_PIN_ROOT/$IF_S" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)
echo "    killed with $npins flow directories pinned; list shows $(wc -w <<<"$listed") flows"
if [[ "$listed" != ERROR* ]] && (($(wc -w <<<"$listed") >= 1)); then
	t_pass "list shows the flows pinned before the kill"
else
	t_fail "list shows the flows pinned before the kill" "$listed"
fi
bad=""
for f in $listed; do
	ffpf "$NS_S" close -i "$IF_S" "$f" >/dev/null 2>&1 || bad+=" $f"
done
t_check "close of every listed flow succeeds" "" "$bad"
t_check "nothing left under $FF_PIN_ROOT/$IF_S" "" \
	"$(find "$FF_PIN_ROOT/$IF_S" 2>/dev/null | tr '\n' ' ')"
if wait_for "! ff_has_xdp '$NS_S' '$IF_S'" 5; then
	t_pass "XDP detached"
else
	t_fail "XDP detached" "$(ip -n "$NS_S" -d link show "$IF_S" | grep xdp || true)"
fi
if wait_for "[[ -z \$(new_unheld) ]]" 5; then
	t_pass "no ffpf BPF object left behind"
else
	t_fail "no ffpf BPF object left behind" "$(new_unheld | tr '\n' ' ')"
fi

if ns_c ping -c 3 -i 0.1 -W 2 -q "$IP_S" >/dev/null; then
	t_pass "traffic flows at the end"
else
	t_fail "traffic flows at the end"
fi

t_summary
