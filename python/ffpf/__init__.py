# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""ffpf: FFPF flows on eBPF/XDP from Python (libffpfbpf's binding).

A Flow is a generalised socket: create it on an interface, populate it with
filters, instantiate, activate, read packets or statistics, close::

    import ffpf
    with ffpf.Flow("eth0", "match(udp, dst port 53) -> count", name="dns") as f:
        f.instantiate()
        f.activate()
        ...
        print(f.stats()["packets"])

Packets (flows created with rx=ffpf.RX_COPY or RX_TAP) are read without a
copy: Packet.data is a memoryview into the PBuf, valid until the flow's next
read step (the next packet of Flow.packets(), Flow.read(), Flow.release() or
Flow.close()); after that it raises ValueError. Copy with bytes(pkt.data) to
keep the bytes. Details: docs/python.md.
"""
import atexit
import enum
import weakref

from . import _ffpf
from ._ffpf import Error, MBuf, Packet, spec_check, version

__all__ = ["Flow", "FlowManager", "FlowRecord", "Packet", "MBuf", "Error", "Hook", "Rx",
           "Reason", "Direction", "Stat", "Initiator", "spec_check", "version",
           "HOOK_INGRESS", "HOOK_EGRESS", "RX_NONE", "RX_COPY", "RX_TAP"]


class Hook(enum.IntEnum):
    INGRESS = _ffpf.FFPF_HOOK_INGRESS  # XDP: packets arriving
    EGRESS = _ffpf.FFPF_HOOK_EGRESS    # TC egress: packets leaving


class Rx(enum.IntEnum):
    NONE = _ffpf.FFPF_RX_NONE  # statistics only
    COPY = _ffpf.FFPF_RX_COPY  # first snaplen bytes copied into the PBuf
    TAP = _ffpf.FFPF_RX_TAP    # taken off the stack into AF_XDP (ingress)


HOOK_INGRESS, HOOK_EGRESS = Hook.INGRESS, Hook.EGRESS
RX_NONE, RX_COPY, RX_TAP = Rx.NONE, Rx.COPY, Rx.TAP


class Reason(enum.IntEnum):
    """Why a tracked flow ended (enum ffpf_ft_reason)."""
    IDLE = _ffpf.FFPF_FT_END_IDLE
    ACTIVE = _ffpf.FFPF_FT_END_ACTIVE
    FIN = _ffpf.FFPF_FT_END_FIN
    RST = _ffpf.FFPF_FT_END_RST
    EVICTED = _ffpf.FFPF_FT_END_EVICTED
    FORCED = _ffpf.FFPF_FT_END_FORCED
    CLOSED = _ffpf.FFPF_FT_END_CLOSED


class Initiator(enum.IntEnum):
    SIDE0 = _ffpf.FFPF_FT_INIT_SIDE0
    SIDE1 = _ffpf.FFPF_FT_INIT_SIDE1
    UNKNOWN = _ffpf.FFPF_FT_INIT_UNKNOWN


class Direction(enum.IntEnum):
    """Peafowl's directions: OUTBOUND is what the initiator sent."""
    OUTBOUND = _ffpf.FFPF_FT_OUTBOUND
    INBOUND = _ffpf.FFPF_FT_INBOUND


class Stat(enum.IntEnum):
    """What FlowRecord.get_statistic() reads (Peafowl's getStatistic)."""
    PACKETS = 0
    BYTES = 1
    TCP_FLAGS = 2


_open_flows = weakref.WeakSet()


