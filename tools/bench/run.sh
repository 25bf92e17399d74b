#!/usr/bin/env bash
# shellcheck disable=SC2317 # the scenarios are called through $fn
# tools/bench/run.sh - `make bench`: ffpf-bpf against the alternatives, in
# one run, on the same traffic (docs/performance.md explains every row).
#
#   bash tools/bench/run.sh            (root; `make bench` builds first)
#
# Environment: BENCH_RUNS (rounds, default 3), BENCH_COUNT (frames per
# measurement, default 1000000), BENCH_SIZES (frame lengths without FCS,
# default "60 1514": 64-byte frames on the wire and 1500-byte IP packets),
# BENCH_APPS (default "1 4 16"; N applications get BENCH_COUNT / N frames,
# at least 100000), BENCH_KERNEL=0 skips group 5,
# BENCH_OUT (default build/bench).
#
# One namespace pair (tests/lib/netns.sh) joined by a veth: build/ffpf-gen
# sends from the client end (XDP live frames, 1024 UDP flows) pinned to CPU
# 0; everything that receives runs on the server end, its user space pinned
# to CPU 1. The peer's XDP and NAPI work runs on CPU 0, inside the
# generator's test runs, so the generator's rate is what the receiving
# kernel side sustains, and what user space gets of it is counted by each
# application itself. Every scenario runs once per round, rounds
# interleave the scenarios, the report takes medians.
#
# Output: BENCH_OUT/raw.jsonl (one line per measurement), results.md,
# results.json, apps.dat and apps.png (gnuplot, if installed).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=tests/lib/ffpf.sh
source "$ROOT/tests/lib/ffpf.sh"

RUNS=${BENCH_RUNS:-3}
COUNT=${BENCH_COUNT:-1000000}
read -r -a SIZES <<<"${BENCH_SIZES:-60 1514}"
read -r -a APPS <<<"${BENCH_APPS:-1 4 16}"
OUTDIR=${BENCH_OUT:-$ROOT/build/bench}
GEN=$ROOT/build/ffpf-gen
BARE=$ROOT/build/bench/bare-rx
FFPF_BIN=$ROOT/build/ffpf-bpf
RAW=$OUTDIR/raw.jsonl
FLOWS=1024
T0=$(date +%s)

die() {
	echo "bench: $*" >&2
	exit 1
}
log() { echo "bench: [$(($(date +%s) - T0))s] $*" >&2; }

[[ $(id -u) -eq 0 ]] || die "needs root (BPF, XDP, namespaces): sudo make bench"
for f in "$GEN" "$BARE" "$FFPF_BIN"; do
	[[ -x "$f" ]] || die "$f not built: run 'make bench' (it builds first)"
done
for c in tcpdump ethtool taskset nsenter "$FF_PYTHON"; do
	command -v "$c" >/dev/null || die "$c not found: run 'bash tools/deps.sh bench'"
done
HAVE_XDPDUMP=0
command -v xdpdump >/dev/null && HAVE_XDPDUMP=1
mkdir -p "$OUTDIR"
: >"$RAW"

ffpf_setup || die "could not create the namespaces"
ns_c sysctl -qw "net.ipv6.conf.$IF_C.disable_ipv6=1"
ns_s sysctl -qw "net.ipv6.conf.$IF_S.disable_ipv6=1"
# the receiving veth takes XDP frames without an XDP program of its own
ns_s ethtool -K "$IF_S" gro on >/dev/null

# ffpf-bpf with its user space on CPU 1: ffpf_start runs "$FFPF" (exec
# keeps the pid, so signals still reach ffpf-bpf itself).
cat >"$FF_TMP/ffpf-cpu1" <<EOF
#!/bin/sh
exec taskset -c 1 "$FFPF_BIN" "\$@"
EOF
chmod +x "$FF_TMP/ffpf-cpu1"
FFPF=$FF_TMP/ffpf-cpu1 # read by tests/lib/ffpf.sh
export FFPF
# one "file" per flow, each /dev/null: -w $NULLDIR/%f
NULLDIR=$FF_TMP/null
mkdir -p "$NULLDIR"
for ((k = 1; k <= 64; k++)); do ln -sf /dev/null "$NULLDIR/a$k"; done

