-- random_inputs.lua: the packets of a random Scapy cross-check family
-- (tls_random.lua, http_random.lua, l2tp_random.lua: their Lua halves,
-- built by sflua) as "HEX<TAB>1" lines, the input of scapy_text.py.
--   sflua random_inputs.lua FAMILY SEED COUNT
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local family, seed, count = arg[1], tonumber(arg[2]), tonumber(arg[3])
if not (family and seed and count) then
  io.stderr:write("usage: random_inputs.lua FAMILY SEED COUNT\n")
  os.exit(2)
end
local M = dofile(here .. family .. ".lua")
local sf = require("stackforge")
local env = setmetatable({}, {__index = function(_, k) return sf[k] or _G[k] end})
for i, c in ipairs(M.cases(seed, count)) do
  local p = assert(load("return " .. c[2], "=case " .. i, "t", env))():build()
  print((p:bytes():gsub(".", function(ch) return ("%02x"):format(ch:byte()) end)) .. "\t1")
end
