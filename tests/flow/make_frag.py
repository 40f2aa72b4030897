#!/usr/bin/python3
"""make_frag.py: writes the fragmented captures of the flow tests with
python3-scapy's fragment()/fragment6() (run with Debian's /usr/bin/python3).

tests/data/flows_frag.pcap: fragmented datagrams tshark reassembles too,
  so its conversation tables (conv,tcp, conv,udp, conv,ipv6) judge ours:
  UDP over IPv4 in order, reversed, interleaved with another datagram of
  the same id from elsewhere, with an exact duplicate fragment, on a VLAN;
  a TCP conversation whose data segments are fragmented (IPv4 and IPv6);
  UDP over IPv6 reversed; a tiny first fragment (8 bytes: the UDP header
  alone); a datagram missing a fragment (never made whole).
tests/data/flows_frag_attacks.pcap: what the overlap rule (Linux's: any
  overlap but an exact duplicate discards the datagram) and the limits
  decide, checked by tests/lua/flow_spec.lua: a fragment overwriting the
  UDP ports (RFC 1858's overlap attack), an IPv6 overlap (RFC 5722), a
  datagram past 65,535 bytes, one whose fragments come 40 s apart (past
  the 30 s fragment_timeout), two different last fragments.
Usage: /usr/bin/python3 tests/flow/make_frag.py [OUTDIR]
"""
import sys
from scapy.all import (Ether, Dot1Q, IP, IPv6, IPv6ExtHdrFragment, TCP, UDP,
                       Raw, fragment, fragment6, wrpcap)

out = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
MA, MB = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
t = [1700000000.0]


def at(p, dt=0.001):
    t[0] += dt
    p.time = t[0]
    return p


def body(n, c):
    return bytes((c + i) % 256 for i in range(n))


def eth(l3, vlan=None):
    e = Ether(src=MA, dst=MB)
    return e / Dot1Q(vlan=vlan) / l3 if vlan else e / l3


def frags4(src, dst, sport, dport, n, ident, size=600, vlan=None, c=0):
    d = IP(src=src, dst=dst, id=ident) / UDP(sport=sport, dport=dport) / Raw(body(n, c))
    return [eth(f, vlan) for f in fragment(d, fragsize=size)]


def frags6(src, dst, l4, ident, size=600):
    d = IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(id=ident) / l4
    return [Ether(src=MA, dst=MB) / f for f in fragment6(d, size)]


pk = []
# UDP over IPv4, in order, and the answer
pk += [at(p) for p in frags4("10.0.0.1", "10.0.0.2", 1111, 2222, 3000, 7)]
pk.append(at(eth(IP(src="10.0.0.2", dst="10.0.0.1") / UDP(sport=2222, dport=1111) / Raw(b"B" * 100))))
# reversed
pk += [at(p) for p in reversed(frags4("10.0.0.3", "10.0.0.2", 1112, 2222, 2500, 8))]
# interleaved with another source's datagram of the same id
a = frags4("10.0.0.4", "10.0.0.2", 1113, 2222, 1800, 9, c=1)
b = frags4("10.0.0.5", "10.0.0.2", 1113, 2222, 1800, 9, c=2)
for x, y in zip(a, b):
    pk += [at(x), at(y)]
