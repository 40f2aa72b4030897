-- fcs.lua: is a frame's check sequence right?  The layers that carry one
-- (Dot11FCS: CRC-32, Dot15d4FCS: CRC-16/KERMIT) compute it when a packet
-- is built; checking is building a copy with the FCS left to the engine
-- and comparing.
local core = require("stackforge.core")
local layers = require("stackforge.layers")

local M = {}

local carriers = {"Dot11FCS", "Dot15d4FCS"}

-- fcs_ok(p) -> true or false, or nil when no layer of p carries an FCS
function M.fcs_ok(p)
  if type(p) ~= "userdata" or not pcall(function() return p.layer_count end) then
    error(("fcs_ok: expected a Packet, got %s"):format(type(p)), 2)
  end
  for _, name in ipairs(carriers) do
    local l = p[layers[name]]
    if l and l.fcs then
      local q = core.packet(p:bytes(), {linktype = p.linktype})
      q[layers[name]].fcs = nil  -- the engine's
      return q[layers[name]].fcs == l.fcs
    end
  end
  return nil
end

return M
