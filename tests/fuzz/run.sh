#!/usr/bin/env bash
# tests/fuzz/run.sh - run the libFuzzer targets built by `make fuzz`.
#
#   bash tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS (default 30) is the total, shared out evenly between the targets
# (all of build/fuzz/fuzz_*, or the ones named: "spec" or "fuzz_spec").
# Target fuzz_NAME starts from its seeds in tests/fuzz/corpus/NAME/ and
# uses tests/fuzz/NAME.dict when they exist; inputs it finds are kept in
# build/fuzz/corpus/NAME/ (so a later run resumes from them, the seeds
# stay as committed), crash reproducers go to build/fuzz/crashes/.
# Environment: FUZZ_JOBS=N runs N workers per target at once on the same
# corpus directory (what libFuzzer's -jobs does; each picks up the others'
# finds), logs build/fuzz/NAME.W.log; FUZZ_ARGS adds libFuzzer options.
#
# Prints one line per target: "fuzz_NAME: ok, R runs in S s (E exec/s),
# cov C ft F, corpus N" (runs and exec/s summed over the workers, the rest
# the best worker's) or "fuzz_NAME: FAILED ..." with the crash's report
# above it. Exit status: 0 when every target ran without a crash, 1 otherwise.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
OUTDIR=build/fuzz
secs=${1:-30}
shift $(($# ? 1 : 0))
jobs=${FUZZ_JOBS:-1}

if ! [[ "$secs" =~ ^[0-9]+$ ]] || ((secs < 1)); then
	echo "usage: $0 [SECONDS] [TARGET...]" >&2
	exit 2
fi

targets=()
if (($#)); then
	for t in "$@"; do
		t=${t#fuzz_}
		targets+=("$OUTDIR/fuzz_$t")
	done
else
	for t in "$OUTDIR"/fuzz_*; do
		[[ -x "$t" && ! -d "$t" ]] && targets+=("$t")
	done
fi
if ((${#targets[@]} == 0)); then
	echo "run.sh: no fuzz targets in $OUTDIR: build them with 'make fuzz'" >&2
	exit 1
fi
each=$((secs / ${#targets[@]}))
((each > 0)) || each=1

# fz_stat LOG: "runs exec/s cov ft corpus" from a worker's log.
fz_stat() {
	local last runs rate
	# libFuzzer's last status line: "#RUNS <kind> cov: C ft: F corp: N/..."
	last=$(grep -E '^#[0-9]+' "$1" | tail -n1)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -n1)
	[[ -n "$runs" ]] || runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$1" | tail -n1)
	echo "${runs:-0} ${rate:-0} $(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last") \
$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last") $(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")"
}

failed=0
for bin in "${targets[@]}"; do
	name=$(basename "$bin")
	short=${name#fuzz_}
	if [[ ! -x "$bin" ]]; then
		echo "$name: FAILED, $bin is missing: build it with 'make fuzz'"
		failed=1
		continue
	fi
	corpus="$OUTDIR/corpus/$short"
	crashes="$OUTDIR/crashes"
	mkdir -p "$corpus" "$crashes"
	args=(-max_total_time="$each" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
		-artifact_prefix="$crashes/$short-")
	[[ -f tests/fuzz/$short.dict ]] && args+=(-dict="tests/fuzz/$short.dict")
	dirs=("$corpus")
	[[ -d tests/fuzz/corpus/$short ]] && dirs+=("tests/fuzz/corpus/$short")
	pids=() logs=()
	for ((w = 0; w < jobs; w++)); do
		log="$OUTDIR/$short.log"
		((jobs == 1)) || log="$OUTDIR/$short.$w.log"
		logs+=("$log")
		# shellcheck disable=SC2086
		"$bin" "${args[@]}" ${FUZZ_ARGS:-} "${dirs[@]}" >"$log" 2>&1 &
		pids+=($!)
	done
	bad=0
	for ((w = 0; w < jobs; w++)); do
		wait "${pids[w]}" || bad=1
		grep -qE '^==[0-9]+==ERROR|runtime error:|invariant broken' "${logs[w]}" && bad=1
	done
	runs=0 rate=0 cov=0 ft=0 corp=0
	for log in "${logs[@]}"; do
		read -r r e c f n <<<"$(fz_stat "$log")"
		runs=$((runs + r)) rate=$((rate + e))
		((${c:-0} > cov)) && cov=$c
		((${f:-0} > ft)) && ft=$f
		((${n:-0} > corp)) && corp=$n
	done
	summary="$runs runs in $each s ($rate exec/s), cov $cov ft $ft, corpus $corp"
	((jobs == 1)) || summary+=", $jobs workers"
	if ((bad == 0)); then
		echo "$name: ok, $summary"
	else
		for log in "${logs[@]}"; do
			grep -E -A40 'ERROR|runtime error:|invariant broken|deadly signal|Test unit written' \
				"$log" | head -n 80
		done
		echo "$name: FAILED, $summary; logs: ${logs[*]}"
		failed=1
	fi
done
exit "$failed"
