#!/usr/bin/env bash
# Integration test: ffpf-bpf counts real traffic exactly.
#
# ffpf-bpf runs six flows on the server end of a veth pair while tcpdump
# captures the same ingress packets (-Q in: XDP sees ingress only, and
# every packet is passed on, so the capture sees what the flows saw). The
# client pings, sends UDP, downloads 1 MiB over HTTP and pings over IPv6.
# Each flow's packets and bytes must equal those of the equivalent pcap
# filter, and every filter's MBuf counters (seen/passed) must add up.
#
# The capture runs longer than ffpf-bpf, and the traffic is bracketed by
# two marker frames (raw Ethernet, ethertype 0x88b5, so they need no ARP
# and match no IP flow): the capture between the markers is what ffpf-bpf
# certainly saw. Spontaneous packets (ARP,
# IPv6 ND/MLD/RS) are counted from the capture, never assumed; one that
# arrives outside the markers may or may not have been seen by ffpf-bpf,
# and only such packets may explain a difference.
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools tcpdump tshark curl ping bpftool
ffpf_setup

PING4=20 UDP5=50 UDP6000=50 PING6=10

# flow name -> spec, and the pcap filter that selects the same packets
declare -A SPEC=(
	[icmp]='match(icmp) -> count'
	[udp5]='match(udp, dst port 5000-5010) -> count'
	[http]='match(tcp, port 8080) -> count'
	[v6]='match(ip6, icmp6) -> count'
	[half]='match(udp) -> sample(2) -> count'
	[all]='count'
)
# ffpf's parser walks IPv6 extension headers; pcap's icmp6 does not, so MLD
# reports (ICMPv6 behind a hop-by-hop header) are added explicitly.
declare -A PCAP=(
	[icmp]='icmp'
	[udp5]='udp dst portrange 5000-5010'
	[http]='tcp port 8080'
	[v6]='icmp6 or (ip6[6] == 0 and ip6[40] == 58)'
	[half]='udp'
	[all]=''
)
FLOWS=(icmp udp5 http v6 half all)

start_http_server 8080
start_udp_sink 5005
start_udp_sink 6000

pcap=$FF_TMP/ingress.pcap
ff_tcpdump_in_start "$NS_S" "$IF_S" "$pcap"

ffpf_start_flows_or_die counts "$NS_S" "$IF_S" --interval 0.5 --json
if [[ -n "$(ff_xdp_prog "$NS_S" "$IF_S")" ]]; then
	t_pass "XDP program attached to $IF_S while running"
else
	t_fail "XDP program attached to $IF_S while running" "$(ip -n "$NS_S" -d link show "$IF_S")"
fi
# Some kernels turn GRO on for a veth when XDP is attached to it; GRO would
# merge TCP segments after XDP and before the capture. With GRO off the
# capture sees each packet as the XDP program did (a no-op where it is off).
ns_s ethtool -K "$IF_S" gro off >/dev/null 2>&1 || true

# --- traffic, between the two markers ---------------------------------------
ff_mark start
wait_for "[[ -n \$(ff_pcap_frames '$pcap' '$(ff_mark_filter start)') ]]" 5 || true

ns_c ping -c "$PING4" -i 0.05 -W 2 -q "$IP_S" >/dev/null ||
	t_fail "ping $PING4 x v4" "ping failed"
udp_send "$UDP5" 5005
udp_send "$UDP6000" 6000
dl=$(ns_c curl -sS --max-time 20 -o /dev/null -w '%{size_download}' "$FF_HTTP_URL/1m.bin" || echo failed)
t_check "curl 1m.bin from $IP_S:8080" 1048576 "$dl"
ns_c ping -6 -c "$PING6" -i 0.05 -W 2 -q "$IP6_S" >/dev/null ||
	t_fail "ping $PING6 x v6" "ping -6 failed"
udp_wait_count 5005 "$UDP5" 5 || true
udp_wait_count 6000 "$UDP6000" 5 || true

ff_mark end
# The capture sees a packet after the XDP program has run on it.
wait_for "[[ -n \$(ff_pcap_frames '$pcap' '$(ff_mark_filter end)') ]]" 5 || true

# --- stop: ffpf-bpf first, then the capture ---------------------------------
ffpf_stop counts INT 10 || true
t_check "ffpf-bpf exits 0 on SIGINT" 0 "$(ffpf_rc counts)"
tcpdump_stop "$pcap"
t_check "capture dropped no packet" 0 "$(ff_tcpdump_dropped "$pcap")"

