#!/usr/bin/env bash
# Integration test: tap mode end to end (AF_XDP, UMEM = PBuf, one IBuf per flow).
#
# build/ffpf-tapcat runs three overlapping flows on the server end of a
# veth pair in tap mode: every packet that matches at least one flow is
# redirected by the root, with its struct ffpf_meta in the XDP metadata, to
# the AF_XDP socket of its RX queue, stored once in the PBuf and handed to
# the IBuf of each flow that matched it. Matched packets never reach the
# server's stack (nor a capture on IF_S), so the reference capture runs on
# the CLIENT's egress (IF_C, -Q out).
#
# Needed on the veth: nothing beyond the defaults. The root is attached in
# native XDP mode on IF_S (veth's own XDP, which also makes veth run NAPI for
# the redirect), the sockets bind in copy mode (XDP_COPY) on queue 0 (a veth
# created without numrxqueues has one RX queue). GRO is not needed.
#
# The client never needs an answer from the server while tap mode is on:
# ARP requests would be redirected too (flow "all"), so the client gets a
# static neighbour entry; IPv6 is off on IF_C so that no spontaneous ND/MLD
# packet makes the "all" count racy. Traffic is bracketed by two marker
# frames (ethertype 0x88b5) as in test_counts.sh.
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools tcpdump tshark ping bpftool
TAPCAT=${TAPCAT:-$FF_ROOT/build/ffpf-tapcat}
if [[ ! -x "$TAPCAT" ]]; then
	t_fail "prerequisites" "$TAPCAT not built: run 'make'"
	t_summary
	exit 1
fi
ffpf_setup

U5005=100 U6000=50 PINGS=10

mac_s=$(ip -n "$NS_S" link show "$IF_S" | awk '/link\/ether/ { print $2 }')
ns_c ip neigh replace "$IP_S" lladdr "$mac_s" dev "$IF_C" nud permanent
ns_c sysctl -qw "net.ipv6.conf.$IF_C.disable_ipv6=1"

# The server's stack must see none of the matched packets while tapping.
start_udp_sink 5005

out=$FF_TMP/tapcat.json err=$FF_TMP/tapcat.err
ff_ns "$NS_S" "$TAPCAT" "$IF_S" all=count 'udp=match(udp) -> count' \
	'p5005=match(udp, dst port 5005) -> count' --duration 60 >"$out" 2>"$err" </dev/null &
tap_pid=$!
_FF_PIDS+=("$tap_pid")
if wait_for "grep -q 'tapcat: ready' '$err'" 10; then
	t_pass "ffpf-tapcat: 3 flows, tap mode on $IF_S"
else
	t_fail "ffpf-tapcat: 3 flows, tap mode on $IF_S" "$(tail -n 5 "$err")"
	t_summary
	exit 1
fi
[[ -n "$(ff_xdp_prog "$NS_S" "$IF_S")" ]] &&
	t_pass "XDP program attached to $IF_S while tapping" ||
	t_fail "XDP program attached to $IF_S while tapping" "$(ip -n "$NS_S" -d link show "$IF_S")"

pcap=$FF_TMP/client_out.pcap
# -Q out on the client: what leaves IF_C is what arrives at IF_S.
rm -f "$pcap"
ip netns exec "$NS_C" tcpdump -i "$IF_C" -Q out -nn -U --immediate-mode -Z root \
	-B 8192 -w "$pcap" >/dev/null 2>"$FF_TMP/tcpdump.err" </dev/null &
_FF_PIDS+=("$!")
_FF_TCPDUMP[$pcap]=$!
wait_for "grep -q 'listening on' '$FF_TMP/tcpdump.err'" 10 ||
	t_fail "tcpdump on $IF_C" "$(cat "$FF_TMP/tcpdump.err")"

ff_mark start
ff_udp_ports 5005 "$U5005"
ff_udp_ports 6000 "$U6000"
ns_c ping -c "$PINGS" -i 0.05 -W 1 -q "$IP_S" >/dev/null 2>&1 || true # no replies: redirected
ff_mark end
# let tapcat drain, then stop it (SIGINT: prints its JSON)
sleep 1
kill -INT "$tap_pid" 2>/dev/null || true
rc=0
wait_for "! kill -0 $tap_pid 2>/dev/null" 10 || true
wait "$tap_pid" || rc=$?
t_check "ffpf-tapcat exits 0 on SIGINT" 0 "$rc"
tcpdump_stop "$pcap"

echo "--- ffpf-tapcat output:"
sed 's/^/    /' "$out"
sed 's/^/    stderr: /' "$err" | tail -n 5

if [[ "$(ff_json "$out" '"flows" in j and "pbuf" in j')" != true ]]; then
	t_fail "JSON output" "$(head -c 300 "$out")"
	t_summary
	exit 1
fi

# --- the reference: client egress between the markers ------------------------
first=$(ff_pcap_frames "$pcap" "$(ff_mark_filter start)" | head -n1)
last=$(ff_pcap_frames "$pcap" "$(ff_mark_filter end)" | tail -n1)
if [[ -z "$first" || -z "$last" ]] || ((first > last)); then
	t_fail "markers in the client capture" "start '${first}' end '${last}'"
	t_summary
	exit 1
