#!/usr/bin/env bash
# tests/corpus/capture-cbpf-traffic.sh - regenerate cbpf-traffic.pcap, the
# real traffic of the bpf("EXPR") differential test (tests/bpf/test_cbpf.c).
#
#   sudo bash tests/corpus/capture-cbpf-traffic.sh [OUT]
#
# Everything happens in two namespaces of our own joined by a veth pair
# (tests/lib/netns.sh), deleted on exit: IPv4 and IPv6 ping, HTTP over TCP
# (curl to python's http.server, v4 and v6), UDP (v4 and v6), ARP and
# neighbour discovery. Offloads are off so every frame is a real <= 1514
# byte one, as XDP would see it. The file stays well under 200 KB.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:-$ROOT/tests/corpus/cbpf-traffic.pcap}
source "$ROOT/tests/lib/netns.sh"

ns_setup
for ns in "$NS_C" "$NS_S"; do
	ifc=$IF_C
	[[ $ns == "$NS_S" ]] && ifc=$IF_S
	ip netns exec "$ns" ethtool -K "$ifc" tso off gso off gro off >/dev/null 2>&1 || true
done
start_http_server 8080
start_udp_echo 5353
tcpdump_start "$NS_C" "$IF_C" "" "$FF_TMP/cap.pcap"
ns_c ping -c 3 -i 0.2 "$IP_S" >/dev/null
ns_c ping -6 -c 3 -i 0.2 -s 200 "$IP6_S" >/dev/null
ns_c curl -s -o /dev/null "$FF_HTTP_URL/1k.bin"
ns_c curl -s -o /dev/null "http://[$IP6_S]:8080/1k.bin" || true
ns_c curl -s -o /dev/null -r 0-20000 "$FF_HTTP_URL/100k.bin"
udp_request 5 5353 64 >/dev/null
udp_request 5 5353 300 "$IP6_S" >/dev/null
udp_send 3 9 1200
tcpdump_stop "$FF_TMP/cap.pcap"
cp "$FF_TMP/cap.pcap" "$OUT"
echo "$OUT: $(pcap_count "$OUT") packets, $(stat -c %s "$OUT") bytes"
