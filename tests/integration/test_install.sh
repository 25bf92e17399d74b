#!/usr/bin/env bash
# make install into a staging root, then build a program with only the
# installed headers + pkg-config, link it to the shared library, and run it
# on real traffic: its count must equal tcpdump's on the same interface.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/netns.sh
source "$ROOT/tests/lib/netns.sh"

ns_setup
STAGE="$FF_TMP/stage"
make -C "$ROOT" --no-print-directory -s install DESTDIR="$STAGE" PREFIX=/usr >/dev/null

# The shared library exports only the ffpf_ API, with a soname.
so="$STAGE/usr/lib/libffpfbpf.so"
others=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^ffpf_' | grep -v '^LIBFFPFBPF' || true)
t_check "only ffpf_ symbols exported" "" "$others"
t_check "soname" "libffpfbpf.so.0" "$(readelf -d "$so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')"
t_check "man page installed" "yes" "$([ -f "$STAGE/usr/share/man/man8/ffpf-bpf.8" ] && echo yes || echo no)"
# A user stage (obj class) compiles against the installed ffpf/stage.h alone.
if clang -g -O2 -target bpf -Wall -Werror -I"$ROOT/vmlinux" -I"$STAGE/usr/include" \
	-c "$ROOT/docs/examples/user_stage.bpf.c" -o "$FF_TMP/user_stage.bpf.o" 2>"$FF_TMP/clang.log"; then
	t_pass "user stage builds from the installed ffpf/stage.h"
else
	t_fail "user stage builds from the installed ffpf/stage.h" "$(cat "$FF_TMP/clang.log")"
fi

export PKG_CONFIG_PATH="$STAGE/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$STAGE"
t_check "pkg-config version" "$(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")" \
	"$(pkg-config --modversion libffpfbpf)"
bin="$FF_TMP/pc_count"
# shellcheck disable=SC2046
if cc -std=c11 -Wall -Werror $(pkg-config --cflags libffpfbpf) "$ROOT/tests/integration/c/pc_count.c" \
	-o "$bin" $(pkg-config --libs libffpfbpf) -Wl,-rpath,"$STAGE/usr/lib" 2>"$FF_TMP/cc.log"; then
	t_pass "program builds from installed headers and pkg-config"
else
	t_fail "program builds from installed headers and pkg-config" "$(cat "$FF_TMP/cc.log")"
	t_summary; exit 1
fi
t_check "linked to the installed shared library" "1" \
	"$(ldd "$bin" | grep -c "$STAGE/usr/lib/libffpfbpf.so.0" || true)"

tcpdump_start "$NS_S" "$IF_S" "icmp" "$FF_TMP/icmp.pcap"
ns_bg "$NS_S" "$FF_TMP/pc.out" "$bin" "$IF_S"
pc_pid=$FF_LAST_PID
wait_for "grep -q ready $FF_TMP/pc.out" 10 || { t_fail "pc_count ready" "$(cat "$FF_TMP/pc.out")"; t_summary; exit 1; }
ns_c ping -c 7 -i 0.05 -q "$IP_S" >/dev/null
tcpdump_stop "$FF_TMP/icmp.pcap"
kill -INT "$pc_pid"
wait_for "grep -q echo_requests $FF_TMP/pc.out" 10 || true
want=$(pcap_count "$FF_TMP/icmp.pcap" "icmp[icmptype] == icmp-echo")
line=$(grep echo_requests "$FF_TMP/pc.out" || echo "")
t_check "tcpdump saw 7 echo requests" "7" "$want"
t_check "flow counted what tcpdump saw" "$want" "$(sed -n 's/.*echo_requests=\([0-9]*\).*/\1/p' <<<"$line")"
t_check "MBuf counter agrees" "$want" "$(sed -n 's/.*mbuf_packets=\([0-9]*\).*/\1/p' <<<"$line")"
bytes=$(tcpdump -r "$FF_TMP/icmp.pcap" -nn -e "icmp[icmptype] == icmp-echo" 2>/dev/null |
	sed -n 's/.*length \([0-9]*\):.*/\1/p' | awk '{s+=$1} END {print s+0}')
t_check "bytes equal tcpdump's frame lengths" "$bytes" "$(sed -n 's/.*[^_]bytes=\([0-9]*\).*/\1/p' <<<" $line")"
t_check "MBuf bytes agree" "$bytes" "$(sed -n 's/.*mbuf_bytes=\([0-9]*\).*/\1/p' <<<"$line")"
t_summary