# --- measuring ---------------------------------------------------------------

# gen SIZE [FRAMES]: send COUNT (or FRAMES) frames; GEN_JSON = its JSON
# line (empty on failure).
gen() {
	GEN_JSON=$(ns_c taskset -c 0 "$GEN" -i "$IF_C" -n "${2:-$COUNT}" -s "$1" --flows "$FLOWS" \
		--json 2>"$FF_TMP/gen.err") || GEN_JSON=""
	[[ -n "$GEN_JSON" ]] || log "ffpf-gen failed: $(cat "$FF_TMP/gen.err")"
	sleep 0.3	# user space drains what the kernel handed over
}

# record GROUP SCENARIO SIZE RUN NAPPS DELIVERED_CSV [ERROR]: one raw line.
record() {
	"$FF_PYTHON" - "$RAW" "$GEN_JSON" "$@" <<'EOF'
import json, sys
raw, gen, group, scen, size, run, napps, delivered = sys.argv[1:9]
err = sys.argv[9] if len(sys.argv) > 9 else ""
g = json.loads(gen) if gen else {}
d = [int(x) for x in delivered.split(",") if x != ""]
line = {"group": int(group), "scenario": scen, "size": int(size), "run": int(run),
        "apps": int(napps), "sent": g.get("sent"), "seconds": g.get("seconds"),
        "gen_pps": g.get("pps"), "refused": g.get("refused"), "delivered": d,
        "error": err or None}
if not g and not err:
    line["error"] = "ffpf-gen failed"
open(raw, "a").write(json.dumps(line) + "\n")
EOF
}

# bare_start MODE / bare_stop: bench/bare-rx; BARE_JSON = its summary.
bare_start() {
	ns_bg "$NS_S" "$FF_TMP/bare.log" taskset -c 1 "$BARE" -i "$IF_S" "$1"
	BARE_PID=$FF_LAST_PID
	wait_for "grep -q ready '$FF_TMP/bare.log'" 10 || {
		log "bare-rx $1: $(cat "$FF_TMP/bare.log")"
		return 1
	}
}
bare_stop() {
	kill -INT "$BARE_PID" 2>/dev/null
	wait "$BARE_PID" 2>/dev/null
	BARE_JSON=$(grep '^{' "$FF_TMP/bare.log" || true)
}
bare_field() { ff_json - "j['$1']" <<<"$BARE_JSON"; }

# ffpf_field NAME EXPR: from run NAME's JSON summary.
ffpf_field() { ff_json "$FF_TMP/$1.out" "$2"; }

# ffpf_captured NAME: the flows' captured counts, comma-separated.
ffpf_captured() {
	ff_json "$FF_TMP/$1.out" '",".join(str(f.get("captured", 0)) for f in j["flows"])'
}

# tcpdump_n N: start N tcpdumps, app k with the filter of flow k.
TD_PIDS=()
tcpdump_n() {
	local n=$1 k
	TD_PIDS=()
	for ((k = 1; k <= n; k++)); do
		ip netns exec "$NS_S" taskset -c 1 tcpdump -i "$IF_S" -nn -Z root -w /dev/null \
			"udp and src portrange 1024-$((2047 + k))" \
			>/dev/null 2>"$FF_TMP/td$k.err" </dev/null &
		TD_PIDS+=("$!")
		_FF_PIDS+=("$!")
	done
	for ((k = 1; k <= n; k++)); do
		wait_for "grep -q 'listening on' '$FF_TMP/td$k.err'" 10 ||
			{ log "tcpdump $k: $(cat "$FF_TMP/td$k.err")"; return 1; }
	done
}
# tcpdump_stop_all: stop them; prints the captured counts, comma-separated.
tcpdump_stop_all() {
	local pid k out=""
	for pid in "${TD_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null; done
	for pid in "${TD_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	for ((k = 1; k <= ${#TD_PIDS[@]}; k++)); do
		out+="${out:+,}$(sed -n 's/^\([0-9]*\) packets\? captured$/\1/p' "$FF_TMP/td$k.err")"
	done
	TD_PIDS=()
	echo "$out"
}

