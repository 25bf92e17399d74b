# shellcheck shell=bash
# tests/lib/netns.sh - network namespace helpers + a tiny test harness for
# the ffpf-bpf integration tests and the demo.
#
# Usage (as root):
#   set -euo pipefail
#   source "$(dirname "$0")/../lib/netns.sh"
#   ns_setup                  # two namespaces joined by a veth pair, trap set
#   ns_c ping -c1 "$IP_S"     # run in the client namespace
#   ...
#   t_summary                 # "N passed, N failed" (+ ", N skipped")
#
# All traffic stays inside the namespaces created here. ns_setup installs a
# trap on EXIT INT TERM that calls ns_cleanup; callers that need their own
# cleanup must register it with ns_on_cleanup instead of setting a trap.
#
# The harness counters live in the calling shell: call t_* from the main
# shell, not from a subshell or a pipeline.

if [[ -n "${_FF_NETNS_LIB_LOADED:-}" ]]; then
	return 0
fi
_FF_NETNS_LIB_LOADED=1

# ---------------------------------------------------------------------------
# state
# ---------------------------------------------------------------------------
_FF_PIDS=()              # background processes started through the helpers
_FF_CLEANUP_CMDS=()      # caller cleanup commands (run in reverse order)
declare -A _FF_TCPDUMP=() # outfile -> tcpdump pid
_FF_CLEANED=1            # nothing to clean until ns_setup ran

if [[ -x /usr/bin/python3 ]]; then
	FF_PYTHON=${FF_PYTHON:-/usr/bin/python3}
else
	FF_PYTHON=${FF_PYTHON:-python3}
fi

_ff_log() { echo "netns: $*" >&2; }
_ff_die() {
	echo "netns: error: $*" >&2
	return 1
}

# ---------------------------------------------------------------------------
# setup / cleanup
# ---------------------------------------------------------------------------

