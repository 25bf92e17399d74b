# shellcheck shell=bash
# tests/lib/ffpf.sh - helpers to drive build/ffpf-bpf from the integration
# tests and the demo, on top of tests/lib/netns.sh (sourced here).
#
# Usage (as root):
#   set -euo pipefail
#   source "$(dirname "$0")/../lib/ffpf.sh"
#   ffpf_setup                              # ns_setup + ffpf cleanup hook
#   ffpf_start "$NS_S" main -i "$IF_S" --flow 'p=match(icmp) -> count' --json
#   ...traffic...
#   ffpf_stop main                          # SIGINT; JSON in $FF_TMP/main.out
#   ff_json "$FF_TMP/main.out" 'flow("p")["packets"]'
#   t_summary
#
# ffpf-bpf is run through `nsenter --net` rather than `ip netns exec`: the
# latter remounts /sys, which hides the bpffs at /sys/fs/bpf, so --pin and
# list/pause/activate/close would not see the real /sys/fs/bpf/ffpf.
#
# Every traffic helper used with these stays inside the namespaces that
# netns.sh creates.

if [[ -n "${_FF_FFPF_LIB_LOADED:-}" ]]; then
	return 0
fi
_FF_FFPF_LIB_LOADED=1

_FF_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/netns.sh
source "$_FF_LIB_DIR/netns.sh"

FF_ROOT=${FF_ROOT:-$(cd "$_FF_LIB_DIR/../.." && pwd)}
FFPF=${FFPF:-$FF_ROOT/build/ffpf-bpf}
FF_PIN_ROOT=/sys/fs/bpf/ffpf
FF_START_TIMEOUT=${FF_START_TIMEOUT:-15}

declare -A _FFPF_PID=()   # run name -> pid of a background `ffpf-bpf run`
declare -A _FFPF_RC=()    # run name -> exit status once stopped
declare -A _FF_TCPDUMP_ERR=() # capture file -> tcpdump stderr file
_FFPF_PIN_IFS=()          # interfaces whose pins ffpf_cleanup must remove

# ---------------------------------------------------------------------------
# prerequisites
# ---------------------------------------------------------------------------

