#!/usr/bin/env bash
# Integration test: `ffpf-bpf flows` reports every conversation once, with
# the same packets and bytes, per direction, as tshark finds in a capture.
#
# ffpf-bpf flows tracks the server end IF_S (XDP ingress and TC egress, one
# shared flow table) while tcpdump captures both directions of IF_S. The
# client downloads three files over HTTP (three TCP connections), sends a
# few UDP datagrams to a sink (one way), makes UDP request/response
# exchanges with an echo server over IPv4 and IPv6, and pings 5 times. Then the capture and ffpf-bpf are stopped and,
# for every TCP and UDP conversation `tshark -z conv,tcp` / `conv,udp`
# lists, exactly one record must have its 5-tuple and its frames and bytes,
# in total and per direction (matched by address). TCP records must end
# with reason fin or closed; no 5-tuple may appear in two records.
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools tcpdump tshark curl ping
ffpf_setup

HTTP_PORT=8080 UDP_PORT=5005 UDP_N=6 PINGS=5 ECHO_PORT=5006 ECHO_N=4 ECHO6_N=3

start_http_server "$HTTP_PORT"
start_udp_sink "$UDP_PORT"
start_udp_echo "$ECHO_PORT"

pcap=$FF_TMP/flows.pcap
recs=$FF_TMP/flows.jsonl
ferr=$FF_TMP/flows.err	# ff_flows_start: NAME.err
# both directions (what XDP ingress and TC egress see), with a large buffer
ff_tcpdump_dir_start "$NS_S" "$IF_S" inout "$pcap"

rm -f "$recs"
ff_flows_start_or_die flows --flows-out "$recs" --format json

# traffic: three downloads (one TCP connection each), UDP, pings
for f in 1k.bin 100k.bin 1m.bin; do
	n=$(ns_c curl -s -o /dev/null -w '%{size_download}' "$FF_HTTP_URL/$f" || echo fail)
	t_check "curl $f" "$(stat -c %s "$FF_WWW/$f")" "$n"
done
udp_send "$UDP_N" "$UDP_PORT" 100
udp_wait_count "$UDP_PORT" "$UDP_N" || true
t_check "UDP echo: replies over IPv4" "$ECHO_N" "$(udp_request "$ECHO_N" "$ECHO_PORT" 200)"
t_check "UDP echo: replies over IPv6" "$ECHO6_N" "$(udp_request "$ECHO6_N" "$ECHO_PORT" 120 "$IP6_S")"
ns_c ping -c "$PINGS" -i 0.2 -W 1 -q "$IP_S" >/dev/null
# FIN both ways ends a TCP flow after a 2 s linger: let the sweeper see it
sleep 3

tcpdump_stop "$pcap"
t_check "tcpdump dropped no packet" 0 "$(ff_tcpdump_dropped "$pcap")"
ffpf_stop flows INT 15 || true
t_check "flows exits 0" 0 "$FFPF_RC"
echo "--- ffpf-bpf flows stderr (last lines)"
tail -n 3 "$ferr" | sed 's/^/    /'

conv=$FF_TMP/conv.txt
tshark -r "$pcap" -q -z conv,tcp -z conv,udp 2>/dev/null >"$conv" || true
fields=$FF_TMP/fields.txt
tshark -r "$pcap" -T fields -E 'separator=;' -e ip.src -e ip.dst -e ip.proto \
	-e ipv6.src -e ipv6.dst -e ipv6.nxt \
	-e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport -e frame.len \
	-Y '(ip || ipv6) && (tcp || udp || icmp)' 2>/dev/null >"$fields" || true

