#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tests/integration/test_run_capture.sh - `ffpf-bpf run -w` (issue 3):
# the packets the flows accept, written to pcap / pcapng files, checked
# packet by packet against a tcpdump running on the same interface at the
# same time with the equivalent filter.
#
# Every ffpf-bpf run is bracketed by its tcpdump (started before, stopped
# after) and the traffic is sent while both run, so the files must hold
# exactly the same packets, in the same order, with the same bytes (the
# timestamps differ: compared with ff_pcap_fingerprint, which leaves them
# out). The flows select only traffic the test sends (UDP to 5000-5020,
# ICMP, TCP port 8080): spontaneous packets (ARP, ND) match none of them.
#
#   a  copy mode, ingress, one pcap for two overlapping flows: each packet once
#   b  -w with %f: one file per flow, -s 100 cuts the packets
#   c  --pcapng: capinfos/tshark read it, comments name the matched flows
#   d  copy mode leaves a 4 MiB TCP download intact while capturing it
#   e  --hook egress (vs tcpdump -Q out) and --hook both (one file, and %f)
#   f  usage and path errors
#   g  -c COUNT stops the command after COUNT packets
#   h  --tap: packets are taken off the stack and written
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools tcpdump tshark capinfos curl ping sha256sum tc ethtool
ffpf_setup
start_http_server 8080

LO_SPEC='match(udp, dst port 5000-5009)'
HI_SPEC='match(udp, dst port 5005-5020)'
LO_PCAP='udp dst portrange 5000-5009'
HI_PCAP='udp dst portrange 5005-5020'
ALL_PCAP='udp dst portrange 5000-5020'

# send_udp_mix FIRST LAST: from the client, 1 + port % 4 datagrams to every
# port FIRST..LAST on the server, 18 to 1417 bytes of payload, 2 ms apart.
send_udp_mix() {
	ns_c "$FF_PYTHON" -c '
import socket, sys, time
dst, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
k = 0
for port in range(lo, hi + 1):
    for _ in range(1 + port % 4):
        size = 18 + (k * 211) % 1400
        s.sendto(bytes((k + i) & 0xff for i in range(size)), (dst, port))
        k += 1
        time.sleep(0.002)
' "$IP_S" "$1" "$2"
}

# start_run NAME NS IF ARGS...: `ffpf-bpf run -i IF ARGS... --json -q` in NS,
# then GRO off on IF (XDP on a veth may turn it on; GRO would merge
# segments after XDP and before tcpdump). Fails the test case if it does
# not start.
start_run() {
	local name=$1 ns=$2 ifc=$3
	shift 3
	if ! ffpf_start "$ns" "$name" -i "$ifc" "$@" --json -q; then
		t_fail "$name: ffpf-bpf run starts" "$(tail -n 3 "$FF_TMP/$name.err")"
		return 1
	fi
	ip netns exec "$ns" ethtool -K "$ifc" gro off >/dev/null 2>&1 || true
}

# stop_run NAME: SIGINT, exit status 0, show its capture summary.
stop_run() {
	ffpf_stop "$1" INT 15 || true
	t_check "$1: ffpf-bpf exits 0" 0 "$(ffpf_rc "$1")"
	echo "--- $1 stderr:"
	grep -v '^ *[0-9.]*s ' "$FF_TMP/$1.err" | sed 's/^/    /' || true
}

# jq_ NAME EXPR: ff_json on run NAME's JSON output.
jq_() { ff_json "$FF_TMP/$1.out" "$2"; }

# check_same NAME OURS THEIRS [FILTER] [SNAPLEN]: OURS holds exactly the
# packets of THEIRS that match FILTER (in order, same bytes), and some.
check_same() {
	local name=$1 ours=$2 theirs=$3 filter=${4:-} snap=${5:-0} n d
	n=$(ff_pcap_count "$theirs" "$filter")
	if ((n == 0)); then
		t_fail "$name" "tcpdump saw no packet for '${filter:-all}': no traffic?"
		return
	fi
	if d=$(ff_pcap_diff "$ours" "$theirs" "" "$filter" "$snap"); then
		t_pass "$name: $n packets, same bytes, same order as tcpdump '${filter:-all}'"
	else
		t_fail "$name" "ours vs tcpdump '${filter:-all}': $d"
	fi
}

