#!/usr/bin/env bash
# Integration test: `ffpf-bpf flows` under a SYN flood of 1,000,000
# distinct flows, 16 times its default table (65536 entries).
#
# build/ffpf-synflood (tools/ffpf-synflood.c) sends the SYNs from the
# client namespace straight into the veth (AF_PACKET, qdisc bypass), each
# with its own source/destination port pair, to the server's MAC and
# address, while `ffpf-bpf flows --size 65536` tracks the server end IF_S
# (default idle timeout 30 s: nothing ends by idling during the test).
#
# The server must stay silent, as a host behind a flood of spoofed SYNs
# whose answers go nowhere: its TCP answers each SYN with an RST, and a
# blackhole route for the client's address in the server namespace drops
# those before they reach the wire (and the TC egress hook). Otherwise the
# RSTs would end every flow as "rst" and nothing would need evicting. IPv6
# is off on both veth ends, so that the only frames arriving during the
# test are the SYNs (no router solicitations or MLD reports to account for).
#
# What is comparable: the rx packet counter of IF_S counts every frame the
# veth handed to IF_S's XDP ring, i.e. every frame that reached the XDP
# hook; with nothing else on the link that is exactly the SYNs. Each SYN
# that reached the hook must be either a created flow or a refusal of the
# full table (table_full): created + table_full == rx delta == sent.
#
# Asserted: ffpf-bpf stays alive and exits 0; the process's flowtrack_table
# map (bpftool map show on the maps it holds) has max_entries 65536 during
# and after the flood; its RSS stays below its start RSS + 16 MiB (the
# sweeper's fixed snapshot of the table is 65536 x 120 B + one 4096-entry
# batch = 7.9 MiB, the rest is slack for the allocator and stdio; keeping
# anything per flow sent, even 16 bytes, would exceed it); evicted > 0 and
# table_full > 0; records == created == ended; records by reason == the
# summary's counts (every eviction exported); every record is one SYN of
# one distinct 5-tuple we sent; packets in records + table_full == sent.
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

SYNFLOOD=${SYNFLOOD:-$FF_ROOT/build/ffpf-synflood}
COUNT=${SYNFLOOD_COUNT:-1000000}
SIZE=65536
SPORT_BASE=1024
DPORT_BASE=20000
FLOOD_TIMEOUT=45	# seconds; ~3 s at the rates seen on 2 cores
RSS_SLACK_KB=$((16 * 1024))

ff_need_root_and_tools bpftool
if [[ ! -x "$SYNFLOOD" ]]; then
	t_fail "prerequisites" "$SYNFLOOD not built: run 'make'"
	t_summary
	exit 1
fi
ffpf_setup

