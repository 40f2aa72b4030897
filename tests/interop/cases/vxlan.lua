-- VXLAN (core/proto/vxlan.c) against Scapy 2.5's VXLAN and tshark's vxlan
-- dissector.  Where Scapy's builder switches plain VXLAN() / Ether() to
-- VXLAN-GPE (flags 0x0c, NextProtocol 3), sflua keeps RFC 7348's 0x08: the
-- cases give Scapy the flags explicitly.
return {
  linktype = 1,
  tshark = {
    ["vxlan.vni"] = {"VXLAN", "vni"},
    -- tshark reads the first two bytes as flags and the next two as the
    -- group policy id whatever the G flag says
    ["vxlan.flags"] = function(p, sf)
      local b = p:get_layer_bytes(sf.VXLAN)
      return b and (b:byte(1) << 8 | b:byte(2))
    end,
    ["vxlan.gbp"] = function(p, sf)
      local b = p:get_layer_bytes(sf.VXLAN)
      return b and (b:byte(3) << 8 | b:byte(4))
    end,
    ["vxlan.next_proto"] = {"VXLAN", "NextProtocol"},
    ["udp.srcport"] = {"UDP", "sport"},
    ["udp.dstport"] = {"UDP", "dport"},
    ["udp.checksum"] = {"UDP", "chksum"},
  },
  cases = {
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/UDP()/VXLAN(flags=8, vni=42)/Ether(src='02:00:00:00:00:05', dst='02:00:00:00:00:06')/IP()/ICMP()"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/UDP(sport=40000, dport=4789)/VXLAN(flags=8, vni=0xabcdef)/Ether(dst='00:aa:bb:cc:dd:ee')/IPv6()/UDP()"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IPv6()/UDP(sport=50000)/VXLAN(flags=8, vni=7)/Ether(src='02:00:00:00:00:04', dst='ff:ff:ff:ff:ff:ff')/ARP(hwsrc='02:00:00:00:00:04', psrc='10.0.0.4', pdst='10.0.0.5')"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/UDP(dport=4789)/VXLAN(flags=0x88, gpflags=0x08, gpid=1234, vni=9)/Ether(src='02:00:00:00:00:05', dst='02:00:00:00:00:06')/IP()"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/UDP(dport=4790)/VXLAN(vni=5)/IP()/ICMP()"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/UDP(dport=4790)/VXLAN(vni=6)/IPv6()/UDP()"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/UDP(dport=4790)/VXLAN(flags=12, NextProtocol=3, vni=8)/Ether(src='02:00:00:00:00:05', dst='02:00:00:00:00:06')/IP()"},
  },
}
