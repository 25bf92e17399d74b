#!/usr/bin/env bash
# Integration test of tests/lib/netns.sh itself (needs root, no ffpf-bpf).
# All traffic stays inside the two namespaces the library creates.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/netns.sh
source "$HERE/../lib/netns.sh"

if [[ $(id -u) -ne 0 ]]; then
	t_skip selftest_netns "needs root"
	t_summary
	exit 0
fi

ns_setup

# --- namespaces and links exist -------------------------------------------
nslist=$(ip netns list | cut -d' ' -f1)
if grep -qx "$NS_C" <<<"$nslist" && grep -qx "$NS_S" <<<"$nslist"; then
	t_pass "namespaces created"
else
	t_fail "namespaces created" "$(ip netns list | tr '\n' ' ')"
fi
if ns_c ip link show "$IF_C" >/dev/null 2>&1 && ns_s ip link show "$IF_S" >/dev/null 2>&1; then
	t_pass "veth ends in their namespaces"
else
	t_fail "veth ends in their namespaces"
fi
if ip link show "$IF_C" >/dev/null 2>&1 || ip link show "$IF_S" >/dev/null 2>&1; then
	t_fail "veth not visible in root namespace"
else
	t_pass "veth not visible in root namespace"
fi

# --- IPv4 ping, counted by tcpdump on the server side ---------------------
pcap=$FF_TMP/icmp.pcap
tcpdump_start "$NS_S" "$IF_S" "icmp" "$pcap"
if ns_c ping -c 5 -i 0.2 -W 2 -q "$IP_S" >/dev/null; then
	t_pass "ping v4 client->server"
else
	t_fail "ping v4 client->server" "ping failed"
fi
tcpdump_stop "$pcap"
t_check "tcpdump saw 5 echo requests" 5 \
	"$(pcap_count "$pcap" "icmp[icmptype] == icmp-echo and src host $IP_C")"
t_check "tcpdump saw 5 echo replies" 5 \
	"$(pcap_count "$pcap" "icmp[icmptype] == icmp-echoreply and src host $IP_S")"

# --- UDP: 20 datagrams, counted by the sink and by tcpdump ----------------
port=9000
pcap=$FF_TMP/udp.pcap
start_udp_sink "$port"
tcpdump_start "$NS_S" "$IF_S" "udp and dst port $port" "$pcap"
if udp_send 20 "$port" 200; then
	t_pass "udp_send 20"
else
	t_fail "udp_send 20" "sender failed"
fi
udp_wait_count "$port" 20 5 || true
tcpdump_stop "$pcap"
t_check "udp sink got 20" 20 "$(udp_sink_count "$port")"
t_check "tcpdump saw 20 udp" 20 "$(pcap_count "$pcap" "udp and dst port $port")"

# --- HTTP: fetch 1m.bin ---------------------------------------------------
start_http_server 8080
out=$FF_TMP/dl.bin
if ns_c curl -sS --max-time 20 -o "$out" "$FF_HTTP_URL/1m.bin"; then
	t_check "curl 1m.bin size" 1048576 "$(stat -c %s "$out")"
	if cmp -s "$out" "$FF_WWW/1m.bin"; then
		t_pass "curl 1m.bin content"
	else
		t_fail "curl 1m.bin content" "differs"
	fi
else
	t_fail "curl 1m.bin" "curl failed"
fi
t_check "curl 100k.bin size" 102400 \
	"$(ns_c curl -sS --max-time 20 -o /dev/null -w '%{size_download}' "$FF_HTTP_URL/100k.bin" || echo error)"

# --- IPv6 ping --------------------------------------------------------------
if ns_c ping -6 -c 3 -i 0.2 -W 2 -q "$IP6_S" >/dev/null; then
	t_pass "ping v6 client->server"
else
	t_fail "ping v6 client->server" "ping -6 $IP6_S failed"
fi

# --- wait_for times out -------------------------------------------------------
start=$(date +%s%N)
if wait_for false 0.5; then
	t_fail "wait_for times out" "returned success"
else
	ms=$((($(date +%s%N) - start) / 1000000))
	if ((ms >= 400 && ms < 3000)); then
		t_pass "wait_for times out"
	else
		t_fail "wait_for times out" "took ${ms} ms"
	fi
fi

# --- ns_on_cleanup and cleanup leave nothing behind -------------------------
marker=$(mktemp "/tmp/${FF_PREFIX}_marker.XXXXXX")
ns_on_cleanup "rm -f '$marker'"
ns_cleanup
if [[ -e "$marker" ]]; then
	rm -f "$marker"
	t_fail "ns_on_cleanup ran"
else
	t_pass "ns_on_cleanup ran"
fi
t_check "no namespace left" "" "$(ip netns list | grep "^$FF_PREFIX" || true)"
t_check "no link left" "" "$(ip -o link show | grep "$FF_PREFIX" || true)"
t_check "no process left" "" "$(pgrep -f "$FF_PREFIX" || true)"
t_check "temp dir removed" no "$([[ -d "$FF_TMP" ]] && echo yes || echo no)"

t_summary
