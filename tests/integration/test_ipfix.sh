#!/usr/bin/env bash
# Integration test: `ffpf-bpf flows --ipfix` exports every ended flow to a
# real IPFIX collector, and what the collector stores is what the JSON
# records say.
#
# ffpf-bpf flows tracks the server end IF_S and writes JSON records and
# IPFIX to nfcapd, listening on the server namespace's loopback, while
# tcpdump captures those IPFIX datagrams. Traffic: three downloads over
# IPv4 and one over IPv6 (HTTP), UDP datagrams over both, pings over both.
# Then, flow by flow:
#   - nfdump (reading nfcapd's file) against the JSON records: addresses,
#     ports or ICMP type, protocol, packets and bytes both ways (nfdump 1.7
#     maps the RFC 5103 reverse octets/packets to its out_bytes/out_packets),
#     forward TCP flags, start and end, end reason and biflow direction (from
#     -o raw); one stored flow per record; no sequence failure;
#   - ipfixDump (libfixbuf) on the captured messages: every element,
#     reverse ones included, flowEndReason and biflowDirection;
#   - tshark's cflow dissector on the capture: templates 256 and 257 in the
#     first message, each message's sequence number = previous one + the
#     previous message's data records, messages and records as the command
#     reports them, and some sent by the status tick before the stop.
# IPFIX octets are IP bytes: the JSON's wire bytes minus 14 per packet.
# Last, a short run exporting to a port nobody listens on must count every
# record as lost and exit 1.
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh and
# their loopbacks.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools tcpdump tshark curl ping ss nfcapd nfdump ipfixDump
ffpf_setup

HTTP_PORT=8080 HTTP6_PORT=8081 UDP_PORT=5005 UDP_N=6 UDP6_N=4 PINGS=5 PINGS6=3
IPFIX_PORT=$((40000 + RANDOM % 20000))	# the namespace's own loopback: no clash
export TZ=UTC				# nfdump and ipfixDump print local time

start_http_server "$HTTP_PORT"
start_udp_sink "$UDP_PORT"
# python's http.server binds one address: a second one for IPv6
ns_bg "$NS_S" "$FF_TMP/http6.log" "$FF_PYTHON" -m http.server "$HTTP6_PORT" \
	--bind "$IP6_S" --directory "$FF_WWW"
wait_for "ns_s '$FF_PYTHON' -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=0.5).close()' '$IP6_S' $HTTP6_PORT 2>/dev/null" 10 ||
	t_fail "IPv6 http server" "$(tail -n 3 "$FF_TMP/http6.log")"

# --- the collector, on the server namespace's loopback ---------------------
nfdir=$FF_TMP/nfcapd
mkdir -p "$nfdir"
ns_bg "$NS_S" "$FF_TMP/nfcapd.log" nfcapd -w "$nfdir" -b 127.0.0.1 -p "$IPFIX_PORT" -t 3600
NFCAPD_PID=$FF_LAST_PID
udp_bound() { ns_s ss -Hlun "sport = :$IPFIX_PORT" | grep -q .; }
if ! wait_for udp_bound 10; then
	t_fail "nfcapd listens on 127.0.0.1:$IPFIX_PORT" "$(tail -n 5 "$FF_TMP/nfcapd.log")"
	t_summary
	exit 1
fi
t_pass "nfcapd listens on 127.0.0.1:$IPFIX_PORT in $NS_S"

ipcap=$FF_TMP/ipfix.pcap
ff_tcpdump_dir_start "$NS_S" lo inout "$ipcap" "udp port $IPFIX_PORT"

# --- ffpf-bpf flows with JSON records and IPFIX ------------------------------
recs=$FF_TMP/recs.jsonl
ferr=$FF_TMP/flows.err
ff_flows_start_or_die flows --flows-out "$recs" --ipfix "127.0.0.1:$IPFIX_PORT"

for f in 1k.bin 100k.bin 1m.bin; do
	n=$(ns_c curl -s -o /dev/null -w '%{size_download}' "$FF_HTTP_URL/$f" || echo fail)
	t_check "curl $f" "$(stat -c %s "$FF_WWW/$f")" "$n"
done
n=$(ns_c curl -sg -o /dev/null -w '%{size_download}' "http://[$IP6_S]:$HTTP6_PORT/100k.bin" ||
	echo fail)
