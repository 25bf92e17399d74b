# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Real traffic in the namespace pair: the Python flows count what the C
command (build/ffpf-bpf run) and tcpdump count, and the packets read in
Python are byte for byte tcpdump's."""
import json
import os
import signal
import subprocess
import time

import pytest

import ffpf

SEND_UDP = """
import socket, sys
dst, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    s.sendto(bytes((i * 7 + k) & 0xff for k in range(10 + 37 * i)), (dst, port))
"""


def c_command(net, *flows):
    """`ffpf-bpf run --json` in the client namespace on the client end's
    egress: the same packets that reach the server end's ingress."""
    args = ["nsenter", "--net=/run/netns/" + net.ns_c, "--", net.ffpf, "run", "-i", net.if_c,
            "--hook", "egress", "--json"]
    for f in flows:
        args += ["--flow", f]
    err = open(os.path.join(net.tmp, "py-%s-run.err" % net.prefix), "w+")
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True)
    for _ in range(300):
        err.seek(0)
        if "active" in err.read():
            return p, err
        if p.poll() is not None:
            break
        time.sleep(0.05)
    err.seek(0)
    p.kill()
    pytest.fail("ffpf-bpf run did not start: " + err.read())


def c_stop(p, err):
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=15)
    err.close()
    assert p.returncode == 0
    return {f["name"]: f for f in json.loads(out)["flows"]}


def test_counts_equal_c_command_and_tcpdump(net, tcpdump):
    port, pings, dgrams = 5301, 12, 25
    echo_spec = "match(icmp, icmp-type 8) -> count"
    udp_spec = "match(udp, dst port %d) -> count" % port
    cap = tcpdump("icmp[icmptype] == icmp-echo or udp dst port %d" % port)
    with ffpf.Flow(net.if_s, echo_spec, name="echo") as echo, \
            ffpf.Flow(net.if_s, udp_spec, name="udp") as udp:
        for f in (echo, udp):
            f.instantiate()
            f.activate()
        p, err = c_command(net, "echo=" + echo_spec, "udp=" + udp_spec)
        net.c("ping", "-c", str(pings), "-i", "0.05", "-q", net.ip_s)
        net.cpy(SEND_UDP, net.ip_s, port, dgrams)
        time.sleep(0.3)
        c = c_stop(p, err)
        cap.stop()
        got = {"echo": echo.stats(), "udp": udp.stats()}
        mbuf = {"echo": echo.mbuf(1).counters(), "udp": udp.mbuf(1).counters()}
        fst = {"echo": echo.filter_stats(1), "udp": udp.filter_stats(1)}
    pk = cap.packets()
    want = {"echo": [p for p in pk if p[2][12:14] == b"\x08\x00" and p[2][23] == 1],
            "udp": [p for p in pk if p[2][23] == 17]}
    assert len(want["echo"]) == pings and len(want["udp"]) == dgrams
    for name in ("echo", "udp"):
        n, b = len(want[name]), sum(p[1] for p in want[name])
        assert (got[name]["packets"], got[name]["bytes"]) == (n, b), name
        assert (c[name]["packets"], c[name]["bytes"]) == (n, b), name + " (C command)"
        assert (mbuf[name]["passed"], mbuf[name]["bytes"]) == (n, b), name + " (MBuf)"
        assert fst[name]["passed"] == n
        print("%s: python %d packets %d bytes, C command %d/%d, tcpdump %d/%d" % (
            name, got[name]["packets"], got[name]["bytes"], c[name]["packets"],
            c[name]["bytes"], n, b))


def test_packets_byte_identical_to_tcpdump(net, tcpdump):
    port, n = 5302, 20
    cap = tcpdump("udp dst port %d" % port)
    got = []
    with ffpf.Flow(net.if_s, "match(udp, dst port %d)" % port, name="rx",
                   rx=ffpf.RX_COPY) as f:
        f.instantiate()
        f.activate()
        net.cpy(SEND_UDP, net.ip_s, port, n)
        for pkt in f.packets(timeout=3, count=n):
            assert isinstance(pkt.data, memoryview) and pkt.data.readonly
            assert pkt.caplen == len(pkt.data) == pkt.wire_len
            assert pkt.matched & (1 << f.slot) and pkt.hook == ffpf.HOOK_INGRESS
            got.append((pkt.ts_ns, pkt.wire_len, bytes(pkt.data), pkt.seq))
        rx = f.rx_stats()
    cap.stop()
    want = cap.packets()
    assert len(got) == n and len(want) == n
    assert [g[2] for g in got] == [w[2] for w in want]
    assert [g[1] for g in got] == [w[1] for w in want]
    # same clock (CLOCK_REALTIME): within 50 ms of tcpdump's stamp
    assert all(abs(g[0] - w[0]) < 50_000_000 for g, w in zip(got, want))
    assert [g[3] for g in got] == sorted(g[3] for g in got)
    assert rx["received"] == n and rx["dropped"] == 0


def test_memoryview_invalid_after_release(net):
    port = 5303
    with ffpf.Flow(net.if_s, "match(udp, dst port %d)" % port, name="mv",
                   rx=ffpf.RX_COPY) as f:
        f.instantiate()
        f.activate()
        net.cpy(SEND_UDP, net.ip_s, port, 4)
        it = f.packets(timeout=3)
        p1 = next(it)
        d1 = p1.data
        first = bytes(d1)
        p2 = next(it)  # the next step gives p1's frame back
        assert not p1.valid and p2.valid
        with pytest.raises(ValueError):
            d1[0]
        with pytest.raises(ValueError):
            p1.data
        assert p1.wire_len == len(first)  # metadata stays readable
        # a buffer derived from a packet's data keeps the frame: BufferError
        keep = p2.data[14:34]
        with pytest.raises(BufferError):
            next(it)  # (a generator that raised is finished)
        assert p2.valid and bytes(keep) == bytes(p2.data)[14:34]
        keep.release()
        it = f.packets(timeout=3)
        p3 = next(it)
        assert p3.valid and not p2.valid
        p4s = f.read(max=8, timeout=3)
        assert len(p4s) == 1 and not p3.valid
        f.release()
        assert not p4s[0].valid
        assert f.read(timeout=0) == []
        it.close()