# an exact duplicate fragment
d = frags4("10.0.0.6", "10.0.0.2", 1114, 2222, 2000, 10)
pk += [at(d[0]), at(d[1]), at(d[1]), at(d[2]), at(d[3])]
# on a VLAN
pk += [at(p) for p in frags4("10.0.0.7", "10.0.0.2", 1115, 2222, 1500, 11, vlan=42)]
# tiny first fragment: the UDP header alone
pk += [at(p) for p in frags4("10.0.0.8", "10.0.0.2", 1116, 2222, 300, 12, size=8)]
# a datagram missing its middle fragment: never whole
m = frags4("10.0.0.9", "10.0.0.2", 1117, 2222, 2000, 13)
pk += [at(m[0]), at(m[2])]
# TCP over IPv4 and IPv6 with fragmented data segments
for v6 in (False, True):
    c, s = ("2001:db8::1", "2001:db8::2") if v6 else ("10.0.1.1", "10.0.1.2")
    L3 = (lambda a, b: IPv6(src=a, dst=b)) if v6 else (lambda a, b: IP(src=a, dst=b, flags=0))
    cs, ss = 1000, 5000
    pk.append(at(eth(L3(c, s) / TCP(sport=40000, dport=80, flags="S", seq=cs))))
    pk.append(at(eth(L3(s, c) / TCP(sport=80, dport=40000, flags="SA", seq=ss, ack=cs + 1))))
    pk.append(at(eth(L3(c, s) / TCP(sport=40000, dport=80, flags="A", seq=cs + 1, ack=ss + 1))))
    req = b"GET / HTTP/1.0\r\n\r\n"
    pk.append(at(eth(L3(c, s) / TCP(sport=40000, dport=80, flags="PA", seq=cs + 1, ack=ss + 1) / req)))
    resp = body(4000, 5)
    seg = TCP(sport=80, dport=40000, flags="PA", seq=ss + 1, ack=cs + 1 + len(req)) / Raw(resp)
    if v6:
        pk += [at(p) for p in frags6(s, c, seg, 99)]
    else:
        pk += [at(eth(f)) for f in fragment(IP(src=s, dst=c, id=21) / seg, fragsize=1400)]
    pk.append(at(eth(L3(c, s) / TCP(sport=40000, dport=80, flags="FA", seq=cs + 1 + len(req), ack=ss + 1 + len(resp)))))
    pk.append(at(eth(L3(s, c) / TCP(sport=80, dport=40000, flags="FA", seq=ss + 1 + len(resp), ack=cs + 2 + len(req)))))
    pk.append(at(eth(L3(c, s) / TCP(sport=40000, dport=80, flags="A", seq=cs + 2 + len(req), ack=ss + 2 + len(resp)))))
# UDP over IPv6, reversed
pk += [at(p) for p in reversed(frags6("2001:db8::3", "2001:db8::4", UDP(sport=5, dport=6) / Raw(body(3000, 9)), 77))]
wrpcap(out + "/flows_frag.pcap", pk)

# ---- attacks and limits -----------------------------------------------------------
pk = []
# RFC 1858 overlap: a second fragment at offset 0 with other ports
d = frags4("10.1.0.1", "10.1.0.2", 1000, 53, 1200, 31)
evil = eth(IP(src="10.1.0.1", dst="10.1.0.2", id=31, flags="MF", proto=17, frag=0) / Raw(b"\x11\x11\x22\x22" + b"\0" * 4))
pk += [at(d[0]), at(evil), at(d[1])]
# an IPv6 overlap (RFC 5722): two fragments covering the same bytes differently
e = frags6("2001:db8:1::1", "2001:db8:1::2", UDP(sport=7, dport=8) / Raw(body(2000, 3)), 55)
o = e[1].copy()
o[IPv6ExtHdrFragment].offset -= 1  # 8 bytes earlier: overlaps its neighbour
pk += [at(e[0]), at(o), at(e[1]), at(e[2]) if len(e) > 2 else at(e[1])]
# past 65,535 bytes: a fragment at the largest offset
big = eth(IP(src="10.1.0.3", dst="10.1.0.4", id=32, proto=17, frag=8190) / Raw(b"x" * 200))
pk += [at(p) for p in frags4("10.1.0.3", "10.1.0.4", 1, 2, 1000, 32)[:1]] + [at(big)]
# 40 s between two fragments of one datagram
s = frags4("10.1.0.5", "10.1.0.6", 3, 4, 1000, 33)
pk += [at(s[0]), at(s[1], 40.0)]
# two different last fragments
z = frags4("10.1.0.7", "10.1.0.8", 5, 6, 1000, 34)
last = z[-1][IP]
other_end = eth(IP(src=last.src, dst=last.dst, id=34, proto=17, frag=last.frag) /
                Raw(bytes(last.payload) + b"\0" * 8))
pk += [at(z[-1]), at(other_end), at(z[0])]
# a whole datagram after all that: the table still works
pk += [at(p) for p in frags4("10.1.0.9", "10.1.0.10", 9, 10, 1000, 35)]
wrpcap(out + "/flows_frag_attacks.pcap", pk)
print("wrote %s/flows_frag.pcap and %s/flows_frag_attacks.pcap" % (out, out))
