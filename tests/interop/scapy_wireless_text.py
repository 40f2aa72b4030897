#!/usr/bin/python3
"""scapy_wireless_text.py: Scapy 2.5's summary() of 802.11 and 802.15.4
frames, the oracle of sflua's p:summary("scapy") for them.

  scapy_wireless_text.py SEED CAPTURE... < gen_wireless.lua's lines

Writes one line per frame: HEX, LINKTYPE, where it comes from (capture,
build, bare, cut, flipped, random), Scapy's classes (" / " between them) and
pkt.summary(), tab-separated (tabs, newlines and backslashes in
a text written \\t, \\n, \\\\).  The frames: every packet of the captures
(read by Scapy), each random build of gen_wireless.lua (the Python
expression built by Scapy, its bytes read back with the link type's
class), and from the builds, frames Scapy cannot fully parse or that are
wrong: an 802.15.4 data frame without its payload, every fourth build
truncated by 1 to 12 bytes, every fifth with its FCS or last bytes
flipped; and 300 802.15.4 and 300 802.11 frames of random frame control
and bytes (random choices from SEED).

Exit status: 0, or 77 when Scapy cannot be imported.
"""
import random
import sys

from scapy_common import escape  # exits 77 without Scapy
from scapy.all import *  # noqa: F401,F403
from scapy.all import conf, Raw, RawPcapReader
from scapy.packet import NoPayload


def line(raw, linktype, kind):
    cls = conf.l2types.num2layer.get(linktype, Raw)
    try:
        pkt = cls(raw)
    except Exception:  # as Scapy's PcapReader: what it cannot read is Raw
        pkt = Raw(raw)
    classes, layer = [], pkt
    while layer is not None and not isinstance(layer, NoPayload):
        classes.append(layer.__class__.__name__)
        layer = layer.payload
    return "\t".join([raw.hex(), str(linktype), kind, escape(" / ".join(classes)),
                      escape(pkt.summary())])


def captures(paths):
    for path in paths:
        reader = RawPcapReader(path)
        try:
            for raw, _ in reader:
                yield raw, reader.linktype, "capture"
        except Exception:  # a truncated last record: what came before counts
            pass


def builds(rng):
    n = 0
    for text in sys.stdin:
        py, _, lt = text.rstrip("\n").split("\t")
        pkt = eval(py)
        raw, lt = bytes(pkt), int(lt)
        yield raw, lt, "build"
        n += 1
        if Dot15d4Data in pkt and Raw in pkt[Dot15d4Data]:
            bare = pkt.copy()
            bare[Dot15d4Data].remove_payload()
            yield bytes(bare), lt, "bare"
        if n % 4 == 0 and len(raw) > 4:
            yield raw[:len(raw) - rng.randint(1, min(12, len(raw) - 3))], lt, "cut"
        if n % 5 == 0 and len(raw) > 2:
            yield raw[:-2] + bytes(b ^ 0xff for b in raw[-2:]), lt, "flipped"


def random_wpan(rng, count):
    """802.15.4 frames of random frame control (any frame type, addressing
    modes, versions 0 to 2, PAN ID compression) and random bytes after
    it, often too few for what it asks"""
    for _ in range(count):
        fc0 = rng.choice([0, 1, 1, 2, 3, 3, 4]) | rng.randint(0, 7) << 4
        fc1 = rng.choice([0, 2, 3]) << 2 | rng.choice([0, 1, 1, 2]) << 4 | rng.choice([0, 2, 3]) << 6
        tail = bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 30)))
        yield bytes([fc0, fc1, rng.randint(0, 255)]) + tail, rng.choice([195, 230]), "random"


def random_dot11(rng, count):
    """802.11 frames of random frame control (the order bit left out:
    Scapy 2.5 has no HT control field) and random bytes after it, a
    management body often with elements, behind radiotap (with and
    without FCS) or bare"""
    for _ in range(count):
        t, st = rng.choice([0, 0, 1, 2, 2, 3]), rng.randint(0, 15)
        fc1 = rng.randint(0, 255) if rng.random() < 0.5 else rng.choice([0, 1, 2, 3, 0x40, 0x41, 0x42])
        body = bytes(rng.randint(0, 255) for _ in range(rng.randint(8, 60)))
        if t == 0 and rng.random() < 0.6:
            fixed = {8: 12, 5: 12, 0: 4, 1: 6, 2: 10, 3: 6, 11: 6, 10: 2, 12: 2}.get(st, 0)
            elts = b""
            for _ in range(rng.randint(0, 4)):
                # (lengths Scapy's typed elements agree with: they read
                # their fields whatever the length byte says)
                eid = rng.choice([0, 1, 3, 5, 7, 42, 45, 50, 221, 191, rng.randint(0, 255)])
                n = {3: 1, 42: 1, 45: 26}.get(eid, rng.randint(0, 20))
                if eid == 48 or (eid == 221 and n < 4):
                    eid = 0
                elts += bytes([eid, n]) + bytes(rng.randint(0, 255) for _ in range(n))
            body = body[:22 + fixed] + elts
        raw = bytes([st << 4 | t << 2, fc1 & 0x7f]) + body
        if rng.random() < 0.5:
            yield bytes([0, 0, 9, 0, 2, 0, 0, 0, rng.choice([0, 0x10])]) + raw, 127, "random"
        else:
            yield raw, 105, "random"


def main():
    rng = random.Random(int(sys.argv[1]))
    for raw, lt, kind in captures(sys.argv[2:]):
        print(line(raw, lt, kind))
    for raw, lt, kind in builds(rng):
        print(line(raw, lt, kind))
    for raw, lt, kind in random_wpan(rng, 300):
        print(line(raw, lt, kind))
    for raw, lt, kind in random_dot11(rng, 300):
        print(line(raw, lt, kind))
    return 0


if __name__ == "__main__":
    sys.exit(main())
