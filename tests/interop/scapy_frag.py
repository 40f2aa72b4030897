#!/usr/bin/python3
# scapy_frag.py: Scapy's fragment, fragment6, defragment and defrag of the
# cases frag_cases.lua prints (stdin), each line with Scapy's answer added
# as a last column: result packets in hex, comma-separated; defrag's three
# lists separated by "|".  A random IPv6 fragment id (MASK 1) reads 0.
import sys
import logging
logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import Ether, IP, IPv6, IPv6ExtHdrFragment, raw, conf  # noqa: E402
from scapy.all import fragment, fragment6, defragment, defrag  # noqa: E402


def packet(lt, h, six=False):
    b = bytes.fromhex(h)
    if lt == "ether":
        return Ether(b)
    return IPv6(b) if six else IP(b)


def hexes(ps, mask=False):
    out = []
    for p in ps:
        if mask and IPv6ExtHdrFragment in p:
            p[IPv6ExtHdrFragment].id = 0
        out.append(raw(p).hex())
    return ",".join(out)


for line in sys.stdin:
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    cols = line.split("\t")
    fn, size, lt, data = cols[0], cols[1], cols[2], cols[3]
    if fn == "fragment":
        ans = hexes(fragment(packet(lt, data), int(size)))
    elif fn == "fragment6":
        ans = hexes(fragment6(packet(lt, data, True), int(size)), cols[4] == "1")
    else:
        lst = [packet(lt, h) for h in data.split(",") if h]
        if fn == "defragment":
            ans = hexes(defragment(lst))
        else:
            ans = "|".join(hexes(x) for x in defrag(lst))
    print(line + "\t" + ans)