# ff_need_root_and_tools CMD...: exit the test (after a failed check and the
# summary) when not root, when build/ffpf-bpf is missing or when a CMD is
# not installed. Never a silent skip: a missing tool is a failure.
ff_need_root_and_tools() {
	local c missing=()
	if [[ $(id -u) -ne 0 ]]; then
		t_fail "prerequisites" "needs root (BPF, XDP and network namespaces)"
		t_summary
		exit 1
	fi
	if [[ ! -x "$FFPF" ]]; then
		t_fail "prerequisites" "$FFPF not built: run 'make'"
		t_summary
		exit 1
	fi
	for c in ip nsenter "$@"; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	if ((${#missing[@]})); then
		t_fail "prerequisites" "missing: ${missing[*]} (run 'make deps')"
		t_summary
		exit 1
	fi
}

# ffpf_setup: ns_setup plus a cleanup hook that stops our ffpf-bpf runs and
# removes the pins they left (so a failed test leaves nothing behind).
ffpf_setup() {
	ns_setup || return 1
	ns_on_cleanup ffpf_cleanup
}

# ---------------------------------------------------------------------------
# running ffpf-bpf
# ---------------------------------------------------------------------------

# ff_build_c SRC OUT: build a test program (tests/integration/c/) against
# the static library into OUT (mode 755). On failure t_fail says what the
# compiler said, and it returns 1.
ff_build_c() {
	local src=$1 out=$2
	# shellcheck disable=SC2046
	if ! cc -std=gnu11 -Wall -Werror -I"$FF_ROOT/include" "$src" "$FF_ROOT/build/libffpfbpf.a" \
		$(pkg-config --libs libxdp libbpf) -lpcap -lelf -lz -lpthread -o "$out" 2>"$out.err"; then
		t_fail "build $(basename "$src")" "$(cat "$out.err")"
		return 1
	fi
	chmod 755 "$out"
}

# ff_ns NS CMD...: run CMD in the network namespace NS only (mount
# namespace unchanged, so /sys/fs/bpf stays the real bpffs).
ff_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# ffpf NS ARGS...: run `ffpf-bpf ARGS` in namespace NS, in the foreground.
ffpf() {
	local ns=$1
	shift
	ff_ns "$ns" "$FFPF" "$@"
}

# ffpf_start NS NAME ARGS...: start `ffpf-bpf run ARGS` in the background in
# namespace NS; stdout goes to $FF_TMP/NAME.out, stderr to $FF_TMP/NAME.err.
# Returns once the "N flows active" line is printed (FF_START_TIMEOUT s at
# most); returns 1 (stderr shown) if it exits or times out first. The pid is
# left in FFPF_PID and remembered under NAME. If an interface argument is
# followed by --pin anywhere, the interfaces are noted for pin cleanup.
ffpf_start() {
	local ns=$1 name=$2
	shift 2
	local out=$FF_TMP/$name.out err=$FF_TMP/$name.err a prev="" pin=0
	local -a ifs=()
	for a in "$@"; do
		[[ "$prev" == -i || "$prev" == --interface ]] && ifs+=("$a")
		[[ "$a" == --pin ]] && pin=1
		prev=$a
	done
	if ((pin)); then
		for a in "${ifs[@]}"; do ffpf_note_pins "$a"; done
	fi
	rm -f "$out" "$err"
	# nsenter execs ffpf-bpf (no fork for a network namespace alone), so
	# $! is the pid of ffpf-bpf itself: signals reach it directly.
	nsenter --net="/run/netns/$ns" -- "$FFPF" run "$@" >"$out" 2>"$err" </dev/null &
	FFPF_PID=$!
	_FF_PIDS+=("$FFPF_PID")
	_FFPF_PID[$name]=$FFPF_PID
	unset '_FFPF_RC[$name]'
	local deadline=$(($(date +%s) + FF_START_TIMEOUT))
	while :; do
		if grep -q 'flows\? active' "$err" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$FFPF_PID" 2>/dev/null; then
			local rc=0
			wait "$FFPF_PID" 2>/dev/null || rc=$?
			_FFPF_RC[$name]=$rc
			echo "ffpf: run $name exited early (status ${_FFPF_RC[$name]}):" >&2
			sed 's/^/    /' "$err" >&2
			return 1
		fi
		if (($(date +%s) >= deadline)); then
			echo "ffpf: run $name not ready after ${FF_START_TIMEOUT}s:" >&2
			sed 's/^/    /' "$err" >&2
			return 1
		fi
		sleep 0.05
	done
}

# ffpf_pid NAME: print the pid of run NAME.
ffpf_pid() { echo "${_FFPF_PID[$1]:-}"; }

# ffpf_start_flows_or_die NAME NS IF ARG...: `ffpf-bpf run -i IF --flow F=SPEC[F]
# ... ARG...` in NS for every F of the array FLOWS (specs in the associative
# array SPEC), started as ffpf_start NAME; a pass, or a failure with its
# stderr and the end of the test.
ffpf_start_flows_or_die() {
	local name=$1 ns=$2 ifc=$3 f args
	shift 3
	args=(-i "$ifc")
	for f in "${FLOWS[@]}"; do
		args+=(--flow "$f=${SPEC[$f]}")
	done
	if ffpf_start "$ns" "$name" "${args[@]}" "$@"; then
		t_pass "ffpf-bpf run $name: ${#FLOWS[@]} flows active on $ifc $*"
	else
		t_fail "ffpf-bpf run $name: ${#FLOWS[@]} flows on $ifc $*" \
			"$(tail -n 3 "$FF_TMP/$name.err")"
		t_summary
		exit 1
	fi
}

# ff_results WHAT RESULTS: a check script's output as test results: each
# "PASS  name" passes, each "FAIL  name: detail" fails, TABLE and END lines
# are dropped, any other line is shown indented. No output at all fails WHAT.
ff_results() {
	local what=$1 results=$2 line
	if [[ -z "$results" ]]; then
		t_fail "$what" "the check script printed nothing"
		return 0
	fi
	while IFS= read -r line; do
		case $line in
		TABLE | END) ;;
		PASS*) t_pass "${line#PASS  }" ;;
		FAIL*) line=${line#FAIL  }; t_fail "${line%%: *}" "${line#*: }" ;;
		*) echo "    $line" ;;
		esac
	done <<<"$results"
}

