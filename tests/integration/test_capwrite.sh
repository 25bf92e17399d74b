#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tests/integration/test_capwrite.sh - capture files of `run -w` (issue 3),
# through build/ffpf-capdemo: synthetic frames written as pcap (ns) and
# pcapng, read back by tshark, capinfos and tcpdump (libpcap). No network,
# no namespaces, no root needed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/netns.sh
source "$ROOT/tests/lib/netns.sh"

DEMO=${FF_CAPDEMO:-$ROOT/build/ffpf-capdemo}
if [[ -z "${FF_CAPDEMO:-}" ]]; then
	# `make all` does not list the tool: build it by the tools/ffpf-%.c rule.
	make -C "$ROOT" --no-print-directory build/ffpf-capdemo >/dev/null
fi

TMP=$(mktemp -d /tmp/ffpf-capw.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

N=25
TS_FIRST=1700000000.123456789			# frame 0
TS_LAST=1700000000.147456813			# frame 24: + 24 * 1000001 ns

# Without "Running as user root..." and similar notices.
tshark_q() {
	local rc=0
	tshark "$@" 2>"$TMP/tshark.err" || rc=$?
	grep -v -e '^Running as user' -e 'could be dangerous' "$TMP/tshark.err" >&2 || true
	return "$rc"
}

# tcpdump -xx output -> one lowercase hex string per packet.
tcpdump_hex() {
	tcpdump -r "$1" -nn -xx 2>/dev/null | awk '
		/^[^ \t]/ { if (n++) print h; h = ""; next }
		/^[ \t]+0x[0-9a-f]+:/ { for (i = 2; i <= NF; i++) h = h $i }
		END { if (n) print h }'
}

check_tool() {
	command -v "$1" >/dev/null || { t_fail "tool $1" "not installed (apt-get install $2)"; return 1; }
}

run_case() { # FORMAT(pcap|pcapng) SNAPLEN(0: default)
	local fmt=$1 snap=$2 name f out err want got
	name="$fmt${snap:+ snaplen $snap}"
	[[ $snap == 0 ]] && name=$fmt
	f=$TMP/cap-$fmt-$snap.$fmt
	local args=(-w "$f" -n "$N" -s "$snap" -i lo -x "$f.hex" -c "$f.comments")
	[[ $fmt == pcapng ]] && args+=(--pcapng)

	if out=$("$DEMO" "${args[@]}" 2>&1); then
		t_check "$name: capdemo wrote $N packets" "capdemo: $N packets written to $f" "$out"
	else
		t_fail "$name: capdemo" "$out"
		return 0
	fi

	# tshark reads it without complaint, all packets
	if out=$(tshark_q -r "$f" 2>"$TMP/err"); then
		err=$(cat "$TMP/err")
		t_check "$name: tshark reads it, no errors" "" "$err"
		t_check "$name: tshark packet count" "$N" "$(printf '%s\n' "$out" | grep -c .)"
	else
		t_fail "$name: tshark -r" "$(cat "$TMP/err")"
	fi

	# capinfos: type, count, nanosecond precision
	want=$([[ $fmt == pcapng ]] && echo pcapng || echo nsecpcap)
	t_check "$name: capinfos file type" "$want" \
		"$(capinfos -t -M "$f" 2>/dev/null | sed -n 's/^File type: *//p')"
	t_check "$name: capinfos packet count" "$N" \
		"$(capinfos -c -M "$f" 2>/dev/null | sed -n 's/^Number of packets: *//p')"
	t_check "$name: capinfos nanosecond resolution" "nanoseconds (9)" \
		"$(capinfos "$f" 2>/dev/null | sed -n 's/^File timestamp precision: *//p')"

	# tcpdump (libpcap): the bytes of every record, frame for frame
	if diff <(tcpdump_hex "$f") "$f.hex" >"$TMP/diff"; then
		t_pass "$name: tcpdump -xx bytes equal the frames written"
	else
		t_fail "$name: tcpdump -xx bytes" "$(head -5 "$TMP/diff")"
	fi

	# nanosecond timestamps and lengths
	got=$(tshark_q -r "$f" -T fields -e frame.time_epoch 2>/dev/null)
	t_check "$name: first timestamp (ns)" "$TS_FIRST" "$(head -1 <<<"$got")"
	t_check "$name: last timestamp (ns)" "$TS_LAST" "$(tail -1 <<<"$got")"
	got=$(tshark_q -r "$f" -T fields -e frame.len -e frame.cap_len 2>/dev/null |
		awk -v s="$snap" '{ if (s == 0 || $1 <= s) { if ($2 != $1) bad++ }
				   else { cut++; if ($2 != s) bad++ } }
				 END { print cut + 0, bad + 0 }')
	if [[ $snap == 0 ]]; then
		t_check "$name: wire length = captured length" "0 0" "$got"
	else
		t_check "$name: cut frames keep their wire length" "0" "${got#* }"
		[[ ${got% *} -gt 0 ]] && t_pass "$name: some frames cut to $snap" ||
			t_fail "$name: some frames cut to $snap" "none"
	fi

	if [[ $fmt == pcapng ]]; then
		if diff <(tshark_q -r "$f" -T fields -e frame.comment 2>/dev/null) \
			"$f.comments" >"$TMP/diff"; then
			t_pass "$name: frame comments carry the flows"
		else
			t_fail "$name: frame comments" "$(head -5 "$TMP/diff")"
		fi
		t_check "$name: comment of frame 0" "flows: web,dns" \
			"$(tshark_q -r "$f" -c 1 -T fields -e frame.comment 2>/dev/null)"
		t_check "$name: interface name" "Name = lo" \
			"$(capinfos "$f" 2>/dev/null | grep -o 'Name = lo' | head -1)"
	fi
}

tools_ok=1
check_tool tshark tshark || tools_ok=0
check_tool capinfos wireshark-common || tools_ok=0
check_tool tcpdump tcpdump || tools_ok=0
if ((tools_ok)); then
	run_case pcap 0
	run_case pcap 64
	run_case pcapng 0
	run_case pcapng 61
fi

# an unwritable path fails cleanly
if out=$("$DEMO" -w /nonexistent-dir/x.pcap -n 1 2>&1); then
	t_fail "unwritable path" "capdemo succeeded"
else
	t_check "unwritable path: error message" \
		"capdemo: /nonexistent-dir/x.pcap: No such file or directory" "$out"
fi

t_summary
