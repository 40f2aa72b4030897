-- gen_mix.lua: the deterministic packet mix the dissection and parse
-- benchmarks share.  Usage: sflua bench/gen_mix.lua OUT [COUNT]
-- Output: a stream of records, each a little-endian u32 length followed by
-- that many packet bytes (string.pack("<s4", raw)).
local sf = require("stackforge")
local Ether, Dot1Q, ARP, IP, IPv6, TCP, UDP, ICMP = sf.Ether, sf.Dot1Q,
  sf.ARP, sf.IP, sf.IPv6, sf.TCP, sf.UDP, sf.ICMP
local NS, SrcLL = sf.ICMPv6ND_NS, sf.ICMPv6NDOptSrcLLAddr

local out = assert(arg[1], "usage: gen_mix.lua OUT [COUNT]")
local count = tonumber(arg[2] or 100000)

-- a fixed LCG, so every run and every Lua build sees the same packets
local state = 12345
local function rnd(n)
  state = (state * 1103515245 + 12345) & 0x7fffffff
  return state % n
end
local function ip4() return ("10.%d.%d.%d"):format(rnd(256), rnd(256), 1 + rnd(254)) end
local function ip6() return ("2001:db8:%x::%x"):format(rnd(65536), 1 + rnd(65535)) end
local function mac() return ("02:00:%02x:%02x:%02x:%02x"):format(rnd(256), rnd(256), rnd(256), rnd(256)) end
local function payload(n) return ("%c"):format(65 + rnd(26)):rep(n) end

-- a DNS query for "wwwNNN.example.com" (A, IN): header + question
local function dns_query()
  local name = ("www%d"):format(rnd(1000))
  return string.pack(">I2I2I2I2I2I2", rnd(65536), 0x0100, 1, 0, 0, 0)
    .. string.pack("s1s1s1", name, "example", "com") .. "\0"
    .. string.pack(">I2I2", 1, 1)
end

local tcp_opts = {{"MSS", 1460}, {"NOP"}, {"WScale", 7}, {"SAckOK", ""},
                  {"Timestamp", {123456, 654321}}}

local makers = {
  -- TCP/IPv4 with options and payload (the most common shape): weight 4
  function()
    return Ether{src = mac(), dst = mac()} / IP{src = ip4(), dst = ip4(), ttl = 64}
      / TCP{sport = 1024 + rnd(60000), dport = 80, flags = "PA", seq = rnd(1 << 30),
            options = tcp_opts} / payload(rnd(1400))
  end,
  function()
    return Ether{src = mac(), dst = mac()} / IP{src = ip4(), dst = ip4()}
      / TCP{sport = 443, dport = 1024 + rnd(60000), flags = "A", ack = rnd(1 << 30)}
      / payload(rnd(200))
  end,
  -- UDP/DNS-sized payloads
  function()
    return Ether{src = mac(), dst = mac()} / IP{src = ip4(), dst = ip4()}
      / UDP{sport = 1024 + rnd(60000), dport = 53} / dns_query()
  end,
  -- ICMP echo
  function()
    return Ether{src = mac(), dst = mac()} / IP{src = ip4(), dst = ip4()}
      / ICMP.echo_request{id = rnd(65536), seq = rnd(65536)} / payload(56)
  end,
  -- IPv6/TCP
  function()
    return Ether{src = mac(), dst = mac()} / IPv6{src = ip6(), dst = ip6()}
      / TCP{sport = 1024 + rnd(60000), dport = 443, flags = "S", options = tcp_opts}
  end,
  -- IPv6/UDP
  function()
    return Ether{src = mac(), dst = mac()} / IPv6{src = ip6(), dst = ip6()}
      / UDP{sport = 1024 + rnd(60000), dport = 53} / dns_query()
  end,
  -- ICMPv6 neighbour solicitation with a source link-layer option
  function()
    local m = mac()
    return Ether{src = m, dst = "33:33:ff:00:00:02"}
      / IPv6{src = "fe80::1", dst = "ff02::1:ff00:2", hlim = 255}
      / NS{tgt = ("fe80::%x"):format(1 + rnd(65535))} / SrcLL{lladdr = m}
  end,
  -- ARP who-has, padded to the Ethernet minimum as on the wire
  function()
    return Ether{src = mac(), dst = "ff:ff:ff:ff:ff:ff"}
      / ARP{op = "who-has", psrc = ip4(), pdst = ip4()} / ("\0"):rep(18)
  end,
  -- 802.1Q-tagged TCP/IPv4
  function()
    return Ether{src = mac(), dst = mac()} / Dot1Q{vlan = 1 + rnd(4094)}
      / IP{src = ip4(), dst = ip4()}
      / TCP{sport = 1024 + rnd(60000), dport = 22, flags = "PA"} / payload(rnd(300))
  end,
}
local weights = {4, 2, 2, 1, 1, 1, 1, 1, 1}
local schedule = {}
for k, w in ipairs(weights) do for _ = 1, w do schedule[#schedule + 1] = k end end

local f = assert(io.open(out, "wb"))
local buf, bytes = {}, 0
for i = 1, count do
  local raw = makers[schedule[rnd(#schedule) + 1]]():bytes()
  buf[#buf + 1] = string.pack("<s4", raw)
  bytes = bytes + #raw
  if #buf == 1000 then f:write(table.concat(buf)); buf = {} end
end
f:write(table.concat(buf))
f:close()
io.stderr:write(("gen_mix: %d packets, %d bytes -> %s\n"):format(count, bytes, out))