# ff_flows_start NAME ARG...: `ffpf-bpf flows -i IF_S ARG...` in the server
# namespace, stdout in $FF_TMP/NAME.out, stderr in $FF_TMP/NAME.err; stop it
# with ffpf_stop NAME, its pid is $(ffpf_pid NAME). Returns once it tracks,
# or 1 (after FF_START_TIMEOUT) if it does not start.
ff_flows_start() {
	local name=${1:?usage: ff_flows_start NAME ARG...}
	shift
	nsenter --net="/run/netns/$NS_S" -- "$FFPF" flows -i "$IF_S" "$@" \
		>"$FF_TMP/$name.out" 2>"$FF_TMP/$name.err" </dev/null &
	_FF_PIDS+=("$!")
	_FFPF_PID[$name]=$!
	wait_for "grep -q 'flows: tracking on' '$FF_TMP/$name.err'" "$FF_START_TIMEOUT"
}

# ff_flows_start_or_die NAME ARG...: ff_flows_start, and a pass "NAME
# starts", or a failure with its stderr and the end of the test.
ff_flows_start_or_die() {
	if ! ff_flows_start "$@"; then
		t_fail "$1 starts" "$(cat "$FF_TMP/$1.err")"
		t_summary
		exit 1
	fi
	t_pass "$1 starts"
}

_ff_forget_pid() {
	local pid=$1 p keep=()
	for p in "${_FF_PIDS[@]}"; do
		[[ "$p" == "$pid" ]] || keep+=("$p")
	done
	_FF_PIDS=("${keep[@]}")
}

# ffpf_stop NAME [SIGNAL] [TIMEOUT_S]: send SIGNAL (default INT) to run NAME
# and wait (default 10 s) until it exits; its status is left in FFPF_RC (and
# ffpf_rc NAME). Returns 1 if it had to be killed or was already gone.
ffpf_stop() {
	local name=$1 sig=${2:-INT} t=${3:-10} pid i
	pid=${_FFPF_PID[$name]:-}
	FFPF_RC=255
	[[ -n "$pid" ]] || return 1
	local ok=0
	# stderr of the group: bash's own "Killed" job notice goes there
	{
		kill -"$sig" "$pid" || true
		for ((i = 0; i < t * 20; i++)); do
			kill -0 "$pid" || break
			sleep 0.05
		done
		if kill -0 "$pid"; then
			echo "ffpf: run $name still alive ${t}s after SIG$sig, killing it" >&3
			kill -KILL "$pid" || true
			ok=1
		fi
		FFPF_RC=0
		wait "$pid" || FFPF_RC=$?
	} 3>&2 2>/dev/null
	_FFPF_RC[$name]=$FFPF_RC
	unset '_FFPF_PID[$name]'
	_ff_forget_pid "$pid"
	return $ok
}

# ffpf_rc NAME: exit status of a stopped run.
ffpf_rc() { echo "${_FFPF_RC[$1]:-}"; }

# ffpf_note_pins IF: have ffpf_cleanup close the pinned flows of IF.
ffpf_note_pins() {
	local i
	for i in "${_FFPF_PIN_IFS[@]}"; do
		[[ "$i" == "$1" ]] && return 0
	done
	_FFPF_PIN_IFS+=("$1")
}