json=$FF_TMP/counts.out
echo "--- ffpf-bpf --json output:"
sed 's/^/    /' "$json"
echo "--- ffpf-bpf stderr:"
sed 's/^/    /' "$FF_TMP/counts.err" | tail -n 4

if [[ "$(ff_json "$json" '"flows" in j and "interfaces" in j')" == true ]]; then
	t_pass "stdout is one JSON object with flows and interfaces"
else
	t_fail "stdout is one JSON object with flows and interfaces" "$(head -c 300 "$json")"
fi
t_check "JSON elapsed > 0" true "$(ff_json "$json" 'j["elapsed"] > 0')"
t_check "JSON lists the ${#FLOWS[@]} flows in order" "${FLOWS[*]}" \
	"$(ff_json "$json" '" ".join(f["name"] for f in j["flows"])')"
t_check "JSON flows are on $IF_S" "$IF_S" \
	"$(ff_json "$json" '",".join(sorted(set(f["ifname"] for f in j["flows"])))')"
if grep -Eq '^ *[0-9.]+s +icmp: [0-9]+ pkts [0-9]+ B' "$FF_TMP/counts.err"; then
	t_pass "live stat line on stderr"
else
	t_fail "live stat line on stderr" "$(head -n 3 "$FF_TMP/counts.err")"
fi
t_check "XDP program detached after exit" "" "$(ff_xdp_prog "$NS_S" "$IF_S")"

# --- the window between the markers ------------------------------------------
win=$FF_TMP/window.pcap
ff_window_or_die "$pcap" "$win"
first=$FF_WIN_FIRST last=$FF_WIN_LAST total_frames=$(ff_pcap_count "$pcap")

# The traffic really happened (otherwise 0 == 0 would pass).
t_check "capture: $PING4 ICMP echo requests" "$PING4" \
	"$(ff_pcap_count "$win" "icmp[icmptype] == icmp-echo and src host $IP_C")"
t_check "capture: $UDP5 datagrams to 5005" "$UDP5" "$(ff_pcap_count "$win" 'udp dst port 5005')"
t_check "capture: $UDP6000 datagrams to 6000" "$UDP6000" "$(ff_pcap_count "$win" 'udp dst port 6000')"
t_check "capture: $PING6 ICMPv6 echo requests" "$PING6" \
	"$(ff_pcap_count "$win" "icmp6 and ip6[40] == 128 and src host $IP6_C")"
t_check "udp sinks got $UDP5 + $UDP6000" "$UDP5 $UDP6000" \
	"$(udp_sink_count 5005) $(udp_sink_count 6000)"
n_arp=$(ff_pcap_count "$win" arp)
n_nd=$(ff_pcap_count "$win" 'icmp6 and (ip6[40] == 135 or ip6[40] == 136)')
echo "    capture: $((last - first + 1)) ingress packets between the markers" \
	"($n_arp ARP, $n_nd IPv6 ND), $((total_frames - last + first - 1)) outside:"
tshark -r "$pcap" -Y "frame.number < $first || frame.number > $last" 2>/dev/null |
	sed 's/^ */      /' || true

declare -A N_IN N_TOT B_IN B_TOT
for f in "${FLOWS[@]}"; do
	read -r "N_IN[$f]" "B_IN[$f]" < <(ff_pcap_stats "$win" "${PCAP[$f]}")
	read -r "N_TOT[$f]" "B_TOT[$f]" < <(ff_pcap_stats "$pcap" "${PCAP[$f]}")
done

# --- per-flow packets and bytes ------------------------------------------------
for f in icmp udp5 http v6 all; do
	ff_expect_count "flow $f packets == pcap '${PCAP[$f]:-(all)}'" \
		"$(ff_json "$json" "flow('$f')['packets']")" "${N_IN[$f]}" "${N_TOT[$f]}"
	ff_expect_count "flow $f bytes == sum of frame lengths" \
		"$(ff_json "$json" "flow('$f')['bytes']")" "${B_IN[$f]}" "${B_TOT[$f]}"
done
# sample(2) passes the 1st, 3rd, 5th... packet it sees: ceil(n/2)
ff_expect_count "flow half packets == ceil(udp/2)" \
	"$(ff_json "$json" "flow('half')['packets']")" \
	$(((N_IN[half] + 1) / 2)) $(((N_TOT[half] + 1) / 2))
