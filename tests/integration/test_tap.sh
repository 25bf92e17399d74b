#!/usr/bin/env bash
# Integration test: packets to user space through the public API
# (ffpf_flows_run, ffpf_flow_rx_stats), in tap mode (AF_XDP, UMEM = PBuf)
# and in copy mode (BPF ring buffer, one copy into the PBuf).
#
# build/ffpf-tapcat runs three overlapping flows on the server end of a
# veth pair (all=count, udp=match(udp), p5005=match(udp, dst port 5005));
# each part sends the same traffic from the client, bracketed by two marker
# frames (ethertype 0x88b5, as in test_counts.sh), and compares what every
# flow read with a reference capture:
#
#   1. tap mode: every packet that matches a flow is redirected by the root,
#      with its struct ffpf_meta in the XDP metadata, to the AF_XDP socket
#      of its RX queue, stored once in the PBuf and handed to the IBuf of
#      each flow that matched it: one frame per packet, not three.
#   2. tap mode, slow consumer: flow "all" is never read (--stall) and has
#      an IBuf of 64: it keeps its 64 oldest packets and counts the rest as
#      dropped; the other flows still get exactly their packets, and the
#      only frames held at exit are the stalled flow's 64.
#   3. copy mode on ingress, snaplen 64: same flows; packets continue up
#      the stack, so the server's UDP sink still gets every datagram, and
#      each flow sees min(len, 64) bytes of every packet it accepted.
#   4. copy mode on the client's egress (TC, tcx): the same flows see the
#      packets leaving IF_C, direction egress in their metadata.
#
# Matched packets in tap mode never reach the server's stack (nor a capture
# on IF_S), so parts 1 and 2 capture on the CLIENT's egress (IF_C, -Q out);
# part 3 captures on the server's ingress (IF_S, -Q in) and part 4 on the
# client's egress, in parallel with the flows.
#
# Needed on the veth: nothing beyond the defaults. The root is attached in
# native XDP mode on IF_S (veth's own XDP, which also makes veth run NAPI for
# the redirect), the sockets bind in copy mode (XDP_COPY) on queue 0 (a veth
# created without numrxqueues has one RX queue). GRO is not needed.
#
# The client never needs an answer from the server while tap mode is on:
# ARP requests would be redirected too (flow "all"), so the client gets a
# static neighbour entry; IPv6 is off on IF_C so that no spontaneous ND/MLD
# packet makes the "all" count racy.
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools tcpdump tshark ping bpftool
TAPCAT=${TAPCAT:-$FF_ROOT/build/ffpf-tapcat}
if [[ ! -x "$TAPCAT" ]]; then
	t_fail "prerequisites" "$TAPCAT not built: run 'make'"
	t_summary
	exit 1
fi
ffpf_setup

U5005=100 U6000=50 PINGS=10 STALL_IBUF=64 SNAP=64
FLOWS=(all=count 'udp=match(udp) -> count' 'p5005=match(udp, dst port 5005) -> count')
declare -A PCAP=([all]='' [udp]='udp' [p5005]='udp dst port 5005')

mac_s=$(ip -n "$NS_S" link show "$IF_S" | awk '/link\/ether/ { print $2 }')
ns_c ip neigh replace "$IP_S" lladdr "$mac_s" dev "$IF_C" nud permanent
ns_c sysctl -qw "net.ipv6.conf.$IF_C.disable_ipv6=1"

# The server's stack must see none of the matched packets while tapping,
# and all of them in copy mode.
start_udp_sink 5005

# tapcat_start TAG NS IF ARGS...: ffpf-tapcat IF FLOWS ARGS in namespace
# NS, output in $FF_TMP/TAG.json and .err; returns once it is ready.
tapcat_start() {
	local tag=$1 ns=$2 ifc=$3
	shift 3
	TC_OUT=$FF_TMP/$tag.json TC_ERR=$FF_TMP/$tag.err
	# nsenter execs ffpf-tapcat (a network namespace needs no fork): $! is
	# its pid, so SIGINT reaches it rather than a waiting subshell.
	nsenter --net="/run/netns/$ns" -- "$TAPCAT" "$ifc" "${FLOWS[@]}" --duration 60 "$@" \
		>"$TC_OUT" 2>"$TC_ERR" </dev/null &
	TC_PID=$!
	_FF_PIDS+=("$TC_PID")
	wait_for "grep -q 'tapcat: ready' '$TC_ERR' || ! kill -0 $TC_PID 2>/dev/null" 10 &&
		grep -q 'tapcat: ready' "$TC_ERR"
}

