#!/usr/bin/env bash
# Integration test: copy mode holds records in the kernel's ring while a
# local consumer's IBuf is full (user/lib/rx.c, rx_copy_budget(); docs/api.md,
# "Receiving packets"), with real traffic from build/ffpf-gen and
# tests/integration/c/hold_client.c reading through the public API
# (ffpf_flow_peek_batch / ffpf_flow_release, one thread per flow that is
# read, .rx = FFPF_RX_COPY, .ibuf_size = 64, spec match(udp)).
#
#   1. a slow but steady consumer loses nothing: one flow, IBuf 64, the
#      application reads at most 16 packets and then sleeps 200 us, over and
#      over; bursts of 256 frames (as fast as ffpf-gen sends them, four times
#      the IBuf) arrive far faster than that, but each is read within the
#      20 ms a consumer may hold the engine back. Every frame sent is read,
#      in order (source port sequence and ffpf_packet.seq), none dropped.
#      (The engine before the change, cbd2ab1^, fails this: it dropped what
#      did not fit the IBuf, about two thirds of the frames.)
#   2. a stuck consumer does not stop the others: flows a and b, both
#      match(udp), IBuf 64; a is never read, b is read as fast as it can be;
#      20000 frames over about a second. b reads every one of them, in
#      order; a holds its 64 and every other one of its packets is counted
#      in its dropped (dropped == sent - 64).
#   3. the counts add up, for every flow of both: read + queued + dropped ==
#      matched (ffpf_flow_stats().packets, `run --json`'s received_by_filter),
#      received (descriptors into the IBuf) == read + queued, nothing lost on
#      the way (copy_lost, the kernel's ring full; lost; no_frame: 0), and
#      the engine read every record the kernel wrote (records == copied).
#
# hold_client is stopped with SIGTERM once the traffic is sent; it goes on
# consuming until the engine has read the whole ring and the IBufs it reads
# are empty (10 s at most: drained=1 says it got there), then prints its
# counts. The equalities do not depend on timing; the only time bound in
# play is the engine's own 20 ms (RX_STALL_NS), against which scenario 1
# leaves a wide margin (a burst is read in a few ms).
#
# IPv6 is off on both ends (no stray frames). ffpf-gen's frames go to the
# broadcast MAC and 198.19.0.1, no host here: nothing answers. All traffic
# stays inside the namespaces of tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

GEN=${GEN:-$FF_ROOT/build/ffpf-gen}
IBUF=64
GENFLOWS=64
# scenario 1: BURSTS bursts of BURST frames, GAP seconds apart, for a reader
# of at most 16 packets per 200 us. BURST must be a multiple of GENFLOWS:
# each ffpf-gen run starts its source port sequence over, the reader's
# order check (hold_client GENFLOWS) runs across bursts.
SLOW=slow:16:200
BURSTS=${HOLD_BURSTS:-20}
BURST=${HOLD_BURST:-256}
GAP=${HOLD_GAP:-0.1}
# scenario 2: STUCK_N frames at STUCK_RATE a second
STUCK_N=${HOLD_STUCK_N:-20000}
STUCK_RATE=${HOLD_STUCK_RATE:-20000}

ff_need_root_and_tools ethtool cc pkg-config
if [[ ! -x "$GEN" ]]; then
	t_fail "prerequisites" "$GEN not built: run 'make'"
	t_summary
	exit 1
fi
ffpf_setup
ns_c sysctl -qw "net.ipv6.conf.$IF_C.disable_ipv6=1"
ns_s sysctl -qw "net.ipv6.conf.$IF_S.disable_ipv6=1"
# the receiving veth takes XDP frames (ffpf-gen's live mode) with GRO on,
# as in tools/bench/run.sh (and the root program is attached anyway)
ns_s ethtool -K "$IF_S" gro on >/dev/null

D=$FF_TMP
CLIENT=$D/hold_client
ff_build_c "$HERE/c/hold_client.c" "$CLIENT" || { t_summary; exit 1; }

