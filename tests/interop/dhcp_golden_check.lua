-- dhcp_golden_check.lua: one case of a DHCP golden file (dhcp_oracle.py)
-- against sflua.  Returns a module: check(sf, case) -> list of mismatches.
--   build:  sflua builds the spec to Scapy's bytes;
--   parse:  sflua parses Scapy's bytes to Scapy's layers, BOOTP fields and
--           DHCP options (values compared in Scapy's terms: its numbers,
--           its bytes where it keeps bytes), and back to the same bytes;
--   want:   the options read back are the ones the generator meant.
-- Also names(sf, golden) -> mismatches between sflua's option names and
-- Scapy's DHCPOptions.
local M = {}

local codec = require("stackforge.codecs.dhcp")

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

local function unhex(h)
  return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

local function lit(v)
  if type(v) == "string" then return ("%q"):format(v) end
  if type(v) ~= "table" then return tostring(v) end
  local parts = {}
  for _, x in ipairs(v) do parts[#parts + 1] = lit(x) end
  local keys = {}
  for k in pairs(v) do if math.type(k) ~= "integer" then keys[#keys + 1] = k end end
  table.sort(keys)
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. lit(v[k]) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function deep_equal(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do if not deep_equal(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local code_of = {pad = 0, ["end"] = 255}
for code, o in pairs(codec.options) do code_of[o[1]] = code end
local type_number = {}
for n, name in ipairs(codec.message_types) do type_number[name] = n end

local function build(sf, spec)
  local p
  for _, l in ipairs(spec) do
    local layer = sf[l[1]](l[2])
    p = p and p / layer or layer
  end
  return p
end

-- ---- BOOTP ------------------------------------------------------------------------------

local function mac_bytes(s)
  return (s:gsub("(%x%x):?", function(x) return string.char(tonumber(x, 16)) end))
end

-- sflua's value of a BOOTP field in Scapy's terms (as dhcp_oracle.py
-- writes them: chaddr, sname and file without trailing NULs)
local function bootp_value(b, name)
  local v = b[name]
  if name == "flags" then return v == "B" and 0x8000 or 0 end
  if name == "chaddr" and #v == 17 then v = mac_bytes(v) end
  if name == "chaddr" or name == "sname" or name == "file" then
    return (v:gsub("%z+$", ""))
  end
  return v
end

local function check_bootp(b, want, errs)
  for name, w in pairs(want) do
    local got = bootp_value(b, name)
    if got ~= w then
      errs[#errs + 1] = ("BOOTP.%s: Scapy %s, sflua %s"):format(name, lit(w), lit(got))
    end
  end
end

-- ---- DHCP options -------------------------------------------------------------------

-- Scapy's option name (or code) as a code, by Scapy's own table
local function scapy_code(names, n)
  if math.type(n) == "integer" then return n end
  for code, name in pairs(names) do if name == n then return code end end
end

local function value_bytes(item)
  return codec.encode({item}):sub(3)
end

-- the values of sflua's option o as Scapy's Field-typed options hold them
local function scapy_values(o)
  local name, kind = o[1], codec.options[code_of[o[1]]][2]
  if kind == "message_type" then return {type_number[o[2]] or o[2]} end
  if kind == "param_req_list" then
    local r = {}
    for i, x in ipairs(o[2]) do r[i] = code_of[x] or x end
    return {r}
  end
  if kind == "routes" then
    local r = {}
    for i, x in ipairs(o[2]) do r[i] = x[1] .. ":" .. x[2] end
    return {r}
  end
  local r = {table.unpack(o, 2)}
  if name == "time_zone" then  -- signed here, unsigned in Scapy
    for i, x in ipairs(r) do r[i] = x & 0xffffffff end
  end
  return r
end

-- the kinds of option Scapy reads into values (the others it keeps as bytes)
local scapy_typed = {ip = true, u8 = true, u16 = true, u32 = true, s32 = true,
  message_type = true, param_req_list = true, routes = true}

local function check_option(i, o, s, names, errs)
  local where = ("option %d"):format(i)
  if type(s) == "string" or type(o) == "string" then
    if o ~= s then errs[#errs + 1] = ("%s: Scapy %s, sflua %s"):format(where, lit(s), lit(o)) end
    return
  end
  local code = math.type(o[1]) == "integer" and o[1] or code_of[o[1]]
  if code ~= scapy_code(names, s[1]) then
    errs[#errs + 1] = ("%s: Scapy %s, sflua %s"):format(where, lit(s[1]), lit(o[1]))
    return
  end
  local kind = codec.options[code] and codec.options[code][2]
  local got
  if scapy_typed[kind] then
    got = scapy_values(o)
  else
    got = {value_bytes(o)}  -- Scapy keeps bytes: compare them
  end
  local want = {table.unpack(s, 2)}
  if #want == 0 and not scapy_typed[kind] then want = {""} end  -- Scapy: ("name",)
  if not deep_equal(got, want) then
    errs[#errs + 1] = ("%s (%s): Scapy %s, sflua %s"):format(where, lit(o[1]),
      lit(want), lit(got))
  end
end

local function check_options(opts, scapy, padding, names, errs)
  local s = {table.unpack(scapy)}
  local last_end
  for i, x in ipairs(s) do if x == "end" then last_end = i end end
  if last_end then  -- after the end option, Scapy's pads are sflua's Padding
    local pads = #s - last_end
    for i = last_end + 1, #s do
      if s[i] ~= "pad" then errs[#errs + 1] = "Scapy has options after end" end
      s[i] = nil
    end
    if pads ~= #(padding or "") then
      errs[#errs + 1] = ("padding after end: Scapy %d pads, sflua %d bytes"):format(pads, #(padding or ""))
    end
  end
  if #s ~= #opts then
    errs[#errs + 1] = ("%d options, Scapy %d: %s / %s"):format(#opts, #s, lit(opts), lit(s))
    return
  end
  for i = 1, #s do check_option(i, opts[i], s[i], names, errs) end
end

-- ---- a case ---------------------------------------------------------------------------

local scapy_class = {}  -- sflua's constructor names are Scapy's classes

function M.check_build(sf, case)
  local ok, p = pcall(build, sf, case.spec)
  if not ok then return {"sflua cannot build: " .. tostring(p)} end
  local got = hex(p:bytes())
  if got ~= case.hex then return {("bytes: Scapy %s\n  sflua %s"):format(case.hex, got)} end
  return {}
end

function M.check_parse(sf, case, names)
  local errs, raw = {}, unhex(case.hex)
  local p = sf.Packet(raw)
  local layers, protos = {}, require("stackforge.layers").protos
  for i = 1, p.layer_count do
    local name = protos[p:_layer_info(i) + 1].name
    if name ~= "Padding" then layers[#layers + 1] = scapy_class[name] or name end
  end
  if table.concat(layers, "/") ~= table.concat(case.scapy.layers, "/") then
    errs[#errs + 1] = ("layers: Scapy %s, sflua %s"):format(table.concat(case.scapy.layers, "/"),
      p:summary())
  end
  if p.truncated then errs[#errs + 1] = "sflua marks it truncated" end
  if p:bytes() ~= raw then errs[#errs + 1] = "sflua's bytes differ from what it parsed" end
  if case.scapy.bootp and p[sf.BOOTP] then check_bootp(p[sf.BOOTP], case.scapy.bootp, errs) end
  local d = p[sf.DHCP]
  if case.scapy.options and d then
    local pad = p[sf.Padding]
    check_options(d.options, case.scapy.options, pad and pad.load, names, errs)
  end
  if case.want and not (d and deep_equal(d.options, case.want)) then
    errs[#errs + 1] = ("options: meant %s, sflua reads %s"):format(lit(case.want),
      d and lit(d.options) or "no DHCP")
  end
  return errs
end

function M.check(sf, case, names)
  local errs = M.check_build(sf, case)
  for _, e in ipairs(M.check_parse(sf, case, names)) do errs[#errs + 1] = e end
  return errs
end

-- every name Scapy gives an option code is sflua's name for it
function M.names(golden)
  local errs = {}
  for code, name in pairs(golden.names) do
    local ours = code == 0 and "pad" or code == 255 and "end" or
      (codec.options[code] and codec.options[code][1])
    if ours ~= name then
      errs[#errs + 1] = ("option %d: Scapy %s, sflua %s"):format(code, name, tostring(ours))
    end
  end
  return errs
end

return M
