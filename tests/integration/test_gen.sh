#!/usr/bin/env bash
# Integration test: build/ffpf-gen, the traffic generator (tools/ffpf-gen.c,
# docs/ffpf-gen.md), in both modes, from the client namespace into the
# server end of the veth pair.
#
# Counting on the receiver: `ffpf-bpf run` with one counting flow per
# protocol on IF_S (its XDP program also lets the veth take XDP frames),
# and tcpdump on IF_S read back with tshark for what the frames are: length,
# protocol, TCP flags, distinct 5-tuples, checksums.
#
# Asserted, each in live (XDP live frames, XDP_TX) and packet (AF_PACKET)
# mode: COUNT frames sent is COUNT frames seen; the flows, sizes and flag
# patterns asked for are what arrives, every checksum valid; more flows
# than source ports go on to the next source address; the errors: a NIC-like non-veth refused, a peer that takes no
# XDP frames named, bad options refused with status 2.
#
# IPv6 is off on both ends (no stray frames); the generator's default
# destination, broadcast MAC and 198.19.0.1, is no host here, so nothing
# answers. All traffic stays inside the namespaces of tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

GEN=${GEN:-$FF_ROOT/build/ffpf-gen}

ff_need_root_and_tools tcpdump tshark ethtool
if [[ ! -x "$GEN" ]]; then
	t_fail "prerequisites" "$GEN not built: run 'make'"
	t_summary
	exit 1
fi
ffpf_setup
ns_c sysctl -qw "net.ipv6.conf.$IF_C.disable_ipv6=1"
ns_s sysctl -qw "net.ipv6.conf.$IF_S.disable_ipv6=1"

# gen ARGS...: ffpf-gen in the client namespace out of IF_C; its stdout
# ("sent N") in $FF_TMP/gen.out, stderr in $FF_TMP/gen.err; returns its status.
gen() {
	ns_c "$GEN" -i "$IF_C" "$@" >"$FF_TMP/gen.out" 2>"$FF_TMP/gen.err"
}

gen_sent() { sed -n 's/^sent \([0-9]*\)$/\1/p' "$FF_TMP/gen.out"; }

# count_start: ffpf-bpf counting UDP and TCP to port 9 on IF_S.
count_start() {
	ffpf_start "$NS_S" cnt -i "$IF_S" --json -q \
		--flow 'u=match(udp, dst port 9) -> count' \
		--flow 't=match(tcp, dst port 9) -> count' ||
		{ t_fail "ffpf-bpf counts on $IF_S" "$(tail -n 3 "$FF_TMP/cnt.err")"; t_summary; exit 1; }
}

# count_stop: stop it; prints "UDP TCP".
count_stop() {
	sleep 0.3
	ffpf_stop cnt || true
	echo "$(ff_json "$FF_TMP/cnt.out" 'flow("u")["packets"]') $(ff_json "$FF_TMP/cnt.out" 'flow("t")["packets"]')"
}

# tshark_fields FILE FIELD...: one line per frame.
tshark_fields() {
	local file=$1 a=()
	shift
	for f in "$@"; do a+=(-e "$f"); done
	tshark -r "$file" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
		-o tcp.check_checksum:TRUE -T fields -E separator=, "${a[@]}" 2>/dev/null
}

# --- 1. full speed, counted by ffpf-bpf -------------------------------------
for mode in live packet; do
	n=200000
	count_start
	if gen --mode "$mode" -n "$n" --flows 1024 --exact; then
		t_check "$mode: ffpf-gen reports $n sent" "$n" "$(gen_sent)"
		echo "    $(cat "$FF_TMP/gen.err")"
	else
		t_fail "$mode: ffpf-gen -n $n" "$(cat "$FF_TMP/gen.err")"
	fi
	t_check "$mode: ffpf-bpf on the peer counts $n UDP, 0 TCP" "$n 0" "$(count_stop)"

	count_start
	if gen --mode "$mode" -n 30000 --proto tcp --tcp-flags syn --flows 30000 --exact; then
		t_check "$mode: 30000 SYNs sent" 30000 "$(gen_sent)"
	else
		t_fail "$mode: ffpf-gen --proto tcp" "$(cat "$FF_TMP/gen.err")"
	fi
	t_check "$mode: ffpf-bpf counts 0 UDP, 30000 TCP" "0 30000" "$(count_stop)"
done