# ffpf_close_all IF: close every pinned flow of IF through the command,
# then remove whatever pins remain under FF_PIN_ROOT/IF. Never fails.
ffpf_close_all() {
	local ifc=$1 f
	[[ -n "$ifc" && -d "$FF_PIN_ROOT/$ifc" ]] || return 0
	for f in $("$FFPF" list -i "$ifc" --json 2>/dev/null | _ff_py -c '
import json, sys
try:
    for x in json.load(sys.stdin):
        print(x["name"])
except Exception:
    pass'); do
		"$FFPF" close -i "$ifc" "$f" >/dev/null 2>&1 || true
	done
	if [[ -d "$FF_PIN_ROOT/$ifc" ]]; then
		echo "ffpf: removing leftover pins under $FF_PIN_ROOT/$ifc" >&2
		rm -rf -- "${FF_PIN_ROOT:?}/$ifc"
	fi
	rmdir "$FF_PIN_ROOT" 2>/dev/null || true
	return 0
}

# ffpf_cleanup: stop every run still going (TERM, then KILL) and close the
# pins of the interfaces noted with ffpf_note_pins. Registered by
# ffpf_setup; may run in a subshell, so it only uses kill, not wait.
ffpf_cleanup() {
	local name pid i ifc
	for name in "${!_FFPF_PID[@]}"; do
		pid=${_FFPF_PID[$name]}
		kill -TERM "$pid" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	for ifc in "${_FFPF_PIN_IFS[@]}"; do
		ffpf_close_all "$ifc"
	done
	return 0
}

# ---------------------------------------------------------------------------
# reading results
# ---------------------------------------------------------------------------

_ff_py() { "$FF_PYTHON" "$@"; }

# ff_json FILE EXPR: evaluate the Python expression EXPR with j = the JSON
# document in FILE ("-" for stdin) and print the result (JSON for lists and
# dicts, true/false for booleans). Helpers available in EXPR:
#   flow(name)         the element of j["flows"] (run --json) or of j (list
#                      --json) named name
#   filt(name, k)      flow(name)["filters"][k]
#   iface(ifname)      the element of j["interfaces"] for ifname (or the
#                      only one when ifname is omitted)
# Prints "ERROR: ..." and returns 1 when the file is not valid JSON or the
# expression fails.
ff_json() {
	local file=$1 expr=$2
	_ff_py -c '
import json, sys
path, expr = sys.argv[1], sys.argv[2]
try:
    j = json.load(sys.stdin if path == "-" else open(path))
except Exception as e:
    print("ERROR: invalid JSON in %s: %s" % (path, e))
    sys.exit(1)
def _flows():
    return j["flows"] if isinstance(j, dict) else j
def flow(name):
    for f in _flows():
        if f["name"] == name:
            return f
    raise KeyError("no flow %r" % name)
def filt(name, k):
    return flow(name)["filters"][k]
def iface(ifname=None):
    ifs = j["interfaces"]
    if ifname is None and len(ifs) == 1:
        return ifs[0]
    for i in ifs:
        if i["ifname"] == ifname:
            return i
    raise KeyError("no interface %r" % ifname)
try:
    v = eval("(" + expr + "\n)")
except Exception as e:
    print("ERROR: %s: %s" % (expr, e))
    sys.exit(1)
if isinstance(v, bool):
    print("true" if v else "false")
elif isinstance(v, (list, dict)):
    print(json.dumps(v))
else:
    print(v)
' "$file" "$expr"
}

# ffpf_list_json NS [IF]: `ffpf-bpf list [-i IF] --json`.
ffpf_list_json() {
	local ns=$1 ifc=${2:-}
	if [[ -n "$ifc" ]]; then
		ffpf "$ns" list -i "$ifc" --json
	else
		ffpf "$ns" list --json
	fi
}

# ffpf_pinned_field NS IF FLOW FIELD: FIELD of pinned FLOW per list --json
# ("none" if it is not listed, "ERROR..." if list fails).
ffpf_pinned_field() {
	local out
	out=$(ffpf_list_json "$1" "$2" 2>&1) || {
		echo "ERROR: list failed: $out"
		return 1
	}
	printf '%s\n' "$out" | ff_json - "
next((f['$4'] for f in j if f['name'] == '$3'), 'none')"
}

# ffpf_pinned_packets NS IF FLOW: packets of pinned FLOW per `list --json`.
ffpf_pinned_packets() {
	ffpf_pinned_field "$1" "$2" "$3" packets
}

# ff_xdp_prog NS IF: print the id of the XDP program attached to IF (empty
# when none). Uses `ip -d link show`.
ff_xdp_prog() {
	ip -n "$1" -d link show "$2" 2>/dev/null |
		sed -n 's/.*prog\/xdp[a-z]* id \([0-9]*\).*/\1/p' | head -n1
}

# ff_has_xdp NS IF: true if `ip -d link show` mentions any XDP program.
ff_has_xdp() {
	ip -n "$1" -d link show "$2" 2>/dev/null | grep -Eq '(^|[ <,])xdp|prog/xdp'
}

# ---------------------------------------------------------------------------
# captures
# ---------------------------------------------------------------------------

# ff_tcpdump_in_start NS IFACE OUTFILE [FILTER]: like tcpdump_start, but
# captures only packets received on IFACE (-Q in), i.e. exactly what an
# XDP program on IFACE sees. Stop it with tcpdump_stop OUTFILE.
ff_tcpdump_in_start() {
	ff_tcpdump_dir_start "$1" "$2" in "$3" "${4:-}"
}

# ff_tcpdump_dropped OUTFILE: after tcpdump_stop, print how many packets
# the kernel dropped for the capture started by ff_tcpdump_in_start
# ("unknown" if tcpdump did not say).
ff_tcpdump_dropped() {
	local err=${_FF_TCPDUMP_ERR[$1]:-} n
	n=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$err" 2>/dev/null | head -n1)
	echo "${n:-unknown}"
}

# ff_pcap_frames FILE DISPLAY_FILTER: print the frame numbers (1-based, as
# in the file) of the packets of FILE matching the Wireshark display
# filter, one a line. (tcpdump -# numbers only the packets it prints.)
ff_pcap_frames() {
	{ tshark -r "$1" -Y "$2" -T fields -e frame.number 2>/dev/null || true; } |
		grep -E '^[0-9]+$' || true
}

# ff_pcap_slice IN OUT FIRST LAST: copy frames FIRST..LAST (1-based,
# inclusive) of pcap IN to pcap OUT.
ff_pcap_slice() {
	_ff_py - "$@" <<'PY'
import struct, sys
src, dst, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with open(src, "rb") as f:
    data = f.read()
if len(data) < 24:
    sys.exit("short pcap " + src)
magic = data[:4]
if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
    e = "<"
elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
    e = ">"
else:
    sys.exit("not a pcap file: " + src)
out = [data[:24]]
off, n = 24, 0
while off + 16 <= len(data):
    incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
    n += 1
    if first <= n <= last:
        out.append(data[off:off + 16 + incl])
    off += 16 + incl
with open(dst, "wb") as f:
    f.write(b"".join(out))
PY
}

# ff_pcap_stats FILE [FILTER]: print "PACKETS BYTES" of the packets of FILE
# matching the pcap FILTER; BYTES sums the original frame lengths (what
# the XDP program sees as data_end - data).
ff_pcap_stats() {
	local file=$1 filter=${2:-}
	local -a f=()
	[[ -z "$filter" ]] || f=("$filter")
	{ tcpdump -r "$file" -w - "${f[@]}" 2>/dev/null || true; } | _ff_py -c '
import struct, sys
data = sys.stdin.buffer.read()
if len(data) < 24:
    print("0 0")
    sys.exit(0)
e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
off = 24
n = total = 0
while off + 16 <= len(data):
    incl, orig = struct.unpack(e + "II", data[off + 8:off + 16])
    n += 1
    total += orig
    off += 16 + incl
print(n, total)'
}

# ff_window_or_die PCAP OUT: the packets of PCAP between the start and end
# markers (ff_mark) into OUT, FF_WIN_FIRST/FF_WIN_LAST set to their frame
# numbers and a pass; without both markers in order a failure and the end
# of the test.
ff_window_or_die() {
	local pcap=$1 out=$2
	FF_WIN_FIRST=$(ff_pcap_frames "$pcap" "$(ff_mark_filter start)" | head -n1)
	FF_WIN_LAST=$(ff_pcap_frames "$pcap" "$(ff_mark_filter end)" | tail -n1)
	if [[ -z "$FF_WIN_FIRST" || -z "$FF_WIN_LAST" ]] || ((FF_WIN_FIRST > FF_WIN_LAST)); then
		t_fail "markers in the capture" "start '${FF_WIN_FIRST}' end '${FF_WIN_LAST}'"
		t_summary
		exit 1
	fi
	ff_pcap_slice "$pcap" "$out" "$FF_WIN_FIRST" "$FF_WIN_LAST"
	t_pass "markers in the capture (frames $FF_WIN_FIRST..$FF_WIN_LAST of $(ff_pcap_count "$pcap"))"
}

# ff_expect_count NAME GOT IN TOTAL: GOT must be IN (the count between the
# capture's markers); a difference is accepted only when the capture has
# that many matching packets outside the markers (GOT in [IN, TOTAL]): they
# arrived around start or stop, when ffpf-bpf may or may not have seen them.
ff_expect_count() {
	local name=$1 got=$2 in=$3 total=$4
	if [[ "$got" == "$in" ]]; then
		t_pass "$name: $got (capture: $in)"
	elif [[ "$got" =~ ^[0-9]+$ ]] && ((total > in && got >= in && got <= total)); then
		t_pass "$name: $got (capture: $in between markers, $total in all; the rest arrived around start/stop)"
	else
		t_fail "$name" "ffpf-bpf $got, capture $in between markers ($total in all)"
	fi
}

# ff_pcap_count FILE [FILTER]: number of packets of FILE matching the pcap
# FILTER (counts records; netns.sh's pcap_count counts tcpdump's output
# lines, which overcounts frames tcpdump prints on several lines, such as
# unknown ethertypes).
ff_pcap_count() {
	local n _
	read -r n _ < <(ff_pcap_stats "$@")
	echo "$n"
}

# ff_tshark_bytes FILE DISPLAY_FILTER: sum of frame.len of the packets of
# FILE matching the Wireshark DISPLAY_FILTER (a second, independent
# decoder to cross-check ff_pcap_stats).
ff_tshark_bytes() {
	{ tshark -r "$1" -Y "$2" -T fields -e frame.len 2>/dev/null || true; } |
		awk '{ s += $1 } END { print s + 0 }'
}

# ---------------------------------------------------------------------------
# traffic
# ---------------------------------------------------------------------------

# ff_udp_ports BASE COUNT...: from the client namespace send, for each i,
# COUNT[i] datagrams to port BASE+i on IP_S (one process, 1 ms apart).
ff_udp_ports() {
	local base=$1
	shift
	ns_c "$FF_PYTHON" -c '
import socket, sys, time
dst, base = sys.argv[1], int(sys.argv[2])
counts = [int(x) for x in sys.argv[3:]]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i, n in enumerate(counts):
    for _ in range(n):
        s.sendto(b"ffpf-test", (dst, base + i))
        time.sleep(0.001)
' "$IP_S" "$base" "$@"
}

# ff_mark TAG: send one raw Ethernet broadcast frame of the local
# experimental ethertype 0x88b5 carrying "ffpf-mark-TAG" from IF_C: a
# marker in a capture that needs no ARP/ND first and matches no IP filter.
# Find it with ff_pcap_frames FILE "$(ff_mark_filter TAG)".
ff_mark() {
	ns_c "$FF_PYTHON" -c '
import socket, sys
ifc, tag = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifc, 0))
src = s.getsockname()[4]
frame = b"\xff" * 6 + src + b"\x88\xb5" + ("ffpf-mark-" + tag).encode()
s.send(frame + b"\0" * max(0, 60 - len(frame)))
' "$IF_C" "$1"
}

