#!/usr/bin/python3
"""Scapy's word on which packet answers which: request/reply pairs built
here, judged by Scapy's reply.answers(request) and hashret(), written as a
Lua table (tests/data/scapy_answers.lua; tests/lua/answers_spec.lua checks
sflua against it, tests/live/run_scapy_answers.sh against today's Scapy).

Pairs where sflua differs from Scapy on purpose are left out (docs/live.md
says which): a request sent at layer 3 answered by a captured frame (sflua
compares from the first layer above the link); an ICMP error quoting a TCP
segment with another seq (sflua checks it, Scapy by default does not)."""
import sys

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, ICMPv6DestUnreach,
                       ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA,
                       ICMPv6ND_NS, IPerror, IPerror6, IPv6, Raw, UDPerror,
                       TCPerror, ICMPerror, conf)

A, B, C, R = "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.254"
A6, B6, C6 = "fd00::1", "fd00::2", "fd00::3"
MA, MB = "02:00:00:00:00:01", "02:00:00:00:00:02"


def quote(pkt, cls_map):
    """the request as an ICMP error quotes it (Scapy's *error classes)"""
    return cls_map(bytes(pkt))


def cases():
    req = IP(src=A, dst=B) / ICMP(type=8, id=1, seq=1) / b"ping"
    yield "echo", req, IP(src=B, dst=A) / ICMP(type=0, id=1, seq=1) / b"ping"
    yield "echo, other seq", req, IP(src=B, dst=A) / ICMP(type=0, id=1, seq=2)
    yield "echo, other id", req, IP(src=B, dst=A) / ICMP(type=0, id=2, seq=1)
    yield "echo, from another host", req, IP(src=C, dst=A) / ICMP(type=0, id=1, seq=1)
    yield "echo, a request again", req, IP(src=B, dst=A) / ICMP(type=8, id=1, seq=1)
    yield "timestamp", IP(src=A, dst=B) / ICMP(type=13, id=5, seq=6), \
        IP(src=B, dst=A) / ICMP(type=14, id=5, seq=6)
    yield "address mask", IP(src=A, dst=B) / ICMP(type=17, id=5, seq=6), \
        IP(src=B, dst=A) / ICMP(type=18, id=5, seq=7)

    u = IP(src=A, dst=B) / UDP(sport=1234, dport=53) / b"q"
    yield "udp", u, IP(src=B, dst=A) / UDP(sport=53, dport=1234) / b"r"
    yield "udp, other port", u, IP(src=B, dst=A) / UDP(sport=54, dport=1234)
    yield "udp, other client port", u, IP(src=B, dst=A) / UDP(sport=53, dport=1235)
    yield "port unreachable", u, IP(src=B, dst=A) / ICMP(type=3, code=3) / IPerror(bytes(u[IP]))
    other = IP(src=A, dst=B) / UDP(sport=1234, dport=54) / b"q"
    yield "port unreachable for another port", u, \
        IP(src=B, dst=A) / ICMP(type=3, code=3) / IPerror(bytes(other))
    yield "time exceeded from a router", u, \
        IP(src=R, dst=A) / ICMP(type=11, code=0) / IPerror(bytes(u))
    far = IP(src=A, dst=C) / UDP(sport=1234, dport=53)
    yield "time exceeded for another host", u, \
        IP(src=R, dst=A) / ICMP(type=11) / IPerror(bytes(far))

    syn = IP(src=A, dst=B) / TCP(sport=1025, dport=80, flags="S", seq=100)
    yield "syn-ack", syn, IP(src=B, dst=A) / TCP(sport=80, dport=1025, flags="SA", seq=9, ack=101)
    yield "rst-ack", syn, IP(src=B, dst=A) / TCP(sport=80, dport=1025, flags="RA", seq=0, ack=101)
    yield "syn-ack, wrong ack", syn, IP(src=B, dst=A) / TCP(sport=80, dport=1025, flags="SA", ack=200)
    yield "a bare syn", syn, IP(src=B, dst=A) / TCP(sport=80, dport=1025, flags="S", ack=101)
    yield "syn-ack, other port", syn, IP(src=B, dst=A) / TCP(sport=81, dport=1025, flags="SA", ack=101)
    rst = IP(src=A, dst=B) / TCP(sport=1025, dport=80, flags="R", seq=100)
    yield "a reset is never answered", rst, IP(src=B, dst=A) / TCP(sport=80, dport=1025, flags="RA", ack=100)
    data = IP(src=A, dst=B) / TCP(sport=1025, dport=80, flags="PA", seq=1000, ack=5000) / (b"x" * 10)
    yield "data acked", data, IP(src=B, dst=A) / TCP(sport=80, dport=1025, flags="A", seq=5000, ack=1010)
    yield "data, ack far off", data, IP(src=B, dst=A) / TCP(sport=80, dport=1025, flags="A", seq=5000, ack=3000)
    yield "data, seq far off", data, IP(src=B, dst=A) / TCP(sport=80, dport=1025, flags="A", seq=9000, ack=1010)
    yield "syn, time exceeded", syn, IP(src=R, dst=A) / ICMP(type=11) / IPerror(bytes(syn))

    echo = IP(src=A, dst=C) / ICMP(type=8, id=7, seq=3)
    yield "echo, time exceeded", echo, IP(src=R, dst=A) / ICMP(type=11) / IPerror(bytes(echo))
    other_echo = IP(src=A, dst=C) / ICMP(type=8, id=7, seq=4)
    yield "echo, time exceeded for another seq", echo, \
        IP(src=R, dst=A) / ICMP(type=11) / IPerror(bytes(other_echo))

    who = Ether(src=MA, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=MA, psrc=A, pdst=B)
    yield "arp", who, Ether(src=MB, dst=MA) / ARP(op=2, hwsrc=MB, psrc=B, hwdst=MA, pdst=A)
    yield "arp, another host", who, Ether(src=MB, dst=MA) / ARP(op=2, psrc=C, pdst=A)
    yield "arp, a request again", who, Ether(src=MB, dst=MA) / ARP(op=1, psrc=B, pdst=A)
    yield "ether echo", Ether(src=MA, dst=MB) / req, Ether(src=MB, dst=MA) / IP(src=B, dst=A) / ICMP(type=0, id=1, seq=1) / b"ping"

    e6 = IPv6(src=A6, dst=B6) / ICMPv6EchoRequest(id=1, seq=2, data=b"abc")
    yield "echo6", e6, IPv6(src=B6, dst=A6) / ICMPv6EchoReply(id=1, seq=2, data=b"abc")
    yield "echo6, other data", e6, IPv6(src=B6, dst=A6) / ICMPv6EchoReply(id=1, seq=2, data=b"abd")
    yield "echo6, other seq", e6, IPv6(src=B6, dst=A6) / ICMPv6EchoReply(id=1, seq=3, data=b"abc")
    ns = IPv6(src=A6, dst="ff02::1:ff00:2") / ICMPv6ND_NS(tgt=B6)
    yield "neighbour solicitation", ns, IPv6(src=B6, dst=A6) / ICMPv6ND_NA(tgt=B6)
    yield "neighbour solicitation, other target", ns, IPv6(src=B6, dst=A6) / ICMPv6ND_NA(tgt=C6)
    u6 = IPv6(src=A6, dst=B6) / UDP(sport=4000, dport=5000)
    yield "udp6", u6, IPv6(src=B6, dst=A6) / UDP(sport=5000, dport=4000)
    yield "udp6, port unreachable", u6, \
        IPv6(src=B6, dst=A6) / ICMPv6DestUnreach(code=4) / IPerror6(bytes(u6))


def lua_str(b):
    return '"' + bytes(b).hex() + '"'


def main():
    out = ["-- generated by tests/live/scapy_answers.py from Debian's python3-scapy:",
           "-- reply.answers(request) and hashret() equality for each pair", "return {"]
    for name, req, resp in cases():
        link = "ether" if req.haslayer(Ether) else "raw"
        ans = bool(resp.answers(req))
        same = resp.hashret() == req.hashret()
        out.append("  {name = %r, link = %r, req = %s, resp = %s, answers = %s, same_hash = %s},"
                   % (name, link, lua_str(req), lua_str(resp), str(ans).lower(), str(same).lower()))
    out.append("}")
    sys.stdout.write("\n".join(out).replace("'", '"') + "\n")


if __name__ == "__main__":
    main()
