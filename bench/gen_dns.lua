-- gen_dns.lua OUT [N] [SEED]: a capture of N DNS responses as resolvers
-- send them (Ethernet/IPv4/UDP from port 53, names compressed): one
-- question, then 1 to 4 answers (a CNAME chain to A or AAAA records, or
-- MX), an OPT record in half of them, to ephemeral ports (49152 and up:
-- no other protocol sits there).  For bench/dns_bench.sh.
local sf = require("stackforge")
local out, n, seed = assert(arg[1], "usage: gen_dns.lua OUT [N] [SEED]"), tonumber(arg[2] or 200000), tonumber(arg[3] or 1)
math.randomseed(seed)
local R = math.random
local w <close> = sf.PcapWriter(out)
local zones = {"example.com", "example.org", "cdn.example.net", "svc.example.io"}
-- a few thousand distinct messages, repeated in order (like a busy resolver)
local msgs = {}
for i = 1, 4000 do
  local zone = zones[R(1, #zones)]
  local qname = ("host%d.%s"):format(R(1, 5000), zone)
  local an, qtype = {}, "A"
  local kind = R(1, 10)
  if kind <= 6 then
    for k = 1, R(1, 3) do an[k] = sf.DNSRR{rrname = qname, ttl = R(30, 3600), rdata = ("10.%d.%d.%d"):format(R(0, 255), R(0, 255), R(1, 254))} end
  elseif kind <= 8 then
    local target = ("edge%d.%s"):format(R(1, 99), zones[3])
    an[1] = sf.DNSRR{rrname = qname, type = "CNAME", ttl = 300, rdata = target}
    an[2] = sf.DNSRR{rrname = target, type = "AAAA", ttl = 60, rdata = ("2001:db8::%x"):format(R(1, 0xffff))}
    qtype = "AAAA"
  else
    qtype = "MX"
    for k = 1, 2 do an[k] = sf.DNSRRMX{rrname = zone, ttl = 3600, preference = 10 * k, exchange = ("mx%d.%s"):format(k, zone)} end
  end
  local dns = sf.DNS{id = R(0, 65535), qr = 1, ra = 1, qd = sf.DNSQR{qname = qname, qtype = qtype},
    an = an, ar = R(1, 2) == 1 and sf.DNSRROPT{z = 0, rclass = 1232} or nil}
  msgs[i] = sf.dns_compress(sf.Ether{src = "02:00:00:00:00:53", dst = "02:00:00:00:00:01"} /
    sf.IP{src = "192.0.2.53", dst = "192.0.2.1"} / sf.UDP{sport = 53, dport = R(49152, 65535)} / dns)
end
for i = 1, n do
  local p = msgs[(i - 1) % #msgs + 1]
  p.time = 1700000000 + i / 1000
  w:write(p)
end
