#!/usr/bin/env bash
# Integration test: C++. `make install` into a staging root; every public
# header (but the BPF-side ffpf/stage.h) compiles alone as C++17 with
# -Wall -Wextra -pedantic -Werror; tests/cpp/cpp_count.cpp builds against
# the installed headers (ffpf/ffpf.hpp) and library with pkg-config, and on
# real ping and UDP traffic in a namespace pair counts what the C command
# (`ffpf-bpf run` on the client end's egress, the same packets) and
# tcpdump count on the server end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$ROOT/tests/lib/ffpf.sh"

ff_need_root_and_tools tcpdump g++
ffpf_setup
STAGE="$FF_TMP/stage"
make -C "$ROOT" --no-print-directory -s install DESTDIR="$STAGE" PREFIX=/usr >/dev/null
export PKG_CONFIG_PATH="$STAGE/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$STAGE"
CXXFLAGS=(-std=c++17 -Wall -Wextra -pedantic -Werror)
t_check "ffpf.hpp installed" yes "$([[ -f $STAGE/usr/include/ffpf/ffpf.hpp ]] && echo yes || echo no)"

for h in "$STAGE"/usr/include/ffpf/*.h "$STAGE"/usr/include/ffpf/*.hpp; do
	name=ffpf/$(basename "$h")
	[[ "$name" == ffpf/stage.h ]] && continue	# BPF programs only (clang -target bpf)
	# shellcheck disable=SC2046
	if printf '#include <%s>\nint main() { return 0; }\n' "$name" |
		g++ "${CXXFLAGS[@]}" $(pkg-config --cflags libffpfbpf) -x c++ - -o /dev/null \
			2>"$FF_TMP/hdr.log"; then
		t_pass "$name compiles as C++17 -pedantic -Werror"
	else
		t_fail "$name compiles as C++17 -pedantic -Werror" "$(head -n 5 "$FF_TMP/hdr.log")"
	fi
done

bin=$FF_TMP/cpp_count
# shellcheck disable=SC2046
if g++ "${CXXFLAGS[@]}" $(pkg-config --cflags libffpfbpf) "$ROOT/tests/cpp/cpp_count.cpp" \
	-o "$bin" $(pkg-config --libs libffpfbpf) -Wl,-rpath,"$STAGE/usr/lib" 2>"$FF_TMP/cxx.log"; then
	t_pass "cpp_count builds from the installed headers and pkg-config"
else
	t_fail "cpp_count builds from the installed headers and pkg-config" "$(cat "$FF_TMP/cxx.log")"
	t_summary; exit 1
fi
t_check "linked to the installed shared library" 1 \
	"$(ldd "$bin" | grep -c "$STAGE/usr/lib/libffpfbpf.so.0" || true)"

PORT=5601 PINGS=9 DGRAMS=17
tcpdump_start "$NS_S" "$IF_S" "icmp or udp" "$FF_TMP/in.pcap"
ffpf_start "$NS_C" c -i "$IF_C" --hook egress --json \
	--flow "echo=match(icmp, icmp-type 8) -> count" --flow "udp=match(udp, dst port $PORT)" ||
	{ t_fail "ffpf-bpf run on $IF_C egress" "$(tail -n 3 "$FF_TMP/c.err")"; t_summary; exit 1; }
ns_bg "$NS_S" "$FF_TMP/cpp.out" "$bin" "$IF_S" "$PORT"
cpp_pid=$FF_LAST_PID
wait_for "grep -q ready $FF_TMP/cpp.out" 10 ||
	{ t_fail "cpp_count ready" "$(cat "$FF_TMP/cpp.out")"; t_summary; exit 1; }
ns_c ping -c "$PINGS" -i 0.05 -q "$IP_S" >/dev/null
ff_udp_ports "$PORT" "$DGRAMS"
sleep 0.3
tcpdump_stop "$FF_TMP/in.pcap"
kill -INT "$cpp_pid"
wait_for "grep -q echo_requests $FF_TMP/cpp.out" 10 || true
ffpf_stop c INT 15 || true
line=$(grep echo_requests "$FF_TMP/cpp.out" || echo "")
echo "    cpp_count: $line"
val() { sed -n "s/.*[^_]$1=\([0-9]*\).*/\1/p" <<<" $line"; }

sum_len() {
	tcpdump -r "$FF_TMP/in.pcap" -nn -e "$1" 2>/dev/null |
		sed -n 's/.*length \([0-9]*\):.*/\1/p' | awk '{s+=$1} END {print s+0}'
}
e_n=$(pcap_count "$FF_TMP/in.pcap" "icmp[icmptype] == icmp-echo")
e_b=$(sum_len "icmp[icmptype] == icmp-echo")
u_n=$(pcap_count "$FF_TMP/in.pcap" "udp dst port $PORT")
u_b=$(sum_len "udp dst port $PORT")
t_check "tcpdump saw $PINGS echo requests" "$PINGS" "$e_n"
t_check "tcpdump saw $DGRAMS datagrams" "$DGRAMS" "$u_n"
t_check "C++ echo count = tcpdump" "$e_n $e_b" "$(val echo_requests) $(val echo_bytes)"
t_check "C++ MBuf count = tcpdump" "$e_n $e_b" "$(val mbuf_packets) $(val mbuf_bytes)"
t_check "C++ received datagrams = tcpdump" "$u_n $u_b" "$(val udp_packets) $(val udp_bytes)"
t_check "C command echo count = C++" "$(val echo_requests) $(val echo_bytes)" \
	"$(ff_json "$FF_TMP/c.out" 'flow("echo")["packets"]') $(ff_json "$FF_TMP/c.out" 'flow("echo")["bytes"]')"
t_check "C command udp count = C++" "$(val udp_packets) $(val udp_bytes)" \
	"$(ff_json "$FF_TMP/c.out" 'flow("udp")["packets"]') $(ff_json "$FF_TMP/c.out" 'flow("udp")["bytes"]')"
t_summary
