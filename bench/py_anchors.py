"""py_anchors.py: the Python anchors (Scapy, dpkt), timed like lua_bench.lua.

Usage: /usr/bin/python3 bench/py_anchors.py MIXFILE [SECONDS]
Prints "RESULT <name> <packets/s>"; time is time.perf_counter (monotonic).
An anchor whose module is missing is skipped with a note on stderr.
"""
import struct
import sys
import time

mixfile = sys.argv[1]
secs = float(sys.argv[2]) if len(sys.argv) > 2 else 1.5


def measure(name, chunk, body):
    body(min(chunk, 50))  # warm-up
    done, t0 = 0, time.perf_counter()
    while True:
        body(chunk)
        done += chunk
        el = time.perf_counter() - t0
        if el >= secs:
            break
    print("RESULT %s %.0f" % (name, done / el), flush=True)


def load_mix(path):
    with open(path, "rb") as f:
        data = f.read()
    raws, pos = [], 0
    while pos + 4 <= len(data):
        (n,) = struct.unpack_from("<I", data, pos)
        raws.append(data[pos + 4:pos + 4 + n])
        pos += 4 + n
    return raws


raws = load_mix(mixfile)

try:
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.layers.l2 import Ether
    from scapy.layers.inet import IP, TCP
except ImportError as e:
    sys.stderr.write("py_anchors: no Scapy (%s); Scapy anchors skipped\n" % e)
    Ether = None

if Ether is not None:
    def build_default(n):
        for _ in range(n):
            bytes(Ether() / IP() / TCP())
    measure("scapy_build_default", 200, build_default)

    def build_fields(n):
        for _ in range(n):
            bytes(Ether(dst="00:11:22:33:44:55", src="66:77:88:99:aa:bb")
                  / IP(src="10.0.0.1", dst="10.0.0.2")
                  / TCP(sport=1234, dport=80, flags="S"))
    measure("scapy_build_fields", 200, build_fields)

    tmpl = (Ether(dst="00:11:22:33:44:55", src="66:77:88:99:aa:bb")
            / IP(src="10.0.0.1", dst="10.0.0.2")
            / TCP(sport=1234, dport=80, flags="S"))

    def build_template(n):
        for i in range(n):
            tmpl[TCP].sport = i & 0xffff
            bytes(tmpl)
    measure("scapy_build_template", 500, build_template)

    state = {"i": 0}

    def parse_scapy(n):
        i, s, nr = state["i"], 0, len(raws)
        for _ in range(n):
            s += getattr(Ether(raws[i]), "dport", 0)  # first layer with dport
            i = (i + 1) % nr
        state["i"] = i
    measure("scapy_parse_dport", 500, parse_scapy)

try:
    import dpkt
except ImportError as e:
    sys.stderr.write("py_anchors: no dpkt (%s); dpkt anchor skipped\n" % e)
    dpkt = None

if dpkt is not None:
    Ethernet = dpkt.ethernet.Ethernet
    state = {"i": 0}

    def parse_dpkt(n):
        i, s, nr = state["i"], 0, len(raws)
        for _ in range(n):
            l3 = Ethernet(raws[i]).data  # 802.1Q tags are decoded in Ethernet
            s += getattr(getattr(l3, "data", None), "dport", 0)
            i = (i + 1) % nr
        state["i"] = i
    measure("dpkt_parse_dport", 5000, parse_dpkt)
