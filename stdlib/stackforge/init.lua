-- stackforge: Scapy-style packets on a C engine.
--   local sf = require("stackforge")
--   local p = sf.Ether() / sf.IP{dst="192.0.2.1"} / sf.TCP{dport=80, flags="S"}
-- The C half is "stackforge.core"; this file gathers the public names.
local core = require("stackforge.core")
local layers = require("stackforge.layers")
local show = require("stackforge.show")
require("stackforge.codecs")
local custom = require("stackforge.custom")

local M = {
  version = core.version,
  LayerKind = layers.LayerKind,
  Packet = core.packet,
  show = show.show,
  hexdump = show.hexdump,
  ls = show.ls,
  completions = show.completions,
  checksum = core.checksum,
  -- captures (lua/lpcap.c)
  rdpcap = core.rdpcap,
  wrpcap = core.wrpcap,
  wrpcapng = core.wrpcapng,
  PcapReader = core.PcapReader,
  PcapWriter = core.PcapWriter,
}

for name, v in pairs(layers) do
  if getmetatable(v) == layers.Constructor then M[name] = v end
end

-- custom protocols: CustomLayer, the field types, bind_layers, ...
for name, v in pairs(custom) do M[name] = v end

-- Scapy spellings that users type from habit.
M.Ethernet = M.Ether
M.IPv4 = M.IP

return M
