-- stackforge.help: help(x), lsc() and explore(), from what the docs are
-- made of: the engine's descriptors for layers and fields (as
-- docs/protocols.md and ls()), the comment above a function in the
-- standard library for Lua functions, and docs/api.md's rows for the
-- binding's C functions.  Each returns its text; the REPL prints it.
local layers = require("stackforge.layers")
local show = require("stackforge.show")

local M = {}

-- ---- where the words come from ----------------------------------------------------------

-- The comment block right above line `line` of the file at path, its
-- "--" markers and separator lines removed; nil when there is none.
local file_cache = {}
local function comment_above(path, line)
  local lines = file_cache[path]
  if not lines then
    local f = io.open(path)
    if not f then return nil end
    lines = {}
    for l in f:lines() do lines[#lines + 1] = l end
    f:close()
    file_cache[path] = lines
  end
  local out, k = {}, line - 1
  while k >= 1 and lines[k]:find("^%s*%-%-") do
    local text = lines[k]:gsub("^%s*%-%-%-?%s?", "")
    if not text:find("^%-%-%-%-") then table.insert(out, 1, text) end
    k = k - 1
  end
  if #out == 0 then return nil end
  return table.concat(out, "\n")
end

-- docs/ beside the standard library (the source tree, or where it is installed)
local function docs_dir()
  local init = package.searchpath("stackforge", package.path)
  if not init then return nil end
  local root = init:gsub("[^/]*$", ""):gsub("stdlib/stackforge/$", "")
  for _, dir in ipairs{root .. "docs/", root .. "../doc/sflua/", root .. "../../share/doc/sflua/"} do
    local f = io.open(dir .. "api.md")
    if f then f:close() return dir end
  end
end

-- docs/api.md's table rows whose first cell names `name`, as "what: how"
local function api_rows(name)
  local dir = docs_dir()
  local f = dir and io.open(dir .. "api.md")
  if not f then return nil end
  local out = {}
  local plain = name:gsub("%p", "%%%0")
  for l in f:lines() do
    local first, rest = l:match("^|%s*(.-)%s*|%s*(.-)%s*|")
    if first and (first:find("`" .. plain .. "[(`{ ]") or first:find("[ .:]" .. plain .. "[(`{ ]")) then
      out[#out + 1] = ("%s\n    %s"):format(first:gsub("`", ""), rest:gsub("`", ""))
    end
  end
  f:close()
  if #out == 0 then return nil end
  return table.concat(out, "\n")
end

-- the global name of function fn in the stackforge module, if any
local function name_of(fn)
  local sf = require("stackforge")
  local names = {}
  for k, v in pairs(sf) do if v == fn then names[#names + 1] = k end end
  table.sort(names)
  return names[1]
end

local function function_doc(fn, name)
  local info = debug.getinfo(fn, "S")
  local text
  if info.what == "Lua" and info.source:sub(1, 1) == "@" then
    text = comment_above(info.source:sub(2), info.linedefined)
  end
  text = text or (name and api_rows(name))
  return text
end

-- ---- layers and fields -----------------------------------------------------------------

local function info_of(ctor) return layers.protos[ctor.kind + 1] end

local function layer_help(ctor)
  local info = info_of(ctor)
  local out = {("%s — %s{...}, LayerKind.%s"):format(info.display, info.name, info.kind)}
  local named = {}
  for _, v in ipairs(info.variants or {}) do
    named[#named + 1] = v.cls and ("%s (%s.%s)"):format(v.cls, info.name, v.name) or (info.name .. "." .. v.name)
  end
  if #named > 0 then out[#out + 1] = "named variants: " .. table.concat(named, ", ") end
  local parts = {}
  for _, pt in ipairs(info.parts or {}) do parts[#parts + 1] = ("%s (%s records)"):format(pt.name, pt.count) end
  if #parts > 0 then out[#out + 1] = "records: " .. table.concat(parts, ", ") end
  if info.ws then out[#out + 1] = "Wireshark: " .. info.ws end
  out[#out + 1] = "fields (name: type = default):"
  out[#out + 1] = show.ls(ctor)
  return table.concat(out, "\n")
end

-- every layer with a field called name: "TCP.dport: uint16 = 80"
local function field_help(name)
  local lines = {}
  for _, info in ipairs(layers.protos) do
    local ctor = layers[info.name]
    if ctor and not ctor.custom then
      for l in show.ls(ctor):gmatch("[^\n]+") do
        local fname, rest = l:match("^(%S+)%s*: (.*)$")
        if fname == name then lines[#lines + 1] = ("%s.%s: %s"):format(info.name, name, (rest:gsub("%s+", " "))) end
      end
    end
  end
  if #lines == 0 then return nil end
  return ("field %s:\n  %s"):format(name, table.concat(lines, "\n  "))
end

local INTRO = [[
help(TCP)        a layer: its fields, types and defaults (also ls(TCP))
help(sniff)      a function: what it takes and returns
help("dport")    a field: every layer that has it
ls()             every layer; ls("dns") those whose names contain "dns"
lsc()            every function, with its first line of help
explore()        the layers by family; explore("wireless") one family
docs/ has the rest: docs/api.md, docs/scapy.md, docs/protocols.md]]

--- help([x]) -> text: the documentation of a layer (help(TCP)), a
--- function (help(sniff)), or a field, layer or function by name
--- (help("dport")), from the descriptors and the standard library's comments
function M.help(x)
  if x == nil then return INTRO end
  if getmetatable(x) == layers.Constructor then return layer_help(x) end
  if type(x) == "function" then
    local name = name_of(x)
    return function_doc(x, name) or ("%s: no documentation"):format(name or "this function")
  end
  if type(x) == "string" then
    if getmetatable(layers[x]) == layers.Constructor then return layer_help(layers[x]) end
    local fn = require("stackforge")[x]
    if type(fn) == "function" then return function_doc(fn, x) or (x .. ": no documentation") end
    local text = field_help(x)
    if text then return text end
    error(("help: no layer, function or field is called '%s' (ls() lists layers, lsc() functions)"):format(x), 2)
  end
  error(("bad argument #1 to 'help' (a layer, function or name expected, got %s)"):format(type(x)), 2)
end

--- lsc() -> text: the functions sflua gives, each with its first line of help
function M.lsc()
  local sf = require("stackforge")
  local names = {}
  for k, v in pairs(sf) do
    if type(v) == "function" and not k:find("^_") then names[#names + 1] = k end
  end
  table.sort(names)
  local out = {}
  for _, k in ipairs(names) do
    local doc = function_doc(sf[k], k) or ""
    out[#out + 1] = ("%-22s: %s"):format(k, doc:match("^[^\n]*"))
  end
  return table.concat(out, "\n")
end

-- families by the layers' names (Scapy's explore() goes by its modules)
local FAMILIES = {
  {"link", {"^Ether$", "^Dot1Q$", "^Dot1AD$", "^Dot3$", "^LLC$", "^SNAP$", "^Loopback", "^CookedLinux", "^EAPOL$"}},
  {"wireless", {"^Dot11", "^RadioTap$", "^Dot15d4", "^ZWave"}},
  {"network", {"^IP$", "^IPv6", "^ARP$", "^ICMP", "^GRE", "^VXLAN$"}},
  {"transport", {"^TCP$", "^UDP$"}},
  {"application", {"^DNS", "^LLMNR", "^EDNS0", "^BOOTP$", "^DHCP$", "^TLS", "^MQTT", "^Modbus"}},
}

local function family_of(name)
  for _, fam in ipairs(FAMILIES) do
    for _, pat in ipairs(fam[2]) do
      if name:find(pat) then return fam[1] end
    end
  end
  return "other"
end

--- explore([family]) -> text: the layers by family (link, wireless,
--- network, transport, application, other), or those of one family
function M.explore(family)
  if family ~= nil and type(family) ~= "string" then
    error(("bad argument #1 to 'explore' (a family name expected, got %s)"):format(type(family)), 2)
  end
  local by = {}
  for _, info in ipairs(layers.protos) do
    local ctor = layers[info.name]
    if ctor then
      local f = family_of(info.name)
      by[f] = by[f] or {}
      table.insert(by[f], info)
    end
  end
  local order = {"link", "wireless", "network", "transport", "application", "other"}
  if family then
    if not by[family] then
      error(("explore: no family '%s' (families: %s)"):format(family, table.concat(order, ", ")), 2)
    end
    local out = {}
    for _, info in ipairs(by[family]) do out[#out + 1] = ("%-26s: %s"):format(info.name, info.display) end
    return table.concat(out, "\n")
  end
  local out = {}
  for _, f in ipairs(order) do
    if by[f] then
      local names = {}
      for _, info in ipairs(by[f]) do names[#names + 1] = info.name end
      out[#out + 1] = ("%s (%d): %s"):format(f, #names, table.concat(names, " "))
    end
  end
  return table.concat(out, "\n")
end

return M
