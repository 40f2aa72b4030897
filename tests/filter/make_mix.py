#!/usr/bin/python3
"""Writes tests/data/filter_mix.pcap with Scapy: the protocols and field
kinds the filter corpus needs that the real captures lack (ARP, VXLAN,
GRE, IPv6 extension headers, IPv4 and IPv6 fragments, ND options, ICMP
errors, IPv4 options, VLAN).  Run once; the file is committed."""
import sys
from scapy.all import (ARP, GRE, ICMP, IP, TCP, UDP, VXLAN, Dot1Q, Ether, ICMPv6EchoRequest,
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6NDOptMTU,
                       ICMPv6NDOptPrefixInfo, ICMPv6NDOptSrcLLAddr, ICMPv6DestUnreach,
                       IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrRouting, IPOption_RR, Raw, wrpcap)

out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/filter_mix.pcap"
E = Ether(src="00:11:22:33:44:55", dst="66:77:88:99:aa:bb")
pkts = [
    E / ARP(op=1, psrc="192.168.1.10", pdst="192.168.1.1", hwsrc="00:11:22:33:44:55"),
    Ether(src="aa:bb:cc:00:00:01", dst="ff:ff:ff:ff:ff:ff") / ARP(op=2, psrc="192.168.1.1", hwsrc="aa:bb:cc:00:00:01", pdst="192.168.1.10"),
    E / IP(src="10.1.2.3", dst="172.16.5.4", ttl=3, tos=0xb8) / TCP(sport=40000, dport=443, flags="S", seq=1000, window=65535, options=[("MSS", 1460)]),
    E / IP(src="172.16.5.4", dst="10.1.2.3", flags="DF") / TCP(sport=443, dport=40000, flags="SA", seq=5000, ack=1001),
    E / IP(src="10.1.2.3", dst="172.16.5.4", flags="DF") / TCP(sport=40000, dport=443, flags="PA", seq=1001, ack=5001) / Raw(b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n"),
    E / IP(src="10.1.2.3", dst="8.8.8.8", id=0x1234, flags="MF", frag=0) / UDP(sport=5353, dport=53) / Raw(b"A" * 40),
    E / IP(src="10.1.2.3", dst="8.8.8.8", id=0x1234, frag=6, proto=17) / Raw(b"B" * 20),
    E / IP(src="192.0.2.1", dst="198.51.100.7", options=[IPOption_RR(routers=["1.2.3.4"])]) / ICMP(type=8, id=77, seq=3) / Raw(b"ping"),
    E / IP(src="198.51.100.7", dst="192.0.2.1") / ICMP(type=3, code=3) / IP(src="192.0.2.1", dst="198.51.100.7") / UDP(sport=3333, dport=4444),
    E / Dot1Q(vlan=100, prio=5) / IP(src="10.9.9.9", dst="10.8.8.8") / UDP(sport=1234, dport=5678) / Raw(b"vlan"),
    E / Dot1Q(vlan=200) / Dot1Q(vlan=300) / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=53, dport=1053),
    E / IP(src="10.0.0.1", dst="10.0.0.2") / GRE(key_present=1, key=0xabcd, seqnum_present=1, sequence_number=9) / IP(src="10.50.0.1", dst="10.60.0.1") / TCP(sport=80, dport=8080, flags="A"),
    E / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=49152, dport=4789) / VXLAN(vni=4242) / Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src="192.168.100.1", dst="192.168.100.2") / ICMP(),
    E / IPv6(src="fe80::1", dst="ff02::1", hlim=255) / ICMPv6ND_RA(chlim=64, M=1, routerlifetime=1800) / ICMPv6NDOptSrcLLAddr(lladdr="00:11:22:33:44:55") / ICMPv6NDOptMTU(mtu=1500) / ICMPv6NDOptPrefixInfo(prefix="2001:db8:1::", prefixlen=64),
    E / IPv6(src="fe80::2", dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt="fe80::1") / ICMPv6NDOptSrcLLAddr(lladdr="66:77:88:99:aa:bb"),
    E / IPv6(src="fe80::1", dst="fe80::2", hlim=255) / ICMPv6ND_NA(tgt="fe80::1", R=1, S=1, O=0),
    E / IPv6(src="2001:db8::10", dst="2001:db8::20", tc=0x28, fl=0x12345) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / TCP(sport=22, dport=50000, flags="A"),
    E / IPv6(src="2001:db8::10", dst="2001:db8::30") / IPv6ExtHdrRouting(addresses=["2001:db8::99"], segleft=1) / UDP(sport=7, dport=7),
    E / IPv6(src="2001:db8::10", dst="2001:db8::40") / IPv6ExtHdrFragment(id=0xdeadbeef, m=1, offset=0) / UDP(sport=111, dport=222) / Raw(b"F" * 16),
    E / IPv6(src="2001:db8::40", dst="2001:db8::10") / ICMPv6DestUnreach(code=4) / IPv6(src="2001:db8::10", dst="2001:db8::40") / UDP(sport=222, dport=111),
    E / IPv6(src="::1", dst="::1") / ICMPv6EchoRequest(id=0x4242, seq=7, data=b"hello"),
    E / IP(src="255.255.255.255", dst="0.0.0.0", ttl=255) / UDP(sport=68, dport=67) / Raw(b"\x00" * 10),
]
for i, p in enumerate(pkts):
    p.time = 1700000000 + i * 0.25
wrpcap(out, pkts)
