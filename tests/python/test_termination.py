# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""FlowManager: on_termination(record) fires once per flow with the right
end reason (FIN, RST, idle) for real TCP/UDP traffic, and its per-direction
counters are those of a tcpdump capture of both directions."""
import collections
import errno
import socket
import subprocess
import sys
import threading
import time

import pytest

import ffpf

SERVER = """
import socket, sys, threading
ip, tport, uport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((ip, uport))
def echo():
    while True:
        d, a = u.recvfrom(2048)
        u.sendto(d.upper(), a)
threading.Thread(target=echo, daemon=True).start()
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((ip, tport))
t.listen(8)
print("ready", flush=True)
while True:
    c, _ = t.accept()
    try:
        while True:
            d = c.recv(4096)
            if not d:
                break
            c.sendall(d[::-1])
    except OSError:
        pass
    c.close()
"""

CLIENT = """
import socket, struct, sys, time
ip, tport, uport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# FIN both ways: shut down, read to the end, close
a = socket.create_connection((ip, tport))
a.sendall(b"hello ffpf" * 50)
a.shutdown(socket.SHUT_WR)
while a.recv(4096):
    pass
print("fin", a.getsockname()[1])
a.close()
# RST: linger 0
b = socket.create_connection((ip, tport))
b.sendall(b"reset me")
time.sleep(0.2)
b.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
print("rst", b.getsockname()[1])
b.close()
# UDP request/response, then silence: idle
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3):
    u.sendto(b"ping %d" % i, (ip, uport))
    u.recvfrom(2048)
