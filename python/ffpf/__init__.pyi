# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Type hints of the ffpf package (python/ffpf/__init__.py and _ffpf.c).
import enum
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

class Error(OSError):
    errno: int
    function: str
    message: Optional[str]

class Hook(enum.IntEnum):
    INGRESS: int
    EGRESS: int

class Rx(enum.IntEnum):
    NONE: int
    COPY: int
    TAP: int

HOOK_INGRESS: Hook
HOOK_EGRESS: Hook
RX_NONE: Rx
RX_COPY: Rx
RX_TAP: Rx

class Reason(enum.IntEnum):
    IDLE: int
    ACTIVE: int
    FIN: int
    RST: int
    EVICTED: int
    FORCED: int
    CLOSED: int

class Initiator(enum.IntEnum):
    SIDE0: int
    SIDE1: int
    UNKNOWN: int

class Direction(enum.IntEnum):
    OUTBOUND: int
    INBOUND: int

class Stat(enum.IntEnum):
    PACKETS: int
    BYTES: int
    TCP_FLAGS: int

class Packet:
    """Valid until the flow's next read step; data raises ValueError after."""
    @property
    def data(self) -> memoryview: ...
    @property
    def valid(self) -> bool: ...
    caplen: int
    wire_len: int
    ts_ns: int
    matched: int
    seq: int
    ifindex: int
    dir: int
    hook: int
    flow_id: int
    flow: "Flow"
    def bytes(self) -> bytes: ...

class MBuf:
    every: int
    @property
    def size(self) -> int: ...
    def counters(self) -> Dict[str, int]: ...

class Flow:
    def __init__(self, ifname: str, spec: Optional[str] = ..., *, name: Optional[str] = ...,
                 hook: int = ..., rx: int = ..., snaplen: int = ..., ibuf_size: int = ...,
                 share: Optional["Flow"] = ..., pin: bool = ..., policy: Optional[str] = ...,
                 group: Optional[str] = ..., daemon: Optional[str] = ...,
                 monitor: bool = ...) -> None: ...
    name: str
    ifname: str
    spec: str
    nfilters: int
    active: bool
    slot: int
    hook: int
    fd: int
    closed: bool
    def populate(self, spec: str) -> None: ...
    def add_filter(self, cls: str, args: Optional[str] = ...) -> None: ...
    def instantiate(self) -> None: ...
    def activate(self) -> None: ...
    def pause(self) -> None: ...
    def pin(self) -> None: ...
    def close(self) -> None: ...
    def stats(self) -> Dict[str, int]: ...
    def filter_stats(self, idx: int) -> Dict[str, int]: ...
    def filter_class(self, idx: int) -> str: ...
    def iface_stats(self) -> Dict[str, int]: ...
    def rx_stats(self) -> Dict[str, int]: ...
    def ft_stats(self) -> Dict[str, Any]: ...
    def read(self, max: int = ..., timeout: Optional[float] = ...) -> List[Packet]: ...
    def release(self) -> None: ...
    def packets(self, timeout: Optional[float] = ..., count: Optional[int] = ...,
                batch: int = ...) -> Iterator[Packet]: ...
    def start_tracking(self, on_end: Optional[Callable[[Dict[str, Any]], None]] = ...,
                       interval_ms: int = ..., manual: bool = ...) -> None: ...
    def sweep(self) -> int: ...
    def live_flows(self) -> List[Dict[str, Any]]: ...
    def mbuf(self, idx: int) -> MBuf: ...
    def __enter__(self) -> "Flow": ...
    def __exit__(self, *exc: Any) -> bool: ...

class FlowRecord:
    proto: int
    ip_ver: int
    src: str
    sport: int
    dst: str
    dport: int
    initiator: Initiator
    state: int
    fin: int
    id: int
    first_ns: int
    last_ns: int
    end_ns: int
    reason: Optional[Reason]
    first_real_ns: Optional[int]
    last_real_ns: Optional[int]
    def get_statistic(self, stat: int, direction: int) -> int: ...
    @property
    def packets(self) -> Tuple[int, int]: ...
    @property
    def bytes(self) -> Tuple[int, int]: ...
    @property
    def tcp_flags(self) -> Tuple[int, int]: ...

class FlowManager:
    ifname: str
    def __init__(self, ifname: str, spec: str = ..., *, name: str = ..., egress: bool = ...,
                 manual: bool = ..., interval_ms: int = ...) -> None: ...
    def on_termination(self, record: FlowRecord) -> None: ...
    @property
    def flow(self) -> Flow: ...
    def sweep(self) -> int: ...
    def flows(self) -> List[FlowRecord]: ...
    def stats(self) -> Dict[str, Any]: ...
    def close(self) -> None: ...
    def __enter__(self) -> "FlowManager": ...
    def __exit__(self, *exc: Any) -> bool: ...

def spec_check(spec: str) -> int: ...
def version() -> str: ...
