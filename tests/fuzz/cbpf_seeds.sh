#!/usr/bin/env bash
# tests/fuzz/cbpf_seeds.sh - regenerate fuzz_cbpf's seeds in
# tests/fuzz/corpus/cbpf/ from tcpdump expressions:
#   insn-NN-NAME  0x00, then the classic program `tcpdump -ddd -y EN10MB`
#                 prints, as struct sock_filter (8 bytes, little-endian)
#   expr-NN-NAME  "e", then the expression (fuzz_cbpf's libpcap mode)
#   insn-max-4096-ld-imm  4095 x `ld #1`, `ret a`: the longest program,
#                 which also lets libFuzzer grow inputs to that size
# Needs tcpdump and python3; nothing is captured (-y EN10MB, -ddd only).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$ROOT/tests/fuzz/corpus/cbpf
mkdir -p "$out"
exprs=(
	"ip" "tcp port 80" "udp dst port 53" "icmp" "ip6 and tcp" "vlan and udp"
	"net 10.0.0.0/8" "host 192.0.2.1 and not port 22" "tcp[tcpflags] & tcp-syn != 0"
	"ip[2:2] > 576" "portrange 1000-2000" "len <= 100" "ether broadcast"
	"ip6 net 2001:db8::/32" "udp[8:4] = 0x12345678 or icmp6"
	"greater 1000 and tcp[13] & 3 != 0" "ip proto 47 or (tcp and ip[6:2] & 0x1fff = 0)"
	"mpls and ip"
)
i=0
for e in "${exprs[@]}"; do
	name=$(printf '%02d-%s' "$i" "$(tr -cs 'a-z0-9' '-' <<<"${e,,}" | sed 's/^-*//; s/-*$//' | cut -c1-40)")
	tcpdump -ddd -y EN10MB "$e" | python3 -c '
import struct, sys
lines = sys.stdin.read().split("\n")
body = b"".join(struct.pack("<HBBI", *map(int, l.split())) for l in lines[1:1 + int(lines[0])])
sys.stdout.buffer.write(b"\0" + body)' >"$out/insn-$name"
	printf 'e%s' "$e" >"$out/expr-$name"
	i=$((i + 1))
done
python3 -c '
import struct, sys
sys.stdout.buffer.write(b"\0" + struct.pack("<HBBI", 0x00, 0, 0, 1) * 4095 +
			struct.pack("<HBBI", 0x16, 0, 0, 0))' >"$out/insn-max-4096-ld-imm"
