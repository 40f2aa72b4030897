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

-- A field's value as show() prints it: Scapy's text (core.scapy_repr:
-- names, hexadecimal fields, addresses) for numbers and addresses, Lua's
-- for byte strings and option lists.
local function field_text(p, i, fi, field)
  local scapy = core.scapy_repr(p, i, fi - 1)
  if field.type == "bytes" and (not scapy or scapy:find("^b['\"]")) then
    return repr(p:_field(i, fi - 1))  -- bytes and option lists in Lua's syntax
  end
  return scapy or "None"
end

-- Scapy's Packet.show(): "###[ name ]### " then "  field     = value"
-- a line, each layer's fields indented 3 more than the one carrying it.  none:
-- automatic fields the user did not set of layers made by a constructor
-- print None, as Scapy's show() does before a build.  A message's records
-- (DNS's qd, an, ...) are Scapy's packet list fields: "\qd        \" then
-- each record's block behind "   |", or "an        = None" when it has none.
local function layer_lines(out, p, i, lvl, label, none, opts)
  local id, _, _, _, flags = p:_layer_info(i)
  local info = protos[id + 1]
  local built = none and (flags & 1) ~= 0
  local function pad(name) return (" "):rep(math.max(0, 10 - #name)) end
  out[#out + 1] = ("%s###[ %s ]###%s "):format(label, info.display,  -- not indented, as Scapy's
    (flags & 4) ~= 0 and " (truncated)" or "")
  for fi, field in ipairs(info.fields) do
    local v = p:_field(i, fi - 1)
    if v ~= nil or field.type == "bytes" then
      local text
      if built and field.auto and not core.field_isset(p, i, fi - 1) then text = "None"
      elseif v == nil then text = nil
      else text = field_text(p, i, fi, field) end
      if text then
        out[#out + 1] = ("%s%s  %s%s= %s"):format(label, lvl, field.name, pad(field.name), text)
      end
    end
  end
  for _, part in ipairs(info.parts or {}) do
    local recs = p[i][part.name]
    if #recs == 0 then
      out[#out + 1] = ("%s%s  %s%s= None"):format(label, lvl, part.name, pad(part.name))
    else
      out[#out + 1] = ("%s%s  \\%s%s\\"):format(label, lvl, part.name, pad(part.name))
      for _, r in ipairs(recs) do
        local _, ri = core.view_info(r)
        layer_lines(out, p, ri, "", label .. lvl .. "   |", none, opts)
      end
    end
  end
end

-- opts: indent (3), lvl and label_lvl as Scapy's show() takes them: lvl
-- goes before each field, label_lvl before every line
local SHOW_OPTS = {indent = "number", lvl = "string", label_lvl = "string"}

local function show_options(fname, opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(("bad argument #2 to '%s' (table of options expected, got %s)"):format(fname, type(opts)), 3)
  end
  for k, v in pairs(opts) do
    if not SHOW_OPTS[k] or type(v) ~= SHOW_OPTS[k] then
      error(("%s: option '%s' must be one of indent (number), lvl, label_lvl (strings)")
        :format(fname, tostring(k)), 3)
    end
  end
  return opts
end

local function show_text(p, none, opts)
  local indent = opts.indent or 3
  local out, depth, parted = {}, 0, false
  for i = 1, p.layer_count do
    local info = protos[p:_layer_info(i) + 1]
    -- records of a message with parts (DNS's qd, an, ...) are shown in
    -- their message; others (802.11 elements, L2TP AVPs) as layers, as
    -- Scapy shows its payload chain
    if not (info.record and i > 1 and parted) then
      layer_lines(out, p, i, (opts.lvl or "") .. (" "):rep(indent * depth), opts.label_lvl or "", none, opts)
      depth = depth + 1
      if not info.record then parted = info.parts ~= nil and #info.parts > 0 end
    end
  end
  return table.concat(out, "\n") .. "\n"
end

--- show(p [, {indent=3}]): Scapy's show(), as a string; automatic fields
--- not set yet read None (show2 shows them computed)
function M.show(p, opts)
  if not is_packet(p) then argerror("show", "packet", p) end
  return show_text(p, true, show_options("show", opts))
end

--- show2(p): the packet as built: bytes computed, then dissected again
function M.show2(p, opts)
  if not is_packet(p) then argerror("show2", "packet", p) end
  opts = show_options("show2", opts)
  local q = core.packet(p:bytes(), {linktype = p.linktype, proto = p:_layer_info(1)})
  return show_text(q, false, opts)
end

--- p:command(): the Lua expression that builds the packet again
--- (Scapy's command()): the fields the user set, or every field of a
--- dissected layer
function M.command(p)
  if not is_packet(p) then argerror("command", "packet", p) end
  local parts = {}
  for i = 1, p.layer_count do
    local id, _, _, _, flags = p:_layer_info(i)
    local info = protos[id + 1]
    local built = (flags & 1) ~= 0
    local f = {}
    for fi, field in ipairs(info.fields) do
      local v = p:_field(i, fi - 1)
      local set = core.field_isset(p, i, fi - 1)
      if v ~= nil and (set or not built) and not (type(v) == "table" and #v == 0 and next(v) == nil) then
        local text = (field.hex and math.type(v) == "integer") and ("0x%x"):format(v) or repr(v)
        f[#f + 1] = ("%s=%s"):format(field.name, text)
      end
    end
    parts[#parts + 1] = ("%s{%s}"):format(info.name, table.concat(f, ", "))
  end
  return table.concat(parts, "/")
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
  if layers.is_constructor(x) then
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
    if layers.is_constructor(v)
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
core.Packet.show2 = M.show2
core.Packet.command = M.command
core.Packet.hexdump = M.hexdump

return M
