#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""pycount: the Python binding on a live link (docs/python.md).

    PYTHONPATH=build/python /usr/bin/python3 docs/examples/pycount.py IFNAME [SECONDS]

Counts the packets arriving on IFNAME by protocol (statistics flows: no
packet reaches user space), prints every conversation that ends (a
FlowManager over both directions) and the first bytes of the first UDP
datagrams to port 53 (a copy-mode flow: zero-copy memoryviews).
"""
import contextlib
import sys
import time

import ffpf

PROTOS = {"icmp": "match(icmp) -> count", "udp": "match(udp) -> count",
          "tcp": "match(tcp) -> count"}
NAMES = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmp6"}


class Printer(ffpf.FlowManager):
    """Peafowl's FlowManager: on_termination() once per ended flow."""

    def on_termination(self, r):
        if r.proto in (6, 17):
            ends = "%s:%d -> %s:%d" % (r.src, r.sport, r.dst, r.dport)
        else:  # ICMP: dport is type << 8 | code, sport the echo id
            ends = "%s -> %s type %d" % (r.src, r.dst, r.dport >> 8)
        print("ended  %-5s %s  %s: out %d pkts %d B, in %d pkts %d B" % (
            NAMES.get(r.proto, r.proto), ends, r.reason.name.lower(),
            r.get_statistic(ffpf.Stat.PACKETS, ffpf.Direction.OUTBOUND),
            r.get_statistic(ffpf.Stat.BYTES, ffpf.Direction.OUTBOUND),
            r.get_statistic(ffpf.Stat.PACKETS, ffpf.Direction.INBOUND),
            r.get_statistic(ffpf.Stat.BYTES, ffpf.Direction.INBOUND)), flush=True)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    ifname = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) == 3 else 10.0
    with contextlib.ExitStack() as stack:
        counts = {}
        for name, spec in PROTOS.items():
            f = stack.enter_context(ffpf.Flow(ifname, spec, name=name))
            f.instantiate()
            f.activate()
            counts[name] = f
        dns = stack.enter_context(ffpf.Flow(ifname, "match(udp, dst port 53)", name="dns",
                                            rx=ffpf.RX_COPY, snaplen=128))
        dns.instantiate()
        dns.activate()
        tracker = stack.enter_context(Printer(ifname, "flowtrack(idle=2)"))
        print("pycount: libffpfbpf %s on %s for %g s" % (ffpf.version(), ifname, seconds),
              flush=True)

        shown, end = 0, time.time() + seconds
        while time.time() < end:
            for pkt in dns.packets(timeout=min(0.2, max(0.01, end - time.time()))):
                if shown < 3:
                    # pkt.data: a memoryview into the PBuf, valid until the next packet
                    ip = pkt.data[14:34]
                    print("packet seq %d: %d bytes on the wire, IPv4 %s, UDP header %s" % (
                        pkt.seq, pkt.wire_len, ip.hex(" ", 4), pkt.data[34:42].hex(" ")),
                        flush=True)
                    ip.release()
                shown += 1
                if time.time() >= end:
                    break

        for name, f in counts.items():
            st, mb = f.stats(), f.mbuf(1).counters()
            print("%-4s %4d packets %7d bytes (count MBuf: %d passed)" % (
                name, st["packets"], st["bytes"], mb["passed"]))
        rx = dns.rx_stats()
        print("dns  %4d received, %d shown, %d dropped" % (rx["received"], min(shown, 3),
                                                          rx["dropped"]))
        st = tracker.stats()
        print("tracker: %d flows live, %d ended so far; closing" % (st["live"], st["records"]),
              flush=True)
    # leaving the with block closed every flow: the live ones ended "closed"


if __name__ == "__main__":
    main()