# check_flow_counts RUN FLOW PCAPFILE FILTER: the flow's summary agrees
# with tcpdump: captured == received by filter == packets of FILTER, none
# dropped.
check_flow_counts() {
	local run=$1 fl=$2 pcap=$3 filter=$4 want
	want=$(ff_pcap_count "$pcap" "$filter")
	t_check "$run: flow $fl captured == received by filter == tcpdump '$filter'" \
		"$want $want 0" \
		"$(jq_ "$run" "'%d %d %d' % (lambda f: (f['captured'], f['received_by_filter'], f['dropped']))(next(x for x in j['flows'] if x['label'] == '$fl'))")"
	if grep -q "^flow $fl on [^:]*: $want packets captured, $want packets received by filter, 0 packets dropped (IBuf full)$" \
		"$FF_TMP/$run.err"; then
		t_pass "$run: tcpdump-style summary line for $fl"
	else
		t_fail "$run: tcpdump-style summary line for $fl" "$(grep "^flow $fl " "$FF_TMP/$run.err" || echo none)"
	fi
}

# check_no_loss RUN: every datapath lost nothing on the way to user space.
check_no_loss() {
	t_check "$1: datapaths lost nothing (ring buffer, PBuf, kernel copied == to user space)" true \
		"$(jq_ "$1" "all(i['rx']['lost'] == 0 and i['rx']['no_frame'] == 0 and i['rx']['copy_lost'] == 0
  and (i['rx']['mode'] != 'copy' or i['rx']['records'] == i['rx']['copied']) for i in j['interfaces'])")"
}

# --- a: copy mode, ingress, one pcap, two overlapping flows ------------------
case_a() {
	local ref=$FF_TMP/a-ref.pcap out=$FF_TMP/a.pcap n ovl
	ff_tcpdump_in_start "$NS_S" "$IF_S" "$ref" "$ALL_PCAP" || return 0
	start_run a "$NS_S" "$IF_S" --flow "lo=$LO_SPEC" --flow "hi=$HI_SPEC" -w "$out" || {
		tcpdump_stop "$ref"
		return 0
	}
	send_udp_mix 5000 5020
	ns_c ping -c 3 -i 0.05 -W 2 -q "$IP_S" >/dev/null || true	# matches no flow
	stop_run a
	tcpdump_stop "$ref"
	t_check "a: tcpdump dropped no packet" 0 "$(ff_tcpdump_dropped "$ref")"

	t_check "a: capinfos: nanosecond pcap" nsecpcap \
		"$(capinfos -t -M "$out" 2>/dev/null | sed -n 's/^File type: *//p')"
	check_same a "$out" "$ref" "$ALL_PCAP"
	n=$(ff_pcap_count "$ref" "$ALL_PCAP")
	ovl=$(ff_pcap_count "$ref" 'udp dst portrange 5005-5009')
	# both flows took the overlap, the file has it once
	t_check "a: each packet once: lo + hi captured == file + overlap ($ovl)" $((n + ovl)) \
		"$(jq_ a "flow('lo')['captured'] + flow('hi')['captured']")"
	t_check "a: JSON written == file's packets" "$n" \
		"$(jq_ a "j['capture']['written']")"
	if ((ovl > 0)); then
		t_pass "a: the flows overlap ($ovl packets)"
	else
		t_fail "a: the flows overlap" "tcpdump saw no packet to 5005-5009"
	fi
	check_flow_counts a lo "$ref" "$LO_PCAP"
	check_flow_counts a hi "$ref" "$HI_PCAP"
	check_no_loss a
	if grep -q "^$out: $n packets written$" "$FF_TMP/a.err"; then
		t_pass "a: summary names the file and its count"
	else
		t_fail "a: summary names the file and its count" "$(grep 'packets written' "$FF_TMP/a.err" || echo none)"
	fi
	# Our timestamps (taken at XDP) are the packets' arrival: within 1 s of tcpdump's.
	t_check "a: timestamps agree with tcpdump's (within 1 s)" ok \
		"$(paste <(tshark -r "$out" -T fields -e frame.time_epoch 2>/dev/null) \
			<(tshark -r "$ref" -Y 'udp.dstport >= 5000 && udp.dstport <= 5020' \
				-T fields -e frame.time_epoch 2>/dev/null) |
			awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1 || NF != 2) bad++ }
			     END { print (NR && !bad) ? "ok" : "bad: " bad + 0 " of " NR }')"
}