# ff_mark_filter TAG: the display filter selecting ff_mark TAG's frame.
ff_mark_filter() {
	echo "eth.type == 0x88b5 && frame contains \"ffpf-mark-$1\""
}

# ---------------------------------------------------------------------------
# BPF objects
# ---------------------------------------------------------------------------

# ff_bpf_objects: print "prog ID NAME", "map ID NAME" and "link ID PROG"
# for every BPF object in the system whose name looks like ffpf's (programs
# ffpf_*, maps ffpf_* / ffpf_xxx.rodata / *_mbuf, links to such programs).
ff_bpf_objects() {
	_ff_py - <<'PY'
import json, subprocess
def bt(*a):
    try:
        return json.loads(subprocess.run(["bpftool", "-j", *a], capture_output=True,
                                         text=True, check=True).stdout or "[]")
    except Exception:
        return []
ours = set()
for p in bt("prog", "list"):
    n = p.get("name", "")
    if n.startswith("ffpf"):
        ours.add(p["id"])
        print("prog", p["id"], n)
for m in bt("map", "list"):
    n = m.get("name", "")
    if n.startswith("ffpf") or n.endswith("_mbuf"):
        print("map", m["id"], n)
for l in bt("link", "list"):
    if l.get("prog_id") in ours:
        print("link", l["id"], l.get("prog_id"))
PY
}

