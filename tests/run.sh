#!/usr/bin/env bash
# tests/run.sh - run the ffpf-bpf test suites (`make test` runs this).
#
#   bash tests/run.sh                  unit, BPF and integration suites
#   bash tests/run.sh integration      only tests/integration/*.sh
#   bash tests/run.sh unit bpf         only the Criterion suites
#   bash tests/run.sh test_counts      one integration script (name or path)
#
# Suites: build/tests/unit and build/tests/bpf (Criterion), then every
# tests/integration/*.sh. Each suite's output is shown as it runs; its
# result is read from its own closing line (Criterion's "Synthesis" line,
# the scripts' "N passed, N failed") and the last line printed here is the
# sum over all suites: "N passed, N failed". A suite that is missing, dies
# without a closing line or exits non-zero counts as (at least) one failure.
# Exit status: 0 when nothing failed, 1 otherwise.
#
# Needs root: BPF programs, XDP and network namespaces.
# SUITE_TIMEOUT (seconds, default 600) bounds each suite.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
SUITE_TIMEOUT=${SUITE_TIMEOUT:-600}

if [[ $(id -u) -ne 0 ]]; then
	echo "tests/run.sh: the tests need root (they load BPF programs, attach XDP and" >&2
	echo "create network namespaces): run 'sudo make test' (or sudo bash tests/run.sh)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

# --- which suites --------------------------------------------------------
want_unit=0 want_bpf=0
scripts=()
all_scripts=()
for f in tests/integration/*.sh; do
	[[ -f "$f" ]] && all_scripts+=("$f")
done
if (($# == 0)); then
	want_unit=1 want_bpf=1
	scripts=("${all_scripts[@]}")
fi
for a in "$@"; do
	case $a in
	unit) want_unit=1 ;;
	bpf) want_bpf=1 ;;
	integration) scripts+=("${all_scripts[@]}") ;;
	*)
		f=$a
		[[ -f "$f" ]] || f=tests/integration/${a%.sh}.sh
		if [[ -f "$f" ]]; then
			scripts+=("$f")
		else
			echo "tests/run.sh: unknown suite '$a' (unit, bpf, integration or a tests/integration script)" >&2
			exit 2
		fi
		;;
	esac
done

# --- running and counting --------------------------------------------------
TOTAL_PASSED=0 TOTAL_FAILED=0 TOTAL_SKIPPED=0
RESULTS=()
LOG=$(mktemp /tmp/ffpf-run.XXXXXX)
trap 'rm -f "$LOG"' EXIT

# record NAME PASSED FAILED SKIPPED NOTE
record() {
	TOTAL_PASSED=$((TOTAL_PASSED + $2))
	TOTAL_FAILED=$((TOTAL_FAILED + $3))
	TOTAL_SKIPPED=$((TOTAL_SKIPPED + $4))
	local status=ok
	(($3 == 0)) || status=FAILED
	local line
	line=$(printf '%-28s %-6s %4d passed, %d failed' "$1" "$status" "$2" "$3")
	(($4 == 0)) || line+=", $4 skipped"
	[[ -z "$5" ]] || line+="  ($5)"
	RESULTS+=("$line")
	echo "<== $line"
	echo
}

# run_suite NAME KIND CMD...: KIND is criterion or script.
run_suite() {
	local name=$1 kind=$2 rc line p=0 f=0 s=0 note=""
	shift 2
	echo "==> $name: $*"
	timeout -k 10 "$SUITE_TIMEOUT" "$@" 2>&1 | tee "$LOG"
	rc=${PIPESTATUS[0]}
	if [[ "$kind" == criterion ]]; then
		line=$(sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$LOG" |
			grep -Eo 'Synthesis: Tested: [0-9]+ \| Passing: [0-9]+ \| Failing: [0-9]+ \| Crashing: [0-9]+' |
			tail -n1 || true)
		if [[ "$line" =~ Tested:\ ([0-9]+)\ \|\ Passing:\ ([0-9]+)\ \|\ Failing:\ ([0-9]+)\ \|\ Crashing:\ ([0-9]+) ]]; then
			p=${BASH_REMATCH[2]}
			# Tested = Passing + Failing (crashes are failures too)
			f=$((BASH_REMATCH[1] - BASH_REMATCH[2]))
			((f >= BASH_REMATCH[3])) || f=${BASH_REMATCH[3]}
			((BASH_REMATCH[4] == 0)) || note="${BASH_REMATCH[4]} crashed"
		else
			f=1
			note="no Criterion synthesis line"
		fi
	else
		line=$(sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$LOG" |
			grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' | tail -n1 || true)
		if [[ "$line" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
			p=${BASH_REMATCH[1]}
			f=${BASH_REMATCH[2]}
			s=${BASH_REMATCH[4]:-0}
		else
			f=1
			note="no 'N passed, N failed' line"
		fi
	fi
	if ((rc == 124 || rc == 137)); then
		note+="${note:+; }timed out after ${SUITE_TIMEOUT}s"
		((f > 0)) || f=1
	elif ((rc != 0)); then
		note+="${note:+; }exit status $rc"
		((f > 0)) || f=1
	fi
	record "$name" "$p" "$f" "$s" "$note"
}

# criterion_suite NAME BINARY
criterion_suite() {
	if [[ -x "$2" ]]; then
		run_suite "$1" criterion "$2"
	else
		echo "==> $1: $2"
		echo "FAIL  $2 is missing: build it with 'make tests'"
		record "$1" 0 1 0 "binary missing"
	fi
}

((want_unit)) && criterion_suite unit build/tests/unit
((want_bpf)) && criterion_suite bpf build/tests/bpf
for f in "${scripts[@]}"; do
	run_suite "$(basename "$f" .sh)" script bash "$f"
done

# --- leftovers: reported, not counted (other users of the machine may
# legitimately have namespaces, pins or programs of their own) -------------
left=()
[[ -z "$(ls -A /sys/fs/bpf/ffpf 2>/dev/null)" ]] ||
	left+=("pins under /sys/fs/bpf/ffpf: $(find /sys/fs/bpf/ffpf -mindepth 1 -maxdepth 1 -printf '%f ')")
n=$(bpftool prog list 2>/dev/null | grep -c 'name ffpf' || true)
((n == 0)) || left+=("$n ffpf BPF programs loaded")
n=$(ip netns list 2>/dev/null | grep -Ec '^ff[a-z0-9]{5}[cs]( |$)' || true)
((n == 0)) || left+=("$n test namespaces (ff?????c/s)")
if ((${#left[@]})); then
	echo "note: left on the system after the tests (possibly by another run):"
	printf '  %s\n' "${left[@]}"
fi

echo "==== summary"
printf '  %s\n' "${RESULTS[@]}"
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
((TOTAL_FAILED == 0))
