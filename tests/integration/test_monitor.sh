#!/usr/bin/env bash
# Integration test: monitor mode (`ffpf-bpf run --monitor`, `flows --monitor`)
# counts what arrives and then drops it, for a mirror (SPAN) port whose
# traffic is not meant for this host.
#
#   - run --monitor --flow 'c=match(udp) -> count' on the server end: the
#     client sends N UDP datagrams and pings; the flow counts exactly N, the
#     server's UDP socket receives nothing, no ping is answered, and
#     monitor_dropped == rx_packets (every packet the root saw was dropped,
#     none silently); the text summary says "dropped (monitor)" too
#   - after ffpf-bpf exits no XDP program is left and the same traffic goes
#     through: the socket receives N, ping is answered
#   - flows --monitor: the ingress half drops (and says how many), the egress
#     half does not: the server's own pings still reach the client
#   - run --monitor --pin: the pinned flow drops after the command exited,
#     not while paused (ffpf-bpf pause), again once activated; close detaches
#   - run --monitor --hook egress is refused, with the reason
#
# Monitor mode drops ARP as well, so both ends get a permanent neighbour
# entry for the other, and IPv6 is off on the veth so no stray ND/MLD packet
# arrives while ffpf-bpf attaches or detaches.
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools ping
ffpf_setup

N=40 PINGS=5 PORT=5005

mac() { ip -n "$1" link show "$2" | awk '/link\/ether/ { print $2 }'; }
ip -n "$NS_C" neigh replace "$IP_S" lladdr "$(mac "$NS_S" "$IF_S")" dev "$IF_C" nud permanent
ip -n "$NS_S" neigh replace "$IP_C" lladdr "$(mac "$NS_C" "$IF_C")" dev "$IF_S" nud permanent
ns_c sysctl -qw "net.ipv6.conf.$IF_C.disable_ipv6=1"
ns_s sysctl -qw "net.ipv6.conf.$IF_S.disable_ipv6=1"
sleep 0.5

start_udp_sink "$PORT"

# ping_replies NS DST COUNT: the number of echo replies ping got.
ping_replies() {
	local out
	out=$(ip netns exec "$1" ping -c "$3" -i 0.2 -W 1 -q "$2" 2>&1 || true)
	sed -n 's/.* \([0-9]*\) \(packets \)\{0,1\}received.*/\1/p' <<<"$out" | head -n1
}

# --- 1. run --monitor: counted, then dropped ----------------------------------------
ffpf_start "$NS_S" mon -i "$IF_S" --monitor --flow 'c=match(udp) -> count' --json -q ||
	{ t_fail "ffpf-bpf run --monitor starts" "$(cat "$FF_TMP/mon.err")"; t_summary; exit 1; }
t_pass "ffpf-bpf run --monitor starts"
if grep -q 'monitor mode' "$FF_TMP/mon.err"; then
	t_pass "it says it is in monitor mode"
else
	t_fail "it says it is in monitor mode" "$(cat "$FF_TMP/mon.err")"
fi
[[ -n "$(ff_xdp_prog "$NS_S" "$IF_S")" ]] && t_pass "XDP program attached while running" ||
	t_fail "XDP program attached while running" "$(ip -n "$NS_S" -d link show "$IF_S")"

udp_send "$N" "$PORT"
t_check "ping while monitoring: 0 of $PINGS answered" 0 "$(ping_replies "$NS_C" "$IP_S" "$PINGS")"
sleep 0.5	# the sink would have had them by now
t_check "server's UDP socket received 0 of $N" 0 "$(udp_sink_count "$PORT")"

ffpf_stop mon INT 10 || true
t_check "ffpf-bpf exits 0 on SIGINT" 0 "$(ffpf_rc mon)"
json=$FF_TMP/mon.out
echo "--- ffpf-bpf --json output:"
sed 's/^/    /' "$json"
t_check "flow c counted exactly the $N datagrams" "$N" "$(ff_json "$json" "flow('c')['packets']")"
rx=$(ff_json "$json" "iface('$IF_S')['rx_packets']")
t_check "the root saw the datagrams and the pings (rx_packets >= $((N + PINGS)))" true \
	"$(ff_json "$json" "iface('$IF_S')['rx_packets'] >= $((N + PINGS))")"
t_check "monitor_dropped == rx_packets ($rx): every packet dropped, and counted" "$rx" \
	"$(ff_json "$json" "iface('$IF_S')['monitor_dropped']")"

# --- 2. after exit: nothing attached, traffic goes through again ------------------
if ff_has_xdp "$NS_S" "$IF_S"; then
	t_fail "no XDP program left on $IF_S" "$(ip -n "$NS_S" -d link show "$IF_S")"
else
	t_pass "no XDP program left on $IF_S"
fi
udp_send "$N" "$PORT"
udp_wait_count "$PORT" "$N" 5 || true
t_check "after exit the socket receives the $N datagrams" "$N" "$(udp_sink_count "$PORT")"
t_check "after exit ping is answered ($PINGS of $PINGS)" "$PINGS" \
	"$(ping_replies "$NS_C" "$IP_S" "$PINGS")"

# --- 3. the text summary names the drops -------------------------------------------
ffpf_start "$NS_S" montxt -i "$IF_S" --monitor --flow 'c=match(udp) -> count' -q ||
	t_fail "ffpf-bpf run --monitor (text) starts" "$(cat "$FF_TMP/montxt.err")"