t_check "curl 100k.bin over IPv6" "$(stat -c %s "$FF_WWW/100k.bin")" "$n"
udp_send "$UDP_N" "$UDP_PORT" 100
udp_send "$UDP6_N" "$UDP_PORT" 120 "$IP6_S"
udp_wait_count "$UDP_PORT" $((UDP_N + UDP6_N)) || true
ns_c ping -c "$PINGS" -i 0.2 -W 1 -q "$IP_S" >/dev/null
ns_c ping -6 -c "$PINGS6" -i 0.2 -W 1 -q "$IP6_S" >/dev/null
# FIN both ways ends a TCP flow after a 2 s linger; the next status tick
# (every second) sends it: those records leave before the command stops
sleep 3.5
stop_at=$(date +%s.%N)

ffpf_stop flows INT 15 || true
t_check "flows exits 0" 0 "$FFPF_RC"
echo "--- ffpf-bpf flows stderr (last lines)"
tail -n 3 "$ferr" | sed 's/^/    /'

# let nfcapd read what is queued before it is stopped (SIGTERM writes the file)
queued() { ns_s ss -Hlun "sport = :$IPFIX_PORT" | awk '{ print $2 }'; }
# shellcheck disable=SC2016 # expanded by wait_for's eval, every try
wait_for '[[ "$(queued)" == 0 ]]' 5 || true
sleep 0.3
tcpdump_stop "$ipcap"
t_check "tcpdump dropped no IPFIX datagram" 0 "$(ff_tcpdump_dropped "$ipcap")"
ns_kill "$NFCAPD_PID"
nffile=$(find "$nfdir" -maxdepth 1 -name 'nfcapd.[0-9]*' | head -n1)
if [[ -n "$nffile" ]]; then
	t_pass "nfcapd wrote $(basename "$nffile")"
else
	t_fail "nfcapd wrote a file" "$(ls -la "$nfdir"; tail -n 5 "$FF_TMP/nfcapd.log")"
	nffile=/dev/null
fi
echo "--- nfcapd (last lines)"
tail -n 2 "$FF_TMP/nfcapd.log" | sed 's/^/    /'

# --- the three decoders --------------------------------------------------------
nfjson=$FF_TMP/nfdump.json
nfinfo=$FF_TMP/nfdump.info
nfraw=$FF_TMP/nfdump.raw
nfdump -r "$nffile" -o json >"$nfjson" 2>"$FF_TMP/nfdump.err" || true
# -o json leaves out the flow end reason and biflow direction; -o raw has them
nfdump -r "$nffile" -o raw >"$nfraw" 2>>"$FF_TMP/nfdump.err" || true
nfdump -r "$nffile" -I >"$nfinfo" 2>&1 || true

# the captured UDP payloads, one message after the other: ipfixDump's input
payloads=$FF_TMP/ipfix.bin
tshark -r "$ipcap" -T fields -e udp.payload 2>/dev/null |
	"$FF_PYTHON" -c 'import sys; sys.stdout.buffer.write(b"".join(bytes.fromhex(l.strip()) for l in sys.stdin if l.strip()))' \
		>"$payloads"
ipdump=$FF_TMP/ipfixdump.txt
# (its warnings, e.g. about sequence numbers, on stderr: not inside a record)
ipfixDump --in "$payloads" >"$ipdump" 2>"$FF_TMP/ipfixdump.err" || true

cflow=$FF_TMP/cflow.txt
tshark -r "$ipcap" -d "udp.port==$IPFIX_PORT,cflow" -T fields -E occurrence=a \
	-E aggregator=';' -e frame.time_epoch -e cflow.version -e cflow.len -e cflow.sequence \
	-e cflow.od_id -e cflow.flowset_id -e cflow.template_id -e cflow.srcaddr \
	-e cflow.srcaddrv6 2>/dev/null >"$cflow" || true