# _ff_bpf_ids PROC_GLOB PINS: print "prog ID", "map ID", "link ID" for the
# BPF objects the processes matching /proc/PROC_GLOB hold an fd on (fdinfo),
# those pinned in /sys/fs/bpf when PINS is 1, and the maps of those programs.
_ff_bpf_ids() {
	_ff_py - "$1" "$2" <<'PY'
import glob, json, os, subprocess, sys
proc_glob, with_pins = sys.argv[1], sys.argv[2] == "1"
progs, maps, links = set(), set(), set()
def bt(*a):
    try:
        r = subprocess.run(["bpftool", "-j", *a], capture_output=True, text=True)
        return json.loads(r.stdout) if r.returncode == 0 and r.stdout else None
    except Exception:
        return None
for fi in glob.glob("/proc/%s/fdinfo/*" % proc_glob):
    try:
        txt = open(fi).read()
    except OSError:
        continue
    if "_id:" not in txt:
        continue
    kv = {}
    for l in txt.splitlines():
        if ":" in l:
            k, v = l.split(":", 1)
            kv[k.strip()] = v.strip()
    try:
        if "link_id" in kv:
            links.add(int(kv["link_id"]))
            if "prog_id" in kv:
                progs.add(int(kv["prog_id"]))
        elif "prog_id" in kv:
            progs.add(int(kv["prog_id"]))
        elif "map_id" in kv:
            maps.add(int(kv["map_id"]))
    except ValueError:
        pass
for root, dirs, files in (os.walk("/sys/fs/bpf") if with_pins else ()):
    for f in files:
        path = os.path.join(root, f)
        for kind, s in (("prog", progs), ("map", maps), ("link", links)):
            o = bt(kind, "show", "pinned", path)
            if isinstance(o, dict) and "id" in o:
                s.add(o["id"])
                if kind == "link" and "prog_id" in o:
                    progs.add(o["prog_id"])
                break
for p in bt("prog", "list") or []:
    if p["id"] in progs:
        maps.update(p.get("map_ids", []))
for kind, s in (("prog", progs), ("map", maps), ("link", links)):
    for i in sorted(s):
        print(kind, i)
PY
}