# --- b: one file per flow, snaplen 100 ----------------------------------------
case_b() {
	local ref=$FF_TMP/b-ref.pcap pat=$FF_TMP/b-%f.pcap
	ff_tcpdump_in_start "$NS_S" "$IF_S" "$ref" "$ALL_PCAP" || return 0
	start_run b "$NS_S" "$IF_S" --flow "lo=$LO_SPEC" --flow "hi=$HI_SPEC" -w "$pat" -s 100 || {
		tcpdump_stop "$ref"
		return 0
	}
	send_udp_mix 5000 5020
	stop_run b
	tcpdump_stop "$ref"
	t_check "b: two files, one per flow" "b-hi.pcap b-lo.pcap" \
		"$(cd "$FF_TMP" && for f in b-*.pcap; do [[ $f == b-ref.pcap ]] || echo "$f"; done |
			sort | tr '\n' ' ' | sed 's/ $//')"
	check_same "b: b-lo.pcap" "$FF_TMP/b-lo.pcap" "$ref" "$LO_PCAP" 100
	check_same "b: b-hi.pcap" "$FF_TMP/b-hi.pcap" "$ref" "$HI_PCAP" 100
	t_check "b: no packet longer than the snaplen, wire lengths kept" "0 0" \
		"$(tshark -r "$FF_TMP/b-lo.pcap" -T fields -e frame.len -e frame.cap_len 2>/dev/null |
			awk '{ if ($2 > 100) long++; if ($2 != ($1 < 100 ? $1 : 100)) bad++ }
			     END { print long + 0, bad + 0 }')"
	t_check "b: pcap header snaplen 100" 100 \
		"$(capinfos -l -M "$FF_TMP/b-lo.pcap" 2>/dev/null | sed -n 's/^Packet size limit: *file hdr: *\([0-9]*\).*/\1/p')"
	check_flow_counts b lo "$ref" "$LO_PCAP"
	check_flow_counts b hi "$ref" "$HI_PCAP"
	t_check "b: JSON lists both files" 2 "$(jq_ b "len(j['capture']['files'])")"
}

