-- check_text.lua: sflua's p:summary("scapy") and p:sprintf() against the
-- lines scapy_text.py wrote (HEX, LINKTYPE, Scapy's classes, summary,
-- sprintf of each format), for the packets both dissect into the same
-- layers (the others are counted: a protocol one of them lacks).
-- The formats are the golden file's header lines ("# " each, after the
-- line that ends "formats:").
--   sflua check_text.lua GOLDEN [MAXSHOW [MINSAME]]
-- Exit 0 when all agree and at least MINSAME packets (default all but
-- those of captures, which are marked) were compared, 1 otherwise.
local golden, maxshow = arg[1], tonumber(arg[2] or 10)
local formats, header = {}, true
for line in io.lines(golden) do
  if not line:find("^#") then break end
  if not header then formats[#formats + 1] = line:sub(3) end
  if line:find("formats:$") then header = false end
end

-- show2 texts compared as Scapy's and sflua's print them: per layer, the
-- "name = value" lines of fields both show as a plain value (lists, byte
-- strings and sub-packets are Python's in Scapy, Lua's in sflua; layer
-- names are sflua's).  Returns nil, or a message naming the first difference.
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

local function plain(v)
  return not (v:find("^[%[<'\"\\]") or v:find("^b['\"]"))
end

local function compare_show2(scapy, sflua)
  local a, b = show_fields(scapy), show_fields(sflua)
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

local function unescape(s)
  return (s:gsub("\\(.)", {t = "\t", n = "\n", ["\\"] = "\\"}))
end
local minsame = tonumber(arg[3] or 0)
local n, bad, same = 0, 0, 0
local function classes(p)
  local out = {}
  for i = 1, p.layer_count do
    local id = p:_layer_info(i)
    if i == 1 or not require("stackforge.layers").protos[id + 1].record then
      out[#out + 1] = require("stackforge.core").scapy_class(p, i)
    end
  end
  return table.concat(out, " / ")
end
for line in io.lines(golden) do
  if line:find("^#") then goto next end
  local cols = {}
  for c in (line .. "\t"):gmatch("([^\t]*)\t") do cols[#cols + 1] = c end
  local p = Packet(Raw.from_hex(cols[1]).load, {linktype = tonumber(cols[2])})
  n = n + 1
  local got = {}
  if classes(p) == cols[3] then
    same = same + 1
    got[1] = p:summary("scapy")
    for i, f in ipairs(formats) do got[i + 1] = p:sprintf(f) end
    local why = compare_show2(unescape(cols[#cols]), p:show2())
    if why then
      bad = bad + 1
      if bad <= maxshow then print(("line %d, show2: %s\n  hex %s"):format(n, why, cols[1]:sub(1, 160))) end
    end
  end
  for i, g in ipairs(got) do
    local want = unescape(cols[i + 3])
    if g ~= want then
      bad = bad + 1
      if bad <= maxshow then
        print(("line %d, %s:\n  scapy: %s\n  sflua: %s\n  hex %s"):format(n,
          i == 1 and "summary" or ("sprintf " .. formats[i - 1]), want, g, cols[1]:sub(1, 160)))
      end
    end
  end
  ::next::
end
print(("%d packets, %d dissected alike and compared, %d texts differ"):format(n, same, bad))
if same < minsame then print(("fewer than %d packets compared"):format(minsame)) end
os.exit((bad == 0 and same >= minsame) and 0 or 1)