# apps_frames N: frames for N applications: COUNT / N, at least 100000
# (16 tcpdumps take a tenth of the rate: the same time, not 16 times it)
apps_frames() {
	local f=$((COUNT / $1))
	((f >= 100000)) || f=100000
	((f <= COUNT)) || f=$COUNT
	echo "$f"
}

# ffpf_flows_args N: --flow aK=match(udp, src port 1024-(2047+K)) for K=1..N
ffpf_flow_args() {
	local k
	for ((k = 1; k <= $1; k++)); do
		printf -- '--flow\na%d=match(udp, src port 1024-%d)\n' "$k" $((2047 + k))
	done
}

# --- the scenarios: each starts its receivers, generates, records -----------

s_drop() {	# group 1: bare XDP_DROP counter
	bare_start drop || { record 1 drop "$1" "$2" 1 "" "bare-rx failed"; return; }
	gen "$1"
	bare_stop
	record 1 drop "$1" "$2" 1 "$(bare_field xdp)"
}
s_pass() {	# group 4's reference: bare XDP_PASS counter
	bare_start pass || { record 4 pass "$1" "$2" 1 "" "bare-rx failed"; return; }
	gen "$1"
	bare_stop
	record 4 pass "$1" "$2" 1 "$(bare_field xdp)"
}
s_xsk() {	# group 1: bare AF_XDP copy-mode receiver
	bare_start xsk || { record 1 xsk "$1" "$2" 1 "" "bare-rx failed"; return; }
	gen "$1"
	bare_stop
	record 1 xsk "$1" "$2" 1 "$(bare_field received)"
}
s_ffpf_mode() {	# group 2: one ffpf-bpf flow, tap or copy; $3 = mode
	local mode=$3
	if ! ffpf_start "$NS_S" one -i "$IF_S" "--$mode" -w /dev/null -q --json \
		--flow 'a1=match(udp, src port 1024-2048)' 2>/dev/null; then
		record 2 "ffpf-$mode" "$1" "$2" 1 "" "ffpf-bpf run --$mode failed to start"
		return
	fi
	gen "$1"
	ffpf_stop one
	record 2 "ffpf-$mode" "$1" "$2" 1 "$(ffpf_captured one)"
}
s_ffpf_tap() { s_ffpf_mode "$1" "$2" tap; }
s_ffpf_copy() { s_ffpf_mode "$1" "$2" copy; }
s_tcpdump() {	# group 2: one tcpdump
	tcpdump_n 1 || { tcpdump_stop_all >/dev/null; record 2 tcpdump "$1" "$2" 1 "" "tcpdump failed"; return; }
	gen "$1"
	record 2 tcpdump "$1" "$2" 1 "$(tcpdump_stop_all)"
}
s_xdpdump() {	# group 2: xdpdump on a bare XDP_PASS program
	local pid n err
	if ((!HAVE_XDPDUMP)); then
		record 2 xdpdump "$1" "$2" 1 "" "xdpdump not installed (apt-get install xdp-tools)"
		return
	fi
	bare_start pass || { record 2 xdpdump "$1" "$2" 1 "" "bare-rx failed"; return; }
	ip netns exec "$NS_S" taskset -c 1 xdpdump -i "$IF_S" -w /dev/null \
		>"$FF_TMP/xd.out" 2>"$FF_TMP/xd.err" </dev/null &
	pid=$!
	_FF_PIDS+=("$pid")
	if ! wait_for "grep -qi 'listening on' '$FF_TMP/xd.err' '$FF_TMP/xd.out'" 5 ||
		! kill -0 "$pid" 2>/dev/null; then
		kill -INT "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		err=$(grep -h -m1 'ERROR' "$FF_TMP/xd.err" "$FF_TMP/xd.out" || true)
		bare_stop
		GEN_JSON='{}'
		record 2 xdpdump "$1" "$2" 1 "" "xdpdump did not start: ${err:-no 'listening' line}"
		return
	fi
	gen "$1"
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	bare_stop
	n=$(sed -n 's/^\([0-9]*\) packets\? captured.*/\1/p' "$FF_TMP/xd.err" "$FF_TMP/xd.out" | head -n1)
	record 2 xdpdump "$1" "$2" 1 "${n:-0}"
}
s_apps_ffpf() {	# group 3: N flows in one ffpf-bpf process (copy mode); $3 = N
	local n=$3
	local -a fa
	mapfile -t fa < <(ffpf_flow_args "$n")
	if ! ffpf_start "$NS_S" apps -i "$IF_S" --copy -w "$NULLDIR/%f" -q --json "${fa[@]}" \
		2>/dev/null; then
		record 3 "ffpf-$n" "$1" "$2" "$n" "" "ffpf-bpf run failed to start"
		return
	fi
	gen "$1" "$(apps_frames "$n")"
	ffpf_stop apps
	record 3 "ffpf-$n" "$1" "$2" "$n" "$(ffpf_captured apps)"
}
s_apps_group() {	# group 3: N ffpf-bpf processes, one flow group, through the daemon
	local n=$3 k sock=$FF_TMP/daemon.sock dpid out="" ok=1
	nsenter --net="/run/netns/$NS_S" -- taskset -c 1 "$FFPF_BIN" daemon --socket "$sock" -q \
		>"$FF_TMP/daemon.out" 2>"$FF_TMP/daemon.err" </dev/null &
	dpid=$!
	_FF_PIDS+=("$dpid")
	if ! wait_for "grep -q ready '$FF_TMP/daemon.out'" 10; then
		kill -TERM "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
		GEN_JSON='{}'
		record 3 "group-$n" "$1" "$2" "$n" "" "daemon did not start: $(head -c 200 "$FF_TMP/daemon.err")"
		return
	fi
	for ((k = 1; k <= n; k++)); do
		if ! FFPF_DAEMON=$sock ffpf_start "$NS_S" "g$k" -i "$IF_S" --group bench --copy \
			-w /dev/null -q --json --flow "a$k=match(udp, src port 1024-$((2047 + k)))" \
			2>/dev/null; then
			ok=0
			break
		fi
	done
	if ((ok)); then
		gen "$1" "$(apps_frames "$n")"
	else
		GEN_JSON='{}'
	fi
	for ((k = 1; k <= n; k++)); do
		[[ -n "$(ffpf_pid "g$k")" ]] || continue
		ffpf_stop "g$k"
		out+="${out:+,}$(ffpf_captured "g$k" 2>/dev/null)"
	done
	kill -TERM "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	if ((ok)); then
		record 3 "group-$n" "$1" "$2" "$n" "$out"
	else
		record 3 "group-$n" "$1" "$2" "$n" "" "client $k did not start: $(tail -n 1 "$FF_TMP/g$k.err")"
	fi
}
s_apps_tcpdump() {	# group 3: N tcpdump processes
	local n=$3
	tcpdump_n "$n" || { tcpdump_stop_all >/dev/null; record 3 "tcpdump-$n" "$1" "$2" "$n" "" "tcpdump failed"; return; }
	gen "$1" "$(apps_frames "$n")"
	record 3 "tcpdump-$n" "$1" "$2" "$n" "$(tcpdump_stop_all)"
}
s_count() {	# group 4: statistics only, a counting flow; $3 = "--monitor" or empty
	local scen=count${3:+-monitor}
	if ! ffpf_start "$NS_S" cnt -i "$IF_S" -q --json ${3:+"$3"} --flow 'c=match(udp) -> count' \
		2>/dev/null; then
		record 4 "$scen" "$1" "$2" 1 "" "ffpf-bpf run ${3:-} failed to start"
		return
	fi
	gen "$1"
	ffpf_stop cnt
	record 4 "$scen" "$1" "$2" 1 "$(ffpf_field cnt 'flow("c")["packets"]')"
}
s_count_monitor() { s_count "$1" "$2" --monitor; }
s_flowtrack() {	# group 4: statistics only, ffpf-bpf flows (flow records); $3 as s_count
	local scen=flowtrack${3:+-monitor}
	if ! ff_flows_start ft --no-top -q -o /dev/null ${3:+"$3"} 2>/dev/null; then
		record 4 "$scen" "$1" "$2" 1 "" "ffpf-bpf flows ${3:-} failed to start: $(tail -n 1 "$FF_TMP/ft.err")"
		return
	fi
	gen "$1"
	ffpf_stop ft
	# it writes records, not packets: its rate is the kernel side's
	record 4 "$scen" "$1" "$2" 1 ""
}
s_flowtrack_monitor() { s_flowtrack "$1" "$2" --monitor; }