# tapcat_stop TAG: SIGINT (it reads on for 300 ms, prints its JSON and
# exits); checks the exit status and that the JSON is there.
tapcat_stop() {
	local tag=$1 rc=0
	sleep 1
	kill -INT "$TC_PID" 2>/dev/null || true
	wait_for "! kill -0 $TC_PID 2>/dev/null" 10 || true
	wait "$TC_PID" || rc=$?
	_ff_forget_pid "$TC_PID"
	t_check "$tag: ffpf-tapcat exits 0 on SIGINT" 0 "$rc"
	echo "--- ffpf-tapcat output ($tag):"
	sed 's/^/    /' "$TC_OUT"
	sed 's/^/    stderr: /' "$TC_ERR" | tail -n 5
	if [[ "$(ff_json "$TC_OUT" '"flows" in j and "pbuf" in j')" != true ]]; then
		t_fail "$tag: JSON output" "$(head -c 300 "$TC_OUT")"
		return 1
	fi
}

# capture_start NS IF DIR FILE: tcpdump -Q DIR, for the reference.
capture_start() {
	local ns=$1 ifc=$2 dir=$3 pcap=$4 err=$4.err
	rm -f "$pcap"
	ip netns exec "$ns" tcpdump -i "$ifc" -Q "$dir" -nn -U --immediate-mode -Z root \
		-B 8192 -w "$pcap" >/dev/null 2>"$err" </dev/null &
	_FF_PIDS+=("$!")
	_FF_TCPDUMP[$pcap]=$!
	wait_for "grep -q 'listening on' '$err'" 10 ||
		t_fail "tcpdump on $ifc" "$(cat "$err")"
}

# traffic: the same packets in every part.
traffic() {
	ff_mark start
	ff_udp_ports 5005 "$U5005"
	ff_udp_ports 6000 "$U6000"
	# tap mode: no replies (redirected); copy mode: replies, not counted
	ns_c ping -c "$PINGS" -i 0.05 -W 1 -q "$IP_S" >/dev/null 2>&1 || true
	ff_mark end
}

# window TAG PCAP: the reference between the markers into $FF_TMP/TAG.win.pcap
# (WIN); fails the part if the markers are missing or packets fell outside.
window() {
	local tag=$1 pcap=$2 first last total
	first=$(ff_pcap_frames "$pcap" "$(ff_mark_filter start)" | head -n1)
	last=$(ff_pcap_frames "$pcap" "$(ff_mark_filter end)" | tail -n1)
	if [[ -z "$first" || -z "$last" ]] || ((first > last)); then
		t_fail "$tag: markers in the capture" "start '${first}' end '${last}'"
		return 1
	fi
	WIN=$FF_TMP/$tag.win.pcap
	ff_pcap_slice "$pcap" "$WIN" "$first" "$last"
	total=$(ff_pcap_count "$pcap")
	echo "    $tag capture: $((last - first + 1)) packets between the markers, $total in all"
	t_check "$tag: capture has $U5005 datagrams to 5005" "$U5005" "$(ff_pcap_count "$WIN" 'udp dst port 5005')"
	t_check "$tag: capture has $U6000 datagrams to 6000" "$U6000" "$(ff_pcap_count "$WIN" 'udp dst port 6000')"
	t_check "$tag: capture has $PINGS echo requests" "$PINGS" "$(ff_pcap_count "$WIN" 'icmp[icmptype] == icmp-echo')"
	t_check "$tag: everything captured is in the window" "$total" "$((last - first + 1))"
}

j() { ff_json "$TC_OUT" "$1"; }