print("udp", u.getsockname()[1])
"""


def directions(pcap_packets):
    """(proto, src, sport, dst, dport) -> [packets, bytes] from a capture"""
    d = collections.defaultdict(lambda: [0, 0])
    for _, wire, b in pcap_packets:
        if b[12:14] != b"\x08\x00":
            continue
        ihl = (b[14] & 0xf) * 4
        proto = b[23]
        src, dst = socket.inet_ntoa(b[26:30]), socket.inet_ntoa(b[30:34])
        sp = int.from_bytes(b[14 + ihl:16 + ihl], "big")
        dp = int.from_bytes(b[16 + ihl:18 + ihl], "big")
        e = d[(proto, src, sp, dst, dp)]
        e[0] += 1
        e[1] += wire
    return d


class Collector(ffpf.FlowManager):
    def __init__(self, *a, **kw):
        self.records = []
        self.threads = set()
        self.lock = threading.Lock()
        super().__init__(*a, **kw)

    def on_termination(self, record):
        with self.lock:
            self.records.append(record)
            if record.reason != ffpf.Reason.CLOSED:
                self.threads.add(threading.get_ident())


def test_termination_reasons_and_directions(net, tcpdump):
    tport, uport = 5401, 5402
    srv = subprocess.Popen([sys.executable, "-c", SERVER, net.ip_s, str(tport), str(uport)],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert srv.stdout.readline().strip() == "ready"
        cap = tcpdump("tcp port %d or udp port %d" % (tport, uport), direction="inout")
        with Collector(net.if_s, "flowtrack(idle=1)", name="pyft") as m:
            out = net.cpy(CLIENT, net.ip_s, tport, uport).stdout.split()
            ports = {out[i]: int(out[i + 1]) for i in range(0, len(out), 2)}
            deadline = time.time() + 10
            while time.time() < deadline:
                with m.lock:
                    mine = [r for r in m.records if r.sport in ports.values()]
                if len(mine) >= 3:
                    break
                time.sleep(0.2)
            live = m.flows()
            st = m.stats()
        cap.stop()
    finally:
        srv.kill()
        srv.wait()
    assert m.threads and threading.get_ident() not in m.threads  # the tracker's thread
    by_port = {r.sport: r for r in mine}
    assert len(mine) == 3 and len(by_port) == 3, mine
    assert by_port[ports["fin"]].reason == ffpf.Reason.FIN
    assert by_port[ports["rst"]].reason == ffpf.Reason.RST
    assert by_port[ports["udp"]].reason == ffpf.Reason.IDLE
    assert all(r.sport not in ports.values() for r in live)
    assert st["records"] >= 3
    d = directions(cap.packets())
    for name, proto in (("fin", 6), ("rst", 6), ("udp", 17)):
        r = by_port[ports[name]]
        assert (r.src, r.dst, r.dport, r.proto) == (net.ip_c, net.ip_s,
                                                    tport if proto == 6 else uport, proto)
        assert r.initiator != ffpf.Initiator.UNKNOWN
        o = d[(proto, net.ip_c, r.sport, net.ip_s, r.dport)]
        i = d[(proto, net.ip_s, r.dport, net.ip_c, r.sport)]
        assert r.get_statistic(ffpf.Stat.PACKETS, ffpf.Direction.OUTBOUND) == o[0], name
        assert r.get_statistic(ffpf.Stat.BYTES, ffpf.Direction.OUTBOUND) == o[1], name
        assert r.get_statistic(ffpf.Stat.PACKETS, ffpf.Direction.INBOUND) == i[0], name
        assert r.get_statistic(ffpf.Stat.BYTES, ffpf.Direction.INBOUND) == i[1], name
        assert r.packets == (o[0], i[0]) and r.bytes == (o[1], i[1])
        print("%s: %r, tcpdump out %d/%d in %d/%d" % (name, r, o[0], o[1], i[0], i[1]))
    fin = by_port[ports["fin"]]
    assert fin.tcp_flags[0] & 0x01 and fin.tcp_flags[1] & 0x01  # FIN both ways
    assert by_port[ports["rst"]].tcp_flags[0] & 0x04            # RST from the client
    # nothing ended twice
    keys = collections.Counter((r.proto, r.src, r.sport, r.dst, r.dport) for r in m.records)
    assert max(keys.values()) == 1


def test_manual_sweep_and_closed_reason(net):
    uport = 5403
    send = ("import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "s.bind(('', int(sys.argv[3])))\n"
            "for i in range(int(sys.argv[2])): s.sendto(b'x' * 30, (sys.argv[1], %d))\n" % uport)

    class Failing(ffpf.FlowManager):
        seen = []

        def on_termination(self, record):
            self.seen.append(record)
            if record.reason == ffpf.Reason.IDLE:
                raise KeyError("from on_termination")

    m = Failing(net.if_s, "flowtrack(idle=1)", name="pyman", egress=False, manual=True)
    try:
        net.cpy(send, net.ip_s, 4, 40001)
        time.sleep(0.3)
        assert m.sweep() == 0 and m.seen == []  # not idle yet: nothing
        with pytest.raises(ffpf.Error) as e:
            m.flow.start_tracking(print)  # one tracker per table
        assert e.value.errno == errno.EALREADY
        live = [r for r in m.flows() if r.sport == 40001]
        assert len(live) == 1 and live[0].packets == (4, 0) and live[0].reason is None
        time.sleep(1.8)
        with pytest.raises(KeyError, match="from on_termination"):
            m.sweep()  # the callback's exception comes out of sweep()
        assert [r.reason for r in m.seen if r.sport == 40001] == [ffpf.Reason.IDLE]
        net.cpy(send, net.ip_s, 2, 40002)
        time.sleep(0.3)
    finally:
        m.close()
    # close() ends every live flow with reason CLOSED
    assert [(r.reason, r.packets) for r in m.seen if r.sport == 40002] == \
        [(ffpf.Reason.CLOSED, (2, 0))]


def test_exception_in_tracker_thread_is_unraisable(net, monkeypatch):
    """An exception out of on_termination in the tracker's thread reaches
    sys.unraisablehook; the tracker goes on (the next flow is reported)."""
    got, raised = [], []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: raised.append(u.exc_value))

    class Boom(ffpf.FlowManager):
        def on_termination(self, record):
            got.append(record.sport)
            if record.sport == 40011:
                raise ValueError("boom")

    send = ("import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "s.bind(('', int(sys.argv[2])))\ns.sendto(b'y' * 20, (sys.argv[1], 5404))\n")
    with Boom(net.if_s, "flowtrack(idle=1)", name="pyboom", egress=False) as m:
        net.cpy(send, net.ip_s, 40011)
        net.cpy(send, net.ip_s, 40012)
        deadline = time.time() + 8
        while time.time() < deadline and not {40011, 40012} <= set(got):
            time.sleep(0.1)
    assert {40011, 40012} <= set(got)
    assert any(isinstance(e, ValueError) and str(e) == "boom" for e in raised)
    assert m.flow.closed