class Flow(_ffpf.Flow):
    """A flow on one interface: Flow(ifname, spec=None, *, name=None,
    hook=Hook.INGRESS, rx=Rx.NONE, snaplen=0, ibuf_size=0, share=None,
    pin=False, policy=None, group=None, daemon=None, monitor=False).

    monitor=True (ingress, in-process only) drops every packet the interface
    receives once the flows saw it, while the flow is active: mirror ports.

    A `with` block closes it. Errors raise ffpf.Error (an OSError with
    .errno, .function and the library's .message)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        _open_flows.add(self)

    def packets(self, timeout=None, count=None, batch=1):
        """Yield the flow's packets as they arrive. Each Packet's data is
        valid until the next one is yielded (with batch=N: until the next
        batch is read) and when the generator ends. Stops after `timeout`
        seconds without a packet (None: never), or after `count` packets."""
        n = 0
        try:
            while count is None or n < count:
                got = self.read(batch if count is None else min(batch, count - n), timeout)
                if not got:
                    return
                for p in got:
                    n += 1
                    yield p
        finally:
            if not self.closed:
                self.release()

    def __repr__(self):
        if self.closed:
            return "<ffpf.Flow closed>"
        return "<ffpf.Flow %s on %s: %s>" % (self.name, self.ifname, self.spec)


class FlowRecord:
    """A tracked bidirectional flow: ended (passed to on_termination, with
    .reason) or live (FlowManager.flows()). src/sport is the initiator
    (side 0 when unknown); counters per direction, Peafowl style. ICMP and
    ICMPv6 have no ports: dport is type << 8 | code, sport the echo id (as
    in `ffpf-bpf flows` and NetFlow)."""

    __slots__ = ("proto", "ip_ver", "src", "sport", "dst", "dport", "initiator", "state",
                 "fin", "id", "first_ns", "last_ns", "end_ns", "reason", "first_real_ns",
                 "last_real_ns", "_dir")

    def __init__(self, d):
        for k in ("proto", "ip_ver", "src", "sport", "dst", "dport", "state", "fin", "id",
                  "first_ns", "last_ns", "end_ns"):
            setattr(self, k, d[k])
        self.initiator = Initiator(d["initiator"])
        self.reason = Reason(d["reason"]) if "reason" in d else None
        self.first_real_ns = d.get("first_real_ns")
        self.last_real_ns = d.get("last_real_ns")
        self._dir = (d["out"], d["in"])

    def get_statistic(self, stat, direction):
        """Peafowl's getStatistic(STAT, DIRECTION): e.g.
        rec.get_statistic(Stat.BYTES, Direction.INBOUND)."""
        return self._dir[Direction(direction)][Stat(stat)]

    @property
    def packets(self):
        """(outbound, inbound) packets"""
        return (self._dir[0][0], self._dir[1][0])

    @property
    def bytes(self):
        """(outbound, inbound) wire bytes"""
        return (self._dir[0][1], self._dir[1][1])

    @property
    def tcp_flags(self):
        """(outbound, inbound) OR of the TCP flags sent"""
        return (self._dir[0][2], self._dir[1][2])

    def __repr__(self):
        r = " %s" % self.reason.name.lower() if self.reason else ""
        return "<FlowRecord proto %d %s:%d -> %s:%d out %d/%d in %d/%d%s>" % (
            self.proto, self.src, self.sport, self.dst, self.dport, self.packets[0],
            self.bytes[0], self.packets[1], self.bytes[1], r)


class FlowManager:
    """Peafowl's FlowManager: subclass it and override on_termination().

    Tracks the bidirectional flows on `ifname` with a flowtrack filter: the
    ingress (XDP) flow and, with egress=True, an egress (TC) flow sharing
    its table, so a conversation is one flow whichever way its packets go.
    on_termination(record) is called once per ended flow: from the
    library's tracker thread (manual=False) or from sweep() (manual=True).
    An exception it raises goes to sys.unraisablehook (tracker thread) or
    out of sweep()."""

    def __init__(self, ifname, spec="flowtrack", *, name="ft", egress=True, manual=False,
                 interval_ms=0):
        self.ifname = ifname
        self._flows = []
        try:
            fin = Flow(ifname, spec, name=name + "-in", hook=Hook.INGRESS)
            self._flows.append(fin)
            fin.instantiate()
            if egress:
                fout = Flow(ifname, spec, name=name + "-out", hook=Hook.EGRESS, share=fin)
                self._flows.append(fout)
                fout.instantiate()
            fin.start_tracking(self._on_end, interval_ms=interval_ms, manual=manual)
            for f in self._flows:
                f.activate()
        except BaseException:
            self.close()
            raise

    def _on_end(self, d):
        self.on_termination(FlowRecord(d))

    def on_termination(self, record):
        """Called once for every flow that ended (a FlowRecord)."""

    @property
    def flow(self):
        """The ingress Flow (tracker, statistics)."""
        return self._flows[0]

    def sweep(self):
        """End what is due now (manual=True); returns the flows ended."""
        return self._flows[0].sweep()

    def flows(self):
        """The live flows, as FlowRecords (reason None)."""
        return [FlowRecord(d) for d in self._flows[0].live_flows()]

    def stats(self):
        """The tracker's counters (ffpf_ft_stats)."""
        return self._flows[0].ft_stats()

    def close(self):
        """Close the flows; every live flow ends with Reason.CLOSED."""
        for f in reversed(self._flows):
            f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


@atexit.register
def _close_all():
    # before the interpreter goes: no tracker thread may call into Python after
    for f in list(_open_flows):
        try:
            f.close()
        except Exception:
            pass