# --- 2. what arrives: tcpdump + tshark --------------------------------------
# (the peer takes XDP frames from live mode once GRO is on)
ns_s ethtool -K "$IF_S" gro on >/dev/null
# tcpdump drops bursts with its default 2 MiB buffer on a busy machine
export FF_TCPDUMP_BUFFER=65536
for mode in live packet; do
	n=6000 cap=$FF_TMP/$mode.pcap
	tcpdump_start "$NS_S" "$IF_S" "ip and dst host 198.19.0.1" "$cap"
	if ! gen --mode "$mode" -n "$n" -s 128 --flows 100 --proto mix --tcp-flags S,SA,A \
		--rate 10000; then
		t_fail "$mode: ffpf-gen --proto mix" "$(cat "$FF_TMP/gen.err")"
	fi
	tcpdump_stop "$cap"
	t_check "$mode mix: tcpdump sees $n frames" "$n" "$(pcap_count "$cap")"
	t_check "$mode mix: every frame 128 bytes" "128" \
		"$(tshark_fields "$cap" frame.len | sort -u | tr '\n' ' ' | sed 's/ $//')"
	# templates cycle UDP, S, SA, A; 100 flows: per (proto, sport, flags)
	t_check "$mode mix: 1/4 UDP, 1/4 each of S, SA, A" "1500 0x0002,1500 0x0010,1500 0x0012,1500 udp" \
		"$(tshark_fields "$cap" udp.srcport tcp.flags | awk -F, '{ print ($1 != "" ? "udp" : $2) }' |
			sort | uniq -c | sort -k2 | awk '{ printf "%s%s %s", (NR > 1 ? "," : ""), $1, $2 }')"
	t_check "$mode mix: 100 source ports 1024..1123" "100 1024 1123" \
		"$(tshark_fields "$cap" udp.srcport tcp.srcport | tr -d , | sort -n | uniq |
			awk 'NR == 1 { lo = $1 } { hi = $1; n++ } END { print n, lo, hi }')"
	t_check "$mode mix: every checksum valid (IPv4, UDP, TCP)" "" \
		"$(tshark_fields "$cap" ip.checksum.status udp.checksum.status tcp.checksum.status |
			grep -v '^1,\(1,\|,1\)$' | sort | uniq -c | head -n 3)"
done

# 1500-byte frames
n=2000 cap=$FF_TMP/big.pcap
tcpdump_start "$NS_S" "$IF_S" "ip and dst host 198.19.0.1" "$cap"
gen -n "$n" -s 1500 --flows 10 --rate 10000 ||
	t_fail "live: ffpf-gen -s 1500" "$(cat "$FF_TMP/gen.err")"
tcpdump_stop "$cap"
t_check "live 1500 B: tcpdump sees $n frames of 1500 bytes" "$n 1500" \
	"$(tshark_fields "$cap" frame.len | sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? "," : ""), $1, $2 }')"

# more flows than source ports: the source address moves on (here after
# the 536 ports 65000..65535)
n=1000 cap=$FF_TMP/many.pcap
tcpdump_start "$NS_S" "$IF_S" "ip and dst host 198.19.0.1" "$cap"
gen -n "$n" --flows "$n" --sport 65000 --src-ip 10.1.0.1 --rate 10000 ||
	t_fail "live: ffpf-gen --flows $n --sport 65000" "$(cat "$FF_TMP/gen.err")"
tcpdump_stop "$cap"
t_check "live $n flows from port 65000: tcpdump sees $n frames" "$n" "$(pcap_count "$cap")"
t_check "live $n flows from port 65000: $n distinct 5-tuples" "$n" \
	"$(tshark_fields "$cap" ip.src udp.srcport | sort -u | wc -l)"
t_check "live $n flows from port 65000: 536 from 10.1.0.1, 464 from 10.1.0.2" \
	"536 10.1.0.1,464 10.1.0.2" \
	"$(tshark_fields "$cap" ip.src | sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? "," : ""), $1, $2 }')"

# --- 3. errors ----------------------------------------------------------------
ns_s ethtool -K "$IF_S" gro off >/dev/null
set +e
gen -n 100
rc=$?
set -e
t_check "live, peer without GRO or XDP: exit status 1" 1 "$rc"
if grep -q "took none" "$FF_TMP/gen.err"; then
	t_pass "live, peer without GRO or XDP: the error says why"
else
	t_fail "live, peer without GRO or XDP: the error says why" "$(cat "$FF_TMP/gen.err")"
fi
set +e
ns_c "$GEN" -i lo -n 10 >/dev/null 2>"$FF_TMP/lo.err"
rc=$?
set -e
t_check "a non-veth (lo) is refused" "1 yes" "$rc $(grep -q 'not a veth' "$FF_TMP/lo.err" && echo yes)"
for bad in "-n 0" "-n 10 -s 59" "-n 10 --proto icmp" "-n 10 --tcp-flags XYZ" "-n 10 --mode fast" \
	"-n 10 -s 4000"; do
	set +e
	# shellcheck disable=SC2086 # the options are words
	gen $bad
	rc=$?
	set -e
	t_check "bad options '$bad': exit status 2" 2 "$rc"
done

t_summary
