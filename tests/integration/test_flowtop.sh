#!/usr/bin/env bash
# Integration test: the live table of `ffpf-bpf flows --top`.
#
# ffpf-bpf flows tracks the server end IF_S with --top (stdout not a
# terminal: one block per refresh). The client sends a UDP stream of
# 1000-byte datagrams every 10 ms for 4 s from a known port, and pings
# meanwhile. Checked on the blocks: the stream's row appears while it
# runs, its bytes grow from block to block, its rate is about what was
# sent mid-way, rows are sorted by bytes, the header
# counts agree with the rows, and the final table lists every flow still
# live; at the end each of those ends in exactly one "closed" record (the
# records as CSV, with their header). Also
# the option errors: --top with records on stdout, a bad --sort.
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools ping
ffpf_setup

UDP_PORT=5005 CPORT=40123

# --- option errors (no traffic needed) --------------------------------------
rc=0
err=$("$FFPF" flows -i "$IF_S" --top 2>&1 >/dev/null) || rc=$?
t_check "--top with records on stdout is a usage error" 2 "$rc"
t_check "... saying why" 1 "$(grep -c 'give them a file with --flows-out' <<<"$err" || true)"
rc=0
err=$("$FFPF" flows -i "$IF_S" -o /dev/null --sort size 2>&1 >/dev/null) || rc=$?
t_check "--sort size is a usage error" 2 "$rc"
t_check "... naming the keys" 1 "$(grep -c "expected bytes, packets, rate or age" <<<"$err" || true)"

start_udp_sink "$UDP_PORT"

top=$FF_TMP/flows.out	# the tables: stdout of ff_flows_start flows
recs=$FF_TMP/recs.csv	# CSV here (the other flows tests read JSON lines)
ff_flows_start_or_die flows --flows-out "$recs" --format csv --top --rows 5 --interval 0.5

ns_c ping -c 8 -i 0.5 -W 1 -q "$IP_S" >/dev/null &
PING=$!
# 400 datagrams of 1000 bytes, one per 10 ms: about 104 KB/s on the wire
sent=$(ns_c "$FF_PYTHON" - "$IP_S" "$UDP_PORT" "$CPORT" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[3])))
t0, n = time.monotonic(), 0
while n < 400:
    s.sendto(b"x" * 1000, (sys.argv[1], int(sys.argv[2])))
    n += 1
    time.sleep(max(0, t0 + n * 0.01 - time.monotonic()))
print(n)
PY
)
wait "$PING" || true
t_check "UDP stream sent" 400 "$sent"
sleep 1
ffpf_stop flows INT 15 || true
t_check "flows exits 0" 0 "$FFPF_RC"

echo "--- last live block and the final table"
awk 'BEGIN{RS="";ORS="\n\n"} {b[NR]=$0} END{print b[NR-1]; print b[NR]}' "$top" | sed 's/^/    /'

