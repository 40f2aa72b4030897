-- GRE (core/proto/gre.c) against Scapy 2.5's GRE and GRE_PPTP, and
-- tshark's gre dissector.
local function first(p, sf, field)
  local g = p[sf.GRE] or p[sf.GRE_PPTP]
  return g and g[field]
end

return {
  linktype = 1,
  tshark = {
    ["gre.proto"] = function(p, sf) return first(p, sf, "proto") end,
    ["gre.flags.checksum"] = function(p, sf) return first(p, sf, "chksum_present") end,
    ["gre.flags.routing"] = function(p, sf) return first(p, sf, "routing_present") end,
    ["gre.flags.key"] = function(p, sf) return first(p, sf, "key_present") end,
    ["gre.flags.sequence_number"] = function(p, sf) return first(p, sf, "seqnum_present") end,
    ["gre.flags.version"] = function(p, sf) return first(p, sf, "version") end,
    ["gre.flags.ack"] = {"GRE_PPTP", "acknum_present"},
    ["gre.checksum"] = {"GRE", "chksum"},
    ["gre.offset"] = {"GRE", "offset"},
    ["gre.key"] = {"GRE", "key"},
    ["gre.sequence_number"] = function(p, sf) return first(p, sf, "sequence_number") end,
    ["gre.key.payload_length"] = {"GRE_PPTP", "payload_len"},
    ["gre.key.call_id"] = {"GRE_PPTP", "call_id"},
    ["gre.ack_number"] = {"GRE_PPTP", "ack_number"},
    ["ip.proto"] = {"IP", "proto"},
    ["ipv6.nxt"] = {"IPv6", "nh"},
    ["ip.checksum"] = {"IP", "chksum"},
    ["eth.type"] = {"Ether", "type"},
  },
  cases = {
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/GRE()/IP()/ICMP()"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='10.1.1.1', dst='10.2.2.2')/GRE(key_present=1, key=0x1234)/IP()/UDP(sport=1000, dport=2000)"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/GRE(seqnum_present=1, sequence_number=99)/IPv6()/ICMPv6EchoRequest(id=3, seq=4)"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/GRE(chksum_present=1, key_present=1, key=5, seqnum_present=1, sequence_number=7)/IP()"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/GRE(chksum_present=1)/IP(src='10.0.0.1')/TCP(dport=443, flags='S')"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/GRE(key_present=1, key=42, seqnum_present=1, sequence_number=1)/IP()/Raw(load='hello')"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IPv6()/GRE()/IP()/ICMP()"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/GRE()/Ether(src='00:11:22:33:44:55')/IP()/UDP()"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/GRE()/Dot1Q(vlan=5)/IP()"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/GRE()/ARP(hwsrc='02:00:00:00:00:03', psrc='10.0.0.3', pdst='10.0.0.9')"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/GRE(recursion_control=2, flags=3)/IPv6()"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/GRE_PPTP(call_id=7)/PPP()/IP()/ICMP()"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/GRE_PPTP(seqnum_present=1, sequence_number=1, acknum_present=1, ack_number=2, call_id=9)/HDLC()/PPP()/IP()"},
    {"Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP()/GRE_PPTP(acknum_present=1, ack_number=77, call_id=1)/PPP()/IPv6()"},
  },
}