# --- c: pcapng with comments ----------------------------------------------------
case_c() {
	local ref=$FF_TMP/c-ref.pcap out=$FF_TMP/c.pcapng got bad
	ff_tcpdump_in_start "$NS_S" "$IF_S" "$ref" "$ALL_PCAP" || return 0
	start_run c "$NS_S" "$IF_S" --flow "lo=$LO_SPEC" --flow "hi=$HI_SPEC" -w "$out" --pcapng || {
		tcpdump_stop "$ref"
		return 0
	}
	send_udp_mix 5000 5020
	stop_run c
	tcpdump_stop "$ref"
	t_check "c: capinfos: pcapng" pcapng \
		"$(capinfos -t -M "$out" 2>/dev/null | sed -n 's/^File type: *//p')"
	t_check "c: capinfos packet count == tcpdump" "$(ff_pcap_count "$ref" "$ALL_PCAP")" \
		"$(capinfos -c -M "$out" 2>/dev/null | sed -n 's/^Number of packets: *//p')"
	if got=$(tshark -r "$out" 2>&1 >/dev/null | grep -v -e '^Running as user' -e 'could be dangerous'); [[ -z "$got" ]]; then
		t_pass "c: tshark reads it without complaint"
	else
		t_fail "c: tshark reads it without complaint" "$got"
	fi
	t_check "c: pcapng names the interface" "Name = $IF_S" \
		"$(capinfos "$out" 2>/dev/null | grep -o "Name = $IF_S" | head -n1)"
	check_same c "$out" "$ref" "$ALL_PCAP"
	# every packet's comment names exactly the flows whose port range has its port
	bad=$(tshark -r "$out" -T fields -e udp.dstport -e frame.comment 2>/dev/null |
		awk -F'\t' '{ p = $1; w = "";
			   if (p >= 5000 && p <= 5009) w = "lo";
			   if (p >= 5005 && p <= 5020) w = w (w == "" ? "" : ",") "hi";
			   if ($2 != "flows: " w) { bad++; if (!ex) ex = $0 " (want flows: " w ")" } }
			 END { print bad + 0, NR, ex }')
	if [[ "$bad" =~ ^0\ ([0-9]+) ]] && ((BASH_REMATCH[1] > 0)); then
		t_pass "c: all ${BASH_REMATCH[1]} comments name the matched flows"
	else
		t_fail "c: comments name the matched flows" "wrong, total, first wrong: $bad"
	fi
}

