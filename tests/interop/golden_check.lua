-- golden_check.lua: check sflua against one case of a Scapy golden file
-- (written by scapy_oracle.py).  Used by tests/lua/scapy_golden_spec.lua
-- and by run_scapy_crosscheck.sh (through check_golden.lua).
--
--   local gc = dofile("tests/interop/golden_check.lua")
--   local errs = gc.check(sf, case)   -- list of messages, empty when all agree
local M = {}

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

local function unhex(h)
  return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end
M.hex, M.unhex = hex, unhex

local function deep(v)
  if type(v) ~= "table" then return v end
  local r = {}
  for k, x in pairs(v) do r[k] = deep(x) end
  return r
end

local function ctor_of(sf, name)
  local c = sf
  for part in name:gmatch("[^.]+") do c = c and c[part] end
  return assert(c, "no constructor " .. name)
end

-- The packet a spec describes: {{ctor, {fields}}, ...}; Raw layers are
-- stacked as plain strings, as users write them.
function M.build(sf, spec)
  local p
  for _, l in ipairs(spec) do
    local layer = l[1] == "Raw" and l[2].load or ctor_of(sf, l[1])(deep(l[2]))
    p = p and p / layer or layer
  end
  return p
end

-- Scapy's class of a dissected layer -> the sflua constructor of that layer
local class_map = {
  Ether = "Ether", Dot1Q = "Dot1Q", Dot1AD = "Dot1AD", ARP = "ARP",
  IP = "IP", IPerror = "IP", TCP = "TCP", TCPerror = "TCP",
  UDP = "UDP", UDPerror = "UDP", ICMP = "ICMP", ICMPerror = "ICMP",
  IPv6 = "IPv6", IPerror6 = "IPv6",
  IPv6ExtHdrHopByHop = "IPv6ExtHdrHopByHop", IPv6ExtHdrDestOpt = "IPv6ExtHdrDestOpt",
  IPv6ExtHdrRouting = "IPv6ExtHdrRouting", IPv6ExtHdrFragment = "IPv6ExtHdrFragment",
  Raw = "Raw", Padding = "Padding",
}
local function sflua_ctor(cls)
  if class_map[cls] then return class_map[cls] end
  if cls:match("^ICMPv6NDOpt") then return "ICMPv6NDOpt" end
  if cls:match("^ICMPv6") then return "ICMPv6" end
  return nil
end

-- Equality of Scapy's value (as written to the golden file) and sflua's:
-- option lists compare by their list parts (sflua adds a route's pointer).
local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then
    if math.type(a) and math.type(b) then return a == b end
    return a == b
  end
  if #a ~= #b then return false end
  for i = 1, #a do
    if not same(a[i], b[i]) then return false end
  end
  return true
end

local function show(v)
  if type(v) == "string" then return ("%q"):format(v) end
  if type(v) ~= "table" then return tostring(v) end
  local out = {}
  for i = 1, #v do out[i] = show(v[i]) end
  return "{" .. table.concat(out, ",") .. "}"
end
M.show = show

-- Check the build direction: sflua builds case.spec to Scapy's bytes.
function M.check_build(sf, case)
  local ok, got = pcall(function() return hex(M.build(sf, case.spec):bytes()) end)
  if not ok then return {"build failed: " .. tostring(got)} end
  if got ~= case.hex then
    local at = 1
    while got:sub(at, at + 1) == case.hex:sub(at, at + 1) do at = at + 2 end
    return {("bytes differ at offset %d\n  scapy: %s\n  sflua: %s"):format(
      (at - 1) // 2, case.hex, got)}
  end
  return {}
end

-- Check the parse direction: sflua dissects Scapy's bytes to the layers and
-- field values Scapy saw.
function M.check_parse(sf, case)
  local errs = {}
  local function err(fmt, ...) errs[#errs + 1] = fmt:format(...) end
  local p = sf.Packet(unhex(case.hex))
  for i, layer in ipairs(case.layers) do
    local cls, fields = layer[1], layer[2]
    local view = p:layer(i)
    local ctor = sflua_ctor(cls)
    if not view then
      err("layer %d (%s): missing in sflua (%s)", i, cls, p:summary())
    elseif not ctor then
      err("layer %d: no sflua counterpart known for Scapy's %s", i, cls)
    elseif view.kind ~= sf[ctor].kind then
      err("layer %d: Scapy has %s, sflua has %s (%s)", i, cls, view.name, p:summary())
    else
      local names = {}
      for name in pairs(fields) do names[#names + 1] = name end
      table.sort(names)
      for _, name in ipairs(names) do
        local want = fields[name]
        local ok, got = pcall(function() return view[name] end)
        if not ok then
          err("layer %d (%s): sflua has no field %s: %s", i, cls, name, tostring(got))
        elseif not same(want, got) then
          err("layer %d (%s).%s: scapy %s, sflua %s", i, cls, name, show(want), show(got))
        end
      end
    end
  end
  if p.layer_count ~= #case.layers then
    err("layer count: scapy %d, sflua %d (%s)", #case.layers, p.layer_count, p:summary())
  end
  return errs
end

function M.check(sf, case)
  local errs = M.check_build(sf, case)
  for _, e in ipairs(M.check_parse(sf, case)) do errs[#errs + 1] = e end
  return errs
end

return M
