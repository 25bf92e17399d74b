#!/usr/bin/env bash
# Integration test: filter graphs on real traffic (issue 5).
#
# One `ffpf-bpf run -f FILE` on the server end of a veth pair runs a flow
# file whose flows use alternation, grouping, backtracking into the next
# alternative, bpf() inside a branch, and named instances shared between
# flows. tcpdump captures the same ingress packets; each flow's packets and
# bytes must equal the pcap filter that means the same thing, and the
# shared instances' MBuf counters must be the sums over the flows that use
# them. Marker frames bracket the traffic as in test_counts.sh.
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools tcpdump tshark curl ping
ffpf_setup

PING4=12 UDP5=40 UDP6000=30 UDP7000=25

# The flow file: d and c5 are defined once and used again further down.
flows=$FF_TMP/graph.flows
cat >"$flows" <<'EOF'
# graph.flows - test_graph.sh
dns    = d :: match(udp, dst port 5005)   # the instance d
           -> c5 :: count;
either = (d | match(udp, dst port 6000)) -> count
# ICMP, or a SYN to the web server (a bpf() stage inside a branch)
notudp = ( match(icmp)
         | match(tcp, port 8080) -> bpf("tcp[tcpflags] & tcp-syn != 0")
         ) -> count
# every other UDP packet; a UDP packet sample() rejects tries match(icmp)
half   = match(udp) -> sample(2) | match(icmp)
nested = ((bpf("udp dst port 7000") | d) | match(icmp)) -> count
shared = c5
EOF
FLOWS=(dns either notudp half nested shared)
declare -A PCAP=(
	[dns]='udp dst port 5005'
	[either]='udp and (dst port 5005 or dst port 6000)'
	[notudp]='icmp or (tcp port 8080 and tcp[tcpflags] & tcp-syn != 0)'
	[nested]='icmp or (udp and (dst port 7000 or dst port 5005))'
	[shared]=''
)

t_check "check -f: the flow file is valid" "ok: 6 flows, 17 filters" \
	"$("$FFPF" check -f "$flows" 2>&1 | head -n1)"

# The docs say every example of docs/spec.md's Examples section is valid.
n_ex=0 bad_ex=()
while IFS= read -r line; do
	[[ -z "$line" ]] && continue
	n_ex=$((n_ex + 1))
	"$FFPF" check "$line" >/dev/null 2>&1 || bad_ex+=("$line")
done < <(awk '/^## Examples/ { f = 1 } f && /^```/ { n++; if (n == 2) exit; next } f && n == 1' \
	"$FF_ROOT/docs/spec.md")