# client_start NAME FLOWS: hold_client on IF_S in the server namespace,
# output in $D/NAME.out and .err; returns once it printed "ready", or ends
# the test.
CLIENT_PID=
client_start() {
	local name=$1 flows=$2
	nsenter --net="/run/netns/$NS_S" -- "$CLIENT" "$IF_S" "$flows" "$IBUF" 0 "$GENFLOWS" \
		'match(udp)' >"$D/$name.out" 2>"$D/$name.err" </dev/null &
	CLIENT_PID=$!
	_FF_PIDS+=("$CLIENT_PID")
	if wait_for "grep -q '^ready' '$D/$name.out' || ! kill -0 $CLIENT_PID 2>/dev/null" \
		"$FF_START_TIMEOUT" && grep -q '^ready' "$D/$name.out"; then
		return 0
	fi
	t_fail "hold_client $flows starts" "$(cat "$D/$name.err")"
	t_summary
	exit 1
}

# client_stop NAME: SIGTERM; it drains (10 s at most) and prints its counts.
client_stop() {
	local name=$1 rc=0
	kill -TERM "$CLIENT_PID" 2>/dev/null || true
	wait_for "! kill -0 $CLIENT_PID 2>/dev/null" 30 || kill -KILL "$CLIENT_PID" 2>/dev/null || true
	wait "$CLIENT_PID" 2>/dev/null || rc=$?
	_ff_forget_pid "$CLIENT_PID"
	sed 's/^/    /' "$D/$name.out"
	[[ ! -s "$D/$name.err" ]] || sed 's/^/    stderr: /' "$D/$name.err"
	if ((rc == 0)) && grep -q '^iface ' "$D/$name.out"; then
		t_pass "hold_client $name: exits cleanly after SIGTERM, counts printed"
	else
		t_fail "hold_client $name exits cleanly" "status $rc: $(tail -n 3 "$D/$name.err")"
	fi
}

# val NAME FLOW|iface KEY: KEY=... of flow FLOW's line (or the iface line) in NAME's output.
val() {
	local line
	if [[ $2 == iface ]]; then
		line=$(grep '^iface ' "$D/$1.out" || true)
	else
		line=$(grep "^flow name=$2 " "$D/$1.out" || true)
	fi
	sed -n "s/.* $3=\\([0-9]*\\).*/\\1/p" <<<" $line"
}

# gen N ARG...: N frames (--exact: all of them through the veth) of 60
# bytes over GENFLOWS UDP flows out of IF_C; adds what went through to SENT.
SENT=0
gen() {
	local n=$1 js sent
	shift
	if ! js=$(ns_c "$GEN" -i "$IF_C" -n "$n" -s 60 --flows "$GENFLOWS" --exact --json "$@" \
		2>"$D/gen.err"); then
		t_fail "ffpf-gen -n $n $*" "$(cat "$D/gen.err")"
		return 1
	fi
	sent=$(ff_json - 'j["sent"]' <<<"$js")
	SENT=$((SENT + sent))
	GEN_LAST=$js
}

# accounting NAME FLOW: scenario 3's checks for one flow of run NAME.
accounting() {
	local name=$1 fl=$2 nread queued dropped matched received lost noframe
	nread=$(val "$name" "$fl" read)
	queued=$(val "$name" "$fl" queued)
	dropped=$(val "$name" "$fl" dropped)
	matched=$(val "$name" "$fl" matched)
	received=$(val "$name" "$fl" received)
	lost=$(val "$name" "$fl" lost)
	noframe=$(val "$name" "$fl" no_frame)
	t_check "$name: flow $fl: read $nread + queued $queued + dropped $dropped == matched $matched" \
		"${matched:-?}" "$((${nread:-0} + ${queued:-0} + ${dropped:-0}))"
	t_check "$name: flow $fl: received into the IBuf $received == read $nread + queued $queued" \
		"${received:-?}" "$((${nread:-0} + ${queued:-0}))"
	t_check "$name: flow $fl: lost on the way (ring full, bad records) and no free PBuf frame: 0 0" \
		"0 0" "$lost $noframe"
}