# check_reader TAG FLOW: a flow that was read: exactly its packets, no drop.
check_reader() {
	local tag=$1 fl=$2 n
	n=$(ff_pcap_count "$WIN" "${PCAP[$fl]}")
	t_check "$tag: flow $fl read == capture '${PCAP[$fl]:-(all)}'" "$n" "$(j "flow('$fl')['packets']")"
	t_check "$tag: flow $fl: kernel count == IBuf received == read == released" "$n $n $n" \
		"$(j "flow('$fl')['kernel_packets']") $(j "flow('$fl')['received']") $(j "flow('$fl')['released']")"
	t_check "$tag: flow $fl: no IBuf drops, nothing queued" "0 0" \
		"$(j "flow('$fl')['dropped']") $(j "flow('$fl')['queued']")"
	t_check "$tag: flow $fl: every packet sane (flow bit, lengths, metadata, order, time)" "0 0 0" \
		"$(j "flow('$fl')['bad']") $(j "flow('$fl')['order_bad']") $(j "flow('$fl')['ts_bad']")"
}

# check_datapath TAG: nothing lost between the kernel and the IBufs.
check_datapath() {
	local tag=$1
	t_check "$tag: rx: nothing lost, no frame shortage" "0 0" "$(j "j['rx']['lost']") $(j "j['rx']['no_frame']")"
	t_check "$tag: seq: the same packet has the same seq and mask in every flow" 0 "$(j "j['seq']['mismatch']")"
	t_check "$tag: XDP_STATISTICS: no drops" "0 0 0 0" \
		"$(j "' '.join(str(j['rx'][k]) for k in ('xsk_rx_dropped', 'xsk_rx_invalid', 'xsk_rx_ring_full', 'xsk_fill_ring_empty'))")"
}

# --- 1. tap mode, three overlapping flows ------------------------------------
part=tap
pcap=$FF_TMP/$part.pcap
if tapcat_start "$part" "$NS_S" "$IF_S" --mode tap; then
	t_pass "$part: ffpf-tapcat: 3 flows, tap mode on $IF_S"
	if [[ -n "$(ff_xdp_prog "$NS_S" "$IF_S")" ]]; then
		t_pass "$part: XDP program attached to $IF_S while tapping"
	else
		t_fail "$part: XDP program attached to $IF_S while tapping" \
			"$(ip -n "$NS_S" -d link show "$IF_S")"
	fi
	capture_start "$NS_C" "$IF_C" out "$pcap"
	traffic
	tapcat_stop "$part" && ok=1 || ok=0
	tcpdump_stop "$pcap"
	if ((ok)) && window "$part" "$pcap"; then
		for fl in all udp p5005; do
			check_reader "$part" "$fl"
		done
		t_check "$part: flow bytes == capture bytes (all)" \
			"$(ff_pcap_stats "$WIN" | cut -d' ' -f2)" "$(j "flow('all')['bytes']")"
		matched=$(ff_pcap_count "$WIN") # "all" matches everything
		descs=$((matched + $(ff_pcap_count "$WIN" udp) + $(ff_pcap_count "$WIN" 'udp dst port 5005')))
		t_check "$part: PBuf frames stored == packets matched by >= 1 flow (one frame per packet)" \
			"$matched" "$(j "j['pbuf']['stored']")"
		t_check "$part: PBuf descriptors == sum over flows" "$descs" "$(j "j['pbuf']['descs']")"
		t_check "$part: distinct seq == packets stored" "$matched" "$(j "j['seq']['distinct']")"
		t_check "$part: masks: 5005 -> all+udp+p5005, 6000 -> all+udp, rest -> all" \
			"$U5005 $U6000 $((matched - U5005 - U6000))" \
			"$(j "j['masks'].get('0x7', 0)") $(j "j['masks'].get('0x3', 0)") $(j "j['masks'].get('0x1', 0)")"
		t_check "$part: no frame held at exit (user space)" 0 "$(j "j['pbuf']['in_use']")"
		check_datapath "$part"
		t_check "$part: root: tap_no_socket, tap_meta_fail" "0 0" \
			"$(j "j['root']['tap_no_socket']") $(j "j['root']['tap_meta_fail']")"
		t_check "$part: root: tap_redirected == matched == records read" "$matched $matched $matched" \
			"$(j "j['root']['tap_redirected']") $(j "j['root']['matched']") $(j "j['rx']['records']")"
		t_check "$part: server stack saw none of the redirected datagrams" 0 "$(udp_sink_count 5005)"
	fi
