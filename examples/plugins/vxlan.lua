-- vxlan.lua: VXLAN (RFC 7348), Ethernet frames carried over UDP port 4789,
-- written in Lua: the example of a protocol of your own.  sflua has VXLAN
-- built in (the VXLAN layer); this one is called LuaVXLAN, and while it
-- is loaded its binding shadows the built-in one on port 4789.
-- Copy into ~/.config/sflua/plugins (or a folder on SFLUA_PLUGIN_PATH):
-- sflua loads it at start; from stock Lua: require("stackforge.plugins.vxlan").
--   Ether()/IP()/UDP()/LuaVXLAN{vni=42}/Ether()/IP()/ICMP()
local sf = require("stackforge")

local VXLAN = sf.CustomLayer("LuaVXLAN", {
  sf.FlagsField("flags", 0x08, 8, {"R0", "R1", "R2", "I", "R4", "R5", "R6", "R7"}),
  sf.BitField("reserved1", 0, 24),
  sf.BitField("vni", 0, 24),
  sf.XByteField("reserved2", 0),
}, {
  -- what follows the header is always an Ethernet frame
  guess_payload = function() return sf.Ether end,
  summary = function(v) return ("LuaVXLAN vni=%d"):format(v.vni) end,
})

sf.bind_layers(sf.UDP, VXLAN, {dport = 4789})
return VXLAN