# --- the plan: every round runs every scenario, in the same order ----------
PLAN=()
for size in "${SIZES[@]}"; do
	PLAN+=("s_drop $size" "s_xsk $size" "s_ffpf_tap $size" "s_ffpf_copy $size"
		"s_tcpdump $size" "s_xdpdump $size" "s_pass $size" "s_count $size"
		"s_flowtrack $size" "s_count_monitor $size" "s_flowtrack_monitor $size")
	for n in "${APPS[@]}"; do
		PLAN+=("s_apps_ffpf $size $n" "s_apps_group $size $n" "s_apps_tcpdump $size $n")
	done
done

log "${#PLAN[@]} measurements x $RUNS rounds, $COUNT frames each, $FLOWS flows; prefix $FF_PREFIX"
for ((run = 1; run <= RUNS; run++)); do
	for step in "${PLAN[@]}"; do
		read -r fn size n <<<"$step"
		log "round $run: ${fn#s_} $size ${n:-}"
		"$fn" "$size" "$run" ${n:+"$n"}
	done
done

# --- group 5: in-kernel ns/packet (BPF_PROG_TEST_RUN) ------------------------
if [[ "${BENCH_KERNEL:-1}" != 0 ]]; then
	log "group 5: ffpf-nsbench, ffpf-ftbench, ffpf-plbench"
	"$ROOT/build/ffpf-nsbench" "$RUNS" 1000000 >"$OUTDIR/nsbench.txt" 2>&1 ||
		log "ffpf-nsbench failed (see $OUTDIR/nsbench.txt)"
	"$ROOT/build/ffpf-ftbench" "$RUNS" 1000000 >"$OUTDIR/ftbench.txt" 2>&1 ||
		log "ffpf-ftbench failed (see $OUTDIR/ftbench.txt)"
	"$ROOT/build/ffpf-plbench" "$RUNS" 200000 >"$OUTDIR/plbench.txt" 2>&1 ||
		log "ffpf-plbench failed (see $OUTDIR/plbench.txt)"
fi

ns_cleanup
log "report"
"$FF_PYTHON" "$ROOT/tools/bench/report.py" "$OUTDIR" "$COUNT" "$RUNS" "$FLOWS" \
	"bash tools/bench/run.sh (make bench) BENCH_RUNS=$RUNS BENCH_COUNT=$COUNT BENCH_SIZES='${SIZES[*]}' BENCH_APPS='${APPS[*]}'"
rc=$?
log "done in $(($(date +%s) - T0)) s: $OUTDIR/results.md"
exit $rc