if ((n_ex > 20 && ${#bad_ex[@]} == 0)); then
	t_pass "docs/spec.md: all $n_ex examples pass check"
else
	t_fail "docs/spec.md examples" "$n_ex examples, refused: ${bad_ex[*]:-none}"
fi
web=$FF_TMP/web.flows
awk '/^# web.flows/ { f = 1 } f && /^```/ { exit } f' "$FF_ROOT/docs/spec.md" >"$web"
t_check "docs/spec.md: the flow file example checks as documented" \
	"ok: 3 flows, 8 filters" "$("$FFPF" check -f "$web" 2>&1 | head -n1)"

start_http_server 8080
start_udp_sink 5005
start_udp_sink 6000
start_udp_sink 7000

pcap=$FF_TMP/ingress.pcap
ff_tcpdump_in_start "$NS_S" "$IF_S" "$pcap"
if ffpf_start "$NS_S" graph -i "$IF_S" -f "$flows" --interval 0.5 --json; then
	t_pass "ffpf-bpf run -f: ${#FLOWS[@]} flows active on $IF_S"
else
	t_fail "ffpf-bpf run -f graph.flows" "$(tail -n 3 "$FF_TMP/graph.err")"
	t_summary
	exit 1
fi
ns_s ethtool -K "$IF_S" gro off >/dev/null 2>&1 || true

# --- traffic, between the two markers ---------------------------------------
ff_mark start
wait_for "[[ -n \$(ff_pcap_frames '$pcap' '$(ff_mark_filter start)') ]]" 5 || true
ns_c ping -c "$PING4" -i 0.05 -W 2 -q "$IP_S" >/dev/null || t_fail "ping $PING4 x v4" "ping failed"
udp_send "$UDP5" 5005
udp_send "$UDP6000" 6000
udp_send "$UDP7000" 7000
for i in 1 2 3; do
	dl=$(ns_c curl -sS --max-time 20 -o /dev/null -w '%{size_download}' "$FF_HTTP_URL/1m.bin" ||
		echo failed)
	t_check "curl $i of 1m.bin from $IP_S:8080" 1048576 "$dl"
done
udp_wait_count 5005 "$UDP5" 5 || true
udp_wait_count 6000 "$UDP6000" 5 || true
udp_wait_count 7000 "$UDP7000" 5 || true
ff_mark end
wait_for "[[ -n \$(ff_pcap_frames '$pcap' '$(ff_mark_filter end)') ]]" 5 || true

ffpf_stop graph INT 10 || true
t_check "ffpf-bpf exits 0 on SIGINT" 0 "$(ffpf_rc graph)"
tcpdump_stop "$pcap"
t_check "capture dropped no packet" 0 "$(ff_tcpdump_dropped "$pcap")"
json=$FF_TMP/graph.out
echo "--- ffpf-bpf --json output:"
sed 's/^/    /' "$json"

win=$FF_TMP/window.pcap
ff_window_or_die "$pcap" "$win"

# The traffic really happened (otherwise 0 == 0 would pass).
t_check "capture: $UDP5 / $UDP6000 / $UDP7000 datagrams to 5005 / 6000 / 7000" \
	"$UDP5 $UDP6000 $UDP7000" "$(ff_pcap_count "$win" 'udp dst port 5005') $(ff_pcap_count \
	"$win" 'udp dst port 6000') $(ff_pcap_count "$win" 'udp dst port 7000')"
t_check "capture: 3 SYNs to 8080" 3 \
	"$(ff_pcap_count "$win" 'tcp dst port 8080 and tcp[tcpflags] & tcp-syn != 0')"

# --- each flow against its pcap filter ----------------------------------------
declare -A N_IN N_TOT
for f in dns either notudp nested shared; do
	read -r n_in b_in < <(ff_pcap_stats "$win" "${PCAP[$f]}")
	read -r n_tot b_tot < <(ff_pcap_stats "$pcap" "${PCAP[$f]}")
	N_IN[$f]=$n_in N_TOT[$f]=$n_tot
	ff_expect_count "flow $f packets == pcap '${PCAP[$f]:-(all)}'" \
		"$(ff_json "$json" "flow('$f')['packets']")" "$n_in" "$n_tot"
	ff_expect_count "flow $f bytes == sum of frame lengths" \
		"$(ff_json "$json" "flow('$f')['bytes']")" "$b_in" "$b_tot"
done
t_check "flow dns == $UDP5" "$UDP5" "$(ff_json "$json" "flow('dns')['packets']")"
t_check "flow either == $UDP5 + $UDP6000" $((UDP5 + UDP6000)) \
	"$(ff_json "$json" "flow('either')['packets']")"
t_check "flow notudp == $PING4 echo requests + 3 SYNs" $((PING4 + 3)) \
	"$(ff_json "$json" "flow('notudp')['packets']")"

# half: sample(2) passes the 1st, 3rd, ... UDP packet; the others fall
# through to match(icmp), which rejects them, and so does every packet
# match(udp) rejects: (match(udp) -> sample(2)) | match(icmp).
n_udp=$(ff_pcap_count "$win" udp) n_icmp=$(ff_pcap_count "$win" icmp)
t_check "flow half == ceil(udp/2) + icmp ($n_udp UDP, $n_icmp ICMP)" \
	$(((n_udp + 1) / 2 + n_icmp)) "$(ff_json "$json" "flow('half')['packets']")"
t_check "half: sample rejected floor(udp/2); match(icmp) saw those and every non-UDP packet" \
	true "$(ff_json "$json" "(lambda d, s, m: s['seen'] - s['passed'] == $n_udp // 2 and
		m['seen'] == d - $n_udp + $n_udp // 2 and m['passed'] == $n_icmp)(
		flow('half')['dispatched'], filt('half',1), filt('half',2))")"
t_check "half: the dispatcher saw every packet (an alternation has no guard)" \
	"$(ff_json "$json" "iface('$IF_S')['rx_packets']")" \
	"$(ff_json "$json" "flow('half')['dispatched']")"
t_check "dns: guarded by its leading match (dispatched only its packets)" \
	"$(ff_json "$json" "flow('dns')['packets']")" "$(ff_json "$json" "flow('dns')['dispatched']")"

# --- the graph in every flow: no tail call missed --------------------------
t_check "no missed tail call in any flow" "0 0 0 0 0 0" \
	"$(ff_json "$json" "' '.join([str(f['missed']) for f in j['flows']])")"
t_check "flow notudp: the bpf() branch saw the 8080 packets, passed the SYNs" \
	"$(ff_pcap_count "$win" 'tcp port 8080') 3" \
	"$(ff_json "$json" "'%d %d' % (filt('notudp',2)['seen'], filt('notudp',2)['passed'])")"
t_check "flows record their spec, printed back" \
	'(d | match(udp, dst port 6000)) -> count' "$(ff_json "$json" "flow('either')['spec']")"

# --- named instances: one MBuf wherever they appear ---------------------------
t_check "instance d: named in dns, either, nested" "d d d" \
	"$(ff_json "$json" "' '.join((filt('dns',0).get('name',''), filt('either',0).get('name',''),
		filt('nested',1).get('name','')))")"
t_check "instance d: the same counters in the three flows (the summary is one snapshot)" true \
	"$(ff_json "$json" "filt('dns',0) == filt('either',0) == filt('nested',1)")"
# d passes each 5005 datagram once in each of the three flows
t_check "instance d: passed == 3 x $UDP5 (one MBuf, three places)" $((3 * UDP5)) \
	"$(ff_json "$json" "filt('dns',0)['passed']")"
# c5 sees what d passed in dns plus every packet of flow shared
t_check "instance c5: seen == dns packets + shared packets" true \
	"$(ff_json "$json" "filt('dns',1)['seen'] == flow('dns')['packets'] + flow('shared')['packets']
		== filt('shared',0)['seen']")"
t_check "flow shared is the instance c5" "count c5" \
	"$(ff_json "$json" "filt('shared',0)['class'] + ' ' + filt('shared',0)['name']")"

# --- errors: a flow file and spec errors name line and column ---------------------
bad=$FF_TMP/bad.flows
printf 'a = d :: match(udp)\nb = d :: match(tcp)\n' >"$bad"
out=$("$FFPF" check -f "$bad" 2>&1 || true)
t_check "a second, different definition is refused at its line and column" \
	"spec:2:5: instance 'd' is defined already, as match(udp)" "$(head -n1 <<<"$out")"
printf 'a = match(udp)\n  -> (count | sample(2)\nb = count\n' >"$bad"
out=$("$FFPF" check -f "$bad" 2>&1 || true)
t_check "an unclosed group names where it opened" \
	"spec:3:1: expected '->', '|' or ')' closing the '(' at 2:6, found 'b'" "$(head -n1 <<<"$out")"
out=$("$FFPF" run -i "$IF_S" --flow 'a=x :: count' --flow 'b=x(1)' 2>&1 || true)
t_check "run: a reference with arguments is refused before anything loads" \
	"spec:1:1: 'x' is a filter instance (defined as count): name it alone, without arguments" \
	"$(head -n1 <<<"$out")"
t_check "XDP program detached after exit" "" "$(ff_xdp_prog "$NS_S" "$IF_S")"

t_summary
