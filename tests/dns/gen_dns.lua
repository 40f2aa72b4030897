-- gen_dns.lua SEED COUNT: random DNS messages for the Scapy cross-check.
-- Prints one line per case: the Scapy 2.5 expression, a tab, the same
-- message as a Lua expression for sflua, a tab, sflua's bytes in hex.
-- Where Scapy's defaults are odd (DNSRRMX's type 6, FieldLenFields whose
-- default is a number and so not computed), the cases give the value.
local sf = require("stackforge")
local seed, count = tonumber(arg[1]) or 20241130, tonumber(arg[2]) or 400
math.randomseed(seed)
local R = math.random
local function pick(t) return t[R(1, #t)] end
local function chance(p) return R() < p end

local function label()
  local cs, n, t = "abcdefghijklmnopqrstuvwxyz0123456789-", R(1, chance(0.1) and 63 or 10), {}
  for i = 1, n do local k = R(1, #cs); t[i] = cs:sub(k, k) end
  return table.concat(t)
end
local function dname()
  if chance(0.08) then return "." end
  local t = {}
  for i = 1, R(1, 4) do t[i] = label() end
  return table.concat(t, ".") .. (chance(0.5) and "." or "")
end
local function bytes(n)
  local t = {}
  for i = 1, n do t[i] = string.char(R(0, 255)) end
  return table.concat(t)
end
local function ip4() return ("%d.%d.%d.%d"):format(R(0, 255), R(0, 255), R(0, 255), R(0, 255)) end
local function ip6()
  local g = {}
  for i = 1, 8 do g[i] = chance(0.4) and "0" or ("%x"):format(R(0, 0xffff)) end
  return sf.Packet and require("stackforge.core").ntop(require("stackforge.core").pton(table.concat(g, ":")))
end

-- values as both languages write them
local function py(v)
  if type(v) == "number" then return tostring(v) end
  if type(v) == "table" then
    local t = {}
    for i, x in ipairs(v) do t[i] = py(x) end
    return "[" .. table.concat(t, ", ") .. "]"
  end
  return "b'" .. v:gsub(".", function(c)
    local b = c:byte()
    if c:match("[%w%.%-_ ]") then return c end
    return ("\\x%02x"):format(b)
  end) .. "'"
end
local function lua(v)
  if type(v) == "number" then return tostring(v) end
  if type(v) == "table" then
    local t = {}
    for i, x in ipairs(v) do t[i] = lua(x) end
    return "{" .. table.concat(t, ", ") .. "}"
  end
  return '"' .. v:gsub("[^%w%.%-_ ]", function(c) return ("\\%03d"):format(c:byte()) end) .. '"'
end

-- a layer: {cls, {{field, value}, ...}}; values are numbers, strings
-- (bytes) or lists; {"layer", ...} values are nested layers
local function expr(layer, lang)
  local parts = {}
  for _, fv in ipairs(layer[2]) do
    local v = fv[2]
    local s
    if type(v) == "table" and v.layers then
      local t = {}
      for i, l in ipairs(v.layers) do t[i] = expr(l, lang) end
      s = lang == "py" and ("[" .. table.concat(t, ", ") .. "]") or ("{" .. table.concat(t, ", ") .. "}")
    else
      s = lang == "py" and py(v) or lua(v)
    end
    parts[#parts + 1] = lang == "py" and (fv[1] .. "=" .. s) or (fv[1] .. " = " .. s)
  end
  if lang == "py" then return layer[1] .. "(" .. table.concat(parts, ", ") .. ")" end
  return layer[1] .. "{" .. table.concat(parts, ", ") .. "}"
end

local function rr_head(t)
  return {{"rrname", dname()}, {"type", t}, {"rclass", pick({1, 1, 1, 3, 255})}, {"ttl", R(0, 0x7fffffff)}}
end
local function add(list, ...) for _, x in ipairs({...}) do list[#list + 1] = x end return list end

local makers = {
  function() return {"DNSRR", add(rr_head(1), {"rdata", ip4()})} end,
  function() return {"DNSRR", add(rr_head(28), {"rdata", ip6()})} end,
  function() return {"DNSRR", add(rr_head(pick({2, 5, 12})), {"rdata", dname()})} end,
  function()
    local strs = {}
    for i = 1, R(1, 3) do strs[i] = chance(0.1) and ("t"):rep(R(255, 300)) or label() end
    return {"DNSRR", add(rr_head(16), {"rdata", strs})}
  end,
  function() return {"DNSRR", add(rr_head(pick({10, 99, 44, 52})), {"rdata", bytes(R(0, 20))})} end,
  function() return {"DNSRRMX", add(rr_head(15), {"preference", R(0, 65535)}, {"exchange", dname()})} end,
  function()
    return {"DNSRRSOA", add(rr_head(6), {"mname", dname()}, {"rname", dname()}, {"serial", R(0, 0xffffffff)},
      {"refresh", R(0, 99999)}, {"retry", R(0, 9999)}, {"expire", R(0, 999999)}, {"minimum", R(0, 9999)})}
  end,
  function()
    return {"DNSRRSRV", add(rr_head(33), {"priority", R(0, 65535)}, {"weight", R(0, 65535)},
      {"port", R(0, 65535)}, {"target", dname()})}
  end,
  function()
    local opts = {}
    for i = 1, R(0, 3) do
      opts[i] = {"EDNS0TLV", {{"optcode", pick({3, 10, 12, 15, R(16, 65000)})}, {"optdata", bytes(R(0, 12))}}}
    end
    return {"DNSRROPT", {{"rclass", pick({512, 1232, 4096})}, {"extrcode", R(0, 255)},
      {"version", R(0, 1)}, {"z", pick({0, 32768})}, {"rdata", {layers = opts}}}}
  end,
  function()
    local cls = pick({"DNSRRDS", "DNSRRDLV"})
    return {cls, add(rr_head(cls == "DNSRRDS" and 43 or 32769), {"keytag", R(0, 65535)},
      {"algorithm", pick({5, 8, 13})}, {"digesttype", pick({1, 2})}, {"digest", bytes(R(1, 32))})}
  end,
  function()
    return {"DNSRRDNSKEY", add(rr_head(48), {"flags", pick({256, 257})}, {"protocol", 3},
      {"algorithm", pick({8, 13})}, {"publickey", bytes(R(1, 40))})}
  end,
  function()
    return {"DNSRRRSIG", add(rr_head(46), {"typecovered", pick({1, 2, 28})}, {"algorithm", 13},
      {"labels", R(0, 5)}, {"originalttl", R(0, 86400)}, {"expiration", R(0, 0x7fffffff)},
      {"inception", R(0, 0x7fffffff)}, {"keytag", R(0, 65535)}, {"signersname", dname()},
      {"signature", bytes(R(1, 64))})}
  end,
  function()
    local types = {}
    for i = 1, R(1, 5) do types[i] = pick({1, 2, 5, 6, 15, 16, 28, 46, 47, 48, 257}) end
    table.sort(types)
    return {"DNSRRNSEC", add(rr_head(47), {"nextname", dname()}, {"typebitmaps", types})}
  end,
  function()
    local salt, hash = bytes(R(0, 8)), bytes(R(1, 20))
    return {"DNSRRNSEC3", add(rr_head(50), {"hashalg", 1}, {"flags", R(0, 1)}, {"iterations", R(0, 100)},
      {"saltlength", #salt}, {"salt", salt}, {"hashlength", #hash}, {"nexthashedownername", hash},
      {"typebitmaps", {1, 46}})}
  end,
  function()
    local salt = bytes(R(0, 8))
    return {"DNSRRNSEC3PARAM", add(rr_head(51), {"hashalg", 1}, {"flags", 0},
      {"iterations", R(0, 100)}, {"saltlength", #salt}, {"salt", salt})}
  end,
  function()
    local mac, other = bytes(R(0, 32)), bytes(R(0, 6))
    return {"DNSRRTSIG", add(rr_head(250), {"algo_name", dname()}, {"time_signed", R(0, 0x7fffffff)},
      {"fudge", 300}, {"mac_len", #mac}, {"mac_data", mac}, {"original_id", R(0, 65535)},
      {"error", 0}, {"other_len", #other}, {"other_data", other})}
  end,
}

local function records(n, maker)
  local t = {}
  for i = 1, n do t[i] = maker() end
  return t
end
local function question()
  return {"DNSQR", {{"qname", dname()}, {"qtype", pick({1, 2, 5, 6, 12, 15, 16, 28, 33, 255})},
    {"qclass", pick({1, 1, 3, 255})}}}
end

local function chain(list, lang)
  if #list == 0 then return lang == "py" and "None" or nil end
  local t = {}
  for i, l in ipairs(list) do t[i] = expr(l, lang) end
  if lang == "py" then return table.concat(t, "/") end
  return "{" .. table.concat(t, ", ") .. "}"
end

local env = setmetatable({}, {__index = function(_, k) return sf[k] or _G[k] end})
for _ = 1, count do
  local hdr = {{"id", R(0, 65535)}, {"qr", R(0, 1)}, {"opcode", R(0, 2)}, {"aa", R(0, 1)},
    {"tc", R(0, 1)}, {"rd", R(0, 1)}, {"ra", R(0, 1)}, {"z", R(0, 1)}, {"ad", R(0, 1)},
    {"cd", R(0, 1)}, {"rcode", R(0, 5)}}
  local secs = {qd = records(R(0, 2), question), an = records(R(0, 3), function() return pick(makers)() end),
    ns = records(R(0, 2), function() return pick(makers)() end),
    ar = records(R(0, 2), function() return pick(makers)() end)}
  local pyp, luap = {}, {}
  for _, fv in ipairs(hdr) do
    pyp[#pyp + 1] = fv[1] .. "=" .. fv[2]
    luap[#luap + 1] = fv[1] .. " = " .. fv[2]
  end
  for _, s in ipairs({"qd", "an", "ns", "ar"}) do
    pyp[#pyp + 1] = s .. "=" .. chain(secs[s], "py")
    if #secs[s] > 0 then luap[#luap + 1] = s .. " = " .. chain(secs[s], "lua") end
  end
  local pdns, ldns = "DNS(" .. table.concat(pyp, ", ") .. ")", "DNS{" .. table.concat(luap, ", ") .. "}"
  local sport = R(1024, 65535)
  local carrier = pick({"udp", "udp", "tcp", "bare"})
  local pyx, luax
  if carrier == "udp" then
    pyx = ("IP(src='192.0.2.1', dst='192.0.2.53')/UDP(sport=%d, dport=53)/%s"):format(sport, pdns)
    luax = ("IP{src='192.0.2.1', dst='192.0.2.53'}/UDP{sport=%d, dport=53}/%s"):format(sport, ldns)
  elseif carrier == "tcp" then
    pyx = ("IP(src='192.0.2.1', dst='192.0.2.53')/TCP(sport=%d, dport=53, flags='PA')/%s"):format(sport, pdns)
    luax = ("IP{src='192.0.2.1', dst='192.0.2.53'}/TCP{sport=%d, dport=53, flags='PA'}/%s"):format(sport, ldns)
  else
    pyx, luax = pdns, ldns
  end
  local p = assert(load("return " .. luax, "=case", "t", env))()
  local hex = p:bytes():gsub(".", function(c) return ("%02x"):format(c:byte()) end)
  print(pyx .. "\t" .. luax .. "\t" .. hex)
end