# --- d: a TCP download through a capturing interface ----------------------------
case_d() {
	local ref=$FF_TMP/d-ref.pcap out=$FF_TMP/d.pcap dl=$FF_TMP/d-download.bin
	head -c $((4 << 20)) /dev/urandom >"$FF_WWW/4m.bin"
	# on the client: its ingress carries the data segments
	ff_tcpdump_in_start "$NS_C" "$IF_C" "$ref" 'tcp port 8080' || return 0
	start_run d "$NS_C" "$IF_C" --flow 'web=match(tcp, port 8080)' -w "$out" || {
		tcpdump_stop "$ref"
		return 0
	}
	# Paced by the server's qdisc to a rate the reference tcpdump keeps up
	# with (-U: it writes every packet at once; at full speed it drops).
	ns_s tc qdisc add dev "$IF_S" root tbf rate 40mbit burst 16kb latency 200ms ||
		t_fail "d: pace the server with tc tbf" "tc qdisc add failed"
	t_check "d: curl 4 MiB while capturing" $((4 << 20)) \
		"$(ns_c curl -sS --max-time 30 -o "$dl" -w '%{size_download}' "$FF_HTTP_URL/4m.bin" ||
			echo failed)"
	ns_s tc qdisc del dev "$IF_S" root 2>/dev/null || true
	t_check "d: download intact (sha256)" "$(sha256sum <"$FF_WWW/4m.bin")" \
		"$(sha256sum <"$dl" 2>/dev/null || echo missing)"
	stop_run d
	tcpdump_stop "$ref"
	t_check "d: tcpdump dropped no packet" 0 "$(ff_tcpdump_dropped "$ref")"
	check_same d "$out" "$ref"
	check_flow_counts d web "$ref" 'tcp port 8080'
	check_no_loss d

	# At full speed (no reference: tcpdump -U drops at this rate): the
	# download is intact and every packet the flow accepted is accounted
	# for: written, or counted as dropped / lost.
	rm -f "$dl"
	start_run d2 "$NS_C" "$IF_C" --flow 'web=match(tcp, port 8080)' -w "$out" || return 0
	t_check "d2: curl 4 MiB at full speed while capturing" $((4 << 20)) \
		"$(ns_c curl -sS --max-time 30 -o "$dl" -w '%{size_download}' "$FF_HTTP_URL/4m.bin" ||
			echo failed)"
	t_check "d2: download intact (sha256)" "$(sha256sum <"$FF_WWW/4m.bin")" \
		"$(sha256sum <"$dl" 2>/dev/null || echo missing)"
	stop_run d2
	t_check "d2: file == captured; captured + dropped + lost == received by filter" true \
		"$(jq_ d2 "(lambda f, i: f['captured'] == j['capture']['written'] == $(ff_pcap_count "$out") and
  f['captured'] + f['dropped'] + i['rx']['lost'] + i['rx']['no_frame'] == f['received_by_filter'])(flow('web'), iface())")"

	# One file for nested flows at full speed, with the default IBufs: a
	# flow whose IBuf overflows misses packets the others still have, and
	# the merge must still write every packet any flow got, and once.
	head -c $((16 << 20)) /dev/urandom >"$FF_WWW/16m.bin"
	start_run d3 "$NS_C" "$IF_C" --flow 'web=match(tcp, port 8080)' --flow 'tcp=match(tcp)' \
		--flow 'ip=match(ip)' --flow 'third=match(tcp) -> sample(3)' -w "$out" || return 0
	ns_c curl -sS --max-time 30 -o /dev/null "$FF_HTTP_URL/16m.bin" || t_fail "d3: curl 16 MiB" "failed"
	stop_run d3
	local n u
	n=$(ff_pcap_count "$out")
	u=$(ff_pcap_fingerprint "$out" | sort -u | wc -l)
	t_check "d3: each packet once ($n in the file, all different)" "$n" "$u"
	# Ring and PBuf losses are counted per datapath: exact for ip, which
	# matches every packet; an upper bound for the narrower flows.
	t_check "d3: file == written; ip: captured + dropped + ring lost + no frame == received by filter; others within" true \
		"$(jq_ d3 "(lambda i: j['capture']['written'] == $n and all(
  (f['captured'] + f['dropped'] + i['rx']['lost'] + i['rx']['no_frame'] == f['received_by_filter']) if f['name'] == 'ip' else
  (f['captured'] + f['dropped'] <= f['received_by_filter'] <= f['captured'] + f['dropped'] + i['rx']['lost'] + i['rx']['no_frame'])
  for f in j['flows']))(iface())")"
	# ip holds every packet of the others: the file has at least what any
	# flow captured, and at most what ip accepted
	t_check "d3: max(captured) <= written <= ip's received by filter" true \
		"$(jq_ d3 "max(f['captured'] for f in j['flows']) <= $n <= flow('ip')['received_by_filter']")"
	echo "    d3: $(jq_ d3 "', '.join('%s %d/%d (dropped %d)' % (f['name'], f['captured'], f['received_by_filter'], f['dropped']) for f in j['flows'])")"
}

