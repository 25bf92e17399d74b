#!/usr/bin/env bash
# Integration test: the prefixset class (issue 5) on real traffic.
#   - check accepts prefixset specs and rejects a bad prefix at its column
#   - one run, four flows on the server's ingress: allow the client's
#     IPv4 address (exact echo request count), allow prefixes the client
#     is not in (0), deny the client's addresses (0), allow the client's
#     IPv6 /48 (exact ICMPv6 echo request count), either-direction UDP
#   - a pinned flow with an empty set: `ffpf-bpf set ... add|del|list`
#     changes what it counts while UDP flows, IPv4 and IPv6, by index and
#     by pin name; the trie is pinned beside the MBuf as
#     <k>_prefixset_set, still changeable once the run has exited, and
#     removed with the flow
#   - set's errors: bad prefix (exit 2), not a prefixset, unknown flow,
#     deleting a prefix not in the set, a flow of an unpinned run
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools ping bpftool
ffpf_setup

NET6_C=${IP6_C%::1}::/48	# the client's IPv6 /48 (fd00:199:X::/48)
start_udp_sink 5000
start_udp_sink 5001

ping4() { ns_c ping -c "$1" -i 0.05 -W 2 -q "$IP_S" >/dev/null 2>&1; }
ping6() { ns_c ping -6 -c "$1" -i 0.05 -W 2 -q "$IP6_S" >/dev/null 2>&1; }

# ===========================================================================
echo "--- check"
out=$("$FFPF" check "prefixset(src, allow, $IP_C, 2001:db8::/32, size=100) -> count" 2>&1) && rc=0 || rc=$?
t_check "check accepts a prefixset spec" "0 ok: 2 filters" "$rc $out"
out=$("$FFPF" check 'prefixset(src, allow, 10.0.0.0/40) -> count' 2>&1) && rc=0 || rc=$?
if ((rc == 2)) && [[ "$out" == *"spec:1:32:"*"out of range"* ]]; then
	t_pass "check rejects 10.0.0.0/40 at 1:32 (${out##*spec:})"
else
	t_fail "check rejects 10.0.0.0/40 at 1:32" "exit $rc: $out"
fi
out=$("$FFPF" check 'prefixset(both, allow)' 2>&1) && rc=0 || rc=$?
if ((rc == 2)) && [[ "$out" == *"spec:1:11:"*"src, dst or either"* ]]; then
	t_pass "check rejects direction 'both' at 1:11"
else
	t_fail "check rejects direction 'both' at 1:11" "exit $rc: $out"
fi

# ===========================================================================
echo "--- run: allow, deny, IPv6, either"
if ffpf_start "$NS_S" four -i "$IF_S" \
	--flow "mine=match(icmp, icmp-type 8) -> prefixset(src, allow, $IP_C) -> count" \
	--flow "other=match(icmp) -> prefixset(src, allow, 192.0.2.0/24, 2001:db8::/32, $IP_S)" \
	--flow "denied=match(ip) -> prefixset(src, deny, $IP_C, $IP6_C)" \
	--flow "v6=match(ip6, icmp6, icmp-type 128) -> prefixset(src, allow, $NET6_C)" \
	--flow "either=match(udp, dst port 5000) -> prefixset(either, allow, size=4, $IP_S)" \
	--json -q; then
	t_pass "run: 5 prefixset flows active"
	ping4 10
	ping6 6
	udp_send 7 5000
	udp_wait_count 5000 7 || true
	ffpf_stop four INT 10 || true
	o=$FF_TMP/four.out
	t_check "allow the client's address: 10 echo requests" 10 "$(ff_json "$o" "flow('mine')['packets']")"
	t_check "allow prefixes the client is not in: 0" 0 "$(ff_json "$o" "flow('other')['packets']")"
	t_check "deny the client's IPv4 and IPv6 addresses: 0 of its IP packets" 0 \
		"$(ff_json "$o" "flow('denied')['packets']")"
	t_check "allow the client's IPv6 /48: 6 ICMPv6 echo requests" 6 \
		"$(ff_json "$o" "flow('v6')['packets']")"
	t_check "either direction, the server's address as destination: 7 datagrams" 7 \
		"$(ff_json "$o" "flow('either')['packets']")"
else
	t_fail "run: 5 prefixset flows active" "$(tail -n 3 "$FF_TMP/four.err")"
fi

# ===========================================================================
echo "--- set on an unpinned run"
if ffpf_start "$NS_S" owned -i "$IF_S" --flow "u=prefixset(src, allow) -> count" -q; then
	out=$(ffpf "$NS_S" set -i "$IF_S" u 0 add "$IP_C" 2>&1) && rc=0 || rc=$?
	if ((rc == 1)) && [[ "$out" == *"started with --pin"* ]]; then
		t_pass "set cannot reach a flow of an unpinned run: exit 1, says to use --pin"
	else
		t_fail "set cannot reach a flow of an unpinned run" "exit $rc: $out"
	fi
	ffpf_stop owned INT 10 || true
else
	t_fail "run an unpinned prefixset flow" "$(tail -n 3 "$FF_TMP/owned.err")"
fi

