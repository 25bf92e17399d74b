#!/usr/bin/env bash
# Integration test: the obj("FILE", "PROG") class (a user stage) on real
# traffic.
#
# ffpf-bpf runs flows built around docs/examples/user_stage.bpf.c
# (even_port: TCP/UDP to an even destination port) and a user stage
# without an MBuf on the server end of a veth pair; the client sends
# UDP datagrams to an even and an odd port. Each flow must count exactly
# the datagrams sent to the ports it accepts, and the user stage's own
# counters (its MBuf) must show what it saw and passed.
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools
EX=$FF_ROOT/build/examples
for o in user_stage obj_nombuf; do
	if [[ ! -f "$EX/$o.bpf.o" ]]; then
		echo "SKIP: $EX/$o.bpf.o not built (make tests)"
		exit 0
	fi
done
ffpf_setup

EVEN=40 ODD=25
PORTS='match(udp, dst port 6000-6001)'
declare -A SPEC=(
	[even]="$PORTS -> obj(\"$EX/user_stage.bpf.o\", \"even_port\") -> count"
	[both]="$PORTS"
	[odd]="obj(\"$EX/obj_nombuf.bpf.o\", \"udp_only\") -> match(udp, dst port 6001)"
)
FLOWS=(even both odd)

start_udp_sink 6000
start_udp_sink 6001

ffpf_start_flows_or_die objc "$NS_S" "$IF_S" --interval 0.5 --json

udp_send "$EVEN" 6000 64
udp_send "$ODD" 6001 100
udp_wait_count 6000 "$EVEN" 5 || true
udp_wait_count 6001 "$ODD" 5 || true

ffpf_stop objc INT 10 || true
t_check "ffpf-bpf exits 0 on SIGINT" 0 "$(ffpf_rc objc)"

json=$FF_TMP/objc.out
if [[ "$(ff_json "$json" '"flows" in j')" != true ]]; then
	t_fail "JSON summary" "$(head -c 300 "$json")"
	t_summary
	exit 1
fi
t_check "flow both == all $((EVEN + ODD)) datagrams sent" "$((EVEN + ODD))" \
	"$(ff_json "$json" "flow('both')['packets']")"
t_check "flow even == the $EVEN datagrams to port 6000" "$EVEN" \
	"$(ff_json "$json" "flow('even')['packets']")"
t_check "flow odd == the $ODD datagrams to port 6001 (user stage without MBuf)" "$ODD" \
	"$(ff_json "$json" "flow('odd')['packets']")"
t_check "even_port's MBuf: seen, passed" "$((EVEN + ODD)) $EVEN" \
	"$(ff_json "$json" "'%d %d' % (filt('even',1)['seen'], filt('even',1)['passed'])")"
t_check "even_port passed == count seen" true \
	"$(ff_json "$json" "filt('even',1)['passed'] == filt('even',2)['seen']")"
t_check "even_port bytes == flow bytes" true \
	"$(ff_json "$json" "filt('even',1)['bytes'] == flow('even')['bytes'] > 0")"
t_check "no MBuf: the user stage's counters are zero" 0 \
	"$(ff_json "$json" "filt('odd',0)['seen']")"
t_check "even filters" "match obj count" \
	"$(ff_json "$json" "' '.join(x['class'] for x in flow('even')['filters'])")"
t_check "no missed tail call" "0 0 0" \
	"$(ff_json "$json" "' '.join(str(flow(f)['missed']) for f in ('even', 'both', 'odd'))")"

t_summary
