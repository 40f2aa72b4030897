-- gen_quic.lua: a capture of QUIC client Initials for the decryption
-- benchmarks (bench/quic_bench.sh): N frames Ether/IPv4/UDP(443) each
-- carrying a client's first Initial (1200 bytes, encrypted, header
-- protection applied) built with quic_initial: its own server name and
-- connection IDs, ALPN h3 (or h3 and hq-interop), QUIC v1 and one in ten
-- QUIC v2.
--   sflua bench/gen_quic.lua OUT.pcap [N] [SEED]
local sf = require("stackforge")
local out, n, seed = arg[1], tonumber(arg[2] or 50000), tonumber(arg[3] or 1)
math.randomseed(seed)

local function name(i)
  local tld = ({"com", "org", "net", "io", "example"})[i % 5 + 1]
  return ("host%d.service%d.%s"):format(i, i % 977, tld)
end

local function bytes(k)
  local t = {}
  for i = 1, k do t[i] = string.char(math.random(0, 255)) end
  return table.concat(t)
end

local w <close> = sf.PcapWriter(out)
for i = 1, n do
  local q = sf.quic_initial{sni = name(i), alpn = i % 3 == 0 and {"h3", "hq-interop"} or {"h3"},
    dcid = bytes(8 + i % 13), scid = bytes(i % 21), version = i % 10 == 0 and 0x6b3343cf or 1,
    random = bytes(32), key_share = bytes(32)}
  local p = sf.Ether{src = "02:00:00:00:00:01", dst = "02:00:00:00:00:02"}
    / sf.IP{src = ("10.%d.%d.%d"):format(i >> 16 & 255, i >> 8 & 255, i & 255), dst = "192.0.2.1"}
    / sf.UDP{sport = 1024 + i % 60000, dport = 443} / q
  w:write(p:build())
end
