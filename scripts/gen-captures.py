#!/usr/bin/env python3
"""Writes the shipped example captures (deterministic: same bytes every run).

examples/captures/mixed.pcap    ~300 frames: Ethernet with IPv4/IPv6 TCP, UDP, ICMP,
                                ARP, VLAN tags, IP options, runt and truncated frames,
                                and a few jumbo frames longer than 3,520 bytes.
examples/captures/small.pcapng  the first 40 frames of the same traffic as pcapng.
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "captures")


class Rng:
    """xorshift64*: a fixed stream, independent of Python's random module."""

    def __init__(self, seed):
        self.s = seed

    def next(self):
        s = self.s
        s ^= (s >> 12) & 0xFFFFFFFFFFFFFFFF
        s ^= (s << 25) & 0xFFFFFFFFFFFFFFFF
        s ^= (s >> 27) & 0xFFFFFFFFFFFFFFFF
        self.s = s
        return (s * 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF

    def below(self, n):
        return self.next() % n

    def pick(self, xs):
        return xs[self.below(len(xs))]

    def bytes(self, n):
        return bytes(self.below(256) for _ in range(n))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(dst, src, ethertype, payload, vlan=None):
    hdr = dst + src
    if vlan is not None:
        hdr += struct.pack("!HH", 0x8100, vlan)
    return hdr + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ttl=64, options=b"", ident=0, frag=0):
    ihl = 5 + len(options) // 4
    total = ihl * 4 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, ident, frag, ttl, proto, 0, src, dst) + options
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, hlim, src, dst) + payload


def tcp(sport, dport, flags, seq=0, ack=0, options=b"", payload=b""):
    off = 5 + len(options) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, 65535, 0, 0) + options + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def icmp(typ, code, payload):
    body = struct.pack("!BBHI", typ, code, 0, 0x12340001) + payload
    return body[:2] + struct.pack("!H", csum(body)) + body[4:]


def arp(sha, spa, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, sha, spa, b"\0" * 6, tpa)


MACS = [bytes([2, 0, 0, 0, 0, i]) for i in range(1, 6)]
V4 = [bytes([10, 0, 0, i]) for i in range(1, 9)] + [bytes([192, 168, 1, i]) for i in (1, 2, 77)] + [bytes([8, 8, 8, 8])]
V6 = [bytes([0x20, 0x01, 0x0D, 0xB8] + [0] * 11 + [i]) for i in range(1, 5)]
PORTS = [22, 53, 80, 443, 8080, 23, 445, 3389, 12345, 51000]
TCP_OPTS = [b"", b"\x02\x04\x05\xb4", b"\x02\x04\x05\xb4\x01\x03\x03\x07", b"\x01\x01\x04\x02\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x00\x01\x00"]
SYN, ACK, PSH, FIN, RST = 0x02, 0x10, 0x08, 0x01, 0x04


def frame(r):
    kind = r.below(100)
    d, s = r.pick(MACS), r.pick(MACS)
    vlan = r.below(4096) if r.below(10) == 0 else None
    if kind < 40:
        flags = r.pick([SYN, SYN, SYN | ACK, ACK, ACK | PSH, FIN | ACK, RST])
        opts = r.pick(TCP_OPTS) if flags & SYN else b""
        seg = tcp(r.pick(PORTS + [r.below(65536)]), r.pick(PORTS), flags, r.next() & 0xFFFFFFFF, 0, opts, r.bytes(r.below(64)))
        ipopts = b"\x01\x01\x01\x00" * r.below(3) if r.below(8) == 0 else b""
        return eth(d, s, 0x0800, ipv4(r.pick(V4), r.pick(V4), 6, seg, r.below(255) + 1, ipopts, r.below(65536)), vlan)
    if kind < 60:
        dg = udp(r.below(65536), r.pick(PORTS), r.bytes(r.below(200)))
        return eth(d, s, 0x0800, ipv4(r.pick(V4), r.pick(V4), 17, dg, 64, b"", r.below(65536)), vlan)
    if kind < 68:
        return eth(d, s, 0x0800, ipv4(r.pick(V4), r.pick(V4), 1, icmp(r.pick([0, 8, 3, 11]), 0, r.bytes(r.below(56)))), vlan)
    if kind < 80:
        if r.below(2):
            l4, nh = tcp(r.below(65536), r.pick(PORTS), r.pick([SYN, ACK, ACK | PSH])), 6
        else:
            l4, nh = udp(r.below(65536), r.pick(PORTS), r.bytes(r.below(100))), 17
        return eth(d, s, 0x86DD, ipv6(r.pick(V6), r.pick(V6), nh, l4), vlan)
    if kind < 86:
        return eth(b"\xff" * 6, s, 0x0806, arp(s, r.pick(V4), r.pick(V4)))
    if kind < 92:
        # Truncated: a valid frame cut short (inside the Ethernet, IP or L4 header).
        full = eth(d, s, 0x0800, ipv4(r.pick(V4), r.pick(V4), 6, tcp(1234, 80, SYN)))
        return full[: r.pick([6, 13, 14, 20, 30, 34, 40, 50])]
    if kind < 96:
        # IPv4 fragments and odd TTLs.
        seg = udp(r.below(65536), 53, r.bytes(40))
        return eth(d, s, 0x0800, ipv4(r.pick(V4), r.pick(V4), 17, seg, r.pick([1, 255]), b"", 7, 0x2000 | r.below(8)))
    # Unknown ethertype with random payload.
    return eth(d, s, r.pick([0x88CC, 0x8847, 0x1234]), r.bytes(r.below(80) + 10))


def jumbo(r):
    payload = r.bytes(3600 + r.below(2000))
    return eth(MACS[0], MACS[1], 0x0800, ipv4(V4[0], V4[1], 17, udp(9000, 9001, payload)))


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i // 10, (i % 10) * 100000, len(fr), len(fr)))
            f.write(fr)


def write_pcapng(path, frames):
    def block(btype, body):
        pad = (-len(body)) % 4
        n = 12 + len(body) + pad
        return struct.pack("<II", btype, n) + body + b"\0" * pad + struct.pack("<I", n)

    with open(path, "wb") as f:
        f.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(block(1, struct.pack("<HHI", 1, 0, 65535)))
        for i, fr in enumerate(frames):
            ts = (1700000000 + i) * 1000000
            f.write(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(fr), len(fr)) + fr))


def main():
    r = Rng(0x6C75616270660001)
    frames = [frame(r) for _ in range(300)]
    for at in (50, 150, 250):
        frames.insert(at, jumbo(r))
    os.makedirs(OUT, exist_ok=True)
    write_pcap(os.path.join(OUT, "mixed.pcap"), frames)
    write_pcapng(os.path.join(OUT, "small.pcapng"), frames[:40])


if __name__ == "__main__":
    main()