# Prints "PASS|FAIL name: detail" lines and the comparison table.
results=$("$FF_PYTHON" - "$recs" "$conv" "$fields" "$IP_S" "$PINGS" "$ECHO_PORT" \
	"$ECHO_N" "$ECHO6_N" <<'PY'
import collections, ipaddress, json, re, sys

recs_path, conv_path, fields_path, ip_s, pings, echo_port, echo_n, echo6_n = sys.argv[1:9]
pings, echo_port, echo_n, echo6_n = int(pings), int(echo_port), int(echo_n), int(echo6_n)
out = []
def check(name, ok, detail=""):
    out.append(("PASS" if ok else "FAIL") + "  " + name + (": " + detail if detail and not ok else ""))

recs, bad = [], 0
for line in open(recs_path):
    line = line.strip()
    if not line:
        continue
    try:
        recs.append(json.loads(line))
    except ValueError:
        bad += 1
check("every record is valid JSON", bad == 0 and len(recs) > 0, "%d bad, %d good" % (bad, len(recs)))

def canon(a):
    return str(ipaddress.ip_address(a))
def key(r):
    a = (canon(r["src_addr"]), r["src_port"])
    b = (canon(r["dst_addr"]), r["dst_port"])
    return (r["proto"],) + tuple(sorted([a, b]))
keys = collections.Counter(key(r) for r in recs)
dups = [k for k, n in keys.items() if n > 1]
check("records == distinct 5-tuples", len(recs) == len(keys),
      "%d records, %d 5-tuples, duplicated: %s" % (len(recs), len(keys), dups))

# per direction from the frames: (proto, src, sport, dst, dport) -> [frames, bytes]
dirs = collections.defaultdict(lambda: [0, 0])
for line in open(fields_path):
    # tshark joins repeated fields with ",": keep the first (outer) one
    p = [f.split(",")[0] for f in line.strip().split(";")]
    if len(p) < 11 or not p[10]:
        continue
    if p[0]:
        src, dst, proto = canon(p[0]), canon(p[1]), int(p[2])
    else:
        src, dst, proto = canon(p[3]), canon(p[4]), int(p[5])
    if proto == 6:
        sp, dp = int(p[6]), int(p[7])
    elif proto == 17:
        sp, dp = int(p[8]), int(p[9])
    else:
        sp = dp = 0
    d = dirs[(proto, src, sp, dst, dp)]
    d[0] += 1
    d[1] += int(p[10])

def to_bytes(s):
    n, unit = s.replace(",", "").split()
    mult = {"bytes": 1, "kB": 1000, "MB": 1000000, "GB": 1000000000}[unit]
    return float(n) * mult, unit == "bytes"

section = None
convs = []
rx = re.compile(r"^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+(\d+)\s+([\d,.]+ \S+)\s+(\d+)\s+"
                r"([\d,.]+ \S+)\s+(\d+)\s+([\d,.]+ \S+)")
for line in open(conv_path):
    if "TCP Conversations" in line:
        section = 6
    elif "UDP Conversations" in line:
        section = 17
    m = rx.match(line.strip())
    if m and section:
        convs.append((section, m))

table = ["%-54s %-34s %-34s" % ("flow (A <-> B)", "tshark A->B / B->A / total",
                                "ours A->B / B->A / total")]
tcp_convs = 0
for proto, m in convs:
    a, pa, b, pb = canon(m.group(1)), int(m.group(2)), canon(m.group(3)), int(m.group(4))
    tot_f = int(m.group(9))
    tot_b, exact = to_bytes(m.group(10))
    left = (int(m.group(5)), to_bytes(m.group(6))[0])
    right = (int(m.group(7)), to_bytes(m.group(8))[0])
    ab = dirs.get((proto, a, pa, b, pb), [0, 0])
    ba = dirs.get((proto, b, pb, a, pa), [0, 0])
    name = "%s %s:%d <-> %s:%d" % ("tcp" if proto == 6 else "udp", a, pa, b, pb)
    if proto == 6:
        tcp_convs += 1
    # the frame-level directions must be tshark's two direction columns
    # (in whichever order it prints them), and add up to its total
    cols = sorted([left[0], right[0]])
    check(name + ": tshark directions consistent",
          sorted([ab[0], ba[0]]) == cols and ab[0] + ba[0] == tot_f and
          (not exact or ab[1] + ba[1] == tot_b),
          "fields %s/%s, conv %s/%s total %d %s" % (ab, ba, left, right, tot_f, tot_b))
    k = (proto,) + tuple(sorted([(a, pa), (b, pb)]))
    mine = [r for r in recs if key(r) == k]
    if len(mine) != 1:
        check(name + ": exactly one record", False, "%d records" % len(mine))
        table.append("%-54s %-34s %-34s" % (name, "%d/%d/%d" % (ab[0], ba[0], tot_f), "-"))
        continue
    r = mine[0]
    if (canon(r["src_addr"]), r["src_port"]) == (a, pa):
        oab = (r["out_packets"], r["out_bytes"])
        oba = (r["in_packets"], r["in_bytes"])
    else:
        oab = (r["in_packets"], r["in_bytes"])
        oba = (r["out_packets"], r["out_bytes"])
    table.append("%-54s %-34s %-34s" % (
        name,
        "%d,%d / %d,%d / %d,%d" % (ab[0], ab[1], ba[0], ba[1], tot_f, ab[1] + ba[1]),
        "%d,%d / %d,%d / %d,%d" % (oab[0], oab[1], oba[0], oba[1], oab[0] + oba[0],
                                   oab[1] + oba[1])))
    check(name + ": total packets", oab[0] + oba[0] == tot_f,
          "ours %d, tshark %d" % (oab[0] + oba[0], tot_f))
    check(name + ": total bytes", oab[1] + oba[1] == ab[1] + ba[1] and
          (not exact or oab[1] + oba[1] == tot_b),
          "ours %d, tshark %d" % (oab[1] + oba[1], ab[1] + ba[1]))
    check(name + ": per direction", tuple(oab) == tuple(ab) and tuple(oba) == tuple(ba),
          "ours %s/%s, tshark %s/%s" % (oab, oba, ab, ba))
    if proto == 6:
        check(name + ": reason fin or closed", r["reason"] in ("fin", "closed"),
              r["reason"])
        check(name + ": client is the initiator", r["initiator"] == "src" and
              r["dst_addr"] == ip_s, "%s -> %s (%s)" % (r["src_addr"], r["dst_addr"],
                                                       r["initiator"]))

check("tshark lists 3 TCP conversations", tcp_convs == 3, "%d" % tcp_convs)
check("tshark lists 1 UDP conversation to the sink",
      sum(1 for p, m in convs if p == 17) >= 1, "none")
# the echo exchanges: one flow each, requests out and replies in
for ver, n in ((4, echo_n), (6, echo6_n)):
    e = [r for r in recs if r["proto"] == 17 and r["ip_ver"] == ver and r["dst_port"] == echo_port]
    check("UDP echo over IPv%d: one flow, %d requests out, %d replies in" % (ver, n, n),
          len(e) == 1 and e[0]["out_packets"] == n and e[0]["in_packets"] == n and
          e[0]["out_bytes"] == e[0]["in_bytes"] and e[0]["initiator"] == "src",
          json.dumps(e))
tcp_recs = [r for r in recs if r["proto"] == 6]
check("TCP records == tshark TCP conversations", len(tcp_recs) == tcp_convs,
      "%d records, %d conversations" % (len(tcp_recs), tcp_convs))
for r in tcp_recs:
    if r["reason"] not in ("fin", "closed"):
        check("TCP record reason", False, json.dumps(r))

# ICMP: one echo flow, every ping request and reply in it
icmp = [r for r in recs if r["proto"] == 1 and ip_s in (r["src_addr"], r["dst_addr"])]
frames = sum(v[0] for k, v in dirs.items() if k[0] == 1)
byts = sum(v[1] for k, v in dirs.items() if k[0] == 1)
if len(icmp) == 1:
    r = icmp[0]
    table.append("%-54s %-34s %-34s" % (
        "icmp %s -> %s" % (r["src_addr"], r["dst_addr"]), "total %d,%d" % (frames, byts),
        "%d,%d / %d,%d" % (r["out_packets"], r["out_bytes"], r["in_packets"], r["in_bytes"])))
    check("icmp echo flow: %d requests, %d replies" % (pings, pings),
          (r["out_packets"], r["in_packets"]) == (pings, pings) and
          r["out_packets"] + r["in_packets"] == frames and
          r["out_bytes"] + r["in_bytes"] == byts and
          r["dst_port"] == 8 << 8 and r["initiator"] == "src" and r["src_addr"] != ip_s,
          "ours %d/%d (%d bytes), capture %d frames %d bytes" % (
              r["out_packets"], r["in_packets"], r["out_bytes"] + r["in_bytes"], frames, byts))
else:
    check("one icmp echo flow", False, "%d" % len(icmp))

print("TABLE")
for l in table:
    print("    " + l)
print("END")
for l in out:
    print(l)
PY
) || true

echo "--- tshark vs ffpf-bpf flows (frames,bytes)"
ff_results comparison "$results"

t_summary
