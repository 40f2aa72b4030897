"""py_pcap.py: the Python capture-reading anchors (dpkt, Scapy).

Usage: /usr/bin/python3 bench/py_pcap.py CAPTURE [SECONDS] [SCAPY_PACKETS]
  dpkt:  whole passes over CAPTURE until SECONDS (default 1.5) passed:
         Ethernet(buf); IPv4 or IPv6 (802.1Q handled by dpkt); TCP -> dport
  Scapy: PcapReader over the first SCAPY_PACKETS (default 20000) packets
         only (Scapy is ~100x slower), `if TCP in p: n += p[TCP].dport`
Prints "RESULT <name> <packets/s>" and "CHECK <name> <sum>"; time is
time.perf_counter (monotonic).  A missing module is skipped with a note.
"""
import itertools
import sys
import time

path = sys.argv[1]
secs = float(sys.argv[2]) if len(sys.argv) > 2 else 1.5
nscapy = int(sys.argv[3]) if len(sys.argv) > 3 else 20000


def report(name, done, el, check):
    print("RESULT %s %.0f" % (name, done / el))
    print("CHECK %s %d" % (name, check), flush=True)


try:
    import dpkt
except ImportError as e:
    sys.stderr.write("py_pcap: no dpkt (%s); dpkt anchor skipped\n" % e)
    dpkt = None

if dpkt is not None:
    Ethernet, IP4, IP6, TCPd = dpkt.ethernet.Ethernet, dpkt.ip.IP, dpkt.ip6.IP6, dpkt.tcp.TCP

    def dpkt_pass():
        n = k = 0
        with open(path, "rb") as f:
            for ts, buf in dpkt.pcap.Reader(f):
                k += 1
                eth = Ethernet(buf)
                ip = eth.data
                if isinstance(ip, (IP4, IP6)) and isinstance(ip.data, TCPd):
                    n += ip.data.dport
        return k, n

    dpkt_pass()  # warm-up (page cache)
    done, t0 = 0, time.perf_counter()
    while True:
        k, check = dpkt_pass()
        done += k
        el = time.perf_counter() - t0
        if el >= secs:
            break
    report("dpkt_pcap_loop", done, el, check)

try:
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.utils import PcapReader
    from scapy.layers.inet import TCP
    import scapy.layers.inet6  # noqa: F401  (IPv6 dissection)
    import scapy.layers.l2  # noqa: F401
except ImportError as e:
    sys.stderr.write("py_pcap: no Scapy (%s); Scapy anchor skipped\n" % e)
    PcapReader = None

if PcapReader is not None:
    def scapy_pass(count):
        n = k = 0
        with PcapReader(path) as r:
            for p in itertools.islice(r, count):
                k += 1
                if TCP in p:
                    n += p[TCP].dport
        return k, n

    scapy_pass(200)  # warm-up (imports, caches)
    t0 = time.perf_counter()
    k, check = scapy_pass(nscapy)
    report("scapy_pcap_loop", k, time.perf_counter() - t0, check)