t_check "flow icmp == $PING4 echo requests (the replies are egress)" "$PING4" \
	"$(ff_json "$json" "flow('icmp')['packets']")"
t_check "flow udp5 == $UDP5 (port 6000 is outside 5000-5010)" "$UDP5" \
	"$(ff_json "$json" "flow('udp5')['packets']")"
t_check "flow half == ($UDP5 + $UDP6000) / 2" $(((UDP5 + UDP6000) / 2)) \
	"$(ff_json "$json" "flow('half')['packets']")"

# The same byte sums from tshark, an independent decoder.
t_check "tshark: icmp bytes" "${B_IN[icmp]}" "$(ff_tshark_bytes "$win" icmp)"
t_check "tshark: http bytes" "${B_IN[http]}" "$(ff_tshark_bytes "$win" 'tcp.port == 8080')"

# --- MBuf counters of every filter --------------------------------------------
for f in "${FLOWS[@]}"; do
	t_check "flow $f: dispatched == first filter's seen; each filter sees what the previous passed; last passed == packets" \
		true "$(ff_json "$json" "
(lambda F: F['filters'][0]['seen'] == F['dispatched'] and
  all(F['filters'][k]['seen'] == F['filters'][k-1]['passed'] for k in range(1, len(F['filters']))) and
  F['filters'][-1]['passed'] == F['packets'])(flow('$f'))")"
	t_check "flow $f: no missed tail call" 0 "$(ff_json "$json" "flow('$f')['missed']")"
done
t_check "flow icmp filters" "match count" \
	"$(ff_json "$json" "' '.join(x['class'] for x in flow('icmp')['filters'])")"
t_check "flow half filters" "match sample count" \
	"$(ff_json "$json" "' '.join(x['class'] for x in flow('half')['filters'])")"
# A leading match is mirrored in the root's guard: the chain only gets the
# packets the match accepts, so its match stage passes all it sees.
for f in icmp udp5 http v6 half; do
	t_check "flow $f: match seen == passed == packets of its pcap filter" true \
		"$(ff_json "$json" "filt('$f',0)['seen'] == filt('$f',0)['passed'] and
  filt('$f',0)['seen'] in range(${N_IN[$f]}, ${N_TOT[$f]} + 1)")"
done
t_check "flow half: sample seen == udp packets" "$(ff_json "$json" "filt('half',0)['passed']")" \
	"$(ff_json "$json" "filt('half',1)['seen']")"
t_check "flow half: sample passed == ceil(seen/2)" true \
	"$(ff_json "$json" "filt('half',1)['passed'] == (filt('half',1)['seen'] + 1) // 2")"
t_check "flow half: count seen == passed == sample passed" true \
	"$(ff_json "$json" "filt('half',2)['seen'] == filt('half',2)['passed'] == filt('half',1)['passed']")"
t_check "flow all: count seen == passed" true \
	"$(ff_json "$json" "filt('all',0)['seen'] == filt('all',0)['passed']")"

# --- interface counters ---------------------------------------------------------
t_check "interface $IF_S listed once" 1 "$(ff_json "$json" "len(j['interfaces'])")"
t_check "rx_packets == flow all packets" "$(ff_json "$json" "flow('all')['packets']")" \
	"$(ff_json "$json" "iface('$IF_S')['rx_packets']")"
t_check "rx_bytes == flow all bytes" "$(ff_json "$json" "flow('all')['bytes']")" \
	"$(ff_json "$json" "iface('$IF_S')['rx_bytes']")"
t_check "matched == rx_packets (flow all takes every packet)" \
	"$(ff_json "$json" "iface('$IF_S')['rx_packets']")" "$(ff_json "$json" "iface('$IF_S')['matched']")"
ff_expect_count "non_ip == pcap 'not ip and not ip6'" "$(ff_json "$json" "iface('$IF_S')['non_ip']")" \
	"$(ff_pcap_count "$win" 'not ip and not ip6')" "$(ff_pcap_count "$pcap" 'not ip and not ip6')"
t_check "truncated, malformed, missed all 0" "0 0 0" \
	"$(ff_json "$json" "'%d %d %d' % tuple(iface('$IF_S')[k] for k in ('truncated', 'malformed', 'missed'))")"

t_summary