# ff_proc_bpf_ids PID: the BPF objects process PID holds (see _ff_bpf_ids).
ff_proc_bpf_ids() {
	_ff_bpf_ids "$1" 0
}

# ff_bpf_alive KIND ID...: print the "KIND ID" of those still existing.
ff_bpf_alive() {
	local kind=$1 id
	shift
	for id in "$@"; do
		bpftool "$kind" show id "$id" >/dev/null 2>&1 && echo "$kind $id"
	done
	return 0
}

# ff_bpf_held_ids: print "KIND ID" for every BPF object some live process
# holds (fdinfo), the maps of those programs, and the objects pinned in
# /sys/fs/bpf. Used to tell a leaked object from one someone else is using.
ff_bpf_held_ids() {
	_ff_bpf_ids "[0-9]*" 1
}

# ---------------------------------------------------------------------------
# capture files written by `ffpf-bpf run -w` (issue 3)
# ---------------------------------------------------------------------------

# ff_tcpdump_dir_start NS IFACE DIR OUTFILE [FILTER]: tcpdump on IFACE for
# direction DIR (in, out or inout: tcpdump -Q) with an 8 MiB buffer. Egress
# flows (TC) see what -Q out sees. Stop with tcpdump_stop OUTFILE.
ff_tcpdump_dir_start() {
	local ns=$1 ifc=$2 dir=$3 out=$4 filter=${5:-} err
	err=$FF_TMP/tcpdump.$$.$RANDOM.err
	local -a f=()
	[[ -z "$filter" ]] || f=("$filter")
	rm -f "$out"
	ip netns exec "$ns" tcpdump -i "$ifc" -Q "$dir" -nn -U --immediate-mode -Z root \
		-B 8192 -w "$out" "${f[@]}" >/dev/null 2>"$err" </dev/null &
	local pid=$!
	_FF_PIDS+=("$pid")
	_FF_TCPDUMP[$out]=$pid
	_FF_TCPDUMP_ERR[$out]=$err
	if ! wait_for "grep -q 'listening on' '$err'" 10; then
		echo "ffpf: tcpdump -Q $dir on $ns/$ifc not listening: $(tail -n 5 "$err")" >&2
		return 1
	fi
}

