-- lab_servers.lua: a lab network's servers as answering machines on one
-- interface: DHCP for the clients, DNS for the lab's names, and a pingable
-- address, none of them needing an address of this host (each answers
-- ARP for its own).  Root (or CAP_NET_RAW); Ctrl-C ends it.
--   sflua examples/lab_servers.lua IFACE
local sf = require("stackforge")

local iface = arg[1] or sf.conf.iface
local config = sf.AutomatonConfig{iface = iface}

local dhcp = sf.DhcpServerAM(sf.DhcpPoolConfig{
  pool_start = "10.77.0.100", pool_end = "10.77.0.199", server_ip = "10.77.0.1",
  subnet_mask = "255.255.255.0", gateway = "10.77.0.1", dns_servers = {"10.77.0.53"},
  lease_time = 3600, domain = "lab.test"}, {lease_file = os.tmpname() .. ".leases"})
local dns = sf.DnsServerAM{addresses = "10.77.0.53", reverse = true, records = {
  ["gw.lab.test"] = {A = "10.77.0.1"},
  ["ns.lab.test"] = {A = "10.77.0.53"},
  ["www.lab.test"] = {A = "10.77.0.80", TXT = "served by sflua"},
}}
local echo = sf.IcmpEchoAM{addresses = {"10.77.0.1", "10.77.0.80"}}

for _, am in ipairs{dhcp, dns, echo} do am:start(config) end
print(("serving on %s: DHCP 10.77.0.100-199, DNS at 10.77.0.53, pings to .1 and .80"):format(iface))

-- every ten seconds, the leases; the loop runs after the script's last
-- line until Ctrl-C (sflua's way, as Node's)
local uv = require("luv")
local t = uv.new_timer()
t:start(10000, 10000, function()
  for _, l in ipairs(dhcp:leases()) do
    print(("  %-15s %s %-8s %4ds %s"):format(l.ip, l.mac, l.state, l.expires, l.hostname or ""))
  end
end)
