-- dump.lua FILE [strict]: one line per packet as the interop checks compare them:
--   time_ns caplen wirelen interface_id linktype hex(bytes) comment
-- then "ERROR <message>" if the reader stopped at damage, and
-- "WARNINGS <n> <first>" if it counted warnings.  Runs under sflua or
-- lua5.4 with the build's paths.
local sf = require("stackforge")

-- a table lookup per byte, not a function call: captures run to megabytes
local HEX = {}
for b = 0, 255 do HEX[string.char(b)] = ("%02x"):format(b) end
local function hex(s) return (s:gsub(".", HEX)) end

local r = sf.PcapReader(arg[1], {strict = arg[2] == "strict"})
local ok, err = pcall(function()
  for p in r do
    local b = p:bytes()
    io.write(("%d\t%d\t%d\t%d\t%d\t%s\t%s\n"):format(p.time_ns, #b, p.wirelen,
      p.interface_id, p.linktype, hex(b), (p.comment or ""):gsub("[\t\n]", " ")))
  end
end)
if not ok then io.write("ERROR\t", tostring(err), "\n") end
if r.warnings > 0 then io.write("WARNINGS\t", r.warnings, "\t", r.warning, "\n") end
