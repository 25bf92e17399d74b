#!/usr/bin/env bash
# Fuzz smoke (issue 5): build the libFuzzer targets (make fuzz), replay each
# target's committed seeds, then fuzz all targets for FUZZ_SMOKE_SECONDS
# (default 20) in total with tests/fuzz/run.sh. Any sanitizer report or
# broken invariant fails. Longer runs: docs/fuzzing.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/netns.sh
source "$ROOT/tests/lib/netns.sh"
cd "$ROOT"

secs=${FUZZ_SMOKE_SECONDS:-20}
log=$(mktemp /tmp/ffpf-fuzz.XXXXXX)
trap 'rm -f "$log"' EXIT

if make --no-print-directory -s fuzz >"$log" 2>&1; then
	t_pass "fuzz targets build (make fuzz)"
else
	t_fail "fuzz targets build (make fuzz)" "$(tail -n 20 "$log")"
	t_summary
	exit 1
fi

targets=()
for src in tests/fuzz/fuzz_*.c; do
	targets+=("$(basename "$src" .c)")
done

# Every seed once, as a regression run (e.g. the misaligned MBuf access
# UBSan found in the configure step).
for t in "${targets[@]}"; do
	seeds=tests/fuzz/corpus/${t#fuzz_}
	if [[ ! -d "$seeds" ]]; then
		t_skip "$t replays its seeds" "no $seeds"
		continue
	fi
	n=$(find "$seeds" -type f | wc -l)
	if build/fuzz/"$t" -runs=0 "$seeds" >"$log" 2>&1 &&
		! grep -qE '^==[0-9]+==ERROR|runtime error:|invariant broken' "$log"; then
		t_pass "$t replays its $n seeds clean"
	else
		t_fail "$t replays its $n seeds clean" "$(grep -E -A20 'ERROR|runtime error:|invariant broken' "$log" | head -n 30)"
	fi
done

bash tests/fuzz/run.sh "$secs" >"$log" 2>&1 || true
cat "$log"
for t in "${targets[@]}"; do
	line=$(grep -E "^$t: " "$log" || true)
	runs=$(sed -n 's/.*: ok, \([0-9]*\) runs.*/\1/p' <<<"$line")
	if [[ -n "$runs" ]] && ((runs > 0)); then
		t_pass "$t fuzzed without a crash ($runs runs)"
	else
		t_fail "$t fuzzed without a crash" "${line:-no result line}"
	fi
done
t_summary