# _ff_rand_prefix: prints "ff" + 5 random lowercase alnum characters.
_ff_rand_prefix() {
	local chars=abcdefghijklmnopqrstuvwxyz0123456789 p=ff i r
	for ((i = 0; i < 5; i++)); do
		r=${SRANDOM:-$((RANDOM * 32768 + RANDOM))}
		p+=${chars:r % ${#chars}:1}
	done
	echo "$p"
}

# ns_setup: create ${P}c / ${P}s namespaces joined by veth ${P}a / ${P}b.
ns_setup() {
	[[ $(id -u) -eq 0 ]] || _ff_die "ns_setup needs root" || return 1
	command -v ip >/dev/null || _ff_die "ip (iproute2) not found" || return 1

	local p tries=0 have
	have=$(ip netns list 2>/dev/null || true)
	while :; do
		p=$(_ff_rand_prefix)
		if [[ $'\n'"$have" != *$'\n'"$p"* ]] &&
			! ip link show "${p}a" >/dev/null 2>&1 &&
			! ip link show "${p}b" >/dev/null 2>&1; then
			break
		fi
		((++tries < 20)) || _ff_die "could not pick a free prefix" || return 1
	done

	export FF_PREFIX=$p
	export NS_C=${p}c NS_S=${p}s IF_C=${p}a IF_S=${p}b
	local x
	x=$(($(printf '%s' "$p" | cksum | cut -d' ' -f1) % 250 + 1))
	export FF_NET_ID=$x
	export IP_C=10.199.$x.1 IP_S=10.199.$x.2
	export IP6_C=fd00:199:$x::1 IP6_S=fd00:199:$x::2
	FF_TMP=$(mktemp -d "/tmp/${p}.XXXXXX")
	export FF_TMP

	_FF_CLEANED=0
	trap 'ns_cleanup' EXIT
	trap '_ff_on_signal INT 130' INT
	trap '_ff_on_signal TERM 143' TERM

	if ! _ff_create; then
		ns_cleanup
		_ff_die "ns_setup failed (prefix $p)"
		return 1
	fi
	_ff_log "prefix $p: $NS_C/$IF_C $IP_C $IP6_C <-> $NS_S/$IF_S $IP_S $IP6_S"
}

_ff_create() {
	local ns
	ip netns add "$NS_C" || return 1
	ip netns add "$NS_S" || return 1
	for ns in "$NS_C" "$NS_S"; do
		# No DAD and IPv6 enabled for every link created in the namespace.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.disable_ipv6=0 \
			net.ipv6.conf.all.disable_ipv6=0 >/dev/null 2>&1 || true
		ip -n "$ns" link set lo up || return 1
	done
	# Created directly inside the namespaces: never visible in the root ns.
	ip link add "$IF_C" netns "$NS_C" type veth peer name "$IF_S" netns "$NS_S" ||
		return 1
	ip -n "$NS_C" addr add "$IP_C/24" dev "$IF_C" || return 1
	ip -n "$NS_S" addr add "$IP_S/24" dev "$IF_S" || return 1
	ip -n "$NS_C" -6 addr add "$IP6_C/64" dev "$IF_C" nodad || return 1
	ip -n "$NS_S" -6 addr add "$IP6_S/64" dev "$IF_S" nodad || return 1
	ip -n "$NS_C" link set "$IF_C" up || return 1
	ip -n "$NS_S" link set "$IF_S" up || return 1
	# Wait until the link is up on both ends (carrier) - bounded.
	wait_for "[[ \$(ip -n '$NS_C' link show '$IF_C') == *'state UP'* && \$(ip -n '$NS_S' link show '$IF_S') == *'state UP'* ]]" 5 ||
		_ff_die "veth did not come up" || return 1
}

_ff_on_signal() {
	_ff_log "caught SIG$1, cleaning up"
	ns_cleanup
	trap - "$1"
	exit "$2"
}

# ns_on_cleanup CMD: register CMD (a string, eval'd) to run in ns_cleanup,
# before the namespaces are deleted. Commands run in reverse order.
ns_on_cleanup() {
	_FF_CLEANUP_CMDS+=("$*")
}

# _ff_kill_pids PID...: TERM, wait up to 3 s, then KILL; reap our children.
_ff_kill_pids() {
	local pid i alive
	(($# > 0)) || return 0
	kill -TERM "$@" 2>/dev/null || true	# some may be gone already
	for ((i = 0; i < 30; i++)); do
		alive=0
		for pid in "$@"; do
			if kill -0 "$pid" 2>/dev/null; then
				alive=1
				break
			fi
		done
		((alive)) || break
		sleep 0.1
	done
	kill -KILL "$@" 2>/dev/null || true
	for pid in "$@"; do
		wait "$pid" 2>/dev/null
	done
	return 0
}

# ns_cleanup: idempotent, never fails. Kills helper jobs and every process
# left in our namespaces, deletes the links and namespaces and the temp dir.
ns_cleanup() {
	local - # errexit/nounset changes below stay local to this function
	set +e +u
	((_FF_CLEANED)) && return 0
	_FF_CLEANED=1
	# a second Ctrl-C must not cut the cleanup short
	trap '' INT TERM

	local i ns pids
	for ((i = ${#_FF_CLEANUP_CMDS[@]} - 1; i >= 0; i--)); do
		(eval "${_FF_CLEANUP_CMDS[i]}") || true
	done
	_FF_CLEANUP_CMDS=()

	_ff_kill_pids "${_FF_PIDS[@]}"
	_FF_PIDS=()
	_FF_TCPDUMP=()

	for ns in "$NS_C" "$NS_S"; do
		[[ -n "$ns" ]] || continue
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086 # word splitting wanted
		[[ -z "$pids" ]] || _ff_kill_pids $pids
	done

	[[ -n "$IF_C" ]] && ip -n "$NS_C" link del "$IF_C" >/dev/null 2>&1
	[[ -n "$IF_S" ]] && ip -n "$NS_S" link del "$IF_S" >/dev/null 2>&1
	[[ -n "$IF_C" ]] && ip link del "$IF_C" >/dev/null 2>&1
	[[ -n "$IF_S" ]] && ip link del "$IF_S" >/dev/null 2>&1
	for ns in "$NS_C" "$NS_S"; do
		[[ -n "$ns" ]] && ip netns del "$ns" >/dev/null 2>&1
	done
	if [[ -n "$FF_TMP" && -d "$FF_TMP" && "$FF_TMP" == /tmp/ff* ]]; then
		rm -rf -- "$FF_TMP"
	fi
	trap - INT TERM
	return 0
}

# ---------------------------------------------------------------------------
# running things
# ---------------------------------------------------------------------------

# ns_c CMD... / ns_s CMD...: run CMD in the client / server namespace.
ns_c() { ip netns exec "$NS_C" "$@"; }
ns_s() { ip netns exec "$NS_S" "$@"; }

# ns_bg NS LOGFILE CMD...: start CMD in namespace NS in the background,
# output to LOGFILE, tracked for cleanup. The pid is left in FF_LAST_PID.
ns_bg() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
	FF_LAST_PID=$!
	_FF_PIDS+=("$FF_LAST_PID")
}

# ns_kill PID: stop a job started through the helpers (TERM, then KILL).
ns_kill() {
	local pid=$1 p keep=()
	_ff_kill_pids "$pid"
	for p in "${_FF_PIDS[@]}"; do
		[[ "$p" == "$pid" ]] || keep+=("$p")
	done
	_FF_PIDS=("${keep[@]}")
}

# wait_for CMD TIMEOUT_S: poll (every 0.1 s) until CMD succeeds. CMD is a
# string run with eval (pipes allowed); with more than two arguments the last
# is the timeout and the others are the command words. TIMEOUT_S may have a
# fraction (e.g. 0.5). Returns 1 on timeout.
wait_for() {
	(($# >= 2)) || _ff_die "usage: wait_for CMD TIMEOUT_S" || return 2
	local timeout=${!#} deadline sec frac=0
	local -a argv=("${@:1:$#-1}")
	sec=${timeout%%.*}
	if [[ "$timeout" == *.* ]]; then
		frac=${timeout#*.}000
		frac=$((10#${frac:0:3}))
	fi
	deadline=$(($(date +%s%N) + (10#${sec:-0} * 1000 + frac) * 1000000))
	while :; do
		if ((${#argv[@]} == 1)); then
			if eval "${argv[0]}"; then return 0; fi
		else
			if "${argv[@]}"; then return 0; fi
		fi
		(($(date +%s%N) < deadline)) || return 1
		sleep 0.1
	done
}

# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------

# start_http_server [PORT]: python3 http.server on IP_S:PORT (default 8080)
# in the server namespace, serving FF_WWW with 1k.bin, 100k.bin, 1m.bin
# (random data, exact sizes). Waits until it accepts connections (10 s).
start_http_server() {
	local port=${1:-8080} log
	export FF_WWW=$FF_TMP/www
	mkdir -p "$FF_WWW"
	head -c 1024 /dev/urandom >"$FF_WWW/1k.bin"
	head -c 102400 /dev/urandom >"$FF_WWW/100k.bin"
	head -c 1048576 /dev/urandom >"$FF_WWW/1m.bin"
	log=$FF_TMP/http_$port.log
	ns_bg "$NS_S" "$log" "$FF_PYTHON" -m http.server "$port" --bind "$IP_S" \
		--directory "$FF_WWW"
	FF_HTTP_PID=$FF_LAST_PID
	export FF_HTTP_PORT=$port FF_HTTP_URL="http://$IP_S:$port"
	local pid=$FF_HTTP_PID i
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			_ff_die "http server exited early: $(tail -n 5 "$log")"
			return 1
		fi
		if ns_s "$FF_PYTHON" -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=0.5).close()' \
			"$IP_S" "$port" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	_ff_die "http server on $IP_S:$port not accepting after 10 s: $(tail -n 5 "$log")"
}

# ---------------------------------------------------------------------------
# UDP
# ---------------------------------------------------------------------------

# start_udp_sink PORT: UDP receiver on PORT (IPv4 and IPv6, any address) in
# the server namespace; the number of datagrams received is kept in
# $FF_TMP/udp_PORT.count (read it with udp_sink_count PORT).
start_udp_sink() {
	local port=${1:?usage: start_udp_sink PORT} f
	f=$FF_TMP/udp_$port.count
	rm -f "$f"
	ns_bg "$NS_S" "$FF_TMP/udp_$port.log" "$FF_PYTHON" -c '
import os, socket, sys
port, path = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(("::", port))
def put(n):
    with open(path + ".tmp", "w") as fh:
        fh.write("%d\n" % n)
    os.replace(path + ".tmp", path)
n = 0
put(n)
while True:
    s.recv(65535)
    n += 1
    put(n)
' "$port" "$f"
	if ! wait_for "[[ -s '$f' ]]" 10; then
		_ff_die "udp sink on port $port did not start: $(tail -n 5 "$FF_TMP/udp_$port.log")"
		return 1
	fi
}

# udp_sink_count PORT: print the number of datagrams the sink got so far.
udp_sink_count() {
	local f=$FF_TMP/udp_${1:?usage: udp_sink_count PORT}.count
	if [[ -s "$f" ]]; then cat "$f"; else echo 0; fi
}

# udp_wait_count PORT N [TIMEOUT_S]: wait until the sink got at least N
# datagrams (default 5 s). Returns 1 on timeout.
udp_wait_count() {
	local port=$1 n=$2 t=${3:-5}
	wait_for "(( \$(udp_sink_count $port) >= $n ))" "$t"
}

# udp_send N PORT [SIZE] [DST]: send exactly N datagrams of SIZE bytes
# (default 64) from the client namespace to DST (default IP_S; an IPv6
# address selects IPv6), 2 ms apart.
udp_send() {
	local n=${1:?usage: udp_send N PORT [SIZE] [DST]} port=${2:?usage: udp_send N PORT [SIZE] [DST]}
	local size=${3:-64} dst=${4:-$IP_S}
	ns_c "$FF_PYTHON" -c '
import socket, sys, time
n, port, size, dst = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
payload = bytes(i & 0xff for i in range(size))
for _ in range(n):
    if s.sendto(payload, (dst, port)) != size:
        sys.exit("short send")
    time.sleep(0.002)
' "$n" "$port" "$size" "$dst"
}

# start_udp_echo PORT: UDP echo server on PORT (IPv4 and IPv6) in the server
# namespace: every datagram goes back to its sender, unchanged.
start_udp_echo() {
	local port=${1:?usage: start_udp_echo PORT} f
	f=$FF_TMP/udpecho_$port.ready
	rm -f "$f"
	ns_bg "$NS_S" "$FF_TMP/udpecho_$port.log" "$FF_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
open(sys.argv[2], "w").write("ready\n")
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
' "$port" "$f"
	if ! wait_for "[[ -s '$f' ]]" 10; then
		_ff_die "udp echo on port $port did not start: $(tail -n 5 "$FF_TMP/udpecho_$port.log")"
		return 1
	fi
}

# udp_request N PORT [SIZE] [DST]: from one client socket (one flow), send N
# requests of SIZE bytes (default 64) to the echo server at DST (default
# IP_S), each after the previous reply; prints the replies received (a
# lost one waits 1 s and is not re-sent).
udp_request() {
	local n=${1:?usage: udp_request N PORT [SIZE] [DST]} port=${2:?usage: udp_request N PORT [SIZE] [DST]}
	local size=${3:-64} dst=${4:-$IP_S}
	ns_c "$FF_PYTHON" -c '
import socket, sys
n, port, size, dst = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(1.0)
payload = bytes(i & 0xff for i in range(size))
got = 0
for _ in range(n):
    s.sendto(payload, (dst, port))
    try:
        if s.recv(65535) == payload:
            got += 1
    except socket.timeout:
        pass
print(got)
' "$n" "$port" "$size" "$dst"
}

# ---------------------------------------------------------------------------
# tcpdump
# ---------------------------------------------------------------------------

# tcpdump_start NS IFACE FILTER OUTFILE: capture on IFACE in namespace NS
# into OUTFILE (pcap); returns once tcpdump is listening (10 s max).
# FILTER may be "" for everything. FF_TCPDUMP_BUFFER (KiB, tcpdump -B)
# raises the kernel buffer for bursts of thousands of frames.
tcpdump_start() {
	local ns=$1 ifc=$2 filter=$3 out=$4 err
	err=$FF_TMP/tcpdump.$$.$RANDOM.err
	local -a f=()
	[[ -z "$filter" ]] || f=("$filter")
	[[ -z "${FF_TCPDUMP_BUFFER:-}" ]] || f=(-B "$FF_TCPDUMP_BUFFER" "${f[@]}")
	rm -f "$out"
	# -Z root: do not drop to the tcpdump user (it could not write to FF_TMP).
	ip netns exec "$ns" tcpdump -i "$ifc" -nn -U --immediate-mode -Z root \
		-w "$out" "${f[@]}" >/dev/null 2>"$err" </dev/null &
	local pid=$!
	_FF_PIDS+=("$pid")
	_FF_TCPDUMP[$out]=$pid
	if ! wait_for "grep -q 'listening on' '$err'" 10; then
		_ff_die "tcpdump on $ns/$ifc not listening: $(tail -n 5 "$err")"
		return 1
	fi
}

# tcpdump_stop [OUTFILE]: stop the capture writing OUTFILE (default: all
# captures) with SIGINT and wait until it has exited and flushed.
tcpdump_stop() {
	local -a outs
	if (($#)); then outs=("$@"); else outs=("${!_FF_TCPDUMP[@]}"); fi
	local out pid i sz prev=-1 keep=() p
	for out in "${outs[@]}"; do
		pid=${_FF_TCPDUMP[$out]:-}
		[[ -n "$pid" ]] || continue
		# let the kernel hand the last packets over: wait until the file size
		# is stable for 0.2 s (2 s max)
		for ((i = 0; i < 20; i++)); do
			sz=$(stat -c %s "$out" 2>/dev/null || echo 0)
			[[ "$sz" != "$prev" ]] || break
			prev=$sz
			sleep 0.2
		done
		kill -INT "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null || true
		unset '_FF_TCPDUMP[$out]'
		keep=()
		for p in "${_FF_PIDS[@]}"; do
			[[ "$p" == "$pid" ]] || keep+=("$p")
		done
		_FF_PIDS=("${keep[@]}")
	done
	return 0
}

# pcap_count FILE [FILTER]: print the number of packets in FILE matching
# FILTER (0 if the file is missing or unreadable).
pcap_count() {
	local file=$1 filter=${2:-}
	local -a f=()
	[[ -z "$filter" ]] || f=("$filter")
	# one packet may print several lines: count those that start with its
	# timestamp (-tt: seconds since the epoch), not lines
	{ tcpdump -r "$file" -nn -tt "${f[@]}" 2>/dev/null || true; } | grep -c '^[0-9]' || true
}

# ---------------------------------------------------------------------------
# test harness
# ---------------------------------------------------------------------------
T_PASSED=0
T_FAILED=0
T_SKIPPED=0

# t_pass NAME
t_pass() {
	T_PASSED=$((T_PASSED + 1))
	echo "PASS  $1"
}

# t_fail NAME MSG
t_fail() {
	T_FAILED=$((T_FAILED + 1))
	echo "FAIL  $1${2:+: $2}"
}

# t_skip NAME WHY
t_skip() {
	T_SKIPPED=$((T_SKIPPED + 1))
	echo "SKIP  $1${2:+: $2}"
}

# t_check NAME EXPECTED ACTUAL: pass when EXPECTED == ACTUAL (string equality).
t_check() {
	if [[ "$2" == "$3" ]]; then
		t_pass "$1"
	else
		t_fail "$1" "expected '$2', got '$3'"
	fi
}

# t_summary: print "N passed, N failed[, N skipped]"; non-zero if any failed.
t_summary() {
	local line="$T_PASSED passed, $T_FAILED failed"
	((T_SKIPPED == 0)) || line+=", $T_SKIPPED skipped"
	echo "$line"
	((T_FAILED == 0))
}