udp_send 10 "$PORT"
ffpf_stop montxt INT 10 || true
line=$(grep "^$IF_S: " "$FF_TMP/montxt.out" || true)
echo "    $line"
if [[ "$line" =~ ^$IF_S:\ ([0-9]+)\ packets\ received\ by\ filter,.*,\ ([0-9]+)\ dropped\ \(monitor\)$ ]] &&
	((BASH_REMATCH[1] >= 10 && BASH_REMATCH[1] == BASH_REMATCH[2])); then
	t_pass "text summary: received by filter == dropped (monitor) >= 10"
else
	t_fail "text summary: received by filter == dropped (monitor)" "'$line'"
fi
t_check "the socket still has only the earlier $N" "$N" "$(udp_sink_count "$PORT")"

# --- 4. flows --monitor: ingress drops, egress does not -----------------------------
cap=$FF_TMP/client.pcap
tcpdump_start "$NS_C" "$IF_C" "icmp[icmptype] == icmp-echo" "$cap"
ff_flows_start_or_die mflows --monitor --flows-out "$FF_TMP/mflows.jsonl" -q
if grep -q 'monitor mode' "$FF_TMP/mflows.err"; then
	t_pass "flows --monitor says it is in monitor mode"
else
	t_fail "flows --monitor says it is in monitor mode" "$(cat "$FF_TMP/mflows.err")"
fi
udp_send "$N" "$PORT"
t_check "server's own pings leave (egress is not dropped) but get no reply" 0 \
	"$(ping_replies "$NS_S" "$IP_C" "$PINGS")"
sleep 0.5
t_check "flows --monitor: the socket got none of $N more" "$N" "$(udp_sink_count "$PORT")"
ffpf_stop mflows INT 10 || true
t_check "ffpf-bpf flows exits 0" 0 "$(ffpf_rc mflows)"
tcpdump_stop "$cap"
t_check "the client received the server's $PINGS echo requests" "$PINGS" "$(pcap_count "$cap")"
sed 's/^/    /' "$FF_TMP/mflows.err" | tail -n 3
if [[ "$(grep "flows: $IF_S: " "$FF_TMP/mflows.err" || true)" =~ :\ ([0-9]+)\ packets\ received,\ ([0-9]+)\ dropped\ \(monitor\)$ ]] &&
	((BASH_REMATCH[1] >= N + PINGS && BASH_REMATCH[1] == BASH_REMATCH[2])); then
	t_pass "flows --monitor: received == dropped (monitor) >= $((N + PINGS))"
else
	t_fail "flows --monitor: received == dropped (monitor)" "$(tail -n 3 "$FF_TMP/mflows.err")"
fi
t_check "flows --monitor: the UDP flow's record has the $N datagrams" "$N" \
	"$("$FF_PYTHON" -c '
import json, sys
print(sum(r["out_packets"] + r["in_packets"] for r in map(json.loads, open(sys.argv[1]))
          if r["proto"] == 17 and r["dst_port"] == int(sys.argv[2])))' "$FF_TMP/mflows.jsonl" "$PORT")"
if ff_has_xdp "$NS_S" "$IF_S"; then
	t_fail "no XDP program left after flows" "$(ip -n "$NS_S" -d link show "$IF_S")"
else
	t_pass "no XDP program left after flows"
fi

# --- 5. pinned: drops after the command exits, while active; pause stops it ---------
ffpf_start "$NS_S" mpin -i "$IF_S" --monitor --pin --flow 'pc=match(udp) -> count' -q \
	--duration 0.5 || t_fail "run --monitor --pin starts" "$(cat "$FF_TMP/mpin.err")"
wait_for "! kill -0 $(ffpf_pid mpin) 2>/dev/null" 10 || true
ffpf_stop mpin INT 5 || true
t_check "run --monitor --pin exits 0" 0 "$(ffpf_rc mpin)"
t_check "list: the pinned flow is active and in monitor mode" "true true" \
	"$(ffpf_pinned_field "$NS_S" "$IF_S" pc active) $(ffpf_pinned_field "$NS_S" "$IF_S" pc monitor)"
base=$(udp_sink_count "$PORT")
udp_send 10 "$PORT"
sleep 0.5
t_check "pinned monitor flow, active: the socket gets none of 10" "$base" "$(udp_sink_count "$PORT")"
ffpf "$NS_S" pause -i "$IF_S" pc
udp_send 10 "$PORT"
udp_wait_count "$PORT" $((base + 10)) 5 || true
t_check "paused: the socket gets the 10" $((base + 10)) "$(udp_sink_count "$PORT")"
ffpf "$NS_S" activate -i "$IF_S" pc
udp_send 10 "$PORT"
sleep 0.5
t_check "active again: dropped again" $((base + 10)) "$(udp_sink_count "$PORT")"
t_check "the pinned flow counted the 20 of its active periods" 20 "$(ffpf_pinned_packets "$NS_S" "$IF_S" pc)"
ffpf "$NS_S" close -i "$IF_S" pc
if ff_has_xdp "$NS_S" "$IF_S"; then
	t_fail "closed: no XDP program left" "$(ip -n "$NS_S" -d link show "$IF_S")"
else
	t_pass "closed: no XDP program left"
fi

# --- 6. egress is refused ----------------------------------------------------------------
rc=0
out=$(ffpf "$NS_S" run -i "$IF_S" --monitor --hook egress --flow 'c=count' --duration 1 2>&1) || rc=$?
if ((rc != 0)) && [[ "$out" == *"--monitor cannot be used with --hook egress"* ]]; then
	t_pass "run --monitor --hook egress refused (exit $rc): $(head -n1 <<<"$out")"
else
	t_fail "run --monitor --hook egress refused" "exit $rc: $out"
fi
ff_has_xdp "$NS_S" "$IF_S" && t_fail "nothing attached by the refused run" ||
	t_pass "nothing attached by the refused run"

t_summary
