-- telemetry.lua: a small binary telemetry protocol over UDP port 9100:
-- a header, a sensor name, and a list of 16-bit readings, protected by
-- a one-byte XOR checksum over the header and its payload.
--   UDP()/Telemetry{sensor="boiler", readings={210, 215, 220}}
local sf = require("stackforge")

local function xor_sum(bytes)
  local x = 0
  for i = 1, #bytes do x = x ~ bytes:byte(i) end
  return x
end

local Telemetry = sf.CustomLayer("Telemetry", {
  sf.ByteField("version", 1),
  sf.ByteEnumField("kind", 1, {[1] = "reading", [2] = "alarm", [3] = "heartbeat"}),
  sf.XByteField("check", 0),                       -- filled by post_build
  sf.FieldLenField("name_len", nil, {length_of = "sensor", fmt = "B"}),
  sf.StrLenField("sensor", "", {length_from = function(pkt) return pkt.name_len end}),
  sf.FieldLenField("count", nil, {count_of = "readings", fmt = "B"}),
  sf.FieldListField("readings", {}, sf.ShortField("r", 0),
    {count_from = function(pkt) return pkt.count end}),
}, {
  -- the checksum makes the XOR of the whole layer zero
  post_build = function(pkt, bytes)
    if pkt.check ~= 0 then return bytes end        -- set by the user: kept
    return bytes:sub(1, 2) .. string.char(xor_sum(bytes)) .. bytes:sub(4)
  end,
  summary = function(v) return ("Telemetry %s %s"):format(v.sensor, v.kind) end,
})

sf.bind_layers(sf.UDP, Telemetry, {dport = 9100})
return Telemetry
