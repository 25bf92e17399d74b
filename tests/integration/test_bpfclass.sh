#!/usr/bin/env bash
# Integration test: the bpf("EXPR") class on real traffic.
#
# ffpf-bpf runs flows whose stages are pcap-filter expressions on the
# server end of a veth pair, while tcpdump captures the same ingress
# packets (-Q in: what XDP sees). The client downloads over HTTP, sends
# UDP to two ports and pings over IPv6. Each flow's packets and bytes must
# equal what tcpdump's own filter, the same expression, selects from the
# capture between two marker frames (see test_counts.sh for the markers).
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools tcpdump tshark curl ping bpftool
ffpf_setup

UDP5353=40 UDP6000=30 PING6=10

# flow name -> spec, and the pcap filter that selects the same packets
declare -A SPEC=(
	[web]='bpf("tcp dst port 8080")'
	[dns]='bpf("udp and dst port 5353")'
	[notweb]='match(ip) -> bpf("not tcp port 8080") -> count'
	[v6echo]='bpf("icmp6 and ip6[40] == 128")'
	[big]='bpf("udp") -> bpf("greater 100")'
)
declare -A PCAP=(
	[web]='tcp dst port 8080'
	[dns]='udp and dst port 5353'
	[notweb]='ip and not tcp port 8080'
	[v6echo]='icmp6 and ip6[40] == 128'
	[big]='udp and greater 100'
)
FLOWS=(web dns notweb v6echo big)

start_http_server 8080
start_udp_sink 5353
start_udp_sink 6000

pcap=$FF_TMP/ingress.pcap
ff_tcpdump_in_start "$NS_S" "$IF_S" "$pcap"

ffpf_start_flows_or_die bpfc "$NS_S" "$IF_S" --interval 0.5 --json
ns_s ethtool -K "$IF_S" gro off >/dev/null 2>&1 || true

# --- traffic, between the two markers ---------------------------------------
ff_mark start
wait_for "[[ -n \$(ff_pcap_frames '$pcap' '$(ff_mark_filter start)') ]]" 5 || true
dl=$(ns_c curl -sS --max-time 20 -o /dev/null -w '%{size_download}' "$FF_HTTP_URL/1m.bin" || echo failed)
t_check "curl 1m.bin from $IP_S:8080" 1048576 "$dl"
udp_send "$UDP5353" 5353 32
udp_send "$UDP6000" 6000 200
ns_c ping -6 -c "$PING6" -i 0.05 -W 2 -q "$IP6_S" >/dev/null ||
	t_fail "ping $PING6 x v6" "ping -6 failed"
udp_wait_count 5353 "$UDP5353" 5 || true
udp_wait_count 6000 "$UDP6000" 5 || true
ff_mark end
wait_for "[[ -n \$(ff_pcap_frames '$pcap' '$(ff_mark_filter end)') ]]" 5 || true

ffpf_stop bpfc INT 10 || true
t_check "ffpf-bpf exits 0 on SIGINT" 0 "$(ffpf_rc bpfc)"
tcpdump_stop "$pcap"
t_check "capture dropped no packet" 0 "$(ff_tcpdump_dropped "$pcap")"

json=$FF_TMP/bpfc.out
if [[ "$(ff_json "$json" '"flows" in j')" != true ]]; then
	t_fail "JSON summary" "$(head -c 300 "$json")"
	t_summary
	exit 1
fi
win=$FF_TMP/window.pcap
ff_window_or_die "$pcap" "$win"

# The traffic really happened (otherwise 0 == 0 would pass).
t_check "capture: $UDP5353 datagrams to 5353" "$UDP5353" "$(ff_pcap_count "$win" 'udp dst port 5353')"
t_check "capture: $PING6 ICMPv6 echo requests" "$PING6" \
	"$(ff_pcap_count "$win" "icmp6 and ip6[40] == 128 and src host $IP6_C")"

for f in "${FLOWS[@]}"; do
	read -r n_in b_in < <(ff_pcap_stats "$win" "${PCAP[$f]}")
	read -r n_tot b_tot < <(ff_pcap_stats "$pcap" "${PCAP[$f]}")
	ff_expect_count "flow $f packets == tcpdump '${PCAP[$f]}'" \
		"$(ff_json "$json" "flow('$f')['packets']")" "$n_in" "$n_tot"
	ff_expect_count "flow $f bytes == sum of frame lengths" \
		"$(ff_json "$json" "flow('$f')['bytes']")" "$b_in" "$b_tot"
done
t_check "flow web saw the download's requests and ACKs (> 10)" true \
	"$(ff_json "$json" "flow('web')['packets'] > 10")"
t_check "flow dns == $UDP5353" "$UDP5353" "$(ff_json "$json" "flow('dns')['packets']")"
t_check "flow v6echo == $PING6" "$PING6" "$(ff_json "$json" "flow('v6echo')['packets']")"
t_check "flow big == $UDP6000 (the 5353 datagrams are 74 bytes)" "$UDP6000" \
	"$(ff_json "$json" "flow('big')['packets']")"
t_check "notweb: bpf passed == count seen == packets" true \
	"$(ff_json "$json" "filt('notweb',1)['passed'] == filt('notweb',2)['seen'] == flow('notweb')['packets']")"
t_check "notweb: bpf saw what match(ip) passed" true \
	"$(ff_json "$json" "filt('notweb',0)['passed'] == filt('notweb',1)['seen']")"
t_check "notweb filters" "match bpf count" \
	"$(ff_json "$json" "' '.join(x['class'] for x in flow('notweb')['filters'])")"
t_check "no missed tail call" "0 0 0 0 0" \
	"$(ff_json "$json" "' '.join(str(flow(f)['missed']) for f in ('web', 'dns', 'notweb', 'v6echo', 'big'))")"

t_summary
