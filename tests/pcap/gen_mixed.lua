-- gen_mixed.lua OUT: a small mixed capture (TCP with several flag sets,
-- UDP, ICMP, IPv6 TCP/UDP, 802.1Q VLAN) built and written by sflua, with
-- nanosecond times, for the interop field check.
local sf = require("stackforge")

local seed = 12345
local function rand(n)  -- deterministic LCG: the same file every run
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n
end

local flags = {"S", "SA", "A", "PA", "FA", "R", "RA"}
local function mac() return ("02:00:00:%02x:%02x:%02x"):format(rand(256), rand(256), rand(256)) end
local function ip4() return ("10.%d.%d.%d"):format(rand(256), rand(256), 1 + rand(254)) end
local function ip6() return ("2001:db8::%x:%x"):format(rand(65536), 1 + rand(65535)) end

local makers = {
  function() return sf.Ether{src=mac()} / sf.IP{src=ip4(), dst=ip4()} /
    sf.TCP{sport=1024 + rand(60000), dport=80, seq=rand(2^31), flags=flags[1 + rand(#flags)]} /
    ("x"):rep(rand(100)) end,
  function() return sf.Ether{src=mac()} / sf.IP{src=ip4(), dst=ip4()} /
    sf.UDP{sport=1024 + rand(60000), dport=53} / ("q"):rep(rand(60)) end,
  function() return sf.Ether{src=mac()} / sf.IP{src=ip4(), dst=ip4()} /
    sf.ICMP.echo_request{id=rand(65536), seq=rand(100)} / "ping" end,
  function() return sf.Ether{src=mac()} / sf.IPv6{src=ip6(), dst=ip6()} /
    sf.TCP{sport=1024 + rand(60000), dport=443, seq=rand(2^31), flags=flags[1 + rand(#flags)]} end,
  function() return sf.Ether{src=mac()} / sf.IPv6{src=ip6(), dst=ip6()} /
    sf.UDP{sport=5353, dport=5353} / ("m"):rep(rand(40)) end,
  function() return sf.Ether{src=mac()} / sf.Dot1Q{vlan=1 + rand(4000)} /
    sf.IP{src=ip4(), dst=ip4()} / sf.TCP{sport=22, dport=1024 + rand(60000),
    seq=rand(2^31), flags="PA"} / "ssh" end,
}

local w <close> = sf.PcapWriter(arg[1], {nanosecond=true})
local t = 1700000000 * 1000000000
for i = 1, 240 do
  local p = makers[1 + (i - 1) % #makers]():build()
  t = t + 1 + rand(5000000)
  p.time_ns = t
  w:write(p)
end