fi
win=$FF_TMP/window.pcap
ff_pcap_slice "$pcap" "$win" "$first" "$last"
total=$(ff_pcap_count "$pcap")
echo "    client capture: $((last - first + 1)) packets between the markers, $total in all"
t_check "capture: $U5005 datagrams to 5005" "$U5005" "$(ff_pcap_count "$win" 'udp dst port 5005')"
t_check "capture: $U6000 datagrams to 6000" "$U6000" "$(ff_pcap_count "$win" 'udp dst port 6000')"
t_check "capture: $PINGS echo requests" "$PINGS" "$(ff_pcap_count "$win" 'icmp[icmptype] == icmp-echo')"
t_check "capture: everything sent is in the window" "$total" "$((last - first + 1))"

declare -A PCAP=([all]='' [udp]='udp' [p5005]='udp dst port 5005')
for f in all udp p5005; do
	t_check "flow $f received == capture '${PCAP[$f]:-(all)}'" \
		"$(ff_pcap_count "$win" "${PCAP[$f]}")" "$(ff_json "$out" "flow('$f')['packets']")"
	t_check "flow $f: kernel count == received" \
		"$(ff_json "$out" "flow('$f')['kernel_packets']")" "$(ff_json "$out" "flow('$f')['packets']")"
	t_check "flow $f: no IBuf drops" 0 "$(ff_json "$out" "flow('$f')['ibuf_dropped']")"
	t_check "flow $f: every packet sane (bytes, metadata, flow bit)" 0 \
		"$(ff_json "$out" "flow('$f')['bad']")"
done
t_check "flow bytes == capture bytes (all)" \
	"$(ff_pcap_stats "$win" | cut -d' ' -f2)" "$(ff_json "$out" "flow('all')['bytes']")"

# --- one frame per packet, not one per flow -----------------------------------
matched=$(ff_pcap_count "$win")	# "all" matches everything
descs=$(($(ff_pcap_count "$win") + $(ff_pcap_count "$win" udp) + $(ff_pcap_count "$win" 'udp dst port 5005')))
t_check "PBuf frames stored == packets matched by >= 1 flow" "$matched" "$(ff_json "$out" "j['pbuf']['stored']")"
t_check "PBuf descriptors == sum over flows" "$descs" "$(ff_json "$out" "j['pbuf']['descs']")"
t_check "PBuf: no packet unclaimed, no alloc failure" "0 0" \
	"$(ff_json "$out" "j['pbuf']['unclaimed']") $(ff_json "$out" "j['pbuf']['alloc_fail']")"
t_check "metadata masks: 5005 -> all+udp+p5005, 6000 -> all+udp, rest -> all" \
	"$U5005 $U6000 $((matched - U5005 - U6000))" \
	"$(ff_json "$out" "j['masks'].get('0x7', 0)") $(ff_json "$out" "j['masks'].get('0x3', 0)") $(ff_json "$out" "j['masks'].get('0x1', 0)")"
t_check "packet at frame + 256: metadata at 224..255, inside the frame" "256 256" \
	"$(ff_json "$out" "j['addr_offset']['min']") $(ff_json "$out" "j['addr_offset']['max']")"

# --- datapath counters ----------------------------------------------------------
t_check "root: tap_no_socket == 0" 0 "$(ff_json "$out" "j['root']['tap_no_socket']")"
t_check "root: tap_meta_fail == 0" 0 "$(ff_json "$out" "j['root']['tap_meta_fail']")"
t_check "root: tap_redirected == matched == AF_XDP rx" "$matched $matched $matched" \
	"$(ff_json "$out" "j['root']['tap_redirected']") $(ff_json "$out" "j['root']['matched']") $(ff_json "$out" "j['tap']['rx_packets']")"
t_check "XDP_STATISTICS: no drops" "0 0 0 0" \
	"$(ff_json "$out" "' '.join(str(j['xdp_statistics'][k]) for k in ('rx_dropped', 'rx_invalid_descs', 'rx_ring_full', 'rx_fill_ring_empty_descs'))")"
t_check "server stack saw none of the redirected datagrams" 0 "$(udp_sink_count 5005)"

# --- after exit: nothing attached, traffic back to normal ----------------------
t_check "no XDP program on $IF_S after exit" "" "$(ff_xdp_prog "$NS_S" "$IF_S")"
if ff_has_xdp "$NS_S" "$IF_S"; then
	t_fail "ip -d link: no xdp mention" "$(ip -n "$NS_S" -d link show "$IF_S")"
else
	t_pass "ip -d link: no xdp mention"
fi
if ns_c ping -c 3 -i 0.1 -W 2 -q "$IP_S" >/dev/null; then
	t_pass "ping works again after exit"
else
	t_fail "ping works again after exit"
fi
udp_send 5 5005
udp_wait_count 5005 5 5 || true
t_check "UDP reaches the server's stack again" 5 "$(udp_sink_count 5005)"

t_summary