# Prints "PASS|FAIL name: detail" lines and the comparison table.
results=$("$FF_PYTHON" - "$recs" "$nfjson" "$nfinfo" "$ipdump" "$cflow" "$ferr" \
	"$IPFIX_PORT" "$stop_at" "$IP_S" "$IP6_S" "$PINGS" "$PINGS6" "$nfraw" <<'PY'
import calendar, collections, ipaddress, json, re, sys, time, traceback

(recs_path, nfjson_path, nfinfo_path, ipdump_path, cflow_path, ferr_path, port,
 stop_at, ip_s, ip6_s, pings, pings6) = sys.argv[1:13]
stop_at, pings, pings6 = float(stop_at), int(pings), int(pings6)
nfraw_path = sys.argv[13]
out = []
def check(name, ok, detail=""):
    out.append(("PASS" if ok else "FAIL") + "  " + name + (": " + detail if detail and not ok else ""))

REASON = {"idle": 1, "active": 2, "fin": 3, "rst": 3, "evicted": 5, "forced": 4, "closed": 4}
def is_icmp(r):
    return r["proto"] in (1, 58)
def ip_bytes(b, p):
    return b - 14 * p
def flags_str(v):
    return "".join(c if v & (0x80 >> i) else "." for i, c in enumerate("CEUAPRSF"))
def ms(s):   # "2026-11-23T14:13:07.718" or "2026-11-23 14:13:07.718", UTC
    s = s.replace("T", " ")
    sec, _, frac = s.partition(".")
    return calendar.timegm(time.strptime(sec, "%Y-%m-%d %H:%M:%S")) * 1000 + int((frac + "000")[:3])

table = []
sf = None
msgs = []

def main():
    global table, sf, msgs
    # --- our records --------------------------------------------------------------
    recs = [json.loads(l) for l in open(recs_path) if l.strip()]
    check("JSON records written", len(recs) > 0, "none")

    # --- what the command says it sent ------------------------------------------
    m = None
    for l in open(ferr_path):
        m = re.search(r"ipfix to 127\.0\.0\.1:%s: messages (\d+), records (\d+), templates (\d+), "
                      r"lost (\d+) \(send errors (\d+)\)" % port, l) or m
    check("summary line: ipfix messages, records, lost", m is not None, "no ipfix summary line")
    sent_msgs, sent_recs, sent_tmpl, lost, send_err = (int(x) for x in m.groups()) if m else (0,) * 5
    check("ipfix: every record exported (records == JSON records)", sent_recs == len(recs),
          "%d exported, %d JSON records" % (sent_recs, len(recs)))
    check("ipfix: nothing lost", lost == 0 and send_err == 0, "lost %d, send errors %d" % (lost, send_err))

    # --- tshark: the messages on the wire ---------------------------------------
    msgs = []
    for l in open(cflow_path):
        p = l.rstrip("\n").split("\t")
        if len(p) < 9 or not p[1]:
            continue
        nrec = len([x for x in p[7].split(";") if x]) + len([x for x in p[8].split(";") if x])
        msgs.append(dict(t=float(p[0]), version=p[1], len=int(p[2]), seq=int(p[3]), od=p[4],
                         sets=[int(x) for x in p[5].split(";") if x],
                         tmpls=[int(x) for x in p[6].split(";") if x], nrec=nrec))
    check("tshark: one IPFIX message per datagram sent", len(msgs) == sent_msgs,
          "%d captured, %d sent" % (len(msgs), sent_msgs))
    check("tshark: version 10, domain 0, length <= 1400",
          all(x["version"] == "10" and x["od"] == "0" and x["len"] <= 1400 for x in msgs),
          str([(x["version"], x["od"], x["len"]) for x in msgs]))
    check("tshark: first message carries templates 256 and 257",
          bool(msgs) and 2 in msgs[0]["sets"] and sorted(msgs[0]["tmpls"]) == [256, 257],
          str(msgs[0] if msgs else None))
    check("tshark: template records == reported", sum(len(x["tmpls"]) for x in msgs) == sent_tmpl,
          "%d on the wire, %d reported" % (sum(len(x["tmpls"]) for x in msgs), sent_tmpl))
    bad = []
    for a, b in zip(msgs, msgs[1:]):
        if b["seq"] != (a["seq"] + a["nrec"]) % 2**32:
            bad.append((a["seq"], a["nrec"], b["seq"]))
    check("tshark: seq = previous seq + previous data records (%d messages)" % len(msgs),
          bool(msgs) and msgs[0]["seq"] == 0 and not bad, "first %s, breaks %s" % (
              msgs[0]["seq"] if msgs else None, bad))
    check("tshark: data records == reported", sum(x["nrec"] for x in msgs) == sent_recs,
          "%d on the wire, %d reported" % (sum(x["nrec"] for x in msgs), sent_recs))
    early = [x for x in msgs if x["t"] < stop_at and x["nrec"]]
    check("flushed while running: records sent before the command stopped", len(early) > 0,
          "every data record left at exit")

    # --- ipfixDump: every element ----------------------------------------------------
    dumped, hdr_seq, cur = [], [], None
    for l in open(ipdump_path):
        if l.startswith("--- data record"):
            cur = {}
            dumped.append(cur)
            continue
        if l.startswith("--- "):
            cur = None
        s = re.search(r"sequence number: (\d+)", l)
        if s:
            hdr_seq.append(int(s.group(1)))
        f = re.match(r"^\s*\((\d+(?:/\d+)?)\)\s+(\w+)\s*:\s*(.*?)\s*$", l)
        if f and cur is not None:
            cur[f.group(2)] = f.group(3)
    check("ipfixDump: decodes every message and record",
          len(hdr_seq) == len(msgs) and len(dumped) == sent_recs,
          "%d messages, %d records (sent %d, %d)" % (len(hdr_seq), len(dumped), len(msgs), sent_recs))
    check("ipfixDump: the same sequence numbers as tshark", hdr_seq == [x["seq"] for x in msgs],
          "%s vs %s" % (hdr_seq[:8], [x["seq"] for x in msgs][:8]))

    def dkey(d):
        v6 = "sourceIPv6Address" in d
        # ipfixDump writes IPv6 addresses uncompressed ("fd00:0199::0001")
        src = str(ipaddress.ip_address(d["sourceIPv6Address" if v6 else "sourceIPv4Address"]))
        dst = str(ipaddress.ip_address(d["destinationIPv6Address" if v6 else "destinationIPv4Address"]))
        proto = int(d["protocolIdentifier"])
        if proto in (1, 58):
            tc = int(d["icmpTypeCodeIPv6" if v6 else "icmpTypeCodeIPv4"])
            return (proto, src, dst, "icmp", tc)
        return (proto, src, int(d["sourceTransportPort"]), dst, int(d["destinationTransportPort"]))

    def rkey_candidates(r):
        if is_icmp(r):   # type/code is the key's port[0]: one of the two ports
            return [(r["proto"], r["src_addr"], r["dst_addr"], "icmp", r["src_port"]),
                    (r["proto"], r["src_addr"], r["dst_addr"], "icmp", r["dst_port"])]
        return [(r["proto"], r["src_addr"], r["src_port"], r["dst_addr"], r["dst_port"])]

    def pair(recs, others, key_of, first_ms_of):
        """Match every record with one other: same key, then in start order."""
        by = collections.defaultdict(list)
        for o in others:
            by[key_of(o)].append(o)
        for v in by.values():
            v.sort(key=first_ms_of)
        pairs, unmatched = [], []
        for r in sorted(recs, key=lambda r: r["first_ms"]):
            for k in rkey_candidates(r):
                if by.get(k):
                    pairs.append((r, by[k].pop(0)))
                    break
            else:
                unmatched.append(r)
        left = [o for v in by.values() for o in v]
        return pairs, unmatched, left

    dpairs, dun, dleft = pair(recs, dumped, dkey, lambda d: ms(d["flowStartMilliseconds"]))
    check("ipfixDump: one exported record per JSON record", not dun and not dleft,
          "unmatched JSON %s, extra exported %s" % (dun[:3], dleft[:3]))
    dbad = []
    for r, d in dpairs:
        want = {
            "octetDeltaCount": ip_bytes(r["out_bytes"], r["out_packets"]),
            "packetDeltaCount": r["out_packets"],
            "layer2OctetDeltaCount": r["out_bytes"],
            "reverseOctetDeltaCount": ip_bytes(r["in_bytes"], r["in_packets"]),
            "reversePacketDeltaCount": r["in_packets"],
            "reverseLayer2OctetDeltaCount": r["in_bytes"],
            "tcpControlBits": r["tcp_flags_out"],
            "reverseTcpControlBits": r["tcp_flags_in"],
            "flowEndReason": REASON[r["reason"]],
            "biflowDirection": 1 if r["initiator"] == "src" else 0,
            "flowStartMilliseconds": r["first_ms"],
            "flowEndMilliseconds": r["last_ms"],
        }
        for k, v in want.items():
            got = d.get(k)
            got = ms(got) if k.endswith("Milliseconds") and got else int(got) if got else None
            if got != v:
                dbad.append("%s %s: %s, want %s" % (r["src_addr"], k, got, v))
    check("ipfixDump: forward and reverse counters, flags, times, reason, direction "
          "(%d records)" % len(dpairs), not dbad, "; ".join(dbad[:6]))

    # --- nfdump: what the collector stored ----------------------------------------------
    try:
        nf = json.load(open(nfjson_path))
    except ValueError as e:
        nf = []
        check("nfdump -o json is valid JSON", False, str(e))
    nf = [f for f in nf if f.get("type") == "FLOW"]
    check("nfdump: one stored flow per JSON record", len(nf) == len(recs),
          "%d stored, %d records" % (len(nf), len(recs)))
    # the same flows in the same order: take end reason and biflow direction from -o raw
    raw = open(nfraw_path).read().split("Flow Record:")[1:]
    check("nfdump -o raw: the same flows as -o json", len(raw) == len(nf),
          "%d raw, %d json" % (len(raw), len(nf)))
    for f, blk in zip(nf, raw):
        b = re.search(r"biFlow Dir\s*=\s*0x([0-9a-f]+)", blk)
        e = re.search(r"end reason\s*=\s*0x([0-9a-f]+)", blk)
        f["biflow_dir"] = int(b.group(1), 16) if b else None
        f["end_reason"] = int(e.group(1), 16) if e else None
    info = open(nfinfo_path).read()
    sf = re.search(r"Sequence failures: (\d+)", info)
    check("nfdump -I: no sequence failure", sf is not None and sf.group(1) == "0",
          sf.group(0) if sf else info[:200])

    def nkey(f):
        src = f.get("src4_addr") or f.get("src6_addr")
        dst = f.get("dst4_addr") or f.get("dst6_addr")
        if f["proto"] in (1, 58):
            return (f["proto"], src, dst, "icmp", f.get("icmp_type", 0) << 8 | f.get("icmp_code", 0))
        return (f["proto"], src, f["src_port"], dst, f["dst_port"])

    npairs, nun, nleft = pair(recs, nf, nkey, lambda f: ms(f["first"]))
    check("nfdump: every JSON record found (addresses, ports or ICMP type, protocol)",
          not nun and not nleft, "unmatched JSON %s, extra stored %s" % (nun[:3], nleft[:3]))
    table = ["%-56s %-30s %-30s" % ("flow (initiator -> responder)", "ours out / in (pkts,bytes)",
                                    "nfdump in / out (pkts,IP bytes)")]
    nbad = []
    for r, f in npairs:
        pname = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp6"}.get(r["proto"], str(r["proto"]))
        if is_icmp(r):
            name = "%s %s -> %s type %d.%d" % (pname, r["src_addr"], r["dst_addr"],
                                               f.get("icmp_type", 0), f.get("icmp_code", 0))
        else:
            name = "%s %s:%s -> %s:%s" % (pname, r["src_addr"], r["src_port"], r["dst_addr"],
                                          r["dst_port"])
        table.append("%-56s %-30s %-30s" % (name[:56], "%d,%d / %d,%d" % (
            r["out_packets"], r["out_bytes"], r["in_packets"], r["in_bytes"]),
            "%d,%d / %d,%d" % (f["in_packets"], f["in_bytes"], f.get("out_packets", 0),
                               f.get("out_bytes", 0))))
        want = {
            "in_packets": r["out_packets"], "in_bytes": ip_bytes(r["out_bytes"], r["out_packets"]),
            "out_packets": r["in_packets"], "out_bytes": ip_bytes(r["in_bytes"], r["in_packets"]),
            "first": r["first_ms"], "last": r["last_ms"],
            "end_reason": REASON[r["reason"]], "biflow_dir": 1 if r["initiator"] == "src" else 0,
        }
        for k, v in want.items():
            got = ms(f[k]) if k in ("first", "last") else f.get(k, 0)
            if got != v:
                nbad.append("%s %s: %s, want %s" % (name, k, got, v))
        if r["proto"] == 6 and f.get("tcp_flags") != flags_str(r["tcp_flags_out"]):
            nbad.append("%s tcp_flags: %s, want %s" % (name, f.get("tcp_flags"),
                                                       flags_str(r["tcp_flags_out"])))
    check("nfdump: packets and bytes both ways (reverse elements as out_*), flags, times, "
          "end reason, biflow direction (%d flows)" % len(npairs), not nbad, "; ".join(nbad[:6]))

    # --- the traffic is there ---------------------------------------------------------------
    tcp = [r for r in recs if r["proto"] == 6]
    check("4 TCP flows (3 IPv4, 1 IPv6), ended by fin or closed, client initiated",
          len(tcp) == 4 and sum(1 for r in tcp if r["ip_ver"] == 6) == 1 and
          all(r["reason"] in ("fin", "closed") and r["initiator"] == "src" and
              r["dst_addr"] in (ip_s, ip6_s) for r in tcp),
          json.dumps(tcp)[:300])
    udp = [r for r in recs if r["proto"] == 17 and r["dst_addr"] in (ip_s, ip6_s)]
    check("UDP flows to the sink over IPv4 and IPv6",
          sorted(r["ip_ver"] for r in udp) == [4, 6], json.dumps(udp)[:300])
    e4 = [r for r in recs if r["proto"] == 1 and ip_s in (r["src_addr"], r["dst_addr"])]
    e6 = [r for r in recs if r["proto"] == 58 and r["dst_addr"] == ip6_s and
          128 << 8 in (r["src_port"], r["dst_port"])]
    check("ICMP echo flow: %d requests, %d replies" % (pings, pings),
          len(e4) == 1 and (e4[0]["out_packets"], e4[0]["in_packets"]) == (pings, pings),
          json.dumps(e4)[:300])
    check("ICMPv6 echo flow: %d requests, %d replies" % (pings6, pings6),
          len(e6) == 1 and (e6[0]["out_packets"], e6[0]["in_packets"]) == (pings6, pings6),
          json.dumps(e6)[:300])

try:
    main()
except Exception:
    check("comparison script", False, traceback.format_exc().strip().splitlines()[-1] +
          " (" + traceback.format_exc().strip().splitlines()[-3].strip() + ")")

print("TABLE")
for l in table:
    print("    " + l)
print("    messages %d, data records %d, template records %d; nfdump %s" % (
    len(msgs), sum(x["nrec"] for x in msgs), sum(len(x["tmpls"]) for x in msgs),
    sf.group(0) if sf else "?"))
print("END")
for l in out:
    print(l)
PY
) || true

