#!/usr/bin/python3
# py_summary.py CAPTURE [N]: Scapy's summary() of the first N packets of
# the capture (default 20,000), packets/s; reading them is not timed.
import sys
import time
import logging
logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import rdpcap  # noqa: E402

n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
pl = rdpcap(sys.argv[1], count=n)
t0 = time.perf_counter()
for p in pl:
    p.summary()
t1 = time.perf_counter()
print("scapy_summary_pps %.0f packets/s" % (len(pl) / (t1 - t0)))
