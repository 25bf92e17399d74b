#!/usr/bin/env bash
# Integration test: the payload class on real traffic.
#
# ffpf-bpf runs the same three payload flows twice: on the server end of a
# veth pair at ingress (XDP) and on the client end at egress (TC). The
# client sends HTTP requests with and without a marker header (curl), and
# UDP datagrams over IPv4 and IPv6 with a 4-byte signature inside the
# searched depth, beyond it, or not at all. Each flow must count exactly
# the packets that carry its pattern within its window: one TCP segment
# per marked request, one datagram per signed one.
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools curl bpftool
ffpf_setup

MARKED=6 PLAIN=9		# HTTP requests with / without the marker header
SIG4=25 DEEP4=15 NOSIG4=20	# IPv4 datagrams: signature at 10, at 100, none
SIG6=12 NOSIG6=8		# IPv6 datagrams: signature at 40, none

# The UDP signature is 90 90 90 90 (a NOP sled); depth 64 puts byte 100 out of reach.
declare -A SPEC=(
	[web]='match(tcp, dst port 8080) -> payload("X-FFPF-Marker: worm", depth=512) -> count'
	[sled]='match(udp, dst port 5005) -> payload("\x90\x90\x90\x90", depth=64)'
	[any]='payload("X-FFPF-Marker", "\x90\x90\x90\x90")'
)
FLOWS=(web sled any)

start_http_server 8080
start_udp_sink 5005

ffpf_start_flows_or_die srv "$NS_S" "$IF_S" --interval 0.5 --json
ffpf_start_flows_or_die cli "$NS_C" "$IF_C" --hook egress --interval 0.5 --json

# --- traffic -------------------------------------------------------------------
ok=0
for ((i = 0; i < MARKED; i++)); do
	code=$(ns_c curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
		-H "X-FFPF-Marker: worm-$i" "$FF_HTTP_URL/1k.bin" || echo failed)
	[[ "$code" == 200 ]] && ok=$((ok + 1))
done
for ((i = 0; i < PLAIN; i++)); do
	code=$(ns_c curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
		-H "X-FFPF-Other: worm-$i" "$FF_HTTP_URL/1k.bin" || echo failed)
	[[ "$code" == 200 ]] && ok=$((ok + 1))
done
t_check "curl: $((MARKED + PLAIN)) requests answered 200" $((MARKED + PLAIN)) "$ok"

# send_sig DST N AT: N datagrams of 200 bytes to DST:5005, 'A' everywhere
# except the signature at byte AT (AT < 0: no signature).
send_sig() {
	ns_c "$FF_PYTHON" -c '
import socket, sys, time
dst, n, at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
b = bytearray(b"A" * 200)
if at >= 0:
    b[at:at + 4] = b"\x90" * 4
for _ in range(n):
    s.sendto(bytes(b), (dst, 5005))
    time.sleep(0.002)
' "$@"
}
send_sig "$IP_S" "$SIG4" 10
send_sig "$IP_S" "$DEEP4" 100
send_sig "$IP_S" "$NOSIG4" -1
send_sig "$IP6_S" "$SIG6" 40
send_sig "$IP6_S" "$NOSIG6" -1
total_udp=$((SIG4 + DEEP4 + NOSIG4 + SIG6 + NOSIG6))
udp_wait_count 5005 "$total_udp" 5 || true
t_check "udp sink got all $total_udp datagrams" "$total_udp" "$(udp_sink_count 5005)"
sleep 0.3

ffpf_stop srv INT 10 || true
ffpf_stop cli INT 10 || true
t_check "ffpf-bpf (ingress) exits 0 on SIGINT" 0 "$(ffpf_rc srv)"
t_check "ffpf-bpf (egress) exits 0 on SIGINT" 0 "$(ffpf_rc cli)"

# --- counts ----------------------------------------------------------------------
for side in srv cli; do
	json=$FF_TMP/$side.out
	where=$([[ $side == srv ]] && echo "XDP ingress" || echo "TC egress")
	if [[ "$(ff_json "$json" '"flows" in j')" != true ]]; then
		t_fail "$where: JSON summary" "$(head -c 300 "$json")"
		continue
	fi
	t_check "$where: web == $MARKED marked requests (one segment each)" "$MARKED" \
		"$(ff_json "$json" "flow('web')['packets']")"
	t_check "$where: sled == $SIG4 + $SIG6 datagrams signed within depth 64" \
		$((SIG4 + SIG6)) "$(ff_json "$json" "flow('sled')['packets']")"
	t_check "$where: sled's payload saw every datagram to 5005" "$total_udp" \
		"$(ff_json "$json" "filt('sled',1)['seen']")"
	t_check "$where: any == marked requests + every signed datagram (default depth 256)" \
		$((MARKED + SIG4 + DEEP4 + SIG6)) "$(ff_json "$json" "flow('any')['packets']")"
	t_check "$where: web filters" "match payload count" \
		"$(ff_json "$json" "' '.join(x['class'] for x in flow('web')['filters'])")"
	t_check "$where: web's payload passed == count seen == packets" true \
		"$(ff_json "$json" "filt('web',1)['passed'] == filt('web',2)['seen'] == flow('web')['packets']")"
	t_check "$where: no missed tail call" "0 0 0" \
		"$(ff_json "$json" "' '.join(str(flow(f)['missed']) for f in ('web', 'sled', 'any'))")"
done

t_summary
