#!/usr/bin/env bash
# Integration test: the Python binding (python/, tests/python/) with
# Debian's pytest, as root, on real traffic in a namespace pair of its own.
#
# Builds the extension if needed (make python), makes the namespaces with
# tests/lib/netns.sh (its trap removes them and every process in them,
# whatever happens), and runs `/usr/bin/python3 -m pytest tests/python`
# in the server namespace's network context with their names in FF_*.
# pytest's summary becomes this script's closing "N passed, N failed" line
# (errors count as failures; no test collected is a failure).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$ROOT/tests/lib/ffpf.sh"

PY=/usr/bin/python3
ff_need_root_and_tools tcpdump bpftool
if ! "$PY" -c 'import pytest' 2>/dev/null; then
	t_fail "prerequisites" "pytest missing for $PY (run 'make deps': python3-pytest)"
	t_summary; exit 1
fi
if ! make -C "$ROOT" --no-print-directory -s python PYTHON="$PY" >"/tmp/ffpy-make.$$" 2>&1; then
	t_fail "make python" "$(tail -n 20 "/tmp/ffpy-make.$$")"
	rm -f "/tmp/ffpy-make.$$"
	t_summary; exit 1
fi
rm -f "/tmp/ffpy-make.$$"

ffpf_setup
export FF_PREFIX NS_C NS_S IF_C IF_S IP_C IP_S FF_TMP
export FF_NS_C=$NS_C FF_NS_S=$NS_S FF_IF_C=$IF_C FF_IF_S=$IF_S FF_IP_C=$IP_C FF_IP_S=$IP_S
export PYTHONDONTWRITEBYTECODE=1

log=$FF_TMP/pytest.log
rc=0
(cd "$ROOT" && "$PY" -m pytest -v -s -p no:cacheprovider -o faulthandler_timeout=300 \
	tests/python) 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}

# "== 3 failed, 10 passed, 1 skipped, 2 errors in 80.12s (0:01:20) =="
summary=$(grep -E '^=+ .*(passed|failed|error|skipped|no tests ran).* in [0-9.]+s' "$log" | tail -n1 || true)
count() { sed -n "s/.* \([0-9][0-9]*\) $1.*/\1/p" <<<" ${summary//,/ ,}" | head -n1; }
T_PASSED=$(count passed); T_PASSED=${T_PASSED:-0}
n_fail=$(count failed); n_err=$(count error); n_skip=$(count skipped)
T_FAILED=$((${n_fail:-0} + ${n_err:-0}))
# shellcheck disable=SC2034 # read by t_summary
T_SKIPPED=${n_skip:-0}
if [[ -z "$summary" ]]; then
	t_fail "pytest" "no pytest summary line (exit status $rc)"
elif ((T_PASSED + T_FAILED == 0)); then
	t_fail "pytest" "no test collected"
elif ((rc != 0 && T_FAILED == 0)); then
	t_fail "pytest" "exit status $rc"
fi

# make install + install-python into a staging root: the installed module
# is the installed library's (ldd), and the API tests pass with it.
STAGE=$FF_TMP/stage
if make -C "$ROOT" --no-print-directory -s install install-python PYTHON="$PY" \
	DESTDIR="$STAGE" PREFIX=/usr >"$FF_TMP/install.log" 2>&1; then
	t_pass "make install install-python DESTDIR PREFIX=/usr"
else
	t_fail "make install install-python DESTDIR PREFIX=/usr" "$(tail -n 5 "$FF_TMP/install.log")"
fi
pydir=$STAGE/usr/lib/python3/dist-packages
exts=("$pydir"/ffpf/_ffpf*.so)
ext=${exts[0]}
n=0
for f in __init__.py __init__.pyi py.typed "$(basename "$ext")"; do
	[[ -f "$pydir/ffpf/$f" ]] && n=$((n + 1))
done
t_check "installed: ffpf/__init__.py, __init__.pyi, py.typed, extension" 4 "$n"
t_check "installed extension uses the installed library" 1 \
	"$(LD_LIBRARY_PATH=$STAGE/usr/lib ldd "$ext" 2>/dev/null | grep -c "$STAGE/usr/lib/libffpfbpf.so.0" || true)"
if (cd "$ROOT" && FFPF_PYPATH=$pydir LD_LIBRARY_PATH=$STAGE/usr/lib "$PY" -m pytest -q \
	-p no:cacheprovider tests/python/test_flow.py) >"$FF_TMP/installed.log" 2>&1 &&
	FFPF_PYPATH=$pydir LD_LIBRARY_PATH=$STAGE/usr/lib "$PY" -c \
		'import sys; sys.path.insert(0, sys.argv[1]); import ffpf; assert ffpf.__file__.startswith(sys.argv[1])' "$pydir"; then
	t_pass "tests/python/test_flow.py with the installed module: $(tail -n1 "$FF_TMP/installed.log")"
else
	t_fail "tests/python/test_flow.py with the installed module" "$(tail -n 5 "$FF_TMP/installed.log")"
fi
t_summary
