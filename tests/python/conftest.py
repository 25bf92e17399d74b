# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""pytest fixtures of the ffpf Python tests (root: BPF, XDP, namespaces).

The `net` session fixture is a client and a server namespace joined by a
veth pair. tests/integration/test_python.sh makes them with
tests/lib/netns.sh (whose trap removes them whatever happens) and passes
their names in FF_NS_C/FF_NS_S/...; run directly (`/usr/bin/python3 -m
pytest tests/python`), the fixture makes its own with a random ff?????
prefix and removes them at the end. The test process itself joins the
server namespace (setns), so flows are created on net.if_s and traffic is
sent from the client namespace with net.c(...).

The module is imported from build/python (make python) unless FFPF_PYPATH
names another directory (e.g. an installed dist-packages).
"""
import ctypes
import os
import random
import string
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.environ.get("FFPF_PYPATH") or os.path.join(ROOT, "build", "python"))

CLONE_NEWNET = 0x40000000


def _run(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True)


def _make_net():
    chars = string.ascii_lowercase + string.digits
    existing = _run("ip", "netns", "list", check=False).stdout
    for _ in range(20):
        p = "ff" + "".join(random.choice(chars) for _ in range(5))
        if p not in existing:
            break
    x = random.randint(1, 250)
    n = dict(prefix=p, ns_c=p + "c", ns_s=p + "s", if_c=p + "a", if_s=p + "b",
             ip_c="10.198.%d.1" % x, ip_s="10.198.%d.2" % x, own=True)
    try:
        _run("ip", "netns", "add", n["ns_c"])
        _run("ip", "netns", "add", n["ns_s"])
        _run("ip", "link", "add", n["if_c"], "netns", n["ns_c"], "type", "veth", "peer",
             "name", n["if_s"], "netns", n["ns_s"])
        for ns, ifc, ip in ((n["ns_c"], n["if_c"], n["ip_c"]), (n["ns_s"], n["if_s"], n["ip_s"])):
            _run("ip", "-n", ns, "link", "set", "lo", "up")
            _run("ip", "-n", ns, "addr", "add", ip + "/24", "dev", ifc)
            _run("ip", "-n", ns, "link", "set", ifc, "up")
        for _ in range(50):
            if all("state UP" in _run("ip", "-n", ns, "link", "show", ifc).stdout
                   for ns, ifc in ((n["ns_c"], n["if_c"]), (n["ns_s"], n["if_s"]))):
                break
            time.sleep(0.1)
    except BaseException:
        _drop_net(n)
        raise
    return n


def _drop_net(n):
    for ns in (n["ns_c"], n["ns_s"]):
        pids = _run("ip", "netns", "pids", ns, check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), 9)
            except OSError:
                pass
    _run("ip", "-n", n["ns_c"], "link", "del", n["if_c"], check=False)
    for ns in (n["ns_c"], n["ns_s"]):
        _run("ip", "netns", "del", ns, check=False)


def _setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (path, os.strerror(e)))
    finally:
        os.close(fd)


@pytest.fixture(scope="session")
def net():
    if os.geteuid() != 0:
        pytest.fail("the ffpf Python tests need root (BPF, XDP, network namespaces)")
    if os.environ.get("FF_NS_S"):
        n = dict(prefix=os.environ["FF_PREFIX"], ns_c=os.environ["FF_NS_C"],
                 ns_s=os.environ["FF_NS_S"], if_c=os.environ["FF_IF_C"],
                 if_s=os.environ["FF_IF_S"], ip_c=os.environ["FF_IP_C"],
                 ip_s=os.environ["FF_IP_S"], own=False)
    else:
        n = _make_net()
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    try:
        _setns("/run/netns/" + n["ns_s"])
        ns = SimpleNamespace(**n)
        ns.ffpf = os.path.join(ROOT, "build", "ffpf-bpf")
        ns.tmp = os.environ.get("FF_TMP") or "/tmp"

        def c(*args, **kw):
            """run ARGS in the client namespace"""
            kw.setdefault("check", True)
            kw.setdefault("capture_output", True)
            kw.setdefault("text", True)
            return subprocess.run(("ip", "netns", "exec", n["ns_c"]) + args, **kw)

        def cpy(code, *args, **kw):
            """run Python CODE in the client namespace"""
            return c(sys.executable, "-c", code, *[str(a) for a in args], **kw)

        ns.c, ns.cpy = c, cpy
        # ARP resolved once, so first packets are not delayed differently
        c("ping", "-c", "1", "-W", "2", n["ip_s"], check=False)
        yield ns
    finally:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.setns(home, CLONE_NEWNET)
        os.close(home)
        if n.get("own"):
            _drop_net(n)


class Tcpdump:
    """tcpdump -w FILE on IFACE (in this process's namespace) until stop()."""

    def __init__(self, iface, path, filt, direction="in"):
        self.path = path
        self.err = open(path + ".err", "w+")
        self.p = subprocess.Popen(["tcpdump", "-i", iface, "-Q", direction, "-nn", "-U",
                                   "--immediate-mode", "-Z", "root", "-B", "8192", "-w", path]
                                  + filt.split(), stdout=subprocess.DEVNULL, stderr=self.err)
        for _ in range(100):
            self.err.seek(0)
            if "listening on" in self.err.read():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("tcpdump did not start")

    def stop(self):
        if self.p.poll() is None:
            time.sleep(0.3)
            self.p.terminate()
            self.p.wait(10)
        self.err.close()

    def packets(self):
        """[(ts_ns, wire_len, bytes)] of the capture (pcap, us or ns)"""
        import struct
        data = open(self.path, "rb").read()
        magic = data[:4]
        e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        out, off = [], 24
        while off + 16 <= len(data):
            sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
            ts = sec * 10**9 + (frac if nano else frac * 1000)
            out.append((ts, orig, data[off + 16:off + 16 + incl]))
            off += 16 + incl
        return out


@pytest.fixture
def tcpdump(net):
    caps = []

    def start(filt, direction="in", iface=None):
        path = os.path.join(net.tmp, "py-%s-%d.pcap" % (net.prefix, len(caps)))
        t = Tcpdump(iface or net.if_s, path, filt, direction)
        caps.append(t)
        return t

    yield start
    for t in caps:
        t.stop()
        try:
            os.unlink(t.path)
            os.unlink(t.path + ".err")
        except OSError:
            pass