echo "--- JSON records vs nfdump (nfdump's bytes are IP bytes: frames minus 14 per packet)"
ff_results comparison "$results"

# --- nobody listening: the records are counted as lost, and the exit says so ---
# The first status tick sends the templates, the collector's port answers
# unreachable, and the send at exit (the flows the close ends) is refused.
lrecs=$FF_TMP/lost.jsonl
lerr=$FF_TMP/lost.err
if ff_flows_start lost -q --flows-out "$lrecs" --ipfix "127.0.0.1:$((IPFIX_PORT + 1))" -d 3; then
	ns_c ping -c 3 -i 0.2 -W 1 -q "$IP_S" >/dev/null || true
fi
LPID=$(ffpf_pid lost)
wait_for "! kill -0 $LPID 2>/dev/null" 10 || true	# -d 3: it stops by itself
ffpf_stop lost INT 15 || true	# reaps it (a signal only if it hung)
t_check "no collector: flows exits 1" 1 "$FFPF_RC"
nl=$(grep -c . "$lrecs" 2>/dev/null || echo 0)
lost=$(sed -n 's/.*ipfix to .*, lost \([0-9]*\) (send errors \([0-9]*\)).*/\1 \2/p' "$lerr")
if ((nl > 0)) && [[ "$lost" =~ ^$nl\ [1-9] ]]; then
	t_pass "no collector: all $nl records counted as lost ($(grep -o 'ipfix to.*' "$lerr"))"
else
	t_fail "no collector: records counted as lost" "$nl JSON records; $(cat "$lerr")"
fi

t_summary
