#!/usr/bin/python3
"""Build each Scapy expression read from stdin (one a line) and print
"expression<TAB>hex of its bytes"; with --pcap FILE LINKTYPE also write the
packets to a classic pcap for tshark.  Used by tests/interop/run_cases.sh."""
import sys
import warnings

warnings.filterwarnings("ignore")
import logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import *  # noqa: E402,F401,F403
import struct  # noqa: E402
from scapy.layers.vxlan import VXLAN  # noqa: E402,F401  (not in scapy.all)
from scapy.layers.tls.all import *  # noqa: E402,F401,F403  (not in scapy.all)
from scapy.layers.tls.cert import Cert  # noqa: E402,F401
from scapy.contrib.mqtt import *  # noqa: E402,F401,F403  (contrib: loaded by hand)
from scapy.contrib.mqttsn import *  # noqa: E402,F401,F403
from scapy.contrib.modbus import *  # noqa: E402,F401,F403
from scapy.layers.http import *  # noqa: E402,F401,F403
from scapy.contrib.http2 import *  # noqa: E402,F401,F403  (not in scapy.all)

exprs = [line.rstrip("\n") for line in sys.stdin if line.strip()]
pkts = []
for e in exprs:
    raw = bytes(eval(e))  # noqa: S307 - our own test expressions
    pkts.append(raw)
    print(f"{e}\t{raw.hex()}")
if len(sys.argv) > 2 and sys.argv[1] == "--pcap":
    with open(sys.argv[2], "wb") as f:  # classic pcap, microseconds
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, int(sys.argv[3])))
        for i, raw in enumerate(pkts):
            f.write(struct.pack("<IIII", 1000000 + i, 0, len(raw), len(raw)) + raw)