else
	t_fail "$part: ffpf-tapcat: 3 flows, tap mode on $IF_S" "$(tail -n 5 "$TC_ERR")"
fi

# --- 2. tap mode, one flow never read ----------------------------------------
part=stall
pcap=$FF_TMP/$part.pcap
if tapcat_start "$part" "$NS_S" "$IF_S" --mode tap --stall all --ibuf "all=$STALL_IBUF"; then
	t_pass "$part: ffpf-tapcat: flow all stalled with an IBuf of $STALL_IBUF"
	capture_start "$NS_C" "$IF_C" out "$pcap"
	traffic
	tapcat_stop "$part" && ok=1 || ok=0
	tcpdump_stop "$pcap"
	if ((ok)) && window "$part" "$pcap"; then
		for fl in udp p5005; do
			check_reader "$part" "$fl"
		done
		all=$(ff_pcap_count "$WIN")
		t_check "$part: flow all: kernel accepted == capture" "$all" "$(j "flow('all')['kernel_packets']")"
		t_check "$part: flow all: read nothing, holds its $STALL_IBUF oldest (received, queued, capacity)" \
			"0 $STALL_IBUF $STALL_IBUF $STALL_IBUF" \
			"$(j "flow('all')['packets']") $(j "flow('all')['received']") $(j "flow('all')['queued']") $(j "flow('all')['capacity']")"
		t_check "$part: flow all: dropped == accepted - $STALL_IBUF" "$((all - STALL_IBUF))" \
			"$(j "flow('all')['dropped']")"
		# The stalled IBuf took the first 64 packets of the window; a frame is
		# stored when at least one IBuf took its packet.
		head_win=$FF_TMP/$part.head.pcap
		ff_pcap_slice "$WIN" "$head_win" 1 "$STALL_IBUF"
		udp=$(ff_pcap_count "$WIN" udp)
		stored=$((udp + $(ff_pcap_count "$head_win" 'not udp')))
		t_check "$part: PBuf frames stored == udp packets + non-udp among the stalled flow's $STALL_IBUF" \
			"$stored" "$(j "j['pbuf']['stored']")"
		t_check "$part: PBuf descriptors == received, all flows" \
			"$((STALL_IBUF + udp + U5005))" "$(j "j['pbuf']['descs']")"
		t_check "$part: frames held at exit == the stalled IBuf's $STALL_IBUF (no leak)" \
			"$STALL_IBUF" "$(j "j['pbuf']['in_use']")"
		check_datapath "$part"
		t_check "$part: root: tap_redirected == matched == records read" "$all $all $all" \
			"$(j "j['root']['tap_redirected']") $(j "j['root']['matched']") $(j "j['rx']['records']")"
	fi
else
	t_fail "$part: ffpf-tapcat with a stalled flow" "$(tail -n 5 "$TC_ERR")"
fi

# --- 3. copy mode on ingress, snaplen 64 ---------------------------------------
part=copy
pcap=$FF_TMP/$part.pcap
sink0=$(udp_sink_count 5005)
if tapcat_start "$part" "$NS_S" "$IF_S" --mode copy --snaplen "$SNAP"; then
	t_pass "$part: ffpf-tapcat: 3 flows, copy mode on $IF_S, snaplen $SNAP"
	capture_start "$NS_S" "$IF_S" in "$pcap"
	traffic
	tapcat_stop "$part" && ok=1 || ok=0
	tcpdump_stop "$pcap"
	if ((ok)) && window "$part" "$pcap"; then
		for fl in all udp p5005; do
			check_reader "$part" "$fl"
		done
		t_check "$part: flow bytes (wire) == capture bytes (all)" \
			"$(ff_pcap_stats "$WIN" | cut -d' ' -f2)" "$(j "flow('all')['bytes']")"
		t_check "$part: bytes captured == sum of min(len, $SNAP) (all)" \
			"$(tshark -r "$WIN" -T fields -e frame.len 2>/dev/null |
				awk -v s="$SNAP" '{ t += ($1 < s ? $1 : s) } END { print t + 0 }')" \
			"$(j "flow('all')['captured']")"
		matched=$(ff_pcap_count "$WIN")
		descs=$((matched + $(ff_pcap_count "$WIN" udp) + $(ff_pcap_count "$WIN" 'udp dst port 5005')))
		t_check "$part: PBuf frames stored == packets (one copy each)" "$matched" "$(j "j['pbuf']['stored']")"
		t_check "$part: PBuf descriptors == sum over flows" "$descs" "$(j "j['pbuf']['descs']")"
		t_check "$part: distinct seq == packets stored" "$matched" "$(j "j['seq']['distinct']")"
		t_check "$part: ring buffer: records read == copied == matched, none lost" \
			"$matched $matched $matched 0" \
			"$(j "j['rx']['records']") $(j "j['root']['copied']") $(j "j['root']['matched']") $(j "j['root']['copy_lost']")"
		t_check "$part: snaplen in the datapath" "$SNAP" "$(j "j['rx']['snaplen']")"
		t_check "$part: no frame held at exit" 0 "$(j "j['pbuf']['in_use']")"
		check_datapath "$part"
		t_check "$part: nothing redirected" 0 "$(j "j['root']['tap_redirected']")"
		udp_wait_count 5005 $((sink0 + U5005)) 5 || true
		t_check "$part: the server's UDP sink got every datagram (packets pass on)" \
			"$((sink0 + U5005))" "$(udp_sink_count 5005)"
	fi