# ff_pcap_fingerprint FILE [FILTER] [SNAPLEN]: one line per packet of FILE
# (pcap or pcapng) matching the pcap FILTER: "WIRELEN CAPLEN HEX", without
# the timestamp. With SNAPLEN, CAPLEN and HEX are cut to SNAPLEN bytes, so
# a capture with a larger snaplen can be compared with one that has a
# smaller one. Two captures of the same packets give the same lines.
ff_pcap_fingerprint() {
	local file=$1 filter=${2:-} snap=${3:-0}
	local -a f=()
	[[ -z "$filter" ]] || f=("$filter")
	{ tcpdump -r "$file" -w - "${f[@]}" 2>/dev/null || true; } | _ff_py -c '
import struct, sys
snap = int(sys.argv[1])
data = sys.stdin.buffer.read()
if len(data) < 24:
    sys.exit(0)
e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
off = 24
out = []
while off + 16 <= len(data):
    incl, orig = struct.unpack(e + "II", data[off + 8:off + 16])
    pkt = data[off + 16:off + 16 + incl]
    if snap:
        pkt = pkt[:snap]
    out.append("%d %d %s" % (orig, len(pkt), pkt.hex()))
    off += 16 + incl
sys.stdout.write("".join(l + "\n" for l in out))' "$snap"
}

# ff_pcap_diff A B [FILTER_A] [FILTER_B] [SNAPLEN]: compare the packets of
# two captures (see ff_pcap_fingerprint), in order. Prints nothing when
# they are equal; otherwise the packet counts and the first differing
# packet, and returns 1.
ff_pcap_diff() {
	local a=$1 b=$2 fa=${3:-} fb=${4:-} snap=${5:-0} fpa fpb
	fpa=$(mktemp "$FF_TMP/fp.XXXXXX")
	fpb=$(mktemp "$FF_TMP/fp.XXXXXX")
	ff_pcap_fingerprint "$a" "$fa" "$snap" >"$fpa"
	ff_pcap_fingerprint "$b" "$fb" "$snap" >"$fpb"
	if cmp -s "$fpa" "$fpb"; then
		rm -f "$fpa" "$fpb"
		return 0
	fi
	_ff_py - "$fpa" "$fpb" <<'PY'
import sys
a = [l for l in open(sys.argv[1]).read().split("\n") if l]
b = [l for l in open(sys.argv[2]).read().split("\n") if l]
print("%d packets vs %d" % (len(a), len(b)), end="")
for i, (x, y) in enumerate(zip(a, b)):
    if x != y:
        print("; first difference at packet %d: %s... vs %s..." % (i + 1, x[:60], y[:60]))
        break
else:
    print("; equal up to packet %d" % min(len(a), len(b)))
PY
	rm -f "$fpa" "$fpb"
	return 1
}

# ff_pcap_comments FILE: the pcapng comment of every packet, one a line
# (empty line for a packet without one).
ff_pcap_comments() {
	tshark -r "$1" -T fields -e frame.comment 2>/dev/null || true
}
