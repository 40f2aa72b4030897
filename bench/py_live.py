#!/usr/bin/python3
"""py_live.py: Scapy's side of bench/live_bench.sh (Debian python3-scapy),
the same measurements as live_bench.lua:
  py_live.py sniff IFACE N SECS   a prn per packet; prints "got dropped seconds"
  py_live.py sr1 DST N            mean sr1 round trip in microseconds
  py_live.py sendp IFACE FILE     prints "packets seconds"
"""
import sys
import time

from scapy.all import ICMP, IP, conf, rdpcap, sendp, sniff, sr1

conf.verb = 0
what = sys.argv[1]

if what == "sniff":
    iface, want, secs = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    state = {"n": 0, "t0": None}

    def prn(p):
        state["n"] += 1
        if state["t0"] is None:
            state["t0"] = time.perf_counter()

    def started():
        print("ready", flush=True)

    sniff(iface=iface, filter="udp port 9", prn=prn, store=False, count=want,
          timeout=secs, started_callback=started)
    t0 = state["t0"] or time.perf_counter()
    print(state["n"], "?", time.perf_counter() - t0)
elif what == "sr1":
    dst, n = sys.argv[2], int(sys.argv[3])
    p = IP(dst=dst) / ICMP(id=1)
    assert sr1(p, timeout=1) is not None
    t0 = time.perf_counter()
    for i in range(n):
        p[ICMP].seq = i + 1
        assert sr1(p, timeout=1) is not None
    print("%.1f" % ((time.perf_counter() - t0) / n * 1e6))
elif what == "sendp":
    iface, path = sys.argv[2], sys.argv[3]
    pkts = rdpcap(path)
    t0 = time.perf_counter()
    sendp(pkts, iface=iface)
    print(len(pkts), time.perf_counter() - t0)