# IPv6 off on both ends: nothing but the SYNs arrives during the test.
ns_c sysctl -qw "net.ipv6.conf.$IF_C.disable_ipv6=1"
ns_s sysctl -qw "net.ipv6.conf.$IF_S.disable_ipv6=1"
# The server's answers (RSTs) to the client's address go nowhere.
ip -n "$NS_S" route add blackhole "$IP_C/32"
MAC_S=$(ip -n "$NS_S" -j link show "$IF_S" |
	"$FF_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)[0]["address"])')

# link_stat NS IF FIELD: one rtnetlink counter of IF (rx_packets, ...)
link_stat() {
	ip -n "$1" -j -s link show "$2" | "$FF_PYTHON" -c '
import json, sys
l = json.load(sys.stdin)[0]["stats64"]
d = {"rx_" + k: v for k, v in l["rx"].items()}
d.update({"tx_" + k: v for k, v in l["tx"].items()})
print(d[sys.argv[1]])' "$3"
}

# proc_rss_kb PID: VmRSS of PID in kB (0 once it is gone).
proc_rss_kb() {
	awk '/^VmRSS:/ { print $2; f = 1 } END { if (!f) print 0 }' "/proc/$1/status" 2>/dev/null ||
		echo 0
}

# ft_maps PID: "ID MAX_ENTRIES" of every map named flowtrack_table that
# process PID holds (through bpftool map show).
ft_maps() {
	local id
	for id in $(ff_proc_bpf_ids "$1" | awk '$1 == "map" { print $2 }'); do
		bpftool -j map show id "$id" 2>/dev/null
		echo
	done | "$FF_PYTHON" -c '
import json, sys
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    m = json.loads(line)
    if m.get("name") == "flowtrack_table":
        print(m["id"], m["max_entries"])'
}

recs=$FF_TMP/flows.jsonl
ferr=$FF_TMP/flows.err
ff_flows_start_or_die flows --size "$SIZE" --flows-out "$recs" -q
FPID=$(ffpf_pid flows)

maps=$(ft_maps "$FPID")
t_check "one flowtrack_table map, max_entries $SIZE, before the flood" "1 $SIZE" \
	"$(wc -l <<<"$maps" | tr -d ' ') $(awk '{ print $2 }' <<<"$maps" | head -n1)"

rss0=$(proc_rss_kb "$FPID")
rx0=$(link_stat "$NS_S" "$IF_S" rx_packets)
rxd0=$(link_stat "$NS_S" "$IF_S" rx_dropped)
txd0=$(link_stat "$NS_C" "$IF_C" tx_dropped)

t0=$(date +%s%N)
ns_bg "$NS_C" "$FF_TMP/synflood.out" "$SYNFLOOD" -i "$IF_C" -n "$COUNT" \
	--dst-mac "$MAC_S" --dst-ip "$IP_S" --sport-base "$SPORT_BASE" --dport-base "$DPORT_BASE"
GPID=$FF_LAST_PID
rss_max=$rss0
mid_maps=""
deadline=$(($(date +%s) + FLOOD_TIMEOUT))
while kill -0 "$GPID" 2>/dev/null; do
	r=$(proc_rss_kb "$FPID")
	((r <= rss_max)) || rss_max=$r
	if [[ -z "$mid_maps" ]] && (($(date +%s%N) - t0 > 500000000)); then
		mid_maps=$(ft_maps "$FPID")
	fi
	if (($(date +%s) >= deadline)); then
		echo "ffpf-synflood still running after ${FLOOD_TIMEOUT}s: stopping it" >&2
		break
	fi
	sleep 0.05
done
grc=0
if kill -0 "$GPID" 2>/dev/null; then
	ns_kill "$GPID" || true
	grc=124
else
	wait "$GPID" || grc=$?
fi
t1=$(date +%s%N)
flood_ms=$(((t1 - t0) / 1000000))
t_check "ffpf-synflood exits 0" 0 "$grc"
sent=$(sed -n 's/^sent \([0-9]*\)$/\1/p' "$FF_TMP/synflood.out")
echo "    $(grep 'SYNs on' "$FF_TMP/synflood.out" || cat "$FF_TMP/synflood.out")"
t_check "ffpf-synflood sent $COUNT SYNs" "$COUNT" "${sent:-none}"
sent=${sent:-0}

# Two sweeps (1 s apart at idle 30 s) after the flood: the last evictions.
for _ in 1 2 3 4; do
	r=$(proc_rss_kb "$FPID")
	((r <= rss_max)) || rss_max=$r
	sleep 0.5
done

if kill -0 "$FPID" 2>/dev/null; then
	t_pass "ffpf-bpf flows alive after the flood"
else
	t_fail "ffpf-bpf flows alive after the flood" "$(tail -n 5 "$ferr")"
fi
if [[ -n "$mid_maps" ]]; then
	t_check "flowtrack_table max_entries during the flood" "1 $SIZE" \
		"$(wc -l <<<"$mid_maps" | tr -d ' ') $(awk '{ print $2 }' <<<"$mid_maps" | head -n1)"
else
	t_fail "flowtrack_table max_entries during the flood" "the flood ended within 0.5 s: not sampled"
fi
maps=$(ft_maps "$FPID")
t_check "flowtrack_table max_entries after the flood (same map)" "1 $SIZE $(awk '{ print $1 }' <<<"$mid_maps" | head -n1)" \
	"$(wc -l <<<"$maps" | tr -d ' ') $(awk '{ print $2, $1 }' <<<"$maps" | head -n1)"
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$FPID/status" 2>/dev/null || echo 0)
if ((rss_max <= rss0 + RSS_SLACK_KB)); then
	t_pass "RSS bounded: start ${rss0} kB, max ${rss_max} kB <= start + ${RSS_SLACK_KB} kB"
else
	t_fail "RSS bounded" "start ${rss0} kB, max ${rss_max} kB > start + ${RSS_SLACK_KB} kB"
fi

rx=$(($(link_stat "$NS_S" "$IF_S" rx_packets) - rx0))
rxd=$(($(link_stat "$NS_S" "$IF_S" rx_dropped) - rxd0))
txd=$(($(link_stat "$NS_C" "$IF_C" tx_dropped) - txd0))
t_check "every SYN sent reached IF_S (rx delta; veth drops rx $rxd tx $txd)" "$sent 0 0" "$rx $rxd $txd"

s0=$(date +%s%N)
ffpf_stop flows INT 30 || true
stop_ms=$((($(date +%s%N) - s0) / 1000000))
t_check "flows exits 0 after SIGINT" 0 "$FFPF_RC"
summary=$(grep 'flows: created' "$ferr" || true)
echo "    $summary"

# Prints "PASS|FAIL name: detail" lines and a FIGURES line.
results=$("$FF_PYTHON" - "$recs" "$summary" "$sent" "$rx" "$IP_C" "$IP_S" \
	"$SPORT_BASE" "$DPORT_BASE" <<'PY'
import collections, json, re, sys

path, summary, sent, rx, ip_c, ip_s, sport_base, dport_base = sys.argv[1:9]
sent, rx, sport_base, dport_base = int(sent), int(rx), int(sport_base), int(dport_base)
nsport = 65536 - sport_base
out = []
def check(name, ok, detail=""):
    out.append(("PASS" if ok else "FAIL") + "  " + name + (": " + detail if detail and not ok else ""))

m = re.search(r"created (\d+), ended (\d+) \(idle (\d+), active (\d+), fin (\d+), rst (\d+), "
              r"evicted (\d+), forced (\d+), closed (\d+)\), table_full (\d+), rst_no_flow (\d+)",
              summary)
if not m:
    print("FAIL  summary line: not found: %r" % summary)
    sys.exit(0)
created, ended = int(m.group(1)), int(m.group(2))
by_reason = dict(zip(["idle", "active", "fin", "rst", "evicted", "forced", "closed"],
                     [int(x) for x in m.groups()[2:9]]))
table_full, rst_no_flow = int(m.group(10)), int(m.group(11))

recs, bad = [], 0
for line in open(path):
    try:
        recs.append(json.loads(line))
    except ValueError:
        bad += 1
check("every record is valid JSON", bad == 0, "%d bad lines" % bad)
check("evicted > 0", by_reason["evicted"] > 0, "summary: %s" % summary)
check("table_full > 0", table_full > 0, "summary: %s" % summary)
check("records == created == ended", len(recs) == created == ended,
      "%d records, created %d, ended %d" % (len(recs), created, ended))
rc = collections.Counter(r["reason"] for r in recs)
check("records by reason == the summary's (every eviction exported)",
      all(rc.get(k, 0) == v for k, v in by_reason.items()) and sum(rc.values()) == len(recs),
      "records %s, summary %s" % (dict(rc), by_reason))
check("only evicted and closed records",
      set(rc) <= {"evicted", "closed"}, "%s" % dict(rc))
check("created + table_full == SYNs that reached the XDP hook (stage missed %d)"
      % (rx - created - table_full), created + table_full == rx,
      "created %d + table_full %d != rx %d" % (created, table_full, rx))
check("rst_no_flow == 0 (no RST reached the hooks)", rst_no_flow == 0, "%d" % rst_no_flow)

keys, wrong = set(), []
pkts = 0
for r in recs:
    k = (r["src_port"], r["dst_port"])
    i = (r["dst_port"] - dport_base) * nsport + (r["src_port"] - sport_base)
    ok = (r["proto"] == 6 and r["src_addr"] == ip_c and r["dst_addr"] == ip_s and
          r["initiator"] == "src" and r["src_port"] >= sport_base and 0 <= i < sent and
          r["out_packets"] == 1 and r["in_packets"] == 0 and r["tcp_flags_out"] == 2 and
          r["tcp_flags_in"] == 0 and r["out_bytes"] == 58)
    if not ok and len(wrong) < 3:
        wrong.append(r)
    keys.add(k)
    pkts += r["out_packets"] + r["in_packets"]
check("every record is one 58-byte SYN of a 5-tuple we sent", not wrong, json.dumps(wrong))
check("no 5-tuple in two records", len(keys) == len(recs),
      "%d records, %d 5-tuples" % (len(recs), len(keys)))
check("packets in records + table_full == SYNs sent", pkts + table_full == sent,
      "%d + %d != %d" % (pkts, table_full, sent))
print("FIGURES sent %d, reached %d, created %d, evicted %d, closed %d, table_full %d, records %d"
      % (sent, rx, created, by_reason["evicted"], by_reason["closed"], table_full, len(recs)))
for l in out:
    print(l)
PY
) || true

figures=$(sed -n 's/^FIGURES //p' <<<"$results")
ff_results "record checks" "$(grep -v '^FIGURES ' <<<"$results")"
echo "    figures: ${figures:-none}; RSS start ${rss0} kB, max ${rss_max} kB, VmHWM ${hwm} kB;" \
	"flood ${flood_ms} ms, stop ${stop_ms} ms"

t_summary
