-- frag_cases.lua SEED COUNT [MAXDATA]: random fragmentation cases, one a line:
--   fragment  SIZE  HEX            an IPv4 packet (link type in HEX's first
--   fragment6 SIZE  HEX  MASK      byte pair: 01 Ethernet, 65 raw IP) and a size;
--   defrag    -     HEX,HEX,...    MASK: 1 when the fragment id is random
-- Run by sflua; Scapy's answers come from scapy_frag.py, checked by
-- check_frag.lua (tests/interop/run_scapy_frag.sh).
local sf = require("stackforge")
local seed, count = tonumber(arg[1]) or 1, tonumber(arg[2]) or 300
local maxdata = tonumber(arg[3]) or 2500  -- payload bytes at most
math.randomseed(seed)
sf.random_seed(seed)
local R = math.random

local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
local function text(n)
  local t = {}
  for i = 1, n do t[i] = string.char(R(0, 255)) end
  return table.concat(t)
end

local function l4(six)
  local k = R(1, 4)
  local data = text(R(0, maxdata))
  if k == 1 then return sf.UDP{sport = R(1, 65535), dport = R(1024, 65535)} / data
  elseif k == 2 then return sf.TCP{sport = R(1, 65535), dport = R(1024, 65535), flags = "PA", seq = R(0, 1 << 30)} / data
  elseif k == 3 then return (six and sf.ICMPv6EchoRequest{id = R(0, 65535), data = data}) or (sf.ICMP{id = R(0, 65535)} / data)
  end
  return data  -- a payload of its own protocol number
end

local function ip4()
  local opts = R(1, 4) == 1 and {{"NOP"}, {"NOP"}, {"NOP"}, {"EOL"}} or nil
  local ip = sf.IP{src = ("10.%d.%d.%d"):format(R(0, 255), R(0, 255), R(1, 254)),
    dst = ("192.0.2.%d"):format(R(1, 254)), id = R(0, 65535), ttl = R(1, 255),
    flags = R(1, 3) == 1 and "DF" or 0, options = opts, proto = nil}
  local up = l4(false)
  local p = type(up) == "string" and (ip / up) or (ip / up)
  if type(up) == "string" then p[sf.IP].proto = R(140, 250) end
  if R(1, 2) == 1 then p = sf.Ether{src = "02:00:00:00:00:01", dst = "02:00:00:00:00:02"} / p end
  return p:build()
end

local function ip6(with_frag)
  local ip = sf.IPv6{src = ("2001:db8::%x"):format(R(1, 65535)), dst = ("2001:db8:1::%x"):format(R(1, 65535)),
    hlim = R(1, 255)}
  local p = ip
  if R(1, 3) == 1 then p = p / sf.IPv6ExtHdrHopByHop() end
  if with_frag then p = p / sf.IPv6ExtHdrFragment{id = R(1, 0x7fffffff)} end
  p = p / l4(true)
  if R(1, 2) == 1 then p = sf.Ether{src = "02:00:00:00:00:01", dst = "02:00:00:00:00:02"} / p end
  return p:build()
end

local function lt(p) return p:layer(1).name == "Ethernet" and "ether" or "ip" end

for _ = 1, count do
  local k = R(1, 4)
  if k == 1 then
    local p = ip4()
    print(("fragment\t%d\t%s\t%s"):format(R(8, math.min(1500, maxdata)), lt(p), hex(p:bytes())))
  elseif k == 2 then
    local random_id = R(1, 2) == 1
    local p = ip6(not random_id)
    -- Scapy warns and returns the packet whole below this size; sflua errs
    local least = (p:layer(1).name == "Ethernet" and 14 or 0) + 40 + 8 + 16 + 8
    print(("fragment6\t%d\t%s\t%s\t%d"):format(R(least, math.max(least, math.min(1500, maxdata))), lt(p), hex(p:bytes()), random_id and 1 or 0))
  else  -- defragment and defrag: fragments of a few packets, shuffled, some lost, and others
    local list, ether = {}, R(1, 2) == 1
    for _ = 1, R(1, 4) do
      local p = ip4()
      if ether ~= (p:layer(1).name == "Ethernet") then
        p = ether and (sf.Ether{src = "02:00:00:00:00:01", dst = "02:00:00:00:00:02"} / p) or p[sf.IP]:copy()
        p = p:build()
      end
      if R(1, 4) == 1 then list[#list + 1] = p
      else
        for _, q in ipairs(sf.fragment(p, R(64, math.max(64, math.min(1400, maxdata // 2))))) do
          if R(1, 12) ~= 1 then list[#list + 1] = q end
        end
      end
    end
    for i = #list, 2, -1 do  -- a few swaps: fragments out of order
      if R(1, 3) == 1 then local j = R(1, i); list[i], list[j] = list[j], list[i] end
    end
    local t = {}
    for i, p in ipairs(list) do t[i] = hex(p:bytes()) end
    print(("%s\t-\t%s\t%s"):format(k == 3 and "defragment" or "defrag", ether and "ether" or "ip", table.concat(t, ",")))
  end
end
