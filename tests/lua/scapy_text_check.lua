-- scapy_text_check.lua: how sflua's Scapy-style text is compared with the
-- lines tests/interop/scapy_text.py writes (python3-scapy's classes,
-- summary(), sprintf() and show2()): shared by tests/interop/check_text.lua
-- (live, against Scapy) and the specs that read the golden files.
local core = require("stackforge.core")

local M = {}

function M.unescape(s)
  return (s:gsub("\\(.)", {t = "\t", n = "\n", ["\\"] = "\\"}))
end

-- Scapy's layers of p, " / " between them: those of each layer
-- (core.scapy_class's second value), none for a layer that is none of
-- Scapy's.
function M.layers(p)
  local out = {}
  for i = 1, p.layer_count do
    local _, units = core.scapy_class(p, i)
    out[#out + 1] = units
  end
  return table.concat(out, " / ")
end

-- The layers of p as Scapy's classes (scapy_text.py's third column): a
-- record of the message before it is not listed, and the layers Scapy
-- keeps in a TLS record's msg list follow it in brackets
-- ("TLS[TLSClientHello,Raw]"), others it keeps in a field are not listed
-- (DHCP's pad options); a layer of Scapy's that sflua has not
-- comes before the one it wraps ("HTTP / HTTPRequest").
function M.classes(p)
  local out, kept = {}, nil
  local function close()
    if kept then out[#out] = out[#out] .. "[" .. table.concat(kept, ",") .. "]" end
    kept = nil
  end
  for i = 1, p.layer_count do
    local id = p:_layer_info(i)
    local record = i > 1 and require("stackforge.layers").protos[id + 1].record
    local _, units = core.scapy_class(p, i)
    if units then
      close()
      out[#out + 1] = units
    elseif not record and out[#out]:find("^TLS") then  -- (as scapy_text.py's class_of)
      kept = kept or {}
      local cls = core.scapy_class(p, i)
      if not (cls == "Raw" and kept[#kept] == "Raw") then kept[#kept + 1] = cls end  -- one Raw takes the rest
    end
  end
  close()
  return table.concat(out, " / ")
end

-- show2 texts compared as Scapy's and sflua's print them: per layer, the
-- "name = value" lines of fields both show as a plain value (lists, byte
-- strings and sub-packets are Python's in Scapy, Lua's in sflua; layer
-- names are sflua's).
local function show_fields(text)
  local layers_, cur = {}, nil
  for line in text:gmatch("[^\n]+") do
    if line:find("^###%[") then
      cur = {}
      layers_[#layers_ + 1] = cur
    elseif cur then
      local name, value = line:match("^%s*(%S+)%s*= (.*)$")
      if name then cur[#cur + 1] = {name, value} end
    end
  end
  return layers_
end

-- (a Python set, Scapy's MultiFlagsField, is no plain value: its order is
-- Python's hash order, another in each run)
local function plain(v)
  return not (v:find("^[%[<'\"\\{]") or v:find("^b['\"]") or v:find("^set%("))
end

-- Scapy's show2 text against p's: nil, or a message naming the first
-- difference.  sflua shows the layers Scapy keeps in a field (a TLS
-- record's messages) as layers of their own: they are left out; where
-- one sflua layer is several of Scapy's ("HTTP / HTTPRequest", "H2Frame /
-- H2PingFrame", "L2TP / PPP / Raw") its fields are compared with the
-- first one's.
function M.compare_show2(scapy, p)
  local a, b = show_fields(scapy), show_fields(p:show2())
  if #b == p.layer_count then
    for i = p.layer_count, 1, -1 do
      local _, units = core.scapy_class(p, i)
      if not units then table.remove(b, i)
      else
        local _, extra = units:gsub(" / ", "")
        for _ = 1, extra do table.insert(b, i + 1, {}) end
      end
    end
  end
  if #a ~= #b then return ("%d layers in Scapy's show2, %d in sflua's"):format(#a, #b) end
  for i = 1, #a do
    local bi = {}
    for _, nv in ipairs(b[i]) do bi[nv[1]] = bi[nv[1]] or nv[2] end
    for _, nv in ipairs(a[i]) do  -- (fields sflua does not have are Scapy's own: autopad)
      if plain(nv[2]) and bi[nv[1]] ~= nil and bi[nv[1]] ~= nv[2] then
        return ("layer %d field %s: Scapy %s, sflua %s"):format(i, nv[1], nv[2], tostring(bi[nv[1]]))
      end
    end
  end
end

-- A golden file: its formats (the "# " lines after the one that ends
-- "formats:") and its cases, each the list of its columns, unescaped.
function M.read_golden(path)
  local formats, cases, header = {}, {}, true
  for line in io.lines(path) do
    if line:find("^#") then
      if not header then formats[#formats + 1] = line:sub(3) end
      if line:find("formats:$") then header = false end
    else
      local cols = {}
      for c in (line .. "\t"):gmatch("([^\t]*)\t") do cols[#cols + 1] = M.unescape(c) end
      cases[#cases + 1] = cols
    end
  end
  return formats, cases
end

-- Case c (golden columns) against packet p: {summary, sprintf...} texts
-- and the show2 comparison, as a list of differences (empty: alike).
-- Only meaningful when M.classes(p) == c[3].
function M.differences(p, c, formats)
  local diffs = {}
  local got = {p:summary("scapy")}
  for i, f in ipairs(formats) do got[i + 1] = p:sprintf(f) end
  local why = M.compare_show2(c[#c], p)
  if why then diffs[#diffs + 1] = "show2: " .. why end
  for i, g in ipairs(got) do
    if g ~= c[i + 3] then
      diffs[#diffs + 1] = ("%s:\n  scapy: %s\n  sflua: %s"):format(
        i == 1 and "summary" or ("sprintf " .. formats[i - 1]), c[i + 3], g)
    end
  end
  return diffs
end

-- Every case of a golden file against sflua: how many packets both
-- dissected alike (compared) and the first differences (at most max,
-- default 10); each(c), if given, is called with every case compared.
function M.compare_cases(cases, formats, each, max)
  local sf = require("stackforge")
  local same, diffs = 0, {}
  for n, c in ipairs(cases) do
    local bytes = c[1]:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)
    local p = sf.Packet(bytes, {linktype = tonumber(c[2])})
    if M.classes(p) == c[3] then
      same = same + 1
      if each then each(c) end
      for _, why in ipairs(M.differences(p, c, formats)) do
        if #diffs < (max or 10) then diffs[#diffs + 1] = ("packet %d %s"):format(n, why) end
      end
    end
  end
  return same, diffs
end

return M
