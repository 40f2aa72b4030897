-- BOOTP and DHCP (core/proto/dhcp.c, stdlib/stackforge/codecs/dhcp.lua)
-- against Scapy 2.5's BOOTP and DHCP and tshark's dhcp dissector.  Where
-- Scapy keeps an option as bytes (client_id, client_FQDN,
-- relay_agent_information, 119), the Lua side gives sflua's typed value.
-- Random packets: tests/interop/gen_dhcp.lua; real programs:
-- tests/interop/run_dhcp_clients.sh.
local function first(field)  -- tshark's first occurrence, from dhcp_fields
  return function(p)
    local v = require("dhcp_fields").values(p)[field]
    return v and (math.tointeger(tonumber(v[1])) or v[1])
  end
end

local E = "Ether(src='02:00:00:00:00:01', dst='ff:ff:ff:ff:ff:ff')/IP(src='0.0.0.0', dst='255.255.255.255')"
local L = "Ether{src='02:00:00:00:00:01', dst='ff:ff:ff:ff:ff:ff'}/IP{src='0.0.0.0', dst='255.255.255.255'}"

local tshark = {}
for _, f in ipairs({"dhcp.type", "dhcp.hw.type", "dhcp.id", "dhcp.flags", "dhcp.ip.your",
    "dhcp.hw.mac_addr", "dhcp.server", "dhcp.file", "dhcp.cookie", "dhcp.option.dhcp",
    "dhcp.option.requested_ip_address", "dhcp.option.router",
    "dhcp.option.ip_address_lease_time", "dhcp.option.request_list_item",
    "dhcp.option.hostname", "dhcp.client_id.type", "dhcp.fqdn.flags", "dhcp.fqdn.name",
    "dhcp.option.agent_information_option.agent_circuit_id",
    "dhcp.option.agent_information_option.link_selection",
    "dhcp.option.dhcp_dns_domain_search_list_fqdn", "dhcp.option.classless_static_route",
    "dhcp.option.type", "dhcp.option.value"}) do
  tshark[f] = first(f)
end
tshark["udp.srcport"] = {"UDP", "sport"}
tshark["udp.dstport"] = {"UDP", "dport"}

return {
  linktype = 1,
  tshark = tshark,
  cases = {
    {E .. "/UDP()/BOOTP()/DHCP(options=[('message-type','discover'),'end'])",
     L .. "/UDP()/BOOTP()/DHCP{options={{'message-type','discover'},'end'}}"},
    {E .. "/UDP(sport=68, dport=67)/BOOTP(xid=0x1234, flags=0x8000, chaddr=b'\\x00\\x0b\\x82\\x01\\xfc\\x42')/DHCP(options=[('message-type','request'),('requested_addr','10.0.0.5'),('param_req_list',[1,3,6,15,119,121]),('hostname','box'),'end'])",
     L .. "/UDP{sport=68, dport=67}/BOOTP{xid=0x1234, flags='B', chaddr='00:0b:82:01:fc:42'}/DHCP{options={{'message-type','request'},{'requested_addr','10.0.0.5'},{'param_req_list',{'subnet_mask','router','name_server','domain','domain_search','classless_static_routes'}},{'hostname','box'},'end'}}"},
    {E .. "/UDP(sport=67, dport=68)/BOOTP(op=2, yiaddr='10.0.0.5', siaddr='10.0.0.1', sname=b'srv', file=b'pxelinux.0')/DHCP(options=[('message-type',2),('server_id','10.0.0.1'),('lease_time',86400),('subnet_mask','255.255.255.0'),('router','10.0.0.1'),('name_server','10.0.0.1','10.0.0.2'),'end'])",
     L .. "/UDP{sport=67, dport=68}/BOOTP{op=2, yiaddr='10.0.0.5', siaddr='10.0.0.1', sname='srv', file='pxelinux.0'}/DHCP{options={{'message-type','offer'},{'server_id','10.0.0.1'},{'lease_time',86400},{'subnet_mask','255.255.255.0'},{'router','10.0.0.1'},{'name_server',{'10.0.0.1','10.0.0.2'}},'end'}}"},
    {E .. "/UDP(sport=68, dport=67)/BOOTP()/DHCP(options=[('message-type','inform'),('client_id',b'\\x01\\x00\\x11\\x22\\x33\\x44\\x55'),('client_FQDN',b'\\x05\\x00\\x00\\x04host\\x07example\\x03com\\x00'),'end'])",
     L .. "/UDP{sport=68, dport=67}/BOOTP()/DHCP{options={{'message-type','inform'},{'client_id',{1,'00:11:22:33:44:55'}},{'client_FQDN',{flags=5,name='host.example.com.'}},'end'}}"},
    {E .. "/UDP(sport=67, dport=67)/BOOTP(giaddr='10.1.0.1', hops=1)/DHCP(options=[('message-type','discover'),('relay_agent_information',b'\\x01\\x04eth0\\x05\\x04\\x0a\\x01\\x00\\x00'),'end'])",
     L .. "/UDP{sport=67, dport=67}/BOOTP{giaddr='10.1.0.1', hops=1}/DHCP{options={{'message-type','discover'},{'relay_agent_information',{{'circuit_id','eth0'},{'link_selection','10.1.0.0'}}},'end'}}"},
    {E .. "/UDP(sport=67, dport=68)/BOOTP(op=2)/DHCP(options=[('message-type','ack'),(119,b'\\x03eng\\x05apple\\x03com\\x00\\x09marketing\\xc0\\x04'),('classless_static_routes',['10.0.0.0/8:192.168.1.1','0.0.0.0/0:192.168.1.254']),'end'])",
     L .. "/UDP{sport=67, dport=68}/BOOTP{op=2}/DHCP{options={{'message-type','ack'},{'domain_search',{'eng.apple.com','marketing.apple.com'}},{'classless_static_routes',{{'10.0.0.0/8','192.168.1.1'},{'0.0.0.0/0','192.168.1.254'}}},'end'}}"},
    {E .. "/UDP(sport=68, dport=67)/BOOTP()/DHCP(options=[('message-type','release'),'pad','pad',(224,b'\\x01\\x02'),'end'])",
     L .. "/UDP{sport=68, dport=67}/BOOTP()/DHCP{options={{'message-type','release'},'pad','pad',{224,'\\1\\2'},'end'}}"},
    {E .. "/UDP(sport=68, dport=67)/BOOTP(options=b'vendor-area')",
     L .. "/UDP{sport=68, dport=67}/BOOTP{options='vendor-area'}"},
  },
}