# engine NAME: every record the kernel wrote was read, none lost for a full ring.
engine() {
	local name=$1 copied copy_lost records drained
	copied=$(val "$name" iface copied)
	copy_lost=$(val "$name" iface copy_lost)
	records=$(val "$name" a records)
	drained=$(val "$name" iface drained)
	t_check "$name: the engine read every record the kernel wrote (records == copied $copied), drained=1" \
		"${copied:-?} 1" "$records $drained"
	t_check "$name: copy_lost (the kernel's ring full): 0" 0 "${copy_lost:-?}"
}

# --- 1. a slow but steady consumer --------------------------------------------
echo "--- 1. slow consumer ($SLOW: at most 16 packets per read, 200 us sleep), IBuf $IBUF," \
	"$BURSTS bursts of $BURST frames"
client_start slow "$SLOW"
SENT=0
BURST_MS=()
for ((i = 0; i < BURSTS; i++)); do
	gen "$BURST" || break
	BURST_MS+=("$(ff_json - '"%.1f" % (j["seconds"] * 1000)' <<<"$GEN_LAST")")
	sleep "$GAP"
done
# not asserted (timing): a burst comes in faster than the reader can take it
# shellcheck disable=SC2017 # whole reads of 16: rounded up on purpose
echo "    sent $SENT; each burst of $BURST took ffpf-gen (ms): ${BURST_MS[*]};" \
	"the reader needs at least $(((BURST + 15) / 16 * 200)) us for one"
sleep 0.2
client_stop slow
nread=$(val slow a read)
t_check "slow: ffpf-gen put all $((BURSTS * BURST)) frames through" "$((BURSTS * BURST))" "$SENT"
t_check "slow: the slow consumer read every frame sent ($SENT), dropped 0" \
	"$SENT 0" "${nread:-?} $(val slow a dropped)"
t_check "slow: in order and none twice (source ports, ffpf_packet.seq): order errors, seq gaps 0 0" \
	"0 0" "$(val slow a order_errors) $(val slow a seq_gaps)"
t_check "slow: flow a matched every frame sent" "$SENT" "$(val slow a matched)"

# --- 2. a stuck consumer next to a fast one -----------------------------------
echo "--- 2. stuck consumer a (never read) and fast consumer b, IBuf $IBUF," \
	"$STUCK_N frames at $STUCK_RATE/s"
client_start stuck stuck,fast
SENT=0
gen "$STUCK_N" --rate "$STUCK_RATE" || true
echo "    sent $SENT: $GEN_LAST"
sleep 0.2
client_stop stuck
t_check "stuck: ffpf-gen put all $STUCK_N frames through" "$STUCK_N" "$SENT"
t_check "stuck: flow b (read as fast as it can be) read every frame sent ($SENT), dropped 0" \
	"$SENT 0" "$(val stuck b read) $(val stuck b dropped)"
t_check "stuck: flow b in order and none twice: order errors, seq gaps 0 0" \
	"0 0" "$(val stuck b order_errors) $(val stuck b seq_gaps)"
t_check "stuck: flow a (never read) holds its $IBUF, dropped the other $((SENT - IBUF)) (received, queued, dropped)" \
	"$IBUF $IBUF $((SENT - IBUF))" \
	"$(val stuck a received) $(val stuck a queued) $(val stuck a dropped)"
t_check "stuck: both flows matched every frame sent" "$SENT $SENT" \
	"$(val stuck a matched) $(val stuck b matched)"

# --- 3. the counts add up -------------------------------------------------------
echo "--- 3. accounting"
accounting slow a
engine slow
accounting stuck a
accounting stuck b
engine stuck

t_summary
