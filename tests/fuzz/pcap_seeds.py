# tests/fuzz/pcap_seeds.py - regenerate fuzz_pcap's seeds in
# tests/fuzz/corpus/pcap/ (run: /usr/bin/python3 tests/fuzz/pcap_seeds.py):
# small captures of every link type the reader knows, pcap (us and ns) and
# pcapng, a TCP session with a retransmission and a reordering, a
# snaplen-cut record, UDP, IPv6, VLAN, and two malformed files.
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "pcap")
os.makedirs(OUT, exist_ok=True)


def ip4(src, dst, proto, l4):
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64, proto, 0,
                       bytes([10, 0, 0, src]), bytes([10, 0, 0, dst])) + l4


def ip6(src, dst, proto, l4):
    a = lambda n: b"\xfd" + b"\0" * 14 + bytes([n])
    return struct.pack(">IHBB", 0x60000000, len(l4), proto, 64) + a(src) + a(dst) + l4


def tcp(sp, dp, seq, flags, pl=b""):
    return struct.pack(">HHIIBBHHH", sp, dp, seq, 0, 5 << 4, flags, 65535, 0, 0) + pl


def udp(sp, dp, pl):
    return struct.pack(">HHHH", sp, dp, 8 + len(pl), 0) + pl


def eth(l3, et=0x0800, vlan=False):
    h = b"\x02" * 6 + b"\x04" * 6
    if vlan:
        h += struct.pack(">HH", 0x8100, 5)
    return h + struct.pack(">H", et) + l3


def pcap(name, link, frames, magic=0xa1b2c3d4, snap=65535):
    with open(os.path.join(OUT, name), "wb") as fh:
        fh.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snap, link))
        for i, f in enumerate(frames):
            cap = f if len(f) <= snap else f[:snap]
            fh.write(struct.pack("<IIII", 1000 + i, i, len(cap), len(f)) + cap)


def pcapng(name, link, frames):
    def blk(t, body):
        body += b"\0" * (-len(body) % 4)
        return struct.pack("<II", t, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))
    with open(os.path.join(OUT, name), "wb") as fh:
        fh.write(blk(0x0a0d0d0a, struct.pack("<IHHq", 0x1a2b3c4d, 1, 0, -1)))
        fh.write(blk(1, struct.pack("<HHI", link, 0, 65535)))
        for i, f in enumerate(frames):
            fh.write(blk(6, struct.pack("<IIIII", 0, 0, i, len(f), len(f)) + f))


S, A, P, F = 0x02, 0x10, 0x08, 0x01
sess = [
    tcp(40000, 80, 0, S), tcp(80, 40000, 0, S | A)[::1], tcp(40000, 80, 1, A),
    tcp(40000, 80, 6, A | P, b"world\n"), tcp(40000, 80, 1, A | P, b"hello"),
    tcp(40000, 80, 1, A | P, b"hello"), tcp(80, 40000, 1, A | P, b"HTTP/1.1 200 OK\r\n\r\n"),
    tcp(40000, 80, 12, A | F), tcp(80, 40000, 20, A | F),
]
fw = [(1, 2) if i not in (1, 6, 8) else (2, 1) for i in range(len(sess))]
e4 = [eth(ip4(s, d, 6, t)) for (s, d), t in zip(fw, sess)]
pcap("tcp-eth.pcap", 1, e4)
pcap("tcp-eth-ns.pcap", 1, e4, magic=0xa1b23c4d)
pcapng("tcp-eth.pcapng", 1, e4)
pcap("tcp-eth-cut.pcap", 1, e4, snap=60)
pcap("tcp-vlan.pcap", 1, [eth(ip4(s, d, 6, t), vlan=True) for (s, d), t in zip(fw, sess)])
pcap("tcp6-raw.pcap", 101, [ip6(s, d, 6, t) for (s, d), t in zip(fw, sess)])
pcap("udp-sll2.pcap", 276, [struct.pack(">HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, b"\2" * 8) +
                            ip4(*sd, 17, udp(5353, 53, b"query") if sd[0] == 5 else udp(53, 5353, b"answer"))
                            for sd in [(5, 2), (2, 5), (5, 2)]])
pcap("udp6-null.pcap", 0, [struct.pack("<I", 30) + ip6(1, 2, 17, udp(1000, 7, b"echo me")),
                           struct.pack("<I", 30) + ip6(2, 1, 17, udp(7, 1000, b"echo me"))])
pcap("sll-loop.pcap", 113, [b"\0" * 14 + b"\x08\x00" + ip4(1, 2, 6, tcp(5000, 25, 9, A, b"EHLO x\r\n"))])
with open(os.path.join(OUT, "bad-magic"), "wb") as fh:
    fh.write(b"not a capture file\n")
with open(os.path.join(OUT, "truncated.pcap"), "wb") as fh:
    fh.write(open(os.path.join(OUT, "tcp-eth.pcap"), "rb").read()[:150])