# ===========================================================================
echo "--- set on a pinned flow, live"
# count_live: packets of pinned flow `live` (UDP to 5001 that prefixset passed).
count_live() { ffpf_pinned_packets "$NS_S" "$IF_S" live; }
# udp_live N [DST]: N datagrams to port 5001; wait for the sink to get them.
udp_total=0
udp_live() {
	udp_send "$1" 5001 64 "${2:-$IP_S}"
	udp_total=$((udp_total + $1))
	udp_wait_count 5001 "$udp_total" || true
}
# set_ok DESC ARGS...: `ffpf-bpf set -i IF_S live ARGS` must exit 0.
set_ok() {
	local desc=$1 out rc
	shift
	out=$(ffpf "$NS_S" set -i "$IF_S" live "$@" 2>&1) && rc=0 || rc=$?
	t_check "set $desc" 0 "$rc${out:+ $out}"
}
set_list() { ffpf "$NS_S" set -i "$IF_S" live 1 list 2>&1 | tr '\n' ' ' | sed 's/ $//'; }

if ! ffpf_start "$NS_S" live -i "$IF_S" \
	--flow 'live=match(udp, dst port 5001) -> prefixset(src, allow) -> count' --pin -q; then
	t_fail "run --pin: prefixset flow active" "$(tail -n 3 "$FF_TMP/live.err")"
	t_summary
	exit 1
fi
t_pass "run --pin: prefixset flow active"
pin=$FF_PIN_ROOT/$IF_S/live/1_prefixset_set
if [[ -e "$pin" ]] && bpftool map show pinned "$pin" | grep -q lpm_trie; then
	t_pass "the trie is pinned as live/1_prefixset_set (lpm_trie)"
else
	t_fail "the trie is pinned as live/1_prefixset_set" "$(ls "$FF_PIN_ROOT/$IF_S/live" 2>&1 | tr '\n' ' ')"
fi
t_check "set list: the empty set" "" "$(set_list)"
c0=$(count_live)
udp_live 5
t_check "empty allow set: 5 datagrams -> +0" 0 $(($(count_live) - c0))
set_ok "1 add $IP_C" 1 add "$IP_C"
t_check "set list after add" "$IP_C/32" "$(set_list)"
c1=$(count_live)
udp_live 5
t_check "client's address added: 5 datagrams -> +5" 5 $(($(count_live) - c1))
set_ok "1_prefixset add two prefixes" 1_prefixset add 2001:db8::/32 192.0.2.0/24
t_check "set list: sorted, IPv4 first" "$IP_C/32 192.0.2.0/24 2001:db8::/32" "$(set_list)"
c2=$(count_live)
udp_live 4 "$IP6_S"
t_check "IPv6 client not in the set: 4 datagrams -> +0" 0 $(($(count_live) - c2))
set_ok "1 add $NET6_C" 1 add "$NET6_C"
c3=$(count_live)
udp_live 4 "$IP6_S"
t_check "client's IPv6 /48 added: 4 datagrams -> +4" 4 $(($(count_live) - c3))
set_ok "1 del $IP_C" 1 del "$IP_C"
c4=$(count_live)
udp_live 5
t_check "client's address deleted: 5 datagrams -> +0" 0 $(($(count_live) - c4))

out=$(ffpf "$NS_S" set -i "$IF_S" live 1 add 10.0.0.0/99 2>&1) && rc=0 || rc=$?
if ((rc == 2)) && [[ "$out" == *"prefix length 99 out of range"* ]]; then
	t_pass "set add of a bad prefix: exit 2 with the reason"
else
	t_fail "set add of a bad prefix: exit 2 with the reason" "exit $rc: $out"
fi
out=$(ffpf "$NS_S" set -i "$IF_S" live 0 add "$IP_C" 2>&1) && rc=0 || rc=$?
if ((rc != 0)) && [[ "$out" == *"is a match, not a prefixset"* ]]; then
	t_pass "set on filter 0 (a match) fails: not a prefixset"
else
	t_fail "set on filter 0 (a match) fails" "exit $rc: $out"
fi
out=$(ffpf "$NS_S" set -i "$IF_S" nosuch 1 list 2>&1) && rc=0 || rc=$?
if ((rc != 0)) && [[ "$out" == *"no pinned flow named nosuch"* ]]; then
	t_pass "set on an unknown flow fails"
else
	t_fail "set on an unknown flow fails" "exit $rc: $out"
fi
out=$(ffpf "$NS_S" set -i "$IF_S" live 1 del 198.51.100.0/24 2>&1) && rc=0 || rc=$?
if ((rc == 1)) && [[ "$out" == *"not in the set"* ]]; then
	t_pass "set del of a prefix not in the set: exit 1, not in the set"
else
	t_fail "set del of a prefix not in the set" "exit $rc: $out"
fi
out=$(ffpf "$NS_S" set -i "$IF_S" live 1 frobnicate 2>&1) && rc=0 || rc=$?
t_check "set with an unknown operation: usage, exit 2" 2 "$rc"

echo "--- the set outlives the run"
ffpf_stop live INT 10 || true
set_ok "1 add $IP_C after the run exited" 1 add "$IP_C"
c5=$(count_live)
udp_live 3
t_check "re-added without an owner: 3 datagrams -> +3" 3 $(($(count_live) - c5))
out=$(ffpf "$NS_S" close -i "$IF_S" live 2>&1) && rc=0 || rc=$?
t_check "close -i $IF_S live" 0 "$rc${out:+ $out}"
t_check "the trie's pin is gone with the flow" no "$([[ -e "$pin" ]] && echo yes || echo no)"
t_check "no pins left under $FF_PIN_ROOT/$IF_S" no "$([[ -e "$FF_PIN_ROOT/$IF_S" ]] && echo yes || echo no)"

t_summary