# --- e: egress, and both hooks ---------------------------------------------------
case_e() {
	local out_ref=$FF_TMP/e-out.pcap in_ref=$FF_TMP/e-in.pcap all_ref=$FF_TMP/e-all.pcap
	local out=$FF_TMP/e.pcap bad

	# egress alone: the echo replies and the HTTP answers leaving the server
	ff_tcpdump_dir_start "$NS_S" "$IF_S" out "$out_ref" 'icmp or tcp port 8080' || return 0
	if start_run e1 "$NS_S" "$IF_S" --hook egress --flow 'echo=match(icmp)' \
		--flow 'web=match(tcp, src port 8080)' -w "$out"; then
		ns_c ping -c 10 -i 0.05 -W 2 -q "$IP_S" >/dev/null || t_fail "e1: ping" "failed"
		ns_c curl -sS --max-time 10 -o /dev/null "$FF_HTTP_URL/100k.bin" || t_fail "e1: curl" "failed"
		stop_run e1
	fi
	tcpdump_stop "$out_ref"
	# GSO: a segment leaving through TC may be larger than the snaplen
	check_same "e1: egress" "$out" "$out_ref" 'icmp or tcp src port 8080' 2048
	t_check "e1: tcpdump -Q out saw the echo replies only" \
		"$(ff_pcap_count "$out_ref" icmp)" "$(ff_pcap_count "$out_ref" 'icmp[icmptype] == icmp-echoreply')"
	check_flow_counts e1 echo "$out_ref" icmp
	check_flow_counts e1 web "$out_ref" 'tcp src port 8080'
	t_check "e1: JSON: flows and datapath on egress" "egress egress egress" \
		"$(jq_ e1 "' '.join([f['hook'] for f in j['flows']] + [i['hook'] for i in j['interfaces']])")"
	check_no_loss e1

	# both hooks, one pcapng: requests and replies in arrival order
	out=$FF_TMP/e2.pcapng
	ff_tcpdump_dir_start "$NS_S" "$IF_S" inout "$all_ref" icmp || return 0
	if start_run e2 "$NS_S" "$IF_S" --hook both --flow 'p=match(icmp)' -w "$out" --pcapng; then
		ns_c ping -c 10 -i 0.05 -W 2 -q "$IP_S" >/dev/null || t_fail "e2: ping" "failed"
		stop_run e2
	fi
	tcpdump_stop "$all_ref"
	check_same "e2: both hooks, one file" "$out" "$all_ref" icmp
	check_flow_counts e2 p-in "$all_ref" 'icmp[icmptype] == icmp-echo'
	check_flow_counts e2 p-out "$all_ref" 'icmp[icmptype] == icmp-echoreply'
	bad=$(tshark -r "$out" -T fields -e icmp.type -e frame.comment 2>/dev/null |
		awk -F'\t' '{ w = $1 == 8 ? "flows: p-in" : $1 == 0 ? "flows: p-out" : "?"; if ($2 != w) bad++ }
			 END { print bad + 0, NR }')
	t_check "e2: comments: p-in on requests, p-out on replies" "0 $(ff_pcap_count "$all_ref" icmp)" "$bad"

	# both hooks, %f: NAME-in and NAME-out files
	ff_tcpdump_dir_start "$NS_S" "$IF_S" in "$in_ref" icmp || return 0
	ff_tcpdump_dir_start "$NS_S" "$IF_S" out "$out_ref" icmp || return 0
	if start_run e3 "$NS_S" "$IF_S" --hook both --flow 'p=match(icmp)' -w "$FF_TMP/e3-%f.pcap"; then
		ns_c ping -c 10 -i 0.05 -W 2 -q "$IP_S" >/dev/null || t_fail "e3: ping" "failed"
		stop_run e3
	fi
	tcpdump_stop "$in_ref" "$out_ref"
	check_same "e3: p-in file == tcpdump -Q in" "$FF_TMP/e3-p-in.pcap" "$in_ref" icmp
	check_same "e3: p-out file == tcpdump -Q out" "$FF_TMP/e3-p-out.pcap" "$out_ref" icmp
}

# --- f: errors -------------------------------------------------------------------
case_f() {
	local out rc
	rc=0
	out=$(ffpf "$NS_S" run -i "$IF_S" --flow 'x=count' --tap --hook egress \
		-w "$FF_TMP/f.pcap" --duration 1 2>&1) || rc=$?
	t_check "f: --tap --hook egress: usage error (status 2)" 2 "$rc"
	if grep -q -- '--tap.*ingress only' <<<"$out"; then
		t_pass "f: --tap --hook egress: message says tap is ingress only"
	else
		t_fail "f: --tap --hook egress: message" "$out"
	fi
	if [[ ! -e "$FF_TMP/f.pcap" ]]; then
		t_pass "f: usage error creates no file"
	else
		t_fail "f: usage error creates no file" "$FF_TMP/f.pcap exists"
	fi

	rc=0
	out=$(ffpf "$NS_S" run -i "$IF_S" --flow 'x=count' --copy --duration 1 2>&1) || rc=$?
	t_check "f: --copy without -w: usage error (status 2)" 2 "$rc"
	if grep -q -- '--copy needs -w FILE' <<<"$out"; then
		t_pass "f: --copy without -w: message"
	else
		t_fail "f: --copy without -w: message" "$out"
	fi

	rc=0
	out=$(ffpf "$NS_S" run -i "$IF_S" --flow 'x=count' -w /nonexistent-ffpf-dir/x.pcap \
		--duration 1 2>&1) || rc=$?
	t_check "f: unwritable -w path: status 1" 1 "$rc"
	if grep -q '/nonexistent-ffpf-dir/x.pcap.*No such file or directory' <<<"$out"; then
		t_pass "f: unwritable -w path: message names the path and the reason"
	else
		t_fail "f: unwritable -w path: message" "$out"
	fi
	rc=0
	out=$(ffpf "$NS_S" run -i "$IF_S" --flow 'x=count' -w "$FF_TMP/f-%d.pcap" --duration 1 2>&1) || rc=$?
	t_check "f: -w with an unknown %-sequence: usage error (status 2)" 2 "$rc"
	if grep -q "unknown '%d'" <<<"$out"; then
		t_pass "f: -w with an unknown %-sequence: message names it"
	else
		t_fail "f: -w with an unknown %-sequence: message" "$out"
	fi

	rc=0
	out=$(ffpf "$NS_S" run -i "$IF_S" --flow 'x=count' -w "$FF_TMP/f.pcap" --pin --duration 1 2>&1) || rc=$?
	t_check "f: -w with --pin: usage error (status 2)" 2 "$rc"
	t_check "f: nothing attached after the errors" "" "$(ff_xdp_prog "$NS_S" "$IF_S")"
}

# --- g: -c COUNT ---------------------------------------------------------------------
case_g() {
	local ref=$FF_TMP/g-ref.pcap out=$FF_TMP/g.pcap pid want=7
	ff_tcpdump_in_start "$NS_S" "$IF_S" "$ref" "$ALL_PCAP" || return 0
	start_run g "$NS_S" "$IF_S" --flow "lo=$LO_SPEC" --flow "hi=$HI_SPEC" -w "$out" -c "$want" || {
		tcpdump_stop "$ref"
		return 0
	}
	pid=$(ffpf_pid g)
	send_udp_mix 5000 5020
	if wait_for "! kill -0 $pid 2>/dev/null" 10; then
		t_pass "g: -c $want: the command ends by itself"
	else
		t_fail "g: -c $want: the command ends by itself" "still running"
	fi
	stop_run g
	tcpdump_stop "$ref"
	ff_pcap_slice "$ref" "$FF_TMP/g-first.pcap" 1 "$want"
	check_same "g: the first $want packets" "$out" "$FF_TMP/g-first.pcap"
	t_check "g: JSON written" "$want" "$(jq_ g "j['capture']['written']")"
}

# --- h: tap mode ----------------------------------------------------------------------
case_h() {
	local ref=$FF_TMP/h-ref.pcap out=$FF_TMP/h.pcap
	start_udp_sink 5005
	# the server's stack never sees them: compare with what the client sent
	ff_tcpdump_dir_start "$NS_C" "$IF_C" out "$ref" "$ALL_PCAP" || return 0
	start_run h "$NS_S" "$IF_S" --tap --flow "lo=$LO_SPEC" --flow "hi=$HI_SPEC" -w "$out" || {
		tcpdump_stop "$ref"
		return 0
	}
	send_udp_mix 5000 5020
	stop_run h
	tcpdump_stop "$ref"
	check_same "h: tap" "$out" "$ref" "$ALL_PCAP"
	t_check "h: taken off the stack: the UDP sink on 5005 got nothing" 0 "$(udp_sink_count 5005)"
	check_flow_counts h lo "$ref" "$LO_PCAP"
	check_flow_counts h hi "$ref" "$HI_PCAP"
	t_check "h: JSON: tap mode" tap "$(jq_ h "iface()['rx']['mode']")"
}

# FF_CASES="a c" runs only those cases (default: all).
for c in ${FF_CASES:-a b c d e f g h}; do
	"case_$c"
done

t_summary