results=$("$FF_PYTHON" - "$top" "$recs" "$IP_C" "$CPORT" "$IP_S" "$UDP_PORT" <<'PY'
import csv, re, sys

top_path, recs_path, ip_c, cport, ip_s, sport = sys.argv[1:7]
out = []
def check(name, ok, detail=""):
    out.append(("PASS" if ok else "FAIL") + "  " + name + (": " + detail if detail and not ok else ""))

def num(s):
    m = re.fullmatch(r"([\d.]+)([KMGTP]?)", s)
    return float(m.group(1)) * 1024 ** " KMGTP".index(m.group(2) or " ")

blocks = [b for b in open(top_path).read().split("\n\n") if b.strip()]
live = [b for b in blocks if not b.startswith("final: ")]
final = [b for b in blocks if b.startswith("final: ")]
check("live blocks printed (one per 0.5 s)", len(live) >= 6, "%d blocks" % len(live))
check("one final table, last", len(final) == 1 and blocks[-1].startswith("final: "),
      "%d final tables" % len(final))

hdr = re.compile(r"^(?:final: )?\S+: live (\d+)  created (\d+)  ended (\d+)  table_full (\d+)")
row = re.compile(r"^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+"
                 r"([\d.]+)s\s+([\d.]+)s\s+(\S+)$")
def parse(b):
    lines = b.splitlines()
    h = hdr.match(lines[0])
    rows = [row.match(l) for l in lines[2:] if not l.startswith("...")]
    more = [int(l.split()[1]) for l in lines[2:] if l.startswith("...")]
    return h, rows, (more[0] if more else 0), lines

ok_fmt, sorted_ok, counts_ok = True, True, True
dl = []   # (bytes out, rate, state) of the stream per live block
want_src, want_dst = "%s:%s" % (ip_c, cport), "%s:%s" % (ip_s, sport)
for b in blocks:
    h, rows, more, lines = parse(b)
    if not h or lines[1].split()[:3] != ["PROTO", "SOURCE", "DESTINATION"] or None in rows:
        ok_fmt = False
        continue
    totals = [num(r.group(5)) + num(r.group(7)) for r in rows]
    # human() rounds to 0.1 of a unit: allow that much
    if any(a < b * 0.95 for a, b in zip(totals, totals[1:])):
        sorted_ok = False
    if int(h.group(1)) != len(rows) + more:
        counts_ok = False
    for r in rows:
        if r.group(1) == "udp" and r.group(2) == want_src and r.group(3) == want_dst:
            if not b.startswith("final: "):
                dl.append((num(r.group(5)), num(r.group(8)), r.group(11)))
check("every block has a header, column titles and rows", ok_fmt)
check("rows sorted by bytes, largest first", sorted_ok)
check("header's live count == rows shown + '... N more'", counts_ok)
check("the stream appears as client -> server:%s while it runs" % sport, len(dl) >= 4,
      "%d blocks with it" % len(dl))
grow = all(b >= a for (a, _, _), (b, _, _) in zip(dl, dl[1:])) and dl and dl[-1][0] > dl[0][0]
check("its outbound bytes grow from block to block", bool(grow), str([d[0] for d in dl]))
# 400 x 1042 wire bytes over 4 s: about 104 KB/s; a loaded machine may stretch it
# (the first and last blocks with it cover part of an interval only)
check("its rate is 50..200 KB/s in at least 3 blocks", sum(50e3 < r < 200e3 for _, r, _ in dl) >= 3,
      str([d[1] for d in dl]))
check("its state is active", all(s == "active" for _, _, s in dl),
      str([d[2] for d in dl]))

want_hdr = ("proto,ip_ver,src_addr,src_port,dst_addr,dst_port,initiator,out_packets,out_bytes,"
            "in_packets,in_bytes,first_ms,last_ms,tcp_flags_out,tcp_flags_in,reason")
lines = open(recs_path).read().splitlines()
check("CSV records: the header first", bool(lines) and lines[0] == want_hdr, lines[0] if lines else "empty")
recs = list(csv.DictReader(lines))
check("CSV records: 16 fields a row", all(len(r) == 16 and None not in r.values() for r in recs))
for r in recs:
    for k in ("proto", "ip_ver", "src_port", "dst_port", "out_packets", "out_bytes", "in_packets",
              "in_bytes", "first_ms", "last_ms"):
        r[k] = int(r[k])
closed = [r for r in recs if r["reason"] == "closed"]
h, rows, more, _ = parse(final[0]) if final else (None, [], 0, [])
check("final table lists all live flows", bool(h) and len(rows) == int(h.group(1)) and more == 0,
      "%d rows" % len(rows))
check("... and each ends in one 'closed' record", len(rows) == len(closed),
      "%d rows, %d closed records" % (len(rows), len(closed)))
d = [r for r in recs if r["proto"] == 17 and r["src_port"] == int(cport)]
check("the stream has exactly one record, ended 'closed'", len(d) == 1 and d[0]["reason"] == "closed",
      str(d))
if d:
    check("... with its 400 datagrams", d[0]["out_packets"] == 400 and d[0]["out_bytes"] == 400 * 1042,
          "%d packets, %d bytes" % (d[0]["out_packets"], d[0]["out_bytes"]))
print("\n".join(out))
PY
)
ff_results "table checks" "$results"

t_summary
