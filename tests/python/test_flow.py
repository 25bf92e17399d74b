# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The Flow object: life cycle, properties, errors, context managers."""
import errno

import pytest

import ffpf


def test_lifecycle(net):
    f = ffpf.Flow(net.if_s, name="life")
    assert f.name == "life" and f.ifname == net.if_s and f.nfilters == 0
    f.populate("match(udp, dst port 53)")
    f.add_filter("count")
    assert f.nfilters == 2 and f.spec.startswith("match(udp, dst port 53) -> count")
    assert f.filter_class(0) == "match" and f.filter_class(1) == "count"
    assert f.slot == -1
    f.instantiate()
    assert f.slot >= 0 and not f.active
    f.activate()
    assert f.active
    f.pause()
    assert not f.active
    assert f.stats() == {"packets": 0, "bytes": 0, "dispatched": 0, "missed": 0}
    assert f.filter_stats(1) == {"seen": 0, "passed": 0, "bytes": 0}
    assert f.mbuf(1).counters() == {"seen": 0, "passed": 0, "bytes": 0}
    assert f.iface_stats()["rx_packets"] >= 0
    f.close()
    assert f.closed
    f.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        f.stats()
    assert repr(f) == "<ffpf.Flow closed>"


def test_errors_carry_errno_and_message(net):
    with pytest.raises(ffpf.Error) as e:
        ffpf.Flow(net.if_s, "match(udp, dst port 70000)")
    assert e.value.errno == errno.EINVAL and isinstance(e.value, OSError)
    assert e.value.function == "ffpf_flow_populate"
    assert e.value.message and "spec:1:" in e.value.message
    assert "spec:1:" in str(e.value)

    with pytest.raises(ffpf.Error) as e:
        ffpf.Flow("ffnosuchif0")
    assert e.value.errno == errno.ENODEV

    with ffpf.Flow(net.if_s, "count", name="busy") as f:
        f.instantiate()
        with pytest.raises(ffpf.Error) as e:
            f.populate("count")
        assert e.value.errno == errno.EBUSY
        with ffpf.Flow(net.if_s, "count", name="busy") as g:
            with pytest.raises(ffpf.Error) as e:
                g.instantiate()
            assert e.value.errno == errno.EEXIST

    with pytest.raises(ffpf.Error) as e:
        ffpf.spec_check("match(udp")
    assert e.value.errno == errno.EINVAL
    assert ffpf.spec_check("match(udp) -> sample(2) -> count") == 3


def test_with_closes_even_on_exception(net):
    with pytest.raises(RuntimeError):
        with ffpf.Flow(net.if_s, "match(icmp) -> count", name="w") as f:
            f.instantiate()
            f.activate()
            raise RuntimeError("boom")
    assert f.closed
    # the name is free again: the flow really went
    with ffpf.Flow(net.if_s, "count", name="w") as g:
        g.instantiate()


def test_subclass_and_rx_errors(net):
    class Counting(ffpf.Flow):
        def __init__(self, ifname):
            super().__init__(ifname, "match(icmp) -> count", name="sub")
            self.extra = 1

    with Counting(net.if_s) as f:
        f.instantiate()
        assert f.extra == 1 and isinstance(f, ffpf.Flow)
        with pytest.raises(ffpf.Error) as e:
            f.read(timeout=0)  # not an rx flow
        assert e.value.errno == errno.EINVAL


def test_mbuf_write_goes_live(net):
    with ffpf.Flow(net.if_s, "sample(4) -> count", name="smp") as f:
        f.instantiate()
        m = f.mbuf(0)
        assert m.every == 4
        m.every = 2
        assert m.every == 2
        with pytest.raises(ValueError):
            m.every = 0
        with pytest.raises(AttributeError):
            f.mbuf(1).every
        raw = memoryview(m)
        assert raw.nbytes == m.size and not raw.readonly
        with pytest.raises(BufferError):
            f.close()  # the mapping is still exported
        raw.release()
    assert f.closed


def test_monitor_flag(net):
    # monitor mode drops received packets: ingress (XDP) only
    with pytest.raises(ffpf.Error) as e:
        ffpf.Flow(net.if_s, "count", name="mon_out", hook=ffpf.HOOK_EGRESS, monitor=True)
    assert e.value.errno == errno.EINVAL and "monitor mode" in e.value.message
    with ffpf.Flow(net.if_s, "count", name="mon", monitor=True) as f:
        f.instantiate()
        assert f.iface_stats()["monitor_dropped"] == 0
