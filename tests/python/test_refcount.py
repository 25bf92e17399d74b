# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Reference counting and leaks: 100k create/close cycles, and cycles that
instantiate (statistics, rx, flow tracking), leave no BPF object, no file
descriptor, no Python object and no memory growth past a bound."""
import gc
import os
import subprocess
import time

import ffpf

RSS_BOUND_KIB = 2048        # growth allowed over 100k create/close cycles
RSS_BOUND_INST_KIB = 4096   # ... over the instantiate cycles


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds():
    return sorted(os.listdir("/proc/self/fd"))


def bpf_ids():
    """{("prog"|"map"|"link", id)} of the BPF objects this process holds an fd on"""
    ids = set()
    for fd in os.listdir("/proc/self/fdinfo"):
        try:
            txt = open("/proc/self/fdinfo/" + fd).read()
        except OSError:
            continue
        kv = dict(l.split(":", 1) for l in txt.splitlines() if ":" in l)
        kv = {k.strip(): v.strip() for k, v in kv.items()}
        for k in ("link_id", "prog_id", "map_id"):
            if k in kv:
                ids.add((k[:-3], int(kv[k])))
                break
    return ids


def alive(ids):
    return {(k, i) for k, i in ids
            if subprocess.run(["bpftool", k, "show", "id", str(i)],
                              capture_output=True).returncode == 0}


def left(ids, wait=5.0):
    """those of ids still alive after up to `wait` s: the kernel frees a
    program after an RCU grace period, and the maps it used after that"""
    end = time.time() + wait
    while True:
        a = alive(ids)
        if not a or time.time() > end:
            return a
        time.sleep(0.1)


def test_100k_create_close(net):
    for _ in range(2000):  # warm-up: allocator, caches
        ffpf.Flow(net.if_s, "match(udp) -> count").close()
    gc.collect()
    fd0, rss0, obj0, bpf0 = fds(), rss_kib(), len(gc.get_objects()), bpf_ids()
    t = time.time()
    for i in range(50000):
        f = ffpf.Flow(net.if_s, "match(udp, dst port 53) -> sample(3) -> count", name="c%d" % i)
        f.close()
    for i in range(50000):
        with ffpf.Flow(net.if_s) as f:
            f.add_filter("count")
    took = time.time() - t
    gc.collect()
    grow = rss_kib() - rss0
    print("100k create/close in %.1f s: RSS %d -> %d KiB (+%d), gc objects %d -> %d" % (
        took, rss0, rss_kib(), grow, obj0, len(gc.get_objects())))
    assert fds() == fd0 and bpf_ids() == bpf0
    assert len(gc.get_objects()) - obj0 < 100
    assert grow < RSS_BOUND_KIB, "RSS grew by %d KiB" % grow


def cycle_stats(net, i):
    with ffpf.Flow(net.if_s, "match(icmp) -> sample(2) -> count", name="s%d" % i) as f:
        f.instantiate()
        f.activate()
        f.mbuf(2).counters()
        return bpf_ids()


def cycle_rx(net, i):
    with ffpf.Flow(net.if_s, "match(udp, dst port 5501)", name="r%d" % i,
                   rx=ffpf.RX_COPY) as f:
        f.instantiate()
        f.activate()
        net.cpy("import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                "for i in range(3): s.sendto(b'x' * 50, (sys.argv[1], 5501))", net.ip_s)
        n = sum(len(p.data) > 0 for p in f.packets(timeout=2, count=3))
        assert n == 3
        return bpf_ids()


def cycle_ft(net, i):
    with ffpf.FlowManager(net.if_s, "flowtrack(idle=1)", name="t%d" % i) as m:
        m.flows()
        return bpf_ids()


def test_instantiate_close_cycles_leak_nothing(net):
    # warm-up: the allocator keeps what the first rx and tracker threads
    # took (the sweeper's batch buffers: ~11 MiB with a 64Ki table) and
    # reuses it, so the growth is measured after a few cycles of each
    for i in range(5):
        cycle_stats(net, -1 - i)
        cycle_rx(net, -1 - i)
        cycle_ft(net, -1 - i)
    gc.collect()
    fd0, rss0, bpf0 = fds(), rss_kib(), bpf_ids()
    seen = set()
    t = time.time()
    for i in range(60):
        seen |= cycle_stats(net, i)
    for i in range(15):
        seen |= cycle_rx(net, i)
    for i in range(15):
        seen |= cycle_ft(net, i)
    took = time.time() - t
    gc.collect()
    grow = rss_kib() - rss0
    print("90 instantiate/close cycles in %.1f s: %d BPF objects seen, RSS +%d KiB" % (
        took, len(seen), grow))
    assert len(seen) > 90
    assert left(seen - bpf0) == set(), "BPF objects left"
    assert fds() == fd0 and bpf_ids() == bpf0
    assert grow < RSS_BOUND_INST_KIB, "RSS grew by %d KiB" % grow


def test_gc_closes_unreachable_flows(net):
    """A flow dropped without close() (even in a cycle through its
    termination callback) is closed by the garbage collector."""
    class M(ffpf.FlowManager):
        pass

    before = bpf_ids()
    m = M(net.if_s, "flowtrack", name="gc")
    mine = bpf_ids() - before
    assert mine
    m.me = m  # a cycle of its own, besides flow -> callback -> manager
    del m
    gc.collect()
    assert left(mine) == set()
    f = ffpf.Flow(net.if_s, "count", name="gc-in")  # the names are free again
    f.instantiate()
    mine = bpf_ids() - before
    del f
    assert left(mine) == set()
