-- show.lua: human-readable forms: show(), hexdump(), ls(), and the
-- completion lists the REPL asks for.
local core = require("stackforge.core")
local layers = require("stackforge.layers")

local M = {}

local protos = layers.protos

-- Lua-literal form of a decoded value: {{"MSS", 1460}, {"NOP"}}
local function repr(v)
  if type(v) == "string" then return ("%q"):format(v):gsub("\\\n", "\\n") end
  if type(v) ~= "table" then return tostring(v) end
  local parts = {}
  for _, x in ipairs(v) do parts[#parts + 1] = repr(x) end
  local keys = {}  -- named entries in a stable order
  for k in pairs(v) do
    if math.type(k) ~= "integer" then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. repr(v[k]) end
  return "{" .. table.concat(parts, ", ") .. "}"
end
M.repr = repr

local function display(field, v)
  if v == nil then return "None" end
  if field.type == "uint" then
    local name = field.enums and field.enums[v]
    if name then return name end
    if field.hex then return ("0x%x"):format(v) end
    return tostring(v)
  end
  if field.type == "bytes" then return repr(v) end
  return tostring(v)
end

-- A packet (parsed or built) answers layer_count; nothing else here does.
local function is_packet(x)
  local t = type(x)
  if t ~= "userdata" and t ~= "table" then return false end
  local ok, n = pcall(function() return x.layer_count end)
  return ok and math.type(n) == "integer"
end

-- Raised at the line that called fname, worded as luaL_argerror does.
local function argerror(fname, expected, x)
  error(("bad argument #1 to '%s' (%s expected, got %s)"):format(fname, expected,
    type(x) == "userdata" and tostring(x) or type(x)), 3)
end

-- Scapy-like: one block per layer, "  name      = value".
function M.show(p)
  if not is_packet(p) then argerror("show", "packet", p) end
  local out = {}
  for i = 1, p.layer_count do
    local id, _, _, _, flags = p:_layer_info(i)
    local info = protos[id + 1]
    out[#out + 1] = ("###[ %s ]###%s"):format(info.display,
      (flags & 4) ~= 0 and " (truncated)" or "")
    for fi, field in ipairs(info.fields) do
      local v = p:_field(i, fi - 1)
      if v ~= nil or field.type == "bytes" then
        if not (v == nil and field.type == "bytes") then
          out[#out + 1] = ("  %-10s= %s"):format(field.name, display(field, v))
        end
      end
    end
  end
  return table.concat(out, "\n") .. "\n"
end

-- "0000  45 00 00 28 ...  E..(" with 16 bytes a line, as Scapy's hexdump.
function M.hexdump(x)
  if type(x) ~= "string" and not is_packet(x) then argerror("hexdump", "packet or string", x) end
  local s = type(x) == "string" and x or x:bytes()
  local out = {}
  for off = 0, #s - 1, 16 do
    local chunk = s:sub(off + 1, off + 16)
    local hex = chunk:gsub(".", function(c) return ("%02X "):format(c:byte()) end)
    local txt = chunk:gsub("[^\32-\126]", ".")
    out[#out + 1] = ("%04x  %-48s %s"):format(off, hex, txt)
  end
  return table.concat(out, "\n")
end

local function type_label(f)
  if f.type == "uint" or f.type == "flags" then
    return ("%s%d"):format(f.type == "flags" and "flags" or "uint", f.bits)
  end
  return f.codec or f.type
end

local function default_label(f)
  if f.auto then return "auto" end
  if f.default == nil then return f.type == "bytes" and '""' or "None" end
  local num = f.hex and ("0x%x"):format(f.default) or tostring(f.default)
  if f.type == "uint" and f.enums and f.enums[f.default] then
    return ("%s (%s)"):format(num, f.enums[f.default])
  end
  if f.type == "uint" then return num end
  if f.type == "flags" then
    local names = {}
    for bit, name in pairs(f.flag_names) do
      if (f.default >> bit) & 1 == 1 then names[#names + 1] = {bit, name} end
    end
    table.sort(names, function(a, b) return a[1] < b[1] end)
    local s = {}
    for i, n in ipairs(names) do s[i] = n[2] end
    local letters = true  -- single-letter names join as "SA", words as "MF+DF"
    for _, name in pairs(f.flag_names) do letters = letters and #name == 1 end
    return ("%d (%s)"):format(f.default, table.concat(s, letters and "" or "+"))
  end
  return tostring(f.default)
end

-- ls(TCP): the fields of a layer with their types and defaults;
-- ls(packet): its layers with their values; ls(): every layer, and
-- ls("icmpv6") those whose names contain the text (as Scapy's ls("...")).
function M.ls(x)
  if getmetatable(x) == layers.Constructor then
    local out, seen = {}, {}
    for _, f in ipairs(protos[x.kind + 1].fields) do
      if not seen[f.name] then
        seen[f.name] = true
        out[#out + 1] = ("%-17s: %-12s = %s"):format(f.name, type_label(f), default_label(f))
      end
    end
    for _, c in ipairs(protos[x.kind + 1].props or {}) do  -- computed, read-only
      out[#out + 1] = ("%-17s: %-12s = %s"):format(c.name, "computed", c.doc)
    end
    return table.concat(out, "\n")
  end
  if is_packet(x) then return M.show(x) end
  if x ~= nil and type(x) ~= "string" then argerror("ls", "layer, packet or name", x) end
  local pattern = x and x:lower()
  local names = {}
  for name, v in pairs(layers) do
    if getmetatable(v) == layers.Constructor
       and (not pattern or name:lower():find(pattern, 1, true)) then
      names[#names + 1] = name
    end
  end
  table.sort(names)
  local out = {}
  for _, name in ipairs(names) do
    out[#out + 1] = ("%-22s: %s"):format(name, layers[name].display)
  end
  return table.concat(out, "\n")
end

-- What the REPL offers for the module's own objects (packets and layer
-- views): after "x." their fields and properties, after "x:" their
-- methods; two sorted lists.  nil for other values, which the REPL
-- completes from their keys and metatables.
function M.completions(v)
  local packet = is_packet(v)
  if not packet and type(v) ~= "userdata" then return nil end
  local ok, names = pcall(function() return v.fields end)
  if not (ok and type(names) == "table") then return nil end
  local fields, methods, seen = {}, {}, {}
  local function add(list, n)
    if type(n) == "string" and not seen[n] and not n:find("^_") then
      seen[n] = true
      list[#list + 1] = n
    end
  end
  for _, n in ipairs(names) do add(fields, n) end
  if packet then  -- a view has fields only
    for k, x in pairs(core.Packet) do
      if type(x) == "function" then add(methods, k)
      elseif type(x) ~= "userdata" then add(fields, k) end  -- not a field map
    end
  end
  table.sort(fields)
  table.sort(methods)
  return fields, methods
end

-- Methods every Packet has in Lua.
core.Packet.show = M.show
core.Packet.hexdump = M.hexdump

return M