else
	t_fail "$part: ffpf-tapcat: 3 flows, copy mode on $IF_S" "$(tail -n 5 "$TC_ERR")"
fi

# --- 4. copy mode on the client's egress (TC) ----------------------------------
part=egress
pcap=$FF_TMP/$part.pcap
sink0=$(udp_sink_count 5005)
if tapcat_start "$part" "$NS_C" "$IF_C" --mode copy --hook egress; then
	t_pass "$part: ffpf-tapcat: 3 flows, copy mode on $IF_C egress"
	capture_start "$NS_C" "$IF_C" out "$pcap"
	traffic
	tapcat_stop "$part" && ok=1 || ok=0
	tcpdump_stop "$pcap"
	if ((ok)) && window "$part" "$pcap"; then
		for fl in all udp p5005; do
			check_reader "$part" "$fl"
		done
		matched=$(ff_pcap_count "$WIN")
		t_check "$part: flow bytes == capture bytes (all)" \
			"$(ff_pcap_stats "$WIN" | cut -d' ' -f2)" "$(j "flow('all')['bytes']")"
		t_check "$part: PBuf frames stored == packets (one copy each)" "$matched" "$(j "j['pbuf']['stored']")"
		t_check "$part: ring buffer: records read == copied == matched, none lost" \
			"$matched $matched $matched 0" \
			"$(j "j['rx']['records']") $(j "j['root']['copied']") $(j "j['root']['matched']") $(j "j['root']['copy_lost']")"
		t_check "$part: no frame held at exit" 0 "$(j "j['pbuf']['in_use']")"
		check_datapath "$part"
		udp_wait_count 5005 $((sink0 + U5005)) 5 || true
		t_check "$part: the server's UDP sink got every datagram" \
			"$((sink0 + U5005))" "$(udp_sink_count 5005)"
	fi
else
	t_fail "$part: ffpf-tapcat: 3 flows, copy mode on $IF_C egress" "$(tail -n 5 "$TC_ERR")"
fi

# --- after exit: nothing attached, traffic back to normal ----------------------
t_check "no XDP program on $IF_S after exit" "" "$(ff_xdp_prog "$NS_S" "$IF_S")"
if ff_has_xdp "$NS_S" "$IF_S"; then
	t_fail "ip -d link: no xdp mention" "$(ip -n "$NS_S" -d link show "$IF_S")"
else
	t_pass "ip -d link: no xdp mention"
fi
if ns_c ping -c 3 -i 0.1 -W 2 -q "$IP_S" >/dev/null; then
	t_pass "ping works again after exit"
else
	t_fail "ping works again after exit"
fi
sink0=$(udp_sink_count 5005)
udp_send 5 5005
udp_wait_count 5005 $((sink0 + 5)) 5 || true
t_check "UDP reaches the server's stack again" $((sink0 + 5)) "$(udp_sink_count 5005)"

t_summary
