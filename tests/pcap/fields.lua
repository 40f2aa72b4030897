-- fields.lua FILE: per packet, sflua's values of the fields the interop
-- check compares with `tshark -T fields` (same order, tab-separated, empty
-- when the packet has no such layer):
--   frame.len frame.time_epoch eth.src ip.src ip.dst ipv6.src tcp.srcport
--   tcp.dstport tcp.seq_raw tcp.flags udp.length
local sf = require("stackforge")

local function flagbits(v)
  if type(v) == "number" then return v end
  local names = {F = 0x01, S = 0x02, R = 0x04, P = 0x08, A = 0x10, U = 0x20,
                 E = 0x40, C = 0x80, N = 0x100}
  local n = 0
  for c in tostring(v):gmatch(".") do n = n | (names[c] or 0) end
  return n
end

local function layer_field(p, ctor, name, conv)
  local l = p[ctor]
  if not l then return "" end
  local v = l[name]
  if v == nil then return "" end
  return tostring(conv and conv(v) or v)
end

for p in sf.PcapReader(arg[1]) do
  local t = p.time_ns
  local row = {
    tostring(p.wirelen),
    ("%d.%09d"):format(t // 1000000000, t % 1000000000),
    layer_field(p, sf.Ether, "src"),
    layer_field(p, sf.IP, "src"), layer_field(p, sf.IP, "dst"),
    layer_field(p, sf.IPv6, "src"),
    layer_field(p, sf.TCP, "sport"), layer_field(p, sf.TCP, "dport"),
    layer_field(p, sf.TCP, "seq"),
    layer_field(p, sf.TCP, "flags", function(v) return ("0x%04x"):format(flagbits(v)) end),
    layer_field(p, sf.UDP, "len"),
  }
  io.write(table.concat(row, "\t"), "\n")
end
